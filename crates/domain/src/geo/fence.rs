//! Fence shapes and where a point is with respect to them: polygons (with holes; several make a
//! division), taken planar in lon/lat, and circles, taken geodesically on WGS-84. A point on a
//! polygon's edge counts as covered (inside), like PostGIS `ST_Covers`. With a fix's accuracy,
//! a point closer to the edge than the accuracy is `Uncertain` rather than guessed.

use super::geodesic::{metres_per_degree, within_m};
use super::{GeoError, Ring, Wgs84Point};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Where {
    Inside,
    Outside,
    /// Within the fix's accuracy of the edge: could be either.
    Uncertain,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct BBox {
    min_lon: f64,
    min_lat: f64,
    max_lon: f64,
    max_lat: f64,
}

impl BBox {
    fn of(r: &Ring) -> BBox {
        let (a, b, c, d) = r.bbox();
        BBox { min_lon: a, min_lat: b, max_lon: c, max_lat: d }
    }

    fn holds(&self, p: &Wgs84Point) -> bool {
        p.lon >= self.min_lon && p.lon <= self.max_lon && p.lat >= self.min_lat && p.lat <= self.max_lat
    }
}

/// Even-odd crossing test that treats the edge itself as covered. Vertices are flat `[lon, lat]`
/// pairs so the loop stays in cache.
fn ring_covers(v: &[[f64; 2]], x: f64, y: f64) -> bool {
    let mut inside = false;
    let n = v.len();
    let mut j = n - 1;
    for i in 0..n {
        let [xi, yi] = v[i];
        let [xj, yj] = v[j];
        // On the segment: collinear (to rounding) and within its box.
        let cross = (xj - xi) * (y - yi) - (yj - yi) * (x - xi);
        if cross.abs() <= 1e-12 * ((xj - xi).abs() + (yj - yi).abs())
            && x >= xi.min(xj)
            && x <= xi.max(xj)
            && y >= yi.min(yj)
            && y <= yi.max(yj)
        {
            return true;
        }
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Shortest distance in metres from a point to a ring's edges, in the local plane.
fn ring_edge_distance_m(v: &[[f64; 2]], p: &Wgs84Point) -> f64 {
    let (my, mx) = metres_per_degree(p.lat);
    let to_xy = |q: [f64; 2]| ((q[0] - p.lon) * mx, (q[1] - p.lat) * my);
    let mut best = f64::MAX;
    let n = v.len();
    let mut j = n - 1;
    for i in 0..n {
        let (ax, ay) = to_xy(v[j]);
        let (bx, by) = to_xy(v[i]);
        let (dx, dy) = (bx - ax, by - ay);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 { (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
        best = best.min((ax + t * dx).hypot(ay + t * dy));
        j = i;
    }
    best
}

/// A polygon: an outer ring and holes (areas cut out of it).
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    outer: Vec<[f64; 2]>,
    holes: Vec<Vec<[f64; 2]>>,
    bbox: BBox,
}

fn flat(r: &Ring) -> Vec<[f64; 2]> {
    r.0.iter().map(|p| [p.lon, p.lat]).collect()
}

impl Area {
    pub fn new(outer: Ring, holes: Vec<Ring>) -> Area {
        Area { bbox: BBox::of(&outer), outer: flat(&outer), holes: holes.iter().map(flat).collect() }
    }

    /// Covered: inside the outer ring or on it, and not strictly inside a hole.
    pub fn covers(&self, p: &Wgs84Point) -> bool {
        if !self.bbox.holds(p) || !ring_covers(&self.outer, p.lon, p.lat) {
            return false;
        }
        // A point on a hole's edge is on the area's boundary: covered.
        !self.holes.iter().any(|h| ring_covers(h, p.lon, p.lat) && ring_edge_distance_m(h, p) > 1e-6)
    }

    fn edge_distance_m(&self, p: &Wgs84Point) -> f64 {
        std::iter::once(&self.outer)
            .chain(self.holes.iter())
            .map(|r| ring_edge_distance_m(r, p))
            .fold(f64::MAX, f64::min)
    }

    pub fn outer(&self) -> Vec<Wgs84Point> {
        self.outer.iter().map(|q| Wgs84Point { lon: q[0], lat: q[1] }).collect()
    }
}

/// A circle on the ellipsoid.
#[derive(Debug, Clone, PartialEq)]
pub struct Circle {
    pub center: Wgs84Point,
    pub radius_m: f64,
    /// Half-sizes of a box certainly holding the circle, in degrees.
    dlon: f64,
    dlat: f64,
}

impl Circle {
    pub fn new(center: Wgs84Point, radius_m: f64) -> Result<Circle, GeoError> {
        if !(radius_m.is_finite() && radius_m > 0.0) {
            return Err(GeoError::NotANumber);
        }
        let (my, mx) = metres_per_degree(center.lat);
        // 1 % and a metre of slack: the box only rules points out.
        let r = radius_m * 1.01 + 1.0;
        Ok(Circle { center, radius_m, dlon: r / mx, dlat: r / my })
    }

    pub fn covers(&self, p: &Wgs84Point) -> bool {
        (p.lon - self.center.lon).abs() <= self.dlon
            && (p.lat - self.center.lat).abs() <= self.dlat
            && within_m(p.lon, p.lat, self.center.lon, self.center.lat, self.radius_m)
    }
}

/// What a fence is drawn as.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// One polygon, or several (a whole division).
    Areas(Vec<Area>),
    Circle(Circle),
}

impl Shape {
    pub fn covers(&self, p: &Wgs84Point) -> bool {
        match self {
            Shape::Areas(areas) => areas.iter().any(|a| a.covers(p)),
            Shape::Circle(c) => c.covers(p),
        }
    }

    /// Where a fix reported with `accuracy_m` (radius of 68 % confidence) is.
    pub fn locate(&self, p: &Wgs84Point, accuracy_m: f64) -> Where {
        let inside = self.covers(p);
        if accuracy_m <= 0.0 {
            return if inside { Where::Inside } else { Where::Outside };
        }
        let edge = match self {
            Shape::Areas(areas) => areas.iter().map(|a| a.edge_distance_m(p)).fold(f64::MAX, f64::min),
            Shape::Circle(c) => {
                (super::geodesic::vincenty_m(c.center.lon, c.center.lat, p.lon, p.lat) - c.radius_m).abs()
            }
        };
        if edge <= accuracy_m {
            Where::Uncertain
        } else if inside {
            Where::Inside
        } else {
            Where::Outside
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::{Datum, to_wgs84, wgs84_to_gcj02};

    fn pt(lon: f64, lat: f64) -> Wgs84Point {
        Wgs84Point { lon, lat }
    }

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Ring {
        Ring::rect(x0, y0, x1, y1)
    }

    #[test]
    fn polygon_edges_and_vertices_are_covered() {
        let a = Area::new(square(115.0, 33.0, 116.0, 34.0), vec![]);
        assert!(a.covers(&pt(115.5, 33.5)));
        // On an edge, on a vertex, on the top edge (where ray casting alone would say outside).
        assert!(a.covers(&pt(115.0, 33.5)));
        assert!(a.covers(&pt(116.0, 34.0)));
        assert!(a.covers(&pt(115.5, 34.0)));
        assert!(!a.covers(&pt(116.000_001, 33.5)));
        assert!(!a.covers(&pt(115.5, 34.000_001)));
    }

    #[test]
    fn holes_are_cut_out_but_their_edges_stay_covered() {
        let a = Area::new(square(115.0, 33.0, 116.0, 34.0), vec![square(115.4, 33.4, 115.6, 33.6)]);
        assert!(!a.covers(&pt(115.5, 33.5)), "in the hole");
        assert!(a.covers(&pt(115.4, 33.5)), "on the hole's edge");
        assert!(a.covers(&pt(115.3, 33.5)), "between hole and outer edge");
    }

    #[test]
    fn a_division_is_several_polygons() {
        let d = Shape::Areas(vec![
            Area::new(square(115.0, 33.0, 115.5, 33.5), vec![]),
            Area::new(square(116.0, 33.0, 116.5, 33.5), vec![]),
        ]);
        assert!(d.covers(&pt(115.2, 33.2)) && d.covers(&pt(116.2, 33.2)));
        assert!(!d.covers(&pt(115.7, 33.2)), "between the parts");
    }

    #[test]
    fn circles_are_geodesic() {
        let c = Circle::new(pt(115.78, 33.85), 500.0).unwrap();
        // 499 m and 501 m due north, by the ellipsoid's meridian radius.
        let (my, _) = metres_per_degree(33.85);
        assert!(c.covers(&pt(115.78, 33.85 + 499.0 / my)));
        assert!(!c.covers(&pt(115.78, 33.85 + 501.0 / my)));
        assert!(Circle::new(pt(115.78, 33.85), 0.0).is_err());
    }

    #[test]
    fn gcj02_input_is_converted_before_checking() {
        // A fence drawn on Amap (GCJ-02) around the centre: its WGS-84 shape is ~500 m away from
        // the GCJ-02 numbers, so a WGS-84 fix at the real place is inside only after conversion.
        let real = pt(115.78, 33.85);
        let (gx, gy) = wgs84_to_gcj02(real.lon, real.lat);
        let drawn: Vec<(f64, f64)> = vec![
            (gx - 0.002, gy - 0.002),
            (gx + 0.002, gy - 0.002),
            (gx + 0.002, gy + 0.002),
            (gx - 0.002, gy + 0.002),
        ];
        let converted =
            Ring::new(drawn.iter().map(|(x, y)| to_wgs84(Datum::Gcj02, *x, *y).unwrap()).collect()).unwrap();
        let naive = Ring::new(drawn.iter().map(|(x, y)| pt(*x, *y)).collect()).unwrap();
        assert!(Area::new(converted, vec![]).covers(&real));
        assert!(!Area::new(naive, vec![]).covers(&real));
    }

    #[test]
    fn accuracy_makes_points_near_the_edge_uncertain() {
        let s = Shape::Areas(vec![Area::new(square(115.0, 33.0, 116.0, 34.0), vec![])]);
        let (_, mx) = metres_per_degree(33.5);
        let near_outside = pt(116.0 + 30.0 / mx, 33.5);
        assert_eq!(s.locate(&near_outside, 0.0), Where::Outside);
        assert_eq!(s.locate(&near_outside, 50.0), Where::Uncertain);
        assert_eq!(s.locate(&near_outside, 20.0), Where::Outside);
        assert_eq!(s.locate(&pt(115.5, 33.5), 50.0), Where::Inside);
        let c = Shape::Circle(Circle::new(pt(115.78, 33.85), 500.0).unwrap());
        let (my, _) = metres_per_degree(33.85);
        assert_eq!(c.locate(&pt(115.78, 33.85 + 520.0 / my), 30.0), Where::Uncertain);
        assert_eq!(c.locate(&pt(115.78, 33.85 + 520.0 / my), 10.0), Where::Outside);
    }
}
