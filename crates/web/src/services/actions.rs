//! What is done on a one-click application: the reviewer's one-click verification, decision
//! (approve, return, refuse, 容缺, extension, excluded time) and cross-department requests with
//! their answers; the applicant's corrections and supplied materials; the 受理凭证.

use super::pages::{XView, dept_name, read_form, show};
use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::layout::{FormErrors, Layout, fmt_millis};
use crate::pages::render;
use crate::pages::workflow::actor_of;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path};
use axum::routing::{get, post};
use domain::auth::perm;
use store::services::{self as svc, Decision};
use store::workflow::Runtime;

pub fn routes() -> Routes {
    Routes::default()
        .add("/services/applications/{id}/verify", Access::Perm(perm::WORKFLOW_ACT), post(verify))
        .add("/services/applications/{id}/receipt", Access::Authenticated, get(receipt))
        .add("/services/applications/{id}/decide", Access::Perm(perm::WORKFLOW_ACT), post(decide))
        .add("/services/applications/{id}/xrequest", Access::Perm(perm::WORKFLOW_ACT), post(ask))
        .add(
            "/services/applications/{id}/resubmit",
            Access::Perm(perm::WORKFLOW_APPLY),
            post(resubmit).layer(DefaultBodyLimit::max(4 * svc::MAX_UPLOAD)),
        )
        .add(
            "/services/applications/{id}/supply",
            Access::Perm(perm::WORKFLOW_APPLY),
            post(supply).layer(DefaultBodyLimit::max(4 * svc::MAX_UPLOAD)),
        )
        .add("/services/xrequests", Access::Perm(perm::WORKFLOW_ACT), get(xrequests))
        .add("/services/xrequests/{id}", Access::Perm(perm::WORKFLOW_ACT), post(answer))
}

/// Commits, or shows a store refusal on the application page.
async fn finish<T>(
    ctx: &RequestCtx,
    id: &str,
    tx: store::Tx,
    r: Result<T, store::StoreError>,
    done: &str,
) -> PageResult {
    match r {
        Ok(_) => {
            tx.commit().await?;
            if let Some(w) = &ctx.state.job_waker {
                w.notify_one();
            }
            Ok(redirect_with_flash(&format!("/services/applications/{id}"), done, ctx.state.secure_cookies))
        }
        Err(store::StoreError::Invalid { field, message } | store::StoreError::Conflict { field, message }) => {
            drop(tx);
            let (app, reviewer) = super::service::application(ctx, id).await?;
            let mut e = FormErrors::default();
            e.add(&field, message);
            show(ctx, app, reviewer, e).await
        }
        Err(e) => Err(e.into()),
    }
}

fn reviewer_only(reviewer: bool) -> Result<(), AppError> {
    if reviewer {
        Ok(())
    } else {
        Err(AppError::Forbidden("只有事项所属部门的审批人员可以办理".into()))
    }
}

async fn verify(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let (app, reviewer) = super::service::application(&ctx, &id).await?;
    reviewer_only(reviewer)?;
    let p = ctx.user()?;
    let state = &ctx.state;
    let mut tx = state.db.begin().await?;
    let r = svc::verify(&mut tx, state.clock.now(), &state.config(), &app, &actor_of(p)).await;
    let msg = match &r {
        Ok(rows) => {
            let bad = rows.iter().filter(|r| !r.ok).count();
            if bad == 0 {
                format!("一键核查完成：{} 项全部一致。", rows.len())
            } else {
                format!("一键核查完成：{} 项中 {bad} 项不一致。", rows.len())
            }
        }
        Err(_) => String::new(),
    };
    finish(&ctx, &id, tx, r, &msg).await
}

async fn decide(ctx: RequestCtx, Path(id): Path<String>, f: crate::form::FormData) -> PageResult {
    let (_, reviewer) = super::service::application(&ctx, &id).await?;
    reviewer_only(reviewer)?;
    let p = ctx.user()?;
    let state = &ctx.state;
    let key = state.seal_key.clone().ok_or_else(|| AppError::internal("印章主密钥未加载"))?;
    let (d, done) = match f.get("action").as_str() {
        "approve" => (Decision::Approve { comment: f.get("comment") }, "已办结，结果已加盖电子印章并归档。"),
        "return" => {
            let items: Vec<(String, String)> = f
                .all("target")
                .into_iter()
                .map(|t| {
                    let note = f.get(&format!("note_{t}"));
                    (t, note)
                })
                .collect();
            (Decision::Return { items }, "已一次性告知申请人需补正的全部内容。")
        }
        "reject" => (Decision::Reject { reason: f.get("reason"), text: f.get("text") }, "已作出不予许可决定并归档。"),
        "tolerate" => {
            let due = time::Date::parse(&f.get("due"), &time::macros::format_description!("[year]-[month]-[day]"))
                .map_err(|_| AppError::invalid("due", "请填写承诺补交日期，如 2026-12-31"))?;
            let d = Decision::Tolerate { material: f.get("material"), due, commitment: f.get("commitment") };
            (d, "已容缺受理，材料补齐后签发结果；逾期未交的依承诺不予许可。")
        }
        "extend" => (
            Decision::Extend {
                days: f.get("days").trim().parse().unwrap_or(0),
                approver: f.get("approver"),
                reason: f.get("extend_reason"),
            },
            "已延长办理期限，并告知申请人理由。",
        ),
        "exclude" => {
            let kind = domain::workflow::ExclusionKind::parse(&f.get("kind"))
                .ok_or_else(|| AppError::invalid("kind", "请选择不计入期限的程序"))?;
            let d = Decision::Exclude { kind, days: f.get("days").trim().parse().unwrap_or(0), note: f.get("note") };
            (d, "已中止计时，并书面告知申请人所需时间。")
        }
        "resume" => (Decision::Resume { note: f.get("note") }, "已恢复计时。"),
        _ => return Err(AppError::invalid("action", "请选择办理结果").into()),
    };
    let cal = state.calendar();
    let rt = Runtime { cfg: &state.config(), cal: &cal };
    let mut tx = state.db.begin().await?;
    let r = svc::decide(&mut tx, &rt, state.clock.now(), &key, &id, &actor_of(p), d, &ctx.ip).await;
    finish(&ctx, &id, tx, r, done).await
}

async fn ask(ctx: RequestCtx, Path(id): Path<String>, f: crate::form::FormData) -> PageResult {
    let (app, reviewer) = super::service::application(&ctx, &id).await?;
    reviewer_only(reviewer)?;
    let p = ctx.user()?;
    let state = &ctx.state;
    let cal = state.calendar();
    let mut tx = state.db.begin().await?;
    let r = svc::xrequests::ask(
        &mut tx,
        state.clock.now(),
        &state.config(),
        &cal,
        &id,
        &app.department,
        &f.get("to_dept"),
        &f.get("question"),
        &actor_of(p),
    )
    .await;
    finish(&ctx, &id, tx, r, "协查请求已发出，对方部门将在期限内答复。").await
}

async fn resubmit(ctx: RequestCtx, Path(id): Path<String>, mp: Multipart) -> PageResult {
    let (app, _) = super::service::application(&ctx, &id).await?;
    let p = ctx.user()?;
    if p.user_id != app.applicant_id {
        return Err(AppError::Forbidden("只有申请人本人可以补正".into()).into());
    }
    let state = &ctx.state;
    let (typed, uploads) = read_form(mp).await?;
    let cal = state.calendar();
    let rt = Runtime { cfg: &state.config(), cal: &cal };
    let mut tx = state.db.begin().await?;
    let r = svc::resubmit(
        &mut tx,
        &rt,
        state.clock.now(),
        &id,
        &actor_of(p),
        &typed,
        &uploads,
        &ctx.ip,
        state.seal_key.as_deref(),
    )
    .await;
    finish(&ctx, &id, tx, r, "已提交补正，审核继续。").await
}

#[derive(Template)]
#[template(path = "services/receipt.html")]
struct ReceiptPage {
    layout: Layout,
    r: svc::receipt::Receipt,
}

/// 受理凭证 (行政许可法 art. 32 ¶2): printable, sealed and dated by the department; for the
/// applicant and the department's staff.
async fn receipt(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let (app, _) = super::service::application(&ctx, &id).await?;
    let state = &ctx.state;
    let key = state.seal_key.clone().ok_or_else(|| AppError::internal("印章主密钥未加载"))?;
    let cfg = state.config();
    // A transaction: the department's seal is made on its first use.
    let mut tx = state.db.begin().await?;
    let r = svc::receipt::receipt(&mut tx, state.clock.now(), &cfg, &key, &app).await?;
    tx.commit().await?;
    render(ReceiptPage { layout: Layout::new(&ctx, &cfg.city.name, "受理凭证", "/services/mine"), r })
}

/// 容缺受理: the applicant supplies a material they committed to (an upload for an upload
/// material); the last one lets the result be issued.
async fn supply(ctx: RequestCtx, Path(id): Path<String>, mp: Multipart) -> PageResult {
    let (app, _) = super::service::application(&ctx, &id).await?;
    let p = ctx.user()?;
    if p.user_id != app.applicant_id {
        return Err(AppError::Forbidden("只有申请人本人可以补交材料".into()).into());
    }
    let state = &ctx.state;
    let key = state.seal_key.clone().ok_or_else(|| AppError::internal("印章主密钥未加载"))?;
    let (typed, uploads) = read_form(mp).await?;
    let material = typed.get("material").cloned().unwrap_or_default();
    let cal = state.calendar();
    let rt = Runtime { cfg: &state.config(), cal: &cal };
    let mut tx = state.db.begin().await?;
    let r = svc::supply(&mut tx, &rt, state.clock.now(), &key, &id, &actor_of(p), &material, &uploads, &ctx.ip).await;
    finish(&ctx, &id, tx, r, "已补交容缺材料。").await
}

// ---------------------------------------------------------------- cross-department requests

#[derive(Template)]
#[template(path = "services/xrequests.html")]
struct XPage {
    layout: Layout,
    rows: Vec<XView>,
    errors: FormErrors,
}

async fn xrequests(ctx: RequestCtx) -> PageResult {
    show_x(&ctx, FormErrors::default()).await
}

async fn show_x(ctx: &RequestCtx, errors: FormErrors) -> PageResult {
    let p = ctx.user()?;
    let dept = p.department_code.clone().unwrap_or_default();
    let now_ms = domain::clock::to_millis(ctx.state.clock.now());
    let cfg = ctx.state.config();
    let rows = svc::xrequests::to_department(&ctx.state.db, &dept, 200)
        .await?
        .into_iter()
        .map(|x| XView {
            // The asked department sees whom it verifies: an enterprise by USCC, a person by
            // name and masked ID number (the question carries what it needs).
            subject: match domain::IdCardNo::parse(&x.subject) {
                Ok(id) => id.masked(),
                Err(_) => x.subject.clone(),
            },
            item: cfg.services.item(&x.item).map(|i| i.name.clone()).unwrap_or_default(),
            to: dept_name(ctx, &x.from_dept),
            due: fmt_millis(&Some(x.due_at)),
            overdue: x.answered_at.is_none() && now_ms > x.due_at,
            asked: fmt_millis(&Some(x.asked_at)),
            answered: fmt_millis(&x.answered_at),
            x,
        })
        .collect();
    let bad = !errors.is_empty();
    let mut r = render(XPage {
        layout: Layout::new(ctx, &ctx.state.config().city.name, "跨部门协查", "/services/xrequests"),
        rows,
        errors,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn answer(ctx: RequestCtx, Path(id): Path<String>, f: crate::form::FormData) -> PageResult {
    let p = ctx.user()?;
    let state = &ctx.state;
    let Some(outcome) = domain::services::XOutcome::parse(&f.get("outcome")) else {
        let mut e = FormErrors::default();
        e.add("outcome", "请选择核实结果：属实、不属实或部分属实");
        return show_x(&ctx, e).await;
    };
    let mut tx = state.db.begin().await?;
    match svc::xrequests::answer(&mut tx, state.clock.now(), &id, outcome, &f.get("answer"), &actor_of(p)).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(redirect_with_flash("/services/xrequests", "已答复，申请部门已收到通知。", state.secure_cookies))
        }
        Err(store::StoreError::Invalid { field, message } | store::StoreError::Conflict { field, message }) => {
            drop(tx);
            let mut e = FormErrors::default();
            e.add(&field, message);
            show_x(&ctx, e).await
        }
        Err(e) => Err(e.into()),
    }
}
