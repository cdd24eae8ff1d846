//! 亳安码 persistence: supervised persons and the agency holding each case, device binding,
//! fences, the location-fix ingest (idempotent, time-ordered per person, durable on commit),
//! raw violations, alarms with their handling, and the person's hysteresis state.

use crate::config::CityConfig;
use crate::notify::{self, To};
use crate::sql::Value;
use crate::{Conn, Db, Result, StoreError, audit, auth, new_id};
use domain::audit::AuditEntry;
use domain::auth::{DataScope, Principal, UserKind};
use domain::clock::{from_millis, to_millis};
use domain::geo::fence::{Area, Circle, Shape};
use domain::geo::{Datum, Ring, Wgs84Point, to_wgs84};
use domain::supervision::{Fence, FenceSet, Hysteresis, Rule, Step, Tracker};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;

/// Stages of a case, in hand-off order, with the department that holds it.
pub const STAGES: [(&str, &str, &str); 4] = [
    ("police", "侦查（公安机关）", "gaj"),
    ("procuratorate", "审查起诉（检察院）", "jcy"),
    ("court", "审判（法院）", "zy"),
    ("justice", "执行（司法局社区矫正）", "sfj"),
];

pub const MEASURES: [&str; 4] = ["取保候审", "监视居住", "社区矫正", "暂予监外执行"];

pub fn stage_label(s: &str) -> &'static str {
    STAGES.iter().find(|x| x.0 == s).map(|x| x.1).unwrap_or("")
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Person {
    pub id: String,
    pub id_card_no: String,
    pub name: String,
    pub phone: String,
    pub address: String,
    pub division_code: String,
    pub agency_id: String,
    pub agency_name: String,
    pub stage: String,
    pub measure: String,
    pub measure_from: String,
    pub measure_to: String,
    pub officer_id: Option<String>,
    pub user_id: Option<String>,
    pub status: String,
    pub open_alarms: i64,
}

const PERSON_SELECT: &str = "SELECT p.id, p.id_card_no, p.name, p.phone, p.address, p.division_code, p.agency_id,
    d.short_name AS agency_name, p.stage, p.measure, p.measure_from, p.measure_to, p.officer_id, p.user_id, p.status,
    (SELECT COUNT(*) FROM sup_alarms a WHERE a.person_id = p.id AND a.status <> 'closed') AS open_alarms
    FROM sup_persons p JOIN departments d ON d.id = p.agency_id";

/// Whether `p` may see a person: the holding agency's own staff, or a user whose scope for
/// `supervision.view` is the whole city (the superiors).
pub fn may_see(p: &Principal, person: &Person) -> bool {
    match p.scope(domain::auth::perm::SUPERVISION_VIEW) {
        Some(DataScope::All) => true,
        Some(_) => p.department_id.as_deref() == Some(person.agency_id.as_str()),
        None => false,
    }
}

/// A person inside the caller's transaction.
pub async fn person_in(conn: &mut Conn, id: &str) -> Result<Person> {
    sqlx::query_as(&format!("{PERSON_SELECT} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound("被监管人员".into()))
}

pub async fn person(db: &Db, id: &str) -> Result<Person> {
    sqlx::query_as(&format!("{PERSON_SELECT} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::NotFound("被监管人员".into()))
}

/// The persons `p` may see, newest first.
pub async fn persons(db: &Db, p: &Principal) -> Result<Vec<Person>> {
    let all: Vec<Person> =
        sqlx::query_as(&format!("{PERSON_SELECT} ORDER BY p.created_at DESC")).fetch_all(db.reader()).await?;
    Ok(all.into_iter().filter(|x| may_see(p, x)).collect())
}

#[derive(Debug, Clone)]
pub struct NewPerson {
    pub id_card_no: String,
    pub name: String,
    pub phone: String,
    pub address: String,
    pub division_code: String,
    pub stage: String,
    pub measure: String,
    pub measure_from: time::Date,
    pub measure_to: time::Date,
}

/// Registers a person under a measure decided by the registering officer's agency. The
/// person gets (or keeps) a citizen login for the phone app; no password is set here — the
/// app signs in with the device token issued at binding.
pub async fn create_person(
    conn: &mut Conn,
    now: OffsetDateTime,
    n: &NewPerson,
    agency: Option<&str>,
    officer: (&str, &str),
) -> Result<String> {
    let agency = agency.ok_or_else(|| StoreError::invalid("agency", "您不属于任何机关，不能登记"))?.to_string();
    let card = domain::IdCardNo::parse(&n.id_card_no).map_err(|e| StoreError::invalid("id_card_no", e.to_string()))?;
    if n.name.trim().is_empty() {
        return Err(StoreError::invalid("name", "请填写姓名"));
    }
    if !STAGES.iter().any(|s| s.0 == n.stage) {
        return Err(StoreError::invalid("stage", "请选择诉讼阶段"));
    }
    if !MEASURES.contains(&n.measure.as_str()) {
        return Err(StoreError::invalid("measure", "请选择强制措施或刑罚执行方式"));
    }
    if n.measure_to < n.measure_from {
        return Err(StoreError::invalid("measure_to", "措施截止日期早于开始日期"));
    }
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM divisions WHERE code = $1")
        .bind(&n.division_code)
        .fetch_one(&mut *conn)
        .await?;
    if exists == 0 {
        return Err(StoreError::invalid("division_code", "区划代码不在本市区划中"));
    }
    let active: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sup_persons WHERE id_card_no = $1 AND status = 'active'")
            .bind(card.as_str())
            .fetch_one(&mut *conn)
            .await?;
    if active > 0 {
        return Err(StoreError::invalid("id_card_no", "此人已在监管中，请在其页面办理移交或变更"));
    }
    let user: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE login = $1")
        .bind(card.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    let user_id = match user {
        Some(u) => u,
        None => {
            let role = auth::role_id_by_code(conn, "citizen")
                .await?
                .ok_or_else(|| StoreError::NotFound("角色 citizen".into()))?;
            // An unusable password: the person signs in to the app with the device token.
            let unusable = format!("!{}", crate::random_token(16));
            auth::create_user(
                conn,
                now,
                &auth::NewUser {
                    kind: Some(UserKind::Citizen),
                    login: card.as_str().to_string(),
                    display_name: n.name.trim().to_string(),
                    password_hash: unusable,
                    division_code: Some(n.division_code.clone()),
                    id_card_no: Some(card.as_str().to_string()),
                    phone: n.phone.clone(),
                    role_ids: vec![role],
                    ..Default::default()
                },
            )
            .await?
        }
    };
    let id = new_id();
    let ms = to_millis(now);
    sqlx::query(
        "INSERT INTO sup_persons (id, id_card_no, name, phone, address, division_code, agency_id, stage, measure,
            measure_from, measure_to, officer_id, user_id, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'active', $14, $14)",
    )
    .bind(&id)
    .bind(card.as_str())
    .bind(n.name.trim())
    .bind(&n.phone)
    .bind(&n.address)
    .bind(&n.division_code)
    .bind(&agency)
    .bind(&n.stage)
    .bind(&n.measure)
    .bind(n.measure_from.to_string())
    .bind(n.measure_to.to_string())
    .bind(officer.0)
    .bind(&user_id)
    .bind(ms)
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new("supervision.person.create", "sup_person", &id).by(officer.0, officer.1).detail(format!(
            "登记被监管人员 {}（{}，{} 至 {}）",
            n.name.trim(),
            n.measure,
            n.measure_from,
            n.measure_to
        )),
    )
    .await?;
    Ok(id)
}

/// Binds a phone: the previous device and its token are revoked, a new device token is
/// issued for the person's login (shown once).
pub async fn bind_device(
    conn: &mut Conn,
    now: OffsetDateTime,
    person: &Person,
    device_id: &str,
    by: (&str, &str),
) -> Result<String> {
    let device_id = device_id.trim();
    if device_id.is_empty() || device_id.len() > 64 {
        return Err(StoreError::invalid("device_id", "请填写设备标识（1–64 个字符）"));
    }
    let user = person.user_id.clone().ok_or_else(|| StoreError::invalid("device_id", "此人没有登录账号"))?;
    let ms = to_millis(now);
    let old: Vec<(String, String)> =
        sqlx::query_as("SELECT id, token_id FROM sup_devices WHERE person_id = $1 AND status = 'active'")
            .bind(&person.id)
            .fetch_all(&mut *conn)
            .await?;
    for (dev, token) in &old {
        sqlx::query("UPDATE sup_devices SET status = 'revoked', revoked_at = $1 WHERE id = $2")
            .bind(ms)
            .bind(dev)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(ms)
            .bind(token)
            .execute(&mut *conn)
            .await?;
    }
    let (token_id, token) =
        auth::create_token(conn, now, &user, &format!("亳安码设备 {device_id}"), by.0, None).await?;
    sqlx::query(
        "INSERT INTO sup_devices (id, person_id, device_id, token_id, status, bound_by, bound_at) VALUES ($1, $2, $3, $4, 'active', $5, $6)",
    )
    .bind(new_id())
    .bind(&person.id)
    .bind(device_id)
    .bind(&token_id)
    .bind(by.0)
    .bind(ms)
    .execute(&mut *conn)
    .await?;
    let what = if old.is_empty() { "绑定设备" } else { "更换绑定设备（原设备已停用）" };
    audit::append(
        conn,
        now,
        AuditEntry::new("supervision.device.bind", "sup_person", &person.id)
            .by(by.0, by.1)
            .detail(format!("{}：{what} {device_id}", person.name)),
    )
    .await?;
    Ok(token)
}

pub async fn active_device(db: &Db, person_id: &str) -> Result<Option<(String, i64)>> {
    Ok(sqlx::query_as("SELECT device_id, bound_at FROM sup_devices WHERE person_id = $1 AND status = 'active'")
        .bind(person_id)
        .fetch_optional(db.reader())
        .await?)
}

/// A fence as an officer enters it: JSON geometry in a datum.
#[derive(Debug, Clone)]
pub struct NewFence {
    pub name: String,
    pub rule: Rule,
    /// `{"type":"Polygon","coordinates":[[[lon,lat],…], [hole…]]}`, `{"type":"Circle",
    /// "center":[lon,lat],"radius_m":r}` or `{"type":"Division","code":"341602"}`.
    pub geometry: String,
    pub datum: Datum,
    pub window: Option<(i64, i64)>,
}

fn ring_from(v: &serde_json::Value, datum: Datum) -> std::result::Result<Ring, String> {
    let pts = v.as_array().ok_or("多边形的环应为坐标数组")?;
    let mut out = vec![];
    for p in pts {
        let (x, y) = (p.get(0).and_then(|x| x.as_f64()), p.get(1).and_then(|x| x.as_f64()));
        let (Some(x), Some(y)) = (x, y) else { return Err("坐标应为 [经度, 纬度]".into()) };
        out.push(to_wgs84(datum, x, y).map_err(|e| e.to_string())?);
    }
    Ring::new(out).map_err(|e| e.to_string())
}

/// Parses and converts entered geometry: (kind, WGS-84 geometry text).
fn normalise(g: &str, datum: Datum) -> std::result::Result<(&'static str, String), String> {
    let v: serde_json::Value = serde_json::from_str(g).map_err(|_| "围栏不是有效的 JSON（GeoJSON）".to_string())?;
    let v = if v.get("type").and_then(|t| t.as_str()) == Some("Feature") { v["geometry"].clone() } else { v };
    match v.get("type").and_then(|t| t.as_str()) {
        Some("Polygon") => {
            let rings = v.get("coordinates").and_then(|c| c.as_array()).ok_or("Polygon 缺少 coordinates")?;
            let converted: Vec<Ring> =
                rings.iter().map(|r| ring_from(r, datum)).collect::<std::result::Result<_, _>>()?;
            if converted.is_empty() {
                return Err("Polygon 至少需要一个外环".into());
            }
            let coords: Vec<Vec<[f64; 2]>> =
                converted.iter().map(|r| r.0.iter().map(|p| [p.lon, p.lat]).collect()).collect();
            Ok(("polygon", serde_json::json!({ "type": "Polygon", "coordinates": coords }).to_string()))
        }
        Some("Circle") => {
            let c = v.get("center").and_then(|c| c.as_array()).ok_or("Circle 缺少 center")?;
            let (Some(x), Some(y)) = (c.first().and_then(|x| x.as_f64()), c.get(1).and_then(|x| x.as_f64())) else {
                return Err("center 应为 [经度, 纬度]".into());
            };
            let r = v.get("radius_m").and_then(|r| r.as_f64()).filter(|r| *r > 0.0 && *r <= 100_000.0);
            let r = r.ok_or("radius_m 应为 0–100000 米")?;
            let p = to_wgs84(datum, x, y).map_err(|e| e.to_string())?;
            Ok(("circle", serde_json::json!({ "type": "Circle", "center": [p.lon, p.lat], "radius_m": r }).to_string()))
        }
        Some("Division") => {
            let code = v.get("code").and_then(|c| c.as_str()).ok_or("Division 缺少 code")?;
            domain::DivisionCode::parse(code).map_err(|e| e.to_string())?;
            Ok(("division", serde_json::json!({ "type": "Division", "code": code }).to_string()))
        }
        _ => Err("type 应为 Polygon、Circle 或 Division".into()),
    }
}

pub async fn add_fence(
    conn: &mut Conn,
    now: OffsetDateTime,
    person: &Person,
    f: &NewFence,
    by: (&str, &str),
) -> Result<String> {
    if f.name.trim().is_empty() {
        return Err(StoreError::invalid("name", "请填写围栏名称，如“居住地所在乡镇”"));
    }
    let (kind, geometry) = normalise(&f.geometry, f.datum).map_err(|m| StoreError::invalid("geometry", m))?;
    if kind == "division" {
        let code = serde_json::from_str::<serde_json::Value>(&geometry)
            .ok()
            .and_then(|v| v["code"].as_str().map(String::from));
        let grids: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM grids WHERE division_code LIKE $1")
            .bind(format!("{}%", code.unwrap_or_default()))
            .fetch_one(&mut *conn)
            .await?;
        if grids == 0 {
            return Err(StoreError::invalid("geometry", "该区划没有网格边界，无法作为围栏"));
        }
    }
    if let Some((a, b)) = f.window
        && b <= a
    {
        return Err(StoreError::invalid("window", "有效期结束须晚于开始"));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO sup_fences (id, person_id, name, rule, kind, geometry, datum, original, window_from, window_to, active, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12)",
    )
    .bind(&id)
    .bind(&person.id)
    .bind(f.name.trim())
    .bind(if f.rule == Rule::Allowed { "allowed" } else { "forbidden" })
    .bind(kind)
    .bind(&geometry)
    .bind(f.datum.as_str())
    .bind((f.datum != Datum::Wgs84).then(|| f.geometry.clone()))
    .bind(f.window.map(|w| w.0))
    .bind(f.window.map(|w| w.1))
    .bind(by.0)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    forget_fences(&person.id);
    audit::append(
        conn,
        now,
        AuditEntry::new("supervision.fence.add", "sup_person", &person.id).by(by.0, by.1).detail(format!(
            "{}：新增{}“{}”（{}）",
            person.name,
            if f.rule == Rule::Allowed { "允许活动区域" } else { "禁止进入区域" },
            f.name.trim(),
            f.datum.as_str()
        )),
    )
    .await?;
    Ok(id)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FenceRow {
    pub id: String,
    pub name: String,
    pub rule: String,
    pub kind: String,
    pub geometry: String,
    pub datum: String,
    pub window_from: Option<i64>,
    pub window_to: Option<i64>,
}

pub async fn fences(conn: &mut Conn, person_id: &str) -> Result<Vec<FenceRow>> {
    Ok(sqlx::query_as(
        "SELECT id, name, rule, kind, geometry, datum, window_from, window_to FROM sup_fences WHERE person_id = $1 AND active = 1 ORDER BY created_at",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// The person's fences compiled for checking; a division is the union of its grids.
pub async fn fence_set(conn: &mut Conn, person_id: &str) -> Result<FenceSet> {
    let rows = fences(conn, person_id).await?;
    let mut set = FenceSet::default();
    for r in rows {
        let v: serde_json::Value = serde_json::from_str(&r.geometry).map_err(|e| StoreError::Other(e.to_string()))?;
        let shape = match r.kind.as_str() {
            "polygon" => {
                let rings: Vec<Ring> = v["coordinates"]
                    .as_array()
                    .map(|rs| rs.iter().filter_map(|x| ring_from(x, Datum::Wgs84).ok()).collect())
                    .unwrap_or_default();
                let mut it = rings.into_iter();
                let Some(outer) = it.next() else { continue };
                Shape::Areas(vec![Area::new(outer, it.collect())])
            }
            "circle" => {
                let (Some(x), Some(y), Some(rad)) =
                    (v["center"][0].as_f64(), v["center"][1].as_f64(), v["radius_m"].as_f64())
                else {
                    continue;
                };
                Shape::Circle(
                    Circle::new(Wgs84Point { lon: x, lat: y }, rad).map_err(|e| StoreError::Other(e.to_string()))?,
                )
            }
            _ => {
                let code = v["code"].as_str().unwrap_or_default().to_string();
                let polys: Vec<String> = sqlx::query_scalar("SELECT polygon FROM grids WHERE division_code LIKE $1")
                    .bind(format!("{code}%"))
                    .fetch_all(&mut *conn)
                    .await?;
                let areas = polys
                    .iter()
                    .filter_map(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                    .filter_map(|g| ring_from(&g["coordinates"][0], Datum::Wgs84).ok())
                    .map(|r| Area::new(r, vec![]))
                    .collect();
                Shape::Areas(areas)
            }
        };
        set.fences.push(Fence {
            id: r.name.clone(),
            rule: if r.rule == "allowed" { Rule::Allowed } else { Rule::Forbidden },
            shape,
            window: r.window_from.zip(r.window_to),
            schedule: None,
        });
    }
    Ok(set)
}

/// A fix as the phone sends it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct InFix {
    /// Unix milliseconds (UTC).
    pub at: i64,
    pub lon: f64,
    pub lat: f64,
    /// `wgs84` (default), `gcj02` or `bd09`.
    #[serde(default)]
    pub datum: Option<String>,
    #[serde(default)]
    pub accuracy_m: Option<f64>,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct FixReport {
    pub accepted: i64,
    /// Already received (the same person and instant).
    pub duplicates: i64,
    pub rejected: Vec<FixRejection>,
    /// Raw violations recorded.
    pub violations: i64,
    pub alarms_opened: i64,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FixRejection {
    /// Position in the batch, from 0.
    pub index: usize,
    pub reason: String,
}

/// The person a device token belongs to, if that device is the person's active one.
pub async fn person_of_device(db: &Db, user_id: &str, device_id: &str) -> Result<Person> {
    let p: Option<Person> = sqlx::query_as(&format!(
        "{PERSON_SELECT} WHERE p.user_id = $1 AND p.status = 'active'
           AND EXISTS (SELECT 1 FROM sup_devices v WHERE v.person_id = p.id AND v.device_id = $2 AND v.status = 'active')"
    ))
    .bind(user_id)
    .bind(device_id)
    .fetch_optional(db.reader())
    .await?;
    p.ok_or_else(|| StoreError::Forbidden("此设备未绑定或已停用，请联系办案机关重新绑定".into()))
}

/// Compiled fence sets by person id, shared by every request: fences change rarely, fixes
/// arrive all the time. A person's entry is dropped when their fences change (`add_fence`),
/// inside the writer's transaction, so the next batch compiles what was committed.
static FENCE_CACHE: std::sync::LazyLock<std::sync::RwLock<HashMap<String, Arc<FenceSet>>>> =
    std::sync::LazyLock::new(Default::default);

fn forget_fences(person_id: &str) {
    FENCE_CACHE.write().expect("fence cache").remove(person_id);
}

async fn fences_cached(conn: &mut Conn, person_id: &str) -> Result<Arc<FenceSet>> {
    if let Some(f) = FENCE_CACHE.read().expect("fence cache").get(person_id) {
        return Ok(f.clone());
    }
    let set = Arc::new(fence_set(conn, person_id).await?);
    FENCE_CACHE.write().expect("fence cache").insert(person_id.to_string(), set.clone());
    Ok(set)
}

/// Rows per multi-row statement.
const CHUNK: usize = 500;

/// Multi-row insert with the values written as literals (`Value::literal`): a batch of fixes
/// is thousands of rows, and binding each value separately costs more than writing the row.
async fn insert_rows(conn: &mut Conn, head: &str, tail: &str, rows: &[Vec<Value>]) -> Result<u64> {
    let mut n = 0;
    for chunk in rows.chunks(CHUNK) {
        let mut sql = String::with_capacity(head.len() + chunk.len() * 96 + tail.len());
        sql.push_str(head);
        for (i, row) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { " (" } else { ", (" });
            let vals: Vec<String> = row.iter().map(Value::literal).collect();
            sql.push_str(&vals.join(", "));
            sql.push(')');
        }
        sql.push_str(tail);
        n += sqlx::query(&sql).execute(&mut *conn).await?.rows_affected();
    }
    Ok(n)
}

/// Fixes of one person, from the phone. See `ingest`.
pub async fn ingest_fixes(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    person: &Person,
    fixes: &[InFix],
    h: &Hysteresis,
) -> Result<FixReport> {
    let rows: Vec<(&str, &InFix)> = fixes.iter().map(|f| (person.id.as_str(), f)).collect();
    ingest(conn, cfg, now, &rows, h).await
}

/// A fix from a gateway (a wristband or location platform) for a named person: the fields
/// of `InFix` and the person (spelt out rather than flattened: serde's flatten buffers every
/// row into a map, which a 10,000-row batch feels).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct BulkFix {
    pub person_id: String,
    pub at: i64,
    pub lon: f64,
    pub lat: f64,
    #[serde(default)]
    pub datum: Option<String>,
    #[serde(default)]
    pub accuracy_m: Option<f64>,
    #[serde(default)]
    pub source: Option<String>,
}

impl BulkFix {
    pub fn fix(&self) -> InFix {
        InFix {
            at: self.at,
            lon: self.lon,
            lat: self.lat,
            datum: self.datum.clone(),
            accuracy_m: self.accuracy_m,
            source: self.source.clone(),
        }
    }
}

/// Writes a batch of fixes (one person's, or many persons') in the caller's transaction: each
/// new fix is judged against the fences active at its instant; every violation is recorded
/// at once; each person's hysteresis state advances in time order and a confirmed alarm is
/// opened, the officer told and the 亳安码 event recorded. A fix is its person and instant, so
/// a batch sent again adds nothing. Rows are written a few hundred to a statement. Once the
/// caller commits, all of it is durable together.
pub async fn ingest(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    rows: &[(&str, &InFix)],
    h: &Hysteresis,
) -> Result<FixReport> {
    let mut rep = FixReport::default();
    let now_ms = to_millis(now);
    // Check and convert; group by person.
    // Per person: (row index, instant, point, accuracy, source).
    type Checked<'a> = (usize, i64, Wgs84Point, f64, &'a str);
    let mut by_person: HashMap<&str, Vec<Checked>> = HashMap::new();
    for (i, (person, f)) in rows.iter().enumerate() {
        let reject =
            |rep: &mut FixReport, reason: &str| rep.rejected.push(FixRejection { index: i, reason: reason.into() });
        if f.at > now_ms + 5 * 60_000 {
            reject(&mut rep, "定位时间晚于服务器时间 5 分钟以上，请校准手机时间");
            continue;
        }
        let datum = match f.datum.as_deref().map(Datum::parse) {
            None => Datum::Wgs84,
            Some(Some(d)) => d,
            Some(None) => {
                reject(&mut rep, "坐标系应为 wgs84、gcj02 或 bd09");
                continue;
            }
        };
        match to_wgs84(datum, f.lon, f.lat) {
            Ok(p) => by_person.entry(person).or_default().push((
                i,
                f.at,
                p,
                f.accuracy_m.unwrap_or(0.0).clamp(0.0, 10_000.0),
                f.source.as_deref().unwrap_or("gps"),
            )),
            Err(e) => reject(&mut rep, &e.to_string()),
        }
    }
    // Who is under supervision, and where each one's state stands.
    let ids: Vec<&str> = by_person.keys().copied().collect();
    let mut trackers: HashMap<String, Tracker> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let list: Vec<String> = chunk.iter().map(|id| Value::Text(id.to_string()).literal()).collect();
        let sql = format!(
            "SELECT p.id, t.last_ms, t.streak, t.since_ms, t.alarmed FROM sup_persons p
             LEFT JOIN sup_trackers t ON t.person_id = p.id WHERE p.status = 'active' AND p.id IN ({})",
            list.join(", ")
        );
        for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
            let t = match r.try_get::<Option<i64>, _>(1)? {
                Some(last_ms) => Tracker {
                    last_ms,
                    streak: r.try_get::<Option<i64>, _>(2)?.unwrap_or(0) as u32,
                    since_ms: r.try_get(3)?,
                    alarmed: r.try_get::<Option<i64>, _>(4)?.unwrap_or(0) != 0,
                },
                None => Tracker::default(),
            };
            trackers.insert(r.try_get(0)?, t);
        }
    }
    let (mut fix_rows, mut event_rows, mut alarms) = (vec![], vec![], vec![]);
    let mut fixes_total = 0i64;
    for (person, mut list) in by_person {
        let Some(tracker) = trackers.get_mut(person) else {
            for f in &list {
                rep.rejected
                    .push(FixRejection { index: f.0, reason: format!("没有在管的被监管人员“{person}”") });
            }
            continue;
        };
        let set = fences_cached(conn, person).await?;
        list.sort_by_key(|f| f.1);
        for (_, at, p, accuracy, source) in list {
            fixes_total += 1;
            let v = set.judge(&p, at, accuracy);
            let step = tracker.step(h, at, &v);
            fix_rows.push(vec![
                Value::Text(person.to_string()),
                Value::Int(at),
                Value::Real(p.lon),
                Value::Real(p.lat),
                Value::Real(accuracy),
                Value::Text(source.to_string()),
                Value::Int(i64::from(v.violates())),
                Value::Int(now_ms),
            ]);
            if v.violates() {
                let what = if v.outside_allowed {
                    "离开允许活动区域".to_string()
                } else {
                    format!("进入禁止区域：{}", v.in_forbidden.join("、"))
                };
                event_rows.push(vec![
                    Value::Text(new_id()),
                    Value::Text(person.to_string()),
                    Value::Text("fence_violation".into()),
                    Value::Int(at),
                    Value::Text(format!("{what}（{:.6}, {:.6}）", p.lon, p.lat)),
                    Value::Int(now_ms),
                ]);
                if step == Step::Alarm {
                    alarms.push((person.to_string(), format!("越界报警：{what}"), at));
                }
            }
        }
    }
    rep.accepted = insert_rows(
        conn,
        "INSERT INTO sup_fixes (person_id, at, lon, lat, accuracy_m, source, violation, received_at) VALUES",
        " ON CONFLICT (person_id, at) DO NOTHING",
        &fix_rows,
    )
    .await? as i64;
    rep.duplicates = fixes_total - rep.accepted;
    rep.violations = insert_rows(
        conn,
        "INSERT INTO sup_events (id, person_id, kind, at, detail, created_at) VALUES",
        " ON CONFLICT (person_id, at, kind) DO NOTHING",
        &event_rows,
    )
    .await? as i64;
    for (person_id, detail, at) in alarms {
        let person = person_in(conn, &person_id).await?;
        open_alarm(conn, cfg, now, &person, "fence", &detail, at).await?;
        rep.alarms_opened += 1;
    }
    let tracker_rows: Vec<Vec<Value>> = trackers
        .into_iter()
        .map(|(id, t)| {
            vec![
                Value::Text(id),
                Value::Int(t.last_ms),
                Value::Int(t.streak as i64),
                t.since_ms.map(Value::Int).unwrap_or(Value::Null),
                Value::Int(i64::from(t.alarmed)),
            ]
        })
        .collect();
    insert_rows(
        conn,
        "INSERT INTO sup_trackers (person_id, last_ms, streak, since_ms, alarmed) VALUES",
        " ON CONFLICT (person_id) DO UPDATE SET last_ms = excluded.last_ms, streak = excluded.streak,
            since_ms = excluded.since_ms, alarmed = excluded.alarmed",
        &tracker_rows,
    )
    .await?;
    rep.rejected.sort_by_key(|r| r.index);
    Ok(rep)
}

async fn open_alarm(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    person: &Person,
    kind: &str,
    detail: &str,
    at_ms: i64,
) -> Result<String> {
    let id = new_id();
    sqlx::query("INSERT INTO sup_alarms (id, person_id, kind, detail, at, status, created_at) VALUES ($1, $2, $3, $4, $5, 'open', $6)")
        .bind(&id)
        .bind(&person.id)
        .bind(kind)
        .bind(detail)
        .bind(at_ms)
        .bind(to_millis(now))
        .execute(&mut *conn)
        .await?;
    if let Some(officer) = &person.officer_id {
        notify::send(
            conn,
            now,
            &To::User(officer.clone()),
            &format!("/supervision/persons/{}", person.id),
            &format!("{}：{detail}", person.name),
        )
        .await?;
    }
    crate::scores::record(
        conn,
        cfg,
        crate::scores::NewEvent {
            subject_type: "person",
            subject_id: &person.id,
            kind: "fence_alarm",
            at: from_millis(at_ms).min(now),
            source: "亳安码",
            note: detail,
        },
        ("system", "系统"),
        now,
    )
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new("supervision.alarm.open", "sup_person", &person.id)
            .detail(format!("{}：{detail}", person.name)),
    )
    .await?;
    Ok(id)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AlarmRow {
    pub id: String,
    pub person_id: String,
    pub person_name: String,
    pub kind: String,
    pub detail: String,
    pub at: i64,
    pub status: String,
    pub note: String,
}

const ALARM_SELECT: &str = "SELECT a.id, a.person_id, p.name AS person_name, a.kind, a.detail, a.at, a.status, a.note
    FROM sup_alarms a JOIN sup_persons p ON p.id = a.person_id";

pub async fn alarms_of(db: &Db, person_id: &str) -> Result<Vec<AlarmRow>> {
    Ok(sqlx::query_as(&format!("{ALARM_SELECT} WHERE a.person_id = $1 ORDER BY a.at DESC LIMIT 100"))
        .bind(person_id)
        .fetch_all(db.reader())
        .await?)
}

/// Open alarms of the persons `p` may see.
pub async fn open_alarms(db: &Db, p: &Principal) -> Result<Vec<AlarmRow>> {
    let visible: std::collections::HashSet<String> = persons(db, p).await?.into_iter().map(|x| x.id).collect();
    let all: Vec<AlarmRow> = sqlx::query_as(&format!("{ALARM_SELECT} WHERE a.status <> 'closed' ORDER BY a.at DESC"))
        .fetch_all(db.reader())
        .await?;
    Ok(all.into_iter().filter(|a| visible.contains(&a.person_id)).collect())
}

pub fn alarm_status_label(s: &str) -> &'static str {
    match s {
        "open" => "待处置",
        "acknowledged" => "已签收",
        "explained" => "已说明",
        "closed" => "已关闭",
        _ => "",
    }
}

/// Handles an alarm: acknowledge (签收), explain (说明情况) or close; each step audited.
pub async fn handle_alarm(
    conn: &mut Conn,
    now: OffsetDateTime,
    person: &Person,
    alarm_id: &str,
    action: &str,
    note: &str,
    by: (&str, &str),
) -> Result<()> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM sup_alarms WHERE id = $1 AND person_id = $2")
        .bind(alarm_id)
        .bind(&person.id)
        .fetch_optional(&mut *conn)
        .await?;
    let status = status.ok_or_else(|| StoreError::NotFound("报警".into()))?;
    let next = match (status.as_str(), action) {
        ("open", "acknowledge") => "acknowledged",
        ("acknowledged" | "explained", "explain") => "explained",
        ("open" | "acknowledged" | "explained", "close") => "closed",
        _ => return Err(StoreError::invalid("action", format!("报警{}，不能进行此操作", alarm_status_label(&status)))),
    };
    if matches!(action, "explain" | "close") && note.trim().is_empty() {
        return Err(StoreError::invalid("note", "请填写核查情况"));
    }
    let ms = to_millis(now);
    sqlx::query(
        "UPDATE sup_alarms SET status = $1, handled_by = $2, note = CASE WHEN $3 = '' THEN note ELSE $3 END,
            acknowledged_at = COALESCE(acknowledged_at, $4), closed_at = CASE WHEN $1 = 'closed' THEN $4 ELSE closed_at END
         WHERE id = $5",
    )
    .bind(next)
    .bind(by.0)
    .bind(note.trim())
    .bind(ms)
    .bind(alarm_id)
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new("supervision.alarm.handle", "sup_person", &person.id).by(by.0, by.1).detail(format!(
            "{}：报警{}{}",
            person.name,
            alarm_status_label(next),
            if note.trim().is_empty() { String::new() } else { format!("，{}", note.trim()) }
        )),
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FixRow {
    pub at: i64,
    pub lon: f64,
    pub lat: f64,
    pub accuracy_m: f64,
    pub violation: i64,
}

pub async fn recent_fixes(db: &Db, person_id: &str, limit: i64) -> Result<Vec<FixRow>> {
    Ok(sqlx::query_as(
        "SELECT at, lon, lat, accuracy_m, violation FROM sup_fixes WHERE person_id = $1 ORDER BY at DESC LIMIT $2",
    )
    .bind(person_id)
    .bind(limit)
    .fetch_all(db.reader())
    .await?)
}

pub async fn violation_count(db: &Db, person_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sup_events WHERE person_id = $1")
        .bind(person_id)
        .fetch_one(db.reader())
        .await?)
}

/// Deletes the location fixes and raw violations of persons whose measure ended more than
/// `keep_days` ago; one audit record per person purged. Returns (persons, fixes, violations).
pub async fn purge_locations(conn: &mut Conn, now: OffsetDateTime, keep_days: i64) -> Result<(i64, u64, u64)> {
    let cutoff = domain::clock::local(now).date() - time::Duration::days(keep_days);
    let due: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, name, measure_to FROM sup_persons p WHERE measure_to < $1
           AND (EXISTS (SELECT 1 FROM sup_fixes f WHERE f.person_id = p.id)
             OR EXISTS (SELECT 1 FROM sup_events e WHERE e.person_id = p.id))",
    )
    .bind(cutoff.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let (mut fixes, mut events) = (0, 0);
    for (id, name, to) in &due {
        let f = sqlx::query("DELETE FROM sup_fixes WHERE person_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        let e = sqlx::query("DELETE FROM sup_events WHERE person_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        fixes += f;
        events += e;
        audit::append(
            conn,
            now,
            AuditEntry::new("supervision.purge", "sup_person", id)
                .detail(format!("{name}：措施已于 {to} 结束满 {keep_days} 天，删除定位 {f} 条、越界记录 {e} 条")),
        )
        .await?;
    }
    Ok((due.len() as i64, fixes, events))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigSource, load};
    use crate::testing;
    use time::macros::datetime;

    #[tokio::test]
    async fn location_data_is_purged_after_the_retention_and_the_purge_is_audited() {
        let (db, _d) = testing::db().await;
        let cfg = load(&ConfigSource::Embedded).unwrap();
        let now = datetime!(2026-11-27 08:00 UTC);
        crate::demo::bootstrap(&db, &cfg, now).await.unwrap();
        crate::demo::ensure_admin(&db, now).await.unwrap();
        let officer: String =
            sqlx::query_scalar("SELECT id FROM users WHERE login = 'admin'").fetch_one(db.reader()).await.unwrap();
        let by = (officer.as_str(), "民警");
        let mut tx = db.begin().await.unwrap();
        let agency: String =
            sqlx::query_scalar("SELECT id FROM departments WHERE code = 'gaj'").fetch_one(&mut *tx).await.unwrap();
        let mut ids = vec![];
        for (i, (from, to)) in [("2025-01-01", "2026-03-01"), ("2026-01-01", "2026-10-01")].iter().enumerate() {
            let n = NewPerson {
                id_card_no: domain::IdCardNo::from_body(&format!("34160219800101{:03}", i + 1)).unwrap().to_string(),
                name: format!("对象{i}"),
                phone: String::new(),
                address: String::new(),
                division_code: "341602".into(),
                stage: "police".into(),
                measure: "取保候审".into(),
                measure_from: time::Date::parse(from, &time::macros::format_description!("[year]-[month]-[day]"))
                    .unwrap(),
                measure_to: time::Date::parse(to, &time::macros::format_description!("[year]-[month]-[day]")).unwrap(),
            };
            let id = create_person(&mut tx, now, &n, Some(&agency), by).await.unwrap();
            let person = person_in(&mut tx, &id).await.unwrap();
            let fixes: Vec<InFix> = (0..5)
                .map(|k| InFix {
                    at: 1_760_000_000_000 + k * 1000,
                    lon: 130.0,
                    lat: 45.0,
                    datum: None,
                    accuracy_m: None,
                    source: None,
                })
                .collect();
            add_fence(
                &mut tx,
                now,
                &person,
                &NewFence {
                    name: "家".into(),
                    rule: Rule::Allowed,
                    geometry: r#"{"type":"Circle","center":[115.78,33.85],"radius_m":1000}"#.into(),
                    datum: Datum::Wgs84,
                    window: None,
                },
                by,
            )
            .await
            .unwrap();
            ingest_fixes(&mut tx, &cfg, now, &person, &fixes, &Hysteresis::default()).await.unwrap();
            ids.push(id);
        }
        // Ended 2026-03-01 (over 180 days ago): purged; ended 2026-10-01: kept.
        let (persons, fixes, events) = purge_locations(&mut tx, now, 180).await.unwrap();
        assert_eq!((persons, fixes, events), (1, 5, 5));
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sup_fixes WHERE person_id = $1")
            .bind(&ids[1])
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(left, 5);
        // A second night finds nothing more to do.
        assert_eq!(purge_locations(&mut tx, now, 180).await.unwrap().0, 0);
        let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'supervision.purge'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(audited, 1);
        tx.commit().await.unwrap();
    }
}
