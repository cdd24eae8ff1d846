//! 一键申报 (one-click services): the item catalogue and its editor, applications prefilled from
//! shared data and verified in one click, cross-department verification, the data exchange and
//! e-licenses. See README.md.

pub mod actions;
pub mod admin;
pub mod api;
pub mod catalog_edit;
pub mod jobs;
pub mod licenses;
pub mod pages;
pub mod service;
pub mod stability;
mod stats;
pub mod submit_queue;

use crate::access::Routes;
use crate::case::Case;
use crate::layout::NavDef;
use crate::state::AppState;
use domain::auth::perm;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, RwLock};

pub const CASE: Case = Case {
    name: "services",
    title: "一键申报",
    routes,
    nav: NAV,
    audit_actions: &[domain::services::ServicesAudit::LABELS],
    audit_objects: domain::services::AUDIT_OBJECTS,
    jobs: jobs::jobs,
    start: jobs::start,
    reload: jobs::start,
    background: None,
};

const NAV: &[NavDef] = &[
    NavDef { label: "一键申报专区", href: "/services", perm: None, group: "一键申报" },
    NavDef { label: "我的办件", href: "/services/mine", perm: Some(perm::WORKFLOW_APPLY), group: "一键申报" },
    NavDef {
        label: "申报审批", href: "/services/applications", perm: Some(perm::WORKFLOW_ACT), group: "一键申报"
    },
    NavDef {
        label: "跨部门协查", href: "/services/xrequests", perm: Some(perm::WORKFLOW_ACT), group: "一键申报"
    },
    NavDef { label: "申报统计", href: "/services/stats", perm: Some(perm::WORKFLOW_STATS), group: "一键申报" },
    NavDef {
        label: "稳岗返还（免申即享）",
        href: "/services/stability",
        perm: Some(perm::SERVICES_STABILITY),
        group: "一键申报",
    },
    NavDef {
        label: "稳岗返还",
        href: "/services/stability/mine",
        perm: Some(perm::SELF_ENTERPRISE),
        group: "一键申报",
    },
    NavDef { label: "共享数据", href: "/exchange", perm: Some(perm::EXCHANGE_VIEW), group: "一键申报" },
    NavDef { label: "证照核验", href: "/licenses/verify", perm: None, group: "一键申报" },
];

fn routes() -> Routes {
    Routes::default()
        .merge(pages::routes())
        .merge(actions::routes())
        .merge(stats::routes())
        .merge(licenses::routes())
        .merge(admin::routes())
        .merge(catalog_edit::routes())
        .merge(api::routes())
        .merge(stability::routes())
}

/// What the services case keeps in the running application.
#[derive(Default)]
pub struct ServicesState {
    /// Service items suspended by administrators (code → reason), kept in step with the
    /// database by the only process that changes it.
    pub suspended_items: RwLock<BTreeMap<String, String>>,
    /// Saved catalog versions that no longer fit the configuration files (skipped at start).
    pub catalog_warnings: RwLock<Vec<String>>,
    /// Held while an administrator's catalog edit is checked, saved and swapped in, so two
    /// edits cannot each start from the configuration before the other.
    pub catalog_edit: tokio::sync::Mutex<()>,
    /// Group commit of service applications, started on first use (inside the runtime).
    submit_queue: OnceLock<submit_queue::SubmitQueue>,
}

impl ServicesState {
    /// Why an item is suspended, if it is.
    pub fn suspended(&self, code: &str) -> Option<String> {
        self.suspended_items.read().expect("suspended lock").get(code).cloned()
    }

    pub fn submit_queue(&self, app: &AppState) -> &submit_queue::SubmitQueue {
        self.submit_queue.get_or_init(|| submit_queue::SubmitQueue::start(app))
    }
}

/// The services case's state in `app`.
pub fn state(app: &AppState) -> Arc<ServicesState> {
    app.case_state::<ServicesState>()
}
