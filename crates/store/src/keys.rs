//! Keys kept in files outside the database: the master key that encrypts the department
//! e-seals' and signers' private keys, and the audit checkpoint key. A copy of the database
//! alone can neither sign nor forge a checkpoint.

use crate::{Result, StoreError};
use domain::crypto;
use std::path::{Path, PathBuf};

/// The master key that encrypts seal private keys.
pub struct MasterKey {
    pub(crate) key: [u8; 16],
    /// First 16 hex digits of SM3(key): stored beside each encrypted key, so a wrong key file
    /// is reported as such rather than as a corrupt seal.
    pub id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    pub fn from_bytes(key: [u8; 16]) -> MasterKey {
        let id = hex::encode(&crypto::sm3(&key)[..8]);
        MasterKey { key, id }
    }

    /// Reads the key file (32 hex digits), creating it with a fresh random key, readable by
    /// the owner only, if it does not exist.
    pub fn open(path: &Path) -> Result<MasterKey> {
        read_or_create_key::<16>(path, "印章主密钥").map(MasterKey::from_bytes)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// Where the master key lives: `YINGSHANG_SEAL_KEY_FILE` if set, else `keys/seal-master.key`
/// in the install's home (see [`home_of`]).
pub fn key_path(home: &Path) -> Result<PathBuf> {
    in_home(home, "YINGSHANG_SEAL_KEY_FILE", &["keys", "seal-master.key"])
}

/// The folder that holds what an install keeps outside its database (keys, audit
/// checkpoints): the folder of a SQLite database file, else the data directory `data` (on
/// PostgreSQL the database is elsewhere, the keys stay on the server's disk).
pub fn home_of(database_url: &str, data: &Path) -> PathBuf {
    match crate::direct::sqlite_file(database_url) {
        Some(f) => f.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(".")),
        None => data.to_path_buf(),
    }
}

/// A file kept outside the database: the path in `env` if set, else `parts` under `home`.
pub fn in_home(home: &Path, env: &str, parts: &[&str]) -> Result<PathBuf> {
    if let Ok(p) = std::env::var(env)
        && !p.trim().is_empty()
    {
        return Ok(PathBuf::from(p));
    }
    let mut p = home.to_path_buf();
    p.extend(parts);
    Ok(p)
}

/// A random key of `N` bytes in a hex file, created readable by the owner only when absent.
pub fn read_or_create_key<const N: usize>(path: &Path, what: &str) -> Result<[u8; N]> {
    match std::fs::read_to_string(path) {
        Ok(text) => hex::decode(text.trim()).ok().and_then(|b| <[u8; N]>::try_from(b).ok()).ok_or_else(|| {
            StoreError::Other(format!("{what}文件 {} 格式不对（应为 {} 位十六进制）", path.display(), N * 2))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; N];
            getrandom::fill(&mut key).expect("OS random source");
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Other(format!("无法创建密钥目录 {}：{e}", dir.display())))?;
            }
            write_private(path, &hex::encode(key))
                .map_err(|e| StoreError::Other(format!("无法写入{what} {}：{e}", path.display())))?;
            tracing::info!(path = %path.display(), "created {what}; back it up apart from the database");
            Ok(key)
        }
        Err(e) => Err(StoreError::Other(format!("无法读取{what} {}：{e}", path.display()))),
    }
}
