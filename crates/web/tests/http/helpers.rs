use domain::clock::FakeClock;
use reqwest::StatusCode;
use std::path::PathBuf;
use std::sync::Arc;
use store::config::{CityConfig, ConfigSource};
use tempfile::TempDir;
use time::macros::datetime;
use web::app::{Application, Options};
use web::state::AppState;

pub const DEMO_PASSWORD: &str = "Yingshang@2026";

pub struct TestApp {
    pub base: String,
    pub clock: Arc<FakeClock>,
    pub state: AppState,
    /// The demo bank system's token.
    pub api_token: String,
    /// Every demo system account's token by login (bank-api, data-hub, location-gw, scjg-sys).
    pub tokens: std::collections::HashMap<String, String>,
    pub config: Arc<CityConfig>,
    dir: TempDir,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub fn config() -> Arc<CityConfig> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config");
    Arc::new(store::config::load(&ConfigSource::Dir(dir)).expect("shipped config is valid"))
}

/// Starts the server with the demo city on a temporary database. The clock starts at
/// 2026-11-27 10:00 China time and only moves when a test moves it.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(FakeClock::new(datetime!(2026-11-27 02:00 UTC)));
    spawn_app_in(dir, clock).await
}

/// Starts the demo city with its configuration changed by `change`.
pub async fn spawn_app_with(change: impl FnOnce(&mut CityConfig)) -> TestApp {
    let mut c = (*config()).clone();
    change(&mut c);
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(FakeClock::new(datetime!(2026-11-27 02:00 UTC)));
    start(dir, clock, Arc::new(c)).await
}

/// Builds the application with its configuration changed by `change`, without serving: the
/// refusal at start, if any.
pub async fn build_with(change: impl FnOnce(&mut CityConfig)) -> Result<(), String> {
    let mut c = (*config()).clone();
    change(&mut c);
    let dir = tempfile::tempdir().expect("tempdir");
    Application::build(Options {
        database_url: store::testdb::url_for(dir.path()).await,
        data_dir: dir.path().to_path_buf(),
        migrate: true,
        replica_url: None,
        config: Arc::new(c),
        clock: Arc::new(FakeClock::new(datetime!(2026-11-27 02:00 UTC))),
        demo: false,
        demo_scale: None,
        secure_cookies: false,
    })
    .await
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// Starts (or restarts) the server on an existing data directory with the given clock.
pub async fn spawn_app_in(dir: TempDir, clock: Arc<FakeClock>) -> TestApp {
    start(dir, clock, config()).await
}

/// Starts a second server process on the database of `app` (PostgreSQL only: a SQLite file has
/// one server), with a data directory of its own holding copies of the install's keys, as a
/// second machine behind the load balancer would. Both share the test clock.
pub async fn spawn_beside(app: &TestApp) -> TestApp {
    assert!(store::testdb::on_postgres(), "a second server needs PostgreSQL");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(app.dir.path().join("postgres.url"), dir.path().join("postgres.url")).expect("database url");
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    for f in std::fs::read_dir(app.dir.path().join("keys")).expect("keys") {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.path().join("keys").join(f.file_name())).unwrap();
    }
    start(dir, app.clock.clone(), app.config.clone()).await
}

/// Starts the demo city as it runs behind HTTPS (`--secure-cookies`).
pub async fn spawn_app_secure() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(FakeClock::new(datetime!(2026-11-27 02:00 UTC)));
    start_with(dir, clock, config(), true, Replica::None).await
}

/// Where a test server's statistics and exports read.
pub enum Replica {
    None,
    /// The test database on the replica the tests were given (`YINGSHANG_TEST_REPLICA`).
    Test,
    /// Any URL (one where nothing listens, to see the server do without).
    Url(String),
}

/// Starts the demo city with a streaming replica for reports (PostgreSQL).
pub async fn spawn_app_with_replica(replica: Replica) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(FakeClock::new(datetime!(2026-11-27 02:00 UTC)));
    start_with(dir, clock, config(), false, replica).await
}

async fn start(dir: TempDir, clock: Arc<FakeClock>, config: Arc<CityConfig>) -> TestApp {
    start_with(dir, clock, config, false, Replica::None).await
}

async fn start_with(
    dir: TempDir,
    clock: Arc<FakeClock>,
    config: Arc<CityConfig>,
    secure_cookies: bool,
    replica: Replica,
) -> TestApp {
    let database_url = store::testdb::url_for(dir.path()).await;
    let replica_url = match replica {
        Replica::None => None,
        Replica::Test => Some(store::testdb::replica_url_for(dir.path()).expect("YINGSHANG_TEST_REPLICA")),
        Replica::Url(u) => Some(u),
    };
    let app = Application::build(Options {
        database_url,
        data_dir: dir.path().to_path_buf(),
        migrate: true,
        replica_url,
        config: config.clone(),
        clock: clock.clone(),
        demo: true,
        demo_scale: Some(1),
        secure_cookies,
    })
    .await
    .expect("application builds");
    let api_token = app.demo.as_ref().and_then(|d| d.api_token.clone()).unwrap_or_default();
    let tokens = app
        .demo
        .as_ref()
        .map(|d| d.system_tokens.iter().map(|(login, _, t)| (login.clone(), t.clone())).collect())
        .unwrap_or_default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = app.state.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(listener, async {
        let _ = rx.await;
    }));
    TestApp { base, clock, state, api_token, tokens, config, dir, stop: tx, server }
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

pub struct Page {
    pub status: StatusCode,
    pub body: String,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    pub fn csrf(&self) -> String {
        csrf_of(&self.body)
    }
}

pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).expect("page has a CSRF field");
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}

impl Client {
    async fn page(r: reqwest::Response) -> Page {
        let status = r.status();
        let headers = r.headers().clone();
        let location = headers.get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        Page { status, body: r.text().await.unwrap_or_default(), location, headers }
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::page(self.http.get(format!("{}{path}", self.base)).send().await.expect("request")).await
    }

    /// A download: status, content type and the bytes.
    pub async fn get_bytes(&self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.expect("request");
        let status = r.status();
        let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        (status, ct, r.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Self::page(self.http.post(format!("{}{path}", self.base)).form(form).send().await.expect("request")).await
    }

    /// Posts a form with the CSRF token taken from `from` (the page that shows the form).
    pub async fn submit(&self, from: &str, path: &str, form: &[(&str, &str)]) -> Page {
        let token = self.get(from).await.csrf();
        let mut f: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        f.extend_from_slice(form);
        self.post(path, &f).await
    }
}

impl TestApp {
    /// Stops the server and its job runner completely; returns the data directory.
    pub async fn shut_down(self) -> TempDir {
        let _ = self.stop.send(());
        self.server.await.expect("server task").expect("server stopped cleanly");
        self.dir
    }

    pub fn client(&self) -> Client {
        let http =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Client { http, base: self.base.clone() }
    }

    pub async fn try_login(&self, account: &str, password: &str) -> (Client, Page) {
        let c = self.client();
        let token = c.get("/login").await.csrf();
        let p = c.post("/login", &[("_csrf", &token), ("account", account), ("password", password)]).await;
        (c, p)
    }

    /// Logs in and checks it worked.
    pub async fn login(&self, account: &str) -> Client {
        let (c, p) = self.try_login(account, DEMO_PASSWORD).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "login of {account} failed: {}", p.body);
        c
    }

    /// The login of the demo account holding `role` (enterprise and citizen logins are
    /// generated identifiers).
    pub async fn login_of(&self, role: &str) -> String {
        let logins = store::demo::demo_logins(&self.state.db, &self.config).await.unwrap();
        let name = self.config.roles.iter().find(|r| r.code == role).expect("role").name.clone();
        logins.into_iter().find(|l| l.roles == name).expect("demo login").login
    }

    pub async fn audit_actions(&self) -> Vec<(String, String, String, String)> {
        let page =
            store::audit::list(&self.state.db, &Default::default(), store::sql::PageRequest::new(Some(1), Some(200)))
                .await
                .unwrap();
        page.items
            .into_iter()
            .map(|r| (r.entry.action, r.entry.outcome.as_str().to_string(), r.entry.object_id, r.entry.detail))
            .collect()
    }

    pub fn api(&self) -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// A demo system account's token.
    pub fn token(&self, login: &str) -> &str {
        self.tokens.get(login).unwrap_or_else(|| panic!("no demo token for {login}"))
    }

    /// Sends a batch to `POST /api/v1/wages/ingest/{kind}` as the system that feeds it: the
    /// bank for transfers, deposits and inflows, the data-sharing platform for the rest; the
    /// report (the request must succeed).
    pub async fn ingest(&self, kind: &str, rows: serde_json::Value) -> serde_json::Value {
        let from =
            if matches!(kind, "payments" | "deposits" | "allocations" | "debits") { "bank-api" } else { "data-hub" };
        let r = self
            .api()
            .post(format!("{}/api/v1/wages/ingest/{kind}", self.base))
            .bearer_auth(self.token(from))
            .json(&serde_json::json!({ "rows": rows }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{kind}: {body}");
        body
    }

    /// GET an API path with the demo bank system's token; the JSON body whatever the status.
    pub async fn api_get(&self, path: &str) -> serde_json::Value {
        let r = self.api().get(format!("{}{path}", self.base)).bearer_auth(&self.api_token).send().await.unwrap();
        r.json().await.unwrap()
    }
}

/// The demo general contractor's login (its USCC).
pub async fn contractor_login(app: &TestApp) -> String {
    store::demo::demo_logins(&app.state.db, &app.config)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.roles == "企业用户（总包单位）")
        .expect("demo contractor")
        .login
}

/// A PDF copy: an A4 PDF when the machine has a CJK font (CI installs fonts-noto-cjk), else the
/// Chinese 503 that tells the administrator what to install — never a 500.
pub fn assert_pdf(download: &(StatusCode, String, Vec<u8>)) {
    let (status, ct, bytes) = download;
    if *status == StatusCode::SERVICE_UNAVAILABLE {
        assert!(String::from_utf8_lossy(bytes).contains("fonts-noto-cjk"));
        assert!(std::env::var("CI").is_err(), "CI installs a CJK font");
        return;
    }
    assert_eq!(*status, StatusCode::OK);
    assert_eq!(ct, "application/pdf");
    assert!(bytes.starts_with(b"%PDF-") && bytes.len() > 5_000, "{} bytes", bytes.len());
}
