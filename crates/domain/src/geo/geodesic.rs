//! Distances on the WGS-84 ellipsoid. Circle fences are decided geodesically: a fast local
//! estimate settles every point clearly inside or outside, and Vincenty's inverse formula
//! (iterated to 1e-12 rad) settles the few near the edge.

const A: f64 = 6_378_137.0;
const F: f64 = 1.0 / 298.257_223_563;
const B: f64 = A * (1.0 - F);
const E2: f64 = F * (2.0 - F);

/// Geodesic distance in metres between two WGS-84 points (lon, lat in degrees), by Vincenty's
/// inverse formula. Falls back to the local estimate in the nearly antipodal case where the
/// iteration does not converge (never for fence-sized distances).
pub fn vincenty_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let l = (lon2 - lon1).to_radians();
    let u1 = ((1.0 - F) * lat1.to_radians().tan()).atan();
    let u2 = ((1.0 - F) * lat2.to_radians().tan()).atan();
    let (sin_u1, cos_u1) = u1.sin_cos();
    let (sin_u2, cos_u2) = u2.sin_cos();
    let mut lambda = l;
    for _ in 0..200 {
        let (sin_l, cos_l) = lambda.sin_cos();
        let sin_sigma = ((cos_u2 * sin_l).powi(2) + (cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_l).powi(2)).sqrt();
        if sin_sigma == 0.0 {
            return 0.0;
        }
        let cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_l;
        let sigma = sin_sigma.atan2(cos_sigma);
        let sin_alpha = cos_u1 * cos_u2 * sin_l / sin_sigma;
        let cos2_alpha = 1.0 - sin_alpha * sin_alpha;
        let cos_2sm = if cos2_alpha != 0.0 { cos_sigma - 2.0 * sin_u1 * sin_u2 / cos2_alpha } else { 0.0 };
        let c = F / 16.0 * cos2_alpha * (4.0 + F * (4.0 - 3.0 * cos2_alpha));
        let prev = lambda;
        lambda = l
            + (1.0 - c)
                * F
                * sin_alpha
                * (sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1.0 + 2.0 * cos_2sm * cos_2sm)));
        if (lambda - prev).abs() < 1e-12 {
            let u_sq = cos2_alpha * (A * A - B * B) / (B * B);
            let a = 1.0 + u_sq / 16384.0 * (4096.0 + u_sq * (-768.0 + u_sq * (320.0 - 175.0 * u_sq)));
            let b = u_sq / 1024.0 * (256.0 + u_sq * (-128.0 + u_sq * (74.0 - 47.0 * u_sq)));
            let delta_sigma = b
                * sin_sigma
                * (cos_2sm
                    + b / 4.0
                        * (cos_sigma * (-1.0 + 2.0 * cos_2sm * cos_2sm)
                            - b / 6.0
                                * cos_2sm
                                * (-3.0 + 4.0 * sin_sigma * sin_sigma)
                                * (-3.0 + 4.0 * cos_2sm * cos_2sm)));
            return B * a * (sigma - delta_sigma);
        }
    }
    local_m(lon1, lat1, lon2, lat2)
}

/// Metres per degree of latitude and of longitude at a latitude, from the ellipsoid's radii of
/// curvature (meridian M and prime vertical N).
pub fn metres_per_degree(lat: f64) -> (f64, f64) {
    let phi = lat.to_radians();
    let s2 = phi.sin().powi(2);
    let w = (1.0 - E2 * s2).sqrt();
    let m = A * (1.0 - E2) / (w * w * w);
    let n = A / w;
    (m.to_radians(), (n * phi.cos()).to_radians())
}

/// The local (tangent-plane) estimate of the distance, with the radii of curvature at the mid
/// latitude: within a few centimetres of the geodesic over the few kilometres of a fence.
pub fn local_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (my, mx) = metres_per_degree((lat1 + lat2) / 2.0);
    ((lat2 - lat1) * my).hypot((lon2 - lon1) * mx)
}

/// Whether `(lon, lat)` is within `radius_m` of the centre, geodesically. The local estimate
/// decides unless it lands within a metre (or 1e-4 of the distance) of the radius.
pub fn within_m(lon: f64, lat: f64, c_lon: f64, c_lat: f64, radius_m: f64) -> bool {
    let d = local_m(c_lon, c_lat, lon, lat);
    let margin = 1.0 + d * 1e-4;
    if d + margin < radius_m {
        true
    } else if d - margin > radius_m {
        false
    } else {
        vincenty_m(c_lon, c_lat, lon, lat) <= radius_m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dms(d: f64, m: f64, s: f64) -> f64 {
        d.signum() * (d.abs() + m / 60.0 + s / 3600.0)
    }

    #[test]
    fn vincenty_matches_the_published_flinders_peak_to_buninyong() {
        // Vincenty (1975) / Geoscience Australia test line: 54,972.271 m.
        let (lat1, lon1) = (-dms(37.0, 57.0, 3.72030), dms(144.0, 25.0, 29.52440));
        let (lat2, lon2) = (-dms(37.0, 39.0, 10.15610), dms(143.0, 55.0, 35.38390));
        let d = vincenty_m(lon1, lat1, lon2, lat2);
        assert!((d - 54_972.271).abs() < 0.001, "{d}");
    }

    #[test]
    fn a_meridian_arc_matches_the_integral_of_the_meridian_radius() {
        // Independent check: ∫ M(φ) dφ from 33.5° to 34.5° by Simpson's rule.
        let m = |phi: f64| A * (1.0 - E2) / (1.0 - E2 * phi.sin().powi(2)).powf(1.5);
        let (a, b, n) = (33.5f64.to_radians(), 34.5f64.to_radians(), 1000);
        let h = (b - a) / n as f64;
        let arc = (0..=n)
            .map(|i| {
                let w = if i == 0 || i == n {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                w * m(a + i as f64 * h)
            })
            .sum::<f64>()
            * h
            / 3.0;
        let d = vincenty_m(115.78, 33.5, 115.78, 34.5);
        assert!((d - arc).abs() < 0.001, "{d} vs {arc}");
        assert_eq!(vincenty_m(115.78, 33.85, 115.78, 33.85), 0.0);
    }

    proptest! {
        #[test]
        fn the_local_estimate_is_within_its_margin_over_fence_distances(
            lon in 115.0f64..117.0, lat in 32.0f64..35.0, dx in -0.05f64..0.05, dy in -0.05f64..0.05,
        ) {
            let exact = vincenty_m(lon, lat, lon + dx, lat + dy);
            let local = local_m(lon, lat, lon + dx, lat + dy);
            prop_assert!((exact - local).abs() <= 1.0 + local * 1e-4, "{exact} vs {local}");
            // …so the fast decision agrees with the exact one.
            let r = exact.max(1.0);
            prop_assert!(within_m(lon + dx, lat + dy, lon, lat, r + 0.5));
            prop_assert!(!within_m(lon + dx, lat + dy, lon, lat, (r - 0.5).max(0.0)) || r < 1.0);
        }
    }
}
