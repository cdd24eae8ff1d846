//! The fence map (`/supervision/persons/{id}/map`): a server-rendered SVG of the grids of the
//! person's county (the divisions fences may name), the person's fences (allowed green,
//! forbidden red) and recent fixes, drawn in Web Mercator at a whole zoom level so that tiles
//! from a configured intranet map server (`[supervision.map]`) can sit underneath.
//! With script, clicking the map adds vertices of a new polygon to the fence form; without,
//! the same form takes pasted GeoJSON or a .geojson file.
//!
//! County and town boundaries come from `divisions/boundaries.geojson` when the city supplies
//! it; otherwise each town is outlined around its grids and labelled 示意. Town names, a scale
//! bar, and zoom and pan links (plain links, no script) complete the map.

use crate::access::{Access, RequestCtx, Routes};
use crate::error::PageResult;
use crate::layout::Layout;
use crate::pages::render;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use domain::auth::perm;
use domain::geo::{mercator, wgs84_to_gcj02};
use store::config::MapTiles;
use store::config::boundaries::Boundary;
use store::supervision::Person;

pub fn routes() -> Routes {
    Routes::default().add("/supervision/persons/{id}/map", Access::Perm(perm::SUPERVISION_VIEW), get(map))
}

/// Size of the drawing in SVG units (= tile pixels).
const W: f64 = 800.0;
const H_MIN: f64 = 400.0;
const H_MAX: f64 = 600.0;

/// Web Mercator pixels at one zoom level, offset to the drawing's top-left corner. Points are
/// WGS-84; with GCJ-02 tiles they are shifted to GCJ-02 first so they sit on the tiles.
struct Frame {
    z: u8,
    ox: f64,
    oy: f64,
    height: f64,
    gcj02: bool,
}

/// Zoom and pan asked for by the map's links: zoom levels from the fitted view, and pan steps
/// of a quarter of the drawing.
#[derive(Debug, Default, Clone, Copy)]
pub struct View {
    zoom: i8,
    px: i16,
    py: i16,
}

/// The query as typed: anything that is not a number is ignored (the fitted view), so an
/// edited address never answers an error.
#[derive(serde::Deserialize, Default)]
pub struct ViewQuery {
    zoom: Option<String>,
    px: Option<String>,
    py: Option<String>,
}

impl ViewQuery {
    fn view(&self) -> View {
        let n = |v: &Option<String>| v.as_deref().and_then(|s| s.trim().parse::<i32>().ok()).unwrap_or(0);
        View {
            zoom: n(&self.zoom).clamp(-4, 8) as i8,
            px: n(&self.px).clamp(-40, 40) as i16,
            py: n(&self.py).clamp(-40, 40) as i16,
        }
    }
}

impl View {
    fn clamped(self) -> View {
        View { zoom: self.zoom.clamp(-4, 8), px: self.px.clamp(-40, 40), py: self.py.clamp(-40, 40) }
    }

    fn link(self, zoom: i8, px: i16, py: i16) -> String {
        let v = View { zoom: self.zoom + zoom, px: self.px + px, py: self.py + py }.clamped();
        format!("?zoom={}&px={}&py={}", v.zoom, v.px, v.py)
    }
}

impl Frame {
    fn new(points: &[[f64; 2]], tiles: &MapTiles, view: View) -> Frame {
        let gcj02 = tiles.gcj02();
        let shown = |p: [f64; 2]| if gcj02 { wgs84_to_gcj02(p[0], p[1]) } else { (p[0], p[1]) };
        let (mut a, mut b, mut c, mut d) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in points {
            let (x, y) = shown(*p);
            a = a.min(x);
            b = b.max(x);
            c = c.min(y);
            d = d.max(y);
        }
        if points.is_empty() {
            (a, b, c, d) = (115.5, 116.5, 33.5, 34.2);
        }
        // A margin, and never a degenerate box.
        let (mx, my) = (((b - a) * 0.05).max(0.002), ((d - c) * 0.05).max(0.002));
        let (a, b, c, d) = (a - mx, b + mx, c - my, d + my);
        let fit = mercator::fit_zoom(a, c, b, d, W, H_MAX, tiles.max_zoom());
        let (x0, y0) = mercator::to_pixel(a, d, fit);
        let (x1, y1) = mercator::to_pixel(b, c, fit);
        let height = (y1 - y0).clamp(H_MIN, H_MAX).ceil();
        // Centre the box in the drawing, then zoom about that centre and pan by quarters.
        let (lon, lat) = mercator::from_pixel((x0 + x1) / 2.0, (y0 + y1) / 2.0, fit);
        let view = view.clamped();
        let z = (i16::from(fit) + i16::from(view.zoom)).clamp(1, i16::from(tiles.max_zoom())) as u8;
        let (cx, cy) = mercator::to_pixel(lon, lat, z);
        let (cx, cy) = (cx + f64::from(view.px) * W / 4.0, cy + f64::from(view.py) * height / 4.0);
        Frame { z, ox: cx - W / 2.0, oy: cy - height / 2.0, height, gcj02 }
    }

    /// A scale bar of a round length (1, 2 or 5 × 10ⁿ metres) at most 150 units long, measured
    /// at the drawing's centre latitude: (length in units, label).
    fn scale(&self) -> (f64, String) {
        let (_, lat) = mercator::from_pixel(self.ox + W / 2.0, self.oy + self.height / 2.0, self.z);
        let m_per_unit = 2.0 * std::f64::consts::PI * 6_378_137.0 * lat.to_radians().cos() / mercator::world(self.z);
        let max = 150.0 * m_per_unit;
        let mut best = 1.0;
        let mut p = 1.0;
        while p * 10.0 <= max * 10.0 {
            for k in [1.0, 2.0, 5.0] {
                if k * p <= max {
                    best = k * p;
                }
            }
            p *= 10.0;
        }
        let label = if best >= 1000.0 { format!("{} 公里", best / 1000.0) } else { format!("{best} 米") };
        (best / m_per_unit, label)
    }

    /// The centre of a ring's bounding box in drawing units (where a label goes).
    fn label_at(&self, rings: &[Vec<[f64; 2]>]) -> (f64, f64) {
        let (mut a, mut b, mut c, mut d) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in rings.iter().flatten() {
            let (x, y) = self.xy(*p);
            a = a.min(x);
            b = b.max(x);
            c = c.min(y);
            d = d.max(y);
        }
        ((a + b) / 2.0, (c + d) / 2.0)
    }

    fn xy(&self, p: [f64; 2]) -> (f64, f64) {
        let (lon, lat) = if self.gcj02 { wgs84_to_gcj02(p[0], p[1]) } else { (p[0], p[1]) };
        let (x, y) = mercator::to_pixel(lon, lat, self.z);
        (x - self.ox, y - self.oy)
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

    /// The tiles under the drawing: (x, y, href) with x, y in drawing units.
    fn tiles(&self, t: &MapTiles) -> Vec<Tile> {
        if !t.enabled() {
            return vec![];
        }
        mercator::tiles(self.ox, self.oy, self.ox + W, self.oy + self.height, self.z)
            .into_iter()
            .map(|(tx, ty)| Tile {
                x: format!("{:.1}", f64::from(tx) * mercator::TILE - self.ox),
                y: format!("{:.1}", f64::from(ty) * mercator::TILE - self.oy),
                href: t.url(self.z, tx, ty),
            })
            .collect()
    }
}

pub struct Tile {
    pub x: String,
    pub y: String,
    pub href: String,
}

pub struct Shape {
    pub d: String,
    pub class: &'static str,
    pub title: String,
}

pub struct Label {
    pub x: String,
    pub y: String,
    pub text: String,
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
    bounds: Vec<Shape>,
    labels: Vec<Label>,
    /// Whether any boundary drawn is indicative (示意).
    illustrative: bool,
    scale_w: String,
    scale_label: String,
    /// Zoom and pan links: in, out, north, south, west, east.
    nav: [String; 6],
    fences: Vec<Shape>,
    dots: Vec<Dot>,
    tiles: Vec<Tile>,
    attribution: String,
    height: String,
    z: u8,
    ox: String,
    oy: String,
    datum: &'static str,
    can_handle: bool,
}

fn ring_of(v: &serde_json::Value) -> Vec<[f64; 2]> {
    v.as_array()
        .map(|pts| pts.iter().filter_map(|p| Some([p[0].as_f64()?, p[1].as_f64()?])).collect())
        .unwrap_or_default()
}

/// The convex hull of points (Andrew's monotone chain), closed: a town's indicative outline
/// around its grids.
fn hull(mut pts: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: [f64; 2], a: [f64; 2], b: [f64; 2]| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
    let mut lower: Vec<[f64; 2]> = vec![];
    for p in &pts {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], *p) <= 0.0 {
            lower.pop();
        }
        lower.push(*p);
    }
    let mut upper: Vec<[f64; 2]> = vec![];
    for p in pts.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], *p) <= 0.0 {
            upper.pop();
        }
        upper.push(*p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    if let Some(first) = lower.first().copied() {
        lower.push(first);
    }
    lower
}

/// The county's and its towns' boundaries: the configured ones, else outlines around each
/// town's grids (indicative).
fn boundaries(
    cfg: &store::config::CityConfig,
    county: &str,
    grids: &[(String, String, Vec<[f64; 2]>)],
) -> Vec<Boundary> {
    let configured: Vec<Boundary> = cfg.boundaries.iter().filter(|b| b.code.starts_with(county)).cloned().collect();
    if !configured.is_empty() {
        return configured;
    }
    let mut by_town: std::collections::BTreeMap<String, Vec<[f64; 2]>> = Default::default();
    for (code, _, ring) in grids {
        let town: String = code.chars().take(9).collect();
        by_town.entry(town).or_default().extend(ring.iter().copied());
    }
    by_town
        .into_iter()
        .filter(|(_, pts)| pts.len() >= 3)
        .map(|(code, pts)| {
            let name = cfg.towns.iter().find(|t| t.code.as_str() == code).map(|t| t.name.clone()).unwrap_or_default();
            Boundary { code, name, rings: vec![hull(pts)], illustrative: true }
        })
        .collect()
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

async fn map(ctx: RequestCtx, Path(id): Path<String>, Query(q): Query<ViewQuery>) -> PageResult {
    let view = q.view();
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = crate::supervision::pages::visible(&ctx, &id).await?;
    let county: String = x.division_code.chars().take(6).collect();
    let grids = store::supervision::grid_shapes(&state.db, &county).await?;
    let mut conn = state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let fences = store::supervision::fences(&mut conn, &x.id).await?;
    drop(conn);
    let fixes = store::supervision::recent_fixes(&state.db, &x.id, 200).await?;
    let mut fence_rings: Vec<(Vec<[f64; 2]>, bool, String)> = vec![];
    for f in &fences {
        let v: serde_json::Value = serde_json::from_str(&f.geometry).unwrap_or_default();
        let allowed = f.rule == domain::supervision::Rule::Allowed;
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
                // A city's code (341600) stands for its counties' grids (3416…).
                let code = v["code"].as_str().unwrap_or_default();
                let code = domain::DivisionCode::parse(code).map(|c| c.scope_prefix().to_string()).unwrap_or_default();
                for (gcode, _, ring) in &grids {
                    if gcode.starts_with(&code) {
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
    let cfg = state.config();
    let tiles = &cfg.city.supervision.map;
    let fr = Frame::new(&pts, tiles, view);
    let bounds = boundaries(&cfg, &county, &grids);
    let (scale_w, scale_label) = fr.scale();
    let view = view.clamped();
    let page = render(MapPage {
        layout: Layout::new(&ctx, &state.config().city.name, &format!("{} · 围栏地图", x.name), "/supervision"),
        grids: grids
            .iter()
            .map(|(_, name, ring)| Shape { d: fr.path(ring), class: "grid", title: name.clone() })
            .collect(),
        labels: bounds
            .iter()
            .filter(|b| b.code.len() > 6 && !b.name.is_empty())
            .map(|b| {
                let (x, y) = fr.label_at(&b.rings);
                Label { x: format!("{x:.1}"), y: format!("{y:.1}"), text: b.name.clone() }
            })
            .collect(),
        illustrative: bounds.iter().any(|b| b.illustrative),
        bounds: bounds
            .iter()
            .flat_map(|b| {
                let class = if b.code.len() > 6 { "town" } else { "county" };
                let fr = &fr;
                b.rings.iter().map(move |r| Shape { d: fr.path(r), class, title: b.name.clone() })
            })
            .collect(),
        scale_w: format!("{scale_w:.1}"),
        scale_label,
        nav: [
            view.link(1, 0, 0),
            view.link(-1, 0, 0),
            view.link(0, 0, -1),
            view.link(0, 0, 1),
            view.link(0, -1, 0),
            view.link(0, 1, 0),
        ],
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
        tiles: fr.tiles(tiles),
        attribution: tiles.attribution.clone(),
        height: format!("{:.0}", fr.height),
        z: fr.z,
        ox: format!("{:.2}", fr.ox),
        oy: format!("{:.2}", fr.oy),
        datum: if fr.gcj02 { "gcj02" } else { "wgs84" },
        can_handle: p.can(perm::SUPERVISION_HANDLE),
        x,
    })?;
    Ok(with_tile_csp(page, tiles))
}

/// The map page alone may load images from the configured tile server.
fn with_tile_csp(mut page: Response, tiles: &MapTiles) -> Response {
    if let Some(origin) = tiles.origin() {
        let csp = format!("{}; img-src 'self' data: {origin}", crate::access::CSP_WITHOUT_IMG);
        if let Ok(v) = HeaderValue::from_str(&csp) {
            page.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    page
}
