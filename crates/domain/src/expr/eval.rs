//! Columnar evaluation: each node computes its result for every subject of the batch in one
//! tight loop, so a city-wide run is bound by memory, not by interpretation. Missing facts and
//! impossible arithmetic (division by zero, overflow) give "no value" for that row, and logic is
//! three-valued: `false && 无值` is false, `true || 无值` is true.

use super::EvalContext;
use super::batch::{Batch, Data, Interner, ListData, SeriesData};
use super::check::{Func, Node, Op};
use super::parse::BinOp;
use super::value::{Type, Value, day_number, from_day_number};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use std::borrow::Cow;
use std::cell::RefCell;

type Mask<'a> = Option<Cow<'a, [bool]>>;

#[derive(Debug, Clone)]
pub(crate) enum Col<'a> {
    /// The same value (or no value) for every row.
    Const(Value),
    Bool(Cow<'a, [bool]>, Mask<'a>),
    Int(Cow<'a, [i64]>, Mask<'a>),
    Dec(Cow<'a, [Decimal]>, Mask<'a>),
    Str(Cow<'a, [u32]>, Mask<'a>),
    Date(Cow<'a, [i32]>, Mask<'a>),
    /// A series column and the batch row of its first window row.
    Series(Cow<'a, SeriesData>, usize, Mask<'a>),
    List(Cow<'a, ListData>, usize, Mask<'a>),
}

pub(crate) struct Cx<'a, 'b> {
    pub batch: &'a Batch,
    pub ctx: &'b EvalContext<'b>,
    /// Strings made during evaluation (text-valued conditionals); codes continue after the batch's.
    pub extra: RefCell<Interner>,
    /// The rows evaluated: a window of the batch small enough for intermediate columns to stay
    /// in cache.
    pub off: usize,
    pub len: usize,
}

impl Cx<'_, '_> {
    fn n(&self) -> usize {
        self.len
    }

    fn code_of(&self, s: &str) -> u32 {
        match self.batch.strings.code(s) {
            Some(c) => c,
            None => self.batch.strings.len() as u32 + self.extra.borrow_mut().intern(s),
        }
    }

    pub fn string(&self, code: u32) -> String {
        let base = self.batch.strings.len() as u32;
        if code < base {
            self.batch.strings.get(code).to_string()
        } else {
            self.extra.borrow().get(code - base).to_string()
        }
    }
}

fn valid_at(m: &Mask, i: usize) -> bool {
    m.as_ref().is_none_or(|m| m[i])
}

/// Row validity of two operands combined.
fn both(a: &Mask, b: &Mask) -> Mask<'static> {
    match (a, b) {
        (None, None) => None,
        (Some(m), None) | (None, Some(m)) => Some(Cow::Owned(m.to_vec())),
        (Some(x), Some(y)) => Some(Cow::Owned(x.iter().zip(y.iter()).map(|(a, b)| *a && *b).collect())),
    }
}

/// Folds a per-row success flag into a mask; `None` when every row is valid.
fn with_ok(m: Mask<'static>, ok: Vec<bool>) -> Mask<'static> {
    if ok.iter().all(|x| *x) {
        return m;
    }
    Some(Cow::Owned(match m {
        None => ok,
        Some(m) => m.iter().zip(ok).map(|(a, b)| *a && b).collect(),
    }))
}

/// Expands a constant into a full column of its type (rare paths only).
fn materialize<'a>(v: &Value, ty: &Type, n: usize, cx: &Cx) -> Col<'a> {
    let none = || Some(Cow::Owned(vec![false; n]));
    match (v, ty) {
        (Value::Bool(b), _) => Col::Bool(Cow::Owned(vec![*b; n]), None),
        (Value::Int(i), _) => Col::Int(Cow::Owned(vec![*i; n]), None),
        (Value::Dec(d), _) => Col::Dec(Cow::Owned(vec![*d; n]), None),
        (Value::Str(s), _) => Col::Str(Cow::Owned(vec![cx.code_of(s); n]), None),
        (Value::Date(d), _) => Col::Date(Cow::Owned(vec![day_number(*d); n]), None),
        (Value::Null, Type::Bool) => Col::Bool(Cow::Owned(vec![false; n]), none()),
        (Value::Null, Type::Int) => Col::Int(Cow::Owned(vec![0; n]), none()),
        (Value::Null, Type::Dec) => Col::Dec(Cow::Owned(vec![Decimal::ZERO; n]), none()),
        (Value::Null, Type::Str) => Col::Str(Cow::Owned(vec![0; n]), none()),
        (Value::Null, Type::Date) => Col::Date(Cow::Owned(vec![0; n]), none()),
        (Value::Null, Type::Series) | (Value::Series(_), _) => {
            let rows: Vec<Vec<(time::Date, i64)>> = match v {
                Value::Series(s) => vec![s.clone(); n],
                _ => vec![vec![]; n],
            };
            let mut s = SeriesData { offsets: vec![0], ..Default::default() };
            for r in rows {
                for (d, x) in r {
                    s.dates.push(day_number(d));
                    s.vals.push(x);
                }
                s.offsets.push(s.vals.len() as u32);
            }
            Col::Series(Cow::Owned(s), 0, None)
        }
        (Value::Null, Type::List(_)) | (Value::List(_), _) => {
            Col::List(Cow::Owned(ListData { offsets: vec![0; n + 1], items: vec![] }), 0, None)
        }
    }
}

/// One row's value of a column, as a scalar.
pub(crate) fn value_at(c: &Col, i: usize, cx: &Cx) -> Value {
    match c {
        Col::Const(v) => v.clone(),
        Col::Bool(v, m) => {
            if valid_at(m, i) {
                Value::Bool(v[i])
            } else {
                Value::Null
            }
        }
        Col::Int(v, m) => {
            if valid_at(m, i) {
                Value::Int(v[i])
            } else {
                Value::Null
            }
        }
        Col::Dec(v, m) => {
            if valid_at(m, i) {
                Value::Dec(v[i])
            } else {
                Value::Null
            }
        }
        Col::Str(v, m) => {
            if valid_at(m, i) {
                Value::Str(cx.string(v[i]))
            } else {
                Value::Null
            }
        }
        Col::Date(v, m) => {
            if valid_at(m, i) {
                Value::Date(from_day_number(v[i]))
            } else {
                Value::Null
            }
        }
        Col::Series(s, base, m) => {
            if !valid_at(m, i) {
                return Value::Null;
            }
            let (d, v) = s.row(base + i);
            Value::Series(d.iter().zip(v).map(|(d, v)| (from_day_number(*d), *v)).collect())
        }
        Col::List(l, base, m) => {
            if !valid_at(m, i) {
                return Value::Null;
            }
            Value::List(l.row(base + i).iter().map(|x| Value::Int(*x)).collect())
        }
    }
}

fn int_op(op: BinOp, a: i64, b: i64) -> Option<i64> {
    match op {
        BinOp::Add => a.checked_add(b),
        BinOp::Sub => a.checked_sub(b),
        BinOp::Mul => a.checked_mul(b),
        BinOp::FloorDiv => (b != 0).then(|| a.div_euclid(b)),
        BinOp::Rem => (b != 0).then(|| a.rem_euclid(b)),
        _ => None,
    }
}

fn dec_op(op: BinOp, a: Decimal, b: Decimal) -> Option<Decimal> {
    match op {
        BinOp::Add => a.checked_add(b),
        BinOp::Sub => a.checked_sub(b),
        BinOp::Mul => a.checked_mul(b),
        BinOp::Div => a.checked_div(b),
        _ => None,
    }
}

fn cmp_ord<T: PartialOrd>(op: BinOp, a: T, b: T) -> bool {
    match op {
        BinOp::Eq => a == b,
        BinOp::Ne => a != b,
        BinOp::Lt => a < b,
        BinOp::Le => a <= b,
        BinOp::Gt => a > b,
        BinOp::Ge => a >= b,
        _ => false,
    }
}

/// Element-wise binary operation over two typed columns or constants. `$f` may fail (`None`).
macro_rules! zip_op {
    ($a:expr, $b:expr, $n:expr, $f:expr, $out:ident) => {{
        let f = $f;
        let n = $n;
        let (mut vals, mut ok) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut push = |r: Option<_>| {
            ok.push(r.is_some());
            vals.push(r.unwrap_or_default());
        };
        match (&$a, &$b) {
            (L::S(x), L::S(y)) => x.iter().zip(y.iter()).for_each(|(p, q)| push(f(*p, *q))),
            (L::S(x), L::C(y)) => x.iter().for_each(|p| push(f(*p, *y))),
            (L::C(x), L::S(y)) => y.iter().for_each(|q| push(f(*x, *q))),
            (L::C(x), L::C(y)) => (0..n).for_each(|_| push(f(*x, *y))),
        }
        (Col::$out(Cow::Owned(vals), None), ok)
    }};
}

/// A column's values or a broadcast constant.
enum L<'x, T> {
    S(&'x [T]),
    C(T),
}

/// `f` over two operands, one tight loop per shape so the compiler can vectorise it.
fn map2<T: Copy, U: Clone>(x: &L<T>, y: &L<T>, n: usize, mut f: impl FnMut(T, T) -> U) -> Vec<U> {
    match (x, y) {
        (L::S(a), L::S(b)) => a.iter().zip(b.iter()).map(|(p, q)| f(*p, *q)).collect(),
        (L::S(a), L::C(c)) => a.iter().map(|p| f(*p, *c)).collect(),
        (L::C(c), L::S(b)) => b.iter().map(|q| f(*c, *q)).collect(),
        (L::C(a), L::C(b)) => vec![f(*a, *b); n],
    }
}

/// A comparison with the operator chosen outside the loop.
fn compare<T: Copy + PartialOrd>(op: BinOp, x: &L<T>, y: &L<T>, n: usize) -> Vec<bool> {
    match op {
        BinOp::Eq => map2(x, y, n, |a, b| a == b),
        BinOp::Ne => map2(x, y, n, |a, b| a != b),
        BinOp::Lt => map2(x, y, n, |a, b| a < b),
        BinOp::Le => map2(x, y, n, |a, b| a <= b),
        BinOp::Gt => map2(x, y, n, |a, b| a > b),
        _ => map2(x, y, n, |a, b| a >= b),
    }
}

/// Integer arithmetic that cannot silently wrap: rows that overflow or divide by zero get no
/// value. The common cases (no overflow; a non-zero constant divisor) run as plain loops.
fn checked(x: &L<i64>, y: &L<i64>, n: usize, f: impl Fn(i64, i64) -> (i64, bool)) -> (Vec<i64>, Option<Vec<bool>>) {
    let mut bad = false;
    let vals = map2(x, y, n, |a, b| {
        let (v, o) = f(a, b);
        bad |= o;
        v
    });
    let ok = bad.then(|| map2(x, y, n, |a, b| !f(a, b).1));
    (vals, ok)
}

fn int_arith(op: BinOp, x: &L<i64>, y: &L<i64>, n: usize) -> (Vec<i64>, Option<Vec<bool>>) {
    match (op, y) {
        (BinOp::Add, _) => checked(x, y, n, |a, b| a.overflowing_add(b)),
        (BinOp::Sub, _) => checked(x, y, n, |a, b| a.overflowing_sub(b)),
        (BinOp::Mul, _) => checked(x, y, n, |a, b| a.overflowing_mul(b)),
        (BinOp::FloorDiv, L::C(d)) if *d > 0 => (map2(x, y, n, |a, _| a.div_euclid(*d)), None),
        (BinOp::Rem, L::C(d)) if *d > 0 => (map2(x, y, n, |a, _| a.rem_euclid(*d)), None),
        _ => {
            let vals = map2(x, y, n, |a, b| int_op(op, a, b).unwrap_or(0));
            let ok = map2(x, y, n, |a, b| int_op(op, a, b).is_some());
            let ok = ok.iter().any(|v| !v).then_some(ok);
            (vals, ok)
        }
    }
}

fn and_masks(m: Mask<'static>, ok: Option<Vec<bool>>) -> Mask<'static> {
    match ok {
        None => m,
        Some(ok) => with_ok(m, ok),
    }
}

fn ints<'x>(c: &'x Col) -> Option<(L<'x, i64>, &'x Mask<'x>)> {
    static NONE: Mask<'static> = None;
    match c {
        Col::Int(v, m) => Some((L::S(v), m)),
        Col::Const(Value::Int(i)) => Some((L::C(*i), &NONE)),
        _ => None,
    }
}

fn decs<'x>(c: &'x Col) -> Option<(L<'x, Decimal>, &'x Mask<'x>)> {
    static NONE: Mask<'static> = None;
    match c {
        Col::Dec(v, m) => Some((L::S(v), m)),
        Col::Const(Value::Dec(d)) => Some((L::C(*d), &NONE)),
        _ => None,
    }
}

fn dates<'x>(c: &'x Col) -> Option<(L<'x, i32>, &'x Mask<'x>)> {
    static NONE: Mask<'static> = None;
    match c {
        Col::Date(v, m) => Some((L::S(v), m)),
        Col::Const(Value::Date(d)) => Some((L::C(day_number(*d)), &NONE)),
        _ => None,
    }
}

fn bools<'x>(c: &'x Col) -> Option<(L<'x, bool>, &'x Mask<'x>)> {
    static NONE: Mask<'static> = None;
    match c {
        Col::Bool(v, m) => Some((L::S(v), m)),
        Col::Const(Value::Bool(b)) => Some((L::C(*b), &NONE)),
        _ => None,
    }
}

fn set_mask<'a>(c: Col<'a>, m: Mask<'static>) -> Col<'a> {
    match c {
        Col::Bool(v, _) => Col::Bool(v, m),
        Col::Int(v, _) => Col::Int(v, m),
        Col::Dec(v, _) => Col::Dec(v, m),
        Col::Str(v, _) => Col::Str(v, m),
        Col::Date(v, _) => Col::Date(v, m),
        Col::Series(v, b, _) => Col::Series(v, b, m),
        Col::List(v, b, _) => Col::List(v, b, m),
        c => c,
    }
}

fn mask_of<'x>(c: &'x Col) -> &'x Mask<'x> {
    static NONE: Mask<'static> = None;
    match c {
        Col::Bool(_, m)
        | Col::Int(_, m)
        | Col::Dec(_, m)
        | Col::Str(_, m)
        | Col::Date(_, m)
        | Col::Series(_, _, m)
        | Col::List(_, _, m) => m,
        Col::Const(_) => &NONE,
    }
}

pub(crate) fn eval<'a>(node: &Node, cx: &Cx<'a, '_>) -> Col<'a> {
    let n = cx.n();
    match &node.op {
        Op::Const(v) => Col::Const(v.clone()),
        Op::Today => Col::Const(Value::Date(cx.ctx.today)),
        Op::Field(i) => match &cx.batch.cols[*i] {
            None => Col::Const(Value::Null),
            Some(c) => {
                let r = cx.off..cx.off + cx.len;
                let m: Mask<'a> = c.valid.as_deref().map(|v| Cow::Borrowed(&v[r.clone()]));
                match &c.data {
                    Data::Bool(v) => Col::Bool(Cow::Borrowed(&v[r]), m),
                    Data::Int(v) => Col::Int(Cow::Borrowed(&v[r]), m),
                    Data::Dec(v) => Col::Dec(Cow::Borrowed(&v[r]), m),
                    Data::Str(v) => Col::Str(Cow::Borrowed(&v[r]), m),
                    Data::Date(v) => Col::Date(Cow::Borrowed(&v[r]), m),
                    Data::Series(s) => Col::Series(Cow::Borrowed(s), cx.off, m),
                    Data::List(l) => Col::List(Cow::Borrowed(l), cx.off, m),
                }
            }
        },
        Op::Has(i) => match &cx.batch.cols[*i] {
            None => Col::Const(Value::Bool(false)),
            Some(c) => match &c.valid {
                None => Col::Const(Value::Bool(true)),
                Some(v) => Col::Bool(Cow::Owned(v[cx.off..cx.off + cx.len].to_vec()), None),
            },
        },
        Op::ToDec(e) => match eval(e, cx) {
            Col::Const(Value::Int(i)) => Col::Const(Value::Dec(i.into())),
            Col::Const(v) => Col::Const(v),
            Col::Int(v, m) => Col::Dec(Cow::Owned(v.iter().map(|x| Decimal::from(*x)).collect()), m),
            other => other,
        },
        Op::Neg(e) => match eval(e, cx) {
            Col::Const(Value::Int(i)) => Col::Const(i.checked_neg().map(Value::Int).unwrap_or(Value::Null)),
            Col::Const(Value::Dec(d)) => Col::Const(Value::Dec(-d)),
            Col::Const(v) => Col::Const(v),
            Col::Int(v, m) => {
                let ok: Vec<bool> = v.iter().map(|x| *x != i64::MIN).collect();
                let vals = v.iter().map(|x| x.wrapping_neg()).collect();
                let m = with_ok(m.map(|m| Cow::Owned(m.into_owned())), ok);
                Col::Int(Cow::Owned(vals), m)
            }
            Col::Dec(v, m) => Col::Dec(Cow::Owned(v.iter().map(|x| -*x).collect()), m),
            other => other,
        },
        Op::Not(e) => match eval(e, cx) {
            Col::Const(Value::Bool(b)) => Col::Const(Value::Bool(!b)),
            Col::Const(v) => Col::Const(v),
            Col::Bool(v, m) => Col::Bool(Cow::Owned(v.iter().map(|x| !*x).collect()), m),
            other => other,
        },
        Op::Arith(op, a, b) => {
            let (x, y) = (eval(a, cx), eval(b, cx));
            if matches!(x, Col::Const(Value::Null)) || matches!(y, Col::Const(Value::Null)) {
                return Col::Const(Value::Null);
            }
            if let (Col::Const(p), Col::Const(q)) = (&x, &y) {
                return Col::Const(match (p, q) {
                    (Value::Int(p), Value::Int(q)) => int_op(*op, *p, *q).map(Value::Int).unwrap_or(Value::Null),
                    (Value::Dec(p), Value::Dec(q)) => dec_op(*op, *p, *q).map(Value::Dec).unwrap_or(Value::Null),
                    _ => Value::Null,
                });
            }
            if node.ty == Type::Int {
                let ((xa, xm), (ya, ym)) = (ints(&x).expect("typed int"), ints(&y).expect("typed int"));
                let (vals, ok) = int_arith(*op, &xa, &ya, n);
                Col::Int(Cow::Owned(vals), and_masks(both(xm, ym), ok))
            } else {
                let ((xa, xm), (ya, ym)) = (decs(&x).expect("typed dec"), decs(&y).expect("typed dec"));
                let op = *op;
                let (col, ok) = zip_op!(xa, ya, n, move |p, q| dec_op(op, p, q), Dec);
                set_mask(col, with_ok(both(xm, ym), ok))
            }
        }
        Op::Cmp(op, a, b) => {
            let (x, y) = (eval(a, cx), eval(b, cx));
            if matches!(x, Col::Const(Value::Null)) || matches!(y, Col::Const(Value::Null)) {
                return Col::Const(Value::Null);
            }
            let op = *op;
            if let (Col::Const(p), Col::Const(q)) = (&x, &y) {
                let r = match (p, q) {
                    (Value::Int(p), Value::Int(q)) => cmp_ord(op, p, q),
                    (Value::Dec(p), Value::Dec(q)) => cmp_ord(op, p, q),
                    (Value::Date(p), Value::Date(q)) => cmp_ord(op, p, q),
                    (Value::Str(p), Value::Str(q)) => cmp_ord(op, p, q),
                    (Value::Bool(p), Value::Bool(q)) => cmp_ord(op, p, q),
                    _ => return Col::Const(Value::Null),
                };
                return Col::Const(Value::Bool(r));
            }
            let m = both(mask_of(&x), mask_of(&y));
            let col = match a.ty {
                Type::Int => {
                    let (xa, ya) = (ints(&x).expect("int").0, ints(&y).expect("int").0);
                    Col::Bool(Cow::Owned(compare(op, &xa, &ya, n)), None)
                }
                Type::Dec => {
                    let (xa, ya) = (decs(&x).expect("dec").0, decs(&y).expect("dec").0);
                    Col::Bool(Cow::Owned(compare(op, &xa, &ya, n)), None)
                }
                Type::Date => {
                    let (xa, ya) = (dates(&x).expect("date").0, dates(&y).expect("date").0);
                    Col::Bool(Cow::Owned(compare(op, &xa, &ya, n)), None)
                }
                Type::Bool => {
                    let (xa, ya) = (bools(&x).expect("bool").0, bools(&y).expect("bool").0);
                    Col::Bool(Cow::Owned(compare(op, &xa, &ya, n)), None)
                }
                Type::Str => {
                    // Text compares by code; a literal not in the batch equals nothing.
                    fn code<'x>(c: &'x Col, cx: &Cx) -> Option<L<'x, u32>> {
                        match c {
                            Col::Str(v, _) => Some(L::S(v)),
                            Col::Const(Value::Str(s)) => Some(L::C(cx.code_of(s))),
                            _ => None,
                        }
                    }
                    let (xa, ya) = (code(&x, cx).expect("str"), code(&y, cx).expect("str"));
                    Col::Bool(Cow::Owned(compare(op, &xa, &ya, n)), None)
                }
                _ => Col::Const(Value::Null),
            };
            set_mask(col, m)
        }
        Op::And(a, b) | Op::Or(a, b) => {
            let is_and = matches!(node.op, Op::And(..));
            let x = eval(a, cx);
            // Constant short cut: false && … is false, true || … is true.
            if let Col::Const(Value::Bool(v)) = x
                && v != is_and
            {
                return Col::Const(Value::Bool(v));
            }
            let y = eval(b, cx);
            if let Col::Const(Value::Bool(v)) = y {
                // x && true = x, x && false = false (and dually for ||), whatever x's validity.
                return if v == is_and { x } else { Col::Const(Value::Bool(v)) };
            }
            kleene(is_and, &x, &y, n)
        }
        Op::InConst(a, list) => {
            let x = eval(a, cx);
            match &x {
                Col::Const(Value::Null) => Col::Const(Value::Null),
                Col::Const(v) => Col::Const(Value::Bool(list.contains(v))),
                Col::Int(v, m) => {
                    let set: Vec<i64> = list.iter().filter_map(|v| v.as_int()).collect();
                    Col::Bool(Cow::Owned(v.iter().map(|x| set.contains(x)).collect()), m.clone())
                }
                Col::Str(v, m) => {
                    let codes: Vec<u32> = list
                        .iter()
                        .filter_map(|v| if let Value::Str(s) = v { cx.batch.strings.code(s) } else { None })
                        .collect();
                    Col::Bool(Cow::Owned(v.iter().map(|c| codes.contains(c)).collect()), m.clone())
                }
                Col::Dec(v, m) => {
                    let set: Vec<Decimal> =
                        list.iter().filter_map(|v| if let Value::Dec(d) = v { Some(*d) } else { None }).collect();
                    Col::Bool(Cow::Owned(v.iter().map(|x| set.contains(x)).collect()), m.clone())
                }
                Col::Date(v, m) => {
                    let set: Vec<i32> = list
                        .iter()
                        .filter_map(|v| if let Value::Date(d) = v { Some(day_number(*d)) } else { None })
                        .collect();
                    Col::Bool(Cow::Owned(v.iter().map(|x| set.contains(x)).collect()), m.clone())
                }
                Col::Bool(v, m) => {
                    let set: Vec<bool> = list.iter().filter_map(|v| v.as_bool()).collect();
                    Col::Bool(Cow::Owned(v.iter().map(|x| set.contains(x)).collect()), m.clone())
                }
                _ => Col::Const(Value::Null),
            }
        }
        Op::InList(a, b) => {
            let (x, y) = (eval(a, cx), eval(b, cx));
            let key = |i: usize| -> Option<i64> {
                match &x {
                    Col::Int(v, m) => valid_at(m, i).then(|| v[i]),
                    Col::Str(v, m) => valid_at(m, i).then(|| v[i] as i64),
                    Col::Const(Value::Int(k)) => Some(*k),
                    Col::Const(Value::Str(s)) => Some(cx.code_of(s) as i64),
                    _ => None,
                }
            };
            let Col::List(l, base, lm) = &y else { return Col::Const(Value::Null) };
            let (mut vals, mut ok) = (Vec::with_capacity(n), Vec::with_capacity(n));
            for i in 0..n {
                let r = if valid_at(lm, i) { key(i).map(|k| l.row(base + i).contains(&k)) } else { None };
                ok.push(r.is_some());
                vals.push(r.unwrap_or(false));
            }
            Col::Bool(Cow::Owned(vals), with_ok(None, ok))
        }
        Op::Cond(c, a, b) => {
            let cond = eval(c, cx);
            if let Col::Const(v) = &cond {
                return match v {
                    Value::Bool(true) => eval(a, cx),
                    Value::Bool(false) => eval(b, cx),
                    _ => Col::Const(Value::Null),
                };
            }
            let (x, y) = (eval(a, cx), eval(b, cx));
            if let (Col::Bool(cv, None), Some((xa, None)), Some((ya, None))) = (&cond, ints(&x), ints(&y)) {
                // The usual amount tables (`a ? 500000 : b ? 200000 : 100000`): a select per row.
                let v = match (&xa, &ya) {
                    (L::S(p), L::S(q)) => {
                        cv.iter().zip(p.iter().zip(q.iter())).map(|(c, (p, q))| if *c { *p } else { *q }).collect()
                    }
                    (L::S(p), L::C(q)) => cv.iter().zip(p.iter()).map(|(c, p)| if *c { *p } else { *q }).collect(),
                    (L::C(p), L::S(q)) => cv.iter().zip(q.iter()).map(|(c, q)| if *c { *p } else { *q }).collect(),
                    (L::C(p), L::C(q)) => cv.iter().map(|c| if *c { *p } else { *q }).collect(),
                };
                return Col::Int(Cow::Owned(v), None);
            }
            let x = if let Col::Const(v) = &x { materialize(v, &node.ty, n, cx) } else { x };
            let y = if let Col::Const(v) = &y { materialize(v, &node.ty, n, cx) } else { y };
            let Col::Bool(cv, cm) = cond else { return Col::Const(Value::Null) };
            let pick = |i: usize| -> (bool, bool) {
                let take_x = cv[i];
                (valid_at(&cm, i) && valid_at(mask_of(if take_x { &x } else { &y }), i), take_x)
            };
            let mut ok = Vec::with_capacity(n);
            macro_rules! choose {
                ($p:expr, $q:expr, $var:ident) => {{
                    let vals = (0..n)
                        .map(|i| {
                            let (valid, tx) = pick(i);
                            ok.push(valid);
                            if tx { $p[i].clone() } else { $q[i].clone() }
                        })
                        .collect::<Vec<_>>();
                    Col::$var(Cow::Owned(vals), with_ok(None, ok))
                }};
            }
            match (&x, &y) {
                (Col::Int(p, _), Col::Int(q, _)) => choose!(p, q, Int),
                (Col::Dec(p, _), Col::Dec(q, _)) => choose!(p, q, Dec),
                (Col::Bool(p, _), Col::Bool(q, _)) => choose!(p, q, Bool),
                (Col::Str(p, _), Col::Str(q, _)) => choose!(p, q, Str),
                (Col::Date(p, _), Col::Date(q, _)) => choose!(p, q, Date),
                _ => Col::Const(Value::Null),
            }
        }
        Op::Call(f, args) => call(*f, args, node, cx),
    }
}

/// Three-valued `&&` / `||` over two boolean operands, branch-free per row.
fn kleene<'a>(is_and: bool, x: &Col, y: &Col, n: usize) -> Col<'a> {
    let parts = |c: &Col| -> (Vec<bool>, Option<Vec<bool>>) {
        match c {
            Col::Bool(v, m) => (v.to_vec(), m.as_ref().map(|m| m.to_vec())),
            Col::Const(Value::Bool(b)) => (vec![*b; n], None),
            _ => (vec![false; n], Some(vec![false; n])),
        }
    };
    if let (Col::Bool(a, None), Col::Bool(b, None)) = (x, y) {
        let v = if is_and {
            a.iter().zip(b.iter()).map(|(p, q)| *p & *q).collect()
        } else {
            a.iter().zip(b.iter()).map(|(p, q)| *p | *q).collect()
        };
        return Col::Bool(Cow::Owned(v), None);
    }
    let ((a, ma), (b, mb)) = (parts(x), parts(y));
    let va = ma.unwrap_or_else(|| vec![true; n]);
    let vb = mb.unwrap_or_else(|| vec![true; n]);
    let mut vals = Vec::with_capacity(n);
    let mut ok = Vec::with_capacity(n);
    for i in 0..n {
        // A known dominant operand (false for &&, true for ||) decides; else both must be known.
        let dom = if is_and { (va[i] & !a[i]) | (vb[i] & !b[i]) } else { (va[i] & a[i]) | (vb[i] & b[i]) };
        let known = dom | (va[i] & vb[i]);
        let v = if is_and { !dom & a[i] & b[i] } else { dom | (a[i] | b[i]) };
        vals.push(v & known);
        ok.push(known);
    }
    Col::Bool(Cow::Owned(vals), with_ok(None, ok))
}

fn per_row<T: Default + Clone>(n: usize, f: impl Fn(usize) -> Option<T>) -> (Vec<T>, Vec<bool>) {
    let (mut vals, mut ok) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let r = f(i);
        ok.push(r.is_some());
        vals.push(r.unwrap_or_default());
    }
    (vals, ok)
}

fn call<'a>(f: Func, args: &[Node], node: &Node, cx: &Cx<'a, '_>) -> Col<'a> {
    let n = cx.n();
    let cols: Vec<Col> = args.iter().map(|a| eval(a, cx)).collect();
    let scalar = |c: &Col, i: usize| value_at(c, i, cx);
    // Scalar results for all-constant arguments keep constants constant.
    let all_const = cols.iter().all(|c| matches!(c, Col::Const(_)));
    let rows = if all_const { 1 } else { n };
    let int_col = |(vals, ok): (Vec<i64>, Vec<bool>)| -> Col<'a> {
        if all_const {
            return Col::Const(if ok[0] { Value::Int(vals[0]) } else { Value::Null });
        }
        Col::Int(Cow::Owned(vals), with_ok(None, ok))
    };
    let dec_col = |(vals, ok): (Vec<Decimal>, Vec<bool>)| -> Col<'a> {
        if all_const {
            return Col::Const(if ok[0] { Value::Dec(vals[0]) } else { Value::Null });
        }
        Col::Dec(Cow::Owned(vals), with_ok(None, ok))
    };
    let date_col = |(vals, ok): (Vec<i32>, Vec<bool>)| -> Col<'a> {
        if all_const {
            return Col::Const(if ok[0] { Value::Date(from_day_number(vals[0])) } else { Value::Null });
        }
        Col::Date(Cow::Owned(vals), with_ok(None, ok))
    };
    let date_at = |c: &Col, i: usize| -> Option<i32> {
        match c {
            Col::Date(v, m) => valid_at(m, i).then(|| v[i]),
            Col::Const(Value::Date(d)) => Some(day_number(*d)),
            _ => None,
        }
    };
    let int_at = |c: &Col, i: usize| -> Option<i64> {
        match c {
            Col::Int(v, m) => valid_at(m, i).then(|| v[i]),
            Col::Const(Value::Int(x)) => Some(*x),
            _ => None,
        }
    };
    match f {
        Func::DaysBetween => int_col(per_row(rows, |i| Some((date_at(&cols[1], i)? - date_at(&cols[0], i)?) as i64))),
        Func::WorkingDaysBetween => {
            let Some(cal) = cx.ctx.calendar else { return Col::Const(Value::Null) };
            int_col(per_row(rows, |i| {
                Some(cal.working_days_between(
                    from_day_number(date_at(&cols[0], i)?),
                    from_day_number(date_at(&cols[1], i)?),
                ))
            }))
        }
        Func::AddDays => date_col(per_row(rows, |i| {
            let d = date_at(&cols[0], i)? as i64 + int_at(&cols[1], i)?;
            i32::try_from(d).ok()
        })),
        Func::AddWorkingDays => {
            let Some(cal) = cx.ctx.calendar else { return Col::Const(Value::Null) };
            date_col(per_row(rows, |i| {
                let k = u32::try_from(int_at(&cols[1], i)?).ok()?.min(100_000);
                Some(day_number(cal.add_working_days(from_day_number(date_at(&cols[0], i)?), k)))
            }))
        }
        Func::Year => int_col(per_row(rows, |i| Some(from_day_number(date_at(&cols[0], i)?).year() as i64))),
        Func::Month => int_col(per_row(rows, |i| Some(from_day_number(date_at(&cols[0], i)?).month() as u8 as i64))),
        Func::Min | Func::Max => {
            let pick_max = f == Func::Max;
            if node.ty == Type::Int {
                // Pairwise over whole columns keeps the loop tight.
                let mut acc = cols[0].clone();
                for c in &cols[1..] {
                    let ((xa, xm), (ya, ym)) = (ints(&acc).expect("int"), ints(c).expect("int"));
                    let m = both(xm, ym);
                    let rows = if all_const { 1 } else { n };
                    let v = if pick_max { map2(&xa, &ya, rows, i64::max) } else { map2(&xa, &ya, rows, i64::min) };
                    acc = Col::Int(Cow::Owned(v), m);
                }
                if all_const { Col::Const(value_at(&acc, 0, cx)) } else { acc }
            } else {
                dec_col(per_row(rows, |i| {
                    let mut best: Option<Decimal> = None;
                    for c in &cols {
                        let v = match scalar(c, i) {
                            Value::Dec(d) => d,
                            _ => return None,
                        };
                        best = Some(match best {
                            None => v,
                            Some(b) if pick_max => b.max(v),
                            Some(b) => b.min(v),
                        });
                    }
                    best
                }))
            }
        }
        Func::Abs => match node.ty {
            Type::Int => int_col(per_row(rows, |i| int_at(&cols[0], i)?.checked_abs())),
            _ => dec_col(per_row(rows, |i| match scalar(&cols[0], i) {
                Value::Dec(d) => Some(d.abs()),
                _ => None,
            })),
        },
        Func::Floor => int_col(per_row(rows, |i| match scalar(&cols[0], i) {
            Value::Dec(d) => d.round_dp_with_strategy(0, RoundingStrategy::ToNegativeInfinity).to_i64(),
            _ => None,
        })),
        Func::Size => match &cols[0] {
            Col::List(l, base, m) => int_col(per_row(n, |i| valid_at(m, i).then(|| l.row(base + i).len() as i64))),
            _ => Col::Const(Value::Null),
        },
        Func::Window => {
            let Col::Series(s, base, m) = &cols[0] else { return Col::Const(Value::Null) };
            let today = day_number(cx.ctx.today);
            let mut out = SeriesData { offsets: vec![0], ..Default::default() };
            let mut ok = Vec::with_capacity(n);
            for i in 0..n {
                let days = int_at(&cols[1], i);
                ok.push(valid_at(m, i) && days.is_some());
                if let Some(days) = days {
                    let from = today as i64 - days;
                    let (d, v) = s.row(base + i);
                    for (d, v) in d.iter().zip(v) {
                        if (*d as i64) > from && *d <= today {
                            out.dates.push(*d);
                            out.vals.push(*v);
                        }
                    }
                }
                out.offsets.push(out.vals.len() as u32);
            }
            Col::Series(Cow::Owned(out), 0, with_ok(None, ok))
        }
        Func::Sum | Func::Count | Func::SeriesMin | Func::SeriesMax | Func::Last | Func::First => {
            let Col::Series(s, base, m) = &cols[0] else { return Col::Const(Value::Null) };
            int_col(per_row(n, |i| {
                if !valid_at(m, i) {
                    return None;
                }
                let v = s.row(base + i).1;
                match f {
                    Func::Sum => v.iter().try_fold(0i64, |a, b| a.checked_add(*b)),
                    Func::Count => Some(v.len() as i64),
                    Func::SeriesMin => v.iter().min().copied(),
                    Func::SeriesMax => v.iter().max().copied(),
                    Func::Last => v.last().copied(),
                    _ => v.first().copied(),
                }
            }))
        }
        Func::Avg => {
            let Col::Series(s, base, m) = &cols[0] else { return Col::Const(Value::Null) };
            dec_col(per_row(n, |i| {
                let v = s.row(base + i).1;
                if !valid_at(m, i) || v.is_empty() {
                    return None;
                }
                let sum: i128 = v.iter().map(|x| *x as i128).sum();
                Decimal::from_i128_with_scale(sum, 0).checked_div(Decimal::from(v.len()))
            }))
        }
        Func::Contains | Func::StartsWith => {
            let Col::Const(Value::Str(needle)) = &cols[1] else { return Col::Const(Value::Null) };
            let test = |s: &str| {
                if f == Func::Contains { s.contains(needle.as_str()) } else { s.starts_with(needle.as_str()) }
            };
            match &cols[0] {
                Col::Const(Value::Str(s)) => Col::Const(Value::Bool(test(s))),
                Col::Str(v, m) => {
                    // Each distinct text is tested once.
                    let mut memo: Vec<Option<bool>> = vec![None; cx.batch.strings.len()];
                    let vals = v
                        .iter()
                        .map(|c| match memo.get_mut(*c as usize) {
                            Some(slot) => *slot.get_or_insert_with(|| test(cx.batch.strings.get(*c))),
                            None => test(&cx.string(*c)),
                        })
                        .collect();
                    Col::Bool(Cow::Owned(vals), m.clone())
                }
                _ => Col::Const(Value::Null),
            }
        }
        Func::Coalesce => {
            let (x, y) = (&cols[0], &cols[1]);
            if let Col::Const(v) = x
                && *v != Value::Null
            {
                return x.clone();
            }
            if matches!(x, Col::Const(Value::Null)) {
                return y.clone();
            }
            if mask_of(x).is_none() {
                return x.clone();
            }
            let y = if let Col::Const(v) = y { materialize(v, &node.ty, n, cx) } else { y.clone() };
            let use_x = |i: usize| valid_at(mask_of(x), i);
            let ok: Vec<bool> = (0..n).map(|i| use_x(i) || valid_at(mask_of(&y), i)).collect();
            macro_rules! merge {
                ($p:expr, $q:expr, $var:ident) => {
                    Col::$var(
                        Cow::Owned((0..n).map(|i| if use_x(i) { $p[i].clone() } else { $q[i].clone() }).collect()),
                        with_ok(None, ok),
                    )
                };
            }
            match (x, &y) {
                (Col::Int(p, _), Col::Int(q, _)) => merge!(p, q, Int),
                (Col::Dec(p, _), Col::Dec(q, _)) => merge!(p, q, Dec),
                (Col::Bool(p, _), Col::Bool(q, _)) => merge!(p, q, Bool),
                (Col::Str(p, _), Col::Str(q, _)) => merge!(p, q, Str),
                (Col::Date(p, _), Col::Date(q, _)) => merge!(p, q, Date),
                _ => x.clone(),
            }
        }
    }
}
