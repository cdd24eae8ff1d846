//! The database of a test: a SQLite file in the test's temporary directory, or, when
//! `YINGSHANG_TEST_POSTGRES` names a PostgreSQL server (`postgres://user@127.0.0.1:port/postgres`,
//! as `.ci/pg start` prints), a fresh database on it, so the same tests run on both backends.
//! The PostgreSQL database's URL is written into the directory: a test that restarts its server
//! on the same directory gets the same database back.

use std::path::Path;

/// The environment variable naming the PostgreSQL server the tests run on.
pub const ENV: &str = "YINGSHANG_TEST_POSTGRES";

/// The environment variable naming a streaming replica of that server (`.ci/pg replica`).
pub const REPLICA_ENV: &str = "YINGSHANG_TEST_REPLICA";

/// The replica's URL of the test database in `dir`, when the tests have a replica.
pub fn replica_url_for(dir: &Path) -> Option<String> {
    let replica = std::env::var(REPLICA_ENV).ok().filter(|v| !v.trim().is_empty())?;
    let primary = std::fs::read_to_string(dir.join("postgres.url")).ok()?;
    let name = primary.rsplit_once('/')?.1;
    let base = replica.rsplit_once('/').map(|(b, _)| b).unwrap_or(&replica);
    Some(format!("{base}/{name}"))
}

/// True when the tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(ENV).is_ok_and(|v| !v.trim().is_empty())
}

/// The database URL for a test's directory: created on first use.
pub async fn url_for(dir: &Path) -> String {
    let Ok(admin) = std::env::var(ENV) else { return crate::sqlite_url_for_dir(dir) };
    if admin.trim().is_empty() {
        return crate::sqlite_url_for_dir(dir);
    }
    let marker = dir.join("postgres.url");
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return url;
    }
    let url = create_database(&admin).await.expect("创建测试数据库");
    std::fs::write(&marker, &url).expect("记录测试数据库地址");
    url
}

/// A new, empty database on the PostgreSQL server of `admin` (a URL naming any database the
/// user may connect to, with the right to create databases); its URL.
pub async fn create_database(admin: &str) -> crate::Result<String> {
    let name = format!("ys_test_{}", crate::random_token(8));
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(admin).await?;
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await?;
    let _ = sqlx::Connection::close(conn).await;
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    Ok(format!("{base}/{name}"))
}
