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
