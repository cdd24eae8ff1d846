//! Submissions in three steps, for group commit: `check` needs no database (the request does
//! it), `prepare_many` reads a whole batch's shared data and licenses in one query, and
//! `write_many` writes the batch with a few multi-row statements. With the SQLite driver each
//! statement is a round trip to its worker thread, so the statement count per batch, not per
//! submission, sets the pace.

use super::{Applicant, MaterialKind, Upload, check_form, check_uploads, exchange, item_of};
use crate::config::CityConfig;
use crate::config::services::Item;
use crate::sql::{Value, insert_rows};
use crate::workflow::{self, Runtime};
use crate::{Conn, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::to_millis;
use domain::expr::Facts;
use domain::workflow::{Actor, Effect, Recipient};
use serde_json::{Map, Value as Json};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;

/// A checked submission, ready to write.
pub struct Prepared {
    pub id: String,
    item: String,
    title: String,
    actor: Actor,
    subject: String,
    subject_name: String,
    ip: String,
    form: BTreeMap<String, String>,
    sources: BTreeMap<String, String>,
    lics: BTreeMap<String, String>,
    one_click: bool,
    /// Look-ups made: (interface, fields returned, found).
    calls: Vec<(String, String, bool)>,
    uploads: Vec<Upload>,
}

/// Subject → (records by interface, valid licenses as (type, number) newest first).
type SubjectData = HashMap<String, (HashMap<String, Map<String, Json>>, Vec<(String, String)>)>;

/// The records (all interfaces) and valid licenses of several subjects, in one query: with the
/// SQLite driver each query is a round trip to its worker thread. Subjects are canonical
/// identifiers (checked), written as literals.
async fn subjects_data(conn: &mut Conn, subjects: &[&str], now: OffsetDateTime) -> Result<SubjectData> {
    let list: Vec<String> = subjects.iter().map(|s| Value::from(*s).literal()).collect();
    let list = list.join(", ");
    let sql = format!(
        "SELECT 'r' AS k, subject AS s, interface AS a, data AS b, 0 AS t FROM dx_records WHERE subject IN ({list})
         UNION ALL
         SELECT 'l', holder_id, type, number, issued_at FROM licenses WHERE holder_id IN ({list}) AND revoked_at IS NULL
            AND (valid_to IS NULL OR valid_to > {})
         ORDER BY 5 DESC",
        to_millis(now)
    );
    let rows = sqlx::query(&sql).persistent(false).fetch_all(&mut *conn).await?;
    let mut out: SubjectData = HashMap::new();
    for r in rows {
        let (k, s, a, b): (String, String, String, String) =
            (r.try_get("k")?, r.try_get("s")?, r.try_get("a")?, r.try_get("b")?);
        let e = out.entry(s).or_default();
        if k == "r" {
            e.0.insert(a, serde_json::from_str(&b).unwrap_or_default());
        } else {
            e.1.push((a, b));
        }
    }
    Ok(out)
}

/// One subject's records and valid licenses.
pub(super) async fn subject_data(
    conn: &mut Conn,
    subject: &str,
    now: OffsetDateTime,
) -> Result<(HashMap<String, Map<String, Json>>, Vec<(String, String)>)> {
    Ok(subjects_data(conn, &[subject], now).await?.remove(subject).unwrap_or_default())
}

/// What an application holds, from the typed values, the subject's records and licenses.
pub(super) struct Assembled {
    pub form: BTreeMap<String, String>,
    pub sources: BTreeMap<String, String>,
    pub lics: BTreeMap<String, String>,
    /// Look-ups made: (interface, fields returned, found).
    pub calls: Vec<(String, String, bool)>,
}

/// Typed values for form fields, data fields from the source (never typed), a held license
/// for each license material; each interface read counts as one call.
pub(super) fn assemble(
    cfg: &CityConfig,
    item: &Item,
    records: &HashMap<String, Map<String, Json>>,
    held: &[(String, String)],
    typed: &BTreeMap<String, String>,
) -> Result<Assembled> {
    let (mut form, mut sources, mut lics) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut used: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (m, f) in item.fields() {
        let sourced = f.source().map(|(i, k)| (i, k, records.get(i).and_then(|r| r.get(k)).and_then(|v| v.as_str())));
        if let Some((i, k, _)) = sourced {
            sources.insert(f.key.clone(), i.to_string());
            used.entry(i).or_default().push(k);
        }
        let v = match (m.kind, sourced) {
            (MaterialKind::Data, Some((_, _, Some(v)))) => v.to_string(),
            (MaterialKind::Data, _) => {
                return Err(StoreError::invalid(
                    &m.id,
                    format!("共享数据中查不到“{}”（{}），请联系数据提供部门或到窗口办理", f.label, m.name),
                ));
            }
            _ => typed.get(&f.key).map(|v| v.trim().to_string()).unwrap_or_default(),
        };
        form.insert(f.key.clone(), v);
    }
    for m in item.materials.iter().filter(|m| m.kind == MaterialKind::License) {
        let t = m.license.as_deref().unwrap_or_default();
        match held.iter().find(|l| l.0 == t) {
            Some(l) => {
                lics.insert(m.id.clone(), l.1.clone());
            }
            None => {
                let name = cfg.services.license_type(t).map(|t| t.name.as_str()).unwrap_or("证照");
                return Err(StoreError::invalid(&m.id, format!("名下没有有效的{name}，无法自动提供“{}”", m.name)));
            }
        }
    }
    let mut calls = vec![];
    for (i, keys) in used {
        let iface = cfg.services.interface(i).ok_or_else(|| StoreError::NotFound(format!("数据接口“{i}”")))?;
        if !iface.purposes.iter().any(|p| p == "事项办理") {
            return Err(StoreError::Forbidden(format!("“{}”不提供事项办理调用", iface.name)));
        }
        let rec = records.get(i);
        let returned: Vec<&str> = keys.iter().copied().filter(|k| rec.is_some_and(|r| r.contains_key(*k))).collect();
        calls.push((i.to_string(), returned.join(","), rec.is_some()));
    }
    Ok(Assembled { form, sources, lics, calls })
}

/// The `dx_calls` rows of an applicant's look-ups for an application.
pub(super) fn call_rows(
    calls: &[(String, String, bool)],
    ms: i64,
    who: &Actor,
    subject: &str,
    app: &str,
) -> Vec<Vec<Value>> {
    calls
        .iter()
        .map(|(iface, fields, found)| {
            vec![
                Value::from(new_id()),
                Value::Int(ms),
                Value::from(&who.user_id),
                Value::from(&who.name),
                Value::from(""),
                Value::from(iface),
                Value::from("事项办理"),
                Value::from(subject),
                Value::from(fields),
                Value::Int(i64::from(*found)),
                Value::from(app),
            ]
        })
        .collect()
}

pub(super) const CALL_INSERT: &str = "INSERT INTO dx_calls (id, at, caller_id, caller_name, department, interface, purpose, subject, fields, found, application_id) VALUES";

/// A submission checked without the database (form, identifiers, uploads), to be read and
/// written with its batch.
pub struct Checked {
    item: String,
    actor: Actor,
    subject: String,
    subject_name: String,
    typed: BTreeMap<String, String>,
    uploads: Vec<Upload>,
    ip: String,
}

/// Checks what needs no reading: the item, the subject's identifier, the form and uploads.
pub fn check(
    cfg: &CityConfig,
    item_code: &str,
    who: &Applicant<'_>,
    typed: BTreeMap<String, String>,
    uploads: Vec<Upload>,
    ip: &str,
) -> Result<Checked> {
    let item = item_of(cfg, item_code)?;
    let subject = exchange::subject_key(item.subject, who.subject)?;
    if let Some((k, msg)) = check_form(item, &typed).into_iter().next() {
        return Err(StoreError::invalid(&k, msg));
    }
    check_uploads(item, &uploads)?;
    Ok(Checked {
        item: item.code.clone(),
        actor: who.actor.clone(),
        subject,
        subject_name: who.subject_name.to_string(),
        typed,
        uploads,
        ip: ip.to_string(),
    })
}

/// Reads the shared data and licenses of a batch's subjects in one query and assembles each
/// submission; a submission whose data or licenses are missing is refused alone.
pub async fn prepare_many(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    batch: Vec<Checked>,
) -> Result<Vec<Result<Prepared>>> {
    let mut subjects: Vec<&str> = batch.iter().map(|c| c.subject.as_str()).collect();
    subjects.sort_unstable();
    subjects.dedup();
    let mut data = subjects_data(conn, &subjects, now).await?;
    let empty = Default::default();
    let mut out = Vec::with_capacity(batch.len());
    for c in batch {
        let item = item_of(cfg, &c.item)?;
        let (records, held) = data.get(&c.subject).unwrap_or(&empty);
        out.push(assemble(cfg, item, records, held, &c.typed).map(|a| Prepared {
            id: new_id(),
            item: item.code.clone(),
            title: format!("{}（{}）", item.name, c.subject_name),
            actor: c.actor,
            subject: c.subject,
            subject_name: c.subject_name,
            ip: c.ip,
            form: a.form,
            sources: a.sources,
            lics: a.lics,
            one_click: item.one_click(),
            calls: a.calls,
            uploads: c.uploads,
        }));
    }
    data.clear();
    Ok(out)
}

fn js(m: &BTreeMap<String, String>) -> String {
    serde_json::to_string(m).unwrap_or_default()
}

/// Writes prepared submissions: each starts its item's workflow (the engine runs in memory),
/// and the rows of all of them go in together. The result per submission: `Err` only when
/// the engine refused to start it, which writes nothing for it.
pub async fn write_many(
    conn: &mut Conn,
    rt: &Runtime<'_>,
    now: OffsetDateTime,
    batch: &[&Prepared],
) -> Result<Vec<Result<()>>> {
    let cfg = rt.cfg;
    let ms = to_millis(now);
    let facts = Facts::new();
    let (mut inst_rows, mut task_rows, mut job_rows, mut note_rows) = (vec![], vec![], vec![], vec![]);
    let (mut call_rows, mut app_rows, mut audits, mut out) = (vec![], vec![], vec![], vec![]);
    for p in batch {
        let item = item_of(cfg, &p.item)?;
        let Some(def) = cfg.workflow(&item.workflow_id()) else {
            out.push(Err(StoreError::NotFound(format!("流程“{}”", item.workflow_id()))));
            continue;
        };
        let (inst, effects) = match domain::workflow::start(def, &p.id, &p.actor, &rt.env(def, &facts, now)) {
            Ok(x) => x,
            Err(e) => {
                out.push(Err(workflow::engine_error(e)));
                continue;
            }
        };
        out.push(Ok(()));
        inst_rows.push(vec![
            Value::from(&p.id),
            Value::from(&def.id),
            Value::Int(def.version as i64),
            Value::from(&p.title),
            Value::from(&p.actor.user_id),
            Value::from(&p.actor.name),
            Value::from(inst.status.as_str()),
            Value::from("{}"),
            Value::from(workflow::state_json(&inst)?),
            Value::Int(1),
            Value::Int(ms),
            Value::Int(ms),
        ]);
        task_rows.extend(workflow::task_rows(def, &inst));
        for e in &effects {
            match e {
                Effect::Schedule { timer, at } => job_rows.push(vec![
                    Value::from(new_id()),
                    Value::from(workflow::TIMER_JOB),
                    Value::from(workflow::timer_payload(&p.id, timer).to_string()),
                    Value::Int(to_millis(*at)),
                    Value::from(workflow::timer_key(&p.id, timer)),
                    Value::Int(ms),
                ]),
                Effect::Notify { to, text } => {
                    let (dept, role, user) = match to {
                        Recipient::Role { department, role } => (Some(department.clone()), Some(role.clone()), None),
                        Recipient::Applicant => (None, None, Some(p.actor.user_id.clone())),
                        Recipient::User(u) => (None, None, Some(u.clone())),
                    };
                    note_rows.push(vec![
                        Value::from(new_id()),
                        Value::from(dept),
                        Value::from(role),
                        Value::from(user),
                        Value::from(format!("/applications/{}", p.id)),
                        Value::from(format!("【{}】{text}", p.title)),
                        Value::Int(ms),
                    ]);
                }
                // A start neither cancels timers nor finishes.
                Effect::Cancel { .. } | Effect::Finished { .. } => {}
            }
        }
        call_rows.extend(self::call_rows(&p.calls, ms, &p.actor, &p.subject, &p.id));
        app_rows.push(vec![
            Value::from(&p.id),
            Value::from(&item.code),
            Value::from(&item.department),
            Value::from(&p.subject),
            Value::from(&p.subject_name),
            Value::from(&p.actor.user_id),
            Value::from(js(&p.form)),
            Value::from(js(&p.sources)),
            Value::from(js(&p.lics)),
            Value::Int(i64::from(p.one_click)),
            Value::from(inst.status.as_str()),
            Value::Int(ms),
        ]);
        audits.push(
            AuditEntry::new("services.submit", "application", &p.id)
                .by(&p.actor.user_id, &p.actor.name)
                .from_ip(&p.ip)
                .detail(format!(
                    "{}：{}{}（流程 {}）",
                    item.name,
                    p.subject_name,
                    if p.one_click { "（一键申报）" } else { "" },
                    def.id
                )),
        );
    }
    insert_rows(
        conn,
        "INSERT INTO wf_instances (id, def_id, def_version, title, applicant_id, applicant_name, status, facts, state, version,
            started_at, updated_at) VALUES",
        "",
        &inst_rows,
    )
    .await?;
    insert_rows(conn, workflow::TASK_INSERT, "", &task_rows).await?;
    insert_rows(conn, "INSERT INTO jobs (id, kind, payload, due_at, dedup_key, created_at) VALUES", "", &job_rows)
        .await?;
    insert_rows(
        conn,
        "INSERT INTO notifications (id, department, role, user_id, link, text, created_at) VALUES",
        "",
        &note_rows,
    )
    .await?;
    insert_rows(conn, CALL_INSERT, "", &call_rows).await?;
    insert_rows(
        conn,
        "INSERT INTO svc_applications (id, item, department, subject, subject_name, applicant_id, form, sources, licenses,
            one_click, status, submitted_at) VALUES",
        "",
        &app_rows,
    )
    .await?;
    for (p, r) in batch.iter().zip(&out) {
        if r.is_ok() && !p.uploads.is_empty() {
            super::store_uploads(conn, now, &p.id, &p.uploads).await?;
        }
    }
    audit::append_many(conn, now, audits).await?;
    Ok(out)
}
