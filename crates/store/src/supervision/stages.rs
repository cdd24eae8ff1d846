//! Hand-off between the organs that decide a case in turn (公安 → 检察院 → 法院 → 司法局): the
//! deciding organ hands the person on to a later stage with the measure that stage's organ
//! decided; the stage it ends is kept as the case's record (数据互通可查). The executing organ
//! changes only when the measure's executor does: the police execute 取保候审 and 监视居住
//! whichever organ decided them (刑事诉讼法 arts. 67 ¶2, 74 ¶3), so a hand-off from the police
//! to the procuratorate keeps the officer and the fences; a judgment served in the community
//! goes to the 社区矫正机构.

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
    /// The organ that decided the measure of that stage.
    pub decider_name: String,
    pub ended_at: i64,
    pub handed_name: String,
    pub note: String,
}

/// Hands `person` from the deciding organ to a later stage's: the ended stage is recorded,
/// the person's measure and period become the new decision's, the deciding organ becomes the
/// stage's organ (after judgment, the court), and
/// the executing organ is the one the new measure names — the officer is kept when it does
/// not change, and the new executor's officers are told to take the case when it does.
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
    if !measure.fits_stage(&h.stage) {
        return Err(StoreError::invalid(
            "measure",
            format!("{}不适用于{}（刑事诉讼法第六十六条；社区矫正法第二条）", measure.label(), stage_label(&h.stage)),
        ));
    }
    // After judgment the court is the 社区矫正决定机关 (社区矫正法 art. 2); before it, each
    // stage's organ decides its own measure.
    let decider = super::organ_by_stage(conn, if h.stage == "justice" { "court" } else { &h.stage }).await?;
    let executor = super::organ_by_stage(conn, measure.executing_stage()).await?;
    let officer = if executor == person.agency_id { person.officer_id.clone() } else { None };
    let ms = to_millis(now);
    sqlx::query(
        "INSERT INTO sup_stages (id, person_id, stage, agency_id, decider_id, measure, measure_from, measure_to, ended_at,
            handed_by, handed_name, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(new_id())
    .bind(&person.id)
    .bind(&person.stage)
    .bind(&person.agency_id)
    .bind(&person.decider_id)
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
        "UPDATE sup_persons SET stage = $1, agency_id = $2, decider_id = $3, measure = $4, measure_from = $5, measure_to = $6,
            officer_id = $7, expiry_warned = NULL, updated_at = $8 WHERE id = $9",
    )
    .bind(&h.stage)
    .bind(&executor)
    .bind(&decider)
    .bind(measure.as_str())
    .bind(h.measure_from.to_string())
    .bind(h.measure_to.to_string())
    .bind(&officer)
    .bind(ms)
    .bind(&person.id)
    .execute(&mut *conn)
    .await?;
    let moved = person_in(conn, &person.id).await?;
    let what = format!(
        "{}由{}移交{}：{}决定{}，{} 至 {}，由{}执行",
        person.name,
        person.decider_name,
        stage_label(&h.stage),
        moved.decider_name,
        measure.label(),
        h.measure_from,
        h.measure_to,
        moved.agency_name
    );
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::HandOff, "sup_person", &person.id)
            .by(by.0, by.1)
            .detail(what.clone()),
    )
    .await?;
    let link = format!("/supervision/persons/{}", person.id);
    if moved.decider_id != person.decider_id {
        super::tell_decider(conn, now, &moved, &format!("{what}。此前阶段的记录可在其页面查阅。")).await?;
    }
    if officer.is_none() {
        let code: Option<String> = sqlx::query_scalar("SELECT code FROM departments WHERE id = $1")
            .bind(&executor)
            .fetch_optional(&mut *conn)
            .await?;
        let to = To::Role { department: code, role: "sup_officer".into() };
        notify::send(conn, now, &to, &link, &format!("{what}。请接收并指定责任民警。")).await?;
    } else {
        super::tell_holder(conn, now, &moved, &format!("{what}。执行机关不变，请按新决定的期限继续监管。")).await?;
    }
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
        "SELECT s.stage, d.short_name AS agency_name, s.measure, s.measure_from, s.measure_to, dd.short_name AS decider_name,
            s.ended_at, s.handed_name, s.note
         FROM sup_stages s JOIN departments d ON d.id = s.agency_id JOIN departments dd ON dd.id = COALESCE(s.decider_id, s.agency_id)
         WHERE s.person_id = $1 ORDER BY s.ended_at",
    )
    .bind(person_id)
    .fetch_all(db.reader())
    .await?)
}
