//! Storage of the audit chain. Appends happen inside the caller's transaction, so a state
//! change and its audit record commit (or roll back) together.

use crate::sql::{PageRequest, Paged, Sql, Value, like_escape};
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
pub async fn append_many(conn: &mut Conn, at: OffsetDateTime, entries: Vec<AuditEntry>) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1").execute(&mut *conn).await?;
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut *conn).await?;
    let (rows, seq, hash) = chain(row.try_get(0)?, row.try_get(1)?, at, entries);
    crate::sql::insert_rows(conn, AUDIT_INSERT, "", &rows).await?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// [`append_many`] on the direct writer (its `BEGIN IMMEDIATE` already holds the lock that
/// serialises appends).
pub fn append_many_direct(
    tx: &crate::direct::DirectTx<'_>,
    at: OffsetDateTime,
    entries: Vec<AuditEntry>,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let head = tx.query("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?;
    let (seq, prev) = match head.first().map(|r| &r[..]) {
        Some([Value::Int(seq), Value::Text(hash)]) => (*seq, hash.clone()),
        _ => return Err(crate::StoreError::Other("审计链头记录缺失".into())),
    };
    let (rows, seq, hash) = chain(seq, prev, at, entries);
    tx.insert_rows(AUDIT_INSERT, &rows)?;
    tx.execute("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1", &[Value::Int(seq), Value::Text(hash)])?;
    Ok(())
}

const AUDIT_INSERT: &str = "INSERT INTO audit_log (seq, at, actor_id, actor_name, action, object_type, object_id, outcome, ip, detail, prev_hash, hash) VALUES";

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
    let total: i64 = count.query_scalar().fetch_one(db.reader()).await?;
    let mut q = Sql::new("SELECT * FROM audit_log");
    where_clause(f, &mut q);
    q.push(" ORDER BY seq DESC");
    page.apply(&mut q);
    let rows = q.query().fetch_all(db.reader()).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(Paged { items, total, page: page.page, per_page: page.per_page })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub checked: u64,
    pub head_seq: i64,
}

/// Verifies the whole chain in order, in batches, in constant memory. `Ok(Err(break))` names
/// the first broken record.
pub async fn verify(db: &Db) -> Result<std::result::Result<VerifyReport, ChainBreak>> {
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(db.reader()).await?;
    let (head_seq, head_hash): (i64, String) = (head.try_get(0)?, head.try_get(1)?);
    let mut v = ChainVerifier::default();
    let mut after = 0i64;
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
        }
    }
    Ok(v.finish(head_seq, &head_hash).map(|checked| VerifyReport { checked, head_seq }))
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
            let e = AuditEntry::new("user.update", "user", &format!("u{i}")).by("admin", "管理员").from_ip("127.0.0.1");
            record(&db, t, e).await.unwrap();
        }
        assert_eq!(verify(&db).await.unwrap(), Ok(VerifyReport { checked: 7, head_seq: 7 }));

        // The application cannot change the log…
        let mut tx = db.begin().await.unwrap();
        assert!(sqlx::query("UPDATE audit_log SET detail = 'x' WHERE seq = 4").execute(&mut *tx).await.is_err());
        drop(tx);
        // …but someone with the database file can; verify names the record.
        let mut tx = db.begin().await.unwrap();
        sqlx::query("DROP TRIGGER audit_log_no_update").execute(&mut *tx).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor_name = '别人' WHERE seq = 4").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        let brk = verify(&db).await.unwrap().unwrap_err();
        assert_eq!(brk.seq, 4);
    }

    #[tokio::test]
    async fn lists_with_filters() {
        let (db, _d) = testing::db().await;
        let t = datetime!(2026-11-27 12:00 UTC);
        record(&db, t, AuditEntry::new("auth.login", "user", "a").by("a", "张三")).await.unwrap();
        record(&db, t, AuditEntry::new("auth.login", "user", "b").by("b", "李四").outcome(Outcome::Failure))
            .await
            .unwrap();
        record(&db, t, AuditEntry::new("user.create", "user", "c").by("a", "张三")).await.unwrap();
        let f = AuditFilter { action: Some("auth.".into()), ..Default::default() };
        let p = list(&db, &f, PageRequest::default()).await.unwrap();
        assert_eq!(p.total, 2);
        assert_eq!(p.items[0].seq, 2, "newest first");
        let f = AuditFilter { actor: Some("张".into()), outcome: Some(Outcome::Success), ..Default::default() };
        assert_eq!(list(&db, &f, PageRequest::default()).await.unwrap().total, 2);
    }
}
