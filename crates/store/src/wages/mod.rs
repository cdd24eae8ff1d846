//! 满薪满益 storage: construction projects, the special account and deposit, workers,
//! attendance, payroll, payments, complaints and outside signals; loading them as
//! `domain::wages::ProjectData` for the warning rules; pages' queries.

pub mod contracts;
pub mod demo;
pub mod ingest;
pub mod labor;
pub mod talent;

use crate::alerts::{SourceFuture, Subject, SubjectSource};
use crate::config::CityConfig;
use crate::org::RowScope;
use crate::sql::{PageRequest, Paged, Sql, like_escape};
use crate::{Conn, Db, Result, StoreError};
use domain::calendar::WorkCalendar;
use domain::expr::{Batch, Facts, Schema};
use domain::wages::{
    Attendance, Complaint, Deposit, DepositMode, PayLine, PayMethod, Payment, ProjectData, ProjectStatus, Signal,
    SignalKind, WageParams, Worker, project_facts,
};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use time::Date;

pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), &time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn date_opt(s: Option<String>) -> Option<Date> {
    s.as_deref().and_then(parse_date)
}

/// A project as lists and pages show it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ProjectRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub address: String,
    pub division_code: String,
    pub grid_id: Option<String>,
    pub status: String,
    pub contract_value_fen: i64,
    pub government_funded: i64,
    pub contract_signed_on: Option<String>,
    pub start_on: Option<String>,
    pub finish_on: Option<String>,
    pub registered_on: Option<String>,
    pub tripartite_on: Option<String>,
    pub builder_uscc: String,
    pub builder_name: String,
    pub contractor_uscc: String,
    pub contractor_name: String,
    pub labor_manager_name: String,
    pub labor_manager_phone: String,
    pub notice_board_on: Option<String>,
    pub payment_guarantee: i64,
    pub pay_day: i64,
    pub progress_paid_fen: i64,
    pub gov_funds_required_fen: i64,
    pub gov_funds_in_place_fen: i64,
}

const PROJECT_COLUMNS: &str =
    "id, code, name, address, division_code, grid_id, status, contract_value_fen, government_funded,
    contract_signed_on, start_on, finish_on, registered_on, tripartite_on, builder_uscc, builder_name, contractor_uscc,
    contractor_name, labor_manager_name, labor_manager_phone, notice_board_on, payment_guarantee, pay_day,
    progress_paid_fen, gov_funds_required_fen, gov_funds_in_place_fen";

/// Which projects to load: all (from the readers) or one (from the caller's transaction).
/// Which projects to load (the alert engine's choice of subjects).
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

/// The ten queries of [`load`], in the order it reads them: the projects with their account and
/// deposit, then per project its allocations, workers, attendance, payroll, payments,
/// complaints and signals, then the employer-level complaints and signals. With `one`, each
/// takes the project code as `$1`.
fn load_queries(one: bool) -> [String; 10] {
    let filter = if one { " WHERE p.code = $1" } else { "" };
    let projects_sql = format!(
        "SELECT {cols}, a.opened_on AS account_opened_on, d.mode AS deposit_mode, d.required_fen, d.paid_fen, d.drawn_fen,
            d.drawn_on, d.topped_up_fen
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
        by_project("wage_payroll", "worker_id, month, due_fen, signed, complete"),
        by_project("wage_payments", "worker_id, month, amount_fen, paid_on, method"),
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
        },
        None => Deposit::default(),
    };
    let data = ProjectData {
        code: row.code.clone(),
        status: ProjectStatus::parse(&row.status).unwrap_or(ProjectStatus::Building),
        contract_value: row.contract_value_fen,
        government_funded: row.government_funded != 0,
        contract_signed_on: date_opt(row.contract_signed_on.clone()),
        start_on: date_opt(row.start_on.clone()),
        registered_on: date_opt(row.registered_on.clone()),
        account_opened_on: date_opt(r.try_get("account_opened_on")?),
        tripartite_on: date_opt(row.tripartite_on.clone()),
        labor_manager: !row.labor_manager_name.trim().is_empty(),
        notice_board: row.notice_board_on.is_some(),
        payment_guarantee: row.payment_guarantee != 0,
        pay_day: row.pay_day.clamp(1, 28) as u8,
        progress_paid: row.progress_paid_fen,
        gov_funds_required: row.gov_funds_required_fen,
        gov_funds_in_place: row.gov_funds_in_place_fen,
        deposit,
        allocations: vec![],
        workers: vec![],
        attendance: vec![],
        payroll: vec![],
        payments: vec![],
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
        signed: r.try_get::<i64, _>("signed")? != 0,
        complete: r.try_get::<i64, _>("complete")? != 0,
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

// ---------------------------------------------------------------- lists and pages

#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    pub q: Option<String>,
    pub status: Option<String>,
    pub division: Option<String>,
}

fn project_where(scope: &RowScope, f: &ProjectFilter, q: &mut Sql) {
    q.push(" WHERE 1 = 1");
    let mut inner = Sql::new("");
    scope.apply(&mut inner, "contractor_uscc", true);
    q.append(&inner);
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND status = ").bind(s);
    }
    if let Some(d) = f.division.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND division_code LIKE ").bind(format!("{}%", like_escape(d))).push(" ESCAPE '\\'");
    }
    if let Some(t) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = format!("%{}%", like_escape(t));
        q.push(" AND (name LIKE ").bind(like.clone()).push(" ESCAPE '\\' OR code LIKE ");
        q.bind(like.clone()).push(" ESCAPE '\\' OR contractor_name LIKE ").bind(like).push(" ESCAPE '\\')");
    }
}

pub async fn list_projects(
    db: &Db,
    scope: &RowScope,
    f: &ProjectFilter,
    page: PageRequest,
) -> Result<Paged<ProjectRow>> {
    let select = format!("SELECT {PROJECT_COLUMNS}");
    crate::sql::paged(db, &select, "FROM wage_projects", |q| project_where(scope, f, q), "code", page).await
}

/// A project by code inside the caller's transaction, without a scope (internal callers).
pub async fn project_in(conn: &mut Conn, code: &str) -> Result<ProjectRow> {
    sqlx::query_as(&format!("SELECT {PROJECT_COLUMNS} FROM wage_projects WHERE code = $1"))
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("项目 {code}")))
}

pub async fn project(db: &Db, scope: &RowScope, code: &str) -> Result<ProjectRow> {
    let mut q = Sql::new(&format!("SELECT {PROJECT_COLUMNS} FROM wage_projects"));
    project_where(scope, &ProjectFilter::default(), &mut q);
    q.push(" AND code = ").bind(code);
    q.query_as().fetch_optional(db.reader()).await?.ok_or_else(|| StoreError::NotFound(format!("项目 {code}")))
}

/// Per wage month of a project: headcounts and money, for the project page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MonthLine {
    pub month: String,
    pub attending: i64,
    pub on_payroll: i64,
    pub due_fen: i64,
    pub paid_fen: i64,
    pub paid_via_account_fen: i64,
    pub unsigned: i64,
}

pub async fn months(db: &Db, project_id: &str) -> Result<Vec<MonthLine>> {
    let rows = sqlx::query(
        "SELECT m.month,
            (SELECT COUNT(*) FROM wage_attendance a WHERE a.project_id = $1 AND a.month = m.month AND a.days > 0) AS attending,
            (SELECT COUNT(*) FROM wage_payroll l WHERE l.project_id = $1 AND l.month = m.month) AS on_payroll,
            (SELECT COALESCE(SUM(CASE WHEN due_fen > 10000000000000 THEN 10000000000000 ELSE due_fen END), 0) FROM wage_payroll l WHERE l.project_id = $1 AND l.month = m.month) AS due_fen,
            (SELECT COALESCE(SUM(CASE WHEN amount_fen > 10000000000000 THEN 10000000000000 ELSE amount_fen END), 0) FROM wage_payments x WHERE x.project_id = $1 AND x.month = m.month) AS paid_fen,
            (SELECT COALESCE(SUM(CASE WHEN amount_fen > 10000000000000 THEN 10000000000000 ELSE amount_fen END), 0) FROM wage_payments x WHERE x.project_id = $1 AND x.month = m.month AND x.method = 'bank') AS via,
            (SELECT COUNT(*) FROM wage_payroll l WHERE l.project_id = $1 AND l.month = m.month AND l.signed = 0) AS unsigned
         FROM (SELECT month FROM wage_attendance WHERE project_id = $1 UNION SELECT month FROM wage_payroll WHERE project_id = $1
               UNION SELECT month FROM wage_payments WHERE project_id = $1) m
         ORDER BY m.month DESC",
    )
    .bind(project_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MonthLine {
                month: r.try_get::<String, _>("month")?.chars().take(7).collect(),
                attending: r.try_get("attending")?,
                on_payroll: r.try_get("on_payroll")?,
                due_fen: r.try_get("due_fen")?,
                paid_fen: r.try_get("paid_fen")?,
                paid_via_account_fen: r.try_get("via")?,
                unsigned: r.try_get("unsigned")?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct WorkerRow {
    pub id: String,
    pub id_card_no: String,
    pub name: String,
    pub phone: String,
    pub bank: String,
    pub bank_card: String,
    pub team: String,
    pub registered: i64,
    pub contract: i64,
    pub joined_on: String,
    pub left_on: Option<String>,
    pub settled_on: Option<String>,
}

pub async fn workers(db: &Db, project_id: &str) -> Result<Vec<WorkerRow>> {
    Ok(sqlx::query_as(
        "SELECT id, id_card_no, name, phone, bank, bank_card, team, registered, contract, joined_on, left_on, settled_on
         FROM wage_workers WHERE project_id = $1 ORDER BY team, name",
    )
    .bind(project_id)
    .fetch_all(db.reader())
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct SignalRow {
    pub kind: String,
    pub on_date: String,
    pub value: i64,
    pub note: String,
    pub source: String,
}

/// The project's signals and its contractor's, newest first (utility readings left out).
pub async fn signals(db: &Db, p: &ProjectRow) -> Result<Vec<SignalRow>> {
    Ok(sqlx::query_as(
        "SELECT kind, on_date, value, note, source FROM wage_signals
         WHERE (project_id = $1 OR (project_id IS NULL AND employer_uscc <> '' AND employer_uscc = $2))
           AND kind NOT IN ('water', 'electricity', 'gas')
         ORDER BY on_date DESC LIMIT 50",
    )
    .bind(&p.id)
    .bind(&p.contractor_uscc)
    .fetch_all(db.reader())
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ComplaintRow {
    pub id: String,
    pub channel: String,
    pub complainant: String,
    pub amount_fen: i64,
    pub received_on: String,
    pub collective: i64,
    pub status: String,
    pub recovered_fen: i64,
}

pub async fn complaints(db: &Db, p: &ProjectRow) -> Result<Vec<ComplaintRow>> {
    Ok(sqlx::query_as(
        "SELECT id, channel, complainant, amount_fen, received_on, collective, status, recovered_fen FROM wage_complaints
         WHERE project_id = $1 OR (project_id IS NULL AND employer_uscc <> '' AND employer_uscc = $2)
         ORDER BY received_on DESC",
    )
    .bind(&p.id)
    .bind(&p.contractor_uscc)
    .fetch_all(db.reader())
    .await?)
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AccountView {
    pub bank: String,
    pub account_no: String,
    pub opened_on: String,
    pub allocated_fen: i64,
    pub paid_out_fen: i64,
}

pub async fn account(db: &Db, project_id: &str) -> Result<Option<AccountView>> {
    let row = sqlx::query(
        "SELECT a.bank, a.account_no, a.opened_on,
            (SELECT COALESCE(SUM(CASE WHEN amount_fen > 10000000000000 THEN 10000000000000 ELSE amount_fen END), 0) FROM wage_allocations WHERE project_id = $1) AS allocated,
            (SELECT COALESCE(SUM(CASE WHEN amount_fen > 10000000000000 THEN 10000000000000 ELSE amount_fen END), 0) FROM wage_payments WHERE project_id = $1 AND method = 'bank') AS paid
         FROM wage_accounts a WHERE a.project_id = $1",
    )
    .bind(project_id)
    .fetch_optional(db.reader())
    .await?;
    row.map(|r| {
        Ok(AccountView {
            bank: r.try_get("bank")?,
            account_no: r.try_get("account_no")?,
            opened_on: r.try_get("opened_on")?,
            allocated_fen: r.try_get("allocated")?,
            paid_out_fen: r.try_get("paid")?,
        })
    })
    .transpose()
}

pub async fn deposit(db: &Db, project_id: &str) -> Result<Option<Deposit>> {
    let row = sqlx::query(
        "SELECT mode, required_fen, paid_fen, drawn_fen, drawn_on, topped_up_fen FROM wage_deposits WHERE project_id = $1",
    )
    .bind(project_id)
    .fetch_optional(db.reader())
    .await?;
    row.map(|r| {
        Ok(Deposit {
            mode: DepositMode::parse(&r.try_get::<String, _>("mode")?).unwrap_or(DepositMode::None),
            required: r.try_get("required_fen")?,
            paid: r.try_get("paid_fen")?,
            drawn: r.try_get("drawn_fen")?,
            drawn_on: date_opt(r.try_get("drawn_on")?),
            topped_up: r.try_get("topped_up_fen")?,
        })
    })
    .transpose()
}

/// Alerts about a project (open first), for its page: contractors see theirs here.
/// The alerts about an enterprise as employer and about its projects as contractor: what the
/// enterprise itself may read.
pub async fn enterprise_alerts(db: &Db, uscc: &str) -> Result<Vec<crate::alerts::AlertRow>> {
    Ok(sqlx::query_as::<_, crate::alerts::AlertRow>(
        "SELECT id, indicator, subject_type, subject_id, subject_name, division_code, grid_id, level, status, cleared, opened_at, updated_at
         FROM alerts WHERE (subject_type = 'employer' AND subject_id = $1)
            OR (subject_type = 'wage_project' AND subject_id IN (SELECT code FROM wage_projects WHERE contractor_uscc = $1))
         ORDER BY CASE WHEN status = 'closed' THEN 1 ELSE 0 END, opened_at DESC",
    )
    .bind(uscc)
    .fetch_all(db.reader())
    .await?)
}

/// One of [`enterprise_alerts`], with its facts and history; any other reads as not found.
pub async fn enterprise_alert(db: &Db, uscc: &str, id: &str) -> Result<crate::alerts::AlertDetail> {
    if !enterprise_alerts(db, uscc).await?.iter().any(|a| a.id == id) {
        return Err(StoreError::NotFound("通知".into()));
    }
    crate::alerts::get(db, &RowScope::All, id).await
}

pub async fn project_alerts(db: &Db, code: &str) -> Result<Vec<crate::alerts::AlertRow>> {
    crate::alerts::for_subject(db, "wage_project", code).await
}

/// The highest open alert level and the number of open alerts per project code.
pub async fn open_alert_levels(db: &Db) -> Result<HashMap<String, (String, i64)>> {
    let rows = sqlx::query(
        "SELECT subject_id, MIN(CASE level WHEN 'red' THEN 0 WHEN 'orange' THEN 1 ELSE 2 END) AS rank, COUNT(*) AS n
         FROM alerts WHERE subject_type = 'wage_project' AND status <> 'closed' GROUP BY subject_id",
    )
    .fetch_all(db.reader())
    .await?;
    let mut out = HashMap::new();
    for r in rows {
        let rank: i64 = r.try_get("rank")?;
        let level = ["red", "orange", "yellow"][rank.clamp(0, 2) as usize].to_string();
        out.insert(r.try_get("subject_id")?, (level, r.try_get("n")?));
    }
    Ok(out)
}

/// Platform-wide figures for the statistics page (the measures the reference reports).
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub projects: i64,
    pub projects_building: i64,
    /// Distinct contractors of the projects.
    pub contractors: i64,
    pub workers: i64,
    /// Workers with a labor contract.
    pub contracts: i64,
    /// Electronic contracts signed by both parties on the platform.
    pub e_contracts: i64,
    /// Enterprises with a login on the platform (registered users).
    pub enterprise_users: i64,
    pub wages_paid_fen: i64,
    pub complaints: i64,
    pub recovered_fen: i64,
    pub notices: i64,
    pub rectification_orders: i64,
}

pub async fn totals(db: &Db, scope: &RowScope) -> Result<Totals> {
    let mut q = Sql::new("SELECT id FROM wage_projects");
    project_where(scope, &ProjectFilter::default(), &mut q);
    let mut sql = Sql::new(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'building' THEN 1 ELSE 0 END), 0) FROM wage_projects WHERE id IN (",
    );
    sql.append(&q).push(")");
    let (projects, building): (i64, i64) = sql.query_as().fetch_one(db.reader()).await?;
    let count = |table: &str, expr: &str| {
        let mut s = Sql::new(&format!("SELECT COALESCE({expr}, 0) FROM {table} WHERE project_id IN ("));
        s.append(&q).push(")");
        s
    };
    let workers: i64 = count("wage_workers", "COUNT(*)").query_scalar().fetch_one(db.reader()).await?;
    let contracts: i64 = count("wage_workers", "SUM(contract)").query_scalar().fetch_one(db.reader()).await?;
    let e_contracts: i64 = count("wage_contracts", "SUM(CASE WHEN status = 'signed' THEN 1 ELSE 0 END)")
        .query_scalar()
        .fetch_one(db.reader())
        .await?;
    // Registered users are city-wide: an account is not a project's.
    let enterprise_users: i64 =
        sqlx::query_scalar("SELECT COUNT(DISTINCT uscc) FROM users WHERE kind = 'enterprise' AND status = 'active'")
            .fetch_one(db.reader())
            .await?;
    let mut s =
        Sql::new("SELECT COUNT(DISTINCT contractor_uscc) FROM wage_projects WHERE contractor_uscc <> '' AND id IN (");
    s.append(&q).push(")");
    let contractors: i64 = s.query_scalar().fetch_one(db.reader()).await?;
    let paid: i64 =
        count("wage_payments", &crate::sql::sum_fen("amount_fen")).query_scalar().fetch_one(db.reader()).await?;
    let complaints: i64 = count("wage_complaints", "COUNT(*)").query_scalar().fetch_one(db.reader()).await?;
    let recovered: i64 =
        count("wage_complaints", &crate::sql::sum_fen("recovered_fen")).query_scalar().fetch_one(db.reader()).await?;
    let docs = |kind: &str| {
        let mut s = Sql::new("SELECT COUNT(*) FROM alerts WHERE subject_type = 'wage_project' AND state LIKE ");
        s.bind(format!("%\"kind\":\"{kind}\"%"));
        s.push(" AND subject_id IN (SELECT code FROM wage_projects WHERE id IN (").append(&q).push("))");
        s
    };
    let notices: i64 = docs("notice_letter").query_scalar().fetch_one(db.reader()).await?;
    let orders: i64 = docs("rectification_order").query_scalar().fetch_one(db.reader()).await?;
    Ok(Totals {
        projects,
        projects_building: building,
        contractors,
        workers,
        contracts,
        e_contracts,
        enterprise_users,
        wages_paid_fen: paid,
        complaints,
        recovered_fen: recovered,
        notices,
        rectification_orders: orders,
    })
}

/// Writes a whole project as `domain::wages::ProjectData` describes it: the demo city's
/// projects, and tests. Workers get valid generated ID numbers; `source` marks the rows.
pub async fn insert_project_data(
    conn: &mut Conn,
    now: time::OffsetDateTime,
    p: &ProjectData,
    name: &str,
    division_code: &str,
    contractor: (&str, &str),
    source: &str,
) -> Result<String> {
    let id = insert_project_row(conn, now, p, name, division_code, contractor, source).await?;
    let ids = insert_workers(conn, now, p, &id, division_code, source).await?;
    insert_months(conn, now, p, &id, &ids, source).await?;
    insert_events(conn, now, p, &id, source).await?;
    Ok(id)
}

/// The project with its special account, deposit and allocations; its id.
async fn insert_project_row(
    conn: &mut Conn,
    now: time::OffsetDateTime,
    p: &ProjectData,
    name: &str,
    division_code: &str,
    contractor: (&str, &str),
    source: &str,
) -> Result<String> {
    let id = crate::new_id();
    let ms = domain::clock::to_millis(now);
    let d = |x: Option<Date>| x.map(|d| d.to_string());
    sqlx::query(
        "INSERT INTO wage_projects (id, code, name, division_code, status, contract_value_fen, government_funded,
            contract_signed_on, start_on, registered_on, tripartite_on, contractor_uscc, contractor_name, labor_manager_name,
            notice_board_on, payment_guarantee, pay_day, progress_paid_fen, gov_funds_required_fen, gov_funds_in_place_fen,
            source, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22)",
    )
    .bind(&id)
    .bind(&p.code)
    .bind(name)
    .bind(division_code)
    .bind(p.status.as_str())
    .bind(p.contract_value)
    .bind(i64::from(p.government_funded))
    .bind(d(p.contract_signed_on))
    .bind(d(p.start_on))
    .bind(d(p.registered_on))
    .bind(d(p.tripartite_on))
    .bind(contractor.0)
    .bind(contractor.1)
    .bind(if p.labor_manager { "劳资专管员" } else { "" })
    .bind(if p.notice_board { d(p.start_on.or(Some(now.date()))) } else { None })
    .bind(i64::from(p.payment_guarantee))
    .bind(i64::from(p.pay_day))
    .bind(p.progress_paid)
    .bind(p.gov_funds_required)
    .bind(p.gov_funds_in_place)
    .bind(source)
    .bind(ms)
    .execute(&mut *conn)
    .await?;
    if let Some(opened) = p.account_opened_on {
        sqlx::query("INSERT INTO wage_accounts (project_id, bank, account_no, opened_on) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind("中国工商银行亳州分行")
            .bind(format!("1306{:012}", ms % 1_000_000_000_000))
            .bind(opened.to_string())
            .execute(&mut *conn)
            .await?;
    }
    let dep = &p.deposit;
    sqlx::query(
        "INSERT INTO wage_deposits (project_id, mode, required_fen, paid_fen, drawn_fen, drawn_on, topped_up_fen, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(dep.mode.as_str())
    .bind(dep.required)
    .bind(dep.paid)
    .bind(dep.drawn)
    .bind(d(dep.drawn_on))
    .bind(dep.topped_up)
    .bind(ms)
    .execute(&mut *conn)
    .await?;
    for (i, (on, amount)) in p.allocations.iter().enumerate() {
        sqlx::query(
            "INSERT INTO wage_allocations (id, project_id, on_date, amount_fen, source, external_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(crate::new_id())
        .bind(&id)
        .bind(on.to_string())
        .bind(amount)
        .bind(source)
        .bind(format!("{}-A{i}", p.code))
        .bind(ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// The real-name workers with generated valid ID numbers; the data's worker ids to stored ids.
async fn insert_workers<'p>(
    conn: &mut Conn,
    now: time::OffsetDateTime,
    p: &'p ProjectData,
    id: &str,
    division_code: &str,
    source: &str,
) -> Result<HashMap<&'p str, String>> {
    let ms = domain::clock::to_millis(now);
    let d = |x: Option<Date>| x.map(|d| d.to_string());
    let mut ids: HashMap<&str, String> = HashMap::new();
    for (i, w) in p.workers.iter().enumerate() {
        let wid = crate::new_id();
        let body = format!("{}1990{:02}{:02}{:03}", &division_code[..6], 1 + i % 12, 1 + i % 28, i % 1000);
        let card = domain::IdCardNo::from_body(&body).map(|c| c.as_str().to_string()).unwrap_or(body);
        sqlx::query(
            "INSERT INTO wage_workers (id, project_id, id_card_no, name, registered, contract, joined_on, left_on, settled_on,
                source, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(&wid)
        .bind(id)
        .bind(card)
        .bind(format!("工人{}", i + 1))
        .bind(i64::from(w.registered))
        .bind(i64::from(w.contract))
        .bind(w.joined_on.to_string())
        .bind(d(w.left_on))
        .bind(if w.settled { d(w.left_on) } else { None })
        .bind(source)
        .bind(ms)
        .execute(&mut *conn)
        .await?;
        ids.insert(w.id.as_str(), wid);
    }
    Ok(ids)
}

/// Attendance, payroll and payments.
async fn insert_months(
    conn: &mut Conn,
    now: time::OffsetDateTime,
    p: &ProjectData,
    id: &str,
    ids: &HashMap<&str, String>,
    source: &str,
) -> Result<()> {
    let ms = domain::clock::to_millis(now);
    let wid = |w: &str| ids.get(w).cloned().ok_or_else(|| StoreError::Other(format!("未知工人 {w}")));
    for a in &p.attendance {
        sqlx::query(
            "INSERT INTO wage_attendance (worker_id, month, project_id, days, source) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(wid(&a.worker)?)
        .bind(a.month.to_string())
        .bind(id)
        .bind(a.days)
        .bind(source)
        .execute(&mut *conn)
        .await?;
    }
    for l in &p.payroll {
        sqlx::query(
            "INSERT INTO wage_payroll (worker_id, month, project_id, due_fen, signed, complete, source)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(wid(&l.worker)?)
        .bind(l.month.to_string())
        .bind(id)
        .bind(l.due)
        .bind(i64::from(l.signed))
        .bind(i64::from(l.complete))
        .bind(source)
        .execute(&mut *conn)
        .await?;
    }
    for (i, x) in p.payments.iter().enumerate() {
        sqlx::query(
            "INSERT INTO wage_payments (id, project_id, worker_id, month, amount_fen, paid_on, method, source, external_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(crate::new_id())
        .bind(id)
        .bind(wid(&x.worker)?)
        .bind(x.month.to_string())
        .bind(x.amount)
        .bind(x.on.to_string())
        .bind(x.method.as_str())
        .bind(source)
        .bind(format!("{}-P{i}", p.code))
        .bind(ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Complaints and signals.
async fn insert_events(
    conn: &mut Conn,
    now: time::OffsetDateTime,
    p: &ProjectData,
    id: &str,
    source: &str,
) -> Result<()> {
    let ms = domain::clock::to_millis(now);
    for (i, c) in p.complaints.iter().enumerate() {
        sqlx::query(
            "INSERT INTO wage_complaints (id, project_id, channel, received_on, collective, source, external_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(crate::new_id())
        .bind(id)
        .bind(&c.channel)
        .bind(c.received_on.to_string())
        .bind(i64::from(c.collective))
        .bind(source)
        .bind(format!("{}-C{i}", p.code))
        .bind(ms)
        .execute(&mut *conn)
        .await?;
    }
    for (i, s) in p.signals.iter().enumerate() {
        sqlx::query(
            "INSERT INTO wage_signals (id, project_id, kind, on_date, value, source, external_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(crate::new_id())
        .bind(id)
        .bind(s.kind.as_str())
        .bind(s.on.to_string())
        .bind(s.value)
        .bind(source)
        .bind(format!("{}-S{i}", p.code))
        .bind(ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::wages::demo::{CaseCtx, cases, clean_project};

    /// What is written is read back with the same facts, and the warning rules see it: the
    /// clean project raises nothing, the arrears case its red alert.
    #[tokio::test]
    async fn projects_round_trip_and_feed_the_warning_rules() {
        let (db, _dir) = crate::testing::db().await;
        let cfg = crate::config::load(&crate::config::ConfigSource::Embedded).unwrap();
        let now = time::macros::datetime!(2026-11-16 10:00 +8);
        crate::demo::bootstrap(&db, &cfg, now).await.unwrap();
        let cal = WorkCalendar::new(cfg.holidays.clone(), cfg.city.working_hours.clone());
        let today = time::macros::date!(2026 - 11 - 16);
        let cx = CaseCtx::new(today, &cal);
        let clean = clean_project("P-CLEAN", &cx);
        let mut arrears = clean_project("P-ARREARS", &cx);
        let (_, _, change) = cases().into_iter().find(|(id, ..)| *id == "wages.arrears").unwrap();
        change(&mut arrears, &cx);
        let mut tx = db.begin().await.unwrap();
        for (p, name) in [(&clean, "干净项目"), (&arrears, "欠薪项目")] {
            insert_project_data(&mut tx, now, p, name, "341602", ("", ""), "test").await.unwrap();
        }
        tx.commit().await.unwrap();
        let loaded = load(Which::All(&db)).await.unwrap();
        assert_eq!(loaded.len(), 2);
        for (row, data) in &loaded {
            let original = if row.code == "P-CLEAN" { &clean } else { &arrears };
            assert_eq!(
                project_facts(data, today, &cal, &cfg.city.wages),
                project_facts(original, today, &cal, &cfg.city.wages),
                "{}",
                row.code
            );
        }
        let report = crate::alerts::run_all(&db, &cfg, &cal, crate::cases::SUBJECT_SOURCES, now).await.unwrap();
        assert!(report.opened >= 1, "{report:?}");
        let rows = crate::alerts::list(&db, &RowScope::All, &Default::default(), PageRequest::all()).await.unwrap();
        let wage: Vec<_> = rows.items.iter().filter(|a| a.subject_type == "wage_project").collect();
        assert!(wage.iter().all(|a| a.subject_id == "P-ARREARS"), "the clean project is silent");
        assert!(wage.iter().any(|a| a.indicator == "wages.arrears" && a.level == "red"));
    }
}
