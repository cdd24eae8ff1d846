//! One SM2 key store (`sm2_keys`) for every key the platform signs with: the departments'
//! e-seals (电子印章) and the applicants' signing keys (企业电子签章, 个人电子签名). A key is
//! made on first use; its private half is stored SM4-GCM encrypted under the master key file
//! (`keys::MasterKey`), bound to its owner, and is decrypted only to sign. Keys never leave
//! the server: only signatures and public keys do.

use crate::keys::MasterKey;
use crate::{Conn, Result, StoreError, new_id};
use domain::clock::to_millis;
use domain::crypto::{self, KeyPair};
use sqlx::Row;
use time::OffsetDateTime;

/// Whose key it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    /// A department, by its code: its e-seal.
    Department(&'a str),
    /// An enterprise, by USCC: its e-seal as an applicant.
    Enterprise(&'a str),
    /// A person, by ID number: their e-signature.
    Person(&'a str),
}

impl<'a> Owner<'a> {
    pub fn kind(self) -> &'static str {
        match self {
            Owner::Department(_) => "department",
            Owner::Enterprise(_) => "enterprise",
            Owner::Person(_) => "person",
        }
    }

    /// The department code, USCC or ID number.
    pub fn id(self) -> &'a str {
        match self {
            Owner::Department(s) | Owner::Enterprise(s) | Owner::Person(s) => s,
        }
    }
}

/// A stored key, without its private half.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub id: String,
    pub owner_kind: String,
    pub owner_id: String,
    /// What it is called where it is shown: "亳州市市场监督管理局电子印章", an enterprise's name.
    pub name: String,
    /// Uncompressed SEC1, hex.
    pub public_key: String,
    /// The picture shown where it signs, SVG.
    pub image: String,
}

const SELECT: &str = "SELECT id, owner_kind, owner_id, name, public_key, image FROM sm2_keys";

fn key_from(r: &sqlx::any::AnyRow) -> Result<StoredKey> {
    Ok(StoredKey {
        id: r.try_get("id")?,
        owner_kind: r.try_get("owner_kind")?,
        owner_id: r.try_get("owner_id")?,
        name: r.try_get("name")?,
        public_key: r.try_get("public_key")?,
        image: r.try_get("image")?,
    })
}

/// The owner's key, if it has one.
pub async fn of(conn: &mut Conn, owner: Owner<'_>) -> Result<Option<StoredKey>> {
    let r = sqlx::query(&format!("{SELECT} WHERE owner_kind = $1 AND owner_id = $2"))
        .bind(owner.kind())
        .bind(owner.id())
        .fetch_optional(&mut *conn)
        .await?;
    r.as_ref().map(key_from).transpose()
}

/// A key by its id (a license names the seal that sealed it).
pub async fn by_id(conn: &mut Conn, id: &str) -> Result<Option<StoredKey>> {
    let r = sqlx::query(&format!("{SELECT} WHERE id = $1")).bind(id).fetch_optional(&mut *conn).await?;
    r.as_ref().map(key_from).transpose()
}

/// Makes the owner's key (the caller has found none, and audits the creation): the stored key
/// and its pair, for a first signature.
pub async fn create(
    conn: &mut Conn,
    now: OffsetDateTime,
    master: &MasterKey,
    owner: Owner<'_>,
    name: &str,
    image: &str,
) -> Result<(StoredKey, KeyPair)> {
    let (pair, enc, nonce) = new_key(master, owner.id());
    let key = StoredKey {
        id: new_id(),
        owner_kind: owner.kind().to_string(),
        owner_id: owner.id().to_string(),
        name: name.to_string(),
        public_key: hex::encode(pair.public()),
        image: image.to_string(),
    };
    sqlx::query(
        "INSERT INTO sm2_keys (id, owner_kind, owner_id, name, public_key, secret_enc, nonce, key_id, image, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&key.id)
    .bind(&key.owner_kind)
    .bind(&key.owner_id)
    .bind(&key.name)
    .bind(&key.public_key)
    .bind(enc)
    .bind(nonce)
    .bind(&master.id)
    .bind(&key.image)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    Ok((key, pair))
}

/// The pair of the key `id`, decrypted for this call; `what` names it in errors.
pub async fn pair(conn: &mut Conn, master: &MasterKey, id: &str, what: &str) -> Result<KeyPair> {
    let r = sqlx::query("SELECT owner_id, secret_enc, nonce, key_id FROM sm2_keys WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(what.to_string()))?;
    open_key(
        master,
        &r.try_get::<String, _>("owner_id")?,
        &r.try_get::<String, _>("secret_enc")?,
        &r.try_get::<String, _>("nonce")?,
        &r.try_get::<String, _>("key_id")?,
        what,
    )
}

/// A fresh SM2 key pair and its private key encrypted under the master key, bound to `aad`
/// (the owner): (pair, ciphertext hex, nonce hex).
fn new_key(key: &MasterKey, aad: &str) -> (KeyPair, String, String) {
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
fn open_key(key: &MasterKey, aad: &str, enc: &str, nonce: &str, key_id: &str, what: &str) -> Result<KeyPair> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A key made for one owner cannot be opened as another's (the owner is bound into the
    /// encryption), and a different master key is named as such.
    #[tokio::test]
    async fn keys_are_bound_to_owner_and_master() {
        let (db, _dir) = crate::testing::db().await;
        let master = MasterKey::from_bytes([7; 16]);
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let mut tx = db.begin().await.unwrap();
        let (k, pair) =
            create(&mut tx, now, &master, Owner::Department("SCJG"), "市场监管局电子印章", "<svg/>").await.unwrap();
        let found = of(&mut tx, Owner::Department("SCJG")).await.unwrap().unwrap();
        assert_eq!((found.id.as_str(), found.public_key.as_str()), (k.id.as_str(), k.public_key.as_str()));
        assert!(of(&mut tx, Owner::Enterprise("SCJG")).await.unwrap().is_none(), "kinds are apart");
        let again = super::pair(&mut tx, &master, &found.id, "印章").await.unwrap();
        assert_eq!(again.public(), pair.public());
        // Moved to another owner, the encrypted key no longer opens.
        sqlx::query("UPDATE sm2_keys SET owner_id = 'ZRZY' WHERE id = $1").bind(&k.id).execute(&mut *tx).await.unwrap();
        assert!(super::pair(&mut tx, &master, &found.id, "印章").await.is_err());
        sqlx::query("UPDATE sm2_keys SET owner_id = 'SCJG' WHERE id = $1").bind(&k.id).execute(&mut *tx).await.unwrap();
        let other = MasterKey::from_bytes([8; 16]);
        let e = super::pair(&mut tx, &other, &found.id, "印章").await.err().expect("refused").to_string();
        assert!(e.contains("另一个主密钥"), "{e}");
    }
}
