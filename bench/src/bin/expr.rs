//! Expression evaluation speed: the 20 eligibility policies (condition + amount each) over N
//! synthetic enterprises, checked against the reference figures.
//!
//!     cargo run --release -p yingshang-bench --bin expr -- 1000000 [runs]

use bench::{batch, evaluate, expected, generate, policies, schema};
use domain::expr::EvalContext;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let t = Instant::now();
    let e = generate(n);
    let s = schema();
    let b = batch(&e, &s);
    println!("generated {n} enterprises and built the batch in {:.2} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let ps = policies(&s);
    println!(
        "compiled {} policies ({} expressions) in {:.2} ms",
        ps.len(),
        ps.len() * 2,
        t.elapsed().as_secs_f64() * 1e3
    );
    let ctx = EvalContext { today: time::macros::date!(2024 - 12 - 31), calendar: None };
    let cores = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1);
    for threads in [1, cores] {
        let mut times = vec![];
        let mut summary = None;
        for _ in 0..runs {
            let t = Instant::now();
            let s = evaluate(&b, &ps, &ctx, threads);
            times.push(t.elapsed().as_secs_f64());
            summary = Some(s);
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = times[times.len() / 2];
        let summary = summary.expect("at least one run");
        println!(
            "{threads} thread(s): 20 policies × {n} enterprises, median {:.3} s of {runs} runs (min {:.3} s, max {:.3} s) = {:.1} M policy-evaluations/s",
            median,
            times[0],
            times[times.len() - 1],
            (20 * n) as f64 / median / 1e6
        );
        match expected(n) {
            Some(want) if want == summary => println!(
                "  matches the reference figures for {n} rows, checksum {} included",
                summary.weighted_total_checksum
            ),
            Some(want) => {
                eprintln!("MISMATCH with the reference figures:\n want {want:?}\n got  {summary:?}");
                std::process::exit(1);
            }
            None => println!("  (no reference figures for {n} rows; 100000 and 1000000 have them)"),
        }
    }
}
