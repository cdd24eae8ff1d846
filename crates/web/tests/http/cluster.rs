//! Two `yingshang serve` processes on one PostgreSQL database, as behind a load balancer: a
//! session made on one works on the other and ends on both; what one process changes in
//! memory (the service catalog) reaches the other; the supervision trackers give the same
//! alarms whichever server each batch of fixes reaches as one server gives. (Timers firing
//! once across processes: `store::jobs` tests.) On SQLite, which has one server process,
//! these tests say so and pass.

use crate::helpers::*;
use crate::supervision::{COUNTY, fence_allowed, register, token_of, upload};
use reqwest::StatusCode;
use serde_json::json;

/// Waits (up to ten seconds) for `f` to hold; the notices between servers are asynchronous.
async fn eventually<F: AsyncFnMut() -> bool>(mut f: F) -> bool {
    for _ in 0..200 {
        if f().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

fn on(c: &Client, app: &TestApp) -> Client {
    Client { http: c.http.clone(), base: app.base.clone() }
}

#[tokio::test]
async fn sessions_and_the_catalog_are_the_same_on_both_servers() {
    if !store::testdb::on_postgres() {
        eprintln!("cluster: one server process on SQLite; run with YINGSHANG_TEST_POSTGRES");
        return;
    }
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;

    // Signed in on A, the same cookie works on B.
    let ent_a = a.login(&a.login_of("enterprise").await).await;
    let ent_b = on(&ent_a, &b);
    let home = ent_b.get("/home").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    // An administrator on A suspends an item: B refuses it at once, with the reason.
    let admin = a.login("admin").await;
    let r = admin
        .submit(
            "/admin/services",
            "/admin/services/SCJG-XK-001",
            &[("enabled", "0"), ("note", "系统升级，12月1日恢复")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        eventually(async || ent_b.get("/services/items/SCJG-XK-001").await.body.contains("该事项暂停受理：系统升级"))
            .await,
        "B learns of the suspension"
    );

    // Signing out on A ends the session on B too, before B's cache would have expired it: B
    // drops its cached sessions when A announces the change.
    assert!(!b.state.auth_cache.is_empty(), "B holds the session in its cache");
    let out = ent_a.submit("/home", "/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(eventually(async || b.state.auth_cache.is_empty()).await, "B's cache is dropped");
    let after = ent_b.get("/home").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "signed out on B as well");
    assert!(after.location.unwrap_or_default().starts_with("/login"));
    b.shut_down().await;
    a.shut_down().await;
}

/// The same run of fixes for two persons: one person's batches all go to server A, the other's
/// alternate between A and B. The trackers' hysteresis must give both the same answers.
#[tokio::test]
async fn fixes_alternating_between_servers_alarm_as_on_one_server() {
    if !store::testdb::on_postgres() {
        eprintln!("cluster: one server process on SQLite; run with YINGSHANG_TEST_POSTGRES");
        return;
    }
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;
    let police = a.login("gongan").await;
    let mut devices = vec![];
    for (card, name, imei) in
        [("34160219850315123", "甲", "IMEI-860000000000011"), ("34160219860415123", "乙", "IMEI-860000000000012")]
    {
        let (_, page) = register(&police, card, name, "取保候审", ("2026-11-01", "2027-10-31")).await;
        fence_allowed(&police, &page, "居住地所在县（市、区）", COUNTY).await;
        let bound = police.submit(&page, &format!("{page}/device"), &[("device_id", imei)]).await;
        assert_eq!(bound.status, StatusCode::OK);
        devices.push((token_of(&bound.body), imei));
    }
    let base = 1_795_000_000_000i64; // 2026-11-18
    let fix = |s: i64, lon: f64| json!({ "at": base + s * 1000, "lon": lon, "lat": 33.82, "accuracy_m": 10.0 });
    // Inside, a noisy fix out, back in, then a long excursion and back.
    let run: Vec<f64> = vec![115.75, 116.20, 115.75, 116.20, 116.20, 116.20, 116.20, 115.75, 116.20, 116.20, 116.20];
    let mut answers = [vec![], vec![]];
    for (i, lon) in run.iter().enumerate() {
        for (p, (token, imei)) in devices.iter().enumerate() {
            // Person 0 always on A; person 1 on A and B in turn.
            let server = if p == 1 && i % 2 == 1 { &b } else { &a };
            let (s, r) = upload(server, token, imei, json!([fix(i as i64 * 30, *lon)])).await;
            assert_eq!(s, StatusCode::OK, "{r}");
            answers[p].push((r["violations"].as_i64(), r["alarms_opened"].as_i64()));
        }
    }
    assert_eq!(answers[0], answers[1], "the same alarms whichever server took each fix");
    let opened: i64 = answers[0].iter().map(|x| x.1.unwrap_or(0)).sum();
    assert!(opened >= 1, "the excursion alarms: {:?}", answers[0]);
    let alarms: Vec<i64> = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sup_alarms a JOIN sup_devices d ON d.person_id = a.person_id
         WHERE d.device_id IN ('IMEI-860000000000011', 'IMEI-860000000000012') GROUP BY a.person_id ORDER BY a.person_id",
    )
    .fetch_all(a.state.db.reader())
    .await
    .unwrap();
    assert_eq!(alarms.len(), 2);
    assert_eq!(alarms[0], alarms[1], "stored alarms per person");
    b.shut_down().await;
    a.shut_down().await;
}

/// The replica's admin URL the tests were given, if any.
fn test_replica() -> Option<String> {
    std::env::var(store::testdb::REPLICA_ENV).ok().filter(|v| !v.trim().is_empty())
}

/// Waits until the replica has replayed everything the primary had written when called.
async fn replica_caught_up(app: &TestApp, replica_admin: &str) {
    let lsn: String = sqlx::query_scalar("SELECT CAST(pg_current_wal_lsn() AS TEXT)")
        .fetch_one(app.state.db.reader())
        .await
        .expect("primary position");
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(replica_admin).await.expect("replica");
    let caught = eventually(async || {
        sqlx::query_scalar::<_, bool>("SELECT pg_last_wal_replay_lsn() >= CAST($1 AS pg_lsn)")
            .bind(&lsn)
            .fetch_one(&mut conn)
            .await
            .unwrap_or(false)
    })
    .await;
    assert!(caught, "the replica replays up to {lsn}");
}

/// Rows of a CSV export (the header excluded).
fn csv_rows(body: &[u8]) -> usize {
    String::from_utf8_lossy(body).lines().filter(|l| !l.trim().is_empty()).count().saturating_sub(1)
}

/// Statistics and exports read the streaming replica: with its replay paused, a login on the
/// primary is on the audit page (the primary) at once but not in the export (the replica);
/// once replay resumes it is in both. A replica where nothing listens leaves them on the
/// primary, and the server still starts.
#[tokio::test]
async fn exports_read_the_replica_while_it_follows_and_the_primary_without_it() {
    let Some(replica_admin) = test_replica().filter(|_| store::testdb::on_postgres()) else {
        eprintln!("cluster: no streaming replica; run with YINGSHANG_TEST_POSTGRES and YINGSHANG_TEST_REPLICA");
        return;
    };
    let a = spawn_app_with_replica(Replica::Test).await;
    let auditor = a.login("auditor").await;
    replica_caught_up(&a, &replica_admin).await;
    assert!(
        matches!(a.state.db.check_replica().await, Some(store::ReplicaStatus::Following { .. })),
        "the replica follows"
    );
    let export = "/audit/export?format=csv&action=auth.login";
    let (status, _, body) = auditor.get_bytes(export).await;
    assert_eq!(status, StatusCode::OK);
    let before = csv_rows(&body);
    assert!(before >= 1, "the auditor's own login");

    let mut replica = <sqlx::PgConnection as sqlx::Connection>::connect(&replica_admin).await.expect("replica");
    sqlx::query("SELECT pg_wal_replay_pause()").execute(&mut replica).await.expect("pause replay");
    let _admin = a.login("admin").await;
    let (_, _, paused) = auditor.get_bytes(export).await;
    let page = auditor.get("/audit?action=auth.login").await;
    sqlx::query("SELECT pg_wal_replay_resume()").execute(&mut replica).await.expect("resume replay");
    assert_eq!(csv_rows(&paused), before, "the export comes from the paused replica");
    assert!(page.body.contains(&format!("共 {} 条", before + 1)), "the page reads the primary: {}", page.body);

    replica_caught_up(&a, &replica_admin).await;
    let (_, _, resumed) = auditor.get_bytes(export).await;
    assert_eq!(csv_rows(&resumed), before + 1, "replayed, the export has the new login");

    // Nothing listening where the replica should be: reports read the primary.
    let b = spawn_app_with_replica(Replica::Url("postgres://postgres@127.0.0.1:1/nothing".into())).await;
    assert!(matches!(b.state.db.check_replica().await, Some(store::ReplicaStatus::Unreachable(_))));
    let auditor = b.login("auditor").await;
    let (status, _, body) = auditor.get_bytes(export).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(csv_rows(&body), 1, "the auditor's login, read from the primary");
}

/// Log retention drops whole months, which only PostgreSQL's partitions can: on SQLite a
/// server refuses the setting at start and says why; on PostgreSQL it starts, and 系统状态
/// shows each partitioned table's months.
#[tokio::test]
async fn log_retention_needs_monthly_partitions() {
    let keep = |c: &mut store::config::CityConfig| c.city.security.log_retention_months = 12;
    if !store::testdb::on_postgres() {
        let err = build_with(keep).await.expect_err("SQLite refuses log retention");
        assert!(err.contains("log_retention_months") && err.contains("只在 PostgreSQL 上提供"), "{err}");
        return;
    }
    let app = spawn_app_with(keep).await;
    let admin = app.login("admin").await;
    let page = admin.get("/admin/system").await;
    assert_eq!(page.status, StatusCode::OK);
    for t in store::cases::PARTITIONED {
        assert!(page.body.contains(&format!("<code class=\"small\">{t}</code>")), "{t}: {}", page.body);
    }
    assert!(page.body.contains("2026年11月–2027年2月"), "the current month and three ahead: {}", page.body);
}
