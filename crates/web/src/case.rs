//! The seam between the shell and the cases (业务场景). A case is a folder with the same name in
//! `domain`, `store` and `web`; in `web` it exposes one [`Case`] value, and [`CASES`] lists
//! them — one line per case. The shell (routes, navigation, audit labels, jobs, start-up)
//! reads everything case-specific from here and names no case itself.

use crate::access::Routes;
use crate::layout::NavDef;
use crate::state::AppState;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use store::jobs::JobHandler;
use tokio::sync::watch;

/// A task that runs beside the server until `stop` turns true.
pub type Background = fn(AppState, watch::Receiver<bool>) -> tokio::task::JoinHandle<()>;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A job handler a case registers, and whether the shell keeps it scheduled.
pub struct CaseJob {
    pub name: &'static str,
    pub handler: Arc<dyn JobHandler>,
    /// `Some`: a recurring job the shell schedules at start (`jobs::Every`); `None`: enqueued
    /// by the case's own work (deadlines).
    pub every: Option<crate::jobs::Every>,
    /// A recurring job that also runs once at start (catching up what earlier nights missed).
    pub at_start: bool,
}

/// Everything a case adds to the application.
pub struct Case {
    /// The folder name in every crate (`wages`).
    pub name: &'static str,
    /// Its Chinese name (满薪满益).
    pub title: &'static str,
    /// Pages and API, each with its access rule; API routes go through utoipa-axum, so the
    /// OpenAPI document is generated from them.
    pub routes: fn() -> Routes,
    /// Navigation entries, in order, under the case's group headings.
    pub nav: &'static [NavDef],
    /// (code, Chinese label) of every audit action the case records (an `audit_actions!` enum).
    pub audit_actions: &'static [&'static [(&'static str, &'static str)]],
    /// (object type, Chinese name) of the objects its audit records name.
    pub audit_objects: &'static [(&'static str, &'static str)],
    /// Job handlers, built with the application state.
    pub jobs: fn(&AppState) -> Vec<CaseJob>,
    /// Work at start, after the state exists (recovery, caches, saved configuration).
    pub start: for<'a> fn(&'a AppState) -> BoxFuture<'a, store::Result<()>>,
    /// Reloads what the case keeps in memory from saved configuration, when another server
    /// process on the database announces a change (`store::changes::Change::Config`).
    pub reload: for<'a> fn(&'a AppState) -> BoxFuture<'a, store::Result<()>>,
    /// A background task that runs while the server runs and finishes when `stop` turns true.
    pub background: Option<Background>,
}

/// Every case of the product, registered here and nowhere else.
pub const CASES: &[&Case] = &[&crate::wages::CASE, &crate::supervision::CASE, &crate::services::CASE];

/// Every case's alert subject sources (registered in the store, `store::cases`), for the
/// engine's runs over all subjects.
pub fn subject_sources() -> &'static [&'static dyn store::alerts::SubjectSource] {
    store::cases::SUBJECT_SOURCES
}

/// The source of one subject type, if a case provides it.
pub fn subject_source(subject_type: &str) -> Option<&'static dyn store::alerts::SubjectSource> {
    store::cases::SUBJECT_SOURCES.iter().copied().find(|s| s.subject_type() == subject_type)
}

/// A start-up step that does nothing.
pub fn no_start(_: &AppState) -> BoxFuture<'_, store::Result<()>> {
    Box::pin(async { Ok(()) })
}

/// No job handlers.
pub fn no_jobs(_: &AppState) -> Vec<CaseJob> {
    Vec::new()
}
