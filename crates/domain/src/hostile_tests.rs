//! Hostile input for every parser that reads what people and systems send: identifiers,
//! amounts, dates, wage rows and the expression language. Each answers any input with a value
//! or a Chinese error — never a panic, never a stack overflow — within stated bounds. Runs in
//! CI with a bounded number of cases.

use crate::expr::{EvalContext, Facts, Schema, Type, compile};
use crate::wages::ingest::{Kind, Limits, Via, parse_date, parse_month, parse_row};
use crate::{DivisionCode, IdCardNo, Money, Uscc};
use proptest::prelude::*;

fn schema() -> Schema {
    Schema::new("t", "测试")
        .field("n", Type::Int, "人数")
        .field("s", Type::Str, "名称")
        .field("d", Type::Dec, "金额")
        .field("on", Type::Date, "日期")
        .field("b", Type::Bool, "标志")
        .optional_field("o", Type::Int, "可缺")
        .field("w", Type::Series, "序列")
        .field("tags", Type::List(Box::new(Type::Str)), "标签")
}

fn facts() -> Facts {
    Facts::new().with("n", 7).with("s", "建筑").with("b", true)
}

fn cx() -> EvalContext<'static> {
    EvalContext { today: time::macros::date!(2026 - 12 - 07), calendar: None }
}

/// Fragments that combine into well-formed, ill-formed and pathological expressions.
fn fragment() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "n",
        "s",
        "d",
        "on",
        "b",
        "o",
        "w",
        "tags",
        "nope",
        "(",
        ")",
        "[",
        "]",
        ",",
        "+",
        "-",
        "*",
        "/",
        "//",
        "%",
        "==",
        "!=",
        "<",
        ">=",
        "&&",
        "||",
        "!",
        "?",
        ":",
        "in",
        "1",
        "0",
        "-9223372036854775808",
        "99999999999999999999",
        "1.5",
        "\"建\"",
        "\"",
        "true",
        "null",
        "min(",
        "max(",
        "sum(",
        "window(",
        "days_between(",
        "coalesce(",
        "has(",
        "add_working_days(",
        " ",
        ".",
        "x.y",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, max_shrink_iters: 256, .. ProptestConfig::default() })]

    #[test]
    fn identifiers_answer_any_text(s in "\\PC{0,40}") {
        let _ = Uscc::parse(&s);
        let _ = IdCardNo::parse(&s);
        let _ = DivisionCode::parse(&s);
        let _ = Money::parse_yuan(&s);
        let _ = parse_date(&s);
        let _ = parse_month(&s);
    }

    #[test]
    fn identifiers_answer_near_misses(digits in "[0-9A-Z]{0,20}", x in "[xX]?") {
        let s = format!("{digits}{x}");
        if let Err(e) = IdCardNo::parse(&s) { prop_assert!(!e.to_string().is_empty()); }
        if let Err(e) = Uscc::parse(&s) { prop_assert!(!e.to_string().is_empty()); }
    }

    /// Expressions from fragments: compile or refuse; what compiles evaluates without a panic.
    #[test]
    fn expressions_from_fragments(parts in proptest::collection::vec(fragment(), 0..48)) {
        let src = parts.concat();
        let s = schema();
        if let Ok(e) = compile(&src, &s) {
            let _ = e.eval_facts(&s, &facts(), &cx());
        }
    }

    #[test]
    fn expressions_from_any_text(src in "\\PC{0,200}") {
        let _ = compile(&src, &schema());
    }

    /// Any cells of any wage row kind: a record or a refusal naming a column.
    #[test]
    fn wage_rows_answer_any_cells(kind in 0usize..Kind::ALL.len(), cells in proptest::collection::vec("\\PC{0,30}", 0..12), api in any::<bool>()) {
        let kind = Kind::ALL[kind];
        let via = if api { Via::Api } else { Via::File };
        let pairs = kind.columns().iter().zip(cells.iter()).map(|(c, v)| (c, v.as_str()));
        if let Err(r) = parse_row(kind, via, &Limits::default(), pairs) {
            prop_assert!(!r.reason.is_empty());
        }
    }
}

#[test]
fn deep_or_long_expressions_are_refused_not_overflowed() {
    let s = schema();
    for (src, says) in [
        (format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)), "上限"),
        (format!("{}1", "-".repeat(1_500)), "嵌套"),
        (format!("{}1", "!".repeat(1_500)), "嵌套"),
        (format!("{}1{}", "(".repeat(40), ")".repeat(40)), "嵌套"),
        (format!("{}1", "1 + ".repeat(400)), "运算项"),
        (format!("[{}1]", "[".repeat(50)), "嵌套"),
        (format!("min({}1)", "min(".repeat(50)), "嵌套"),
    ] {
        let e = compile(&src, &s).map(|_| ()).unwrap_err();
        assert!(e.message.contains(says), "{}…: {}", &src.chars().take(20).collect::<String>(), e.message);
    }
    // What real configurations hold still compiles.
    assert!(compile("n >= 10 && (s == \"建筑\" || !b) && coalesce(o, 0) < 3", &s).is_ok());
}

#[test]
fn amounts_beyond_i64_are_an_error_and_implausible_ones_are_refused() {
    assert_eq!(Money::parse_yuan("92233720368547758.07").unwrap().fen(), i64::MAX);
    assert!(Money::parse_yuan("92233720368547758.08").is_err());
    assert!(Money::parse_yuan(&"9".repeat(150)).is_err());
    // The file that once closed an arrears alert: i64::MAX fen of wages for one worker-month.
    let cols = Kind::Payments.columns();
    let cell = |key: &str| cols.iter().find(|c| c.key == key).unwrap();
    let row = [
        (cell("external_id"), "P1"),
        (cell("project_code"), "GC0001"),
        (cell("id_card_no"), "11010519491231002X"),
        (cell("month"), "2026-10"),
        (cell("amount_fen"), "92233720368547758.07"),
        (cell("paid_on"), "2026-11-10"),
    ];
    let r = parse_row(Kind::Payments, Via::File, &Limits::default(), row).unwrap_err();
    assert!(r.reason.contains("超出合理范围") && r.reason.contains("100000.00"), "{}", r.reason);
}
