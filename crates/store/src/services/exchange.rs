//! Shared data (数据共享交换): records pushed by the source departments, look-ups by subject,
//! and the call log that makes every look-up accountable.

use crate::config::CityConfig;
use crate::config::services::{Interface, Subject};
use crate::sql::Value as SqlValue;
use crate::{Conn, Db, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::to_millis;
use serde_json::{Map, Value};
use sqlx::Row;
use time::OffsetDateTime;

/// Who is calling and for what; logged with every look-up.
#[derive(Debug, Clone)]
pub struct Caller<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// The caller's department code; empty for an applicant reading their own record.
    pub department: &'a str,
    pub purpose: &'a str,
    pub application: Option<&'a str>,
}

/// A subject key in its canonical form, checked with its check character.
pub fn subject_key(subject: Subject, raw: &str) -> Result<String> {
    let raw = raw.trim();
    match subject {
        Subject::Enterprise => domain::Uscc::parse(raw)
            .map(|u| u.to_string())
            .map_err(|e| StoreError::invalid("subject", format!("统一社会信用代码有误：{e}"))),
        Subject::Person => domain::IdCardNo::parse(raw)
            .map(|c| c.to_string())
            .map_err(|e| StoreError::invalid("subject", format!("公民身份号码有误：{e}"))),
    }
}

fn interface<'c>(cfg: &'c CityConfig, code: &str) -> Result<&'c Interface> {
    cfg.services.interface(code).ok_or_else(|| StoreError::NotFound(format!("数据接口“{code}”")))
}

/// Stores (replaces) the record a source pushed for one subject. Unknown fields are refused so
/// a source's mapping error shows at once instead of as missing data later.
#[allow(clippy::too_many_arguments)]
pub async fn push(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    code: &str,
    subject: &str,
    data: &Map<String, Value>,
    source: &str,
    by: (&str, &str),
) -> Result<()> {
    let i = interface(cfg, code)?;
    let key = subject_key(i.subject, subject)?;
    let clean = clean(i, data)?;
    upsert(conn, now, code, &key, &clean, source, by.0).await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::services::ServicesAudit::ExchangePush, "dx_record", &format!("{code}:{key}"))
            .by(by.0, by.1)
            .detail(format!("{}：{}（来源：{}）", i.name, key, source.trim())),
    )
    .await?;
    Ok(())
}

/// A record's values as text, checked against the interface's fields; empty values dropped.
fn clean(i: &Interface, data: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut clean = Map::new();
    for (k, v) in data {
        if i.field(k).is_none() {
            return Err(StoreError::invalid("data", format!("接口“{}”没有字段“{k}”", i.name)));
        }
        // Values are kept as text, as they are shown and compared.
        let text = match v {
            Value::String(s) => s.trim().to_string(),
            Value::Null => continue,
            other => other.to_string(),
        };
        clean.insert(k.clone(), Value::String(text));
    }
    Ok(clean)
}

const UPSERT_HEAD: &str = "INSERT INTO dx_records (interface, subject, data, source, updated_at, updated_by) VALUES";
const UPSERT_TAIL: &str =
    " ON CONFLICT (interface, subject) DO UPDATE SET data = excluded.data, source = excluded.source,
    updated_at = excluded.updated_at, updated_by = excluded.updated_by";

async fn upsert(
    conn: &mut Conn,
    now: OffsetDateTime,
    code: &str,
    key: &str,
    data: &Map<String, Value>,
    source: &str,
    by: &str,
) -> Result<()> {
    sqlx::query(&format!("{UPSERT_HEAD} ($1, $2, $3, $4, $5, $6){UPSERT_TAIL}"))
        .bind(code)
        .bind(key)
        .bind(Value::Object(data.clone()).to_string())
        .bind(source.trim())
        .bind(to_millis(now))
        .bind(by)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One row of an imported file: (row number as the user sees it, subject, field → value).
pub type ImportRow = (i64, String, Map<String, Value>);

/// Imports a file's records into one interface, all or none: every row's subject (check
/// character) and fields are checked first and any bad row refuses the file, naming up to ten
/// of them by row number. Each record replaces the subject's record (multi-row statements:
/// a file may hold 50,000); one audit record names the file and the count.
#[allow(clippy::too_many_arguments)]
pub async fn import(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    code: &str,
    rows: &[ImportRow],
    source: &str,
    file: &str,
    by: (&str, &str),
) -> Result<usize> {
    let i = interface(cfg, code)?;
    if source.trim().is_empty() {
        return Err(StoreError::invalid("source", "请填写数据来源系统名称"));
    }
    let mut good = Vec::with_capacity(rows.len());
    let mut bad = vec![];
    let mut seen = std::collections::HashMap::new();
    for (no, subject, data) in rows {
        let r = subject_key(i.subject, subject).and_then(|k| Ok((k, clean(i, data)?)));
        match r {
            Ok((k, d)) => match seen.insert(k.clone(), *no) {
                Some(first) => bad.push(format!("第 {no} 行：与第 {first} 行是同一{}", i.subject.label())),
                None => good.push((k, d)),
            },
            Err(e) => bad.push(format!("第 {no} 行：{e}")),
        }
    }
    if !bad.is_empty() {
        let more = if bad.len() > 10 { format!("；另有 {} 行有误", bad.len() - 10) } else { String::new() };
        bad.truncate(10);
        return Err(StoreError::invalid("file", format!("文件未导入，请改正后重新上传：{}{more}", bad.join("；"))));
    }
    let ms = to_millis(now);
    let rows: Vec<Vec<SqlValue>> = good
        .iter()
        .map(|(k, d)| {
            vec![
                SqlValue::from(code),
                SqlValue::from(k),
                SqlValue::from(Value::Object(d.clone()).to_string()),
                SqlValue::from(source.trim()),
                SqlValue::Int(ms),
                SqlValue::from(by.0),
            ]
        })
        .collect();
    crate::sql::insert_rows(conn, UPSERT_HEAD, UPSERT_TAIL, &rows).await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::services::ServicesAudit::ExchangeImport, "dx_interface", code)
            .by(by.0, by.1)
            .detail(format!("{}：导入 {} 条（文件 {file}，来源：{}）", i.name, good.len(), source.trim())),
    )
    .await?;
    Ok(good.len())
}

/// Looks up a subject's record and logs the call (found or not). `fields` limits what is
/// returned — and logged — to what the caller needs.
pub async fn lookup(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    code: &str,
    subject: &str,
    fields: &[&str],
    caller: &Caller<'_>,
) -> Result<Option<Map<String, Value>>> {
    let i = interface(cfg, code)?;
    if !caller.department.is_empty() && !i.may_call(caller.department) {
        return Err(StoreError::Forbidden(format!("本部门未获授权调用“{}”", i.name)));
    }
    if !i.purposes.iter().any(|p| p == caller.purpose) {
        return Err(StoreError::invalid("purpose", format!("“{}”的调用用途应为：{}", i.name, i.purposes.join("、"))));
    }
    let row = sqlx::query("SELECT data FROM dx_records WHERE interface = $1 AND subject = $2")
        .bind(code)
        .bind(subject)
        .fetch_optional(&mut *conn)
        .await?;
    let found = match row {
        Some(r) => {
            let text: String = r.try_get("data")?;
            let all: Map<String, Value> = serde_json::from_str(&text).unwrap_or_default();
            Some(
                all.into_iter()
                    .filter(|(k, _)| fields.is_empty() || fields.contains(&k.as_str()))
                    .collect::<Map<_, _>>(),
            )
        }
        None => None,
    };
    let returned: Vec<&str> = found.as_ref().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
    sqlx::query(
        "INSERT INTO dx_calls (id, at, caller_id, caller_name, department, interface, purpose, subject, fields, found, application_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(new_id())
    .bind(to_millis(now))
    .bind(caller.id)
    .bind(caller.name)
    .bind(caller.department)
    .bind(code)
    .bind(caller.purpose)
    .bind(subject)
    .bind(returned.join(","))
    .bind(i64::from(found.is_some()))
    .bind(caller.application)
    .execute(&mut *conn)
    .await?;
    Ok(found)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct CallRow {
    pub at: i64,
    pub caller_name: String,
    pub department: String,
    pub interface: String,
    pub purpose: String,
    pub subject: String,
    pub fields: String,
    pub found: i64,
}

/// The newest calls, optionally of one interface.
pub async fn recent_calls(db: &Db, interface: Option<&str>, limit: i64) -> Result<Vec<CallRow>> {
    let rows = sqlx::query_as::<_, CallRow>(
        "SELECT at, caller_name, department, interface, purpose, subject, fields, found FROM dx_calls
         WHERE ($1 = '' OR interface = $1) ORDER BY at DESC LIMIT $2",
    )
    .bind(interface.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    Ok(rows)
}

/// The call log (who read whose data): partitioned by month on PostgreSQL
/// (`crate::partitions`), kept as the audit log is (`[security] log_retention_months`).
pub const CALLS_TABLE: &str = "dx_calls";

pub const ROLLUP_JOB: &str = "services.calls_rollup";

const DAY_MS: i64 = 86_400_000;
const CHINA_MS: i64 = 8 * 3_600_000;

/// Adds the calls made before the start of today (China time) and not yet rolled up to the
/// daily counts; returns how many calls it added. Idempotent: the boundary moves with them.
pub async fn roll_up_calls(conn: &mut Conn, now: OffsetDateTime) -> Result<i64> {
    let today = (to_millis(now) + CHINA_MS).div_euclid(DAY_MS) * DAY_MS - CHINA_MS;
    let upto: i64 = sqlx::query_scalar("SELECT upto FROM dx_rollup WHERE id = 1").fetch_one(&mut *conn).await?;
    if upto >= today {
        return Ok(0);
    }
    let added: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dx_calls WHERE at >= $1 AND at < $2")
        .bind(upto)
        .bind(today)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO dx_call_days (day, interface, calls, found)
         SELECT (at + 28800000) / 86400000, interface, COUNT(*), CAST(SUM(found) AS BIGINT) FROM dx_calls
         WHERE at >= $1 AND at < $2 GROUP BY (at + 28800000) / 86400000, interface
         ON CONFLICT (day, interface) DO UPDATE SET calls = dx_call_days.calls + excluded.calls,
            found = dx_call_days.found + excluded.found",
    )
    .bind(upto)
    .bind(today)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE dx_rollup SET upto = $1 WHERE id = 1").bind(today).execute(&mut *conn).await?;
    Ok(added)
}

/// Drops the call log's months that ended `months` calendar months or more before the current
/// one and are rolled up into the daily counts (`[security] log_retention_months`, as the audit
/// log; 0 keeps everything; PostgreSQL only, by partition). The all-time counts keep them.
pub async fn drop_expired_calls(
    conn: &mut Conn,
    now: OffsetDateTime,
    months: u32,
) -> Result<Vec<crate::audit::DroppedMonth>> {
    let mut out = vec![];
    if months == 0 || !crate::partitions::enabled(conn) {
        return Ok(out);
    }
    let upto: i64 = sqlx::query_scalar("SELECT upto FROM dx_rollup WHERE id = 1").fetch_one(&mut *conn).await?;
    let cutoff = crate::partitions::Month::of(now).back(months).start_ms().min(upto);
    for p in crate::partitions::ended_by(conn, CALLS_TABLE, cutoff).await? {
        let rows = crate::partitions::drop_month(conn, &p).await?;
        crate::audit::append(
            conn,
            now,
            AuditEntry::new(domain::audit::CoreAudit::LogRetention, CALLS_TABLE, &p.name).detail(format!(
                "删除 {} 的共享数据调用日志 {rows} 条（保留 {months} 个月；已计入按日统计）",
                p.month.label()
            )),
        )
        .await?;
        out.push(crate::audit::DroppedMonth { month: p.month, rows });
    }
    Ok(out)
}

/// Per interface, all time: (calls, calls that found a record) — the daily counts plus the
/// calls since the last roll-up, read in one statement (one snapshot); and records held.
pub async fn call_totals(
    db: &Db,
) -> Result<(std::collections::HashMap<String, (i64, i64)>, std::collections::HashMap<String, i64>)> {
    let mut calls = std::collections::HashMap::new();
    for r in sqlx::query(
        "SELECT interface, CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(f) AS BIGINT) AS f FROM (
            SELECT interface, calls AS n, found AS f FROM dx_call_days
            UNION ALL
            SELECT interface, 1, found FROM dx_calls WHERE at >= (SELECT upto FROM dx_rollup WHERE id = 1)
         ) t GROUP BY interface",
    )
    .fetch_all(db.reports())
    .await?
    {
        calls.insert(r.try_get("interface")?, (r.try_get("n")?, r.try_get::<Option<i64>, _>("f")?.unwrap_or(0)));
    }
    let mut records = std::collections::HashMap::new();
    for r in sqlx::query("SELECT interface, COUNT(*) AS n FROM dx_records GROUP BY interface")
        .fetch_all(db.reports())
        .await?
    {
        records.insert(r.try_get("interface")?, r.try_get("n")?);
    }
    Ok((calls, records))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[tokio::test]
    async fn rolled_up_and_live_calls_add_up_to_the_log() {
        let (db, _dir) = crate::testing::db().await;
        let call = |at: OffsetDateTime, iface: &str, found: bool| {
            vec![
                SqlValue::from(new_id()),
                SqlValue::Int(to_millis(at)),
                SqlValue::from("u"),
                SqlValue::from("张三"),
                SqlValue::from(""),
                SqlValue::from(iface),
                SqlValue::from("事项办理"),
                SqlValue::from("91341600MA2TEST01X"),
                SqlValue::from("name"),
                SqlValue::Int(i64::from(found)),
                SqlValue::from(None::<String>),
            ]
        };
        let head = "INSERT INTO dx_calls (id, at, caller_id, caller_name, department, interface, purpose, subject, fields, found, application_id) VALUES";
        // 23:30 and 00:30 China time fall on different days.
        let rows = vec![
            call(datetime!(2026-11-25 15:30 UTC), "a", true),
            call(datetime!(2026-11-25 16:30 UTC), "a", false),
            call(datetime!(2026-11-26 02:00 UTC), "b", true),
            call(datetime!(2026-11-27 01:00 UTC), "a", true),
        ];
        let mut tx = db.begin().await.unwrap();
        crate::sql::insert_rows(&mut tx, head, "", &rows).await.unwrap();
        tx.commit().await.unwrap();
        let expect = |a: (i64, i64), b: (i64, i64)| {
            let mut m = std::collections::HashMap::new();
            m.insert("a".to_string(), a);
            m.insert("b".to_string(), b);
            m
        };
        assert_eq!(call_totals(&db).await.unwrap().0, expect((3, 2), (1, 1)), "all live before any roll-up");
        // On the 27th (China time) the three earlier calls are rolled up, today's stays live.
        let now = datetime!(2026-11-27 04:00 UTC);
        let mut tx = db.begin().await.unwrap();
        assert_eq!(roll_up_calls(&mut tx, now).await.unwrap(), 3);
        assert_eq!(roll_up_calls(&mut tx, now).await.unwrap(), 0, "idempotent");
        tx.commit().await.unwrap();
        let days: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT day, interface, calls FROM dx_call_days ORDER BY day, interface")
                .fetch_all(db.reader())
                .await
                .unwrap();
        let d = |y: time::Date| (y - time::macros::date!(1970 - 01 - 01)).whole_days();
        assert_eq!(
            days,
            vec![
                (d(time::macros::date!(2026 - 11 - 25)), "a".into(), 1),
                (d(time::macros::date!(2026 - 11 - 26)), "a".into(), 1),
                (d(time::macros::date!(2026 - 11 - 26)), "b".into(), 1),
            ]
        );
        assert_eq!(call_totals(&db).await.unwrap().0, expect((3, 2), (1, 1)), "the same totals");
        // A later call is counted live until the next roll-up.
        let mut tx = db.begin().await.unwrap();
        crate::sql::insert_rows(&mut tx, head, "", &[call(datetime!(2026-11-27 05:00 UTC), "b", false)]).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(call_totals(&db).await.unwrap().0, expect((3, 2), (2, 1)));
        let mut tx = db.begin().await.unwrap();
        assert_eq!(roll_up_calls(&mut tx, datetime!(2026-11-28 17:00 UTC)).await.unwrap(), 2);
        tx.commit().await.unwrap();
        assert_eq!(call_totals(&db).await.unwrap().0, expect((3, 2), (2, 1)));

        // Retention (PostgreSQL): November goes six months on, but only once the roll-up has
        // counted all of it; the all-time totals keep it.
        let later = datetime!(2027-06-10 04:00 UTC);
        let mut tx = db.begin().await.unwrap();
        crate::partitions::ensure_all(&mut tx, datetime!(2026-11-28 17:00 UTC)).await.unwrap();
        assert!(drop_expired_calls(&mut tx, later, 6).await.unwrap().is_empty(), "not all of November rolled up");
        roll_up_calls(&mut tx, later).await.unwrap();
        let dropped = drop_expired_calls(&mut tx, later, 6).await.unwrap();
        tx.commit().await.unwrap();
        if db.backend() == crate::Backend::Postgres {
            let nov = crate::partitions::Month { year: 2026, month: 11 };
            assert_eq!(dropped, vec![crate::audit::DroppedMonth { month: nov, rows: 5 }]);
            let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dx_calls").fetch_one(db.reader()).await.unwrap();
            assert_eq!(left, 0);
        } else {
            assert!(dropped.is_empty(), "SQLite keeps the log");
        }
        assert_eq!(call_totals(&db).await.unwrap().0, expect((3, 2), (2, 1)), "the totals keep dropped months");
    }
}
