//! Applicants' e-seals and e-signatures (电子签章 / 电子签名), the 四电 materials of kind
//! `sign`. Each subject (an enterprise by USCC, a person by ID number) has an SM2 key pair on
//! the platform, made on first use and kept like the department seals: the private key SM4-GCM
//! encrypted under the master key file, never leaving the server. When the applicant ticks
//! the signing box, the server signs, for each sign material, the SM3 digest of the canonical
//! content: item, version, material, subject, the form values the applicant submitted and the
//! instant. Review checks it again (一键核查) from the values stored with the application, with
//! the key registered here; a changed value or signature fails.
//!
//! This is a platform-held ("cloud") signature: the key is used on the applicant's authenticated
//! request and explicit confirmation. It is not a CA-certified qualified signature (the key is
//! not under the signer's sole control); a CA's signing service would replace `sign`.

use super::seals::{MasterKey, seal_svg};
use crate::config::services::{Item, MaterialKind, Subject};
use crate::sm2keys::{self, Owner, StoredKey};
use crate::sql::Value;
use crate::{Conn, Db, Result, StoreError, audit};
use domain::audit::AuditEntry;
use domain::clock::to_millis;
use domain::crypto::{self, KeyPair};
use sqlx::Row;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// A signature on an application, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Signature {
    pub material: String,
    pub round: i64,
    pub signer_id: String,
    pub signer_name: String,
    /// SM3 of the canonical content, hex.
    pub digest: String,
    /// SM2 over the digest, hex (r‖s).
    pub signature: String,
    pub signed_at: i64,
}

/// A subject's registered signing key: its public key and picture.
pub type SignerKey = StoredKey;

fn owner(subject: Subject, holder: &str) -> Owner<'_> {
    match subject {
        Subject::Enterprise => Owner::Enterprise(holder),
        Subject::Person => Owner::Person(holder),
    }
}

pub use domain::services::rules::{consent_key, what};

/// The form values an applicant signs: every form-kind field, trimmed, as stored.
pub fn form_values(item: &Item, values: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    item.fields()
        .filter(|(m, _)| m.kind == MaterialKind::Form)
        .map(|(_, f)| (f.key.clone(), values.get(&f.key).map(|v| v.trim().to_string()).unwrap_or_default()))
        .collect()
}

/// SM3 of the canonical content of one signature.
pub fn digest(item: &Item, material: &str, subject: &str, form: &BTreeMap<String, String>, signed_at: i64) -> [u8; 32] {
    let content = serde_json::json!({
        "item": item.code, "version": item.version, "material": material, "subject": subject,
        "form": form, "signed_at": signed_at,
    });
    crypto::sm3(crypto::canonical_json(&content).as_bytes())
}

fn picture(subject: Subject, name: &str) -> String {
    // Registry names are data: nothing that could break out of the SVG text.
    let name: String = name.chars().filter(|c| !matches!(c, '<' | '>' | '&' | '"' | '\'')).collect();
    let name = name.as_str();
    match subject {
        Subject::Enterprise => seal_svg(name),
        // A person's signature: the name in a red frame, the shape of a personal name seal.
        Subject::Person => format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 200 90\" width=\"160\" height=\"72\" role=\"img\" aria-label=\"{name}电子签名\"><rect x=\"4\" y=\"4\" width=\"192\" height=\"82\" rx=\"6\" fill=\"none\" stroke=\"#d42d2d\" stroke-width=\"5\"/><text x=\"100\" y=\"52\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"34\" fill=\"#d42d2d\">{name}</text></svg>"
        ),
    }
}

/// The subject's registered key, if it has one.
pub async fn key_of(conn: &mut Conn, subject: Subject, holder: &str) -> Result<Option<SignerKey>> {
    sm2keys::of(conn, owner(subject, holder)).await
}

/// The subject's stored key pair (and the name it was made for), decrypted for this call.
async fn stored_pair(
    conn: &mut Conn,
    master: &MasterKey,
    subject: Subject,
    holder: &str,
    name: &str,
) -> Result<Option<(String, KeyPair)>> {
    let Some(k) = key_of(conn, subject, holder).await? else { return Ok(None) };
    let pair = sm2keys::pair(conn, master, &k.id, &format!("{name}的{}", what(subject))).await?;
    Ok(Some((k.name, pair)))
}

/// The subject's key pair, decrypted for this call; made on first use (audited).
async fn pair_of(
    conn: &mut Conn,
    now: OffsetDateTime,
    master: &MasterKey,
    subject: Subject,
    holder: &str,
    name: &str,
) -> Result<(String, KeyPair)> {
    if let Some(found) = stored_pair(conn, master, subject, holder, name).await? {
        return Ok(found);
    }
    let what = format!("{name}的{}", what(subject));
    let (k, pair) = sm2keys::create(conn, now, master, owner(subject, holder), name, &picture(subject, name)).await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::audit::CoreAudit::SignerCreate, "signer_key", holder)
            .detail(format!("生成{what}密钥（SM2 公钥 {}…）", &k.public_key[..18])),
    )
    .await?;
    Ok((name.to_string(), pair))
}

fn sign_materials(item: &Item) -> Vec<&str> {
    item.materials.iter().filter(|m| m.kind == MaterialKind::Sign).map(|m| m.id.as_str()).collect()
}

/// One signature per sign material of `item`, by the subject's `pair` over `values`.
fn signed_with(
    item: &Item,
    subject: &str,
    (name, pair): &(String, KeyPair),
    values: &BTreeMap<String, String>,
    at: i64,
    round: i64,
) -> Vec<Signature> {
    let form = form_values(item, values);
    sign_materials(item)
        .into_iter()
        .map(|m| {
            let d = digest(item, m, subject, &form, at);
            Signature {
                material: m.to_string(),
                round,
                signer_id: subject.to_string(),
                signer_name: name.clone(),
                digest: hex::encode(d),
                signature: hex::encode(pair.sign(&d)),
                signed_at: at,
            }
        })
        .collect()
}

/// Signs every sign material of `item` for `subject` over `values` (the submitted form).
#[allow(clippy::too_many_arguments)]
pub async fn sign(
    conn: &mut Conn,
    now: OffsetDateTime,
    master: &MasterKey,
    item: &Item,
    subject: &str,
    subject_name: &str,
    values: &BTreeMap<String, String>,
    round: i64,
) -> Result<Vec<Signature>> {
    if sign_materials(item).is_empty() {
        return Ok(vec![]);
    }
    let key = pair_of(conn, now, master, item.subject, subject, subject_name).await?;
    Ok(signed_with(item, subject, &key, values, to_millis(now), round))
}

/// [`sign`] for a submission (round 0): the key is read on a reader and, the first time only,
/// made in a write transaction of its own, so signing never holds the write lock.
pub async fn sign_submission(
    db: &Db,
    now: OffsetDateTime,
    master: &MasterKey,
    item: &Item,
    subject: &str,
    subject_name: &str,
    values: &BTreeMap<String, String>,
) -> Result<Vec<Signature>> {
    if sign_materials(item).is_empty() {
        return Ok(vec![]);
    }
    let mut conn = db.reader().acquire().await?;
    let key = match stored_pair(&mut conn, master, item.subject, subject, subject_name).await? {
        Some(key) => key,
        None => {
            drop(conn);
            let mut tx = db.begin().await?;
            let key = pair_of(&mut tx, now, master, item.subject, subject, subject_name).await?;
            tx.commit().await?;
            key
        }
    };
    Ok(signed_with(item, subject, &key, values, to_millis(now), 0))
}

pub(crate) const INSERT: &str = "INSERT INTO svc_signatures (application_id, material, round, signer_id, signer_name,
    digest, signature, signed_at) VALUES";

pub(crate) fn rows(app: &str, sigs: &[Signature]) -> Vec<Vec<Value>> {
    sigs.iter()
        .map(|s| {
            vec![
                Value::from(app),
                Value::from(&s.material),
                Value::Int(s.round),
                Value::from(&s.signer_id),
                Value::from(&s.signer_name),
                Value::from(&s.digest),
                Value::from(&s.signature),
                Value::Int(s.signed_at),
            ]
        })
        .collect()
}

/// An application's signatures, the newest round of each material first.
pub async fn of_application(conn: &mut Conn, app: &str) -> Result<Vec<Signature>> {
    let rows = sqlx::query(
        "SELECT material, round, signer_id, signer_name, digest, signature, signed_at FROM svc_signatures
         WHERE application_id = $1 ORDER BY material, round DESC",
    )
    .bind(app)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Signature {
                material: r.try_get("material")?,
                round: r.try_get("round")?,
                signer_id: r.try_get("signer_id")?,
                signer_name: r.try_get("signer_name")?,
                digest: r.try_get("digest")?,
                signature: r.try_get("signature")?,
                signed_at: r.try_get("signed_at")?,
            })
        })
        .collect()
}

/// Checks a signature against the application's values as stored and the subject's registered
/// key: `Ok(())`, or why it fails.
pub fn check(
    item: &Item,
    subject: &str,
    form: &BTreeMap<String, String>,
    sig: &Signature,
    key: Option<&SignerKey>,
) -> std::result::Result<(), String> {
    let Some(key) = key.filter(|k| k.owner_id == subject && sig.signer_id == subject) else {
        return Err("签名人不是申请主体，或平台没有其签名密钥".into());
    };
    let d = digest(item, &sig.material, subject, &form_values(item, form), sig.signed_at);
    if hex::encode(d) != sig.digest {
        return Err("申请内容在签名后被改动（摘要不一致）".into());
    }
    let public = hex::decode(&key.public_key).map_err(|_| "签名公钥损坏".to_string())?;
    let raw = hex::decode(&sig.signature).map_err(|_| "签名值损坏".to_string())?;
    match crypto::verify(&public, &d, &raw) {
        Ok(true) => Ok(()),
        _ => Err("SM2 验签失败".into()),
    }
}

/// Refuses a submission that needs signing when no master key is configured.
pub fn need_key(item: &Item, master: Option<&MasterKey>) -> Result<()> {
    if master.is_none() && item.materials.iter().any(|m| m.kind == MaterialKind::Sign) {
        return Err(StoreError::Other("电子签章服务未配置主密钥，暂不能签署".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_signature_verifies_until_a_value_or_the_key_changes() {
        let (db, _dir) = crate::testing::db().await;
        let cfg = crate::config::load(&crate::config::ConfigSource::Embedded).unwrap();
        let item = cfg.services.item("SCJG-DJ-002").unwrap();
        let master = MasterKey::from_bytes([7; 16]);
        let now = time::OffsetDateTime::now_utc();
        let subject = "91341600MA2TEST01X";
        let values: BTreeMap<String, String> =
            [("name", " 亳州市测试有限公司 "), ("uscc", subject), ("reason", "决议解散"), ("commit", "同意")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let sigs = sign_submission(&db, now, &master, item, subject, "亳州市测试有限公司", &values).await.unwrap();
        assert_eq!(sigs.len(), 1);
        assert_eq!((sigs[0].material.as_str(), sigs[0].round), ("seal", 0));
        let mut conn = db.reader().acquire().await.unwrap();
        let key = key_of(&mut conn, item.subject, subject).await.unwrap().expect("made on first use");
        assert!(key.image.contains("亳州市测试有限公司电子印章"));
        // As stored with the application (trimmed), it verifies.
        let stored: BTreeMap<String, String> = values.iter().map(|(k, v)| (k.clone(), v.trim().to_string())).collect();
        assert_eq!(check(item, subject, &stored, &sigs[0], Some(&key)), Ok(()));
        // One value changed after signing.
        let mut changed = stored.clone();
        changed.insert("reason".into(), "其他".into());
        assert!(check(item, subject, &changed, &sigs[0], Some(&key)).unwrap_err().contains("被改动"));
        // A signature value changed.
        let mut forged = sigs[0].clone();
        forged.signature.replace_range(0..2, if forged.signature.starts_with("00") { "01" } else { "00" });
        assert!(check(item, subject, &stored, &forged, Some(&key)).unwrap_err().contains("验签失败"));
        // Another subject's key does not vouch for it.
        let other = SignerKey { owner_id: "x".into(), ..key.clone() };
        assert!(check(item, subject, &stored, &sigs[0], Some(&other)).is_err());
        // The key is made once: a second signing reuses it (one audit record).
        sign_submission(&db, now, &master, item, subject, "亳州市测试有限公司", &values).await.unwrap();
        let made: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'signer.create'")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(made, 1);
        // Another master key cannot open it.
        let wrong = MasterKey::from_bytes([8; 16]);
        let e = sign_submission(&db, now, &wrong, item, subject, "亳州市测试有限公司", &values).await.unwrap_err();
        assert!(e.to_string().contains("另一个主密钥"), "{e}");
    }
}
