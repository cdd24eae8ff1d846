//! 一键申报: service applications on shared data. An application is a workflow instance of its
//! item's definition (`svc.{code}`) plus what was applied for: field values (typed, prefilled
//! or retrieved), the licenses that satisfied license materials and any uploads. Review runs
//! one-click verification against the sources; approval issues the result sealed with the
//! department's e-seal, and every completed application is archived with digests.

pub mod batch;
pub mod catalog;
mod decide;
pub(crate) mod demo;
pub mod exchange;
pub mod licenses;
pub mod receipt;
pub mod seals;
pub mod signatures;
pub mod stability;
pub mod stats;
pub mod xrequests;

use crate::config::CityConfig;
use crate::config::services::{FieldType, Item, MaterialKind, Subject};
use crate::sql::{Exec, Value};
use crate::workflow::{self, Runtime};
use crate::{Conn, Db, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::to_millis;
use domain::workflow::{Action, Actor, Deficiency, Event, Status};
use exchange::Caller;
use licenses::License;
use seals::MasterKey;
use sqlx::Row;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Largest upload accepted for a material.
pub use decide::{Decision, archived, decide, resubmit, settle, settle_if_service, supply};
use domain::services::rules::{ArchivedCase, UploadMeta, archive_verdict, field_verdict};
pub use domain::services::rules::{CheckRow, MAX_UPLOAD, check_form};

/// What prefilling found for an applicant: values by field key, where each came from, and the
/// license satisfying each license material.
#[derive(Debug, Default)]
pub struct Prefilled {
    pub values: BTreeMap<String, String>,
    /// Field key → the interface's name.
    pub from: BTreeMap<String, String>,
    pub licenses: BTreeMap<String, Option<License>>,
    /// The archived case satisfying each e-archive material.
    pub archives: BTreeMap<String, Option<ArchiveRef>>,
}

/// An archived case (电子档案) as a material refers to it.
#[derive(Debug, Clone)]
pub struct ArchiveRef {
    pub application_id: String,
    pub item: String,
    pub subject: String,
    pub approved: bool,
    pub archived_at: i64,
    pub digest: String,
    /// The stored manifest still hashes to the stored digest.
    pub intact: bool,
}

fn archive_ref(r: &sqlx::any::AnyRow) -> Result<ArchiveRef> {
    let manifest: String = r.try_get("manifest")?;
    let digest: String = r.try_get("digest")?;
    Ok(ArchiveRef {
        intact: hex::encode(domain::crypto::sm3(manifest.as_bytes())) == digest,
        application_id: r.try_get("application_id")?,
        item: r.try_get("item")?,
        subject: r.try_get("subject")?,
        approved: r.try_get::<i64, _>("approved")? != 0,
        archived_at: r.try_get("archived_at")?,
        digest,
    })
}

const ARCHIVE_COLUMNS: &str = "application_id, item, subject, approved, archived_at, digest, manifest";

/// The subject's newest archived approved case of `item`.
pub async fn archive_of(conn: &mut Conn, subject: &str, item: &str) -> Result<Option<ArchiveRef>> {
    let r = sqlx::query(&format!(
        "SELECT {ARCHIVE_COLUMNS} FROM svc_archive WHERE subject = $1 AND item = $2 AND approved = 1
         ORDER BY archived_at DESC LIMIT 1"
    ))
    .bind(subject)
    .bind(item)
    .fetch_optional(&mut *conn)
    .await?;
    r.as_ref().map(archive_ref).transpose()
}

/// An archived case by its application.
pub async fn archive_by_application(conn: &mut Conn, id: &str) -> Result<Option<ArchiveRef>> {
    let r = sqlx::query(&format!("SELECT {ARCHIVE_COLUMNS} FROM svc_archive WHERE application_id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    r.as_ref().map(archive_ref).transpose()
}

/// Looks up every sourced field (one call per interface, logged) and the licenses held.
pub async fn prefill(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    item: &Item,
    subject: &str,
    caller: &Caller<'_>,
) -> Result<Prefilled> {
    let mut out = sourced(conn, now, cfg, item, subject, caller).await?;
    for m in item.materials.iter().filter(|m| m.kind == MaterialKind::License) {
        let t = m.license.as_deref().unwrap_or_default();
        out.licenses.insert(m.id.clone(), licenses::valid_of(conn, subject, t, now).await?);
    }
    for m in item.materials.iter().filter(|m| m.kind == MaterialKind::Archive) {
        let from = m.archive_item.as_deref().unwrap_or_default();
        out.archives.insert(m.id.clone(), archive_of(conn, subject, from).await?);
    }
    Ok(out)
}

/// The sourced fields alone (values and where from), one logged call per interface.
async fn sourced(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    item: &Item,
    subject: &str,
    caller: &Caller<'_>,
) -> Result<Prefilled> {
    let mut by_iface: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (_, f) in item.fields() {
        if let Some((i, k)) = f.source() {
            by_iface.entry(i).or_default().push((k, f.key.as_str()));
        }
    }
    let mut out = Prefilled::default();
    for (iface, pairs) in by_iface {
        let wanted: Vec<&str> = pairs.iter().map(|p| p.0).collect();
        let rec = exchange::lookup(conn, now, cfg, iface, subject, &wanted, caller).await?;
        let name = cfg.services.interface(iface).map(|i| i.name.clone()).unwrap_or_default();
        for (src, key) in pairs {
            if let Some(v) = rec.as_ref().and_then(|r| r.get(src)).and_then(|v| v.as_str()) {
                out.values.insert(key.to_string(), v.to_string());
                out.from.insert(key.to_string(), name.clone());
            }
        }
    }
    Ok(out)
}

/// An uploaded file for an upload material.
#[derive(Clone)]
pub struct Upload {
    pub material: String,
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// Who applies: the logged-in user acting for a subject (their enterprise or themselves).
pub struct Applicant<'a> {
    pub actor: &'a Actor,
    pub subject: &'a str,
    pub subject_name: &'a str,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SvcApp {
    pub id: String,
    pub item: String,
    /// The item's catalog version the application was made under.
    pub item_version: u32,
    pub department: String,
    pub subject: String,
    pub subject_name: String,
    pub applicant_id: String,
    pub form: BTreeMap<String, String>,
    /// Field key → interface code.
    pub sources: BTreeMap<String, String>,
    /// Material id → license number.
    pub licenses: BTreeMap<String, String>,
    pub one_click: bool,
    pub status: Status,
    pub submitted_at: i64,
    pub decided_at: Option<i64>,
    pub result_number: Option<String>,
    /// 办件编号; `None` only for a row written before numbering by a build without migration 0035.
    pub case_no: Option<String>,
}

fn app_from(r: &sqlx::any::AnyRow) -> Result<SvcApp> {
    let j = |c: &str| -> Result<BTreeMap<String, String>> {
        let t: String = r.try_get(c)?;
        Ok(serde_json::from_str(&t).unwrap_or_default())
    };
    Ok(SvcApp {
        id: r.try_get("id")?,
        item: r.try_get("item")?,
        item_version: u32::try_from(r.try_get::<i64, _>("def_version")?).unwrap_or(1),
        department: r.try_get("department")?,
        subject: r.try_get("subject")?,
        subject_name: r.try_get("subject_name")?,
        applicant_id: r.try_get("applicant_id")?,
        form: j("form")?,
        sources: j("sources")?,
        licenses: j("licenses")?,
        one_click: r.try_get::<i64, _>("one_click")? != 0,
        status: Status::try_from(r.try_get::<String, _>("status")?).map_err(StoreError::Other)?,
        submitted_at: r.try_get("submitted_at")?,
        decided_at: r.try_get("decided_at")?,
        result_number: r.try_get("result_number")?,
        case_no: r.try_get("case_no")?,
    })
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<SvcApp> {
    let r = sqlx::query(
        "SELECT a.*, i.def_version FROM svc_applications a JOIN wf_instances i ON i.id = a.id WHERE a.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound("申请".into()))?;
    app_from(&r)
}

fn item_of<'c>(cfg: &'c CityConfig, code: &str) -> Result<&'c Item> {
    cfg.services.item(code).ok_or_else(|| StoreError::NotFound(format!("事项“{code}”")))
}

/// The item as the application was made under it (the catalog may have changed since).
pub fn item_of_app<'c>(cfg: &'c CityConfig, app: &SvcApp) -> Result<&'c Item> {
    cfg.services.item_at(&app.item, app.item_version).ok_or_else(|| StoreError::NotFound(format!("事项“{}”", app.item)))
}

fn check_uploads(item: &Item, uploads: &[Upload]) -> Result<()> {
    let meta: Vec<UploadMeta<'_>> = uploads
        .iter()
        .map(|u| UploadMeta { material: &u.material, filename: &u.filename, size: u.bytes.len() })
        .collect();
    domain::services::rules::check_uploads(item, &meta).map_err(|(field, message)| StoreError::invalid(&field, message))
}

async fn store_uploads(conn: &mut impl Exec, now: OffsetDateTime, app: &str, uploads: &[Upload]) -> Result<()> {
    for u in uploads.iter().filter(|u| !u.bytes.is_empty()) {
        conn.execute(
            "INSERT INTO svc_uploads (id, application_id, material, filename, size, sm3, content, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                Value::Text(new_id()),
                Value::from(app),
                Value::from(&u.material),
                Value::from(&u.filename),
                Value::Int(u.bytes.len() as i64),
                Value::Text(hex::encode(domain::crypto::sm3(&u.bytes))),
                Value::Blob(u.bytes.clone()),
                Value::Int(to_millis(now)),
            ],
        )
        .await?;
    }
    Ok(())
}

/// (material, filename, size, sm3) of an application's uploads.
pub async fn uploads_of(db: &Db, app: &str) -> Result<Vec<(String, String, i64, String)>> {
    let rows = sqlx::query(
        "SELECT material, filename, size, sm3 FROM svc_uploads WHERE application_id = $1 ORDER BY uploaded_at",
    )
    .bind(app)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("material")?, r.try_get("filename")?, r.try_get("size")?, r.try_get("sm3")?)))
        .collect()
}

/// 一键核查: every sourced field against its source as it is now, every license against the
/// registry and its seal. Logged as calls and stored as a check run.
pub async fn verify(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    app: &SvcApp,
    reviewer: &Actor,
) -> Result<Vec<CheckRow>> {
    let item = item_of_app(cfg, app)?;
    let dept = reviewer.department.clone().unwrap_or_default();
    let caller = Caller {
        id: &reviewer.user_id,
        name: &reviewer.name,
        department: &dept,
        purpose: "一键核查",
        application: Some(&app.id),
    };
    // Licenses are checked as the application names them, below; only sourced fields are read.
    let pre = sourced(conn, now, cfg, item, &app.subject, &caller).await?;
    let mut rows = vec![];
    for (m, f) in item.fields() {
        let Some((iface, _)) = f.source() else { continue };
        let i = cfg.services.interface(iface);
        let submitted = app.form.get(&f.key).cloned().unwrap_or_default();
        let auth = pre.values.get(&f.key).cloned();
        let source = i.map(|i| format!("{}（{}）", i.name, owner_name(cfg, &i.owner))).unwrap_or_default();
        let (ok, note) = field_verdict(auth.as_deref(), &submitted);
        rows.push(CheckRow {
            material: m.name.clone(),
            label: f.label.clone(),
            submitted,
            authoritative: auth.unwrap_or_default(),
            source,
            ok,
            note,
        });
    }
    for m in item.materials.iter().filter(|m| m.kind == MaterialKind::License) {
        let number = app.licenses.get(&m.id).cloned().unwrap_or_default();
        let v = licenses::verify_number(conn, &number, now).await?;
        let source = v.license.as_ref().map(|l| l.source.clone()).unwrap_or_else(|| "电子证照库".into());
        rows.push(CheckRow {
            material: m.name.clone(),
            label: "证照编号".into(),
            submitted: number.clone(),
            authoritative: v.license.as_ref().map(|l| format!("{} · {}", l.title, l.holder_name)).unwrap_or_default(),
            source: format!("电子证照库（{source}）"),
            ok: v.valid,
            note: v.problems.join("；"),
        });
    }
    for m in item.materials.iter().filter(|m| m.kind == MaterialKind::Archive) {
        let id = app.licenses.get(&m.id).cloned().unwrap_or_default();
        let a = archive_by_application(conn, &id).await?;
        let from = m.archive_item.as_deref().unwrap_or_default();
        let case = a.as_ref().map(|a| ArchivedCase {
            subject: &a.subject,
            item: &a.item,
            approved: a.approved,
            intact: a.intact,
        });
        let (ok, note) = archive_verdict(case.as_ref(), &app.subject, from);
        rows.push(CheckRow {
            material: m.name.clone(),
            label: "电子档案".into(),
            submitted: format!("{}（申请 {id}）", cfg.services.item(from).map(|i| i.name.as_str()).unwrap_or(from)),
            authoritative: a.map(|a| format!("SM3 {}…", a.digest.get(..16).unwrap_or(&a.digest))).unwrap_or_default(),
            source: "电子档案库".into(),
            ok,
            note,
        });
    }
    let signed = signatures::of_application(conn, &app.id).await?;
    let key = signatures::key_of(conn, item.subject, &app.subject).await?;
    for m in item.materials.iter().filter(|m| m.kind == MaterialKind::Sign) {
        // The newest round is what the application now holds.
        let sig = signed.iter().find(|s| s.material == m.id);
        let (ok, note) = match sig {
            None => (false, "申请没有该签章".to_string()),
            Some(sig) => match signatures::check(item, &app.subject, &app.form, sig, key.as_ref()) {
                Ok(()) => (true, String::new()),
                Err(why) => (false, why),
            },
        };
        rows.push(CheckRow {
            material: m.name.clone(),
            label: format!("{}验签", signatures::what(item.subject)),
            submitted: sig
                .map(|s| format!("{} · SM3 {}…", s.signer_name, s.digest.get(..16).unwrap_or(&s.digest)))
                .unwrap_or_default(),
            authoritative: if ok { "SM2 验签通过".into() } else { "验签不通过".into() },
            source: "平台签名密钥库".into(),
            ok,
            note,
        });
    }
    let failed = rows.iter().filter(|r| !r.ok).count();
    sqlx::query(
        "INSERT INTO svc_checks (id, application_id, at, by_id, by_name, results, passed, failed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(&app.id)
    .bind(to_millis(now))
    .bind(&reviewer.user_id)
    .bind(&reviewer.name)
    .bind(serde_json::to_string(&rows).unwrap_or_default())
    .bind((rows.len() - failed) as i64)
    .bind(failed as i64)
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::services::ServicesAudit::Verify, "application", &app.id)
            .by(&reviewer.user_id, &reviewer.name)
            .detail(format!("一键核查 {} 项，通过 {}，不一致 {}", rows.len(), rows.len() - failed, failed)),
    )
    .await?;
    Ok(rows)
}

fn owner_name<'c>(cfg: &'c CityConfig, code: &'c str) -> &'c str {
    cfg.departments.iter().find(|d| d.code == code).map(|d| d.short_name.as_str()).unwrap_or(code)
}

/// The newest check run: (when, by, rows).
pub async fn last_check(db: &Db, app: &str) -> Result<Option<(i64, String, Vec<CheckRow>)>> {
    let r =
        sqlx::query("SELECT at, by_name, results FROM svc_checks WHERE application_id = $1 ORDER BY at DESC LIMIT 1")
            .bind(app)
            .fetch_optional(db.reader())
            .await?;
    match r {
        Some(r) => {
            let rows: Vec<CheckRow> = serde_json::from_str(&r.try_get::<String, _>("results")?).unwrap_or_default();
            Ok(Some((r.try_get("at")?, r.try_get("by_name")?, rows)))
        }
        None => Ok(None),
    }
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AppRow {
    pub id: String,
    pub item: String,
    pub department: String,
    pub subject: String,
    pub subject_name: String,
    pub one_click: i64,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub submitted_at: i64,
    pub decided_at: Option<i64>,
    pub result_number: Option<String>,
    pub case_no: Option<String>,
}

#[derive(Debug, Default)]
pub struct AppFilter {
    pub applicant: Option<String>,
    pub department: Option<String>,
    pub status: Option<String>,
    pub item: Option<String>,
    /// 办件编号, applicant name or USCC / ID number: a part of any of them.
    pub q: Option<String>,
}

pub async fn list(db: &Db, f: &AppFilter, limit: i64) -> Result<Vec<AppRow>> {
    Ok(sqlx::query_as::<_, AppRow>(
        "SELECT id, item, department, subject, subject_name, one_click, status, submitted_at, decided_at, result_number,
                case_no
         FROM svc_applications
         WHERE ($1 = '' OR applicant_id = $1) AND ($2 = '' OR department = $2) AND ($3 = '' OR status = $3)
           AND ($4 = '' OR item = $4)
           AND ($5 = '' OR case_no = $5 OR subject_name LIKE '%' || $5 || '%' OR subject = $5 OR result_number = $5)
         ORDER BY submitted_at DESC LIMIT $6",
    )
    .bind(f.applicant.as_deref().unwrap_or(""))
    .bind(f.department.as_deref().unwrap_or(""))
    .bind(f.status.as_deref().unwrap_or(""))
    .bind(f.item.as_deref().unwrap_or(""))
    .bind(f.q.as_deref().map(str::trim).unwrap_or("").chars().take(60).collect::<String>())
    .bind(limit)
    .fetch_all(db.reader())
    .await?)
}

/// Suspended items (暂停受理) with the reason, as administrators set them.
pub async fn suspended(db: &Db) -> Result<BTreeMap<String, String>> {
    let rows = sqlx::query("SELECT code, note FROM svc_item_settings WHERE enabled = 0").fetch_all(db.reader()).await?;
    rows.iter().map(|r| Ok((r.try_get("code")?, r.try_get("note")?))).collect()
}

/// Suspends or resumes an item (audited); suspending needs a reason for applicants.
pub async fn set_enabled(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    code: &str,
    enabled: bool,
    note: &str,
    by: (&str, &str),
) -> Result<()> {
    let item = item_of(cfg, code)?;
    if !enabled && note.trim().is_empty() {
        return Err(StoreError::invalid("note", "请填写暂停受理的原因，申请人将看到它"));
    }
    sqlx::query(
        "INSERT INTO svc_item_settings (code, enabled, note, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (code) DO UPDATE SET enabled = excluded.enabled, note = excluded.note,
            updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(code)
    .bind(i64::from(enabled))
    .bind(note.trim())
    .bind(by.0)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::services::ServicesAudit::Item, "svc_item", code).by(by.0, by.1).detail(if enabled {
            format!("{}：恢复受理", item.name)
        } else {
            format!("{}：暂停受理，{}", item.name, note.trim())
        }),
    )
    .await?;
    Ok(())
}
