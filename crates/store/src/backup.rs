//! Backup and restore of an install on SQLite: the database, the keys kept outside it (the seal
//! master key and the audit key, `keys/`) and the audit log's signed checkpoints (`audit/`), with
//! a manifest of their SM3 digests. The database is copied with `VACUUM INTO` on a connection of
//! its own: a read transaction, so the server keeps serving and writing while it runs, and the
//! copy is one consistent snapshot. The checkpoints are copied first, so none is newer than the
//! snapshot. (PostgreSQL installs use pg_dump / pg_restore; docs/DEPLOY.md.)

use crate::{Result, StoreError};
use sqlx::Connection;
use std::path::{Path, PathBuf};

/// The database file's name in a data directory and in a backup.
pub const DB_FILE: &str = "yingshang.db";
const MANIFEST: &str = "manifest.txt";
/// The side directories copied with the database.
const SIDE_DIRS: [&str; 2] = ["keys", "audit"];

/// One file of a backup: path relative to the backup, size, SM3 (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub size: u64,
    pub sm3: String,
}

fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Other(format!("{what}：{e}"))
}

fn entry(root: &Path, rel: &str) -> Result<Entry> {
    let bytes = std::fs::read(root.join(rel)).map_err(|e| io(&format!("读取 {rel}"), e))?;
    Ok(Entry { path: rel.to_string(), size: bytes.len() as u64, sm3: hex::encode(domain::crypto::sm3(&bytes)) })
}

fn side_files(root: &Path) -> Result<Vec<String>> {
    let mut out = vec![];
    for dir in SIDE_DIRS {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else { continue };
        let mut names: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
            .collect();
        names.sort();
        out.extend(names);
    }
    Ok(out)
}

fn copy_file(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(&format!("创建目录 {}", parent.display()), e))?;
    }
    std::fs::copy(from, to).map_err(|e| io(&format!("复制 {}", from.display()), e))?;
    #[cfg(unix)]
    if to.components().any(|c| c.as_os_str() == "keys") {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io(&format!("设置 {} 的权限", to.display()), e))?;
    }
    Ok(())
}

/// Backs up the install whose database is at `url` and whose keys and checkpoints are in
/// `data_dir` into the new directory `to`; returns the manifest's entries.
pub async fn backup(url: &str, data_dir: &Path, to: &Path) -> Result<Vec<Entry>> {
    if to.exists() && std::fs::read_dir(to).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(StoreError::Other(format!("备份目录 {} 已存在且不为空，请指定新的目录", to.display())));
    }
    std::fs::create_dir_all(to).map_err(|e| io(&format!("创建备份目录 {}", to.display()), e))?;
    let side = side_files(data_dir)?;
    for rel in &side {
        copy_file(&data_dir.join(rel), &to.join(rel))?;
    }
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let target = to.join(DB_FILE);
    let quoted = target.to_string_lossy().replace('\'', "''");
    sqlx::query(&format!("VACUUM INTO '{quoted}'")).execute(&mut conn).await?;
    conn.close().await?;
    let mut entries = vec![entry(to, DB_FILE)?];
    for rel in &side {
        entries.push(entry(to, rel)?);
    }
    let text: String = entries.iter().map(|e| format!("{}  {}  {}\n", e.sm3, e.size, e.path)).collect();
    std::fs::write(to.join(MANIFEST), text).map_err(|e| io("写入清单", e))?;
    Ok(entries)
}

/// Checks a backup against its manifest: every file present, of its size and digest, nothing
/// outside the backup named.
pub fn check(from: &Path) -> Result<Vec<Entry>> {
    let text = std::fs::read_to_string(from.join(MANIFEST))
        .map_err(|_| StoreError::Other(format!("{} 不是本平台的备份：缺少 {MANIFEST}", from.display())))?;
    let mut entries = vec![];
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let parts: Vec<&str> = line.splitn(3, "  ").collect();
        let [sm3, size, path] = parts[..] else {
            return Err(StoreError::Other(format!("备份清单格式错误：{line}")));
        };
        let safe = path == DB_FILE
            || SIDE_DIRS.iter().any(|d| {
                path.strip_prefix(&format!("{d}/"))
                    .is_some_and(|n| !n.contains(['/', '\\']) && n != ".." && !n.is_empty())
            });
        if !safe {
            return Err(StoreError::Other(format!("备份清单中的路径不允许：{path}")));
        }
        let found = entry(from, path)?;
        if found.sm3 != sm3 || found.size.to_string() != size {
            return Err(StoreError::Other(format!("备份文件 {path} 已损坏或被改动（SM3 与清单不符）")));
        }
        entries.push(found);
    }
    if !entries.iter().any(|e| e.path == DB_FILE) {
        return Err(StoreError::Other("备份中没有数据库文件".into()));
    }
    Ok(entries)
}

/// Restores a checked backup into `data_dir`, which must not hold a database yet.
pub fn restore(from: &Path, data_dir: &Path) -> Result<Vec<Entry>> {
    let entries = check(from)?;
    let db: PathBuf = data_dir.join(DB_FILE);
    if db.exists() {
        return Err(StoreError::Other(format!(
            "{} 已有数据库；请恢复到新的数据目录，核对无误后再替换",
            data_dir.display()
        )));
    }
    for e in &entries {
        copy_file(&from.join(&e.path), &data_dir.join(&e.path))?;
    }
    Ok(entries)
}
