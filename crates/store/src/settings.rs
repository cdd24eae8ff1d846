//! Small key-value settings that belong to the database (e.g. whether the demo was loaded).

use crate::{Conn, Db, Result};
use domain::clock::to_millis;
use time::OffsetDateTime;

pub async fn get(db: &Db, key: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(db.reader()).await?)
}

pub async fn set(conn: &mut Conn, now: OffsetDateTime, key: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(value)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
