//! Fences as officers enter them (GeoJSON, converted to WGS-84 with the original kept), and
//! compiled for checking, cached per person.

use super::{Caches, Person};
use crate::{Conn, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::to_millis;
use domain::geo::fence::{Area, Circle, Shape};
use domain::geo::{Datum, Ring, Wgs84Point, to_wgs84};
use domain::supervision::{Fence, FenceSet, Rule};
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;

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
    caches: &Caches,
    now: OffsetDateTime,
    person: &Person,
    f: &NewFence,
    by: (&str, &str),
) -> Result<String> {
    if f.name.trim().is_empty() {
        return Err(StoreError::invalid("name", "请填写围栏名称，如“居住地所在乡镇”"));
    }
    let (kind, geometry) = normalise(&f.geometry, f.datum).map_err(|m| StoreError::invalid("geometry", m))?;
    let parsed: serde_json::Value = serde_json::from_str(&geometry).map_err(|e| StoreError::Other(e.to_string()))?;
    if kind == "division" {
        let code = division_prefix(&parsed);
        let grids: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM grids WHERE division_code LIKE $1")
            .bind(format!("{code}%"))
            .fetch_one(&mut *conn)
            .await?;
        if grids == 0 {
            return Err(StoreError::invalid("geometry", "该区划没有网格边界，无法作为围栏"));
        }
    }
    // A standing allowed area may not be narrower than the statute's (刑事诉讼法 art. 71
    // ¶1(1), 社区矫正法 art. 27); leave windows and forbidden zones are not limited by it.
    if let (Some(measure), Rule::Allowed, None) = (person.measure(), f.rule, f.window)
        && let Ok(residence) = domain::DivisionCode::parse(&person.division_code)
    {
        let checked = if kind == "division" {
            let code = parsed["code"].as_str().and_then(|c| domain::DivisionCode::parse(c).ok());
            code.map_or(Ok(()), |c| measure.check_allowed_division(&c, &residence))
        } else {
            let county = residence.as_str().get(..6).unwrap_or(residence.as_str());
            let polys: Vec<String> = sqlx::query_scalar("SELECT polygon FROM grids WHERE division_code LIKE $1")
                .bind(format!("{county}%"))
                .fetch_all(&mut *conn)
                .await?;
            let boundary: Vec<Wgs84Point> = polys
                .iter()
                .filter_map(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .filter_map(|g| ring_from(&g["coordinates"][0], Datum::Wgs84).ok())
                .flat_map(|r| r.0)
                .collect();
            match drawn_shape(kind, &parsed)? {
                Some(shape) => measure.check_allowed_shape(&shape, &boundary, &residence),
                None => Ok(()),
            }
        };
        checked.map_err(|m| StoreError::invalid("geometry", m))?;
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
    caches.claim(conn, &domain::supervision::Hysteresis::default()).await?;
    caches.mark_reset(conn).await?;
    caches.forget_fences(&person.id);
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::FenceAdd, "sup_person", &person.id)
            .by(by.0, by.1)
            .detail(format!(
                "{}：新增{}“{}”（{}坐标）",
                person.name,
                if f.rule == Rule::Allowed { "允许活动区域" } else { "禁止进入区域" },
                f.name.trim(),
                f.datum.label()
            )),
    )
    .await?;
    Ok(id)
}

/// Most polygons one upload may add; a file with more is almost surely the wrong file.
const MAX_PARTS: usize = 50;

/// Splits GeoJSON as exported by GIS tools — a FeatureCollection, a Feature, a MultiPolygon —
/// into single geometries, each with the feature's `name` property if it has one.
pub fn split_geojson(text: &str) -> std::result::Result<Vec<(Option<String>, String)>, String> {
    let v: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|_| "围栏不是有效的 JSON（GeoJSON）".to_string())?;
    let features: Vec<serde_json::Value> = match v.get("type").and_then(|t| t.as_str()) {
        Some("FeatureCollection") => v.get("features").and_then(|f| f.as_array()).cloned().unwrap_or_default(),
        _ => vec![v],
    };
    let mut out = vec![];
    for f in features {
        let name = f.pointer("/properties/name").and_then(|n| n.as_str()).map(|n| n.trim().to_string());
        let g = if f.get("type").and_then(|t| t.as_str()) == Some("Feature") { f["geometry"].clone() } else { f };
        match g.get("type").and_then(|t| t.as_str()) {
            Some("MultiPolygon") => {
                let polys = g.get("coordinates").and_then(|c| c.as_array()).cloned().unwrap_or_default();
                let n = polys.len();
                for (k, poly) in polys.into_iter().enumerate() {
                    let name = name.as_ref().map(|s| if n > 1 { format!("{s}（{}）", k + 1) } else { s.clone() });
                    out.push((name, serde_json::json!({ "type": "Polygon", "coordinates": poly }).to_string()));
                }
            }
            _ => out.push((name, g.to_string())),
        }
    }
    match out.len() {
        0 => Err("文件中没有多边形或其他围栏形状".into()),
        n if n > MAX_PARTS => {
            Err(format!("文件含 {n} 个形状，一次最多 {MAX_PARTS} 个；请确认上传的是该人员的围栏文件"))
        }
        _ => Ok(out),
    }
}

/// Adds every shape of an uploaded GeoJSON file as its own fence, all or none: named after the
/// feature's `name` property, else `f.name` numbered.
pub async fn add_fences_from_file(
    conn: &mut Conn,
    caches: &Caches,
    now: OffsetDateTime,
    person: &Person,
    f: &NewFence,
    by: (&str, &str),
) -> Result<Vec<String>> {
    let parts = split_geojson(&f.geometry).map_err(|m| StoreError::invalid("geometry", m))?;
    let many = parts.len() > 1;
    let mut ids = vec![];
    for (i, (name, geometry)) in parts.into_iter().enumerate() {
        let name = match (name.filter(|n| !n.is_empty()), f.name.trim()) {
            (Some(n), "") => n,
            (Some(n), base) => format!("{base}·{n}"),
            (None, base) if many => format!("{}（{}）", if base.is_empty() { "上传围栏" } else { base }, i + 1),
            (None, base) => base.to_string(),
        };
        let one = NewFence { name, geometry, ..f.clone() };
        let id = add_fence(conn, caches, now, person, &one, by).await.map_err(|e| match e {
            StoreError::Invalid { field, message } if many => {
                StoreError::Invalid { field, message: format!("第 {} 个形状：{message}", i + 1) }
            }
            e => e,
        })?;
        ids.push(id);
    }
    Ok(ids)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FenceRow {
    pub id: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub rule: Rule,
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

/// A stored polygon or circle as a shape; `None` when the stored geometry has no usable ring.
fn drawn_shape(kind: &str, v: &serde_json::Value) -> Result<Option<Shape>> {
    Ok(match kind {
        "polygon" => {
            let rings: Vec<Ring> = v["coordinates"]
                .as_array()
                .map(|rs| rs.iter().filter_map(|x| ring_from(x, Datum::Wgs84).ok()).collect())
                .unwrap_or_default();
            let mut it = rings.into_iter();
            it.next().map(|outer| Shape::Areas(vec![Area::new(outer, it.collect())]))
        }
        "circle" => {
            let (Some(x), Some(y), Some(rad)) =
                (v["center"][0].as_f64(), v["center"][1].as_f64(), v["radius_m"].as_f64())
            else {
                return Ok(None);
            };
            Some(Shape::Circle(
                Circle::new(Wgs84Point { lon: x, lat: y }, rad).map_err(|e| StoreError::Other(e.to_string()))?,
            ))
        }
        _ => None,
    })
}

/// The code prefix of the grids a division fence stands for: a city's code (341600) covers
/// its counties' grids (3416…), a county's or town's its own.
fn division_prefix(v: &serde_json::Value) -> String {
    let code = v["code"].as_str().unwrap_or_default();
    domain::DivisionCode::parse(code).map(|c| c.scope_prefix().to_string()).unwrap_or_else(|_| code.to_string())
}

/// The person's fences compiled for checking; a division is the union of its grids.
pub async fn fence_set(conn: &mut Conn, person_id: &str) -> Result<FenceSet> {
    let rows = fences(conn, person_id).await?;
    compile(conn, rows).await
}

async fn compile(conn: &mut Conn, rows: Vec<FenceRow>) -> Result<FenceSet> {
    // The grids a division fence stands for, read first; then the rest needs no database.
    let mut grids: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows.iter().filter(|r| !matches!(r.kind.as_str(), "polygon" | "circle")) {
        let v: serde_json::Value = serde_json::from_str(&r.geometry).map_err(|e| StoreError::Other(e.to_string()))?;
        let code = division_prefix(&v);
        if let std::collections::hash_map::Entry::Vacant(e) = grids.entry(code) {
            let polys: Vec<String> = sqlx::query_scalar("SELECT polygon FROM grids WHERE division_code LIKE $1")
                .bind(format!("{}%", e.key()))
                .fetch_all(&mut *conn)
                .await?;
            e.insert(polys);
        }
    }
    compile_with(rows, &grids)
}

/// Compiles fence rows; `grids` holds the grid polygons of every division a row names.
fn compile_with(rows: Vec<FenceRow>, grids: &HashMap<String, Vec<String>>) -> Result<FenceSet> {
    let mut set = FenceSet::default();
    for r in rows {
        let v: serde_json::Value = serde_json::from_str(&r.geometry).map_err(|e| StoreError::Other(e.to_string()))?;
        let shape = match r.kind.as_str() {
            "polygon" | "circle" => match drawn_shape(&r.kind, &v)? {
                Some(shape) => shape,
                None => continue,
            },
            _ => {
                let polys = grids.get(&division_prefix(&v)).map(Vec::as_slice).unwrap_or_default();
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
            rule: r.rule,
            shape,
            window: r.window_from.zip(r.window_to),
            schedule: None,
        });
    }
    Ok(set)
}

/// `compile_many` on SQLite, through a read-only connection of its own on a blocking thread:
/// a province's first batches read hundreds of thousands of fence rows, and through the
/// driver each row cost an allocation per value and a hand-off between threads — most of a
/// batch's time at 500,000 persons. Same statement, same rows, same compiled sets.
fn compile_many_sqlite(file: &std::path::Path, ids: &[String]) -> Result<Vec<(String, Arc<FenceSet>)>> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let mut out = Vec::with_capacity(ids.len());
    let mut grids: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let list: Vec<String> = chunk.iter().map(|id| crate::sql::Value::Text(id.clone()).literal()).collect();
        let mut stmt = conn.prepare(&fences_of_sql(&list))?;
        let mut by_person: HashMap<String, Vec<FenceRow>> = chunk.iter().map(|id| (id.clone(), vec![])).collect();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let rule: String = r.get(3)?;
            let rule = Rule::try_from(rule).map_err(|e| StoreError::Other(e.to_string()))?;
            let row = FenceRow {
                id: r.get(1)?,
                name: r.get(2)?,
                rule,
                kind: r.get(4)?,
                geometry: r.get(5)?,
                datum: r.get(6)?,
                window_from: r.get(7)?,
                window_to: r.get(8)?,
            };
            by_person.entry(r.get(0)?).or_default().push(row);
        }
        for (person, rows) in by_person {
            for r in rows.iter().filter(|r| !matches!(r.kind.as_str(), "polygon" | "circle")) {
                let v: serde_json::Value =
                    serde_json::from_str(&r.geometry).map_err(|e| StoreError::Other(e.to_string()))?;
                let code = division_prefix(&v);
                if let std::collections::hash_map::Entry::Vacant(e) = grids.entry(code) {
                    let mut q = conn.prepare("SELECT polygon FROM grids WHERE division_code LIKE ?1")?;
                    let polys = q
                        .query_map([format!("{}%", e.key())], |r| r.get::<_, String>(0))?
                        .collect::<Result<Vec<_>, _>>()?;
                    e.insert(polys);
                }
            }
            out.push((person, Arc::new(compile_with(rows, &grids)?)));
        }
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct PersonFence {
    person_id: String,
    #[sqlx(flatten)]
    fence: FenceRow,
}

/// The compiled fence sets of `ids`, loading those not cached with one query per few hundred
/// persons (the first batch after a start names everyone).
pub(super) async fn fences_cached_many(
    conn: &mut Conn,
    caches: &Caches,
    ids: &[&str],
) -> Result<HashMap<String, Arc<FenceSet>>> {
    let mut out = HashMap::new();
    let mut missing = vec![];
    {
        let cache = caches.fences.read().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            match cache.get(*id) {
                Some(f) => {
                    out.insert(id.to_string(), f.clone());
                }
                None => missing.push(*id),
            }
        }
    }
    for (person, set) in compile_many(conn, &missing).await? {
        caches.fences.write().unwrap_or_else(|e| e.into_inner()).insert(person.clone(), set.clone());
        out.insert(person, set);
    }
    Ok(out)
}

/// Fence sets loaded and compiled on a reader before the writer is taken: a batch naming
/// thousands of persons seen for the first time (a province's gateway) would otherwise load
/// them all while holding the writer. `epoch` is the `supervision.reset` mark read before the
/// fences were: every fence change bumps it in its own transaction, so if the writer finds it
/// unchanged no fence has changed since these were read, and it caches them; otherwise it
/// drops them and loads what is committed.
#[derive(Default)]
pub(super) struct Preloaded {
    pub(super) epoch: i64,
    pub(super) sets: Vec<(String, Arc<FenceSet>)>,
}

impl Preloaded {
    pub(super) fn get(&self, person: &str) -> Option<Arc<FenceSet>> {
        // Sorted by person (see `preload`).
        self.sets.binary_search_by(|(p, _)| p.as_str().cmp(person)).ok().map(|i| self.sets[i].1.clone())
    }
}

/// The reset mark (see [`Preloaded`]).
pub(super) async fn reset_epoch(conn: &mut Conn) -> Result<i64> {
    crate::changes::mark(conn, super::caches::RESET).await
}

/// Loads the sets of the persons among `ids` (sorted, distinct) that are not cached.
pub(super) async fn preload(conn: &mut Conn, caches: &Caches, ids: &[&str]) -> Result<Preloaded> {
    let missing: Vec<&str> = {
        let cache = caches.fences.read().unwrap_or_else(|e| e.into_inner());
        ids.iter().copied().filter(|id| !cache.contains_key(*id)).collect()
    };
    if missing.is_empty() {
        return Ok(Preloaded::default());
    }
    let epoch = reset_epoch(conn).await?;
    let mut sets = match caches.sqlite_file() {
        Some(file) => {
            let ids: Vec<String> = missing.iter().map(|s| s.to_string()).collect();
            tokio::task::spawn_blocking(move || compile_many_sqlite(&file, &ids))
                .await
                .map_err(|e| StoreError::Other(e.to_string()))??
        }
        None => compile_many(conn, &missing).await?,
    };
    sets.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(Preloaded { epoch, sets })
}

/// The active fences of the persons in `list` (SQL literals), in `PersonFence`'s column order:
/// one statement for both readers.
fn fences_of_sql(list: &[String]) -> String {
    format!(
        "SELECT person_id, id, name, rule, kind, geometry, datum, window_from, window_to FROM sup_fences
         WHERE active = 1 AND person_id IN ({}) ORDER BY person_id, created_at",
        list.join(", ")
    )
}

/// The compiled fence sets of `ids` (an empty set for a person without fences).
async fn compile_many(conn: &mut Conn, ids: &[&str]) -> Result<Vec<(String, Arc<FenceSet>)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let list: Vec<String> = chunk.iter().map(|id| crate::sql::Value::Text(id.to_string()).literal()).collect();
        let rows: Vec<PersonFence> = sqlx::query_as(&fences_of_sql(&list)).fetch_all(&mut *conn).await?;
        let mut by_person: HashMap<String, Vec<FenceRow>> = chunk.iter().map(|id| (id.to_string(), vec![])).collect();
        for r in rows {
            by_person.entry(r.person_id).or_default().push(r.fence);
        }
        for (person, rows) in by_person {
            out.push((person, Arc::new(compile(conn, rows).await?)));
        }
    }
    Ok(out)
}

/// The grids of a county (division code prefix) as (code, name, WGS-84 outer ring): the map's
/// background and the shapes a division fence stands for.
pub async fn grid_shapes(db: &crate::Db, county: &str) -> Result<Vec<(String, String, Vec<[f64; 2]>)>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT code, name, polygon, division_code FROM grids WHERE division_code LIKE $1 ORDER BY code",
    )
    .bind(format!("{county}%"))
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(_, name, polygon, division)| {
            let v: serde_json::Value = serde_json::from_str(&polygon).ok()?;
            let ring: Vec<[f64; 2]> =
                v["coordinates"][0].as_array()?.iter().filter_map(|p| Some([p[0].as_f64()?, p[1].as_f64()?])).collect();
            Some((division, name, ring))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::split_geojson;

    #[test]
    fn splits_what_gis_tools_export() {
        let one = r#"{"type":"Polygon","coordinates":[[[1,1],[2,1],[2,2],[1,1]]]}"#;
        let bom = split_geojson(&format!("\u{feff}{one}")).unwrap();
        assert_eq!(bom.len(), 1);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&bom[0].1).unwrap(),
            serde_json::from_str::<serde_json::Value>(one).unwrap()
        );
        let multi = r#"{"type":"Feature","properties":{"name":"甲"},"geometry":{"type":"MultiPolygon","coordinates":[[[[1,1],[2,1],[2,2],[1,1]]]]}}"#;
        let parts = split_geojson(multi).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].0.as_deref(), Some("甲"), "a single part keeps the plain name");
        assert!(split_geojson(r#"{"type":"FeatureCollection","features":[]}"#).unwrap_err().contains("没有"));
        let many = format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, vec![one; 51].join(","));
        assert!(split_geojson(&many).unwrap_err().contains("51"));
        assert!(split_geojson("not json").is_err());
    }
}
