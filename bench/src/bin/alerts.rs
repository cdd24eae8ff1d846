//! Warning rules over a whole city: every configured indicator over every employer of the demo
//! city at a given scale, end to end — facts read from the database into columns, indicators
//! evaluated, alerts opened with their triggering facts, notices sent, all in one transaction.
//! The second run is the nightly steady state (nothing changed, nothing written).
//!
//!     cargo run --release -p yingshang-bench --bin alerts -- [scale] [runs]

use domain::clock::CHINA;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let scale: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let now = time::macros::datetime!(2026-11-02 10:00).assume_offset(CHINA);
    let cfg = store::config::load(&store::config::ConfigSource::Embedded).expect("built-in config");
    let cal = domain::calendar::WorkCalendar::new(cfg.holidays.clone(), cfg.city.working_hours.clone());
    let mut first = vec![];
    let mut steady = vec![];
    let mut last = None;
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display());
        let db = store::Db::open(&url).await.unwrap();
        store::demo::bootstrap(&db, &cfg, now).await.unwrap();
        store::demo::load_demo(&db, &cfg, now, Some(scale)).await.unwrap();
        let t = Instant::now();
        let r = store::alerts::run_all(&db, &cfg, &cal, store::cases::SUBJECT_SOURCES, now).await.unwrap();
        first.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let again = store::alerts::run_all(&db, &cfg, &cal, store::cases::SUBJECT_SOURCES, now).await.unwrap();
        steady.push(t.elapsed().as_secs_f64());
        assert_eq!(again.opened + again.changed + again.cleared, 0, "a second run changes nothing");
        last = Some(r);
        db.close().await;
    }
    let r = last.expect("one run");
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let pairs = (r.indicators * r.subjects) as f64;
    let (f, s) = (median(&mut first), median(&mut steady));
    println!(
        "scale {scale}: {} indicators × {} employers; first run opens {} alerts: median {:.3} s ({:.0} indicator×subject/s); steady run: median {:.3} s ({:.0} indicator×subject/s), {runs} runs",
        r.indicators,
        r.subjects,
        r.opened,
        f,
        pairs / f,
        s,
        pairs / s
    );
}
