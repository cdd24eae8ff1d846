//! A second writer connection to the SQLite file, driven synchronously by one thread
//! (rusqlite), for the one write path that must go fast: the 一键申报 group commit.
//!
//! Through sqlx every statement is a round trip to the driver's worker thread, and under load
//! each round trip waits for a core: a batch of a dozen statements spent more time waiting to
//! be scheduled than in SQLite. Here the thread that builds a batch also executes it, with
//! cached prepared statements and bound values.
//!
//! Two writer connections are safe because every write transaction on either begins with
//! `BEGIN IMMEDIATE` (see [`crate::Db::begin`]): the write lock is taken before anything is
//! read, so a transaction never reads a snapshot that the other writer has since changed, and
//! a writer that finds the lock taken waits (busy timeout) instead of failing. Durability is
//! the same as the main writer's: WAL with `synchronous = FULL`.

use crate::sql::{Exec, Value};
use crate::{Result, StoreError};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use std::future::Future;
use std::path::PathBuf;

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
            Value::Null => ValueRef::Null,
        }))
    }
}

/// The database file of a SQLite URL (`sqlite://path`, `sqlite:path`, options after `?`);
/// `None` for an in-memory database or another backend.
pub fn sqlite_file(database_url: &str) -> Option<PathBuf> {
    let file = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:"))?;
    let file = file.split('?').next().unwrap_or(file);
    (!file.is_empty() && file != ":memory:").then(|| PathBuf::from(file))
}

/// The direct writer connection. Not `Sync`: it lives on the thread that uses it.
pub struct DirectWriter {
    conn: Connection,
}

impl DirectWriter {
    /// Opens the (existing, migrated) database file with the main writer's settings.
    pub fn open(file: &std::path::Path) -> Result<DirectWriter> {
        let conn = Connection::open_with_flags(
            file,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // The same settings as the pool's writer (`WRITER_PRAGMAS`); the journal mode answers.
        for p in crate::WRITER_PRAGMAS {
            conn.query_row(p, [], |_| Ok(())).or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(()),
                e => Err(e),
            })?;
        }
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Other(format!("数据库未处于 WAL 模式（{mode}）")));
        }
        conn.set_prepared_statement_cache_capacity(64);
        Ok(DirectWriter { conn })
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`) and commits if it succeeds; any
    /// error rolls everything back.
    fn transaction<R>(&mut self, f: impl FnOnce(&mut DirectTx<'_>) -> Result<R>) -> Result<R> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let r = f(&mut DirectTx { conn: &tx })?;
        tx.commit()?;
        Ok(r)
    }

    /// [`DirectWriter::transaction`] for an operation written once against [`Exec`]: the
    /// direct connection's futures are ready at once, so `f` runs to completion here.
    pub fn run<R>(&mut self, f: impl AsyncFnOnce(&mut DirectTx<'_>) -> Result<R>) -> Result<R> {
        self.transaction(|tx| {
            let fut = std::pin::pin!(f(tx));
            match fut.poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
                std::task::Poll::Ready(r) => r,
                // Only a future that awaits something other than this connection gets here.
                std::task::Poll::Pending => Err(StoreError::Other("直写事务中出现了异步等待".into())),
            }
        })
    }
}

/// `$1, $2 …` (the placeholders the shared SQL is written with) as SQLite's `?1, ?2 …`:
/// SQLite would read `$1` as a named parameter numbered by first appearance.
fn numbered(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.contains('$') {
        return sql.into();
    }
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '$' && !quoted && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out.into()
}

impl Exec for DirectTx<'_> {
    async fn rows(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>> {
        let sql = numbered(sql);
        if params.is_empty() { self.query_once(&sql, params) } else { self.query(&sql, params) }
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        if params.is_empty() {
            // A text with its values written in (used once): not kept in the statement cache.
            return Ok(self.conn.execute(sql, [])? as u64);
        }
        Ok(self.execute_now(&numbered(sql), params)? as u64)
    }

    async fn insert_rows(&mut self, head: &str, rows: &[Vec<Value>]) -> Result<u64> {
        self.insert_now(head, rows)?;
        Ok(rows.len() as u64)
    }
}

/// Statements inside a [`DirectWriter::transaction`]. SQL text uses `?1, ?2 …` placeholders.
pub struct DirectTx<'a> {
    conn: &'a Connection,
}

impl DirectTx<'_> {
    /// Inserts rows with one cached single-row statement: `head` is `INSERT INTO t (a, b) VALUES`.
    fn insert_now(&self, head: &str, rows: &[Vec<Value>]) -> Result<()> {
        let Some(first) = rows.first() else { return Ok(()) };
        let marks: Vec<String> = (1..=first.len()).map(|i| format!("?{i}")).collect();
        let mut st = self.conn.prepare_cached(&format!("{head} ({})", marks.join(", ")))?;
        for row in rows {
            st.execute(rusqlite::params_from_iter(row.iter()))?;
        }
        Ok(())
    }

    fn execute_now(&self, sql: &str, params: &[Value]) -> Result<usize> {
        Ok(self.conn.prepare_cached(sql)?.execute(rusqlite::params_from_iter(params.iter()))?)
    }

    /// Rows of a query as `Value`s (integers, reals, text; blobs are not expected here).
    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>> {
        let mut st = self.conn.prepare_cached(sql)?;
        rows_of(&mut st, params)
    }

    /// [`DirectTx::query`] for a text used once (not kept in the statement cache).
    fn query_once(&self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>> {
        rows_of(&mut self.conn.prepare(sql)?, params)
    }
}

fn rows_of(st: &mut rusqlite::Statement<'_>, params: &[Value]) -> Result<Vec<Vec<Value>>> {
    let n = st.column_count();
    let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
    let mut out = vec![];
    while let Some(r) = rows.next()? {
        let mut row = Vec::with_capacity(n);
        for i in 0..n {
            row.push(match r.get_ref(i)? {
                ValueRef::Integer(v) => Value::Int(v),
                ValueRef::Real(v) => Value::Real(v),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                ValueRef::Null => Value::Null,
            });
        }
        out.push(row);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_numbered_for_sqlite() {
        assert_eq!(numbered("UPDATE t SET a = $1, b = $2 WHERE c = $10"), "UPDATE t SET a = ?1, b = ?2 WHERE c = ?10");
        assert_eq!(numbered("SELECT '$1', $1"), "SELECT '$1', ?1");
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn file_of_url() {
        assert_eq!(sqlite_file("sqlite:///data/ys.db?mode=rwc"), Some(PathBuf::from("/data/ys.db")));
        assert_eq!(sqlite_file("sqlite:ys.db"), Some(PathBuf::from("ys.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }

    /// The direct writer and the main (sqlx) writer interleave on one file: each waits for
    /// the other's lock, and both see each other's rows.
    #[tokio::test]
    async fn writes_beside_the_main_writer() {
        let (db, dir) = crate::testing::sqlite_db().await;
        let file = dir.path().join("yingshang.db");
        let mut w = DirectWriter::open(&file).unwrap();
        let mut tx = db.begin().await.unwrap();
        sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES ('a', '1', 0)")
            .execute(&mut *tx)
            .await
            .unwrap();
        // The main writer holds the lock: the direct writer waits, then goes on after commit.
        let t = std::thread::spawn(move || {
            w.run(async |tx| {
                tx.insert_rows(
                    "INSERT INTO settings (key, value, updated_at) VALUES",
                    &[vec![Value::from("b"), Value::from("2"), Value::Int(0)]],
                )
                .await?;
                tx.rows("SELECT value FROM settings WHERE key = $1", &[Value::from("a")]).await
            })
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        tx.commit().await.unwrap();
        let seen = t.join().unwrap().unwrap();
        assert!(matches!(&seen[..], [row] if matches!(&row[..], [Value::Text(v)] if v == "1")));
        let b: String =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'b'").fetch_one(db.reader()).await.unwrap();
        assert_eq!(b, "2");
    }
}
