//! Storage of the audit chain. Appends happen inside the caller's transaction, so a state
//! change and its audit record commit (or roll back) together.

use crate::sql::{Exec, PageRequest, Paged, Sql, Value, like_escape};
use crate::{Conn, Db, Result};
use domain::audit::{AuditEntry, AuditRecord, ChainBreak, ChainVerifier, Outcome, seal};
use domain::clock::{from_millis, to_millis};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// Appends one record and returns its sequence number.
pub async fn append(conn: &mut Conn, at: OffsetDateTime, entry: AuditEntry) -> Result<i64> {
    // Touch the head row first: on PostgreSQL this takes the row lock that serialises appends;
    // on SQLite every write transaction begins IMMEDIATE, which already does.
    sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1").execute(&mut *conn).await?;
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut *conn).await?;
    let (seq, prev): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
    let rec = seal(seq + 1, at, entry, &prev);
    let e = &rec.entry;
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, actor_name, action, object_type, object_id, outcome, ip, detail, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(rec.seq)
    .bind(to_millis(rec.at))
    .bind(&e.actor_id)
    .bind(&e.actor_name)
    .bind(&e.action)
    .bind(&e.object_type)
    .bind(&e.object_id)
    .bind(e.outcome.as_str())
    .bind(&e.ip)
    .bind(&e.detail)
    .bind(&rec.prev_hash)
    .bind(&rec.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(rec.seq)
        .bind(&rec.hash)
        .execute(&mut *conn)
        .await?;
    Ok(rec.seq)
}

/// Appends several records in one go (group commits): the head is read and written once and
/// the records go in as one multi-row insert, chained exactly as one-by-one appends would be.
/// The no-op update first takes the write lock where a transaction has not yet (the direct
/// writer's `BEGIN IMMEDIATE` already holds it).
pub async fn append_many(conn: &mut impl Exec, at: OffsetDateTime, entries: Vec<AuditEntry>) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (rows, head) = chained(conn, at, entries).await?;
    conn.insert_rows(AUDIT_INSERT, &rows).await?;
    conn.execute(&head, &[]).await?;
    Ok(())
}

/// The audit rows of `entries` chained after the current head, with the statement that moves
/// the head past them, for a caller that writes them with its other rows
/// ([`Exec::insert_all`]). The head is read with a no-op update, which takes the write lock
/// where a transaction has not yet.
pub async fn chained(
    conn: &mut impl Exec,
    at: OffsetDateTime,
    entries: Vec<AuditEntry>,
) -> Result<(Vec<Vec<Value>>, String)> {
    let head = conn.rows("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash", &[]).await?;
    let (seq, prev) = match head.first().map(|r| &r[..]) {
        Some([Value::Int(seq), Value::Text(hash)]) => (*seq, hash.clone()),
        _ => return Err(crate::StoreError::Other("审计链头记录缺失".into())),
    };
    let (rows, seq, hash) = chain(seq, prev, at, entries);
    Ok((rows, format!("UPDATE audit_head SET seq = {seq}, hash = {} WHERE id = 1", Value::Text(hash).literal())))
}

/// The audit log's multi-row insert head, for [`chained`] rows.
pub const AUDIT_INSERT: &str = "INSERT INTO audit_log (seq, at, actor_id, actor_name, action, object_type, object_id, outcome, ip, detail, prev_hash, hash) VALUES";

/// The rows of entries chained after (seq, prev), and the new head.
fn chain(
    mut seq: i64,
    mut prev: String,
    at: OffsetDateTime,
    entries: Vec<AuditEntry>,
) -> (Vec<Vec<Value>>, i64, String) {
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        let rec = seal(seq + 1, at, entry, &prev);
        let e = &rec.entry;
        rows.push(vec![
            Value::Int(rec.seq),
            Value::Int(to_millis(rec.at)),
            Value::from(&e.actor_id),
            Value::from(&e.actor_name),
            Value::from(&e.action),
            Value::from(&e.object_type),
            Value::from(&e.object_id),
            Value::from(e.outcome.as_str()),
            Value::from(&e.ip),
            Value::from(&e.detail),
            Value::from(&rec.prev_hash),
            Value::from(&rec.hash),
        ]);
        (seq, prev) = (rec.seq, rec.hash);
    }
    (rows, seq, prev)
}

/// Appends in a transaction of its own (for events with no other state change: logins,
/// denied access, reads of personal data).
pub async fn record(db: &Db, at: OffsetDateTime, entry: AuditEntry) -> Result<i64> {
    let mut tx = db.begin().await?;
    let seq = append(&mut tx, at, entry).await?;
    tx.commit().await?;
    Ok(seq)
}

fn from_row(r: &AnyRow) -> Result<AuditRecord> {
    let outcome: String = r.try_get("outcome")?;
    Ok(AuditRecord {
        seq: r.try_get("seq")?,
        at: from_millis(r.try_get("at")?),
        entry: AuditEntry {
            actor_id: r.try_get("actor_id")?,
            actor_name: r.try_get("actor_name")?,
            action: r.try_get("action")?,
            object_type: r.try_get("object_type")?,
            object_id: r.try_get("object_id")?,
            // An unknown outcome can only come from tampering; keep a value that will fail the hash.
            outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Failure),
            ip: r.try_get("ip")?,
            detail: r.try_get("detail")?,
        },
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object: Option<String>,
    pub outcome: Option<Outcome>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

fn where_clause(f: &AuditFilter, q: &mut Sql) {
    q.push(" WHERE 1 = 1");
    if let Some(a) = f.actor.as_deref().filter(|s| !s.is_empty()) {
        let p = format!("%{}%", like_escape(a));
        q.push(" AND (actor_id LIKE ")
            .bind(p.clone())
            .push(" ESCAPE '\\' OR actor_name LIKE ")
            .bind(p)
            .push(" ESCAPE '\\')");
    }
    if let Some(a) = f.action.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND action LIKE ").bind(format!("{}%", like_escape(a))).push(" ESCAPE '\\'");
    }
    if let Some(o) = f.object.as_deref().filter(|s| !s.is_empty()) {
        let p = format!("%{}%", like_escape(o));
        q.push(" AND (object_id LIKE ")
            .bind(p.clone())
            .push(" ESCAPE '\\' OR object_type LIKE ")
            .bind(p)
            .push(" ESCAPE '\\')");
    }
    if let Some(o) = f.outcome {
        q.push(" AND outcome = ").bind(o.as_str());
    }
    if let Some(t) = f.from {
        q.push(" AND at >= ").bind(to_millis(t));
    }
    if let Some(t) = f.to {
        q.push(" AND at < ").bind(to_millis(t));
    }
}

/// Newest first.
pub async fn list(db: &Db, f: &AuditFilter, page: PageRequest) -> Result<Paged<AuditRecord>> {
    let mut count = Sql::new("SELECT COUNT(*) FROM audit_log");
    where_clause(f, &mut count);
    let pool = db.reader_for(page);
    let total: i64 = count.query_scalar().fetch_one(pool).await?;
    let mut q = Sql::new("SELECT * FROM audit_log");
    where_clause(f, &mut q);
    q.push(" ORDER BY seq DESC");
    page.apply(&mut q);
    let rows = q.query().fetch_all(pool).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Paged { items, total, page: page.page, per_page: page.per_page })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub checked: u64,
    pub head_seq: i64,
    /// The last record dropped by retention (0: none), after which the check started.
    pub base_seq: i64,
    /// Signed checkpoints outside the database the chain was found to agree with.
    pub checkpoints: u64,
}

/// One month of a log dropped by retention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedMonth {
    pub month: crate::partitions::Month,
    pub rows: i64,
}

/// Drops the audit log's months that ended `months` calendar months or more before the
/// current one (`[security] log_retention_months`; 0 keeps everything; PostgreSQL only, by
/// partition). The chain's base moves to the newest record dropped, so verification starts
/// after it; each month dropped is itself audited.
pub async fn drop_expired(conn: &mut Conn, now: OffsetDateTime, months: u32) -> Result<Vec<DroppedMonth>> {
    let mut out = vec![];
    if months == 0 || !crate::partitions::enabled(conn) {
        return Ok(out);
    }
    let cutoff = crate::partitions::Month::of(now).back(months).start_ms();
    for p in crate::partitions::ended_by(conn, "audit_log", cutoff).await? {
        let last: Option<(i64, String)> =
            sqlx::query_as(&format!("SELECT seq, hash FROM {} ORDER BY seq DESC LIMIT 1", p.name))
                .fetch_optional(&mut *conn)
                .await?;
        let first: Option<i64> =
            sqlx::query_scalar(&format!("SELECT MIN(seq) FROM {}", p.name)).fetch_one(&mut *conn).await?;
        if let Some((seq, hash)) = &last {
            sqlx::query("UPDATE audit_base SET seq = $1, hash = $2 WHERE id = 1 AND seq < $1")
                .bind(seq)
                .bind(hash)
                .execute(&mut *conn)
                .await?;
        }
        let rows = crate::partitions::drop_month(conn, &p).await?;
        let span = match (first, &last) {
            (Some(a), Some((b, _))) => format!("#{a}–#{b}，"),
            _ => String::new(),
        };
        append(
            conn,
            now,
            AuditEntry::new(domain::audit::CoreAudit::LogRetention, "audit_log", &p.name).detail(format!(
                "删除 {} 的审计日志 {rows} 条（{span}保留 {months} 个月）；审计链自其后一条起校验",
                p.month.label()
            )),
        )
        .await?;
        out.push(DroppedMonth { month: p.month, rows });
    }
    Ok(out)
}

/// Verifies the whole chain in order, in batches, in constant memory. `Ok(Err(break))` names
/// the first broken record.
pub async fn verify(db: &Db) -> Result<std::result::Result<VerifyReport, ChainBreak>> {
    verify_anchored(db, None).await
}

/// [`verify`], and with an anchor also that every signed checkpoint verifies under the key and
/// that the chain holds exactly the record each one names: this catches a chain rewritten with
/// recomputed hashes, and the newest records cut with the head moved back.
pub async fn verify_anchored(
    db: &Db,
    anchor: Option<&Anchor>,
) -> Result<std::result::Result<VerifyReport, ChainBreak>> {
    let checkpoints = match anchor {
        Some(a) => match a.read_verified()? {
            Ok(c) => c,
            Err(b) => return Ok(Err(b)),
        },
        None => vec![],
    };
    let mut pending = checkpoints.iter().peekable();
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(db.reader()).await?;
    let (head_seq, head_hash): (i64, String) = (head.try_get(0)?, head.try_get(1)?);
    // Records up to the base were dropped by retention (PostgreSQL partitions): the chain is
    // checked from there, and checkpoints at or before it can no longer be compared.
    let (base_seq, base_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_base WHERE id = 1").fetch_one(db.reader()).await?;
    while pending.next_if(|c| c.seq <= base_seq).is_some() {}
    let mut v = ChainVerifier::after(base_seq, &base_hash);
    let mut after = base_seq;
    loop {
        let rows = sqlx::query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000")
            .bind(after)
            .fetch_all(db.reader())
            .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let rec = from_row(r)?;
            after = rec.seq;
            if let Err(b) = v.check(&rec) {
                return Ok(Err(b));
            }
            while let Some(c) = pending.next_if(|c| c.seq <= rec.seq) {
                if c.seq == rec.seq && c.hash != rec.hash {
                    return Ok(Err(ChainBreak {
                        seq: rec.seq,
                        reason: format!(
                            "与 {} 的签名检查点不符：此处及之前的记录被改写并重算了哈希",
                            domain::clock::format_local(from_millis(c.at_ms))
                        ),
                    }));
                }
            }
        }
    }
    if let Some(c) = pending.next() {
        return Ok(Err(ChainBreak {
            seq: c.seq,
            reason: format!(
                "签名检查点（{}）记录链头为 #{}，日志现只到 #{}：末尾记录被删除",
                domain::clock::format_local(from_millis(c.at_ms)),
                c.seq,
                head_seq
            ),
        }));
    }
    let n = checkpoints.iter().filter(|c| c.seq > base_seq).count() as u64;
    Ok(v.finish(head_seq, &head_hash).map(|checked| VerifyReport { checked, head_seq, base_seq, checkpoints: n }))
}

/// The chain's anchor outside the database: the checkpoint key (`keys/audit.key`, like the
/// seal master key) and the append-only checkpoint file (`audit/checkpoints.log`) beside a
/// SQLite database, or where `YINGSHANG_AUDIT_KEY_FILE` and `YINGSHANG_AUDIT_ANCHOR_FILE` say.
pub struct Anchor {
    key: [u8; 32],
    path: std::path::PathBuf,
    /// The last line written (or read at start): a new one is written only when the head moved.
    last: std::sync::Mutex<Option<domain::audit::Checkpoint>>,
}

impl std::fmt::Debug for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Anchor({})", self.path.display())
    }
}

impl Anchor {
    /// Opens (creating when absent) the key and the checkpoint file in the install's home
    /// ([`crate::keys::home_of`]).
    pub fn for_home(home: &std::path::Path) -> Result<Anchor> {
        let key = crate::keys::in_home(home, "YINGSHANG_AUDIT_KEY_FILE", &["keys", "audit.key"])?;
        let file = crate::keys::in_home(home, "YINGSHANG_AUDIT_ANCHOR_FILE", &["audit", "checkpoints.log"])?;
        Anchor::open(&key, &file)
    }

    /// For checking only: `None` when there is no checkpoint file yet; an error when there is
    /// one but no key (nothing is created).
    pub fn existing_for_home(home: &std::path::Path) -> Result<Option<Anchor>> {
        let key = crate::keys::in_home(home, "YINGSHANG_AUDIT_KEY_FILE", &["keys", "audit.key"])?;
        let file = crate::keys::in_home(home, "YINGSHANG_AUDIT_ANCHOR_FILE", &["audit", "checkpoints.log"])?;
        if !file.exists() {
            return Ok(None);
        }
        if !key.exists() {
            return Err(crate::StoreError::Other(format!(
                "有审计检查点文件 {}，但找不到检查点密钥 {}：请从备份恢复密钥",
                file.display(),
                key.display()
            )));
        }
        Anchor::open(&key, &file).map(Some)
    }

    pub fn open(key_path: &std::path::Path, path: &std::path::Path) -> Result<Anchor> {
        let key = crate::keys::read_or_create_key::<32>(key_path, "审计检查点密钥")?;
        let anchor = Anchor { key, path: path.to_path_buf(), last: Default::default() };
        // New lines chain on the last one; checking the whole file is verify's work, not start-up's
        // (a line a minute is half a million a year), so only the file's tail is read here.
        *anchor.last.lock().expect("anchor lock") = anchor.last_line()?;
        Ok(anchor)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    fn last_line(&self) -> Result<Option<domain::audit::Checkpoint>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(crate::StoreError::Other(format!("无法读取审计检查点文件 {}：{e}", self.path.display())));
            }
        };
        let mut tail = Vec::new();
        let read =
            f.seek(SeekFrom::End(-4096)).or_else(|_| f.seek(SeekFrom::Start(0))).and_then(|_| f.read_to_end(&mut tail));
        read.map_err(|e| crate::StoreError::Other(format!("无法读取审计检查点文件 {}：{e}", self.path.display())))?;
        let text = String::from_utf8_lossy(&tail);
        Ok(text.lines().rev().find_map(domain::audit::Checkpoint::parse))
    }

    fn read_lines(&self) -> Result<Vec<String>> {
        match std::fs::read_to_string(&self.path) {
            Ok(t) => Ok(t.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(vec![]),
            Err(e) => Err(crate::StoreError::Other(format!("无法读取审计检查点文件 {}：{e}", self.path.display()))),
        }
    }

    /// Every line, each checked against the key and the line before it.
    pub fn read_verified(&self) -> Result<std::result::Result<Vec<domain::audit::Checkpoint>, ChainBreak>> {
        let mut out: Vec<domain::audit::Checkpoint> = vec![];
        for (i, line) in self.read_lines()?.iter().enumerate() {
            let prev = out.last().map(|c| c.mac.as_str()).unwrap_or(domain::audit::GENESIS_HASH);
            let brk = |reason: String| Ok(Err(ChainBreak { seq: out.last().map(|c| c.seq).unwrap_or(0), reason }));
            let Some(c) = domain::audit::Checkpoint::parse(line) else {
                return brk(format!("审计检查点文件第 {} 行格式不对", i + 1));
            };
            if !c.verifies(&self.key, prev) {
                return brk(format!("审计检查点文件第 {} 行签名不符：检查点被改动、删除或密钥不对", i + 1));
            }
            if out.last().is_some_and(|p| c.seq < p.seq) {
                return brk(format!("审计检查点文件第 {} 行的序号倒退", i + 1));
            }
            out.push(c);
        }
        Ok(Ok(out))
    }

    /// Appends a checkpoint of the current head when it moved since the last one; the line is
    /// synced to disk and also written to the log.
    pub async fn checkpoint(&self, db: &Db, now: OffsetDateTime) -> Result<Option<domain::audit::Checkpoint>> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(db.reader()).await?;
        let (seq, hash): (i64, String) = (head.try_get(0)?, head.try_get(1)?);
        let mut last = self.last.lock().expect("anchor lock");
        if seq == 0 || last.as_ref().is_some_and(|l| l.seq == seq) {
            return Ok(None);
        }
        let prev = last.as_ref().map(|l| l.mac.clone()).unwrap_or_else(|| domain::audit::GENESIS_HASH.to_string());
        let c = domain::audit::Checkpoint::sign(&self.key, seq, &hash, to_millis(now), &prev);
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
            writeln!(f, "{}", c.line())?;
            f.sync_all()
        };
        write().map_err(|e| crate::StoreError::Other(format!("无法写入审计检查点 {}：{e}", self.path.display())))?;
        tracing::info!(target: "audit_checkpoint", seq = c.seq, hash = %c.hash, mac = %c.mac, "audit checkpoint");
        *last = Some(c.clone());
        Ok(Some(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use time::macros::datetime;

    #[tokio::test]
    async fn appends_verify_and_tampering_is_found() {
        let (db, _d) = testing::db().await;
        let t = datetime!(2026-11-27 12:00 UTC);
        for i in 0..7 {
            let e = AuditEntry::new(domain::audit::CoreAudit::UserUpdate, "user", &format!("u{i}"))
                .by("admin", "管理员")
                .from_ip("127.0.0.1");
            record(&db, t, e).await.unwrap();
        }
        assert_eq!(
            verify(&db).await.unwrap(),
            Ok(VerifyReport { checked: 7, head_seq: 7, base_seq: 0, checkpoints: 0 })
        );

        // The application cannot change the log…
        let mut tx = db.begin().await.unwrap();
        assert!(sqlx::query("UPDATE audit_log SET detail = 'x' WHERE seq = 4").execute(&mut *tx).await.is_err());
        drop(tx);
        // …but someone with the database file can; verify names the record.
        let mut tx = db.begin().await.unwrap();
        crate::testing::drop_trigger(&mut tx, db.backend(), "audit_log_no_update", "audit_log").await;
        sqlx::query("UPDATE audit_log SET actor_name = '别人' WHERE seq = 4").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        let brk = verify(&db).await.unwrap().unwrap_err();
        assert_eq!(brk.seq, 4);
    }

    async fn anchored_log(n: i64) -> (Db, tempfile::TempDir, Anchor) {
        let (db, dir) = testing::db().await;
        let anchor =
            Anchor::open(&dir.path().join("keys/audit.key"), &dir.path().join("audit/checkpoints.log")).unwrap();
        let t = datetime!(2026-11-27 12:00 UTC);
        for i in 0..n {
            let e =
                AuditEntry::new(domain::audit::CoreAudit::UserUpdate, "user", &format!("u{i}")).by("admin", "管理员");
            record(&db, t + time::Duration::seconds(i), e).await.unwrap();
            if i == 4 || i == n - 1 {
                assert!(anchor.checkpoint(&db, t + time::Duration::seconds(i)).await.unwrap().is_some());
            }
        }
        assert!(anchor.checkpoint(&db, t).await.unwrap().is_none(), "no new line while the head stands still");
        (db, dir, anchor)
    }

    async fn unlock(db: &Db) -> crate::Tx {
        let mut tx = db.begin().await.unwrap();
        crate::testing::drop_trigger(&mut tx, db.backend(), "audit_log_no_update", "audit_log").await;
        crate::testing::drop_trigger(&mut tx, db.backend(), "audit_log_no_delete", "audit_log").await;
        tx
    }

    #[tokio::test]
    async fn a_restarted_anchor_chains_on_the_files_last_line() {
        let (db, dir, anchor) = anchored_log(6).await;
        drop(anchor);
        let again =
            Anchor::open(&dir.path().join("keys/audit.key"), &dir.path().join("audit/checkpoints.log")).unwrap();
        let t = datetime!(2026-11-27 13:00 UTC);
        assert!(again.checkpoint(&db, t).await.unwrap().is_none(), "the head has not moved since the last line");
        record(&db, t, AuditEntry::new(domain::audit::CoreAudit::UserUpdate, "user", "u9").by("admin", "管理员"))
            .await
            .unwrap();
        assert!(again.checkpoint(&db, t).await.unwrap().is_some());
        let report = verify_anchored(&db, Some(&again)).await.unwrap().unwrap();
        assert_eq!((report.checked, report.checkpoints), (7, 3));
    }

    #[tokio::test]
    async fn checkpoints_catch_the_newest_records_cut_and_the_head_moved_back() {
        let (db, _dir, anchor) = anchored_log(8).await;
        let report = verify_anchored(&db, Some(&anchor)).await.unwrap().unwrap();
        assert_eq!((report.checked, report.checkpoints), (8, 2));
        // Someone with the database file deletes #7–#8 and moves the head to #6.
        let mut tx = unlock(&db).await;
        sqlx::query("DELETE FROM audit_log WHERE seq > 6").execute(&mut *tx).await.unwrap();
        sqlx::query("UPDATE audit_head SET seq = 6, hash = (SELECT hash FROM audit_log WHERE seq = 6)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(verify(&db).await.unwrap().is_ok(), "the keyless chain alone cannot tell");
        let brk = verify_anchored(&db, Some(&anchor)).await.unwrap().unwrap_err();
        assert!(brk.reason.contains("末尾记录被删除") && brk.seq == 8, "{brk}");
    }

    #[tokio::test]
    async fn checkpoints_catch_a_record_edited_with_every_later_hash_recomputed() {
        let (db, _dir, anchor) = anchored_log(8).await;
        let mut tx = unlock(&db).await;
        let rows = sqlx::query("SELECT * FROM audit_log ORDER BY seq").fetch_all(&mut *tx).await.unwrap();
        let mut prev = domain::audit::GENESIS_HASH.to_string();
        for r in &rows {
            let mut rec = from_row(r).unwrap();
            if rec.seq == 2 {
                rec.entry.actor_name = "别人".into();
            }
            let new = seal(rec.seq, rec.at, rec.entry, &prev);
            sqlx::query("UPDATE audit_log SET actor_name = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
                .bind(&new.entry.actor_name)
                .bind(&new.prev_hash)
                .bind(&new.hash)
                .bind(new.seq)
                .execute(&mut *tx)
                .await
                .unwrap();
            prev = new.hash;
        }
        sqlx::query("UPDATE audit_head SET hash = $1").bind(&prev).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        assert!(verify(&db).await.unwrap().is_ok(), "a keyless chain can be recomputed");
        let brk = verify_anchored(&db, Some(&anchor)).await.unwrap().unwrap_err();
        assert_eq!(brk.seq, 5, "the first checkpoint after the edit: {brk}");
        assert!(brk.reason.contains("被改写"));
        // A forged checkpoint line without the key is refused too.
        let forged = domain::audit::Checkpoint::sign(&[0u8; 32], 8, &prev, 0, "x");
        let text = std::fs::read_to_string(anchor.path()).unwrap();
        std::fs::write(anchor.path(), format!("{text}{}\n", forged.line())).unwrap();
        assert!(anchor.read_verified().unwrap().unwrap_err().reason.contains("签名不符"));
    }

    #[tokio::test]
    async fn lists_with_filters() {
        let (db, _d) = testing::db().await;
        let t = datetime!(2026-11-27 12:00 UTC);
        record(&db, t, AuditEntry::new(domain::audit::CoreAudit::Login, "user", "a").by("a", "张三")).await.unwrap();
        record(
            &db,
            t,
            AuditEntry::new(domain::audit::CoreAudit::Login, "user", "b").by("b", "李四").outcome(Outcome::Failure),
        )
        .await
        .unwrap();
        record(&db, t, AuditEntry::new(domain::audit::CoreAudit::UserCreate, "user", "c").by("a", "张三"))
            .await
            .unwrap();
        let f = AuditFilter { action: Some("auth.".into()), ..Default::default() };
        let p = list(&db, &f, PageRequest::default()).await.unwrap();
        assert_eq!(p.total, 2);
        assert_eq!(p.items[0].seq, 2, "newest first");
        let f = AuditFilter { actor: Some("张".into()), outcome: Some(Outcome::Success), ..Default::default() };
        assert_eq!(list(&db, &f, PageRequest::default()).await.unwrap().total, 2);
    }
}
