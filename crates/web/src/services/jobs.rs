//! The services case's jobs and its start-up step (saved catalogue versions, suspended items).

use crate::case::{BoxFuture, CaseJob};
use crate::jobs::{Every, OnDemand, Recurring};
use crate::state::AppState;
use store::Tx;
use store::jobs::Job;
use store::services::exchange::ROLLUP_JOB;
use time::OffsetDateTime;

pub fn jobs(state: &AppState) -> Vec<CaseJob> {
    vec![
        // The call roll-up runs at start (whatever earlier nights missed) and then nightly.
        CaseJob { at_start: true, ..Recurring::job(ROLLUP_JOB, Every::Night { hour: 3 }, state, roll_up_calls) },
        OnDemand::job(store::services::xrequests::DUE_JOB, state, xrequest_due),
    ]
}

/// Rolls the data-exchange call log up into daily counts (`dx_call_days`), so the all-time
/// counts on 共享数据 and 申报统计 stay cheap.
/// Then drops the call log's months past `[security] log_retention_months` (PostgreSQL).
fn roll_up_calls<'a>(state: &'a AppState, tx: &'a mut Tx, now: OffsetDateTime) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        let added = store::services::exchange::roll_up_calls(tx, now).await.map_err(|e| e.to_string())?;
        let months = state.config().city.security.log_retention_months;
        let dropped =
            store::services::exchange::drop_expired_calls(tx, now, months).await.map_err(|e| e.to_string())?;
        tracing::info!(added, dropped = dropped.len(), "interface calls rolled up");
        Ok(())
    })
}

/// Cross-department verification requests still unanswered at their deadline.
fn xrequest_due<'a>(
    state: &'a AppState,
    tx: &'a mut Tx,
    job: &'a Job,
    now: OffsetDateTime,
) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        let id = job.payload["request"].as_str().ok_or("payload without request")?;
        store::services::xrequests::overdue(tx, &state.config(), now, id).await.map_err(|e| e.to_string())
    })
}

/// Service items edited on the web override their files (version 2 onwards); items suspended
/// by administrators stay suspended. At start, and again when another server process saved or
/// suspended an item.
pub fn start(state: &AppState) -> BoxFuture<'_, store::Result<()>> {
    Box::pin(async move {
        // Applied to the configuration read from files, so that this runs again on a reload.
        let (config, warnings) = store::services::catalog::apply_saved(&state.db, state.base_config.clone()).await?;
        for w in &warnings {
            tracing::warn!("{w}");
        }
        state.set_config_arc(config);
        let svc = super::state(state);
        *svc.suspended_items.write().expect("suspended lock") = store::services::suspended(&state.db).await?;
        *svc.catalog_warnings.write().expect("catalog lock") = warnings;
        Ok(())
    })
}
