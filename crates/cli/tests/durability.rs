//! Durability of 亳安码 fixes: the real server is killed with SIGKILL in the middle of a
//! sustained upload; after a restart every fix the server acknowledged (HTTP 200) is in the
//! database, and so is every alarm it reported opening.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(data: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_yingshang"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("YINGSHANG_DATA", data)
        .env_remove("YINGSHANG_DATABASE_URL")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start yingshang serve")
}

async fn wait_ready(http: &reqwest::Client, base: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server did not become ready");
}

#[tokio::test]
async fn every_acknowledged_fix_and_alarm_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_yingshang"))
        .args(["demo", "--scale", "1"])
        .env("YINGSHANG_DATA", dir.path())
        .env_remove("YINGSHANG_DATABASE_URL")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Bind a phone to a demo person (as the police would on the person's page).
    let url = store::sqlite_url_for_dir(dir.path());
    let db = store::Db::open(&url).await.unwrap();
    let person_id: String = sqlx::query_scalar("SELECT id FROM sup_persons ORDER BY created_at LIMIT 1")
        .fetch_one(db.reader())
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    let person = store::supervision::person_in(&mut tx, &person_id).await.unwrap();
    let token = store::supervision::bind_device(
        &mut tx,
        time::OffsetDateTime::now_utc(),
        &person,
        "IMEI-KILL",
        ("test", "测试"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sup_alarms").fetch_one(db.reader()).await.unwrap();
    // A point at home: one of the demo's own fixes that was within the fences.
    let (home_lon, home_lat): (f64, f64) =
        sqlx::query_as("SELECT lon, lat FROM sup_fixes WHERE person_id = $1 AND violation = 0 LIMIT 1")
            .bind(&person_id)
            .fetch_one(db.reader())
            .await
            .unwrap();
    db.close().await;

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut server = start(dir.path(), port);
    wait_ready(&http, &base).await;

    // Sustained upload: batches of 50 fixes, every fifth batch entirely outside the home town
    // (each such run confirms an alarm). Killed after ~1.5 s, mid-stream.
    // Fixes 100 ms apart from an hour ago: after the demo's own (which end two hours ago),
    // and never in the future however fast the loop runs.
    let t0 = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 - 3_600_000 + 7;
    let mut acknowledged: Vec<i64> = vec![];
    let mut alarms_reported = 0i64;
    let started = Instant::now();
    let mut killed = false;
    let mut batch = 0i64;
    loop {
        if !killed && started.elapsed() > Duration::from_millis(1500) {
            // Send the next request, then kill while it may be in flight.
            let at = t0 + batch * 5_000;
            let fixes: Vec<serde_json::Value> =
                (0..50).map(|k| serde_json::json!({ "at": at + k * 100, "lon": 130.0, "lat": 45.0 })).collect();
            let req = http
                .post(format!("{base}/api/v1/supervision/fixes"))
                .bearer_auth(&token)
                .json(&serde_json::json!({ "device_id": "IMEI-KILL", "fixes": fixes }))
                .send();
            let killer = async {
                tokio::time::sleep(Duration::from_millis(2)).await;
                server.kill().unwrap();
            };
            let (r, ()) = tokio::join!(req, killer);
            if let Ok(r) = r
                && r.status().is_success()
            {
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                if body["accepted"].as_i64() == Some(50) {
                    acknowledged.extend((0..50).map(|k| at + k * 100));
                    alarms_reported += body["alarms_opened"].as_i64().unwrap_or(0);
                }
            }
            killed = true;
            break;
        }
        let at = t0 + batch * 5_000;
        let outside = batch % 5 == 4;
        let fixes: Vec<serde_json::Value> = (0..50)
            .map(|k| {
                let (lon, lat) = if outside { (130.0, 45.0) } else { (home_lon, home_lat) };
                serde_json::json!({ "at": at + k * 100, "lon": lon, "lat": lat, "accuracy_m": 5.0 })
            })
            .collect();
        let r = http
            .post(format!("{base}/api/v1/supervision/fixes"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "device_id": "IMEI-KILL", "fixes": fixes }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["accepted"].as_i64(), Some(50), "{body}");
        acknowledged.extend((0..50).map(|k| at + k * 100));
        alarms_reported += body["alarms_opened"].as_i64().unwrap_or(0);
        batch += 1;
    }
    assert!(killed);
    println!("acknowledged before SIGKILL: {} fixes, {alarms_reported} alarms", acknowledged.len());
    let _ = server.wait();
    assert!(acknowledged.len() >= 500, "a sustained upload before the kill ({} fixes)", acknowledged.len());
    assert!(alarms_reported >= 1, "the upload raised alarms");

    // Restart: the server comes back on the same data, and everything acknowledged is there.
    let mut server = start(dir.path(), port);
    wait_ready(&http, &base).await;
    let db = store::Db::open(&url).await.unwrap();
    let stored: Vec<i64> = sqlx::query_scalar("SELECT at FROM sup_fixes WHERE person_id = $1")
        .bind(&person_id)
        .fetch_all(db.reader())
        .await
        .unwrap();
    let stored: std::collections::HashSet<i64> = stored.into_iter().collect();
    let missing = acknowledged.iter().filter(|a| !stored.contains(a)).count();
    assert_eq!(missing, 0, "{missing} of {} acknowledged fixes lost", acknowledged.len());
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sup_alarms").fetch_one(db.reader()).await.unwrap();
    assert!(after - before >= alarms_reported, "alarms: {} stored, {alarms_reported} reported", after - before);
    // The audit chain is intact after the kill.
    assert!(store::audit::verify(&db).await.unwrap().is_ok(), "audit chain intact");
    db.close().await;
    server.kill().unwrap();
    let _ = server.wait();
}
