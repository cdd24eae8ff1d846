//! 事项目录管理: administrators edit a service item (name, type, time limits, result,
//! materials and their fields) on the web. Version 1 of an item is its definition in
//! `config/services/items/`; each edit is the next version in `svc_item_versions`, with the
//! changes and the editor's note, audited. The caller checks an edit first with
//! [`CityConfig::with_item`], which also builds the item's workflow definition at that version;
//! applications keep the version they were made under.

use crate::config::CityConfig;
use crate::config::services::{Item, changes};
use crate::{Conn, Db, Result, StoreError, audit};
use domain::audit::AuditEntry;
use domain::clock::to_millis;
use sqlx::Row;
use std::sync::Arc;
use time::OffsetDateTime;

/// One saved version, for the history.
#[derive(Debug, Clone)]
pub struct Version {
    pub version: u32,
    pub note: String,
    pub changes: Vec<String>,
    pub edited_by_name: String,
    pub edited_at: i64,
}

/// The configuration from files with the saved versions applied, oldest first, and a warning
/// for each version that no longer fits it (an interface or license type it names has since
/// been removed from the files): such a version is skipped and the one before stays current.
/// Without saved versions the configuration is returned as it came, not copied.
pub async fn apply_saved(db: &Db, cfg: Arc<CityConfig>) -> Result<(Arc<CityConfig>, Vec<String>)> {
    let rows = sqlx::query("SELECT code, version, definition FROM svc_item_versions ORDER BY code, version")
        .fetch_all(db.reader())
        .await?;
    if rows.is_empty() {
        return Ok((cfg, vec![]));
    }
    let mut cfg = Arc::unwrap_or_clone(cfg);
    let (mut warnings, mut skipped) = (vec![], vec![]);
    for r in rows {
        let code: String = r.try_get("code")?;
        let version = u32::try_from(r.try_get::<i64, _>("version")?).unwrap_or(0);
        let text: String = r.try_get("definition")?;
        let mut item: Item = match serde_json::from_str(&text) {
            Ok(i) => i,
            Err(e) => {
                warnings.push(format!("事项“{code}”第 {version} 版无法读取（{e}），未采用"));
                continue;
            }
        };
        item.version = version;
        // Version 1 saved here is an item made on the web; a file that has since brought the
        // same code wins, and the web item's versions are left out.
        let made_here = version == 1;
        if made_here && cfg.services.item(&code).is_some() {
            warnings.push(format!("网页新增的事项“{code}”与配置文件中的同编码事项冲突，未采用网页新增的定义"));
            skipped.push(code);
            continue;
        }
        if skipped.contains(&code) {
            continue;
        }
        // In place: a configuration is large, and an old install may hold many versions.
        let applied = if made_here { cfg.put_new_item(item) } else { cfg.put_item(item) };
        if let Err(problems) = applied {
            if made_here {
                skipped.push(code.clone());
            }
            let why: Vec<String> = problems.into_iter().map(|p| p.message).collect();
            warnings.push(format!("事项“{code}”第 {version} 版与当前配置不符，未采用：{}", why.join("；")));
        }
    }
    Ok((Arc::new(cfg), warnings))
}

/// Stores `item` at its version with the note and changes; `taken` is the error when that
/// version already exists (someone else saved meanwhile).
async fn insert_version(
    conn: &mut Conn,
    now: OffsetDateTime,
    item: &Item,
    note: &str,
    changes: &[String],
    by: (&str, &str),
    taken: StoreError,
) -> Result<()> {
    let definition = serde_json::to_string(item).map_err(|e| StoreError::Other(format!("序列化事项失败：{e}")))?;
    let r = sqlx::query(
        "INSERT INTO svc_item_versions (code, version, definition, note, changes, edited_by, edited_by_name, edited_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&item.code)
    .bind(i64::from(item.version))
    .bind(definition)
    .bind(note)
    .bind(changes.join("\n"))
    .bind(by.0)
    .bind(by.1)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await;
    match r.map_err(StoreError::from) {
        Err(e) if e.is_unique_violation() => Err(taken),
        Err(e) => Err(e),
        Ok(_) => Ok(()),
    }
}

/// Saves `item`, already checked by [`CityConfig::with_item`], as the next version of its code
/// after the current one in `cfg`; returns the changes. Refused without a note, without any
/// change, or when someone else saved a version meanwhile.
pub async fn save(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    item: &Item,
    note: &str,
    by: (&str, &str),
) -> Result<Vec<String>> {
    let current = cfg.services.item(&item.code).ok_or_else(|| StoreError::NotFound(format!("事项“{}”", item.code)))?;
    if item.version != current.version + 1 {
        return Err(StoreError::conflict("note", "该事项刚被他人修改，请刷新后重新编辑"));
    }
    let note = note.trim();
    if note.is_empty() {
        return Err(StoreError::invalid("note", "请填写修改说明（依据或原因），它记入版本历史和审计日志"));
    }
    let list = changes(current, item, &cfg.services);
    if list.is_empty() {
        return Err(StoreError::invalid("note", "与当前版本相比没有任何修改"));
    }
    let taken = StoreError::conflict("note", "该事项刚被他人修改，请刷新后重新编辑");
    insert_version(conn, now, item, note, &list, by, taken).await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::services::ServicesAudit::ItemEdit, "svc_item", &item.code)
            .by(by.0, by.1)
            .detail(format!("{} 第 {} 版：{}（说明：{note}）", item.name, item.version, list.join("；"))),
    )
    .await?;
    Ok(list)
}

/// Saves a new item made on the web (already checked by [`CityConfig::with_new_item`]) as its
/// version 1, audited.
pub async fn create(conn: &mut Conn, now: OffsetDateTime, item: &Item, note: &str, by: (&str, &str)) -> Result<()> {
    let note = note.trim();
    if note.is_empty() {
        return Err(StoreError::invalid("note", "请填写新增说明（依据或原因），它记入版本历史和审计日志"));
    }
    let taken = StoreError::conflict("code", format!("事项编码“{}”已被使用", item.code));
    insert_version(conn, now, item, note, &["新增事项".to_string()], by, taken).await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::services::ServicesAudit::ItemCreate, "svc_item", &item.code)
            .by(by.0, by.1)
            .detail(format!("新增事项 {}（{}）：{note}", item.name, item.code)),
    )
    .await?;
    Ok(())
}

/// The saved versions of an item, newest first (for an item from the files, version 1 is the
/// file and not among them).
pub async fn versions(db: &Db, code: &str) -> Result<Vec<Version>> {
    let rows = sqlx::query(
        "SELECT version, note, changes, edited_by_name, edited_at FROM svc_item_versions
         WHERE code = $1 ORDER BY version DESC",
    )
    .bind(code)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let changes: String = r.try_get("changes")?;
            Ok(Version {
                version: u32::try_from(r.try_get::<i64, _>("version")?).unwrap_or(0),
                note: r.try_get("note")?,
                changes: changes.lines().map(str::to_string).collect(),
                edited_by_name: r.try_get("edited_by_name")?,
                edited_at: r.try_get("edited_at")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigSource, load};

    fn config() -> CityConfig {
        load(&ConfigSource::Dir(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config"))).unwrap()
    }

    #[tokio::test]
    async fn saved_versions_come_back_at_start_and_one_that_no_longer_fits_is_skipped() {
        let (db, _dir) = crate::testing::db().await;
        let cfg = config();
        let now = time::OffsetDateTime::now_utc();
        let by = ("u1", "管理员");
        let mut item = cfg.services.item("SCJG-XK-001").unwrap().clone();
        item.version = 2;
        // Unchanged and without a note: refused.
        let mut tx = db.begin().await.unwrap();
        assert!(matches!(save(&mut tx, now, &cfg, &item, "调整", by).await, Err(StoreError::Invalid { .. })));
        item.promised_days = 2;
        assert!(matches!(save(&mut tx, now, &cfg, &item, " ", by).await, Err(StoreError::Invalid { .. })));
        let changes = save(&mut tx, now, &cfg, &item, "压缩时限", by).await.unwrap();
        assert_eq!(changes, vec!["承诺时限：3 个工作日 → 2 个工作日".to_string()]);
        tx.commit().await.unwrap();
        let cfg2 = cfg.with_item(item.clone()).unwrap();
        // A stale editor (still on version 1) cannot save over it.
        let mut tx = db.begin().await.unwrap();
        assert!(matches!(save(&mut tx, now, &cfg, &item, "again", by).await, Err(StoreError::Conflict { .. })));
        // A refused write ends its transaction (on PostgreSQL the transaction is aborted).
        drop(tx);
        // The next version renames the item.
        let mut tx = db.begin().await.unwrap();
        let mut v3 = item.clone();
        v3.version = 3;
        v3.name = "食品经营许可证延续（告知承诺）".into();
        save(&mut tx, now, &cfg2, &v3, "改名", by).await.unwrap();
        tx.commit().await.unwrap();

        let (back, warnings) = apply_saved(&db, Arc::new(config())).await.unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let cur = back.services.item("SCJG-XK-001").unwrap();
        assert_eq!((cur.version, cur.promised_days, cur.name.as_str()), (3, 2, "食品经营许可证延续（告知承诺）"));
        assert_eq!(back.services.item_at("SCJG-XK-001", 1).unwrap().promised_days, 3);
        assert_eq!(back.workflow("svc.SCJG-XK-001").unwrap().version, 3);
        let hist = versions(&db, "SCJG-XK-001").await.unwrap();
        assert_eq!(hist.iter().map(|v| v.version).collect::<Vec<_>>(), vec![3, 2]);
        assert_eq!(hist[0].changes, vec!["事项名称：食品经营许可证延续 → 食品经营许可证延续（告知承诺）".to_string()]);

        // The files lose the interface the item's fields come from: the saved versions no
        // longer fit and are skipped, with a warning each; the file's version stays.
        let mut files = config();
        files.services.interfaces.retain(|i| i.code != "scjg.enterprise");
        files.services.items.retain(|i| i.code == "SCJG-XK-001");
        let (back, warnings) = apply_saved(&db, Arc::new(files)).await.unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].contains("第 2 版与当前配置不符") && warnings[0].contains("scjg.enterprise"),
            "{warnings:?}"
        );
        assert_eq!(back.services.item("SCJG-XK-001").unwrap().version, 1);
        let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'services.item.edit'")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(audit, 2);
    }

    #[tokio::test]
    async fn an_item_made_on_the_web_comes_back_and_yields_to_a_file_with_its_code() {
        let (db, _dir) = crate::testing::db().await;
        let cfg = config();
        let now = time::OffsetDateTime::now_utc();
        let mut item = cfg.services.item("SCJG-XK-001").unwrap().clone();
        item.version = 1;
        item.code = "SCJG-XK-101".into();
        item.name = "食品经营许可证延续（告知承诺制）".into();
        assert!(cfg.with_new_item(cfg.services.item("SCJG-XK-001").unwrap().clone()).is_err(), "a code in use");
        let next = cfg.with_new_item(item.clone()).unwrap();
        assert!(next.services.history.is_empty(), "a new item has no earlier version");
        assert_eq!(next.workflow("svc.SCJG-XK-101").unwrap().version, 1);
        let mut tx = db.begin().await.unwrap();
        create(&mut tx, now, &item, "试点", ("u1", "管理员")).await.unwrap();
        let mut v2 = item.clone();
        v2.version = 2;
        v2.promised_days = 1;
        save(&mut tx, now, &next, &v2, "压缩", ("u1", "管理员")).await.unwrap();
        tx.commit().await.unwrap();
        let (back, warnings) = apply_saved(&db, Arc::new(config())).await.unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let cur = back.services.item("SCJG-XK-101").unwrap();
        assert_eq!((cur.version, cur.promised_days), (2, 1));
        assert_eq!(back.services.item_at("SCJG-XK-101", 1).unwrap().promised_days, 3);
        // The files now bring an item with that code: it wins, with one warning.
        let mut files = config();
        let mut shipped = files.services.item("SCJG-XK-002").unwrap().clone();
        shipped.code = "SCJG-XK-101".into();
        files.services.items.push(shipped);
        let (back, warnings) = apply_saved(&db, Arc::new(files)).await.unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("冲突"));
        assert_eq!(back.services.item("SCJG-XK-101").unwrap().version, 1);
    }
}
