//! Holiday tables loaded by administrators (a new year's State Council notice), kept in the
//! database so they survive upgrades of the shipped configuration. They override the shipped
//! table of the same year.

use crate::{Conn, Db, Result};
use domain::calendar::{HolidayTable, WorkCalendar, WorkingHours};
use domain::clock::to_millis;
use domain::config::ConfigError;
use sqlx::Row;
use time::OffsetDateTime;

pub async fn save(conn: &mut Conn, now: OffsetDateTime, table: &HolidayTable, content: &str, by: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO holiday_tables (year, source, content, loaded_by, loaded_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (year) DO UPDATE SET source = excluded.source, content = excluded.content,
            loaded_by = excluded.loaded_by, loaded_at = excluded.loaded_at",
    )
    .bind(table.year as i64)
    .bind(&table.source)
    .bind(content)
    .bind(by)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Tables stored in the database. A stored table that no longer parses is reported, not used.
pub async fn stored(db: &Db) -> Result<Vec<(HolidayTable, String, i64)>> {
    let rows = sqlx::query("SELECT year, content, loaded_by, loaded_at FROM holiday_tables ORDER BY year")
        .fetch_all(db.reader())
        .await?;
    let mut out = vec![];
    for r in rows {
        let year: i64 = r.try_get(0)?;
        let content: String = r.try_get(1)?;
        match HolidayTable::parse_toml(&format!("数据库中的 {year} 年节假日表"), &content) {
            Ok(t) => out.push((t, r.try_get(2)?, r.try_get(3)?)),
            Err(e) => tracing::error!(error = %e, "stored holiday table ignored"),
        }
    }
    Ok(out)
}

/// The calendar from shipped tables plus those stored in the database (stored ones win).
pub async fn calendar(db: &Db, shipped: &[HolidayTable], hours: WorkingHours) -> Result<WorkCalendar> {
    let mut cal = WorkCalendar::new(shipped.iter().cloned(), hours);
    for (t, _, _) in stored(db).await? {
        cal.load(t);
    }
    Ok(cal)
}

pub fn parse_upload(name: &str, content: &str) -> std::result::Result<HolidayTable, ConfigError> {
    HolidayTable::parse_toml(name, content)
}
