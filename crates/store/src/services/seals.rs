//! Department e-seals (电子印章): an SM2 key pair per department, created on first use. The
//! private key is stored SM4-GCM encrypted under a master key kept in a file outside the
//! database (`keys/seal-master.key` beside a SQLite database), so a copy of the database
//! alone cannot sign. Keys never leave the server: only signatures and public keys do.

use crate::config::CityConfig;
use crate::{Conn, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::to_millis;
use domain::crypto::{self, KeyPair};
use sqlx::Row;
use time::OffsetDateTime;

pub use crate::keys::{MasterKey, beside_db, key_path, read_or_create_key};

#[derive(Debug, Clone)]
pub struct Seal {
    pub id: String,
    pub department: String,
    pub name: String,
    /// Uncompressed SEC1, hex.
    pub public_key: String,
    /// The seal picture, SVG.
    pub image: String,
}

/// The picture: a red ring with the department's name along the top arc and a star, the
/// shape of an official round seal. Generated, so no image file is needed.
pub(crate) fn seal_svg(name: &str) -> String {
    let chars: Vec<char> = format!("{name}电子印章").chars().collect();
    let n = chars.len().max(1) as f64;
    let mut text = String::new();
    // Spread the characters over 240° of the upper arc, upright toward the centre.
    for (i, c) in chars.iter().enumerate() {
        let a = (-210.0 + 240.0 * (i as f64 + 0.5) / n).to_radians();
        let (x, y) = (100.0 + 72.0 * a.cos(), 100.0 + 72.0 * a.sin());
        let rot = a.to_degrees() + 90.0;
        text.push_str(&format!(
            "<text x=\"{x:.1}\" y=\"{y:.1}\" transform=\"rotate({rot:.1} {x:.1} {y:.1})\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"17\" fill=\"#d42d2d\">{c}</text>"
        ));
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 200 200\" width=\"160\" height=\"160\" role=\"img\" aria-label=\"{name}电子印章\"><circle cx=\"100\" cy=\"100\" r=\"94\" fill=\"none\" stroke=\"#d42d2d\" stroke-width=\"6\"/>{text}<polygon points=\"100,68 108,92 133,92 113,107 120,131 100,116 80,131 87,107 67,92 92,92\" fill=\"#d42d2d\"/></svg>"
    )
}

fn seal_from(r: &sqlx::any::AnyRow) -> Result<Seal> {
    Ok(Seal {
        id: r.try_get("id")?,
        department: r.try_get("department")?,
        name: r.try_get("name")?,
        public_key: r.try_get("public_key")?,
        image: r.try_get("image")?,
    })
}

pub async fn by_id(conn: &mut Conn, id: &str) -> Result<Option<Seal>> {
    let r = sqlx::query("SELECT id, department, name, public_key, image FROM seals WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    r.as_ref().map(seal_from).transpose()
}

/// The department's seal, made on first use (audited).
pub async fn of_department(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    key: &MasterKey,
    dept: &str,
) -> Result<Seal> {
    let r = sqlx::query("SELECT id, department, name, public_key, image FROM seals WHERE department = $1")
        .bind(dept)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(r) = r {
        return seal_from(&r);
    }
    let d =
        cfg.departments.iter().find(|d| d.code == dept).ok_or_else(|| StoreError::NotFound(format!("部门“{dept}”")))?;
    let (pair, enc, nonce) = new_key(key, dept);
    let seal = Seal {
        id: new_id(),
        department: dept.to_string(),
        name: format!("{}电子印章", d.name),
        public_key: hex::encode(pair.public()),
        image: seal_svg(&d.name),
    };
    sqlx::query(
        "INSERT INTO seals (id, department, name, public_key, secret_enc, nonce, key_id, image, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&seal.id)
    .bind(dept)
    .bind(&seal.name)
    .bind(&seal.public_key)
    .bind(enc)
    .bind(nonce)
    .bind(&key.id)
    .bind(&seal.image)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::audit::CoreAudit::SealCreate, "seal", &seal.id).detail(format!(
            "生成{}（SM2 公钥 {}…）",
            seal.name,
            &seal.public_key[..18]
        )),
    )
    .await?;
    Ok(seal)
}

/// A fresh SM2 key pair and its private key encrypted under the master key, bound to `aad`
/// (the owner): (pair, ciphertext hex, nonce hex).
pub(crate) fn new_key(key: &MasterKey, aad: &str) -> (KeyPair, String, String) {
    let pair = loop {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("OS random source");
        if let Some(p) = KeyPair::from_secret(&secret) {
            break p;
        }
    };
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).expect("OS random source");
    let enc = crypto::sm4_seal(&key.key, &nonce, aad.as_bytes(), &pair.secret());
    (pair, hex::encode(enc), hex::encode(nonce))
}

/// The key pair of a stored encrypted private key; `what` names it in errors.
pub(crate) fn open_key(
    key: &MasterKey,
    aad: &str,
    enc: &str,
    nonce: &str,
    key_id: &str,
    what: &str,
) -> Result<KeyPair> {
    if key_id != key.id {
        return Err(StoreError::Other(format!(
            "{what}由另一个主密钥（{key_id}）加密，当前密钥文件为 {}，请恢复原密钥文件",
            key.id
        )));
    }
    let broken = || StoreError::Other(format!("{what}的密钥损坏"));
    let enc = hex::decode(enc).map_err(|_| broken())?;
    let nonce: [u8; 12] = hex::decode(nonce).ok().and_then(|n| n.try_into().ok()).ok_or_else(broken)?;
    let secret = crypto::sm4_open(&key.key, &nonce, aad.as_bytes(), &enc)
        .map_err(|e| StoreError::Other(format!("{what}：{e}")))?;
    let secret: [u8; 32] = secret.try_into().map_err(|_| broken())?;
    KeyPair::from_secret(&secret).ok_or_else(broken)
}

/// Signs `msg` with the seal's private key, decrypted only for this call.
pub async fn sign(conn: &mut Conn, key: &MasterKey, seal: &Seal, msg: &[u8]) -> Result<[u8; 64]> {
    let r = sqlx::query("SELECT secret_enc, nonce, key_id FROM seals WHERE id = $1")
        .bind(&seal.id)
        .fetch_one(&mut *conn)
        .await?;
    let pair = open_key(
        key,
        &seal.department,
        &r.try_get::<String, _>("secret_enc")?,
        &r.try_get::<String, _>("nonce")?,
        &r.try_get::<String, _>("key_id")?,
        &seal.name,
    )?;
    Ok(pair.sign(msg))
}
