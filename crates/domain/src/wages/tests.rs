//! Every wage indicator of `config/wages/indicators.toml` fires on its own case and stays silent
//! on a clean project. The config files themselves are read, so a new indicator without a case
//! here fails the coverage test.

use super::*;
use crate::calendar::{HolidayTable, WorkingHours};
use crate::expr::{Batch, EvalContext, Schema};
use crate::rules::{Indicator, Level};
use std::collections::BTreeMap;
use time::macros::date;

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{}/../../config/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn cal() -> WorkCalendar {
    WorkCalendar::new(
        [HolidayTable::parse_toml("2026.toml", &read("holidays/2026.toml")).unwrap()],
        WorkingHours::standard(),
    )
}

fn schema() -> Schema {
    Schema::from_toml("wage_project.toml", &read("schemas/wage_project.toml")).unwrap()
}

fn indicators() -> Vec<Indicator> {
    let schemas = BTreeMap::from([("wage_project".to_string(), schema())]);
    let roles: Vec<String> =
        ["labor_inspector", "industry_supervisor", "county_staff", "grid_manager", "leader"].map(String::from).into();
    crate::rules::parse("indicators.toml", &read("wages/indicators.toml"), &schemas, &roles).unwrap()
}

const TODAY: Date = date!(2026 - 11 - 16);

fn params() -> WageParams {
    WageParams {
        minimum_wage: 193_000,
        minimum_wages: vec![],
        channels: Default::default(),
        deposit: Default::default(),
        deposit_department: "rsj".into(),
        complaint_contact_days: 3,
        full_month_days: 20,
        limits: Default::default(),
    }
}

fn clean() -> ProjectData {
    let c = cal();
    demo::clean_project("P-CLEAN", &demo::CaseCtx::new(TODAY, &c))
}

fn levels_on(p: &ProjectData, today: Date, inds: &[Indicator]) -> BTreeMap<String, Level> {
    // Parsed once: the sweep below evaluates thousands of projects.
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    static CAL: std::sync::OnceLock<WorkCalendar> = std::sync::OnceLock::new();
    let s = SCHEMA.get_or_init(schema);
    let c = CAL.get_or_init(cal);
    let facts = project_facts(p, today, c, &params());
    let batch = Batch::from_facts(s, &[facts]).unwrap();
    let ctx = EvalContext { today, calendar: Some(c) };
    inds.iter().filter_map(|i| i.evaluate(&batch, &ctx)[0].map(|l| (i.id.clone(), l))).collect()
}

fn levels(p: &ProjectData) -> BTreeMap<String, Level> {
    levels_on(p, TODAY, &indicators())
}

#[test]
fn the_model_has_at_least_34_indicators_each_citing_the_regulation() {
    let all = indicators();
    assert!(all.len() >= 34, "{}", all.len());
    for i in &all {
        assert!(i.basis.contains("条"), "{} cites an article", i.id);
        assert!(!i.notify.is_empty(), "{} tells someone", i.id);
    }
}

#[test]
fn a_clean_project_raises_nothing() {
    assert_eq!(levels(&clean()), BTreeMap::new());
    // Nor does a project that has not started, with nothing recorded yet.
    let mut planned = clean();
    planned.status = ProjectStatus::Planned;
    planned.start_on = None;
    planned.contract_signed_on = None;
    // Under 3 million yuan: exempt with reason (人社部发〔2021〕65号 art. 11 ¶3).
    planned.contract_value = 200_000_000;
    planned.deposit = Deposit { mode: DepositMode::Exempt, ..Default::default() };
    planned.workers.clear();
    planned.attendance.clear();
    planned.payroll.clear();
    planned.payments.clear();
    planned.allocations.clear();
    planned.signals.clear();
    planned.progress_paid = 0;
    assert_eq!(levels(&planned), BTreeMap::new());
}

#[test]
fn every_indicator_fires_on_its_case() {
    let cases = demo::cases();
    for i in indicators() {
        assert!(cases.iter().any(|(id, ..)| *id == i.id), "indicator {} has no case here", i.id);
    }
    let c = cal();
    let cx = demo::CaseCtx::new(TODAY, &c);
    for (id, level, change) in cases {
        let mut p = clean();
        change(&mut p, &cx);
        let got = levels(&p);
        assert_eq!(got.get(id), Some(&level), "{id}: {got:?}");
    }
}

/// The demo city loads on any day: on every day of 2026 the clean project is silent and each
/// case fires its indicator.
#[test]
fn the_demo_cases_hold_whatever_day_the_demo_loads() {
    let c = cal();
    let inds = indicators();
    let mut day = date!(2026 - 01 - 01);
    while day.year() == 2026 {
        let cx = demo::CaseCtx::new(day, &c);
        let clean = demo::clean_project("P", &cx);
        assert_eq!(levels_on(&clean, day, &inds), BTreeMap::new(), "clean on {day}");
        for (id, level, change) in demo::cases() {
            let mut p = clean.clone();
            change(&mut p, &cx);
            assert_eq!(levels_on(&p, day, &inds).get(id), Some(&level), "{id} on {day}");
        }
        day += Duration::days(3);
    }
}

#[test]
fn arrears_rise_with_time() {
    // August's wages (due 15 September) for one worker: yellow, then orange, then red.
    let mut p = clean();
    p.payments.retain(|x| !(x.worker == "w5" && x.month == date!(2026 - 08 - 01)));
    assert!(p.payroll.iter().any(|l| l.worker == "w5" && l.month == date!(2026 - 08 - 01)));
    let at = |today: Date| {
        let s = schema();
        let c = cal();
        let facts = project_facts(&p, today, &c, &params());
        let batch = Batch::from_facts(&s, &[facts]).unwrap();
        let ctx = EvalContext { today, calendar: Some(&c) };
        indicators().iter().find(|i| i.id == "wages.arrears").unwrap().evaluate(&batch, &ctx)[0]
    };
    assert_eq!(at(date!(2026 - 09 - 15)), None, "not yet due");
    assert_eq!(at(date!(2026 - 09 - 20)), Some(Level::Yellow));
    assert_eq!(at(date!(2026 - 10 - 20)), Some(Level::Orange));
    assert_eq!(at(date!(2026 - 11 - 20)), Some(Level::Red));
}

#[test]
fn a_pay_day_on_a_rest_day_moves_to_the_working_day_before() {
    let c = cal();
    // October 2026 wages, due Sunday 15 November → Friday 13 November.
    assert_eq!(effective_pay_day(date!(2026 - 10 - 01), 15, &c), date!(2026 - 11 - 13));
    // September wages, due 15 October: a working day.
    assert_eq!(effective_pay_day(date!(2026 - 09 - 01), 15, &c), date!(2026 - 10 - 15));
    // A pay day of 1 October (National Day) moves back to 30 September.
    assert_eq!(effective_pay_day(date!(2026 - 09 - 01), 1, &c), date!(2026 - 09 - 30));
}

/// 条例 art. 47: employers are graded for their compliance with labor law — A (守法诚信) is
/// the best grade and C (不守法诚信) the worst. An A-rated employer raises nothing; B is watched
/// (orange), C is red. (Before, grade 3 was read as "A" and flagged red.)
#[test]
fn art_47_an_a_rated_employer_is_not_flagged_and_c_is_red() {
    let c = cal();
    let cx = demo::CaseCtx::new(TODAY, &c);
    let graded = |value: i64| {
        let mut p = clean();
        p.signals.push(Signal { kind: SignalKind::ViolationRecord, on: cx.days_ago(40), value });
        levels(&p).get("wages.violation_record").copied()
    };
    assert_eq!(integrity_grade(1), Some("A"));
    assert_eq!(graded(1), None, "A: 守法诚信");
    assert_eq!(graded(2), Some(Level::Orange), "B: 基本守法诚信");
    assert_eq!(graded(3), Some(Level::Red), "C: 不守法诚信");
    // A grade older than two years no longer counts.
    let mut old = clean();
    old.signals.push(Signal { kind: SignalKind::ViolationRecord, on: TODAY - Duration::days(800), value: 3 });
    assert_eq!(levels(&old).get("wages.violation_record"), None);
}

/// 条例 art. 15 ¶2: the ledger records 应发, the amounts withheld (代扣、代缴、扣除) and 实发.
/// Payments are compared with 实发: a worker paid 6,000 − 630 = 5,370 yuan through the account
/// is paid in full (comparing 应发 would call the withheld social insurance arrears); 100 yuan
/// short of 实发 is arrears.
#[test]
fn art_15_payments_are_compared_with_net_pay() {
    let p = clean();
    let line = p.payroll.iter().find(|l| l.worker == "w1").unwrap();
    assert_eq!((line.due, line.deductions, line.net()), (600_000, 63_000, 537_000));
    assert_eq!(levels(&p).get("wages.arrears"), None);
    assert_eq!(levels(&p).get("wages.unpaid_through_account"), None);
    let mut short = clean();
    let m = short.payments.iter().map(|x| x.month).min().unwrap();
    short.payments.iter_mut().find(|x| x.worker == "w1" && x.month == m).unwrap().amount = 527_000;
    assert!(levels(&short).contains_key("wages.arrears"), "100 yuan short of 实发");
    let facts = project_facts(&short, TODAY, &cal(), &params());
    assert_eq!(facts.get("arrears_total"), Some(&crate::expr::Value::Int(10_000)));
}

/// 工程建设领域农民工工资保证金规定 (人社部发〔2021〕65号) art. 8: the deposit is due within 20
/// working days of obtaining the construction permit (施工许可证 or 开工报告批复); works that by
/// law need no permit count from signing the construction contract.
#[test]
fn art_8_the_deposit_clock_runs_from_the_construction_permit() {
    let mut p = clean();
    p.deposit.paid = 0;
    // Contract signed in the spring; the permit came ten calendar days ago: not yet late.
    p.contract_signed_on = Some(date!(2026 - 03 - 02));
    p.permit_on = Some(TODAY - Duration::days(10));
    assert_eq!(levels(&p).get("wages.deposit_not_paid"), None, "within 20 working days of the permit");
    // 20 working days after the permit (16 Oct 2026 + 20 working days, National Day week behind).
    p.permit_on = Some(date!(2026 - 10 - 16));
    assert_eq!(levels(&p).get("wages.deposit_not_paid"), Some(&Level::Orange));
    // No permit yet: the clock has not started.
    p.permit_on = None;
    assert_eq!(levels(&p).get("wages.deposit_not_paid"), None);
    // Works that need no permit: from the contract.
    p.permit_exempt = true;
    assert_eq!(levels(&p).get("wages.deposit_not_paid"), Some(&Level::Orange));
}

/// 条例 art. 10: workers may complain and anyone may report, by every channel the departments
/// publish. A complaint by 信访, by the 12333 hotline or made on the platform itself counts like
/// one by 12345 (before, only the strings "12345", "hotline" and "petition" counted).
#[test]
fn art_10_complaints_count_from_every_channel() {
    let c = cal();
    let cx = demo::CaseCtx::new(TODAY, &c);
    let mut p = clean();
    for channel in ["信访", "12333", "平台"] {
        p.complaints.push(Complaint { received_on: cx.days_ago(10), channel: channel.into(), collective: false });
    }
    assert_eq!(levels(&p).get("wages.complaints"), Some(&Level::Orange), "three complaints");
}

/// 最低工资规定 art. 12 and 条例 art. 12: each full-month worker's pay for normal hours —
/// 应发 less overtime — against the standard in force in the site's division that month. One
/// worker below it is flagged though the average is well above; overtime does not lift him;
/// a month before a raise is checked against the standard then in force.
#[test]
fn art_12_the_minimum_wage_per_worker_without_overtime_by_division_and_date() {
    let c = cal();
    let cx = demo::CaseCtx::new(TODAY, &c);
    let mut p = clean();
    let line = p.payroll.iter_mut().find(|l| l.worker == "w2" && l.month == cx.m).unwrap();
    (line.due, line.overtime) = (220_000, 40_000);
    let facts = project_facts(&p, TODAY, &c, &params());
    assert_eq!(facts.get("workers_below_minimum"), Some(&Value::Int(1)), "1,800 yuan of normal hours < 1,930");
    assert!(matches!(facts.get("average_wage"), Some(Value::Int(a)) if *a > 193_000), "the average hides him");
    p.payroll.iter_mut().find(|l| l.worker == "w2" && l.month == cx.m).unwrap().overtime = 0;
    let facts = project_facts(&p, TODAY, &c, &params());
    assert_eq!(facts.get("workers_below_minimum"), Some(&Value::Int(0)), "2,200 yuan without overtime is above");

    // A raise to 2,300 in this division from the month after the checked one does not apply
    // to it; one from the checked month does. Another county keeps the default.
    let raise = |from: Date| WageParams {
        minimum_wages: vec![MinimumWage { divisions: vec!["341602".into()], from, monthly: 230_000 }],
        ..params()
    };
    let later = raise(next_month(cx.m));
    assert_eq!(later.minimum_on("341602001", cx.m), 193_000);
    assert_eq!(later.minimum_on("341602001", next_month(cx.m)), 230_000);
    assert_eq!(raise(cx.m).minimum_on("341621", cx.m), 193_000, "another county");
    let facts = project_facts(&p, TODAY, &c, &raise(cx.m));
    assert_eq!(facts.get("minimum_wage"), Some(&Value::Int(230_000)));
    assert_eq!(facts.get("workers_below_minimum"), Some(&Value::Int(1)));
}

/// 条例 arts. 11, 15 ¶3, 31 ¶4 with their penalties in art. 54 (1)–(3): paying in goods, no
/// pay slip, a wage card held back — each flagged on its own.
#[test]
fn art_54_goods_payslips_and_withheld_cards() {
    let c = cal();
    let cx = demo::CaseCtx::new(TODAY, &c);
    let mut p = clean();
    assert_eq!(levels(&p).get("wages.payslip_missing"), None, "a slip not mentioned is not missing");
    p.payroll.iter_mut().find(|l| l.worker == "w3" && l.month == cx.m).unwrap().payslip = Some(false);
    assert_eq!(levels(&p).get("wages.payslip_missing"), Some(&Level::Orange));
    let mut p = clean();
    p.payments.iter_mut().find(|x| x.worker == "w4" && x.month == cx.m).unwrap().method = PayMethod::InKind;
    let l = levels(&p);
    assert_eq!(l.get("wages.paid_in_kind"), Some(&Level::Red));
    assert_eq!(l.get("wages.cash_or_third_party"), None, "goods are not cash");
    let mut p = clean();
    p.signals.push(Signal { kind: SignalKind::CardsWithheld, on: TODAY - Duration::days(3), value: 1 });
    assert_eq!(levels(&p).get("wages.cards_withheld"), Some(&Level::Red));
    for id in ["wages.payslip_missing", "wages.paid_in_kind", "wages.cards_withheld"] {
        let i = indicators().into_iter().find(|i| i.id == id).unwrap();
        assert!(i.basis.contains("第五十四条"), "{id} cites its penalty");
    }
}

/// 人社部发〔2021〕65号 arts. 11, 12, 15: the deposit is computed — 1 % of a 50-million-yuan
/// contract is 500,000 yuan, 750,000 after arrears in the two years before, a million on the
/// serious-dishonesty list; a guarantee for less leaves the rest due; an exemption holds only
/// under 3 million with a clean year.
#[test]
fn art_11_and_12_the_deposit_is_computed_from_the_contract_and_the_record() {
    let policy = DepositPolicy::default();
    let a = assess_deposit(5_000_000_000, &policy, false, false, false);
    assert_eq!((a.rate_bp, a.required, a.exempt_eligible), (100, 50_000_000, false));
    assert_eq!(assess_deposit(5_000_000_000, &policy, true, false, false).required, 75_000_000);
    assert_eq!(assess_deposit(5_000_000_000, &policy, true, true, true).required, 100_000_000);
    assert!(assess_deposit(200_000_000, &policy, false, false, false).exempt_eligible);
    assert!(!assess_deposit(200_000_000, &policy, true, true, false).exempt_eligible, "arrears in the year before");
    let capped = DepositPolicy { cap: 30_000_000, ..policy };
    assert_eq!(assess_deposit(5_000_000_000, &capped, false, false, false).required, 30_000_000);

    let c = cal();
    let mut p = clean();
    p.deposit = Deposit { mode: DepositMode::Guarantee, guarantee: 40_000_000, ..Default::default() };
    let f = project_facts(&p, TODAY, &c, &params());
    assert_eq!(f.get("deposit_due"), Some(&Value::Int(10_000_000)), "a guarantee short of the deposit (art. 15)");
    // A complaint of arrears a year before the permit raises the rate by half.
    let from = deposit_clock_from(&p).unwrap();
    p.complaints.push(Complaint {
        received_on: from - Duration::days(300),
        channel: "12333".into(),
        collective: false,
    });
    let f = project_facts(&p, TODAY, &c, &params());
    assert_eq!(f.get("deposit_required"), Some(&Value::Int(75_000_000)));
}

/// 条例 art. 27 ¶2: the special account closes after completion, with nothing owed and 30 days
/// of public notice; closing before any of them is flagged. Opening it and signing the
/// three-party agreement are due within 30 days of the contract (人社部发〔2021〕53号).
#[test]
fn art_27_the_special_account_closes_only_after_completion_and_a_30_day_notice() {
    let c = cal();
    let mut p = clean();
    p.status = ProjectStatus::Completed;
    p.account_closure_notice_on = Some(TODAY - Duration::days(40));
    p.account_closed_on = Some(TODAY - Duration::days(10));
    let f = project_facts(&p, TODAY, &c, &params());
    assert_eq!(f.get("account_closed_improperly"), Some(&Value::Bool(false)), "30 days of notice, nothing owed");
    p.account_closed_on = Some(TODAY - Duration::days(20));
    let f = project_facts(&p, TODAY, &c, &params());
    assert_eq!(f.get("account_closed_improperly"), Some(&Value::Bool(true)), "closed after 20 days of notice");
    let mut q = clean();
    q.account_closed_on = Some(TODAY - Duration::days(1));
    q.account_closure_notice_on = Some(TODAY - Duration::days(60));
    assert_eq!(levels(&q).get("wages.account_closed_improperly"), Some(&Level::Red), "the works still going on");
    let mut r = clean();
    r.contract_signed_on = r.start_on.map(|s| s - Duration::days(45));
    let f = project_facts(&r, TODAY, &c, &params());
    assert_eq!(f.get("account_setup_days_late"), Some(&Value::Int(5)), "opened 35 days after the contract");
}

/// 条例 art. 26 ¶1 and art. 31 ¶3: the special account pays this project's workers into their
/// own accounts and nothing else; the bank reports every debit (art. 27 ¶1). A transfer to the
/// contractor and a cash withdrawal are flagged red; wages to a worker are not; after a lawful
/// closure the balance is the contractor's (art. 27 ¶2).
#[test]
fn art_26_money_leaves_the_special_account_only_for_this_projects_workers() {
    let c = cal();
    let debit = |worker: Option<&str>, cash: bool, on: Date| AccountDebit {
        on,
        amount: 1_200_000,
        payee: "某某".into(),
        worker: worker.map(String::from),
        cash,
    };
    let mut p = clean();
    p.debits.push(debit(Some("w1"), false, TODAY - Duration::days(3)));
    let f = project_facts(&p, TODAY, &c, &params());
    assert_eq!(f.get("account_misuses"), Some(&Value::Int(0)), "wages to a worker's own account");
    assert_eq!(levels(&p).get("wages.account_misused"), None);
    p.debits.push(debit(None, false, TODAY - Duration::days(2)));
    p.debits.push(debit(Some("w2"), true, TODAY - Duration::days(1)));
    let f = project_facts(&p, TODAY, &c, &params());
    assert_eq!(f.get("account_misuses"), Some(&Value::Int(2)), "to the contractor, and cash");
    assert_eq!(f.get("account_misused_fen"), Some(&Value::Int(2_400_000)));
    assert_eq!(levels(&p).get("wages.account_misused"), Some(&Level::Red));
    // Completed, nothing owed, closed after 30 days' notice: the balance moving out is lawful.
    let mut q = clean();
    q.status = ProjectStatus::Completed;
    q.account_closure_notice_on = Some(TODAY - Duration::days(40));
    q.account_closed_on = Some(TODAY - Duration::days(5));
    q.debits.push(debit(None, false, TODAY - Duration::days(5)));
    assert_eq!(project_facts(&q, TODAY, &c, &params()).get("account_misuses"), Some(&Value::Int(0)));
    q.debits.push(debit(None, false, TODAY - Duration::days(20)));
    assert_eq!(project_facts(&q, TODAY, &c, &params()).get("account_misuses"), Some(&Value::Int(1)), "before closure");
}

/// 人社部发〔2021〕65号 art. 22: after completion the contractor commits in writing and
/// publicises it for 30 days, then applies; the department reviews within 5 working days (here
/// across the National Day holiday) and a review past that is flagged to 人社.
#[test]
fn art_22_the_deposit_is_refunded_after_a_30_day_publicity_and_a_5_working_day_review() {
    use crate::wages::refund::*;
    let c = cal();
    assert!(check_commit(ProjectStatus::Building, DepositMode::Cash, 100).unwrap_err().contains("第二十二条第一款"));
    assert!(check_commit(ProjectStatus::Completed, DepositMode::Exempt, 0).is_err(), "nothing held");
    assert!(check_commit(ProjectStatus::Completed, DepositMode::Guarantee, 5_000_000).is_ok());
    let from = date!(2026 - 08 - 31);
    let e = check_apply(from, date!(2026 - 09 - 29)).unwrap_err();
    assert!(e.contains("2026-09-30 起方可申请"), "{e}");
    assert!(check_apply(from, date!(2026 - 09 - 30)).is_ok());
    // Applied on 30 September: 1–7 October are the holiday, 10 October a working Saturday.
    assert_eq!(review_due(date!(2026 - 09 - 30), &c), date!(2026 - 10 - 13));
    assert_eq!(review_overdue_days(date!(2026 - 09 - 30), date!(2026 - 10 - 13), &c), 0);
    assert_eq!(review_overdue_days(date!(2026 - 09 - 30), date!(2026 - 10 - 14), &c), 1);
    assert_eq!(objections(false, 0), Vec::<String>::new());
    assert_eq!(objections(true, 2).len(), 2);
    assert!(commitment("某建设集团有限公司", "某安置小区").contains("不存在未解决的拖欠农民工工资问题"));

    let mut p = clean();
    p.status = ProjectStatus::Completed;
    p.refund_applied_on = Some(TODAY - Duration::days(3));
    assert_eq!(levels(&p).get("wages.deposit_refund_overdue"), None, "within the five working days");
    p.refund_applied_on = Some(TODAY - Duration::days(10));
    assert_eq!(levels(&p).get("wages.deposit_refund_overdue"), Some(&Level::Yellow));
}
