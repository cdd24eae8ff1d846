//! 外出请假 (leave requests): a supervised person asks to travel (business in 长三角, buying
//! herbs in a 中药 producing area …) before leaving. The executing organ approves or refuses
//! (刑事诉讼法 art. 71 ¶1(1), art. 77 ¶1(1)); when a 检察院 or 法院 decided the measure, the
//! police approve only after it has consented (公安机关办理刑事案件程序规定, 公安部令第127号
//! (2012) art. 91 ¶2: "人民法院、人民检察院决定取保候审的，负责执行的派出所在批准被取保候审人离开
//! 所居住的市、县前，应当征得决定机关同意" — as quoted by third parties; the article's number in
//! the 2020 revision, 公安部令第159号, is not confirmed). An approval adds the preset's areas as allowed fences valid for the approved window only, so
//! the fences change on their own when the window opens and change back when it closes.

use super::fences::{NewFence, add_fence};
use super::{Caches, Person, person_in};
use crate::config::CityConfig;
use crate::notify::{self, To};
use crate::{Conn, Db, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::{format_minute, from_millis, local, to_millis};
use domain::geo::Datum;
use domain::supervision::{LeaveStatus, Rule};
use time::OffsetDateTime;

fn when(ms: i64) -> String {
    format_minute(from_millis(ms))
}

/// The longest leave one request may ask for.
pub const MAX_LEAVE_DAYS: i64 = 30;

#[derive(Debug, Clone)]
pub struct NewLeave {
    pub preset: String,
    /// Where exactly (company, market, hospital …).
    pub destination: String,
    pub reason: String,
    pub from_ms: i64,
    pub to_ms: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct LeaveRow {
    pub id: String,
    pub no: String,
    pub person_id: String,
    pub preset: String,
    pub destination: String,
    pub reason: String,
    pub from_ms: i64,
    pub to_ms: i64,
    #[sqlx(try_from = "String")]
    pub status: LeaveStatus,
    pub decided_name: Option<String>,
    pub decided_at: Option<i64>,
    pub note: String,
    /// Who consented (or refused) for the deciding organ, when it is not the executing one.
    pub consent_name: Option<String>,
    pub consent_at: Option<i64>,
    pub consent_note: String,
    pub created_at: i64,
}

impl LeaveRow {
    /// Whose turn it is: the deciding organ's consent, or the executing organ's approval.
    pub fn awaits(&self, person: &Person) -> Option<super::Organ> {
        match self.status {
            LeaveStatus::Pending if person.decided_elsewhere() => Some(super::Organ { executes: false, decides: true }),
            LeaveStatus::Pending | LeaveStatus::Consented => Some(super::Organ { executes: true, decides: false }),
            _ => None,
        }
    }
}

/// Files a request for `person` (by the person, from the app or their page). Checked: a known
/// preset, a destination and reason, a window that ends after it starts, lasts at most
/// `MAX_LEAVE_DAYS`, starts no earlier than a day ago and lies within the measure's period.
pub async fn request_leave(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    person: &Person,
    l: &NewLeave,
    by: (&str, &str),
) -> Result<LeaveRow> {
    let preset =
        cfg.leave_preset(&l.preset).ok_or_else(|| StoreError::invalid("preset", "请选择外出事由类型（目的地范围）"))?;
    if l.destination.trim().is_empty() {
        return Err(StoreError::invalid("destination", "请填写具体去向，如单位、市场或医院名称"));
    }
    if l.reason.trim().is_empty() {
        return Err(StoreError::invalid("reason", "请填写外出事由"));
    }
    if l.to_ms <= l.from_ms {
        return Err(StoreError::invalid("to", "返回时间应晚于出发时间"));
    }
    if l.to_ms - l.from_ms > MAX_LEAVE_DAYS * 86_400_000 {
        return Err(StoreError::invalid("to", format!("一次请假最长 {MAX_LEAVE_DAYS} 天，请分次申请")));
    }
    // 未经执行机关批准不得离开 (art. 71 ¶1(1), art. 77 ¶1(1)): a request comes before departure.
    let now_ms = to_millis(now);
    if l.from_ms < now_ms {
        return Err(StoreError::invalid(
            "from",
            "请在出发前申请：未经执行机关批准不得离开（《刑事诉讼法》第七十一条、第七十七条）",
        ));
    }
    if person.measure() == Some(domain::supervision::Measure::Surveillance) && !preset.surveillance {
        return Err(StoreError::invalid(
            "preset",
            format!(
                "监视居住期间未经批准不得离开执行监视居住的处所（《刑事诉讼法》第七十七条），“{}”不适用；就医、诉讼等事由请选择可适用的类型",
                preset.name
            ),
        ));
    }
    let day = |ms: i64| local(from_millis(ms)).date().to_string();
    if day(l.from_ms) < person.measure_from || day(l.to_ms) > person.measure_to {
        return Err(StoreError::invalid(
            "to",
            format!("请假期间应在措施期限（{} 至 {}）之内", person.measure_from, person.measure_to),
        ));
    }
    let year = local(now).year();
    let n = crate::alerts::next_serial(conn, "sup_leave", year).await?;
    let no = format!("QJ{year}{n:06}");
    let id = new_id();
    sqlx::query(
        "INSERT INTO sup_leaves (id, no, person_id, preset, destination, reason, from_ms, to_ms, status, requested_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10)",
    )
    .bind(&id)
    .bind(&no)
    .bind(&person.id)
    .bind(&preset.id)
    .bind(l.destination.trim())
    .bind(l.reason.trim())
    .bind(l.from_ms)
    .bind(l.to_ms)
    .bind(by.0)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    let what = format!(
        "{}申请{}（{}）：{} 至 {}，去向：{}",
        person.name,
        preset.name,
        no,
        when(l.from_ms),
        when(l.to_ms),
        l.destination.trim()
    );
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::LeaveRequest, "sup_leave", &id)
            .by(by.0, by.1)
            .detail(what.clone()),
    )
    .await?;
    if person.decided_elsewhere() {
        super::tell_decider(conn, now, person, &format!("{what}。请先审查是否同意，再由{}批准", person.agency_name))
            .await?;
    } else {
        super::tell_holder(conn, now, person, &what).await?;
    }
    leave(conn, &id).await
}

pub async fn leave(conn: &mut Conn, id: &str) -> Result<LeaveRow> {
    sqlx::query_as(&format!("{LEAVE_SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound("请假申请".into()))
}

const LEAVE_SELECT: &str =
    "SELECT id, no, person_id, preset, destination, reason, from_ms, to_ms, status, decided_name,
    decided_at, note, consent_name, consent_at, consent_note, created_at FROM sup_leaves";

pub async fn leaves_of(db: &Db, person_id: &str) -> Result<Vec<LeaveRow>> {
    Ok(sqlx::query_as(&format!("{LEAVE_SELECT} WHERE person_id = $1 ORDER BY created_at DESC"))
        .bind(person_id)
        .fetch_all(db.reader())
        .await?)
}

/// The officer's answer to a leave request.
#[derive(Debug, Clone, Copy)]
pub struct LeaveVerdict<'a> {
    pub approve: bool,
    /// Required when refusing.
    pub note: &'a str,
}

/// Decides a request as `organ`: when the deciding organ is another than the executing one, it
/// consents (or refuses) first and the executing organ is told; the executing organ then
/// approves (adding the preset's areas as allowed fences for the window) or refuses. A refusal
/// needs a note; the person is told of every step. Returns the request as decided.
#[allow(clippy::too_many_arguments)]
pub async fn decide_leave(
    conn: &mut Conn,
    caches: &Caches,
    cfg: &CityConfig,
    now: OffsetDateTime,
    leave_id: &str,
    organ: super::Organ,
    verdict: LeaveVerdict<'_>,
    by: (&str, &str),
) -> Result<LeaveRow> {
    let LeaveVerdict { approve, note } = verdict;
    let l = leave(conn, leave_id).await?;
    let person = person_in(conn, &l.person_id).await?;
    let Some(awaits) = l.awaits(&person) else {
        return Err(StoreError::conflict("status", format!("该申请已{}，不能重复审批", l.status.label())));
    };
    if !approve && note.trim().is_empty() {
        return Err(StoreError::invalid("note", "不予批准须写明理由"));
    }
    let preset =
        cfg.leave_preset(&l.preset).ok_or_else(|| StoreError::Other(format!("请假类型“{}”已不在配置中", l.preset)))?;
    let window = format!("{}（{}，{} 至 {}）", l.no, preset.name, when(l.from_ms), when(l.to_ms));
    let reason = if note.trim().is_empty() { String::new() } else { format!("：{}", note.trim()) };
    if awaits.decides {
        if !organ.decides {
            return Err(StoreError::Forbidden(format!("请假申请{}须先经决定机关{}同意", l.no, person.decider_name)));
        }
        let status = if approve { LeaveStatus::Consented } else { LeaveStatus::Refused };
        sqlx::query(
            "UPDATE sup_leaves SET status = $1, consent_by = $2, consent_name = $3, consent_at = $4, consent_note = $5 WHERE id = $6",
        )
        .bind(status.as_str())
        .bind(by.0)
        .bind(by.1)
        .bind(to_millis(now))
        .bind(note.trim())
        .bind(leave_id)
        .execute(&mut *conn)
        .await?;
        let what = format!(
            "{}的请假申请{window}：决定机关{}{}{reason}",
            person.name,
            person.decider_name,
            if approve { "同意" } else { "不同意" }
        );
        audit::append(
            conn,
            now,
            AuditEntry::new(domain::supervision::SupervisionAudit::LeaveDecide, "sup_leave", leave_id)
                .by(by.0, by.1)
                .detail(what.clone()),
        )
        .await?;
        if approve {
            super::tell_holder(conn, now, &person, &format!("{what}，请执行机关审批")).await?;
        }
        if let Some(user) = &person.user_id {
            let told = if approve {
                format!("{what}，待{}批准，获批前请勿外出", person.agency_name)
            } else {
                what
            };
            notify::send(conn, now, &To::User(user.clone()), "/me/supervision", &told).await?;
        }
        return leave(conn, leave_id).await;
    }
    if !organ.executes {
        return Err(StoreError::Forbidden(format!("请假申请{}由执行机关{}批准", l.no, person.agency_name)));
    }
    if approve {
        for a in &preset.areas {
            let ring: Vec<Vec<f64>> = a.ring.iter().map(|p| vec![p[0], p[1]]).collect();
            add_fence(
                conn,
                caches,
                now,
                &person,
                &NewFence {
                    name: format!("请假{}：{}", l.no, a.name),
                    rule: Rule::Allowed,
                    geometry: serde_json::json!({ "type": "Polygon", "coordinates": [ring] }).to_string(),
                    datum: Datum::Wgs84,
                    window: Some((l.from_ms, l.to_ms)),
                },
                by,
            )
            .await?;
        }
    }
    let status = if approve { LeaveStatus::Approved } else { LeaveStatus::Refused };
    sqlx::query(
        "UPDATE sup_leaves SET status = $1, decided_by = $2, decided_name = $3, decided_at = $4, note = $5 WHERE id = $6",
    )
    .bind(status.as_str())
    .bind(by.0)
    .bind(by.1)
    .bind(to_millis(now))
    .bind(note.trim())
    .bind(leave_id)
    .execute(&mut *conn)
    .await?;
    let what = format!("{}的请假申请{window}{}{reason}", person.name, status.label());
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::LeaveDecide, "sup_leave", leave_id)
            .by(by.0, by.1)
            .detail(what.clone()),
    )
    .await?;
    if let Some(user) = &person.user_id {
        notify::send(conn, now, &To::User(user.clone()), "/me/supervision", &what).await?;
    }
    leave(conn, leave_id).await
}
