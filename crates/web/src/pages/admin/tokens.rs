//! 接口令牌: API tokens for systems (banks, utilities, phones). The token is shown once.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::PageResult;
use crate::form::FormData;
use crate::layout::{FormErrors, Layout, fmt_millis};
use crate::pages::render;
use askama::Template;
use axum::extract::Path;
use axum::routing::{get, post};
use domain::auth::perm;
use store::auth::{ApiToken, UserFilter, UserListItem};
use store::sql::PageRequest;
use time::Duration;

pub fn routes() -> Routes {
    let p = Access::Perm(perm::ADMIN_TOKENS);
    Routes::default().add("/admin/tokens", p, get(list).post(create)).add("/admin/tokens/{id}/revoke", p, post(revoke))
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct ListPage {
    layout: Layout,
    tokens: Vec<ApiToken>,
    systems: Vec<UserListItem>,
    errors: FormErrors,
    name: String,
    user_id: String,
    days: String,
    created: Option<String>,
}

impl ListPage {
    fn t(&self, ms: &Option<i64>) -> String {
        fmt_millis(ms)
    }
    fn t0(&self, ms: &i64) -> String {
        fmt_millis(&Some(*ms))
    }
}

async fn page(
    ctx: &RequestCtx,
    errors: FormErrors,
    name: String,
    user_id: String,
    days: String,
    created: Option<String>,
) -> PageResult {
    let state = &ctx.state;
    let systems = store::auth::list_users(
        &state.db,
        &UserFilter { kind: Some("system".into()), status: Some("active".into()), ..Default::default() },
        PageRequest::all(),
    )
    .await?
    .items;
    let bad = !errors.is_empty();
    let mut r = render(ListPage {
        layout: Layout::new(ctx, &state.config().city.name, "接口令牌", "/admin/tokens"),
        tokens: store::auth::list_tokens(&state.db).await?,
        systems,
        errors,
        name,
        user_id,
        days,
        created,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn list(ctx: RequestCtx) -> PageResult {
    page(&ctx, FormErrors::default(), String::new(), String::new(), "365".into(), None).await
}

async fn create(ctx: RequestCtx, data: FormData) -> PageResult {
    let state = &ctx.state;
    let (name, user_id, days) = (data.get("name"), data.get("user_id"), data.get("days"));
    let mut errors = FormErrors::default();
    if name.is_empty() {
        errors.add("name", "请填写令牌用途，如“建设银行工资专户流水推送”");
    }
    let user = match store::auth::get_user(&state.db, &user_id).await {
        Ok(u) if u.kind == domain::auth::UserKind::System && u.is_active() => Some(u),
        _ => {
            errors.add("user_id", "请选择一个正常状态的对接系统账号");
            None
        }
    };
    let expires = match days.as_str() {
        "" => None,
        d => match d.parse::<i64>() {
            Ok(n) if (1..=3650).contains(&n) => Some(state.clock.now() + Duration::days(n)),
            _ => {
                errors.add("days", "有效天数应为1–3650之间的整数，留空表示长期有效");
                None
            }
        },
    };
    let Some(user) = user.filter(|_| errors.is_empty()) else {
        return page(&ctx, errors, name, user_id, days, None).await;
    };
    let now = state.clock.now();
    let me = ctx.user()?.user_id.clone();
    let mut tx = state.db.begin().await?;
    let (id, token) = store::auth::create_token(&mut tx, now, &user.id, &name, &me, expires).await?;
    let detail = format!(
        "为 {}（{}）签发令牌“{name}”，{}",
        user.display_name,
        user.login,
        expires.map(|e| format!("有效期至 {}", domain::clock::format_deadline(e))).unwrap_or_else(|| "长期有效".into())
    );
    store::audit::append(
        &mut tx,
        now,
        ctx.entry(domain::audit::CoreAudit::TokenCreate, "api_token", &id).detail(detail),
    )
    .await?;
    tx.commit().await?;
    page(&ctx, FormErrors::default(), String::new(), String::new(), "365".into(), Some(token)).await
}

async fn revoke(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let state = &ctx.state;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let done = store::auth::revoke_token(&mut tx, &id, now).await?;
    if done {
        store::audit::append(&mut tx, now, ctx.entry(domain::audit::CoreAudit::TokenRevoke, "api_token", &id)).await?;
    }
    tx.commit().await?;
    let msg =
        if done { "令牌已吊销，使用它的请求将被拒绝。" } else { "该令牌已吊销或不存在。" };
    Ok(redirect_with_flash("/admin/tokens", msg, state.secure_cookies))
}
