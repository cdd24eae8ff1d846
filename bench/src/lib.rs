//! Shared parts of the benchmarks: the eligibility reference workload (20 subsidy policies
//! over synthetic Bozhou enterprises), generated exactly as its SPEC says.

use domain::expr::{Batch, EvalContext, Expr, Ints, Schema, Truth, Type, compile_condition, compile_number};
use std::collections::BTreeMap;

pub const SEED: u64 = 20240601;

/// The process's peak resident memory (VmHWM) in MiB: run one measured mode per process.
pub fn peak_mib() -> f64 {
    peak_mib_of("self")
}

/// Peak resident memory of a process (`self` or a pid), in MiB.
/// The database a benchmark runs on: a new database on the PostgreSQL server named by
/// `BENCH_POSTGRES` (`postgres://user@127.0.0.1:port/postgres`), else an SQLite file in `data`.
pub async fn database_url(data: &std::path::Path) -> String {
    match std::env::var("BENCH_POSTGRES") {
        Ok(admin) if !admin.trim().is_empty() => {
            store::testdb::create_database(&admin).await.expect("BENCH_POSTGRES: 无法创建数据库")
        }
        _ => store::sqlite_url_for_dir(data),
    }
}

pub fn peak_mib_of(pid: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// Output number `16 * i + f` of SplitMix64 seeded with `SEED`.
pub fn draw(i: u64, f: u64) -> u64 {
    let k = 16 * i + f;
    let mut z = SEED.wrapping_add((k + 1).wrapping_mul(GAMMA));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub const INDUSTRIES: [&str; 10] = [
    "manufacturing",
    "software_it",
    "biomedicine",
    "new_energy",
    "new_materials",
    "agriculture",
    "retail",
    "logistics",
    "construction",
    "cultural_tourism",
];

/// The enterprises as columns (the form a city-wide run loads them in).
pub struct Enterprises {
    pub n: usize,
    pub industry: Vec<usize>,
    pub county: Vec<i64>,
    pub capital: Vec<i64>,
    pub employees: Vec<i64>,
    pub graduates: Vec<i64>,
    pub revenue: Vec<i64>,
    pub tax: Vec<i64>,
    pub rnd: Vec<i64>,
    pub high_tech: Vec<bool>,
    pub founded_year: Vec<i64>,
    pub blacklisted: Vec<bool>,
    pub si_months: Vec<i64>,
    pub poverty: Vec<i64>,
}

pub fn generate(n: usize) -> Enterprises {
    const EMP: [(u64, u64); 4] = [(1, 19), (20, 99), (100, 999), (1000, 5000)];
    const REV: [(u64, u64); 4] =
        [(0, 5_000_000), (2_000_000, 40_000_000), (20_000_000, 400_000_000), (300_000_000, 2_000_000_000)];
    const CAP: [(u64, u64); 4] =
        [(100_000, 5_000_000), (1_000_000, 50_000_000), (10_000_000, 200_000_000), (100_000_000, 2_000_000_000)];
    const GRAD: [u64; 4] = [2, 8, 30, 120];
    const POOR: [u64; 4] = [2, 5, 20, 50];
    const RB: [i64; 8] =
        [1_000_000, 5_000_000, 10_000_000, 20_000_000, 30_000_000, 100_000_000, 400_000_000, 500_000_000];
    const TB: [i64; 3] = [10_000_000, 50_000_000, 100_000_000];
    let u = |d: u64, (lo, hi): (u64, u64)| (lo + d % (hi - lo + 1)) as i64;
    let mut e = Enterprises {
        n,
        industry: Vec::with_capacity(n),
        county: Vec::with_capacity(n),
        capital: Vec::with_capacity(n),
        employees: Vec::with_capacity(n),
        graduates: Vec::with_capacity(n),
        revenue: Vec::with_capacity(n),
        tax: Vec::with_capacity(n),
        rnd: Vec::with_capacity(n),
        high_tech: Vec::with_capacity(n),
        founded_year: Vec::with_capacity(n),
        blacklisted: Vec::with_capacity(n),
        si_months: Vec::with_capacity(n),
        poverty: Vec::with_capacity(n),
    };
    for i in 0..n as u64 {
        let d = |f| draw(i, f);
        let r0 = d(0) % 100;
        let cls = if r0 < 60 {
            0
        } else if r0 < 85 {
            1
        } else if r0 < 97 {
            2
        } else {
            3
        };
        let employees = u(d(1), EMP[cls]);
        let mut revenue = u(d(2), REV[cls]);
        if d(14) % 50 == 0 {
            let k = ((d(14) / 50) % 16) as usize;
            revenue = RB[k / 2] - (k % 2) as i64;
        }
        let capital = u(d(3), CAP[cls]);
        let industry = (d(4) % 10) as usize;
        let county =
            [341602, 341602, 341602, 341602, 341621, 341621, 341622, 341622, 341623, 341623][(d(5) % 10) as usize];
        let mut tax = revenue * (d(6) % 81) as i64 / 1000;
        if d(15) % 50 == 0 {
            let k = ((d(15) / 50) % 6) as usize;
            tax = TB[k / 2] - (k % 2) as i64;
        }
        let prone = (1..=4).contains(&industry);
        let high_tech = d(7) % 100 < if prone { 30 } else { 5 };
        let permille = if high_tech { d(8) % 151 } else { d(8) % 31 } as i64;
        let founded = 1990 + (d(9) % 35) as i64;
        let grads = if d(12) % 100 < 40 { (1 + (d(12) / 100) % GRAD[cls]) as i64 } else { 0 };
        let poor = if d(13) % 100 < 20 { (1 + (d(13) / 100) % POOR[cls]) as i64 } else { 0 };
        e.industry.push(industry);
        e.county.push(county);
        e.capital.push(capital);
        e.employees.push(employees);
        e.graduates.push(grads);
        e.revenue.push(revenue);
        e.tax.push(tax);
        e.rnd.push(revenue * permille / 1000);
        e.high_tech.push(high_tech);
        e.founded_year.push(founded);
        e.blacklisted.push(d(10) % 1000 < 30);
        e.si_months.push(((d(11) % 37) as i64).min((2024 - founded + 1) * 12));
        e.poverty.push(poor);
    }
    e
}

pub fn schema() -> Schema {
    Schema::new("enterprise", "企业")
        .field("industry", Type::Str, "行业")
        .field("county_code", Type::Int, "县区代码")
        .field("registered_capital", Type::Int, "注册资本（元）")
        .field("employees", Type::Int, "从业人数")
        .field("graduates", Type::Int, "当年招用高校毕业生")
        .field("annual_revenue", Type::Int, "年营业收入（元）")
        .field("annual_tax_paid", Type::Int, "年纳税额（元）")
        .field("rnd_expense", Type::Int, "研发费用（元）")
        .field("is_high_tech", Type::Bool, "高新技术企业")
        .field("founded_year", Type::Int, "成立年份")
        .field("credit_blacklisted", Type::Bool, "失信")
        .field("si_months", Type::Int, "社保缴费月数")
        .field("poverty_hires", Type::Int, "招用脱贫人口")
}

pub fn batch(e: &Enterprises, schema: &Schema) -> Batch {
    let mut b = Batch::new(schema, e.n);
    b.set_strs("industry", e.industry.iter().map(|i| Some(INDUSTRIES[*i]))).unwrap();
    b.set_ints("county_code", e.county.clone(), None).unwrap();
    b.set_ints("registered_capital", e.capital.clone(), None).unwrap();
    b.set_ints("employees", e.employees.clone(), None).unwrap();
    b.set_ints("graduates", e.graduates.clone(), None).unwrap();
    b.set_ints("annual_revenue", e.revenue.clone(), None).unwrap();
    b.set_ints("annual_tax_paid", e.tax.clone(), None).unwrap();
    b.set_ints("rnd_expense", e.rnd.clone(), None).unwrap();
    b.set_bools("is_high_tech", e.high_tech.clone(), None).unwrap();
    b.set_ints("founded_year", e.founded_year.clone(), None).unwrap();
    b.set_bools("credit_blacklisted", e.blacklisted.clone(), None).unwrap();
    b.set_ints("si_months", e.si_months.clone(), None).unwrap();
    b.set_ints("poverty_hires", e.poverty.clone(), None).unwrap();
    b
}

pub struct Policy {
    pub id: String,
    pub when: Expr,
    pub amount: Expr,
}

pub fn policies(schema: &Schema) -> Vec<Policy> {
    #[derive(serde::Deserialize)]
    struct File {
        policy: Vec<Raw>,
    }
    #[derive(serde::Deserialize)]
    struct Raw {
        id: String,
        when: String,
        amount: String,
    }
    let f: File = toml::from_str(include_str!("../policies.toml")).expect("policies.toml");
    f.policy
        .into_iter()
        .map(|p| Policy {
            when: compile_condition(p.when.trim(), schema).unwrap_or_else(|e| panic!("{}: {e}", p.id)),
            amount: compile_number(p.amount.trim(), schema).unwrap_or_else(|e| panic!("{}: {e}", p.id)),
            id: p.id,
        })
        .collect()
}

/// The figures `expected.json` lists for one dataset.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub policies: BTreeMap<String, (u64, i64, i64)>,
    pub total_benefit_sum: i64,
    pub enterprises_with_any_benefit: u64,
    pub eligible_pairs: u64,
    pub histogram: BTreeMap<u32, u64>,
    pub weighted_total_checksum: i128,
}

/// Per-policy figures and per-row totals of some of the policies.
struct Partial {
    policies: Vec<(String, (u64, i64, i64))>,
    total: Vec<i64>,
    count: Vec<u32>,
}

fn run_policies(batch: &Batch, policies: &[Policy], ctx: &EvalContext) -> Partial {
    let n = batch.len();
    let mut part = Partial { policies: vec![], total: vec![0; n], count: vec![0; n] };
    for p in policies {
        let when: Truth = p.when.truth(batch, ctx);
        let amount: Ints = p.amount.ints(batch, ctx);
        // A row counts when the condition is known true; an amount without a value counts 0.
        let (mut eligible, mut sum, mut max) = (0u64, 0i64, 0i64);
        for i in 0..n {
            let hit = when.values[i] & when.valid.as_ref().is_none_or(|v| v[i]);
            let a = if amount.valid.as_ref().is_none_or(|v| v[i]) { amount.values[i] } else { 0 };
            let a = if hit { a } else { 0 };
            eligible += u64::from(hit);
            sum += a;
            max = max.max(a);
            part.total[i] += a;
            part.count[i] += u32::from(hit);
        }
        part.policies.push((p.id.clone(), (eligible, sum, max)));
    }
    part
}

/// Evaluates every policy over the batch and sums up, with the policies shared out over
/// `threads` threads (1: all on this thread). Each policy's columns are used and dropped at
/// once, so memory stays at a few columns whatever the number of policies.
pub fn evaluate(batch: &Batch, policies: &[Policy], ctx: &EvalContext, threads: usize) -> Summary {
    let n = batch.len();
    let parts: Vec<Partial> = if threads <= 1 {
        vec![run_policies(batch, policies, ctx)]
    } else {
        let per = policies.len().div_ceil(threads);
        std::thread::scope(|sc| {
            let handles: Vec<_> =
                policies.chunks(per).map(|ch| sc.spawn(move || run_policies(batch, ch, ctx))).collect();
            handles.into_iter().map(|h| h.join().expect("policy thread")).collect()
        })
    };
    let mut total = vec![0i64; n];
    let mut count = vec![0u32; n];
    let mut s = Summary::default();
    for part in parts {
        for (id, figures) in part.policies {
            s.eligible_pairs += figures.0;
            s.policies.insert(id, figures);
        }
        for i in 0..n {
            total[i] += part.total[i];
            count[i] += part.count[i];
        }
    }
    for i in 0..n {
        s.total_benefit_sum += total[i];
        s.enterprises_with_any_benefit += u64::from(total[i] > 0);
        *s.histogram.entry(count[i]).or_default() += 1;
        s.weighted_total_checksum += ((i % 1000) as i128 + 1) * total[i] as i128;
    }
    s
}

/// The expected summary for `n` rows from the reference file.
pub fn expected(n: usize) -> Option<Summary> {
    let v: serde_json::Value =
        serde_json::from_str(include_str!("../data/eligibility-expected.json")).expect("expected.json");
    let d = v.get("datasets")?.get(n.to_string())?;
    let mut s = Summary::default();
    for (id, p) in d["policies"].as_object()? {
        s.policies.insert(id.clone(), (p["eligible"].as_u64()?, p["amount_sum"].as_i64()?, p["amount_max"].as_i64()?));
    }
    s.total_benefit_sum = d["total_benefit_sum"].as_i64()?;
    s.enterprises_with_any_benefit = d["enterprises_with_any_benefit"].as_u64()?;
    s.eligible_pairs = d["eligible_pairs"].as_u64()?;
    for (k, c) in d["eligible_policy_count_histogram"].as_object()? {
        s.histogram.insert(k.parse().ok()?, c.as_u64()?);
    }
    s.weighted_total_checksum = d["weighted_total_checksum"].as_i64()? as i128;
    Some(s)
}
