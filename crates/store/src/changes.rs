//! What one server process keeps in memory and another may change: several `yingshang serve`
//! processes on one PostgreSQL database each hold the configuration cases save (the service catalog), the holiday calendar and
//! a short-lived cache of sessions. A process that changes one of these announces it on the
//! channel [`CHANNEL`] (`pg_notify`), after its commit; every process listens and reloads what
//! was named. When the listening connection is lost, notices may have been missed, so the
//! listener reports it and the process reloads everything. On SQLite there is one process, and
//! announcing does nothing.
//!
//! The supervision case's caches, which the ingest reads under the write lock, use a holder
//! record instead (see [`claim`]): it is checked in the same transaction as the write, so a
//! stale cache is never used, not even for the milliseconds a notice takes.

use crate::{Backend, Db, Result};

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "yingshang_changes";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Accounts, roles or sessions: the session cache is dropped.
    Auth,
    /// Configuration a case saves in the database (the service catalog's items, suspended
    /// items): each case reloads its own (`Case::reload`).
    Config,
    /// A holiday table: the calendar is reloaded.
    Calendar,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Auth => "auth",
            Change::Config => "config",
            Change::Calendar => "calendar",
        }
    }

    pub fn parse(s: &str) -> Option<Change> {
        [Change::Auth, Change::Config, Change::Calendar].into_iter().find(|c| c.as_str() == s)
    }
}

/// Tells the other processes, after the change has committed.
pub async fn announce(db: &Db, change: Change) -> Result<()> {
    if db.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(change.as_str()).execute(&db.write).await?;
    }
    Ok(())
}

/// What the listener heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    Change(Change),
    /// The connection was lost and is being made again: anything may have changed meanwhile.
    Lost,
}

pub struct Listener(sqlx::postgres::PgListener);

/// A listener on [`CHANNEL`]; `None` on SQLite.
pub async fn listen(db: &Db) -> Result<Option<Listener>> {
    if db.backend() != Backend::Postgres {
        return Ok(None);
    }
    let mut l = sqlx::postgres::PgListener::connect(db.connect_url()).await?;
    l.listen(CHANNEL).await?;
    Ok(Some(Listener(l)))
}

impl Listener {
    /// The next notice. Waits while the server cannot be reached (retrying every second).
    pub async fn next(&mut self) -> Heard {
        loop {
            match self.0.try_recv().await {
                Ok(Some(n)) => {
                    if let Some(c) = Change::parse(n.payload()) {
                        return Heard::Change(c);
                    }
                }
                Ok(None) => return Heard::Lost,
                Err(e) => {
                    tracing::warn!(error = %e, "变更通知连接中断，一秒后重连");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    }
}

/// A numbered mark in `cache_holders` (how far the fix log was folded, how many resets), in
/// the caller's transaction; 0 when never set.
pub async fn mark(conn: &mut crate::Conn, name: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COALESCE(MAX(epoch), 0) FROM cache_holders WHERE name = $1")
        .bind(name)
        .fetch_one(&mut *conn)
        .await?)
}

/// Sets a mark (see [`mark`]).
pub async fn set_mark(conn: &mut crate::Conn, name: &str, value: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO cache_holders (name, holder, epoch) VALUES ($1, '', $2)
         ON CONFLICT (name) DO UPDATE SET epoch = excluded.epoch",
    )
    .bind(name)
    .bind(value)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The holder record of an in-memory cache that only the writer may use (the supervision
/// trackers and compiled fences): call it inside a write transaction before the cache is read
/// or changed. True when this handle was the last to hold `name` and the cache is still
/// good; false when another process (or another handle on the database) held it since —
/// the caller drops its cache — and from now on this handle holds it. Costs one read when
/// nothing changed hands.
/// `me` is the handle's [`Db::instance`]; `seen` keeps the epoch this handle last set.
pub async fn claim(conn: &mut crate::Conn, name: &str, me: &str, seen: &std::sync::atomic::AtomicI64) -> Result<bool> {
    use std::sync::atomic::Ordering;
    let row: Option<(String, i64)> = sqlx::query_as("SELECT holder, epoch FROM cache_holders WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some((holder, epoch)) = &row
        && holder == me
        && *epoch == seen.load(Ordering::Acquire)
    {
        return Ok(true);
    }
    let epoch = row.map(|r| r.1).unwrap_or(0) + 1;
    sqlx::query(
        "INSERT INTO cache_holders (name, holder, epoch) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, epoch = excluded.epoch",
    )
    .bind(name)
    .bind(me)
    .bind(epoch)
    .execute(&mut *conn)
    .await?;
    seen.store(epoch, Ordering::Release);
    Ok(false)
}
