//! Hand-off between the agencies that hold a case in turn (公安 → 检察院 → 法院 → 司法局): the
//! holding agency hands the person on to a later stage with the measure that stage decided;
//! the stage it ends is kept as the case's record, which the receiving agency reads
//! (数据互通可查). Location data stays with the agency holding the case.

use super::{Person, STAGES, person_in, stage_label};
use crate::notify::{self, To};
use crate::{Conn, Db, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::to_millis;
use domain::supervision::{Measure, PersonStatus};
use time::{Date, OffsetDateTime};

#[derive(Debug, Clone)]
pub struct HandOff {
    pub stage: String,
    pub measure: String,
    pub measure_from: Date,
    pub measure_to: Date,
    pub note: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StageRow {
    pub stage: String,
    pub agency_name: String,
    pub measure: String,
    pub measure_from: String,
    pub measure_to: String,
    pub ended_at: i64,
    pub handed_name: String,
    pub note: String,
}

/// Hands `person` from the holding agency to a later stage's agency: the ended stage is
/// recorded, the person's measure and period become the new stage's, the responsible officer
/// is cleared until the receiving agency takes the case, and that agency's officers are told.
pub async fn hand_off(
    conn: &mut Conn,
    now: OffsetDateTime,
    person: &Person,
    h: &HandOff,
    by: (&str, &str),
) -> Result<()> {
    let from = STAGES.iter().position(|s| s.0 == person.stage).unwrap_or(0);
    let Some(to) = STAGES.iter().position(|s| s.0 == h.stage) else {
        return Err(StoreError::invalid("stage", "请选择移交的办案阶段"));
    };
    if to <= from {
        return Err(StoreError::invalid("stage", "只能移交到后续办案阶段"));
    }
    if person.status != PersonStatus::Active {
        return Err(StoreError::conflict("status", format!("该人员{}，不能移交", person.status.label())));
    }
    // The receiving stage's organ decides anew: its own period, within the statutory maximum
    // (刑事诉讼法 art. 79 counts per deciding organ).
    let measure =
        Measure::parse(&h.measure).ok_or_else(|| StoreError::invalid("measure", "请选择强制措施或刑罚执行方式"))?;
    measure.check_term(h.measure_from, h.measure_to).map_err(|m| StoreError::invalid("measure_to", m))?;
    let code = STAGES[to].2;
    let agency: Option<String> =
        sqlx::query_scalar("SELECT id FROM departments WHERE code = $1").bind(code).fetch_optional(&mut *conn).await?;
    let agency =
        agency.ok_or_else(|| StoreError::invalid("stage", format!("本市未配置{}对应的机关", stage_label(&h.stage))))?;
    let ms = to_millis(now);
    sqlx::query(
        "INSERT INTO sup_stages (id, person_id, stage, agency_id, measure, measure_from, measure_to, ended_at, handed_by, handed_name, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(new_id())
    .bind(&person.id)
    .bind(&person.stage)
    .bind(&person.agency_id)
    .bind(&person.measure)
    .bind(&person.measure_from)
    .bind(&person.measure_to)
    .bind(ms)
    .bind(by.0)
    .bind(by.1)
    .bind(h.note.trim())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE sup_persons SET stage = $1, agency_id = $2, measure = $3, measure_from = $4, measure_to = $5, officer_id = NULL,
            updated_at = $6 WHERE id = $7",
    )
    .bind(&h.stage)
    .bind(&agency)
    .bind(&h.measure)
    .bind(h.measure_from.to_string())
    .bind(h.measure_to.to_string())
    .bind(ms)
    .bind(&person.id)
    .execute(&mut *conn)
    .await?;
    let moved = person_in(conn, &person.id).await?;
    let what = format!(
        "{}由{}移交{}（{}），措施：{}，{} 至 {}",
        person.name,
        person.agency_name,
        moved.agency_name,
        stage_label(&h.stage),
        h.measure,
        h.measure_from,
        h.measure_to
    );
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::HandOff, "sup_person", &person.id)
            .by(by.0, by.1)
            .detail(what.clone()),
    )
    .await?;
    notify::send(
        conn,
        now,
        &To::Role { department: Some(code.to_string()), role: "sup_officer".into() },
        &format!("/supervision/persons/{}", person.id),
        &format!("{what}。请接收并指定责任民警。"),
    )
    .await?;
    Ok(())
}

/// The receiving agency's officer takes responsibility for the person.
pub async fn take_over(conn: &mut Conn, now: OffsetDateTime, person: &Person, by: (&str, &str)) -> Result<()> {
    sqlx::query("UPDATE sup_persons SET officer_id = $1, updated_at = $2 WHERE id = $3")
        .bind(by.0)
        .bind(to_millis(now))
        .bind(&person.id)
        .execute(&mut *conn)
        .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::TakeOver, "sup_person", &person.id)
            .by(by.0, by.1)
            .detail(format!("{}：{}接收，{}负责", person.name, person.agency_name, by.1)),
    )
    .await?;
    Ok(())
}

/// The stages the case went through before the present one, oldest first.
pub async fn stages_of(db: &Db, person_id: &str) -> Result<Vec<StageRow>> {
    Ok(sqlx::query_as(
        "SELECT s.stage, d.short_name AS agency_name, s.measure, s.measure_from, s.measure_to, s.ended_at, s.handed_name, s.note
         FROM sup_stages s JOIN departments d ON d.id = s.agency_id WHERE s.person_id = $1 ORDER BY s.ended_at",
    )
    .bind(person_id)
    .fetch_all(db.reader())
    .await?)
}
