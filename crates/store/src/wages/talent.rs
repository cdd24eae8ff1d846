//! Talent portrait data: people, employments and job postings, read for the employers in a
//! user's scope (and an industry or county when asked), and the demo city's.

use crate::org::{EnterpriseFilter, RowScope, enterprise_where};
use crate::sql::{Sql, Value};
use crate::{Conn, Db, Result};
use domain::clock::to_millis;
use domain::wages::talent::{Education, Employment, Posting};
use sqlx::Row;
use time::OffsetDateTime;

#[derive(Debug, Clone, Default)]
pub struct TalentFilter {
    pub industry: Option<String>,
    pub division: Option<String>,
}

fn employers(scope: &RowScope, f: &TalentFilter) -> Sql {
    let mut q = Sql::new("SELECT e.uscc FROM enterprises e");
    let ef = EnterpriseFilter { industry: f.industry.clone(), division: f.division.clone(), ..Default::default() };
    enterprise_where(scope, &ef, &mut q);
    q
}

/// Employments and postings of the covered employers, with each employer's industry.
pub async fn load(db: &Db, scope: &RowScope, f: &TalentFilter) -> Result<(Vec<Employment>, Vec<Posting>)> {
    let mut q = Sql::new(
        "SELECT p.id_card_no, p.education, p.school, p.major, e.industry, t.started_on, t.ended_on
         FROM talent_employments t JOIN talent_people p ON p.id_card_no = t.id_card_no
         JOIN enterprises e ON e.uscc = t.employer_uscc WHERE t.employer_uscc IN (",
    );
    q.append(&employers(scope, f)).push(")");
    let mut emps = vec![];
    for r in q.query().fetch_all(db.reader()).await? {
        let card: String = r.try_get(0)?;
        let Ok(id) = domain::IdCardNo::parse(&card) else { continue };
        let edu: String = r.try_get(1)?;
        let started: String = r.try_get(5)?;
        let Some(started_on) = crate::wages::labor::parse_day(&started) else { continue };
        let ended: Option<String> = r.try_get(6)?;
        emps.push(Employment {
            birth: id.birth_date(),
            education: Education::parse(&edu).unwrap_or(Education::Middle),
            school: r.try_get(2)?,
            major: r.try_get(3)?,
            industry: r.try_get(4)?,
            started_on,
            ended_on: ended.as_deref().and_then(crate::wages::labor::parse_day),
        });
    }
    let mut q = Sql::new(
        "SELECT e.industry, j.title, j.openings, j.applicants, j.posted_on
         FROM job_postings j JOIN enterprises e ON e.uscc = j.employer_uscc WHERE j.employer_uscc IN (",
    );
    q.append(&employers(scope, f)).push(")");
    let mut posts = vec![];
    for r in q.query().fetch_all(db.reader()).await? {
        let on: String = r.try_get(4)?;
        let Some(posted_on) = crate::wages::labor::parse_day(&on) else { continue };
        posts.push(Posting {
            industry: r.try_get(0)?,
            title: r.try_get(1)?,
            openings: r.try_get(2)?,
            applicants: r.try_get(3)?,
            posted_on,
        });
    }
    Ok((emps, posts))
}

/// The demo city's people at work (see `domain::wages::talent::demo`): one person per five registered
/// employees, at least 2,000.
pub async fn load_demo(conn: &mut Conn, now: OffsetDateTime) -> Result<usize> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT uscc, industry, employees FROM enterprises ORDER BY uscc").fetch_all(&mut *conn).await?;
    let total: i64 = rows.iter().map(|r| r.2).sum();
    let n = ((total / 5) as usize).max(2000);
    let today = domain::clock::local(now).date();
    let (persons, jobs, posts) = domain::wages::talent::demo(2026, &rows, today, n);
    let ms = to_millis(now);
    let src = || Value::Text("演示数据".into());
    let text = |s: &str| Value::Text(s.to_string());
    insert_many(
        conn,
        "talent_people (id_card_no, name, education, school, major, source, updated_at)",
        persons
            .iter()
            .map(|p| {
                vec![
                    text(p.id_card_no.as_str()),
                    text(&p.name),
                    text(p.education.as_str()),
                    text(&p.school),
                    text(&p.major),
                    src(),
                    Value::Int(ms),
                ]
            })
            .collect(),
    )
    .await?;
    insert_many(
        conn,
        "talent_employments (id, id_card_no, employer_uscc, started_on, ended_on, source, external_id, created_at)",
        jobs.iter()
            .enumerate()
            .map(|(i, j)| {
                vec![
                    Value::Text(crate::new_id()),
                    text(persons[j.person].id_card_no.as_str()),
                    text(&j.uscc),
                    Value::Text(j.started_on.to_string()),
                    j.ended_on.map(|d| Value::Text(d.to_string())).unwrap_or(Value::Null),
                    src(),
                    Value::Text(format!("JY{i:06}")),
                    Value::Int(ms),
                ]
            })
            .collect(),
    )
    .await?;
    insert_many(
        conn,
        "job_postings (id, employer_uscc, title, education, openings, applicants, posted_on, source, external_id, created_at)",
        posts
            .iter()
            .enumerate()
            .map(|(i, j)| {
                vec![
                    Value::Text(crate::new_id()),
                    text(&j.uscc),
                    text(&j.title),
                    text(j.education.as_str()),
                    Value::Int(j.openings),
                    Value::Int(j.applicants),
                    Value::Text(j.posted_on.to_string()),
                    src(),
                    Value::Text(format!("GW{i:06}")),
                    Value::Int(ms),
                ]
            })
            .collect(),
    )
    .await?;
    Ok(persons.len())
}

/// Inserts rows a few hundred to a statement: the demo writes thousands.
async fn insert_many(conn: &mut Conn, into: &str, rows: Vec<Vec<Value>>) -> Result<()> {
    for chunk in rows.chunks(200) {
        let mut q = Sql::new(&format!("INSERT INTO {into} VALUES "));
        for (i, row) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            for (j, v) in row.iter().enumerate() {
                if j > 0 {
                    q.push(", ");
                }
                q.bind(v.clone());
            }
            q.push(")");
        }
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}
