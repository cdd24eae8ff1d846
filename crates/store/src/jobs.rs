//! Durable jobs (持久化任务): timers and background work stored in the `jobs` table, so they
//! survive restarts. SLA deadlines, reminders and clean-ups are jobs.
//!
//! A job runs inside one write transaction together with its own effects and the update that
//! marks it done: if the process dies half-way, both roll back and the job runs again after the
//! restart, so an overdue timer fires exactly once.

use crate::{Conn, Db, Result, Tx, new_id};
use domain::clock::{Clock, from_millis, to_millis};
use sqlx::Row;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use tokio::sync::{Notify, watch};

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payload: serde_json::Value,
    pub due_at: OffsetDateTime,
    pub attempts: i64,
    pub max_attempts: i64,
    pub dedup_key: Option<String>,
}

pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send + 'a>>;

/// Runs one kind of job. Do all database work through `tx`; it commits with the job.
pub trait JobHandler: Send + Sync + 'static {
    fn handle<'a>(&'a self, tx: &'a mut Tx, job: &'a Job, now: OffsetDateTime) -> HandlerFuture<'a>;
}

/// Schedules a job. With a `dedup_key`, scheduling the same key twice keeps the first and
/// returns `None` (idempotent timers: "deadline of case X step Y").
pub async fn enqueue(
    conn: &mut Conn,
    now: OffsetDateTime,
    kind: &str,
    payload: &serde_json::Value,
    due_at: OffsetDateTime,
    dedup_key: Option<&str>,
) -> Result<Option<String>> {
    if let Some(key) = dedup_key {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM jobs WHERE dedup_key = $1").bind(key).fetch_optional(&mut *conn).await?;
        if exists.is_some() {
            return Ok(None);
        }
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, due_at, status, attempts, max_attempts, dedup_key, created_at)
         VALUES ($1, $2, $3, $4, 'pending', 0, 10, $5, $6)",
    )
    .bind(&id)
    .bind(kind)
    .bind(payload.to_string())
    .bind(to_millis(due_at))
    .bind(dedup_key)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    Ok(Some(id))
}

/// Cancels a pending job by its dedup key (a deadline that no longer applies).
pub async fn cancel(conn: &mut Conn, now: OffsetDateTime, dedup_key: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET status = 'cancelled', finished_at = $1 WHERE dedup_key = $2 AND status = 'pending'",
    )
    .bind(to_millis(now))
    .bind(dedup_key)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() > 0)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunStats {
    pub done: u32,
    pub retried: u32,
    pub failed: u32,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct JobCounts {
    pub pending: i64,
    pub overdue: i64,
    pub done: i64,
    pub failed: i64,
}

pub async fn counts(db: &Db, now: OffsetDateTime) -> Result<JobCounts> {
    let row = sqlx::query(
        "SELECT
            CAST(COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT),
            CAST(COALESCE(SUM(CASE WHEN status = 'pending' AND due_at <= $1 THEN 1 ELSE 0 END), 0) AS BIGINT),
            CAST(COALESCE(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), 0) AS BIGINT),
            CAST(COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM jobs",
    )
    .bind(to_millis(now))
    .fetch_one(db.reader())
    .await?;
    Ok(JobCounts { pending: row.try_get(0)?, overdue: row.try_get(1)?, done: row.try_get(2)?, failed: row.try_get(3)? })
}

/// Recent failed jobs, for the system status page.
pub async fn failed(db: &Db, limit: i64) -> Result<Vec<(String, String, i64, String)>> {
    let rows = sqlx::query(
        "SELECT id, kind, attempts, COALESCE(last_error, '') FROM jobs WHERE status = 'failed' ORDER BY finished_at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))).collect()
}

fn backoff(attempts: i64) -> Duration {
    // 10 s, 20 s, 40 s … capped at one hour.
    Duration::seconds((10i64 << attempts.clamp(0, 9)).min(3600))
}

pub struct JobRunner {
    db: Db,
    clock: Arc<dyn Clock>,
    handlers: HashMap<String, Arc<dyn JobHandler>>,
    wake: Arc<Notify>,
}

impl JobRunner {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        JobRunner { db, clock, handlers: HashMap::new(), wake: Arc::new(Notify::new()) }
    }

    pub fn register(&mut self, kind: &str, handler: Arc<dyn JobHandler>) {
        self.handlers.insert(kind.to_string(), handler);
    }

    /// Wakes the poller early (after scheduling a job due now).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs every job due now, oldest deadline first, and returns what happened.
    pub async fn run_due(&self) -> Result<RunStats> {
        let mut stats = RunStats::default();
        loop {
            let now = self.clock.now();
            let mut tx = self.db.begin().await?;
            let row = sqlx::query(
                "SELECT id, kind, payload, due_at, attempts, max_attempts, dedup_key FROM jobs
                 WHERE status = 'pending' AND due_at <= $1 ORDER BY due_at, id LIMIT 1",
            )
            .bind(to_millis(now))
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.commit().await?;
                return Ok(stats);
            };
            let payload: String = row.try_get("payload")?;
            let job = Job {
                id: row.try_get("id")?,
                kind: row.try_get("kind")?,
                payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                due_at: from_millis(row.try_get("due_at")?),
                attempts: row.try_get("attempts")?,
                max_attempts: row.try_get("max_attempts")?,
                dedup_key: row.try_get("dedup_key")?,
            };
            let outcome = match self.handlers.get(&job.kind) {
                Some(h) => h.handle(&mut tx, &job, now).await,
                None => Err(format!("未注册的任务类型“{}”", job.kind)),
            };
            match outcome {
                Ok(()) => {
                    sqlx::query(
                        "UPDATE jobs SET status = 'done', attempts = attempts + 1, finished_at = $1 WHERE id = $2",
                    )
                    .bind(to_millis(now))
                    .bind(&job.id)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    stats.done += 1;
                }
                Err(msg) => {
                    // The handler's effects are discarded; only the failure is recorded.
                    tx.rollback().await?;
                    let attempts = job.attempts + 1;
                    let give_up = attempts >= job.max_attempts || !self.handlers.contains_key(&job.kind);
                    tracing::warn!(job = %job.id, kind = %job.kind, attempts, error = %msg, "job failed");
                    let mut tx = self.db.begin().await?;
                    sqlx::query(
                        "UPDATE jobs SET attempts = $1, last_error = $2, due_at = $3, status = $4, finished_at = $5 WHERE id = $6",
                    )
                    .bind(attempts)
                    .bind(&msg)
                    .bind(to_millis(now + backoff(attempts)))
                    .bind(if give_up { "failed" } else { "pending" })
                    .bind(give_up.then(|| to_millis(now)))
                    .bind(&job.id)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    if give_up {
                        stats.failed += 1;
                    } else {
                        stats.retried += 1;
                    }
                }
            }
        }
    }

    async fn next_due(&self) -> Result<Option<OffsetDateTime>> {
        let t: Option<i64> = sqlx::query_scalar("SELECT MIN(due_at) FROM jobs WHERE status = 'pending'")
            .fetch_one(self.db.reader())
            .await?;
        Ok(t.map(from_millis))
    }

    /// Polls until `shutdown` turns true: runs due jobs, then sleeps until the next deadline
    /// (at most a second, so jobs written by another process are picked up).
    pub fn spawn(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(e) = self.run_due().await {
                    tracing::error!(error = %e, "job runner");
                }
                let wait = match self.next_due().await {
                    Ok(Some(t)) => (t - self.clock.now()).clamp(Duration::milliseconds(20), Duration::seconds(1)),
                    _ => Duration::seconds(1),
                };
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_millis(wait.whole_milliseconds() as u64)) => {}
                    _ = self.wake.notified() => {}
                    _ = shutdown.changed() => break,
                }
                if *shutdown.borrow() {
                    break;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use domain::clock::FakeClock;
    use std::sync::atomic::{AtomicU32, Ordering};
    use time::macros::datetime;

    /// Counts runs and writes a row, so effects and completion can be checked together.
    struct Counter(Arc<AtomicU32>, bool);

    impl JobHandler for Counter {
        fn handle<'a>(&'a self, tx: &'a mut Tx, job: &'a Job, now: OffsetDateTime) -> HandlerFuture<'a> {
            Box::pin(async move {
                self.0.fetch_add(1, Ordering::SeqCst);
                sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES ($1, 'fired', $2)")
                    .bind(format!("fired:{}", job.id))
                    .bind(to_millis(now))
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| e.to_string())?;
                if self.1 { Err("boom".into()) } else { Ok(()) }
            })
        }
    }

    async fn fired_rows(db: &Db) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM settings WHERE key LIKE 'fired:%'")
            .fetch_one(db.reader())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn overdue_timer_fires_once_across_restart() {
        let (db, _d) = testing::db().await;
        let clock = Arc::new(FakeClock::new(datetime!(2026-11-27 08:00 UTC)));
        let mut tx = db.begin().await.unwrap();
        let due = datetime!(2026-11-27 09:00 UTC);
        let id = enqueue(&mut tx, clock.now(), "sla.deadline", &serde_json::json!({"case": "c1"}), due, Some("sla:c1"))
            .await
            .unwrap();
        assert!(id.is_some());
        // Scheduling the same deadline again is a no-op.
        let again =
            enqueue(&mut tx, clock.now(), "sla.deadline", &serde_json::json!({}), due, Some("sla:c1")).await.unwrap();
        assert!(again.is_none());
        tx.commit().await.unwrap();

        let count = Arc::new(AtomicU32::new(0));
        let mut r1 = JobRunner::new(db.clone(), clock.clone());
        r1.register("sla.deadline", Arc::new(Counter(count.clone(), false)));
        assert_eq!(r1.run_due().await.unwrap(), RunStats::default(), "not due yet");
        drop(r1);

        // "Restart": the deadline passed while the server was down.
        clock.advance(Duration::hours(3));
        db.close().await;
        let db = Db::open(&crate::testdb::url_for(_d.path()).await).await.unwrap();
        let mut r2 = JobRunner::new(db.clone(), clock.clone());
        r2.register("sla.deadline", Arc::new(Counter(count.clone(), false)));
        assert_eq!(r2.run_due().await.unwrap().done, 1);
        assert_eq!(r2.run_due().await.unwrap().done, 0);
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert_eq!(fired_rows(&db).await, 1);
    }

    /// Two server processes on one database (two handles, each with its own pools and runner)
    /// run the same due timers at the same moment: each fires once, by one of them.
    #[tokio::test]
    async fn two_runners_on_one_database_fire_each_timer_once() {
        let (db, d) = testing::db().await;
        let other = Db::open(&crate::testdb::url_for(d.path()).await).await.unwrap();
        let clock = Arc::new(FakeClock::new(datetime!(2026-11-27 08:00 UTC)));
        let mut tx = db.begin().await.unwrap();
        for i in 0..60 {
            let key = format!("sla:c{i}");
            enqueue(&mut tx, clock.now(), "sla.deadline", &serde_json::json!({ "case": i }), clock.now(), Some(&key))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let count = Arc::new(AtomicU32::new(0));
        let mut r1 = JobRunner::new(db.clone(), clock.clone());
        r1.register("sla.deadline", Arc::new(Counter(count.clone(), false)));
        let mut r2 = JobRunner::new(other.clone(), clock.clone());
        r2.register("sla.deadline", Arc::new(Counter(count.clone(), false)));
        let (a, b) = tokio::join!(r1.run_due(), r2.run_due());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.done + b.done, 60, "{a:?} {b:?}");
        assert_eq!(count.load(Ordering::SeqCst), 60);
        assert_eq!(fired_rows(&db).await, 60);
        other.close().await;
    }

    #[tokio::test]
    async fn failures_roll_back_effects_and_retry_with_backoff() {
        let (db, _d) = testing::db().await;
        let clock = Arc::new(FakeClock::new(datetime!(2026-11-27 08:00 UTC)));
        let mut tx = db.begin().await.unwrap();
        enqueue(&mut tx, clock.now(), "flaky", &serde_json::json!({}), clock.now(), None).await.unwrap();
        enqueue(&mut tx, clock.now(), "nobody", &serde_json::json!({}), clock.now(), None).await.unwrap();
        tx.commit().await.unwrap();
        let count = Arc::new(AtomicU32::new(0));
        let mut r = JobRunner::new(db.clone(), clock.clone());
        r.register("flaky", Arc::new(Counter(count.clone(), true)));
        let s = r.run_due().await.unwrap();
        assert_eq!((s.retried, s.failed), (1, 1), "unknown kinds fail at once");
        assert_eq!(fired_rows(&db).await, 0, "effects of a failed run are rolled back");
        assert_eq!(r.run_due().await.unwrap(), RunStats::default(), "waits for the backoff");
        clock.advance(Duration::seconds(21));
        assert_eq!(r.run_due().await.unwrap().retried, 1);
        let c = counts(&db, clock.now()).await.unwrap();
        assert_eq!((c.pending, c.failed), (1, 1));
    }

    #[tokio::test]
    async fn cancelled_jobs_do_not_run() {
        let (db, _d) = testing::db().await;
        let clock = Arc::new(FakeClock::new(datetime!(2026-11-27 08:00 UTC)));
        let mut tx = db.begin().await.unwrap();
        enqueue(&mut tx, clock.now(), "x", &serde_json::json!({}), clock.now(), Some("k")).await.unwrap();
        assert!(cancel(&mut tx, clock.now(), "k").await.unwrap());
        tx.commit().await.unwrap();
        let r = JobRunner::new(db.clone(), clock.clone());
        assert_eq!(r.run_due().await.unwrap(), RunStats::default());
    }
}
