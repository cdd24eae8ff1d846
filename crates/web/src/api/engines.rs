//! API of the engines: applications and tasks, alerts, score events.

use crate::access::{Access, RequestCtx, Routes};
use crate::error::{ApiErrorBody, ApiResult, AppError};
use axum::Json;
use axum::extract::{Path, Query};
use domain::auth::perm;
use domain::workflow::{Action, Deficiency, Event};
use serde::{Deserialize, Serialize};
use store::alerts::AlertRow;
use store::sql::PageRequest;
use store::workflow::{Runtime, TaskRow};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::default()
        .api(Access::Perm(perm::WORKFLOW_ACT), routes!(tasks))
        .api(Access::Perm(perm::WORKFLOW_APPLY), routes!(submit))
        .api(Access::Authenticated, routes!(application))
        .api(Access::Perm(perm::WORKFLOW_ACT), routes!(act))
        .api(Access::Perm(perm::ALERTS_VIEW), routes!(alerts))
        .api(Access::Perm(perm::ALERTS_RUN), routes!(evaluate))
        .api(Access::Perm(perm::SCORES_RECORD), routes!(score_event))
        .api(Access::Perm(perm::SCORES_VIEW), routes!(scores))
}

#[derive(Serialize, ToSchema)]
pub struct TaskPage {
    items: Vec<TaskRow>,
    total: i64,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct TaskQuery {
    /// Only overdue tasks.
    overdue: Option<bool>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// Open tasks the caller may act on (待办).
#[utoipa::path(get, path = "/api/v1/tasks", params(TaskQuery), responses((status = 200, body = TaskPage)))]
pub async fn tasks(ctx: RequestCtx, Query(q): Query<TaskQuery>) -> ApiResult<TaskPage> {
    let p = ctx.user()?;
    let page = store::workflow::my_tasks(
        &ctx.state.db,
        &p.user_id,
        p.department_code.as_deref(),
        &p.role_codes,
        q.overdue.unwrap_or(false),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(TaskPage { items: page.items, total: page.total }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewApplication {
    /// Workflow id, e.g. `demo_joint_review`.
    def: String,
    title: String,
    /// Facts by the workflow subject's schema (money in fen, dates `YYYY-MM-DD`).
    #[schema(value_type = Object)]
    facts: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct TaskView {
    no: u32,
    step: String,
    department: String,
    role: String,
    status: String,
    /// RFC 3339 UTC.
    deadline: Option<String>,
    overdue: bool,
    used: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecordView {
    at: String,
    by: String,
    action: String,
    step: String,
    reason: Option<String>,
    text: String,
    elapsed: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationView {
    id: String,
    def_id: String,
    title: String,
    applicant_name: String,
    /// running | correcting | approved | rejected | withdrawn
    status: String,
    outcome_reason: Option<String>,
    handling_days: i64,
    tasks: Vec<TaskView>,
    records: Vec<RecordView>,
}

fn view(ctx: &RequestCtx, app: &store::workflow::Application) -> ApplicationView {
    let cal = ctx.state.calendar();
    let now = ctx.state.clock.now();
    let i = &app.instance;
    ApplicationView {
        id: app.id.clone(),
        def_id: app.def_id.clone(),
        title: app.title.clone(),
        applicant_name: app.applicant_name.clone(),
        status: i.status.as_str().into(),
        outcome_reason: i.outcome_reason.clone(),
        handling_days: i.handling_days(now, &cal),
        tasks: i
            .tasks
            .iter()
            .map(|t| TaskView {
                no: t.no,
                step: t.step.clone(),
                department: t.actor.department.clone(),
                role: t.actor.role.clone(),
                status: t.status.as_str().into(),
                deadline: t.deadline.map(domain::clock::format_utc_millis),
                overdue: t.overdue,
                used: t.clock.used_label(now, &cal),
            })
            .collect(),
        records: i
            .records
            .iter()
            .map(|r| RecordView {
                at: domain::clock::format_utc_millis(r.at),
                by: r.by.clone(),
                action: r.action.clone(),
                step: r.step.clone(),
                reason: r.reason.clone(),
                text: r.text.clone(),
                elapsed: r.elapsed.clone(),
            })
            .collect(),
    }
}

/// Submits an application on a workflow.
#[utoipa::path(post, path = "/api/v1/applications", request_body = NewApplication,
    responses((status = 200, body = ApplicationView), (status = 422, body = ApiErrorBody)))]
pub async fn submit(ctx: RequestCtx, Json(req): Json<NewApplication>) -> ApiResult<ApplicationView> {
    let state = &ctx.state;
    let p = ctx.user()?;
    let cfg = state.config();
    let def = cfg.workflow(&req.def).ok_or_else(|| AppError::invalid("def", format!("没有流程“{}”", req.def)))?;
    if req.title.trim().is_empty() {
        return Err(AppError::invalid("title", "请填写申请名称").into());
    }
    let facts = match def.subject.as_ref().and_then(|s| cfg.schemas.get(s)) {
        Some(schema) => {
            store::facts::from_json(schema, &req.facts).map_err(|(f, m)| AppError::invalid(&format!("facts.{f}"), m))?
        }
        None => domain::expr::Facts::new(),
    };
    let cal = state.calendar();
    let rt = Runtime { cfg: &state.config(), cal: &cal };
    let actor = crate::pages::workflow::actor_of(p);
    let mut tx = state.db.begin().await?;
    let new = store::workflow::NewApplication { def_id: &def.id, title: req.title.trim(), applicant: &actor, facts };
    let app = store::workflow::start(&mut tx, &rt, new, &ctx.ip, state.clock.now()).await?;
    tx.commit().await?;
    Ok(Json(view(&ctx, &app)))
}

/// One application, if the caller may see it.
#[utoipa::path(get, path = "/api/v1/applications/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ApplicationView), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn application(ctx: RequestCtx, Path(id): Path<String>) -> ApiResult<ApplicationView> {
    let p = ctx.user()?;
    let app = store::workflow::get(&ctx.state.db, &ctx.state.config(), &id).await?;
    if !crate::pages::workflow::may_view(p, &app) {
        return Err(AppError::Forbidden("您无权查看该申请".into()).into());
    }
    Ok(Json(view(&ctx, &app)))
}

#[derive(Deserialize, ToSchema)]
pub struct ItemInput {
    target: String,
    note: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ActionInput {
    /// approve | reject | return | transfer | comment | tolerate
    action: String,
    #[serde(default)]
    comment: String,
    /// Material ids received (approve, at a step that checks materials: the window's 受理).
    #[serde(default)]
    received: Vec<String>,
    /// Reason code from the catalog (reject).
    #[serde(default)]
    reason: String,
    #[serde(default)]
    text: String,
    /// Deficiencies (return).
    #[serde(default)]
    items: Vec<ItemInput>,
    /// User id (transfer).
    #[serde(default)]
    to_user: String,
    /// Material id (tolerate).
    #[serde(default)]
    material: String,
    /// `YYYY-MM-DD` (tolerate).
    #[serde(default)]
    due: String,
    /// The applicant's written commitment (tolerate: 容缺承诺书).
    #[serde(default)]
    commitment: String,
    /// Working days (extend: at most 10, 行政许可法 art. 42; exclude: the time the procedure
    /// needs, art. 45).
    #[serde(default)]
    days: u32,
    /// The head of the organ who approved (extend).
    #[serde(default)]
    approver: String,
    /// hearing | bidding | auction | inspection | testing | quarantine | appraisal |
    /// expert_review (exclude).
    #[serde(default)]
    kind: String,
}

/// Acts on a task: approve, reject (with a catalog reason), return for correction, transfer,
/// comment, tolerate (容缺, with the applicant's commitment), extend (行政许可法 art. 42),
/// exclude a hearing, inspection … from the limit and resume (art. 45).
#[utoipa::path(post, path = "/api/v1/applications/{id}/tasks/{no}/actions", request_body = ActionInput,
    params(("id" = String, Path), ("no" = u32, Path)),
    responses((status = 200, body = ApplicationView), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn act(
    ctx: RequestCtx,
    Path((id, no)): Path<(String, u32)>,
    Json(a): Json<ActionInput>,
) -> ApiResult<ApplicationView> {
    let state = &ctx.state;
    let p = ctx.user()?;
    let action = match a.action.as_str() {
        "approve" => Action::Approve { comment: a.comment, received: a.received },
        "reject" => Action::Reject { reason: a.reason, text: a.text },
        "return" => Action::Return {
            items: a.items.into_iter().map(|i| Deficiency { target: i.target, note: i.note }).collect(),
        },
        "transfer" => {
            let name = store::auth::get_user(&state.db, &a.to_user).await.map(|u| u.display_name).unwrap_or_default();
            Action::Transfer { to_user: a.to_user, to_name: name, note: a.text }
        }
        "comment" => Action::Comment { text: a.text },
        "tolerate" => {
            let due = time::Date::parse(&a.due, &time::macros::format_description!("[year]-[month]-[day]"))
                .map_err(|_| AppError::invalid("due", "日期格式应为 2026-12-31"))?;
            Action::Tolerate { material: a.material, due, note: a.text, commitment: a.commitment }
        }
        "extend" => Action::Extend { days: a.days, approver: a.approver, reason: a.text },
        "exclude" => {
            let kind = domain::workflow::ExclusionKind::parse(&a.kind)
                .ok_or_else(|| AppError::invalid("kind", "请选择听证、招标、拍卖、检验、检测、检疫、鉴定或专家评审"))?;
            Action::Exclude { kind, days: a.days, note: a.text }
        }
        "resume" => Action::Resume { note: a.text },
        other => return Err(AppError::invalid("action", format!("未知操作“{other}”")).into()),
    };
    let cal = state.calendar();
    let rt = Runtime { cfg: &state.config(), cal: &cal };
    let mut tx = state.db.begin().await?;
    let event = Event::Act { task: no, actor: crate::pages::workflow::actor_of(p), action };
    let app = store::workflow::handle(&mut tx, &rt, &id, event, &ctx.ip, state.clock.now()).await?;
    tx.commit().await?;
    if let Some(w) = &state.job_waker {
        w.notify_one();
    }
    Ok(Json(view(&ctx, &app)))
}

#[derive(Serialize, ToSchema)]
pub struct AlertPage {
    items: Vec<AlertRow>,
    total: i64,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct AlertQuery {
    /// red | orange | yellow
    level: Option<String>,
    /// open | acknowledged | disposed | verified | escalated | closed
    status: Option<String>,
    indicator: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// Alerts within the caller's scope (未销号 unless a status is asked for).
#[utoipa::path(get, path = "/api/v1/alerts", params(AlertQuery), responses((status = 200, body = AlertPage)))]
pub async fn alerts(ctx: RequestCtx, Query(q): Query<AlertQuery>) -> ApiResult<AlertPage> {
    let p = ctx.user()?;
    let scope = store::org::row_scope(&ctx.state.db, p, perm::ALERTS_VIEW).await?;
    let f =
        store::alerts::AlertFilter { level: q.level, status: q.status, indicator: q.indicator, q: None, closed: false };
    let page = store::alerts::list(&ctx.state.db, &scope, &f, PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(AlertPage { items: page.items, total: page.total }))
}

#[derive(Deserialize, ToSchema)]
pub struct EvaluateInput {
    /// e.g. `employer`
    subject_type: String,
    /// e.g. the employer's 统一社会信用代码
    subject_id: String,
}

/// New facts about one subject: evaluates its indicators now (the nightly run covers all).
#[utoipa::path(post, path = "/api/v1/alerts/evaluate", request_body = EvaluateInput,
    responses((status = 200, body = store::alerts::RunReport), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn evaluate(ctx: RequestCtx, Json(e): Json<EvaluateInput>) -> ApiResult<store::alerts::RunReport> {
    let state = &ctx.state;
    let p = ctx.user()?;
    let id = e.subject_id.trim();
    // The caller may only trigger subjects inside its own scope.
    let scope = store::org::row_scope(&state.db, p, perm::ALERTS_RUN).await?;
    if e.subject_type == "employer" {
        store::org::enterprise_by_uscc(&state.db, &scope, id).await?;
    }
    let now = state.clock.now();
    let cal = state.calendar();
    let mut tx = state.db.begin().await?;
    let source = crate::case::subject_source(&e.subject_type)
        .ok_or_else(|| AppError::invalid("subject_type", format!("没有名为“{}”的对象类型", e.subject_type)))?;
    let r = store::alerts::run_for_subject(&mut tx, &state.config(), &cal, source, id, now).await?;
    tx.commit().await?;
    Ok(Json(r))
}

#[derive(Deserialize, ToSchema)]
pub struct ScoreEventInput {
    /// e.g. `person`
    subject_type: String,
    subject_id: String,
    /// An event kind the score definitions name, e.g. `missed_check_in`.
    kind: String,
    /// RFC 3339; now when absent.
    at: Option<String>,
    #[serde(default)]
    note: String,
}

#[derive(Serialize, ToSchema)]
pub struct ScoreView {
    score: String,
    points: u32,
    /// green | yellow | red
    color: String,
    measures: Vec<String>,
}

/// Records an event (missed check-in, alarm …) and returns the subject's scores.
#[utoipa::path(post, path = "/api/v1/score-events", request_body = ScoreEventInput,
    responses((status = 200, body = Vec<ScoreView>), (status = 422, body = ApiErrorBody)))]
pub async fn score_event(ctx: RequestCtx, Json(e): Json<ScoreEventInput>) -> ApiResult<Vec<ScoreView>> {
    let state = &ctx.state;
    let p = ctx.user()?;
    let now = state.clock.now();
    let at = match &e.at {
        Some(s) => time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map_err(|_| AppError::invalid("at", "时间应为 RFC 3339 格式，如 2026-11-27T08:00:00+08:00"))?,
        None => now,
    };
    if e.subject_id.trim().is_empty() {
        return Err(AppError::invalid("subject_id", "请提供对象标识").into());
    }
    let mut tx = state.db.begin().await?;
    let ev = store::scores::NewEvent {
        subject_type: &e.subject_type,
        subject_id: e.subject_id.trim(),
        kind: &e.kind,
        at,
        source: &p.login,
        note: &e.note,
    };
    let scores = store::scores::record(&mut tx, &state.config(), ev, (&p.user_id, &p.display_name), now).await?;
    tx.commit().await?;
    Ok(Json(
        scores
            .into_iter()
            .map(|(id, s)| ScoreView {
                score: id,
                points: s.points,
                color: s.color.as_str().into(),
                measures: s.measures,
            })
            .collect(),
    ))
}

/// A subject's scores now.
#[utoipa::path(get, path = "/api/v1/scores/{subject_type}/{subject_id}", params(("subject_type" = String, Path), ("subject_id" = String, Path)),
    responses((status = 200, body = Vec<ScoreView>), (status = 403, body = ApiErrorBody)))]
pub async fn scores(ctx: RequestCtx, Path((t, id)): Path<(String, String)>) -> ApiResult<Vec<ScoreView>> {
    let state = &ctx.state;
    crate::pages::scores::ensure_visible(&ctx, &t, &id).await?;
    ctx.audit(ctx.entry(domain::audit::CoreAudit::ScoreView, &t, &id).detail("接口查询评分")).await?;
    let list = store::scores::of_subject(&state.db, &state.config(), &t, &id, state.clock.now()).await?;
    Ok(Json(
        list.into_iter()
            .map(|(d, s, _)| ScoreView {
                score: d.id,
                points: s.points,
                color: s.color.as_str().into(),
                measures: s.measures,
            })
            .collect(),
    ))
}
