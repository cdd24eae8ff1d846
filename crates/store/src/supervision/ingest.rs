//! The location-fix ingest (phone and gateways), recent fixes for pages, and the retention
//! purge.

use super::alarms::open_alarm;
use super::fences::fences_cached_many;
use super::fixlog::{self, LoggedFix};
use super::trackers::{self, ForgetOnDrop};
use super::{Caches, Person, person_in};
use crate::config::CityConfig;
use crate::sql::Value;
use crate::{Conn, Db, Result, audit};
use domain::audit::AuditEntry;
use domain::clock::to_millis;
use domain::geo::{Datum, Wgs84Point, to_wgs84};
use domain::supervision::{FenceSet, Hysteresis, Step};
use std::borrow::Cow;
use std::sync::Arc;
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
const CHUNK: usize = crate::sql::CHUNK;

pub(super) use crate::sql::insert_rows;

/// Fixes of one person, from the phone. See `ingest`.
pub async fn ingest_fixes(
    conn: &mut Conn,
    caches: &Caches,
    cfg: &CityConfig,
    now: OffsetDateTime,
    person: &Person,
    fixes: &[InFix],
    h: &Hysteresis,
) -> Result<FixReport> {
    let rows: Vec<(&str, &InFix)> = fixes.iter().map(|f| (person.id.as_str(), f)).collect();
    ingest(conn, caches, cfg, now, &rows, h).await
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

/// `ingest` in a transaction of its own, answered after the commit: the path of the phone and
/// the gateways. Checking and judging the fixes happens before the writer is taken, so one
/// request's judging overlaps another's write.
pub async fn ingest_durable(
    db: &Db,
    cfg: &CityConfig,
    now: OffsetDateTime,
    rows: &[(&str, &InFix)],
    h: &Hysteresis,
) -> Result<FixReport> {
    let caches = Caches::of(db);
    let mut rep = FixReport::default();
    let (blocked, preloaded) = {
        let mut conn = db.reader().acquire().await?;
        let preloaded = super::fences::preload(&mut conn, &caches, &batch_persons(rows)).await?;
        (untracked_among(&mut conn, rows, now).await?, preloaded)
    };
    let judged = prepare(&caches, &preloaded, rows, to_millis(now), &blocked, &mut rep);
    let mut tx = db.begin().await?;
    let mut guard = ForgetOnDrop { cache: caches.trackers.clone(), armed: true };
    write(&mut tx, &caches, preloaded, cfg, now, judged, h, &mut rep).await?;
    tx.commit().await?;
    guard.armed = false;
    Ok(rep)
}

/// Writes a batch of fixes (one person's, or many persons') in the caller's transaction (seeding,
/// tests) and folds them at once; the cached states are dropped, since the caller may still
/// roll back.
///
/// For every path: each new fix is judged against the fences active at its instant; every
/// violation is recorded at once (a raw violation, 疑似越界); each person's hysteresis state
/// advances in time order, and a confirmed alarm is opened, the officer told and the 亳安码
/// event recorded. A fix is its person and instant, so a batch sent again adds nothing.
pub async fn ingest(
    conn: &mut Conn,
    caches: &Caches,
    cfg: &CityConfig,
    now: OffsetDateTime,
    rows: &[(&str, &InFix)],
    h: &Hysteresis,
) -> Result<FixReport> {
    let mut rep = FixReport::default();
    let blocked = untracked_among(conn, rows, now).await?;
    let judged = prepare(caches, &Default::default(), rows, to_millis(now), &blocked, &mut rep);
    let guard = ForgetOnDrop { cache: caches.trackers.clone(), armed: true };
    write(conn, caches, Default::default(), cfg, now, judged, h, &mut rep).await?;
    fixlog::fold_with(conn, &caches.trackers, i64::MAX, h).await?;
    drop(guard);
    Ok(rep)
}

/// The distinct, plausible person ids of a batch.
fn batch_persons<'a>(rows: &[(&'a str, &InFix)]) -> Vec<&'a str> {
    let mut ids: Vec<&str> = rows.iter().map(|r| r.0).filter(|id| plausible_id(id)).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The persons among `rows` whose fixes may not be collected today (社区矫正法 art. 29).
async fn untracked_among(
    conn: &mut Conn,
    rows: &[(&str, &InFix)],
    now: OffsetDateTime,
) -> Result<rustc_hash::FxHashSet<String>> {
    // Only ids that can be one (the others are refused in `prepare`); they go into SQL text.
    let mut ids: Vec<&str> = rows.iter().map(|r| r.0).filter(|id| plausible_id(id)).collect();
    ids.sort_unstable();
    ids.dedup();
    let day = domain::clock::local(now).date().to_string();
    Ok(super::locating::untracked(conn, &ids, &day).await?.into_iter().collect())
}

/// A person id as the platform makes them (`new_id`): ASCII letters, digits, `-` and `_`, at
/// most 64. Anything else names no one, and would not survive being written into SQL text.
fn plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Which of `keys` (person, instant) are in `sup_fixes`.
async fn stored_among<'a>(
    conn: &mut Conn,
    keys: &[(&'a str, i64)],
) -> Result<std::collections::HashSet<(&'a str, i64)>> {
    let mut found = std::collections::HashSet::new();
    for chunk in keys.chunks(CHUNK) {
        let list: Vec<String> =
            chunk.iter().map(|(p, at)| format!("({}, {at})", Value::Text(p.to_string()).literal())).collect();
        let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT person_id, at FROM sup_fixes WHERE (person_id, at) IN (VALUES {})",
            list.join(", ")
        ))
        .fetch_all(&mut *conn)
        .await?;
        let rows: std::collections::HashSet<(String, i64)> = rows.into_iter().collect();
        found.extend(chunk.iter().filter(|(p, at)| rows.contains(&(p.to_string(), *at))).copied());
    }
    Ok(found)
}

/// One person's fixes of a batch, in time order, judged against `fences`.
struct PersonFixes<'a> {
    person: &'a str,
    fixes: Vec<LoggedFix<'a>>,
    /// The fence set they were judged against (`None`: not cached yet, judged later).
    fences: Option<Arc<FenceSet>>,
}

fn judge(set: &FenceSet, f: &mut LoggedFix) {
    let v = set.judge(&Wgs84Point { lon: f.lon, lat: f.lat }, f.at, f.accuracy_m);
    f.violation = v.violates();
    f.uncertain = v.uncertain;
    f.detail = if !f.violation {
        String::new()
    } else if v.outside_allowed {
        format!("离开允许活动区域（{:.6}, {:.6}）", f.lon, f.lat)
    } else {
        format!("进入禁止区域：{}（{:.6}, {:.6}）", v.in_forbidden.join("、"), f.lon, f.lat)
    };
}

/// Checks and converts each row, groups them by person and judges them against the cached
/// fences: everything that needs no database, done before the writer is taken.
fn prepare<'a>(
    caches: &Caches,
    preloaded: &super::fences::Preloaded,
    rows: &[(&'a str, &'a InFix)],
    now_ms: i64,
    blocked: &rustc_hash::FxHashSet<String>,
    rep: &mut FixReport,
) -> Vec<PersonFixes<'a>> {
    let mut at_of: rustc_hash::FxHashMap<&str, usize> = Default::default();
    let mut out: Vec<PersonFixes> = vec![];
    for (i, (person, f)) in rows.iter().enumerate() {
        let mut reject = |reason: &str| rep.rejected.push(FixRejection { index: i, reason: reason.into() });
        if !plausible_id(person) {
            reject("被监管人员编号无效");
            continue;
        }
        if f.source.as_deref().is_some_and(|s| s.chars().count() > 16 || s.chars().any(char::is_control)) {
            reject("定位来源应为不超过 16 个字符的名称，如 gps、wifi、基站");
            continue;
        }
        if !blocked.is_empty() && blocked.contains(*person) {
            reject("社区矫正对象未经批准使用电子定位装置或批准期限已届满，不采集定位（《社区矫正法》第二十九条）");
            continue;
        }
        if f.at > now_ms + 5 * 60_000 {
            reject("定位时间晚于服务器时间 5 分钟以上，请校准手机时间");
            continue;
        }
        let datum = match f.datum.as_deref().map(Datum::parse) {
            None => Datum::Wgs84,
            Some(Some(d)) => d,
            Some(None) => {
                reject("坐标系应为 wgs84、gcj02 或 bd09");
                continue;
            }
        };
        let p = match to_wgs84(datum, f.lon, f.lat) {
            Ok(p) => p,
            Err(e) => {
                reject(&e.to_string());
                continue;
            }
        };
        let k = *at_of.entry(person).or_insert_with(|| {
            let fences = caches.fences_of(person).or_else(|| preloaded.get(person));
            out.push(PersonFixes { person, fixes: vec![], fences });
            out.len() - 1
        });
        out[k].fixes.push(LoggedFix {
            index: i,
            person_id: Cow::Borrowed(*person),
            at: f.at,
            lon: p.lon,
            lat: p.lat,
            accuracy_m: f.accuracy_m.unwrap_or(0.0).clamp(0.0, 10_000.0),
            source: Cow::Borrowed(f.source.as_deref().unwrap_or("gps")),
            violation: false,
            uncertain: false,
            late: false,
            detail: String::new(),
        });
    }
    for pf in &mut out {
        pf.fixes.sort_by_key(|f| f.at);
        if let Some(set) = &pf.fences {
            for f in &mut pf.fixes {
                judge(set, f);
            }
        }
    }
    out
}

/// The part under the writer: judges again any person whose fences changed (or were not
/// cached) since `prepare`, drops fixes received before, advances the states, appends the
/// new fixes to the log and opens confirmed alarms.
#[allow(clippy::too_many_arguments)]
async fn write(
    conn: &mut Conn,
    caches: &Caches,
    preloaded: super::fences::Preloaded,
    cfg: &CityConfig,
    now: OffsetDateTime,
    mut judged: Vec<PersonFixes<'_>>,
    h: &Hysteresis,
    rep: &mut FixReport,
) -> Result<()> {
    caches.claim(conn, h).await?;
    if !preloaded.sets.is_empty() && super::fences::reset_epoch(conn).await? == preloaded.epoch {
        caches.keep_fences(preloaded.sets);
    }
    let now_ms = to_millis(now);
    let stale: Vec<&str> = judged
        .iter()
        .filter(|pf| {
            let current = caches.fences_of(pf.person);
            !matches!((&current, &pf.fences), (Some(a), Some(b)) if Arc::ptr_eq(a, b))
        })
        .map(|pf| pf.person)
        .collect();
    if !stale.is_empty() {
        let sets = fences_cached_many(conn, caches, &stale).await?;
        for pf in judged.iter_mut().filter(|pf| sets.contains_key(pf.person)) {
            let set = &sets[pf.person];
            for f in &mut pf.fixes {
                judge(set, f);
            }
        }
    }
    let cache = &caches.trackers;
    let ids: Vec<&str> = judged.iter().map(|p| p.person).collect();
    trackers::load(conn, cache, &ids, h).await?;
    // A fix not newer than the person's last may have come before: if it is still in the log,
    // the cache knows (below); if it was folded, `sup_fixes` does.
    let candidates: Vec<(&str, i64)> = {
        let cache = cache.lock();
        judged
            .iter()
            .filter_map(|pf| cache.map.get(pf.person).map(|e| (pf, e.tracker.last_ms)))
            .flat_map(|(pf, last)| pf.fixes.iter().filter(move |f| f.at <= last).map(|f| (pf.person, f.at)))
            .collect()
    };
    let stored = stored_among(conn, &candidates).await?;
    // Everything new goes to the log, late fixes too (flagged: they are recorded, but never
    // move the state).
    let (mut logged, mut alarms) = (vec![], vec![]);
    let mut fixes_total = 0i64;
    {
        let mut cache = cache.lock();
        for pf in judged {
            let Some(e) = cache.map.get_mut(pf.person) else {
                for f in &pf.fixes {
                    rep.rejected
                        .push(FixRejection {
                            index: f.index, reason: format!("没有在管的被监管人员“{}”", pf.person)
                        });
                }
                continue;
            };
            e.dirty = true;
            for mut f in pf.fixes {
                fixes_total += 1;
                if stored.contains(&(pf.person, f.at)) || !e.note_logged(f.at) {
                    continue;
                }
                f.late = f.at <= e.tracker.last_ms;
                if e.tracker.step_flags(h, f.at, f.violation, f.uncertain) == Step::Alarm {
                    let what = f.detail.split('（').next().unwrap_or_default();
                    alarms.push((pf.person, format!("越界报警：{what}"), f.at));
                }
                logged.push(f);
            }
        }
    }
    rep.accepted = logged.len() as i64;
    rep.violations = logged.iter().filter(|f| f.violation).count() as i64;
    fixlog::append(conn, caches, now_ms, &logged).await?;
    rep.duplicates = fixes_total - rep.accepted;
    for (person_id, detail, at) in alarms {
        let person = person_in(conn, person_id).await?;
        open_alarm(conn, cfg, now, &person, domain::supervision::AlarmKind::Fence, &detail, at).await?;
        rep.alarms_opened += 1;
    }
    rep.rejected.sort_by_key(|r| r.index);
    Ok(())
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
pub async fn purge_locations(
    conn: &mut Conn,
    caches: &Caches,
    now: OffsetDateTime,
    keep_days: i64,
) -> Result<(i64, u64, u64)> {
    // The fold saves tracker states in this transaction, which is the caller's to commit: the
    // cache is cleared so that the next batch warms from whatever was committed.
    caches.claim(conn, &Hysteresis::default()).await?;
    caches.mark_reset(conn).await?;
    fixlog::fold_with(conn, &caches.trackers, i64::MAX, &Hysteresis::default()).await?;
    caches.trackers.clear();
    let cutoff = domain::clock::local(now).date() - time::Duration::days(keep_days);
    // On PostgreSQL a whole month goes at once when every person with rows in it is past the
    // retention; what is left goes person by person below.
    let mut gone = std::collections::BTreeSet::new();
    let (mut fixes, mut events) = (0, 0);
    let cutoff_ms = domain::clock::to_millis(cutoff.midnight().assume_offset(domain::clock::CHINA));
    for table in [super::FIXES_TABLE, super::EVENTS_TABLE] {
        for p in crate::partitions::ended_by(conn, table, cutoff_ms).await? {
            let kept: bool = sqlx::query_scalar(&format!(
                "SELECT EXISTS (SELECT 1 FROM {} f JOIN sup_persons s ON s.id = f.person_id
                  WHERE COALESCE(s.ended_on, s.measure_to, '9999-12-31') >= $1)",
                p.name
            ))
            .bind(cutoff.to_string())
            .fetch_one(&mut *conn)
            .await?;
            if kept {
                continue;
            }
            let persons: Vec<String> =
                sqlx::query_scalar(&format!("SELECT DISTINCT person_id FROM {}", p.name)).fetch_all(&mut *conn).await?;
            let rows = crate::partitions::drop_month(conn, &p).await?;
            let what = if table == super::FIXES_TABLE { "定位" } else { "越界记录" };
            if table == super::FIXES_TABLE {
                fixes += rows as u64
            } else {
                events += rows as u64
            }
            audit::append(
                conn,
                now,
                AuditEntry::new(domain::supervision::SupervisionAudit::Purge, "sup_fix", &p.name).detail(format!(
                    "按月删除 {} 的{what} {rows} 条：涉及 {} 人，措施均已结束满 {keep_days} 天",
                    p.month.label(),
                    persons.len()
                )),
            )
            .await?;
            gone.extend(persons);
        }
    }
    // The measure ended when it was lifted or ran out, whichever came first; location data,
    // check-in coordinates and leave destinations go together (个人信息保护法 arts. 28, 47:
    // sensitive data kept no longer than the purpose needs).
    let due: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, name, COALESCE(ended_on, measure_to) FROM sup_persons p WHERE COALESCE(ended_on, measure_to) < $1
           AND (EXISTS (SELECT 1 FROM sup_fixes f WHERE f.person_id = p.id)
             OR EXISTS (SELECT 1 FROM sup_events e WHERE e.person_id = p.id)
             OR EXISTS (SELECT 1 FROM sup_tasks t WHERE t.person_id = p.id AND t.lon IS NOT NULL)
             OR EXISTS (SELECT 1 FROM sup_leaves l WHERE l.person_id = p.id AND l.destination <> ''))",
    )
    .bind(cutoff.to_string())
    .fetch_all(&mut *conn)
    .await?;
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
        sqlx::query("UPDATE sup_tasks SET lon = NULL, lat = NULL, photo_sm3 = NULL WHERE person_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE sup_leaves SET destination = '' WHERE person_id = $1").bind(id).execute(&mut *conn).await?;
        fixes += f;
        events += e;
        gone.insert(id.clone());
        audit::append(
            conn,
            now,
            AuditEntry::new(domain::supervision::SupervisionAudit::Purge, "sup_person", id).detail(format!(
                "{name}：措施已于 {to} 结束满 {keep_days} 天，删除定位 {f} 条、越界记录 {e} 条及打卡位置、外出去向"
            )),
        )
        .await?;
    }
    Ok((gone.len() as i64, fixes, events))
}
