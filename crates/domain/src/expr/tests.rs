use super::*;
use proptest::prelude::*;
use time::macros::date;

fn employer() -> Schema {
    Schema::new("employer", "用人单位")
        .field("employees", Type::Int, "从业人数")
        .field("industry", Type::Str, "行业")
        .field("capital", Type::Dec, "注册资本（万元）")
        .field("founded", Type::Date, "成立日期")
        .field("blacklisted", Type::Bool, "失信")
        .optional_field("payroll.paid_headcount", Type::Int, "实发人数")
        .optional_field("attendance.headcount", Type::Int, "出勤人数")
        .field("water", Type::Series, "月用水量")
        .field("tags", Type::List(Box::new(Type::Str)), "标签")
}

fn cx() -> EvalContext<'static> {
    EvalContext { today: date!(2025 - 10 - 15), calendar: None }
}

fn one(src: &str, f: &Facts) -> Value {
    let s = employer();
    compile(src, &s).unwrap_or_else(|e| panic!("{src}: {e}")).eval_facts(&s, f, &cx()).unwrap()
}

fn sample() -> Facts {
    Facts::new()
        .with("employees", 120)
        .with("industry", "建筑")
        .with("capital", rust_decimal::Decimal::new(5005, 1))
        .with("founded", date!(2020 - 03 - 01))
        .with("blacklisted", false)
        .with("payroll.paid_headcount", 90)
        .with("attendance.headcount", 100)
        .with(
            "water",
            Value::Series(vec![
                (date!(2025 - 07 - 01), 300),
                (date!(2025 - 08 - 01), 280),
                (date!(2025 - 09 - 01), 40),
            ]),
        )
        .with("tags", Value::List(vec!["高新".into(), "专精特新".into()]))
}

#[test]
fn examples_from_the_issue() {
    let f = sample();
    assert_eq!(one("payroll.paid_headcount / attendance.headcount < 1.0", &f), Value::Bool(true));
    assert_eq!(one("industry in [\"建筑\"] && employees >= 50", &f), Value::Bool(true));
    assert_eq!(one("industry in [\"中药\", \"白酒\"] || employees < 10", &f), Value::Bool(false));
}

#[test]
fn arithmetic_is_exact() {
    let f = sample();
    assert_eq!(one("payroll.paid_headcount / attendance.headcount", &f), Value::Dec("0.9".parse().unwrap()));
    assert_eq!(one("employees // 7", &f), Value::Int(17));
    assert_eq!(one("employees % 7", &f), Value::Int(1));
    assert_eq!(one("-7 // 2", &f), Value::Int(-4), "floor division");
    assert_eq!(one("capital * 2", &f), Value::Dec("1001.0".parse().unwrap()));
    assert_eq!(one("employees * 1500 > 100000 ? min(employees * 1500, 150000) : 0", &f), Value::Int(150000));
    assert_eq!(one("0.1 + 0.2 == 0.3", &f), Value::Bool(true), "decimals, not floats");
}

#[test]
fn dates_series_lists_and_text() {
    let f = sample();
    assert_eq!(one("days_between(founded, today)", &f), Value::Int(2054));
    assert_eq!(one("year(founded) == 2020 && month(founded) == 3", &f), Value::Bool(true));
    assert_eq!(one("founded < date(\"2021-01-01\")", &f), Value::Bool(true));
    assert_eq!(one("add_days(founded, 31)", &f), Value::Date(date!(2020 - 04 - 01)));
    assert_eq!(one("sum(water)", &f), Value::Int(620));
    assert_eq!(one("sum(window(water, 80))", &f), Value::Int(320), "August and September");
    assert_eq!(one("last(water) * 2 < avg(window(water, 120))", &f), Value::Bool(true), "use collapsed");
    assert_eq!(one("count(window(water, 10))", &f), Value::Int(0));
    assert_eq!(one("last(window(water, 10))", &f), Value::Null, "no points, no value");
    assert_eq!(one("\"高新\" in tags && size(tags) == 2", &f), Value::Bool(true));
    assert_eq!(one("contains(industry, \"建\") && starts_with(industry, \"建筑\")", &f), Value::Bool(true));
    assert_eq!(one("max(employees, 10, 200)", &f), Value::Int(200));
    assert_eq!(one("min(capital, 100)", &f), Value::Dec("100".parse().unwrap()));
    assert_eq!(one("floor(capital)", &f), Value::Int(500));
    assert_eq!(one("abs(10 - employees)", &f), Value::Int(110));
}

#[test]
fn missing_facts_and_division_by_zero_give_no_value_and_logic_copes() {
    let f = sample().with("attendance.headcount", 0);
    assert_eq!(one("payroll.paid_headcount / attendance.headcount < 1.0", &f), Value::Null);
    assert_eq!(
        one("attendance.headcount > 0 && payroll.paid_headcount / attendance.headcount < 1.0", &f),
        Value::Bool(false)
    );
    assert_eq!(
        one("attendance.headcount == 0 || payroll.paid_headcount / attendance.headcount < 1.0", &f),
        Value::Bool(true)
    );
    let mut g = sample();
    g.0.remove("payroll.paid_headcount");
    assert_eq!(one("payroll.paid_headcount < 100", &g), Value::Null);
    assert_eq!(one("has(payroll.paid_headcount)", &g), Value::Bool(false));
    assert_eq!(one("coalesce(payroll.paid_headcount, 0) < 100", &g), Value::Bool(true));
    assert_eq!(one("!has(payroll.paid_headcount) || payroll.paid_headcount < 100", &g), Value::Bool(true));
    assert_eq!(one("9223372036854775807 + employees", &g), Value::Null, "overflow is no value, never wraps");
}

#[test]
fn working_days_need_the_calendar() {
    let cal = WorkCalendar::new(
        [crate::calendar::HolidayTable::parse_toml(
            "2025.toml",
            &std::fs::read_to_string(format!("{}/../../config/holidays/2025.toml", env!("CARGO_MANIFEST_DIR")))
                .unwrap(),
        )
        .unwrap()],
        crate::calendar::WorkingHours::standard(),
    );
    let s = employer();
    let e = compile("working_days_between(date(\"2025-09-30\"), today)", &s).unwrap();
    let ctx = EvalContext { today: date!(2025 - 10 - 15), calendar: Some(&cal) };
    // Oct 9, 10, 11 (make-up), 13, 14, 15.
    assert_eq!(e.eval_facts(&s, &sample(), &ctx).unwrap(), Value::Int(6));
    assert_eq!(e.eval_facts(&s, &sample(), &cx()).unwrap(), Value::Null, "no calendar, no value");
    let e = compile("add_working_days(date(\"2025-09-30\"), 1)", &s).unwrap();
    assert_eq!(e.eval_facts(&s, &sample(), &ctx).unwrap(), Value::Date(date!(2025 - 10 - 09)));
}

#[test]
fn typos_and_type_errors_are_compile_errors_with_columns() {
    let s = employer();
    let e = compile("industry == \"建筑\" && employes >= 50", &s).unwrap_err();
    assert_eq!(e.to_string(), "第21列：用人单位没有字段“employes”，是否应为“employees”？");
    assert_eq!(compile("employees > \"50\"", &s).unwrap_err().to_string(), "第1列：不能比较整数和文本");
    assert_eq!(compile("industry < \"建筑\"", &s).unwrap_err().to_string(), "第1列：文本只能比较是否相等");
    assert_eq!(
        compile("employees && true", &s).unwrap_err().to_string(),
        "第1列：“&&”“||”两边应为条件（布尔值），这里是整数"
    );
    assert_eq!(compile("sume(water)", &s).unwrap_err().to_string(), "第1列：未知函数“sume”，是否应为“sum”？");
    assert_eq!(
        compile("sum(employees)", &s).unwrap_err().to_string(),
        "第5列：sum 的第1个参数应为时间序列，这里是整数"
    );
    assert!(compile("capital // 2", &s).unwrap_err().to_string().contains("只能用于整数"));
    assert!(compile("date(\"2025-02-30\") < today", &s).unwrap_err().to_string().contains("日期“2025-02-30”无效"));
    assert!(compile("employees == null", &s).unwrap_err().to_string().contains("has(字段)"));
    assert!(compile_condition("employees + 1", &s).unwrap_err().to_string().contains("条件的结果应为布尔值"));
    assert!(compile_number("employees > 1", &s).unwrap_err().to_string().contains("结果应为数字"));
    assert!(compile("employees in [1, \"a\"]", &s).unwrap_err().to_string().contains("列表元素应为整数"));
}

#[test]
fn explanations_show_facts_and_comparisons() {
    let s = employer();
    let e = compile("industry in [\"建筑\"] && employees >= 200", &s).unwrap();
    let steps = e.explain(&s, &sample(), &cx()).unwrap();
    let text: Vec<String> = steps.iter().map(|st| format!("{} = {}", st.text, st.value)).collect();
    assert_eq!(
        text,
        vec![
            "行业 = “建筑”",
            "从业人数 = 120",
            "行业属于“建筑” = 是",
            "从业人数 120，达到 200 = 否",
            "条件是否成立 = 否",
        ]
    );
}

#[test]
fn explanations_read_as_chinese_with_money_in_yuan() {
    let s = Schema::from_toml(
        "s.toml",
        "subject = \"p\"\nlabel = \"项目\"\n[fields]\n\
         due = { type = \"money\", label = \"应缴未缴（分）\" }\n\
         status = { type = \"string\", label = \"项目状态（planned/building）\" }\n\
         since = { type = \"date\", label = \"开工日期\" }\n",
    )
    .unwrap();
    let e = compile("due > 100000 && status == \"building\" && days_between(since, today) >= 30", &s).unwrap();
    let facts = Facts::new().with("due", 250_000).with("status", "building").with("since", date!(2025 - 09 - 01));
    let text: Vec<String> =
        e.explain(&s, &facts, &cx()).unwrap().iter().map(|st| format!("{} = {}", st.text, st.value)).collect();
    assert_eq!(
        text,
        vec![
            "应缴未缴（元） = 2500",
            "项目状态 = “building”",
            "开工日期 = 2025-09-01",
            "应缴未缴（元） 2,500.00，超过 1,000.00 = 是",
            "项目状态 “building”，为“building” = 是",
            "开工日期至当日的天数达到 30 = 是",
            "条件是否成立 = 是",
        ]
    );
}

#[test]
fn batch_and_single_agree_on_a_city() {
    let s = employer();
    let rows: Vec<Facts> = (0..500i64)
        .map(|i| {
            let mut f = Facts::new()
                .with("employees", i % 97)
                .with("industry", ["建筑", "中药", "白酒"][(i % 3) as usize])
                .with("capital", rust_decimal::Decimal::new(i * 37, 1))
                .with("founded", date!(2000 - 01 - 01) + time::Duration::days(i * 13))
                .with("blacklisted", i % 11 == 0)
                .with("water", Value::Series(vec![(date!(2025 - 09 - 01), i), (date!(2025 - 10 - 01), i % 5)]))
                .with("tags", Value::List(if i % 4 == 0 { vec!["高新".into()] } else { vec![] }));
            if i % 7 != 0 {
                f.set("payroll.paid_headcount", i % 13);
                f.set("attendance.headcount", i % 17);
            }
            f
        })
        .collect();
    let batch = Batch::from_facts(&s, &rows).unwrap();
    for (i, f) in rows.iter().enumerate().step_by(37) {
        assert_eq!(&batch.row_facts(i), f, "row {i} reads back");
    }
    for src in [
        "payroll.paid_headcount / attendance.headcount < 1.0",
        "industry in [\"建筑\", \"中药\"] && employees >= 50 || blacklisted",
        "days_between(founded, today) > 3650 ? capital * 2 : capital",
        "coalesce(payroll.paid_headcount, -1) + employees // 3",
        "last(water) * 10 < sum(window(water, 60)) && !(\"高新\" in tags)",
        "max(employees, coalesce(attendance.headcount, 0)) % 5 == 0",
    ] {
        let e = compile(src, &s).unwrap();
        let all = e.values(&batch, &cx());
        for (i, f) in rows.iter().enumerate() {
            assert_eq!(all.get(i), &e.eval_facts(&s, f, &cx()).unwrap(), "{src} row {i}");
        }
    }
}

fn tri() -> impl Strategy<Value = Option<bool>> {
    prop_oneof![Just(Some(true)), Just(Some(false)), Just(None)]
}

proptest! {
    /// Three-valued logic: `&&` and `||` are commutative, and a known result never depends on
    /// the unknown operand.
    #[test]
    fn kleene_logic(a in tri(), b in tri()) {
        let s = Schema::new("t", "测试").optional_field("a", Type::Bool, "a").optional_field("b", Type::Bool, "b");
        let mut f = Facts::new();
        if let Some(x) = a { f.set("a", x); }
        if let Some(x) = b { f.set("b", x); }
        let get = |src: &str| compile(src, &s).unwrap().eval_facts(&s, &f, &cx()).unwrap().as_bool();
        prop_assert_eq!(get("a && b"), get("b && a"));
        prop_assert_eq!(get("a || b"), get("b || a"));
        let expect_and = match (a, b) { (Some(false), _) | (_, Some(false)) => Some(false), (Some(true), Some(true)) => Some(true), _ => None };
        let expect_or = match (a, b) { (Some(true), _) | (_, Some(true)) => Some(true), (Some(false), Some(false)) => Some(false), _ => None };
        prop_assert_eq!(get("a && b"), expect_and);
        prop_assert_eq!(get("a || b"), expect_or);
        prop_assert_eq!(get("!(a && b)"), get("!a || !b"));
    }

    /// Integer arithmetic matches i128 arithmetic exactly, or gives no value on overflow.
    #[test]
    fn integer_arithmetic_is_exact(x in any::<i64>(), y in any::<i64>()) {
        let s = Schema::new("t", "测试").field("x", Type::Int, "x").field("y", Type::Int, "y");
        let f = Facts::new().with("x", x).with("y", y);
        let get = |src: &str| compile(src, &s).unwrap().eval_facts(&s, &f, &cx()).unwrap();
        let fit = |v: i128| i64::try_from(v).map(Value::Int).unwrap_or(Value::Null);
        prop_assert_eq!(get("x + y"), fit(x as i128 + y as i128));
        prop_assert_eq!(get("x * y"), fit(x as i128 * y as i128));
        if y != 0 {
            prop_assert_eq!(get("x // y"), fit((x as i128).div_euclid(y as i128)));
        } else {
            prop_assert_eq!(get("x // y"), Value::Null);
        }
    }

    /// Typos never compile: any single-character change to a field name that leaves it unknown
    /// is reported, with the column where the name starts.
    #[test]
    fn unknown_fields_never_compile(pos in 0usize..9, c in "[a-z]") {
        let s = employer();
        let mut name: Vec<char> = "employees".chars().collect();
        name[pos] = c.chars().next().unwrap();
        let name: String = name.into_iter().collect();
        prop_assume!(s.get(&name).is_none());
        let e = compile(&format!("1 < {name}"), &s).unwrap_err();
        prop_assert_eq!(e.column, 5);
    }
}
