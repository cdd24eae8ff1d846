//! Division boundaries drawn on the fence map (`divisions/boundaries.geojson`, optional): a
//! GeoJSON FeatureCollection in WGS-84 whose features carry `properties.code` (a county or town
//! division code) and optionally `name` and `illustrative` (true for outlines that are only
//! indicative, shown as 示意). The city supplies its real boundaries here; without the file the
//! map draws indicative outlines around each town's grids.

use crate::ConfigError;
use domain::DivisionCode;
use domain::ids::DivisionRegistry;

/// The file's limits: a city's counties and towns, with room to spare.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
pub const MAX_FEATURES: usize = 5_000;
pub const MAX_POINTS: usize = 2_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    /// The division code (6 digits for a county, 9 for a town).
    pub code: String,
    pub name: String,
    /// Outer rings, WGS-84 [lon, lat].
    pub rings: Vec<Vec<[f64; 2]>>,
    /// Drawn and labelled as 示意 (indicative), not an official boundary.
    pub illustrative: bool,
}

fn ring(v: &serde_json::Value) -> Option<Vec<[f64; 2]>> {
    v.as_array()?
        .iter()
        .map(|p| {
            let (lon, lat) = (p.get(0)?.as_f64()?, p.get(1)?.as_f64()?);
            ((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)).then_some([lon, lat])
        })
        .collect()
}

/// Reads the file; each problem is reported with the feature's position.
pub fn parse(file: &str, text: &str, registry: &DivisionRegistry, errors: &mut Vec<ConfigError>) -> Vec<Boundary> {
    let err =
        |errors: &mut Vec<ConfigError>, field: &str, msg: String| errors.push(ConfigError::new(file, None, field, msg));
    if text.len() > MAX_BYTES {
        err(errors, "", format!("文件超过 {} MB", MAX_BYTES / 1024 / 1024));
        return vec![];
    }
    let v: serde_json::Value = match serde_json::from_str(text.trim_start_matches('\u{feff}')) {
        Ok(v) => v,
        Err(e) => {
            err(errors, "", format!("不是有效的 GeoJSON：{e}"));
            return vec![];
        }
    };
    let Some(features) = v["features"].as_array().filter(|_| v["type"] == "FeatureCollection") else {
        err(errors, "type", "应为 FeatureCollection".into());
        return vec![];
    };
    if features.len() > MAX_FEATURES {
        err(errors, "features", format!("要素超过 {MAX_FEATURES} 个"));
        return vec![];
    }
    let mut out = vec![];
    let mut points = 0usize;
    for (i, f) in features.iter().enumerate() {
        let at = format!("features[{i}]");
        let code = f["properties"]["code"].as_str().unwrap_or_default();
        let Ok(division) = DivisionCode::parse(code) else {
            err(errors, &format!("{at}.properties.code"), format!("“{code}”不是有效的区划代码"));
            continue;
        };
        let name = f["properties"]["name"]
            .as_str()
            .map(str::to_string)
            .or_else(|| registry.name(&division).map(str::to_string))
            .unwrap_or_else(|| code.to_string());
        let g = &f["geometry"];
        let polygons: Vec<&serde_json::Value> = match g["type"].as_str() {
            Some("Polygon") => vec![g.get("coordinates").unwrap_or(&serde_json::Value::Null)],
            Some("MultiPolygon") => g["coordinates"].as_array().map(|a| a.iter().collect()).unwrap_or_default(),
            _ => {
                err(errors, &format!("{at}.geometry"), "应为 Polygon 或 MultiPolygon".into());
                continue;
            }
        };
        let mut rings = vec![];
        for p in polygons {
            match p.get(0).and_then(ring).filter(|r| r.len() >= 4) {
                Some(r) => {
                    points += r.len();
                    rings.push(r);
                }
                None => err(errors, &format!("{at}.geometry"), "多边形的外环至少 4 个有效的经纬度点".into()),
            }
        }
        if points > MAX_POINTS {
            err(errors, "", format!("坐标点超过 {MAX_POINTS} 个"));
            return vec![];
        }
        let illustrative = f["properties"]["illustrative"].as_bool().unwrap_or(false);
        out.push(Boundary { code: division.to_string(), name, rings, illustrative });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_counties_and_towns_and_refuses_what_is_not_a_boundary() {
        let reg = DivisionRegistry::with_builtin();
        let sq = "[[[115.7,33.8],[115.9,33.8],[115.9,33.9],[115.7,33.9],[115.7,33.8]]]";
        let text = format!(
            r#"{{"type":"FeatureCollection","features":[
              {{"type":"Feature","properties":{{"code":"341602"}},"geometry":{{"type":"Polygon","coordinates":{sq}}}}},
              {{"type":"Feature","properties":{{"code":"341602100","name":"古井镇","illustrative":true}},"geometry":{{"type":"MultiPolygon","coordinates":[{sq}]}}}},
              {{"type":"Feature","properties":{{"code":"12"}},"geometry":{{"type":"Polygon","coordinates":{sq}}}}},
              {{"type":"Feature","properties":{{"code":"341603"}},"geometry":{{"type":"Point","coordinates":[1,2]}}}}]}}"#
        );
        let mut errors = vec![];
        let b = parse("boundaries.geojson", &text, &reg, &mut errors);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].name, "谯城区");
        assert!(b[1].illustrative && b[1].name == "古井镇" && b[1].rings[0].len() == 5);
        assert_eq!(errors.len(), 2, "{errors:?}");
        let mut errors = vec![];
        assert!(parse("b", "{oops", &reg, &mut errors).is_empty());
        assert!(errors[0].to_string().contains("不是有效的 GeoJSON"));
    }
}
