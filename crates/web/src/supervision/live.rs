//! The 亳安码 live feed: alarms pushed to the officer's browser as server-sent events while the
//! list page is open (a small script adds them to the page; without it, reloading shows the
//! same). The feed polls the database every two seconds for alarms opened since the last one
//! sent (at the connection's start, those opened from then on), so it needs no coupling to where alarms are opened, and a reconnecting browser
//! resumes from `Last-Event-ID`.

use crate::access::{Access, RequestCtx, Routes};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use domain::auth::perm;
use futures_util::Stream;
use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

pub fn routes() -> Routes {
    Routes::default().add("/supervision/live", Access::Perm(perm::SUPERVISION_VIEW), get(live))
}

async fn live(
    ctx: RequestCtx,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, crate::error::PageError> {
    let principal = ctx.user()?.clone();
    let state = ctx.state.clone();
    let since = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or_else(|| domain::clock::to_millis(state.clock.now()));
    let stream = futures_util::stream::unfold(
        (
            state,
            principal,
            since,
            VecDeque::<(store::supervision::AlarmRow, i64)>::new(),
            HashSet::<String>::new(),
            true,
        ),
        // `sent`: ids already sent that were opened at `since` (instants are milliseconds, and
        // several alarms can share one).
        |(state, principal, mut since, mut pending, mut sent, first)| async move {
            loop {
                if let Some((a, created)) = pending.pop_front() {
                    let data = serde_json::json!({
                        "id": a.id, "person_id": a.person_id, "person": a.person_name, "kind": a.kind,
                        "kind_label": a.kind.label(), "detail": a.detail,
                        "at": crate::layout::fmt_millis(&Some(a.at)),
                    });
                    let ev = Event::default().event("alarm").id(created.to_string()).data(data.to_string());
                    return Some((Ok(ev), (state, principal, since, pending, sent, false)));
                }
                if !first {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                match store::supervision::alarms_since(&state.db, &principal, since).await {
                    Ok(rows) => {
                        for (a, created) in rows {
                            if created > since {
                                since = created;
                                sent.clear();
                            }
                            if sent.insert(a.id.clone()) {
                                pending.push_back((a, created));
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "live alarms"),
                }
                if pending.is_empty() && first {
                    // Open the stream at once with a comment, so the browser knows it is live.
                    let ev = Event::default().comment("connected");
                    return Some((Ok(ev), (state, principal, since, pending, sent, false)));
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
