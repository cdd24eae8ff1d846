//! Runtime of the workflow engine: instances in the database, deadlines as durable jobs,
//! notices to the inbox, every transition in the audit chain — all in the caller's transaction.

use crate::config::CityConfig;
use crate::notify::{self, To};
use crate::sql::{PageRequest, Paged, Sql, Value};
use crate::{Conn, Db, Result, StoreError, audit, jobs};
use domain::audit::AuditEntry;
use domain::calendar::WorkCalendar;
use domain::clock::{from_millis, to_millis};
use domain::expr::Facts;
use domain::workflow::WorkflowAudit;
use domain::workflow::{self as wf, Actor, Effect, Env, Event, Instance, Recipient, Timer, WorkflowDef, WorkflowError};
use sqlx::Row;
use time::OffsetDateTime;

pub const TIMER_JOB: &str = "workflow.timer";

/// What the runtime needs besides the database.
pub struct Runtime<'a> {
    pub cfg: &'a CityConfig,
    pub cal: &'a WorkCalendar,
}

#[derive(Debug, Clone)]
pub struct Application {
    pub id: String,
    pub def_id: String,
    /// The definition's version the application started under.
    pub def_version: u32,
    pub title: String,
    pub applicant_id: String,
    pub applicant_name: String,
    pub facts: Facts,
    pub instance: Instance,
    pub version: i64,
}

pub(crate) fn engine_error(e: WorkflowError) -> StoreError {
    match e {
        WorkflowError::NotAllowed(m) => StoreError::Forbidden(format!("您无权办理此环节：需要{m}")),
        other => StoreError::invalid("action", other.to_string()),
    }
}

impl Runtime<'_> {
    fn def(&self, id: &str) -> Result<&WorkflowDef> {
        self.cfg.workflow(id).ok_or_else(|| StoreError::NotFound(format!("流程“{id}”")))
    }

    fn def_at(&self, id: &str, version: u32) -> Result<&WorkflowDef> {
        self.cfg.workflow_at(id, version).ok_or_else(|| StoreError::NotFound(format!("流程“{id}”")))
    }

    pub(crate) fn env<'e>(&'e self, def: &WorkflowDef, facts: &'e Facts, now: OffsetDateTime) -> Env<'e> {
        Env {
            now,
            calendar: self.cal,
            facts,
            schema: def.subject.as_ref().and_then(|s| self.cfg.schemas.get(s)),
            reasons: &self.cfg.reasons,
        }
    }
}

pub(crate) fn timer_key(instance: &str, t: &Timer) -> String {
    match t {
        Timer::Deadline { task, timer } => format!("wf:{instance}:d{task}:{timer}"),
        Timer::Tolerance { index } => format!("wf:{instance}:tol{index}"),
    }
}

pub(crate) fn timer_payload(instance: &str, t: &Timer) -> serde_json::Value {
    match t {
        Timer::Deadline { task, timer } => serde_json::json!({"instance": instance, "task": task, "timer": timer}),
        Timer::Tolerance { index } => serde_json::json!({"instance": instance, "tolerance": index}),
    }
}

/// Carries out the engine's effects inside the transaction.
async fn carry_out(conn: &mut Conn, app: &Application, effects: &[Effect], now: OffsetDateTime) -> Result<()> {
    let link = format!("/applications/{}", app.id);
    for e in effects {
        match e {
            Effect::Schedule { timer, at } => {
                jobs::enqueue(
                    conn,
                    now,
                    TIMER_JOB,
                    &timer_payload(&app.id, timer),
                    *at,
                    Some(&timer_key(&app.id, timer)),
                )
                .await?;
            }
            Effect::Cancel { timer } => {
                jobs::cancel(conn, now, &timer_key(&app.id, timer)).await?;
            }
            Effect::Notify { to, text } => {
                let to = match to {
                    Recipient::Role { department, role } => {
                        To::Role { department: department.clone(), role: role.clone() }
                    }
                    Recipient::Applicant => To::User(app.applicant_id.clone()),
                    Recipient::User(u) => To::User(u.clone()),
                };
                notify::send(conn, now, &to, &link, &format!("【{}】{text}", app.title)).await?;
            }
            Effect::Finished { .. } => {}
        }
    }
    Ok(())
}

/// The `wf_tasks` rows of an instance.
pub(crate) fn task_rows(def: &WorkflowDef, inst: &Instance) -> Vec<Vec<Value>> {
    inst.tasks
        .iter()
        .map(|t| {
            vec![
                Value::from(&inst.id),
                Value::Int(t.no as i64),
                Value::from(&t.step),
                Value::from(def.step(&t.step).map(|s| s.name.clone()).unwrap_or_default()),
                Value::from(&t.actor.department),
                Value::from(&t.actor.role),
                Value::from(t.assignee.clone()),
                Value::from(t.escalated_to.clone()),
                Value::from(t.status.as_str()),
                Value::Int(to_millis(t.opened_at)),
                Value::from(t.deadline.map(to_millis)),
                Value::from(t.decided_at.map(to_millis)),
                Value::Int(i64::from(t.overdue)),
            ]
        })
        .collect()
}

pub(crate) const TASK_INSERT: &str =
    "INSERT INTO wf_tasks (instance_id, task_no, step, step_name, department, role, assignee,
    escalated_to, status, opened_at, deadline_at, decided_at, overdue) VALUES";

/// Keeps `wf_tasks` in step with the instance.
async fn sync_tasks(conn: &mut Conn, def: &WorkflowDef, inst: &Instance) -> Result<()> {
    sqlx::query("DELETE FROM wf_tasks WHERE instance_id = $1").bind(&inst.id).execute(&mut *conn).await?;
    crate::sql::insert_rows(conn, TASK_INSERT, "", &task_rows(def, inst)).await?;
    Ok(())
}

pub(crate) fn state_json(inst: &Instance) -> Result<String> {
    serde_json::to_string(inst).map_err(|e| StoreError::Other(format!("序列化流程状态失败：{e}")))
}

/// What an applicant submits.
pub struct NewApplication<'a> {
    pub def_id: &'a str,
    pub title: &'a str,
    pub applicant: &'a Actor,
    pub facts: Facts,
}

/// Starts an application of workflow `def_id` for `applicant`.
pub async fn start(
    conn: &mut Conn,
    rt: &Runtime<'_>,
    new: NewApplication<'_>,
    ip: &str,
    now: OffsetDateTime,
) -> Result<Application> {
    let NewApplication { def_id, title, applicant, facts } = new;
    let def = rt.def(def_id)?;
    let id = crate::new_id();
    let (inst, effects) = wf::start(def, &id, applicant, &rt.env(def, &facts, now)).map_err(engine_error)?;
    let app = Application {
        id: id.clone(),
        def_id: def.id.clone(),
        def_version: def.version,
        title: title.to_string(),
        applicant_id: applicant.user_id.clone(),
        applicant_name: applicant.name.clone(),
        facts,
        instance: inst,
        version: 1,
    };
    sqlx::query(
        "INSERT INTO wf_instances (id, def_id, def_version, title, applicant_id, applicant_name, status, facts, state, version,
            started_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10)",
    )
    .bind(&id)
    .bind(&def.id)
    .bind(def.version as i64)
    .bind(title)
    .bind(&applicant.user_id)
    .bind(&applicant.name)
    .bind(app.instance.status.as_str())
    .bind(crate::facts::to_json(&app.facts).to_string())
    .bind(state_json(&app.instance)?)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    sync_tasks(conn, def, &app.instance).await?;
    carry_out(conn, &app, &effects, now).await?;
    let e = AuditEntry::new(domain::workflow::WorkflowAudit::Start, "application", &id)
        .by(&applicant.user_id, &applicant.name)
        .from_ip(ip)
        .detail(format!("{}：{title}", def.name));
    audit::append(conn, now, e).await?;
    Ok(app)
}

pub async fn load(conn: &mut Conn, cfg: &CityConfig, id: &str) -> Result<Application> {
    let row = sqlx::query("SELECT * FROM wf_instances WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound("申请".into()))?;
    from_row(cfg, &row)
}

pub async fn get(db: &Db, cfg: &CityConfig, id: &str) -> Result<Application> {
    let row = sqlx::query("SELECT * FROM wf_instances WHERE id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::NotFound("申请".into()))?;
    from_row(cfg, &row)
}

fn from_row(cfg: &CityConfig, row: &sqlx::any::AnyRow) -> Result<Application> {
    let def_id: String = row.try_get("def_id")?;
    let def_version = u32::try_from(row.try_get::<i64, _>("def_version")?).unwrap_or(1);
    let state: String = row.try_get("state")?;
    let instance: Instance =
        serde_json::from_str(&state).map_err(|e| StoreError::Other(format!("流程状态损坏：{e}")))?;
    let facts_text: String = row.try_get("facts")?;
    let facts_json: serde_json::Value = serde_json::from_str(&facts_text).unwrap_or_default();
    let schema =
        cfg.workflow_at(&def_id, def_version).and_then(|d| d.subject.as_ref()).and_then(|s| cfg.schemas.get(s));
    let facts = match schema {
        Some(s) => crate::facts::from_json(s, &facts_json).unwrap_or_default(),
        None => Facts::new(),
    };
    Ok(Application {
        id: row.try_get("id")?,
        def_id,
        def_version,
        title: row.try_get("title")?,
        applicant_id: row.try_get("applicant_id")?,
        applicant_name: row.try_get("applicant_name")?,
        facts,
        instance,
        version: row.try_get("version")?,
    })
}

fn action_code(e: &Event) -> WorkflowAudit {
    match e {
        Event::Act { action, .. } => match action {
            wf::Action::Approve { .. } => WorkflowAudit::Approve,
            wf::Action::Reject { .. } => WorkflowAudit::Reject,
            wf::Action::Return { .. } => WorkflowAudit::Return,
            wf::Action::Transfer { .. } => WorkflowAudit::Transfer,
            wf::Action::Comment { .. } => WorkflowAudit::Comment,
            wf::Action::Tolerate { .. } => WorkflowAudit::Tolerate,
            wf::Action::Extend { .. } => WorkflowAudit::Extend,
            wf::Action::Exclude { .. } => WorkflowAudit::Exclude,
            wf::Action::Resume { .. } => WorkflowAudit::Resume,
        },
        Event::Resubmit { .. } => WorkflowAudit::Resubmit,
        Event::Withdraw { .. } => WorkflowAudit::Withdraw,
        Event::Timeout { .. } => WorkflowAudit::Timeout,
        Event::SupplyMaterial { .. } => WorkflowAudit::Supply,
        Event::ToleranceDue { .. } => WorkflowAudit::ToleranceDue,
    }
}

/// Applies an event to an application and stores the result with its effects. A refusal by
/// the engine changes nothing.
pub async fn handle(
    conn: &mut Conn,
    rt: &Runtime<'_>,
    id: &str,
    event: Event,
    ip: &str,
    now: OffsetDateTime,
) -> Result<Application> {
    let mut app = load(conn, rt.cfg, id).await?;
    let def = rt.def_at(&app.def_id, app.def_version)?;
    let before = app.instance.records.len();
    let (inst, effects) = wf::apply(def, &app.instance, &event, &rt.env(def, &app.facts, now)).map_err(engine_error)?;
    if inst == app.instance && effects.is_empty() {
        return Ok(app);
    }
    let r = sqlx::query(
        "UPDATE wf_instances SET status = $1, state = $2, version = version + 1, updated_at = $3, finished_at = $4
         WHERE id = $5 AND version = $6",
    )
    .bind(inst.status.as_str())
    .bind(state_json(&inst)?)
    .bind(to_millis(now))
    .bind(inst.finished_at.map(to_millis))
    .bind(id)
    .bind(app.version)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::conflict("version", "该申请刚被他人更新，请刷新后重试"));
    }
    app.instance = inst;
    app.version += 1;
    sync_tasks(conn, def, &app.instance).await?;
    carry_out(conn, &app, &effects, now).await?;
    // One audit record per transition the engine recorded.
    for rec in &app.instance.records[before..] {
        let step = def.step(&rec.step).map(|s| s.name.clone()).unwrap_or_default();
        let mut detail = format!(
            "{}{}{}",
            if step.is_empty() { String::new() } else { format!("【{step}】") },
            rec.action,
            if rec.text.is_empty() { String::new() } else { format!("：{}", rec.text) }
        );
        if let Some(r) = &rec.reason {
            detail.push_str(&format!("（理由代码 {r}）"));
        }
        if !rec.elapsed.is_empty() {
            detail.push_str(&format!("，已用时 {}", rec.elapsed));
        }
        let e =
            AuditEntry::new(WorkflowAudit::of_step(&rec.action).unwrap_or(WorkflowAudit::Comment), "application", id)
                .by(&rec.by_id, &rec.by)
                .from_ip(ip)
                .detail(detail);
        audit::append(conn, now, e).await?;
    }
    if app.instance.records.len() == before {
        let e = AuditEntry::new(action_code(&event), "application", id).from_ip(ip);
        audit::append(conn, now, e).await?;
    }
    Ok(app)
}

/// The job handler's work: a deadline or tolerance timer fired.
pub async fn fire(conn: &mut Conn, rt: &Runtime<'_>, payload: &serde_json::Value, now: OffsetDateTime) -> Result<()> {
    let id = payload["instance"].as_str().ok_or_else(|| StoreError::Other("定时任务缺少 instance".into()))?;
    let event = if let Some(i) = payload.get("tolerance").and_then(|v| v.as_u64()) {
        Event::ToleranceDue { index: i as usize }
    } else {
        let task = payload["task"].as_u64().ok_or_else(|| StoreError::Other("定时任务缺少 task".into()))? as u32;
        let timer = payload["timer"].as_u64().ok_or_else(|| StoreError::Other("定时任务缺少 timer".into()))? as u32;
        Event::Timeout { task, timer }
    };
    handle(conn, rt, id, event, "", now).await.map(|_| ())
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct TaskRow {
    pub instance_id: String,
    pub task_no: i64,
    pub step_name: String,
    pub department: String,
    pub role: String,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub status: domain::workflow::TaskStatus,
    pub opened_at: i64,
    pub deadline_at: Option<i64>,
    pub overdue: i64,
    pub title: String,
    pub applicant_name: String,
    pub def_id: String,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub app_status: domain::workflow::Status,
}

/// Open tasks a user may act on: their department and role, escalated to one of their roles,
/// or transferred to them.
pub async fn my_tasks(
    db: &Db,
    user_id: &str,
    department: Option<&str>,
    roles: &[String],
    overdue_only: bool,
    page: PageRequest,
) -> Result<Paged<TaskRow>> {
    let select = "SELECT t.instance_id, t.task_no, t.step_name, t.department, t.role, t.status, t.opened_at, t.deadline_at, t.overdue,
        i.title, i.applicant_name, i.def_id, i.status AS app_status";
    let from = "FROM wf_tasks t JOIN wf_instances i ON i.id = t.instance_id";
    let filter = |q: &mut Sql| {
        q.push(" WHERE t.status = 'open' AND (t.assignee = ").bind(user_id);
        if !roles.is_empty() {
            let list = |q: &mut Sql| {
                for (i, r) in roles.iter().enumerate() {
                    if i > 0 {
                        q.push(", ");
                    }
                    q.bind(r.clone());
                }
            };
            if let Some(d) = department {
                q.push(" OR (t.assignee IS NULL AND t.department = ").bind(d).push(" AND t.role IN (");
                list(q);
                q.push("))");
            }
            q.push(" OR t.escalated_to IN (");
            list(q);
            q.push(")");
        }
        q.push(")");
        if overdue_only {
            q.push(" AND t.overdue = 1");
        }
    };
    crate::sql::paged(
        db,
        select,
        from,
        filter,
        "CASE WHEN t.deadline_at IS NULL THEN 1 ELSE 0 END, t.deadline_at, t.opened_at",
        page,
    )
    .await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ApplicationRow {
    pub id: String,
    pub def_id: String,
    pub title: String,
    pub applicant_name: String,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub status: domain::workflow::Status,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ApplicationFilter {
    pub applicant_id: Option<String>,
    /// Applications in which this department has (had) a task.
    pub department: Option<String>,
    pub status: Option<String>,
    pub def_id: Option<String>,
}

pub async fn list(db: &Db, f: &ApplicationFilter, page: PageRequest) -> Result<Paged<ApplicationRow>> {
    let filter = |q: &mut Sql| {
        q.push(" WHERE 1 = 1");
        if let Some(a) = &f.applicant_id {
            q.push(" AND i.applicant_id = ").bind(a.clone());
        }
        if let Some(d) = &f.department {
            q.push(" AND i.id IN (SELECT instance_id FROM wf_tasks WHERE department = ").bind(d.clone()).push(")");
        }
        if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
            q.push(" AND i.status = ").bind(s);
        }
        if let Some(d) = f.def_id.as_deref().filter(|s| !s.is_empty()) {
            q.push(" AND i.def_id = ").bind(d);
        }
    };
    let select = "SELECT i.id, i.def_id, i.title, i.applicant_name, i.status, i.started_at, i.finished_at";
    crate::sql::paged(db, select, "FROM wf_instances i", filter, "i.started_at DESC", page).await
}

/// Instances started in `[from, to)`, for statistics (from the replica when there is one).
pub async fn instances_between(db: &Db, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<Instance>> {
    let rows = sqlx::query("SELECT state FROM wf_instances WHERE started_at >= $1 AND started_at < $2")
        .bind(to_millis(from))
        .bind(to_millis(to))
        .fetch_all(db.reports())
        .await?;
    rows.iter()
        .map(|r| {
            let s: String = r.try_get(0)?;
            serde_json::from_str(&s).map_err(|e| StoreError::Other(format!("流程状态损坏：{e}")))
        })
        .collect()
}

/// When the application was last touched (pages show it).
pub async fn updated_at(db: &Db, id: &str) -> Result<Option<OffsetDateTime>> {
    let t: Option<i64> = sqlx::query_scalar("SELECT updated_at FROM wf_instances WHERE id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await?;
    Ok(t.map(from_millis))
}
