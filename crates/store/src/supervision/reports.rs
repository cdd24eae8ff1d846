//! What the person reports from the app: information changes (信息变更: a new phone number,
//! address or employer) and status reports (情况汇报). The executing organ reads them on the
//! person's page; the officer is told of each. A change is reported within 24 hours of when it
//! happened (刑事诉讼法 art. 71 ¶1(2)): the report keeps that instant, a late one says how late,
//! and a new address replaces the person's, with the officer asked to review the fences.

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
    /// When the change happened (information changes).
    pub changed_at: Option<i64>,
    /// Hours past the 24 art. 71 ¶1(2) allows (0: on time).
    pub late_hours: i64,
    pub created_at: i64,
}

/// What a report says.
#[derive(Debug, Clone, Default)]
pub struct NewReport<'a> {
    /// `info_change` or `status`.
    pub kind: &'a str,
    pub text: &'a str,
    /// When the change happened (Unix ms); an information change without it is taken as
    /// happening now.
    pub changed_at: Option<i64>,
    /// The new residence, when that is what changed.
    pub new_address: Option<&'a str>,
}

/// Files a report of `person` (at most 2,000 characters).
pub async fn file_report(
    conn: &mut Conn,
    now: OffsetDateTime,
    person: &Person,
    r: &NewReport<'_>,
) -> Result<ReportRow> {
    let Some(kind) = ReportKind::parse(r.kind) else {
        return Err(StoreError::invalid("kind", "类型应为 info_change（信息变更）或 status（情况汇报）"));
    };
    let text = r.text.trim();
    if text.is_empty() {
        return Err(StoreError::invalid("text", "请填写内容"));
    }
    if text.chars().count() > 2000 {
        return Err(StoreError::invalid("text", "内容最多 2000 字"));
    }
    let ms = to_millis(now);
    let (changed_at, address) = match kind {
        ReportKind::InfoChange => {
            let at = r.changed_at.unwrap_or(ms);
            if at > ms + 5 * 60_000 {
                return Err(StoreError::invalid("changed_at", "变动时间不能晚于现在"));
            }
            let address = r.new_address.map(str::trim).filter(|a| !a.is_empty());
            if address.is_some_and(|a| a.chars().count() > 200) {
                return Err(StoreError::invalid("new_address", "新住址最多 200 字"));
            }
            (Some(at), address)
        }
        ReportKind::Status => (None, None),
    };
    let late_hours = changed_at.map_or(0, |at| domain::supervision::change_report_late_hours(at, ms));
    let id = new_id();
    sqlx::query(
        "INSERT INTO sup_reports (id, person_id, kind, text, changed_at, late_hours, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&person.id)
    .bind(kind.as_str())
    .bind(text)
    .bind(changed_at)
    .bind(late_hours)
    .bind(ms)
    .execute(&mut *conn)
    .await?;
    if let Some(a) = address {
        sqlx::query("UPDATE sup_persons SET address = $1, updated_at = $2 WHERE id = $3")
            .bind(a)
            .bind(ms)
            .bind(&person.id)
            .execute(&mut *conn)
            .await?;
    }
    let late = if late_hours > 0 {
        format!("（变动后超过 24 小时报告，逾期 {late_hours} 小时，《刑事诉讼法》第七十一条）")
    } else {
        String::new()
    };
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::ReportFile, "sup_person", &person.id)
            .by(person.user_id.as_deref().unwrap_or("system"), &person.name)
            .detail(format!("{}提交{}{late}", person.name, kind.label())),
    )
    .await?;
    let head: String = text.chars().take(40).collect();
    let moved = address.map(|a| format!("；住址变更为“{a}”，请核对电子围栏")).unwrap_or_default();
    let told = format!("{}提交{}{late}：{head}{moved}", person.name, kind.label());
    super::tell_holder(conn, now, person, &told).await?;
    Ok(ReportRow { id, kind, text: text.to_string(), changed_at, late_hours, created_at: ms })
}

pub async fn reports_of(db: &Db, person_id: &str) -> Result<Vec<ReportRow>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, text, changed_at, late_hours, created_at FROM sup_reports WHERE person_id = $1 ORDER BY created_at DESC LIMIT 50",
    )
    .bind(person_id)
    .fetch_all(db.reader())
    .await?)
}
