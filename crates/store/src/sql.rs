//! A small query builder that numbers placeholders `$1, $2, …` for both backends (sqlx's own
//! builder writes `?` for the `Any` driver, which PostgreSQL would reject).

use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Any, Arguments};

#[derive(Debug, Clone)]
pub enum Value {
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    Null,
}

impl Value {
    /// The value as an SQL literal, for bulk writes where thousands of bound parameters cost
    /// more than the rows (sqlx binds each one separately). Text is quoted with embedded
    /// quotes doubled — standard SQL, the same in SQLite and PostgreSQL — so any text is safe.
    pub fn literal(&self) -> String {
        match self {
            Value::Int(i) => i.to_string(),
            // `{:?}` gives the shortest text that reads back as the same f64.
            Value::Real(f) if f.is_finite() => format!("{f:?}"),
            Value::Real(_) | Value::Null => "NULL".into(),
            // A NUL would end the statement's text: it is written as U+FFFD (lookups check
            // their keys before they get here).
            Value::Text(t) => format!("'{}'", t.replace('\'', "''").replace('\0', "\u{fffd}")),
            // SQLite's blob literal; bulk writes of blobs on PostgreSQL bind them instead.
            Value::Blob(b) => format!("X'{}'", hex::encode(b)),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

/// Rows per multi-row INSERT in [`insert_rows`].
pub(crate) const CHUNK: usize = 500;

/// Inserts rows as multi-row `INSERT … VALUES (…), (…)` statements of literals, `CHUNK` rows
/// each: with the SQLite driver every statement is a round trip to its worker thread, so a
/// statement for many rows costs little more than one for a single row.
pub async fn insert_rows(conn: &mut crate::Conn, head: &str, tail: &str, rows: &[Vec<Value>]) -> crate::Result<u64> {
    let mut n = 0;
    for sql in insert_texts(head, tail, rows) {
        // Each text is new: not kept in the prepared-statement cache, where it would only
        // push out the statements that are reused.
        n += sqlx::query(&sql).persistent(false).execute(&mut *conn).await?.rows_affected();
    }
    Ok(n)
}

/// The multi-row `INSERT` texts of `rows`, [`CHUNK`] rows each, values written as literals.
fn insert_texts(head: &str, tail: &str, rows: &[Vec<Value>]) -> Vec<String> {
    rows.chunks(CHUNK)
        .map(|chunk| {
            let mut sql = String::with_capacity(head.len() + chunk.len() * 96 + tail.len());
            sql.push_str(head);
            for (i, row) in chunk.iter().enumerate() {
                sql.push_str(if i == 0 { " (" } else { ", (" });
                let vals: Vec<String> = row.iter().map(Value::literal).collect();
                sql.push_str(&vals.join(", "));
                sql.push(')');
            }
            sql.push_str(tail);
            sql
        })
        .collect()
}

/// The statements a write needs that runs on either writer: a pool connection (any backend,
/// async) or the direct SQLite connection of the group commit (`direct::DirectTx`,
/// synchronous, its futures ready at once). An operation written once against `Exec` runs on
/// both, so there are no twin functions per driver. SQL uses `$1, $2 …` placeholders.
///
/// The futures are not required to be `Send`: the group commit drives them on its own thread.
#[allow(async_fn_in_trait)]
pub trait Exec {
    /// The rows of a query, as values.
    async fn rows(&mut self, sql: &str, params: &[Value]) -> crate::Result<Vec<Vec<Value>>>;
    /// Runs one statement; the rows it changed.
    async fn execute(&mut self, sql: &str, params: &[Value]) -> crate::Result<u64>;
    /// Inserts rows; `head` is `INSERT INTO t (a, b) VALUES`.
    async fn insert_rows(&mut self, head: &str, rows: &[Vec<Value>]) -> crate::Result<u64>;
    /// Inserts into several tables in order, then runs `last` (a statement without
    /// parameters): one by one here; a pool connection sends them all as one script, one
    /// round trip (on PostgreSQL each statement is otherwise a round trip to another process).
    async fn insert_all(&mut self, tables: &[(&str, &[Vec<Value>])], last: &str) -> crate::Result<()> {
        for (head, rows) in tables {
            if !rows.is_empty() {
                self.insert_rows(head, rows).await?;
            }
        }
        self.execute(last, &[]).await?;
        Ok(())
    }
}

impl Exec for crate::Conn {
    async fn rows(&mut self, sql: &str, params: &[Value]) -> crate::Result<Vec<Vec<Value>>> {
        use sqlx::{Row, TypeInfo, ValueRef};
        let q = Sql::with_args(sql, params);
        // A text without parameters is built for one use (literals): not worth caching.
        let rows = q.query().persistent(!params.is_empty()).fetch_all(&mut *self).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut row = Vec::with_capacity(r.len());
            for i in 0..r.len() {
                let raw = r.try_get_raw(i)?;
                if raw.is_null() {
                    row.push(Value::Null);
                    continue;
                }
                let ty = raw.type_info();
                row.push(match ty.name() {
                    "REAL" | "DOUBLE" => Value::Real(r.try_get(i)?),
                    "TEXT" => Value::Text(r.try_get(i)?),
                    "BLOB" => Value::Blob(r.try_get(i)?),
                    _ => Value::Int(r.try_get(i)?),
                });
            }
            out.push(row);
        }
        Ok(out)
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> crate::Result<u64> {
        Ok(Sql::with_args(sql, params).query().execute(&mut *self).await?.rows_affected())
    }

    async fn insert_rows(&mut self, head: &str, rows: &[Vec<Value>]) -> crate::Result<u64> {
        insert_rows(self, head, "", rows).await
    }

    async fn insert_all(&mut self, tables: &[(&str, &[Vec<Value>])], last: &str) -> crate::Result<()> {
        let mut script: Vec<String> = tables.iter().flat_map(|(head, rows)| insert_texts(head, "", rows)).collect();
        script.push(last.to_string());
        // Values are literals (`Value::literal`); no parameters, so the statements travel as
        // one simple query.
        sqlx::raw_sql(&script.join(";\n")).execute(&mut *self).await?;
        Ok(())
    }
}

/// A pool transaction is its connection.
impl Exec for crate::Tx {
    async fn rows(&mut self, sql: &str, params: &[Value]) -> crate::Result<Vec<Vec<Value>>> {
        Exec::rows(&mut **self, sql, params).await
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> crate::Result<u64> {
        Exec::execute(&mut **self, sql, params).await
    }

    async fn insert_rows(&mut self, head: &str, rows: &[Vec<Value>]) -> crate::Result<u64> {
        Exec::insert_rows(&mut **self, head, rows).await
    }

    async fn insert_all(&mut self, tables: &[(&str, &[Vec<Value>])], last: &str) -> crate::Result<()> {
        Exec::insert_all(&mut **self, tables, last).await
    }
}

#[derive(Debug, Clone, Default)]
pub struct Sql {
    text: String,
    args: Vec<Value>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql { text: text.to_string(), args: vec![] }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder and binds `v` to it.
    pub fn bind(&mut self, v: impl Into<Value>) -> &mut Self {
        self.args.push(v.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }

    /// Appends another fragment, renumbering its placeholders after ours.
    pub fn append(&mut self, other: &Sql) -> &mut Self {
        let offset = self.args.len();
        let mut chars = other.text.chars().peekable();
        while let Some(c) = chars.next() {
            self.text.push(c);
            if c == '$' {
                let mut n = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    n.push(*d);
                    chars.next();
                }
                match n.parse::<usize>() {
                    Ok(i) => self.text.push_str(&(i + offset).to_string()),
                    Err(_) => self.text.push_str(&n),
                }
            }
        }
        self.args.extend(other.args.iter().cloned());
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    fn arguments<'q>(&self) -> AnyArguments<'q> {
        let mut a = AnyArguments::default();
        for v in &self.args {
            let r = match v {
                Value::Int(i) => a.add(*i),
                Value::Real(f) => a.add(*f),
                Value::Text(s) => a.add(s.clone()),
                Value::Blob(b) => a.add(b.clone()),
                Value::Null => a.add(Option::<String>::None),
            };
            r.expect("encode argument");
        }
        a
    }

    fn with_args(text: &str, args: &[Value]) -> Sql {
        Sql { text: text.to_string(), args: args.to_vec() }
    }

    pub fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        sqlx::query_with(&self.text, self.arguments())
    }

    pub fn query_as<T>(&self) -> QueryAs<'_, Any, T, AnyArguments<'_>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        sqlx::query_as_with(&self.text, self.arguments())
    }

    pub fn query_scalar<T>(&self) -> QueryScalar<'_, Any, T, AnyArguments<'_>>
    where
        (T,): for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        sqlx::query_scalar_with(&self.text, self.arguments())
    }
}

/// One page of a list: counts the rows `filter` leaves of `from`, then selects that page.
/// `filter` appends to a query that already ends in a `WHERE` clause.
pub async fn paged<T>(
    db: &crate::Db,
    select: &str,
    from: &str,
    filter: impl Fn(&mut Sql),
    order_by: &str,
    page: PageRequest,
) -> crate::Result<Paged<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let pool = db.reader_for(page);
    let mut count = Sql::new(&format!("SELECT COUNT(*) {from}"));
    filter(&mut count);
    let total: i64 = count.query_scalar().fetch_one(pool).await?;
    let mut q = Sql::new(&format!("{select} {from}"));
    filter(&mut q);
    q.push(" ORDER BY ").push(order_by);
    page.apply(&mut q);
    let items = q.query_as().fetch_all(pool).await?;
    Ok(Paged { items, total, page: page.page, per_page: page.per_page })
}

/// The most any one stored amount counts for in a sum, fen (100 billion yuan). Amounts are
/// checked against far lower plausible ranges when they arrive; this only keeps a value stored
/// before those checks from overflowing a sum (an error, a 500 for every reader).
pub const SUM_CLAMP_FEN: i64 = 10_000_000_000_000;

/// `COALESCE(SUM(col), 0)` over amounts clamped to ±[`SUM_CLAMP_FEN`], so no stored row can make
/// the sum overflow (SQLite raises an error, PostgreSQL too).
pub fn sum_fen(col: &str) -> String {
    let m = SUM_CLAMP_FEN;
    format!(
        "CAST(COALESCE(SUM(CASE WHEN {col} > {m} THEN {m} WHEN {col} < -{m} THEN -{m} ELSE {col} END), 0) AS BIGINT)"
    )
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Which page of a list, as list pages and the API take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

/// The most rows one export holds.
const EXPORT_ROWS: u32 = 100_000;

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { page: 1, per_page: 20 }
    }
}

impl PageRequest {
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Self {
        PageRequest { page: page.unwrap_or(1).max(1), per_page: per_page.unwrap_or(20).clamp(1, 200) }
    }

    /// Every row, for exports (capped to keep a request bounded).
    pub fn all() -> Self {
        PageRequest { page: 1, per_page: EXPORT_ROWS }
    }

    /// Made by [`PageRequest::all`]: pages are at most 200 rows.
    pub fn is_export(&self) -> bool {
        self.per_page == EXPORT_ROWS
    }

    pub fn offset(&self) -> i64 {
        (self.page as i64 - 1) * self.per_page as i64
    }

    /// Appends `LIMIT … OFFSET …`.
    pub fn apply(&self, sql: &mut Sql) {
        sql.push(" LIMIT ").bind(self.per_page as i64).push(" OFFSET ").bind(self.offset());
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Paged<T> {
    pub fn pages(&self) -> u32 {
        ((self.total.max(0) as u64).div_ceil(self.per_page.max(1) as u64)).max(1) as u32
    }
}

#[cfg(test)]
mod literal_tests {
    use super::Value;

    #[test]
    fn literals_quote_text_and_keep_floats_exact() {
        assert_eq!(Value::Text("O'Brien; DROP TABLE x; --".into()).literal(), "'O''Brien; DROP TABLE x; --'");
        assert_eq!(Value::Text("a\0b".into()).literal(), "'a\u{fffd}b'", "a NUL never ends the statement");
        assert_eq!(Value::Int(-3).literal(), "-3");
        assert_eq!(Value::Real(115.7517238).literal().parse::<f64>().unwrap(), 115.7517238);
        assert_eq!(Value::Real(f64::NAN).literal(), "NULL");
        assert_eq!(Value::Null.literal(), "NULL");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders() {
        let mut q = Sql::new("SELECT * FROM t WHERE 1=1");
        q.push(" AND a = ").bind(1i64).push(" AND b LIKE ").bind(format!("{}%", like_escape("5%_x")));
        PageRequest::new(Some(3), Some(10)).apply(&mut q);
        assert_eq!(q.text(), "SELECT * FROM t WHERE 1=1 AND a = $1 AND b LIKE $2 LIMIT $3 OFFSET $4");
        assert_eq!(like_escape("5%_x"), "5\\%\\_x");
        let mut inner = Sql::new("");
        inner.push(" AND c = ").bind(3i64).push(" AND d = ").bind(4i64);
        let mut outer = Sql::new("SELECT 1 WHERE a = ");
        outer.bind(1i64).append(&inner);
        assert_eq!(outer.text(), "SELECT 1 WHERE a = $1 AND c = $2 AND d = $3");
        assert_eq!(outer.args.len(), 3);
    }
}
