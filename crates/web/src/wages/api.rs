//! API of 满薪满益: batches from banks, utilities, tax, social insurance, credit and courts,
//! and the project list for other systems.

use crate::access::{Access, RequestCtx, Routes};
use crate::error::{ApiErrorBody, ApiResult, AppError};
use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, Query};
use domain::auth::perm;
use domain::wages::ingest::{Kind, Via};
use serde::{Deserialize, Serialize};
use store::sql::PageRequest;
use store::wages::ProjectRow;
use store::wages::ingest::BatchReport;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

/// Rows per API batch; larger sets are sent as several batches.
pub const MAX_BATCH_ROWS: usize = 10_000;

pub fn routes() -> Routes {
    Routes::default()
        .api_with(Access::AnyOf(&[perm::WAGES_IMPORT, perm::WAGES_FEED_BANK]), routes!(ingest), |mr| {
            mr.layer(DefaultBodyLimit::max(crate::access::MAX_FORM_BYTES))
        })
        .api(Access::Perm(perm::WAGES_VIEW), routes!(projects))
}

#[derive(Deserialize, ToSchema)]
pub struct IngestInput {
    /// Rows keyed by column key (see the import page's column lists): money in fen (integer),
    /// dates `YYYY-MM-DD`, months `YYYY-MM`, flags true/false. Event kinds (allocations,
    /// payments, debits, signals, complaints) need `external_id`, unique within the sending system.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// Sends a batch of one kind: projects | deposits | allocations | workers | attendance |
/// payroll | payments | debits | complaints | signals (and the labor and talent kinds). The calling system's login is the source;
/// a row sent again is counted as a duplicate, never stored twice. Each refused row comes back
/// with its reason; the rest are written and the projects' indicators re-evaluated at once.
#[utoipa::path(post, path = "/api/v1/wages/ingest/{kind}", params(("kind" = String, Path)), request_body = IngestInput,
    responses((status = 200, body = BatchReport), (status = 422, body = ApiErrorBody), (status = 403, body = ApiErrorBody)))]
pub async fn ingest(
    ctx: RequestCtx,
    Path(kind): Path<String>,
    Json(input): Json<IngestInput>,
) -> ApiResult<BatchReport> {
    let k = Kind::parse(&kind).ok_or_else(|| {
        let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        AppError::invalid("kind", format!("没有“{kind}”这类数据，可用：{}", all.join("、")))
    })?;
    if input.rows.len() > MAX_BATCH_ROWS {
        return Err(AppError::invalid(
            "rows",
            format!("每批最多 {MAX_BATCH_ROWS} 行，本批 {} 行，请分批发送", input.rows.len()),
        )
        .into());
    }
    // Each kind only from its source of truth (`import::run_batch` refuses the rest, audited):
    // a bank's system sends what banks know, an enterprise what it keeps itself.
    let login = ctx.user()?.login.clone();
    let rows = crate::wages::import::rows_from_json(k, &ctx.state.config().city.wages.limits, &input.rows);
    let report = crate::wages::import::run_batch(&ctx, k, Via::Api, &login, "", rows).await?;
    Ok(Json(report))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ProjectQuery {
    q: Option<String>,
    /// planned | building | suspended | completed
    status: Option<String>,
    /// Division code prefix.
    division: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ProjectPage {
    items: Vec<ProjectRow>,
    total: i64,
}

/// Projects under wage monitoring within the caller's scope.
#[utoipa::path(get, path = "/api/v1/wages/projects", params(ProjectQuery), responses((status = 200, body = ProjectPage)))]
pub async fn projects(ctx: RequestCtx, Query(q): Query<ProjectQuery>) -> ApiResult<ProjectPage> {
    let p = ctx.user()?;
    let scope = store::org::row_scope(&ctx.state.db, p, perm::WAGES_VIEW).await?;
    let f = store::wages::ProjectFilter { q: q.q, status: q.status, division: q.division };
    let page = store::wages::list_projects(&ctx.state.db, &scope, &f, PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(ProjectPage { items: page.items, total: page.total }))
}
