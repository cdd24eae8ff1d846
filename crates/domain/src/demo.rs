//! Deterministic generator of the Bozhou demo city: town and grid shapes inside rough county
//! boxes, enterprises with valid USCCs, citizens with valid ID numbers. The same seed and scale
//! always give the same city, whatever the platform, so tests and screenshots are repeatable.

use crate::geo::{Ring, Wgs84Point};
use crate::ids::{DivisionCode, IdCardNo, Uscc};
use crate::money::Money;
use std::collections::HashSet;
use time::{Date, Duration};

/// SplitMix64: tiny, fast and fully specified, so the demo does not change with a crate version.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    pub fn between(&mut self, lo: i64, hi_inclusive: i64) -> i64 {
        lo + self.below((hi_inclusive - lo + 1) as u64) as i64
    }

    /// Uniform in `[a, b)`.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Debug, Clone)]
pub struct TownInput {
    pub code: DivisionCode,
    pub name: String,
}

/// A county and the demo box its towns are drawn in.
#[derive(Debug, Clone)]
pub struct CountyBox {
    pub code: &'static str,
    pub name: &'static str,
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

/// Non-overlapping boxes cut from the published rough extents of Bozhou's four counties
/// (see `reference/geo/README.md`), so every demo point lies in exactly one town and grid.
pub fn bozhou_county_boxes() -> Vec<CountyBox> {
    vec![
        CountyBox {
            code: "341602", name: "谯城区", min_lon: 115.55, min_lat: 33.62, max_lon: 116.08, max_lat: 34.08
        },
        CountyBox {
            code: "341621", name: "涡阳县", min_lon: 116.08, min_lat: 33.38, max_lon: 116.55, max_lat: 33.78
        },
        CountyBox {
            code: "341622", name: "蒙城县", min_lon: 116.46, min_lat: 32.93, max_lon: 116.83, max_lat: 33.38
        },
        CountyBox {
            code: "341623", name: "利辛县", min_lon: 115.82, min_lat: 32.86, max_lon: 116.46, max_lat: 33.38
        },
    ]
}

#[derive(Debug, Clone)]
pub struct DemoTown {
    pub code: DivisionCode,
    pub name: String,
    pub ring: Ring,
}

#[derive(Debug, Clone)]
pub struct DemoGrid {
    pub code: String,
    pub name: String,
    pub town_code: DivisionCode,
    pub ring: Ring,
    /// Address keywords (town + road) that place an employer without coordinates here.
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct DemoEnterprise {
    pub uscc: Uscc,
    pub name: String,
    pub kind: &'static str,
    pub industry: &'static str,
    pub division_code: DivisionCode,
    pub grid_code: String,
    pub address: String,
    pub location: Wgs84Point,
    pub legal_rep: String,
    pub employees: u32,
    pub registered_capital: Money,
    pub established_on: Date,
}

#[derive(Debug, Clone)]
pub struct DemoCitizen {
    pub id_card_no: IdCardNo,
    pub name: String,
    pub phone: String,
    pub division_code: DivisionCode,
    pub grid_code: String,
    pub address: String,
}

#[derive(Debug, Clone, Default)]
pub struct DemoCity {
    pub towns: Vec<DemoTown>,
    pub grids: Vec<DemoGrid>,
    pub enterprises: Vec<DemoEnterprise>,
    pub citizens: Vec<DemoCitizen>,
}

pub const GRIDS_PER_TOWN: usize = 3;
pub const ENTERPRISES_PER_SCALE: usize = 500;
pub const CITIZENS_PER_SCALE: usize = 300;

/// How many more employers a grid draws than a plain village grid: urban sub-districts (街道,
/// codes 001–099) and parks (400+) are dense, a town's first grid holds its seat.
fn grid_weight(g: &DemoGrid) -> u64 {
    let town: u32 = g.town_code.as_str()[6..9].parse().unwrap_or(100);
    match town {
        1..=99 => 6,
        400.. => 5,
        _ if g.code.ends_with("-01") => 3,
        _ => 1,
    }
}

fn pick_grid<'a>(rng: &mut Rng, grids: &'a [DemoGrid], total: u64) -> &'a DemoGrid {
    let mut roll = rng.below(total);
    for g in grids {
        let w = grid_weight(g);
        if roll < w {
            return g;
        }
        roll -= w;
    }
    grids.last().expect("grids")
}

/// Industries with their weight (中药 and 白酒 dominate Bozhou), the word used in names, and
/// the share of individual businesses (个体工商户) and cooperatives (合作社).
const INDUSTRIES: &[(&str, u64, &[&str])] = &[
    ("中药", 24, &["药业", "中药饮片", "中药材", "生物科技"]),
    ("白酒", 8, &["酒业", "酿酒", "酒类销售"]),
    ("建筑", 12, &["建筑工程", "建设工程", "建筑劳务"]),
    ("物流", 9, &["物流", "运输", "供应链管理"]),
    ("养殖", 9, &["牧业", "养殖", "畜牧"]),
    ("商贸", 14, &["商贸", "贸易", "百货"]),
    ("食品", 7, &["食品", "粮油"]),
    ("制造", 8, &["机械制造", "新材料", "电子科技"]),
    ("餐饮住宿", 9, &["餐饮管理", "酒店管理"]),
];

const TRADE_NAMES: &[&str] = &[
    "华佗", "济人", "古井", "润安", "德昌", "瑞丰", "鸿运", "金桥", "永泰", "康源", "芍花", "百草", "涡河", "汤陵",
    "魏武", "庄周", "希夷", "嵇康", "亳源", "药都", "天瑞", "恒信", "宏达", "鑫盛", "聚丰", "益康", "长城", "同仁",
    "和顺", "泰和", "兴旺", "利民", "博爱", "仁和", "盛世", "中天", "富邦", "锦绣", "新城", "安泰", "金穗", "丰收",
    "皖北", "淮海", "亳芍", "菊香", "谯韵", "蒙城",
];

const ROADS: &[&str] = &[
    "人民路",
    "建设路",
    "光明路",
    "魏武大道",
    "药都大道",
    "希夷大道",
    "芍花路",
    "汤王大道",
    "涡河路",
    "文帝路",
    "健康路",
    "学府路",
    "工业路",
    "新华路",
    "幸福路",
    "振兴路",
    "朝阳路",
    "团结路",
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "程", "曹", "袁", "邓", "许",
];

const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
    "平", "刚", "桂英", "建华", "文", "华", "红", "玉兰", "志强", "海燕", "国庆", "春梅", "德胜", "家豪", "子涵",
    "欣怡", "浩然", "雨萱", "宇轩", "梓涵", "俊杰",
];

pub fn person_name(rng: &mut Rng) -> String {
    let mut s = rng.pick(SURNAMES).to_string();
    let given = *rng.pick(GIVEN);
    s.push_str(given);
    if s.chars().count() == 2 && rng.chance(40) {
        let more = *rng.pick(GIVEN);
        s.push_str(more);
    }
    s.chars().take(3).collect()
}

/// A uniformly random point inside `ring` (rejection sampling in its bounding box; the
/// centroid if the shape is too thin to hit).
fn point_in(rng: &mut Rng, ring: &Ring) -> Wgs84Point {
    let (x0, y0, x1, y1) = ring.bbox();
    for _ in 0..200 {
        let p = Wgs84Point { lon: x0 + rng.unit_f64() * (x1 - x0), lat: y0 + rng.unit_f64() * (y1 - y0) };
        if ring.contains(&p) {
            return p;
        }
    }
    ring.centroid()
}

fn uscc_char(rng: &mut Rng) -> u8 {
    crate::ids::uscc_charset()[rng.below(31) as usize]
}

/// Generates the demo city. `towns` are the township-level units from config; each must lie
/// in one of `boxes` (by its first six digits). Towns that have grids in `configured` (official
/// shapes from config) keep those; the others get generated shapes.
pub fn generate(towns: &[TownInput], boxes: &[CountyBox], configured: &[DemoGrid], scale: u32, seed: u64) -> DemoCity {
    let mut rng = Rng::new(seed);
    let mut city = DemoCity::default();

    for b in boxes {
        let mine: Vec<&TownInput> = towns.iter().filter(|t| t.code.as_str().starts_with(b.code)).collect();
        if mine.is_empty() {
            continue;
        }
        let cols = (mine.len() as f64).sqrt().ceil() as usize;
        let rows = mine.len().div_ceil(cols);
        let (w, h) = ((b.max_lon - b.min_lon) / cols as f64, (b.max_lat - b.min_lat) / rows as f64);
        for (i, t) in mine.iter().enumerate() {
            let (c, r) = (i % cols, i / cols);
            let (x0, y1) = (b.min_lon + c as f64 * w, b.max_lat - r as f64 * h);
            let ring = Ring::rect(x0, y1 - h, x0 + w, y1);
            let fixed: Vec<&DemoGrid> = configured.iter().filter(|g| g.town_code == t.code).collect();
            if !fixed.is_empty() {
                city.grids.extend(fixed.into_iter().cloned());
                city.towns.push(DemoTown { code: t.code.clone(), name: t.name.clone(), ring });
                continue;
            }
            for g in 0..GRIDS_PER_TOWN {
                let gw = w / GRIDS_PER_TOWN as f64;
                let gx = x0 + g as f64 * gw;
                let keywords =
                    ROADS.iter().skip(g).step_by(GRIDS_PER_TOWN).map(|road| format!("{}{}", t.name, road)).collect();
                city.grids.push(DemoGrid {
                    code: format!("G{}-{:02}", t.code, g + 1),
                    name: format!("{}第{}网格", t.name, g + 1),
                    town_code: t.code.clone(),
                    ring: Ring::rect(gx, y1 - h, gx + gw, y1),
                    keywords,
                });
            }
            city.towns.push(DemoTown { code: t.code.clone(), name: t.name.clone(), ring });
        }
    }
    if city.grids.is_empty() {
        return city;
    }

    let total_weight: u64 = INDUSTRIES.iter().map(|i| i.1).sum();
    let grid_total: u64 = city.grids.iter().map(grid_weight).sum();
    let mut used_uscc = HashSet::new();
    let mut used_names = HashSet::new();
    let epoch = Date::from_ordinal_date(1995, 1).expect("valid");
    for _ in 0..ENTERPRISES_PER_SCALE * scale as usize {
        let grid = pick_grid(&mut rng, &city.grids, grid_total);
        let town_name =
            city.towns.iter().find(|t| t.code == grid.town_code).map(|t| t.name.clone()).unwrap_or_default();
        let mut roll = rng.below(total_weight);
        let (industry, _, words) = *INDUSTRIES
            .iter()
            .find(|(_, w, _)| {
                if roll < *w {
                    true
                } else {
                    roll -= w;
                    false
                }
            })
            .expect("weights sum");
        let kind_roll = rng.below(100);
        let (kind, cat) = if industry == "养殖" && kind_roll < 30 {
            ("农民专业合作社", b'3')
        } else if kind_roll < 20 {
            ("个体工商户", b'2')
        } else {
            ("企业", b'1')
        };
        let trade = *rng.pick(TRADE_NAMES);
        let word = *rng.pick(words);
        let base = match kind {
            "农民专业合作社" => format!("{town_name}{trade}{word}专业合作社"),
            "个体工商户" => format!("谯城区{trade}{word}店"),
            _ => format!("亳州市{trade}{word}有限公司"),
        };
        let base = if kind == "个体工商户" {
            let county =
                boxes.iter().find(|b| grid.town_code.as_str().starts_with(b.code)).map(|b| b.name).unwrap_or("");
            base.replacen("谯城区", county, 1)
        } else {
            base
        };
        let mut name = base.clone();
        let mut n = 2;
        while !used_names.insert(name.clone()) {
            name = base.replacen(
                trade,
                &format!("{trade}{}", ["二", "三", "四", "五", "六", "七", "八", "九"][(n - 2) % 8]),
                1,
            );
            if n > 9 {
                name = format!("{base}（{n}）");
            }
            n += 1;
        }
        let uscc = loop {
            let mut body = vec![b'9', cat];
            body.extend_from_slice(&grid.town_code.as_str().as_bytes()[..6]);
            for _ in 0..8 {
                body.push(uscc_char(&mut rng));
            }
            let code = Uscc::from_body(std::str::from_utf8(&body).expect("ascii")).expect("valid body");
            if used_uscc.insert(code.clone()) {
                break code;
            }
        };
        let location = point_in(&mut rng, &grid.ring);
        let road_kw = if grid.keywords.is_empty() { town_name.clone() } else { rng.pick(&grid.keywords).clone() };
        let employees = match (kind, rng.below(100)) {
            ("个体工商户", _) => rng.between(1, 8),
            ("农民专业合作社", _) => rng.between(5, 60),
            (_, 0..60) => rng.between(1, 9),
            (_, 60..85) => rng.between(10, 49),
            (_, 85..97) => rng.between(50, 299),
            _ => rng.between(300, 2000),
        } as u32;
        let capital_wan = match kind {
            "个体工商户" => rng.between(1, 50),
            "农民专业合作社" => rng.between(10, 300),
            _ => rng.between(50, 5000),
        };
        city.enterprises.push(DemoEnterprise {
            uscc,
            name,
            kind,
            industry,
            division_code: grid.town_code.clone(),
            grid_code: grid.code.clone(),
            address: format!("{road_kw}{}号", rng.between(1, 300)),
            location,
            legal_rep: person_name(&mut rng),
            employees,
            registered_capital: Money::from_fen(capital_wan * 10_000 * 100),
            established_on: epoch + Duration::days(rng.between(0, 30 * 365)),
        });
    }

    let mut used_ids = HashSet::new();
    for _ in 0..CITIZENS_PER_SCALE * scale as usize {
        let grid = pick_grid(&mut rng, &city.grids, grid_total);
        let birth = Date::from_ordinal_date(1950, 1).expect("valid") + Duration::days(rng.between(0, 55 * 365));
        let id = loop {
            let body = format!(
                "{}{:04}{:02}{:02}{:03}",
                &grid.town_code.as_str()[..6],
                birth.year(),
                birth.month() as u8,
                birth.day(),
                rng.below(1000)
            );
            let id = IdCardNo::from_body(&body).expect("valid body");
            if used_ids.insert(id.clone()) {
                break id;
            }
        };
        let road_kw = if grid.keywords.is_empty() { grid.name.clone() } else { rng.pick(&grid.keywords).clone() };
        city.citizens.push(DemoCitizen {
            id_card_no: id,
            name: person_name(&mut rng),
            phone: format!(
                "1{}{:08}",
                rng.pick(&["38", "39", "50", "51", "58", "77", "80", "86", "89"]),
                rng.below(100_000_000)
            ),
            division_code: grid.town_code.clone(),
            grid_code: grid.code.clone(),
            address: format!("{road_kw}{}号", rng.between(1, 300)),
        });
    }
    city
}

#[cfg(test)]
mod tests {
    use super::*;

    fn towns() -> Vec<TownInput> {
        [
            ("341602100", "古井镇"),
            ("341602101", "芦庙镇"),
            ("341621100", "义门镇"),
            ("341622100", "双涧镇"),
            ("341623100", "城关镇"),
        ]
        .iter()
        .map(|(c, n)| TownInput { code: DivisionCode::parse(c).unwrap(), name: n.to_string() })
        .collect()
    }

    #[test]
    fn same_seed_same_city() {
        let a = generate(&towns(), &bozhou_county_boxes(), &[], 1, 7);
        let b = generate(&towns(), &bozhou_county_boxes(), &[], 1, 7);
        assert_eq!(a.enterprises.len(), ENTERPRISES_PER_SCALE);
        assert_eq!(a.citizens.len(), CITIZENS_PER_SCALE);
        assert_eq!(a.grids.len(), 5 * GRIDS_PER_TOWN);
        for (x, y) in a.enterprises.iter().zip(&b.enterprises) {
            assert_eq!(x.uscc, y.uscc);
            assert_eq!(x.name, y.name);
        }
    }

    #[test]
    fn configured_grids_replace_generated_ones() {
        let tri = Ring::new(vec![
            Wgs84Point { lon: 115.80, lat: 33.90 },
            Wgs84Point { lon: 115.90, lat: 33.90 },
            Wgs84Point { lon: 115.85, lat: 34.00 },
        ])
        .unwrap();
        let g = DemoGrid {
            code: "GJ-A".into(),
            name: "古井镇酒城网格".into(),
            town_code: DivisionCode::parse("341602100").unwrap(),
            ring: tri.clone(),
            keywords: vec!["古井镇酒城大道".into()],
        };
        let city = generate(&towns(), &bozhou_county_boxes(), &[g], 1, 3);
        let gj: Vec<_> = city.grids.iter().filter(|g| g.town_code.as_str() == "341602100").collect();
        assert_eq!(gj.len(), 1);
        assert_eq!(gj[0].code, "GJ-A");
        for e in city.enterprises.iter().filter(|e| e.grid_code == "GJ-A") {
            assert!(tri.contains(&e.location), "placed inside the triangle");
        }
    }

    #[test]
    fn generated_records_are_valid_and_placed() {
        let city = generate(&towns(), &bozhou_county_boxes(), &[], 2, 1);
        let mut names = HashSet::new();
        for e in &city.enterprises {
            assert!(Uscc::parse(e.uscc.as_str()).is_ok());
            assert!(names.insert(e.name.clone()), "duplicate name {}", e.name);
            let grid = city.grids.iter().find(|g| g.code == e.grid_code).unwrap();
            assert!(grid.ring.contains(&e.location));
            assert!(grid.keywords.iter().any(|k| e.address.starts_with(k)));
            assert_eq!(&e.uscc.as_str()[2..8], &e.division_code.as_str()[..6]);
        }
        for c in &city.citizens {
            assert!(IdCardNo::parse(c.id_card_no.as_str()).is_ok());
        }
        // Grids of different towns never overlap: each point lies in exactly one grid.
        for e in city.enterprises.iter().take(50) {
            assert_eq!(city.grids.iter().filter(|g| g.ring.contains(&e.location)).count(), 1);
        }
    }
}
