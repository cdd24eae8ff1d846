//! 一键申报 API: source departments push shared data; applicants (and their apps) submit
//! applications and follow them; anyone's system checks a license.

use crate::access::{Access, RequestCtx, Routes};
use crate::error::{ApiErrorBody, ApiResult, AppError};
use crate::services::submit_queue::Submission;
use axum::Json;
use axum::extract::Path;
use domain::auth::perm;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::default()
        .api(Access::Perm(perm::EXCHANGE_PUSH), routes!(push))
        .api(Access::Perm(perm::WORKFLOW_APPLY), routes!(submit))
        .api(Access::Authenticated, routes!(application))
        .api(Access::Authenticated, routes!(verify))
}

#[derive(Deserialize, ToSchema)]
pub struct PushBody {
    /// Name of the source system, e.g. 安徽省市场主体登记系统.
    pub source: String,
    pub records: Vec<PushRecord>,
}

#[derive(Deserialize, ToSchema)]
pub struct PushRecord {
    /// USCC of an enterprise or ID number of a person, with its check character.
    pub subject: String,
    /// Field key → value; keys as the interface declares them (config/services/exchange.toml).
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct PushReport {
    pub accepted: usize,
}

/// Pushes records of one data interface, all or none; each replaces the subject's record.
#[utoipa::path(post, path = "/api/v1/exchange/{code}/records", request_body = PushBody,
    params(("code" = String, Path, description = "接口代码，如 scjg.enterprise")),
    responses((status = 200, body = PushReport), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn push(ctx: RequestCtx, Path(code): Path<String>, body: axum::body::Bytes) -> ApiResult<PushReport> {
    let p = ctx.user()?;
    let b: PushBody =
        serde_json::from_slice(&body).map_err(|e| AppError::invalid("body", format!("请求体不是有效的 JSON：{e}")))?;
    if b.source.trim().is_empty() {
        return Err(AppError::invalid("source", "请填写数据来源系统名称").into());
    }
    if b.records.len() > 10_000 {
        return Err(AppError::invalid("records", "一次最多推送 10000 条").into());
    }
    let state = &ctx.state;
    if let Some(i) = state.config().services.interface(&code)
        && !ctx.may_push_to(&i.owner)
    {
        let e = ctx
            .entry(domain::audit::CoreAudit::AccessDenied, "dx_interface", &code)
            .outcome(domain::audit::Outcome::Denied)
            .detail(format!("推送其他部门的共享数据接口“{}”，已拒绝", i.name));
        ctx.audit_refusal(e).await?;
        return Err(AppError::Forbidden(format!("只能推送本部门提供的接口数据（“{}”）", i.name)).into());
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    for (i, r) in b.records.iter().enumerate() {
        store::services::exchange::push(
            &mut tx,
            now,
            &state.config(),
            &code,
            &r.subject,
            &r.data,
            &b.source,
            (&p.user_id, &p.display_name),
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Invalid { field, message } => {
                AppError::invalid(&format!("records[{i}].{field}"), format!("第 {} 条：{message}", i + 1))
            }
            other => other.into(),
        })?;
    }
    tx.commit().await?;
    Ok(Json(PushReport { accepted: b.records.len() }))
}

#[derive(Deserialize, ToSchema)]
pub struct SubmitBody {
    /// Item code, e.g. SCJG-XK-001.
    pub item: String,
    /// Typed form values by field key. Data-retrieval fields are taken from the sources and
    /// license materials from the license registry; they need not be sent. A sign material
    /// (电子签章/签名) is confirmed with `"sign.{material id}": "同意"`: the platform then signs
    /// the submitted form with the subject's key.
    pub values: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct SubmitReport {
    pub id: String,
    pub one_click: bool,
}

/// Submits an application for the signed-in enterprise or citizen. Answered after the commit
/// (group commit: concurrent submissions share one fsync).
#[utoipa::path(post, path = "/api/v1/services/applications", request_body = SubmitBody,
    responses((status = 200, body = SubmitReport), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn submit(ctx: RequestCtx, Json(b): Json<SubmitBody>) -> ApiResult<SubmitReport> {
    let p = ctx.user()?;
    let state = &ctx.state;
    let cfg = state.config();
    let (item, subject, name) = super::service::applicant(&ctx, &cfg, &b.item)?;
    let sub = Submission {
        item: b.item.clone(),
        actor: crate::pages::workflow::actor_of(p),
        subject,
        subject_name: name,
        typed: b.values,
        uploads: vec![],
        ip: ctx.ip.clone(),
    };
    let id = super::state(state).submit_queue(state).submit(state, sub).await?;
    Ok(Json(SubmitReport { id, one_click: item.one_click() }))
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationStatus {
    pub id: String,
    pub item: String,
    /// running | correcting | approved | rejected | withdrawn
    pub status: String,
    pub result_number: Option<String>,
}

/// An application's status, for its applicant or the reviewing department.
#[utoipa::path(get, path = "/api/v1/services/applications/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ApplicationStatus), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn application(ctx: RequestCtx, Path(id): Path<String>) -> ApiResult<ApplicationStatus> {
    let (a, _) = super::service::application(&ctx, &id).await?;
    Ok(Json(ApplicationStatus {
        id: a.id,
        item: a.item,
        status: a.status.as_str().into(),
        result_number: a.result_number,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct LicenseCheck {
    pub valid: bool,
    pub problems: Vec<String>,
    pub title: Option<String>,
    /// The issuing department, or the system the license came from.
    pub issuer: Option<String>,
    /// 有效期至 (YYYY-MM-DD), or 长期.
    pub valid_to: Option<String>,
    pub revoked: bool,
    /// Only for the holder and for staff who act on applications; each such read is audited.
    pub holder_name: Option<String>,
    pub seal: Option<String>,
}

/// Checks a license or sealed document by its number: registered, unchanged, seal valid. It
/// answers what a verifier needs and nothing about the holder; identity documents answer as an
/// unknown number does (个人信息保护法 art. 28).
#[utoipa::path(get, path = "/api/v1/licenses/{number}/verification", params(("number" = String, Path)),
    responses((status = 200, body = LicenseCheck)))]
pub async fn verify(ctx: RequestCtx, Path(number): Path<String>) -> ApiResult<LicenseCheck> {
    let v = crate::services::licenses::verify_by_number(&ctx, &number).await?;
    let l = v.license.as_ref();
    let holder_name = match l {
        Some(l) if crate::services::licenses::may_see_holder(&ctx, l) => {
            ctx.audit(
                ctx.entry(domain::services::ServicesAudit::LicenseView, "license", &l.number)
                    .detail("接口核验并查看持证人"),
            )
            .await?;
            Some(l.holder_name.clone())
        }
        _ => None,
    };
    Ok(Json(LicenseCheck {
        valid: v.valid,
        problems: v.problems.clone(),
        title: l.map(|l| l.title.clone()),
        issuer: l.map(|l| crate::services::licenses::issuer_name(&ctx, l)),
        valid_to: l.map(crate::services::licenses::valid_to_text),
        revoked: l.is_some_and(|l| l.revoked_at.is_some()),
        holder_name,
        seal: v.seal_name,
    }))
}
