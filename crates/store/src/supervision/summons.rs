//! 传讯通知 (summons): the agency summons the person to appear at a time and place; the person
//! acknowledges it (app or own page); the officer records whether they appeared. Not appearing
//! opens an alarm and counts on the 亳安码 score (`summons_absent`).

use super::Person;
use super::alarms::open_alarm;
use crate::config::CityConfig;
use crate::notify::{self, To};
use crate::{Conn, Db, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::{format_minute, from_millis, local, to_millis};
use domain::supervision::{AlarmKind, SummonsStatus};
use time::OffsetDateTime;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct SummonsRow {
    pub id: String,
    pub no: String,
    pub person_id: String,
    /// Unix ms.
    pub appear_at: i64,
    pub place: String,
    pub reason: String,
    /// `sent`, `acknowledged`, `appeared`, `absent`.
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub status: SummonsStatus,
    pub acknowledged_at: Option<i64>,
}

const SELECT: &str = "SELECT id, no, person_id, appear_at, place, reason, status, acknowledged_at FROM sup_summons";

async fn one(conn: &mut Conn, id: &str) -> Result<SummonsRow> {
    sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound("传讯通知".into()))
}

pub async fn summons_of(db: &Db, person_id: &str) -> Result<Vec<SummonsRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE person_id = $1 ORDER BY appear_at DESC LIMIT 50"))
        .bind(person_id)
        .fetch_all(db.reader())
        .await?)
}

/// Issues a summons (numbered `CX<year><n>`) and tells the person.
pub async fn summon(
    conn: &mut Conn,
    now: OffsetDateTime,
    person: &Person,
    appear_at: i64,
    place: &str,
    reason: &str,
    by: (&str, &str),
) -> Result<SummonsRow> {
    if appear_at <= to_millis(now) {
        return Err(StoreError::invalid("appear_at", "到案时间应晚于当前时间"));
    }
    if place.trim().is_empty() {
        return Err(StoreError::invalid("place", "请填写到案地点"));
    }
    if reason.trim().is_empty() {
        return Err(StoreError::invalid("reason", "请填写传讯事由"));
    }
    let year = local(now).year();
    let n = crate::alerts::next_serial(conn, "sup_summons", year).await?;
    let no = format!("CX{year}{n:06}");
    let id = new_id();
    sqlx::query(
        "INSERT INTO sup_summons (id, no, person_id, appear_at, place, reason, status, created_by, created_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'sent', $7, $8, $9)",
    )
    .bind(&id)
    .bind(&no)
    .bind(&person.id)
    .bind(appear_at)
    .bind(place.trim())
    .bind(reason.trim())
    .bind(by.0)
    .bind(by.1)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    let what = format!(
        "传讯通知（{no}）：请于 {} 到{}，事由：{}。收到后请确认。",
        format_minute(from_millis(appear_at)),
        place.trim(),
        reason.trim()
    );
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::SummonsIssue, "sup_summons", &id)
            .by(by.0, by.1)
            .detail(format!("{}：{what}", person.name)),
    )
    .await?;
    if let Some(user) = &person.user_id {
        notify::send(conn, now, &To::User(user.clone()), "/me/supervision", &what).await?;
    }
    one(conn, &id).await
}

/// The person confirms having received the summons.
pub async fn acknowledge_summons(
    conn: &mut Conn,
    now: OffsetDateTime,
    person: &Person,
    id: &str,
) -> Result<SummonsRow> {
    let s = one(conn, id).await?;
    if s.person_id != person.id {
        return Err(StoreError::NotFound("传讯通知".into()));
    }
    if s.status != SummonsStatus::Sent {
        return Ok(s);
    }
    sqlx::query("UPDATE sup_summons SET status = 'acknowledged', acknowledged_at = $1 WHERE id = $2")
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::SummonsAcknowledge, "sup_summons", id)
            .by(person.user_id.as_deref().unwrap_or("system"), &person.name)
            .detail(format!("{}确认收到传讯通知 {}", person.name, s.no)),
    )
    .await?;
    super::tell_holder(conn, now, person, &format!("{}已确认收到传讯通知 {}", person.name, s.no)).await?;
    one(conn, id).await
}

/// The officer records whether the person appeared; not appearing opens an alarm.
pub async fn record_appearance(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    person: &Person,
    id: &str,
    appeared: bool,
    by: (&str, &str),
) -> Result<SummonsRow> {
    let s = one(conn, id).await?;
    if s.person_id != person.id {
        return Err(StoreError::NotFound("传讯通知".into()));
    }
    if s.status.is_settled() {
        return Err(StoreError::conflict("status", format!("已登记为{}", s.status.label())));
    }
    if !appeared && to_millis(now) < s.appear_at {
        return Err(StoreError::invalid("status", "到案时间未到，不能登记未到案"));
    }
    let status = if appeared { SummonsStatus::Appeared } else { SummonsStatus::Absent };
    sqlx::query("UPDATE sup_summons SET status = $1 WHERE id = $2")
        .bind(status.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::SummonsRecord, "sup_summons", id)
            .by(by.0, by.1)
            .detail(format!("{}：传讯 {} {}", person.name, s.no, status.label())),
    )
    .await?;
    if !appeared {
        let detail = format!(
            "传讯未到案（{}）：应于 {} 到{}。违反《刑事诉讼法》第七十一条第一款第三项，情节严重的可以予以逮捕（第八十一条第四款），请评估是否提请变更强制措施",
            s.no,
            format_minute(from_millis(s.appear_at)),
            s.place
        );
        open_alarm(conn, cfg, now, person, AlarmKind::Summons, &detail, s.appear_at).await?;
    }
    one(conn, id).await
}
