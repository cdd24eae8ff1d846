//! 满薪满益 warning model at city scale: every wage indicator over N projects, each with 24
//! months of attendance, payroll and payments for W workers, utilities and allocations. One
//! project in ten carries one of the demo cases, so indicators fire as in a real city.
//!
//! In memory (facts computed from the data model, indicators evaluated in columns):
//!     cargo run --release -p yingshang-bench --bin wages -- [projects] [workers] [runs]
//! End to end through the database (projects written to SQLite, then the nightly run reads
//! them back, evaluates and opens alerts in one transaction):
//!     cargo run --release -p yingshang-bench --bin wages -- [projects] [workers] [runs] --db
//!
//! Peak memory is the process's high-water mark (VmHWM), so run one mode per process.

use bench::peak_mib;
use domain::clock::CHINA;
use domain::expr::{Batch, EvalContext};
use domain::wages::demo::{CaseCtx, cases, sized_project};
use domain::wages::{ProjectData, project_facts};
use std::time::Instant;

const MONTHS: u32 = 24;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn projects(n: u32, workers: u32, cx: &CaseCtx) -> Vec<ProjectData> {
    let cases = cases();
    (0..n)
        .map(|i| {
            let mut p = sized_project(&format!("B{i:06}"), cx, MONTHS, workers);
            if i % 10 == 0 {
                let (_, _, change) = &cases[(i as usize / 10) % cases.len()];
                change(&mut p, cx);
            }
            p
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db_mode = args.iter().any(|a| a == "--db");
    let nums: Vec<u32> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let n = nums.first().copied().unwrap_or(10_000);
    let workers = nums.get(1).copied().unwrap_or(20);
    let runs = nums.get(2).copied().unwrap_or(3) as usize;
    let now = time::macros::datetime!(2026-11-27 10:00).assume_offset(CHINA);
    let today = now.date();
    let cfg = store::config::load(&store::config::ConfigSource::Embedded).expect("built-in config");
    let cal = domain::calendar::WorkCalendar::new(cfg.holidays.clone(), cfg.city.working_hours.clone());
    let cx = CaseCtx::new(today, &cal);
    let schema = &cfg.schemas["wage_project"];
    let indicators: Vec<_> = cfg.indicators.iter().filter(|i| i.subject == "wage_project").collect();

    let t = Instant::now();
    let data = projects(n, workers, &cx);
    let generated = t.elapsed().as_secs_f64();
    let lines: usize = data.iter().map(|p| p.payroll.len()).sum();
    let payments: usize = data.iter().map(|p| p.payments.len()).sum();
    println!(
        "{n} projects × {MONTHS} months × {workers} workers: {lines} payroll lines, {payments} payments (generated in {generated:.2} s)"
    );

    if !db_mode {
        let ctx = EvalContext { today, calendar: Some(&cal) };
        let (mut facts_t, mut eval_t, mut total_t) = (vec![], vec![], vec![]);
        let mut fired = 0usize;
        for _ in 0..runs {
            let t0 = Instant::now();
            let rows: Vec<_> = data.iter().map(|p| project_facts(p, today, &cal, &cfg.city.wages)).collect();
            let batch = Batch::from_facts(schema, &rows).expect("facts match the schema");
            let t1 = Instant::now();
            fired = 0;
            for ind in &indicators {
                fired += ind.evaluate(&batch, &ctx).iter().filter(|l| l.is_some()).count();
            }
            let t2 = Instant::now();
            facts_t.push((t1 - t0).as_secs_f64());
            eval_t.push((t2 - t1).as_secs_f64());
            total_t.push((t2 - t0).as_secs_f64());
        }
        println!(
            "in memory: {} indicators × {n} projects → {fired} (indicator, project) pairs fire; facts median {:.3} s, indicators median {:.3} s, total median {:.3} s over {runs} runs; peak memory {:.0} MiB",
            indicators.len(),
            median(&mut facts_t),
            median(&mut eval_t),
            median(&mut total_t),
            peak_mib()
        );
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let url = bench::database_url(dir.path()).await;
    let db = store::Db::open(&url).await.unwrap();
    store::demo::bootstrap(&db, &cfg, now).await.unwrap();
    let t = Instant::now();
    let mut tx = db.begin().await.unwrap();
    for p in &data {
        store::wages::insert_project_data(&mut tx, now, p, &p.code, "341602", ("", ""), "bench").await.unwrap();
    }
    tx.commit().await.unwrap();
    let loaded = t.elapsed().as_secs_f64();
    drop(data);
    // The first run opens the alerts (measured once: the database then holds them); the
    // steady nightly run that follows changes nothing and is measured `runs` times.
    let t = Instant::now();
    let r = store::alerts::run_all(&db, &cfg, &cal, store::cases::SUBJECT_SOURCES, now).await.unwrap();
    let first = t.elapsed().as_secs_f64();
    let mut steady = vec![];
    for _ in 0..runs {
        let t = Instant::now();
        let again = store::alerts::run_all(&db, &cfg, &cal, store::cases::SUBJECT_SOURCES, now).await.unwrap();
        steady.push(t.elapsed().as_secs_f64());
        assert_eq!(again.opened + again.changed + again.cleared, 0, "a second run changes nothing");
    }
    println!(
        "database: written in {loaded:.1} s; first nightly run opening {} alerts {first:.2} s, steady run median {:.2} s over {runs} runs; peak memory {:.0} MiB",
        r.opened,
        median(&mut steady),
        peak_mib()
    );
    db.close().await;
}
