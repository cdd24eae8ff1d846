//! The location-fix ingest (phone and gateways), recent fixes for pages, and the retention
//! purge.

use super::alarms::open_alarm;
use super::fences::fences_cached;
use super::{Person, person_in};
use crate::config::CityConfig;
use crate::sql::Value;
use crate::{Conn, Db, Result, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::to_millis;
use domain::geo::{Datum, Wgs84Point, to_wgs84};
use domain::supervision::{Hysteresis, Step, Tracker};
use sqlx::Row;
use std::collections::HashMap;
use time::OffsetDateTime;

/// A fix as the phone sends it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct InFix {
    /// Unix milliseconds (UTC).
    pub at: i64,
    pub lon: f64,
    pub lat: f64,
    /// `wgs84` (default), `gcj02` or `bd09`.
    #[serde(default)]
    pub datum: Option<String>,
    #[serde(default)]
    pub accuracy_m: Option<f64>,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct FixReport {
    pub accepted: i64,
    /// Already received (the same person and instant).
    pub duplicates: i64,
    pub rejected: Vec<FixRejection>,
    /// Raw violations recorded.
    pub violations: i64,
    pub alarms_opened: i64,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FixRejection {
    /// Position in the batch, from 0.
    pub index: usize,
    pub reason: String,
}

/// Rows per multi-row statement.
const CHUNK: usize = 500;

/// Multi-row insert with the values written as literals (`Value::literal`): a batch of fixes
/// is thousands of rows, and binding each value separately costs more than writing the row.
async fn insert_rows(conn: &mut Conn, head: &str, tail: &str, rows: &[Vec<Value>]) -> Result<u64> {
    let mut n = 0;
    for chunk in rows.chunks(CHUNK) {
        let mut sql = String::with_capacity(head.len() + chunk.len() * 96 + tail.len());
        sql.push_str(head);
        for (i, row) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { " (" } else { ", (" });
            let vals: Vec<String> = row.iter().map(Value::literal).collect();
            sql.push_str(&vals.join(", "));
            sql.push(')');
        }
        sql.push_str(tail);
        n += sqlx::query(&sql).execute(&mut *conn).await?.rows_affected();
    }
    Ok(n)
}

/// Fixes of one person, from the phone. See `ingest`.
pub async fn ingest_fixes(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    person: &Person,
    fixes: &[InFix],
    h: &Hysteresis,
) -> Result<FixReport> {
    let rows: Vec<(&str, &InFix)> = fixes.iter().map(|f| (person.id.as_str(), f)).collect();
    ingest(conn, cfg, now, &rows, h).await
}

/// A fix from a gateway (a wristband or location platform) for a named person: the fields
/// of `InFix` and the person (spelt out rather than flattened: serde's flatten buffers every
/// row into a map, which a 10,000-row batch feels).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct BulkFix {
    pub person_id: String,
    pub at: i64,
    pub lon: f64,
    pub lat: f64,
    #[serde(default)]
    pub datum: Option<String>,
    #[serde(default)]
    pub accuracy_m: Option<f64>,
    #[serde(default)]
    pub source: Option<String>,
}

impl BulkFix {
    pub fn fix(&self) -> InFix {
        InFix {
            at: self.at,
            lon: self.lon,
            lat: self.lat,
            datum: self.datum.clone(),
            accuracy_m: self.accuracy_m,
            source: self.source.clone(),
        }
    }
}

/// Writes a batch of fixes (one person's, or many persons') in the caller's transaction: each
/// new fix is judged against the fences active at its instant; every violation is recorded
/// at once; each person's hysteresis state advances in time order and a confirmed alarm is
/// opened, the officer told and the 亳安码 event recorded. A fix is its person and instant, so
/// a batch sent again adds nothing. Rows are written a few hundred to a statement. Once the
/// caller commits, all of it is durable together.
pub async fn ingest(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    rows: &[(&str, &InFix)],
    h: &Hysteresis,
) -> Result<FixReport> {
    let mut rep = FixReport::default();
    let now_ms = to_millis(now);
    // Check and convert; group by person.
    // Per person: (row index, instant, point, accuracy, source).
    type Checked<'a> = (usize, i64, Wgs84Point, f64, &'a str);
    let mut by_person: HashMap<&str, Vec<Checked>> = HashMap::new();
    for (i, (person, f)) in rows.iter().enumerate() {
        let reject =
            |rep: &mut FixReport, reason: &str| rep.rejected.push(FixRejection { index: i, reason: reason.into() });
        if f.at > now_ms + 5 * 60_000 {
            reject(&mut rep, "定位时间晚于服务器时间 5 分钟以上，请校准手机时间");
            continue;
        }
        let datum = match f.datum.as_deref().map(Datum::parse) {
            None => Datum::Wgs84,
            Some(Some(d)) => d,
            Some(None) => {
                reject(&mut rep, "坐标系应为 wgs84、gcj02 或 bd09");
                continue;
            }
        };
        match to_wgs84(datum, f.lon, f.lat) {
            Ok(p) => by_person.entry(person).or_default().push((
                i,
                f.at,
                p,
                f.accuracy_m.unwrap_or(0.0).clamp(0.0, 10_000.0),
                f.source.as_deref().unwrap_or("gps"),
            )),
            Err(e) => reject(&mut rep, &e.to_string()),
        }
    }
    // Who is under supervision, and where each one's state stands.
    let ids: Vec<&str> = by_person.keys().copied().collect();
    let mut trackers: HashMap<String, Tracker> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let list: Vec<String> = chunk.iter().map(|id| Value::Text(id.to_string()).literal()).collect();
        let sql = format!(
            "SELECT p.id, t.last_ms, t.streak, t.since_ms, t.alarmed FROM sup_persons p
             LEFT JOIN sup_trackers t ON t.person_id = p.id WHERE p.status = 'active' AND p.id IN ({})",
            list.join(", ")
        );
        for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
            let t = match r.try_get::<Option<i64>, _>(1)? {
                Some(last_ms) => Tracker {
                    last_ms,
                    streak: r.try_get::<Option<i64>, _>(2)?.unwrap_or(0) as u32,
                    since_ms: r.try_get(3)?,
                    alarmed: r.try_get::<Option<i64>, _>(4)?.unwrap_or(0) != 0,
                },
                None => Tracker::default(),
            };
            trackers.insert(r.try_get(0)?, t);
        }
    }
    let (mut fix_rows, mut event_rows, mut alarms) = (vec![], vec![], vec![]);
    let mut fixes_total = 0i64;
    for (person, mut list) in by_person {
        let Some(tracker) = trackers.get_mut(person) else {
            for f in &list {
                rep.rejected
                    .push(FixRejection { index: f.0, reason: format!("没有在管的被监管人员“{person}”") });
            }
            continue;
        };
        let set = fences_cached(conn, person).await?;
        list.sort_by_key(|f| f.1);
        for (_, at, p, accuracy, source) in list {
            fixes_total += 1;
            let v = set.judge(&p, at, accuracy);
            let step = tracker.step(h, at, &v);
            fix_rows.push(vec![
                Value::Text(person.to_string()),
                Value::Int(at),
                Value::Real(p.lon),
                Value::Real(p.lat),
                Value::Real(accuracy),
                Value::Text(source.to_string()),
                Value::Int(i64::from(v.violates())),
                Value::Int(now_ms),
            ]);
            if v.violates() {
                let what = if v.outside_allowed {
                    "离开允许活动区域".to_string()
                } else {
                    format!("进入禁止区域：{}", v.in_forbidden.join("、"))
                };
                event_rows.push(vec![
                    Value::Text(new_id()),
                    Value::Text(person.to_string()),
                    Value::Text("fence_violation".into()),
                    Value::Int(at),
                    Value::Text(format!("{what}（{:.6}, {:.6}）", p.lon, p.lat)),
                    Value::Int(now_ms),
                ]);
                if step == Step::Alarm {
                    alarms.push((person.to_string(), format!("越界报警：{what}"), at));
                }
            }
        }
    }
    rep.accepted = insert_rows(
        conn,
        "INSERT INTO sup_fixes (person_id, at, lon, lat, accuracy_m, source, violation, received_at) VALUES",
        " ON CONFLICT (person_id, at) DO NOTHING",
        &fix_rows,
    )
    .await? as i64;
    rep.duplicates = fixes_total - rep.accepted;
    rep.violations = insert_rows(
        conn,
        "INSERT INTO sup_events (id, person_id, kind, at, detail, created_at) VALUES",
        " ON CONFLICT (person_id, at, kind) DO NOTHING",
        &event_rows,
    )
    .await? as i64;
    for (person_id, detail, at) in alarms {
        let person = person_in(conn, &person_id).await?;
        open_alarm(conn, cfg, now, &person, "fence", &detail, at).await?;
        rep.alarms_opened += 1;
    }
    let tracker_rows: Vec<Vec<Value>> = trackers
        .into_iter()
        .map(|(id, t)| {
            vec![
                Value::Text(id),
                Value::Int(t.last_ms),
                Value::Int(t.streak as i64),
                t.since_ms.map(Value::Int).unwrap_or(Value::Null),
                Value::Int(i64::from(t.alarmed)),
            ]
        })
        .collect();
    insert_rows(
        conn,
        "INSERT INTO sup_trackers (person_id, last_ms, streak, since_ms, alarmed) VALUES",
        " ON CONFLICT (person_id) DO UPDATE SET last_ms = excluded.last_ms, streak = excluded.streak,
            since_ms = excluded.since_ms, alarmed = excluded.alarmed",
        &tracker_rows,
    )
    .await?;
    rep.rejected.sort_by_key(|r| r.index);
    Ok(rep)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FixRow {
    pub at: i64,
    pub lon: f64,
    pub lat: f64,
    pub accuracy_m: f64,
    pub violation: i64,
}

pub async fn recent_fixes(db: &Db, person_id: &str, limit: i64) -> Result<Vec<FixRow>> {
    Ok(sqlx::query_as(
        "SELECT at, lon, lat, accuracy_m, violation FROM sup_fixes WHERE person_id = $1 ORDER BY at DESC LIMIT $2",
    )
    .bind(person_id)
    .bind(limit)
    .fetch_all(db.reader())
    .await?)
}

pub async fn violation_count(db: &Db, person_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sup_events WHERE person_id = $1")
        .bind(person_id)
        .fetch_one(db.reader())
        .await?)
}

/// Deletes the location fixes and raw violations of persons whose measure ended more than
/// `keep_days` ago; one audit record per person purged. Returns (persons, fixes, violations).
pub async fn purge_locations(conn: &mut Conn, now: OffsetDateTime, keep_days: i64) -> Result<(i64, u64, u64)> {
    let cutoff = domain::clock::local(now).date() - time::Duration::days(keep_days);
    let due: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, name, measure_to FROM sup_persons p WHERE measure_to < $1
           AND (EXISTS (SELECT 1 FROM sup_fixes f WHERE f.person_id = p.id)
             OR EXISTS (SELECT 1 FROM sup_events e WHERE e.person_id = p.id))",
    )
    .bind(cutoff.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let (mut fixes, mut events) = (0, 0);
    for (id, name, to) in &due {
        let f = sqlx::query("DELETE FROM sup_fixes WHERE person_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        let e = sqlx::query("DELETE FROM sup_events WHERE person_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        fixes += f;
        events += e;
        audit::append(
            conn,
            now,
            AuditEntry::new("supervision.purge", "sup_person", id)
                .detail(format!("{name}：措施已于 {to} 结束满 {keep_days} 天，删除定位 {f} 条、越界记录 {e} 条")),
        )
        .await?;
    }
    Ok((due.len() as i64, fixes, events))
}
