//! 亳安码 (electronic supervision of persons not detained): persons, measures, devices, fences,
//! location fixes, alarms, leave, check-ins, summons and reports, their statistics, the live
//! alarm feed and the fence map. See README.md.

pub mod api;
pub mod jobs;
pub mod live;
pub mod map;
pub mod me;
pub mod pages;
pub mod report;
pub mod stats;

use crate::access::Routes;
use crate::case::Case;
use crate::layout::NavDef;
use domain::auth::perm;

pub const CASE: Case = Case {
    name: "supervision",
    title: "亳安码",
    routes,
    nav: NAV,
    audit_actions: &[domain::supervision::SupervisionAudit::LABELS],
    audit_objects: domain::supervision::AUDIT_OBJECTS,
    jobs: jobs::jobs,
    start: jobs::start,
    reload: crate::case::no_start,
    background: Some(jobs::fold_fixes),
};

const NAV: &[NavDef] = &[
    NavDef { label: "被监管人员", href: "/supervision", perm: Some(perm::SUPERVISION_VIEW), group: "亳安码" },
    NavDef {
        label: "我的亳安码", href: "/me/supervision", perm: Some(perm::SUPERVISION_SELF), group: "亳安码"
    },
];

fn routes() -> Routes {
    Routes::default()
        .merge(pages::routes())
        .merge(me::routes())
        .merge(report::routes())
        .merge(stats::routes())
        .merge(live::routes())
        .merge(map::routes())
        .merge(api::routes())
}

/// A fence's shape as people call it (stored as polygon / circle / division).
pub fn shape_label(kind: &str) -> &'static str {
    match kind {
        "polygon" => "多边形",
        "circle" => "圆形",
        "division" => "整个行政区划",
        _ => "其他形状",
    }
}

/// The coordinate system a fence was drawn in, by its stored code.
pub fn datum_label(code: &str) -> &'static str {
    domain::geo::Datum::parse(code).map(|d| d.label()).unwrap_or("其他坐标系")
}
