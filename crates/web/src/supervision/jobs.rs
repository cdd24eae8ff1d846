//! The supervision case's jobs, start-up recovery and background folding of location fixes.

use crate::case::{BoxFuture, CaseJob};
use crate::jobs::{Every, OnDemand, Recurring};
use crate::state::AppState;
use store::Tx;
use store::jobs::Job;
use store::supervision::Caches;
use store::supervision::FoldWhen;
use time::OffsetDateTime;
use tokio::sync::watch;

pub const LOCATION_PURGE: &str = "supervision.purge";
pub const OFFLINE_CHECK: &str = "supervision.offline";

pub fn jobs(state: &AppState) -> Vec<CaseJob> {
    vec![
        Recurring::job(LOCATION_PURGE, Every::Night { hour: 3 }, state, purge_locations),
        Recurring::job(OFFLINE_CHECK, Every::Quarter, state, check_offline),
        Recurring::job(store::supervision::EXPIRY_JOB, Every::Night { hour: 0 }, state, expire_and_warn),
        OnDemand::job(store::supervision::TASK_DUE_JOB, state, task_due),
    ]
}

/// Deletes 亳安码 location data the configured number of days after a measure ends.
fn purge_locations<'a>(state: &'a AppState, tx: &'a mut Tx, now: OffsetDateTime) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        let keep = state.config().city.supervision.retention_days;
        let (persons, fixes, events) = store::supervision::purge_locations(tx, &Caches::of(&state.db), now, keep)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(persons, fixes, events, "location data purged");
        Ok(())
    })
}

/// Reminds agencies of measures about to end and stops collecting once one has run out.
fn expire_and_warn<'a>(state: &'a AppState, tx: &'a mut Tx, now: OffsetDateTime) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        let r =
            store::supervision::expire_and_warn(tx, &Caches::of(&state.db), now).await.map_err(|e| e.to_string())?;
        if r.warned + r.expired > 0 {
            tracing::info!(warned = r.warned, expired = r.expired, "measures checked for expiry");
        }
        Ok(())
    })
}

/// Alarms persons whose phone has been silent too long.
fn check_offline<'a>(state: &'a AppState, tx: &'a mut Tx, now: OffsetDateTime) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        let opened = store::supervision::check_offline(tx, &Caches::of(&state.db), &state.config(), now)
            .await
            .map_err(|e| e.to_string())?;
        if opened > 0 {
            tracing::info!(opened, "offline alarms opened");
        }
        Ok(())
    })
}

/// A check-in task's deadline passed: missed if still open.
fn task_due<'a>(
    state: &'a AppState,
    tx: &'a mut Tx,
    job: &'a Job,
    now: OffsetDateTime,
) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        let id = job.payload["task"].as_str().ok_or("payload without task")?;
        store::supervision::task_due(tx, &state.config(), now, id).await.map_err(|e| e.to_string())
    })
}

/// Recovery: location fixes acknowledged before a stop are in the log; fold them now.
pub fn start(state: &AppState) -> BoxFuture<'_, store::Result<()>> {
    Box::pin(async move {
        let folded = store::supervision::fold_pending(&state.db, FoldWhen::Always, &Default::default()).await?;
        if folded > 0 {
            tracing::info!(folded, "logged location fixes folded at start");
        }
        Ok(())
    })
}

/// Folds logged location fixes into the per-person tables about once a second, giving way to a
/// burst of uploads (see `store::supervision::fold_pending`), and all of them on the way out.
pub fn fold_fixes(state: AppState, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let stopping = tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => false,
                _ = stop.changed() => true,
            };
            let when = if stopping { FoldWhen::Always } else { FoldWhen::Idle };
            if let Err(e) = store::supervision::fold_pending(&state.db, when, &Default::default()).await {
                tracing::error!(error = %e, "folding location fixes failed");
            }
            if stopping || *stop.borrow() {
                return;
            }
        }
    })
}
