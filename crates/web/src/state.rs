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
    /// The configuration as read from files, before anything saved in the database was
    /// applied (a reload applies that again to this).
    pub base_config: Arc<CityConfig>,
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
    /// Each case's own state, by type (`AppState::case_state`), so the shell holds no case's
    /// fields.
    case_state: std::sync::Mutex<std::collections::HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>,
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
            base_config: config.clone(),
            config: RwLock::new(config),
            clock,
            calendar: RwLock::new(Arc::new(calendar)),
            metrics: Metrics::default(),
            secure_cookies: false,
            routes: RwLock::new(Arc::new(vec![])),
            job_waker: None,
            seal_key: None,
            case_state: Default::default(),
            auth_cache: Default::default(),
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

    /// A case's state of type `T`, created empty on first use.
    pub fn case_state<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut m = self.case_state.lock().expect("case state lock");
        let any = m.entry(std::any::TypeId::of::<T>()).or_insert_with(|| Arc::new(T::default())).clone();
        any.downcast::<T>().expect("case state keyed by its type")
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

    /// Tells the other server processes on the database that `change` was committed (see
    /// `store::changes`). The change is already made here; a failure to tell is logged (the
    /// session cache expires in two seconds; the others reload at their next start).
    pub async fn announce(&self, change: store::changes::Change) {
        if let Err(e) = store::changes::announce(&self.db, change).await {
            tracing::warn!(error = %e, change = change.as_str(), "变更通知发送失败");
        }
    }

    /// Reloads what `change` names from the database: another process announced it.
    pub async fn reload(&self, change: store::changes::Change) -> store::Result<()> {
        use store::changes::Change;
        match change {
            Change::Auth => self.auth_cache.clear(),
            Change::Calendar => {
                let cfg = self.config();
                let cal = store::holidays::calendar(&self.db, &cfg.holidays, cfg.city.working_hours.clone()).await?;
                self.set_calendar(cal);
            }
            Change::Config => {
                for case in crate::case::CASES {
                    (case.reload)(self).await?;
                }
            }
        }
        Ok(())
    }

    pub fn route_table(&self) -> Arc<Vec<RouteInfo>> {
        self.routes.read().expect("routes lock").clone()
    }
}
