//! HTTP for Yingshang (营商): server-rendered Chinese pages that work without JavaScript, a
//! JSON API with OpenAPI, and the security around both (sessions, CSRF, permissions, audit).

pub mod access;
pub mod api;
pub mod app;
pub mod auth_cache;
pub mod case;
pub mod cookies;
pub mod error;
pub mod export;
pub mod form;
pub mod import;
pub mod jobs;
pub mod labels;
pub mod layout;
pub mod login_guard;
pub mod metrics;
pub mod pages;
pub mod pdf;
pub mod qr;
pub mod refusals;
pub mod services;
pub mod state;
pub mod supervision;
pub mod wages;

use access::{Access, RequestCtx, Routes};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use state::AppState;
use std::sync::Arc;

/// Every route of the product, each with its access rule.
pub fn routes() -> Routes {
    Routes::default()
        .add("/healthz", Access::Public, get(healthz))
        .add("/metrics", Access::Public, get(metrics::metrics))
        .add("/static/app.css", Access::Public, get(css))
        .add("/static/app.js", Access::Public, get(js))
        .add("/static/icon.svg", Access::Public, get(icon))
        .add("/favicon.ico", Access::Public, get(icon))
        .merge(pages::auth::routes())
        .merge(pages::home::routes())
        .merge(pages::org::routes())
        .merge(pages::admin::routes())
        .merge(pages::system::routes())
        .merge(pages::audit::routes())
        .merge(pages::workflow::routes())
        .merge(pages::workflow_stats::routes())
        .merge(pages::inbox::routes())
        .merge(pages::alerts::routes())
        .merge(pages::documents::routes())
        .merge(pages::scores::routes())
        .merge(api::routes())
        .merge_cases()
}

pub fn router(state: AppState) -> Router {
    let (router, table, doc) = routes().into_parts();
    *state.routes.write().expect("routes lock") = Arc::new(table);
    router
        .fallback(not_found)
        .layer(axum::Extension(Arc::new(api::document(doc))))
        .layer(axum::middleware::from_fn(access::csrf))
        .layer(axum::middleware::from_fn(error::api_envelope))
        .layer(axum::middleware::from_fn_with_state(state.clone(), access::authenticate))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(axum::middleware::from_fn_with_state(state.clone(), access::security_headers))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn not_found(ctx: RequestCtx, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return error::ApiError(error::AppError::NotFound(format!("接口 {}", uri.path()))).into_response();
    }
    let _ = ctx;
    (StatusCode::NOT_FOUND, Html(layout::plain_page("页面不存在", "您访问的页面不存在，请检查地址或返回首页。")))
        .into_response()
}

const CSS: &str = include_str!("../static/app.css");
const JS: &str = include_str!("../static/app.js");
const ICON: &str = include_str!("../static/icon.svg");

/// Browsers ask for `/favicon.ico` whatever the page says; both paths answer with the SVG.
async fn icon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], ICON).into_response()
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], CSS)
        .into_response()
}

async fn js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], JS)
        .into_response()
}
