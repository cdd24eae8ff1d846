//! What the person reports from the app: information changes (信息变更: a new phone number,
//! address or employer) and status reports (情况汇报). The holding agency reads them on the
//! person's page; the officer is told of each.

use super::Person;
use crate::{Conn, Db, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::to_millis;
use domain::supervision::ReportKind;
use time::OffsetDateTime;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ReportRow {
    pub id: String,
    /// `info_change` or `status`.
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub kind: ReportKind,
    pub text: String,
    pub created_at: i64,
}

/// Files a report of `person` (at most 2,000 characters).
pub async fn file_report(
    conn: &mut Conn,
    now: OffsetDateTime,
    person: &Person,
    kind: &str,
    text: &str,
) -> Result<ReportRow> {
    let Some(kind) = ReportKind::parse(kind) else {
        return Err(StoreError::invalid("kind", "类型应为 info_change（信息变更）或 status（情况汇报）"));
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(StoreError::invalid("text", "请填写内容"));
    }
    if text.chars().count() > 2000 {
        return Err(StoreError::invalid("text", "内容最多 2000 字"));
    }
    let id = new_id();
    let ms = to_millis(now);
    sqlx::query("INSERT INTO sup_reports (id, person_id, kind, text, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(&person.id)
        .bind(kind.as_str())
        .bind(text)
        .bind(ms)
        .execute(&mut *conn)
        .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::ReportFile, "sup_person", &person.id)
            .by(person.user_id.as_deref().unwrap_or("system"), &person.name)
            .detail(format!("{}提交{}", person.name, kind.label())),
    )
    .await?;
    let head: String = text.chars().take(40).collect();
    super::tell_holder(conn, now, person, &format!("{}提交{}：{head}", person.name, kind.label())).await?;
    Ok(ReportRow { id, kind, text: text.to_string(), created_at: ms })
}

pub async fn reports_of(db: &Db, person_id: &str) -> Result<Vec<ReportRow>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, text, created_at FROM sup_reports WHERE person_id = $1 ORDER BY created_at DESC LIMIT 50",
    )
    .bind(person_id)
    .fetch_all(db.reader())
    .await?)
}
