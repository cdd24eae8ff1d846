//! Submissions in three steps, for group commit: `check` needs no database (the request does
//! it), `prepare_many` reads a whole batch's shared data and licenses in one query, and
//! `write_many` writes the batch with a few multi-row statements. With the SQLite driver each
//! statement is a round trip to its worker thread, so the statement count per batch, not per
//! submission, sets the pace.

use super::signatures::{self, Signature};
use super::{Applicant, MaterialKind, Upload, check_form, check_uploads, exchange, item_of};
use crate::config::CityConfig;
use crate::config::services::Item;
use crate::sql::{Exec, Value};
use crate::workflow::{self, Runtime};
use crate::{Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::to_millis;
use domain::expr::Facts;
use domain::workflow::{Actor, Effect, Recipient};
use serde_json::{Map, Value as Json};
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
    signatures: Vec<Signature>,
}

/// What the platform holds for a subject.
#[derive(Default)]
pub(super) struct Held {
    /// Shared-data records by interface.
    pub records: HashMap<String, Map<String, Json>>,
    /// Valid licenses as (type, number), newest first.
    pub licenses: Vec<(String, String)>,
    /// Archived approved cases as (item, application id), newest first.
    pub archives: Vec<(String, String)>,
}

/// Subject → what is held for it.
type SubjectData = HashMap<String, Held>;

/// The query for the records (all interfaces), valid licenses and archived approved cases of
/// several subjects, as rows (kind 'r', 'l' or 'a', subject, interface, license type or item,
/// data, number or application, order). Subjects are canonical identifiers (checked), written
/// as literals: one text for any number of them.
fn subjects_sql(subjects: &[&str], now: OffsetDateTime) -> String {
    let list: Vec<String> = subjects.iter().map(|s| Value::from(*s).literal()).collect();
    let list = list.join(", ");
    format!(
        "SELECT 'r' AS k, subject AS s, interface AS a, data AS b, 0 AS t FROM dx_records WHERE subject IN ({list})
         UNION ALL
         SELECT 'l', holder_id, type, number, issued_at FROM licenses WHERE holder_id IN ({list}) AND revoked_at IS NULL
            AND (valid_to IS NULL OR valid_to > {})
         UNION ALL
         SELECT 'a', subject, item, application_id, archived_at FROM svc_archive WHERE subject IN ({list}) AND approved = 1
         ORDER BY 5 DESC",
        to_millis(now)
    )
}

fn add_subject_row(out: &mut SubjectData, k: &str, s: String, a: String, b: String) {
    let e = out.entry(s).or_default();
    match k {
        "r" => {
            e.records.insert(a, serde_json::from_str(&b).unwrap_or_default());
        }
        "l" => e.licenses.push((a, b)),
        _ => e.archives.push((a, b)),
    }
}

/// The records and valid licenses of several subjects, in one query: with the SQLite driver
/// each query is a round trip to its worker thread.
async fn subjects_data(conn: &mut impl Exec, subjects: &[&str], now: OffsetDateTime) -> Result<SubjectData> {
    let mut out: SubjectData = HashMap::new();
    for row in conn.rows(&subjects_sql(subjects, now), &[]).await? {
        if let [Value::Text(k), Value::Text(s), Value::Text(a), Value::Text(b), _] =
            <[Value; 5]>::try_from(row).map_err(|_| StoreError::Other("共享数据查询结果格式不符".into()))?
        {
            add_subject_row(&mut out, &k, s, a, b);
        }
    }
    Ok(out)
}

/// What is held for one subject.
pub(super) async fn subject_data(conn: &mut impl Exec, subject: &str, now: OffsetDateTime) -> Result<Held> {
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
/// for each license material, the newest archived case for each e-archive material (its
/// application id, kept beside the license numbers); each interface read counts as one call.
pub(super) fn assemble(
    cfg: &CityConfig,
    item: &Item,
    held: &Held,
    typed: &BTreeMap<String, String>,
    today: time::Date,
) -> Result<Assembled> {
    let records = &held.records;
    let (mut form, mut sources, mut lics) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut used: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (m, f) in item.fields() {
        let sourced = f.source().map(|(i, k)| (i, k, records.get(i).and_then(|r| r.get(k)).and_then(|v| v.as_str())));
        if let Some((i, k, _)) = sourced {
            sources.insert(f.key.clone(), i.to_string());
            used.entry(i).or_default().push(k);
        }
        let v = match (m.kind, sourced) {
            (MaterialKind::Data, Some((_, _, Some(v)))) => {
                if let Some(why) = domain::services::rules::data_refusal(f, v, today) {
                    return Err(StoreError::invalid(&m.id, why));
                }
                v.to_string()
            }
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
    for m in item.materials.iter().filter(|m| m.kind == MaterialKind::Archive) {
        let from = m.archive_item.as_deref().unwrap_or_default();
        match held.archives.iter().find(|a| a.0 == from) {
            Some(a) => {
                lics.insert(m.id.clone(), a.1.clone());
            }
            None => {
                let name = cfg.services.item(from).map(|i| i.name.as_str()).unwrap_or(from);
                return Err(StoreError::invalid(
                    &m.id,
                    format!("没有已办结的“{name}”电子档案，无法自动提供“{}”", m.name),
                ));
            }
        }
    }
    for m in item.materials.iter().filter(|m| m.kind == MaterialKind::License) {
        let t = m.license.as_deref().unwrap_or_default();
        match held.licenses.iter().find(|l| l.0 == t) {
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
    /// The catalog version the form was checked against.
    item_version: u32,
    actor: Actor,
    subject: String,
    subject_name: String,
    typed: BTreeMap<String, String>,
    uploads: Vec<Upload>,
    ip: String,
    /// The applicant's e-seal or e-signature on each sign material (`sign_checked`).
    signatures: Vec<Signature>,
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
        item_version: item.version,
        actor: who.actor.clone(),
        subject,
        subject_name: who.subject_name.to_string(),
        typed,
        uploads,
        ip: ip.to_string(),
        signatures: vec![],
    })
}

/// Signs a checked submission's sign materials with the subject's key (before the batch, so
/// the writer only stores the signatures). Nothing to do for an item without them.
pub async fn sign_checked(
    db: &crate::Db,
    now: OffsetDateTime,
    master: Option<&super::seals::MasterKey>,
    cfg: &CityConfig,
    c: &mut Checked,
) -> Result<()> {
    let item = item_of(cfg, &c.item)?;
    signatures::need_key(item, master)?;
    if let Some(master) = master {
        c.signatures =
            signatures::sign_submission(db, now, master, item, &c.subject, &c.subject_name, &c.typed).await?;
    }
    Ok(())
}

/// Reads the shared data and licenses of a batch's subjects in one query and assembles each
/// submission; a submission whose data or licenses are missing is refused alone.
pub async fn prepare_many(
    conn: &mut impl Exec,
    cfg: &CityConfig,
    now: OffsetDateTime,
    batch: Vec<Checked>,
) -> Result<Vec<Result<Prepared>>> {
    let data = subjects_data(conn, &subjects_of(&batch), now).await?;
    prepare_with(cfg, &data, batch, domain::clock::local(now).date())
}

fn subjects_of(batch: &[Checked]) -> Vec<&str> {
    let mut subjects: Vec<&str> = batch.iter().map(|c| c.subject.as_str()).collect();
    subjects.sort_unstable();
    subjects.dedup();
    subjects
}

fn prepare_with(
    cfg: &CityConfig,
    data: &SubjectData,
    batch: Vec<Checked>,
    today: time::Date,
) -> Result<Vec<Result<Prepared>>> {
    let empty = Default::default();
    let mut out = Vec::with_capacity(batch.len());
    for c in batch {
        let item = item_of(cfg, &c.item)?;
        if item.proactive {
            out.push(Err(StoreError::invalid(
                "item",
                format!("“{}”免申即享，无需申请：符合条件的由主管部门直接核定", item.name),
            )));
            continue;
        }
        if item.version != c.item_version {
            // An administrator changed the item between the check and this batch.
            out.push(Err(StoreError::conflict("item", "该事项的材料或时限刚刚调整，请刷新页面后重新提交")));
            continue;
        }
        let held = data.get(&c.subject).unwrap_or(&empty);
        out.push(assemble(cfg, item, held, &c.typed, today).map(|a| Prepared {
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
            signatures: c.signatures,
        }));
    }
    Ok(out)
}

fn js(m: &BTreeMap<String, String>) -> String {
    serde_json::to_string(m).unwrap_or_default()
}

/// A batch's rows, built without the database (`build`) and written in one go (`write`):
/// the writer's transaction then holds only the statements, so the next batch can be read and
/// built while this one commits.
pub struct Rows {
    now: OffsetDateTime,
    instances: Vec<Vec<Value>>,
    tasks: Vec<Vec<Value>>,
    jobs: Vec<Vec<Value>>,
    notes: Vec<Vec<Value>>,
    calls: Vec<Vec<Value>>,
    apps: Vec<Vec<Value>>,
    sigs: Vec<Vec<Value>>,
    uploads: Vec<(String, Vec<Upload>)>,
    audits: Vec<AuditEntry>,
}

/// Starts each prepared submission's workflow (the engine runs in memory) and lays out the
/// rows of all of them. The outcome per submission, in order: its application's id, or why it
/// was refused (missing data or licenses, or the engine refused to start it), which writes
/// nothing for it.
pub fn build(rt: &Runtime<'_>, now: OffsetDateTime, batch: Vec<Result<Prepared>>) -> (Rows, Vec<Result<String>>) {
    let cfg = rt.cfg;
    let ms = to_millis(now);
    let facts = Facts::new();
    let mut rows = Rows {
        now,
        instances: vec![],
        tasks: vec![],
        jobs: vec![],
        notes: vec![],
        calls: vec![],
        apps: vec![],
        sigs: vec![],
        uploads: vec![],
        audits: vec![],
    };
    let mut out = Vec::with_capacity(batch.len());
    for p in batch {
        let r = p.and_then(|p| {
            let item = item_of(cfg, &p.item)?;
            let def = cfg
                .workflow(&item.workflow_id())
                .ok_or_else(|| StoreError::NotFound(format!("流程“{}”", item.workflow_id())))?;
            let (inst, effects) = domain::workflow::start(def, &p.id, &p.actor, &rt.env(def, &facts, now))
                .map_err(workflow::engine_error)?;
            rows.add(item, def, &inst, &effects, &p, ms)?;
            if !p.uploads.is_empty() {
                rows.uploads.push((p.id.clone(), p.uploads));
            }
            Ok(p.id)
        });
        out.push(r);
    }
    (rows, out)
}

impl Rows {
    /// The rows of one started submission.
    fn add(
        &mut self,
        item: &Item,
        def: &domain::workflow::WorkflowDef,
        inst: &domain::workflow::Instance,
        effects: &[Effect],
        p: &Prepared,
        ms: i64,
    ) -> Result<()> {
        self.instances.push(vec![
            Value::from(&p.id),
            Value::from(&def.id),
            Value::Int(def.version as i64),
            Value::from(&p.title),
            Value::from(&p.actor.user_id),
            Value::from(&p.actor.name),
            Value::from(inst.status.as_str()),
            Value::from("{}"),
            Value::from(workflow::state_json(inst)?),
            Value::Int(1),
            Value::Int(ms),
            Value::Int(ms),
        ]);
        self.tasks.extend(workflow::task_rows(def, inst));
        for e in effects {
            match e {
                Effect::Schedule { timer, at } => self.jobs.push(vec![
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
                    self.notes.push(vec![
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
        self.calls.extend(call_rows(&p.calls, ms, &p.actor, &p.subject, &p.id));
        self.apps.push(vec![
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
        self.sigs.extend(signatures::rows(&p.id, &p.signatures));
        self.audits.push(
            AuditEntry::new(domain::services::ServicesAudit::Submit, "application", &p.id)
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
        Ok(())
    }

    /// Another batch's rows, to be written in the same transaction.
    pub fn append(&mut self, other: Rows) {
        self.instances.extend(other.instances);
        self.tasks.extend(other.tasks);
        self.jobs.extend(other.jobs);
        self.notes.extend(other.notes);
        self.calls.extend(other.calls);
        self.apps.extend(other.apps);
        self.sigs.extend(other.sigs);
        self.uploads.extend(other.uploads);
        self.audits.extend(other.audits);
    }

    pub fn is_empty(&self) -> bool {
        self.apps.is_empty()
    }

    /// The tables written, in order (instances before the rows that refer to them).
    fn tables(&self) -> [(&'static str, &Vec<Vec<Value>>); 7] {
        [
            (
                "INSERT INTO wf_instances (id, def_id, def_version, title, applicant_id, applicant_name, status, facts, state,
                    version, started_at, updated_at) VALUES",
                &self.instances,
            ),
            (workflow::TASK_INSERT, &self.tasks),
            ("INSERT INTO jobs (id, kind, payload, due_at, dedup_key, created_at) VALUES", &self.jobs),
            ("INSERT INTO notifications (id, department, role, user_id, link, text, created_at) VALUES", &self.notes),
            (CALL_INSERT, &self.calls),
            (
                "INSERT INTO svc_applications (id, item, department, subject, subject_name, applicant_id, form, sources,
                    licenses, one_click, status, submitted_at, case_no) VALUES",
                &self.apps,
            ),
            (signatures::INSERT, &self.sigs),
        ]
    }

    /// Writes the rows with a few multi-row statements and appends the audit records to the
    /// chain.
    pub async fn write(mut self, conn: &mut impl Exec) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        // 办件编号: the year's next numbers, taken for the whole batch at once inside the
        // writing transaction, in submission order.
        let year = i64::from(domain::clock::local(self.now).year());
        let n = self.apps.len() as i64;
        let taken = conn
            .rows(
                "INSERT INTO doc_numbers (kind, year, last) VALUES ($1, $2, $3)
                 ON CONFLICT (kind, year) DO UPDATE SET last = doc_numbers.last + excluded.last RETURNING last",
                &[Value::from("svc_case"), Value::Int(year), Value::Int(n)],
            )
            .await?;
        let last = match taken.first() {
            Some(row) => match row.first() {
                Some(Value::Int(v)) => *v,
                _ => n,
            },
            None => n,
        };
        for (i, row) in self.apps.iter_mut().enumerate() {
            row.push(Value::from(domain::services::case_no(year, last - n + 1 + i as i64).as_str()));
        }
        for (id, uploads) in &self.uploads {
            super::store_uploads(conn, self.now, id, uploads).await?;
        }
        // The rows of every table and the audit records as one script after two reads (the
        // numbers above, the chain's head): a few round trips for the batch on PostgreSQL.
        let audits = std::mem::take(&mut self.audits);
        let (audit_rows, head) = audit::chained(conn, self.now, audits).await?;
        let mut tables: Vec<(&str, &[Vec<Value>])> = self.tables().iter().map(|(h, r)| (*h, r.as_slice())).collect();
        tables.push((audit::AUDIT_INSERT, &audit_rows));
        conn.insert_all(&tables, &head).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::direct::DirectWriter;
    use domain::clock::CHINA;

    /// The direct writer and the pool path (for other backends) write the same batch alike:
    /// the same rows per table, a refused submission alone leaves nothing, and the audit
    /// chain still verifies.
    #[tokio::test]
    async fn direct_and_pool_writers_write_the_same_rows() {
        let (db, _dir) = crate::testing::sqlite_db().await;
        let cfg = crate::config::load(&crate::config::ConfigSource::Embedded).expect("config");
        let now = time::macros::datetime!(2026-11-02 10:00).assume_offset(CHINA);
        crate::demo::bootstrap(&db, &cfg, now).await.unwrap();
        crate::demo::load_demo(&db, &cfg, now, Some(1)).await.unwrap();
        let users: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT id, display_name, login FROM users WHERE kind = 'enterprise' ORDER BY created_at LIMIT 2",
        )
        .fetch_all(db.reader())
        .await
        .unwrap();
        // The second enterprise's registry record is gone: its submissions are refused.
        let mut tx = db.begin().await.unwrap();
        sqlx::query("DELETE FROM dx_records WHERE subject = $1").bind(&users[1].2).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        let cal = domain::calendar::WorkCalendar::new(cfg.holidays.clone(), cfg.city.working_hours.clone());
        let rt = Runtime { cfg: &cfg, cal: &cal };
        let typed: BTreeMap<String, String> = [
            ("name", "x"),
            ("legal_rep", "x"),
            ("address", "x"),
            ("business_items", "热食类食品制售"),
            ("contact_phone", "13955550000"),
            ("commit", "同意"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let batch = || {
            [0, 1, 0]
                .iter()
                .map(|&u| {
                    let (id, name, uscc) = &users[u];
                    let actor = Actor { user_id: id.clone(), name: name.clone(), department: None, roles: vec![] };
                    let who = Applicant { actor: &actor, subject: uscc, subject_name: name };
                    check(&cfg, "SCJG-XK-001", &who, typed.clone(), vec![], "127.0.0.1").unwrap()
                })
                .collect::<Vec<_>>()
        };
        let counts = || async {
            let mut n = vec![];
            for t in ["wf_instances", "wf_tasks", "jobs", "notifications", "dx_calls", "svc_applications", "audit_log"]
            {
                let c: i64 =
                    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}")).fetch_one(db.reader()).await.unwrap();
                n.push(c);
            }
            n
        };
        let before = counts().await;

        let mut tx = db.begin().await.unwrap();
        let prepared = prepare_many(&mut tx, &cfg, now, batch()).await.unwrap();
        let (rows, pool_results) = build(&rt, now, prepared);
        rows.write(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        let after_pool = counts().await;

        let mut w = DirectWriter::open(&db.sqlite_file().unwrap()).unwrap();
        let direct_results = w
            .run(async |tx| {
                let prepared = prepare_many(tx, &cfg, now, batch()).await?;
                let (rows, results) = build(&rt, now, prepared);
                rows.write(tx).await?;
                Ok(results)
            })
            .unwrap();
        let after_direct = counts().await;

        for results in [&pool_results, &direct_results] {
            assert!(results[0].is_ok() && results[2].is_ok());
            let refused = results[1].as_ref().unwrap_err().to_string();
            assert!(refused.contains("共享数据中查不到"), "{refused}");
        }
        let added = |a: &[i64], b: &[i64]| a.iter().zip(b).map(|(x, y)| x - y).collect::<Vec<_>>();
        let by_pool = added(&after_pool, &before);
        assert_eq!(by_pool, added(&after_direct, &after_pool));
        assert_eq!((by_pool[0], by_pool[5], by_pool[6]), (2, 2, 2), "{by_pool:?}");
        let report = audit::verify(&db).await.unwrap();
        assert!(report.is_ok(), "{report:?}");
    }
}
