//! Official grid (网格) shapes from `config/grids/*.geojson`.

use super::*;

/// Parses a GeoJSON FeatureCollection of grid polygons. Each feature needs `code`, `name` and
/// `division_code` properties; `keywords` (address keywords) and `datum` (wgs84, gcj02 or bd09;
/// default wgs84) are optional. Shapes in GCJ-02 or BD-09 are converted and the original kept.
pub(super) fn parse_grids(
    file: &str,
    text: &str,
    divisions: &DivisionRegistry,
) -> Result<Vec<GridDef>, Vec<ConfigError>> {
    use domain::geo::{Datum, Ring, to_wgs84};
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| vec![ConfigError::new(file, Some(e.line()), "", format!("GeoJSON 格式错误：{e}"))])?;
    let features = v.get("features").and_then(|f| f.as_array()).ok_or_else(|| {
        vec![ConfigError::new(file, None, "features", "应为 GeoJSON FeatureCollection，含 features 数组")]
    })?;
    let mut out = vec![];
    let mut errors = vec![];
    for (i, f) in features.iter().enumerate() {
        let field = |name: &str| format!("features[{i}].{name}");
        let props = f.get("properties").cloned().unwrap_or_default();
        let text_prop = |k: &str| props.get(k).and_then(|v| v.as_str()).map(str::trim).unwrap_or("").to_string();
        let (code, name) = (text_prop("code"), text_prop("name"));
        if code.is_empty() || name.is_empty() {
            errors.push(ConfigError::new(file, None, field("properties"), "网格需要 code 和 name"));
            continue;
        }
        let division = match divisions.lookup(&text_prop("division_code")) {
            Ok(d) if d.level() >= domain::ids::DivisionLevel::Town => d,
            Ok(d) => {
                errors.push(ConfigError::new(
                    file,
                    None,
                    field("properties.division_code"),
                    format!("网格应属于乡镇或村社区，{d} 级别过高"),
                ));
                continue;
            }
            Err(e) => {
                errors.push(ConfigError::new(file, None, field("properties.division_code"), e.to_string()));
                continue;
            }
        };
        let datum = match Datum::parse(&text_prop("datum")) {
            Some(d) => d,
            None => {
                errors.push(ConfigError::new(file, None, field("properties.datum"), "坐标系应为 wgs84、gcj02 或 bd09"));
                continue;
            }
        };
        let geometry = f.get("geometry").cloned().unwrap_or_default();
        if geometry.get("type").and_then(|t| t.as_str()) != Some("Polygon") {
            errors.push(ConfigError::new(file, None, field("geometry.type"), "网格形状应为 Polygon"));
            continue;
        }
        let coords =
            geometry.get("coordinates").and_then(|c| c.get(0)).and_then(|r| r.as_array()).cloned().unwrap_or_default();
        let mut points = vec![];
        for (j, c) in coords.iter().enumerate() {
            let pair = (c.get(0).and_then(|x| x.as_f64()), c.get(1).and_then(|y| y.as_f64()));
            match pair {
                (Some(lon), Some(lat)) => match to_wgs84(datum, lon, lat) {
                    Ok(p) => points.push(p),
                    Err(e) => errors.push(ConfigError::new(
                        file,
                        None,
                        field(&format!("geometry.coordinates[0][{j}]")),
                        e.to_string(),
                    )),
                },
                _ => errors.push(ConfigError::new(
                    file,
                    None,
                    field(&format!("geometry.coordinates[0][{j}]")),
                    "应为 [经度, 纬度]",
                )),
            }
        }
        let ring = match Ring::new(points) {
            Ok(r) => r,
            Err(e) => {
                errors.push(ConfigError::new(file, None, field("geometry"), e.to_string()));
                continue;
            }
        };
        let keywords = props
            .get("keywords")
            .and_then(|k| k.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str()).map(str::to_string).collect())
            .unwrap_or_default();
        out.push(GridDef {
            code,
            name,
            division_code: division,
            ring,
            original: (datum != Datum::Wgs84).then(|| geometry.to_string()),
            datum,
            keywords,
        });
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}
