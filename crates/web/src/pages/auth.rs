//! Login, logout and changing one's own password.

use super::render;
use crate::access::{Access, RequestCtx, Routes, ensure_anon_csrf, redirect_with_flash};
use crate::cookies;
use crate::error::{AppError, PageResult};
use crate::layout::{FormErrors, Layout};
use askama::Template;
use axum::Form;
use axum::extract::Query;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::audit::Outcome;
use domain::auth::UserKind;
use domain::clock::{format_local, from_millis};

pub fn routes() -> Routes {
    Routes::default()
        .add("/", Access::Public, get(root))
        .add("/login", Access::Public, get(login_page).post(login))
        .add("/logout", Access::Authenticated, post(logout))
        .add("/account/password", Access::Authenticated, get(password_page).post(change_password))
}

async fn root(ctx: RequestCtx) -> Redirect {
    Redirect::to(if ctx.principal.is_some() { "/home" } else { "/login" })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    account: String,
    next: String,
    notice: Option<String>,
    errors: FormErrors,
}

#[derive(serde::Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
    timeout: Option<String>,
    logged_out: Option<String>,
}

async fn login_page(ctx: RequestCtx, Query(q): Query<LoginQuery>) -> PageResult {
    if ctx.principal.is_some() {
        return Ok(Redirect::to(&super::safe_next(q.next.as_deref())).into_response());
    }
    let notice = if q.timeout.is_some() {
        Some(format!(
            "您已超过{}分钟未操作，为保护信息安全已自动退出，请重新登录。",
            ctx.state.sessions.idle.whole_minutes()
        ))
    } else if q.logged_out.is_some() {
        Some("您已安全退出。".to_string())
    } else {
        None
    };
    show_login(&ctx, String::new(), q.next.unwrap_or_default(), notice, FormErrors::default(), false)
}

fn show_login(
    ctx: &RequestCtx,
    account: String,
    next: String,
    notice: Option<String>,
    errors: FormErrors,
    failed: bool,
) -> PageResult {
    let (token, cookie) = ensure_anon_csrf(ctx);
    let mut layout = Layout::new(ctx, &ctx.state.config().city.name, "登录", "/login");
    layout.csrf = token;
    let mut resp = render(LoginPage { layout, account, next, notice, errors })?;
    if failed {
        *resp.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    }
    if let Some(c) = cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    account: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Staff log in with a user name, enterprises with their USCC, citizens with their ID number;
/// all three are normalised the way they are stored.
fn normalise_login(input: &str) -> String {
    let t = domain::text::normalize_ascii(input);
    if let Ok(u) = domain::Uscc::parse(&t) {
        return u.to_string();
    }
    if let Ok(id) = domain::IdCardNo::parse(&t) {
        return id.to_string();
    }
    t.to_lowercase()
}

async fn login(ctx: RequestCtx, headers: HeaderMap, Form(f): Form<LoginForm>) -> PageResult {
    let state = &ctx.state;
    let now = state.clock.now();
    let login = normalise_login(&f.account);
    let mut errors = FormErrors::default();
    if login.is_empty() {
        errors.add("account", "请输入账号（用户名、统一社会信用代码或身份证号）");
    }
    if f.password.is_empty() {
        errors.add("password", "请输入密码");
    }
    if !errors.is_empty() {
        return show_login(&ctx, f.account, f.next, None, errors, true);
    }
    // One message for every failure that is not a lock, so the page never tells which
    // accounts exist, are disabled or belong to systems.
    const WRONG: &str = "账号或密码错误";
    let fail = |errors_msg: String| {
        let mut e = FormErrors::default();
        e.add("password", errors_msg);
        e
    };
    let locked_msg = |until: time::OffsetDateTime| {
        fail(format!("连续{}次密码错误，账号已锁定至 {}，请稍后再试", state.lockout.max_failures, format_local(until)))
    };
    if let Err(crate::login_guard::Refusal::TooManyFromSource { retry_minutes }) = state.login_guard.begin(&ctx.ip, now)
    {
        let e = ctx
            .entry(domain::audit::CoreAudit::Login, "login", &login)
            .outcome(Outcome::Denied)
            .detail("来源地址登录尝试过多");
        ctx.audit(e).await?;
        let msg = format!("本机登录尝试过于频繁，请{retry_minutes}分钟后再试");
        let mut r = show_login(&ctx, f.account, f.next, None, fail(msg), true)?;
        *r.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        return Ok(r);
    }
    let busy = || -> PageResult {
        let mut r =
            show_login(&ctx, f.account.clone(), f.next.clone(), None, fail("登录人数较多，请稍后再试".into()), true)?;
        *r.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        r.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
        Ok(r)
    };
    let user = store::auth::user_by_login(&state.db, &login).await?;
    let Some(user) = user else {
        if let Some(until) = state.login_guard.unknown_locked(&login, now) {
            ctx.audit(
                ctx.entry(domain::audit::CoreAudit::Login, "login", &login)
                    .outcome(Outcome::Denied)
                    .detail("账号不存在（锁定期间）"),
            )
            .await?;
            return show_login(&ctx, f.account, f.next, None, locked_msg(until), true);
        }
        // Same work as a real check, so timing does not reveal which accounts exist.
        let Some(mut slot) = state.login_guard.hash_slot().await else { return busy() };
        slot.verify(f.password.clone(), dummy_hash().to_string()).await;
        drop(slot);
        let (n, locked) = state.login_guard.unknown_failed(&login, now);
        ctx.audit(
            ctx.entry(domain::audit::CoreAudit::Login, "login", &login)
                .outcome(Outcome::Failure)
                .detail(format!("账号不存在（第{n}次）")),
        )
        .await?;
        let msg = if locked { locked_msg(now + state.lockout.lock_for) } else { fail(WRONG.into()) };
        return show_login(&ctx, f.account, f.next, None, msg, true);
    };
    let entry = |outcome, detail: String| {
        domain::audit::AuditEntry::new(domain::audit::CoreAudit::Login, "user", &user.id)
            .by(&user.id, &user.display_name)
            .from_ip(&ctx.ip)
            .outcome(outcome)
            .detail(detail)
    };
    // The attempt is counted before the password is checked (atomically), so a burst of
    // concurrent guesses gets at most `max_failures` checks before the lock.
    let mut tx = state.db.begin().await?;
    let attempt = store::auth::begin_login_attempt(&mut tx, &user.id, now, state.lockout).await?;
    tx.commit().await?;
    let Some(attempt) = attempt else {
        ctx.audit(entry(Outcome::Denied, "账号锁定期间尝试登录".into())).await?;
        let until = store::auth::get_user(&state.db, &user.id).await?.locked_until.map(from_millis).unwrap_or(now);
        return show_login(&ctx, f.account, f.next, None, locked_msg(until), true);
    };
    let Some(mut slot) = state.login_guard.hash_slot().await else { return busy() };
    let ok = slot.verify(f.password.clone(), user.password_hash.clone()).await;
    drop(slot);
    if !ok {
        let locked = attempt >= state.lockout.max_failures;
        let detail = if locked {
            format!("密码错误第{attempt}次，账号锁定")
        } else {
            format!("密码错误第{attempt}次")
        };
        ctx.audit(entry(Outcome::Failure, detail)).await?;
        let msg = if locked { locked_msg(now + state.lockout.lock_for) } else { fail(WRONG.into()) };
        return show_login(&ctx, f.account, f.next, None, msg, true);
    }
    // The password is right: only now may the page say why the account cannot sign in.
    let refused = if !user.is_active() {
        Some(("账号已停用", "账号已停用，请联系系统管理员"))
    } else if user.kind() == UserKind::System {
        Some(("对接系统账号不能登录页面", "对接系统账号只能通过接口令牌访问"))
    } else {
        None
    };
    if let Some((detail, msg)) = refused {
        let mut tx = state.db.begin().await?;
        store::auth::save_attempts(&mut tx, &user.id, Default::default()).await?;
        store::audit::append(&mut tx, now, entry(Outcome::Denied, detail.into())).await?;
        tx.commit().await?;
        return show_login(&ctx, f.account, f.next, None, fail(msg.into()), true);
    }
    state.login_guard.succeeded(&ctx.ip);

    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut tx = state.db.begin().await?;
    if let Some(old) = &ctx.session {
        store::auth::end_session(&mut tx, &old.id, now, "relogin").await?;
    }
    store::auth::record_login(&mut tx, &user.id, now).await?;
    let (token, _) = store::auth::create_session(&mut tx, now, &user.id, &ctx.ip, ua).await?;
    store::audit::append(&mut tx, now, entry(Outcome::Success, "登录成功".into())).await?;
    tx.commit().await?;
    state.auth_cache.clear();
    if ctx.session.is_some() {
        // The session this browser had is ended on every server.
        state.announce(store::changes::Change::Auth).await;
    }

    let target =
        if user.must_change_password != 0 { "/account/password".to_string() } else { super::safe_next(Some(&f.next)) };
    let mut resp = Redirect::to(&target).into_response();
    resp.headers_mut().append(header::SET_COOKIE, cookies::set(cookies::SESSION, &token, state.secure_cookies, None));
    resp.headers_mut().append(header::SET_COOKIE, cookies::clear(cookies::ANON_CSRF, state.secure_cookies));
    Ok(resp)
}

/// A hash of a random password nobody knows, so failures for unknown accounts cost as much as
/// real checks.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| domain::auth::password::hash(&store::random_token(16), &store::random_bytes::<16>()))
}

async fn logout(ctx: RequestCtx) -> PageResult {
    let state = &ctx.state;
    let now = state.clock.now();
    if let Some(s) = &ctx.session {
        let mut tx = state.db.begin().await?;
        store::auth::end_session(&mut tx, &s.id, now, "logout").await?;
        let p = ctx.user()?;
        store::audit::append(&mut tx, now, ctx.entry(domain::audit::CoreAudit::Logout, "user", &p.user_id)).await?;
        tx.commit().await?;
        state.auth_cache.clear();
        state.announce(store::changes::Change::Auth).await;
    }
    let mut resp = Redirect::to("/login?logged_out=1").into_response();
    resp.headers_mut().append(header::SET_COOKIE, cookies::clear(cookies::SESSION, state.secure_cookies));
    Ok(resp)
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: Layout,
    forced: bool,
    errors: FormErrors,
}

async fn password_page(ctx: RequestCtx) -> PageResult {
    let p = ctx.user()?;
    let layout = Layout::new(&ctx, &ctx.state.config().city.name, "修改密码", "/account/password");
    render(PasswordPage { layout, forced: p.must_change_password, errors: FormErrors::default() })
}

#[derive(serde::Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

async fn change_password(ctx: RequestCtx, Form(f): Form<PasswordForm>) -> PageResult<Response> {
    let state = &ctx.state;
    let p = ctx.user()?.clone();
    let user = store::auth::get_user(&state.db, &p.user_id).await?;
    let mut errors = FormErrors::default();
    let (cur, hash) = (f.current.clone(), user.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || domain::auth::password::verify(&cur, &hash))
        .await
        .map_err(AppError::internal)?;
    if !ok {
        errors.add("current", "当前密码不正确");
    }
    if let Err(problems) = domain::auth::password::check_complexity(&f.new, &user.login) {
        for m in problems {
            errors.add("new", m);
        }
    }
    if f.new == f.current && ok {
        errors.add("new", "新密码不能与当前密码相同");
    }
    if f.new != f.confirm {
        errors.add("confirm", "两次输入的新密码不一致");
    }
    if !errors.is_empty() {
        let layout = Layout::new(&ctx, &state.config().city.name, "修改密码", "/account/password");
        let mut r = render(PasswordPage { layout, forced: p.must_change_password, errors })?;
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(r);
    }
    let new = f.new.clone();
    let hash = tokio::task::spawn_blocking(move || domain::auth::password::hash(&new, &store::random_bytes::<16>()))
        .await
        .map_err(AppError::internal)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    store::auth::set_password(&mut tx, now, &p.user_id, &hash, false).await?;
    // Other sessions of this account end; this one continues.
    let current = ctx.session.as_ref().map(|s| s.id.clone()).unwrap_or_default();
    store::auth::end_other_sessions(&mut tx, now, &p.user_id, &current, "password_changed").await?;
    store::audit::append(&mut tx, now, ctx.entry(domain::audit::CoreAudit::PasswordChange, "user", &p.user_id)).await?;
    tx.commit().await?;
    state.auth_cache.clear();
    state.announce(store::changes::Change::Auth).await;
    Ok(redirect_with_flash("/home", "密码已修改。", state.secure_cookies))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_normalised() {
        assert_eq!(normalise_login(" Admin "), "admin");
        assert_eq!(normalise_login("91110108551385082q"), "91110108551385082Q");
        assert_eq!(normalise_login("11010519491231002x"), "11010519491231002X");
    }

    #[test]
    fn dummy_hash_is_a_real_hash() {
        assert!(dummy_hash().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!domain::auth::password::verify("x", dummy_hash()));
    }
}
