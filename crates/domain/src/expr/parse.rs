//! Pratt parser: tokens → untyped syntax tree with spans.

use super::ExprError;
use super::lex::{Tok, Token, lex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    Int(i64),
    Dec(rust_decimal::Decimal),
    Str(String),
    Bool(bool),
    Null,
    /// A dotted path: `payroll.paid_headcount`.
    Path(Vec<String>),
    List(Vec<Spanned>),
    Neg(Box<Spanned>),
    Not(Box<Spanned>),
    Bin(BinOp, Box<Spanned>, Box<Spanned>),
    And(Box<Spanned>, Box<Spanned>),
    Or(Box<Spanned>, Box<Spanned>),
    In(Box<Spanned>, Box<Spanned>),
    Cond(Box<Spanned>, Box<Spanned>, Box<Spanned>),
    Call(String, Vec<Spanned>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    pub ast: Ast,
    pub start: usize,
    pub end: usize,
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    /// Nesting of `expr` calls (brackets, operands of unary operators, arguments).
    depth: usize,
    /// Operands and operators so far: bounds the tree's size, and so the depth of every walk
    /// over it (type check, evaluation, explanation).
    nodes: usize,
}

/// The longest expression, in characters; configured ones are a few dozen.
pub const MAX_CHARS: usize = 2_000;
/// How deeply brackets, unary operators and calls may nest.
pub const MAX_DEPTH: usize = 32;
/// Operands plus operators in one expression.
pub const MAX_NODES: usize = 256;

/// Binding powers: higher binds tighter.
fn infix_power(t: &Tok) -> Option<(u8, u8)> {
    Some(match t {
        Tok::Question => (2, 1),
        Tok::OrOr => (3, 4),
        Tok::AndAnd => (5, 6),
        Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge | Tok::In => (7, 8),
        Tok::Plus | Tok::Minus => (9, 10),
        Tok::Star | Tok::Slash | Tok::SlashSlash | Tok::Percent => (11, 12),
        _ => return None,
    })
}

const PREFIX_POWER: u8 = 13;

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn next(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<Token, ExprError> {
        let t = self.next();
        if t.tok == want {
            Ok(t)
        } else {
            Err(ExprError::at(t.start, (t.end - t.start).max(1), format!("此处应为{what}")))
        }
    }

    fn expr(&mut self, min_bp: u8) -> Result<Spanned, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.peek();
            return Err(ExprError::at(t.start, 1, format!("表达式嵌套超过 {MAX_DEPTH} 层，请拆分")));
        }
        let r = self.expr_at(min_bp);
        self.depth -= 1;
        r
    }

    fn count(&mut self, at: usize) -> Result<(), ExprError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(ExprError::at(at, 1, format!("表达式过长（超过 {MAX_NODES} 个运算项），请拆分")));
        }
        Ok(())
    }

    fn expr_at(&mut self, min_bp: u8) -> Result<Spanned, ExprError> {
        let mut lhs = self.prefix()?;
        loop {
            let op = self.peek().tok.clone();
            let Some((l_bp, r_bp)) = infix_power(&op) else { break };
            if l_bp < min_bp {
                break;
            }
            let at = self.peek().start;
            self.count(at)?;
            self.next();
            if op == Tok::Question {
                let then = self.expr(0)?;
                self.expect(Tok::Colon, "“:”")?;
                let otherwise = self.expr(r_bp)?;
                let (start, end) = (lhs.start, otherwise.end);
                lhs = Spanned { ast: Ast::Cond(Box::new(lhs), Box::new(then), Box::new(otherwise)), start, end };
                continue;
            }
            let rhs = self.expr(r_bp)?;
            let (start, end) = (lhs.start, rhs.end);
            let (l, r) = (Box::new(lhs), Box::new(rhs));
            let ast = match op {
                Tok::OrOr => Ast::Or(l, r),
                Tok::AndAnd => Ast::And(l, r),
                Tok::In => Ast::In(l, r),
                Tok::Eq => Ast::Bin(BinOp::Eq, l, r),
                Tok::Ne => Ast::Bin(BinOp::Ne, l, r),
                Tok::Lt => Ast::Bin(BinOp::Lt, l, r),
                Tok::Le => Ast::Bin(BinOp::Le, l, r),
                Tok::Gt => Ast::Bin(BinOp::Gt, l, r),
                Tok::Ge => Ast::Bin(BinOp::Ge, l, r),
                Tok::Plus => Ast::Bin(BinOp::Add, l, r),
                Tok::Minus => Ast::Bin(BinOp::Sub, l, r),
                Tok::Star => Ast::Bin(BinOp::Mul, l, r),
                Tok::Slash => Ast::Bin(BinOp::Div, l, r),
                Tok::SlashSlash => Ast::Bin(BinOp::FloorDiv, l, r),
                Tok::Percent => Ast::Bin(BinOp::Rem, l, r),
                _ => unreachable!("infix_power covers these"),
            };
            // Comparisons do not chain: `a < b < c` is almost always a mistake.
            let is_cmp = match &ast {
                Ast::In(..) => true,
                Ast::Bin(o, ..) => o.is_comparison(),
                _ => false,
            };
            if is_cmp && matches!(self.peek().tok, Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge | Tok::In)
            {
                let t = self.peek();
                return Err(ExprError::at(t.start, t.end - t.start, "比较不能连写，请用“&&”连接两个比较"));
            }
            lhs = Spanned { ast, start, end };
        }
        Ok(lhs)
    }

    fn prefix(&mut self) -> Result<Spanned, ExprError> {
        let at = self.peek().start;
        self.count(at)?;
        let t = self.next();
        let (start, end) = (t.start, t.end);
        let leaf = |ast| Ok(Spanned { ast, start, end });
        match t.tok {
            Tok::Int(i) => leaf(Ast::Int(i)),
            Tok::Dec(d) => leaf(Ast::Dec(d)),
            Tok::Str(s) => leaf(Ast::Str(s)),
            Tok::True => leaf(Ast::Bool(true)),
            Tok::False => leaf(Ast::Bool(false)),
            Tok::Null => leaf(Ast::Null),
            Tok::Minus => {
                let e = self.expr(PREFIX_POWER)?;
                let end = e.end;
                // Fold negative literals so `-1` is a constant.
                Ok(match e.ast {
                    Ast::Int(i) => Spanned { ast: Ast::Int(-i), start, end },
                    Ast::Dec(d) => Spanned { ast: Ast::Dec(-d), start, end },
                    _ => Spanned { ast: Ast::Neg(Box::new(e)), start, end },
                })
            }
            Tok::Bang => {
                let e = self.expr(PREFIX_POWER)?;
                let end = e.end;
                Ok(Spanned { ast: Ast::Not(Box::new(e)), start, end })
            }
            Tok::LParen => {
                let mut e = self.expr(0)?;
                let close = self.expect(Tok::RParen, "“)”")?;
                e.start = start;
                e.end = close.end;
                Ok(e)
            }
            Tok::LBracket => {
                let mut items = vec![];
                if self.peek().tok != Tok::RBracket {
                    loop {
                        items.push(self.expr(0)?);
                        if self.peek().tok == Tok::Comma {
                            self.next();
                            continue;
                        }
                        break;
                    }
                }
                let close = self.expect(Tok::RBracket, "“]”或“,”")?;
                Ok(Spanned { ast: Ast::List(items), start, end: close.end })
            }
            Tok::Ident(name) => {
                if self.peek().tok == Tok::LParen {
                    self.next();
                    let mut args = vec![];
                    if self.peek().tok != Tok::RParen {
                        loop {
                            args.push(self.expr(0)?);
                            if self.peek().tok == Tok::Comma {
                                self.next();
                                continue;
                            }
                            break;
                        }
                    }
                    let close = self.expect(Tok::RParen, "“)”或“,”")?;
                    return Ok(Spanned { ast: Ast::Call(name, args), start, end: close.end });
                }
                let mut path = vec![name];
                let mut end = end;
                while self.peek().tok == Tok::Dot {
                    self.next();
                    let t = self.next();
                    match t.tok {
                        Tok::Ident(n) => {
                            path.push(n);
                            end = t.end;
                        }
                        _ => return Err(ExprError::at(t.start, (t.end - t.start).max(1), "“.”后应为字段名")),
                    }
                }
                Ok(Spanned { ast: Ast::Path(path), start, end })
            }
            Tok::Eof => Err(ExprError::at(start, 1, "表达式不完整")),
            _ => Err(ExprError::at(start, (end - start).max(1), "此处不能出现这个符号")),
        }
    }
}

pub fn parse(src: &str) -> Result<Spanned, ExprError> {
    if src.chars().count() > MAX_CHARS {
        return Err(ExprError::at(0, 1, format!("表达式超过 {MAX_CHARS} 个字符的上限")));
    }
    let toks = lex(src)?;
    let mut p = Parser { toks, pos: 0, depth: 0, nodes: 0 };
    if p.peek().tok == Tok::Eof {
        return Err(ExprError::at(0, 1, "表达式为空"));
    }
    let e = p.expr(0)?;
    let t = p.peek();
    if t.tok != Tok::Eof {
        return Err(ExprError::at(t.start, (t.end - t.start).max(1), "多余的内容，是否漏写了“&&”或运算符？"));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(s: &Spanned) -> String {
        match &s.ast {
            Ast::Int(i) => i.to_string(),
            Ast::Dec(d) => d.to_string(),
            Ast::Str(t) => format!("{t:?}"),
            Ast::Bool(b) => b.to_string(),
            Ast::Null => "null".into(),
            Ast::Path(p) => p.join("."),
            Ast::List(v) => format!("[{}]", v.iter().map(show).collect::<Vec<_>>().join(",")),
            Ast::Neg(e) => format!("(-{})", show(e)),
            Ast::Not(e) => format!("(!{})", show(e)),
            Ast::Bin(o, a, b) => format!("({} {} {})", show(a), o.symbol(), show(b)),
            Ast::And(a, b) => format!("({} && {})", show(a), show(b)),
            Ast::Or(a, b) => format!("({} || {})", show(a), show(b)),
            Ast::In(a, b) => format!("({} in {})", show(a), show(b)),
            Ast::Cond(c, a, b) => format!("({} ? {} : {})", show(c), show(a), show(b)),
            Ast::Call(f, a) => format!("{f}({})", a.iter().map(show).collect::<Vec<_>>().join(",")),
        }
    }

    #[test]
    fn precedence_and_associativity() {
        let p = |s| show(&parse(s).unwrap());
        assert_eq!(p("a + b * c - d"), "((a + (b * c)) - d)");
        assert_eq!(p("x || y && !z"), "(x || (y && (!z)))");
        assert_eq!(p("industry in [\"建筑\"] && employees >= 50"), "((industry in [\"建筑\"]) && (employees >= 50))");
        assert_eq!(
            p("payroll.paid_headcount / attendance.headcount < 1.0"),
            "((payroll.paid_headcount / attendance.headcount) < 1.0)"
        );
        assert_eq!(p("a ? b : c ? d : e"), "(a ? b : (c ? d : e))");
        assert_eq!(p("-3 - -x"), "(-3 - (-x))");
        assert_eq!(p("sum(window(water, 90)) // 3"), "(sum(window(water,90)) // 3)");
    }

    #[test]
    fn errors_point_at_the_column() {
        assert_eq!(parse("a < b < c").unwrap_err().to_string(), "第7列：比较不能连写，请用“&&”连接两个比较");
        assert_eq!(parse("a b").unwrap_err().to_string(), "第3列：多余的内容，是否漏写了“&&”或运算符？");
        assert_eq!(parse("(a + b").unwrap_err().to_string(), "第7列：此处应为“)”");
        assert_eq!(parse("").unwrap_err().to_string(), "第1列：表达式为空");
        let e = parse("f(1,").unwrap_err();
        assert_eq!(e.column, 5);
    }
}
