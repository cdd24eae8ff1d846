//! The fence map (`/supervision/persons/{id}/map`): a server-rendered SVG of the grids of the
//! person's county (the divisions fences may name), the person's fences (allowed green,
//! forbidden red) and recent fixes, in WGS-84 drawn equirectangular (lon scaled by cos lat).
//! With script, clicking the map adds vertices of a new polygon to the fence form; without,
//! the same form takes coordinates or a GeoJSON file's text.

use super::render;
use crate::access::{Access, RequestCtx, Routes};
use crate::error::PageResult;
use crate::layout::Layout;
use askama::Template;
use axum::extract::Path;
use axum::routing::get;
use domain::auth::perm;
use store::supervision::Person;

pub fn routes() -> Routes {
    Routes::default().add("/supervision/persons/{id}/map", Access::Perm(perm::SUPERVISION_VIEW), get(map))
}

/// Width of the drawing in SVG units.
const W: f64 = 800.0;

struct Frame {
    min_lon: f64,
    max_lat: f64,
    /// SVG units per degree of longitude and of latitude.
    sx: f64,
    sy: f64,
    height: f64,
}

impl Frame {
    fn new(points: &[[f64; 2]]) -> Frame {
        let (mut a, mut b, mut c, mut d) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for [x, y] in points {
            a = a.min(*x);
            b = b.max(*x);
            c = c.min(*y);
            d = d.max(*y);
        }
        if points.is_empty() {
            (a, b, c, d) = (115.5, 116.5, 33.5, 34.2);
        }
        // A margin, and never a degenerate box.
        let (mx, my) = (((b - a) * 0.05).max(0.005), ((d - c) * 0.05).max(0.005));
        let (a, b, c, d) = (a - mx, b + mx, c - my, d + my);
        let sx = W / (b - a);
        let sy = sx / ((c + d) / 2.0).to_radians().cos();
        Frame { min_lon: a, max_lat: d, sx, sy, height: ((d - c) * sy).ceil() }
    }

    fn xy(&self, p: [f64; 2]) -> (f64, f64) {
        ((p[0] - self.min_lon) * self.sx, (self.max_lat - p[1]) * self.sy)
    }

    fn path(&self, ring: &[[f64; 2]]) -> String {
        let mut s = String::new();
        for (i, p) in ring.iter().enumerate() {
            let (x, y) = self.xy(*p);
            s.push_str(&format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" }));
        }
        s.push_str(" Z");
        s
    }
}

pub struct Shape {
    pub d: String,
    pub class: &'static str,
    pub title: String,
}

pub struct Dot {
    pub x: String,
    pub y: String,
    pub class: &'static str,
}

#[derive(Template)]
#[template(path = "supervision/map.html")]
struct MapPage {
    layout: Layout,
    x: Person,
    grids: Vec<Shape>,
    fences: Vec<Shape>,
    dots: Vec<Dot>,
    height: String,
    min_lon: String,
    max_lat: String,
    sx: String,
    sy: String,
    can_handle: bool,
}

fn ring_of(v: &serde_json::Value) -> Vec<[f64; 2]> {
    v.as_array()
        .map(|pts| pts.iter().filter_map(|p| Some([p[0].as_f64()?, p[1].as_f64()?])).collect())
        .unwrap_or_default()
}

/// A circle as a 48-gon (metres to degrees locally; for drawing only — checking is geodesic).
fn circle(c: [f64; 2], r: f64) -> Vec<[f64; 2]> {
    let dlat = r / 111_320.0;
    let dlon = dlat / c[1].to_radians().cos();
    (0..48)
        .map(|i| {
            let t = i as f64 / 48.0 * std::f64::consts::TAU;
            [c[0] + dlon * t.cos(), c[1] + dlat * t.sin()]
        })
        .collect()
}

async fn map(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = super::supervision::visible(&ctx, &id).await?;
    let county: String = x.division_code.chars().take(6).collect();
    let grids = store::supervision::grid_shapes(&state.db, &county).await?;
    let mut conn = state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let fences = store::supervision::fences(&mut conn, &x.id).await?;
    drop(conn);
    let fixes = store::supervision::recent_fixes(&state.db, &x.id, 200).await?;
    let mut fence_rings: Vec<(Vec<[f64; 2]>, bool, String)> = vec![];
    for f in &fences {
        let v: serde_json::Value = serde_json::from_str(&f.geometry).unwrap_or_default();
        let allowed = f.rule == "allowed";
        match f.kind.as_str() {
            "polygon" => {
                if let Some(rings) = v["coordinates"].as_array() {
                    for r in rings {
                        fence_rings.push((ring_of(r), allowed, f.name.clone()));
                    }
                }
            }
            "circle" => {
                if let (Some(a), Some(b), Some(r)) =
                    (v["center"][0].as_f64(), v["center"][1].as_f64(), v["radius_m"].as_f64())
                {
                    fence_rings.push((circle([a, b], r), allowed, f.name.clone()));
                }
            }
            _ => {
                let code = v["code"].as_str().unwrap_or_default();
                for (gcode, _, ring) in &grids {
                    if gcode.starts_with(code) {
                        fence_rings.push((ring.clone(), allowed, f.name.clone()));
                    }
                }
            }
        }
    }
    // Frame the fences and fixes if there are any, else the county.
    let mut pts: Vec<[f64; 2]> = fence_rings.iter().flat_map(|r| r.0.iter().copied()).collect();
    pts.extend(fixes.iter().map(|f| [f.lon, f.lat]));
    if pts.is_empty() {
        pts = grids.iter().flat_map(|g| g.2.iter().copied()).collect();
    }
    let fr = Frame::new(&pts);
    render(MapPage {
        layout: Layout::new(&ctx, &state.config.city.name, &format!("{} · 围栏地图", x.name), "/supervision"),
        grids: grids
            .iter()
            .map(|(_, name, ring)| Shape { d: fr.path(ring), class: "grid", title: name.clone() })
            .collect(),
        fences: fence_rings
            .iter()
            .map(|(ring, allowed, name)| Shape {
                d: fr.path(ring),
                class: if *allowed { "allowed" } else { "forbidden" },
                title: name.clone(),
            })
            .collect(),
        dots: fixes
            .iter()
            .map(|f| {
                let (a, b) = fr.xy([f.lon, f.lat]);
                Dot { x: format!("{a:.1}"), y: format!("{b:.1}"), class: if f.violation != 0 { "out" } else { "in" } }
            })
            .collect(),
        height: format!("{:.0}", fr.height),
        min_lon: format!("{:.7}", fr.min_lon),
        max_lat: format!("{:.7}", fr.max_lat),
        sx: format!("{:.4}", fr.sx),
        sy: format!("{:.4}", fr.sy),
        can_handle: p.can(perm::SUPERVISION_HANDLE),
        x,
    })
}
