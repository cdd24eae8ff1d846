//! Talent portrait (人才画像): from the people the employers employ (education, school, major,
//! age from the ID number) and the jobs they post — talent stock by industry and education,
//! age structure, inflow and outflow by month and industry, and shortages (posted openings
//! against applicants, 求人倍率).

use crate::wages::labor::{month_start, prev_month};
use std::collections::BTreeMap;
use time::Date;

/// Highest education (最高学历), in ascending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Education {
    Middle,
    High,
    Vocational,
    College,
    Bachelor,
    Master,
    Doctor,
}

impl Education {
    pub const ALL: [Education; 7] = [
        Education::Middle,
        Education::High,
        Education::Vocational,
        Education::College,
        Education::Bachelor,
        Education::Master,
        Education::Doctor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Education::Middle => "middle",
            Education::High => "high",
            Education::Vocational => "vocational",
            Education::College => "college",
            Education::Bachelor => "bachelor",
            Education::Master => "master",
            Education::Doctor => "doctor",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Education::Middle => "初中及以下",
            Education::High => "高中",
            Education::Vocational => "中专/技校",
            Education::College => "大专",
            Education::Bachelor => "本科",
            Education::Master => "硕士研究生",
            Education::Doctor => "博士研究生",
        }
    }

    /// Accepts the code, the label, and the common ways registries write them.
    pub fn parse(s: &str) -> Option<Education> {
        let s = s.trim();
        Education::ALL.into_iter().find(|e| e.as_str() == s || e.label() == s).or(match s {
            "初中" | "小学" | "文盲" => Some(Education::Middle),
            "中专" | "技校" | "职高" | "中职" => Some(Education::Vocational),
            "专科" | "高职" => Some(Education::College),
            "大学本科" | "学士" => Some(Education::Bachelor),
            "硕士" | "研究生" => Some(Education::Master),
            "博士" => Some(Education::Doctor),
            _ => None,
        })
    }

    /// 大专及以上: what statistics call 人才 in the narrow sense.
    pub fn is_higher(self) -> bool {
        self >= Education::College
    }
}

/// Age bands of the age structure.
pub const AGE_BANDS: [(&str, i32, i32); 5] = [
    ("25 岁及以下", 0, 25),
    ("26–35 岁", 26, 35),
    ("36–45 岁", 36, 45),
    ("46–55 岁", 46, 55),
    ("56 岁及以上", 56, 200),
];

pub fn age_on(birth: Date, today: Date) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month() as u8, today.day()) < (birth.month() as u8, birth.day()) {
        age -= 1;
    }
    age
}

/// One person's employment with one employer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employment {
    pub birth: Date,
    pub education: Education,
    pub school: String,
    pub major: String,
    pub industry: String,
    pub started_on: Date,
    pub ended_on: Option<Date>,
}

impl Employment {
    fn employed_on(&self, d: Date) -> bool {
        self.started_on <= d && self.ended_on.is_none_or(|e| e > d)
    }
}

/// A job an employer posted (岗位需求) with the applicants it drew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub industry: String,
    pub title: String,
    pub openings: i64,
    pub applicants: i64,
    pub posted_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthFlow {
    pub month: Date,
    pub inflow: i64,
    pub outflow: i64,
    /// Employed at the end of the month.
    pub stock: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndustryRow {
    pub industry: String,
    pub stock: i64,
    /// Stock by education, in `Education::ALL` order.
    pub by_education: [i64; 7],
    pub higher: i64,
    pub inflow: i64,
    pub outflow: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortage {
    pub industry: String,
    pub openings: i64,
    pub applicants: i64,
    /// Openings not covered by applicants (0 when applicants suffice).
    pub gap: i64,
    /// 求人倍率 × 100 (openings per applicant); `None` without applicants.
    pub ratio_x100: Option<i64>,
    /// The job title with the most unmet openings.
    pub hardest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Portrait {
    pub stock: i64,
    pub higher: i64,
    /// Average age of the stock × 10.
    pub avg_age_x10: i64,
    pub industries: Vec<IndustryRow>,
    pub education: Vec<(Education, i64)>,
    pub ages: Vec<(&'static str, i64)>,
    pub majors: Vec<(String, i64)>,
    pub schools: Vec<(String, i64)>,
    pub flows: Vec<MonthFlow>,
    pub shortages: Vec<Shortage>,
}

/// The last `n` whole months before `today`'s month, oldest first.
pub fn last_months(today: Date, n: usize) -> Vec<Date> {
    let mut m = month_start(today);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        m = prev_month(m);
        out.push(m);
    }
    out.reverse();
    out
}

fn month_end(m: Date) -> Date {
    let next = if m.month() == time::Month::December {
        Date::from_calendar_date(m.year() + 1, time::Month::January, 1)
    } else {
        Date::from_calendar_date(m.year(), m.month().next(), 1)
    }
    .expect("valid month");
    next.previous_day().expect("not the first day")
}

fn top(counts: BTreeMap<String, i64>, n: usize) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = counts.into_iter().filter(|(k, _)| !k.is_empty()).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

/// The portrait today, with flows and shortages over the last `months` whole months.
pub fn portrait(emps: &[Employment], posts: &[Posting], today: Date, months: usize) -> Portrait {
    let window = last_months(today, months);
    let first = window.first().copied().unwrap_or(month_start(today));
    let now: Vec<&Employment> = emps.iter().filter(|e| e.employed_on(today)).collect();
    let mut p = Portrait { stock: now.len() as i64, ..Default::default() };
    let mut industries: BTreeMap<String, IndustryRow> = BTreeMap::new();
    let mut education = [0i64; 7];
    let mut ages = [0i64; 5];
    let (mut majors, mut schools) = (BTreeMap::new(), BTreeMap::new());
    let mut age_sum = 0i64;
    for e in &now {
        let row = industries
            .entry(e.industry.clone())
            .or_insert_with(|| IndustryRow { industry: e.industry.clone(), ..Default::default() });
        let ei = Education::ALL.iter().position(|x| *x == e.education).expect("in ALL");
        row.stock += 1;
        row.by_education[ei] += 1;
        education[ei] += 1;
        if e.education.is_higher() {
            row.higher += 1;
            p.higher += 1;
            *majors.entry(e.major.clone()).or_insert(0) += 1;
            *schools.entry(e.school.clone()).or_insert(0) += 1;
        }
        let age = age_on(e.birth, today);
        age_sum += age as i64;
        if let Some(b) = AGE_BANDS.iter().position(|(_, lo, hi)| age >= *lo && age <= *hi) {
            ages[b] += 1;
        }
    }
    for e in emps {
        let row = industries
            .entry(e.industry.clone())
            .or_insert_with(|| IndustryRow { industry: e.industry.clone(), ..Default::default() });
        if e.started_on >= first && e.started_on < month_start(today) {
            row.inflow += 1;
        }
        if let Some(end) = e.ended_on
            && end >= first
            && end < month_start(today)
        {
            row.outflow += 1;
        }
    }
    p.avg_age_x10 = if now.is_empty() { 0 } else { age_sum * 10 / now.len() as i64 };
    p.flows = window
        .iter()
        .map(|m| {
            let end = month_end(*m);
            let within = |d: Date| d >= *m && d <= end;
            MonthFlow {
                month: *m,
                inflow: emps.iter().filter(|e| within(e.started_on)).count() as i64,
                outflow: emps.iter().filter(|e| e.ended_on.is_some_and(within)).count() as i64,
                stock: emps.iter().filter(|e| e.employed_on(end)).count() as i64,
            }
        })
        .collect();
    let mut rows: Vec<IndustryRow> = industries.into_values().collect();
    rows.sort_by(|a, b| b.stock.cmp(&a.stock).then_with(|| a.industry.cmp(&b.industry)));
    p.industries = rows;
    p.education = Education::ALL.into_iter().zip(education).collect();
    p.ages = AGE_BANDS.iter().map(|b| b.0).zip(ages).collect();
    p.majors = top(majors, 10);
    p.schools = top(schools, 10);

    let mut by: BTreeMap<String, (i64, i64, BTreeMap<String, i64>)> = BTreeMap::new();
    for j in posts.iter().filter(|j| j.posted_on >= first && j.posted_on <= today) {
        let e = by.entry(j.industry.clone()).or_default();
        e.0 += j.openings;
        e.1 += j.applicants;
        *e.2.entry(j.title.clone()).or_insert(0) += (j.openings - j.applicants).max(0);
    }
    let mut shortages: Vec<Shortage> = by
        .into_iter()
        .map(|(industry, (openings, applicants, titles))| Shortage {
            hardest: top(titles.into_iter().filter(|(_, g)| *g > 0).collect(), 1)
                .pop()
                .map(|t| t.0)
                .unwrap_or_default(),
            industry,
            openings,
            applicants,
            gap: (openings - applicants).max(0),
            ratio_x100: (applicants > 0).then(|| openings * 100 / applicants),
        })
        .collect();
    shortages.sort_by(|a, b| b.gap.cmp(&a.gap).then_with(|| a.industry.cmp(&b.industry)));
    p.shortages = shortages;
    p
}

/// A person of the demo city's talent data.
#[derive(Debug, Clone)]
pub struct DemoPerson {
    pub id_card_no: crate::IdCardNo,
    pub name: String,
    pub education: Education,
    pub school: String,
    pub major: String,
}

/// A demo employment: person index, employer USCC, dates.
#[derive(Debug, Clone)]
pub struct DemoJob {
    pub person: usize,
    pub uscc: String,
    pub started_on: Date,
    pub ended_on: Option<Date>,
}

#[derive(Debug, Clone)]
pub struct DemoPosting {
    pub uscc: String,
    pub title: String,
    pub education: Education,
    pub openings: i64,
    pub applicants: i64,
    pub posted_on: Date,
}

const SCHOOLS: &[&str] = &[
    "亳州学院",
    "亳州职业技术学院",
    "安徽中医药大学",
    "安徽大学",
    "合肥工业大学",
    "安徽农业大学",
    "阜阳师范大学",
    "安徽医科大学",
    "安徽建筑大学",
    "皖西学院",
    "淮北师范大学",
    "安徽工程大学",
];

/// Majors by industry, the first being the industry's core one.
fn majors(industry: &str) -> &'static [&'static str] {
    match industry {
        "中药" => &["中药学", "中药资源与开发", "药物制剂", "生物技术", "市场营销"],
        "白酒" => &["酿酒工程", "食品科学与工程", "生物工程", "市场营销"],
        "建筑" => &["土木工程", "工程管理", "建筑学", "工程造价"],
        "物流" => &["物流管理", "交通运输", "电子商务"],
        "养殖" => &["动物医学", "动物科学", "畜牧兽医"],
        "商贸" => &["市场营销", "电子商务", "会计学"],
        "食品" => &["食品科学与工程", "食品质量与安全"],
        "制造" => &["机械设计制造及其自动化", "电气工程及其自动化", "材料科学与工程"],
        _ => &["酒店管理", "烹饪与营养教育", "旅游管理"],
    }
}

/// Job titles by industry, the first hardest to fill.
fn titles(industry: &str) -> &'static [&'static str] {
    match industry {
        "中药" => &["中药炮制工", "质量检验员", "药品销售代表", "生产操作工"],
        "白酒" => &["酿酒工", "品酒师", "销售专员"],
        "建筑" => &["施工员", "钢筋工", "安全员", "造价员"],
        "物流" => &["货车司机", "仓储管理员", "调度员"],
        "养殖" => &["兽医", "饲养员"],
        "商贸" => &["营业员", "电商运营", "会计"],
        "食品" => &["食品检验员", "包装工"],
        "制造" => &["数控机床操作工", "电工", "焊工", "质检员"],
        _ => &["厨师", "服务员", "前台接待"],
    }
}

/// The demo city's people at work: `n` persons employed by the given employers (USCC,
/// industry, employees — larger employers get more), some having moved on, and a year of job
/// postings in which the medicine, manufacturing and construction trades fall short.
pub fn demo(
    seed: u64,
    employers: &[(String, String, i64)],
    today: Date,
    n: usize,
) -> (Vec<DemoPerson>, Vec<DemoJob>, Vec<DemoPosting>) {
    use crate::demo::{Rng, person_name};
    let mut rng = Rng::new(seed ^ 0x007a_1e47);
    let (mut persons, mut jobs, mut posts) = (vec![], vec![], vec![]);
    if employers.is_empty() {
        return (persons, jobs, posts);
    }
    let weights: Vec<u64> = employers.iter().map(|e| e.2.clamp(1, 500) as u64).collect();
    let total: u64 = weights.iter().sum();
    let mut used = std::collections::HashSet::new();
    let pick = |rng: &mut Rng| {
        let mut roll = rng.below(total);
        weights
            .iter()
            .position(|w| {
                if roll < *w {
                    true
                } else {
                    roll -= w;
                    false
                }
            })
            .expect("weights sum")
    };
    while persons.len() < n {
        let age_days = rng.between(19 * 365, 60 * 365);
        let birth = today - time::Duration::days(age_days);
        let body = format!(
            "3416{:02}{:04}{:02}{:02}{:03}",
            [2, 21, 22, 23][rng.below(4) as usize],
            birth.year(),
            birth.month() as u8,
            birth.day(),
            rng.below(1000)
        );
        let Some(id) = crate::IdCardNo::from_body(&body) else { continue };
        if !used.insert(id.clone()) {
            continue;
        }
        let employer = &employers[pick(&mut rng)];
        let young = age_days < 40 * 365;
        let education = match (rng.below(100), young) {
            (0..25, true) | (0..45, false) => Education::Middle,
            (25..40, true) | (45..70, false) => Education::High,
            (40..55, true) | (70..85, false) => Education::Vocational,
            (55..75, true) | (85..95, false) => Education::College,
            (75..95, true) | (95..99, false) => Education::Bachelor,
            (95..99, true) | (99.., false) => Education::Master,
            _ => Education::Doctor,
        };
        let (school, major) = if education.is_higher() {
            let m = majors(&employer.1);
            // Most graduates work in their field; the rest are spread.
            let major = if rng.below(100) < 70 { m[0] } else { *rng.pick(m) };
            (rng.pick(SCHOOLS).to_string(), major.to_string())
        } else {
            (String::new(), String::new())
        };
        let started_on = today - time::Duration::days(rng.between(1, 6 * 365));
        let ended_on = (rng.below(100) < 12)
            .then(|| today - time::Duration::days(rng.between(1, 360)))
            .filter(|e| *e > started_on);
        jobs.push(DemoJob { person: persons.len(), uscc: employer.0.clone(), started_on, ended_on });
        persons.push(DemoPerson { id_card_no: id, name: person_name(&mut rng), education, school, major });
    }
    // Postings: the larger employers post every month or two.
    for m in last_months(today, 12) {
        for (uscc, industry, employees) in employers.iter().filter(|e| e.2 >= 50) {
            if rng.below(100) >= 45 {
                continue;
            }
            let t = titles(industry);
            // The core trades of 中药, 制造 and 建筑 are posted most and draw fewer applicants
            // than they need.
            let core_industry = matches!(industry.as_str(), "中药" | "制造" | "建筑");
            let title = if core_industry && rng.below(100) < 60 { t[0] } else { *rng.pick(t) };
            let short = core_industry && title == t[0];
            let openings = rng.between(2, (employees / 30).clamp(3, 15));
            let applicants = if short { rng.between(0, openings / 3) } else { rng.between(openings / 2, openings * 3) };
            posts.push(DemoPosting {
                uscc: uscc.clone(),
                title: title.to_string(),
                education: if short { Education::Vocational } else { Education::High },
                openings,
                applicants,
                posted_on: m + time::Duration::days(rng.between(0, 27)),
            });
        }
    }
    (persons, jobs, posts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn emp(industry: &str, edu: Education, birth: Date, start: Date, end: Option<Date>) -> Employment {
        Employment {
            birth,
            education: edu,
            school: "亳州学院".into(),
            major: "中药学".into(),
            industry: industry.into(),
            started_on: start,
            ended_on: end,
        }
    }

    #[test]
    fn education_parses_registry_spellings() {
        assert_eq!(Education::parse("本科"), Some(Education::Bachelor));
        assert_eq!(Education::parse("专科"), Some(Education::College));
        assert_eq!(Education::parse("college"), Some(Education::College));
        assert_eq!(Education::parse("幼儿园"), None);
        assert!(Education::College.is_higher() && !Education::Vocational.is_higher());
    }

    #[test]
    fn stock_ages_flows_and_shortages() {
        let today = date!(2026 - 11 - 27);
        let emps = vec![
            emp("中药", Education::Bachelor, date!(1996 - 12 - 01), date!(2024 - 01 - 01), None),
            emp("中药", Education::High, date!(1970 - 01 - 01), date!(2026 - 10 - 05), None),
            emp("物流", Education::College, date!(2000 - 01 - 01), date!(2025 - 06 - 01), Some(date!(2026 - 10 - 20))),
            // Left before the window: in nothing but history.
            emp("物流", Education::Middle, date!(1980 - 01 - 01), date!(2020 - 01 - 01), Some(date!(2024 - 01 - 01))),
        ];
        let posts = vec![
            Posting {
                industry: "中药".into(),
                title: "炮制工".into(),
                openings: 10,
                applicants: 4,
                posted_on: date!(2026 - 09 - 01),
            },
            Posting {
                industry: "中药".into(),
                title: "质检员".into(),
                openings: 2,
                applicants: 5,
                posted_on: date!(2026 - 10 - 01),
            },
            Posting {
                industry: "物流".into(),
                title: "司机".into(),
                openings: 3,
                applicants: 3,
                posted_on: date!(2026 - 10 - 01),
            },
        ];
        let p = portrait(&emps, &posts, today, 12);
        assert_eq!((p.stock, p.higher), (2, 1));
        // 29 (born 1996-12-01, birthday not yet) and 56.
        assert_eq!(p.avg_age_x10, (29 + 56) * 10 / 2);
        assert_eq!(p.ages.iter().map(|a| a.1).collect::<Vec<_>>(), vec![0, 1, 0, 0, 1]);
        assert_eq!(p.industries[0].industry, "中药");
        assert_eq!((p.industries[0].stock, p.industries[0].inflow), (2, 1));
        let wl = p.industries.iter().find(|r| r.industry == "物流").unwrap();
        assert_eq!((wl.stock, wl.outflow), (0, 1));
        let oct = p.flows.iter().find(|f| f.month == date!(2026 - 10 - 01)).unwrap();
        assert_eq!((oct.inflow, oct.outflow, oct.stock), (1, 1, 2));
        assert_eq!(p.flows.len(), 12);
        assert_eq!(p.shortages[0].industry, "中药");
        assert_eq!((p.shortages[0].openings, p.shortages[0].applicants, p.shortages[0].gap), (12, 9, 3));
        assert_eq!(p.shortages[0].ratio_x100, Some(133));
        assert_eq!(p.shortages[0].hardest, "炮制工");
        assert_eq!(p.majors, vec![("中药学".to_string(), 1)]);
    }

    #[test]
    fn the_demo_has_people_flows_and_shortages() {
        let today = date!(2026 - 11 - 27);
        let employers = vec![
            ("91341600A".to_string(), "中药".to_string(), 400),
            ("91341600B".to_string(), "物流".to_string(), 80),
            ("91341600C".to_string(), "制造".to_string(), 120),
        ];
        let (persons, jobs, posts) = demo(1, &employers, today, 400);
        assert_eq!(persons.len(), 400);
        assert_eq!(jobs.len(), 400);
        let ind = |u: &str| employers.iter().find(|e| e.0 == u).unwrap().1.clone();
        let emps: Vec<Employment> = jobs
            .iter()
            .map(|j| {
                let p = &persons[j.person];
                Employment {
                    birth: p.id_card_no.birth_date(),
                    education: p.education,
                    school: p.school.clone(),
                    major: p.major.clone(),
                    industry: ind(&j.uscc),
                    started_on: j.started_on,
                    ended_on: j.ended_on,
                }
            })
            .collect();
        let posts: Vec<Posting> = posts
            .iter()
            .map(|x| Posting {
                industry: ind(&x.uscc),
                title: x.title.clone(),
                openings: x.openings,
                applicants: x.applicants,
                posted_on: x.posted_on,
            })
            .collect();
        let p = portrait(&emps, &posts, today, 12);
        assert!(p.stock > 300 && p.higher > 20, "{} {}", p.stock, p.higher);
        assert!(p.flows.iter().any(|f| f.outflow > 0));
        assert!(p.shortages.iter().any(|s| s.gap > 0 && s.industry == "中药"), "{:?}", p.shortages);
    }

    proptest! {
        #[test]
        fn month_stock_moves_by_its_flows(
            spans in prop::collection::vec((0i64..1200, prop::option::of(0i64..1200)), 0..60),
        ) {
            let base = date!(2023 - 01 - 01);
            let emps: Vec<Employment> = spans.iter().map(|(s, e)| {
                let start = base + time::Duration::days(*s);
                let end = e.map(|x| start + time::Duration::days(x + 1));
                emp("中药", Education::High, date!(1990 - 01 - 01), start, end)
            }).collect();
            let p = portrait(&emps, &[], date!(2026 - 06 - 15), 24);
            for w in p.flows.windows(2) {
                prop_assert_eq!(w[1].stock, w[0].stock + w[1].inflow - w[1].outflow);
            }
        }
    }
}
