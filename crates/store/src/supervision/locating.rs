//! 社区矫正法 art. 29: a person under community correction (社区矫正, 暂予监外执行) carries an
//! electronic location device only by a decision naming one of the article's five situations,
//! approved by the head of the county 司法行政部门, for at most three months; a renewal after
//! evaluation adds at most three more. Without a decision in force the platform collects no
//! fixes for the person (check-ins, reports and leave still work); the information serves
//! community correction only (art. 29 ¶3).

use super::Person;
use crate::{Conn, Db, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::{local, to_millis};
use domain::supervision::{LocatingGround, check_locating_term};
use time::{Date, OffsetDateTime};

#[derive(Debug, Clone)]
pub struct NewLocating {
    /// `LocatingGround` code (1–5).
    pub ground: String,
    /// The facts of the situation (which ban, which warning …).
    pub facts: String,
    /// The head of the county 司法行政部门 who approved.
    pub approver_name: String,
    pub approved_on: Date,
    pub valid_to: Date,
    /// A renewal of the decision in force (or just run out): it starts the day after it.
    pub renew: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LocatingRow {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub ground: LocatingGround,
    pub facts: String,
    pub approver_name: String,
    pub approved_on: String,
    pub valid_from: String,
    pub valid_to: String,
    pub renews: Option<String>,
    pub created_name: String,
    pub created_at: i64,
}

/// Records an approved decision (or a renewal) for `person`, whose measure must need one.
pub async fn approve_locating(
    conn: &mut Conn,
    now: OffsetDateTime,
    person: &Person,
    n: &NewLocating,
    by: (&str, &str),
) -> Result<LocatingRow> {
    if !person.measure().is_some_and(|m| m.tracking_needs_decision()) {
        return Err(StoreError::invalid(
            "ground",
            "仅社区矫正对象使用电子定位装置需经此审批（《社区矫正法》第二十九条）",
        ));
    }
    if person.status != domain::supervision::PersonStatus::Active {
        return Err(StoreError::conflict("status", format!("该人员{}，不能使用电子定位装置", person.status.label())));
    }
    let ground = LocatingGround::parse(&n.ground)
        .ok_or_else(|| StoreError::invalid("ground", "请选择《社区矫正法》第二十九条规定的情形"))?;
    if n.facts.trim().is_empty() || n.facts.chars().count() > 500 {
        return Err(StoreError::invalid("facts", "请写明具体事实（最多 500 字）"));
    }
    if n.approver_name.trim().is_empty() {
        return Err(StoreError::invalid("approver_name", "请填写批准的县级司法行政部门负责人"));
    }
    let today = local(now).date();
    if n.approved_on > today {
        return Err(StoreError::invalid("approved_on", "批准日期不能晚于今天"));
    }
    let latest: Option<(String, String)> =
        sqlx::query_as("SELECT id, valid_to FROM sup_locating WHERE person_id = $1 ORDER BY valid_to DESC LIMIT 1")
            .bind(&person.id)
            .fetch_optional(&mut *conn)
            .await?;
    let in_force = latest.as_ref().filter(|(_, to)| to.as_str() >= today.to_string().as_str());
    let (valid_from, renews) = match (n.renew, &latest) {
        (true, Some((id, to))) => {
            let after = Date::parse(to, &time::format_description::well_known::Iso8601::DATE)
                .map_err(|_| StoreError::Other(format!("已存日期无效：{to}")))?
                .next_day()
                .unwrap_or(n.approved_on);
            (after.max(n.approved_on), Some(id.clone()))
        }
        (true, None) => return Err(StoreError::invalid("renew", "此人尚无电子定位决定，不能延长")),
        (false, _) if in_force.is_some() => {
            return Err(StoreError::invalid("renew", "已有有效的电子定位决定；期满仍有必要的，请办理延长"));
        }
        (false, _) => (n.approved_on, None),
    };
    check_locating_term(valid_from, n.valid_to).map_err(|m| StoreError::invalid("valid_to", m))?;
    if n.valid_to.to_string() > person.measure_to {
        return Err(StoreError::invalid("valid_to", format!("使用期限不能超过矫正期限（{}）", person.measure_to)));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO sup_locating (id, person_id, ground, facts, approver_name, approved_on, valid_from, valid_to, renews,
            created_by, created_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(&person.id)
    .bind(ground.as_str())
    .bind(n.facts.trim())
    .bind(n.approver_name.trim())
    .bind(n.approved_on.to_string())
    .bind(valid_from.to_string())
    .bind(n.valid_to.to_string())
    .bind(&renews)
    .bind(by.0)
    .bind(by.1)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::Locating, "sup_person", &person.id)
            .by(by.0, by.1)
            .detail(format!(
                "{}：{}使用电子定位装置（{}，{} 批准），{} 至 {}",
                person.name,
                if renews.is_some() { "延长" } else { "决定" },
                ground.label(),
                n.approver_name.trim(),
                valid_from,
                n.valid_to
            )),
    )
    .await?;
    Ok(sqlx::query_as(&format!("{SELECT} WHERE id = $1")).bind(&id).fetch_one(&mut *conn).await?)
}

const SELECT: &str = "SELECT id, ground, facts, approver_name, approved_on, valid_from, valid_to, renews, created_name,
    created_at FROM sup_locating";

pub async fn locating_of(db: &Db, person_id: &str) -> Result<Vec<LocatingRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE person_id = $1 ORDER BY valid_from DESC"))
        .bind(person_id)
        .fetch_all(db.reader())
        .await?)
}

/// Of `ids`, the persons for whom no fix may be collected on `day`: community measures
/// without an art. 29 decision in force. One statement with the ids as one JSON array
/// parameter, however many: a batch names up to 10,000 persons, and on PostgreSQL twenty
/// statements of 500 literals each took 30–80 ms of every upload (parsing and planning them).
pub(super) async fn untracked(conn: &mut Conn, ids: &[&str], day: &str) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    // The one place the two SQL dialects differ: expanding a JSON array into rows.
    let list = if conn.backend_name() == "PostgreSQL" {
        "SELECT jsonb_array_elements_text(CAST($2 AS jsonb))"
    } else {
        "SELECT value FROM json_each($2)"
    };
    let ids = serde_json::to_string(ids).map_err(|e| crate::StoreError::Other(e.to_string()))?;
    Ok(sqlx::query_scalar(&format!(
        "SELECT p.id FROM sup_persons p WHERE p.measure IN ('社区矫正', '暂予监外执行') AND p.id IN ({list})
           AND NOT EXISTS (SELECT 1 FROM sup_locating l WHERE l.person_id = p.id AND l.valid_from <= $1 AND l.valid_to >= $1)"
    ))
    .bind(day)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?)
}
