//! Type checking: untyped syntax + schema → typed tree, or a precise error.

use super::ExprError;
use super::parse::{Ast, BinOp, Spanned};
use super::schema::Schema;
use super::value::{Type, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    DaysBetween,
    WorkingDaysBetween,
    AddDays,
    AddWorkingDays,
    Year,
    Month,
    Min,
    Max,
    Abs,
    Floor,
    Size,
    Window,
    Sum,
    Count,
    Avg,
    SeriesMin,
    SeriesMax,
    Last,
    First,
    Contains,
    StartsWith,
    Coalesce,
}

#[derive(Debug, Clone)]
pub enum Op {
    Const(Value),
    Field(usize),
    Today,
    ToDec(Box<Node>),
    Neg(Box<Node>),
    Not(Box<Node>),
    Arith(BinOp, Box<Node>, Box<Node>),
    Cmp(BinOp, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    /// `x in [constants]`.
    InConst(Box<Node>, Vec<Value>),
    /// `x in list_field`.
    InList(Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Box<Node>),
    Call(Func, Vec<Node>),
    Has(usize),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub op: Op,
    pub ty: Type,
    pub start: usize,
    pub end: usize,
}

pub struct Checker<'a> {
    pub schema: &'a Schema,
    /// Fields referenced, in first-use order (for explanations and for loading only what is needed).
    pub used: Vec<usize>,
}

fn err(s: &Spanned, msg: impl Into<String>) -> ExprError {
    ExprError::at(s.start, (s.end - s.start).max(1), msg)
}

fn to_dec(n: Node) -> Node {
    if n.ty == Type::Dec {
        return n;
    }
    let (start, end) = (n.start, n.end);
    // Fold constants so `x > 1` against a decimal column compares with a decimal constant.
    if let Op::Const(Value::Int(i)) = n.op {
        return Node { op: Op::Const(Value::Dec(i.into())), ty: Type::Dec, start, end };
    }
    Node { op: Op::ToDec(Box::new(n)), ty: Type::Dec, start, end }
}

/// Makes two numeric operands the same type (Int, or Dec when either is Dec).
fn unify(a: Node, b: Node) -> (Node, Node, Type) {
    if a.ty == Type::Dec || b.ty == Type::Dec { (to_dec(a), to_dec(b), Type::Dec) } else { (a, b, Type::Int) }
}

const FUNCTIONS: &[&str] = &[
    "days_between",
    "working_days_between",
    "add_days",
    "add_working_days",
    "date",
    "year",
    "month",
    "min",
    "max",
    "abs",
    "floor",
    "size",
    "window",
    "sum",
    "count",
    "avg",
    "last",
    "first",
    "contains",
    "starts_with",
    "coalesce",
    "has",
];

impl Checker<'_> {
    fn field(&mut self, s: &Spanned, path: &[String]) -> Result<(usize, Type), ExprError> {
        let name = path.join(".");
        match self.schema.get(&name) {
            Some((i, f)) => {
                if !self.used.contains(&i) {
                    self.used.push(i);
                }
                Ok((i, f.ty.clone()))
            }
            None => {
                let hint = crate::text::closest(&name, self.schema.fields().iter().map(|f| f.name.as_str()))
                    .map(|c| format!("，是否应为“{c}”？"))
                    .unwrap_or_default();
                Err(err(s, format!("{}没有字段“{name}”{hint}", self.schema.label)))
            }
        }
    }

    pub fn check(&mut self, s: &Spanned) -> Result<Node, ExprError> {
        let (start, end) = (s.start, s.end);
        let node = |op, ty| Ok(Node { op, ty, start, end });
        match &s.ast {
            Ast::Int(i) => node(Op::Const(Value::Int(*i)), Type::Int),
            Ast::Dec(d) => node(Op::Const(Value::Dec(*d)), Type::Dec),
            Ast::Str(t) => node(Op::Const(Value::Str(t.clone())), Type::Str),
            Ast::Bool(b) => node(Op::Const(Value::Bool(*b)), Type::Bool),
            Ast::Null => {
                Err(err(s, "不支持 null：判断是否有值请用 has(字段)，缺值时取默认值请用 coalesce(字段, 默认值)"))
            }
            Ast::Path(p) if p.len() == 1 && p[0] == "today" => node(Op::Today, Type::Date),
            Ast::Path(p) => {
                let (i, ty) = self.field(s, p)?;
                node(Op::Field(i), ty)
            }
            Ast::List(_) => Err(err(s, "列表只能出现在“in”的右边")),
            Ast::Neg(e) => {
                let n = self.check(e)?;
                if !n.ty.is_numeric() {
                    return Err(err(e, format!("负号只能用于数字，这里是{}", n.ty)));
                }
                let ty = n.ty.clone();
                node(Op::Neg(Box::new(n)), ty)
            }
            Ast::Not(e) => {
                let n = self.check(e)?;
                if n.ty != Type::Bool {
                    return Err(err(e, format!("“!”只能用于布尔值，这里是{}", n.ty)));
                }
                node(Op::Not(Box::new(n)), Type::Bool)
            }
            Ast::And(a, b) | Ast::Or(a, b) => {
                let (x, y) = (self.check(a)?, self.check(b)?);
                for (n, sp) in [(&x, a), (&y, b)] {
                    if n.ty != Type::Bool {
                        return Err(err(sp, format!("“&&”“||”两边应为条件（布尔值），这里是{}", n.ty)));
                    }
                }
                let op = if matches!(s.ast, Ast::And(..)) {
                    Op::And(Box::new(x), Box::new(y))
                } else {
                    Op::Or(Box::new(x), Box::new(y))
                };
                node(op, Type::Bool)
            }
            Ast::Bin(op, a, b) => {
                let (x, y) = (self.check(a)?, self.check(b)?);
                if op.is_comparison() {
                    return self.comparison(s, *op, x, y);
                }
                if !x.ty.is_numeric() || !y.ty.is_numeric() {
                    let (bad, sp) = if x.ty.is_numeric() { (&y, b) } else { (&x, a) };
                    return Err(err(sp, format!("“{}”只能用于数字，这里是{}", op.symbol(), bad.ty)));
                }
                match op {
                    BinOp::Div => {
                        let (x, y, _) = unify(to_dec(x), y);
                        node(Op::Arith(*op, Box::new(x), Box::new(y)), Type::Dec)
                    }
                    BinOp::FloorDiv | BinOp::Rem if x.ty != Type::Int || y.ty != Type::Int => {
                        Err(err(s, format!("“{}”只能用于整数", op.symbol())))
                    }
                    _ => {
                        let (x, y, ty) = unify(x, y);
                        node(Op::Arith(*op, Box::new(x), Box::new(y)), ty)
                    }
                }
            }
            Ast::In(a, b) => {
                let x = self.check(a)?;
                if let Ast::List(items) = &b.ast {
                    let mut values = vec![];
                    for it in items {
                        let n = self.check(it)?;
                        let Op::Const(v) = n.op else {
                            return Err(err(it, "“in”右边的列表只能是常量"));
                        };
                        let v = match (&x.ty, v) {
                            (Type::Dec, Value::Int(i)) => Value::Dec(i.into()),
                            (t, v) if t == &n.ty => v,
                            (t, _) => return Err(err(it, format!("列表元素应为{t}，这里是{}", n.ty))),
                        };
                        values.push(v);
                    }
                    if !matches!(x.ty, Type::Int | Type::Dec | Type::Str | Type::Date | Type::Bool) {
                        return Err(err(a, format!("{}不能用“in”判断", x.ty)));
                    }
                    return node(Op::InConst(Box::new(x), values), Type::Bool);
                }
                let y = self.check(b)?;
                match &y.ty {
                    Type::List(inner) if **inner == x.ty => node(Op::InList(Box::new(x), Box::new(y)), Type::Bool),
                    Type::List(inner) => Err(err(a, format!("左边应为{inner}，这里是{}", x.ty))),
                    other => Err(err(b, format!("“in”右边应为列表，这里是{other}"))),
                }
            }
            Ast::Cond(c, a, b) => {
                let cn = self.check(c)?;
                if cn.ty != Type::Bool {
                    return Err(err(c, format!("“?”前应为条件（布尔值），这里是{}", cn.ty)));
                }
                let (x, y) = (self.check(a)?, self.check(b)?);
                let (x, y, ty) = if x.ty.is_numeric() && y.ty.is_numeric() {
                    unify(x, y)
                } else if x.ty == y.ty {
                    let t = x.ty.clone();
                    (x, y, t)
                } else {
                    return Err(err(b, format!("“:”两边类型应一致：{} 与 {}", x.ty, y.ty)));
                };
                node(Op::Cond(Box::new(cn), Box::new(x), Box::new(y)), ty)
            }
            Ast::Call(name, args) => self.call(s, name, args),
        }
    }

    fn comparison(&mut self, s: &Spanned, op: BinOp, x: Node, y: Node) -> Result<Node, ExprError> {
        let (start, end) = (s.start, s.end);
        let (x, y) = if x.ty.is_numeric() && y.ty.is_numeric() {
            let (x, y, _) = unify(x, y);
            (x, y)
        } else if x.ty != y.ty {
            return Err(err(s, format!("不能比较{}和{}", x.ty, y.ty)));
        } else {
            (x, y)
        };
        match (&x.ty, op) {
            (Type::Int | Type::Dec | Type::Date, _) => {}
            (Type::Str | Type::Bool, BinOp::Eq | BinOp::Ne) => {}
            (Type::Str | Type::Bool, _) => return Err(err(s, format!("{}只能比较是否相等", x.ty))),
            (t, _) => return Err(err(s, format!("{t}不能比较"))),
        }
        Ok(Node { op: Op::Cmp(op, Box::new(x), Box::new(y)), ty: Type::Bool, start, end })
    }

    fn call(&mut self, s: &Spanned, name: &str, args: &[Spanned]) -> Result<Node, ExprError> {
        let (start, end) = (s.start, s.end);
        let arity = |n: usize| -> Result<(), ExprError> {
            if args.len() == n {
                Ok(())
            } else {
                Err(err(s, format!("{name} 需要{n}个参数，这里有{}个", args.len())))
            }
        };
        // date("2025-10-01") and has(field) look at their argument's syntax, not its value.
        if name == "date" {
            arity(1)?;
            let Ast::Str(text) = &args[0].ast else {
                return Err(err(&args[0], "date 的参数应为“YYYY-MM-DD”格式的文本常量"));
            };
            let f = time::macros::format_description!("[year]-[month]-[day]");
            let d = time::Date::parse(text, &f)
                .map_err(|_| err(&args[0], format!("日期“{text}”无效，应为 2025-10-01 格式")))?;
            return Ok(Node { op: Op::Const(Value::Date(d)), ty: Type::Date, start, end });
        }
        if name == "has" {
            arity(1)?;
            let Ast::Path(p) = &args[0].ast else {
                return Err(err(&args[0], "has 的参数应为字段名"));
            };
            let (i, _) = self.field(&args[0], p)?;
            return Ok(Node { op: Op::Has(i), ty: Type::Bool, start, end });
        }
        let mut a = args.iter().map(|x| self.check(x)).collect::<Result<Vec<_>, _>>()?;
        let want = |i: usize, a: &[Node], ty: &Type| -> Result<(), ExprError> {
            if &a[i].ty == ty {
                Ok(())
            } else {
                Err(err(&args[i], format!("{name} 的第{}个参数应为{ty}，这里是{}", i + 1, a[i].ty)))
            }
        };
        let (func, ty) = match name {
            "days_between" | "working_days_between" => {
                arity(2)?;
                want(0, &a, &Type::Date)?;
                want(1, &a, &Type::Date)?;
                (if name == "days_between" { Func::DaysBetween } else { Func::WorkingDaysBetween }, Type::Int)
            }
            "add_days" | "add_working_days" => {
                arity(2)?;
                want(0, &a, &Type::Date)?;
                want(1, &a, &Type::Int)?;
                (if name == "add_days" { Func::AddDays } else { Func::AddWorkingDays }, Type::Date)
            }
            "year" | "month" => {
                arity(1)?;
                want(0, &a, &Type::Date)?;
                (if name == "year" { Func::Year } else { Func::Month }, Type::Int)
            }
            "min" | "max" if a.len() == 1 => {
                want(0, &a, &Type::Series)?;
                (if name == "min" { Func::SeriesMin } else { Func::SeriesMax }, Type::Int)
            }
            "min" | "max" => {
                if a.len() < 2 {
                    return Err(err(s, format!("{name} 需要至少两个数字，或一个时间序列")));
                }
                for i in 0..a.len() {
                    if !a[i].ty.is_numeric() {
                        return Err(err(&args[i], format!("{name} 的参数应为数字，这里是{}", a[i].ty)));
                    }
                }
                let ty = if a.iter().any(|n| n.ty == Type::Dec) { Type::Dec } else { Type::Int };
                if ty == Type::Dec {
                    a = a.into_iter().map(to_dec).collect();
                }
                (if name == "min" { Func::Min } else { Func::Max }, ty)
            }
            "abs" => {
                arity(1)?;
                if !a[0].ty.is_numeric() {
                    return Err(err(&args[0], "abs 的参数应为数字"));
                }
                let ty = a[0].ty.clone();
                (Func::Abs, ty)
            }
            "floor" => {
                arity(1)?;
                want(0, &a, &Type::Dec)?;
                (Func::Floor, Type::Int)
            }
            "size" => {
                arity(1)?;
                if !matches!(a[0].ty, Type::List(_)) {
                    return Err(err(&args[0], format!("size 的参数应为列表，这里是{}", a[0].ty)));
                }
                (Func::Size, Type::Int)
            }
            "window" => {
                arity(2)?;
                want(0, &a, &Type::Series)?;
                want(1, &a, &Type::Int)?;
                (Func::Window, Type::Series)
            }
            "sum" | "count" | "avg" | "last" | "first" => {
                arity(1)?;
                want(0, &a, &Type::Series)?;
                match name {
                    "sum" => (Func::Sum, Type::Int),
                    "count" => (Func::Count, Type::Int),
                    "avg" => (Func::Avg, Type::Dec),
                    "last" => (Func::Last, Type::Int),
                    _ => (Func::First, Type::Int),
                }
            }
            "contains" | "starts_with" => {
                arity(2)?;
                want(0, &a, &Type::Str)?;
                want(1, &a, &Type::Str)?;
                if !matches!(a[1].op, Op::Const(_)) {
                    return Err(err(&args[1], format!("{name} 的第2个参数应为文本常量")));
                }
                (if name == "contains" { Func::Contains } else { Func::StartsWith }, Type::Bool)
            }
            "coalesce" => {
                arity(2)?;
                let (x, y) = (a.remove(0), a.remove(0));
                let (x, y, ty) = if x.ty.is_numeric() && y.ty.is_numeric() {
                    unify(x, y)
                } else if x.ty == y.ty {
                    let t = x.ty.clone();
                    (x, y, t)
                } else {
                    return Err(err(s, format!("coalesce 两个参数类型应一致：{} 与 {}", x.ty, y.ty)));
                };
                a = vec![x, y];
                (Func::Coalesce, ty)
            }
            _ => {
                let hint = crate::text::closest(name, FUNCTIONS.iter().copied())
                    .map(|c| format!("，是否应为“{c}”？"))
                    .unwrap_or_default();
                return Err(err(s, format!("未知函数“{name}”{hint}")));
            }
        };
        Ok(Node { op: Op::Call(func, a), ty, start, end })
    }
}
