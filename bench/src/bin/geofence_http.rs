//! The geofence reference data set (see `geofence.rs`) end to end over HTTP with durable
//! commits: the real server (`yingshang serve`, a second process) on an SQLite file in WAL with
//! `synchronous = FULL`; the 10,000 persons and their fences are registered first; the
//! 1,000,000 fixes are sent in time order to `POST /api/v1/supervision/fixes/bulk` in batches,
//! each answered only after its commit (to the fix log, see `store::supervision::fixlog`). Then
//! the time until the server has folded the log into the per-person tables, and the stored
//! fixes and raw violations are counted.
//!
//!     python3 ../shared/bench-data/geofence/gen_data.py /tmp/geofence-data
//!     cargo build --release --bin yingshang
//!     cargo run --release -p yingshang-bench --bin geofence_http -- /tmp/geofence-data 20000 2
//!
//! With `BENCH_POSTGRES=postgres://user@127.0.0.1:port/postgres` the same on a new PostgreSQL
//! database (`bench::database_url`); `BENCH_SERVERS=2` starts two servers on it (PostgreSQL
//! only) and the clients take turns between them.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use store::sql::{Sql, Value};

fn rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().skip(1).filter(|l| !l.is_empty()).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(args.get(1).map(String::as_str).unwrap_or("/tmp/geofence-data"));
    let per_request: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let clients: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2);

    // The database: platform bootstrap, a gateway account with a token, persons and fences.
    let data = tempfile::tempdir().unwrap();
    let url = bench::database_url(data.path()).await;
    let cfg = store::config::load(&store::config::ConfigSource::Embedded).expect("config");
    let db = store::Db::open(&url).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    store::demo::bootstrap(&db, &cfg, now).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let role = store::auth::role_id_by_code(&mut tx, "system_location").await.unwrap().unwrap();
    let user = store::auth::create_user(
        &mut tx,
        now,
        &store::auth::NewUser {
            kind: Some(domain::auth::UserKind::System),
            login: "locator".into(),
            display_name: "定位平台".into(),
            password_hash: "!".into(),
            role_ids: vec![role],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (_, token) = store::auth::create_token(&mut tx, now, &user, "bench", "bench", None).await.unwrap();
    let agency: String =
        sqlx::query_scalar("SELECT id FROM departments WHERE code = 'gaj'").fetch_one(&mut *tx).await.unwrap();
    let t = Instant::now();
    let mut vertices: std::collections::BTreeMap<u32, Vec<(u32, f64, f64)>> = Default::default();
    for r in rows(&dir.join("allowed_vertices.csv")) {
        vertices.entry(r[0].parse().unwrap()).or_default().push((
            r[1].parse().unwrap(),
            r[2].parse().unwrap(),
            r[3].parse().unwrap(),
        ));
    }
    let ms = now.unix_timestamp() * 1000;
    let (mut persons, mut fences) = (vec![], vec![]);
    for (pid, mut vs) in vertices {
        vs.sort_by_key(|v| v.0);
        let id = format!("P{pid}");
        let card = domain::IdCardNo::from_body(&format!("34160219800101{:03}", pid % 1000)).unwrap();
        persons.push(vec![
            Value::Text(id.clone()),
            Value::Text(format!("{}#{pid}", card.as_str())),
            Value::Text(format!("对象{pid}")),
            Value::Text("341602".into()),
            Value::Text(agency.clone()),
            Value::Int(ms),
        ]);
        let ring: Vec<[f64; 2]> = vs.iter().map(|v| [v.1, v.2]).collect();
        fences.push(vec![
            Value::Text(format!("A{pid}")),
            Value::Text(id),
            Value::Text("allowed".into()),
            Value::Text("polygon".into()),
            Value::Text(serde_json::json!({ "type": "Polygon", "coordinates": [ring] }).to_string()),
            Value::Int(ms),
        ]);
    }
    for r in rows(&dir.join("forbidden_zones.csv")) {
        let (cx, cy, rad): (f64, f64, f64) = (r[2].parse().unwrap(), r[3].parse().unwrap(), r[4].parse().unwrap());
        fences.push(vec![
            Value::Text(format!("Z{}", r[0])),
            Value::Text(format!("P{}", r[1])),
            Value::Text("forbidden".into()),
            Value::Text("circle".into()),
            Value::Text(serde_json::json!({ "type": "Circle", "center": [cx, cy], "radius_m": rad }).to_string()),
            Value::Int(ms),
        ]);
    }
    let n_persons = persons.len();
    for chunk in persons.chunks(400) {
        let mut q = Sql::new(
            "INSERT INTO sup_persons (id, id_card_no, name, division_code, agency_id, created_at, stage, measure, measure_from, measure_to, updated_at) VALUES",
        );
        for (i, row) in chunk.iter().enumerate() {
            q.push(if i == 0 { " (" } else { ", (" });
            for v in row {
                q.bind(v.clone()).push(", ");
            }
            q.push("'police', '取保候审', '2026-01-01', '2027-01-01', 0)");
        }
        q.query().execute(&mut *tx).await.unwrap();
    }
    for chunk in fences.chunks(400) {
        let mut q = Sql::new(
            "INSERT INTO sup_fences (id, person_id, rule, kind, geometry, created_at, name, created_by) VALUES",
        );
        for (i, row) in chunk.iter().enumerate() {
            q.push(if i == 0 { " (" } else { ", (" });
            for v in row {
                q.bind(v.clone()).push(", ");
            }
            q.push("'围栏', 'bench')");
        }
        q.query().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    db.close().await;
    println!("{n_persons} persons and {} fences registered in {:.1} s", fences.len(), t.elapsed().as_secs_f64());

    // Fixes, in time order, as gateway rows.
    let fixes: Vec<serde_json::Value> = rows(&dir.join("fixes.csv"))
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            serde_json::json!({ "person_id": format!("P{}", r[1]), "at": 1_709_251_200_000i64 + i as i64 * 10,
                "lon": r[2].parse::<f64>().unwrap(), "lat": r[3].parse::<f64>().unwrap() })
        })
        .collect();
    let bodies: Vec<Vec<u8>> =
        fixes.chunks(per_request).map(|c| serde_json::to_vec(&serde_json::json!({ "fixes": c })).unwrap()).collect();
    drop(fixes);

    // The server(s), as an operator runs them.
    let n_servers: usize = std::env::var("BENCH_SERVERS").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    assert!(n_servers == 1 || url.starts_with("postgres"), "several servers need BENCH_POSTGRES");
    let exe = std::env::current_exe().unwrap().with_file_name("yingshang");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(300)).build().unwrap();
    let (mut servers, mut bases) = (vec![], vec![]);
    for _ in 0..n_servers {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let server = Command::new(&exe)
            .args(["serve", "--no-demo", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &url])
            .env("YINGSHANG_DATA", data.path())
            .env_remove("YINGSHANG_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e} (cargo build --release --bin yingshang first)", exe.display()));
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..600 {
            if http.get(format!("{base}/healthz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        servers.push(server);
        bases.push(base);
    }

    let t = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let bodies = std::sync::Arc::new(bodies);
    let mut tasks = vec![];
    for c in 0..clients {
        let (http, next, bodies, base, token) =
            (http.clone(), next.clone(), bodies.clone(), bases[c % bases.len()].clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let (mut accepted, mut violations) = (0i64, 0i64);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(body) = bodies.get(i) else { break };
                let r = http
                    .post(format!("{base}/api/v1/supervision/fixes/bulk"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "{}", r.status());
                let rep: serde_json::Value = r.json().await.unwrap();
                accepted += rep["accepted"].as_i64().unwrap();
                violations += rep["violations"].as_i64().unwrap();
            }
            (accepted, violations)
        }));
    }
    let (mut accepted, mut violations) = (0, 0);
    for t in tasks {
        let (a, v) = t.await.unwrap();
        accepted += a;
        violations += v;
    }
    let secs = t.elapsed().as_secs_f64();
    // Acknowledged means durable (in the fix log); the server folds the log into the
    // per-person tables once the uploads pause. Time until it has.
    let t = Instant::now();
    let db = store::Db::open(&url).await.unwrap();
    loop {
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sup_fix_log").fetch_one(db.reader()).await.unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fold_secs = t.elapsed().as_secs_f64();
    let peak = servers.iter().map(|s| bench::peak_mib_of(&s.id().to_string())).fold(0.0, f64::max);
    for s in &mut servers {
        s.kill().unwrap();
        let _ = s.wait();
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sup_events").fetch_one(db.reader()).await.unwrap();
    let fixes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sup_fixes").fetch_one(db.reader()).await.unwrap();
    println!(
        "{accepted} fixes accepted over HTTP in {secs:.2} s ({per_request} a request, {clients} clients, {n_servers} server(s)): {:.0} fixes/s; raw violations reported {violations}; folded into the tables {fold_secs:.2} s after the last answer ({fixes} fixes, {stored} raw violations stored); server peak memory {peak:.0} MiB (the largest)",
        accepted as f64 / secs
    );
}
