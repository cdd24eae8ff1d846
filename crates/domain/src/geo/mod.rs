//! Coordinates. Everything is stored in WGS-84; Chinese web maps use GCJ-02 (Amap, Tencent)
//! or BD-09 (Baidu), so input in those datums is converted on arrival and the original kept.

mod datum;
pub mod fence;
pub mod geodesic;
pub mod mercator;

pub use datum::{
    Datum, bd09_to_gcj02, bd09_to_wgs84, gcj02_to_bd09, gcj02_to_wgs84, out_of_china, to_wgs84, wgs84_to_bd09,
    wgs84_to_gcj02,
};

/// A WGS-84 point in degrees. Construction checks ranges, so a swapped lon/lat is caught.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Wgs84Point {
    pub lon: f64,
    pub lat: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeoError {
    #[error("经度 {0} 超出范围（-180 到 180）")]
    Longitude(String),
    #[error("纬度 {0} 超出范围（-90 到 90）")]
    Latitude(String),
    #[error("坐标不是有效数字")]
    NotANumber,
    #[error("多边形至少需要3个不同的顶点")]
    TooFewVertices,
}

impl Wgs84Point {
    pub fn new(lon: f64, lat: f64) -> Result<Self, GeoError> {
        if !lon.is_finite() || !lat.is_finite() {
            return Err(GeoError::NotANumber);
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(GeoError::Longitude(lon.to_string()));
        }
        if !(-90.0..=90.0).contains(&lat) {
            return Err(GeoError::Latitude(lat.to_string()));
        }
        Ok(Wgs84Point { lon, lat })
    }

    /// Great-circle distance in metres (haversine on the WGS-84 mean radius).
    pub fn distance_m(&self, other: &Wgs84Point) -> f64 {
        haversine_m(self.lon, self.lat, other.lon, other.lat)
    }
}

pub const EARTH_MEAN_RADIUS_M: f64 = 6_371_008.8;

pub fn haversine_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_MEAN_RADIUS_M * a.sqrt().asin()
}

/// A simple polygon ring in WGS-84 (first vertex not repeated at the end).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Ring(pub Vec<Wgs84Point>);

impl Ring {
    pub fn new(points: Vec<Wgs84Point>) -> Result<Self, GeoError> {
        let mut pts = points;
        if pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        if pts.len() < 3 {
            return Err(GeoError::TooFewVertices);
        }
        Ok(Ring(pts))
    }

    /// Axis-aligned rectangle.
    pub fn rect(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> Self {
        Ring(vec![
            Wgs84Point { lon: min_lon, lat: min_lat },
            Wgs84Point { lon: max_lon, lat: min_lat },
            Wgs84Point { lon: max_lon, lat: max_lat },
            Wgs84Point { lon: min_lon, lat: max_lat },
        ])
    }

    /// Even-odd ray casting; points on an edge may fall either way.
    pub fn contains(&self, p: &Wgs84Point) -> bool {
        let v = &self.0;
        let mut inside = false;
        let mut j = v.len() - 1;
        for i in 0..v.len() {
            let (a, b) = (v[i], v[j]);
            if (a.lat > p.lat) != (b.lat > p.lat) && p.lon < (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon
            {
                inside = !inside;
            }
            j = i;
        }
        inside
    }

    pub fn centroid(&self) -> Wgs84Point {
        let n = self.0.len() as f64;
        let (lon, lat) = self.0.iter().fold((0.0, 0.0), |(x, y), p| (x + p.lon, y + p.lat));
        Wgs84Point { lon: lon / n, lat: lat / n }
    }

    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        self.0.iter().fold((f64::MAX, f64::MAX, f64::MIN, f64::MIN), |(a, b, c, d), p| {
            (a.min(p.lon), b.min(p.lat), c.max(p.lon), d.max(p.lat))
        })
    }

    /// GeoJSON Polygon geometry text (closed ring, `[lon, lat]` order).
    pub fn to_geojson(&self) -> String {
        let mut coords: Vec<String> = self.0.iter().map(|p| format!("[{:.6},{:.6}]", p.lon, p.lat)).collect();
        coords.push(coords[0].clone());
        format!("{{\"type\":\"Polygon\",\"coordinates\":[[{}]]}}", coords.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_contains_and_rejects() {
        let r = Ring::rect(115.0, 33.0, 116.0, 34.0);
        assert!(r.contains(&Wgs84Point::new(115.5, 33.5).unwrap()));
        assert!(!r.contains(&Wgs84Point::new(116.5, 33.5).unwrap()));
        assert!(Ring::new(vec![Wgs84Point { lon: 1.0, lat: 1.0 }; 2]).is_err());
        assert!(r.to_geojson().starts_with("{\"type\":\"Polygon\""));
    }

    #[test]
    fn range_checks_catch_swapped_coordinates() {
        assert_eq!(Wgs84Point::new(33.8, 115.8).unwrap_err().to_string(), "纬度 115.8 超出范围（-90 到 90）");
    }

    #[test]
    fn distance_bozhou_to_hefei() {
        // 亳州 (115.78, 33.84) to 合肥 (117.23, 31.82): about 260 km.
        let d = haversine_m(115.78, 33.84, 117.23, 31.82);
        assert!((255_000.0..265_000.0).contains(&d), "{d}");
    }
}
