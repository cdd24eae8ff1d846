//! 工资保证金返还 (人社部发〔2021〕65号 art. 22) on the project page: the contractor commits and
//! publicises, then applies after 30 days; the 人社 department reviews within 5 working days and
//! issues the sealed 返还确认书, printable here. Page forms and the API call the same
//! `store::wages::refund` functions.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::form::FormData;
use crate::layout::Layout;
use crate::pages::render;
use askama::Template;
use axum::extract::Path;
use axum::routing::{get, post};
use domain::auth::{Principal, perm};
use domain::wages::refund::RefundStatus;
use store::wages::refund::{Actor, RefundRow};
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::default()
        .add("/wages/projects/{code}/refund/commit", Access::Perm(perm::SELF_ENTERPRISE), post(commit))
        .add("/wages/projects/{code}/refund/apply", Access::Perm(perm::SELF_ENTERPRISE), post(apply))
        .add("/wages/projects/{code}/refund/review", Access::Perm(perm::WAGES_DEPOSIT_REVIEW), post(review))
        .add("/wages/projects/{code}/refund/confirmation", Access::Perm(perm::WAGES_VIEW), get(confirmation))
        .add("/wages/projects/{code}/refund/confirmation.pdf", Access::Perm(perm::WAGES_VIEW), get(confirmation_pdf))
        .api(Access::Perm(perm::WAGES_VIEW), routes!(api_refund))
        .api(Access::Perm(perm::SELF_ENTERPRISE), routes!(api_commit))
        .api(Access::Perm(perm::SELF_ENTERPRISE), routes!(api_apply))
        .api(Access::Perm(perm::WAGES_DEPOSIT_REVIEW), routes!(api_review))
}

/// What the project page shows of the refund and offers whom.
pub struct RefundView {
    pub row: Option<RefundRow>,
    pub status: &'static str,
    /// The caller is the project's general contractor.
    pub contractor: bool,
    /// The caller reviews refunds for the deposit department.
    pub reviewer: bool,
    /// The day the contractor may apply, while the publicity runs.
    pub apply_from: String,
}

impl RefundView {
    pub fn of(p: &Principal, project: &store::wages::ProjectRow, row: Option<RefundRow>, dept: &str) -> RefundView {
        RefundView {
            status: row.as_ref().map(|r| r.status.label()).unwrap_or(""),
            contractor: p.uscc.as_deref().is_some_and(|u| u == project.contractor_uscc),
            reviewer: p.can(perm::WAGES_DEPOSIT_REVIEW) && p.department_code.as_deref() == Some(dept),
            apply_from: row.as_ref().and_then(|r| r.may_apply_from()).map(|d| d.to_string()).unwrap_or_default(),
            row,
        }
    }

    pub fn can_commit(&self) -> bool {
        self.contractor && self.row.as_ref().is_none_or(|r| r.status == RefundStatus::Refused)
    }

    pub fn can_apply(&self) -> bool {
        self.contractor && self.row.as_ref().is_some_and(|r| r.status == RefundStatus::Publicising)
    }

    pub fn can_review(&self) -> bool {
        self.reviewer && self.row.as_ref().is_some_and(|r| r.status == RefundStatus::Applied)
    }

    pub fn confirmed(&self) -> bool {
        self.row.as_ref().is_some_and(|r| r.status == RefundStatus::Confirmed)
    }
}

fn actor(p: &Principal) -> Actor<'_> {
    Actor {
        user_id: &p.user_id,
        name: &p.display_name,
        uscc: p.uscc.as_deref(),
        department: p.department_code.as_deref(),
    }
}

/// The project, within what the caller may see (404 otherwise).
async fn visible(ctx: &RequestCtx, code: &str) -> Result<store::wages::ProjectRow, AppError> {
    let p = ctx.user()?;
    let scope = store::org::row_scope(&ctx.state.db, p, perm::WAGES_VIEW).await?;
    Ok(store::wages::project(&ctx.state.db, &scope, code).await?)
}

/// Commits the transaction and goes back to the project's refund section with the outcome; a
/// refusal the user can act on comes back as a flash message, nothing written.
async fn conclude(
    ctx: &RequestCtx,
    code: &str,
    tx: store::Tx,
    r: store::Result<RefundRow>,
    done: impl FnOnce(&RefundRow) -> String,
) -> PageResult {
    let back = format!("/wages/projects/{code}#refund");
    let secure = ctx.state.secure_cookies;
    match r {
        Ok(row) => {
            tx.commit().await?;
            Ok(redirect_with_flash(&back, &done(&row), secure))
        }
        Err(store::StoreError::Invalid { message, .. } | store::StoreError::Conflict { message, .. }) => {
            Ok(redirect_with_flash(&back, &format!("未办理：{message}"), secure))
        }
        Err(e) => Err(e.into()),
    }
}

async fn commit(ctx: RequestCtx, Path(code): Path<String>) -> PageResult {
    let project = visible(&ctx, &code).await?;
    let p = ctx.user()?;
    let mut tx = ctx.state.db.begin().await?;
    let r = store::wages::refund::commit(&mut tx, ctx.state.clock.now(), &project.code, actor(p)).await;
    conclude(&ctx, &code, tx, r, |row| {
        format!("书面承诺已作出，自 {} 起在维权信息告示牌公示30日，期满后可申请返还。", row.publicity_from)
    })
    .await
}

async fn apply(ctx: RequestCtx, Path(code): Path<String>) -> PageResult {
    let project = visible(&ctx, &code).await?;
    let p = ctx.user()?;
    let cal = ctx.state.calendar();
    let cfg = ctx.state.config();
    let mut tx = ctx.state.db.begin().await?;
    let r = store::wages::refund::apply(&mut tx, ctx.state.clock.now(), &cal, &cfg, &project.code, actor(p)).await;
    conclude(&ctx, &code, tx, r, |row| {
        format!("返还申请已提交，人社部门应于 {} 前审核完毕。", row.review_due.clone().unwrap_or_default())
    })
    .await
}

async fn review(ctx: RequestCtx, Path(code): Path<String>, data: FormData) -> PageResult {
    let project = visible(&ctx, &code).await?;
    let p = ctx.user()?;
    let approve = match data.get("action").as_str() {
        "approve" => true,
        "refuse" => false,
        _ => return Err(AppError::BadRequest("请选择同意返还或不予返还".into()).into()),
    };
    let key = ctx.state.seal_key.clone().ok_or_else(|| AppError::internal("印章主密钥未加载"))?;
    let cal = ctx.state.calendar();
    let cfg = ctx.state.config();
    let mut tx = ctx.state.db.begin().await?;
    let r = store::wages::refund::review(
        &mut tx,
        ctx.state.clock.now(),
        &cal,
        &cfg,
        &key,
        &project.code,
        actor(p),
        approve,
        &data.get("reason"),
    )
    .await;
    conclude(&ctx, &code, tx, r, |row| match &row.confirmation_no {
        Some(n) => format!("已同意返还，返还确认书 {n} 已出具并通知施工总承包单位。"),
        None => "已不予返还，理由已告知施工总承包单位。".into(),
    })
    .await
}

#[derive(Template)]
#[template(path = "wages/refund_confirmation.html")]
struct ConfirmationPage {
    layout: Layout,
    code: String,
    department: String,
    lines: Vec<(String, String)>,
    signature: String,
    seal_image: String,
    public_key: String,
}

/// The 工资保证金返还（销户）确认书 as issued: the signed lines, the department's seal and the
/// data to check the signature.
async fn confirmation(ctx: RequestCtx, Path(code): Path<String>) -> PageResult {
    let project = visible(&ctx, &code).await?;
    let state = &ctx.state;
    let key = state.seal_key.clone().ok_or_else(|| AppError::internal("印章主密钥未加载"))?;
    let cfg = state.config();
    let mut tx = state.db.begin().await?;
    let row = store::wages::refund::of_project(&mut tx, &project.id).await?;
    let Some(row) = row.filter(|r| r.status == RefundStatus::Confirmed) else {
        return Err(AppError::NotFound("返还确认书".into()).into());
    };
    // Issued as a registered document: its sheet and PDF. (Confirmations issued before that
    // keep their signed lines, shown below.)
    if let Some(issued) = store::documents::latest_of_in(&mut tx, &format!("refund:{}", row.id)).await? {
        tx.commit().await?;
        let back = format!("/wages/projects/{code}");
        return crate::pages::documents::sheet(
            &ctx,
            issued,
            "/wages",
            &back,
            "返回项目",
            &format!("{back}/refund/confirmation.pdf"),
        );
    }
    let dept = row.department.clone().unwrap_or_else(|| cfg.city.wages.deposit_department.clone());
    let seal = store::services::seals::of_department(&mut tx, state.clock.now(), &cfg, &key, &dept).await?;
    tx.commit().await?;
    let department = cfg.departments.iter().find(|d| d.code == dept).map(|d| d.name.clone()).unwrap_or(dept);
    render(ConfirmationPage {
        layout: Layout::new(&ctx, &cfg.city.name, "工资保证金返还确认书", "/wages"),
        code: project.code,
        department,
        lines: row.lines(),
        signature: row.signature.clone().unwrap_or_default(),
        seal_image: seal.image,
        public_key: seal.public_key,
    })
}

async fn confirmation_pdf(ctx: RequestCtx, Path(code): Path<String>) -> PageResult {
    let project = visible(&ctx, &code).await?;
    let mut conn = ctx.state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let row = store::wages::refund::of_project(&mut conn, &project.id)
        .await?
        .filter(|r| r.status == RefundStatus::Confirmed)
        .ok_or_else(|| AppError::NotFound("返还确认书".into()))?;
    let issued = store::documents::latest_of_in(&mut conn, &format!("refund:{}", row.id))
        .await?
        .ok_or_else(|| AppError::NotFound("返还确认书的 PDF（本确认书出具于文书登记启用之前，请打印网页版）".into()))?;
    drop(conn);
    crate::pages::documents::pdf(&ctx, &issued)
}

// ---------------------------------------------------------------- API

/// A project's deposit refund as the API shows it.
#[derive(serde::Serialize, ToSchema)]
pub struct RefundOut {
    /// publicising | applied | confirmed | refused
    status: String,
    status_label: String,
    commitment: String,
    publicity_from: String,
    may_apply_from: Option<String>,
    applied_on: Option<String>,
    review_due: Option<String>,
    reviewed_on: Option<String>,
    reason: Option<String>,
    confirmation_no: Option<String>,
    /// The confirmation's signed text and its SM2 signature (hex), once issued.
    confirmation: Option<String>,
    signature: Option<String>,
}

impl From<RefundRow> for RefundOut {
    fn from(r: RefundRow) -> Self {
        RefundOut {
            status: r.status.as_str().into(),
            status_label: r.status.label().into(),
            may_apply_from: r.may_apply_from().map(|d| d.to_string()),
            commitment: r.commitment,
            publicity_from: r.publicity_from,
            applied_on: r.applied_on,
            review_due: r.review_due,
            reviewed_on: r.reviewed_on,
            reason: r.reason,
            confirmation_no: r.confirmation_no,
            confirmation: r.confirmation,
            signature: r.signature,
        }
    }
}

#[derive(serde::Deserialize, ToSchema)]
pub struct ReviewIn {
    /// true: approve and issue the confirmation; false: refuse (a reason is required).
    approve: bool,
    #[serde(default)]
    reason: String,
}

/// Commits the caller's change and answers with the refund as it now stands.
async fn api_done(tx: store::Tx, r: store::Result<RefundRow>) -> crate::error::ApiResult<RefundOut> {
    let row = r?;
    tx.commit().await?;
    Ok(axum::Json(row.into()))
}

/// The deposit refund of a project (人社部发〔2021〕65号 art. 22), within the caller's scope.
#[utoipa::path(get, path = "/api/v1/wages/projects/{code}/refund", params(("code" = String, Path)),
    responses((status = 200, body = RefundOut), (status = 404, body = crate::error::ApiErrorBody)))]
pub async fn api_refund(ctx: RequestCtx, Path(code): Path<String>) -> crate::error::ApiResult<RefundOut> {
    let project = visible(&ctx, &code).await?;
    let mut conn = ctx.state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let row = store::wages::refund::of_project(&mut conn, &project.id).await?;
    Ok(axum::Json(row.ok_or_else(|| AppError::NotFound("返还申请".into()))?.into()))
}

/// The general contractor's written commitment; the 30-day publicity starts today.
#[utoipa::path(post, path = "/api/v1/wages/projects/{code}/refund/commit", params(("code" = String, Path)),
    responses((status = 200, body = RefundOut), (status = 422, body = crate::error::ApiErrorBody),
        (status = 403, body = crate::error::ApiErrorBody), (status = 409, body = crate::error::ApiErrorBody)))]
pub async fn api_commit(ctx: RequestCtx, Path(code): Path<String>) -> crate::error::ApiResult<RefundOut> {
    visible(&ctx, &code).await?;
    let p = ctx.user()?;
    let mut tx = ctx.state.db.begin().await?;
    let r = store::wages::refund::commit(&mut tx, ctx.state.clock.now(), &code, actor(p)).await;
    api_done(tx, r).await
}

/// The application, once the publicity has run 30 days.
#[utoipa::path(post, path = "/api/v1/wages/projects/{code}/refund/apply", params(("code" = String, Path)),
    responses((status = 200, body = RefundOut), (status = 422, body = crate::error::ApiErrorBody),
        (status = 403, body = crate::error::ApiErrorBody), (status = 409, body = crate::error::ApiErrorBody)))]
pub async fn api_apply(ctx: RequestCtx, Path(code): Path<String>) -> crate::error::ApiResult<RefundOut> {
    visible(&ctx, &code).await?;
    let p = ctx.user()?;
    let (cal, cfg) = (ctx.state.calendar(), ctx.state.config());
    let mut tx = ctx.state.db.begin().await?;
    let r = store::wages::refund::apply(&mut tx, ctx.state.clock.now(), &cal, &cfg, &code, actor(p)).await;
    api_done(tx, r).await
}

/// The 人社 department's review: approval issues the sealed confirmation.
#[utoipa::path(post, path = "/api/v1/wages/projects/{code}/refund/review", params(("code" = String, Path)),
    request_body = ReviewIn,
    responses((status = 200, body = RefundOut), (status = 422, body = crate::error::ApiErrorBody),
        (status = 403, body = crate::error::ApiErrorBody), (status = 409, body = crate::error::ApiErrorBody)))]
pub async fn api_review(
    ctx: RequestCtx,
    Path(code): Path<String>,
    axum::Json(input): axum::Json<ReviewIn>,
) -> crate::error::ApiResult<RefundOut> {
    let key = ctx.state.seal_key.clone().ok_or_else(|| AppError::internal("印章主密钥未加载"))?;
    visible(&ctx, &code).await?;
    let p = ctx.user()?;
    let (now, cal, cfg) = (ctx.state.clock.now(), ctx.state.calendar(), ctx.state.config());
    let mut tx = ctx.state.db.begin().await?;
    let r = store::wages::refund::review(&mut tx, now, &cal, &cfg, &key, &code, actor(p), input.approve, &input.reason)
        .await;
    api_done(tx, r).await
}
