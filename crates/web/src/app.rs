//! Building and running the whole application: database, configuration, demo data, jobs and
//! the HTTP server. The CLI and the integration tests both start the server through here.

use crate::state::AppState;
use domain::clock::Clock;
use std::net::SocketAddr;
use std::sync::Arc;
use store::Db;
use store::config::CityConfig;
use store::demo::DemoReport;
use store::jobs::JobRunner;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub struct Options {
    pub database_url: String,
    /// Where the install keeps its keys and audit checkpoints when the database is not a
    /// SQLite file beside them (see `store::keys::home_of`).
    pub data_dir: std::path::PathBuf,
    /// Run pending migrations on a PostgreSQL database (a SQLite file is always migrated: it
    /// is the embedded default and has no separate operator). Without it, serve refuses a
    /// PostgreSQL database that is behind this build and says to run `yingshang migrate`.
    pub migrate: bool,
    /// A streaming replica of the PostgreSQL database that statistics and exports read
    /// (`--replica-url`), while it follows closely; otherwise they read the primary.
    pub replica_url: Option<String>,
    pub config: Arc<CityConfig>,
    pub clock: Arc<dyn Clock>,
    /// Load the demo city if it was never loaded.
    pub demo: bool,
    pub demo_scale: Option<u32>,
    pub secure_cookies: bool,
}

pub struct Application {
    pub state: AppState,
    router: axum::Router,
    pub runner: Arc<JobRunner>,
    /// Set when this start loaded the demo city.
    pub demo: Option<DemoReport>,
    /// Set when this start created the first administrator (no demo).
    pub initial_admin_password: Option<String>,
}

impl Application {
    pub async fn build(opts: Options) -> Result<Application, store::StoreError> {
        let mut db = Db::connect(&opts.database_url).await?;
        if let Some(url) = &opts.replica_url {
            db = db.with_replica(url)?;
            log_replica(&db, None, db.check_replica().await);
        }
        if db.backend() == store::Backend::Postgres && !opts.migrate {
            let pending = db.pending_migrations().await?;
            if !pending.is_empty() {
                let names: Vec<String> = pending.iter().map(|(v, d)| format!("{v:04} {d}")).collect();
                return Err(store::StoreError::Other(format!(
                    "数据库尚未迁移到本版本（待执行 {} 项：{}）：请先运行 yingshang migrate，或以 --migrate 启动",
                    pending.len(),
                    names.join("，")
                )));
            }
        }
        db.migrate().await?;
        if db.backend() == store::Backend::Sqlite && opts.config.city.security.log_retention_months > 0 {
            return Err(store::StoreError::Other(
                "[security] log_retention_months 按月删除日志只在 PostgreSQL 上提供（按分区删除）；SQLite 上审计日志永久保留，请设为 0".into(),
            ));
        }
        let home = store::keys::home_of(&opts.database_url, &opts.data_dir);
        let now = opts.clock.now();
        // The months partitioned tables need (PostgreSQL), made before the first request so that
        // no row waits in a default partition; the nightly job keeps them ahead.
        let made = {
            let mut tx = db.begin().await?;
            let made = store::partitions::ensure_all(&mut tx, now).await?;
            tx.commit().await?;
            made
        };
        if !made.made.is_empty() {
            tracing::info!(made = made.made.len(), moved = made.moved, "monthly partitions made");
        }
        store::demo::bootstrap(&db, &opts.config, now).await?;
        let (demo, initial_admin_password) = if opts.demo {
            (store::demo::load_demo(&db, &opts.config, now, opts.demo_scale).await?, None)
        } else {
            (None, store::demo::ensure_admin(&db, now).await?)
        };
        let calendar =
            store::holidays::calendar(&db, &opts.config.holidays, opts.config.city.working_hours.clone()).await?;
        if let Some(w) = calendar.coverage_warning(opts.clock.today()) {
            tracing::warn!("{w}");
        }
        let mut runner = JobRunner::new(db.clone(), opts.clock.clone());
        let waker = runner.waker();
        let clock = opts.clock.clone();
        let seal_key = store::services::seals::MasterKey::open(&store::services::seals::key_path(&home)?)?;
        let anchor = store::audit::Anchor::for_home(&home)?;
        let state = AppState::new(db, opts.config, opts.clock, calendar)
            .with_options(opts.secure_cookies, Some(waker))
            .with_seal_key(seal_key)
            .with_audit_anchor(anchor);
        for case in crate::case::CASES {
            (case.start)(&state).await?;
        }
        crate::jobs::setup(&mut runner, &state, &clock).await?;
        let router = crate::router(state.clone());
        Ok(Application { state, router, runner: Arc::new(runner), demo, initial_admin_password })
    }

    /// Serves until `shutdown` resolves; the job runner runs alongside and stops with it.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (tx, rx) = watch::channel(false);
        let background: Vec<_> =
            crate::case::CASES.iter().filter_map(|c| c.background).map(|b| b(self.state.clone(), rx.clone())).collect();
        let refusals = tokio::spawn(flush_refusals(self.state.clone(), rx.clone()));
        let changes = match store::changes::listen(&self.state.db).await {
            Ok(l) => l.map(|l| tokio::spawn(follow_changes(self.state.clone(), l, rx.clone()))),
            Err(e) => return Err(std::io::Error::other(format!("无法接收其他服务进程的变更通知：{e}"))),
        };
        let replica = self
            .state
            .db
            .replica_url()
            .is_some()
            .then(|| tokio::spawn(watch_replica(self.state.db.clone(), rx.clone())));
        let jobs = self.runner.clone().spawn(rx);
        self.state.metrics.mark_started();
        let app = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
        let _ = tx.send(true);
        let _ = jobs.await;
        for b in background {
            let _ = b.await;
        }
        let _ = refusals.await;
        if let Some(r) = replica {
            let _ = r.await;
        }
        if let Some(c) = changes {
            let _ = c.await;
        }
        self.state.db.close().await;
        result
    }
}

/// Reloads what another server process on the database announced it changed; after a lost
/// connection, everything (a notice may have been missed).
async fn follow_changes(state: AppState, mut listener: store::changes::Listener, mut stop: watch::Receiver<bool>) {
    use store::changes::{Change, Heard};
    loop {
        let heard = tokio::select! {
            h = listener.next() => h,
            _ = stop.changed() => return,
        };
        let changes = match heard {
            Heard::Change(c) => vec![c],
            Heard::Lost => vec![Change::Auth, Change::Calendar, Change::Config],
        };
        for c in changes {
            match state.reload(c).await {
                Ok(()) => tracing::debug!(change = c.as_str(), "reloaded after another process's change"),
                Err(e) => tracing::error!(error = %e, change = c.as_str(), "重新加载失败"),
            }
        }
    }
}

/// Every minute, and on the way out: writes the counted records of repeated refusals whose
/// interval has ended, then a signed checkpoint of the audit chain's head.
async fn flush_refusals(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => false,
            _ = stop.changed() => true,
        };
        let now = state.clock.now();
        for e in state.refusals.due(now, stopping) {
            if let Err(err) = store::audit::record(&state.db, now, e).await {
                tracing::error!(error = %err, "audit of repeated refusals failed");
            }
        }
        // The chain's head, signed, outside the database (and in the log).
        if let Some(a) = &state.audit_anchor
            && let Err(err) = a.checkpoint(&state.db, now).await
        {
            tracing::error!(error = %err, "audit checkpoint failed");
        }
        if stopping || *stop.borrow() {
            return;
        }
    }
}

/// Checks the replica every five seconds, so that reports leave it when it falls behind or
/// goes away and come back when it follows again; says so in the log on every change.
async fn watch_replica(db: Db, mut stop: watch::Receiver<bool>) {
    // The start logged the first state; from here only changes are logged.
    let mut last = db.check_replica().await;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
            _ = stop.changed() => return,
        }
        let now = db.check_replica().await;
        log_replica(&db, last.as_ref(), now.clone());
        last = now;
    }
}

fn log_replica(db: &Db, before: Option<&store::ReplicaStatus>, now: Option<store::ReplicaStatus>) {
    use store::ReplicaStatus as R;
    let url = db.replica_url().unwrap_or_default();
    match (before, now) {
        (Some(R::Following { .. }), Some(R::Following { .. })) => {}
        (_, Some(R::Following { lag_bytes })) => {
            tracing::info!(replica = url, lag_bytes, "statistics and exports read the streaming replica")
        }
        (Some(b), Some(n)) if std::mem::discriminant(b) == std::mem::discriminant(&n) => {}
        (_, Some(R::Unsuitable(why) | R::Unreachable(why))) => {
            tracing::warn!(replica = url, "只读备库暂不可用（{why}），统计与导出改由主库提供")
        }
        (_, None) => {}
    }
}
