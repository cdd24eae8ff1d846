//! Department e-seals (电子印章): an SM2 key pair per department in the key store
//! (`sm2keys`), created on first use. The private key is encrypted under a master key kept in
//! a file outside the database (`keys/seal-master.key` beside a SQLite database), so a copy of
//! the database alone cannot sign.

use crate::config::CityConfig;
use crate::sm2keys::{self, Owner, StoredKey};
use crate::{Conn, Result, StoreError, audit};
use domain::audit::AuditEntry;
use time::OffsetDateTime;

pub use crate::keys::{MasterKey, home_of, in_home, key_path, read_or_create_key};

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

impl Seal {
    fn of(k: StoredKey) -> Seal {
        Seal { id: k.id, department: k.owner_id, name: k.name, public_key: k.public_key, image: k.image }
    }
}

pub async fn by_id(conn: &mut Conn, id: &str) -> Result<Option<Seal>> {
    Ok(sm2keys::by_id(conn, id).await?.filter(|k| k.owner_kind == "department").map(Seal::of))
}

/// The department's seal, made on first use (audited).
pub async fn of_department(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    key: &MasterKey,
    dept: &str,
) -> Result<Seal> {
    if let Some(k) = sm2keys::of(conn, Owner::Department(dept)).await? {
        return Ok(Seal::of(k));
    }
    let d =
        cfg.departments.iter().find(|d| d.code == dept).ok_or_else(|| StoreError::NotFound(format!("部门“{dept}”")))?;
    let (k, _) =
        sm2keys::create(conn, now, key, Owner::Department(dept), &format!("{}电子印章", d.name), &seal_svg(&d.name))
            .await?;
    let seal = Seal::of(k);
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

/// A sealed document's text as it is signed: "项目：内容" lines joined by newlines.
pub fn signed_text<K: AsRef<str>, V: AsRef<str>>(lines: &[(K, V)]) -> String {
    lines.iter().map(|(k, v)| format!("{}：{}", k.as_ref(), v.as_ref())).collect::<Vec<_>>().join("\n")
}

/// The (label, value) lines of a signed text, for showing it.
pub fn signed_lines(text: &str) -> Vec<(String, String)> {
    text.lines().filter_map(|l| l.split_once('：').map(|(k, v)| (k.to_string(), v.to_string()))).collect()
}

/// Signs `msg` with the seal's private key, decrypted only for this call.
pub async fn sign(conn: &mut Conn, key: &MasterKey, seal: &Seal, msg: &[u8]) -> Result<[u8; 64]> {
    Ok(sm2keys::pair(conn, key, &seal.id, &seal.name).await?.sign(msg))
}
