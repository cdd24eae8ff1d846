//! One expression language for every condition in the platform: warning indicators,
//! eligibility, routing, checklists and scores.
//!
//! The syntax follows CEL where CEL has an answer (`&&`, `||`, `!`, `in`, `? :`, dotted field
//! access, function calls); numbers follow money practice instead: `/` is exact decimal
//! division and `//` is floor division of integers. Expressions are parsed and type-checked
//! against the subject's [`Schema`] when configuration loads, so a typo in a field name is a
//! start-up error with its column, not a silent false. Compiled once, they evaluate over a
//! [`Batch`] of many subjects column by column, or over one subject's [`Facts`] with an
//! explanation of every comparison.
//!
//! Functions: `days_between(a, b)`, `working_days_between(a, b)`, `add_days(d, n)`,
//! `add_working_days(d, n)`, `date("2025-10-01")`, `year(d)`, `month(d)`, `min(a, b, …)`,
//! `max(a, b, …)`, `abs(x)`, `floor(x)`, `size(list)`, `has(field)`, `coalesce(x, default)`,
//! `contains(text, "…")`, `starts_with(text, "…")`; over dated series: `window(s, days)`,
//! `sum(s)`, `count(s)`, `avg(s)`, `min(s)`, `max(s)`, `last(s)`, `first(s)`. `today` is the
//! evaluation date.

mod batch;
mod check;
mod eval;
mod lex;
mod parse;
mod schema;
mod value;
mod words;

pub use batch::{Batch, Interner};
pub use schema::{FieldDef, Schema};
pub use value::{Facts, Type, Value, day_number, from_day_number};
pub use words::{field_label, field_value_words, value_words};

use crate::calendar::WorkCalendar;
use check::{Checker, Node, Op};
use eval::{Col, Cx, eval, value_at};
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use time::Date;

/// A compile error with the 1-based column (in characters) where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub column: usize,
    pub width: usize,
    pub message: String,
}

impl ExprError {
    pub(crate) fn at(start: usize, width: usize, message: impl Into<String>) -> Self {
        ExprError { column: start + 1, width, message: message.into() }
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "第{}列：{}", self.column, self.message)
    }
}

impl std::error::Error for ExprError {}

/// What evaluation may depend on besides the facts.
#[derive(Debug, Clone, Copy)]
pub struct EvalContext<'a> {
    pub today: Date,
    /// For `working_days_between` and `add_working_days`; without it they give no value.
    pub calendar: Option<&'a WorkCalendar>,
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub struct Expr {
    src: String,
    root: Node,
    fields: Vec<String>,
}

/// Compiles `src` against `schema`.
pub fn compile(src: &str, schema: &Schema) -> Result<Expr, ExprError> {
    let ast = parse::parse(src)?;
    let mut c = Checker { schema, used: vec![] };
    let root = c.check(&ast)?;
    let fields = c.used.iter().map(|i| schema.fields()[*i].name.clone()).collect();
    Ok(Expr { src: src.to_string(), root, fields })
}

/// Compiles a condition: the result must be a boolean.
pub fn compile_condition(src: &str, schema: &Schema) -> Result<Expr, ExprError> {
    let e = compile(src, schema)?;
    if e.root.ty != Type::Bool {
        return Err(ExprError::at(
            0,
            src.chars().count(),
            format!("条件的结果应为布尔值（是/否），这里是{}", e.root.ty),
        ));
    }
    Ok(e)
}

/// Compiles an amount or score: the result must be a number.
pub fn compile_number(src: &str, schema: &Schema) -> Result<Expr, ExprError> {
    let e = compile(src, schema)?;
    if !e.root.ty.is_numeric() {
        return Err(ExprError::at(0, src.chars().count(), format!("结果应为数字，这里是{}", e.root.ty)));
    }
    Ok(e)
}

/// A result column of a batch evaluation.
#[derive(Debug, Clone)]
pub struct Column {
    values: Vec<Value>,
}

/// The results of a condition over a batch: `Some(true)`, `Some(false)` or `None` (no value:
/// a fact was missing or arithmetic impossible).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truth {
    pub values: Vec<bool>,
    pub valid: Option<Vec<bool>>,
}

impl Truth {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<bool> {
        self.valid.as_ref().is_none_or(|v| v[i]).then(|| self.values[i])
    }

    /// True and known.
    pub fn holds(&self, i: usize) -> bool {
        self.values[i] && self.valid.as_ref().is_none_or(|v| v[i])
    }

    pub fn count(&self) -> usize {
        (0..self.len()).filter(|i| self.holds(*i)).count()
    }
}

/// The integer results of an amount over a batch (`None`: no value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ints {
    pub values: Vec<i64>,
    pub valid: Option<Vec<bool>>,
}

impl Ints {
    pub fn get(&self, i: usize) -> Option<i64> {
        self.valid.as_ref().is_none_or(|v| v[i]).then(|| self.values[i])
    }
}

impl Column {
    pub fn get(&self, i: usize) -> &Value {
        &self.values[i]
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// One step of an explanation: a part of the expression and its value for this subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub text: String,
    pub value: Value,
    /// A fact read (a field and its value), not a comparison or the verdict.
    pub fact: bool,
}

impl Expr {
    pub fn source(&self) -> &str {
        &self.src
    }

    pub fn ty(&self) -> &Type {
        &self.root.ty
    }

    /// Fields the expression reads, in first-use order.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Evaluates window by window and hands each window's column to `sink`.
    fn each_chunk<'a>(&self, batch: &'a Batch, ctx: &EvalContext, mut sink: impl FnMut(Col<'a>, usize)) {
        let mut off = 0;
        loop {
            let len = CHUNK.min(batch.len() - off);
            let cx = Cx { batch, ctx, extra: RefCell::new(Interner::default()), off, len };
            sink(eval(&self.root, &cx), len);
            off += len;
            if off >= batch.len() {
                break;
            }
        }
    }

    /// A condition over every subject of the batch.
    pub fn truth(&self, batch: &Batch, ctx: &EvalContext) -> Truth {
        let mut out = Truth { values: Vec::with_capacity(batch.len()), valid: None };
        self.each_chunk(batch, ctx, |c, len| {
            let (v, m): (Cow<[bool]>, Option<Cow<[bool]>>) = match c {
                Col::Bool(v, m) => (v, m),
                Col::Const(Value::Bool(b)) => (Cow::Owned(vec![b; len]), None),
                _ => (Cow::Owned(vec![false; len]), Some(Cow::Owned(vec![false; len]))),
            };
            append(&mut out.values, &mut out.valid, &v, m.as_deref());
        });
        out
    }

    /// An integer amount over every subject of the batch (decimals are floored).
    pub fn ints(&self, batch: &Batch, ctx: &EvalContext) -> Ints {
        let mut out = Ints { values: Vec::with_capacity(batch.len()), valid: None };
        self.each_chunk(batch, ctx, |c, len| {
            let part = ints_of(c, len);
            append(&mut out.values, &mut out.valid, &part.values, part.valid.as_deref());
        });
        out
    }

    /// Any-typed results as values (slower; for small batches and pages).
    pub fn values(&self, batch: &Batch, ctx: &EvalContext) -> Column {
        let mut values = Vec::with_capacity(batch.len());
        let mut off = 0;
        while off < batch.len() || (off == 0 && batch.is_empty()) {
            if batch.is_empty() {
                break;
            }
            let len = CHUNK.min(batch.len() - off);
            let cx = Cx { batch, ctx, extra: RefCell::new(Interner::default()), off, len };
            let c = eval(&self.root, &cx);
            values.extend((0..len).map(|i| value_at(&c, i, &cx)));
            off += len;
        }
        Column { values }
    }

    fn one<'a>(&self, batch: &'a Batch, ctx: &'a EvalContext<'a>) -> Cx<'a, 'a> {
        Cx { batch, ctx, extra: RefCell::new(Interner::default()), off: 0, len: batch.len() }
    }
}

/// Rows per evaluation window: intermediate columns of a few tens of kilobytes stay in cache.
const CHUNK: usize = 4096;

/// Appends a window's values and validity to the whole result, keeping `None` (all valid)
/// as long as possible.
fn append<T: Clone>(values: &mut Vec<T>, valid: &mut Option<Vec<bool>>, v: &[T], m: Option<&[bool]>) {
    let before = values.len();
    values.extend_from_slice(v);
    match (valid.as_mut(), m) {
        (None, None) => {}
        (Some(all), None) => all.extend(std::iter::repeat_n(true, v.len())),
        (Some(all), Some(m)) => all.extend_from_slice(m),
        (None, Some(m)) => {
            let mut all = vec![true; before];
            all.extend_from_slice(m);
            *valid = Some(all);
        }
    }
}

fn ints_of(c: Col, n: usize) -> Ints {
    {
        match c {
            Col::Int(v, m) => Ints { values: v.into_owned(), valid: m.map(|m| m.into_owned()) },
            Col::Const(Value::Int(i)) => Ints { values: vec![i; n], valid: None },
            Col::Dec(v, m) => {
                use rust_decimal::prelude::ToPrimitive;
                let mut ok: Vec<bool> = m.map(|m| m.into_owned()).unwrap_or_else(|| vec![true; n]);
                let values = v
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        d.floor().to_i64().unwrap_or_else(|| {
                            ok[i] = false;
                            0
                        })
                    })
                    .collect();
                Ints { values, valid: Some(ok) }
            }
            Col::Const(Value::Dec(d)) => {
                use rust_decimal::prelude::ToPrimitive;
                match d.floor().to_i64() {
                    Some(i) => Ints { values: vec![i; n], valid: None },
                    None => Ints { values: vec![0; n], valid: Some(vec![false; n]) },
                }
            }
            _ => Ints { values: vec![0; n], valid: Some(vec![false; n]) },
        }
    }
}

impl Expr {
    /// The value for one subject.
    pub fn eval_facts(&self, schema: &Schema, facts: &Facts, ctx: &EvalContext) -> Result<Value, String> {
        let b = Batch::from_facts(schema, std::slice::from_ref(facts))?;
        Ok(self.values(&b, ctx).values.remove(0))
    }

    /// The facts read and every comparison, with their values for one subject, in plain
    /// Chinese: what a user sees under "why was this alert raised". Fields read by their
    /// label (money in yuan); a comparison reads "从业人数 120，达到 200", and its value says
    /// whether it holds.
    pub fn explain(&self, schema: &Schema, facts: &Facts, ctx: &EvalContext) -> Result<Vec<Step>, String> {
        let b = Batch::from_facts(schema, std::slice::from_ref(facts))?;
        let cx = self.one(&b, ctx);
        let mut steps = vec![];
        for f in &self.fields {
            let (i, def) = schema.get(f).expect("compiled against this schema");
            let node = Node { op: Op::Field(i), ty: def.ty.clone(), start: 0, end: 0 };
            let v = value_at(&eval(&node, &cx), 0, &cx);
            let value = match v {
                Value::Int(fen) if def.money => Value::Dec(rust_decimal::Decimal::new(fen, 2)),
                Value::Str(s) if !def.values.is_empty() => Value::Str(def.value_name(&s).to_string()),
                v => v,
            };
            steps.push(Step { text: words::field_label(def), value, fact: true });
        }
        fn walk(n: &Node, schema: &Schema, cx: &Cx, out: &mut Vec<Step>) {
            let interesting = matches!(&n.op, Op::Cmp(..) | Op::InConst(..) | Op::InList(..) | Op::Has(_))
                || matches!(&n.op, Op::Call(..) if n.ty == Type::Bool);
            match &n.op {
                Op::And(a, b) | Op::Or(a, b) => {
                    walk(a, schema, cx, out);
                    walk(b, schema, cx, out);
                }
                Op::Not(a) => walk(a, schema, cx, out),
                Op::Cond(c, a, b) => {
                    walk(c, schema, cx, out);
                    walk(a, schema, cx, out);
                    walk(b, schema, cx, out);
                }
                _ => {}
            }
            if interesting {
                let text = match &n.op {
                    // "欠薪天数 75，超过 60": the field's value beside the rule it is held to.
                    Op::Cmp(op, a, b) if matches!(a.op, Op::Field(_)) => {
                        let Op::Field(i) = a.op else { unreachable!() };
                        let def = &schema.fields()[i];
                        let money = def.money || words::is_money(b, schema);
                        let v = value_at(&eval(a, cx), 0, cx);
                        let shown =
                            if money { words::value_words(&v, true) } else { words::field_value_words(def, &v) };
                        let rule = words::words(
                            &Node { op: Op::Cmp(*op, a.clone(), b.clone()), ty: Type::Bool, start: 0, end: 0 },
                            schema,
                            money,
                        );
                        let label = words::field_label(def);
                        format!("{label} {shown}，{}", rule.strip_prefix(&label).unwrap_or(&rule).trim_start())
                    }
                    _ => words::words(n, schema, false),
                };
                out.push(Step { text, value: value_at(&eval(n, cx), 0, cx), fact: false });
            }
        }
        walk(&self.root, schema, &cx, &mut steps);
        let whole = value_at(&eval(&self.root, &cx), 0, &cx);
        steps.push(Step { text: "条件是否成立".to_string(), value: whole, fact: false });
        Ok(steps)
    }
}

#[cfg(test)]
mod tests;
