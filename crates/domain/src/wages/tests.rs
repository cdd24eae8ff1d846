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
    let roles: Vec<String> = ["dept_staff", "county_staff", "grid_manager", "leader"].map(String::from).into();
    crate::rules::parse("indicators.toml", &read("wages/indicators.toml"), &schemas, &roles).unwrap()
}

const TODAY: Date = date!(2026 - 11 - 16);

fn params() -> WageParams {
    WageParams { minimum_wage: 193_000, full_month_days: 20 }
}

fn months() -> Vec<Date> {
    let mut m = date!(2026 - 04 - 01);
    let mut out = vec![];
    while m <= date!(2026 - 10 - 01) {
        out.push(m);
        m = next_month(m);
    }
    out
}

/// A well-run project: everything registered before the start, labor cost allocated monthly,
/// ten registered workers with contracts, paid in full through the special account on the pay
/// day (moved earlier when it falls on a rest day), steady utilities.
fn clean() -> ProjectData {
    let c = cal();
    let workers: Vec<Worker> = (1..=10)
        .map(|i| Worker {
            id: format!("w{i}"),
            registered: true,
            contract: true,
            joined_on: date!(2026 - 04 - 01),
            left_on: None,
            settled: false,
        })
        .chain(std::iter::once(Worker {
            id: "w11".into(),
            registered: true,
            contract: true,
            joined_on: date!(2026 - 04 - 01),
            left_on: Some(date!(2026 - 08 - 31)),
            settled: true,
        }))
        .collect();
    let mut attendance = vec![];
    let mut payroll = vec![];
    let mut payments = vec![];
    for m in months() {
        for w in workers.iter().filter(|w| w.left_on.is_none()) {
            attendance.push(Attendance { worker: w.id.clone(), month: m, days: 26 });
            payroll.push(PayLine { worker: w.id.clone(), month: m, due: 600_000, signed: true, complete: true });
            payments.push(Payment {
                worker: w.id.clone(),
                month: m,
                amount: 600_000,
                on: effective_pay_day(m, 15, &c),
                method: PayMethod::Bank,
            });
        }
    }
    let mut signals = vec![];
    let mut m = date!(2026 - 04 - 01);
    while m <= TODAY {
        for k in [SignalKind::Water, SignalKind::Electricity, SignalKind::Gas] {
            signals.push(Signal { kind: k, on: m, value: 1000 });
        }
        m = next_month(m);
    }
    ProjectData {
        code: "P-CLEAN".into(),
        status: ProjectStatus::Building,
        contract_value: 5_000_000_000,
        government_funded: false,
        contract_signed_on: Some(date!(2026 - 03 - 01)),
        start_on: Some(date!(2026 - 04 - 01)),
        registered_on: Some(date!(2026 - 03 - 20)),
        account_opened_on: Some(date!(2026 - 03 - 25)),
        tripartite_on: Some(date!(2026 - 03 - 25)),
        labor_manager: true,
        notice_board: true,
        payment_guarantee: true,
        pay_day: 15,
        progress_paid: 1_000_000_000,
        gov_funds_required: 0,
        gov_funds_in_place: 0,
        deposit: Deposit { mode: DepositMode::Cash, required: 100_000_000, paid: 100_000_000, ..Default::default() },
        allocations: (0..8)
            .map(|i| (date!(2026 - 04 - 05).replace_month(Month::April.nth_next(i)).unwrap(), 40_000_000))
            .collect(),
        workers,
        attendance,
        payroll,
        payments,
        complaints: vec![],
        signals,
    }
}

fn signal(p: &mut ProjectData, kind: SignalKind, on: Date, value: i64) {
    p.signals.push(Signal { kind, on, value });
}

fn pay_of<'a>(p: &'a mut ProjectData, worker: &str, month: Date) -> &'a mut Payment {
    p.payments.iter_mut().find(|x| x.worker == worker && x.month == month).unwrap()
}

const OCT: Date = date!(2026 - 10 - 01);
const SEP: Date = date!(2026 - 09 - 01);

/// One case per indicator: the change to the clean project that must make it fire, and the
/// level expected.
type Case = (&'static str, Level, fn(&mut ProjectData));

fn cases() -> Vec<Case> {
    vec![
        ("wages.unpaid_through_account", Level::Red, |p| pay_of(p, "w1", SEP).method = PayMethod::Cash),
        ("wages.average_below_minimum", Level::Red, |p| {
            p.payroll.iter_mut().filter(|l| l.month == OCT).for_each(|l| l.due = 150_000);
            p.payments.iter_mut().filter(|x| x.month == OCT).for_each(|x| x.amount = 150_000);
        }),
        ("wages.paid_below_attendance", Level::Yellow, |p| {
            p.payments.retain(|x| !(x.worker == "w2" && x.month == OCT))
        }),
        ("wages.implausible_pay", Level::Red, |p| pay_of(p, "w3", OCT).amount = 6_000_000),
        ("wages.departed_unsettled", Level::Yellow, |p| p.workers[10].settled = false),
        ("wages.attending_without_record", Level::Yellow, |p| {
            p.payroll.retain(|l| !(l.worker == "w4" && l.month == OCT))
        }),
        ("wages.arrears", Level::Red, |p| {
            p.payments.retain(|x| !(x.worker == "w5" && x.month == date!(2026 - 08 - 01)))
        }),
        ("wages.notice_board_missing", Level::Yellow, |p| p.notice_board = false),
        ("wages.violation_record", Level::Orange, |p| signal(p, SignalKind::ViolationRecord, date!(2026 - 10 - 01), 2)),
        ("wages.dishonest", Level::Red, |p| signal(p, SignalKind::Dishonest, date!(2026 - 10 - 01), 1)),
        ("wages.business_abnormal", Level::Orange, |p| {
            signal(p, SignalKind::BusinessAbnormal, date!(2026 - 10 - 01), 1)
        }),
        ("wages.grid_report", Level::Yellow, |p| signal(p, SignalKind::GridReport, date!(2026 - 11 - 10), 1)),
        ("wages.water_collapse", Level::Orange, |p| collapse(p, SignalKind::Water)),
        ("wages.electricity_collapse", Level::Orange, |p| collapse(p, SignalKind::Electricity)),
        ("wages.gas_collapse", Level::Yellow, |p| collapse(p, SignalKind::Gas)),
        ("wages.credit_anomaly", Level::Yellow, |p| signal(p, SignalKind::CreditAnomaly, date!(2026 - 10 - 20), 1)),
        ("wages.tax_anomaly", Level::Orange, |p| signal(p, SignalKind::TaxAnomaly, date!(2026 - 10 - 20), 1)),
        ("wages.social_insurance_anomaly", Level::Orange, |p| {
            signal(p, SignalKind::SocialInsuranceAnomaly, date!(2026 - 10 - 20), 1)
        }),
        ("wages.annual_review_anomaly", Level::Yellow, |p| {
            signal(p, SignalKind::AnnualReviewAnomaly, date!(2026 - 06 - 30), 1)
        }),
        ("wages.work_injury", Level::Yellow, |p| signal(p, SignalKind::WorkInjury, date!(2026 - 11 - 02), 1)),
        ("wages.complaints", Level::Yellow, |p| {
            p.complaints.push(Complaint {
                received_on: date!(2026 - 11 - 01),
                channel: "12345".into(),
                collective: false,
            })
        }),
        ("wages.not_registered_before_start", Level::Orange, |p| p.registered_on = Some(date!(2026 - 05 - 01))),
        ("wages.labor_cost_not_allocated", Level::Red, |p| p.allocations.retain(|(d, _)| *d < date!(2026 - 09 - 30))),
        ("wages.labor_cost_ratio_low", Level::Yellow, |p| p.progress_paid = 2_000_000_000),
        ("wages.deposit_not_paid", Level::Orange, |p| p.deposit.paid = 0),
        ("wages.deposit_not_topped_up", Level::Orange, |p| {
            p.deposit.drawn = 20_000_000;
            p.deposit.drawn_on = Some(date!(2026 - 10 - 20));
        }),
        ("wages.workers_without_contract", Level::Orange, |p| p.workers[5].contract = false),
        ("wages.workers_unregistered", Level::Orange, |p| p.workers[6].registered = false),
        ("wages.no_labor_manager", Level::Yellow, |p| p.labor_manager = false),
        ("wages.payroll_unsigned", Level::Orange, |p| {
            p.payroll.iter_mut().find(|l| l.worker == "w8" && l.month == OCT).unwrap().signed = false
        }),
        ("wages.cash_or_third_party", Level::Orange, |p| pay_of(p, "w9", OCT).method = PayMethod::ThirdParty),
        ("wages.no_payment_guarantee", Level::Yellow, |p| p.payment_guarantee = false),
        ("wages.ledger_incomplete", Level::Yellow, |p| {
            p.payroll.iter_mut().find(|l| l.worker == "w10" && l.month == SEP).unwrap().complete = false
        }),
        // October's wages are due Sunday 15 November: they must arrive by Friday the 13th.
        ("wages.pay_day_not_advanced", Level::Yellow, |p| {
            p.payments.iter_mut().filter(|x| x.month == OCT).for_each(|x| x.on = date!(2026 - 11 - 16))
        }),
        ("wages.collective_incident", Level::Red, |p| {
            p.complaints.push(Complaint {
                received_on: date!(2026 - 11 - 02),
                channel: "grid".into(),
                collective: true,
            })
        }),
        ("wages.government_funds_shortfall", Level::Red, |p| {
            p.government_funded = true;
            p.gov_funds_required = 1_000_000_000;
            p.gov_funds_in_place = 500_000_000;
        }),
        ("wages.account_not_opened", Level::Red, |p| p.account_opened_on = None),
        ("wages.six_systems", Level::Yellow, |p| p.deposit.paid = 0),
    ]
}

/// The latest reading falls to a tenth of the usual.
fn collapse(p: &mut ProjectData, kind: SignalKind) {
    p.signals.retain(|s| !(s.kind == kind && s.on == date!(2026 - 11 - 01)));
    signal(p, kind, date!(2026 - 11 - 01), 100);
}

fn levels(p: &ProjectData) -> BTreeMap<String, Level> {
    let s = schema();
    let facts = project_facts(p, TODAY, &cal(), &params());
    let batch = Batch::from_facts(&s, &[facts]).unwrap();
    let c = cal();
    let ctx = EvalContext { today: TODAY, calendar: Some(&c) };
    indicators().iter().filter_map(|i| i.evaluate(&batch, &ctx)[0].map(|l| (i.id.clone(), l))).collect()
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
    let cases = cases();
    for i in indicators() {
        assert!(cases.iter().any(|(id, ..)| *id == i.id), "indicator {} has no case here", i.id);
    }
    for (id, level, change) in cases {
        let mut p = clean();
        change(&mut p);
        let got = levels(&p);
        assert_eq!(got.get(id), Some(&level), "{id}: {got:?}");
    }
}

#[test]
fn arrears_rise_with_time() {
    // August's wages (due 15 September) for one worker: yellow, then orange, then red.
    let mut p = clean();
    p.payments.retain(|x| !(x.worker == "w5" && x.month == date!(2026 - 08 - 01)));
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
    assert_eq!(effective_pay_day(OCT, 15, &c), date!(2026 - 11 - 13));
    // September wages, due 15 October: a working day.
    assert_eq!(effective_pay_day(SEP, 15, &c), date!(2026 - 10 - 15));
    // A pay day of 1 October (National Day) moves back to 30 September.
    assert_eq!(effective_pay_day(date!(2026 - 09 - 01), 1, &c), date!(2026 - 09 - 30));
}
