//! 满薪满益 (wages): construction projects under wage monitoring, the data that feeds them, the
//! workers' own pages and e-contracts, labor relations and the talent portrait. See README.md.

pub mod api;
pub mod import;
pub mod labor;
pub mod pages;
pub mod people;
pub mod refund;
pub mod talent;

use crate::access::Routes;
use crate::case::{Case, no_jobs, no_start};
use crate::layout::NavDef;
use domain::auth::perm;

pub const CASE: Case = Case {
    name: "wages",
    title: "满薪满益",
    routes,
    nav: NAV,
    audit_actions: &[domain::wages::WagesAudit::LABELS],
    audit_objects: domain::wages::AUDIT_OBJECTS,
    jobs: no_jobs,
    start: no_start,
    background: None,
};

const NAV: &[NavDef] = &[
    NavDef { label: "在建项目", href: "/wages", perm: Some(perm::WAGES_VIEW), group: "满薪满益" },
    NavDef { label: "数据导入", href: "/wages/import", perm: Some(perm::WAGES_IMPORT), group: "满薪满益" },
    NavDef {
        label: "本单位预警与通知", href: "/wages/notices", perm: Some(perm::SELF_ENTERPRISE), group: "满薪满益"
    },
    NavDef { label: "我的工资", href: "/me/wages", perm: Some(perm::SELF_CITIZEN), group: "满薪满益" },
    NavDef { label: "劳动关系", href: "/labor", perm: Some(perm::LABOR_VIEW), group: "劳动关系" },
    NavDef { label: "人才画像", href: "/talent", perm: Some(perm::TALENT_VIEW), group: "劳动关系" },
];

fn routes() -> Routes {
    Routes::default()
        .merge(pages::routes())
        .merge(import::routes())
        .merge(labor::routes())
        .merge(people::routes())
        .merge(refund::routes())
        .merge(talent::routes())
        .merge(api::routes())
}
