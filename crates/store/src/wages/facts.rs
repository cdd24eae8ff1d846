//! The wage case's feed of the warning model: every project with everything its facts are
//! computed from, one query per table grouped in memory, as the alert engine's subject source
//! (`wage_project`) and for one project's page.

use super::{PROJECT_COLUMNS, ProjectRow, date_opt, parse_date};
use crate::alerts::{Addressee, AddresseeFuture, SourceFuture, Subject, SubjectSource};
use crate::config::CityConfig;
use crate::{Conn, Result, StoreError};
use domain::calendar::WorkCalendar;
use domain::expr::{Batch, Facts, Schema};
use domain::wages::{
    AccountDebit, Attendance, Complaint, Deposit, DepositMode, PayLine, PayMethod, Payment, ProjectData, Signal,
    SignalKind, WageParams, Worker, project_facts,
};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use time::Date;

/// Which projects to load: all (from the readers) or one (from the caller's transaction).
pub use crate::alerts::Subjects as Which;

/// 在建项目 as alert subjects: the facts `config/schemas/wage_project.toml` declares.
pub struct Projects;

impl SubjectSource for Projects {
    fn subject_type(&self) -> &'static str {
        "wage_project"
    }

    fn load<'a>(
        &'a self,
        which: Which<'a>,
        schema: &'a Schema,
        cfg: &'a CityConfig,
        cal: &'a WorkCalendar,
        today: Date,
    ) -> SourceFuture<'a> {
        Box::pin(subjects(which, schema, today, cal, &cfg.city.wages))
    }

    /// Wage matters are addressed to the general contractor (施工总承包单位), which answers for
    /// the project's wages (《保障农民工工资支付条例》第三十条).
    fn addressee<'a>(&'a self, conn: &'a mut Conn, code: &'a str) -> AddresseeFuture<'a> {
        Box::pin(async move {
            let r = sqlx::query("SELECT name, contractor_name, contractor_uscc FROM wage_projects WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut *conn)
                .await?;
            let Some(r) = r else { return Ok(None) };
            let name: String = r.try_get(0)?;
            Ok(Some(Addressee {
                name: r.try_get(1)?,
                id: Some(r.try_get(2)?),
                about: format!("你单位作为施工总承包单位承建的“{name}”（项目编号 {code}）"),
            }))
        })
    }
}

/// Loads projects with everything the warning model reads, grouped in memory (one query per
/// table, not per project).
pub async fn load(which: Which<'_>) -> Result<Vec<(ProjectRow, ProjectData)>> {
    let queries = load_queries(matches!(which, Which::One(..)));
    let mut results = vec![];
    match which {
        Which::All(db) => {
            for q in &queries {
                results.push(sqlx::query(q).fetch_all(db.reader()).await?);
            }
        }
        Which::One(conn, code) => {
            for q in &queries {
                results.push(sqlx::query(q).bind(code).fetch_all(&mut *conn).await?);
            }
        }
    }
    let mut it = results.into_iter();
    let mut next = || it.next().expect("one result per query");
    let mut out: Vec<(ProjectRow, ProjectData)> = vec![];
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut by_contractor: HashMap<String, Vec<usize>> = HashMap::new();
    for r in &next() {
        let (row, data) = project_of(r)?;
        index.insert(row.id.clone(), out.len());
        if !row.contractor_uscc.is_empty() {
            by_contractor.entry(row.contractor_uscc.clone()).or_default().push(out.len());
        }
        out.push((row, data));
    }
    let mut each = |rows: Vec<AnyRow>, f: &mut dyn FnMut(&mut ProjectData, &AnyRow) -> Result<()>| -> Result<()> {
        for r in &rows {
            let pid: String = r.try_get("project_id")?;
            if let Some(i) = index.get(&pid) {
                f(&mut out[*i].1, r)?;
            }
        }
        Ok(())
    };
    each(next(), &mut |p, r| {
        p.allocations.push((date_of(r, "on_date")?, r.try_get("amount_fen")?));
        Ok(())
    })?;
    each(next(), &mut |p, r| {
        p.workers.push(worker_of(r)?);
        Ok(())
    })?;
    each(next(), &mut |p, r| {
        p.attendance.push(attendance_of(r)?);
        Ok(())
    })?;
    each(next(), &mut |p, r| {
        p.payroll.push(pay_line_of(r)?);
        Ok(())
    })?;
    each(next(), &mut |p, r| {
        p.payments.push(payment_of(r)?);
        Ok(())
    })?;
    each(next(), &mut |p, r| {
        p.debits.push(AccountDebit {
            on: date_of(r, "on_date")?,
            amount: r.try_get("amount_fen")?,
            payee: r.try_get("payee_name")?,
            worker: r.try_get("worker_id")?,
            cash: r.try_get::<i64, _>("cash")? != 0,
        });
        Ok(())
    })?;
    each(next(), &mut |p, r| {
        p.complaints.push(complaint_of(r)?);
        Ok(())
    })?;
    each(next(), &mut |p, r| {
        p.signals.extend(signal_of(r)?);
        Ok(())
    })?;
    // Employer-level complaints and signals apply to all the contractor's projects.
    for r in next() {
        let uscc: String = r.try_get("employer_uscc")?;
        for i in by_contractor.get(&uscc).into_iter().flatten() {
            out[*i].1.complaints.push(complaint_of(&r)?);
        }
    }
    for r in next() {
        let uscc: String = r.try_get("employer_uscc")?;
        if let Some(s) = signal_of(&r)? {
            for i in by_contractor.get(&uscc).into_iter().flatten() {
                out[*i].1.signals.push(s.clone());
            }
        }
    }
    Ok(out)
}

/// The eleven queries of [`load`], in the order it reads them: the projects with their account
/// and deposit, then per project its allocations, workers, attendance, payroll, payments,
/// account debits, complaints and signals, then the employer-level complaints and signals. With
/// `one`, each takes the project code as `$1`.
fn load_queries(one: bool) -> [String; 11] {
    let filter = if one { " WHERE p.code = $1" } else { "" };
    let projects_sql = format!(
        "SELECT {cols}, a.opened_on AS account_opened_on, a.closure_notice_on AS account_closure_notice_on,
            a.closed_on AS account_closed_on, d.mode AS deposit_mode, d.required_fen, d.paid_fen, d.drawn_fen,
            d.drawn_on, d.topped_up_fen, d.guarantee_fen, d.guarantee_until,
            (SELECT r.applied_on FROM wage_deposit_refunds r WHERE r.project_id = p.id AND r.status = 'applied') AS refund_applied_on
         FROM wage_projects p LEFT JOIN wage_accounts a ON a.project_id = p.id LEFT JOIN wage_deposits d ON d.project_id = p.id{filter}
         ORDER BY p.code",
        cols = PROJECT_COLUMNS.split(',').map(|c| format!("p.{}", c.trim())).collect::<Vec<_>>().join(", ")
    );
    let by_project = |table: &str, cols: &str| {
        let f = if one {
            " WHERE project_id = (SELECT id FROM wage_projects WHERE code = $1)".to_string()
        } else {
            String::new()
        };
        format!("SELECT project_id, {cols} FROM {table}{f}")
    };
    // Employer-level signals and complaints apply to the contractor's projects.
    let employer_wide = |table: &str, cols: &str| {
        let f = if one {
            " AND employer_uscc = (SELECT contractor_uscc FROM wage_projects WHERE code = $1)".to_string()
        } else {
            String::new()
        };
        format!("SELECT employer_uscc, {cols} FROM {table} WHERE project_id IS NULL AND employer_uscc <> ''{f}")
    };
    [
        projects_sql,
        by_project("wage_allocations", "on_date, amount_fen"),
        by_project("wage_workers", "id, registered, contract, joined_on, left_on, settled_on"),
        by_project("wage_attendance", "worker_id, month, days"),
        by_project(
            "wage_payroll",
            "worker_id, month, due_fen, deductions_fen, signed, complete, overtime_fen, payslip",
        ),
        by_project("wage_payments", "worker_id, month, amount_fen, paid_on, method"),
        by_project("wage_account_debits", "on_date, amount_fen, payee_name, worker_id, cash"),
        by_project("wage_complaints", "received_on, channel, collective"),
        by_project("wage_signals", "kind, on_date, value"),
        employer_wide("wage_complaints", "received_on, channel, collective"),
        employer_wide("wage_signals", "kind, on_date, value"),
    ]
}

/// A project row with its account and deposit, as the row and the warning model's data.
fn project_of(r: &AnyRow) -> Result<(ProjectRow, ProjectData)> {
    let row = <ProjectRow as sqlx::FromRow<'_, sqlx::any::AnyRow>>::from_row(r)?;
    let mode: Option<String> = r.try_get("deposit_mode")?;
    let deposit = match mode {
        Some(m) => Deposit {
            mode: DepositMode::parse(&m).unwrap_or(DepositMode::None),
            required: r.try_get::<Option<i64>, _>("required_fen")?.unwrap_or(0),
            paid: r.try_get::<Option<i64>, _>("paid_fen")?.unwrap_or(0),
            drawn: r.try_get::<Option<i64>, _>("drawn_fen")?.unwrap_or(0),
            drawn_on: date_opt(r.try_get("drawn_on")?),
            topped_up: r.try_get::<Option<i64>, _>("topped_up_fen")?.unwrap_or(0),
            guarantee: r.try_get::<Option<i64>, _>("guarantee_fen")?.unwrap_or(0),
            guarantee_until: date_opt(r.try_get("guarantee_until")?),
        },
        None => Deposit::default(),
    };
    let data = ProjectData {
        code: row.code.clone(),
        division: row.division_code.clone(),
        status: row.status,
        contract_value: row.contract_value_fen,
        government_funded: row.government_funded != 0,
        contract_signed_on: date_opt(row.contract_signed_on.clone()),
        permit_on: date_opt(row.permit_on.clone()),
        permit_exempt: row.permit_exempt != 0,
        start_on: date_opt(row.start_on.clone()),
        registered_on: date_opt(row.registered_on.clone()),
        account_opened_on: date_opt(r.try_get("account_opened_on")?),
        tripartite_on: date_opt(row.tripartite_on.clone()),
        account_closure_notice_on: date_opt(r.try_get("account_closure_notice_on")?),
        account_closed_on: date_opt(r.try_get("account_closed_on")?),
        labor_manager: !row.labor_manager_name.trim().is_empty(),
        notice_board: row.notice_board_on.is_some(),
        payment_guarantee: row.payment_guarantee != 0,
        pay_day: row.pay_day.clamp(1, 28) as u8,
        progress_paid: row.progress_paid_fen,
        gov_funds_required: row.gov_funds_required_fen,
        gov_funds_in_place: row.gov_funds_in_place_fen,
        deposit,
        refund_applied_on: date_opt(r.try_get("refund_applied_on")?),
        allocations: vec![],
        workers: vec![],
        attendance: vec![],
        payroll: vec![],
        payments: vec![],
        debits: vec![],
        complaints: vec![],
        signals: vec![],
    };
    Ok((row, data))
}

fn date_of(r: &AnyRow, c: &str) -> Result<Date> {
    let s: String = r.try_get(c)?;
    parse_date(&s).ok_or_else(|| StoreError::Other(format!("日期格式错误：{s}")))
}

fn worker_of(r: &AnyRow) -> Result<Worker> {
    Ok(Worker {
        id: r.try_get("id")?,
        registered: r.try_get::<i64, _>("registered")? != 0,
        contract: r.try_get::<i64, _>("contract")? != 0,
        joined_on: date_of(r, "joined_on")?,
        left_on: date_opt(r.try_get("left_on")?),
        settled: r.try_get::<Option<String>, _>("settled_on")?.is_some(),
    })
}

fn attendance_of(r: &AnyRow) -> Result<Attendance> {
    Ok(Attendance { worker: r.try_get("worker_id")?, month: date_of(r, "month")?, days: r.try_get("days")? })
}

fn pay_line_of(r: &AnyRow) -> Result<PayLine> {
    Ok(PayLine {
        worker: r.try_get("worker_id")?,
        month: date_of(r, "month")?,
        due: r.try_get("due_fen")?,
        deductions: r.try_get("deductions_fen")?,
        signed: r.try_get::<i64, _>("signed")? != 0,
        complete: r.try_get::<i64, _>("complete")? != 0,
        overtime: r.try_get("overtime_fen")?,
        payslip: r.try_get::<Option<i64>, _>("payslip")?.map(|v| v != 0),
    })
}

fn payment_of(r: &AnyRow) -> Result<Payment> {
    Ok(Payment {
        worker: r.try_get("worker_id")?,
        month: date_of(r, "month")?,
        amount: r.try_get("amount_fen")?,
        on: date_of(r, "paid_on")?,
        method: PayMethod::parse(&r.try_get::<String, _>("method")?).unwrap_or(PayMethod::Bank),
    })
}

fn complaint_of(r: &AnyRow) -> Result<Complaint> {
    Ok(Complaint {
        received_on: date_of(r, "received_on")?,
        channel: r.try_get("channel")?,
        collective: r.try_get::<i64, _>("collective")? != 0,
    })
}

/// A signal; a kind this release does not know is skipped.
fn signal_of(r: &AnyRow) -> Result<Option<Signal>> {
    let kind: String = r.try_get("kind")?;
    let Some(kind) = SignalKind::parse(&kind) else { return Ok(None) };
    Ok(Some(Signal { kind, on: date_of(r, "on_date")?, value: r.try_get("value")? }))
}

/// The facts of the projects as a batch for the warning rules, with who each one is.
pub async fn subjects(
    which: Which<'_>,
    schema: &Schema,
    today: Date,
    cal: &WorkCalendar,
    params: &WageParams,
) -> Result<(Batch, Vec<Subject>)> {
    let projects = load(which).await?;
    let facts: Vec<Facts> = projects.iter().map(|(_, d)| project_facts(d, today, cal, params)).collect();
    let batch = Batch::from_facts(schema, &facts).map_err(StoreError::Other)?;
    let subjects = projects
        .into_iter()
        .map(|(r, _)| Subject { id: r.code, name: r.name, division_code: Some(r.division_code), grid_id: r.grid_id })
        .collect();
    Ok((batch, subjects))
}

/// The facts of one project today, for its page.
pub async fn facts_of(
    conn: &mut Conn,
    code: &str,
    today: Date,
    cal: &WorkCalendar,
    params: &WageParams,
) -> Result<Facts> {
    let list = load(Which::One(conn, code)).await?;
    let (_, d) = list.into_iter().next().ok_or_else(|| StoreError::NotFound(format!("项目 {code}")))?;
    Ok(project_facts(&d, today, cal, params))
}
