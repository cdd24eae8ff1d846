//! 亳安码 settings: the `[supervision]` table of city.toml and the leave-request destinations
//! (`supervision/leave_presets.toml`).

use super::{ConfigSource, valid_code};
use domain::config::ConfigError;
use serde::Deserialize;

/// `[supervision]` in city.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Supervision {
    /// Days a person's location data is kept after their measure ends.
    pub retention_days: i64,
    /// The least face-match score (0–100, as the phone's verifier reports it) a check-in needs.
    #[serde(default = "default_face_match_min")]
    pub face_match_min: f64,
    /// SM2 public keys (uncompressed SEC1, hex) of the certified face-verification services
    /// whose signed results a check-in must carry: a score the phone merely reports is not
    /// trusted. Empty: no result can be verified, and every check-in goes to the officer.
    #[serde(default)]
    pub face_verifier_keys: Vec<String>,
    /// Hours without a fix after which a person with a bound phone is alarmed as offline.
    #[serde(default = "default_offline_hours")]
    pub offline_hours: i64,
    /// `[supervision.map]`: tiles under the fence map.
    #[serde(default)]
    pub map: MapTiles,
}

/// `[supervision.map]`: a slippy-map tile server (usually the city's intranet map service) drawn
/// under the fence map. Empty `tiles` draws the county's grids on a plain background.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapTiles {
    /// URL template with `{z}`, `{x}`, `{y}`, e.g. `http://10.1.2.3/tiles/{z}/{x}/{y}.png`, or a
    /// path on this server's own origin (`/maptiles/{z}/{x}/{y}.png`) behind a reverse proxy.
    #[serde(default)]
    pub tiles: String,
    /// The datum the tiles are drawn in: `wgs84` (天地图 and most GIS servers) or `gcj02`
    /// (高德 / 腾讯 style). Drawing shifts our WGS-84 data to match, and clicks are shifted back.
    #[serde(default)]
    pub datum: String,
    /// Credit shown under the map, as the tile licence asks.
    #[serde(default)]
    pub attribution: String,
    /// The deepest zoom level the server has (default 18).
    #[serde(default)]
    pub max_zoom: Option<u8>,
}

impl MapTiles {
    pub fn enabled(&self) -> bool {
        !self.tiles.is_empty()
    }

    /// Whether drawings must be shifted into GCJ-02 to sit on the tiles.
    pub fn gcj02(&self) -> bool {
        self.datum == "gcj02"
    }

    pub fn max_zoom(&self) -> u8 {
        self.max_zoom.unwrap_or(18)
    }

    /// The tile server's origin (`scheme://host[:port]`) for the page's Content-Security-Policy;
    /// `None` when tiles come from our own origin.
    pub fn origin(&self) -> Option<&str> {
        let rest = self.tiles.strip_prefix("https://").or_else(|| self.tiles.strip_prefix("http://"))?;
        let host_end = rest.find('/').unwrap_or(rest.len());
        Some(&self.tiles[..self.tiles.len() - rest.len() + host_end])
    }

    /// The URL of one tile.
    pub fn url(&self, z: u8, x: u32, y: u32) -> String {
        self.tiles.replace("{z}", &z.to_string()).replace("{x}", &x.to_string()).replace("{y}", &y.to_string())
    }

    fn check(&self, file: &str, errors: &mut Vec<ConfigError>) {
        let mut bad = |field: &str, msg: &str| errors.push(ConfigError::new(file, None, field, msg.to_string()));
        if !self.enabled() {
            return;
        }
        let t = &self.tiles;
        let absolute = t.starts_with("http://") || t.starts_with("https://");
        if !(absolute || t.starts_with('/')) {
            bad("supervision.map.tiles", "瓦片地址应以 http://、https:// 或 / 开头");
        }
        if !(t.contains("{z}") && t.contains("{x}") && t.contains("{y}")) {
            bad("supervision.map.tiles", "瓦片地址应包含 {z}、{x}、{y} 三个占位符");
        }
        // It goes into a header and an attribute: no characters that could break out of either.
        if t.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | ';' | ',')) {
            bad("supervision.map.tiles", "瓦片地址不能包含空白、引号、尖括号、分号或逗号");
        }
        if absolute && self.origin().is_some_and(|o| o.ends_with("//")) {
            bad("supervision.map.tiles", "瓦片地址缺少主机名");
        }
        if !matches!(self.datum.as_str(), "" | "wgs84" | "gcj02") {
            bad("supervision.map.datum", "应为 wgs84 或 gcj02（百度瓦片使用自有投影，不支持）");
        }
        if self.max_zoom() > 22 {
            bad("supervision.map.max_zoom", "应为 0–22");
        }
    }
}

fn default_offline_hours() -> i64 {
    6
}

fn default_face_match_min() -> f64 {
    80.0
}

impl Default for Supervision {
    fn default() -> Self {
        Supervision {
            retention_days: 180,
            face_match_min: default_face_match_min(),
            face_verifier_keys: vec![],
            offline_hours: default_offline_hours(),
            map: MapTiles::default(),
        }
    }
}

impl Supervision {
    pub(super) fn check(&self, file: &str, errors: &mut Vec<ConfigError>) {
        let mut bad = |field: &str, msg: &str| errors.push(ConfigError::new(file, None, field, msg.to_string()));
        if !(1..=3650).contains(&self.retention_days) {
            bad("supervision.retention_days", "应为 1–3650 之间的天数");
        }
        if !(1..=168).contains(&self.offline_hours) {
            bad("supervision.offline_hours", "应为 1–168 之间的小时数");
        }
        if !(0.0..=100.0).contains(&self.face_match_min) {
            bad("supervision.face_match_min", "应为 0–100 之间的分数");
        }
        self.map.check(file, errors);
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeavePreset {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub note: String,
    /// Offered under 监视居住 too, which keeps the person at the residence (刑事诉讼法 art.
    /// 77 ¶1(1)): only for what the executing organ approves there (medical care, court).
    /// Business travel is not.
    #[serde(default)]
    pub surveillance: bool,
    #[serde(rename = "area")]
    pub areas: Vec<LeaveArea>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaveArea {
    pub name: String,
    /// WGS-84 [lon, lat] ring.
    pub ring: Vec<[f64; 2]>,
}

pub(super) fn load_leave_presets(source: &ConfigSource, errors: &mut Vec<ConfigError>) -> Vec<LeavePreset> {
    const FILE: &str = "supervision/leave_presets.toml";
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Raw {
        #[serde(default)]
        preset: Vec<LeavePreset>,
    }
    let text = match source.read(FILE) {
        Ok(Some(t)) => t,
        Ok(None) => return vec![],
        Err(e) => {
            errors.push(e);
            return vec![];
        }
    };
    let raw: Raw = match toml::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            errors.push(ConfigError::new(&source.display_path(FILE), None, "", e.to_string()));
            return vec![];
        }
    };
    let mut seen = std::collections::HashSet::new();
    for (i, p) in raw.preset.iter().enumerate() {
        let mut bad = |field: String, msg: &str| {
            errors.push(ConfigError::new(&source.display_path(FILE), None, &field, msg.to_string()))
        };
        if !valid_code(&p.id) || !seen.insert(p.id.clone()) {
            bad(format!("preset[{i}].id"), "id 应为小写字母、数字或下划线，且不重复");
        }
        if p.areas.is_empty() {
            bad(format!("preset[{i}].area"), "至少需要一个区域");
        }
        for (j, a) in p.areas.iter().enumerate() {
            let ok = a.ring.len() >= 3
                && a.ring.iter().all(|[x, y]| (-180.0..=180.0).contains(x) && (-90.0..=90.0).contains(y));
            if !ok {
                bad(format!("preset[{i}].area[{j}].ring"), "区域至少 3 个顶点，经度 −180～180、纬度 −90～90");
            }
        }
    }
    raw.preset
}
