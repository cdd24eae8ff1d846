//! Background jobs of the platform itself. Case modules register theirs the same way.

use crate::state::AppState;
use domain::clock::{CHINA, Clock};
use std::sync::Arc;
use store::jobs::{HandlerFuture, Job, JobHandler, JobRunner, enqueue};
use store::services::exchange::ROLLUP_JOB as ROLLUP;
use store::{Db, Tx};
use time::{Duration, OffsetDateTime, Time};

pub const SESSION_PURGE: &str = "session.purge";

/// Ends idle sessions that were never seen again and deletes ended sessions after 90 days
/// (logins and logouts stay in the audit log), then schedules itself for the next night.
pub struct SessionPurge {
    pub idle: Duration,
}

/// 03:00 China time after `now`.
pub fn next_night(now: OffsetDateTime) -> OffsetDateTime {
    let local = now.to_offset(CHINA);
    let today_3 = local.replace_time(Time::from_hms(3, 0, 0).expect("valid"));
    if today_3 > local { today_3 } else { today_3 + Duration::days(1) }
}

fn purge_key(at: OffsetDateTime) -> String {
    format!("{SESSION_PURGE}:{}", at.to_offset(CHINA).date())
}

impl JobHandler for SessionPurge {
    fn handle<'a>(&'a self, tx: &'a mut Tx, _job: &'a Job, now: OffsetDateTime) -> HandlerFuture<'a> {
        Box::pin(async move {
            let (ended, deleted) = store::auth::purge_sessions(tx, now, now - self.idle, now - Duration::days(90))
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(ended, deleted, "sessions purged");
            let next = next_night(now);
            enqueue(tx, now, SESSION_PURGE, &serde_json::json!({}), next, Some(&purge_key(next)))
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        })
    }
}

pub const LOCATION_PURGE: &str = "supervision.purge";

/// Deletes 亳安码 location data the configured number of days after a measure ends, then
/// schedules itself for the next night.
pub struct LocationPurge {
    pub state: AppState,
}

impl JobHandler for LocationPurge {
    fn handle<'a>(&'a self, tx: &'a mut Tx, _job: &'a Job, now: OffsetDateTime) -> HandlerFuture<'a> {
        Box::pin(async move {
            let keep = self.state.config().city.supervision.retention_days;
            let (persons, fixes, events) =
                store::supervision::purge_locations(tx, now, keep).await.map_err(|e| e.to_string())?;
            tracing::info!(persons, fixes, events, "location data purged");
            let next = next_night(now);
            let key = format!("{LOCATION_PURGE}:{}", next.to_offset(CHINA).date());
            enqueue(tx, now, LOCATION_PURGE, &serde_json::json!({}), next, Some(&key))
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        })
    }
}

/// Rolls the data-exchange call log up into daily counts (`dx_call_days`) every night, so the
/// all-time counts on 共享数据 and 申报统计 stay cheap; then schedules the next night.
pub struct CallsRollup;

impl JobHandler for CallsRollup {
    fn handle<'a>(&'a self, tx: &'a mut Tx, _job: &'a Job, now: OffsetDateTime) -> HandlerFuture<'a> {
        Box::pin(async move {
            let added = store::services::exchange::roll_up_calls(tx, now).await.map_err(|e| e.to_string())?;
            tracing::info!(added, "interface calls rolled up");
            let next = next_night(now);
            enqueue(tx, now, ROLLUP, &serde_json::json!({}), next, Some(&rollup_key(next)))
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        })
    }
}

fn rollup_key(at: OffsetDateTime) -> String {
    format!("{ROLLUP}:{}", at.to_offset(CHINA).date())
}

pub const OFFLINE_CHECK: &str = "supervision.offline";

/// Every quarter of an hour: alarms persons whose phone has been silent too long, then
/// schedules the next check.
pub struct OfflineCheck {
    pub state: AppState,
}

fn next_quarter(now: OffsetDateTime) -> OffsetDateTime {
    let secs = now.unix_timestamp();
    OffsetDateTime::from_unix_timestamp(secs - secs.rem_euclid(900) + 900).unwrap_or(now + Duration::minutes(15))
}

fn offline_key(at: OffsetDateTime) -> String {
    format!("{OFFLINE_CHECK}:{}", at.unix_timestamp())
}

impl JobHandler for OfflineCheck {
    fn handle<'a>(&'a self, tx: &'a mut Tx, _job: &'a Job, now: OffsetDateTime) -> HandlerFuture<'a> {
        Box::pin(async move {
            let opened =
                store::supervision::check_offline(tx, &self.state.config(), now).await.map_err(|e| e.to_string())?;
            if opened > 0 {
                tracing::info!(opened, "offline alarms opened");
            }
            let next = next_quarter(now);
            enqueue(tx, now, OFFLINE_CHECK, &serde_json::json!({}), next, Some(&offline_key(next)))
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        })
    }
}

/// A check-in task's deadline passed: missed if still open.
pub struct TaskDue {
    pub state: AppState,
}

impl JobHandler for TaskDue {
    fn handle<'a>(&'a self, tx: &'a mut Tx, job: &'a Job, now: OffsetDateTime) -> HandlerFuture<'a> {
        Box::pin(async move {
            let id = job.payload["task"].as_str().ok_or("payload without task")?;
            store::supervision::task_due(tx, &self.state.config(), now, id).await.map_err(|e| e.to_string())
        })
    }
}

/// Cross-department verification requests still unanswered at their deadline.
pub struct XRequestDue {
    pub state: AppState,
}

impl JobHandler for XRequestDue {
    fn handle<'a>(&'a self, tx: &'a mut Tx, job: &'a Job, now: OffsetDateTime) -> HandlerFuture<'a> {
        Box::pin(async move {
            let id = job.payload["request"].as_str().ok_or("payload without request")?;
            store::services::xrequests::overdue(tx, &self.state.config(), now, id).await.map_err(|e| e.to_string())
        })
    }
}

/// Deadlines and tolerance dates of workflow instances.
pub struct WorkflowTimer {
    pub state: AppState,
}

impl JobHandler for WorkflowTimer {
    fn handle<'a>(&'a self, tx: &'a mut Tx, job: &'a Job, now: OffsetDateTime) -> HandlerFuture<'a> {
        Box::pin(async move {
            let cal = self.state.calendar();
            let rt = store::workflow::Runtime { cfg: &self.state.config(), cal: &cal };
            store::workflow::fire(tx, &rt, &job.payload, now).await.map_err(|e| e.to_string())
        })
    }
}

/// A rectification deadline of an alert passed.
pub struct AlertDeadline {
    pub state: AppState,
}

impl JobHandler for AlertDeadline {
    fn handle<'a>(&'a self, tx: &'a mut Tx, job: &'a Job, now: OffsetDateTime) -> HandlerFuture<'a> {
        Box::pin(async move {
            store::alerts::deadline_passed(tx, &self.state.config(), &job.payload, now).await.map_err(|e| e.to_string())
        })
    }
}

/// The nightly evaluation of every indicator, then the next night's run, in the job's
/// transaction.
pub struct AlertEvaluation {
    pub state: AppState,
}

impl JobHandler for AlertEvaluation {
    fn handle<'a>(&'a self, tx: &'a mut Tx, _job: &'a Job, now: OffsetDateTime) -> HandlerFuture<'a> {
        Box::pin(async move {
            let cal = self.state.calendar();
            store::alerts::run_all_in(tx, &self.state.db, &self.state.config(), &cal, now)
                .await
                .map_err(|e| e.to_string())?;
            let next = next_night(now) - Duration::hours(1);
            enqueue(
                tx,
                now,
                store::alerts::EVALUATE_JOB,
                &serde_json::json!({}),
                next,
                Some(&format!("{}:{}", store::alerts::EVALUATE_JOB, next.to_offset(CHINA).date())),
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok(())
        })
    }
}

/// Registers the platform's handlers and makes sure the recurring jobs are scheduled.
pub async fn setup(runner: &mut JobRunner, state: &AppState, clock: &Arc<dyn Clock>) -> store::Result<()> {
    let db: &Db = &state.db;
    let idle = state.sessions.idle;
    runner.register(SESSION_PURGE, Arc::new(SessionPurge { idle }));
    runner.register(store::workflow::TIMER_JOB, Arc::new(WorkflowTimer { state: state.clone() }));
    runner.register(store::alerts::DEADLINE_JOB, Arc::new(AlertDeadline { state: state.clone() }));
    runner.register(store::alerts::EVALUATE_JOB, Arc::new(AlertEvaluation { state: state.clone() }));
    runner.register(LOCATION_PURGE, Arc::new(LocationPurge { state: state.clone() }));
    runner.register(store::supervision::TASK_DUE_JOB, Arc::new(TaskDue { state: state.clone() }));
    runner.register(store::services::xrequests::DUE_JOB, Arc::new(XRequestDue { state: state.clone() }));
    runner.register(OFFLINE_CHECK, Arc::new(OfflineCheck { state: state.clone() }));
    runner.register(ROLLUP, Arc::new(CallsRollup));
    let now = clock.now();
    let next = next_night(now);
    let mut tx = db.begin().await?;
    enqueue(&mut tx, now, SESSION_PURGE, &serde_json::json!({}), next, Some(&purge_key(next))).await?;
    // Indicators are evaluated at 02:00 every night.
    let eval_at = next - Duration::hours(1);
    let key = format!("{}:{}", store::alerts::EVALUATE_JOB, eval_at.to_offset(CHINA).date());
    enqueue(&mut tx, now, store::alerts::EVALUATE_JOB, &serde_json::json!({}), eval_at, Some(&key)).await?;
    let key = format!("{LOCATION_PURGE}:{}", next.to_offset(CHINA).date());
    enqueue(&mut tx, now, LOCATION_PURGE, &serde_json::json!({}), next, Some(&key)).await?;
    // The call roll-up runs at start (whatever earlier nights missed) and then nightly.
    enqueue(&mut tx, now, ROLLUP, &serde_json::json!({}), now, Some(&format!("{ROLLUP}:start:{now}"))).await?;
    let quarter = next_quarter(now);
    enqueue(&mut tx, now, OFFLINE_CHECK, &serde_json::json!({}), quarter, Some(&offline_key(quarter))).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn next_night_is_three_in_the_morning_china_time() {
        assert_eq!(next_night(datetime!(2026-11-27 10:00 UTC)), datetime!(2026-11-28 03:00 +8));
        // 02:00 China time: tonight's run is an hour away.
        assert_eq!(next_night(datetime!(2026-11-27 18:00 UTC)), datetime!(2026-11-28 03:00 +8));
        assert_eq!(next_night(datetime!(2026-11-27 20:00 UTC)), datetime!(2026-11-29 03:00 +8));
    }
}
