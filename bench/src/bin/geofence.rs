//! Fence checks over the reference data set (`shared/bench-data/geofence`, generated with its
//! `gen_data.py`): 10,000 persons, each a 24-vertex allowed polygon and two forbidden circles,
//! 1,000,000 fixes. Every fix is checked with `domain::supervision::FenceSet::violates_exact`
//! (polygons planar in lon/lat, edges covered; circles geodesic on WGS-84), the result is
//! compared fix by fix with `expected_alarms.csv`, and the checks are timed on one thread and
//! on all cores.
//!
//!     python3 ../shared/bench-data/geofence/gen_data.py /tmp/geofence-data
//!     cargo run --release -p yingshang-bench --bin geofence -- /tmp/geofence-data 5

use bench::peak_mib;
use domain::geo::fence::{Area, Circle, Shape};
use domain::geo::{Ring, Wgs84Point};
use domain::supervision::{Fence, FenceSet, Rule};
use std::collections::HashMap;
use std::time::Instant;

fn rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().skip(1).filter(|l| !l.is_empty()).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

fn num<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap()
}

struct Fix {
    id: u32,
    person: u32,
    p: Wgs84Point,
}

fn check_all(sets: &[FenceSet], fixes: &[Fix]) -> Vec<(u32, bool, bool)> {
    let mut out = Vec::with_capacity(fixes.len() / 16);
    for f in fixes {
        let (outside, forbidden) = sets[f.person as usize].violates_exact(&f.p);
        if outside || forbidden {
            out.push((f.id, outside, forbidden));
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(args.get(1).map(String::as_str).unwrap_or("/tmp/geofence-data"));
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);

    let t = Instant::now();
    let mut vertices: HashMap<u32, Vec<(u32, Wgs84Point)>> = HashMap::new();
    for r in rows(&dir.join("allowed_vertices.csv")) {
        vertices.entry(num(&r[0])).or_default().push((num(&r[1]), Wgs84Point { lon: num(&r[2]), lat: num(&r[3]) }));
    }
    let persons = vertices.keys().max().copied().unwrap_or(0) as usize;
    let mut sets: Vec<FenceSet> = vec![FenceSet::default(); persons + 1];
    for (pid, mut vs) in vertices {
        vs.sort_by_key(|v| v.0);
        let ring = Ring::new(vs.into_iter().map(|v| v.1).collect()).expect("24 vertices");
        sets[pid as usize].fences.push(Fence {
            id: format!("allowed-{pid}"),
            rule: Rule::Allowed,
            shape: Shape::Areas(vec![Area::new(ring, vec![])]),
            window: None,
            schedule: None,
        });
    }
    let mut zones = 0;
    for r in rows(&dir.join("forbidden_zones.csv")) {
        let pid: usize = num(&r[1]);
        let c = Circle::new(Wgs84Point { lon: num(&r[2]), lat: num(&r[3]) }, num(&r[4])).expect("radius");
        sets[pid].fences.push(Fence {
            id: r[0].clone(),
            rule: Rule::Forbidden,
            shape: Shape::Circle(c),
            window: None,
            schedule: None,
        });
        zones += 1;
    }
    let fixes: Vec<Fix> = rows(&dir.join("fixes.csv"))
        .into_iter()
        .map(|r| Fix { id: num(&r[0]), person: num(&r[1]), p: Wgs84Point { lon: num(&r[2]), lat: num(&r[3]) } })
        .collect();
    let expected: Vec<(u32, bool, bool)> =
        rows(&dir.join("expected_alarms.csv")).into_iter().map(|r| (num(&r[0]), &r[1] == "1", &r[2] == "1")).collect();
    println!(
        "{persons} persons, {zones} forbidden zones, {} fixes, {} expected violations (loaded in {:.1} s)",
        fixes.len(),
        expected.len(),
        t.elapsed().as_secs_f64()
    );

    // Correctness first: the same violating fixes with the same reasons.
    let got = check_all(&sets, &fixes);
    let outside = got.iter().filter(|g| g.1).count();
    let inside = got.iter().filter(|g| g.2).count();
    let mismatches = got.len().abs_diff(expected.len()) + got.iter().zip(&expected).filter(|(a, b)| a != b).count();
    println!(
        "raw violations {} (outside allowed {outside}, in forbidden {inside}); mismatches with expected: {mismatches}",
        got.len()
    );
    assert_eq!(mismatches, 0, "the checks must reproduce expected_alarms.csv exactly");

    let mut single = vec![];
    for _ in 0..runs {
        let t = Instant::now();
        let n = check_all(&sets, &fixes).len();
        single.push(t.elapsed().as_secs_f64());
        assert_eq!(n, expected.len());
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut multi = vec![];
    for _ in 0..runs {
        let t = Instant::now();
        let chunk = fixes.len().div_ceil(cores);
        let n: usize = std::thread::scope(|s| {
            let handles: Vec<_> = fixes.chunks(chunk).map(|part| s.spawn(|| check_all(&sets, part).len())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        multi.push(t.elapsed().as_secs_f64());
        assert_eq!(n, expected.len());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (s, m) = (median(&mut single), median(&mut multi));
    println!(
        "one thread: {:.0} fixes/s (median of {runs}, {:.3} s); {cores} threads: {:.0} fixes/s ({:.3} s); peak memory {:.0} MiB",
        fixes.len() as f64 / s,
        s,
        fixes.len() as f64 / m,
        m,
        peak_mib()
    );
}
