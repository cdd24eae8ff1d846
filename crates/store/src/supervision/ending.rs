//! The end of a measure. 刑事诉讼法 art. 79 ¶2: when 取保候审 or 监视居住 runs out, or it turns
//! out that no criminal liability should be pursued, the measure is lifted at once and the
//! person and the units concerned are told; art. 99: a measure past its statutory term is
//! lifted or changed. The platform reminds the agency before the end, stops collecting the
//! day after the last day whether or not anyone has acted (nothing may be collected without the
//! measure, 个人信息保护法 art. 47), and records the 解除 with its notices.

use super::{Caches, Person};
use crate::notify::{self, To};
use crate::{Conn, Result, StoreError, audit};
use domain::audit::AuditEntry;
use domain::clock::{local, to_millis};
use domain::supervision::{CheckInStatus, EXPIRY_WARNINGS, LeaveStatus, PersonStatus, SupervisionAudit};
use time::{Date, OffsetDateTime};

/// The nightly job that reminds and expires (`expire_and_warn`).
pub const EXPIRY_JOB: &str = "supervision.expiry";

/// Longest reason recorded for a 解除.
const REASON_MAX: usize = 500;

/// Stops everything that collects about the person: the phone's device token, open check-in
/// tasks and pending leave requests; the in-memory states are dropped so no fix is taken.
async fn stop_collection(conn: &mut Conn, caches: &Caches, now: OffsetDateTime, person: &Person) -> Result<()> {
    let ms = to_millis(now);
    sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE revoked_at IS NULL
           AND id IN (SELECT token_id FROM sup_devices WHERE person_id = $2 AND status = 'active')",
    )
    .bind(ms)
    .bind(&person.id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE sup_devices SET status = 'revoked', revoked_at = $1 WHERE person_id = $2 AND status = 'active'",
    )
    .bind(ms)
    .bind(&person.id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE sup_tasks SET status = $1, result = '措施已结束，任务取消' WHERE person_id = $2 AND status = $3",
    )
    .bind(CheckInStatus::Cancelled.as_str())
    .bind(&person.id)
    .bind(CheckInStatus::Open.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE sup_leaves SET status = $1, note = '措施已结束' WHERE person_id = $2 AND status = $3")
        .bind(LeaveStatus::Withdrawn.as_str())
        .bind(&person.id)
        .bind(LeaveStatus::Pending.as_str())
        .execute(&mut *conn)
        .await?;
    caches.claim(conn, &domain::supervision::Hysteresis::default()).await?;
    caches.mark_reset(conn).await?;
    caches.trackers.clear();
    caches.forget_fences(&person.id);
    Ok(())
}

/// Who answers for the person: the responsible officer, the executing organ's supervision
/// officers (so a case without an officer still reaches someone) and the deciding organ's.
async fn tell_agency(conn: &mut Conn, now: OffsetDateTime, person: &Person, text: &str) -> Result<()> {
    let link = format!("/supervision/persons/{}", person.id);
    if let Some(officer) = &person.officer_id {
        notify::send(conn, now, &To::User(officer.clone()), &link, text).await?;
    }
    if let Some(code) = super::agency_code(conn, person).await? {
        notify::send(conn, now, &To::Role { department: Some(code), role: "sup_officer".into() }, &link, text).await?;
    }
    // The deciding organ lifts the measure (art. 79 ¶2): it is told too when it is another.
    super::tell_decider(conn, now, person, text).await?;
    Ok(())
}

/// 解除: lifts the person's measure (under it, or run out and not yet lifted) for `reason`,
/// stops all collection, tells the person and the agency, and audits it.
pub async fn release(
    conn: &mut Conn,
    caches: &Caches,
    now: OffsetDateTime,
    person: &Person,
    reason: &str,
    by: (&str, &str),
) -> Result<()> {
    if person.status == PersonStatus::Released {
        return Err(StoreError::conflict("status", "该人员的措施已经解除"));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(StoreError::invalid("reason", "请填写解除理由，如“取保候审期限届满”“不应追究刑事责任”"));
    }
    if reason.chars().count() > REASON_MAX {
        return Err(StoreError::invalid("reason", format!("解除理由最多 {REASON_MAX} 字")));
    }
    let today = local(now).date();
    let ended = person.ended_on.clone().unwrap_or_else(|| today.to_string());
    sqlx::query(
        "UPDATE sup_persons SET status = $1, ended_on = $2, released_at = $3, released_by = $4, release_reason = $5,
            updated_at = $3 WHERE id = $6",
    )
    .bind(PersonStatus::Released.as_str())
    .bind(&ended)
    .bind(to_millis(now))
    .bind(by.0)
    .bind(reason)
    .bind(&person.id)
    .execute(&mut *conn)
    .await?;
    stop_collection(conn, caches, now, person).await?;
    let what = format!("{}的{}已解除（{reason}），自 {ended} 起不再采集位置和打卡信息", person.name, person.measure);
    if let Some(user) = &person.user_id {
        notify::send(
            conn,
            now,
            &To::User(user.clone()),
            "/",
            &format!(
                "{}决定解除对您的{}（{reason}），自 {ended} 起不再需要定位和打卡。",
                person.agency_name, person.measure
            ),
        )
        .await?;
    }
    tell_agency(conn, now, person, &format!("{what}。请依法通知有关单位（《刑事诉讼法》第七十九条第二款）。")).await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(SupervisionAudit::Release, "sup_person", &person.id).by(by.0, by.1).detail(what),
    )
    .await?;
    Ok(())
}

/// What the nightly check did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryReport {
    pub warned: i64,
    pub expired: i64,
}

/// The nightly check of every person under a measure: reminders 15 and 3 days before the last
/// day (each once), and, the day after it, the measure marked run out, collection stopped and
/// the agency told to lift it and notify.
pub async fn expire_and_warn(conn: &mut Conn, caches: &Caches, now: OffsetDateTime) -> Result<ExpiryReport> {
    let today = local(now).date();
    let rows: Vec<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT id, measure_to, expiry_warned FROM sup_persons WHERE status = $1")
            .bind(PersonStatus::Active.as_str())
            .fetch_all(&mut *conn)
            .await?;
    let mut report = ExpiryReport::default();
    for (id, to, warned) in rows {
        // A date that does not parse was never accepted by the forms; skip rather than fail
        // everyone else's check.
        let Ok(last) = Date::parse(&to, &time::format_description::well_known::Iso8601::DATE) else { continue };
        let left = (last - today).whole_days();
        // The nearest reminder not yet sent; most persons need nothing tonight and are not read.
        let due = EXPIRY_WARNINGS.iter().copied().filter(|d| left <= *d).min();
        if left >= 0 && (due.is_none() || warned.zip(due).is_some_and(|(w, d)| w <= d)) {
            continue;
        }
        let person = super::person_in(conn, &id).await?;
        if left < 0 {
            sqlx::query("UPDATE sup_persons SET status = $1, ended_on = $2, updated_at = $3 WHERE id = $4")
                .bind(PersonStatus::Expired.as_str())
                .bind(last.to_string())
                .bind(to_millis(now))
                .bind(&id)
                .execute(&mut *conn)
                .await?;
            stop_collection(conn, caches, now, &person).await?;
            let what = format!(
                "{}的{}已于 {last} 期限届满，已停止定位和打卡采集。请及时解除并通知本人和有关单位（《刑事诉讼法》第七十九条第二款、第九十九条）；需要继续采取措施的，依法变更后重新登记",
                person.name, person.measure
            );
            tell_agency(conn, now, &person, &what).await?;
            audit::append(conn, now, AuditEntry::new(SupervisionAudit::Expire, "sup_person", &id).detail(what)).await?;
            report.expired += 1;
            continue;
        }
        let Some(due) = due else { continue };
        sqlx::query("UPDATE sup_persons SET expiry_warned = $1 WHERE id = $2")
            .bind(due)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        let what = format!(
            "{}的{}将于 {last} 到期（还有 {left} 天）。请在期限内依法决定解除或者变更措施（《刑事诉讼法》第七十九条）",
            person.name, person.measure
        );
        tell_agency(conn, now, &person, &what).await?;
        audit::append(conn, now, AuditEntry::new(SupervisionAudit::ExpiryWarn, "sup_person", &id).detail(what)).await?;
        report.warned += 1;
    }
    Ok(report)
}
