//! What the supervision case keeps in memory about one database, held by the database handle
//! (`Db::cache`), so two databases in one process never share it.

use super::trackers::Handle;
use crate::Db;
use domain::supervision::FenceSet;
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};
use std::time::Instant;

pub struct Caches {
    /// Each person's hysteresis state (see `trackers`).
    pub(super) trackers: Handle,
    /// Compiled fence sets by person id: fences change rarely, fixes arrive all the time. A
    /// person's entry is dropped when their fences change (`add_fence`), inside the writer's
    /// transaction, so the next batch compiles what was committed.
    pub(super) fences: RwLock<FxHashMap<String, Arc<FenceSet>>>,
    /// When the last batch was appended to the fix log (ms on a monotonic clock: the server's
    /// clock may be a fixed one in tests); the folder gives way to a burst of uploads.
    last_append: AtomicI64,
    /// The database handle's instance and the holder epoch it last set (`changes::claim`).
    instance: std::sync::OnceLock<Arc<str>>,
    /// The database file on SQLite (read directly by `fences::preload`).
    file: std::sync::OnceLock<Option<std::path::PathBuf>>,
    held: AtomicI64,
    /// The `supervision.reset` mark this handle last saw.
    seen_reset: AtomicI64,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            trackers: Handle::default(),
            fences: Default::default(),
            last_append: AtomicI64::new(i64::MIN / 2),
            instance: Default::default(),
            file: Default::default(),
            held: AtomicI64::new(0),
            seen_reset: AtomicI64::new(0),
        }
    }
}

/// The marks of `cache_holders` the supervision caches use: resets (any change but an append)
/// and how far the fix log was folded.
pub(super) const RESET: &str = "supervision.reset";
pub(super) const FOLDED: &str = "supervision.folded";

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn mono_ms() -> i64 {
    EPOCH.elapsed().as_millis() as i64
}

impl Caches {
    /// The caches of `db`.
    pub fn of(db: &Db) -> Arc<Caches> {
        let c = db.cache::<Caches>();
        c.instance.get_or_init(|| db.instance().into());
        c.file.get_or_init(|| db.sqlite_file());
        c
    }

    pub(super) fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self.file.get().cloned().flatten()
    }

    /// Called in every write transaction that reads or changes what these caches hold, before
    /// it does. When another server process (on a shared PostgreSQL database) has written
    /// supervision data since this one last did: if it only appended batches to the fix log,
    /// those batches are replayed into the tracker states here (a few milliseconds); if it did
    /// anything else (folded the log, changed fences or a measure,
    /// purged or alarmed offline phones: [`Caches::mark_reset`]), the tracker states and
    /// compiled fences are dropped and load again from what is committed.
    pub(super) async fn claim(&self, conn: &mut crate::Conn, h: &domain::supervision::Hysteresis) -> crate::Result<()> {
        let me = self.instance.get().map(|s| s.to_string()).unwrap_or_default();
        if crate::changes::claim(conn, "supervision", &me, &self.held).await? {
            return Ok(());
        }
        let reset = crate::changes::mark(conn, RESET).await?;
        let folded = crate::changes::mark(conn, FOLDED).await?;
        let replayable = {
            let c = self.trackers.lock();
            c.is_warm() && reset == self.seen_reset.load(Ordering::Acquire) && folded == c.folded
        };
        if replayable {
            super::trackers::catch_up(conn, &self.trackers, h).await?;
        } else {
            self.trackers.clear();
            self.forget_all_fences();
            self.seen_reset.store(reset, Ordering::Release);
        }
        Ok(())
    }

    /// Tells the other processes that their supervision caches no longer hold (a change other
    /// than appending fixes); call after [`Caches::claim`], in the same transaction.
    pub(super) async fn mark_reset(&self, conn: &mut crate::Conn) -> crate::Result<()> {
        let next = crate::changes::mark(conn, RESET).await? + 1;
        crate::changes::set_mark(conn, RESET, next).await?;
        self.seen_reset.store(next, Ordering::Release);
        Ok(())
    }

    pub(super) fn note_append(&self) {
        self.last_append.store(mono_ms(), Ordering::Relaxed);
    }

    /// Whether a batch was appended in the last second.
    pub(super) fn uploads_arriving(&self) -> bool {
        mono_ms() - self.last_append.load(Ordering::Relaxed) < 1_000
    }

    pub(super) fn forget_fences(&self, person_id: &str) {
        self.fences.write().unwrap_or_else(|e| e.into_inner()).remove(person_id);
    }

    fn forget_all_fences(&self) {
        self.fences.write().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Caches sets the writer has found still current (`fences::Preloaded`).
    pub(super) fn keep_fences(&self, sets: Vec<(String, Arc<FenceSet>)>) {
        self.fences.write().unwrap_or_else(|e| e.into_inner()).extend(sets);
    }

    /// The cached fence set, if any; never loads (see `ingest::prepare`).
    pub(super) fn fences_of(&self, person_id: &str) -> Option<Arc<FenceSet>> {
        self.fences.read().unwrap_or_else(|e| e.into_inner()).get(person_id).cloned()
    }
}
