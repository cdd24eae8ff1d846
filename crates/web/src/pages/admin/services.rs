//! 事项目录管理: the service items of `config/services/`, with suspending and resuming
//! acceptance (暂停受理, with the reason applicants see). Audited.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::PageResult;
use crate::form::FormData;
use crate::layout::{FormErrors, Layout};
use crate::pages::render;
use askama::Template;
use axum::extract::Path;
use axum::routing::{get, post};
use domain::auth::perm;

pub fn routes() -> Routes {
    Routes::default().add("/admin/services", Access::Perm(perm::ADMIN_SERVICES), get(list)).add(
        "/admin/services/{code}",
        Access::Perm(perm::ADMIN_SERVICES),
        post(set),
    )
}

struct Row {
    code: String,
    name: String,
    dept: String,
    one_click: bool,
    promised: u32,
    legal: u32,
    suspended: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/services.html")]
struct Page {
    layout: Layout,
    rows: Vec<Row>,
    errors: FormErrors,
}

async fn list(ctx: RequestCtx) -> PageResult {
    show(&ctx, FormErrors::default()).await
}

async fn show(ctx: &RequestCtx, errors: FormErrors) -> PageResult {
    let rows = ctx
        .state
        .config
        .services
        .items
        .iter()
        .map(|i| Row {
            code: i.code.clone(),
            name: i.name.clone(),
            dept: crate::pages::workflow::dept_name(ctx, &i.department),
            one_click: i.one_click(),
            promised: i.promised_days,
            legal: i.legal_days,
            suspended: ctx.state.suspended(&i.code),
        })
        .collect();
    let bad = !errors.is_empty();
    let mut r = render(Page {
        layout: Layout::new(ctx, &ctx.state.config.city.name, "事项目录", "/admin/services"),
        rows,
        errors,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn set(ctx: RequestCtx, Path(code): Path<String>, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let enabled = f.get("enabled") == "1";
    let note = f.get("note");
    let mut tx = state.db.begin().await?;
    match store::services::set_enabled(
        &mut tx,
        state.clock.now(),
        &state.config,
        &code,
        enabled,
        &note,
        (&p.user_id, &p.display_name),
    )
    .await
    {
        Ok(()) => {
            tx.commit().await?;
            let mut m = state.suspended_items.write().expect("suspended lock");
            if enabled {
                m.remove(&code);
            } else {
                m.insert(code.clone(), note.trim().to_string());
            }
            drop(m);
            let msg = if enabled { "已恢复受理。" } else { "已暂停受理，申请人将看到原因。" };
            Ok(redirect_with_flash("/admin/services", msg, state.secure_cookies))
        }
        Err(store::StoreError::Invalid { field, message }) => {
            drop(tx);
            let mut e = FormErrors::default();
            e.add(&field, message);
            show(&ctx, e).await
        }
        Err(e) => Err(e.into()),
    }
}
