//! Labor relations by grid (劳动关系网格化): placing employers in grids automatically, the
//! monthly reports of social insurance, inspection and arbitration (`labor_monthly`), and the
//! figures the labor-relations page shows for an employer, grid, division or industry.

use crate::alerts::{SourceFuture, Subject, SubjectSource, Subjects};
use crate::config::CityConfig;
use crate::org::{EnterpriseFilter, RowScope, enterprise_where};
use crate::sql::Sql;
use crate::{Conn, Db, Result, StoreError, audit};
use domain::audit::AuditEntry;
use domain::calendar::WorkCalendar;
use domain::clock::to_millis;
use domain::expr::{Batch, Schema};
use domain::geo::{Ring, Wgs84Point};
use domain::wages::labor::{GridShape, Method, MonthReport, Placement, Tally, locate};
use sqlx::Row;
use std::collections::HashMap;
use time::{Date, OffsetDateTime};

const DAY: &[time::format_description::FormatItem<'static>] = time::macros::format_description!("[year]-[month]-[day]");

pub(crate) fn parse_day(s: &str) -> Option<Date> {
    Date::parse(s, DAY).ok()
}

/// A stored polygon (GeoJSON Polygon text, WGS-84) as a ring.
fn ring_from_geojson(text: &str) -> Option<Ring> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let outer = v.get("coordinates")?.get(0)?.as_array()?;
    let pts = outer
        .iter()
        .map(|p| Some(Wgs84Point { lon: p.get(0)?.as_f64()?, lat: p.get(1)?.as_f64()? }))
        .collect::<Option<Vec<_>>>()?;
    Ring::new(pts).ok()
}

/// Every grid's shape and keywords, with the grid ids in the same order.
pub async fn grid_shapes(conn: &mut Conn) -> Result<(Vec<GridShape>, Vec<String>)> {
    let rows = sqlx::query("SELECT id, code, division_code, polygon, keywords FROM grids ORDER BY code")
        .fetch_all(&mut *conn)
        .await?;
    let (mut shapes, mut ids) = (vec![], vec![]);
    for r in rows {
        let polygon: String = r.try_get("polygon")?;
        let Some(ring) = ring_from_geojson(&polygon) else { continue };
        let keywords: String = r.try_get("keywords")?;
        shapes.push(GridShape::new(
            r.try_get("code")?,
            r.try_get("division_code")?,
            ring,
            keywords.lines().map(str::trim).filter(|k| !k.is_empty()).map(String::from).collect(),
        ));
        ids.push(r.try_get("id")?);
    }
    Ok((shapes, ids))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PlaceReport {
    pub examined: i64,
    pub by_polygon: i64,
    pub by_keyword: i64,
    /// Placed somewhere else than before.
    pub moved: i64,
    /// Several grids' keywords match: left for a person.
    pub ambiguous: i64,
    pub unplaced: i64,
}

/// Places employers in grids: those in `scope` whose grid was not set by hand (`all`), or only
/// those without a grid. One audit record for the run.
pub async fn place_employers(
    conn: &mut Conn,
    now: OffsetDateTime,
    scope: &RowScope,
    all: bool,
    by: Option<(&str, &str)>,
) -> Result<PlaceReport> {
    let (shapes, ids) = grid_shapes(conn).await?;
    let mut q = Sql::new("SELECT e.uscc, e.address, e.lon, e.lat, e.grid_id, e.grid_method FROM enterprises e");
    enterprise_where(scope, &EnterpriseFilter::default(), &mut q);
    q.push(if all { " AND e.grid_method <> 'manual'" } else { " AND e.grid_id IS NULL" });
    let rows = q.query().fetch_all(&mut *conn).await?;
    let mut rep = PlaceReport::default();
    let ms = to_millis(now);
    for r in rows {
        rep.examined += 1;
        let uscc: String = r.try_get("uscc")?;
        let (lon, lat): (Option<f64>, Option<f64>) = (r.try_get("lon")?, r.try_get("lat")?);
        let point = lon.zip(lat).map(|(lon, lat)| Wgs84Point { lon, lat });
        let old: Option<String> = r.try_get("grid_id")?;
        let address: String = r.try_get("address")?;
        let (grid, method) = match locate(&shapes, point, &address) {
            Placement::Grid { index, method } => {
                if method == Method::Polygon {
                    rep.by_polygon += 1;
                } else {
                    rep.by_keyword += 1;
                }
                (Some(ids[index].clone()), method.as_str())
            }
            Placement::Ambiguous(_) => {
                rep.ambiguous += 1;
                (None, "")
            }
            Placement::Unplaced => {
                rep.unplaced += 1;
                (None, "")
            }
        };
        // An employer a run cannot place keeps the grid it had.
        let Some(grid) = grid else { continue };
        if old.as_deref() != Some(grid.as_str()) {
            if old.is_some() {
                rep.moved += 1;
            }
            sqlx::query("UPDATE enterprises SET grid_id = $1, grid_method = $2, updated_at = $3 WHERE uscc = $4")
                .bind(&grid)
                .bind(method)
                .bind(ms)
                .bind(&uscc)
                .execute(&mut *conn)
                .await?;
        } else {
            sqlx::query("UPDATE enterprises SET grid_method = $1 WHERE uscc = $2 AND grid_method <> $1")
                .bind(method)
                .bind(&uscc)
                .execute(&mut *conn)
                .await?;
        }
    }
    let mut e = AuditEntry::new(domain::wages::WagesAudit::Place, "enterprises", if all { "all" } else { "unplaced" })
        .detail(format!(
            "用人单位划入网格：检查 {}，按坐标 {}，按地址关键词 {}，调整 {}，关键词不唯一 {}，无法划分 {}",
            rep.examined, rep.by_polygon, rep.by_keyword, rep.moved, rep.ambiguous, rep.unplaced
        ));
    if let Some((id, name)) = by {
        e = e.by(id, name);
    }
    audit::append(conn, now, e).await?;
    Ok(rep)
}

/// What a grid manager or county staff may change about an employer.
#[derive(Debug, Clone)]
pub struct EmployerUpdate {
    pub address: String,
    pub point: Option<Wgs84Point>,
    pub employees: i64,
    pub status: String,
    /// `None`: place it automatically from the point or address; `Some(grid id)`: by hand.
    pub grid_id: Option<String>,
}

/// Updates an employer the user may see, re-places it, and audits what changed.
pub async fn update_employer(
    conn: &mut Conn,
    now: OffsetDateTime,
    scope: &RowScope,
    uscc: &str,
    u: &EmployerUpdate,
    by: (&str, &str),
) -> Result<Option<String>> {
    let mut q = Sql::new("SELECT e.name, e.address, e.employees, e.status, e.grid_id FROM enterprises e");
    enterprise_where(scope, &EnterpriseFilter::default(), &mut q);
    q.push(" AND e.uscc = ").bind(uscc);
    let row = q.query().fetch_optional(&mut *conn).await?.ok_or_else(|| StoreError::NotFound("用人单位".into()))?;
    let old_grid: Option<String> = row.try_get("grid_id")?;
    let (grid, method) = match &u.grid_id {
        Some(g) => {
            let division: Option<String> = sqlx::query_scalar("SELECT division_code FROM grids WHERE id = $1")
                .bind(g)
                .fetch_optional(&mut *conn)
                .await?;
            let Some(division) = division else { return Err(StoreError::invalid("grid_id", "所选网格不存在")) };
            // A grid manager can only hand an employer to a grid they may see.
            let allowed = match scope {
                RowScope::All => true,
                RowScope::Division(p) => division.starts_with(p.as_str()),
                RowScope::Grid(mine) => mine == g,
                _ => false,
            };
            if !allowed {
                return Err(StoreError::invalid("grid_id", "只能划入您管辖范围内的网格"));
            }
            (Some(g.clone()), Method::Manual.as_str())
        }
        None => {
            let (shapes, ids) = grid_shapes(conn).await?;
            match locate(&shapes, u.point, &u.address) {
                Placement::Grid { index, method } => (Some(ids[index].clone()), method.as_str()),
                _ => (None, ""),
            }
        }
    };
    sqlx::query(
        "UPDATE enterprises SET address = $1, lon = $2, lat = $3, employees = $4, status = $5, grid_id = $6,
            grid_method = $7, updated_at = $8 WHERE uscc = $9",
    )
    .bind(&u.address)
    .bind(u.point.map(|p| p.lon))
    .bind(u.point.map(|p| p.lat))
    .bind(u.employees)
    .bind(&u.status)
    .bind(&grid)
    .bind(method)
    .bind(to_millis(now))
    .bind(uscc)
    .execute(&mut *conn)
    .await?;
    let name: String = row.try_get("name")?;
    let mut changes = vec![];
    let old_address: String = row.try_get("address")?;
    if old_address != u.address {
        changes.push(format!("地址 {old_address} → {}", u.address));
    }
    let old_emp: i64 = row.try_get("employees")?;
    if old_emp != u.employees {
        changes.push(format!("从业人数 {old_emp} → {}", u.employees));
    }
    let old_status: String = row.try_get("status")?;
    if old_status != u.status {
        changes.push(format!("经营状态 {old_status} → {}", u.status));
    }
    if old_grid != grid {
        changes.push(format!("网格调整（{}）", Method::parse(method).map(|m| m.label()).unwrap_or("未能自动划分")));
    }
    let detail = if changes.is_empty() { "信息核实，无变化".to_string() } else { changes.join("；") };
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::wages::WagesAudit::EmployerUpdate, "enterprise", uscc)
            .by(by.0, by.1)
            .detail(format!("{name}：{detail}")),
    )
    .await?;
    Ok(grid)
}

/// Which employers a labor-relations view covers.
#[derive(Debug, Clone, Default)]
pub struct LaborFilter {
    pub division: Option<String>,
    pub grid_id: Option<String>,
    pub industry: Option<String>,
    pub uscc: Option<String>,
}

impl LaborFilter {
    fn apply(&self, scope: &RowScope, q: &mut Sql) {
        let f = EnterpriseFilter {
            division: self.division.clone(),
            grid_id: self.grid_id.clone(),
            industry: self.industry.clone(),
            ..Default::default()
        };
        enterprise_where(scope, &f, q);
        if let Some(u) = self.uscc.as_deref().filter(|s| !s.is_empty()) {
            q.push(" AND e.uscc = ").bind(u.to_string());
        }
    }
}

const TALLY: &str =
    "COUNT(*), CAST(COALESCE(SUM(m.employees), 0) AS BIGINT), CAST(COALESCE(SUM(m.insured), 0) AS BIGINT),
    CAST(COALESCE(SUM(m.consultations), 0) AS BIGINT), CAST(COALESCE(SUM(m.complaints), 0) AS BIGINT),
    CAST(COALESCE(SUM(m.disputes), 0) AS BIGINT), CAST(COALESCE(SUM(m.collective_risks), 0) AS BIGINT),
    CAST(COALESCE(SUM(m.contracted), 0) AS BIGINT),
    CAST(COALESCE(SUM(CASE WHEN m.contracted IS NULL THEN 0 ELSE m.employees END), 0) AS BIGINT),
    CAST(COALESCE(SUM(m.arrears_cases), 0) AS BIGINT)";

fn tally(r: &sqlx::any::AnyRow, at: usize) -> Result<Tally> {
    Ok(Tally {
        employers: r.try_get(at)?,
        employees: r.try_get(at + 1)?,
        insured: r.try_get(at + 2)?,
        consultations: r.try_get(at + 3)?,
        complaints: r.try_get(at + 4)?,
        disputes: r.try_get(at + 5)?,
        collective_risks: r.try_get(at + 6)?,
        contracted: r.try_get(at + 7)?,
        contract_reported: r.try_get(at + 8)?,
        arrears: r.try_get(at + 9)?,
    })
}

/// The reports of the covered employers summed per month, from `from` on.
pub async fn series(db: &Db, scope: &RowScope, f: &LaborFilter, from: Date) -> Result<Vec<(Date, Tally)>> {
    let mut q =
        Sql::new(&format!("SELECT m.month, {TALLY} FROM labor_monthly m JOIN enterprises e ON e.uscc = m.uscc"));
    f.apply(scope, &mut q);
    q.push(" AND m.month >= ").bind(from.to_string());
    q.push(" GROUP BY m.month ORDER BY m.month");
    let rows = q.query().fetch_all(db.reader()).await?;
    let mut out = vec![];
    for r in rows {
        let m: String = r.try_get(0)?;
        if let Some(d) = parse_day(&m) {
            out.push((d, tally(&r, 1)?));
        }
    }
    Ok(out)
}

/// One line of a breakdown: a grid, an industry or an employer, with its month's tally.
#[derive(Debug, Clone)]
pub struct Part {
    pub key: String,
    pub label: String,
    /// Employers (and their employees) in the registry, reporting or not.
    pub registered: i64,
    pub registered_employees: i64,
    pub tally: Tally,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Grid,
    Industry,
    Employer,
}

/// The covered employers grouped by grid, industry or employer: registry counts and the
/// month's reports.
pub async fn breakdown(db: &Db, scope: &RowScope, f: &LaborFilter, by: By, month: Date) -> Result<Vec<Part>> {
    let (key, label, join) = match by {
        By::Grid => {
            ("COALESCE(e.grid_id, '')", "COALESCE(g.name, '未划入网格')", "LEFT JOIN grids g ON g.id = e.grid_id")
        }
        By::Industry => ("e.industry", "e.industry", ""),
        By::Employer => ("e.uscc", "e.name", ""),
    };
    let mut q = Sql::new(&format!(
        "SELECT {key} AS k, MIN({label}) AS l, COUNT(*), CAST(COALESCE(SUM(e.employees), 0) AS BIGINT)
         FROM enterprises e {join}"
    ));
    f.apply(scope, &mut q);
    q.push(&format!(" GROUP BY {key}"));
    let mut parts: Vec<Part> = vec![];
    let mut at: HashMap<String, usize> = HashMap::new();
    for r in q.query().fetch_all(db.reader()).await? {
        let k: String = r.try_get(0)?;
        at.insert(k.clone(), parts.len());
        parts.push(Part {
            key: k,
            label: r.try_get(1)?,
            registered: r.try_get(2)?,
            registered_employees: r.try_get(3)?,
            tally: Tally::default(),
        });
    }
    let mut q = Sql::new(&format!(
        "SELECT {key} AS k, {TALLY} FROM labor_monthly m JOIN enterprises e ON e.uscc = m.uscc {join}"
    ));
    f.apply(scope, &mut q);
    q.push(" AND m.month = ").bind(month.to_string());
    q.push(&format!(" GROUP BY {key}"));
    for r in q.query().fetch_all(db.reader()).await? {
        let k: String = r.try_get(0)?;
        if let Some(i) = at.get(&k) {
            parts[*i].tally = tally(&r, 1)?;
        }
    }
    parts.sort_by(|a, b| b.registered.cmp(&a.registered).then_with(|| a.label.cmp(&b.label)));
    Ok(parts)
}

/// The newest month any covered employer reported (the page's "now").
pub async fn latest_month(db: &Db, scope: &RowScope, f: &LaborFilter) -> Result<Option<Date>> {
    let mut q = Sql::new("SELECT MAX(m.month) FROM labor_monthly m JOIN enterprises e ON e.uscc = m.uscc");
    f.apply(scope, &mut q);
    let m: Option<String> = q.query_scalar().fetch_one(db.reader()).await?;
    Ok(m.as_deref().and_then(parse_day))
}

/// Reports of one employer, or of every employer (`None`), from `from` on: for the warning
/// rules' labor-risk facts.
pub(crate) async fn reports(
    conn: &mut Conn,
    uscc: Option<&str>,
    from: Date,
) -> Result<HashMap<String, Vec<MonthReport>>> {
    let mut q = Sql::new(
        "SELECT uscc, month, employees, insured, consultations, complaints, disputes, collective_risks, contracted,
            arrears_cases FROM labor_monthly WHERE month >= ",
    );
    q.bind(from.to_string());
    if let Some(u) = uscc {
        q.push(" AND uscc = ").bind(u.to_string());
    }
    let mut out: HashMap<String, Vec<MonthReport>> = HashMap::new();
    for r in q.query().fetch_all(&mut *conn).await? {
        let m: String = r.try_get(1)?;
        let Some(month) = parse_day(&m) else { continue };
        out.entry(r.try_get(0)?).or_default().push(MonthReport {
            month,
            employees: r.try_get(2)?,
            insured: r.try_get(3)?,
            consultations: r.try_get(4)?,
            complaints: r.try_get(5)?,
            disputes: r.try_get(6)?,
            collective_risks: r.try_get(7)?,
            contracted: r.try_get(8)?,
            arrears: r.try_get(9)?,
        });
    }
    Ok(out)
}

/// Writes an employer's month (from the demo; imports go through the ingest writer).
pub async fn put_report(conn: &mut Conn, now: OffsetDateTime, uscc: &str, r: &MonthReport, source: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO labor_monthly (uscc, month, employees, insured, consultations, complaints, disputes,
            collective_risks, source, updated_at, contracted, arrears_cases)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (uscc, month) DO UPDATE SET employees = excluded.employees, insured = excluded.insured,
            consultations = excluded.consultations, complaints = excluded.complaints, disputes = excluded.disputes,
            collective_risks = excluded.collective_risks, source = excluded.source, updated_at = excluded.updated_at,
            contracted = excluded.contracted, arrears_cases = excluded.arrears_cases",
    )
    .bind(uscc)
    .bind(r.month.to_string())
    .bind(r.employees)
    .bind(r.insured)
    .bind(r.consultations)
    .bind(r.complaints)
    .bind(r.disputes)
    .bind(r.collective_risks)
    .bind(source)
    .bind(to_millis(now))
    .bind(r.contracted)
    .bind(r.arrears)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// How an employer is placed, for its page.
pub async fn grid_method(db: &Db, uscc: &str) -> Result<Option<Method>> {
    let m: Option<String> = sqlx::query_scalar("SELECT grid_method FROM enterprises WHERE uscc = $1")
        .bind(uscc)
        .fetch_optional(db.reader())
        .await?;
    Ok(m.as_deref().and_then(Method::parse))
}

/// Employers as alert subjects: the facts `config/schemas/employer.toml` declares, from the
/// registry and the monthly labor reports.
pub struct Employers;

impl SubjectSource for Employers {
    fn subject_type(&self) -> &'static str {
        "employer"
    }

    fn load<'a>(
        &'a self,
        which: Subjects<'a>,
        schema: &'a Schema,
        _: &'a CityConfig,
        _: &'a WorkCalendar,
        today: Date,
    ) -> SourceFuture<'a> {
        Box::pin(employers(which, schema, today))
    }

    /// An employer answers for itself; its USCC is its login.
    fn addressee<'a>(&'a self, conn: &'a mut Conn, uscc: &'a str) -> crate::alerts::AddresseeFuture<'a> {
        Box::pin(async move {
            let name: Option<String> = sqlx::query_scalar("SELECT name FROM enterprises WHERE uscc = $1")
                .bind(uscc)
                .fetch_optional(&mut *conn)
                .await?;
            Ok(name
                .map(|name| crate::alerts::Addressee { name, id: Some(uscc.to_string()), about: "你单位".into() }))
        })
    }
}

/// Employers from the registry: the facts `config/schemas/employer.toml` declares.
async fn employers(which: Subjects<'_>, schema: &Schema, today: time::Date) -> Result<(Batch, Vec<Subject>)> {
    let select = "SELECT uscc, name, industry, kind, employees, registered_capital_fen, established_on, division_code, grid_id FROM enterprises";
    // Labor reports back far enough for the latest month and the one before it.
    let mut from = domain::wages::labor::month_start(today);
    for _ in 0..=domain::wages::labor::STALE_MONTHS {
        from = domain::wages::labor::prev_month(from);
    }
    let (rows, reports) = match which {
        Subjects::All(db) => {
            let rows = sqlx::query(&format!("{select} ORDER BY uscc")).fetch_all(db.reader()).await?;
            let mut conn = db.reader().acquire().await?;
            (rows, reports(&mut conn, None, from).await?)
        }
        Subjects::One(conn, id) => {
            let rows = sqlx::query(&format!("{select} WHERE uscc = $1")).bind(id).fetch_all(&mut *conn).await?;
            (rows, reports(conn, Some(id), from).await?)
        }
    };
    let n = rows.len();
    let mut b = Batch::new(schema, n);
    let mut subjects = Vec::with_capacity(n);
    let (mut employees, mut capital, mut in_grid) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut industry, mut kind, mut established) = (vec![], vec![], vec![]);
    let mut risk: Vec<Option<domain::wages::labor::RiskFacts>> = Vec::with_capacity(n);
    for r in &rows {
        let uscc: String = r.try_get("uscc")?;
        risk.push(reports.get(&uscc).and_then(|v| domain::wages::labor::risk_facts(v, today)));
        let grid: Option<String> = r.try_get("grid_id")?;
        employees.push(r.try_get::<i64, _>("employees")?);
        capital.push(r.try_get::<i64, _>("registered_capital_fen")?);
        in_grid.push(grid.is_some());
        industry.push(r.try_get::<String, _>("industry")?);
        kind.push(r.try_get::<String, _>("kind")?);
        let est: Option<String> = r.try_get("established_on")?;
        established.push(
            est.and_then(|s| time::Date::parse(&s, &time::macros::format_description!("[year]-[month]-[day]")).ok()),
        );
        subjects.push(Subject {
            id: r.try_get("uscc")?,
            name: r.try_get("name")?,
            division_code: r.try_get("division_code")?,
            grid_id: grid,
        });
    }
    // Only the facts the schema declares are set; a module may declare fewer.
    let set =
        |b: &mut Batch, name: &str, f: &mut dyn FnMut(&mut Batch) -> std::result::Result<(), String>| -> Result<()> {
            if schema.get(name).is_some() {
                f(b).map_err(StoreError::Other)?;
            }
            Ok(())
        };
    set(&mut b, "employees", &mut |b| b.set_ints("employees", employees.clone(), None))?;
    set(&mut b, "registered_capital", &mut |b| b.set_ints("registered_capital", capital.clone(), None))?;
    set(&mut b, "in_grid", &mut |b| b.set_bools("in_grid", in_grid.clone(), None))?;
    set(&mut b, "industry", &mut |b| b.set_strs("industry", industry.iter().map(|s| Some(s.as_str()))))?;
    set(&mut b, "kind", &mut |b| b.set_strs("kind", kind.iter().map(|s| Some(s.as_str()))))?;
    set(&mut b, "established_on", &mut |b| b.set_dates("established_on", &established))?;
    // Labor-risk facts exist only for employers with a recent report.
    let valid: Vec<bool> = risk.iter().map(Option::is_some).collect();
    type Get = fn(&domain::wages::labor::RiskFacts) -> i64;
    let facts: [(&str, Get); 8] = [
        ("insured_now", |f| f.insured_now),
        ("insured_prev", |f| f.insured_prev),
        ("insured_drop", |f| f.insured_drop),
        ("insured_drop_pct", |f| f.insured_drop_pct),
        ("complaints_now", |f| f.complaints_now),
        ("complaints_prev", |f| f.complaints_prev),
        ("disputes_now", |f| f.disputes_now),
        ("collective_risks", |f| f.collective_risks),
    ];
    for (name, get) in facts {
        let values: Vec<i64> = risk.iter().map(|f| f.as_ref().map(get).unwrap_or(0)).collect();
        set(&mut b, name, &mut |b| b.set_ints(name, values.clone(), Some(valid.clone())))?;
    }
    Ok((b, subjects))
}
