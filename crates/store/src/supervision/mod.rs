//! 亳安码 persistence: supervised persons and the agency holding each case, device binding,
//! fences, the location-fix ingest (idempotent, time-ordered per person, durable on commit),
//! raw violations, alarms with their handling, leave requests, check-in tasks, and the person's hysteresis state.

mod alarms;
mod caches;
pub mod demo;
mod ending;
mod fences;
mod fixlog;
mod ingest;
mod leaves;
mod locating;
mod reports;
mod stages;
mod summons;
mod tasks;
#[cfg(test)]
mod tests;
mod trackers;
mod watch;

pub use alarms::{
    AlarmRow, alarm_facts, alarms_of, alarms_since, handle_alarm, leave_and_task_facts, location_summary, open_alarms,
};
pub use caches::Caches;
pub use ending::{EXPIRY_JOB, expire_and_warn, release};
pub use fences::{FenceRow, NewFence, add_fence, add_fences_from_file, fence_set, fences, grid_shapes, split_geojson};
pub use fixlog::{FoldWhen, fold, fold_pending};
pub use ingest::{
    BulkFix, FixRejection, FixReport, FixRow, InFix, ingest, ingest_durable, ingest_fixes, purge_locations,
    recent_fixes, violation_count,
};
pub use leaves::{LeaveRow, LeaveVerdict, MAX_LEAVE_DAYS, NewLeave, decide_leave, leave, leaves_of, request_leave};
pub use locating::{LocatingRow, NewLocating, approve_locating, locating_of};
pub use reports::{NewReport, ReportRow, file_report, reports_of};
pub use stages::{HandOff, StageRow, hand_off, stages_of, take_over};
pub use summons::{SummonsRow, acknowledge_summons, record_appearance, summon, summons_of};
pub use tasks::{CheckIn, NewTask, TASK_DUE_JOB, TaskRow, check_in, issue_task, task, task_due, tasks_of};
pub use watch::check_offline;

use crate::{Conn, Db, Result, StoreError, audit, auth, new_id};
use domain::audit::AuditEntry;
use domain::auth::{DataScope, Principal, UserKind};
use domain::clock::to_millis;
use domain::supervision::{Measure, PersonStatus};
use time::OffsetDateTime;

/// Stages of a case, in hand-off order, with the department that holds it.
pub const STAGES: [(&str, &str, &str); 4] = [
    ("police", "侦查（公安机关）", "gaj"),
    ("procuratorate", "审查起诉（检察院）", "jcy"),
    ("court", "审判（法院）", "zy"),
    ("justice", "执行（司法局社区矫正）", "sfj"),
];

/// The measures, by their stored names (`domain::supervision::Measure`).
/// Location fixes and the violations among them: partitioned by month on PostgreSQL
/// (`crate::partitions`); a month goes when every person with rows in it is past retention.
pub const FIXES_TABLE: &str = "sup_fixes";
pub const EVENTS_TABLE: &str = "sup_events";

pub const MEASURES: [&str; 4] = ["取保候审", "监视居住", "社区矫正", "暂予监外执行"];

pub fn stage_label(s: &str) -> &'static str {
    STAGES.iter().find(|x| x.0 == s).map(|x| x.1).unwrap_or("")
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Person {
    pub id: String,
    pub id_card_no: String,
    pub name: String,
    pub phone: String,
    pub address: String,
    pub division_code: String,
    /// The executing organ (执行机关): the police for 取保候审 and 监视居住 at every stage
    /// (刑事诉讼法 arts. 67 ¶2, 74 ¶3), the 社区矫正机构 for community measures. Its officers
    /// handle alarms, fences and check-ins and approve leave.
    pub agency_id: String,
    pub agency_name: String,
    /// The deciding organ (决定机关) whose decision the person is under: it consents to leave
    /// when it is not the executing organ, hands the case on and lifts the measure.
    pub decider_id: String,
    pub decider_name: String,
    pub stage: String,
    pub measure: String,
    pub measure_from: String,
    pub measure_to: String,
    pub officer_id: Option<String>,
    pub user_id: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: PersonStatus,
    /// The day the measure ended (lifted, or its last day when it ran out).
    pub ended_on: Option<String>,
    /// The last day an approved 社区矫正法 art. 29 decision allows a location device, if any.
    pub locating_until: Option<String>,
    pub open_alarms: i64,
}

impl Person {
    pub fn measure(&self) -> Option<Measure> {
        Measure::parse(&self.measure)
    }

    /// Whether the deciding organ is another than the executing one (its consent is needed
    /// before the police approve leave).
    pub fn decided_elsewhere(&self) -> bool {
        self.decider_id != self.agency_id
    }

    /// Whether location fixes may be collected on `day`: under a compulsory measure, always
    /// while it is in force; under a community measure only within an approved art. 29
    /// decision (社区矫正法 art. 29), otherwise only check-ins.
    pub fn may_track_on(&self, day: &str) -> bool {
        match self.measure() {
            Some(m) if m.tracking_needs_decision() => self.locating_until.as_deref().is_some_and(|u| u >= day),
            _ => true,
        }
    }
}

pub(super) const PERSON_SELECT: &str =
    "SELECT p.id, p.id_card_no, p.name, p.phone, p.address, p.division_code, p.agency_id,
    d.short_name AS agency_name, dd.id AS decider_id, dd.short_name AS decider_name, p.stage, p.measure, p.measure_from,
    p.measure_to, p.officer_id, p.user_id, p.status, p.ended_on,
    (SELECT MAX(l.valid_to) FROM sup_locating l WHERE l.person_id = p.id) AS locating_until,
    (SELECT COUNT(*) FROM sup_alarms a WHERE a.person_id = p.id AND a.status <> 'closed') AS open_alarms
    FROM sup_persons p JOIN departments d ON d.id = p.agency_id
    JOIN departments dd ON dd.id = COALESCE(p.decider_id, p.agency_id)";

/// Whether `p` may see a person: the executing and the deciding organ's own staff, or a user
/// whose scope for `supervision.view` is the whole city (the superiors).
pub fn may_see(p: &Principal, person: &Person) -> bool {
    match p.scope(domain::auth::perm::SUPERVISION_VIEW) {
        Some(DataScope::All) => true,
        Some(_) => {
            let dept = p.department_id.as_deref();
            dept == Some(person.agency_id.as_str()) || dept == Some(person.decider_id.as_str())
        }
        None => false,
    }
}

/// What `p` may do to a person as which organ (with `supervision.handle`; superiors as both).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Organ {
    /// The executing organ: fences, devices, alarms, check-ins, summons, approving leave.
    pub executes: bool,
    /// The deciding organ: consenting to leave, hand-off, lifting the measure, summons.
    pub decides: bool,
}

pub fn organ_of(p: &Principal, person: &Person) -> Organ {
    match p.scope(domain::auth::perm::SUPERVISION_HANDLE) {
        Some(DataScope::All) => Organ { executes: true, decides: true },
        Some(_) => {
            let dept = p.department_id.as_deref();
            Organ {
                executes: dept == Some(person.agency_id.as_str()),
                decides: dept == Some(person.decider_id.as_str()),
            }
        }
        None => Organ::default(),
    }
}

/// The department id of the organ with `code` (`STAGES`), or a Chinese error naming the stage.
pub(super) async fn organ_by_stage(conn: &mut Conn, stage: &str) -> Result<String> {
    let code = STAGES.iter().find(|s| s.0 == stage).map(|s| s.2).unwrap_or("");
    let id: Option<String> =
        sqlx::query_scalar("SELECT id FROM departments WHERE code = $1").bind(code).fetch_optional(&mut *conn).await?;
    id.ok_or_else(|| StoreError::invalid("stage", format!("本市未配置{}对应的机关", stage_label(stage))))
}

/// Tells the deciding organ's supervision officers, when it is not the executing organ.
pub(super) async fn tell_decider(conn: &mut Conn, now: OffsetDateTime, person: &Person, text: &str) -> Result<()> {
    if !person.decided_elsewhere() {
        return Ok(());
    }
    let code: Option<String> = sqlx::query_scalar("SELECT code FROM departments WHERE id = $1")
        .bind(&person.decider_id)
        .fetch_optional(&mut *conn)
        .await?;
    let to = crate::notify::To::Role { department: code, role: "sup_officer".into() };
    crate::notify::send(conn, now, &to, &format!("/supervision/persons/{}", person.id), text).await?;
    Ok(())
}

/// Tells whoever holds the case: the responsible officer, or, while no officer holds it (after
/// a hand-off, before someone takes it), the agency's supervision officers — so an alarm, a
/// leave request or a report always reaches someone who must act.
pub(super) async fn tell_holder(conn: &mut Conn, now: OffsetDateTime, person: &Person, text: &str) -> Result<()> {
    let link = format!("/supervision/persons/{}", person.id);
    let to = match &person.officer_id {
        Some(officer) => crate::notify::To::User(officer.clone()),
        None => crate::notify::To::Role { department: agency_code(conn, person).await?, role: "sup_officer".into() },
    };
    crate::notify::send(conn, now, &to, &link, text).await?;
    Ok(())
}

/// The code of the agency holding the person (notifications address departments by code).
pub(super) async fn agency_code(conn: &mut Conn, person: &Person) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT code FROM departments WHERE id = $1")
        .bind(&person.agency_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// A person inside the caller's transaction.
pub async fn person_in(conn: &mut Conn, id: &str) -> Result<Person> {
    sqlx::query_as(&format!("{PERSON_SELECT} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound("被监管人员".into()))
}

/// A person as `p` may see them: the holding agency and city-wide superiors. Anyone else gets
/// `StoreError::Forbidden` naming the person, for the caller's audit record.
pub async fn person(db: &Db, p: &Principal, id: &str) -> Result<Person> {
    let x: Person = sqlx::query_as(&format!("{PERSON_SELECT} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::NotFound("被监管人员".into()))?;
    if !may_see(p, &x) {
        return Err(StoreError::Forbidden(format!("非办案机关查看被监管人员 {}，已拒绝", x.name)));
    }
    Ok(x)
}

/// The persons `p` may see, newest first.
pub async fn persons(db: &Db, p: &Principal) -> Result<Vec<Person>> {
    let all: Vec<Person> =
        sqlx::query_as(&format!("{PERSON_SELECT} ORDER BY p.created_at DESC")).fetch_all(db.reader()).await?;
    Ok(all.into_iter().filter(|x| may_see(p, x)).collect())
}

#[derive(Debug, Clone)]
pub struct NewPerson {
    pub id_card_no: String,
    pub name: String,
    pub phone: String,
    pub address: String,
    pub division_code: String,
    pub stage: String,
    pub measure: String,
    pub measure_from: time::Date,
    pub measure_to: time::Date,
}

/// Registers a person under a measure decided by the registering officer's agency. The
/// person gets (or keeps) a citizen login for the phone app; no password is set here — the
/// app signs in with the device token issued at binding.
pub async fn create_person(
    conn: &mut Conn,
    now: OffsetDateTime,
    n: &NewPerson,
    agency: Option<&str>,
    officer: (&str, &str),
) -> Result<String> {
    let agency = agency.ok_or_else(|| StoreError::invalid("agency", "您不属于任何机关，不能登记"))?.to_string();
    let card = domain::IdCardNo::parse(&n.id_card_no).map_err(|e| StoreError::invalid("id_card_no", e.to_string()))?;
    if n.name.trim().is_empty() {
        return Err(StoreError::invalid("name", "请填写姓名"));
    }
    if !STAGES.iter().any(|s| s.0 == n.stage) {
        return Err(StoreError::invalid("stage", "请选择诉讼阶段"));
    }
    let measure =
        Measure::parse(&n.measure).ok_or_else(|| StoreError::invalid("measure", "请选择强制措施或刑罚执行方式"))?;
    measure.check_term(n.measure_from, n.measure_to).map_err(|m| StoreError::invalid("measure_to", m))?;
    if !measure.fits_stage(&n.stage) {
        return Err(StoreError::invalid(
            "measure",
            format!("{}不适用于{}（刑事诉讼法第六十六条；社区矫正法第二条）", measure.label(), stage_label(&n.stage)),
        ));
    }
    // The registering agency decided; the organ the law names executes (arts. 67 ¶2, 74 ¶3).
    let executor = organ_by_stage(conn, measure.executing_stage()).await?;
    let officer_id = (executor == agency).then_some(officer.0);
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM divisions WHERE code = $1")
        .bind(&n.division_code)
        .fetch_one(&mut *conn)
        .await?;
    if exists == 0 {
        return Err(StoreError::invalid("division_code", "区划代码不在本市区划中"));
    }
    let open: Option<String> =
        sqlx::query_scalar("SELECT status FROM sup_persons WHERE id_card_no = $1 AND status IN ('active', 'expired')")
            .bind(card.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    match open.as_deref().and_then(PersonStatus::parse) {
        Some(PersonStatus::Expired) => {
            return Err(StoreError::invalid("id_card_no", "此人前一措施期限已届满尚未解除，请先在其页面办理解除"));
        }
        Some(_) => return Err(StoreError::invalid("id_card_no", "此人已在监管中，请在其页面办理移交或变更")),
        None => {}
    }
    let user: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE login = $1")
        .bind(card.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    let user_id = match user {
        Some(u) => u,
        None => {
            let role = auth::role_id_by_code(conn, "citizen")
                .await?
                .ok_or_else(|| StoreError::NotFound("角色 citizen".into()))?;
            // An unusable password: the person signs in to the app with the device token.
            let unusable = format!("!{}", crate::random_token(16));
            auth::create_user(
                conn,
                now,
                &auth::NewUser {
                    kind: Some(UserKind::Citizen),
                    login: card.as_str().to_string(),
                    display_name: n.name.trim().to_string(),
                    password_hash: unusable,
                    division_code: Some(n.division_code.clone()),
                    id_card_no: Some(card.as_str().to_string()),
                    phone: n.phone.clone(),
                    role_ids: vec![role],
                    ..Default::default()
                },
            )
            .await?
        }
    };
    let id = new_id();
    let ms = to_millis(now);
    sqlx::query(
        "INSERT INTO sup_persons (id, id_card_no, name, phone, address, division_code, agency_id, decider_id, stage, measure,
            measure_from, measure_to, officer_id, user_id, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'active', $15, $15)",
    )
    .bind(&id)
    .bind(card.as_str())
    .bind(n.name.trim())
    .bind(&n.phone)
    .bind(&n.address)
    .bind(&n.division_code)
    .bind(&executor)
    .bind(&agency)
    .bind(&n.stage)
    .bind(measure.as_str())
    .bind(n.measure_from.to_string())
    .bind(n.measure_to.to_string())
    .bind(officer_id)
    .bind(&user_id)
    .bind(ms)
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::PersonCreate, "sup_person", &id)
            .by(officer.0, officer.1)
            .detail(format!(
                "登记被监管人员 {}（{}，{} 至 {}）",
                n.name.trim(),
                n.measure,
                n.measure_from,
                n.measure_to
            )),
    )
    .await?;
    if officer_id.is_none() {
        let person = person_in(conn, &id).await?;
        let text = format!(
            "{}决定对{}{}（{} 至 {}），由你机关执行，请接收并指定责任民警",
            person.decider_name, person.name, person.measure, person.measure_from, person.measure_to
        );
        tell_holder(conn, now, &person, &text).await?;
    }
    Ok(id)
}

/// Binds a phone: the previous device and its token are revoked, a new device token is
/// issued for the person's login (shown once).
pub async fn bind_device(
    conn: &mut Conn,
    now: OffsetDateTime,
    person: &Person,
    device_id: &str,
    by: (&str, &str),
) -> Result<String> {
    let device_id = device_id.trim();
    if device_id.is_empty() || device_id.len() > 64 {
        return Err(StoreError::invalid("device_id", "请填写设备标识（1–64 个字符）"));
    }
    let user = person.user_id.clone().ok_or_else(|| StoreError::invalid("device_id", "此人没有登录账号"))?;
    let ms = to_millis(now);
    let old: Vec<(String, String)> =
        sqlx::query_as("SELECT id, token_id FROM sup_devices WHERE person_id = $1 AND status = 'active'")
            .bind(&person.id)
            .fetch_all(&mut *conn)
            .await?;
    for (dev, token) in &old {
        sqlx::query("UPDATE sup_devices SET status = 'revoked', revoked_at = $1 WHERE id = $2")
            .bind(ms)
            .bind(dev)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(ms)
            .bind(token)
            .execute(&mut *conn)
            .await?;
    }
    let (token_id, token) =
        auth::create_token(conn, now, &user, &format!("亳安码设备 {device_id}"), by.0, None).await?;
    sqlx::query(
        "INSERT INTO sup_devices (id, person_id, device_id, token_id, status, bound_by, bound_at) VALUES ($1, $2, $3, $4, 'active', $5, $6)",
    )
    .bind(new_id())
    .bind(&person.id)
    .bind(device_id)
    .bind(&token_id)
    .bind(by.0)
    .bind(ms)
    .execute(&mut *conn)
    .await?;
    let what = if old.is_empty() { "绑定设备" } else { "更换绑定设备（原设备已停用）" };
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::DeviceBind, "sup_person", &person.id)
            .by(by.0, by.1)
            .detail(format!("{}：{what} {device_id}", person.name)),
    )
    .await?;
    Ok(token)
}

pub async fn active_device(db: &Db, person_id: &str) -> Result<Option<(String, i64)>> {
    Ok(sqlx::query_as("SELECT device_id, bound_at FROM sup_devices WHERE person_id = $1 AND status = 'active'")
        .bind(person_id)
        .fetch_optional(db.reader())
        .await?)
}

/// The person under supervision whose login this is, if any.
pub async fn person_of_user(db: &Db, user_id: &str) -> Result<Option<Person>> {
    Ok(sqlx::query_as(&format!("{PERSON_SELECT} WHERE p.user_id = $1 AND p.status = 'active'"))
        .bind(user_id)
        .fetch_optional(db.reader())
        .await?)
}

/// The person a device token belongs to, if that device is the person's active one. A
/// supervised person's login used from another device is refused and alarmed (更换设备).
pub async fn person_of_device(
    db: &Db,
    cfg: &crate::config::CityConfig,
    now: OffsetDateTime,
    user_id: &str,
    device_id: &str,
) -> Result<Person> {
    let p: Option<Person> = sqlx::query_as(&format!(
        "{PERSON_SELECT} WHERE p.user_id = $1 AND p.status = 'active'
           AND EXISTS (SELECT 1 FROM sup_devices v WHERE v.person_id = p.id AND v.device_id = $2 AND v.status = 'active')"
    ))
    .bind(user_id)
    .bind(device_id)
    .fetch_optional(db.reader())
    .await?;
    if let Some(p) = p {
        return Ok(p);
    }
    if let Some(person) = person_of_user(db, user_id).await?
        && active_device(db, &person.id).await?.is_some()
    {
        let mut tx = db.begin().await?;
        watch::foreign_device(&mut tx, cfg, now, &person, device_id).await?;
        tx.commit().await?;
    }
    Err(StoreError::Forbidden("此设备未绑定或已停用，请联系办案机关重新绑定".into()))
}
