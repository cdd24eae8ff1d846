//! The supervised person's own pages (phone-sized, no script): their code, leave requests and
//! summons, and the forms to ask for leave and confirm a summons.

use super::pages::{LeaveLine, SummonsLine, TaskLine, leave_lines, parse_local_minute, summons_lines, task_lines};
use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::form::FormData;
use crate::layout::{FormErrors, Layout};
use crate::pages::render;
use askama::Template;
use axum::extract::Path;
use axum::routing::{get, post};
use domain::auth::perm;
use domain::scoring::Color;
use domain::supervision::SummonsStatus;
use store::supervision::Person;

pub fn routes() -> Routes {
    Routes::default()
        .add("/me/supervision/summons/{s}", Access::Perm(perm::SUPERVISION_SELF), post(acknowledge))
        .add("/me/supervision", Access::Perm(perm::SUPERVISION_SELF), get(mine))
        .add("/me/supervision/leaves", Access::Perm(perm::SUPERVISION_SELF), post(request_leave))
}

/// The person confirms receiving a summons from their own page.
async fn acknowledge(ctx: RequestCtx, Path(s): Path<String>) -> PageResult {
    let state = &ctx.state;
    let x = me_person(&ctx).await?;
    let mut tx = state.db.begin().await?;
    let row = store::supervision::acknowledge_summons(&mut tx, state.clock.now(), &x, &s).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/me/supervision",
        &format!("已确认收到传讯通知 {}，请按时到案。", row.no),
        state.secure_cookies,
    ))
}

/// The code's label and the measures it brings.
struct MyCode {
    color: Color,
    measures: Vec<String>,
}

#[derive(Template)]
#[template(path = "supervision/me.html")]
struct MinePage {
    layout: Layout,
    x: Person,
    code: Option<MyCode>,
    leaves: Vec<LeaveLine>,
    tasks: Vec<TaskLine>,
    summons: Vec<SummonsLine>,
    presets: Vec<store::config::LeavePreset>,
    errors: FormErrors,
}

/// The supervised person's own page (phone-sized, no script): code, leave requests and a form
/// to ask for one.
async fn mine(ctx: RequestCtx) -> PageResult {
    show_mine(&ctx, FormErrors::default()).await
}

async fn me_person(ctx: &RequestCtx) -> Result<Person, AppError> {
    let p = ctx.user()?;
    store::supervision::person_of_user(&ctx.state.db, &p.user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("您当前没有在管的监管措施".into()))
}

#[derive(Template)]
#[template(path = "supervision/me_none.html")]
struct NonePage {
    layout: Layout,
}

async fn show_mine(ctx: &RequestCtx, errors: FormErrors) -> PageResult {
    let state = &ctx.state;
    // Every resident has the menu entry; one under no measure is told so, plainly.
    if store::supervision::person_of_user(&state.db, &ctx.user()?.user_id).await?.is_none() {
        return render(NonePage {
            layout: Layout::new(ctx, &state.config().city.name, "我的亳安码", "/me/supervision"),
        });
    }
    let x = me_person(ctx).await?;
    let code = store::scores::of_subject(&state.db, &state.config(), "person", &x.id, state.clock.now())
        .await?
        .into_iter()
        .find(|(d, _, _)| d.id == "anma")
        .map(|(_, s, _)| MyCode { color: s.color, measures: s.measures });
    let bad = !errors.0.is_empty();
    let mut r = render(MinePage {
        layout: Layout::new(ctx, &state.config().city.name, "我的亳安码", "/me/supervision"),
        leaves: leave_lines(&state.config(), store::supervision::leaves_of(&state.db, &x.id).await?),
        tasks: task_lines(store::supervision::tasks_of(&state.db, &x.id).await?),
        summons: summons_lines(store::supervision::summons_of(&state.db, &x.id).await?),
        presets: state.config().leave_presets.clone(),
        code,
        errors,
        x,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn request_leave(ctx: RequestCtx, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = me_person(&ctx).await?;
    let mut errors = FormErrors::default();
    let from = parse_local_minute(&f.get("from"));
    let to = parse_local_minute(&f.get("to"));
    if from.is_none() {
        errors.add("from", "请填写出发时间，如 2026-12-01 08:00");
    }
    if to.is_none() {
        errors.add("to", "请填写返回时间，如 2026-12-03 18:00");
    }
    let (Some(from_ms), Some(to_ms)) = (from, to) else { return show_mine(&ctx, errors).await };
    let mut tx = state.db.begin().await?;
    let r = store::supervision::request_leave(
        &mut tx,
        &state.config(),
        state.clock.now(),
        &x,
        &store::supervision::NewLeave {
            preset: f.get("preset"),
            destination: f.get("destination"),
            reason: f.get("reason"),
            from_ms,
            to_ms,
        },
        (&p.user_id, &p.display_name),
    )
    .await;
    match r {
        Ok(l) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                "/me/supervision",
                &format!("请假申请 {} 已提交，等待办案机关审批。获批前请勿外出。", l.no),
                state.secure_cookies,
            ))
        }
        Err(store::StoreError::Invalid { field, message }) => {
            drop(tx);
            errors.add(&field, message);
            show_mine(&ctx, errors).await
        }
        Err(e) => Err(e.into()),
    }
}
