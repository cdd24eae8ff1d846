//! Runtime of the warning rules: evaluate every indicator over every subject, keep one open
//! alert per subject and indicator, notify who the indicator names, and carry the lifecycle.

use crate::config::CityConfig;
use crate::notify::{self, To};
use crate::org::RowScope;
use crate::sql::{PageRequest, Paged, Sql, like_escape};
use crate::{Conn, Db, Result, StoreError, audit, jobs, new_id};
use domain::audit::AuditEntry;
use domain::auth::ScopeKind;
use domain::calendar::WorkCalendar;
use domain::clock::{local, to_millis};
use domain::expr::{Batch, EvalContext, Schema};
use domain::rules::AlertAudit;
use domain::rules::{Alert, AlertAction, AlertStatus, DocKind, Indicator, Level, NotifySpec, Observation, observe};
use sqlx::Row;
use std::collections::HashMap;
use time::OffsetDateTime;

pub const DEADLINE_JOB: &str = "alerts.deadline";
pub const EVALUATE_JOB: &str = "alerts.evaluate";

/// A subject as alerts record it: who it is and where (for scopes and notices).
#[derive(Debug, Clone)]
pub struct Subject {
    pub id: String,
    pub name: String,
    pub division_code: Option<String>,
    pub grid_id: Option<String>,
}

/// Which subjects to load: all of them (from the readers), or one (from the caller's
/// transaction, so facts it has just written count).
pub enum Subjects<'a> {
    All(&'a Db),
    One(&'a mut Conn, &'a str),
}

/// Where the facts of one subject type come from. Each case provides the sources of the types
/// it declares (`config/schemas/<type>.toml`); the engine calls them and knows no case.
pub trait SubjectSource: Sync {
    /// The schema (subject type) it loads.
    fn subject_type(&self) -> &'static str;
    /// The facts the schema declares for the subjects `which` names, in one batch, with who
    /// and where each subject is.
    fn load<'a>(
        &'a self,
        which: Subjects<'a>,
        schema: &'a Schema,
        cfg: &'a CityConfig,
        cal: &'a WorkCalendar,
        today: time::Date,
    ) -> SourceFuture<'a>;

    /// To whom documents about a subject are addressed; `None`: the subject itself.
    fn addressee<'a>(&'a self, _conn: &'a mut Conn, _subject_id: &'a str) -> AddresseeFuture<'a> {
        Box::pin(async { Ok(None) })
    }
}

pub type SourceFuture<'a> = std::pin::Pin<Box<dyn Future<Output = Result<(Batch, Vec<Subject>)>> + Send + 'a>>;

fn source<'s>(sources: &[&'s dyn SubjectSource], subject_type: &str) -> Option<&'s dyn SubjectSource> {
    sources.iter().copied().find(|s| s.subject_type() == subject_type)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RunReport {
    pub subjects: u64,
    pub indicators: u64,
    pub opened: u64,
    pub changed: u64,
    pub cleared: u64,
}

struct Open {
    id: String,
    alert: Alert,
}

async fn open_alerts(conn: &mut Conn, indicator: &str) -> Result<HashMap<String, Open>> {
    let rows = sqlx::query("SELECT id, subject_id, state FROM alerts WHERE indicator = $1 AND status <> 'closed'")
        .bind(indicator)
        .fetch_all(&mut *conn)
        .await?;
    let mut m = HashMap::new();
    for r in rows {
        let state: String = r.try_get(2)?;
        let alert: Alert = serde_json::from_str(&state).map_err(|e| StoreError::Other(format!("预警状态损坏：{e}")))?;
        m.insert(r.try_get(1)?, Open { id: r.try_get(0)?, alert });
    }
    Ok(m)
}

fn steps_json(steps: &[domain::expr::Step]) -> String {
    serde_json::Value::Array(
        steps
            .iter()
            .map(|s| serde_json::json!({"text": s.text, "value": s.value.to_string(), "fact": s.fact}))
            .collect(),
    )
    .to_string()
}

fn state_json(a: &Alert) -> Result<String> {
    serde_json::to_string(a).map_err(|e| StoreError::Other(e.to_string()))
}

/// Users with `role` whose `scope` of that kind contains the subject.
async fn recipients(conn: &mut Conn, n: &NotifySpec, s: &Subject) -> Result<Vec<String>> {
    let (role, scope) = (n.role.as_str(), n.scope);
    let rows = sqlx::query(
        "SELECT u.id, u.division_code, u.grid_id, d.division_code AS dept_division, d.code AS dept_code FROM users u
         JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
         LEFT JOIN departments d ON d.id = u.department_id
         WHERE r.code = $1 AND u.status = 'active'",
    )
    .bind(role)
    .fetch_all(&mut *conn)
    .await?;
    let within = |prefix: Option<String>| {
        let p = prefix.and_then(|c| domain::DivisionCode::parse(&c).ok()).map(|c| c.scope_prefix().to_string());
        matches!((p, &s.division_code), (Some(p), Some(d)) if d.starts_with(&p))
    };
    let mut out = vec![];
    for r in rows {
        if n.department.is_some() && r.try_get::<Option<String>, _>("dept_code")? != n.department {
            continue;
        }
        let ok = match scope {
            ScopeKind::All => true,
            ScopeKind::Grid => s.grid_id.is_some() && r.try_get::<Option<String>, _>("grid_id")? == s.grid_id,
            ScopeKind::Division => within(r.try_get("division_code")?),
            ScopeKind::Department => within(r.try_get("dept_division")?),
            ScopeKind::Own => false,
        };
        if ok {
            out.push(r.try_get("id")?);
        }
    }
    Ok(out)
}

async fn tell(
    conn: &mut Conn,
    ind: &Indicator,
    s: &Subject,
    alert_id: &str,
    text: &str,
    now: OffsetDateTime,
) -> Result<()> {
    for n in &ind.notify {
        for user in recipients(conn, n, s).await? {
            notify::send(conn, now, &To::User(user), &format!("/alerts/{alert_id}"), text).await?;
        }
    }
    Ok(())
}

/// Evaluates every indicator over every subject it has facts for, in one transaction.
pub async fn run_all(
    db: &Db,
    cfg: &CityConfig,
    cal: &WorkCalendar,
    sources: &[&dyn SubjectSource],
    now: OffsetDateTime,
) -> Result<RunReport> {
    let mut tx = db.begin().await?;
    let r = run_all_in(&mut tx, db, cfg, cal, sources, now).await?;
    tx.commit().await?;
    Ok(r)
}

/// The same inside the caller's transaction (the nightly job's); facts are read from `db`'s
/// readers.
pub async fn run_all_in(
    tx: &mut Conn,
    db: &Db,
    cfg: &CityConfig,
    cal: &WorkCalendar,
    sources: &[&dyn SubjectSource],
    now: OffsetDateTime,
) -> Result<RunReport> {
    let report = evaluate(tx, Some(db), cfg, cal, sources, None, now).await?;
    let e = AuditEntry::new(domain::rules::AlertAudit::Run, "indicators", "all").detail(format!(
        "评估 {} 个指标 × {} 个对象：新增 {}，变化 {}，解除 {}",
        report.indicators, report.subjects, report.opened, report.changed, report.cleared
    ));
    audit::append(tx, now, e).await?;
    Ok(report)
}

/// New facts for one subject: its indicators are evaluated at once, inside the transaction
/// that wrote the facts. A subject the type does not know is an error, not an empty run.
pub async fn run_for_subject(
    tx: &mut Conn,
    cfg: &CityConfig,
    cal: &WorkCalendar,
    source: &dyn SubjectSource,
    subject_id: &str,
    now: OffsetDateTime,
) -> Result<RunReport> {
    let subject_type = source.subject_type();
    if !cfg.schemas.contains_key(subject_type) {
        return Err(StoreError::invalid("subject_type", format!("没有名为“{subject_type}”的对象类型")));
    }
    if !cfg.indicators.iter().any(|i| i.subject == subject_type) {
        return Ok(RunReport::default());
    }
    let report = evaluate(tx, None, cfg, cal, &[source], Some((subject_type, subject_id)), now).await?;
    if report.subjects == 0 {
        return Err(StoreError::NotFound(format!("对象 {subject_id}")));
    }
    let e = AuditEntry::new(domain::rules::AlertAudit::Run, subject_type, subject_id).detail(format!(
        "新事实触发评估 {} 个指标：新增 {}，变化 {}，解除 {}",
        report.indicators, report.opened, report.changed, report.cleared
    ));
    audit::append(tx, now, e).await?;
    Ok(report)
}

/// Evaluates the indicators over all subjects (facts from `db`'s readers) or over one (facts
/// from `tx`), keeping one open alert per subject and indicator.
async fn evaluate(
    tx: &mut Conn,
    db: Option<&Db>,
    cfg: &CityConfig,
    cal: &WorkCalendar,
    sources: &[&dyn SubjectSource],
    only: Option<(&str, &str)>,
    now: OffsetDateTime,
) -> Result<RunReport> {
    let ctx = EvalContext { today: local(now).date(), calendar: Some(cal) };
    let mut report = RunReport::default();
    for (subject_type, schema) in &cfg.schemas {
        if only.is_some_and(|(t, _)| t != subject_type) {
            continue;
        }
        let indicators: Vec<&Indicator> = cfg.indicators.iter().filter(|i| &i.subject == subject_type).collect();
        if indicators.is_empty() {
            continue;
        }
        let which = match (only, db) {
            (Some((_, id)), _) => Subjects::One(&mut *tx, id),
            (None, Some(db)) => Subjects::All(db),
            (None, None) => return Err(StoreError::Other("evaluate: no source of facts".into())),
        };
        // A type no case provides facts for has nothing to evaluate (config checks name it).
        let Some(source) = source(sources, subject_type) else { continue };
        let (batch, subjects) = source.load(which, schema, cfg, cal, ctx.today).await?;
        report.subjects += subjects.len() as u64;
        for ind in indicators {
            report.indicators += 1;
            let levels = ind.evaluate(&batch, &ctx);
            let mut open = open_alerts(tx, &ind.id).await?;
            for (i, level) in levels.iter().enumerate() {
                let s = &subjects[i];
                let current = open.remove(&s.id);
                let obs = observe(current.as_ref().map(|o| &o.alert), *level);
                if obs == Observation::Same {
                    continue;
                }
                let facts = batch.row_facts(i);
                let (_, steps) = ind.explain(schema, &facts, &ctx).map_err(StoreError::Other)?;
                let summary: Vec<String> =
                    steps.iter().filter(|s| s.fact).take(6).map(|s| format!("{}：{}", s.text, s.value)).collect();
                let summary = summary.join("，");
                match (obs, current) {
                    (Observation::Open(l), _) => {
                        let id = new_id();
                        let alert = Alert::open(l, now, summary.clone());
                        sqlx::query(
                            "INSERT INTO alerts (id, indicator, subject_type, subject_id, subject_name, division_code, grid_id, level, status, cleared,
                                facts, state, opened_at, updated_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', 0, $9, $10, $11, $11)",
                        )
                        .bind(&id)
                        .bind(&ind.id)
                        .bind(subject_type)
                        .bind(&s.id)
                        .bind(&s.name)
                        .bind(&s.division_code)
                        .bind(&s.grid_id)
                        .bind(l.as_str())
                        .bind(steps_json(&steps))
                        .bind(state_json(&alert)?)
                        .bind(to_millis(now))
                        .execute(&mut *tx)
                        .await?;
                        report.opened += 1;
                        tell(tx, ind, s, &id, &format!("【{}预警】{}：{}", l.label(), s.name, ind.name), now).await?;
                    }
                    (obs, Some(mut o)) => {
                        o.alert.apply_observation(&obs, now, &summary);
                        let cleared = matches!(obs, Observation::Cleared);
                        if cleared {
                            report.cleared += 1;
                        } else {
                            report.changed += 1;
                        }
                        let facts = if cleared { None } else { Some(steps_json(&steps)) };
                        sqlx::query("UPDATE alerts SET level = $1, cleared = $2, state = $3, facts = COALESCE($4, facts), updated_at = $5 WHERE id = $6")
                            .bind(o.alert.level.as_str())
                            .bind(i64::from(o.alert.cleared))
                            .bind(state_json(&o.alert)?)
                            .bind(facts)
                            .bind(to_millis(now))
                            .bind(&o.id)
                            .execute(&mut *tx)
                            .await?;
                        if let Observation::Change { to, from } = obs
                            && to > from
                        {
                            tell(
                                tx,
                                ind,
                                s,
                                &o.id,
                                &format!("【预警升级为{}】{}：{}", to.label(), s.name, ind.name),
                                now,
                            )
                            .await?;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(report)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct AlertRow {
    pub id: String,
    pub indicator: String,
    pub subject_type: String,
    pub subject_id: String,
    pub subject_name: String,
    pub division_code: Option<String>,
    pub grid_id: Option<String>,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub level: Level,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub status: AlertStatus,
    pub cleared: i64,
    pub opened_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub level: Option<String>,
    pub status: Option<String>,
    pub indicator: Option<String>,
    pub q: Option<String>,
    /// Include closed alerts.
    pub closed: bool,
}

fn alert_where(scope: &RowScope, f: &AlertFilter, q: &mut Sql) {
    q.push(" WHERE 1 = 1");
    let mut inner = Sql::new("");
    scope.apply(&mut inner, "subject_id", true);
    q.append(&inner);
    if !f.closed && f.status.as_deref().is_none_or(str::is_empty) {
        q.push(" AND status <> 'closed'");
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND status = ").bind(s);
    }
    if let Some(l) = f.level.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND level = ").bind(l);
    }
    if let Some(i) = f.indicator.as_deref().filter(|s| !s.is_empty()) {
        // `labor.` names a module's indicators; anything else one indicator.
        if i.ends_with('.') {
            q.push(" AND indicator LIKE ").bind(format!("{}%", like_escape(i))).push(" ESCAPE '\\'");
        } else {
            q.push(" AND indicator = ").bind(i);
        }
    }
    if let Some(t) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.push(" AND subject_name LIKE ").bind(format!("%{}%", like_escape(t))).push(" ESCAPE '\\'");
    }
}

pub async fn list(db: &Db, scope: &RowScope, f: &AlertFilter, page: PageRequest) -> Result<Paged<AlertRow>> {
    let select = "SELECT id, indicator, subject_type, subject_id, subject_name, division_code, grid_id, level, status, cleared, opened_at, updated_at";
    let order = "CASE level WHEN 'red' THEN 0 WHEN 'orange' THEN 1 ELSE 2 END, opened_at DESC";
    crate::sql::paged(db, select, "FROM alerts", |q| alert_where(scope, f, q), order, page).await
}

#[derive(Debug, Clone)]
pub struct AlertDetail {
    pub row: AlertRow,
    /// Every step of the explanation: the facts read, each comparison, the verdict.
    pub facts: Vec<(String, String)>,
    /// Only the facts read (field and value): what a document states.
    pub findings: Vec<(String, String)>,
    pub alert: Alert,
}

/// The (text, value) steps stored with an alert, and the facts among them (all of them for
/// alerts stored before steps were marked).
type Lines = Vec<(String, String)>;

fn read_steps(text: &str) -> (Lines, Lines) {
    let steps =
        serde_json::from_str::<serde_json::Value>(text).ok().and_then(|v| v.as_array().cloned()).unwrap_or_default();
    let pair = |s: &serde_json::Value| {
        (s["text"].as_str().unwrap_or("").to_string(), s["value"].as_str().unwrap_or("").to_string())
    };
    let all: Vec<(String, String)> = steps.iter().map(pair).collect();
    let marked = steps.iter().any(|s| s.get("fact").is_some());
    let findings = steps.iter().filter(|s| !marked || s["fact"].as_bool() == Some(true)).map(pair).collect();
    (all, findings)
}

pub async fn get(db: &Db, scope: &RowScope, id: &str) -> Result<AlertDetail> {
    let mut q = Sql::new(
        "SELECT id, indicator, subject_type, subject_id, subject_name, division_code, grid_id, level, status, cleared, opened_at, updated_at FROM alerts",
    );
    alert_where(scope, &AlertFilter { closed: true, ..Default::default() }, &mut q);
    q.push(" AND id = ").bind(id);
    let row: AlertRow =
        q.query_as().fetch_optional(db.reader()).await?.ok_or_else(|| StoreError::NotFound("预警".into()))?;
    let extra = sqlx::query("SELECT facts, state FROM alerts WHERE id = $1").bind(id).fetch_one(db.reader()).await?;
    let facts_text: String = extra.try_get(0)?;
    let state: String = extra.try_get(1)?;
    let (facts, findings) = read_steps(&facts_text);
    let alert = serde_json::from_str(&state).map_err(|e| StoreError::Other(format!("预警状态损坏：{e}")))?;
    Ok(AlertDetail { row, facts, findings, alert })
}

/// The next number of a numbered series (per code and year), in the caller's transaction.
pub(crate) async fn next_serial(conn: &mut Conn, code: &str, year: i32) -> Result<i64> {
    crate::documents::next_serial(conn, code, year).await
}

/// What a user asks: the document number is filled in here.
#[derive(Debug, Clone)]
pub enum Request {
    Acknowledge,
    Dispose { kind: DocKind, deadline: time::Date, text: String },
    Verify { passed: bool, note: String },
    Close { note: String },
}

/// What documents about a subject need from the case that owns it.
pub struct Addressee {
    /// 主送: the party the law names (for a wage project, its general contractor).
    pub name: String,
    /// Its USCC or ID number, so it finds the document in its inbox.
    pub id: Option<String>,
    /// How the document names the subject to that party: "你单位承建的“某项目”（GC0001）".
    pub about: String,
}

pub type AddresseeFuture<'a> = std::pin::Pin<Box<dyn Future<Output = Result<Option<Addressee>>> + Send + 'a>>;

/// The keys and subject sources a lifecycle step may need: disposing issues a sealed document.
pub struct Issuing<'a> {
    pub key: Option<&'a crate::services::seals::MasterKey>,
    pub sources: &'a [&'a dyn SubjectSource],
}

/// Applies a lifecycle step. Disposing issues the 告知函 or 整改通知单 from the indicator's
/// department, under its number, to the party the case names, sealed. Escalations notify the
/// indicator's escalation role.
#[allow(clippy::too_many_arguments)]
pub async fn act(
    conn: &mut Conn,
    cfg: &CityConfig,
    issuing: &Issuing<'_>,
    id: &str,
    req: Request,
    by: (&str, &str),
    ip: &str,
    now: OffsetDateTime,
) -> Result<Alert> {
    let row = sqlx::query(
        "SELECT indicator, state, subject_name, division_code, grid_id, subject_id, subject_type, facts FROM alerts WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound("预警".into()))?;
    let state: String = row.try_get(1)?;
    let alert: Alert = serde_json::from_str(&state).map_err(|e| StoreError::Other(e.to_string()))?;
    let mut addressee_id = None;
    let action = match req {
        Request::Acknowledge => AlertAction::Acknowledge,
        Request::Dispose { kind, deadline, text } => {
            // The domain decides first whether disposing is allowed now, so a refused step
            // consumes no document number.
            alert
                .act(&AlertAction::Dispose { kind, number: String::new(), deadline, text: text.clone() }, by.1, now)
                .map_err(|e| StoreError::invalid("action", e.0))?;
            let doc = issue_document(conn, cfg, issuing, id, &row, kind, deadline, &text, now).await?;
            addressee_id = doc.document.addressee_id.clone();
            AlertAction::Dispose { kind, number: doc.document.number, deadline, text }
        }
        Request::Verify { passed, note } => AlertAction::Verify { passed, note },
        Request::Close { note } => AlertAction::Close { note },
    };
    let next = alert.act(&action, by.1, now).map_err(|e| StoreError::invalid("action", e.0))?;
    store_state(conn, id, &next, now).await?;
    if let (AlertAction::Dispose { deadline, .. }, Some(d)) = (&action, &next.disposal) {
        let at = domain::clock::from_local(time::PrimitiveDateTime::new(
            deadline.next_day().expect("date"),
            time::Time::MIDNIGHT,
        ));
        jobs::enqueue(
            conn,
            now,
            DEADLINE_JOB,
            &serde_json::json!({"alert": id}),
            at,
            Some(&format!("alert:{id}:{}", d.number)),
        )
        .await?;
    }
    if let (Some(uscc), Some(d)) = (&addressee_id, &next.disposal) {
        notify_addressee(conn, uscc, id, d, now).await?;
    }
    if next.status == AlertStatus::Escalated {
        escalate_notice(conn, cfg, id, &row.try_get::<String, _>(0)?, &row.try_get::<String, _>(2)?, &row, now).await?;
    }
    let last = next.events.last().map(|e| e.note.clone()).unwrap_or_default();
    let action = next.events.last().and_then(|e| AlertAudit::of_event(&e.action)).unwrap_or(AlertAudit::Acknowledge);
    let e = AuditEntry::new(action, "alert", id).by(by.0, by.1).from_ip(ip).detail(last);
    audit::append(conn, now, e).await?;
    Ok(next)
}

/// Builds and issues the document of a disposal.
#[allow(clippy::too_many_arguments)]
async fn issue_document(
    conn: &mut Conn,
    cfg: &CityConfig,
    issuing: &Issuing<'_>,
    id: &str,
    row: &sqlx::any::AnyRow,
    kind: DocKind,
    deadline: time::Date,
    text: &str,
    now: OffsetDateTime,
) -> Result<crate::documents::Issued> {
    let indicator: String = row.try_get("indicator")?;
    let ind = cfg.indicator(&indicator).ok_or_else(|| StoreError::NotFound(format!("指标“{indicator}”")))?;
    let dept = ind.issuing_department().ok_or_else(|| StoreError::invalid("action", "该指标未配置出具文书的部门"))?;
    let key = issuing.key.ok_or_else(|| StoreError::Other("印章主密钥未加载，不能出具盖章文书".into()))?;
    let subject_type: String = row.try_get("subject_type")?;
    let subject_id: String = row.try_get("subject_id")?;
    let subject_name: String = row.try_get("subject_name")?;
    let addressee = match source(issuing.sources, &subject_type) {
        Some(s) => s.addressee(conn, &subject_id).await?,
        None => None,
    }
    .unwrap_or_else(|| Addressee { name: subject_name.clone(), id: None, about: "你单位".into() });
    let (_, findings) = read_steps(&row.try_get::<String, _>("facts")?);
    let dept_name: String = sqlx::query_scalar("SELECT name FROM departments WHERE code = $1")
        .bind(dept)
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or_default();
    let facts: Vec<String> = findings.iter().map(|(k, v)| format!("{k}：{v}")).collect();
    let mut paragraphs = vec![format!("经{dept_name}监测核查，{}存在以下情形：{}。", addressee.about, ind.name)];
    if !facts.is_empty() {
        paragraphs.push(format!("监测数据显示：{}。", facts.join("；")));
    }
    let demand = if text.trim().is_empty() { ind.action.clone() } else { text.trim().to_string() };
    paragraphs.push(format!("依据{}，{}", ind.basis.trim_end_matches('。'), demand.trim_end_matches('。')) + "。");
    paragraphs.push(match kind {
        DocKind::RectificationOrder => format!(
            "请于{}前整改完毕，并将整改情况书面反馈{dept_name}。逾期未整改或整改不到位的，将依法处理。",
            domain::text::date_cn(deadline)
        ),
        DocKind::NoticeLetter => {
            format!("请于{}前核实情况并书面反馈{dept_name}。特此告知。", domain::text::date_cn(deadline))
        }
    });
    let (code, word) = match kind {
        DocKind::NoticeLetter => ("notice_letter", "告"),
        DocKind::RectificationOrder => ("rectification_order", "整"),
    };
    crate::documents::issue(
        conn,
        now,
        cfg,
        key,
        crate::documents::Draft {
            kind: code,
            word,
            title: kind.label(),
            department: dept,
            addressee: addressee.name,
            addressee_id: addressee.id,
            paragraphs,
            source: format!("alert:{id}"),
        },
    )
    .await
}

/// Puts an issued document in the addressee's inbox as something to do.
async fn notify_addressee(
    conn: &mut Conn,
    uscc: &str,
    id: &str,
    d: &domain::rules::Disposal,
    now: OffsetDateTime,
) -> Result<()> {
    notify::to_login(
        conn,
        now,
        uscc,
        &format!("/wages/notices/{id}"),
        &format!("【待办】收到{}（{}），请于{}前整改并反馈", d.kind.label(), d.number, d.deadline),
    )
    .await?;
    Ok(())
}

async fn store_state(conn: &mut Conn, id: &str, a: &Alert, now: OffsetDateTime) -> Result<()> {
    sqlx::query("UPDATE alerts SET status = $1, state = $2, updated_at = $3, closed_at = $4 WHERE id = $5")
        .bind(a.status.as_str())
        .bind(state_json(a)?)
        .bind(to_millis(now))
        .bind((a.status == AlertStatus::Closed).then(|| to_millis(now)))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn escalate_notice(
    conn: &mut Conn,
    cfg: &CityConfig,
    id: &str,
    indicator: &str,
    name: &str,
    row: &sqlx::any::AnyRow,
    now: OffsetDateTime,
) -> Result<()> {
    let Some(ind) = cfg.indicator(indicator) else { return Ok(()) };
    let Some(role) = &ind.escalate_to else { return Ok(()) };
    let s = Subject {
        id: row.try_get("subject_id")?,
        name: name.into(),
        division_code: row.try_get("division_code")?,
        grid_id: row.try_get("grid_id")?,
    };
    let to = NotifySpec { role: role.clone(), scope: ScopeKind::Division, department: None };
    for user in recipients(conn, &to, &s).await? {
        notify::send(
            conn,
            now,
            &To::User(user),
            &format!("/alerts/{id}"),
            &format!("【预警上报】{name}：{}，整改未按期完成", ind.name),
        )
        .await?;
    }
    Ok(())
}

/// The rectification deadline passed (job handler).
pub async fn deadline_passed(
    conn: &mut Conn,
    cfg: &CityConfig,
    payload: &serde_json::Value,
    now: OffsetDateTime,
) -> Result<()> {
    let id = payload["alert"].as_str().ok_or_else(|| StoreError::Other("缺少 alert".into()))?;
    let Some(row) = sqlx::query(
        "SELECT indicator, state, subject_name, division_code, grid_id, subject_id FROM alerts WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(());
    };
    let state: String = row.try_get(1)?;
    let alert: Alert = serde_json::from_str(&state).map_err(|e| StoreError::Other(e.to_string()))?;
    let next = alert.act(&AlertAction::DeadlinePassed, "系统", now).map_err(|e| StoreError::Other(e.0))?;
    if next == alert {
        return Ok(());
    }
    store_state(conn, id, &next, now).await?;
    escalate_notice(conn, cfg, id, &row.try_get::<String, _>(0)?, &row.try_get::<String, _>(2)?, &row, now).await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::rules::AlertAudit::Escalate, "alert", id).detail("整改期限已过，自动上报"),
    )
    .await?;
    Ok(())
}

/// Counts by level of open alerts within a scope (home pages, dashboards).
/// Every alert of one subject, open ones first, the most severe first.
pub async fn for_subject(db: &Db, subject_type: &str, subject_id: &str) -> Result<Vec<AlertRow>> {
    Ok(sqlx::query_as(
        "SELECT id, indicator, subject_type, subject_id, subject_name, division_code, grid_id, level, status, cleared, opened_at, updated_at
         FROM alerts WHERE subject_type = $1 AND subject_id = $2
         ORDER BY CASE WHEN status = 'closed' THEN 1 ELSE 0 END, CASE level WHEN 'red' THEN 0 WHEN 'orange' THEN 1 ELSE 2 END, opened_at DESC",
    )
    .bind(subject_type)
    .bind(subject_id)
    .fetch_all(db.reader())
    .await?)
}

pub async fn counts(db: &Db, scope: &RowScope) -> Result<Vec<(Level, i64)>> {
    let mut q = Sql::new("SELECT level, COUNT(*) FROM alerts");
    alert_where(scope, &AlertFilter::default(), &mut q);
    q.push(" GROUP BY level");
    let rows: Vec<(String, i64)> = q.query_as().fetch_all(db.reader()).await?;
    Ok(Level::ALL
        .iter()
        .rev()
        .map(|l| (*l, rows.iter().find(|(x, _)| x == l.as_str()).map(|(_, n)| *n).unwrap_or(0)))
        .collect())
}

/// A document still asking something of the party it was addressed to.
#[derive(Debug, Clone)]
pub struct OpenDocument {
    pub alert_id: String,
    pub number: String,
    pub title: String,
    pub issuer: String,
    pub deadline: Option<time::Date>,
}

/// The 告知函 and 整改通知单 addressed to a party (by USCC) whose alert is not yet verified or
/// closed: what its home page lists as to do.
pub async fn open_documents_for(db: &Db, addressee_id: &str) -> Result<Vec<OpenDocument>> {
    let rows = sqlx::query(
        "SELECT a.id, d.document, a.state FROM issued_documents d JOIN alerts a ON d.source = 'alert:' || a.id
         WHERE d.addressee_id = $1 AND a.status IN ('disposed', 'escalated') ORDER BY d.created_at DESC LIMIT 20",
    )
    .bind(addressee_id)
    .fetch_all(db.reader())
    .await?;
    let mut out = vec![];
    for r in rows {
        let doc: String = r.try_get(1)?;
        let state: String = r.try_get(2)?;
        // A record this build cannot read is skipped, not a failed home page.
        let Ok(d) = serde_json::from_str::<domain::documents::Document>(&doc) else { continue };
        let deadline = serde_json::from_str::<Alert>(&state).ok().and_then(|a| a.disposal.map(|x| x.deadline));
        out.push(OpenDocument {
            alert_id: r.try_get(0)?,
            number: d.number,
            title: d.title,
            issuer: d.issuer,
            deadline,
        });
    }
    Ok(out)
}
