//! Applications on the workflow engine: the 待办 inbox, the application page with every
//! action, the applicant's side (submit, correct, withdraw, supply). Statistics are in
//! `workflow_stats`, messages in `inbox`.

use super::{opt, render};
use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::export::{Cell, ExportFormat, Table};
use crate::form::FormData;
use crate::layout::{FormErrors, Layout, Pager, fmt_millis, fmt_time};
use askama::Template;
use axum::extract::{Path, Query};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use domain::auth::{DataScope, Principal, perm};
use domain::clock::local;
use domain::expr::Facts;
use domain::workflow::{self as wf, Action, Actor, Deficiency, Event, Reason, Status, TaskStatus};
use store::sql::PageRequest;
use store::workflow::{ApplicationFilter, ApplicationRow, Runtime, TaskRow};

pub fn routes() -> Routes {
    Routes::default()
        .add("/tasks", Access::Perm(perm::WORKFLOW_ACT), get(tasks))
        .add("/applications", Access::Perm(perm::WORKFLOW_ACT), get(applications))
        .add("/applications/export", Access::Perm(perm::WORKFLOW_ACT), get(applications_export))
        .add("/applications/{id}", Access::Authenticated, get(application))
        .add("/applications/{id}/tasks/{no}", Access::Perm(perm::WORKFLOW_ACT), post(act))
        .add("/applications/{id}/resubmit", Access::Perm(perm::WORKFLOW_APPLY), post(resubmit))
        .add("/applications/{id}/withdraw", Access::Perm(perm::WORKFLOW_APPLY), post(withdraw))
        .add("/applications/{id}/supply", Access::Perm(perm::WORKFLOW_APPLY), post(supply))
        .add("/my/applications", Access::Perm(perm::WORKFLOW_APPLY), get(my_applications).post(submit))
        .add("/my/applications/new", Access::Perm(perm::WORKFLOW_APPLY), get(new_application))
}

/// The engine's view of a signed-in user.
pub fn actor_of(p: &Principal) -> Actor {
    Actor {
        user_id: p.user_id.clone(),
        name: p.display_name.clone(),
        department: p.department_code.clone(),
        roles: p.role_codes.clone(),
    }
}

pub(crate) fn dept_name(ctx: &RequestCtx, code: &str) -> String {
    ctx.state
        .config()
        .departments
        .iter()
        .find(|d| d.code == code)
        .map(|d| d.short_name.clone())
        .unwrap_or_else(|| code.to_string())
}

fn role_name(ctx: &RequestCtx, code: &str) -> String {
    ctx.state.config().roles.iter().find(|r| r.code == code).map(|r| r.name.clone()).unwrap_or_else(|| code.to_string())
}

pub(crate) fn def_name(ctx: &RequestCtx, id: &str) -> String {
    ctx.state.config().workflow(id).map(|d| d.name.clone()).unwrap_or_else(|| id.to_string())
}

// ---------------------------------------------------------------- 待办

pub struct TaskLine {
    pub t: TaskRow,
    pub def_name: String,
    pub deadline: String,
    pub remaining: String,
    pub urgent: bool,
}

#[derive(Template)]
#[template(path = "workflow/tasks.html")]
struct TasksPage {
    layout: Layout,
    items: Vec<TaskLine>,
    pager: Pager,
    overdue: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct TasksQuery {
    overdue: Option<String>,
    page: Option<u32>,
}

fn remaining(ctx: &RequestCtx, deadline: Option<i64>) -> (String, bool) {
    let Some(d) = deadline else { return ("—".into(), false) };
    let left = domain::clock::from_millis(d) - ctx.state.clock.now();
    if left.is_negative() {
        return (format!("已超期 {} 小时", (-left).whole_hours()), true);
    }
    if left.whole_hours() < 24 {
        (format!("剩 {} 小时", left.whole_hours()), true)
    } else {
        (format!("剩 {} 天", left.whole_days()), false)
    }
}

async fn tasks(ctx: RequestCtx, Query(q): Query<TasksQuery>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let overdue = q.overdue.is_some();
    let paged = store::workflow::my_tasks(
        &state.db,
        &p.user_id,
        p.department_code.as_deref(),
        &p.role_codes,
        overdue,
        PageRequest::new(q.page, None),
    )
    .await?;
    let pager = Pager::new(&paged, "/tasks", &[("overdue", if overdue { "1".into() } else { String::new() })]);
    let items = paged
        .items
        .into_iter()
        .map(|t| {
            let (rem, urgent) = remaining(&ctx, t.deadline_at);
            TaskLine {
                def_name: def_name(&ctx, &t.def_id),
                deadline: crate::layout::fmt_deadline(&t.deadline_at),
                remaining: rem,
                urgent,
                t,
            }
        })
        .collect();
    render(TasksPage {
        layout: Layout::new(&ctx, &state.config().city.name, "待办", "/tasks"), items, pager, overdue
    })
}

// ---------------------------------------------------------------- lists

pub struct AppLine {
    pub a: ApplicationRow,
    pub def_name: String,
    pub status: &'static str,
    pub started: String,
}

#[derive(Template)]
#[template(path = "workflow/applications.html")]
struct ApplicationsPage {
    layout: Layout,
    heading: &'static str,
    items: Vec<AppLine>,
    pager: Pager,
    status: String,
    can_submit: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct AppQuery {
    status: Option<String>,
    page: Option<u32>,
    format: Option<String>,
}

/// The applicant's own applications, or those the staff member's department works on.
fn app_filter(p: &Principal, q: &AppQuery, mine: bool) -> ApplicationFilter {
    let mut f = ApplicationFilter { status: opt(&q.status), ..Default::default() };
    if mine {
        f.applicant_id = Some(p.user_id.clone());
    } else if p.scope(perm::WORKFLOW_ACT) != Some(DataScope::All) {
        f.department = Some(p.department_code.clone().unwrap_or_else(|| "-".into()));
    }
    f
}

async fn applications_export(ctx: RequestCtx, Query(q): Query<AppQuery>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let format = ExportFormat::parse(q.format.as_deref())
        .ok_or_else(|| AppError::invalid("format", "导出格式应为 csv 或 xlsx"))?;
    let paged = store::workflow::list(&state.db, &app_filter(p, &q, false), PageRequest::all()).await?;
    let rows: Vec<Vec<Cell>> = paged
        .items
        .into_iter()
        .map(|a| {
            vec![
                Cell::from(a.title),
                def_name(&ctx, &a.def_id).into(),
                a.applicant_name.into(),
                a.status.label().into(),
                fmt_millis(&Some(a.started_at)).into(),
                fmt_millis(&a.finished_at).into(),
                a.id.into(),
            ]
        })
        .collect();
    ctx.audit(
        ctx.entry(domain::workflow::WorkflowAudit::Export, "application", "list")
            .detail(format!("导出办件 {} 条", rows.len())),
    )
    .await?;
    Ok(Table {
        title: "办件".into(),
        headers: vec!["申请", "事项", "申请人", "状态", "提交时间", "办结时间", "编号"],
        rows,
    }
    .into_response(format))
}

async fn list_page(ctx: &RequestCtx, q: AppQuery, mine: bool) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let f = app_filter(p, &q, mine);
    let path = if mine { "/my/applications" } else { "/applications" };
    let paged = store::workflow::list(&state.db, &f, PageRequest::new(q.page, None)).await?;
    let pager = Pager::new(&paged, path, &[("status", q.status.clone().unwrap_or_default())]);
    let items = paged
        .items
        .into_iter()
        .map(|a| AppLine {
            def_name: def_name(ctx, &a.def_id),
            status: a.status.label(),
            started: fmt_millis(&Some(a.started_at)),
            a,
        })
        .collect();
    render(ApplicationsPage {
        layout: Layout::new(ctx, &state.config().city.name, if mine { "我的申请" } else { "办件" }, path),
        heading: if mine { "我的申请" } else { "办件" },
        items,
        pager,
        status: q.status.unwrap_or_default(),
        can_submit: mine,
    })
}

async fn applications(ctx: RequestCtx, Query(q): Query<AppQuery>) -> PageResult {
    list_page(&ctx, q, false).await
}

async fn my_applications(ctx: RequestCtx, Query(q): Query<AppQuery>) -> PageResult {
    list_page(&ctx, q, true).await
}

// ---------------------------------------------------------------- the application page

#[derive(Clone)]
pub struct TaskView {
    pub no: u32,
    pub step: String,
    pub department: String,
    pub role: String,
    pub status: &'static str,
    pub open: bool,
    pub deadline: String,
    pub used: String,
    pub overdue: bool,
    pub note: String,
    pub can_act: bool,
    /// 行政许可法 art. 45: the procedure whose time is excluded, under way.
    pub excluded: Option<String>,
    /// Counted in working days and not yet extended (art. 42).
    pub may_extend: bool,
    /// The window's acceptance: approving it lists the materials received.
    pub check_materials: bool,
}

pub struct RecordView {
    pub at: String,
    pub by: String,
    pub action: &'static str,
    pub step: String,
    pub text: String,
    pub elapsed: String,
}

/// Who gave a notice, marked when it came after the five days of 行政许可法 art. 32(4).
pub(crate) fn late_mark(n: &domain::workflow::Notice) -> String {
    if n.late {
        format!("{}（逾期告知：自收到申请材料之日起已视为受理，补正期间不停止计时）", n.by)
    } else {
        n.by.clone()
    }
}

pub struct NoticeView {
    pub at: String,
    pub by: String,
    pub step: String,
    pub items: Vec<(String, String)>,
}

pub struct TolView {
    pub material: String,
    pub material_id: String,
    pub due: String,
    pub state: &'static str,
    pub pending: bool,
    pub commitment: String,
}

#[derive(Template)]
#[template(path = "workflow/application.html")]
struct ApplicationPage {
    layout: Layout,
    id: String,
    title: String,
    def_name: String,
    applicant: String,
    status: &'static str,
    final_: bool,
    correcting: bool,
    awaiting_supply: bool,
    outcome: Option<String>,
    handling_days: i64,
    facts: Vec<(String, String)>,
    tasks: Vec<TaskView>,
    actionable: Vec<TaskView>,
    records: Vec<RecordView>,
    notices: Vec<NoticeView>,
    tolerances: Vec<TolView>,
    reasons: Vec<Reason>,
    targets: Vec<(String, String)>,
    /// (material id, name, tolerated) for the window's acceptance checklist.
    checklist: Vec<(String, String, bool)>,
    materials: Vec<(String, String)>,
    exclusion_kinds: &'static [wf::ExclusionKind],
    extension_days: u32,
    colleagues: Vec<(String, String)>,
    is_applicant: bool,
    errors: FormErrors,
    min_due: String,
}

pub(crate) fn action_label(a: &str) -> &'static str {
    match a {
        "submit" => "提交申请",
        "approve" => "同意",
        "reject" => "不同意（驳回）",
        "return" => "退回补正（一次性告知）",
        "transfer" => "转办",
        "comment" => "意见",
        "tolerate" => "容缺受理",
        "resubmit" => "补正后重新提交",
        "withdraw" => "撤回申请",
        "deemed_approved" => "超时默认同意",
        "auto_reject" => "超时自动驳回",
        "escalate" => "超时上报",
        "overdue" => "超期提醒",
        "supply" => "补交容缺材料",
        "tolerance_overdue" => "容缺材料逾期",
        _ => "其他",
    }
}

/// May this user see this application? The applicant, staff whose department has a task in it,
/// those it was escalated or transferred to, or a city-wide role.
pub fn may_view(p: &Principal, app: &store::workflow::Application) -> bool {
    if p.user_id == app.applicant_id {
        return true;
    }
    if !p.can(perm::WORKFLOW_ACT) {
        return false;
    }
    if p.scope(perm::WORKFLOW_ACT) == Some(DataScope::All) {
        return true;
    }
    app.instance.tasks.iter().any(|t| {
        p.department_code.as_deref() == Some(t.actor.department.as_str())
            || t.escalated_to.as_ref().is_some_and(|r| p.role_codes.contains(r))
            || t.assignee.as_deref() == Some(p.user_id.as_str())
    })
}

/// Workflow ids of service items (`svc.{code}`): they are handled on the /services pages,
/// where approval issues the sealed result.
pub const SERVICE_PREFIX: &str = "svc.";

/// Who a task may be transferred to (转办): active staff of the caller's department who hold
/// the role the step asks for, so no one is offered a colleague who could not act on it.
async fn transfer_candidates(ctx: &RequestCtx, roles: &[String]) -> Result<Vec<(String, String)>, AppError> {
    let p = ctx.user()?;
    let Some(dept) = &p.department_id else { return Ok(vec![]) };
    let all_roles = store::auth::list_roles(&ctx.state.db).await?;
    let mut out: Vec<(String, String)> = vec![];
    for r in all_roles.iter().filter(|r| roles.contains(&r.code)) {
        let f = store::auth::UserFilter {
            department_id: Some(dept.clone()),
            role_id: Some(r.id.clone()),
            status: Some("active".into()),
            ..Default::default()
        };
        for u in store::auth::list_users(&ctx.state.db, &f, PageRequest::all()).await?.items {
            if u.id != p.user_id && !out.iter().any(|(id, _)| id == &u.id) {
                out.push((u.id, u.display_name));
            }
        }
    }
    Ok(out)
}

async fn load_visible(ctx: &RequestCtx, id: &str) -> Result<store::workflow::Application, AppError> {
    let p = ctx.user()?;
    let app = store::workflow::get(&ctx.state.db, &ctx.state.config(), id).await?;
    if app.def_id.starts_with(SERVICE_PREFIX) {
        return Err(AppError::Conflict {
            field: "action".into(),
            message: format!("该申请为一键申报事项，请在 /services/applications/{id} 办理"),
        });
    }
    if !may_view(p, &app) {
        return Err(ctx.forbid("application", id, "无权查看该申请", "您无权查看该申请").await);
    }
    Ok(app)
}

async fn show(ctx: &RequestCtx, app: store::workflow::Application, errors: FormErrors) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let cal = state.calendar();
    let now = state.clock.now();
    let cfg = state.config();
    let def = cfg.workflow_at(&app.def_id, app.def_version).ok_or_else(|| AppError::NotFound("流程定义".into()))?;
    let schema = def.subject.as_ref().and_then(|s| cfg.schemas.get(s));
    let actor = actor_of(p);
    let step_name = |id: &str| def.step(id).map(|s| s.name.clone()).unwrap_or_default();
    let target_name = |t: &str| {
        def.material(t)
            .map(|m| m.name.clone())
            .or_else(|| schema.and_then(|s| s.get(t)).map(|(_, f)| f.label.clone()))
            .unwrap_or_else(|| t.to_string())
    };
    let inst = &app.instance;
    let tasks: Vec<TaskView> = inst
        .tasks
        .iter()
        .map(|t| TaskView {
            no: t.no,
            step: step_name(&t.step),
            department: dept_name(ctx, &t.actor.department),
            role: role_name(ctx, &t.actor.role),
            status: t.status.label(),
            open: t.status == TaskStatus::Open,
            deadline: t.deadline.map(domain::clock::format_deadline).unwrap_or_else(|| {
                if let Some(e) = &t.excluded {
                    format!("{}中，不计时（约 {} 个工作日）", e.kind.label(), e.days)
                } else if inst.status == Status::Correcting && t.status == TaskStatus::Open {
                    "补正中，计时暂停".into()
                } else {
                    "—".into()
                }
            }),
            used: t.clock.used_label(now, &cal),
            overdue: t.overdue,
            note: match (&t.escalated_to, &t.assignee) {
                (Some(r), _) => format!("已上报{}", role_name(ctx, r)),
                (None, Some(_)) => "已转办".into(),
                _ => String::new(),
            },
            can_act: t.status == TaskStatus::Open && p.can(perm::WORKFLOW_ACT) && wf::may_act(t, &actor).is_ok(),
            excluded: t.excluded.as_ref().map(|e| format!("{}（{}）", e.kind.label(), e.note)),
            may_extend: t.clock.sla.unit == wf::SlaUnit::WorkingDays && inst.tasks.iter().all(|x| x.extended == 0),
            check_materials: def.step(&t.step).is_some_and(|s| s.check_materials),
        })
        .collect();
    let actionable: Vec<TaskView> =
        tasks.iter().filter(|t| t.can_act && inst.status == Status::Running).cloned().collect();
    let mut colleagues = vec![];
    if !actionable.is_empty() {
        let roles: Vec<String> = inst
            .tasks
            .iter()
            .filter(|t| actionable.iter().any(|a| a.no == t.no))
            .map(|t| t.actor.role.clone())
            .collect();
        colleagues = transfer_candidates(ctx, &roles).await?;
    }
    let facts = match schema {
        Some(s) => s
            .fields()
            .iter()
            .filter_map(|f| app.facts.get(&f.name).map(|v| (domain::expr::field_label(f), fact_text(f, v))))
            .collect(),
        None => vec![],
    };
    let mut targets: Vec<(String, String)> = def.materials.iter().map(|m| (m.id.clone(), m.name.clone())).collect();
    if let Some(s) = schema {
        targets.extend(s.fields().iter().map(|f| (f.name.clone(), f.label.clone())));
    }
    render(ApplicationPage {
        layout: Layout::new(
            ctx,
            &state.config().city.name,
            &app.title,
            if p.user_id == app.applicant_id { "/my/applications" } else { "/applications" },
        ),
        id: app.id.clone(),
        title: app.title.clone(),
        def_name: def.name.clone(),
        applicant: app.applicant_name.clone(),
        status: inst.status.label(),
        final_: inst.status.is_final(),
        correcting: inst.status == Status::Correcting,
        awaiting_supply: inst.awaiting_supply,
        // A refusal states its reasons and the rights of review (行政许可法 art. 38 ¶2).
        outcome: inst.outcome_reason.clone().map(|o| {
            if inst.status == Status::Rejected {
                format!("不予许可。理由：{o}。{}", domain::workflow::RIGHTS)
            } else {
                o
            }
        }),
        handling_days: inst.handling_days(now, &cal),
        facts,
        actionable,
        tasks,
        records: inst
            .records
            .iter()
            .rev()
            .map(|r| RecordView {
                at: fmt_time(r.at),
                by: r.by.clone(),
                action: action_label(&r.action),
                step: step_name(&r.step),
                text: match r.reason.as_ref().and_then(|c| cfg.reasons.iter().find(|x| &x.code == c)) {
                    Some(reason) => format!("{}：{}", reason.text, r.text),
                    None => r.text.clone(),
                },
                elapsed: r.elapsed.clone(),
            })
            .collect(),
        notices: inst
            .notices
            .iter()
            .map(|n| NoticeView {
                at: fmt_time(n.at),
                by: late_mark(n),
                step: step_name(&n.step),
                items: n.items.iter().map(|i| (target_name(&i.target), i.note.clone())).collect(),
            })
            .collect(),
        tolerances: inst
            .tolerances
            .iter()
            .map(|t| TolView {
                material: target_name(&t.material),
                material_id: t.material.clone(),
                due: t.due.to_string(),
                state: if t.fulfilled_at.is_some() {
                    "已补交"
                } else if t.overdue {
                    "逾期未交"
                } else {
                    "待补交"
                },
                pending: t.fulfilled_at.is_none(),
                commitment: t.commitment.clone(),
            })
            .collect(),
        reasons: state.config().reasons.clone(),
        // Only materials the definition marks deferrable may be tolerated (容缺), never core ones.
        materials: def.materials.iter().filter(|m| m.deferrable).map(|m| (m.id.clone(), m.name.clone())).collect(),
        // The checklist at acceptance: every material, and whether it was tolerated (容缺).
        checklist: def
            .materials
            .iter()
            .map(|m| (m.id.clone(), m.name.clone(), inst.tolerances.iter().any(|t| t.material == m.id)))
            .collect(),
        exclusion_kinds: &wf::ExclusionKind::ALL,
        extension_days: wf::EXTENSION_WORKING_DAYS,
        targets,
        colleagues,
        is_applicant: p.user_id == app.applicant_id,
        errors,
        min_due: (local(now).date() + time::Duration::days(1)).to_string(),
    })
}

pub fn fact_text(f: &domain::expr::FieldDef, v: &domain::expr::Value) -> String {
    match v {
        domain::expr::Value::Int(i) if f.money => format!("{} 元", domain::money::Money::from_fen(*i)),
        domain::expr::Value::Int(i) => i.to_string(),
        domain::expr::Value::Str(s) => f.value_name(s).to_string(),
        other => other.to_string(),
    }
}

async fn application(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let def = store::workflow::get(&ctx.state.db, &ctx.state.config(), &id).await?.def_id;
    if def.starts_with(SERVICE_PREFIX) {
        return Ok(axum::response::Redirect::to(&format!("/services/applications/{id}")).into_response());
    }
    let app = load_visible(&ctx, &id).await?;
    show(&ctx, app, FormErrors::default()).await
}

/// Runs an event in one transaction; engine refusals are shown on the page with what was sent.
async fn run_event(ctx: &RequestCtx, id: &str, event: Event, done: &str) -> PageResult {
    let state = &ctx.state;
    let now = state.clock.now();
    let cal = state.calendar();
    let rt = Runtime { cfg: &state.config(), cal: &cal };
    let mut tx = state.db.begin().await?;
    match store::workflow::handle(&mut tx, &rt, id, event, &ctx.ip, now).await {
        Ok(_) => {
            tx.commit().await?;
            if let Some(w) = &state.job_waker {
                w.notify_one();
            }
            Ok(redirect_with_flash(&format!("/applications/{id}"), done, state.secure_cookies))
        }
        Err(store::StoreError::Invalid { message, .. } | store::StoreError::Conflict { message, .. }) => {
            drop(tx);
            let mut errors = FormErrors::default();
            errors.add("action", message);
            let app = load_visible(ctx, id).await?;
            let mut r = show(ctx, app, errors).await?;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

async fn act(ctx: RequestCtx, Path((id, no)): Path<(String, u32)>, data: FormData) -> PageResult {
    let p = ctx.user()?;
    let app = load_visible(&ctx, &id).await?;
    let date = |s: &str| time::Date::parse(s, &time::macros::format_description!("[year]-[month]-[day]")).ok();
    let action = match data.get("action").as_str() {
        "approve" => Action::Approve { comment: data.get("comment"), received: data.all("received") },
        "reject" => Action::Reject { reason: data.get("reason"), text: data.get("text") },
        "return" => Action::Return {
            items: data
                .all("item")
                .into_iter()
                .map(|t| Deficiency { note: data.get(&format!("note_{t}")), target: t })
                .collect(),
        },
        "transfer" => {
            let to = data.get("to_user");
            let roles: Vec<String> =
                app.instance.tasks.iter().filter(|t| t.no == no).map(|t| t.actor.role.clone()).collect();
            let Some((_, name)) = transfer_candidates(&ctx, &roles).await?.into_iter().find(|(id, _)| *id == to) else {
                return Err(AppError::invalid("to_user", "只能转给本部门能办理该环节的工作人员").into());
            };
            Action::Transfer { to_user: to, to_name: name, note: data.get("note") }
        }
        "comment" => Action::Comment { text: data.get("text") },
        "tolerate" => match date(&data.get("due")) {
            Some(due) => Action::Tolerate {
                material: data.get("material"),
                due,
                note: data.get("note"),
                commitment: data.get("commitment"),
            },
            None => return Err(AppError::invalid("due", "请填写承诺补交日期，如 2026-12-31").into()),
        },
        "extend" => Action::Extend {
            days: data.get("days").trim().parse().unwrap_or(0),
            approver: data.get("approver"),
            reason: data.get("reason_text"),
        },
        "exclude" => match domain::workflow::ExclusionKind::parse(&data.get("kind")) {
            Some(kind) => {
                Action::Exclude { kind, days: data.get("days").trim().parse().unwrap_or(0), note: data.get("note") }
            }
            None => return Err(AppError::invalid("kind", "请选择不计入期限的程序").into()),
        },
        "resume" => Action::Resume { note: data.get("note") },
        _ => return Err(AppError::invalid("action", "未知的办理操作").into()),
    };
    let done = match &action {
        Action::Approve { .. } => "已同意，流程已流转。",
        Action::Reject { .. } => "已驳回。",
        Action::Return { .. } => "已一次性告知申请人补正，计时暂停。",
        Action::Transfer { .. } => "已转办。",
        Action::Comment { .. } => "意见已记录。",
        Action::Tolerate { .. } => "已容缺受理，流程继续；材料补齐后办结。",
        Action::Extend { .. } => "已延长办理期限，并告知申请人理由。",
        Action::Exclude { .. } => "已中止计时，并书面告知申请人所需时间。",
        Action::Resume { .. } => "已恢复计时。",
    };
    run_event(&ctx, &id, Event::Act { task: no, actor: actor_of(p), action }, done).await
}

async fn resubmit(ctx: RequestCtx, Path(id): Path<String>, data: FormData) -> PageResult {
    let p = ctx.user()?;
    run_event(
        &ctx,
        &id,
        Event::Resubmit { actor: actor_of(p), changed: data.all("changed") },
        "已重新提交，审批继续计时。",
    )
    .await
}

async fn withdraw(ctx: RequestCtx, Path(id): Path<String>, data: FormData) -> PageResult {
    let p = ctx.user()?;
    let reason = data.get("reason");
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "请说明撤回原因").into());
    }
    run_event(&ctx, &id, Event::Withdraw { actor: actor_of(p), reason }, "申请已撤回。").await
}

async fn supply(ctx: RequestCtx, Path(id): Path<String>, data: FormData) -> PageResult {
    let p = ctx.user()?;
    run_event(
        &ctx,
        &id,
        Event::SupplyMaterial { actor: actor_of(p), material: data.get("material") },
        "已补交容缺材料。",
    )
    .await
}

// ---------------------------------------------------------------- submitting

pub struct FieldInput {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub value: String,
    pub optional: bool,
    pub hint: String,
}

#[derive(Template)]
#[template(path = "workflow/new.html")]
struct NewPage {
    layout: Layout,
    defs: Vec<(String, String, usize)>,
    def_id: String,
    def_name: String,
    title: String,
    fields: Vec<FieldInput>,
    errors: FormErrors,
}

#[derive(serde::Deserialize, Default)]
pub struct NewQuery {
    def: Option<String>,
}

fn inputs(ctx: &RequestCtx, def_id: &str, data: Option<&FormData>) -> Vec<FieldInput> {
    let cfg = ctx.state.config();
    let Some(schema) = cfg.workflow(def_id).and_then(|d| d.subject.as_ref()).and_then(|s| cfg.schemas.get(s)) else {
        return vec![];
    };
    schema
        .fields()
        .iter()
        .filter(|f| !matches!(f.ty, domain::expr::Type::Series))
        .map(|f| {
            let (kind, hint) = match &f.ty {
                domain::expr::Type::Bool => ("bool", ""),
                domain::expr::Type::Int if f.money => ("money", "单位：元，可含两位小数，如 1,200,000.00"),
                domain::expr::Type::Int => ("number", ""),
                domain::expr::Type::Dec => ("text", "可含小数"),
                domain::expr::Type::Date => ("date", ""),
                _ => ("text", ""),
            };
            FieldInput {
                name: f.name.clone(),
                label: f.label.clone(),
                kind,
                value: data.map(|d| d.get(&format!("f_{}", f.name))).unwrap_or_default(),
                optional: f.optional,
                hint: hint.into(),
            }
        })
        .collect()
}

async fn new_page(
    ctx: &RequestCtx,
    def_id: String,
    title: String,
    data: Option<&FormData>,
    errors: FormErrors,
) -> PageResult {
    let state = &ctx.state;
    // Service items are applied for on their own pages (/services), prefilled from shared data.
    let defs = state
        .config()
        .workflows
        .iter()
        .filter(|d| !d.id.starts_with(SERVICE_PREFIX))
        .map(|d| (d.id.clone(), d.name.clone(), d.steps.len()))
        .collect();
    let bad = !errors.is_empty();
    let mut r = render(NewPage {
        layout: Layout::new(ctx, &state.config().city.name, "提交申请", "/my/applications"),
        defs,
        def_name: def_name(ctx, &def_id),
        fields: inputs(ctx, &def_id, data),
        def_id,
        title,
        errors,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn new_application(ctx: RequestCtx, Query(q): Query<NewQuery>) -> PageResult {
    let def = opt(&q.def).filter(|d| ctx.state.config().workflow(d).is_some()).unwrap_or_default();
    new_page(&ctx, def, String::new(), None, FormErrors::default()).await
}

async fn submit(ctx: RequestCtx, data: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let def_id = data.get("def");
    let title = data.get("title");
    let mut errors = FormErrors::default();
    let cfg = state.config();
    let Some(def) = cfg.workflow(&def_id) else {
        errors.add("def", "请选择申请事项");
        return new_page(&ctx, String::new(), title, Some(&data), errors).await;
    };
    if title.is_empty() {
        errors.add("title", "请填写申请名称，如“某某项目建设工程规划许可”");
    }
    let mut facts = Facts::new();
    if let Some(schema) = def.subject.as_ref().and_then(|s| cfg.schemas.get(s)) {
        for f in schema.fields() {
            if matches!(f.ty, domain::expr::Type::Series) {
                continue;
            }
            let raw = data.get(&format!("f_{}", f.name));
            let raw = if f.ty == domain::expr::Type::Bool && raw.is_empty() { "false".to_string() } else { raw };
            match store::facts::from_form(f, &raw) {
                Ok(Some(v)) => facts.set(&f.name, v),
                Ok(None) if f.optional => {}
                Ok(None) => errors.add(&format!("f_{}", f.name), format!("请填写“{}”", f.label)),
                Err(m) => errors.add(&format!("f_{}", f.name), m),
            }
        }
    }
    if !errors.is_empty() {
        return new_page(&ctx, def_id, title, Some(&data), errors).await;
    }
    let now = state.clock.now();
    let cal = state.calendar();
    let rt = Runtime { cfg: &state.config(), cal: &cal };
    let mut tx = state.db.begin().await?;
    let actor = actor_of(p);
    let new = store::workflow::NewApplication { def_id: &def_id, title: &title, applicant: &actor, facts };
    let app = store::workflow::start(&mut tx, &rt, new, &ctx.ip, now).await?;
    tx.commit().await?;
    if let Some(w) = &state.job_waker {
        w.notify_one();
    }
    Ok(redirect_with_flash(
        &format!("/applications/{}", app.id),
        "申请已提交，请留意办理进度和补正通知。",
        state.secure_cookies,
    ))
}
