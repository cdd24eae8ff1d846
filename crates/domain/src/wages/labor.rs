//! Labor relations by grid (劳动关系网格化管理): placing employers (用人单位) in grids, the
//! harmony index (和谐指数) of a set of employers in a month, and the labor-risk facts of one
//! employer that the warning rules read.

use crate::geo::{Ring, Wgs84Point};
use time::{Date, Month};

/// A grid as placement needs it.
#[derive(Debug, Clone)]
pub struct GridShape {
    pub code: String,
    pub division_code: String,
    pub ring: Ring,
    /// Address keywords (town, road, village) configured for the grid.
    pub keywords: Vec<String>,
    bbox: (f64, f64, f64, f64),
}

impl GridShape {
    pub fn new(code: String, division_code: String, ring: Ring, keywords: Vec<String>) -> Self {
        let bbox = ring.bbox();
        GridShape { code, division_code, ring, keywords, bbox }
    }

    fn contains(&self, p: &Wgs84Point) -> bool {
        let (x0, y0, x1, y1) = self.bbox;
        p.lon >= x0 && p.lon <= x1 && p.lat >= y0 && p.lat <= y1 && self.ring.contains(p)
    }
}

crate::coded! {
    /// How an employer came to be in its grid.
    pub enum Method ("网格划分方式") {
        /// Its coordinates lie in the grid's polygon.
        Polygon = ("polygon", "按坐标（网格边界）"),
        /// No coordinates; its address contains the grid's keyword, and no other grid's keyword
        /// as long.
        Keyword = ("keyword", "按地址关键词"),
        /// A grid manager or county staff placed it by hand.
        Manual = ("manual", "人工划分"),
    }
}

/// Where an employer belongs, if that can be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    Grid {
        index: usize,
        method: Method,
    },
    /// Several grids' keywords match the address equally well: a person decides.
    Ambiguous(Vec<usize>),
    Unplaced,
}

/// Places an employer: by coordinates when it has them (the first grid whose polygon holds
/// the point; grids do not overlap), otherwise by the longest configured keyword its address
/// contains. A keyword tie between grids is not guessed.
pub fn locate(grids: &[GridShape], point: Option<Wgs84Point>, address: &str) -> Placement {
    if let Some(p) = point
        && let Some(i) = grids.iter().position(|g| g.contains(&p))
    {
        return Placement::Grid { index: i, method: Method::Polygon };
    }
    let address: String = address.chars().filter(|c| !c.is_whitespace()).collect();
    if address.is_empty() {
        return Placement::Unplaced;
    }
    let mut best = 0usize;
    let mut hits: Vec<usize> = vec![];
    for (i, g) in grids.iter().enumerate() {
        let len = g
            .keywords
            .iter()
            .map(|k| k.trim())
            .filter(|k| !k.is_empty() && address.contains(*k))
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(0);
        if len == 0 || len < best {
            continue;
        }
        if len > best {
            best = len;
            hits.clear();
        }
        hits.push(i);
    }
    match hits.len() {
        0 => Placement::Unplaced,
        1 => Placement::Grid { index: hits[0], method: Method::Keyword },
        _ => Placement::Ambiguous(hits),
    }
}

/// What a set of employers reported for a month (social insurance, labor inspection,
/// arbitration, 12345): the inputs of the harmony index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub employers: i64,
    pub employees: i64,
    pub insured: i64,
    /// 劳动保障咨询: shown, never counted against the index — a worker who asks is not a
    /// complaint.
    pub consultations: i64,
    /// 投诉举报 (including 欠薪投诉).
    pub complaints: i64,
    /// 劳动争议案件 (labor-dispute cases: inspection and arbitration).
    pub disputes: i64,
    /// 群体性劳资纠纷风险 (collective-dispute risks found).
    pub collective_risks: i64,
    /// Employees with a signed labor contract, of the `contract_reported` employees whose
    /// reports said (劳动合同法 art. 10: a written contract).
    pub contracted: i64,
    pub contract_reported: i64,
    /// 欠薪案件 (wage-arrears cases) found or filed in the month.
    pub arrears: i64,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.employers += o.employers;
        self.employees += o.employees;
        self.insured += o.insured;
        self.consultations += o.consultations;
        self.complaints += o.complaints;
        self.disputes += o.disputes;
        self.collective_risks += o.collective_risks;
        self.contracted += o.contracted;
        self.contract_reported += o.contract_reported;
        self.arrears += o.arrears;
    }
}

/// One deduction of the harmony index, for the explanation on the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Deduction {
    pub label: &'static str,
    pub rule: &'static str,
    pub points: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Harmony {
    /// 0–100, one decimal.
    pub score: f64,
    pub deductions: Vec<Deduction>,
}

impl Harmony {
    pub fn level(&self) -> &'static str {
        match self.score {
            s if s >= 90.0 => "和谐",
            s if s >= 80.0 => "较和谐",
            s if s >= 60.0 => "需关注",
            _ => "不和谐",
        }
    }
}

/// Employee counts below this are rated as this many.
pub const RATE_FLOOR: i64 = 100;

/// The rules of the harmony index, as the page explains them.
pub const HARMONY_RULES: [(&str, &str, f64); 6] = [
    ("劳动争议案件", "每千名职工 1 件扣 10 分（不足 100 人按 100 人计），最多扣 25 分", 25.0),
    ("投诉举报", "每千名职工 1 件扣 4 分（不足 100 人按 100 人计），最多扣 15 分；咨询不扣分", 15.0),
    ("欠薪案件", "每千名职工 1 件扣 10 分（不足 100 人按 100 人计），最多扣 20 分", 20.0),
    ("群体性劳资纠纷风险", "每百户用人单位 1 起扣 10 分，最多扣 20 分", 20.0),
    ("社保参保缺口", "未参保职工占比 × 10 分，最多扣 10 分", 10.0),
    ("劳动合同签订缺口", "未签订劳动合同职工占比 × 10 分（按报送了签订人数的职工计），最多扣 10 分", 10.0),
];

/// 和谐指数: 100 less six capped deductions, so that no single measure can sink it alone and
/// a small employer is compared with a large one by rates, not counts. A worker's question
/// (咨询) is not a complaint and costs nothing; wage arrears and the contract-signing gap do.
pub fn harmony(t: &Tally) -> Harmony {
    // Rates over at least 100 employees, so one case at a ten-person shop does not read as a
    // hundred per thousand.
    let per_thousand = |n: i64| n as f64 * 1000.0 / t.employees.max(RATE_FLOOR) as f64;
    let per_hundred_employers = |n: i64| n as f64 * 100.0 / t.employers.max(1) as f64;
    let shortfall =
        if t.employees > 0 { (t.employees - t.insured.min(t.employees)) as f64 / t.employees as f64 } else { 0.0 };
    let contract_gap = if t.contract_reported > 0 {
        (t.contract_reported - t.contracted.clamp(0, t.contract_reported)) as f64 / t.contract_reported as f64
    } else {
        0.0
    };
    let raw = [
        per_thousand(t.disputes) * 10.0,
        per_thousand(t.complaints) * 4.0,
        per_thousand(t.arrears) * 10.0,
        per_hundred_employers(t.collective_risks) * 10.0,
        shortfall * 10.0,
        contract_gap * 10.0,
    ];
    let deductions: Vec<Deduction> = HARMONY_RULES
        .iter()
        .zip(raw)
        .map(|((label, rule, cap), r)| Deduction { label, rule, points: round1(r.min(*cap)) })
        .collect();
    let score = round1((100.0 - deductions.iter().map(|d| d.points).sum::<f64>()).clamp(0.0, 100.0));
    Harmony { score, deductions }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// One employer's report for a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthReport {
    pub month: Date,
    pub employees: i64,
    pub insured: i64,
    pub consultations: i64,
    pub complaints: i64,
    pub disputes: i64,
    pub collective_risks: i64,
    /// Employees with a signed labor contract, when the report says.
    pub contracted: Option<i64>,
    /// 欠薪案件.
    pub arrears: i64,
}

/// The labor-risk facts of an employer: its latest month against the month before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RiskFacts {
    pub month: Option<Date>,
    pub insured_now: i64,
    pub insured_prev: i64,
    /// Insured headcount lost within the month (0 when it grew).
    pub insured_drop: i64,
    /// The loss as a whole percentage of the month before.
    pub insured_drop_pct: i64,
    /// Complaints (not questions: 咨询 is no complaint) in the latest month, and the month before.
    pub complaints_now: i64,
    pub complaints_prev: i64,
    pub disputes_now: i64,
    pub collective_risks: i64,
}

pub fn month_start(d: Date) -> Date {
    d.replace_day(1).expect("day 1 exists")
}

pub fn prev_month(m: Date) -> Date {
    let m = month_start(m);
    let (y, mo) =
        if m.month() == Month::January { (m.year() - 1, Month::December) } else { (m.year(), m.month().previous()) };
    Date::from_calendar_date(y, mo, 1).expect("valid month")
}

/// Reports older than this many months before today's month are stale: no risk is read from
/// them (the employer may have stopped reporting, which is a different question).
pub const STALE_MONTHS: u32 = 2;

/// Reads the facts from an employer's reports (any order). `None` without a report in the
/// last `STALE_MONTHS` months.
pub fn risk_facts(reports: &[MonthReport], today: Date) -> Option<RiskFacts> {
    let this = month_start(today);
    let mut oldest = this;
    for _ in 0..STALE_MONTHS {
        oldest = prev_month(oldest);
    }
    let latest = reports.iter().filter(|r| r.month <= this && r.month >= oldest).max_by_key(|r| r.month)?;
    let prev = reports.iter().find(|r| r.month == prev_month(latest.month));
    let insured_prev = prev.map(|p| p.insured).unwrap_or(latest.insured);
    let insured_drop = (insured_prev - latest.insured).max(0);
    Some(RiskFacts {
        month: Some(latest.month),
        insured_now: latest.insured,
        insured_prev,
        insured_drop,
        insured_drop_pct: if insured_prev > 0 { insured_drop * 100 / insured_prev } else { 0 },
        complaints_now: latest.complaints,
        complaints_prev: prev.map(|p| p.complaints).unwrap_or(0),
        disputes_now: latest.disputes,
        collective_risks: latest.collective_risks,
    })
}

/// What the demo city makes happen to an employer in its latest month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoEvent {
    Quiet,
    /// Insured headcount falls by about a third.
    Layoff,
    /// Complaints jump (and questions with them).
    Complaints,
    /// A collective wage claim is brewing.
    Collective,
}

/// Twelve months of plausible reports for a demo employer up to the month before `today`,
/// with `event` in the last one. Deterministic in `seed`.
pub fn demo_reports(seed: u64, employees: i64, today: Date, event: DemoEvent) -> Vec<MonthReport> {
    let mut rng = crate::demo::Rng::new(seed);
    let mut contracts = crate::demo::Rng::new(seed ^ 0x9e37_79b9);
    let mut month = prev_month(today);
    let mut months = vec![];
    for _ in 0..12 {
        months.push(month);
        month = prev_month(month);
    }
    months.reverse();
    let base = employees.max(1);
    let n = months.len();
    months
        .into_iter()
        .enumerate()
        .map(|(i, month)| {
            let last = i + 1 == n;
            // Headcount drifts a few percent; coverage 80–100 %.
            let employees = (base + rng.between(-base / 20, base / 20)).max(1);
            let mut insured = employees * rng.between(80, 100) / 100;
            let mut consultations =
                if rng.below(100) < (5 + base.min(400) as u64 / 10) { rng.between(0, 2) } else { 0 };
            let mut complaints = if rng.below(100) < 4 { 1 } else { 0 };
            let disputes = if rng.below(1000) < (2 + base.min(500) as u64 / 20) { 1 } else { 0 };
            let mut collective_risks = 0;
            let mut arrears = 0;
            // Contracts: nearly everyone, a few percent missing at some employers (from a
            // stream of its own, so the other figures stay as they were).
            let contracted = Some(employees - employees * contracts.between(0, 4) / 100);
            if last {
                match event {
                    DemoEvent::Quiet => {}
                    DemoEvent::Layoff => insured /= 2,
                    DemoEvent::Complaints => {
                        consultations += 4;
                        complaints += 6;
                    }
                    DemoEvent::Collective => {
                        complaints += 2;
                        collective_risks = 1;
                        arrears = 1;
                    }
                }
            }
            MonthReport {
                month,
                employees,
                insured,
                consultations,
                complaints,
                disputes,
                collective_risks,
                contracted,
                arrears,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn grid(code: &str, x0: f64, y0: f64, x1: f64, y1: f64, kw: &[&str]) -> GridShape {
        GridShape::new(
            code.into(),
            "341602100".into(),
            Ring::rect(x0, y0, x1, y1),
            kw.iter().map(|s| s.to_string()).collect(),
        )
    }

    fn grids() -> Vec<GridShape> {
        vec![
            grid("A", 115.0, 33.0, 115.5, 33.5, &["古井镇", "古井镇古井村"]),
            grid("B", 115.5, 33.0, 116.0, 33.5, &["古井镇", "十河镇"]),
            grid("C", 116.0, 33.0, 116.5, 33.5, &["魏武大道"]),
        ]
    }

    #[test]
    fn coordinates_win_over_address() {
        let p = Wgs84Point { lon: 116.2, lat: 33.2 };
        assert_eq!(locate(&grids(), Some(p), "十河镇"), Placement::Grid { index: 2, method: Method::Polygon });
    }

    #[test]
    fn address_places_by_the_longest_keyword_and_does_not_guess_ties() {
        let g = grids();
        assert_eq!(locate(&g, None, "古井镇古井村 12 号"), Placement::Grid { index: 0, method: Method::Keyword });
        assert_eq!(locate(&g, None, "十河镇大李村"), Placement::Grid { index: 1, method: Method::Keyword });
        assert_eq!(locate(&g, None, "古井镇西街"), Placement::Ambiguous(vec![0, 1]));
        assert_eq!(locate(&g, None, "合肥市蜀山区"), Placement::Unplaced);
        assert_eq!(locate(&g, None, "  "), Placement::Unplaced);
        // A point outside every grid falls back to the address.
        let far = Wgs84Point { lon: 120.0, lat: 30.0 };
        assert_eq!(locate(&g, Some(far), "魏武大道 1 号"), Placement::Grid { index: 2, method: Method::Keyword });
    }

    #[test]
    fn harmony_of_a_quiet_month_is_full() {
        let t = Tally { employers: 10, employees: 500, insured: 500, ..Default::default() };
        let h = harmony(&t);
        assert_eq!(h.score, 100.0);
        assert_eq!(h.level(), "和谐");
    }

    #[test]
    fn harmony_deducts_by_rate_and_caps_each_measure() {
        // 1,000 employees: 2 disputes (−20), 3 complaints (−12), 1 arrears case (−10), 0 risks,
        // 90% insured (−1), 95% of the reported contracted (−0.5); 50 questions cost nothing.
        let t = Tally {
            employers: 20,
            employees: 1000,
            insured: 900,
            consultations: 50,
            complaints: 3,
            disputes: 2,
            arrears: 1,
            contracted: 950,
            contract_reported: 1000,
            ..Default::default()
        };
        let h = harmony(&t);
        assert_eq!(h.deductions.iter().map(|d| d.points).collect::<Vec<_>>(), vec![20.0, 12.0, 10.0, 0.0, 1.0, 0.5]);
        assert_eq!(h.score, 56.5);
        assert_eq!(h.level(), "不和谐");
        // A small employer's single complaint is rated over 100 employees: −40 capped at −15.
        let t = Tally { employers: 1, employees: 12, insured: 12, complaints: 1, ..Default::default() };
        assert_eq!(harmony(&t).score, 85.0);
        // A tiny employer with one collective dispute loses the capped 20, not more.
        let t = Tally { employers: 1, employees: 5, insured: 5, collective_risks: 1, ..Default::default() };
        assert_eq!(harmony(&t).score, 80.0);
    }

    /// Questions are not complaints: a month of 咨询 leaves the index whole.
    #[test]
    fn harmony_does_not_count_questions() {
        let t = Tally { employers: 3, employees: 300, insured: 300, consultations: 40, ..Default::default() };
        assert_eq!(harmony(&t).score, 100.0);
    }

    #[test]
    fn risk_facts_compare_the_latest_month_with_the_one_before() {
        let r = |m: Date, insured: i64, complaints: i64| MonthReport {
            month: m,
            employees: 120,
            insured,
            consultations: 0,
            complaints,
            disputes: 0,
            collective_risks: 0,
            contracted: None,
            arrears: 0,
        };
        let reports =
            [r(date!(2026 - 09 - 01), 100, 1), r(date!(2026 - 10 - 01), 70, 4), r(date!(2026 - 08 - 01), 100, 0)];
        let f = risk_facts(&reports, date!(2026 - 11 - 20)).unwrap();
        assert_eq!(f.month, Some(date!(2026 - 10 - 01)));
        assert_eq!((f.insured_prev, f.insured_now, f.insured_drop, f.insured_drop_pct), (100, 70, 30, 30));
        assert_eq!((f.complaints_prev, f.complaints_now), (1, 4));
        // Stale reports say nothing.
        assert_eq!(risk_facts(&reports, date!(2027 - 02 - 01)), None);
        // A month that grew is no drop.
        let grew = [r(date!(2026 - 10 - 01), 100, 0), r(date!(2026 - 11 - 01), 120, 0)];
        assert_eq!(risk_facts(&grew, date!(2026 - 11 - 20)).unwrap().insured_drop, 0);
        assert_eq!(prev_month(date!(2026 - 01 - 15)), date!(2025 - 12 - 01));
    }

    #[test]
    fn demo_events_make_the_latest_month_risky() {
        let today = date!(2026 - 11 - 27);
        let quiet = demo_reports(7, 200, today, DemoEvent::Quiet);
        assert_eq!(quiet.len(), 12);
        assert_eq!(quiet.last().unwrap().month, date!(2026 - 10 - 01));
        assert_eq!(quiet.first().unwrap().month, date!(2025 - 11 - 01));
        let layoff = risk_facts(&demo_reports(7, 200, today, DemoEvent::Layoff), today).unwrap();
        assert!(layoff.insured_drop_pct >= 20, "{layoff:?}");
        let loud = risk_facts(&demo_reports(7, 200, today, DemoEvent::Complaints), today).unwrap();
        assert!(loud.complaints_now >= 6, "{loud:?}");
        let risk = risk_facts(&demo_reports(7, 200, today, DemoEvent::Collective), today).unwrap();
        assert_eq!(risk.collective_risks, 1);
    }

    proptest! {
        #[test]
        fn harmony_stays_between_0_and_100(
            employers in 0i64..5000, employees in 0i64..1_000_000, insured in 0i64..1_000_000,
            c in 0i64..10_000, k in 0i64..10_000, d in 0i64..10_000, r in 0i64..1000,
        ) {
            let t = Tally {
                employers, employees, insured, consultations: c, complaints: k, disputes: d, collective_risks: r,
                contracted: insured, contract_reported: employees, arrears: k / 2,
            };
            let h = harmony(&t);
            prop_assert!((0.0..=100.0).contains(&h.score));
            // More disputes never raise the index.
            let worse = Tally { disputes: d + 1, ..t };
            prop_assert!(harmony(&worse).score <= h.score);
        }
    }
}
