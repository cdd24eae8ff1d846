//! The 一键申报 writer alone, without HTTP: batches of checked submissions read, assembled and
//! written in one transaction each (what `web::submit_queue` does per batch), on the demo city
//! in a SQLite file in WAL mode with `synchronous = FULL`. Reports submissions per second and
//! time per batch, to tell the writer's ceiling from the HTTP path's.
//!
//!     cargo run --release -p yingshang-bench --bin services_writer -- [batch] [batches] [direct|pool]

use domain::clock::CHINA;
use domain::workflow::Actor;
use std::collections::BTreeMap;
use std::time::Instant;
use store::services::{Applicant, batch};
use store::workflow::Runtime;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let size: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let batches: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let now = time::macros::datetime!(2026-11-02 10:00).assume_offset(CHINA);
    let dir = tempfile::tempdir().unwrap();
    let url = bench::database_url(dir.path()).await;
    let db = store::Db::open(&url).await.unwrap();
    let cfg = store::config::load(&store::config::ConfigSource::Embedded).expect("built-in config");
    store::demo::bootstrap(&db, &cfg, now).await.unwrap();
    store::demo::load_demo(&db, &cfg, now, None).await.unwrap();
    let (uid, name, uscc): (String, String, String) = sqlx::query_as(
        "SELECT id, display_name, login FROM users WHERE kind = 'enterprise' ORDER BY created_at LIMIT 1",
    )
    .fetch_one(db.reader())
    .await
    .unwrap();
    let cal = domain::calendar::WorkCalendar::new(cfg.holidays.clone(), cfg.city.working_hours.clone());
    let rt = Runtime { cfg: &cfg, cal: &cal };
    let actor = Actor { user_id: uid, name: name.clone(), department: None, roles: vec![] };
    let typed: BTreeMap<String, String> = [
        ("name", "演示企业"),
        ("legal_rep", "张三"),
        ("address", "谯城区"),
        ("business_items", "热食类食品制售"),
        ("contact_phone", "13955550000"),
        ("commit", "同意"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let who = Applicant { actor: &actor, subject: &uscc, subject_name: &name };
    // `pool` measures the same batches through sqlx's pool (the path for other backends).
    let mut direct = match args.next().as_deref() {
        Some("pool") => None,
        _ if db.sqlite_file().is_none() => None,
        _ => Some(store::direct::DirectWriter::open(&db.sqlite_file().unwrap()).unwrap()),
    };
    let mut times = vec![];
    let t0 = Instant::now();
    for _ in 0..batches {
        let checked: Vec<_> = (0..size)
            .map(|_| batch::check(&cfg, "SCJG-XK-001", &who, typed.clone(), vec![], "127.0.0.1").unwrap())
            .collect();
        let t = Instant::now();
        match direct.as_mut() {
            Some(w) => {
                w.run(async |tx| {
                    let prepared = batch::prepare_many(tx, &cfg, now, checked).await?;
                    let (rows, results) = batch::build(&rt, now, prepared);
                    assert!(results.iter().all(|r| r.is_ok()));
                    rows.write(tx).await
                })
                .unwrap();
            }
            None => {
                let mut tx = db.begin().await.unwrap();
                let prepared = batch::prepare_many(&mut tx, &cfg, now, checked).await.unwrap();
                let (rows, results) = batch::build(&rt, now, prepared);
                assert!(results.iter().all(|r| r.is_ok()));
                rows.write(&mut tx).await.unwrap();
                tx.commit().await.unwrap();
            }
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let secs = t0.elapsed().as_secs_f64();
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{} submissions in batches of {size}: {:.0} submissions/s; per batch median {:.2} ms, p99 {:.2} ms",
        size * batches,
        (size * batches) as f64 / secs,
        times[times.len() / 2],
        times[times.len() * 99 / 100],
    );
}
