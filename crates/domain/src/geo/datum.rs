//! WGS-84 ⇄ GCJ-02 ⇄ BD-09.
//!
//! GCJ-02 is the published obfuscation formula (Krasovsky ellipsoid constants); BD-09 is
//! Baidu's further rotation of GCJ-02. Neither has a closed-form inverse, so the inverses here
//! iterate the forward transform until the error is below 1e-9 degrees (about 0.1 mm), far
//! better than the common one-step approximation (errors of metres).

use super::{GeoError, Wgs84Point};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datum {
    Wgs84,
    Gcj02,
    Bd09,
}

impl Datum {
    pub fn parse(s: &str) -> Option<Datum> {
        match s.trim().to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "wgs84" | "" => Some(Datum::Wgs84),
            "gcj02" => Some(Datum::Gcj02),
            "bd09" | "bd09ll" => Some(Datum::Bd09),
            _ => None,
        }
    }

    /// How people name it: WGS-84 (GPS), GCJ-02 (国测局, Amap/Tencent), BD-09 (Baidu).
    pub fn label(self) -> &'static str {
        match self {
            Datum::Wgs84 => "WGS-84",
            Datum::Gcj02 => "GCJ-02",
            Datum::Bd09 => "BD-09",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Datum::Wgs84 => "wgs84",
            Datum::Gcj02 => "gcj02",
            Datum::Bd09 => "bd09",
        }
    }
}

const A: f64 = 6378245.0;
const EE: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;
const PI: f64 = std::f64::consts::PI;

/// GCJ-02 applies only inside this rough box around China; elsewhere it equals WGS-84.
pub fn out_of_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// (lon, lat) WGS-84 → GCJ-02.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let mut dlat = transform_lat(lon - 105.0, lat - 35.0);
    let mut dlon = transform_lon(lon - 105.0, lat - 35.0);
    let radlat = lat / 180.0 * PI;
    let mut magic = radlat.sin();
    magic = 1.0 - EE * magic * magic;
    let sqrtmagic = magic.sqrt();
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrtmagic) * PI);
    dlon = (dlon * 180.0) / (A / sqrtmagic * radlat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// Inverts `forward` near (lon, lat) by fixed-point iteration.
fn invert(lon: f64, lat: f64, forward: impl Fn(f64, f64) -> (f64, f64)) -> (f64, f64) {
    let (mut x, mut y) = (lon, lat);
    for _ in 0..30 {
        let (fx, fy) = forward(x, y);
        let (ex, ey) = (fx - lon, fy - lat);
        if ex.abs() < 1e-10 && ey.abs() < 1e-10 {
            break;
        }
        x -= ex;
        y -= ey;
    }
    (x, y)
}

/// (lon, lat) GCJ-02 → WGS-84, precise to about 1e-9 degrees.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    invert(lon, lat, wgs84_to_gcj02)
}

/// (lon, lat) GCJ-02 → BD-09.
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// (lon, lat) BD-09 → GCJ-02, precise (iterated).
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    invert(lon, lat, gcj02_to_bd09)
}

pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = wgs84_to_gcj02(lon, lat);
    gcj02_to_bd09(x, y)
}

pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = bd09_to_gcj02(lon, lat);
    gcj02_to_wgs84(x, y)
}

/// Converts a point given in any datum to a checked WGS-84 point.
pub fn to_wgs84(datum: Datum, lon: f64, lat: f64) -> Result<Wgs84Point, GeoError> {
    // Check the input range first so swapped coordinates get a clear message.
    Wgs84Point::new(lon, lat)?;
    let (x, y) = match datum {
        Datum::Wgs84 => (lon, lat),
        Datum::Gcj02 => gcj02_to_wgs84(lon, lat),
        Datum::Bd09 => bd09_to_wgs84(lon, lat),
    };
    Wgs84Point::new(x, y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::haversine_m;
    use proptest::prelude::*;

    fn close(a: (f64, f64), b: (f64, f64), eps: f64) -> bool {
        (a.0 - b.0).abs() < eps && (a.1 - b.1).abs() < eps
    }

    #[test]
    fn matches_published_reference_values() {
        // Reference outputs of the widely used coordtransform implementation for (116.404, 39.915).
        assert!(close(wgs84_to_gcj02(116.404, 39.915), (116.41024449916938, 39.91640428150164), 1e-9));
        assert!(close(gcj02_to_bd09(116.404, 39.915), (116.41036949371029, 39.92133699351021), 1e-9));
        // The same library's one-step inverses are approximate; ours must agree to ~1 m.
        let m = |a: (f64, f64), b: (f64, f64)| haversine_m(a.0, a.1, b.0, b.1);
        assert!(m(gcj02_to_wgs84(116.404, 39.915), (116.39775550083061, 39.91359571849836)) < 1.0);
        assert!(m(bd09_to_gcj02(116.404, 39.915), (116.39762729119315, 39.90865673957631)) < 1.0);
        // Shanghai, Shenzhen, Beijing points published with the eviltransform test-suite.
        for (wlat, wlon, glat, glon) in [
            (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
            (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
            (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
        ] {
            assert!(m(wgs84_to_gcj02(wlon, wlat), (glon, glat)) < 1.0);
        }
    }

    #[test]
    fn outside_china_is_identity() {
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85));
        assert_eq!(gcj02_to_wgs84(2.35, 48.85), (2.35, 48.85));
    }

    #[test]
    fn datum_names() {
        assert_eq!(Datum::parse("GCJ-02"), Some(Datum::Gcj02));
        assert_eq!(Datum::parse("bd09ll"), Some(Datum::Bd09));
        assert_eq!(Datum::parse("mars"), None);
    }

    proptest! {
        // Bozhou and its surroundings, where the platform's points are.
        #[test]
        fn round_trips_within_a_millimetre(lon in 114.0f64..118.0, lat in 32.0f64..35.0) {
            let (gx, gy) = wgs84_to_gcj02(lon, lat);
            let (wx, wy) = gcj02_to_wgs84(gx, gy);
            prop_assert!(haversine_m(lon, lat, wx, wy) < 0.001);
            let (bx, by) = wgs84_to_bd09(lon, lat);
            let (wx, wy) = bd09_to_wgs84(bx, by);
            prop_assert!(haversine_m(lon, lat, wx, wy) < 0.001);
        }

        #[test]
        fn round_trips_across_china(lon in 74.0f64..135.0, lat in 18.0f64..53.0) {
            let (bx, by) = wgs84_to_bd09(lon, lat);
            let (wx, wy) = bd09_to_wgs84(bx, by);
            prop_assert!(haversine_m(lon, lat, wx, wy) < 1.0);
        }
    }
}
