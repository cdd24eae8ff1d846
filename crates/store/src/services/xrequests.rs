//! 跨部门证明协查: a reviewer asks another department to confirm a fact; that department's
//! staff answer in the platform within the request's own deadline (working days).

use crate::config::CityConfig;
use crate::notify::{self, To};
use crate::{Conn, Db, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::calendar::WorkCalendar;
use domain::clock::{from_local, local, to_millis};
use domain::workflow::Actor;
use time::OffsetDateTime;

/// Working days the asked department has to answer.
pub const ANSWER_DAYS: u32 = 3;

/// The job that reminds both departments when a request is still unanswered at its deadline.
pub const DUE_JOB: &str = "services.xrequest_due";

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct XRequest {
    pub id: String,
    pub application_id: String,
    pub from_dept: String,
    pub to_dept: String,
    pub question: String,
    pub asked_by_name: String,
    pub asked_at: i64,
    pub due_at: i64,
    /// `confirmed`, `denied` or `partly` (`domain::services::XOutcome`).
    pub outcome: Option<String>,
    pub answer: Option<String>,
    pub answered_by_name: Option<String>,
    pub answered_at: Option<i64>,
    /// Whom the application concerns (USCC or ID number, and name) and its item: what the asked
    /// department verifies about. Empty where the list was not joined with the applications.
    #[sqlx(default)]
    pub subject: String,
    #[sqlx(default)]
    pub subject_name: String,
    #[sqlx(default)]
    pub item: String,
    /// The answer's attachment: its file name and SM3 (the content is read on download).
    #[sqlx(default)]
    pub attachment_name: Option<String>,
    #[sqlx(default)]
    pub attachment_sm3: Option<String>,
}

impl XRequest {
    pub fn outcome_label(&self) -> &'static str {
        self.outcome.as_deref().and_then(domain::services::XOutcome::parse).map_or("待答复", |o| o.label())
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn ask(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    cal: &WorkCalendar,
    app_id: &str,
    from_dept: &str,
    to_dept: &str,
    question: &str,
    by: &Actor,
) -> Result<String> {
    if question.trim().chars().count() < 4 {
        return Err(StoreError::invalid("question", "请写明需要对方部门核实的事项，如“申请人是否在我市有欠薪记录”"));
    }
    let to = cfg
        .departments
        .iter()
        .find(|d| d.code == to_dept)
        .ok_or_else(|| StoreError::invalid("to_dept", "请选择协查部门"))?;
    if to_dept == from_dept {
        return Err(StoreError::invalid("to_dept", "协查部门应为其他部门"));
    }
    // Due at the end of the office day, ANSWER_DAYS working days on.
    let l = local(now);
    let due_day = cal.add_working_days(l.date(), ANSWER_DAYS);
    let due = from_local(due_day.with_hms(17, 30, 0).expect("valid time"));
    let id = new_id();
    sqlx::query(
        "INSERT INTO svc_xrequests (id, application_id, from_dept, to_dept, question, asked_by, asked_by_name, asked_at, due_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(app_id)
    .bind(from_dept)
    .bind(to_dept)
    .bind(question.trim())
    .bind(&by.user_id)
    .bind(&by.name)
    .bind(to_millis(now))
    .bind(to_millis(due))
    .execute(&mut *conn)
    .await?;
    crate::jobs::enqueue(
        conn,
        now,
        DUE_JOB,
        &serde_json::json!({ "request": id }),
        due,
        Some(&format!("{DUE_JOB}:{id}")),
    )
    .await?;
    notify::send(
        conn,
        now,
        &To::Role { department: Some(to_dept.to_string()), role: "dept_staff".into() },
        "/services/xrequests",
        &format!("【跨部门协查】{}请求核实：{}（{} 前答复）", from_dept_name(cfg, from_dept), question.trim(), due_day),
    )
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::services::ServicesAudit::XRequest, "application", app_id)
            .by(&by.user_id, &by.name)
            .detail(format!("向{}发起协查：{}", to.short_name, question.trim())),
    )
    .await?;
    Ok(id)
}

fn from_dept_name<'c>(cfg: &'c CityConfig, code: &'c str) -> &'c str {
    cfg.departments.iter().find(|d| d.code == code).map(|d| d.short_name.as_str()).unwrap_or(code)
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<XRequest> {
    sqlx::query_as::<_, XRequest>("SELECT * FROM svc_xrequests WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound("协查请求".into()))
}

/// The asked department answers 属实, 不属实 or 部分属实, with an explanation.
pub async fn answer(
    conn: &mut Conn,
    now: OffsetDateTime,
    id: &str,
    outcome: domain::services::XOutcome,
    text: &str,
    attachment: Option<(&str, &[u8])>,
    by: &Actor,
) -> Result<XRequest> {
    let x = get(conn, id).await?;
    if by.department.as_deref() != Some(x.to_dept.as_str()) {
        return Err(StoreError::Forbidden("只有被协查部门可以答复".into()));
    }
    if text.trim().is_empty() {
        return Err(StoreError::invalid("answer", "请写明核实情况和依据"));
    }
    if let Some((name, bytes)) = attachment {
        domain::services::rules::check_attachment(name, bytes).map_err(|m| StoreError::invalid("attachment", m))?;
    }
    let r = sqlx::query(
        "UPDATE svc_xrequests SET outcome = $1, answer = $2, answered_by = $3, answered_by_name = $4, answered_at = $5,
            attachment_name = $7, attachment_sm3 = $8, attachment = $9
         WHERE id = $6 AND answered_at IS NULL",
    )
    .bind(outcome.as_str())
    .bind(text.trim())
    .bind(&by.user_id)
    .bind(&by.name)
    .bind(to_millis(now))
    .bind(id)
    .bind(attachment.map(|a| a.0.to_string()))
    .bind(attachment.map(|a| hex::encode(domain::crypto::sm3(a.1))))
    .bind(attachment.map(|a| a.1.to_vec()))
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::conflict("answer", "该协查已答复"));
    }
    let x = get(conn, id).await?;
    notify::send(
        conn,
        now,
        &To::Role { department: Some(x.from_dept.clone()), role: "dept_staff".into() },
        &format!("/services/applications/{}", x.application_id),
        &format!("【跨部门协查】已答复：{}（{}）", x.question, x.outcome_label()),
    )
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::services::ServicesAudit::XAnswer, "application", &x.application_id)
            .by(&by.user_id, &by.name)
            .detail(format!(
                "协查答复：{}，{}{}",
                x.outcome_label(),
                text.trim(),
                x.attachment_name.as_deref().map(|n| format!("（附件：{n}）")).unwrap_or_default()
            )),
    )
    .await?;
    Ok(x)
}

/// At the deadline (the [`DUE_JOB`]): if the request is still unanswered, the asked
/// department is reminded and the asking department told, audited; answered ones are left.
pub async fn overdue(conn: &mut Conn, cfg: &CityConfig, now: OffsetDateTime, id: &str) -> Result<()> {
    let x = get(conn, id).await?;
    if x.answered_at.is_some() {
        return Ok(());
    }
    let (from, to) = (from_dept_name(cfg, &x.from_dept), from_dept_name(cfg, &x.to_dept));
    notify::send(
        conn,
        now,
        &To::Role { department: Some(x.to_dept.clone()), role: "dept_staff".into() },
        "/services/xrequests",
        &format!("【跨部门协查】已逾期，请尽快答复{from}：{}", x.question),
    )
    .await?;
    notify::send(
        conn,
        now,
        &To::Role { department: Some(x.from_dept.clone()), role: "dept_staff".into() },
        &format!("/services/applications/{}", x.application_id),
        &format!("【跨部门协查】{to}逾期未答复：{}", x.question),
    )
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::services::ServicesAudit::XRequestOverdue, "application", &x.application_id)
            .by("system", "系统")
            .detail(format!("协查逾期未答复（{to}）：{}", x.question)),
    )
    .await?;
    Ok(())
}

pub async fn of_application(db: &Db, app: &str) -> Result<Vec<XRequest>> {
    Ok(sqlx::query_as::<_, XRequest>("SELECT * FROM svc_xrequests WHERE application_id = $1 ORDER BY asked_at")
        .bind(app)
        .fetch_all(db.reader())
        .await?)
}

/// An answer's attachment: (file name, content).
pub async fn attachment(db: &Db, id: &str) -> Result<Option<(String, Vec<u8>)>> {
    Ok(sqlx::query_as::<_, (String, Vec<u8>)>(
        "SELECT attachment_name, attachment FROM svc_xrequests WHERE id = $1 AND attachment IS NOT NULL",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?)
}

/// Requests to a department still to answer, and how many of them are past their due time:
/// the asked clerk's to-do count.
pub async fn open_count(db: &Db, dept: &str, now: OffsetDateTime) -> Result<(i64, i64)> {
    let (open, overdue): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN due_at < $2 THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM svc_xrequests WHERE to_dept = $1 AND answered_at IS NULL",
    )
    .bind(dept)
    .bind(to_millis(now))
    .fetch_one(db.reader())
    .await?;
    Ok((open, overdue))
}

/// Requests to a department, unanswered first.
pub async fn to_department(db: &Db, dept: &str, limit: i64) -> Result<Vec<XRequest>> {
    Ok(sqlx::query_as::<_, XRequest>(
        "SELECT x.*, COALESCE(a.subject, '') AS subject, COALESCE(a.subject_name, '') AS subject_name,
                COALESCE(a.item, '') AS item
         FROM svc_xrequests x LEFT JOIN svc_applications a ON a.id = x.application_id
         WHERE x.to_dept = $1 ORDER BY (x.answered_at IS NULL) DESC, x.asked_at DESC LIMIT $2",
    )
    .bind(dept)
    .bind(limit)
    .fetch_all(db.reader())
    .await?)
}
