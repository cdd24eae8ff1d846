//! Alarms: opened by the ingest (the officer told, the 亳安码 event recorded), listed, handled.

use super::{Person, persons};
use crate::config::CityConfig;
use crate::{Conn, Db, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::auth::Principal;
use domain::clock::{from_millis, to_millis};
use domain::supervision::{AlarmAction, AlarmKind, AlarmStatus};
use time::OffsetDateTime;

pub(super) async fn open_alarm(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    person: &Person,
    kind: AlarmKind,
    detail: &str,
    at_ms: i64,
) -> Result<String> {
    let id = new_id();
    sqlx::query("INSERT INTO sup_alarms (id, person_id, kind, detail, at, status, created_at) VALUES ($1, $2, $3, $4, $5, 'open', $6)")
        .bind(&id)
        .bind(&person.id)
        .bind(kind.as_str())
        .bind(detail)
        .bind(at_ms)
        .bind(to_millis(now))
        .execute(&mut *conn)
        .await?;
    super::tell_holder(conn, now, person, &format!("{}：{detail}", person.name)).await?;
    crate::scores::record(
        conn,
        cfg,
        crate::scores::NewEvent {
            subject_type: "person",
            subject_id: &person.id,
            kind: kind.score_event(),
            at: from_millis(at_ms).min(now),
            source: "亳安码",
            note: detail,
        },
        ("system", "系统"),
        now,
    )
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::AlarmOpen, "sup_person", &person.id)
            .detail(format!("{}：{detail}", person.name)),
    )
    .await?;
    Ok(id)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AlarmRow {
    pub id: String,
    pub person_id: String,
    pub person_name: String,
    #[sqlx(try_from = "String")]
    pub kind: AlarmKind,
    pub detail: String,
    pub at: i64,
    #[sqlx(try_from = "String")]
    pub status: AlarmStatus,
    pub note: String,
}

const ALARM_SELECT: &str = "SELECT a.id, a.person_id, p.name AS person_name, a.kind, a.detail, a.at, a.status, a.note
    FROM sup_alarms a JOIN sup_persons p ON p.id = a.person_id";

pub async fn alarms_of(db: &Db, person_id: &str) -> Result<Vec<AlarmRow>> {
    Ok(sqlx::query_as(&format!("{ALARM_SELECT} WHERE a.person_id = $1 ORDER BY a.at DESC LIMIT 100"))
        .bind(person_id)
        .fetch_all(db.reader())
        .await?)
}

/// Open alarms of the persons `p` may see.
pub async fn open_alarms(db: &Db, p: &Principal) -> Result<Vec<AlarmRow>> {
    let visible: std::collections::HashSet<String> = persons(db, p).await?.into_iter().map(|x| x.id).collect();
    let all: Vec<AlarmRow> = sqlx::query_as(&format!("{ALARM_SELECT} WHERE a.status <> 'closed' ORDER BY a.at DESC"))
        .fetch_all(db.reader())
        .await?;
    Ok(all.into_iter().filter(|a| visible.contains(&a.person_id)).collect())
}

/// Handles an alarm: acknowledge (签收), explain (说明情况) or close; each step audited.
pub async fn handle_alarm(
    conn: &mut Conn,
    now: OffsetDateTime,
    person: &Person,
    alarm_id: &str,
    action: AlarmAction,
    note: &str,
    by: (&str, &str),
) -> Result<()> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM sup_alarms WHERE id = $1 AND person_id = $2")
        .bind(alarm_id)
        .bind(&person.id)
        .fetch_optional(&mut *conn)
        .await?;
    let status = status.ok_or_else(|| StoreError::NotFound("报警".into()))?;
    let status = AlarmStatus::try_from(status).map_err(StoreError::Other)?;
    let Some(next) = status.after(action) else {
        return Err(StoreError::invalid("action", format!("报警{}，不能{}", status.label(), action.label())));
    };
    if action != AlarmAction::Acknowledge && note.trim().is_empty() {
        return Err(StoreError::invalid("note", "请填写核查情况"));
    }
    let ms = to_millis(now);
    sqlx::query(
        "UPDATE sup_alarms SET status = $1, handled_by = $2, note = CASE WHEN $3 = '' THEN note ELSE $3 END,
            acknowledged_at = COALESCE(acknowledged_at, $4), closed_at = CASE WHEN $1 = 'closed' THEN $4 ELSE closed_at END
         WHERE id = $5",
    )
    .bind(next.as_str())
    .bind(by.0)
    .bind(note.trim())
    .bind(ms)
    .bind(alarm_id)
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::AlarmHandle, "sup_person", &person.id)
            .by(by.0, by.1)
            .detail(format!(
                "{}：报警{}{}",
                person.name,
                next.label(),
                if note.trim().is_empty() { String::new() } else { format!("，{}", note.trim()) }
            )),
    )
    .await?;
    Ok(())
}

/// Per alarm: person, kind, status, opened, acknowledged (Unix ms) — for the statistics.
pub async fn alarm_facts(db: &Db) -> Result<Vec<(String, String, String, i64, Option<i64>)>> {
    Ok(sqlx::query_as("SELECT person_id, kind, status, created_at, acknowledged_at FROM sup_alarms")
        .fetch_all(db.reports())
        .await?)
}

/// Per leave request and per check-in task: person and status — for the statistics.
pub async fn leave_and_task_facts(db: &Db) -> Result<(Vec<(String, String)>, Vec<(String, String)>)> {
    let leaves = sqlx::query_as("SELECT person_id, status FROM sup_leaves").fetch_all(db.reports()).await?;
    let tasks = sqlx::query_as("SELECT person_id, status FROM sup_tasks").fetch_all(db.reports()).await?;
    Ok((leaves, tasks))
}

/// Counts over a person's whole record for the compliance report: (fixes, raw violations,
/// first fix, last fix).
pub async fn location_summary(db: &Db, person_id: &str) -> Result<(i64, i64, Option<i64>, Option<i64>)> {
    let (fixes, first, last): (i64, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT COUNT(*), MIN(at), MAX(at) FROM sup_fixes WHERE person_id = $1")
            .bind(person_id)
            .fetch_one(db.reader())
            .await?;
    let violations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sup_events WHERE person_id = $1")
        .bind(person_id)
        .fetch_one(db.reader())
        .await?;
    Ok((fixes, violations, first, last))
}

/// Alarms opened at or after `since_ms` (their `created_at`) of the persons `p` may see, oldest
/// first, with the instant each was opened: what the live page pushes (it skips those it sent).
pub async fn alarms_since(db: &Db, p: &Principal, since_ms: i64) -> Result<Vec<(AlarmRow, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        a: AlarmRow,
        created_at: i64,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.id, a.person_id, p.name AS person_name, a.kind, a.detail, a.at, a.status, a.note, a.created_at
         FROM sup_alarms a JOIN sup_persons p ON p.id = a.person_id WHERE a.created_at >= $1 ORDER BY a.created_at LIMIT 200",
    )
    .bind(since_ms)
    .fetch_all(db.reader())
    .await?;
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let visible: std::collections::HashSet<String> = persons(db, p).await?.into_iter().map(|x| x.id).collect();
    Ok(rows.into_iter().filter(|r| visible.contains(&r.a.person_id)).map(|r| (r.a, r.created_at)).collect())
}
