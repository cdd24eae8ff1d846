//! The fix log: how a batch of location fixes becomes durable cheaply, and how it is folded
//! into the per-person tables.
//!
//! A batch of 10,000 fixes from a gateway names almost every person once. Written straight
//! into `sup_fixes` (keyed by person and instant) it dirties one B-tree page per fix, and the
//! commit writes all of them to the WAL: tens of megabytes for a batch. So an in-order batch is
//! appended as one row of `sup_fix_log` (a compact binary record, written sequentially) and
//! committed; the fixes are durable from then on. The folder moves logged fixes into
//! `sup_fixes` and their raw violations into `sup_events`, sorted by person, many batches at a
//! time — once a second while the server runs, at start (recovery) and in the same transaction
//! wherever exactness is needed at once (late fixes, seeding, the purge).

use super::Caches;
use crate::sql::Value;
use crate::{Conn, Db, Result, new_id};
use domain::supervision::Hysteresis;
use std::borrow::Cow;

/// One fix as logged: already converted to WGS-84 and judged.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedFix<'a> {
    /// Its position in the request (not logged).
    pub index: usize,
    pub person_id: Cow<'a, str>,
    pub at: i64,
    pub lon: f64,
    pub lat: f64,
    pub accuracy_m: f64,
    pub source: Cow<'a, str>,
    pub violation: bool,
    pub uncertain: bool,
    /// Not newer than the person's last fix when it came: recorded, but never moved the state.
    pub late: bool,
    /// For a violation: what it was (the raw violation's text).
    pub detail: String,
}

const VERSION: u8 = 1;
const VIOLATION: u8 = 1;
const UNCERTAIN: u8 = 2;
const LATE: u8 = 4;

/// Little-endian records after a version byte; text is length-prefixed UTF-8 (person and
/// detail u16, source u8, each truncated at a character boundary if longer).
pub fn encode(fixes: &[LoggedFix]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + fixes.len() * 56);
    out.push(VERSION);
    for f in fixes {
        let flags = if f.violation { VIOLATION } else { 0 }
            | if f.uncertain { UNCERTAIN } else { 0 }
            | if f.late { LATE } else { 0 };
        out.push(flags);
        out.extend_from_slice(&f.at.to_le_bytes());
        out.extend_from_slice(&f.lon.to_le_bytes());
        out.extend_from_slice(&f.lat.to_le_bytes());
        out.extend_from_slice(&f.accuracy_m.to_le_bytes());
        put_text(&mut out, &f.person_id, u16::MAX as usize, 2);
        put_text(&mut out, &f.source, u8::MAX as usize, 1);
        if f.violation {
            put_text(&mut out, &f.detail, u16::MAX as usize, 2);
        }
    }
    out
}

fn put_text(out: &mut Vec<u8>, s: &str, max: usize, width: usize) {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.extend_from_slice(&(end as u16).to_le_bytes()[..width]);
    out.extend_from_slice(&s.as_bytes()[..end]);
}

/// The inverse of `encode`; `None` for a record that is not one (a damaged row is reported,
/// not half-read).
pub fn decode(data: &[u8]) -> Option<Vec<LoggedFix<'static>>> {
    let (&version, mut rest) = data.split_first()?;
    if version != VERSION {
        return None;
    }
    let mut out = vec![];
    while !rest.is_empty() {
        let flags = take(&mut rest, 1)?[0];
        let num = |rest: &mut &[u8]| -> Option<[u8; 8]> { take(rest, 8)?.try_into().ok() };
        let at = i64::from_le_bytes(num(&mut rest)?);
        let lon = f64::from_le_bytes(num(&mut rest)?);
        let lat = f64::from_le_bytes(num(&mut rest)?);
        let accuracy_m = f64::from_le_bytes(num(&mut rest)?);
        let person_id = take_text(&mut rest, 2)?;
        let source = take_text(&mut rest, 1)?;
        let violation = flags & VIOLATION != 0;
        let detail = if violation { take_text(&mut rest, 2)? } else { String::new() };
        out.push(LoggedFix {
            index: out.len(),
            person_id: Cow::Owned(person_id),
            at,
            lon,
            lat,
            accuracy_m,
            source: Cow::Owned(source),
            violation,
            uncertain: flags & UNCERTAIN != 0,
            late: flags & LATE != 0,
            detail,
        });
    }
    Some(out)
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if rest.len() < n {
        return None;
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Some(head)
}

fn take_text(rest: &mut &[u8], width: usize) -> Option<String> {
    let len = take(rest, width)?;
    let n = if width == 1 { len[0] as usize } else { u16::from_le_bytes([len[0], len[1]]) as usize };
    String::from_utf8(take(rest, n)?.to_vec()).ok()
}

/// Appends one batch to the log in the caller's transaction.
pub(super) async fn append(conn: &mut Conn, caches: &Caches, now_ms: i64, fixes: &[LoggedFix<'_>]) -> Result<()> {
    if fixes.is_empty() {
        return Ok(());
    }
    let seq: i64 =
        sqlx::query_scalar("INSERT INTO sup_fix_log (received_at, fixes, data) VALUES ($1, $2, $3) RETURNING seq")
            .bind(now_ms)
            .bind(fixes.len() as i64)
            .bind(encode(fixes))
            .fetch_one(&mut *conn)
            .await?;
    // The states already hold this batch (the caller advanced them); a later catch-up starts
    // after it. Batches are numbered in commit order: every append holds the writer.
    {
        let mut c = caches.trackers.lock();
        c.log_seq = c.log_seq.max(seq);
    }
    caches.note_append();
    Ok(())
}

/// The batches in the log after `after`, oldest first; the newest batch's number — or, when
/// there is none, the last number folded away (the log's position either way); and the last
/// number folded away.
pub(super) async fn logged_since(conn: &mut Conn, after: i64) -> Result<(Vec<Vec<LoggedFix<'static>>>, i64, i64)> {
    let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as("SELECT seq, data FROM sup_fix_log WHERE seq > $1 ORDER BY seq")
        .bind(after)
        .fetch_all(&mut *conn)
        .await?;
    let folded = crate::changes::mark(conn, super::caches::FOLDED).await?;
    let newest = rows.last().map(|r| r.0).unwrap_or(i64::MIN).max(folded).max(after);
    let batches =
        rows.into_iter().map(|(seq, data)| decode(&data).ok_or_else(|| damaged(seq))).collect::<Result<_>>()?;
    Ok((batches, newest, folded))
}

fn damaged(seq: i64) -> crate::StoreError {
    crate::StoreError::Other(format!("定位日志第 {seq} 条无法解析，已保留待人工处理"))
}

/// Folds up to `max_batches` logged batches, oldest first, in the caller's transaction:
/// fixes into `sup_fixes`, violations into `sup_events` (both idempotent), the persons'
/// changed states into `sup_trackers`, then drops those log rows. The caller holds the writer
/// and clears the tracker cache if the transaction does not commit. Returns the fixes folded.
pub async fn fold(conn: &mut Conn, caches: &Caches, max_batches: i64, h: &Hysteresis) -> Result<u64> {
    caches.claim(conn, h).await?;
    fold_with(conn, &caches.trackers, max_batches, h).await
}

pub(super) async fn fold_with(
    conn: &mut Conn,
    cache: &super::trackers::Handle,
    max_batches: i64,
    h: &Hysteresis,
) -> Result<u64> {
    let rows: Vec<(i64, i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, received_at, data FROM sup_fix_log ORDER BY seq LIMIT $1")
            .bind(max_batches)
            .fetch_all(&mut *conn)
            .await?;
    let Some(last) = rows.last().map(|r| r.0) else { return Ok(0) };
    let mut all: Vec<(LoggedFix, i64)> = vec![];
    for (seq, received_at, data) in rows {
        let fixes = decode(&data).ok_or_else(|| damaged(seq))?;
        all.extend(fixes.into_iter().map(|f| (f, received_at)));
    }
    // Sorted by person, so each person's pages are touched once for the whole fold.
    all.sort_by(|a, b| (&a.0.person_id, a.0.at).cmp(&(&b.0.person_id, b.0.at)));
    let n = all.len() as u64;
    let fixes: Vec<Vec<Value>> = all.iter().map(|(f, received_at)| fix_row(f, *received_at)).collect();
    super::ingest::insert_rows(
        conn,
        "INSERT INTO sup_fixes (person_id, at, lon, lat, accuracy_m, source, violation, uncertain, late, received_at) VALUES",
        " ON CONFLICT (person_id, at) DO NOTHING",
        &fixes,
    )
    .await?;
    let events: Vec<Vec<Value>> = all.iter().filter(|(f, _)| f.violation).map(|(f, r)| event_row(f, *r)).collect();
    super::ingest::insert_rows(
        conn,
        "INSERT INTO sup_events (id, person_id, kind, at, detail, created_at) VALUES",
        " ON CONFLICT (person_id, at, kind) DO NOTHING",
        &events,
    )
    .await?;
    super::trackers::save(conn, cache, h).await?;
    super::trackers::note_folded(cache, all.iter().map(|(f, _)| (f.person_id.as_ref(), f.at)));
    sqlx::query("DELETE FROM sup_fix_log WHERE seq <= $1").bind(last).execute(&mut *conn).await?;
    // How far the log has been folded away: another process whose states stop before this
    // can no longer replay what it missed, and reloads (`Caches::claim`).
    crate::changes::set_mark(conn, super::caches::FOLDED, last).await?;
    cache.lock().folded = last;
    Ok(n)
}

/// A `sup_fixes` row, in the column order of the inserts here.
pub(super) fn fix_row(f: &LoggedFix, received_at: i64) -> Vec<Value> {
    vec![
        Value::Text(f.person_id.to_string()),
        Value::Int(f.at),
        Value::Real(f.lon),
        Value::Real(f.lat),
        Value::Real(f.accuracy_m),
        Value::Text(f.source.to_string()),
        Value::Int(i64::from(f.violation)),
        Value::Int(i64::from(f.uncertain)),
        Value::Int(i64::from(f.late)),
        Value::Int(received_at),
    ]
}

pub(super) fn event_row(f: &LoggedFix, created_at: i64) -> Vec<Value> {
    vec![
        Value::Text(new_id()),
        Value::Text(f.person_id.to_string()),
        Value::Text("fence_violation".into()),
        Value::Int(f.at),
        Value::Text(f.detail.clone()),
        Value::Int(created_at),
    ]
}

/// Batches folded per transaction: a fold touches every page of the persons it covers, so
/// the more batches at once, the less each fix costs; the uploads wait meanwhile.
const FOLD_BATCHES: i64 = 20;

/// Fixes waiting in the log beyond which the folder folds even during a burst of uploads.
pub const FOLD_BACKLOG_MAX: i64 = 2_000_000;

/// Fixes waiting in the log up to which a page about to show them folds them first (well
/// under a second's work).
pub const FOLD_FOR_PAGE_MAX: i64 = 100_000;

/// When `fold_pending` folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldWhen {
    /// Whatever is waiting (at start, on the way out, in tests).
    Always,
    /// The background folder: not while uploads are arriving (one in the last second) unless
    /// the log holds more than `FOLD_BACKLOG_MAX` fixes.
    Idle,
    /// A page about to show fixes: when at most `FOLD_FOR_PAGE_MAX` wait, else it shows what
    /// is folded.
    Small,
}

/// Folds what is logged, a few batches per transaction so that uploads are never kept waiting
/// long. Returns the fixes folded.
pub async fn fold_pending(db: &Db, when: FoldWhen, h: &Hysteresis) -> Result<u64> {
    let caches = Caches::of(db);
    let mut total = 0;
    loop {
        if when != FoldWhen::Always {
            let backlog: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(fixes), 0) AS BIGINT) FROM sup_fix_log")
                .fetch_one(db.reader())
                .await?;
            let busy = caches.uploads_arriving();
            let go = match when {
                FoldWhen::Idle => !busy || backlog > FOLD_BACKLOG_MAX,
                _ => backlog <= FOLD_FOR_PAGE_MAX,
            };
            if backlog == 0 || !go {
                return Ok(total);
            }
        }
        let mut tx = db.begin().await?;
        let mut guard = super::trackers::ForgetOnDrop { cache: caches.trackers.clone(), armed: true };
        caches.claim(&mut tx, h).await?;
        let n = fold_with(&mut tx, &caches.trackers, FOLD_BATCHES, h).await?;
        tx.commit().await?;
        guard.armed = false;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let fixes = vec![
            LoggedFix {
                index: 0,
                person_id: "0192a7c4e3d2".into(),
                at: 1_709_251_200_000,
                lon: 115.778_123_456_789,
                lat: -33.1,
                accuracy_m: 12.5,
                source: "gps".into(),
                violation: true,
                uncertain: false,
                late: false,
                detail: "进入禁止区域：网吧（115.778123, 33.846000）".into(),
            },
            LoggedFix {
                index: 1,
                person_id: "P7".into(),
                at: -1,
                lon: 0.0,
                lat: 90.0,
                accuracy_m: 0.0,
                source: "".into(),
                violation: false,
                uncertain: true,
                late: true,
                detail: String::new(),
            },
        ];
        assert_eq!(decode(&encode(&fixes)).unwrap(), fixes);
        assert_eq!(decode(&encode(&[])).unwrap(), vec![]);
    }

    #[test]
    fn damaged_records_are_refused_not_half_read() {
        let mut data = encode(&[LoggedFix {
            index: 0,
            person_id: "P1".into(),
            at: 1,
            lon: 1.0,
            lat: 2.0,
            accuracy_m: 3.0,
            source: "gps".into(),
            violation: false,
            uncertain: false,
            late: false,
            detail: String::new(),
        }]);
        data.pop();
        assert!(decode(&data).is_none());
        assert!(decode(&[9]).is_none());
        assert!(decode(&[]).is_none());
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        let f = LoggedFix {
            index: 0,
            person_id: "P".into(),
            at: 0,
            lon: 0.0,
            lat: 0.0,
            accuracy_m: 0.0,
            source: "源".repeat(100).into(),
            violation: false,
            uncertain: false,
            late: false,
            detail: String::new(),
        };
        let back = decode(&encode(&[f])).unwrap();
        assert_eq!(back[0].source, "源".repeat(85));
    }
}
