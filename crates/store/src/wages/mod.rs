//! 满薪满益 storage: construction projects, the special account and deposit, workers,
//! attendance, payroll, payments, complaints and outside signals; loading them as
//! `domain::wages::ProjectData` for the warning rules; pages' queries.

pub mod complaints;
pub mod contracts;
pub mod demo;
mod facts;
pub mod ingest;
mod insert;
pub mod labor;
pub mod refund;
pub mod talent;

use crate::org::RowScope;
use crate::sql::{PageRequest, Paged, Sql, like_escape};
use crate::{Conn, Db, Result, StoreError};
use domain::rules::Level;
use domain::wages::{ComplaintStatus, Deposit, DepositMode, ProjectStatus};
use sqlx::Row;
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
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub status: ProjectStatus,
    pub contract_value_fen: i64,
    pub government_funded: i64,
    pub contract_signed_on: Option<String>,
    pub permit_on: Option<String>,
    pub permit_exempt: i64,
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
    contract_signed_on, permit_on, permit_exempt, start_on, finish_on, registered_on, tripartite_on, builder_uscc, builder_name, contractor_uscc,
    contractor_name, labor_manager_name, labor_manager_phone, notice_board_on, payment_guarantee, pay_day,
    progress_paid_fen, gov_funds_required_fen, gov_funds_in_place_fen";

pub use facts::{Projects, Which, facts_of, load, subjects};
pub use insert::insert_project_data;

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
    /// 应发.
    pub due_fen: i64,
    /// 实发: 应发 less what was withheld (art. 15 ¶2), what payments are held against.
    pub net_fen: i64,
    /// Paid (到账).
    pub paid_fen: i64,
    pub paid_via_account_fen: i64,
    pub unsigned: i64,
}

pub async fn months(db: &Db, project_id: &str) -> Result<Vec<MonthLine>> {
    let rows = sqlx::query(
        "SELECT m.month,
            (SELECT COUNT(*) FROM wage_attendance a WHERE a.project_id = $1 AND a.month = m.month AND a.days > 0) AS attending,
            (SELECT COUNT(*) FROM wage_payroll l WHERE l.project_id = $1 AND l.month = m.month) AS on_payroll,
            (SELECT CAST(COALESCE(SUM(CASE WHEN due_fen > 10000000000000 THEN 10000000000000 ELSE due_fen END), 0) AS BIGINT) FROM wage_payroll l WHERE l.project_id = $1 AND l.month = m.month) AS due_fen,
            (SELECT CAST(COALESCE(SUM(CASE WHEN due_fen - deductions_fen > 10000000000000 THEN 10000000000000 WHEN due_fen < deductions_fen THEN 0 ELSE due_fen - deductions_fen END), 0) AS BIGINT) FROM wage_payroll l WHERE l.project_id = $1 AND l.month = m.month) AS net_fen,
            (SELECT CAST(COALESCE(SUM(CASE WHEN amount_fen > 10000000000000 THEN 10000000000000 ELSE amount_fen END), 0) AS BIGINT) FROM wage_payments x WHERE x.project_id = $1 AND x.month = m.month) AS paid_fen,
            (SELECT CAST(COALESCE(SUM(CASE WHEN amount_fen > 10000000000000 THEN 10000000000000 ELSE amount_fen END), 0) AS BIGINT) FROM wage_payments x WHERE x.project_id = $1 AND x.month = m.month AND x.method = 'bank') AS via,
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
                net_fen: r.try_get("net_fen")?,
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

/// A project's workers by team and name, numbers in names in numeric order (工人2 before 工人10).
pub async fn workers(db: &Db, project_id: &str) -> Result<Vec<WorkerRow>> {
    let mut rows: Vec<WorkerRow> = sqlx::query_as(
        "SELECT id, id_card_no, name, phone, bank, bank_card, team, registered, contract, joined_on, left_on, settled_on
         FROM wage_workers WHERE project_id = $1",
    )
    .bind(project_id)
    .fetch_all(db.reader())
    .await?;
    rows.sort_by(|a, b| {
        domain::text::natural_cmp(&a.team, &b.team).then_with(|| domain::text::natural_cmp(&a.name, &b.name))
    });
    Ok(rows)
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
    #[sqlx(try_from = "String")]
    pub status: ComplaintStatus,
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
            (SELECT CAST(COALESCE(SUM(CASE WHEN amount_fen > 10000000000000 THEN 10000000000000 ELSE amount_fen END), 0) AS BIGINT) FROM wage_allocations WHERE project_id = $1) AS allocated,
            (SELECT CAST(COALESCE(SUM(CASE WHEN amount_fen > 10000000000000 THEN 10000000000000 ELSE amount_fen END), 0) AS BIGINT) FROM wage_payments WHERE project_id = $1 AND method = 'bank') AS paid
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
        "SELECT mode, required_fen, paid_fen, drawn_fen, drawn_on, topped_up_fen, guarantee_fen, guarantee_until
         FROM wage_deposits WHERE project_id = $1",
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
            guarantee: r.try_get("guarantee_fen")?,
            guarantee_until: date_opt(r.try_get("guarantee_until")?),
        })
    })
    .transpose()
}

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

/// Alerts about a project (open first), for its page: contractors see theirs here.
pub async fn project_alerts(db: &Db, code: &str) -> Result<Vec<crate::alerts::AlertRow>> {
    crate::alerts::for_subject(db, "wage_project", code).await
}

/// The highest open alert level and the number of open alerts per project code.
pub async fn open_alert_levels(db: &Db) -> Result<HashMap<String, (Level, i64)>> {
    let rows = sqlx::query(
        "SELECT subject_id, MIN(CASE level WHEN 'red' THEN 0 WHEN 'orange' THEN 1 ELSE 2 END) AS rank, COUNT(*) AS n
         FROM alerts WHERE subject_type = 'wage_project' AND status <> 'closed' GROUP BY subject_id",
    )
    .fetch_all(db.reader())
    .await?;
    let mut out = HashMap::new();
    for r in rows {
        let rank: i64 = r.try_get("rank")?;
        let level = [Level::Red, Level::Orange, Level::Yellow][rank.clamp(0, 2) as usize];
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
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN status = 'building' THEN 1 ELSE 0 END), 0) AS BIGINT) FROM wage_projects WHERE id IN (",
    );
    sql.append(&q).push(")");
    let (projects, building): (i64, i64) = sql.query_as().fetch_one(db.reader()).await?;
    let count = |table: &str, expr: &str| {
        let mut s = Sql::new(&format!("SELECT COALESCE({expr}, 0) FROM {table} WHERE project_id IN ("));
        s.append(&q).push(")");
        s
    };
    let workers: i64 = count("wage_workers", "COUNT(*)").query_scalar().fetch_one(db.reader()).await?;
    let contracts: i64 =
        count("wage_workers", "CAST(SUM(contract) AS BIGINT)").query_scalar().fetch_one(db.reader()).await?;
    let e_contracts: i64 =
        count("wage_contracts", "CAST(SUM(CASE WHEN status = 'signed' THEN 1 ELSE 0 END) AS BIGINT)")
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

#[cfg(test)]
mod tests {
    use super::*;
    use domain::calendar::WorkCalendar;
    use domain::wages::demo::{CaseCtx, cases, clean_project};
    use domain::wages::project_facts;

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
        assert!(wage.iter().any(|a| a.indicator == "wages.arrears" && a.level == Level::Red));
    }
}
