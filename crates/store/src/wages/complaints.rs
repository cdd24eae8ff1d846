//! The complaint queue (欠薪投诉): each complaint a worker files is a case in labor inspection's
//! queue (domain::wages::complaint): assigned to an inspector, the worker contacted, the matter
//! handled and answered, closed; the worker is told at each step, and a case past a deadline is
//! escalated to the department's leader role by a deadline job.

use crate::config::CityConfig;
use crate::notify::{self, To};
use crate::{Conn, Db, Result, StoreError, audit, jobs};
use domain::audit::AuditEntry;
use domain::clock::local;
use domain::wages::WagesAudit;
use domain::wages::complaint::{self, Stage};
use sqlx::Row;
use time::{Date, OffsetDateTime};

/// The deadline job: a complaint's contact or handling deadline has passed.
pub const DUE_JOB: &str = "wages.complaint_due";

/// The department whose labor inspectors handle complaints: the 属地人社部门, the same one that
/// holds the wage deposits.
pub fn department(cfg: &CityConfig) -> &str {
    &cfg.city.wages.deposit_department
}

/// One step taken on a case.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StepRecord {
    pub at: i64,
    pub by: String,
    pub stage: String,
    pub note: String,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub number: String,
    pub project_code: Option<String>,
    pub project_name: Option<String>,
    pub complainant: String,
    pub amount_fen: i64,
    pub text: String,
    pub received_on: String,
    pub stage: Stage,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub contact_due: Option<Date>,
    pub handle_due: Option<Date>,
    pub escalated: bool,
    pub steps: Vec<StepRecord>,
    pub id_card_no: Option<String>,
}

impl Case {
    /// Why it is overdue on `today`, if it is.
    pub fn overdue(&self, today: Date, contact_days: u32) -> Option<String> {
        match (self.contact_due, self.handle_due) {
            (Some(c), Some(h)) => complaint::overdue(self.stage, c, h, today, contact_days),
            _ => None,
        }
    }
}

const SELECT: &str =
    "SELECT c.id, c.external_id, p.code, p.name, c.complainant, c.amount_fen, c.text, c.received_on, c.stage,
    c.assignee_id, c.assignee_name, c.contact_due, c.handle_due, c.escalated, c.steps, c.id_card_no
    FROM wage_complaints c LEFT JOIN wage_projects p ON p.id = c.project_id";

fn date(s: Option<String>) -> Option<Date> {
    s.and_then(|s| Date::parse(&s, &time::format_description::well_known::Iso8601::DATE).ok())
}

fn case_of(r: &sqlx::any::AnyRow) -> Result<Case> {
    let steps: String = r.try_get(14)?;
    Ok(Case {
        id: r.try_get(0)?,
        number: r.try_get(1)?,
        project_code: r.try_get(2)?,
        project_name: r.try_get(3)?,
        complainant: r.try_get(4)?,
        amount_fen: r.try_get(5)?,
        text: r.try_get(6)?,
        received_on: r.try_get(7)?,
        // A stage this build does not know reads as received rather than failing the page.
        stage: Stage::parse(&r.try_get::<String, _>(8)?).unwrap_or(Stage::Received),
        assignee_id: r.try_get(9)?,
        assignee_name: r.try_get(10)?,
        contact_due: date(r.try_get(11)?),
        handle_due: date(r.try_get(12)?),
        escalated: r.try_get::<i64, _>(13)? != 0,
        steps: serde_json::from_str(&steps).unwrap_or_default(),
        id_card_no: r.try_get(15)?,
    })
}

/// The queue: platform complaints (those a worker filed here), open first, oldest first;
/// `stage` narrows it ("open": everything not closed).
pub async fn list(db: &Db, stage: Option<&str>) -> Result<Vec<Case>> {
    let mut sql = format!("{SELECT} WHERE c.source = 'platform'");
    match stage {
        Some("open") | None => sql.push_str(" AND c.stage <> 'closed'"),
        Some("all") => {}
        Some(s) if Stage::parse(s).is_some() => {
            sql.push_str(&format!(" AND c.stage = '{}'", Stage::parse(s).unwrap().as_str()))
        }
        Some(_) => return Err(StoreError::invalid("stage", "未知的办理环节")),
    }
    sql.push_str(" ORDER BY CASE WHEN c.stage = 'closed' THEN 1 ELSE 0 END, c.received_on, c.external_id LIMIT 2000");
    let rows = sqlx::query(&sql).fetch_all(db.reader()).await?;
    rows.iter().map(case_of).collect()
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<Case> {
    let r = sqlx::query(&format!("{SELECT} WHERE c.id = $1 AND c.source = 'platform'"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound("投诉".into()))?;
    case_of(&r)
}

/// The worker's own complaints (by ID number), newest first.
pub async fn of_worker(db: &Db, id_card_no: &str) -> Result<Vec<Case>> {
    let rows = sqlx::query(&format!("{SELECT} WHERE c.id_card_no = $1 ORDER BY c.created_at DESC LIMIT 100"))
        .bind(id_card_no)
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(case_of).collect()
}

/// A case was just filed: labor inspection is told, and the deadline jobs are set.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn opened(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    id: &str,
    number: &str,
    name: &str,
    contact_due: Date,
    handle_due: Date,
) -> Result<()> {
    notify::send(
        conn,
        now,
        &To::Role { department: Some(department(cfg).to_string()), role: "labor_inspector".into() },
        &format!("/wages/complaints/{id}"),
        &format!("【待办】新欠薪投诉 {number}（{name}），请于 {contact_due} 前联系投诉人"),
    )
    .await?;
    for (due, what) in [(contact_due, "contact"), (handle_due, "handle")] {
        let at = domain::clock::from_local(time::PrimitiveDateTime::new(
            due.next_day().expect("date"),
            time::Time::MIDNIGHT,
        ));
        jobs::enqueue(
            conn,
            now,
            DUE_JOB,
            &serde_json::json!({"complaint": id, "deadline": what}),
            at,
            Some(&format!("complaint:{id}:{what}")),
        )
        .await?;
    }
    Ok(())
}

/// What an inspector does.
#[derive(Debug, Clone)]
pub struct Step {
    pub to: Stage,
    pub note: String,
    /// For 分派: the inspector's user id.
    pub assignee: Option<String>,
}

/// Takes a step on a case in the caller's transaction; tells the worker; audited.
pub async fn act(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    id: &str,
    by: (&str, &str),
    step: Step,
) -> Result<Case> {
    let c = get(conn, id).await?;
    if !c.stage.may_go_to(step.to) {
        return Err(StoreError::invalid(
            "stage",
            format!("该投诉处于“{}”，不能办理“{}”", c.stage.label(), step.to.label()),
        ));
    }
    let note = step.note.trim().to_string();
    if step.to.needs_note() && note.is_empty() {
        return Err(StoreError::invalid("note", format!("请填写{}的情况", step.to.label())));
    }
    if note.chars().count() > 1000 {
        return Err(StoreError::invalid("note", "办理情况不超过 1000 字"));
    }
    let (assignee_id, assignee_name) = if step.to == Stage::Assigned {
        let who = step.assignee.as_deref().unwrap_or_default();
        let name: Option<String> = sqlx::query_scalar(
            "SELECT u.display_name FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
             JOIN departments d ON d.id = u.department_id
             WHERE u.id = $1 AND u.status = 'active' AND r.code = 'labor_inspector' AND d.code = $2",
        )
        .bind(who)
        .bind(department(cfg))
        .fetch_optional(&mut *conn)
        .await?;
        let name = name.ok_or_else(|| StoreError::invalid("assignee", "请选择本部门的劳动保障监察员"))?;
        (Some(who.to_string()), Some(name))
    } else {
        (c.assignee_id.clone(), c.assignee_name.clone())
    };
    let mut steps = c.steps.clone();
    steps.push(StepRecord {
        at: domain::clock::to_millis(now),
        by: by.1.to_string(),
        stage: step.to.as_str().into(),
        note: match &assignee_name {
            Some(n) if step.to == Stage::Assigned => {
                format!("分派给{n}{}", if note.is_empty() { String::new() } else { format!("：{note}") })
            }
            _ => note.clone(),
        },
    });
    let closed = step.to == Stage::Closed;
    let changed = sqlx::query(
        "UPDATE wage_complaints SET stage = $1, assignee_id = $2, assignee_name = $3, steps = $4,
            status = CASE WHEN $5 = 1 THEN 'closed' ELSE status END,
            closed_on = CASE WHEN $5 = 1 THEN $6 ELSE closed_on END
         WHERE id = $7 AND stage = $8",
    )
    .bind(step.to.as_str())
    .bind(&assignee_id)
    .bind(&assignee_name)
    .bind(serde_json::to_string(&steps).map_err(|e| StoreError::Other(e.to_string()))?)
    .bind(i64::from(closed))
    .bind(local(now).date().to_string())
    .bind(id)
    .bind(c.stage.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::conflict("stage", "该投诉刚被他人办理，请刷新后再试"));
    }
    audit::append(
        conn,
        now,
        AuditEntry::new(WagesAudit::ComplaintStep, "wage_complaint", id).by(by.0, by.1).detail(format!(
            "{}：{}{}",
            c.number,
            step.to.label(),
            if note.is_empty() { String::new() } else { format!("（{note}）") }
        )),
    )
    .await?;
    tell_worker(conn, now, &c, step.to, &note).await?;
    if let (Stage::Assigned, Some(a)) = (step.to, &assignee_id) {
        notify::send(
            conn,
            now,
            &To::User(a.clone()),
            &format!("/wages/complaints/{id}"),
            &format!("【待办】欠薪投诉 {}（{}）分派给您办理", c.number, c.complainant),
        )
        .await?;
    }
    get(conn, id).await
}

async fn tell_worker(conn: &mut Conn, now: OffsetDateTime, c: &Case, stage: Stage, note: &str) -> Result<()> {
    let Some(card) = &c.id_card_no else { return Ok(()) };
    let said = if stage == Stage::Replied && !note.is_empty() { format!("：{note}") } else { String::new() };
    let text = format!("您的欠薪投诉 {} {}{said}", c.number, stage.tell_worker());
    notify::to_login(conn, now, card, "/me/wages#complaints", &text).await
}

/// The deadline job: if the case has not reached the step the deadline asks for, it is marked
/// escalated and the leader role and the assignee are told. Idempotent.
pub async fn due(conn: &mut Conn, cfg: &CityConfig, now: OffsetDateTime, id: &str) -> Result<()> {
    let Ok(c) = get(conn, id).await else { return Ok(()) };
    let today = local(now).date();
    let Some(why) = c.overdue(today, cfg.city.wages.complaint_contact_days) else { return Ok(()) };
    sqlx::query("UPDATE wage_complaints SET escalated = 1 WHERE id = $1").bind(id).execute(&mut *conn).await?;
    let text = format!("【投诉超期】欠薪投诉 {}（{}）{why}", c.number, c.complainant);
    notify::send(
        conn,
        now,
        &To::Role { department: None, role: "leader".into() },
        &format!("/wages/complaints/{id}"),
        &text,
    )
    .await?;
    let to = match &c.assignee_id {
        Some(a) => To::User(a.clone()),
        None => To::Role { department: Some(department(cfg).to_string()), role: "labor_inspector".into() },
    };
    notify::send(conn, now, &to, &format!("/wages/complaints/{id}"), &text).await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(WagesAudit::ComplaintEscalate, "wage_complaint", id).detail(format!("{}：{why}", c.number)),
    )
    .await?;
    Ok(())
}

/// The inspectors a case may be assigned to.
pub async fn inspectors(db: &Db, cfg: &CityConfig) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT u.id, u.display_name FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
         JOIN departments d ON d.id = u.department_id
         WHERE u.status = 'active' AND r.code = 'labor_inspector' AND d.code = $1 ORDER BY u.display_name",
    )
    .bind(department(cfg))
    .fetch_all(db.reader())
    .await?)
}
