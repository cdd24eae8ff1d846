use super::*;
use crate::expr::{Type, Value};
use proptest::prelude::*;
use time::macros::{date, datetime};

fn schemas() -> BTreeMap<String, Schema> {
    let s = Schema::new("employer", "用人单位")
        .optional_field("payroll.paid_headcount", Type::Int, "实发人数")
        .optional_field("attendance.headcount", Type::Int, "出勤人数")
        .field("months_in_arrears", Type::Int, "欠薪月数");
    BTreeMap::from([("employer".to_string(), s)])
}

const FILE: &str = r#"
[[indicator]]
id = "t.arrears"
name = "工资拖欠"
subject = "employer"
basis = "《保障农民工工资支付条例》第十二条"
action = "责令限期支付"
notify = [{ role = "grid_manager", scope = "grid" }]
yellow = "months_in_arrears > 0"
orange = "months_in_arrears >= 1"
red = "months_in_arrears > 2"

[[indicator]]
id = "t.headcount"
name = "实发人数少于出勤人数"
subject = "employer"
basis = "第三十一条"
action = "核实名册"
yellow = "payroll.paid_headcount < attendance.headcount"
"#;

fn roles() -> Vec<String> {
    vec!["grid_manager".to_string()]
}

#[test]
fn indicators_parse_and_evaluate_highest_level() {
    let s = schemas();
    let ind = parse("i.toml", FILE, &s, &roles()).unwrap();
    let rows: Vec<Facts> = [0i64, 1, 2, 3]
        .iter()
        .map(|m| {
            Facts::new()
                .with("months_in_arrears", *m)
                .with("payroll.paid_headcount", 9)
                .with("attendance.headcount", 10)
        })
        .collect();
    let b = Batch::from_facts(&s["employer"], &rows).unwrap();
    let ctx = EvalContext { today: date!(2026 - 01 - 05), calendar: None };
    assert_eq!(ind[0].evaluate(&b, &ctx), vec![None, Some(Level::Orange), Some(Level::Orange), Some(Level::Red)]);
    let (level, steps) = ind[0].explain(&s["employer"], &rows[3], &ctx).unwrap();
    assert_eq!(level, Some(Level::Red));
    assert!(steps.iter().any(|st| st.text.contains("欠薪月数") && st.value == Value::Int(3)));
}

#[test]
fn bad_indicators_name_file_line_and_field() {
    let broken =
        FILE.replacen("months_in_arrears > 2", "months_in_arears > 2", 1).replacen("grid_manager", "gridman", 1);
    let errs = parse("i.toml", &broken, &schemas(), &roles()).unwrap_err();
    let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    let line = broken.lines().position(|l| l.contains("months_in_arears")).unwrap() + 1;
    assert!(
        text.iter()
            .any(|e| e
                .starts_with(&format!("i.toml:{line}: indicator[0].red: 第1列：用人单位没有字段“months_in_arears”"))),
        "{text:?}"
    );
    assert!(text.iter().any(|e| e.contains("indicator[0].notify") && e.contains("gridman")), "{text:?}");
}

#[test]
fn lifecycle_from_open_to_closed_and_escalation() {
    let t = datetime!(2026-01-05 09:00 +8);
    let a = Alert::open(Level::Red, t, "欠薪3个月".into());
    assert!(a.act(&AlertAction::Verify { passed: true, note: "x".into() }, "张三", t).is_err());
    let a = a.act(&AlertAction::Acknowledge, "张三", t).unwrap();
    let d = AlertAction::Dispose {
        kind: DocKind::RectificationOrder,
        number: "亳人社整〔2026〕1号".into(),
        deadline: date!(2026 - 01 - 19),
        text: "限期支付".into(),
    };
    let a = a.act(&d, "张三", t).unwrap();
    assert_eq!(a.status, AlertStatus::Disposed);
    let esc = a.act(&AlertAction::DeadlinePassed, "系统", datetime!(2026-01-20 00:00 +8)).unwrap();
    assert_eq!(esc.status, AlertStatus::Escalated);
    let v = a.act(&AlertAction::Verify { passed: true, note: "工资已补发".into() }, "张三", t).unwrap();
    let c = v.act(&AlertAction::Close { note: "整改完成".into() }, "张三", t).unwrap();
    assert_eq!(c.status, AlertStatus::Closed);
    let fresh = Alert::open(Level::Yellow, t, String::new());
    assert!(
        fresh.act(&AlertAction::Close { note: "".into() }, "张三", t).is_err(),
        "closing without disposal needs a reason"
    );
    assert!(fresh.act(&AlertAction::Close { note: "误报：已核实".into() }, "张三", t).is_ok());
}

proptest! {
    /// Whatever the order in which facts arrive, there is at most one non-closed alert per
    /// subject and indicator, and its level is the level of the latest observation.
    #[test]
    fn dedup_holds_under_any_order(obs in prop::collection::vec((0usize..3, prop::option::of(0usize..3), any::<bool>()), 1..60)) {
        let t = datetime!(2026-01-05 09:00 +8);
        let mut alerts: Vec<(usize, Alert)> = vec![];
        let mut last: BTreeMap<usize, Option<Level>> = BTreeMap::new();
        for (subject, level, close) in obs {
            let level = level.map(|l| Level::ALL[l]);
            let current = alerts.iter_mut().rev().find(|(s, a)| *s == subject && a.status != AlertStatus::Closed);
            match observe(current.as_ref().map(|(_, a)| a), level) {
                Observation::Open(l) => alerts.push((subject, Alert::open(l, t, String::new()))),
                o => if let Some((_, a)) = current { a.apply_observation(&o, t, ""); },
            }
            last.insert(subject, level);
            if close
                && let Some((_, a)) = alerts.iter_mut().rev().find(|(s, a)| *s == subject && a.status != AlertStatus::Closed)
            {
                *a = a.act(&AlertAction::Close { note: "误报".into() }, "x", t).unwrap_or_else(|_| a.clone());
            }
            for s in 0..3 {
                let open: Vec<&Alert> = alerts.iter().filter(|(x, a)| *x == s && a.status != AlertStatus::Closed).map(|(_, a)| a).collect();
                prop_assert!(open.len() <= 1, "two open alerts for subject {}", s);
                if let (Some(a), Some(Some(l))) = (open.first(), last.get(&s)) {
                    prop_assert_eq!(a.level, *l);
                    prop_assert!(!a.cleared);
                }
            }
        }
    }
}
