//! Runtime of risk scores: events are recorded as they arrive; every score defined for the
//! subject type is recomputed and its history kept whenever points or colour change.

use crate::config::CityConfig;
use crate::{Conn, Db, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::{from_millis, to_millis};
use domain::scoring::{Color, Score, ScoreDef};
use sqlx::Row;
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub kind: &'a str,
    pub at: OffsetDateTime,
    pub source: &'a str,
    pub note: &'a str,
}

async fn events_of(
    conn: &mut Conn,
    subject_type: &str,
    subject_id: &str,
    since: OffsetDateTime,
) -> Result<Vec<(String, OffsetDateTime)>> {
    let rows = sqlx::query("SELECT kind, at FROM score_events WHERE subject_type = $1 AND subject_id = $2 AND at > $3")
        .bind(subject_type)
        .bind(subject_id)
        .bind(to_millis(since))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, from_millis(r.try_get(1)?)))).collect()
}

fn longest_window(def: &ScoreDef) -> i64 {
    def.events.iter().map(|e| e.window_days as i64).max().unwrap_or(0)
}

/// Records an event and updates every score of the subject type. Returns the scores now.
pub async fn record(
    conn: &mut Conn,
    cfg: &CityConfig,
    ev: NewEvent<'_>,
    by: (&str, &str),
    now: OffsetDateTime,
) -> Result<Vec<(String, Score)>> {
    let defs: Vec<&ScoreDef> = cfg.scores.iter().filter(|d| d.subject == ev.subject_type).collect();
    if defs.is_empty() {
        return Err(StoreError::invalid("subject_type", format!("没有为“{}”定义评分", ev.subject_type)));
    }
    if !defs.iter().any(|d| d.events.iter().any(|w| w.kind == ev.kind)) {
        let kinds: Vec<&str> = defs.iter().flat_map(|d| d.events.iter().map(|w| w.kind.as_str())).collect();
        return Err(StoreError::invalid("kind", format!("未知事件类型“{}”，可选：{}", ev.kind, kinds.join("、"))));
    }
    if ev.at > now {
        return Err(StoreError::invalid("at", "事件时间不能晚于当前时间"));
    }
    sqlx::query("INSERT INTO score_events (id, subject_type, subject_id, kind, at, source, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(new_id())
        .bind(ev.subject_type)
        .bind(ev.subject_id)
        .bind(ev.kind)
        .bind(to_millis(ev.at))
        .bind(ev.source)
        .bind(ev.note)
        .bind(to_millis(now))
        .execute(&mut *conn)
        .await?;
    let mut out = vec![];
    for d in &defs {
        let events =
            events_of(conn, ev.subject_type, ev.subject_id, now - time::Duration::days(longest_window(d))).await?;
        let score = d.score(&events, now);
        let last: Option<(i64, String)> = sqlx::query_as(
            "SELECT points, color FROM score_history WHERE score_id = $1 AND subject_type = $2 AND subject_id = $3 ORDER BY at DESC, id DESC LIMIT 1",
        )
        .bind(&d.id)
        .bind(ev.subject_type)
        .bind(ev.subject_id)
        .fetch_optional(&mut *conn)
        .await?;
        if last.as_ref() != Some(&(score.points as i64, score.color.as_str().to_string())) {
            sqlx::query(
                "INSERT INTO score_history (id, score_id, subject_type, subject_id, points, color, contributions, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(new_id())
            .bind(&d.id)
            .bind(ev.subject_type)
            .bind(ev.subject_id)
            .bind(score.points as i64)
            .bind(score.color.as_str())
            .bind(serde_json::to_string(&score.contributions).unwrap_or_default())
            .bind(to_millis(now))
            .execute(&mut *conn)
            .await?;
        }
        out.push((d.id.clone(), score));
    }
    // In words: the event's and the scores' names, not their codes.
    let kind_name = defs
        .iter()
        .flat_map(|d| d.events.iter())
        .find(|w| w.kind == ev.kind)
        .map(|w| w.name.clone())
        .unwrap_or_else(|| ev.kind.to_string());
    let score_name =
        |id: &str| defs.iter().find(|d| d.id == id).map(|d| d.name.clone()).unwrap_or_else(|| id.to_string());
    let e = AuditEntry::new(domain::audit::CoreAudit::ScoreEvent, ev.subject_type, ev.subject_id)
        .by(by.0, by.1)
        .detail(format!(
            "{kind_name}（来源：{}）：{}",
            ev.source,
            out.iter()
                .map(|(id, s)| format!("{} {}分 {}", score_name(id), s.points, s.color.label()))
                .collect::<Vec<_>>()
                .join("；")
        ));
    audit::append(conn, now, e).await?;
    Ok(out)
}

/// Every score of a subject now, with its history (newest first).
pub async fn of_subject(
    db: &Db,
    cfg: &CityConfig,
    subject_type: &str,
    subject_id: &str,
    now: OffsetDateTime,
) -> Result<Vec<(ScoreDef, Score, Vec<(i64, i64, Color)>)>> {
    let mut out = vec![];
    for d in cfg.scores.iter().filter(|d| d.subject == subject_type) {
        let mut conn = db.reader().acquire().await?;
        let events =
            events_of(&mut conn, subject_type, subject_id, now - time::Duration::days(longest_window(d))).await?;
        let score = d.score(&events, now);
        let history: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT at, points, color FROM score_history WHERE score_id = $1 AND subject_type = $2 AND subject_id = $3 ORDER BY at DESC LIMIT 50",
        )
        .bind(&d.id)
        .bind(subject_type)
        .bind(subject_id)
        .fetch_all(db.reader())
        .await?;
        // A colour not known any more (edited by hand) is left out rather than failing the page.
        let history = history.into_iter().filter_map(|(at, p, c)| Some((at, p, Color::parse(&c)?))).collect();
        out.push((d.clone(), score, history));
    }
    Ok(out)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Latest {
    pub score_id: String,
    pub subject_type: String,
    pub subject_id: String,
    pub points: i64,
    #[sqlx(try_from = "String")]
    pub color: Color,
    pub at: i64,
}

/// Which scored subjects a caller may see: all of them with `scores.view` city-wide; otherwise
/// a supervised person (`person`) only when the caller's agency holds the case — the same rule
/// as the person's own page — and no other subject.
#[derive(Debug, Clone)]
pub enum ScoreScope {
    All,
    Agency(String),
    Nothing,
}

impl ScoreScope {
    pub fn of(p: &domain::auth::Principal) -> ScoreScope {
        match p.scope(domain::auth::perm::SCORES_VIEW) {
            Some(domain::auth::DataScope::All) => ScoreScope::All,
            Some(_) => p.department_id.clone().map(ScoreScope::Agency).unwrap_or(ScoreScope::Nothing),
            None => ScoreScope::Nothing,
        }
    }

    /// Whether the subject is inside the scope.
    pub async fn admits(&self, db: &Db, subject_type: &str, subject_id: &str) -> Result<bool> {
        Ok(match self {
            ScoreScope::All => true,
            ScoreScope::Nothing => false,
            ScoreScope::Agency(dept) => {
                subject_type == "person"
                    && sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sup_persons WHERE id = $1 AND agency_id = $2")
                        .bind(subject_id)
                        .bind(dept)
                        .fetch_one(db.reader())
                        .await?
                        > 0
            }
        })
    }
}

/// The latest score of every subject the scope admits, worst first.
pub async fn latest(db: &Db, scope: &ScoreScope, limit: i64) -> Result<Vec<Latest>> {
    let mut q = crate::sql::Sql::new(
        "SELECT h.score_id, h.subject_type, h.subject_id, h.points, h.color, h.at FROM score_history h
         WHERE h.at = (SELECT MAX(x.at) FROM score_history x WHERE x.score_id = h.score_id AND x.subject_type = h.subject_type AND x.subject_id = h.subject_id)",
    );
    match scope {
        ScoreScope::All => {}
        ScoreScope::Nothing => return Ok(vec![]),
        ScoreScope::Agency(dept) => {
            q.push(" AND h.subject_type = 'person' AND h.subject_id IN (SELECT id FROM sup_persons WHERE agency_id = ")
                .bind(dept.clone())
                .push(")");
        }
    }
    q.push(" ORDER BY h.points DESC, h.at DESC LIMIT ").bind(limit);
    Ok(q.query_as().fetch_all(db.reader()).await?)
}
