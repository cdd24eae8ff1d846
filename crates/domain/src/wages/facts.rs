//! The facts of a project on a day (`project_facts`): what the wage indicators are written
//! over, one function per group of facts, each rule naming its article.

use super::*;

/// Sets a date fact when there is a date.
fn opt_date(f: &mut Facts, name: &str, d: Option<Date>) {
    if let Some(d) = d {
        f.set(name, d);
    }
}

/// The facts of `p` on `today`; see `config/schemas/wage_project.toml` for each one's meaning.
pub fn project_facts(p: &ProjectData, today: Date, cal: &WorkCalendar, params: &WageParams) -> Facts {
    let mut f = Facts::new();
    let building = p.status == ProjectStatus::Building;
    f.set("status", p.status.as_str());
    f.set("building", building);
    f.set("contract_value", p.contract_value);
    f.set("government_funded", p.government_funded);
    registration_facts(&mut f, p, today);
    let deposit_due = deposit_facts(&mut f, p, today, params);
    allocation_facts(&mut f, p, today, building);
    let on_site = worker_facts(&mut f, p, today);
    month_facts(&mut f, p, today, params);
    top_pay_facts(&mut f, p, today);
    let oldest_arrear = arrears_facts(&mut f, p, today);
    account_facts(&mut f, p, today, oldest_arrear.is_some());
    f.set(
        "deposit_refund_overdue_days",
        p.refund_applied_on.map_or(0, |on| refund::review_overdue_days(on, today, cal)),
    );
    payment_day_facts(&mut f, p, today, cal);
    signal_facts(&mut f, p, today);
    let d90 = today - Duration::days(90);
    // Government projects: funds in place (Arts. 23, 59).
    f.set(
        "government_funds_shortfall",
        if p.government_funded { (p.gov_funds_required - p.gov_funds_in_place).max(0) } else { 0 },
    );

    // The "six systems" (六项制度): real-name, deposit, separate labor-cost account, bank
    // payment, notice board, full monthly pay.
    let six = [
        on_site.iter().all(|w| w.registered),
        deposit_due == 0,
        p.account_opened_on.is_some(),
        p.payments.iter().filter(|x| x.on > d90).all(|x| x.method == PayMethod::Bank),
        p.notice_board,
        oldest_arrear.is_none(),
    ];
    f.set("six_systems", six.iter().filter(|b| **b).count() as i64);
    f
}

fn registration_facts(f: &mut Facts, p: &ProjectData, today: Date) {
    opt_date(f, "start_on", p.start_on);
    opt_date(f, "contract_signed_on", p.contract_signed_on);
    opt_date(f, "deposit_clock_from", deposit_clock_from(p));
    // Registration before start (Arts. 26, 28): all three on or before the start day.
    let before_start = |d: Option<Date>| matches!((d, p.start_on), (Some(d), Some(s)) if d <= s);
    f.set(
        "registered_before_start",
        p.start_on.is_none()
            || (before_start(p.registered_on) && before_start(p.account_opened_on) && before_start(p.tripartite_on)),
    );
    f.set("account_opened", p.account_opened_on.is_some_and(|d| d <= today));
    f.set("labor_manager", p.labor_manager);
    f.set("notice_board", p.notice_board);
    f.set("payment_guarantee", p.payment_guarantee);
}

/// The special account's lifecycle: opened, with the three-party agreement, within 30 days of the
/// construction contract (农民工工资专用账户管理暂行办法); closed only after completion, with no
/// wages owed and a 30-day public notice (条例 art. 27 ¶2).
fn account_facts(f: &mut Facts, p: &ProjectData, today: Date, owing: bool) {
    let late = p.contract_signed_on.map_or(0, |signed| {
        let due = signed + Duration::days(ACCOUNT_OPEN_DAYS);
        let by = |d: Option<Date>| d.unwrap_or(today).min(today);
        ((by(p.account_opened_on).max(by(p.tripartite_on)) - due).whole_days()).max(0)
    });
    f.set("account_setup_days_late", late);
    let improper = p.account_closed_on.is_some_and(|closed| {
        p.status != ProjectStatus::Completed
            || owing
            || p.account_closure_notice_on.is_none_or(|n| closed < n + Duration::days(ACCOUNT_CLOSURE_NOTICE_DAYS))
    });
    f.set("account_closed_improperly", improper);
    // After a lawful closure the balance is the contractor's (art. 27 ¶2).
    let lawful_close = p.account_closed_on.filter(|_| !improper);
    let misused: Vec<&AccountDebit> =
        p.debits.iter().filter(|d| !d.to_own_worker() && lawful_close.is_none_or(|c| d.on < c)).collect();
    f.set("account_misuses", misused.len() as i64);
    f.set("account_misused_fen", misused.iter().fold(0i64, |a, d| a.saturating_add(d.amount)));
}

/// Days after the construction contract within which the special account is opened and the
/// three-party agreement signed (农民工工资专用账户管理暂行办法, 人社部发〔2021〕53号).
pub const ACCOUNT_OPEN_DAYS: i64 = 30;

/// Days of public notice before the special account may be closed (条例 art. 27 ¶2).
pub const ACCOUNT_CLOSURE_NOTICE_DAYS: i64 = 30;

/// When the 20 working days for the wage deposit start: the day the construction permit (施工
/// 许可证) or the approval of the start report (开工报告批复) was obtained; for works that by
/// law need neither, the day the construction contract was signed (工程建设领域农民工工资保证金
/// 规定, 人社部发〔2021〕65号, art. 8). None while the permit is still awaited.
pub fn deposit_clock_from(p: &ProjectData) -> Option<Date> {
    if p.permit_exempt { p.contract_signed_on } else { p.permit_on }
}

/// The deposit still due (条例 art. 32; 人社部发〔2021〕65号 arts. 11, 12, 15), computed from the
/// contract value and the contractor's record rather than taken from the sender: cash short of
/// it, a guarantee for less, or an exemption the project is not eligible for all leave it due.
fn deposit_facts(f: &mut Facts, p: &ProjectData, today: Date, params: &WageParams) -> i64 {
    let d = &p.deposit;
    let from = deposit_clock_from(p).unwrap_or(today);
    let within = |on: Date, days: i64| on <= from && on > from - Duration::days(days);
    // Arrears on record: complaints of wage arrears and a 失信 listing before the deposit.
    let arrears_in = |days: i64| p.complaints.iter().any(|c| within(c.received_on, days));
    let dishonest = p.signals.iter().any(|s| s.kind == SignalKind::Dishonest && s.value != 0 && s.on <= from);
    let a = assess_deposit(p.contract_value, &params.deposit, arrears_in(730), arrears_in(365), dishonest);
    let deposit_due = match d.mode {
        DepositMode::Exempt if a.exempt_eligible => 0,
        DepositMode::Guarantee => a.required.saturating_sub(d.guarantee).max(0),
        DepositMode::Exempt | DepositMode::None | DepositMode::Cash => a.required.saturating_sub(d.paid).max(0),
    };
    f.set("deposit_mode", d.mode.as_str());
    f.set("deposit_required", a.required);
    f.set("deposit_rate_bp", a.rate_bp);
    f.set("deposit_exemption_unfounded", d.mode == DepositMode::Exempt && !a.exempt_eligible);
    f.set("deposit_due", deposit_due);
    // Art. 17: a guarantee valid through the works; the department reminds a month before.
    if d.mode == DepositMode::Guarantee
        && p.status == ProjectStatus::Building
        && let Some(until) = d.guarantee_until
    {
        f.set("guarantee_days_left", (until - today).whole_days());
    }
    f.set("deposit_topup_due", d.drawn.saturating_sub(d.topped_up).max(0));
    opt_date(f, "deposit_drawn_on", d.drawn_on);
    deposit_due
}

fn allocation_facts(f: &mut Facts, p: &ProjectData, today: Date, building: bool) {
    // Labor-cost allocations (Arts. 24, 29).
    let allocated: i64 =
        p.allocations.iter().filter(|(on, _)| *on <= today).map(|(_, a)| *a).fold(0, i64::saturating_add);
    f.set("allocated_total", allocated);
    f.set("progress_paid", p.progress_paid);
    let last_allocation = p.allocations.iter().filter(|(on, _)| *on <= today).map(|(on, _)| *on).max();
    opt_date(f, "last_allocation_on", last_allocation);
    // Days the account has gone without labor cost while building: since the last allocation,
    // or since the start when there never was one.
    let since = last_allocation.or(p.start_on);
    f.set(
        "days_without_allocation",
        if building { since.map(|s| (today - s).whole_days().max(0)).unwrap_or(0) } else { 0 },
    );
}

/// The workers on site today.
fn worker_facts<'p>(f: &mut Facts, p: &'p ProjectData, today: Date) -> Vec<&'p Worker> {
    // Workers on site today.
    let on_site: Vec<&Worker> =
        p.workers.iter().filter(|w| w.joined_on <= today && w.left_on.is_none_or(|l| l > today)).collect();
    f.set("workers_on_site", on_site.len() as i64);
    f.set("workers_unregistered", on_site.iter().filter(|w| !w.registered).count() as i64);
    f.set("workers_without_contract", on_site.iter().filter(|w| !w.contract).count() as i64);
    f.set(
        "departed_unsettled",
        p.workers.iter().filter(|w| w.left_on.is_some_and(|l| l <= today) && !w.settled).count() as i64,
    );
    on_site
}

fn month_facts(f: &mut Facts, p: &ProjectData, today: Date, params: &WageParams) {
    // The last month whose wages are due.
    let m = last_due_month(today, p.pay_day);
    let attending: Vec<&Attendance> = p.attendance.iter().filter(|a| a.month == m && a.days > 0).collect();
    let paid_in = |worker: &str, month: Date| -> i64 {
        p.payments
            .iter()
            .filter(|x| x.worker == worker && x.month == month && x.on <= today)
            .map(|x| x.amount)
            .fold(0, i64::saturating_add)
    };
    f.set("attendance_headcount", attending.len() as i64);
    f.set("paid_headcount", attending.iter().filter(|a| paid_in(&a.worker, m) > 0).count() as i64);
    let with_line = |w: &str, month: Date| p.payroll.iter().any(|l| l.worker == w && l.month == month);
    let no_record = attending.iter().filter(|a| !with_line(&a.worker, m)).count() as i64;
    f.set("attending_without_wage_record", no_record);
    f.set(
        "attending_without_wage_record_pct",
        if attending.is_empty() { 0 } else { no_record * 100 / attending.len() as i64 },
    );
    // Each full-month worker's wage for normal hours against the minimum in force in the
    // site's division that month (条例 art. 12; 最低工资规定 art. 12: overtime pay, special
    // allowances and statutory benefits are not counted). An average would hide the one worker
    // paid below it. Only when the month's wages are due.
    let minimum = params.minimum_on(&p.division, m);
    let full: Vec<i64> = attending
        .iter()
        .filter(|a| a.days >= params.full_month_days)
        .map(|a| {
            let lines: Vec<&PayLine> = p.payroll.iter().filter(|l| l.worker == a.worker && l.month == m).collect();
            if lines.is_empty() {
                paid_in(&a.worker, m)
            } else {
                lines.iter().map(|l| l.due.saturating_sub(l.overtime.clamp(0, l.due))).fold(0i64, i64::saturating_add)
            }
        })
        .collect();
    if !full.is_empty() {
        f.set("average_wage", full.iter().copied().fold(0i64, i64::saturating_add) / full.len() as i64);
    }
    f.set("workers_below_minimum", full.iter().filter(|w| **w < minimum).count() as i64);
    f.set("minimum_wage", minimum);
    f.set("payroll_unsigned", p.payroll.iter().filter(|l| l.month == m && !l.signed).count() as i64);
    // Art. 15 ¶3: the worker is given their own pay slip with the wage.
    f.set("payslips_missing", p.payroll.iter().filter(|l| l.month == m && l.payslip == Some(false)).count() as i64);
    let year_ago = today - Duration::days(365);
    f.set(
        "payroll_incomplete",
        p.payroll.iter().filter(|l| l.month >= first_of_month(year_ago) && !l.complete).count() as i64,
    );
}

fn top_pay_facts(f: &mut Facts, p: &ProjectData, today: Date) {
    let year_ago = today - Duration::days(365);
    // Highest pay of one worker in one month and over the last 365 days.
    let mut month_max = 0;
    let mut year_max = 0;
    let mut by_worker: std::collections::BTreeMap<(&str, Date), i64> = Default::default();
    let mut by_worker_year: std::collections::BTreeMap<&str, i64> = Default::default();
    for x in p.payments.iter().filter(|x| x.on <= today) {
        // Saturating: stored data must never make the evaluation panic or wrap.
        let m = by_worker.entry((x.worker.as_str(), x.month)).or_default();
        *m = m.saturating_add(x.amount);
        if x.on > year_ago {
            let y = by_worker_year.entry(x.worker.as_str()).or_default();
            *y = y.saturating_add(x.amount);
        }
    }
    for v in by_worker.values() {
        month_max = month_max.max(*v);
    }
    for v in by_worker_year.values() {
        year_max = year_max.max(*v);
    }
    f.set("max_worker_month_pay", month_max);
    f.set("max_worker_year_pay", year_max);
}

/// The pay-by date of the oldest month in arrears, if any.
fn arrears_facts(f: &mut Facts, p: &ProjectData, today: Date) -> Option<Date> {
    // Arrears: per wage month, what the workers are to receive (实发: 应发 less what was
    // withheld, art. 15 ¶2) against what was paid by its due date. Comparing 应发 with the
    // transfers would count every deduction as arrears.
    let months: std::collections::BTreeSet<Date> = p.payroll.iter().map(|l| l.month).collect();
    let mut oldest_arrear: Option<Date> = None;
    let mut unpaid_through_account = 0;
    let mut arrears_total = 0;
    for &month in &months {
        let due: i64 = p.payroll.iter().filter(|l| l.month == month).map(PayLine::net).fold(0, i64::saturating_add);
        let paid_all: i64 = p
            .payments
            .iter()
            .filter(|x| x.month == month && x.on <= today)
            .map(|x| x.amount)
            .fold(0, i64::saturating_add);
        let pay_by = due_date(month, p.pay_day);
        if today > pay_by && paid_all < due {
            arrears_total = due.saturating_sub(paid_all).saturating_add(arrears_total);
            oldest_arrear = Some(oldest_arrear.map_or(pay_by, |o: Date| o.min(pay_by)));
        }
        // Art. 31 / provincial indicator 1: through the special account by the end of the
        // following month.
        let end_next = last_of_month(next_month(month));
        let via_account: i64 = p
            .payments
            .iter()
            .filter(|x| x.month == month && x.method == PayMethod::Bank && x.on <= end_next && x.on <= today)
            .map(|x| x.amount)
            .fold(0, i64::saturating_add);
        if today > end_next && via_account < due {
            unpaid_through_account += 1;
        }
    }
    f.set("arrears_days", oldest_arrear.map(|d| (today - d).whole_days()).unwrap_or(0));
    f.set("arrears_total", arrears_total);
    f.set("months_unpaid_through_account", unpaid_through_account);
    oldest_arrear
}

fn payment_day_facts(f: &mut Facts, p: &ProjectData, today: Date, cal: &WorkCalendar) {
    // Payments in cash or to a third party in the last 90 days (Art. 31).
    let d90 = today - Duration::days(90);
    let recent_by = |m: PayMethod| p.payments.iter().filter(|x| x.on > d90 && x.on <= today && x.method == m).count();
    f.set("cash_or_third_party_payments", (recent_by(PayMethod::Cash) + recent_by(PayMethod::ThirdParty)) as i64);
    // Art. 11: money only, never goods or vouchers.
    f.set("in_kind_payments", recent_by(PayMethod::InKind) as i64);
    // Art. 14: over the last three closed months, pay days on a rest day that were not moved
    // earlier: the money arrived after the last working day before the pay day.
    let mut not_advanced = 0;
    let mut mm = prev_month(first_of_month(today));
    for _ in 0..3 {
        let nominal = due_date(mm, p.pay_day);
        if nominal <= today && !cal.is_working_day(nominal) {
            let effective = effective_pay_day(mm, p.pay_day, cal);
            let late =
                p.payments.iter().any(|x| x.month == mm && x.on > effective && x.on <= nominal + Duration::days(7));
            if late {
                not_advanced += 1;
            }
        }
        mm = prev_month(mm);
    }
    f.set("pay_day_not_advanced", not_advanced);
}

fn signal_facts(f: &mut Facts, p: &ProjectData, today: Date) {
    // Complaints and incidents.
    let recent = |d: Date, days: i64| d > today - Duration::days(days) && d <= today;
    // Every complaint counts, whatever channel it came by (条例 art. 10: the departments accept
    // complaints by every channel they publish — 12345, 12333, 信访, the platform itself …).
    f.set("complaints_90d", p.complaints.iter().filter(|c| recent(c.received_on, 90)).count() as i64);
    f.set(
        "collective_incidents_90d",
        p.complaints.iter().filter(|c| c.collective && recent(c.received_on, 90)).count() as i64,
    );

    // Signals from other systems.
    let count =
        |k: SignalKind, days: i64| p.signals.iter().filter(|s| s.kind == k && recent(s.on, days)).count() as i64;
    f.set("tax_anomalies_90d", count(SignalKind::TaxAnomaly, 90));
    f.set("social_insurance_anomalies_90d", count(SignalKind::SocialInsuranceAnomaly, 90));
    f.set("credit_anomalies_90d", count(SignalKind::CreditAnomaly, 90) + count(SignalKind::PropertyAnomaly, 90));
    f.set("annual_review_anomaly", count(SignalKind::AnnualReviewAnomaly, 365) > 0);
    f.set("work_injuries_90d", count(SignalKind::WorkInjury, 90));
    f.set("grid_reports_30d", count(SignalKind::GridReport, 30));
    f.set("cards_withheld_90d", count(SignalKind::CardsWithheld, 90));
    // Listings hold until a later signal of value 0 lifts them.
    let latest = |k: SignalKind| p.signals.iter().filter(|s| s.kind == k && s.on <= today).max_by_key(|s| s.on);
    f.set("dishonest", latest(SignalKind::Dishonest).is_some_and(|s| s.value != 0));
    f.set("business_abnormal", latest(SignalKind::BusinessAbnormal).is_some_and(|s| s.value != 0));
    // The integrity grade (条例 art. 47): the latest within two years, "A" best to "C" worst;
    // "" when none was given.
    f.set(
        "integrity_grade",
        latest(SignalKind::ViolationRecord)
            .filter(|s| recent(s.on, 730))
            .and_then(|s| integrity_grade(s.value))
            .unwrap_or("")
            .to_string(),
    );
    for (k, name) in [(SignalKind::Water, "water"), (SignalKind::Electricity, "electricity"), (SignalKind::Gas, "gas")]
    {
        let mut series: Vec<(Date, i64)> =
            p.signals.iter().filter(|s| s.kind == k && s.on <= today).map(|s| (s.on, s.value)).collect();
        series.sort();
        f.set(name, Value::Series(series));
    }
}
