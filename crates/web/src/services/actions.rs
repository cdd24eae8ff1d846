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
        .add("/services/applications/{id}/receipt.pdf", Access::Authenticated, get(receipt_pdf))
        .add("/services/applications/{id}/notices/{n}", Access::Authenticated, get(notice))
        .add("/services/applications/{id}/notices/{n}/pdf", Access::Authenticated, get(notice_pdf))
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
        .add(
            "/services/xrequests/{id}",
            Access::Perm(perm::WORKFLOW_ACT),
            post(answer).layer(DefaultBodyLimit::max(svc::MAX_UPLOAD + 64 * 1024)),
        )
        .add("/services/xrequests/{id}/attachment", Access::Perm(perm::WORKFLOW_ACT), get(attachment))
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

/// 受理凭证 (行政许可法 art. 32 ¶2): sealed and dated by the department, for the applicant and
/// the department's staff — a registered document (`store::documents`), shown as a sheet or PDF.
async fn receipt_issued(ctx: &RequestCtx, id: &str) -> Result<store::documents::Issued, AppError> {
    let (app, _) = super::service::application(ctx, id).await?;
    let state = &ctx.state;
    let key = state.seal_key.clone().ok_or_else(|| AppError::internal("印章主密钥未加载"))?;
    let cfg = state.config();
    // A transaction: numbering, the seal on first use and the register go together.
    let mut tx = state.db.begin().await?;
    let r = svc::receipt::receipt(&mut tx, state.clock.now(), &cfg, &key, &app).await?;
    tx.commit().await?;
    Ok(r)
}

async fn receipt(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let issued = receipt_issued(&ctx, &id).await?;
    let back = format!("/services/applications/{id}");
    crate::pages::documents::sheet(&ctx, issued, "/services/mine", &back, "返回申请", &format!("{back}/receipt.pdf"))
}

async fn receipt_pdf(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let issued = receipt_issued(&ctx, &id).await?;
    crate::pages::documents::pdf(&ctx, &issued)
}

/// The `n`-th 一次性告知 of an application as issued (补正材料通知书), for whoever may see the
/// application.
async fn notice_issued(ctx: &RequestCtx, id: &str, n: u32) -> Result<store::documents::Issued, AppError> {
    super::service::application(ctx, id).await?;
    store::documents::latest_of(&ctx.state.db, &format!("notice:{id}:{n}"))
        .await?
        .ok_or_else(|| AppError::NotFound("补正材料通知书".into()))
}

async fn notice(ctx: RequestCtx, Path((id, n)): Path<(String, u32)>) -> PageResult {
    let issued = notice_issued(&ctx, &id, n).await?;
    let back = format!("/services/applications/{id}");
    let pdf = format!("{back}/notices/{n}/pdf");
    crate::pages::documents::sheet(&ctx, issued, "/services/mine", &back, "返回申请", &pdf)
}

async fn notice_pdf(ctx: RequestCtx, Path((id, n)): Path<(String, u32)>) -> PageResult {
    let issued = notice_issued(&ctx, &id, n).await?;
    crate::pages::documents::pdf(&ctx, &issued)
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
            due: crate::layout::fmt_deadline(&Some(x.due_at)),
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

/// The answer: a conclusion, the grounds, and optionally one attachment (multipart; a form
/// without a file may also come urlencoded).
async fn answer(ctx: RequestCtx, Path(id): Path<String>, req: axum::extract::Request) -> PageResult {
    let p = ctx.user()?;
    let state = &ctx.state;
    let (mut fields, mut file) = (std::collections::BTreeMap::new(), None::<(String, Vec<u8>)>);
    if crate::form::is_multipart(&req) {
        use axum::extract::FromRequest;
        let mut mp =
            Multipart::from_request(req, &()).await.map_err(|_| AppError::BadRequest("无法读取表单".into()))?;
        while let Some(field) =
            mp.next_field().await.map_err(|e| AppError::invalid("attachment", format!("上传中断：{e}")))?
        {
            let name = field.name().unwrap_or("").to_string();
            let filename = field.file_name().map(str::to_string);
            let bytes = field.bytes().await.map_err(|e| AppError::invalid("attachment", format!("上传中断：{e}")))?;
            match (name.as_str(), filename) {
                ("attachment", Some(f)) if !f.is_empty() && !bytes.is_empty() => file = Some((f, bytes.to_vec())),
                ("attachment", _) => {}
                _ => {
                    fields.insert(name, String::from_utf8_lossy(&bytes).trim().to_string());
                }
            }
        }
    } else {
        use axum::extract::FromRequest;
        let f = crate::form::FormData::from_request(req, &())
            .await
            .map_err(|_| AppError::BadRequest("无法读取表单".into()))?;
        for k in ["outcome", "answer"] {
            fields.insert(k.to_string(), f.get(k));
        }
    }
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let Some(outcome) = domain::services::XOutcome::parse(&get("outcome")) else {
        let mut e = FormErrors::default();
        e.add("outcome", "请选择核实结果：属实、不属实或部分属实");
        return show_x(&ctx, e).await;
    };
    let att = file.as_ref().map(|(n, b)| (n.as_str(), b.as_slice()));
    let mut tx = state.db.begin().await?;
    match svc::xrequests::answer(&mut tx, state.clock.now(), &id, outcome, &get("answer"), att, &actor_of(p)).await {
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

/// An answer's attachment, for the two departments (and staff with city-wide scope); audited.
async fn attachment(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let p = ctx.user()?;
    let mut conn = ctx.state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let x = svc::xrequests::get(&mut conn, &id).await?;
    drop(conn);
    let dept = p.department_code.as_deref();
    let city_wide = p.scope(perm::WORKFLOW_ACT) == Some(domain::auth::DataScope::All);
    if !(city_wide || dept == Some(x.to_dept.as_str()) || dept == Some(x.from_dept.as_str())) {
        return Err(AppError::NotFound("协查附件".into()).into());
    }
    let (name, bytes) =
        svc::xrequests::attachment(&ctx.state.db, &id).await?.ok_or_else(|| AppError::NotFound("协查附件".into()))?;
    ctx.audit(
        ctx.entry(domain::services::ServicesAudit::XAnswer, "application", &x.application_id)
            .detail(format!("查看协查答复附件：{name}")),
    )
    .await?;
    let lower = name.to_lowercase();
    let ct = if lower.ends_with(".pdf") {
        "application/pdf"
    } else if lower.ends_with(".png") {
        "image/png"
    } else if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
        "image/jpeg"
    } else {
        "application/octet-stream"
    };
    use axum::response::IntoResponse;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, ct.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"attachment\"; filename*=UTF-8''{}",
                    crate::pages::documents::query_value(&name)
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}
