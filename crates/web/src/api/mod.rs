//! JSON API under `/api/v1`, for systems (API tokens) and pages' scripts (session + CSRF
//! header). Errors are `{"code", "message", "field"}`; the OpenAPI description is served at
//! `/api/openapi.json`.

mod engines;

use crate::access::{Access, RequestCtx, Routes};
use crate::error::{ApiError, ApiErrorBody, ApiResult, AppError};
use axum::Json;
use axum::extract::{Path, Query};
use axum::routing::get;
use domain::audit::Outcome;
use domain::auth::perm;
use serde::{Deserialize, Serialize};
use store::auth::UserListItem;
use store::org::{Division, Enterprise, EnterpriseFilter, Grid};
use store::sql::PageRequest;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::default()
        .add("/api/openapi.json", Access::Public, get(openapi))
        .api(Access::Authenticated, routes!(me))
        .api(Access::Perm(perm::ADMIN_USERS), routes!(users))
        .api(Access::Perm(perm::ORG_ENTERPRISES), routes!(enterprises))
        .api(Access::Perm(perm::ORG_ENTERPRISES), routes!(enterprise))
        .api(Access::Perm(perm::ORG_DIVISIONS), routes!(divisions))
        .api(Access::Perm(perm::ORG_DIVISIONS), routes!(departments))
        .api(Access::Perm(perm::ORG_DIVISIONS), routes!(grids))
        .api(Access::Perm(perm::AUDIT_READ), routes!(audit))
        .api(Access::Authenticated, routes!(check_identifier))
        .api(Access::Authenticated, routes!(working_days))
        .merge(engines::routes())
}

/// The document's header and security scheme; the paths and schemas come from the routes
/// themselves (`Routes::api`), see [`document`].
#[derive(OpenApi)]
#[openapi(
    info(title = "营商 Yingshang API", description = "亳州营商环境数字化平台接口。系统以接口令牌（Authorization: Bearer ys_…）调用；错误统一为 {code, message, field}。", version = "1"),
    components(schemas(ApiErrorBody)),
    modifiers(&BearerAuth),
    security(("api_token" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("ys_…").build()),
        );
    }
}

/// The OpenAPI document of the API routes `routes` generated.
pub fn document(routes: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    ApiDoc::openapi().merge_from(routes)
}

async fn openapi(
    axum::Extension(doc): axum::Extension<std::sync::Arc<utoipa::openapi::OpenApi>>,
) -> Json<utoipa::openapi::OpenApi> {
    Json(doc.as_ref().clone())
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user_id: String,
    pub login: String,
    pub display_name: String,
    /// staff | enterprise | citizen | system
    pub kind: String,
    pub roles: Vec<String>,
    /// Permission codes with their data scope.
    pub permissions: Vec<Grant>,
    pub department_id: Option<String>,
    pub division_code: Option<String>,
    pub grid_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Grant {
    pub permission: String,
    /// own | grid | department | division | all
    pub scope: String,
}

/// The caller's identity and permissions.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401, body = ApiErrorBody)))]
async fn me(ctx: RequestCtx) -> ApiResult<Me> {
    let p = ctx.user()?;
    Ok(Json(Me {
        user_id: p.user_id.clone(),
        login: p.login.clone(),
        display_name: p.display_name.clone(),
        kind: p.kind.as_str().into(),
        roles: p.role_names.clone(),
        permissions: p
            .grants
            .iter()
            .map(|(k, v)| Grant { permission: k.clone(), scope: v.as_str().to_string() })
            .collect(),
        department_id: p.department_id.clone(),
        division_code: p.division_code.as_ref().map(|d| d.to_string()),
        grid_id: p.grid_id.clone(),
    }))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct UserQuery {
    /// Login or name fragment.
    q: Option<String>,
    /// staff | enterprise | citizen | system
    kind: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    items: Vec<UserListItem>,
    total: i64,
    page: u32,
    per_page: u32,
}

/// Accounts (用户), paged.
#[utoipa::path(get, path = "/api/v1/users", params(UserQuery), responses((status = 200, body = UserPage), (status = 403, body = ApiErrorBody)))]
async fn users(ctx: RequestCtx, Query(q): Query<UserQuery>) -> ApiResult<UserPage> {
    let f = store::auth::UserFilter { q: q.q, kind: q.kind, ..Default::default() };
    let p = store::auth::list_users(&ctx.state.db, &f, PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(UserPage { items: p.items, total: p.total, page: p.page, per_page: p.per_page }))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct EnterpriseQuery {
    /// Name or USCC fragment.
    q: Option<String>,
    industry: Option<String>,
    /// Division code (county or town); includes everything inside it.
    division: Option<String>,
    /// Grid id.
    grid: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct EnterprisePage {
    items: Vec<Enterprise>,
    total: i64,
    page: u32,
    per_page: u32,
}

/// Enterprises (市场主体) within the caller's data scope.
#[utoipa::path(get, path = "/api/v1/enterprises", params(EnterpriseQuery), responses((status = 200, body = EnterprisePage), (status = 403, body = ApiErrorBody)))]
async fn enterprises(ctx: RequestCtx, Query(q): Query<EnterpriseQuery>) -> ApiResult<EnterprisePage> {
    let p = ctx.user()?;
    let scope = store::org::row_scope(&ctx.state.db, p, perm::ORG_ENTERPRISES).await?;
    let f = EnterpriseFilter { q: q.q, industry: q.industry, division: q.division, grid_id: q.grid };
    let page = store::org::list_enterprises(&ctx.state.db, &scope, &f, PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(EnterprisePage { items: page.items, total: page.total, page: page.page, per_page: page.per_page }))
}

/// One enterprise by its USCC (统一社会信用代码).
#[utoipa::path(get, path = "/api/v1/enterprises/{uscc}", params(("uscc" = String, Path, description = "18-character USCC")),
    responses((status = 200, body = Enterprise), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
async fn enterprise(ctx: RequestCtx, Path(uscc): Path<String>) -> ApiResult<Enterprise> {
    let u = domain::Uscc::parse(&uscc).map_err(|e| AppError::invalid("uscc", e.to_string()))?;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&ctx.state.db, p, perm::ORG_ENTERPRISES).await?;
    Ok(Json(store::org::enterprise_by_uscc(&ctx.state.db, &scope, u.as_str()).await?))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct DivisionQuery {
    /// Only the children of this division.
    parent: Option<String>,
}

/// Divisions (行政区划): the city, counties and towns.
#[utoipa::path(get, path = "/api/v1/divisions", params(DivisionQuery), responses((status = 200, body = Vec<Division>)))]
async fn divisions(ctx: RequestCtx, Query(q): Query<DivisionQuery>) -> ApiResult<Vec<Division>> {
    Ok(Json(store::org::list_divisions(&ctx.state.db, q.parent.as_deref()).await?))
}

/// Departments (部门).
#[utoipa::path(get, path = "/api/v1/departments", responses((status = 200, body = Vec<Department>)))]
async fn departments(ctx: RequestCtx) -> ApiResult<Vec<Department>> {
    let list = store::org::list_departments(&ctx.state.db).await?;
    Ok(Json(list.into_iter().map(Department::from).collect()))
}

/// A department (部门) as the API gives it: the stored row's flags as booleans and its kind
/// with its Chinese name (the API's types live here, not in store).
#[derive(Serialize, ToSchema)]
pub struct Department {
    pub id: String,
    pub code: String,
    pub name: String,
    pub short_name: String,
    /// bureau | police | procuratorate | court | tax
    pub kind: String,
    /// 政府工作部门, 公安机关 …
    pub kind_label: String,
    pub division_code: String,
    pub active: bool,
}

impl From<store::org::Department> for Department {
    fn from(d: store::org::Department) -> Department {
        let kind_label = store::config::DEPARTMENT_KINDS
            .iter()
            .find(|(k, _)| *k == d.kind)
            .map(|(_, l)| l.to_string())
            .unwrap_or_else(|| d.kind.clone());
        Department {
            id: d.id,
            code: d.code,
            name: d.name,
            short_name: d.short_name,
            kind: d.kind,
            kind_label,
            division_code: d.division_code,
            active: d.active != 0,
        }
    }
}

#[derive(Deserialize, IntoParams, Default)]
pub struct GridQuery {
    /// Division code prefix (county or town).
    division: Option<String>,
}

/// Grids (网格) with their polygons (GeoJSON, WGS-84).
#[utoipa::path(get, path = "/api/v1/grids", params(GridQuery), responses((status = 200, body = Vec<Grid>)))]
async fn grids(ctx: RequestCtx, Query(q): Query<GridQuery>) -> ApiResult<Vec<Grid>> {
    Ok(Json(store::org::list_grids(&ctx.state.db, q.division.as_deref()).await?))
}

#[derive(Serialize, ToSchema)]
pub struct AuditItem {
    seq: i64,
    /// RFC 3339 UTC.
    at: String,
    actor_id: String,
    actor_name: String,
    action: String,
    object_type: String,
    object_id: String,
    outcome: String,
    ip: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    items: Vec<AuditItem>,
    total: i64,
    page: u32,
    per_page: u32,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct AuditQuery {
    actor: Option<String>,
    /// Action prefix, e.g. `auth.`.
    action: Option<String>,
    object: Option<String>,
    /// success | failure | denied
    outcome: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// The audit log (审计日志), newest first.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), responses((status = 200, body = AuditPage), (status = 403, body = ApiErrorBody)))]
async fn audit(ctx: RequestCtx, Query(q): Query<AuditQuery>) -> ApiResult<AuditPage> {
    let f = store::audit::AuditFilter {
        actor: q.actor,
        action: q.action,
        object: q.object,
        outcome: q.outcome.as_deref().and_then(Outcome::parse),
        ..Default::default()
    };
    let p = store::audit::list(&ctx.state.db, &f, PageRequest::new(q.page, q.per_page)).await?;
    let items = p
        .items
        .into_iter()
        .map(|r| AuditItem {
            seq: r.seq,
            at: domain::clock::format_utc_millis(r.at),
            actor_id: r.entry.actor_id,
            actor_name: r.entry.actor_name,
            action: r.entry.action,
            object_type: r.entry.object_type,
            object_id: r.entry.object_id,
            outcome: r.entry.outcome.as_str().into(),
            ip: r.entry.ip,
            detail: r.entry.detail,
            prev_hash: r.prev_hash,
            hash: r.hash,
        })
        .collect();
    Ok(Json(AuditPage { items, total: p.total, page: p.page, per_page: p.per_page }))
}

#[derive(Deserialize, ToSchema)]
pub struct IdentifierCheck {
    /// uscc | id_card | division
    kind: String,
    value: String,
}

#[derive(Serialize, ToSchema)]
pub struct IdentifierResult {
    /// The identifier as stored (upper case, half-width).
    normalized: String,
    /// Facts read from the identifier.
    details: Vec<(String, String)>,
}

/// Validates a USCC, ID number or division code; a bad one is answered 422 with the
/// position of the wrong character in the message.
#[utoipa::path(post, path = "/api/v1/identifiers/check", request_body = IdentifierCheck,
    responses((status = 200, body = IdentifierResult), (status = 422, body = ApiErrorBody)))]
async fn check_identifier(ctx: RequestCtx, Json(req): Json<IdentifierCheck>) -> ApiResult<IdentifierResult> {
    let bad = |e: domain::ids::IdError| ApiError(AppError::invalid("value", e.to_string()));
    let r = match req.kind.as_str() {
        "uscc" => {
            let u = domain::Uscc::parse(&req.value).map_err(bad)?;
            IdentifierResult {
                details: vec![
                    ("登记管理部门".into(), u.authority_name().into()),
                    ("登记机关行政区划".into(), u.division_code().into()),
                    ("组织机构代码".into(), u.organization_code()),
                ],
                normalized: u.to_string(),
            }
        }
        "id_card" => {
            let id = domain::IdCardNo::parse(&req.value).map_err(bad)?;
            IdentifierResult {
                details: vec![
                    ("出生日期".into(), id.birth_date().to_string()),
                    ("性别".into(), id.sex().label().into()),
                    ("年龄".into(), id.age_on(ctx.state.clock.today()).to_string()),
                    ("签发地区划".into(), id.division_code().into()),
                ],
                normalized: id.to_string(),
            }
        }
        "division" => {
            let d = ctx.state.config().divisions.lookup(&req.value).map_err(bad)?;
            IdentifierResult {
                details: vec![
                    ("名称".into(), ctx.state.config().divisions.full_name(&d)),
                    ("级别".into(), d.level().label().into()),
                ],
                normalized: d.to_string(),
            }
        }
        _ => return Err(AppError::invalid("kind", "kind 应为 uscc、id_card 或 division").into()),
    };
    Ok(Json(r))
}

#[derive(Deserialize, IntoParams)]
pub struct WorkingDaysQuery {
    /// Start date, YYYY-MM-DD (not counted).
    from: String,
    /// Number of working days to add.
    days: u32,
}

#[derive(Serialize, ToSchema)]
pub struct WorkingDays {
    from: String,
    days: u32,
    /// The date `days` working days after `from`.
    date: String,
    /// False when a year in between has no holiday table (weekends only were counted).
    covered: bool,
}

/// Adds working days (工作日) on the holiday calendar: the end of a legal time limit.
#[utoipa::path(get, path = "/api/v1/calendar/working-days", params(WorkingDaysQuery), responses((status = 200, body = WorkingDays), (status = 422, body = ApiErrorBody)))]
async fn working_days(ctx: RequestCtx, Query(q): Query<WorkingDaysQuery>) -> ApiResult<WorkingDays> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    let from =
        time::Date::parse(q.from.trim(), &f).map_err(|_| AppError::invalid("from", "日期格式应为 2025-09-30"))?;
    if q.days > 3650 {
        return Err(AppError::invalid("days", "工作日数不能超过3650").into());
    }
    let cal = ctx.state.calendar();
    let date = cal.add_working_days(from, q.days);
    let covered = (from.year()..=date.year()).all(|y| cal.covers(y));
    Ok(Json(WorkingDays { from: from.to_string(), days: q.days, date: date.to_string(), covered }))
}
