//! Monthly partitions of the large append-only tables, on PostgreSQL (migration 0039): each is
//! `PARTITION BY RANGE (at)` with a DEFAULT partition that takes whatever no month holds.
//! [`ensure`] makes the months (the current one, those ahead, and past months rows arrived for)
//! and moves rows out of the default into them; retention drops a whole month with
//! [`drop_month`] instead of deleting its rows. Months are China-time calendar months of `at`
//! (milliseconds). Which tables are partitioned is registered in `crate::cases::PARTITIONED`;
//! what may be dropped, and when, is each owner's rule. On SQLite nothing is partitioned and
//! every function here does nothing.

use crate::{Conn, Result};
use time::OffsetDateTime;

/// China time's offset, for the day numbers computed in SQL.
const CHINA_MS: i64 = 8 * 3_600_000;

/// Months made ahead of the current one, so that a month's first rows never wait for a job.
pub const AHEAD: u32 = 3;

/// The nightly (and at start) job that makes the months.
pub const MAINTAIN_JOB: &str = "partitions.maintain";

/// Past months are made for rows at most this far back; older rows stay in the default
/// partition (a clock set wrong must not make a thousand partitions).
const BACK: u32 = 120;

/// A calendar month in China time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u8,
}

impl Month {
    pub fn of_ms(ms: i64) -> Month {
        Month::of(domain::clock::from_millis(ms))
    }

    pub fn of(at: OffsetDateTime) -> Month {
        let d = domain::clock::local(at).date();
        Month { year: d.year(), month: d.month() as u8 }
    }

    /// The first millisecond of the month.
    pub fn start_ms(self) -> i64 {
        let m = time::Month::try_from(self.month).unwrap_or(time::Month::January);
        let d = time::Date::from_calendar_date(self.year, m, 1).unwrap_or(time::Date::MIN);
        domain::clock::to_millis(d.midnight().assume_offset(domain::clock::CHINA))
    }

    pub fn next(self) -> Month {
        if self.month == 12 { Month { year: self.year + 1, month: 1 } } else { Month { month: self.month + 1, ..self } }
    }

    /// `n` months earlier.
    pub fn back(self, n: u32) -> Month {
        let k = self.year * 12 + i32::from(self.month) - 1 - n as i32;
        Month { year: k.div_euclid(12), month: (k.rem_euclid(12) + 1) as u8 }
    }

    /// 2026年12月.
    pub fn label(self) -> String {
        format!("{}年{}月", self.year, self.month)
    }

    fn suffix(self) -> String {
        format!("p{:04}{:02}", self.year, self.month)
    }
}

/// One month's partition of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub table: &'static str,
    pub name: String,
    pub month: Month,
}

impl Partition {
    pub fn from_ms(&self) -> i64 {
        self.month.start_ms()
    }

    pub fn to_ms(&self) -> i64 {
        self.month.next().start_ms()
    }
}

/// What [`ensure`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ensured {
    pub made: Vec<String>,
    /// Rows moved out of the default partition into their month.
    pub moved: u64,
}

/// Whether this connection's database partitions (PostgreSQL).
pub fn enabled(conn: &Conn) -> bool {
    conn.backend_name() == "PostgreSQL"
}

/// Table names are spliced into DDL: only registered names, checked here as well.
fn checked(table: &str) -> &str {
    assert!(
        table.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "partitioned table name {table}"
    );
    table
}

/// The month partitions of `table`, oldest first (the default partition is not listed).
pub async fn months(conn: &mut Conn, table: &'static str) -> Result<Vec<Partition>> {
    if !enabled(conn) {
        return Ok(vec![]);
    }
    let prefix = format!("{}_p", checked(table));
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(c.relname AS TEXT) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = CAST($1 AS regclass)",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    let mut parts: Vec<Partition> = names
        .into_iter()
        .filter_map(|name| {
            let digits = name.strip_prefix(&prefix)?;
            let (y, m) = (digits.get(..4)?.parse().ok()?, digits.get(4..)?.parse().ok()?);
            Some(Partition { table, name, month: Month { year: y, month: m } })
        })
        .collect();
    parts.sort_by_key(|p| p.month);
    Ok(parts)
}

/// Makes `table`'s months from the oldest one its default partition has rows for (at most
/// [`BACK`] months back) to [`AHEAD`] months after `now`, moving those rows into them. Past
/// months without rows are not made. In the caller's (write) transaction.
pub async fn ensure(conn: &mut Conn, table: &'static str, now: OffsetDateTime) -> Result<Ensured> {
    let mut out = Ensured::default();
    if !enabled(conn) {
        return Ok(out);
    }
    let default = format!("{}_default", checked(table));
    let have: Vec<Month> = months(conn, table).await?.into_iter().map(|p| p.month).collect();
    let current = Month::of(now);
    let oldest = current.back(BACK);
    let mut last = current;
    for _ in 0..AHEAD {
        last = last.next();
    }
    // One scan of the default partition for the China-time days it has rows on.
    let days: Vec<i64> = sqlx::query_scalar(&format!("SELECT DISTINCT ({} + at) / 86400000 FROM {default}", CHINA_MS))
        .fetch_all(&mut *conn)
        .await?;
    let mut wanted: Vec<Month> =
        days.iter().map(|d| Month::of_ms(d * 86_400_000 - CHINA_MS)).filter(|m| *m >= oldest && *m <= last).collect();
    let mut m = current;
    while m <= last {
        wanted.push(m);
        m = m.next();
    }
    wanted.sort();
    wanted.dedup();
    for month in wanted.into_iter().filter(|m| !have.contains(m)) {
        let p = Partition { table, name: format!("{table}_{}", month.suffix()), month };
        let (from, to) = (p.from_ms(), p.to_ms());
        let waiting: bool =
            sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM {default} WHERE at >= $1 AND at < $2)"))
                .bind(from)
                .bind(to)
                .fetch_one(&mut *conn)
                .await?;
        if waiting {
            // PostgreSQL refuses a new partition while the default holds rows of its range. The
            // rows leave the default with the append-only triggers off for this statement only:
            // ALTER TABLE holds the partition exclusively until the transaction ends, so no
            // other statement can change it meanwhile.
            let triggers: Vec<String> = sqlx::query_scalar(
                "SELECT CAST(tgname AS TEXT) FROM pg_trigger WHERE tgrelid = CAST($1 AS regclass) AND NOT tgisinternal",
            )
            .bind(&default)
            .fetch_all(&mut *conn)
            .await?;
            for t in &triggers {
                sqlx::query(&format!("ALTER TABLE {default} DISABLE TRIGGER {t}")).execute(&mut *conn).await?;
            }
            sqlx::query(&format!(
                "CREATE TEMP TABLE ys_moving ON COMMIT DROP AS
                 WITH m AS (DELETE FROM {default} WHERE at >= {from} AND at < {to} RETURNING *) SELECT * FROM m"
            ))
            .execute(&mut *conn)
            .await?;
            for t in &triggers {
                sqlx::query(&format!("ALTER TABLE {default} ENABLE TRIGGER {t}")).execute(&mut *conn).await?;
            }
        }
        sqlx::query(&format!("CREATE TABLE {} PARTITION OF {table} FOR VALUES FROM ({from}) TO ({to})", p.name))
            .execute(&mut *conn)
            .await?;
        if waiting {
            out.moved += sqlx::query(&format!("INSERT INTO {table} SELECT * FROM ys_moving"))
                .execute(&mut *conn)
                .await?
                .rows_affected();
            sqlx::query("DROP TABLE ys_moving").execute(&mut *conn).await?;
        }
        out.made.push(p.name);
    }
    Ok(out)
}

/// [`ensure`] for every registered table.
pub async fn ensure_all(conn: &mut Conn, now: OffsetDateTime) -> Result<Ensured> {
    let mut all = Ensured::default();
    for table in crate::cases::PARTITIONED {
        let e = ensure(conn, table, now).await?;
        all.made.extend(e.made);
        all.moved += e.moved;
    }
    Ok(all)
}

/// The months of `table` that end at or before `before_ms`, oldest first.
pub async fn ended_by(conn: &mut Conn, table: &'static str, before_ms: i64) -> Result<Vec<Partition>> {
    Ok(months(conn, table).await?.into_iter().filter(|p| p.to_ms() <= before_ms).collect())
}

/// Drops one month (its rows with it, triggers not fired); returns how many rows it held.
/// The caller decides that it may go, and records that it went.
pub async fn drop_month(conn: &mut Conn, p: &Partition) -> Result<i64> {
    let rows: i64 =
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", checked(&p.name))).fetch_one(&mut *conn).await?;
    sqlx::query(&format!("DROP TABLE {}", p.name)).execute(&mut *conn).await?;
    Ok(rows)
}

/// Rows waiting in `table`'s default partition (normally none: [`ensure`] moves them into
/// their month), for the status page; months are listed with [`months`], not counted, since a
/// month of fixes may hold hundreds of millions of rows.
pub async fn default_rows(conn: &mut Conn, table: &'static str) -> Result<i64> {
    if !enabled(conn) {
        return Ok(0);
    }
    let sql = format!("SELECT COUNT(*) FROM {}_default", checked(table));
    Ok(sqlx::query_scalar(&sql).fetch_one(&mut *conn).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit;
    use domain::audit::{AuditEntry, CoreAudit};
    use time::macros::datetime;

    /// The months are made for the rows waiting in the default partition and ahead of now, the
    /// rows move (append-only triggers back on after), the audit log's old months go under
    /// `log_retention_months` with the chain still verifying from the base, and a record
    /// changed after that is still found.
    #[tokio::test]
    async fn months_are_made_rows_move_and_old_audit_months_go_with_the_chain_whole() {
        let (db, _d) = crate::testing::db().await;
        let now = datetime!(2026-12-08 02:00 UTC);
        let mut tx = db.begin().await.unwrap();
        let times =
            [datetime!(2026-03-10 00:00 UTC), datetime!(2026-03-20 00:00 UTC), datetime!(2026-06-01 00:00 UTC), now];
        for at in times {
            audit::append(&mut tx, at, AuditEntry::new(CoreAudit::ConfigSync, "config", "test")).await.unwrap();
        }
        // A clock far ahead: the row is kept, in the default partition, and makes no month.
        audit::append(
            &mut tx,
            datetime!(2031-01-01 00:00 UTC),
            AuditEntry::new(CoreAudit::ConfigSync, "config", "far"),
        )
        .await
        .unwrap();
        let made = ensure_all(&mut tx, now).await.unwrap();
        tx.commit().await.unwrap();
        if db.backend() != crate::Backend::Postgres {
            assert_eq!(made, Ensured::default());
            assert!(audit::verify(&db).await.unwrap().is_ok());
            return;
        }
        let mut tx = db.begin().await.unwrap();
        let names: Vec<String> = months(&mut tx, "audit_log").await.unwrap().into_iter().map(|p| p.name).collect();
        let want = ["p202603", "p202606", "p202612", "p202701", "p202702", "p202703"].map(|m| format!("audit_log_{m}"));
        assert_eq!(names, want);
        assert!(made.moved >= 4, "{made:?}");
        let march: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log_p202603").fetch_one(&mut *tx).await.unwrap();
        assert_eq!(march, 2);
        assert_eq!(default_rows(&mut tx, "audit_log").await.unwrap(), 1, "only the far-future record waits there");
        for t in crate::cases::PARTITIONED {
            assert!(months(&mut tx, t).await.unwrap().len() >= 4, "{t}");
        }
        // Nothing left to do the second time; the triggers are on again.
        assert_eq!(ensure_all(&mut tx, now).await.unwrap(), Ensured::default());
        assert!(sqlx::query("DELETE FROM audit_log WHERE object_id = 'test'").execute(&mut *tx).await.is_err());
        tx.rollback().await.unwrap();

        // Keeping six months: March goes (it ended before June began), June stays.
        let mut tx = db.begin().await.unwrap();
        let march_last: i64 =
            sqlx::query_scalar("SELECT MAX(seq) FROM audit_log_p202603").fetch_one(&mut *tx).await.unwrap();
        assert!(audit::drop_expired(&mut tx, now, 0).await.unwrap().is_empty(), "0 keeps everything");
        let dropped = audit::drop_expired(&mut tx, now, 6).await.unwrap();
        assert_eq!(dropped, vec![audit::DroppedMonth { month: Month { year: 2026, month: 3 }, rows: 2 }]);
        tx.commit().await.unwrap();
        let report = audit::verify(&db).await.unwrap().expect("the chain verifies from the base");
        assert_eq!(report.base_seq, march_last);
        let noted: String = sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'log.retention'")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert!(noted.contains("2026年3月") && noted.contains("2 条"), "{noted}");

        // A kept record altered afterwards is still caught.
        let mut tx = db.begin().await.unwrap();
        crate::testing::drop_trigger(&mut tx, db.backend(), "audit_log_no_update", "audit_log").await;
        sqlx::query("UPDATE audit_log SET detail = 'changed' WHERE at = $1")
            .bind(domain::clock::to_millis(times[2]))
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(audit::verify(&db).await.unwrap().is_err());
    }

    #[test]
    fn months_are_china_time_calendar_months() {
        // 2026-11-30 16:00 UTC is 2026-12-01 00:00 in China.
        assert_eq!(Month::of(datetime!(2026-11-30 15:59:59.999 UTC)), Month { year: 2026, month: 11 });
        assert_eq!(Month::of(datetime!(2026-11-30 16:00 UTC)), Month { year: 2026, month: 12 });
        let dec = Month { year: 2026, month: 12 };
        assert_eq!(dec.start_ms(), domain::clock::to_millis(datetime!(2026-11-30 16:00 UTC)));
        assert_eq!(dec.next(), Month { year: 2027, month: 1 });
        assert_eq!(dec.back(12), Month { year: 2025, month: 12 });
        assert_eq!(Month { year: 2027, month: 1 }.back(1), dec);
        assert_eq!(dec.label(), "2026年12月");
        for ms in [0, 1_700_000_000_000, -86_400_000 * 400] {
            let m = Month::of_ms(ms);
            assert!(m.start_ms() <= ms && ms < m.next().start_ms(), "{ms}");
        }
    }
}
