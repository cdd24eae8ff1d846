//! What every handler can reach.

use crate::access::RouteInfo;
use crate::metrics::Metrics;
use domain::auth::{LockoutPolicy, SessionPolicy};
use domain::calendar::WorkCalendar;
use domain::clock::Clock;
use std::sync::{Arc, RwLock};
use store::Db;
use store::config::CityConfig;
use time::Duration;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    /// The configuration; replaced whole when an administrator edits the service catalog, so a
    /// request keeps the version it started with.
    config: RwLock<Arc<CityConfig>>,
    pub clock: Arc<dyn Clock>,
    pub calendar: RwLock<Arc<WorkCalendar>>,
    pub metrics: Metrics,
    pub lockout: LockoutPolicy,
    pub sessions: SessionPolicy,
    /// Mark cookies `Secure` (behind HTTPS). Intranet deployments on plain HTTP leave it off.
    pub secure_cookies: bool,
    pub routes: RwLock<Arc<Vec<RouteInfo>>>,
    pub job_waker: Option<Arc<tokio::sync::Notify>>,
    /// Encrypts the department e-seals' private keys (a file outside the database).
    pub seal_key: Option<Arc<store::services::seals::MasterKey>>,
    /// Service items suspended by administrators (code → reason), kept in step with the
    /// database by the only process that changes it.
    pub suspended_items: RwLock<std::collections::BTreeMap<String, String>>,
    /// Saved catalog versions that no longer fit the configuration files (skipped at start).
    pub catalog_warnings: RwLock<Vec<String>>,
    /// Held while an administrator's catalog edit is checked, saved and swapped in, so two
    /// edits cannot each start from the configuration before the other.
    pub catalog_edit: tokio::sync::Mutex<()>,
    /// Sessions and principals of the last two seconds.
    pub auth_cache: crate::auth_cache::AuthCache,
    /// Per-source login limits, password-check slots, and the shadow count of unknown logins.
    pub login_guard: crate::login_guard::LoginGuard,
    /// The audit chain's signed checkpoints outside the database (`None` in tests that build
    /// state by hand).
    pub audit_anchor: Option<Arc<store::audit::Anchor>>,
    /// Repeated refusals from one source, gathered into counted audit records.
    pub refusals: crate::refusals::Refusals,
    /// Spreadsheet uploads being parsed (`import::PARSES_AT_ONCE`).
    pub import_slots: tokio::sync::Semaphore,
    /// Group commit of service applications, started with the server.
    pub submit_queue: std::sync::OnceLock<crate::services::submit_queue::SubmitQueue>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, config: Arc<CityConfig>, clock: Arc<dyn Clock>, calendar: WorkCalendar) -> Self {
        let s = &config.city.security;
        AppState(Arc::new(Inner {
            lockout: LockoutPolicy {
                max_failures: s.max_login_failures,
                lock_for: Duration::minutes(s.lockout_minutes),
            },
            sessions: SessionPolicy {
                idle: Duration::minutes(s.idle_timeout_minutes),
                absolute: Duration::hours(s.session_max_hours),
            },
            login_guard: crate::login_guard::LoginGuard::new(s),
            import_slots: tokio::sync::Semaphore::new(crate::import::PARSES_AT_ONCE),
            refusals: Default::default(),
            audit_anchor: None,
            db,
            config: RwLock::new(config),
            clock,
            calendar: RwLock::new(Arc::new(calendar)),
            metrics: Metrics::default(),
            secure_cookies: false,
            routes: RwLock::new(Arc::new(vec![])),
            job_waker: None,
            seal_key: None,
            submit_queue: std::sync::OnceLock::new(),
            auth_cache: Default::default(),
            suspended_items: Default::default(),
            catalog_warnings: Default::default(),
            catalog_edit: Default::default(),
        }))
    }

    /// Builder-style options, only before the state is shared.
    pub fn with_options(self, secure_cookies: bool, job_waker: Option<Arc<tokio::sync::Notify>>) -> Self {
        let mut inner = Arc::try_unwrap(self.0).unwrap_or_else(|_| panic!("state already shared"));
        inner.secure_cookies = secure_cookies;
        inner.job_waker = job_waker;
        AppState(Arc::new(inner))
    }

    /// Builder-style: the audit anchor, only before the state is shared.
    pub fn with_audit_anchor(self, anchor: store::audit::Anchor) -> Self {
        let mut inner = Arc::try_unwrap(self.0).unwrap_or_else(|_| panic!("state already shared"));
        inner.audit_anchor = Some(Arc::new(anchor));
        AppState(Arc::new(inner))
    }

    /// Builder-style: the e-seal master key, only before the state is shared.
    pub fn with_seal_key(self, key: store::services::seals::MasterKey) -> Self {
        let mut inner = Arc::try_unwrap(self.0).unwrap_or_else(|_| panic!("state already shared"));
        inner.seal_key = Some(Arc::new(key));
        AppState(Arc::new(inner))
    }

    pub fn downgrade(&self) -> std::sync::Weak<Inner> {
        Arc::downgrade(&self.0)
    }

    pub fn from_inner(inner: Arc<Inner>) -> Self {
        AppState(inner)
    }

    /// The submission queue, started on first use (inside the runtime).
    pub fn submit_queue(&self) -> &crate::services::submit_queue::SubmitQueue {
        self.submit_queue.get_or_init(|| crate::services::submit_queue::SubmitQueue::start(self))
    }

    /// Why an item is suspended, if it is.
    pub fn suspended(&self, code: &str) -> Option<String> {
        self.suspended_items.read().expect("suspended lock").get(code).cloned()
    }

    pub fn config(&self) -> Arc<CityConfig> {
        self.config.read().expect("config lock").clone()
    }

    pub fn set_config(&self, cfg: CityConfig) {
        self.set_config_arc(Arc::new(cfg));
    }

    pub fn set_config_arc(&self, cfg: Arc<CityConfig>) {
        *self.config.write().expect("config lock") = cfg;
    }

    pub fn calendar(&self) -> Arc<WorkCalendar> {
        self.calendar.read().expect("calendar lock").clone()
    }

    pub fn set_calendar(&self, cal: WorkCalendar) {
        *self.calendar.write().expect("calendar lock") = Arc::new(cal);
    }

    pub fn route_table(&self) -> Arc<Vec<RouteInfo>> {
        self.routes.read().expect("routes lock").clone()
    }
}
