//! Background jobs: the shell's own handlers, the recurring-job helper every case uses, and the
//! registration of all of them at start.

use crate::case::{BoxFuture, CASES, CaseJob};
use crate::state::AppState;
use domain::clock::{CHINA, Clock};
use std::sync::Arc;
use store::Tx;
use store::jobs::{HandlerFuture, Job, JobHandler, JobRunner, enqueue};
use time::{Duration, OffsetDateTime, Time};

/// How often a recurring job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    /// Every night at this hour, China time.
    Night { hour: u8 },
    /// On each quarter of an hour.
    Quarter,
}

impl Every {
    /// The first run after `now`.
    pub fn next(self, now: OffsetDateTime) -> OffsetDateTime {
        match self {
            Every::Night { hour } => {
                let local = now.to_offset(CHINA);
                let at = local.replace_time(Time::from_hms(hour.min(23), 0, 0).expect("valid hour"));
                if at > local { at } else { at + Duration::days(1) }
            }
            Every::Quarter => {
                let secs = now.unix_timestamp();
                OffsetDateTime::from_unix_timestamp(secs - secs.rem_euclid(900) + 900)
                    .unwrap_or(now + Duration::minutes(15))
            }
        }
    }

    /// The dedup key of the run at `at`, so restarts and several processes schedule it once.
    pub fn key(self, name: &str, at: OffsetDateTime) -> String {
        match self {
            Every::Night { .. } => format!("{name}:{}", at.to_offset(CHINA).date()),
            Every::Quarter => format!("{name}:{}", at.unix_timestamp()),
        }
    }
}

/// The work of one run of a recurring job, in the job's transaction.
pub type Work = for<'a> fn(&'a AppState, &'a mut Tx, OffsetDateTime) -> BoxFuture<'a, Result<(), String>>;

/// A job that does its work and then schedules its next run in the same transaction: a crash
/// between the two cannot lose the schedule.
pub struct Recurring {
    pub name: &'static str,
    pub every: Every,
    pub state: AppState,
    pub work: Work,
}

impl Recurring {
    pub fn job(name: &'static str, every: Every, state: &AppState, work: Work) -> CaseJob {
        CaseJob {
            name,
            handler: Arc::new(Recurring { name, every, state: state.clone(), work }),
            every: Some(every),
            at_start: false,
        }
    }
}

impl JobHandler for Recurring {
    fn handle<'a>(&'a self, tx: &'a mut Tx, _job: &'a Job, now: OffsetDateTime) -> HandlerFuture<'a> {
        Box::pin(async move {
            (self.work)(&self.state, tx, now).await?;
            let next = self.every.next(now);
            enqueue(tx, now, self.name, &serde_json::json!({}), next, Some(&self.every.key(self.name, next)))
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        })
    }
}

/// The work of a job enqueued for a moment (a deadline), with its payload.
pub type DueWork = for<'a> fn(&'a AppState, &'a mut Tx, &'a Job, OffsetDateTime) -> BoxFuture<'a, Result<(), String>>;

/// A job run when its payload says (deadlines): the handler is the work.
pub struct OnDemand {
    pub state: AppState,
    pub work: DueWork,
}

impl OnDemand {
    pub fn job(name: &'static str, state: &AppState, work: DueWork) -> CaseJob {
        CaseJob { name, handler: Arc::new(OnDemand { state: state.clone(), work }), every: None, at_start: false }
    }
}

impl JobHandler for OnDemand {
    fn handle<'a>(&'a self, tx: &'a mut Tx, job: &'a Job, now: OffsetDateTime) -> HandlerFuture<'a> {
        (self.work)(&self.state, tx, job, now)
    }
}

pub const SESSION_PURGE: &str = "session.purge";

/// Ends idle sessions that were never seen again and deletes ended sessions after 90 days
/// (logins and logouts stay in the audit log).
fn purge_sessions<'a>(state: &'a AppState, tx: &'a mut Tx, now: OffsetDateTime) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        let (ended, deleted) =
            store::auth::purge_sessions(tx, now, now - state.sessions.idle, now - Duration::days(90))
                .await
                .map_err(|e| e.to_string())?;
        tracing::info!(ended, deleted, "sessions purged");
        Ok(())
    })
}

/// Keeps the partitioned tables' months ahead (PostgreSQL) and drops the audit log's months
/// past `[security] log_retention_months`.
fn maintain_partitions<'a>(
    state: &'a AppState,
    tx: &'a mut Tx,
    now: OffsetDateTime,
) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        let made = store::partitions::ensure_all(tx, now).await.map_err(|e| e.to_string())?;
        let months = state.config().city.security.log_retention_months;
        let dropped = store::audit::drop_expired(tx, now, months).await.map_err(|e| e.to_string())?;
        tracing::info!(made = made.made.len(), moved = made.moved, dropped = dropped.len(), "partitions maintained");
        Ok(())
    })
}

/// Deadlines and tolerance dates of workflow instances.
fn workflow_timer<'a>(
    state: &'a AppState,
    tx: &'a mut Tx,
    job: &'a Job,
    now: OffsetDateTime,
) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        let cal = state.calendar();
        let cfg = state.config();
        let rt = store::workflow::Runtime { cfg: &cfg, cal: &cal };
        store::workflow::fire(tx, &rt, &job.payload, now).await.map_err(|e| e.to_string())?;
        // One-click applications keep a row of their own in step with the instance.
        let id = job.payload["instance"].as_str().unwrap_or_default();
        store::services::settle_if_service(tx, &cfg, now, state.seal_key.as_deref(), id)
            .await
            .map_err(|e| e.to_string())
    })
}

/// A rectification deadline of an alert passed.
fn alert_deadline<'a>(
    state: &'a AppState,
    tx: &'a mut Tx,
    job: &'a Job,
    now: OffsetDateTime,
) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        store::alerts::deadline_passed(tx, &state.config(), &job.payload, now).await.map_err(|e| e.to_string())
    })
}

/// The nightly evaluation of every indicator, in the job's transaction.
fn evaluate_alerts<'a>(state: &'a AppState, tx: &'a mut Tx, now: OffsetDateTime) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        let cal = state.calendar();
        store::alerts::run_all_in(tx, &state.db, &state.config(), &cal, crate::case::subject_sources(), now)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// The shell's own jobs: sessions, workflow timers and the alert engine.
fn shell_jobs(state: &AppState) -> Vec<CaseJob> {
    vec![
        Recurring::job(SESSION_PURGE, Every::Night { hour: 3 }, state, purge_sessions),
        Recurring::job(store::partitions::MAINTAIN_JOB, Every::Night { hour: 1 }, state, maintain_partitions),
        OnDemand::job(store::workflow::TIMER_JOB, state, workflow_timer),
        OnDemand::job(store::alerts::DEADLINE_JOB, state, alert_deadline),
        // Indicators are evaluated at 02:00, before the 03:00 housekeeping.
        Recurring::job(store::alerts::EVALUATE_JOB, Every::Night { hour: 2 }, state, evaluate_alerts),
    ]
}

/// Registers the shell's and every case's handlers and makes sure the recurring jobs are
/// scheduled (once: each run has a dedup key).
pub async fn setup(runner: &mut JobRunner, state: &AppState, clock: &Arc<dyn Clock>) -> store::Result<()> {
    let jobs: Vec<CaseJob> = shell_jobs(state).into_iter().chain(CASES.iter().flat_map(|c| (c.jobs)(state))).collect();
    let now = clock.now();
    let mut tx = state.db.begin().await?;
    for j in jobs {
        if let Some(every) = j.every {
            let next = every.next(now);
            enqueue(&mut tx, now, j.name, &serde_json::json!({}), next, Some(&every.key(j.name, next))).await?;
            // Whatever earlier nights missed runs once at start as well.
            if j.at_start {
                let key = format!("{}:start:{now}", j.name);
                enqueue(&mut tx, now, j.name, &serde_json::json!({}), now, Some(&key)).await?;
            }
        }
        runner.register(j.name, j.handler);
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn nights_are_china_time() {
        let night = Every::Night { hour: 3 };
        assert_eq!(night.next(datetime!(2026-11-27 10:00 UTC)), datetime!(2026-11-28 03:00 +8));
        // 02:00 China time: tonight's run is an hour away.
        assert_eq!(night.next(datetime!(2026-11-27 18:00 UTC)), datetime!(2026-11-28 03:00 +8));
        assert_eq!(night.next(datetime!(2026-11-27 20:00 UTC)), datetime!(2026-11-29 03:00 +8));
        assert_eq!(night.key("x", datetime!(2026-11-27 20:00 UTC)), "x:2026-11-28");
    }

    #[test]
    fn quarters_are_on_the_quarter() {
        assert_eq!(Every::Quarter.next(datetime!(2026-11-27 10:07:12 UTC)), datetime!(2026-11-27 10:15 UTC));
        assert_eq!(Every::Quarter.next(datetime!(2026-11-27 10:15 UTC)), datetime!(2026-11-27 10:30 UTC));
    }
}
