//! Who is calling and what they may do.
//!
//! Every route is added through [`Routes::add`] with an [`Access`] declaration; there is no
//! other way to add one, so no route can forget its permission. Unknown paths are 404 and a
//! route without a grant is refused (403, audited). Unsafe methods need a CSRF token unless the
//! caller is a system using an API token.

use crate::cookies;
use crate::error::{ApiError, AppError};
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::MethodRouter;
use domain::audit::{AuditEntry, Outcome};
use domain::auth::{Principal, SessionState};
use domain::clock::{from_millis, to_millis};
use std::net::SocketAddr;
use std::sync::Arc;
use time::Duration;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (login page, health, metrics, static files, OpenAPI).
    Public,
    /// Any signed-in user or token.
    Authenticated,
    /// A permission from the catalogue (`domain::auth::PERMISSIONS`).
    Perm(&'static str),
    /// Any one of these permissions; the handler narrows what each allows (e.g. a bank's
    /// system may send only its own kinds of wage data where an importer may send all).
    AnyOf(&'static [&'static str]),
}

impl Access {
    /// The permissions it names (none for public and signed-in routes).
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            // The catalogue entry holds the code as a 'static slice element.
            Access::Perm(p) => domain::auth::permission(p).map(|d| std::slice::from_ref(&d.code)).unwrap_or(&[]),
            Access::AnyOf(ps) => ps,
            Access::Public | Access::Authenticated => &[],
        }
    }

    pub fn describe(self) -> String {
        match self {
            Access::Public => "公开".into(),
            Access::Authenticated => "已登录".into(),
            Access::Perm(p) => match domain::auth::permission(p) {
                Some(d) => d.name.to_string(),
                None => p.to_string(),
            },
            Access::AnyOf(ps) => ps.iter().map(|p| Access::Perm(p).describe()).collect::<Vec<_>>().join(" 或 "),
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RouteInfo {
    pub path: String,
    pub access: String,
    #[serde(skip)]
    pub rule: Access,
    /// Described in the OpenAPI document (added with [`Routes::api`]).
    #[serde(skip)]
    pub api: bool,
}

/// A router that records each route's access rule; API routes also carry their OpenAPI
/// description (utoipa-axum), so the document is generated from the router and cannot drift.
pub struct Routes {
    router: OpenApiRouter<AppState>,
    table: Vec<RouteInfo>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes { router: OpenApiRouter::new(), table: vec![] }
    }
}

fn guard(path: &str, access: Access, mr: MethodRouter<AppState>) -> MethodRouter<AppState> {
    let named: &[&str] = match access {
        Access::Perm(p) => &[p],
        Access::AnyOf(ps) => ps,
        _ => &[],
    };
    for p in named {
        assert!(domain::auth::permission(p).is_some(), "route {path} names unknown permission {p}");
    }
    mr.route_layer(axum::middleware::from_fn(move |req: Request, next: Next| enforce(access, req, next)))
}

impl Routes {
    /// A page (or a route the OpenAPI document does not describe).
    pub fn add(mut self, path: &'static str, access: Access, mr: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, guard(path, access, mr));
        self.table.push(RouteInfo { path: path.into(), access: access.describe(), rule: access, api: false });
        self
    }

    /// An API route from `utoipa_axum::routes!(handler, …)`: one path, its handlers, their
    /// `#[utoipa::path]` descriptions and the schemas they name.
    pub fn api(self, access: Access, routes: UtoipaMethodRouter<AppState>) -> Self {
        self.api_with(access, routes, |mr| mr)
    }

    /// [`Routes::api`] with a layer on the handlers (a larger body limit).
    pub fn api_with(
        mut self,
        access: Access,
        (schemas, paths, mr): UtoipaMethodRouter<AppState>,
        layer: impl FnOnce(MethodRouter<AppState>) -> MethodRouter<AppState>,
    ) -> Self {
        let mr = layer(mr);
        assert_eq!(paths.paths.len(), 1, "one path per Routes::api call");
        let path = paths.paths.keys().next().cloned().unwrap_or_default();
        let mr = guard(&path, access, mr);
        self.router = self.router.routes((schemas, paths, mr));
        self.table.push(RouteInfo { path, access: access.describe(), rule: access, api: true });
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    /// Every case's routes (`case::CASES`).
    pub fn merge_cases(self) -> Self {
        crate::case::CASES.iter().fold(self, |r, c| r.merge((c.routes)()))
    }

    /// The router, the access table and the OpenAPI description of the API routes.
    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteInfo>, utoipa::openapi::OpenApi) {
        let (router, doc) = self.router.split_for_parts();
        (router, self.table, doc)
    }
}

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: String,
    pub csrf: String,
}

/// Per-request identity, set by [`authenticate`] for every request.
#[derive(Clone)]
pub struct RequestCtx {
    pub state: AppState,
    pub principal: Option<Arc<Principal>>,
    pub session: Option<SessionInfo>,
    pub via_token: bool,
    pub ip: String,
    pub timed_out: bool,
    pub flash: Option<String>,
    /// The pre-login CSRF cookie, if the browser has one.
    pub anon_csrf: Option<String>,
}

impl RequestCtx {
    pub fn user(&self) -> Result<&Principal, AppError> {
        self.principal.as_deref().ok_or(AppError::Unauthenticated)
    }

    /// Pushing or importing exchange records into an interface owned by `owner`: any
    /// interface with `exchange.push` city-wide (对接系统), only the user's own department's
    /// with it department-wide (the data owner's staff).
    pub fn may_push_to(&self, owner: &str) -> bool {
        let Some(p) = self.principal.as_ref() else { return false };
        match p.scope(domain::auth::perm::EXCHANGE_PUSH) {
            Some(domain::auth::DataScope::All) => true,
            Some(_) => p.department_code.as_deref() == Some(owner),
            None => false,
        }
    }

    /// The token forms must carry: the session's, or the pre-login cookie's.
    pub fn csrf_token(&self) -> String {
        match (&self.session, &self.anon_csrf) {
            (Some(s), _) => s.csrf.clone(),
            (None, Some(t)) => t.clone(),
            (None, None) => String::new(),
        }
    }

    /// An audit entry by this caller from this address.
    pub fn entry(&self, action: impl domain::audit::Action, object_type: &str, object_id: &str) -> AuditEntry {
        let (id, name) = match &self.principal {
            Some(p) => (p.user_id.as_str(), p.display_name.as_str()),
            None => ("anonymous", "匿名"),
        };
        AuditEntry::new(action, object_type, object_id).by(id, name).from_ip(&self.ip)
    }

    /// Records an event that changes nothing else (reads of personal data, refusals).
    pub async fn audit(&self, entry: AuditEntry) -> Result<(), AppError> {
        store::audit::record(&self.state.db, self.state.clock.now(), entry).await?;
        Ok(())
    }

    /// Refuses an object to this caller: audits the refusal (`access.denied` on the object, with
    /// `detail`) and gives the 403 with `message`. Page and API use the same refusal.
    pub async fn forbid(&self, object_type: &str, id: &str, detail: &str, message: &str) -> AppError {
        let e = self.entry(domain::audit::CoreAudit::AccessDenied, object_type, id).outcome(Outcome::Denied);
        match self.audit(e.detail(detail)).await {
            Ok(()) => AppError::Forbidden(message.into()),
            Err(e) => e,
        }
    }

    /// Records a refusal: the first of its kind from this source in an interval at once, the
    /// repeats as one counted record when the interval ends (`refusals`).
    pub async fn audit_refusal(&self, entry: AuditEntry) -> Result<(), AppError> {
        let now = self.state.clock.now();
        for e in self.state.refusals.note(entry, now) {
            store::audit::record(&self.state.db, now, e).await?;
        }
        Ok(())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestCtx>()
            .cloned()
            .ok_or_else(|| (StatusCode::INTERNAL_SERVER_ERROR, "authentication layer missing").into_response())
    }
}

/// The caller's address: the peer, or, when the peer is a configured reverse proxy
/// (`security.trusted_proxies`), the nearest address in `X-Forwarded-For` that is not one.
/// Nobody is trusted by default, so a client cannot write its own address into the audit log.
fn client_ip(req: &Request, trusted: &[domain::net::IpRange]) -> String {
    let Some(peer) = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else {
        return String::new();
    };
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|r| r.contains(ip));
    if !is_trusted(peer) {
        return peer.to_string();
    }
    let forwarded = req.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    let mut client = peer;
    for hop in forwarded.iter().flat_map(|v| v.split(',')).rev() {
        match hop.trim().parse::<std::net::IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client.to_string()
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Session and last-use timestamps are written at most this often per session or token.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// Identifies the caller from an API token (`Authorization: Bearer ys_…`) or the session
/// cookie, ends idle sessions, and puts a [`RequestCtx`] into the request.
pub async fn authenticate(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let now = state.clock.now();
    let ip = client_ip(&req, &state.config().city.security.trusted_proxies);
    let headers = req.headers().clone();
    // Owned copies: the request itself is not `Sync` and must not be borrowed across awaits.
    let path = req.uri().path().to_string();
    let mut ctx = RequestCtx {
        state: state.clone(),
        principal: None,
        session: None,
        via_token: false,
        ip,
        timed_out: false,
        flash: cookies::get(&headers, cookies::FLASH).map(|v| cookies::decode(&v)).filter(|s| !s.is_empty()),
        anon_csrf: cookies::get(&headers, cookies::ANON_CSRF).filter(|v| v.len() >= 32),
    };
    let mut clear_session = false;

    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .map(str::to_string);
    let result: Result<(), AppError> = async {
        if let Some(token) = bearer {
            match store::auth::check_token(&state.db, &token, now).await? {
                Some((token_id, user_id)) => {
                    ctx.principal = store::auth::load_principal(&state.db, &user_id).await?.map(Arc::new);
                    ctx.via_token = ctx.principal.is_some();
                    if state.metrics.should_touch(&token_id, now, TOUCH_EVERY) {
                        let mut tx = state.db.begin().await?;
                        store::auth::touch_token(&mut tx, &token_id, now).await?;
                        tx.commit().await?;
                    }
                }
                None => {
                    let prefix: String = token.chars().take(9).collect();
                    let e = ctx
                        .entry(domain::audit::CoreAudit::TokenRejected, "api_token", &prefix)
                        .outcome(Outcome::Denied)
                        .detail(path.clone());
                    ctx.audit_refusal(e).await?;
                    return Err(AppError::TokenRejected);
                }
            }
        } else if let Some(token) = cookies::get(&headers, cookies::SESSION) {
            let cached = state.auth_cache.get(&token).filter(|(s, _)| {
                state.sessions.state(from_millis(s.created_at), from_millis(s.last_seen_at), now)
                    == SessionState::Active
                    && now - from_millis(s.last_seen_at) < TOUCH_EVERY
            });
            if let Some((s, p)) = cached {
                ctx.principal = Some(p);
                ctx.session = Some(SessionInfo { id: s.id.clone(), csrf: s.csrf_token.clone() });
                return Ok(());
            }
            match store::auth::find_session(&state.db, &token).await? {
                Some(s) if s.ended_at.is_none() => {
                    match state.sessions.state(from_millis(s.created_at), from_millis(s.last_seen_at), now) {
                        SessionState::Active => {
                            ctx.principal = store::auth::load_principal(&state.db, &s.user_id).await?.map(Arc::new);
                            if ctx.principal.is_none() {
                                // Disabled since the session began.
                                let mut tx = state.db.begin().await?;
                                store::auth::end_session(&mut tx, &s.id, now, "disabled").await?;
                                tx.commit().await?;
                                clear_session = true;
                            } else {
                                if now - from_millis(s.last_seen_at) >= TOUCH_EVERY {
                                    let mut tx = state.db.begin().await?;
                                    store::auth::touch_session(&mut tx, &s.id, now).await?;
                                    tx.commit().await?;
                                }
                                ctx.session = Some(SessionInfo { id: s.id.clone(), csrf: s.csrf_token.clone() });
                                if let Some(p) = &ctx.principal {
                                    // As the database has it now (touched just above when due).
                                    let mut fresh = s.clone();
                                    if now - from_millis(s.last_seen_at) >= TOUCH_EVERY {
                                        fresh.last_seen_at = domain::clock::to_millis(now);
                                    }
                                    state.auth_cache.put(&token, fresh, p.clone());
                                }
                            }
                        }
                        st => {
                            let name = store::auth::get_user(&state.db, &s.user_id)
                                .await
                                .map(|u| u.display_name)
                                .unwrap_or_default();
                            let reason = if st == SessionState::IdleTimeout { "idle" } else { "expired" };
                            let mut tx = state.db.begin().await?;
                            store::auth::end_session(&mut tx, &s.id, now, reason).await?;
                            let detail = if reason == "idle" {
                                format!("空闲超过{}分钟，会话结束", state.sessions.idle.whole_minutes())
                            } else {
                                format!("会话超过{}小时上限", state.sessions.absolute.whole_hours())
                            };
                            let e = AuditEntry::new(domain::audit::CoreAudit::SessionTimeout, "user", &s.user_id)
                                .by(&s.user_id, &name)
                                .from_ip(&ctx.ip)
                                .detail(detail);
                            store::audit::append(&mut tx, now, e).await?;
                            tx.commit().await?;
                            ctx.timed_out = true;
                            clear_session = true;
                        }
                    }
                }
                _ => clear_session = true,
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        // Token callers are systems: they always get JSON.
        return match e {
            e @ AppError::TokenRejected => ApiError(e).into_response(),
            other if is_api(&path) => ApiError(other).into_response(),
            other => crate::error::PageError(other).into_response(),
        };
    }

    let had_flash = ctx.flash.is_some();
    let secure = state.secure_cookies;
    req.extensions_mut().insert(ctx);
    let mut resp = next.run(req).await;
    if clear_session {
        resp.headers_mut().append(header::SET_COOKIE, cookies::clear(cookies::SESSION, secure));
    }
    if had_flash && !resp.status().is_redirection() && !resp.headers().contains_key(header::SET_COOKIE) {
        resp.headers_mut().append(header::SET_COOKIE, cookies::clear(cookies::FLASH, secure));
    }
    resp
}

/// Paths a user who must change their password may still open.
const PASSWORD_CHANGE_PATHS: &[&str] = &["/account/password", "/logout"];

async fn enforce(access: Access, req: Request, next: Next) -> Response {
    let Some(ctx) = req.extensions().get::<RequestCtx>().cloned() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "authentication layer missing").into_response();
    };
    let path = req.uri().path().to_string();
    let api = is_api(&path);
    if access == Access::Public {
        return next.run(req).await;
    }
    let Some(p) = ctx.principal.clone() else {
        if api {
            return ApiError(AppError::Unauthenticated).into_response();
        }
        let mut target = format!("/login?next={}", cookies::encode(&req.uri().to_string()));
        if ctx.timed_out {
            target.push_str("&timeout=1");
        }
        return Redirect::to(&target).into_response();
    };
    if p.must_change_password && !ctx.via_token && !PASSWORD_CHANGE_PATHS.contains(&path.as_str()) {
        if api {
            return ApiError(AppError::Forbidden("请先修改初始密码".into())).into_response();
        }
        return Redirect::to("/account/password").into_response();
    }
    let needed = access.permissions();
    if !needed.is_empty() && !needed.iter().any(|code| p.can(code)) {
        let code = needed[0];
        let name = domain::auth::permission(code).map(|d| d.name).unwrap_or(code);
        let e = ctx
            .entry(domain::audit::CoreAudit::AccessDenied, "route", &path)
            .outcome(Outcome::Denied)
            .detail(format!("缺少权限：{}", access.describe()));
        if let Err(err) = ctx.audit_refusal(e).await {
            tracing::error!(error = %err, "audit of denied access failed");
        }
        let what = if api { "调用此接口" } else { "访问此页面" };
        let msg = format!("您的角色没有“{name}”权限，无法{what}。如需开通，请联系系统管理员。");
        return if api {
            ApiError(AppError::Forbidden(msg)).into_response()
        } else {
            (StatusCode::FORBIDDEN, Html(crate::layout::plain_page("无权访问", &msg))).into_response()
        };
    }
    next.run(req).await
}

/// Upper bound of a buffered form body (uploads of case materials come later through this too).
pub const MAX_FORM_BYTES: usize = 25 * 1024 * 1024;

/// The most a request without a session may send (the login form, a license file to verify).
pub const MAX_ANONYMOUS_BYTES: usize = 256 * 1024;

/// How far into a body the CSRF token is looked for. Every form puts `_csrf` first, so it is
/// checked before the rest of a large upload is read.
const CSRF_PREFIX_BYTES: usize = 64 * 1024;

/// Checks the CSRF token of unsafe requests: the session's token for signed-in users, the
/// pre-login cookie (double submit) otherwise. Token-authenticated systems are exempt: they send
/// no cookies. The token may come as the `X-CSRF-Token` header or the first form field `_csrf`;
/// only the first 64 KiB are read before it is checked, and a body without a session is capped
/// at 256 KiB. An API call with neither token nor session is 401 before anything is read.
pub async fn csrf(req: Request, next: Next) -> Response {
    use futures_util::StreamExt;
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let Some(ctx) = req.extensions().get::<RequestCtx>().cloned() else {
        return next.run(req).await;
    };
    if ctx.via_token {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    if is_api(&path) && ctx.principal.is_none() {
        return ApiError(AppError::Unauthenticated).into_response();
    }
    let expected = ctx.csrf_token();
    let header_token = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string);
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (parts, body) = req.into_parts();
    // Read only until the token can be judged; the rest streams on to the handler. Without a
    // session the whole body is small and read at once.
    let (provided, body) = match header_token {
        header if ctx.session.is_none() => match axum::body::to_bytes(body, MAX_ANONYMOUS_BYTES).await {
            Ok(bytes) => (header.or_else(|| form_token(&content_type, &bytes)), Body::from(bytes)),
            Err(_) => return too_large(&path, MAX_ANONYMOUS_BYTES),
        },
        Some(t) => (Some(t), body),
        None => {
            let mut stream = body.into_data_stream();
            let mut prefix = Vec::new();
            let mut ended = false;
            let found = loop {
                if let Some(t) = form_token_prefix(&content_type, &prefix, ended) {
                    break t;
                }
                if ended || prefix.len() > CSRF_PREFIX_BYTES {
                    break None;
                }
                match stream.next().await {
                    Some(Ok(chunk)) => prefix.extend_from_slice(&chunk),
                    Some(Err(_)) => return (StatusCode::BAD_REQUEST, "请求内容读取中断").into_response(),
                    None => ended = true,
                }
            };
            let head = futures_util::stream::once(async move { Ok::<_, axum::Error>(axum::body::Bytes::from(prefix)) });
            (found, Body::from_stream(head.chain(stream)))
        }
    };
    let ok = !expected.is_empty()
        && provided.as_deref().is_some_and(|p| domain::crypto::ct_eq(p.as_bytes(), expected.as_bytes()));
    if !ok {
        let e = ctx.entry(domain::audit::CoreAudit::CsrfRejected, "route", &path).outcome(Outcome::Denied);
        if let Err(err) = ctx.audit_refusal(e).await {
            tracing::error!(error = %err, "audit of CSRF rejection failed");
        }
        let msg = "表单已过期或来源不明（CSRF 校验失败）。请返回上一页刷新后重新提交。";
        return if is_api(&path) {
            ApiError(AppError::Forbidden(msg.into())).into_response()
        } else {
            (StatusCode::FORBIDDEN, Html(crate::layout::plain_page("请求被拒绝", msg))).into_response()
        };
    }
    next.run(Request::from_parts(parts, body)).await
}

fn too_large(path: &str, limit: usize) -> Response {
    let msg = format!("提交的内容超过 {} KB 上限。", limit / 1024);
    if is_api(path) {
        return ApiError(AppError::PayloadTooLarge(msg)).into_response();
    }
    (StatusCode::PAYLOAD_TOO_LARGE, Html(crate::layout::plain_page("内容过大", &msg))).into_response()
}

/// The `_csrf` field from the start of a body, once it can be told: `Some(Some(t))` found,
/// `Some(None)` cannot be there (another first field, or the body ended), `None` read more.
fn form_token_prefix(content_type: &str, prefix: &[u8], ended: bool) -> Option<Option<String>> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        // Only complete fields: those followed by `&`, or all of them once the body ended.
        let complete = if ended { prefix } else { &prefix[..prefix.iter().rposition(|b| *b == b'&').unwrap_or(0)] };
        return match form_token(content_type, complete) {
            Some(t) => Some(Some(t)),
            None if ended => Some(None),
            None => None,
        };
    }
    if content_type.starts_with("multipart/form-data") {
        return match form_token(content_type, prefix) {
            Some(t) => Some(Some(t)),
            None if ended => Some(None),
            None => None,
        };
    }
    Some(None)
}

fn form_token(content_type: &str, body: &[u8]) -> Option<String> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let text = std::str::from_utf8(body).ok()?;
        return text.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == "_csrf").then(|| cookies::decode(&v.replace('+', " ")))
        });
    }
    if content_type.starts_with("multipart/form-data") {
        // The part `name="_csrf"`: its value follows the blank line after the part headers.
        let marker = b"name=\"_csrf\"";
        let at = body.windows(marker.len()).position(|w| w == marker)?;
        let rest = &body[at..];
        let start = rest.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let end = rest[start..].windows(2).position(|w| w == b"\r\n")?;
        return std::str::from_utf8(&rest[start..start + end]).ok().map(str::to_string);
    }
    None
}

/// Adds the pre-login CSRF cookie when the browser has none; returns the token to embed.
pub fn ensure_anon_csrf(ctx: &RequestCtx) -> (String, Option<HeaderValue>) {
    match (&ctx.session, &ctx.anon_csrf) {
        (Some(s), _) => (s.csrf.clone(), None),
        (None, Some(t)) => (t.clone(), None),
        (None, None) => {
            let t = store::random_token(24);
            let cookie = cookies::set(cookies::ANON_CSRF, &t, ctx.state.secure_cookies, None);
            (t, Some(cookie))
        }
    }
}

/// A redirect that shows `message` on the next page.
pub fn redirect_with_flash(to: &str, message: &str, secure: bool) -> Response {
    let mut r = Redirect::to(to).into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, cookies::set(cookies::FLASH, &cookies::encode(message), secure, Some(60)));
    r
}

/// Everything but `img-src`, which [`CSP`] adds.
pub const CSP_WITHOUT_IMG: &str = "default-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'";
pub const CSP: &str = "default-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; img-src 'self' data:";

/// Security headers for every response. The CSP allows only our own files: no inline scripts
/// or styles, nothing from the internet.
pub async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // Behind HTTPS (`--secure-cookies`), browsers are told to use nothing else for a year.
    if state.secure_cookies {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // A page may widen img-src (the fence map's tile server); nothing else.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

pub fn now_millis(state: &AppState) -> i64 {
    to_millis(state.clock.now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widened_policy_differs_only_in_img_src() {
        assert_eq!(CSP, format!("{CSP_WITHOUT_IMG}; img-src 'self' data:"));
    }

    #[test]
    fn finds_form_tokens() {
        assert_eq!(form_token("application/x-www-form-urlencoded", b"a=1&_csrf=abc%2B1&b=2").as_deref(), Some("abc+1"));
        let mp = b"--X\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\ntok123\r\n--X--\r\n";
        assert_eq!(form_token("multipart/form-data; boundary=X", mp).as_deref(), Some("tok123"));
        assert_eq!(form_token("application/json", b"{}"), None);
        assert!(domain::crypto::ct_eq(b"abc", b"abc"));
        assert!(!domain::crypto::ct_eq(b"abc", b"abd"));
    }
}
