//! Organisation: divisions, departments, grids, enterprises (市场主体) and citizens, with
//! data-scope filtering applied in SQL so no list can show rows outside the user's scope.

use crate::sql::{PageRequest, Paged, Sql, like_escape};
use crate::{Conn, Db, Result, StoreError, new_id};
use domain::auth::{DataScope, Principal};
use domain::clock::to_millis;
use domain::geo::Ring;
use domain::ids::{DivisionCode, DivisionRegistry};
use time::OffsetDateTime;

/// A data scope resolved to what rows carry: division codes, grid ids, identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowScope {
    All,
    /// Rows whose division code starts with this prefix.
    Division(String),
    Grid(String),
    Enterprise(String),
    Citizen(String),
    Nothing,
}

/// Resolves `principal`'s scope for `perm`. A department's scope is its jurisdiction (the
/// department's division) for data that has no owning department.
pub async fn row_scope(db: &Db, principal: &Principal, perm: &str) -> Result<RowScope> {
    Ok(match principal.scope(perm) {
        None | Some(DataScope::Nothing) => RowScope::Nothing,
        Some(DataScope::All) => RowScope::All,
        Some(DataScope::Division(d)) => RowScope::Division(d.scope_prefix().to_string()),
        Some(DataScope::Grid(g)) => RowScope::Grid(g),
        Some(DataScope::Department(dept)) => {
            let code: Option<String> = sqlx::query_scalar("SELECT division_code FROM departments WHERE id = $1")
                .bind(&dept)
                .fetch_optional(db.reader())
                .await?;
            match code.and_then(|c| DivisionCode::parse(&c).ok()) {
                Some(c) => RowScope::Division(c.scope_prefix().to_string()),
                None => RowScope::Nothing,
            }
        }
        Some(DataScope::Own) => match (&principal.uscc, &principal.id_card_no) {
            (Some(u), _) => RowScope::Enterprise(u.clone()),
            (None, Some(id)) => RowScope::Citizen(id.clone()),
            _ => RowScope::Nothing,
        },
    })
}

impl RowScope {
    /// Appends the filter for a table with `division_code`, `grid_id` and an identifier column.
    pub fn apply(&self, q: &mut Sql, id_column: &str, own_kind_matches: bool) {
        match self {
            RowScope::All => {}
            RowScope::Division(p) => {
                q.push(" AND division_code LIKE ").bind(format!("{}%", like_escape(p))).push(" ESCAPE '\\'");
            }
            RowScope::Grid(g) => {
                q.push(" AND grid_id = ").bind(g.clone());
            }
            RowScope::Enterprise(v) | RowScope::Citizen(v) if own_kind_matches => {
                q.push(&format!(" AND {id_column} = ")).bind(v.clone());
            }
            _ => {
                q.push(" AND 1 = 0");
            }
        }
    }
}

// ---------------------------------------------------------------- divisions

/// Makes the `divisions` table match the registry (adds missing, renames changed).
pub async fn sync_divisions(conn: &mut Conn, reg: &DivisionRegistry) -> Result<()> {
    // Parents first: codes sort so that 340000 < 341600 < 341602 < 341602100.
    let mut all: Vec<_> = reg.all().collect();
    all.sort_by_key(|d| (d.code.as_str().len(), d.code.as_str().to_string()));
    for d in all {
        sqlx::query(
            "INSERT INTO divisions (code, name, level, parent_code, full_name) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, full_name = excluded.full_name",
        )
        .bind(d.code.as_str())
        .bind(&d.name)
        .bind(d.code.level().as_str())
        .bind(d.code.parent().map(|p| p.as_str().to_string()))
        .bind(reg.full_name(&d.code))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Division {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub full_name: String,
}

pub async fn division_name(db: &Db, code: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM divisions WHERE code = $1").bind(code).fetch_optional(db.reader()).await?)
}

pub async fn list_divisions(db: &Db, parent: Option<&str>) -> Result<Vec<Division>> {
    let mut q = Sql::new("SELECT code, name, level, parent_code, full_name FROM divisions WHERE 1 = 1");
    if let Some(p) = parent {
        q.push(" AND parent_code = ").bind(p);
    }
    q.push(" ORDER BY code");
    Ok(q.query_as().fetch_all(db.reader()).await?)
}

// ---------------------------------------------------------------- departments

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Department {
    pub id: String,
    pub code: String,
    pub name: String,
    pub short_name: String,
    pub kind: String,
    pub division_code: String,
    pub active: i64,
    /// 发文机关代字; empty: documents use the short name.
    pub doc_prefix: String,
}

#[derive(Debug, Clone)]
pub struct DepartmentInput {
    pub code: String,
    pub name: String,
    pub short_name: String,
    pub kind: String,
    pub division_code: DivisionCode,
    pub active: bool,
    pub doc_prefix: String,
}

pub async fn list_departments(db: &Db) -> Result<Vec<Department>> {
    Ok(sqlx::query_as(
        "SELECT id, code, name, short_name, kind, division_code, active, doc_prefix FROM departments ORDER BY division_code, code",
    )
    .fetch_all(db.reader())
    .await?)
}

pub async fn get_department(db: &Db, id: &str) -> Result<Department> {
    sqlx::query_as(
        "SELECT id, code, name, short_name, kind, division_code, active, doc_prefix FROM departments WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or_else(|| StoreError::NotFound("部门".into()))
}

pub async fn department_id_by_code(conn: &mut Conn, code: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM departments WHERE code = $1").bind(code).fetch_optional(&mut *conn).await?)
}

pub async fn create_department(conn: &mut Conn, now: OffsetDateTime, d: &DepartmentInput) -> Result<String> {
    let id = new_id();
    let r = sqlx::query(
        "INSERT INTO departments (id, code, name, short_name, kind, division_code, active, created_at, updated_at, doc_prefix)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
    )
    .bind(&id)
    .bind(&d.code)
    .bind(&d.name)
    .bind(&d.short_name)
    .bind(&d.kind)
    .bind(d.division_code.as_str())
    .bind(i64::from(d.active))
    .bind(to_millis(now))
    .bind(d.doc_prefix.trim())
    .execute(&mut *conn)
    .await;
    crate::unique_as_conflict(r, "code", || format!("部门代码“{}”已被使用", d.code))?;
    Ok(id)
}

pub async fn update_department(conn: &mut Conn, now: OffsetDateTime, id: &str, d: &DepartmentInput) -> Result<()> {
    let r = sqlx::query(
        "UPDATE departments SET code = $1, name = $2, short_name = $3, kind = $4, division_code = $5, active = $6, updated_at = $7,
         doc_prefix = $9 WHERE id = $8",
    )
    .bind(&d.code)
    .bind(&d.name)
    .bind(&d.short_name)
    .bind(&d.kind)
    .bind(d.division_code.as_str())
    .bind(i64::from(d.active))
    .bind(to_millis(now))
    .bind(id)
    .bind(d.doc_prefix.trim())
    .execute(&mut *conn)
    .await;
    let r = crate::unique_as_conflict(r, "code", || format!("部门代码“{}”已被使用", d.code))?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound("部门".into()));
    }
    Ok(())
}

// ---------------------------------------------------------------- grids

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Grid {
    pub id: String,
    pub code: String,
    pub name: String,
    pub division_code: String,
    pub polygon: String,
    /// The datum the shape was supplied in (stored shapes are always WGS-84).
    pub datum: String,
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
    pub keywords: String,
}

pub struct NewGrid<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub division: &'a DivisionCode,
    /// WGS-84.
    pub ring: &'a Ring,
    pub keywords: &'a [String],
    /// The datum the shape was supplied in, and the original geometry when it was not WGS-84.
    pub datum: domain::geo::Datum,
    pub original: Option<&'a str>,
}

pub async fn insert_grid(conn: &mut Conn, now: OffsetDateTime, g: &NewGrid<'_>) -> Result<String> {
    let id = new_id();
    let (a, b, c, d) = g.ring.bbox();
    let keywords = g.keywords.join("\n");
    let r = sqlx::query(
        "INSERT INTO grids (id, code, name, division_code, polygon, datum, polygon_original, min_lon, min_lat, max_lon, max_lat,
            keywords, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(&id)
    .bind(g.code)
    .bind(g.name)
    .bind(g.division.as_str())
    .bind(g.ring.to_geojson())
    .bind(g.datum.as_str())
    .bind(g.original)
    .bind(a)
    .bind(b)
    .bind(c)
    .bind(d)
    .bind(keywords)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await;
    crate::unique_as_conflict(r, "code", || format!("网格编码“{}”已存在", g.code))?;
    Ok(id)
}

pub async fn grid_id_by_code(conn: &mut Conn, code: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM grids WHERE code = $1").bind(code).fetch_optional(&mut *conn).await?)
}

pub async fn grid_by_code(db: &Db, code: &str) -> Result<Option<Grid>> {
    Ok(sqlx::query_as("SELECT * FROM grids WHERE code = $1").bind(code).fetch_optional(db.reader()).await?)
}

pub async fn get_grid(db: &Db, id: &str) -> Result<Grid> {
    sqlx::query_as("SELECT * FROM grids WHERE id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::NotFound("网格".into()))
}

impl RowScope {
    /// Whether a row of `division_code` (and `grid_id`) lies inside this scope.
    pub fn contains(&self, division_code: &str, grid_id: Option<&str>) -> bool {
        match self {
            RowScope::All => true,
            RowScope::Division(prefix) => division_code.starts_with(prefix.as_str()),
            RowScope::Grid(g) => grid_id == Some(g.as_str()),
            RowScope::Enterprise(_) | RowScope::Citizen(_) | RowScope::Nothing => false,
        }
    }
}

/// A grid the caller's `scope` (of `org.divisions`) reaches; one outside it reads as
/// `StoreError::Forbidden`, so the caller audits the refusal.
pub async fn grid_in(db: &Db, scope: &RowScope, id: &str) -> Result<Grid> {
    let g = get_grid(db, id).await?;
    if !scope.contains(&g.division_code, Some(&g.id)) {
        return Err(StoreError::Forbidden(format!("网格“{}”不在您的辖区内", g.name)));
    }
    Ok(g)
}

/// Grids under a division prefix (all when `None`), by code.
pub async fn list_grids(db: &Db, division_prefix: Option<&str>) -> Result<Vec<Grid>> {
    let mut q = Sql::new("SELECT * FROM grids WHERE 1 = 1");
    if let Some(p) = division_prefix {
        q.push(" AND division_code LIKE ").bind(format!("{}%", like_escape(p))).push(" ESCAPE '\\'");
    }
    q.push(" ORDER BY code");
    Ok(q.query_as().fetch_all(db.reader()).await?)
}

pub async fn update_grid_keywords(conn: &mut Conn, now: OffsetDateTime, id: &str, keywords: &[String]) -> Result<()> {
    sqlx::query("UPDATE grids SET keywords = $1, updated_at = $2 WHERE id = $3")
        .bind(keywords.join("\n"))
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- enterprises

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Enterprise {
    pub id: String,
    pub uscc: String,
    pub name: String,
    pub kind: String,
    pub industry: String,
    pub division_code: String,
    pub division_name: Option<String>,
    pub grid_id: Option<String>,
    pub grid_name: Option<String>,
    pub address: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub legal_rep: String,
    pub employees: i64,
    pub registered_capital_fen: i64,
    pub established_on: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct NewEnterprise {
    pub uscc: String,
    pub name: String,
    pub kind: String,
    pub industry: String,
    pub division_code: String,
    pub grid_id: Option<String>,
    pub address: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub legal_rep: String,
    pub employees: i64,
    pub registered_capital_fen: i64,
    pub established_on: Option<String>,
}

pub async fn insert_enterprise(conn: &mut Conn, now: OffsetDateTime, e: &NewEnterprise) -> Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO enterprises (id, uscc, name, kind, industry, division_code, grid_id, address, lon, lat, legal_rep,
            employees, registered_capital_fen, established_on, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, '存续', $15, $15)",
    )
    .bind(&id)
    .bind(&e.uscc)
    .bind(&e.name)
    .bind(&e.kind)
    .bind(&e.industry)
    .bind(&e.division_code)
    .bind(&e.grid_id)
    .bind(&e.address)
    .bind(e.lon)
    .bind(e.lat)
    .bind(&e.legal_rep)
    .bind(e.employees)
    .bind(e.registered_capital_fen)
    .bind(&e.established_on)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

#[derive(Debug, Clone, Default)]
pub struct EnterpriseFilter {
    /// Name or USCC fragment.
    pub q: Option<String>,
    pub industry: Option<String>,
    pub division: Option<String>,
    pub grid_id: Option<String>,
}

const ENTERPRISE_COLUMNS: &str =
    "SELECT e.id, e.uscc, e.name, e.kind, e.industry, e.division_code, d.name AS division_name,
    e.grid_id, g.name AS grid_name, e.address, e.lon, e.lat, e.legal_rep, e.employees, e.registered_capital_fen,
    e.established_on, e.status";
const ENTERPRISE_FROM: &str =
    "FROM enterprises e LEFT JOIN divisions d ON d.code = e.division_code LEFT JOIN grids g ON g.id = e.grid_id";

pub(crate) fn enterprise_where(scope: &RowScope, f: &EnterpriseFilter, q: &mut Sql) {
    q.push(" WHERE 1 = 1");
    // RowScope::apply writes unqualified column names; a sub-select keeps them unambiguous.
    let mut inner = Sql::new("");
    scope.apply(&mut inner, "uscc", true);
    if !inner.text().is_empty() {
        q.push(" AND e.id IN (SELECT id FROM enterprises WHERE 1 = 1");
        q.append(&inner);
        q.push(")");
    }
    if let Some(s) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let p = format!("%{}%", like_escape(s));
        q.push(" AND (e.name LIKE ")
            .bind(p.clone())
            .push(" ESCAPE '\\' OR e.uscc LIKE ")
            .bind(p.to_uppercase())
            .push(" ESCAPE '\\')");
    }
    if let Some(i) = f.industry.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND e.industry = ").bind(i);
    }
    if let Some(d) = f.division.as_deref().filter(|s| !s.is_empty()) {
        let prefix = DivisionCode::parse(d).map(|c| c.scope_prefix().to_string()).unwrap_or_else(|_| d.to_string());
        q.push(" AND e.division_code LIKE ").bind(format!("{}%", like_escape(&prefix))).push(" ESCAPE '\\'");
    }
    if let Some(g) = f.grid_id.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND e.grid_id = ").bind(g);
    }
}

pub async fn list_enterprises(
    db: &Db,
    scope: &RowScope,
    f: &EnterpriseFilter,
    page: PageRequest,
) -> Result<Paged<Enterprise>> {
    let filter = |q: &mut Sql| enterprise_where(scope, f, q);
    crate::sql::paged(db, ENTERPRISE_COLUMNS, ENTERPRISE_FROM, filter, "e.division_code, e.name", page).await
}

pub async fn enterprise_by_uscc(db: &Db, scope: &RowScope, uscc: &str) -> Result<Enterprise> {
    let mut q = Sql::new(&format!("{ENTERPRISE_COLUMNS} {ENTERPRISE_FROM}"));
    enterprise_where(scope, &EnterpriseFilter::default(), &mut q);
    q.push(" AND e.uscc = ").bind(uscc);
    q.query_as().fetch_optional(db.reader()).await?.ok_or_else(|| StoreError::NotFound("市场主体".into()))
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct IndustryCount {
    pub industry: String,
    pub enterprises: i64,
    pub employees: i64,
}

pub async fn enterprise_industries(db: &Db, scope: &RowScope) -> Result<Vec<IndustryCount>> {
    let mut q =
        Sql::new("SELECT e.industry, COUNT(*), CAST(COALESCE(SUM(e.employees), 0) AS BIGINT) FROM enterprises e");
    enterprise_where(scope, &EnterpriseFilter::default(), &mut q);
    q.push(" GROUP BY e.industry ORDER BY COUNT(*) DESC, e.industry");
    let rows: Vec<(String, i64, i64)> = q.query_as().fetch_all(db.reader()).await?;
    Ok(rows
        .into_iter()
        .map(|(industry, enterprises, employees)| IndustryCount { industry, enterprises, employees })
        .collect())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CountyCount {
    pub code: String,
    pub name: String,
    pub enterprises: i64,
    pub employees: i64,
}

/// Enterprises per county (first six digits of the division code).
pub async fn enterprise_counties(db: &Db, scope: &RowScope) -> Result<Vec<CountyCount>> {
    let mut q = Sql::new(
        "SELECT SUBSTR(e.division_code, 1, 6) AS county, COUNT(*), CAST(COALESCE(SUM(e.employees), 0) AS BIGINT) FROM enterprises e",
    );
    enterprise_where(scope, &EnterpriseFilter::default(), &mut q);
    q.push(" GROUP BY SUBSTR(e.division_code, 1, 6) ORDER BY county");
    let rows: Vec<(String, i64, i64)> = q.query_as().fetch_all(db.reader()).await?;
    let mut out = vec![];
    for (code, enterprises, employees) in rows {
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM divisions WHERE code = $1")
            .bind(&code)
            .fetch_optional(db.reader())
            .await?;
        out.push(CountyCount { name: name.unwrap_or_else(|| code.clone()), code, enterprises, employees });
    }
    Ok(out)
}

pub async fn industries(db: &Db) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT DISTINCT industry FROM enterprises ORDER BY industry").fetch_all(db.reader()).await?)
}

// ---------------------------------------------------------------- citizens

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Citizen {
    pub id: String,
    pub id_card_no: String,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    pub phone: String,
    pub division_code: Option<String>,
    pub division_name: Option<String>,
    pub grid_id: Option<String>,
    pub address: String,
}

#[derive(Debug, Clone)]
pub struct NewCitizen {
    pub id_card_no: domain::IdCardNo,
    pub name: String,
    pub phone: String,
    pub division_code: String,
    pub grid_id: Option<String>,
    pub address: String,
}

pub async fn insert_citizen(conn: &mut Conn, now: OffsetDateTime, c: &NewCitizen) -> Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO citizens (id, id_card_no, name, sex, birth_date, phone, division_code, grid_id, address, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(c.id_card_no.as_str())
    .bind(&c.name)
    .bind(c.id_card_no.sex().label())
    .bind(c.id_card_no.birth_date().to_string())
    .bind(&c.phone)
    .bind(&c.division_code)
    .bind(&c.grid_id)
    .bind(&c.address)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

const CITIZEN_COLUMNS: &str = "SELECT c.id, c.id_card_no, c.name, c.sex, c.birth_date, c.phone, c.division_code,
    d.name AS division_name, c.grid_id, c.address";
const CITIZEN_FROM: &str = "FROM citizens c LEFT JOIN divisions d ON d.code = c.division_code";

fn citizen_where(scope: &RowScope, q_text: Option<&str>, q: &mut Sql) {
    q.push(" WHERE 1 = 1");
    let mut inner = Sql::new("");
    scope.apply(&mut inner, "id_card_no", matches!(scope, RowScope::Citizen(_)));
    if !inner.text().is_empty() {
        q.push(" AND c.id IN (SELECT id FROM citizens WHERE 1 = 1");
        q.append(&inner);
        q.push(")");
    }
    if let Some(s) = q_text.map(str::trim).filter(|s| !s.is_empty()) {
        // Name fragment, or an exact ID number (no partial matching on ID numbers).
        q.push(" AND (c.name LIKE ")
            .bind(format!("%{}%", like_escape(s)))
            .push(" ESCAPE '\\' OR c.id_card_no = ")
            .bind(s.to_uppercase())
            .push(")");
    }
}

pub async fn list_citizens(
    db: &Db,
    scope: &RowScope,
    q_text: Option<&str>,
    page: PageRequest,
) -> Result<Paged<Citizen>> {
    let filter = |q: &mut Sql| citizen_where(scope, q_text, q);
    crate::sql::paged(db, CITIZEN_COLUMNS, CITIZEN_FROM, filter, "c.division_code, c.name", page).await
}

pub async fn citizen_by_id(db: &Db, scope: &RowScope, id: &str) -> Result<Citizen> {
    let mut q = Sql::new(&format!("{CITIZEN_COLUMNS} {CITIZEN_FROM}"));
    citizen_where(scope, None, &mut q);
    q.push(" AND c.id = ").bind(id);
    q.query_as().fetch_optional(db.reader()).await?.ok_or_else(|| StoreError::NotFound("群众信息".into()))
}

pub async fn citizen_by_id_card(db: &Db, id_card_no: &str) -> Result<Option<Citizen>> {
    let mut q = Sql::new(&format!("{CITIZEN_COLUMNS} {CITIZEN_FROM}"));
    q.push(" WHERE c.id_card_no = ").bind(id_card_no);
    Ok(q.query_as().fetch_optional(db.reader()).await?)
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct OrgCounts {
    pub divisions: i64,
    pub departments: i64,
    pub grids: i64,
    pub enterprises: i64,
    pub citizens: i64,
    pub users: i64,
}

pub async fn counts(db: &Db) -> Result<OrgCounts> {
    let mut c = OrgCounts::default();
    for (table, slot) in [
        ("divisions", &mut c.divisions),
        ("departments", &mut c.departments),
        ("grids", &mut c.grids),
        ("enterprises", &mut c.enterprises),
        ("citizens", &mut c.citizens),
        ("users", &mut c.users),
    ] {
        *slot = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(db.reader()).await?;
    }
    Ok(c)
}
