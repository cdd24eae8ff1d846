//! Issued documents (公文), an engine no case owns: a department issues a document under its
//! own number sequence (发文机关代字 + kind word + 〔year〕 + serial), addressed to the party the
//! law names, frozen as issued and sealed with the department's SM2 e-seal. Its QR payload
//! (`domain::documents`) verifies offline with the department's public key; `verify` checks
//! one online against what was issued.

use crate::config::CityConfig;
use crate::services::seals::{self, MasterKey, Seal};
use crate::sm2keys;
use crate::{Conn, Db, Result, StoreError, audit, new_id};
use domain::audit::{AuditEntry, CoreAudit};
use domain::clock::{local, to_millis};
use domain::documents::{self, Document};
use sqlx::Row;
use time::OffsetDateTime;

/// The next number of a numbered series (per series code and year), inside the caller's
/// transaction so a number is never given twice.
pub(crate) async fn next_serial(conn: &mut Conn, code: &str, year: i32) -> Result<i64> {
    sqlx::query("INSERT INTO doc_numbers (kind, year, last) VALUES ($1, $2, 0) ON CONFLICT (kind, year) DO NOTHING")
        .bind(code)
        .bind(year as i64)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE doc_numbers SET last = last + 1 WHERE kind = $1 AND year = $2")
        .bind(code)
        .bind(year as i64)
        .execute(&mut *conn)
        .await?;
    Ok(sqlx::query_scalar("SELECT last FROM doc_numbers WHERE kind = $1 AND year = $2")
        .bind(code)
        .bind(year as i64)
        .fetch_one(&mut *conn)
        .await?)
}

/// What a caller asks to issue.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    /// The kind's code, and the word it adds to the number (监整 in 亳人社监整〔2026〕1号).
    pub kind: &'a str,
    pub word: &'a str,
    pub title: &'a str,
    /// The issuing department's code.
    pub department: &'a str,
    pub addressee: String,
    pub addressee_id: Option<String>,
    pub paragraphs: Vec<String>,
    /// What it was issued about, e.g. `alert:<id>`.
    pub source: String,
}

/// A document as issued, with its seal and QR payload.
#[derive(Debug, Clone)]
pub struct Issued {
    pub id: String,
    pub document: Document,
    pub payload: String,
    pub seal: Option<Seal>,
}

impl Issued {
    /// What the seal signed (the payload's head) and the signature in hex: what a table that
    /// keeps its own copy of a sealed text stores.
    pub fn head_and_signature(&self) -> (String, String) {
        (self.document.signed_head(), self.payload.rsplit('|').next().unwrap_or_default().to_string())
    }
}

/// Issues a document in the caller's transaction: numbers, signs, stores and audits it.
pub async fn issue(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    key: &MasterKey,
    d: Draft<'_>,
) -> Result<Issued> {
    let row = sqlx::query("SELECT name, short_name, doc_prefix FROM departments WHERE code = $1 AND active = 1")
        .bind(d.department)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("出具文书的部门“{}”", d.department)))?;
    let (name, short, prefix): (String, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let prefix = if prefix.is_empty() { short } else { prefix };
    let today = local(now).date();
    let serial = next_serial(conn, &format!("doc:{}:{}", d.department, d.kind), today.year()).await?;
    let document = Document {
        kind: d.kind.to_string(),
        number: documents::number(&prefix, d.word, today.year(), serial),
        title: d.title.to_string(),
        issuer: name,
        issuer_code: d.department.to_string(),
        addressee: d.addressee,
        addressee_id: d.addressee_id,
        paragraphs: d.paragraphs,
        issued_on: today,
    };
    let seal = seals::of_department(conn, now, cfg, key, d.department).await?;
    let signature = seals::sign(conn, key, &seal, document.signed_head().as_bytes()).await?;
    let payload = document.payload(&signature);
    let id = new_id();
    let json = serde_json::to_string(&document).map_err(|e| StoreError::Other(e.to_string()))?;
    sqlx::query(
        "INSERT INTO issued_documents (id, number, kind, department, addressee_id, source, document, seal_id, payload, issued_on, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(&document.number)
    .bind(&document.kind)
    .bind(&document.issuer_code)
    .bind(&document.addressee_id)
    .bind(&d.source)
    .bind(&json)
    .bind(&seal.id)
    .bind(&payload)
    .bind(today.to_string())
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(CoreAudit::DocumentIssue, "document", &id).detail(format!(
            "{}出具{}（{}），主送{}",
            document.issuer, document.title, document.number, document.addressee
        )),
    )
    .await?;
    Ok(Issued { id, document, payload, seal: Some(seal) })
}

const SELECT: &str = "SELECT id, document, payload, seal_id FROM issued_documents";

async fn from_row(conn: &mut Conn, r: &sqlx::any::AnyRow) -> Result<Issued> {
    let text: String = r.try_get("document")?;
    let document: Document =
        serde_json::from_str(&text).map_err(|e| StoreError::Other(format!("文书记录损坏：{e}")))?;
    let seal_id: String = r.try_get("seal_id")?;
    Ok(Issued {
        id: r.try_get("id")?,
        document,
        payload: r.try_get("payload")?,
        seal: seals::by_id(conn, &seal_id).await?,
    })
}

/// The latest document issued about `source` (e.g. `alert:<id>`).
pub async fn latest_of(db: &Db, source: &str) -> Result<Option<Issued>> {
    let mut conn = db.reader().acquire().await?;
    latest_of_in(&mut conn, source).await
}

/// The same, in the caller's transaction.
pub async fn latest_of_in(conn: &mut Conn, source: &str) -> Result<Option<Issued>> {
    let r = sqlx::query(&format!("{SELECT} WHERE source = $1 ORDER BY created_at DESC, number DESC LIMIT 1"))
        .bind(source)
        .fetch_optional(&mut *conn)
        .await?;
    match r {
        Some(r) => Ok(Some(from_row(conn, &r).await?)),
        None => Ok(None),
    }
}

pub async fn by_number(db: &Db, number: &str) -> Result<Option<Issued>> {
    let mut conn = db.reader().acquire().await?;
    let r = sqlx::query(&format!("{SELECT} WHERE number = $1")).bind(number).fetch_optional(&mut *conn).await?;
    match r {
        Some(r) => Ok(Some(from_row(&mut conn, &r).await?)),
        None => Ok(None),
    }
}

/// What online verification found.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    pub valid: bool,
    pub problems: Vec<String>,
    pub issued: Option<Issued>,
    /// The e-license the payload names, when it names one rather than a document.
    pub license: Option<crate::services::licenses::License>,
}

/// Checks a QR payload: well formed, signed by the named department's seal, and the same as
/// the document — or e-license, still valid and not revoked — issued under that number.
pub async fn verify(db: &Db, payload: &str, now: OffsetDateTime) -> Result<Verdict> {
    let p = match documents::parse_payload(payload) {
        Ok(p) => p,
        Err(e) => return Ok(Verdict { problems: vec![e], ..Default::default() }),
    };
    let mut problems = vec![];
    let mut conn = db.reader().acquire().await?;
    match sm2keys::of(&mut conn, sm2keys::Owner::Department(&p.issuer_code)).await? {
        Some(k) if hex::decode(&k.public_key).is_ok_and(|pk| p.verify(&pk)) => {}
        Some(_) => problems.push("电子印章签名无效：核验码不是该部门印章所签，或已被改动".to_string()),
        None => problems.push("核验码所称的出具部门没有电子印章".to_string()),
    }
    let license = if by_number(db, &p.number).await?.is_none() {
        crate::services::licenses::get(&mut conn, &p.number).await?.filter(|l| l.qr_payload.is_some())
    } else {
        None
    };
    drop(conn);
    if let Some(l) = license {
        // An e-license: the same checks against the registered license, and its state now.
        if l.issuer != p.issuer_code || crate::services::licenses::issued_on(&l) != Some(p.issued_on) {
            problems.push("核验码与登记的证照不一致（发证部门或签发日期不同）".into());
        }
        if l.digest != p.digest {
            problems.push("核验码与登记的证照内容不一致".into());
        }
        if l.revoked_at.is_some() {
            problems.push(format!("该证照已吊销：{}", l.revoked_reason.clone().unwrap_or_default()));
        }
        if l.valid_to.is_some_and(|v| v < domain::clock::to_millis(now)) {
            problems.push("该证照已过有效期".into());
        }
        return Ok(Verdict { valid: problems.is_empty(), problems, issued: None, license: Some(l) });
    }
    let issued = by_number(db, &p.number).await?;
    match &issued {
        None => problems.push(format!("本平台没有出具过编号为“{}”的文书或证照", p.number)),
        Some(i) => {
            if i.document.issued_on != p.issued_on || i.document.issuer_code != p.issuer_code {
                problems.push("核验码与登记的文书不一致（出具部门或成文日期不同）".into());
            }
            let digest = hex::encode(domain::crypto::sm3(i.document.signed_text().as_bytes()));
            if digest != p.digest {
                problems.push("核验码与登记的文书内容不一致".into());
            }
        }
    }
    Ok(Verdict { valid: problems.is_empty(), problems, issued, license: None })
}

/// The departments' seals with their public keys, for offline verification.
pub async fn department_keys(db: &Db) -> Result<Vec<(String, String, String)>> {
    let rows = sqlx::query(
        "SELECT owner_id, name, public_key FROM sm2_keys WHERE owner_kind = 'department' ORDER BY owner_id",
    )
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
}
