//! The demo city's construction projects: a clean one, and one case per wage indicator that
//! makes it fire — the same cases the tests prove, laid out relative to the day the demo loads.

use super::*;
use crate::rules::Level;

/// Dates a case needs, derived from the day of loading.
pub struct CaseCtx<'a> {
    pub today: Date,
    pub cal: &'a WorkCalendar,
    /// The latest month whose wages are due (pay day 15).
    pub m: Date,
}

impl CaseCtx<'_> {
    pub fn new(today: Date, cal: &WorkCalendar) -> CaseCtx<'_> {
        CaseCtx { today, cal, m: last_due_month(today, 15) }
    }

    /// `n` months before the latest due month.
    pub fn back(&self, n: u32) -> Date {
        (0..n).fold(self.m, |m, _| prev_month(m))
    }

    pub fn days_ago(&self, n: i64) -> Date {
        self.today - Duration::days(n)
    }
}

/// A well-run project that started seven months before the latest due month: everything
/// registered before the start, labor cost allocated on the 5th of each month, ten registered
/// workers with contracts (and one who left, settled), paid in full through the special account
/// on the pay day (moved earlier when it falls on a rest day), steady utilities.
pub fn clean_project(code: &str, cx: &CaseCtx) -> ProjectData {
    sized_project(code, cx, 7, 10)
}

/// A clean project of `months` wage months (the last one the latest due) and `workers`
/// workers on site (plus one who left, settled): the benchmark's load.
pub fn sized_project(code: &str, cx: &CaseCtx, months: u32, workers: u32) -> ProjectData {
    let start = cx.back(months.max(1) - 1);
    let on_site = workers;
    let workers: Vec<Worker> = (1..=on_site)
        .map(|i| Worker {
            id: format!("w{i}"),
            registered: true,
            contract: true,
            joined_on: start,
            left_on: None,
            settled: false,
        })
        .chain(std::iter::once(Worker {
            id: format!("w{}", on_site + 1),
            registered: true,
            contract: true,
            joined_on: start,
            left_on: Some(next_month(start) + Duration::days(9)),
            settled: true,
        }))
        .collect();
    let (mut attendance, mut payroll, mut payments) = (vec![], vec![], vec![]);
    let mut m = start;
    while m <= cx.m {
        for w in workers.iter().filter(|w| w.left_on.is_none()) {
            attendance.push(Attendance { worker: w.id.clone(), month: m, days: 26 });
            // 6,000 yuan 应发, of which the worker's social insurance (10.5 %) is withheld: 5,370
            // yuan 实发 reach the card.
            payroll.push(PayLine {
                worker: w.id.clone(),
                month: m,
                due: 600_000,
                deductions: 63_000,
                signed: true,
                complete: true,
                overtime: 0,
                payslip: Some(true),
            });
            payments.push(Payment {
                worker: w.id.clone(),
                month: m,
                amount: 537_000,
                on: effective_pay_day(m, 15, cx.cal),
                method: PayMethod::Bank,
            });
        }
        m = next_month(m);
    }
    let (mut signals, mut allocations) = (vec![], vec![]);
    let mut m = start;
    while m <= cx.today {
        for k in [SignalKind::Water, SignalKind::Electricity, SignalKind::Gas] {
            signals.push(Signal { kind: k, on: m, value: 1000 });
        }
        let on = m + Duration::days(4);
        if on <= cx.today {
            allocations.push((on, 40_000_000));
        }
        m = next_month(m);
    }
    let before = start - Duration::days(10);
    ProjectData {
        code: code.into(),
        division: "341602".into(),
        status: ProjectStatus::Building,
        contract_value: 5_000_000_000,
        government_funded: false,
        contract_signed_on: Some(start - Duration::days(30)),
        permit_on: Some(start - Duration::days(15)),
        permit_exempt: false,
        start_on: Some(start),
        registered_on: Some(before),
        account_opened_on: Some(before),
        tripartite_on: Some(before),
        account_closure_notice_on: None,
        account_closed_on: None,
        labor_manager: true,
        notice_board: true,
        payment_guarantee: true,
        pay_day: 15,
        progress_paid: 1_000_000_000,
        gov_funds_required: 0,
        gov_funds_in_place: 0,
        deposit: Deposit { mode: DepositMode::Cash, required: 100_000_000, paid: 100_000_000, ..Default::default() },
        refund_applied_on: None,
        allocations,
        workers,
        attendance,
        payroll,
        payments,
        debits: vec![],
        complaints: vec![],
        signals,
    }
}

/// One case per indicator: the change to a clean project that makes it fire, and the level.
pub type Case = (&'static str, Level, fn(&mut ProjectData, &CaseCtx));

fn signal(p: &mut ProjectData, kind: SignalKind, on: Date, value: i64) {
    p.signals.push(Signal { kind, on, value });
}

fn pay_of<'a>(p: &'a mut ProjectData, worker: &str, month: Date) -> &'a mut Payment {
    p.payments.iter_mut().find(|x| x.worker == worker && x.month == month).expect("a payment of the month")
}

/// The latest reading falls to a tenth of the usual.
fn collapse(p: &mut ProjectData, cx: &CaseCtx, kind: SignalKind) {
    let latest = p.signals.iter().filter(|s| s.kind == kind).map(|s| s.on).max().unwrap_or(cx.today);
    p.signals.retain(|s| !(s.kind == kind && s.on == latest));
    signal(p, kind, latest, 100);
}

/// Art. 14: chooses a pay day that fell on a rest day two months back, keeps every other
/// month paid on time, and pays that month on the nominal day instead of the working day before.
fn pay_on_rest_day(p: &mut ProjectData, cx: &CaseCtx) {
    let mm = prev_month(prev_month(first_of_month(cx.today)));
    let day = (1..=28u8).find(|d| !cx.cal.is_working_day(due_date(mm, *d))).expect("a month has rest days");
    p.pay_day = day;
    for x in &mut p.payments {
        x.on = if x.month == mm { due_date(mm, day) } else { effective_pay_day(x.month, day, cx.cal) };
    }
    // Months not yet due under the new pay day have no payment yet.
    p.payments.retain(|x| x.on <= cx.today);
}

pub fn cases() -> Vec<Case> {
    vec![
        ("wages.unpaid_through_account", Level::Red, |p, cx| pay_of(p, "w1", cx.back(1)).method = PayMethod::Cash),
        // One worker: 2,200 yuan 应发, of which 400 overtime — 1,800 for normal hours, below the
        // 1,930 minimum though the month's average is far above it.
        ("wages.below_minimum", Level::Red, |p, cx| {
            if let Some(l) = p.payroll.iter_mut().find(|l| l.worker == "w2" && l.month == cx.m) {
                (l.due, l.overtime, l.deductions) = (220_000, 40_000, 0);
            }
            pay_of(p, "w2", cx.m).amount = 220_000;
        }),
        ("wages.payslip_missing", Level::Orange, |p, cx| {
            if let Some(l) = p.payroll.iter_mut().find(|l| l.worker == "w3" && l.month == cx.m) {
                l.payslip = Some(false);
            }
        }),
        ("wages.paid_in_kind", Level::Red, |p, cx| pay_of(p, "w4", cx.m).method = PayMethod::InKind),
        ("wages.cards_withheld", Level::Red, |p, cx| signal(p, SignalKind::CardsWithheld, cx.days_ago(8), 1)),
        ("wages.paid_below_attendance", Level::Yellow, |p, cx| {
            p.payments.retain(|x| !(x.worker == "w2" && x.month == cx.m))
        }),
        ("wages.implausible_pay", Level::Red, |p, cx| pay_of(p, "w3", cx.m).amount = 6_000_000),
        ("wages.departed_unsettled", Level::Yellow, |p, _| p.workers[10].settled = false),
        ("wages.attending_without_record", Level::Yellow, |p, cx| {
            p.payroll.retain(|l| !(l.worker == "w4" && l.month == cx.m))
        }),
        ("wages.arrears", Level::Red, |p, cx| p.payments.retain(|x| !(x.worker == "w5" && x.month == cx.back(3)))),
        ("wages.notice_board_missing", Level::Yellow, |p, _| p.notice_board = false),
        ("wages.violation_record", Level::Orange, |p, cx| signal(p, SignalKind::ViolationRecord, cx.days_ago(40), 2)),
        ("wages.dishonest", Level::Red, |p, cx| signal(p, SignalKind::Dishonest, cx.days_ago(40), 1)),
        ("wages.business_abnormal", Level::Orange, |p, cx| signal(p, SignalKind::BusinessAbnormal, cx.days_ago(40), 1)),
        ("wages.grid_report", Level::Yellow, |p, cx| signal(p, SignalKind::GridReport, cx.days_ago(5), 1)),
        ("wages.water_collapse", Level::Orange, |p, cx| collapse(p, cx, SignalKind::Water)),
        ("wages.electricity_collapse", Level::Orange, |p, cx| collapse(p, cx, SignalKind::Electricity)),
        ("wages.gas_collapse", Level::Yellow, |p, cx| collapse(p, cx, SignalKind::Gas)),
        ("wages.credit_anomaly", Level::Yellow, |p, cx| signal(p, SignalKind::CreditAnomaly, cx.days_ago(20), 1)),
        ("wages.tax_anomaly", Level::Orange, |p, cx| signal(p, SignalKind::TaxAnomaly, cx.days_ago(20), 1)),
        ("wages.social_insurance_anomaly", Level::Orange, |p, cx| {
            signal(p, SignalKind::SocialInsuranceAnomaly, cx.days_ago(20), 1)
        }),
        ("wages.annual_review_anomaly", Level::Yellow, |p, cx| {
            signal(p, SignalKind::AnnualReviewAnomaly, cx.days_ago(120), 1)
        }),
        ("wages.work_injury", Level::Yellow, |p, cx| signal(p, SignalKind::WorkInjury, cx.days_ago(10), 1)),
        ("wages.complaints", Level::Yellow, |p, cx| {
            p.complaints.push(Complaint { received_on: cx.days_ago(12), channel: "12345".into(), collective: false })
        }),
        ("wages.not_registered_before_start", Level::Orange, |p, cx| p.registered_on = Some(cx.back(5))),
        ("wages.labor_cost_not_allocated", Level::Red, |p, cx| {
            let cut = cx.days_ago(70);
            p.allocations.retain(|(d, _)| *d < cut)
        }),
        ("wages.labor_cost_ratio_low", Level::Yellow, |p, _| p.progress_paid = 2_000_000_000),
        ("wages.deposit_not_paid", Level::Orange, |p, _| p.deposit.paid = 0),
        // A 50-million contract declared exempt: only contracts under 3 million may be.
        ("wages.deposit_exemption_unfounded", Level::Orange, |p, _| p.deposit.mode = DepositMode::Exempt),
        ("wages.guarantee_expiring", Level::Yellow, |p, cx| {
            p.deposit.mode = DepositMode::Guarantee;
            p.deposit.guarantee = 100_000_000;
            p.deposit.guarantee_until = Some(cx.today + Duration::days(20));
        }),
        ("wages.deposit_not_topped_up", Level::Orange, |p, cx| {
            p.deposit.drawn = 20_000_000;
            p.deposit.drawn_on = Some(cx.days_ago(30));
        }),
        ("wages.workers_without_contract", Level::Orange, |p, _| p.workers[5].contract = false),
        ("wages.workers_unregistered", Level::Orange, |p, _| p.workers[6].registered = false),
        ("wages.no_labor_manager", Level::Yellow, |p, _| p.labor_manager = false),
        ("wages.payroll_unsigned", Level::Orange, |p, cx| {
            if let Some(l) = p.payroll.iter_mut().find(|l| l.worker == "w8" && l.month == cx.m) {
                l.signed = false;
            }
        }),
        ("wages.cash_or_third_party", Level::Orange, |p, cx| pay_of(p, "w9", cx.m).method = PayMethod::ThirdParty),
        ("wages.no_payment_guarantee", Level::Yellow, |p, _| p.payment_guarantee = false),
        ("wages.ledger_incomplete", Level::Yellow, |p, cx| {
            if let Some(l) = p.payroll.iter_mut().find(|l| l.worker == "w10" && l.month == cx.back(1)) {
                l.complete = false;
            }
        }),
        ("wages.pay_day_not_advanced", Level::Yellow, pay_on_rest_day),
        ("wages.collective_incident", Level::Red, |p, cx| {
            p.complaints.push(Complaint { received_on: cx.days_ago(14), channel: "grid".into(), collective: true })
        }),
        ("wages.government_funds_shortfall", Level::Red, |p, _| {
            p.government_funded = true;
            p.gov_funds_required = 1_000_000_000;
            p.gov_funds_in_place = 500_000_000;
        }),
        ("wages.account_not_opened", Level::Red, |p, _| p.account_opened_on = None),
        // Contract signed 60 days before the start, account and agreement 50 days after it.
        ("wages.account_setup_late", Level::Yellow, |p, _| {
            p.contract_signed_on = p.start_on.map(|s| s - Duration::days(60))
        }),
        // Works complete, the account closed a week after its notice instead of 30 days.
        ("wages.account_closed_improperly", Level::Red, |p, cx| {
            p.status = ProjectStatus::Completed;
            p.account_closure_notice_on = Some(cx.days_ago(12));
            p.account_closed_on = Some(cx.days_ago(5));
        }),
        // 300,000 yuan moved from the special account to the contractor's own account.
        ("wages.account_misused", Level::Red, |p, cx| {
            p.debits.push(AccountDebit {
                on: cx.days_ago(9),
                amount: 30_000_000,
                payee: "总包单位基本存款账户".into(),
                worker: None,
                cash: false,
            })
        }),
        // Complete; the refund applied for ten working days ago and not yet reviewed.
        ("wages.deposit_refund_overdue", Level::Yellow, |p, cx| {
            p.status = ProjectStatus::Completed;
            p.refund_applied_on = Some(cx.days_ago(16));
        }),
        ("wages.six_systems", Level::Yellow, |p, _| p.deposit.paid = 0),
    ]
}
