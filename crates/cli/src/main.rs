//! `yingshang`: serve the platform, load the demo city, verify the audit chain, check config.

use clap::{Args, Parser, Subcommand};
use domain::clock::{Clock, SystemClock};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use store::config::{CityConfig, ConfigSource};

#[derive(Parser)]
#[command(name = "yingshang", version, about = "营商 Yingshang — 城市营商环境数字化平台")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Place {
    /// Data directory (the SQLite database lives here). Default: $YINGSHANG_DATA or ./data
    #[arg(long, env = "YINGSHANG_DATA", default_value = "data")]
    data: PathBuf,
    /// Database URL, e.g. sqlite://data/yingshang.db. Default: the SQLite file in the data directory.
    #[arg(long, env = "YINGSHANG_DATABASE_URL")]
    database_url: Option<String>,
    /// Configuration directory. Default: ./config if present, else the copy built into the binary.
    #[arg(long, env = "YINGSHANG_CONFIG")]
    config: Option<PathBuf>,
}

impl Place {
    fn url(&self) -> Result<String, String> {
        if let Some(u) = &self.database_url {
            return Ok(u.clone());
        }
        std::fs::create_dir_all(&self.data).map_err(|e| format!("无法创建数据目录 {}：{e}", self.data.display()))?;
        Ok(store::sqlite_url_for_dir(&self.data))
    }

    /// Where keys and audit checkpoints live (beside a SQLite file, else the data directory).
    fn home(&self) -> Result<PathBuf, String> {
        let home = store::keys::home_of(&self.url()?, &self.data);
        std::fs::create_dir_all(&home).map_err(|e| format!("无法创建数据目录 {}：{e}", home.display()))?;
        Ok(home)
    }

    fn config(&self) -> Result<(ConfigSource, CityConfig), String> {
        let source = ConfigSource::locate(self.config.as_deref());
        match store::config::load(&source) {
            Ok(c) => Ok((source, c)),
            Err(errors) => {
                let mut msg = format!("配置有 {} 处错误（{}）：", errors.len(), source.describe());
                for e in errors {
                    msg.push_str(&format!("\n  {e}"));
                }
                Err(msg)
            }
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Start the web server (creates the database and loads the demo city on first start).
    Serve {
        #[command(flatten)]
        place: Place,
        /// Address to listen on.
        #[arg(long, env = "YINGSHANG_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Do not load the demo city; create an administrator with a one-time password instead.
        #[arg(long)]
        no_demo: bool,
        /// Size of the demo city (1 = 500 enterprises, 300 citizens).
        #[arg(long)]
        demo_scale: Option<u32>,
        /// Mark cookies Secure (when served over HTTPS).
        #[arg(long)]
        secure_cookies: bool,
        /// Run pending database migrations before serving (PostgreSQL; a SQLite file is always
        /// migrated). Without it, serve refuses a PostgreSQL database behind this build.
        #[arg(long)]
        migrate: bool,
        /// A streaming replica of the PostgreSQL database: statistics and exports read it
        /// while it follows the primary closely (docs/DEPLOY.md).
        #[arg(long, env = "YINGSHANG_REPLICA_URL")]
        replica_url: Option<String>,
        /// Log format: text or json.
        #[arg(long, env = "YINGSHANG_LOG_FORMAT", default_value = "text")]
        log_format: String,
    },
    /// Bring the database's schema up to this build (run before starting a new release on
    /// PostgreSQL; prints what it ran).
    Migrate {
        #[command(flatten)]
        place: Place,
    },
    /// Load the demo city into the database (once).
    Demo {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        scale: Option<u32>,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Back up a SQLite install while it serves: the database (a consistent snapshot), its keys
    /// and audit checkpoints, with a manifest of SM3 digests.
    Backup {
        #[command(flatten)]
        place: Place,
        /// A new directory for the backup.
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into a new data directory, check every file against the manifest and
    /// verify the audit chain.
    Restore {
        /// The backup directory.
        #[arg(long)]
        from: PathBuf,
        /// The data directory to restore into (must hold no database yet).
        #[arg(long, env = "YINGSHANG_DATA")]
        data: PathBuf,
    },
    /// Validate the configuration without starting the server.
    CheckConfig {
        /// Configuration directory.
        #[arg(long, env = "YINGSHANG_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Account recovery.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API tokens of system accounts (对接系统).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token to a system account, creating the account with the given roles if it does
    /// not exist; the token is printed once. Audited.
    Create {
        #[command(flatten)]
        place: Place,
        /// The system account's login, e.g. bank-icbc.
        login: String,
        /// Display name of a new account.
        #[arg(long, default_value = "对接系统")]
        name: String,
        /// Role codes for a new account (repeatable), e.g. --role system_bank.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Every permission in the catalogue, city-wide: for API testing on a test copy only.
        #[arg(long)]
        all_permissions: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the whole SM3 hash chain; names the first broken record.
    Verify {
        #[command(flatten)]
        place: Place,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Give an account a new one-time password (it must be changed at next login) and unlock it.
    ResetPassword {
        #[command(flatten)]
        place: Place,
        login: String,
    },
}

fn init_logs(format: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("YINGSHANG_LOG").unwrap_or_else(|_| "info,sqlx=warn".into());
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    if format == "json" {
        b.json().init();
    } else {
        b.compact().init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("错误：{msg}");
            ExitCode::FAILURE
        }
    }
}

/// Verifies the audit chain of the database at `url` against its checkpoints: 0 when whole, 2
/// when broken (naming the record).
async fn verify_audit(url: &str, home: &std::path::Path) -> Result<ExitCode, String> {
    let db = store::Db::open(url).await.map_err(|e| e.to_string())?;
    let anchor = store::audit::Anchor::existing_for_home(home).map_err(|e| e.to_string())?;
    let result = store::audit::verify_anchored(&db, anchor.as_ref()).await.map_err(|e| e.to_string())?;
    db.close().await;
    match result {
        Ok(r) => {
            println!("审计链完整：已校验 {} 条记录（链头 #{}）。", r.checked, r.head_seq);
            if r.base_seq > 0 {
                println!("#{} 及之前的记录已按保留期限删除，自 #{} 起校验。", r.base_seq, r.base_seq + 1);
            }
            match &anchor {
                Some(a) => println!("与库外签名检查点一致：{} 个（{}）。", r.checkpoints, a.path().display()),
                None => println!("尚无库外签名检查点（服务运行时每分钟写入一次）。"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(b) => {
            println!("审计链被破坏：{b}");
            Ok(ExitCode::from(2))
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Serve { place, listen, no_demo, demo_scale, secure_cookies, migrate, replica_url, log_format } => {
            init_logs(&log_format);
            serve(place, listen, no_demo, demo_scale, secure_cookies, migrate, replica_url).await
        }
        Command::Migrate { place } => {
            let db = store::Db::connect(&place.url()?).await.map_err(|e| e.to_string())?;
            let pending = db.pending_migrations().await.map_err(|e| e.to_string())?;
            db.migrate().await.map_err(|e| format!("迁移失败：{e}"))?;
            println!("数据库 {}（{}）：", db.url(), db.backend().name());
            if pending.is_empty() {
                println!("  已是最新，无需迁移。");
            }
            for (v, d) in &pending {
                println!("  已执行迁移 {v:04} {d}");
            }
            // PostgreSQL's monthly partitions, so that the first start has nothing to move.
            let mut tx = db.begin().await.map_err(|e| e.to_string())?;
            let made = store::partitions::ensure_all(&mut tx, SystemClock.now()).await.map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
            if !made.made.is_empty() {
                println!("  已建按月分区 {} 个，移入 {} 行", made.made.len(), made.moved);
            }
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { place, scale } => {
            init_logs("text");
            let (_, cfg) = place.config()?;
            let db = store::Db::open(&place.url()?).await.map_err(|e| e.to_string())?;
            let now = SystemClock.now();
            store::demo::bootstrap(&db, &cfg, now).await.map_err(|e| e.to_string())?;
            match store::demo::load_demo(&db, &cfg, now, scale).await.map_err(|e| e.to_string())? {
                Some(r) => {
                    println!("已加载演示城市：网格 {}，市场主体 {}，群众 {}。", r.grids, r.enterprises, r.citizens);
                    print_tokens(&r);
                    print_logins(&db, &cfg).await;
                }
                None => println!("演示数据此前已加载，未重复加载。"),
            }
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Verify { place } } => verify_audit(&place.url()?, &place.home()?).await,
        Command::Backup { place, to } => {
            let url = place.url()?;
            if !url.starts_with("sqlite:") {
                return Err("yingshang backup 用于 SQLite；PostgreSQL 请用 pg_dump（见 docs/DEPLOY.md）".into());
            }
            let entries = store::backup::backup(&url, &place.data, &to).await.map_err(|e| e.to_string())?;
            println!("已备份到 {}：", to.display());
            for e in &entries {
                println!("  {}（{} 字节，SM3 {}…）", e.path, e.size, &e.sm3[..16]);
            }
            println!("其中 keys/ 为印章主密钥和审计密钥，请与数据库分开妥善保管。");
            for var in ["YINGSHANG_SEAL_KEY_FILE", "YINGSHANG_AUDIT_KEY_FILE"] {
                if let Ok(path) = std::env::var(var) {
                    println!("注意：{var} 指向数据目录以外的 {path}，该文件未包含在备份中，请另行备份。");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { from, data } => {
            let entries = store::backup::restore(&from, &data).map_err(|e| e.to_string())?;
            println!("已按清单校验并恢复 {} 个文件到 {}。", entries.len(), data.display());
            verify_audit(&store::sqlite_url_for_dir(&data), &data).await
        }
        Command::CheckConfig { config } => {
            let place = Place { data: PathBuf::from("data"), database_url: None, config };
            let (source, cfg) = place.config()?;
            println!("配置有效（{}）：", source.describe());
            println!(
                "  城市 {}（{}），区划 {} 个，乡镇街道 {} 个",
                cfg.city.name,
                cfg.city.division_code,
                cfg.divisions.len(),
                cfg.towns.len()
            );
            println!(
                "  部门 {} 个，角色 {} 个，演示账号 {} 个",
                cfg.departments.len(),
                cfg.roles.len(),
                cfg.demo.accounts.len()
            );
            // Service items' workflows (svc.*) are counted with the items, not listed.
            let flows: Vec<&str> =
                cfg.workflows.iter().map(|w| w.id.as_str()).filter(|id| !id.starts_with("svc.")).collect();
            println!(
                "  事实模式 {} 个，审批流程 {} 个（{}），退回/不予受理理由 {} 条，预警指标 {} 个，评分模型 {} 个",
                cfg.schemas.len(),
                flows.len(),
                flows.join("、"),
                cfg.reasons.len(),
                cfg.indicators.len(),
                cfg.scores.len()
            );
            let s = &cfg.services;
            println!(
                "  一键申报：事项 {} 个（其中一键申报 {} 个），数据接口 {} 个，证照类型 {} 类",
                s.items.len(),
                s.items.iter().filter(|i| i.one_click()).count(),
                s.interfaces.len(),
                s.license_types.len()
            );
            let years: Vec<String> = cfg.holidays.iter().map(|h| h.year.to_string()).collect();
            println!("  节假日表：{}", years.join("、"));
            let cal = domain::calendar::WorkCalendar::new(cfg.holidays.clone(), cfg.city.working_hours.clone());
            if let Some(w) = cal.coverage_warning(SystemClock.today()) {
                println!("  警告：{w}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { command: TokenCommand::Create { place, login, name, roles, all_permissions } } => {
            let db = store::Db::open(&place.url()?).await.map_err(|e| e.to_string())?;
            let token = issue_token(&db, &login, &name, &roles, all_permissions).await?;
            db.close().await;
            println!("{token}");
            eprintln!("已为对接系统账号 {login} 签发接口令牌（只显示这一次）。");
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::ResetPassword { place, login } } => {
            let db = store::Db::open(&place.url()?).await.map_err(|e| e.to_string())?;
            let user = store::auth::user_by_login(&db, &login)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("账号“{login}”不存在"))?;
            let password = format!("Ys#{}a", store::random_token(8));
            let hash = domain::auth::password::hash(&password, &store::random_bytes::<16>());
            let now = SystemClock.now();
            let mut tx = db.begin().await.map_err(|e| e.to_string())?;
            store::auth::set_password(&mut tx, now, &user.id, &hash, true).await.map_err(|e| e.to_string())?;
            store::auth::end_user_sessions(&mut tx, now, &user.id, "password_reset")
                .await
                .map_err(|e| e.to_string())?;
            let e = domain::audit::AuditEntry::new(domain::audit::CoreAudit::PasswordReset, "user", &user.id)
                .by("cli", "命令行")
                .detail("通过命令行重置密码并解锁");
            store::audit::append(&mut tx, now, e).await.map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
            db.close().await;
            println!("账号 {login} 的一次性密码：{password}（登录后须立即修改）");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Pads to a terminal width where each Chinese character takes two columns.
fn pad(s: &str, width: usize) -> String {
    let w: usize = s.chars().map(|c| if c >= '\u{2E80}' { 2 } else { 1 }).sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

async fn print_logins(db: &store::Db, cfg: &CityConfig) {
    if let Ok(logins) = store::demo::demo_logins(db, cfg).await
        && !logins.is_empty()
    {
        println!("演示账号（密码均为 {}）：", cfg.demo.password);
        for l in logins {
            println!("  {} {} {}", pad(&l.login, 20), pad(&l.roles, 14), l.name);
        }
    }
}

async fn serve(
    place: Place,
    listen: String,
    no_demo: bool,
    demo_scale: Option<u32>,
    secure_cookies: bool,
    migrate: bool,
    replica_url: Option<String>,
) -> Result<ExitCode, String> {
    let (source, cfg) = place.config()?;
    let url = place.url()?;
    let cfg = Arc::new(cfg);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let listener = tokio::net::TcpListener::bind(&listen).await.map_err(|e| format!("无法监听 {listen}：{e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = web::app::Application::build(web::app::Options {
        database_url: url.clone(),
        data_dir: place.home()?,
        migrate,
        replica_url,
        config: cfg.clone(),
        clock,
        demo: !no_demo,
        demo_scale,
        secure_cookies,
    })
    .await
    .map_err(|e| format!("启动失败：{e}"))?;

    println!("营商 Yingshang {} — {}", env!("CARGO_PKG_VERSION"), cfg.city.name);
    println!("数据库：{}；配置：{}", app.state.db.url(), source.describe());
    if let Some(r) = &app.demo {
        println!("首次启动，已加载演示城市：网格 {}，市场主体 {}，群众 {}。", r.grids, r.enterprises, r.citizens);
        print_tokens(r);
        // A new user should meet the demo's alerts at once, not after the first night.
        let st = &app.state;
        let report =
            store::alerts::run_all(&st.db, &st.config(), &st.calendar(), web::case::subject_sources(), st.clock.now())
                .await
                .map_err(|e| format!("演示城市预警评估失败：{e}"))?;
        println!("已评估演示城市预警：{} 个指标，新增预警 {} 条。", report.indicators, report.opened);
    }
    if let Some(pw) = &app.initial_admin_password {
        println!("已创建初始管理员 admin，一次性密码：{pw}（首次登录须修改）");
    }
    if !no_demo {
        print_logins(&app.state.db, &cfg).await;
    }
    println!("在浏览器打开 http://{addr}/");
    tracing::info!(%addr, "listening");

    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal handler");
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
    };
    app.run(listener, shutdown).await.map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// Each demo system account's token, shown once; each account can do only its own work.
fn print_tokens(r: &store::demo::DemoReport) {
    if r.system_tokens.is_empty() {
        return;
    }
    println!("对接系统演示令牌（只显示这一次；每个系统只能推送或读取自己的数据）：");
    for (login, name, token) in &r.system_tokens {
        println!("  {login}（{name}）：{token}");
    }
}

/// The system account `login` (created with `roles`, or with a role holding every permission),
/// and a new token for it.
async fn issue_token(
    db: &store::Db,
    login: &str,
    name: &str,
    roles: &[String],
    all_permissions: bool,
) -> Result<String, String> {
    let now = SystemClock.now();
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    let user_id = match store::auth::user_by_login(db, login).await.map_err(|e| e.to_string())? {
        Some(u) if u.kind() == domain::auth::UserKind::System => u.id,
        Some(_) => return Err(format!("账号“{login}”不是对接系统账号")),
        None => {
            let mut role_ids = vec![];
            if all_permissions {
                const CODE: &str = "system_test_all";
                let id = match store::auth::role_id_by_code(&mut tx, CODE).await.map_err(|e| e.to_string())? {
                    Some(id) => id,
                    None => {
                        let r = store::auth::RoleInput {
                            code: CODE.into(),
                            name: "接口测试（全部权限）".into(),
                            description: "只用于测试环境的接口测试，生产环境不得使用".into(),
                            scope: domain::auth::ScopeKind::All,
                            permissions: domain::auth::PERMISSIONS.iter().map(|p| p.code.to_string()).collect(),
                        };
                        store::auth::create_role(&mut tx, now, &r, false).await.map_err(|e| e.to_string())?
                    }
                };
                role_ids.push(id);
            }
            for r in roles {
                role_ids.push(
                    store::auth::role_id_by_code(&mut tx, r)
                        .await
                        .map_err(|e| e.to_string())?
                        .ok_or_else(|| format!("没有角色“{r}”"))?,
                );
            }
            if role_ids.is_empty() {
                return Err("新建对接系统账号须用 --role 指定角色".into());
            }
            let u = store::auth::NewUser {
                kind: Some(domain::auth::UserKind::System),
                login: login.to_string(),
                display_name: name.to_string(),
                password_hash: domain::auth::password::hash(&store::random_token(24), &store::random_bytes::<16>()),
                role_ids,
                ..Default::default()
            };
            store::auth::create_user(&mut tx, now, &u).await.map_err(|e| e.to_string())?
        }
    };
    let (_, token) = store::auth::create_token(&mut tx, now, &user_id, "命令行签发", "cli", None)
        .await
        .map_err(|e| e.to_string())?;
    let e = domain::audit::AuditEntry::new(domain::audit::CoreAudit::TokenCreate, "user", &user_id)
        .by("cli", "命令行")
        .detail(format!(
            "通过命令行为对接系统账号 {login} 签发接口令牌{}",
            if all_permissions { "（全部权限，测试用）" } else { "" }
        ));
    store::audit::append(&mut tx, now, e).await.map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(token)
}
