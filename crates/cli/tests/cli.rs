//! The binary as an operator uses it.

use std::path::Path;
use std::process::Command;

fn yingshang(data: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yingshang"))
        .args(args)
        .env("YINGSHANG_DATA", data)
        .env_remove("YINGSHANG_DATABASE_URL")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run yingshang");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test]
async fn audit_verify_names_the_tampered_record() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = yingshang(dir.path(), &["demo", "--scale", "1"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("市场主体 500"), "{out}");
    let (code, out) = yingshang(dir.path(), &["demo"]);
    assert_eq!(code, 0);
    assert!(out.contains("此前已加载"), "{out}");

    // Add a few records so the tampered one is in the middle of the chain.
    let db = store::Db::open(&store::sqlite_url_for_dir(dir.path())).await.unwrap();
    for i in 0..5 {
        let e = domain::audit::AuditEntry::new(domain::audit::CoreAudit::AuditVerify, "test", &i.to_string());
        store::audit::record(&db, time::OffsetDateTime::now_utc(), e).await.unwrap();
    }
    let (code, out) = yingshang(dir.path(), &["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    // The demo load's 18 records (see store::demo's test) and these five.
    assert!(out.contains("审计链完整：已校验 23 条记录"), "{out}");

    // Someone with access to the database file edits record #4.
    let mut tx = db.begin().await.unwrap();
    sqlx::query("DROP TRIGGER audit_log_no_update").execute(&mut *tx).await.unwrap();
    sqlx::query("UPDATE audit_log SET detail = '改过的内容' WHERE seq = 4").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    db.close().await;
    let (code, out) = yingshang(dir.path(), &["audit", "verify"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("审计记录 #4 校验失败"), "{out}");
    assert!(out.contains("被篡改"), "{out}");
}

#[test]
fn check_config_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = yingshang(dir.path(), &["check-config"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("配置有效"));
    assert!(out.contains("2027年节假日安排未加载") || !out.contains("警告"));

    let cfg = dir.path().join("config");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"), &cfg);
    let deps = std::fs::read_to_string(cfg.join("departments.toml")).unwrap();
    std::fs::write(
        cfg.join("departments.toml"),
        deps.replacen("division_code = \"341600\"", "division_code = \"341699\"", 1),
    )
    .unwrap();
    let (code, out) = yingshang(dir.path(), &["check-config", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("departments.toml:13: department[0].division_code: 行政区划代码 341699 不在本系统的区划表中"),
        "{out}"
    );
}

#[test]
fn check_config_names_the_rule_and_step_that_are_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = yingshang(dir.path(), &["check-config"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("审批流程 1 个（demo_joint_review）") && out.contains("预警指标 "), "{out}");
    assert!(out.contains("一键申报：事项 35 个（其中一键申报 22 个），数据接口 8 个"), "{out}");

    let cfg = dir.path().join("config");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"), &cfg);
    let edit = |rel: &str, from: &str, to: &str| {
        let text = std::fs::read_to_string(cfg.join(rel)).unwrap();
        assert!(text.contains(from), "{rel} has {from}");
        std::fs::write(cfg.join(rel), text.replacen(from, to, 1)).unwrap();
    };
    // A misspelt fact in a warning rule, and a parallel branch that names no step.
    edit("indicators/platform.toml", "yellow = \"employees >= 50", "yellow = \"employes >= 50");
    edit(
        "workflows/demo_joint_review.toml",
        "\"planning\", \"fire\", \"traffic\"",
        "\"planning\", \"fires\", \"traffic\"",
    );
    let (code, out) = yingshang(dir.path(), &["check-config", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "indicators/platform.toml:12: indicator[0].yellow: 第1列：用人单位没有字段“employes”，是否应为“employees”？"
        ),
        "{out}"
    );
    assert!(out.contains("demo_joint_review.toml:43: step[1].parallel: 并联分支“fires”不是已定义的步骤"), "{out}");
    assert!(out.contains("demo_joint_review.toml:56: step[fire].next: 需要下一步 next"), "{out}");
}

#[test]
fn reset_password_gives_a_one_time_password() {
    let dir = tempfile::tempdir().unwrap();
    yingshang(dir.path(), &["demo"]);
    let (code, out) = yingshang(dir.path(), &["user", "reset-password", "admin"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("一次性密码：Ys#"), "{out}");
    let (code, out) = yingshang(dir.path(), &["user", "reset-password", "ghost"]);
    assert_eq!(code, 1);
    assert!(out.contains("账号“ghost”不存在"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// A backup taken while the server runs and the database is being written restores into a new
/// data directory, every file checks against its manifest and the audit chain verifies against
/// the checkpoints; a changed file is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_and_its_audit_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = yingshang(dir.path(), &["demo", "--scale", "1"]);
    assert_eq!(code, 0, "{out}");
    // The server, as in production: it makes the keys and writes audit checkpoints.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_yingshang"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("YINGSHANG_DATA", dir.path())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut up = false;
    for _ in 0..300 {
        if reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        // Polling a starting process for readiness, not timing a result.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "the server started");
    let db = store::Db::open(&store::sqlite_url_for_dir(dir.path())).await.unwrap();
    let writer = {
        let db = db.clone();
        tokio::spawn(async move {
            for i in 0..200 {
                let e = domain::audit::AuditEntry::new(domain::audit::CoreAudit::AuditVerify, "test", &i.to_string());
                store::audit::record(&db, time::OffsetDateTime::now_utc(), e).await.unwrap();
            }
        })
    };
    let to = dir.path().join("backup-1");
    let backup = tokio::task::spawn_blocking({
        let (data, to) = (dir.path().to_path_buf(), to.clone());
        move || yingshang(&data, &["backup", "--to", to.to_str().unwrap()])
    })
    .await
    .unwrap();
    writer.await.unwrap();
    db.close().await;
    assert_eq!(backup.0, 0, "{}", backup.1);
    for part in ["yingshang.db", "keys/seal-master.key", "keys/audit.key"] {
        assert!(backup.1.contains(part), "{part}: {}", backup.1);
    }
    let restored = tempfile::tempdir().unwrap();
    let (code, out) = yingshang(restored.path(), &["restore", "--from", to.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("审计链完整"), "{out}");
    // Stopped (SIGTERM), the server writes its audit checkpoint; a backup now carries it and the
    // restored chain verifies against it.
    let stopped = Command::new("kill").arg(server.0.id().to_string()).status().unwrap();
    assert!(stopped.success());
    server.0.wait().unwrap();
    let to = dir.path().join("backup-2");
    let (code, out) = yingshang(dir.path(), &["backup", "--to", to.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("audit/checkpoints.log"), "{out}");
    // Into the same directory twice: refused.
    let (code, out) = yingshang(dir.path(), &["backup", "--to", to.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("已存在且不为空"), "{out}");

    let restored = tempfile::tempdir().unwrap();
    let (code, out) = yingshang(restored.path(), &["restore", "--from", to.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("审计链完整") && out.contains("与库外签名检查点一致"), "{out}");
    // Not over an existing database.
    let (code, out) = yingshang(restored.path(), &["restore", "--from", to.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(out.contains("已有数据库"), "{out}");
    // A key changed inside the backup: refused before anything is copied.
    std::fs::write(to.join("keys/seal-master.key"), [0u8; 32]).unwrap();
    let other = tempfile::tempdir().unwrap();
    let (code, out) = yingshang(other.path(), &["restore", "--from", to.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(out.contains("keys/seal-master.key 已损坏或被改动"), "{out}");
    assert!(!other.path().join("yingshang.db").exists());
}

/// A child server stopped when the test ends, whatever happens.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The PostgreSQL life of an install, with the commands docs/DEPLOY.md gives: serve refuses a
/// database behind the build, `migrate` brings it up and says what it ran, the demo loads,
/// `pg_dump` / `pg_restore` copy it to a new database, and the copy's audit chain verifies.
#[tokio::test]
async fn postgres_migrate_serve_dump_restore_and_verify() {
    if !store::testdb::on_postgres() {
        eprintln!("PostgreSQL: run with YINGSHANG_TEST_POSTGRES");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = store::testdb::url_for(dir.path()).await;
    let with = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["--database-url", url.as_str()]);
        yingshang(dir.path(), &a)
    };
    let (code, out) = with(&["serve", "--no-demo", "--listen", "127.0.0.1:0"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("数据库尚未迁移到本版本") && out.contains("yingshang migrate"), "{out}");
    let (code, out) = with(&["migrate"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("PostgreSQL") && out.contains("已执行迁移 0001") && out.contains("0038"), "{out}");
    let (code, out) = with(&["migrate"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("已是最新"), "{out}");
    let (code, out) = with(&["demo", "--scale", "1"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("市场主体 500"), "{out}");
    let (code, out) = with(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("审计链完整"), "{out}");

    // A server has written a signed checkpoint of the chain's head into the data directory.
    {
        let db = store::Db::connect(&url).await.unwrap();
        let anchor = store::audit::Anchor::for_home(dir.path()).unwrap();
        anchor.checkpoint(&db, time::OffsetDateTime::now_utc()).await.unwrap();
        db.close().await;
    }
    // The backup: the keys and checkpoints first (so none is newer than the dump), then
    // pg_dump in the custom format; restored into a new database.
    let backup = tempfile::tempdir().unwrap();
    for sub in ["keys", "audit"] {
        std::fs::create_dir_all(backup.path().join(sub)).unwrap();
        for f in std::fs::read_dir(dir.path().join(sub)).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), backup.path().join(sub).join(f.file_name())).unwrap();
        }
    }
    let dump = backup.path().join("yingshang.dump");
    let run = |cmd: &str, args: &[&str]| {
        let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run("pg_dump", &["--format=custom", "--no-owner", "--file", dump.to_str().unwrap(), &url]);
    let other = tempfile::tempdir().unwrap();
    let restored = store::testdb::url_for(other.path()).await;
    run("pg_restore", &["--no-owner", "--exit-on-error", "--dbname", &restored, dump.to_str().unwrap()]);
    let (code, out) = yingshang(backup.path(), &["audit", "verify", "--database-url", &restored]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("审计链完整") && out.contains("与库外签名检查点一致：1 个"), "{out}");
    let count = async |u: &str| -> (i64, i64) {
        let db = store::Db::connect(u).await.unwrap();
        let r = sqlx::query_as("SELECT (SELECT COUNT(*) FROM audit_log), (SELECT COUNT(*) FROM enterprises)")
            .fetch_one(db.reader())
            .await
            .unwrap();
        db.close().await;
        r
    };
    assert_eq!(count(&url).await, count(&restored).await);
    // The restored database is at this build's schema: serve needs no migration.
    let (code, out) = yingshang(dir.path(), &["migrate", "--database-url", &restored]);
    assert!(code == 0 && out.contains("已是最新"), "{out}");
}
