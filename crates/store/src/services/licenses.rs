//! E-licenses and sealed documents (电子证照 / 电子文书).
//!
//! Content follows GB/T 36901 license metadata: 证照类型代码 `type_code`, 证照名称
//! `type_name`, 证照编号 `number`, 持证主体 `holder.name`, 持证主体代码 `holder.id`
//! (USCC or ID number), 持证主体类型 `holder.kind`, 发证机构 `issuer.name` / 代码
//! `issuer.code`, 发证日期 `issued_on`, 有效期 `valid_from` / `valid_to`, and 照面信息
//! `fields` (label → value). The seal block follows GB/T 38540's parts: seal information
//! (`seal.id`, `seal.name`, `seal.department`), property information (`seal.public_key`, the
//! SM2 key the verifier needs, and `seal.algorithm`), picture (`seal.image`, SVG) and the
//! signed value (`signature`, SM2 r‖s over the SM3 `digest` of the canonical content).
//! Not implemented from GB/T 38540: the X.509 maker certificate and the seal's own validity
//! period — the platform is the trust anchor, and verification looks the seal up here.

use super::seals::{self, MasterKey, Seal};
use crate::config::CityConfig;
use crate::{Conn, Db, Result, StoreError, audit};
use domain::audit::AuditEntry;
use domain::clock::{from_millis, to_millis};
use domain::crypto;
use domain::services::ServicesAudit;
use serde_json::{Value, json};
use time::OffsetDateTime;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct License {
    pub number: String,
    /// `license` or `document`.
    pub kind: String,
    pub r#type: String,
    pub title: String,
    pub holder_id: String,
    pub holder_name: String,
    pub issuer: String,
    pub content: String,
    pub digest: String,
    pub signature: Option<String>,
    pub seal_id: Option<String>,
    /// `本平台签发` or the system that pushed it.
    pub source: String,
    pub issued_at: i64,
    pub valid_to: Option<i64>,
    pub application_id: Option<String>,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
    /// The QR code's signed payload (`domain::documents` format); `None` for licenses other
    /// systems issued, and for ours until first signed.
    pub qr_payload: Option<String>,
}

pub const ISSUED_HERE: &str = "本平台签发";

/// What is being issued.
pub struct NewLicense<'a> {
    /// A license type code, or `None` for a sealed document titled `title`.
    pub type_code: Option<&'a str>,
    pub title: &'a str,
    pub issuer: &'a str,
    pub holder: (&'a str, &'a str),
    pub holder_kind: &'a str,
    pub valid_years: u32,
    /// (label, value) in the order printed.
    pub fields: Vec<(String, String)>,
    pub application: Option<&'a str>,
}

fn number_for(kind: &str, now: OffsetDateTime) -> String {
    let mut r = [0u8; 4];
    getrandom::fill(&mut r).expect("OS random source");
    let d = now.date();
    format!("{}{:04}{:02}{:02}{}", kind.to_uppercase(), d.year(), u8::from(d.month()), d.day(), hex::encode_upper(r))
}

/// What a license's QR payload signs: the documents' format, with the content's SM3 digest.
fn qr_head(number: &str, issuer: &str, issued_on: time::Date, digest: &str) -> String {
    format!("{}|{number}|{issuer}|{issued_on}|{digest}", domain::documents::PAYLOAD_TAG)
}

/// The date the license was issued on, from its content (local date).
pub fn issued_on(l: &License) -> Option<time::Date> {
    let v: Value = serde_json::from_str(&l.content).ok()?;
    time::Date::parse(v.get("issued_on")?.as_str()?, &time::format_description::well_known::Iso8601::DATE).ok()
}

/// 有效期至 as a date (2027年12月6日), or 长期.
pub fn valid_to_text(l: &License) -> String {
    let from_content = serde_json::from_str::<Value>(&l.content).ok().and_then(|v| {
        let s = v.get("valid_to")?.as_str()?.to_string();
        Some(match time::Date::parse(&s, &time::format_description::well_known::Iso8601::DATE) {
            Ok(d) => domain::text::date_cn(d),
            Err(_) => s,
        })
    });
    from_content.unwrap_or_else(|| match l.valid_to {
        Some(ms) => domain::text::date_cn(from_millis(ms).to_offset(domain::clock::CHINA).date()),
        None => "长期".into(),
    })
}

/// The license's QR payload: stored, or — for one of ours issued before payloads existed —
/// signed now with its seal and stored. `None` for licenses other systems issued.
pub async fn qr_payload(conn: &mut Conn, key: Option<&MasterKey>, l: &License) -> Result<Option<String>> {
    if let Some(p) = &l.qr_payload {
        return Ok(Some(p.clone()));
    }
    let (Some(seal_id), Some(key), Some(day)) = (&l.seal_id, key, issued_on(l)) else { return Ok(None) };
    let Some(seal) = seals::by_id(conn, seal_id).await? else { return Ok(None) };
    let head = qr_head(&l.number, &l.issuer, day, &l.digest);
    let payload = format!("{head}|{}", hex::encode(seals::sign(conn, key, &seal, head.as_bytes()).await?));
    sqlx::query("UPDATE licenses SET qr_payload = $1 WHERE number = $2 AND qr_payload IS NULL")
        .bind(&payload)
        .bind(&l.number)
        .execute(&mut *conn)
        .await?;
    Ok(Some(payload))
}

/// Issues and seals a license or document with the issuing department's e-seal.
pub async fn issue(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    key: &MasterKey,
    new: &NewLicense<'_>,
    by: (&str, &str),
) -> Result<License> {
    let issuer =
        cfg.departments.iter().find(|d| d.code == new.issuer).ok_or_else(|| StoreError::NotFound("发证部门".into()))?;
    let seal = seals::of_department(conn, now, cfg, key, new.issuer).await?;
    let (kind, type_code) = match new.type_code {
        Some(t) => ("license", t.to_string()),
        None => ("document", "doc".to_string()),
    };
    let number = number_for(&type_code, now);
    let local = now.to_offset(domain::clock::CHINA);
    let valid_to = (new.valid_years > 0)
        .then(|| local.replace_year(local.year() + new.valid_years as i32).unwrap_or(local) - time::Duration::days(1));
    // [label, value] pairs: an array keeps the printed order through canonicalisation.
    let fields: Vec<Value> = new.fields.iter().map(|(k, v)| json!([k, v])).collect();
    let content = json!({
        "kind": kind,
        "type_code": type_code,
        "type_name": new.title,
        "number": number,
        "holder": { "id": new.holder.0, "name": new.holder.1, "kind": new.holder_kind },
        "issuer": { "code": issuer.code, "name": issuer.name },
        "issued_on": local.date().to_string(),
        "valid_from": local.date().to_string(),
        "valid_to": valid_to.map(|v| v.date().to_string()).unwrap_or_else(|| "长期".into()),
        "fields": fields,
    });
    let canonical = crypto::canonical_json(&content);
    let digest = crypto::sm3(canonical.as_bytes());
    let signature = seals::sign(conn, key, &seal, &digest).await?;
    let head = qr_head(&number, &issuer.code, local.date(), &hex::encode(digest));
    let qr_payload = format!("{head}|{}", hex::encode(seals::sign(conn, key, &seal, head.as_bytes()).await?));
    let lic = License {
        number: number.clone(),
        kind: kind.into(),
        r#type: type_code,
        title: new.title.to_string(),
        holder_id: new.holder.0.to_string(),
        holder_name: new.holder.1.to_string(),
        issuer: issuer.code.clone(),
        content: canonical,
        digest: hex::encode(digest),
        signature: Some(hex::encode(signature)),
        seal_id: Some(seal.id.clone()),
        source: ISSUED_HERE.into(),
        issued_at: to_millis(now),
        valid_to: valid_to.map(to_millis),
        application_id: new.application.map(str::to_string),
        revoked_at: None,
        revoked_reason: None,
        qr_payload: Some(qr_payload),
    };
    insert(conn, &lic).await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(
            if new.type_code.is_some() { ServicesAudit::LicenseIssue } else { ServicesAudit::DocumentIssue },
            "license",
            &number,
        )
        .by(by.0, by.1)
        .detail(format!("{}：{}（{}），以{}签章", new.title, new.holder.1, new.holder.0, seal.name)),
    )
    .await?;
    Ok(lic)
}

async fn insert(conn: &mut Conn, l: &License) -> Result<()> {
    sqlx::query(
        "INSERT INTO licenses (number, kind, type, title, holder_id, holder_name, issuer, content, digest, signature, seal_id,
            source, issued_at, valid_to, application_id, qr_payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&l.number)
    .bind(&l.kind)
    .bind(&l.r#type)
    .bind(&l.title)
    .bind(&l.holder_id)
    .bind(&l.holder_name)
    .bind(&l.issuer)
    .bind(&l.content)
    .bind(&l.digest)
    .bind(&l.signature)
    .bind(&l.seal_id)
    .bind(&l.source)
    .bind(l.issued_at)
    .bind(l.valid_to)
    .bind(&l.application_id)
    .bind(&l.qr_payload)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a license issued by another system (its number, content and source), e.g. the
/// business licenses of the provincial registry. It has no seal of ours.
#[allow(clippy::too_many_arguments)]
pub async fn record_external(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    type_code: &str,
    number: &str,
    holder: (&str, &str),
    fields: Vec<(String, String)>,
    source: &str,
) -> Result<()> {
    let t =
        cfg.services.license_type(type_code).ok_or_else(|| StoreError::NotFound(format!("证照类型“{type_code}”")))?;
    let content = json!({
        "kind": "license", "type_code": t.code, "type_name": t.name, "number": number,
        "holder": { "id": holder.0, "name": holder.1 },
        "fields": fields.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
    });
    let canonical = crypto::canonical_json(&content);
    let l = License {
        number: number.to_string(),
        kind: "license".into(),
        r#type: t.code.clone(),
        title: t.name.clone(),
        holder_id: holder.0.to_string(),
        holder_name: holder.1.to_string(),
        issuer: t.issuer.clone(),
        digest: hex::encode(crypto::sm3(canonical.as_bytes())),
        content: canonical,
        signature: None,
        seal_id: None,
        source: source.to_string(),
        issued_at: to_millis(now),
        valid_to: None,
        application_id: None,
        revoked_at: None,
        revoked_reason: None,
        qr_payload: None,
    };
    insert(conn, &l).await
}

pub async fn get(conn: &mut Conn, number: &str) -> Result<Option<License>> {
    Ok(sqlx::query_as::<_, License>("SELECT * FROM licenses WHERE number = $1")
        .bind(number.trim())
        .fetch_optional(&mut *conn)
        .await?)
}

/// The subject's licenses, newest first (证件助手).
pub async fn of_holder(db: &Db, holder: &str) -> Result<Vec<License>> {
    Ok(sqlx::query_as::<_, License>("SELECT * FROM licenses WHERE holder_id = $1 ORDER BY issued_at DESC")
        .bind(holder)
        .fetch_all(db.reader())
        .await?)
}

/// A valid license of `type_code` held by `holder`, newest first.
pub async fn valid_of(conn: &mut Conn, holder: &str, type_code: &str, now: OffsetDateTime) -> Result<Option<License>> {
    Ok(sqlx::query_as::<_, License>(
        "SELECT * FROM licenses WHERE holder_id = $1 AND type = $2 AND revoked_at IS NULL
            AND (valid_to IS NULL OR valid_to > $3) ORDER BY issued_at DESC LIMIT 1",
    )
    .bind(holder)
    .bind(type_code)
    .bind(to_millis(now))
    .fetch_optional(&mut *conn)
    .await?)
}

/// The result of checking a license or document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verdict {
    pub valid: bool,
    /// Why not, in Chinese; empty when valid.
    pub problems: Vec<String>,
    pub license: Option<License>,
    pub seal_name: Option<String>,
}

fn judge(l: &License, seal: Option<&Seal>, content: &str, now: OffsetDateTime) -> Vec<String> {
    let mut p = vec![];
    let digest = crypto::sm3(content.as_bytes());
    if hex::encode(digest) != l.digest {
        p.push("内容与登记的摘要（SM3）不符，文件已被改动".to_string());
    }
    match (seal, &l.signature) {
        (Some(s), Some(sig)) => {
            let ok = hex::decode(&s.public_key)
                .ok()
                .zip(hex::decode(sig).ok())
                .map(|(pk, sig)| crypto::verify(&pk, &digest, &sig) == Ok(true))
                .unwrap_or(false);
            if !ok {
                p.push(format!("{}的签名（SM2）验证不通过", s.name));
            }
        }
        _ if l.source != ISSUED_HERE => {}
        _ => p.push("缺少签章".into()),
    }
    if let Some(r) = l.revoked_at {
        p.push(format!(
            "已于 {} 注销：{}",
            from_millis(r).to_offset(domain::clock::CHINA).date(),
            l.revoked_reason.clone().unwrap_or_default()
        ));
    }
    if l.valid_to.is_some_and(|v| v <= to_millis(now)) {
        p.push("已超过有效期".into());
    }
    p
}

async fn seal_of(conn: &mut Conn, l: &License) -> Result<Option<Seal>> {
    match &l.seal_id {
        Some(id) => seals::by_id(conn, id).await,
        None => Ok(None),
    }
}

/// Checks the registered license by its number: stored content against digest and signature.
pub async fn verify_number(conn: &mut Conn, number: &str, now: OffsetDateTime) -> Result<Verdict> {
    let Some(l) = get(conn, number).await? else {
        return Ok(Verdict {
            valid: false, problems: vec!["查无此证照编号".into()], license: None, seal_name: None
        });
    };
    let seal = seal_of(conn, &l).await?;
    let problems = judge(&l, seal.as_ref(), &l.content, now);
    Ok(Verdict { valid: problems.is_empty(), problems, seal_name: seal.map(|s| s.name), license: Some(l) })
}

/// The downloadable file (电子证照文件): content, digest, seal block and signed value.
pub async fn file_of(conn: &mut Conn, l: &License) -> Result<String> {
    let seal = seal_of(conn, l).await?;
    let content: Value = serde_json::from_str(&l.content).unwrap_or(Value::Null);
    let v = json!({
        "format": "yingshang-e-license/1",
        "content": content,
        "digest": { "algorithm": "SM3", "value": l.digest },
        "seal": seal.map(|s| json!({
            "id": s.id, "name": s.name, "department": s.department,
            "algorithm": "SM2 (GB/T 32918, ID 1234567812345678)", "public_key": s.public_key, "image": s.image,
        })),
        "signature": l.signature,
        "source": l.source,
    });
    Ok(serde_json::to_string_pretty(&v).unwrap_or_default())
}

/// Checks an uploaded file: its content must be the registered license's, unchanged, and the
/// signature must verify under the seal registered here (not the key the file claims).
pub async fn verify_file(conn: &mut Conn, bytes: &[u8], now: OffsetDateTime) -> Result<Verdict> {
    let bad = |m: &str| Verdict { valid: false, problems: vec![m.to_string()], license: None, seal_name: None };
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
        return Ok(bad("文件不是有效的电子证照文件（JSON 无法解析），可能已被改动"));
    };
    let Some(number) = v.pointer("/content/number").and_then(Value::as_str) else {
        return Ok(bad("文件中没有证照编号"));
    };
    let Some(l) = get(conn, number).await? else {
        return Ok(bad("查无此证照编号"));
    };
    let seal = seal_of(conn, &l).await?;
    let content = crypto::canonical_json(&v["content"]);
    let mut problems = judge(&l, seal.as_ref(), &content, now);
    if v.pointer("/signature").and_then(Value::as_str) != l.signature.as_deref() {
        problems.push("文件中的签名值与登记的不符".into());
    }
    if content != l.content && !problems.iter().any(|p| p.contains("摘要")) {
        problems.push("内容与登记的不符".into());
    }
    Ok(Verdict { valid: problems.is_empty(), problems, seal_name: seal.map(|s| s.name), license: Some(l) })
}

/// Revokes a license (注销), audited.
pub async fn revoke(conn: &mut Conn, now: OffsetDateTime, number: &str, reason: &str, by: (&str, &str)) -> Result<()> {
    if reason.trim().is_empty() {
        return Err(StoreError::invalid("reason", "请填写注销原因"));
    }
    let r = sqlx::query(
        "UPDATE licenses SET revoked_at = $1, revoked_reason = $2 WHERE number = $3 AND revoked_at IS NULL",
    )
    .bind(to_millis(now))
    .bind(reason.trim())
    .bind(number)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::conflict("number", "证照不存在或已注销"));
    }
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::services::ServicesAudit::LicenseRevoke, "license", number)
            .by(by.0, by.1)
            .detail(reason.trim().to_string()),
    )
    .await?;
    Ok(())
}
