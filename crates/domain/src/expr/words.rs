//! A compiled expression in plain Chinese, for people who read why an alert was raised: fields
//! by their label, constants as values (money in yuan), operators and functions in words.
//! `arrears_days > 60` reads "欠薪天数超过 60".

use super::check::{Func, Node, Op};
use super::parse::BinOp;
use super::schema::{FieldDef, Schema};
use super::value::Value;
use crate::money::Money;

/// A field's label without the storage unit or the list of codes some labels carry for the
/// people who write rules: "合同价款（分）" reads "合同价款", money being shown in yuan.
pub fn field_label(def: &FieldDef) -> String {
    let mut label = if def.label.is_empty() { def.name.clone() } else { def.label.clone() };
    while label.ends_with('）') {
        let Some(open) = label.rfind('（') else { break };
        let inner = &label[open + '（'.len_utf8()..label.len() - '）'.len_utf8()];
        let technical = inner == "分" || inner.chars().all(|c| c.is_ascii() || c == '、' || c == '／');
        if !technical {
            break;
        }
        label.truncate(open);
    }
    if def.money { format!("{label}（元）") } else { label }
}

/// A value as people read it; `money` shows an integer in fen as yuan.
pub fn value_words(v: &Value, money: bool) -> String {
    match v {
        Value::Int(fen) if money => Money::from_fen(*fen).to_string(),
        other => other.to_string(),
    }
}

/// A field's value as people read it: money in yuan, a code by its name.
pub fn field_value_words(def: &FieldDef, v: &Value) -> String {
    match v {
        Value::Str(s) if !def.values.is_empty() => format!("“{}”", def.value_name(s)),
        other => value_words(other, def.money),
    }
}

pub(crate) fn is_money(n: &Node, schema: &Schema) -> bool {
    match &n.op {
        Op::Field(i) => schema.fields()[*i].money,
        Op::Arith(_, a, b) => is_money(a, schema) || is_money(b, schema),
        Op::Neg(a) | Op::ToDec(a) => is_money(a, schema),
        Op::Call(Func::Min | Func::Max | Func::Abs | Func::Coalesce, args) => args.iter().any(|a| is_money(a, schema)),
        _ => false,
    }
}

fn cmp_word(op: BinOp, text: bool) -> &'static str {
    match op {
        BinOp::Eq if text => "为",
        BinOp::Ne if text => "不为",
        BinOp::Eq => "等于",
        BinOp::Ne => "不等于",
        BinOp::Lt => "低于",
        BinOp::Le => "不超过",
        BinOp::Gt => "超过",
        BinOp::Ge => "达到",
        BinOp::Add => "加",
        BinOp::Sub => "减",
        BinOp::Mul => "乘以",
        BinOp::Div => "除以",
        BinOp::FloorDiv => "整除",
        BinOp::Rem => "除以后的余数取",
    }
}

/// The node in words; `money` says constants are amounts in fen.
pub(crate) fn words(n: &Node, schema: &Schema, money: bool) -> String {
    let w = |x: &Node| words(x, schema, money);
    match &n.op {
        Op::Const(v) => value_words(v, money),
        Op::Field(i) => field_label(&schema.fields()[*i]),
        Op::Has(i) => format!("已报送{}", field_label(&schema.fields()[*i])),
        Op::Today => "当日".to_string(),
        Op::ToDec(a) => w(a),
        Op::Neg(a) => format!("负的{}", w(a)),
        Op::Not(a) => format!("并非“{}”", w(a)),
        Op::Arith(op, a, b) => format!("{}{}{}", w(a), cmp_word(*op, false), w(b)),
        Op::Cmp(op, a, b) if matches!((&a.op, &b.op), (Op::Field(_), Op::Const(Value::Str(_)))) => {
            let (Op::Field(i), Op::Const(v)) = (&a.op, &b.op) else { unreachable!() };
            let def = &schema.fields()[*i];
            format!("{}{}{}", field_label(def), cmp_word(*op, true), field_value_words(def, v))
        }
        Op::Cmp(op, a, b) => {
            let m = is_money(a, schema) || is_money(b, schema);
            let text = !matches!(a.ty, super::Type::Int | super::Type::Dec);
            let rhs = words(b, schema, m);
            // "超过 60", "为“建筑”": a space before a number, as Chinese text sets them.
            let sep = if rhs.starts_with(|c: char| c.is_ascii_digit() || c == '-') { " " } else { "" };
            format!("{}{}{sep}{rhs}", words(a, schema, m), cmp_word(*op, text))
        }
        Op::And(a, b) => format!("{}，且{}", w(a), w(b)),
        Op::Or(a, b) => format!("{}，或{}", w(a), w(b)),
        Op::InConst(x, vals) => {
            let list: Vec<String> = vals.iter().map(|v| value_words(v, money)).collect();
            format!("{}属于{}", w(x), list.join("、"))
        }
        Op::InList(x, l) => format!("{}属于{}", w(x), w(l)),
        Op::Cond(c, a, b) => format!("{}时取{}，否则取{}", w(c), w(a), w(b)),
        Op::Call(f, args) => {
            let a = |i: usize| args.get(i).map(&w).unwrap_or_default();
            match f {
                Func::DaysBetween => format!("{}至{}的天数", a(0), a(1)),
                Func::WorkingDaysBetween => format!("{}至{}的工作日数", a(0), a(1)),
                Func::AddDays => format!("{}后{}天", a(0), a(1)),
                Func::AddWorkingDays => format!("{}后{}个工作日", a(0), a(1)),
                Func::Year => format!("{}的年份", a(0)),
                Func::Month => format!("{}的月份", a(0)),
                Func::Min => format!("{}中较小者", args.iter().map(&w).collect::<Vec<_>>().join("与")),
                Func::Max => format!("{}中较大者", args.iter().map(&w).collect::<Vec<_>>().join("与")),
                Func::Abs => format!("{}的绝对值", a(0)),
                Func::Floor => format!("{}取整", a(0)),
                Func::Size => format!("{}的项数", a(0)),
                Func::Window => format!("{}最近{}期", a(0), a(1)),
                Func::Sum => format!("{}合计", a(0)),
                Func::Count => format!("{}的期数", a(0)),
                Func::Avg => format!("{}平均值", a(0)),
                Func::SeriesMin => format!("{}最小值", a(0)),
                Func::SeriesMax => format!("{}最大值", a(0)),
                Func::Last => format!("{}最近一期", a(0)),
                Func::First => format!("{}最早一期", a(0)),
                Func::Contains => format!("{}包含{}", a(0), a(1)),
                Func::StartsWith => format!("{}以{}开头", a(0), a(1)),
                Func::Coalesce => format!("{}（无值时取{}）", a(0), a(1)),
            }
        }
    }
}
