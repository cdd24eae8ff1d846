//! 满薪满益 (wages): construction projects under wage monitoring, the data that feeds them, the
//! workers' own pages and e-contracts, labor relations and the talent portrait. See README.md.

pub mod api;
pub mod complaints;
pub mod import;
pub mod labor;
pub mod pages;
pub mod people;
pub mod refund;
pub mod talent;

use crate::access::Routes;
use crate::case::{Case, no_start};
use crate::layout::NavDef;
use domain::auth::perm;

pub const CASE: Case = Case {
    name: "wages",
    title: "满薪满益",
    routes,
    nav: NAV,
    audit_actions: &[domain::wages::WagesAudit::LABELS],
    audit_objects: domain::wages::AUDIT_OBJECTS,
    jobs,
    start: no_start,
    reload: no_start,
    background: None,
};

const NAV: &[NavDef] = &[
    NavDef { label: "在建项目", href: "/wages", perm: Some(perm::WAGES_VIEW), group: "满薪满益" },
    NavDef {
        label: "欠薪投诉", href: "/wages/complaints", perm: Some(perm::WAGES_COMPLAINTS), group: "满薪满益"
    },
    NavDef { label: "数据导入", href: "/wages/import", perm: Some(perm::WAGES_IMPORT), group: "满薪满益" },
    NavDef {
        label: "本单位预警与通知", href: "/wages/notices", perm: Some(perm::SELF_ENTERPRISE), group: "满薪满益"
    },
    NavDef { label: "我的工资", href: "/me/wages", perm: Some(perm::SELF_CITIZEN), group: "满薪满益" },
    NavDef { label: "劳动关系", href: "/labor", perm: Some(perm::LABOR_VIEW), group: "劳动关系" },
    NavDef { label: "人才画像", href: "/talent", perm: Some(perm::TALENT_VIEW), group: "劳动关系" },
];

/// The complaint deadlines (欠薪投诉: contact as promised, 60 working days to finish).
fn jobs(state: &crate::state::AppState) -> Vec<crate::case::CaseJob> {
    vec![crate::jobs::OnDemand::job(store::wages::complaints::DUE_JOB, state, complaint_due)]
}

fn complaint_due<'a>(
    state: &'a crate::state::AppState,
    tx: &'a mut store::Tx,
    job: &'a store::jobs::Job,
    now: time::OffsetDateTime,
) -> crate::case::BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        let id = job.payload["complaint"].as_str().ok_or("payload without complaint")?;
        store::wages::complaints::due(tx, &state.config(), now, id).await.map_err(|e| e.to_string())
    })
}

fn routes() -> Routes {
    Routes::default()
        .merge(pages::routes())
        .merge(complaints::routes())
        .merge(import::routes())
        .merge(labor::routes())
        .merge(people::routes())
        .merge(refund::routes())
        .merge(talent::routes())
        .merge(api::routes())
}
