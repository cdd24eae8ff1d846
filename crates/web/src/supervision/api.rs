//! API of 亳安码 that the phone app calls: location fixes in batches (the app buffers while
//! offline and sends late fixes later), authenticated by the device token issued at binding.

use crate::access::{Access, RequestCtx, Routes};
use crate::error::{ApiErrorBody, ApiResult, AppError};
use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::extract::Query;
use domain::auth::perm;
use serde::Deserialize;
use store::supervision::{FixReport, InFix};
use utoipa::ToSchema;
use utoipa_axum::routes;

/// Fixes per request; the app sends what it buffered in several requests.
pub const MAX_FIXES: usize = 5_000;

/// Fixes per gateway request.
pub const MAX_BULK: usize = 20_000;

pub fn routes() -> Routes {
    Routes::default()
        .api_with(Access::Perm(perm::SUPERVISION_SELF), routes!(fixes), |mr| {
            mr.layer(DefaultBodyLimit::max(crate::access::MAX_FORM_BYTES))
        })
        .api(Access::Perm(perm::SUPERVISION_SELF), routes!(leave))
        .api(Access::Perm(perm::SUPERVISION_SELF), routes!(tasks))
        .api(Access::Perm(perm::SUPERVISION_SELF), routes!(check_in))
        .api(Access::Perm(perm::SUPERVISION_SELF), routes!(summons))
        .api(Access::Perm(perm::SUPERVISION_SELF), routes!(report))
        .api(Access::Perm(perm::SUPERVISION_SELF), routes!(acknowledge_summons))
        .api_with(Access::Perm(perm::SUPERVISION_INGEST), routes!(bulk), |mr| {
            mr.layer(DefaultBodyLimit::max(crate::access::MAX_FORM_BYTES))
        })
}

#[derive(Deserialize, ToSchema)]
pub struct BulkBatch {
    pub fixes: Vec<store::supervision::BulkFix>,
}

/// A request from a bound phone: what it sent (JSON body, or query for a GET) and the person
/// its `device_id` is bound to for the calling account. Every app endpoint takes this, so none
/// can forget that a device speaks only for its own person.
pub struct Device<T> {
    pub ctx: RequestCtx,
    pub person: store::supervision::Person,
    pub input: T,
}

/// Inputs that name the sending device.
pub trait FromPhone: serde::de::DeserializeOwned + Send + Sync {
    fn device_id(&self) -> &str;
}

impl<S: Send + Sync, T: FromPhone> axum::extract::FromRequest<S> for Device<T> {
    type Rejection = axum::response::Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let ctx = req.extensions().get::<RequestCtx>().cloned().ok_or_else(|| {
            crate::error::ApiError(AppError::Internal("authentication layer missing".into())).into_response()
        })?;
        let input: T = if req.method() == axum::http::Method::GET {
            Query::<T>::from_request(req, state).await.map_err(IntoResponse::into_response)?.0
        } else {
            Json::<T>::from_request(req, state).await.map_err(IntoResponse::into_response)?.0
        };
        let found = async {
            let user = ctx.user()?;
            let st = &ctx.state;
            Ok::<_, AppError>(
                store::supervision::person_of_device(
                    &st.db,
                    &st.config(),
                    st.clock.now(),
                    &user.user_id,
                    input.device_id(),
                )
                .await?,
            )
        };
        let person = found.await.map_err(|e| crate::error::ApiError(e).into_response())?;
        Ok(Device { ctx, person, input })
    }
}

macro_rules! from_phone {
    ($($t:ty),*) => {
        $(impl FromPhone for $t {
            fn device_id(&self) -> &str {
                &self.device_id
            }
        })*
    };
}
from_phone!(FixBatch, LeaveRequest, DeviceQuery, CheckInRequest, DeviceBody, ReportRequest);

/// Uploads fixes of many persons from a location gateway (wristbands, a carrier's location
/// platform): each row names the person. Same guarantees as the phone's upload: idempotent,
/// late fixes accepted, answered after the commit.
#[utoipa::path(post, path = "/api/v1/supervision/fixes/bulk", request_body = BulkBatch,
    responses((status = 200, body = FixReport), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn bulk(ctx: RequestCtx, body: axum::body::Bytes) -> ApiResult<FixReport> {
    let state = &ctx.state;
    // Parsed here rather than by the `Json` extractor, which tracks the path of every value it
    // reads (for its error messages): on a 10,000-row batch that is a fifth of the request.
    let batch: BulkBatch = serde_json::from_slice(&body).map_err(|e| {
        AppError::invalid("fixes", format!("请求体不是有效的定位数据（第 {} 行第 {} 列）：{e}", e.line(), e.column()))
    })?;
    if batch.fixes.len() > MAX_BULK {
        return Err(AppError::invalid("fixes", format!("每批最多 {MAX_BULK} 个定位点，请分批上传")).into());
    }
    let fixes: Vec<InFix> = batch.fixes.iter().map(|f| f.fix()).collect();
    let rows: Vec<(&str, &InFix)> = batch.fixes.iter().zip(&fixes).map(|(b, f)| (b.person_id.as_str(), f)).collect();
    let report =
        store::supervision::ingest_durable(&state.db, &state.config(), state.clock.now(), &rows, &Default::default())
            .await?;
    Ok(Json(report))
}

#[derive(Deserialize, ToSchema)]
pub struct FixBatch {
    /// The bound device's identifier; a fix from any other device is refused.
    pub device_id: String,
    pub fixes: Vec<InFix>,
}

/// Uploads location fixes. Idempotent: a fix is its person and instant, so a batch sent again
/// after a lost response adds nothing. Out-of-order and late fixes are accepted. The response
/// comes after the batch is committed to disk: every fix it counts, and any alarm it opened,
/// survive a crash.
#[utoipa::path(post, path = "/api/v1/supervision/fixes", request_body = FixBatch,
    responses((status = 200, body = FixReport), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn fixes(Device { ctx, person, input: batch }: Device<FixBatch>) -> ApiResult<FixReport> {
    let state = &ctx.state;
    if batch.fixes.len() > MAX_FIXES {
        return Err(AppError::invalid("fixes", format!("每批最多 {MAX_FIXES} 个定位点，请分批上传")).into());
    }
    let rows: Vec<(&str, &InFix)> = batch.fixes.iter().map(|f| (person.id.as_str(), f)).collect();
    let report =
        store::supervision::ingest_durable(&state.db, &state.config(), state.clock.now(), &rows, &Default::default())
            .await?;
    Ok(Json(report))
}

#[derive(Deserialize, ToSchema)]
pub struct LeaveRequest {
    /// The bound device's identifier.
    pub device_id: String,
    /// A preset id from `config/supervision/leave_presets.toml` (e.g. `yrd` 长三角商务出行).
    pub preset: String,
    pub destination: String,
    pub reason: String,
    /// Departure and return, Unix milliseconds.
    pub from: i64,
    pub to: i64,
}

/// Files a leave request (外出请假) from the app; the officer is told and decides on the
/// person's page. The answer is the request as filed (status `pending`).
#[utoipa::path(post, path = "/api/v1/supervision/leaves", request_body = LeaveRequest,
    responses((status = 200, body = Object), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn leave(Device { ctx, person, input: l }: Device<LeaveRequest>) -> ApiResult<store::supervision::LeaveRow> {
    let state = &ctx.state;
    let user = ctx.user()?;
    let mut tx = state.db.begin().await?;
    let row = store::supervision::request_leave(
        &mut tx,
        &state.config(),
        state.clock.now(),
        &person,
        &store::supervision::NewLeave {
            preset: l.preset,
            destination: l.destination,
            reason: l.reason,
            from_ms: l.from,
            to_ms: l.to,
        },
        (&user.user_id, &user.display_name),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(row))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DeviceQuery {
    pub device_id: String,
}

/// The person's check-in tasks (打卡任务), newest deadline first: the app shows the open ones.
#[utoipa::path(get, path = "/api/v1/supervision/tasks", params(DeviceQuery),
    responses((status = 200, body = [store::supervision::TaskRow]), (status = 403, body = ApiErrorBody)))]
pub async fn tasks(Device { ctx, person, .. }: Device<DeviceQuery>) -> ApiResult<Vec<store::supervision::TaskRow>> {
    Ok(Json(store::supervision::tasks_of(&ctx.state.db, &person.id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct CheckInRequest {
    pub device_id: String,
    #[serde(flatten)]
    pub check_in: store::supervision::CheckIn,
}

/// Answers a check-in task with the phone verifier's result. Passed: `done`; a face-match
/// score under the city's minimum, a failed liveness check or a location outside the allowed
/// areas: `failed`, and the officer is alarmed. After the deadline: 409.
#[utoipa::path(post, path = "/api/v1/supervision/checkins", request_body = CheckInRequest,
    responses((status = 200, body = store::supervision::TaskRow), (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn check_in(
    Device { ctx, person, input: c }: Device<CheckInRequest>,
) -> ApiResult<store::supervision::TaskRow> {
    let state = &ctx.state;
    let mut tx = state.db.begin().await?;
    let row = store::supervision::check_in(&mut tx, &state.config(), state.clock.now(), &person, &c.check_in).await?;
    tx.commit().await?;
    Ok(Json(row))
}

/// The person's summons (传讯通知), latest appointment first.
#[utoipa::path(get, path = "/api/v1/supervision/summons", params(DeviceQuery),
    responses((status = 200, body = [store::supervision::SummonsRow]), (status = 403, body = ApiErrorBody)))]
pub async fn summons(
    Device { ctx, person, .. }: Device<DeviceQuery>,
) -> ApiResult<Vec<store::supervision::SummonsRow>> {
    let state = &ctx.state;
    Ok(Json(store::supervision::summons_of(&state.db, &person.id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct DeviceBody {
    pub device_id: String,
}

/// Confirms receipt of a summons; the officer is told.
#[utoipa::path(post, path = "/api/v1/supervision/summons/{id}/ack", params(("id" = String, Path, description = "传唤编号")), request_body = DeviceBody,
    responses((status = 200, body = store::supervision::SummonsRow), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn acknowledge_summons(
    axum::extract::Path(id): axum::extract::Path<String>,
    Device { ctx, person, .. }: Device<DeviceBody>,
) -> ApiResult<store::supervision::SummonsRow> {
    let state = &ctx.state;
    let mut tx = state.db.begin().await?;
    let row = store::supervision::acknowledge_summons(&mut tx, state.clock.now(), &person, &id).await?;
    tx.commit().await?;
    Ok(Json(row))
}

#[derive(Deserialize, ToSchema)]
pub struct ReportRequest {
    pub device_id: String,
    /// `info_change` (信息变更) or `status` (情况汇报).
    pub kind: String,
    pub text: String,
    /// When the change happened (Unix ms; information changes, which are due within 24 hours:
    /// 刑事诉讼法 art. 71 ¶1(2)). Absent: now.
    #[serde(default)]
    pub changed_at: Option<i64>,
    /// The new residence, when that is what changed.
    #[serde(default)]
    pub new_address: Option<String>,
}

/// Files an information change or a status report; the officer is told.
#[utoipa::path(post, path = "/api/v1/supervision/reports", request_body = ReportRequest,
    responses((status = 200, body = store::supervision::ReportRow), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn report(
    Device { ctx, person, input: r }: Device<ReportRequest>,
) -> ApiResult<store::supervision::ReportRow> {
    let state = &ctx.state;
    let mut tx = state.db.begin().await?;
    let new = store::supervision::NewReport {
        kind: &r.kind,
        text: &r.text,
        changed_at: r.changed_at,
        new_address: r.new_address.as_deref(),
    };
    let row = store::supervision::file_report(&mut tx, state.clock.now(), &person, &new).await?;
    tx.commit().await?;
    Ok(Json(row))
}
