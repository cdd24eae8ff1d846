//! Prometheus text metrics, hand-written: request counts and latency per route template,
//! plus gauges read at scrape time.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;
use time::{Duration, OffsetDateTime};

const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    touched: Mutex<HashMap<String, OffsetDateTime>>,
    started: Mutex<Option<Instant>>,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, secs: f64) {
        *self.requests.lock().expect("metrics").entry((method.to_string(), route.to_string(), status)).or_default() +=
            1;
        let mut l = self.latency.lock().expect("metrics");
        let h = l.entry(route.to_string()).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    /// True when `key` was not touched within `every` (throttles last-used writes).
    pub fn should_touch(&self, key: &str, now: OffsetDateTime, every: Duration) -> bool {
        let mut t = self.touched.lock().expect("metrics");
        match t.get(key) {
            Some(last) if now - *last < every => false,
            _ => {
                if t.len() > 10_000 {
                    t.clear();
                }
                t.insert(key.to_string(), now);
                true
            }
        }
    }

    pub fn mark_started(&self) {
        *self.started.lock().expect("metrics") = Some(Instant::now());
    }

    fn render_into(&self, out: &mut String) {
        out.push_str("# HELP yingshang_http_requests_total HTTP requests by method, route template and status.\n");
        out.push_str("# TYPE yingshang_http_requests_total counter\n");
        for ((m, r, s), n) in self.requests.lock().expect("metrics").iter() {
            let _ = writeln!(
                out,
                "yingshang_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {n}",
                esc(r)
            );
        }
        out.push_str("# HELP yingshang_http_request_duration_seconds Request latency by route template.\n");
        out.push_str("# TYPE yingshang_http_request_duration_seconds histogram\n");
        for (r, h) in self.latency.lock().expect("metrics").iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "yingshang_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{b}\"}} {}",
                    esc(r),
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "yingshang_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}",
                esc(r),
                h.count
            );
            let _ = writeln!(out, "yingshang_http_request_duration_seconds_sum{{route=\"{}\"}} {}", esc(r), h.sum);
            let _ = writeln!(out, "yingshang_http_request_duration_seconds_count{{route=\"{}\"}} {}", esc(r), h.count);
        }
        if let Some(s) = *self.started.lock().expect("metrics") {
            out.push_str("# HELP yingshang_uptime_seconds Seconds since the server started.\n# TYPE yingshang_uptime_seconds gauge\n");
            let _ = writeln!(out, "yingshang_uptime_seconds {}", s.elapsed().as_secs());
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Records every request under its route template (`/admin/users/{id}`), so label values stay few.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route =
        req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    state.metrics.record(&method, &route, resp.status().as_u16(), start.elapsed().as_secs_f64());
    resp
}

/// Prometheus text, for the addresses in `security.metrics_from` only (it shows activity and
/// session counts); others get 404, as if there were nothing here.
pub async fn metrics(State(state): State<AppState>, req: Request) -> Response {
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    if !peer.is_some_and(|ip| state.config().city.security.metrics_from.iter().any(|r| r.contains(ip))) {
        return (axum::http::StatusCode::NOT_FOUND, "").into_response();
    }
    let mut out = String::new();
    state.metrics.render_into(&mut out);
    let now = state.clock.now();
    let gauge = |out: &mut String, name: &str, help: &str, v: i64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
    };
    if let Ok(c) = store::jobs::counts(&state.db, now).await {
        gauge(&mut out, "yingshang_jobs_pending", "Jobs waiting to run.", c.pending);
        gauge(&mut out, "yingshang_jobs_overdue", "Pending jobs past their due time.", c.overdue);
        gauge(&mut out, "yingshang_jobs_failed", "Jobs that gave up after retries.", c.failed);
    }
    if let Some(r) = state.db.check_replica().await {
        let lag = match r {
            store::ReplicaStatus::Following { lag_bytes } => lag_bytes,
            _ => -1,
        };
        gauge(&mut out, "yingshang_replica_usable", "1 while reports read the streaming replica.", i64::from(lag >= 0));
        gauge(
            &mut out,
            "yingshang_replica_lag_bytes",
            "WAL bytes the replica's replay trails the primary (-1: not usable).",
            lag,
        );
    }
    if let Ok(n) = store::auth::active_session_count(&state.db).await {
        gauge(&mut out, "yingshang_sessions_active", "Sessions not ended.", n);
    }
    let head: Result<i64, _> =
        sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1").fetch_one(state.db.reader()).await;
    if let Ok(seq) = head {
        gauge(&mut out, "yingshang_audit_records", "Records in the audit chain.", seq);
    }
    let missing = i64::from(state.calendar().coverage_warning(state.clock.today()).is_some());
    gauge(
        &mut out,
        "yingshang_holiday_table_missing",
        "1 when this or next year's holiday table is not loaded.",
        missing,
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_buckets() {
        let m = Metrics::default();
        m.record("GET", "/home", 200, 0.02);
        m.record("GET", "/home", 200, 0.2);
        let mut s = String::new();
        m.render_into(&mut s);
        assert!(s.contains("yingshang_http_requests_total{method=\"GET\",route=\"/home\",status=\"200\"} 2"));
        assert!(s.contains("le=\"0.025\"} 1"));
        assert!(s.contains("le=\"+Inf\"} 2"));
        let t = OffsetDateTime::UNIX_EPOCH;
        assert!(m.should_touch("k", t, Duration::seconds(60)));
        assert!(!m.should_touch("k", t + Duration::seconds(30), Duration::seconds(60)));
        assert!(m.should_touch("k", t + Duration::seconds(61), Duration::seconds(60)));
    }
}
