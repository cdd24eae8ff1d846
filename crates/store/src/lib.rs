//! Persistence for Yingshang.
//!
//! One [`Db`] over SQLite (embedded, the default) or — designed for, not yet enabled —
//! PostgreSQL, chosen from the URL. All SQL is written once in the subset both share, with
//! `$1` placeholders, and runs through sqlx's `Any` driver; each backend has its own migrations
//! folder. Writes go through a single writer connection on SQLite (no `SQLITE_BUSY` under load,
//! and the audit chain serialises naturally), except the 一键申报 group commit, which has a
//! direct connection of its own ([`direct`]); reads use a pool of read-only connections.

pub mod alerts;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod cases;
pub mod changes;
// Configuration loading needs no database; it is its own crate, re-exported under its old path.
pub use config;
pub mod demo;
pub mod direct;
pub mod documents;
pub mod facts;
pub mod holidays;
pub mod jobs;
pub mod keys;
pub mod notify;
pub mod org;
pub mod partitions;
pub mod scores;
pub mod seam;
pub mod services;
pub mod settings;
pub mod sm2keys;
pub mod sql;
pub mod supervision;
pub mod testdb;
pub mod wages;
pub mod workflow;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor};
use std::any::TypeId;
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

pub use sqlx::AnyConnection as Conn;

/// A write transaction. Obtain with [`Db::begin`]; commit explicitly.
pub type Tx = sqlx::Transaction<'static, Any>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库错误：{0}")]
    Db(#[from] sqlx::Error),
    #[error("数据库错误：{0}")]
    Direct(#[from] rusqlite::Error),
    #[error("数据库迁移失败：{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}不存在")]
    NotFound(String),
    #[error("{message}")]
    Conflict { field: String, message: String },
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("不支持的数据库地址：{0}（支持 sqlite://… 与 postgres://…）")]
    UnsupportedUrl(String),
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        StoreError::Invalid { field: field.to_string(), message: message.into() }
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        StoreError::Conflict { field: field.to_string(), message: message.into() }
    }

    /// True when a UNIQUE constraint failed (both SQLite and PostgreSQL report it this way).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => {
                e.is_unique_violation() || e.message().contains("UNIQUE constraint failed")
            }
            StoreError::Direct(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Turns a UNIQUE violation of a write into a conflict on `field` with a Chinese `message`.
pub fn unique_as_conflict<T>(
    r: std::result::Result<T, sqlx::Error>,
    field: &str,
    message: impl FnOnce() -> String,
) -> Result<T> {
    r.map_err(StoreError::from)
        .map_err(|e| if e.is_unique_violation() { StoreError::conflict(field, message()) } else { e })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }

    /// The backend a URL names.
    pub fn of_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact(url)))
        }
    }
}

/// The advisory lock every PostgreSQL write transaction takes first (`pg_advisory_xact_lock`):
/// writes are serialised across every server process on the database, as SQLite's one writer
/// serialises them in one process. The audit chain, document numbers and the read-then-write
/// checks of every service rely on that order; the bulk paths (fix log, group commit) make
/// each transaction carry many rows, so one writer at a time is not the limit. The key is
/// "ys-write" in ASCII.
pub const PG_WRITE_LOCK: i64 = 0x7973_2d77_7269_7465;

/// The settings of every SQLite writer connection — the pool's and the direct writer's
/// (`direct`) — in one place: WAL, fsync on every commit (synchronous=FULL) so an acknowledged
/// write survives power loss, foreign keys, and a page cache large enough for bulk batches (a
/// 10,000-fix batch touches pages all over the fix index; with SQLite's 2 MB default they spill
/// mid-transaction and are read back; 128 MiB holds the hot part of a city's index).
pub const WRITER_PRAGMAS: [&str; 6] = [
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 10000",
    "PRAGMA cache_size = -131072",
    "PRAGMA temp_store = MEMORY",
];

/// The settings of the SQLite reader connections.
pub const READER_PRAGMAS: [&str; 2] = ["PRAGMA busy_timeout = 10000", "PRAGMA query_only = ON"];

#[derive(Debug, Clone)]
pub struct Db {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    url: String,
    /// The URL with its credentials, for connections made later (the change listener).
    secret_url: Secret,
    /// This handle's name among the processes on the database ([`changes::claim`]).
    instance: std::sync::Arc<str>,
    caches: std::sync::Arc<Caches>,
    /// A streaming replica for reports and exports ([`Db::with_replica`]), PostgreSQL only.
    replica: Option<std::sync::Arc<Replica>>,
}

/// A hot standby that statistics and exports read from while it is reachable and close behind
/// the primary ([`Db::check_replica`]); otherwise they read the primary.
struct Replica {
    pool: AnyPool,
    url: String,
    usable: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Replica({})", self.url)
    }
}

/// What the last replica check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicaStatus {
    /// In recovery, this many bytes of WAL behind the primary.
    Following {
        lag_bytes: i64,
    },
    /// Reachable but too far behind, or not a standby at all.
    Unsuitable(String),
    Unreachable(String),
}

/// How far (WAL bytes) a replica may trail the primary and still serve reports: a few seconds
/// of heavy writing; further behind, reports read the primary until it catches up.
pub const REPLICA_MAX_LAG_BYTES: i64 = 16 << 20;

/// A value kept out of `Debug` output.
#[derive(Clone)]
struct Secret(std::sync::Arc<str>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// What a case keeps in memory about one database (compiled fences, tracker states …): one
/// value per type, made on first use and dropped with the last handle — never a process-wide
/// static, which two databases in one process (tests, a restore) would share.
#[derive(Default)]
struct Caches(std::sync::Mutex<HashMap<TypeId, std::sync::Arc<dyn std::any::Any + Send + Sync>>>);

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Caches")
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Opens the database at `url`: `sqlite://path/to/file.db` (the file is created if needed)
    /// or `postgres://user:password@host:port/database` (the database must exist).
    pub async fn connect(url: &str) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        match backend {
            Backend::Sqlite => Self::connect_sqlite(url).await,
            Backend::Postgres => Self::connect_postgres(url).await,
        }
    }

    fn assemble(read: AnyPool, write: AnyPool, backend: Backend, url: &str) -> Db {
        Db {
            read,
            write,
            backend,
            url: redact(url),
            secret_url: Secret(url.into()),
            instance: random_token(8).into(),
            caches: Default::default(),
            replica: None,
        }
    }

    /// Reads statistics and exports from a streaming replica of this PostgreSQL database
    /// (`--replica-url`). Connects lazily: a replica down at start does not stop the server,
    /// and until [`Db::check_replica`] finds it following, reports read the primary.
    pub fn with_replica(mut self, url: &str) -> Result<Db> {
        if self.backend != Backend::Postgres || Backend::of_url(url)? != Backend::Postgres {
            return Err(StoreError::Other("只读备库（--replica-url）仅用于 PostgreSQL 主库".into()));
        }
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy_with(AnyConnectOptions::from_str(url)?);
        let usable = std::sync::atomic::AtomicBool::new(false);
        self.replica = Some(std::sync::Arc::new(Replica { pool, url: redact(url), usable }));
        Ok(self)
    }

    /// The pool statistics and exports read: the replica while it is usable, else the
    /// primary's readers. What a page must show right after its own write is read with
    /// [`Db::reader`] instead.
    pub fn reports(&self) -> &AnyPool {
        match &self.replica {
            Some(r) if r.usable.load(std::sync::atomic::Ordering::Relaxed) => &r.pool,
            _ => &self.read,
        }
    }

    /// The pool a list reads: exports ([`sql::PageRequest::all`]) read [`Db::reports`] (an
    /// export may trail the primary by the replica's lag); a page of a list reads the primary,
    /// which shows the user's own writes at once.
    pub fn reader_for(&self, page: sql::PageRequest) -> &AnyPool {
        if page.is_export() { self.reports() } else { &self.read }
    }

    /// The replica's URL without credentials, if one is configured.
    pub fn replica_url(&self) -> Option<&str> {
        self.replica.as_ref().map(|r| r.url.as_str())
    }

    /// Asks the replica whether it is a standby and how far its replay is behind the primary's
    /// WAL, and lets [`Db::reports`] use it only when it is following within
    /// [`REPLICA_MAX_LAG_BYTES`]. `None` without a replica.
    pub async fn check_replica(&self) -> Option<ReplicaStatus> {
        let r = self.replica.as_ref()?;
        let status = async {
            let (standby, lsn): (bool, Option<String>) =
                match sqlx::query_as("SELECT pg_is_in_recovery(), CAST(pg_last_wal_replay_lsn() AS TEXT)")
                    .fetch_one(&r.pool)
                    .await
                {
                    Ok(v) => v,
                    Err(e) => return ReplicaStatus::Unreachable(e.to_string()),
                };
            let Some(lsn) = lsn.filter(|_| standby) else {
                return ReplicaStatus::Unsuitable("不是正在复制的备库（未处于恢复状态）".into());
            };
            match sqlx::query_scalar::<_, i64>(
                "SELECT CAST(pg_wal_lsn_diff(pg_current_wal_lsn(), CAST($1 AS pg_lsn)) AS BIGINT)",
            )
            .bind(&lsn)
            .fetch_one(&self.read)
            .await
            {
                Ok(lag) if lag <= REPLICA_MAX_LAG_BYTES => ReplicaStatus::Following { lag_bytes: lag.max(0) },
                Ok(lag) => ReplicaStatus::Unsuitable(format!("落后主库 {} MiB", lag >> 20)),
                Err(e) => ReplicaStatus::Unsuitable(format!("无法与主库比较复制位置：{e}")),
            }
        }
        .await;
        r.usable.store(matches!(status, ReplicaStatus::Following { .. }), std::sync::atomic::Ordering::Relaxed);
        Some(status)
    }

    /// The URL to connect with, credentials included: never for display (see [`Db::url`]).
    pub(crate) fn connect_url(&self) -> &str {
        &self.secret_url.0
    }

    /// This handle's name among the processes sharing the database.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    async fn connect_sqlite(url: &str) -> Result<Db> {
        let with_mode = if url.contains('?') { url.to_string() } else { format!("{url}?mode=rwc") };
        let opts = AnyConnectOptions::from_str(&with_mode)?;

        // The writer: one connection, WAL, fsync on every commit (synchronous=FULL), so an
        // acknowledged write survives power loss.
        let write = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    for p in WRITER_PRAGMAS {
                        conn.execute(p).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts.clone())
            .await?;
        let read = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    for p in READER_PRAGMAS {
                        conn.execute(p).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        Ok(Db::assemble(read, write, Backend::Sqlite, url))
    }

    /// PostgreSQL: a small pool of writer connections (their transactions take
    /// [`PG_WRITE_LOCK`] in turn) and a pool of read-only ones. Commits wait for the WAL flush
    /// (`synchronous_commit = on`, the server's default), so an acknowledged write is durable.
    async fn connect_postgres(url: &str) -> Result<Db> {
        let opts = AnyConnectOptions::from_str(url)?;
        let write = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // Durable acknowledgements even if the server's default was lowered.
                    conn.execute("SET synchronous_commit = on").await?;
                    Ok(())
                })
            })
            .connect_with(opts.clone())
            .await?;
        let read = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("SET default_transaction_read_only = on").await?;
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        Ok(Db::assemble(read, write, Backend::Postgres, url))
    }

    /// This database's cache of type `T` (see [`Caches`]).
    pub fn cache<T: Default + Send + Sync + 'static>(&self) -> std::sync::Arc<T> {
        let mut map = self.caches.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(TypeId::of::<T>()).or_insert_with(|| std::sync::Arc::new(T::default()));
        // The entry under T's TypeId was made as a T.
        std::sync::Arc::clone(entry).downcast::<T>().expect("cache entry of its own type")
    }

    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.write).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.write).await?,
        }
        Ok(())
    }

    /// The migrations this build has that the database has not run, as (version, description).
    /// A database that has none yet (a new one) lists every migration.
    pub async fn pending_migrations(&self) -> Result<Vec<(i64, String)>> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let exists: i64 = match self.backend {
            Backend::Sqlite => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_one(&self.read)
                .await?
            }
            Backend::Postgres => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '_sqlx_migrations'",
                )
                .fetch_one(&self.read)
                .await?
            }
        };
        let done: Vec<i64> = if exists > 0 {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = true")
                .fetch_all(&self.read)
                .await?
        } else {
            Vec::new()
        };
        Ok(migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration() && !done.contains(&m.version))
            .map(|m| (m.version, m.description.to_string()))
            .collect())
    }

    /// Connects and migrates.
    pub async fn open(url: &str) -> Result<Db> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Starts a write transaction on the writer connection. On SQLite it takes the write lock
    /// at once (`BEGIN IMMEDIATE`): the 一键申报 writer ([`direct`]) writes beside this
    /// connection, and a deferred transaction that read first could otherwise find its
    /// snapshot stale when it came to write, and fail instead of waiting.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            // The transaction and the write lock in one round trip (one simple query; sqlx
            // checks that a transaction is open after it).
            Backend::Postgres => {
                self.write.begin_with(format!("BEGIN; SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")).await?
            }
        })
    }

    /// The database file, when the backend is a SQLite file.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        match self.backend {
            Backend::Sqlite => direct::sqlite_file(&self.url),
            Backend::Postgres => None,
        }
    }

    /// The pool for reads.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL without credentials, for logs and the status page.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        if let Some(r) = &self.replica {
            r.pool.close().await;
        }
    }

    /// A cheap liveness check for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// A new application-generated id: UUIDv7 (time-ordered) as 32 hex digits.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// A random secret of `n` bytes from the operating system, hex encoded.
pub fn random_token(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("OS random source");
    hex::encode(b)
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("OS random source");
    b
}

/// SQLite URL for a data directory.
pub fn sqlite_url_for_dir(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("yingshang.db").display())
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A fresh migrated SQLite database, whatever backend the tests run on: for what only
    /// SQLite has (the direct writer, pragmas).
    pub async fn sqlite_db() -> (Db, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&sqlite_url_for_dir(dir.path())).await.expect("open db");
        (db, dir)
    }

    /// Drops a trigger, as someone with the database's files or superuser rights could.
    pub async fn drop_trigger(tx: &mut Tx, backend: Backend, name: &str, table: &str) {
        let sql = match backend {
            Backend::Sqlite => format!("DROP TRIGGER {name}"),
            Backend::Postgres => format!("DROP TRIGGER {name} ON {table}"),
        };
        sqlx::query(&sql).execute(&mut **tx).await.expect("drop trigger");
    }

    /// A fresh migrated database in a temporary directory (kept alive by the returned guard):
    /// SQLite, or PostgreSQL when the tests run there ([`crate::testdb`]).
    pub async fn db() -> (Db, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&crate::testdb::url_for(dir.path()).await).await.expect("open db");
        (db, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On PostgreSQL a write transaction holds the write lock from its first statement.
    #[tokio::test]
    async fn a_write_transaction_holds_the_write_lock() {
        let (db, _dir) = testing::db().await;
        let mut tx = db.begin().await.unwrap();
        if db.backend() == Backend::Postgres {
            let held: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted",
            )
            .fetch_one(&mut *tx)
            .await
            .unwrap();
            assert_eq!(held, 1);
        }
        tx.rollback().await.unwrap();
    }

    #[tokio::test]
    async fn opens_in_wal_mode_with_foreign_keys() {
        let (db, _dir) = testing::sqlite_db().await;
        let mut tx = db.begin().await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *tx).await.unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut *tx).await.unwrap();
        assert_eq!(fk, 1);
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *tx).await.unwrap();
        assert_eq!(sync, 2, "FULL");
        tx.commit().await.unwrap();
        // Readers cannot write.
        let err = sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES ('a', 'b', 0)")
            .execute(db.reader())
            .await;
        assert!(err.is_err());
    }

    /// On either backend the read pool cannot write, and a write transaction can.
    #[tokio::test]
    async fn readers_are_read_only() {
        let (db, _dir) = testing::db().await;
        let err = sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES ('a', 'b', 0)")
            .execute(db.reader())
            .await;
        assert!(err.is_err());
        let mut tx = db.begin().await.unwrap();
        sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES ('a', 'b', 0)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    #[test]
    fn redacts_credentials() {
        assert_eq!(redact("postgres://u:p@h/db"), "postgres://***@h/db");
        assert_eq!(redact("sqlite://data/y.db"), "sqlite://data/y.db");
    }
}
