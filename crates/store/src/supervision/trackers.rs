//! Each supervised person's hysteresis state (`domain::supervision::Tracker`), kept in memory
//! for the ingest and saved by the folder.
//!
//! The cache is read and written only by whoever holds the writer connection, so it is the
//! committed state or that of the transaction in flight. It is rebuilt ("warmed") from
//! `sup_trackers` — the states saved at the last fold — by replaying the fixes still in the log:
//! a fix the saved state already reflects is not newer than its last one, and the replay
//! skips it just as the ingest skips a late fix. A transaction not seen to commit clears the
//! cache (`ForgetOnDrop`); the next batch warms it again. Whatever changes a person's status
//! must clear it too.

use super::fixlog;
use crate::sql::Value;
use crate::{Conn, Result};
use domain::supervision::{Hysteresis, Tracker};
use rustc_hash::FxHashMap as HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Default)]
pub(super) struct Cache {
    /// Holds every person under supervision (so a person missing is new since, or not
    /// supervised).
    warm: bool,
    pub(super) map: HashMap<String, Entry>,
    /// The newest fix-log batch the states reflect (warm only): batches after it were appended
    /// by another process and are replayed by [`catch_up`].
    pub(super) log_seq: i64,
    /// How far the log was folded when the states were last current. Another process's fold
    /// since means some of the `logged` instants here were folded by it: the states are then
    /// loaded again rather than replayed, which also forgets those instants.
    pub(super) folded: i64,
}

impl Cache {
    pub(super) fn is_warm(&self) -> bool {
        self.warm
    }
}

#[derive(Default)]
pub(super) struct Entry {
    pub(super) tracker: Tracker,
    /// Changed since it was last saved.
    pub(super) dirty: bool,
    /// Instants of the person's fixes in the log (not yet folded), ascending.
    logged: Vec<i64>,
}

impl Entry {
    fn saved(tracker: Tracker) -> Entry {
        Entry { tracker, ..Entry::default() }
    }

    /// Notes a fix as logged; false if it already is.
    pub(super) fn note_logged(&mut self, at: i64) -> bool {
        if self.logged.last().is_none_or(|l| at > *l) {
            self.logged.push(at);
            return true;
        }
        match self.logged.binary_search(&at) {
            Ok(_) => false,
            Err(i) => {
                self.logged.insert(i, at);
                true
            }
        }
    }
}

/// A database's tracker states (held in `Caches`).
#[derive(Clone, Default)]
pub(super) struct Handle(Arc<Mutex<Cache>>);

impl Handle {
    pub(super) fn lock(&self) -> MutexGuard<'_, Cache> {
        // Entries are plain values written whole, so a panic elsewhere cannot leave one half
        // written: a poisoned lock is still usable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn clear(&self) {
        let mut c = self.lock();
        c.map.clear();
        c.warm = false;
    }
}

/// Clears the cache unless disarmed: for a transaction not seen to commit (an error, or the
/// request abandoned mid-way).
pub(super) struct ForgetOnDrop {
    pub(super) cache: Handle,
    pub(super) armed: bool,
}

impl Drop for ForgetOnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.cache.clear();
        }
    }
}

/// Makes sure the cache holds every one of `ids` under supervision (others stay absent).
pub(super) async fn load(conn: &mut Conn, cache: &Handle, ids: &[&str], h: &Hysteresis) -> Result<()> {
    if !cache.lock().warm {
        warm(conn, cache, h).await?;
    }
    let missing: Vec<&str> = {
        let c = cache.lock();
        ids.iter().copied().filter(|id| !c.map.contains_key(*id)).collect()
    };
    // Warm, so these are new since (or not supervised): none of their fixes went by the cache,
    // so they have none.
    for chunk in missing.chunks(500) {
        let list: Vec<String> = chunk.iter().map(|id| Value::Text(id.to_string()).literal()).collect();
        let active: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM sup_persons WHERE status = 'active' AND id IN ({})",
            list.join(", ")
        ))
        .fetch_all(&mut *conn)
        .await?;
        cache.lock().map.extend(active.into_iter().map(|id| (id, Entry { dirty: true, ..Entry::default() })));
    }
    Ok(())
}

async fn warm(conn: &mut Conn, cache: &Handle, h: &Hysteresis) -> Result<()> {
    // Person, last instant, streak, excursion start, alarmed.
    type Saved = (String, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let saved: Vec<Saved> = sqlx::query_as(
        "SELECT p.id, t.last_ms, t.streak, t.since_ms, t.alarmed FROM sup_persons p
         LEFT JOIN sup_trackers t ON t.person_id = p.id WHERE p.status = 'active'",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut map: HashMap<String, Entry> = saved
        .into_iter()
        .map(|(id, last_ms, streak, since_ms, alarmed)| {
            let t = Tracker {
                last_ms: last_ms.unwrap_or(0),
                streak: streak.unwrap_or(0) as u32,
                since_ms,
                alarmed: alarmed.unwrap_or(0) != 0,
            };
            (id, Entry::saved(t))
        })
        .collect();
    let (batches, seq, folded) = fixlog::logged_since(conn, i64::MIN).await?;
    replay(&mut map, batches, h);
    let mut c = cache.lock();
    c.map = map;
    c.warm = true;
    c.log_seq = seq;
    c.folded = folded;
    Ok(())
}

/// Advances the states by logged batches, in log order.
fn replay(map: &mut HashMap<String, Entry>, batches: Vec<Vec<fixlog::LoggedFix<'static>>>, h: &Hysteresis) {
    for batch in batches {
        for f in batch {
            if let Some(e) = map.get_mut(f.person_id.as_ref()) {
                // A late fix never moved the state; one the saved state already reflects is
                // not newer than its last and is skipped by the step itself.
                if !f.late {
                    e.tracker.step_flags(h, f.at, f.violation, f.uncertain);
                }
                e.note_logged(f.at);
                e.dirty = true;
            }
        }
    }
}

/// Replays the batches another process appended since the states were last current (the
/// caller has checked that none of them was folded away meanwhile). A person new since is
/// left out: `load` finds them.
pub(super) async fn catch_up(conn: &mut Conn, cache: &Handle, h: &Hysteresis) -> Result<()> {
    let after = cache.lock().log_seq;
    let (batches, seq, _) = fixlog::logged_since(conn, after).await?;
    let mut c = cache.lock();
    replay(&mut c.map, batches, h);
    c.log_seq = c.log_seq.max(seq);
    Ok(())
}

/// Saves the states changed since the last save (in the caller's transaction, which folds the
/// log). Warms the cache first, so what is saved is complete.
pub(super) async fn save(conn: &mut Conn, cache: &Handle, h: &Hysteresis) -> Result<()> {
    if !cache.lock().warm {
        warm(conn, cache, h).await?;
    }
    let mut rows: Vec<Vec<Value>> = {
        let mut c = cache.lock();
        c.map
            .iter_mut()
            .filter(|(_, e)| e.dirty)
            .map(|(id, e)| {
                e.dirty = false;
                let t = &e.tracker;
                vec![
                    Value::Text(id.clone()),
                    Value::Int(t.last_ms),
                    Value::Int(t.streak as i64),
                    t.since_ms.map(Value::Int).unwrap_or(Value::Null),
                    Value::Int(i64::from(t.alarmed)),
                ]
            })
            .collect()
    };
    rows.sort_by(|a, b| a[0].literal().cmp(&b[0].literal()));
    super::ingest::insert_rows(
        conn,
        "INSERT INTO sup_trackers (person_id, last_ms, streak, since_ms, alarmed) VALUES",
        " ON CONFLICT (person_id) DO UPDATE SET last_ms = excluded.last_ms, streak = excluded.streak,
            since_ms = excluded.since_ms, alarmed = excluded.alarmed",
        &rows,
    )
    .await?;
    Ok(())
}

/// Forgets fixes as logged once they are folded.
pub(super) fn note_folded<'a>(cache: &Handle, fixes: impl Iterator<Item = (&'a str, i64)>) {
    let mut c = cache.lock();
    if !c.warm {
        return;
    }
    for (person, at) in fixes {
        if let Some(e) = c.map.get_mut(person)
            && let Ok(i) = e.logged.binary_search(&at)
        {
            e.logged.remove(i);
        }
    }
}
