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
    /// Hours without a fix after which a person with a bound phone is alarmed as offline.
    #[serde(default = "default_offline_hours")]
    pub offline_hours: i64,
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
            offline_hours: default_offline_hours(),
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
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeavePreset {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub note: String,
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
