//! Alarms that come from what does not happen, or from the wrong place: a person whose phone
//! has sent no fix for too long (offline, 长时间无定位), and uploads from a device other than the
//! bound one (device changed, 更换设备). One open alarm of each kind per person at a time.

use super::Caches;
use super::alarms::open_alarm;
use super::fixlog;
use super::{PERSON_SELECT, Person};
use crate::config::CityConfig;
use crate::{Conn, Result};
use domain::clock::{format_minute, from_millis, to_millis};
use domain::supervision::AlarmKind;
use domain::supervision::Hysteresis;
use time::OffsetDateTime;

/// Whether the person has an alarm of `kind` not yet closed.
async fn has_open(conn: &mut Conn, person_id: &str, kind: AlarmKind) -> Result<bool> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sup_alarms WHERE person_id = $1 AND kind = $2 AND status <> 'closed'")
            .bind(person_id)
            .bind(kind.as_str())
            .fetch_one(&mut *conn)
            .await?;
    Ok(n > 0)
}

/// Alarms every person under supervision with a bound device whose newest fix (or the binding,
/// if none came since) is older than `[supervision] offline_hours`. Returns the alarms opened.
pub async fn check_offline(conn: &mut Conn, caches: &Caches, cfg: &CityConfig, now: OffsetDateTime) -> Result<i64> {
    // Fixes acknowledged but not folded yet count: fold them in this transaction, and drop the
    // state cache, which the caller's commit decides (as the purge does).
    caches.claim(conn, &Hysteresis::default()).await?;
    caches.mark_reset(conn).await?;
    fixlog::fold_with(conn, &caches.trackers, i64::MAX, &Hysteresis::default()).await?;
    caches.trackers.clear();
    let limit_ms = cfg.city.supervision.offline_hours * 3_600_000;
    let cutoff = to_millis(now) - limit_ms;
    let quiet: Vec<(String, Option<i64>, i64)> = sqlx::query_as(
        "SELECT p.id, (SELECT MAX(f.at) FROM sup_fixes f WHERE f.person_id = p.id), d.bound_at
         FROM sup_persons p JOIN sup_devices d ON d.person_id = p.id AND d.status = 'active'
         WHERE p.status = 'active'
           AND (p.measure NOT IN ('社区矫正', '暂予监外执行') OR EXISTS (SELECT 1 FROM sup_locating l
                WHERE l.person_id = p.id AND l.valid_from <= $1 AND l.valid_to >= $1))",
    )
    // 社区矫正法 art. 29: no device in force, no fixes expected, no alarm.
    .bind(domain::clock::local(now).date().to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut opened = 0;
    for (id, last_fix, bound_at) in quiet {
        let last = last_fix.unwrap_or(bound_at).max(bound_at);
        if last >= cutoff || has_open(conn, &id, AlarmKind::Offline).await? {
            continue;
        }
        let person: Person =
            sqlx::query_as(&format!("{PERSON_SELECT} WHERE p.id = $1")).bind(&id).fetch_one(&mut *conn).await?;
        let since = match last_fix {
            Some(at) => format!("最后定位 {}", format_minute(from_millis(at))),
            None => format!("绑定设备（{}）后没有定位", format_minute(from_millis(bound_at))),
        };
        let detail = format!("超过 {} 小时无定位：{since}", cfg.city.supervision.offline_hours);
        open_alarm(conn, cfg, now, &person, AlarmKind::Offline, &detail, to_millis(now)).await?;
        opened += 1;
    }
    Ok(opened)
}

/// A person's login used from a device that is not their bound one: alarmed once while the
/// alarm stays open. The upload itself is refused by the caller.
pub async fn foreign_device(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    person: &Person,
    device_id: &str,
) -> Result<bool> {
    if has_open(conn, &person.id, AlarmKind::Device).await? {
        return Ok(false);
    }
    let shown: String = device_id.chars().take(64).collect();
    let detail = format!("使用未绑定的设备“{shown}”上报，疑似更换或转借手机");
    open_alarm(conn, cfg, now, person, AlarmKind::Device, &detail, to_millis(now)).await?;
    Ok(true)
}
