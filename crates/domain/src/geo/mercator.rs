//! Web Mercator (EPSG:3857) pixel maths for drawing over slippy-map tiles (`{z}/{x}/{y}`), the
//! scheme every intranet map server speaks. Drawing only: checking stays in lon/lat and on the
//! ellipsoid.

/// Tile edge in pixels.
pub const TILE: f64 = 256.0;
/// Web Mercator is undefined at the poles; tiles stop here.
pub const MAX_LAT: f64 = 85.051_128_78;

/// World size in pixels at zoom `z`.
pub fn world(z: u8) -> f64 {
    TILE * f64::from(1u32 << z)
}

/// Pixel position of (lon, lat) at zoom `z`, origin top-left of the world.
pub fn to_pixel(lon: f64, lat: f64, z: u8) -> (f64, f64) {
    let w = world(z);
    let lat = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let x = (lon + 180.0) / 360.0 * w;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * w;
    (x, y)
}

/// The inverse of [`to_pixel`].
pub fn from_pixel(x: f64, y: f64, z: u8) -> (f64, f64) {
    let w = world(z);
    let lon = x / w * 360.0 - 180.0;
    let n = std::f64::consts::PI * (1.0 - 2.0 * y / w);
    (lon, n.sinh().atan().to_degrees())
}

/// The largest zoom (up to `max_zoom`) at which the box (min_lon, min_lat)–(max_lon, max_lat)
/// fits in `width` pixels across and `height` down.
pub fn fit_zoom(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64, width: f64, height: f64, max_zoom: u8) -> u8 {
    let mut z = max_zoom.min(22);
    while z > 0 {
        let (x0, y0) = to_pixel(min_lon, max_lat, z);
        let (x1, y1) = to_pixel(max_lon, min_lat, z);
        if x1 - x0 <= width && y1 - y0 <= height {
            break;
        }
        z -= 1;
    }
    z
}

/// The tiles (x, y) covering the pixel box at zoom `z`, clipped to the world.
pub fn tiles(x0: f64, y0: f64, x1: f64, y1: f64, z: u8) -> Vec<(u32, u32)> {
    let n = 1i64 << z;
    let clip = |v: f64| ((v / TILE).floor() as i64).clamp(0, n - 1);
    let mut out = vec![];
    for ty in clip(y0)..=clip(y1) {
        for tx in clip(x0)..=clip(x1) {
            out.push((tx as u32, ty as u32));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_tile_of_bozhou() {
        // 谯城区 government, ~ (115.779, 33.846): at z=10 it is in tile (841, 409).
        let (x, y) = to_pixel(115.779, 33.846, 10);
        assert_eq!(((x / TILE) as u32, (y / TILE) as u32), (841, 409));
        // The world's centre and corner.
        assert_eq!(to_pixel(0.0, 0.0, 0), (128.0, 128.0));
        let (x, y) = to_pixel(-180.0, MAX_LAT, 3);
        assert!(x.abs() < 1e-9 && y.abs() < 1e-3);
    }

    #[test]
    fn round_trips() {
        for &(lon, lat) in &[(115.779, 33.846), (-70.0, -45.5), (179.9, 80.0), (0.0, 0.0)] {
            for z in [0u8, 8, 15, 18] {
                let (x, y) = to_pixel(lon, lat, z);
                let (a, b) = from_pixel(x, y, z);
                assert!((a - lon).abs() < 1e-9 && (b - lat).abs() < 1e-9, "{lon},{lat} z{z}: {a},{b}");
            }
        }
    }

    #[test]
    fn zoom_fits_and_tiles_cover() {
        // A county (~0.8° × 0.6°) is 583 × 526 px at z=10 and twice that at z=11.
        let z = fit_zoom(115.4, 33.5, 116.2, 34.1, 800.0, 600.0, 18);
        assert_eq!(z, 10);
        // A village-sized box hits the configured ceiling.
        assert_eq!(fit_zoom(115.779, 33.846, 115.781, 33.847, 800.0, 600.0, 16), 16);
        let (x0, y0) = to_pixel(115.4, 34.1, z);
        let (x1, y1) = to_pixel(116.2, 33.5, z);
        let t = tiles(x0, y0, x1, y1, z);
        assert!(!t.is_empty() && t.len() <= 20);
        assert!(
            t.iter().all(|&(x, y)| x as f64 * TILE <= x1 && (x as f64 + 1.0) * TILE >= x0 && y as f64 * TILE <= y1)
        );
        // Clipped at the world's edge.
        assert_eq!(tiles(-10.0, -10.0, 10.0, 10.0, 0), vec![(0, 0)]);
    }
}
