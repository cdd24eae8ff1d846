//! 人才画像: talent stock by industry and education, age structure, majors and schools,
//! inflow and outflow by month and industry, and shortages (openings against applicants) for
//! the employers in the user's scope. Charts are server-drawn SVG; every table exports.

use crate::access::{Access, RequestCtx, Routes};
use crate::error::{AppError, PageResult};
use crate::export::{Cell, ExportFormat, Table};
use crate::layout::Layout;
use crate::pages::org::{Bar, bars};
use crate::pages::{opt, render};
use askama::Template;
use axum::extract::Query;
use axum::routing::get;
use domain::auth::perm;
use domain::wages::ingest::month_label;
use domain::wages::talent::{Education, Portrait, portrait};
use store::wages::talent::TalentFilter;

pub fn routes() -> Routes {
    Routes::default().add("/talent", Access::Perm(perm::TALENT_VIEW), get(page)).add(
        "/talent/export",
        Access::Perm(perm::TALENT_VIEW),
        get(export),
    )
}

/// Months of flows and postings the page covers.
const MONTHS: usize = 12;

#[derive(serde::Deserialize, Default)]
pub struct TalentQuery {
    industry: Option<String>,
    division: Option<String>,
    table: Option<String>,
    format: Option<String>,
}

impl TalentQuery {
    fn filter(&self) -> TalentFilter {
        TalentFilter { industry: opt(&self.industry), division: opt(&self.division) }
    }

    fn query_string(&self) -> String {
        [("industry", &self.industry), ("division", &self.division)]
            .iter()
            .filter_map(|(k, v)| opt(v).map(|v| format!("{k}={}", crate::cookies::encode(&v))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

async fn load(ctx: &RequestCtx, q: &TalentQuery) -> Result<Portrait, AppError> {
    let state = &ctx.state;
    let scope = store::org::row_scope(&state.db, ctx.user()?, perm::TALENT_VIEW).await?;
    let (emps, posts) = store::wages::talent::load(&state.db, &scope, &q.filter()).await?;
    Ok(portrait(&emps, &posts, state.clock.today(), MONTHS))
}

/// Inflow and outflow per month as paired bars.
pub struct FlowBar {
    pub x: u32,
    pub in_h: u32,
    pub out_h: u32,
    pub label: String,
    pub title: String,
}

fn flow_bars(p: &Portrait) -> Vec<FlowBar> {
    let max = p.flows.iter().map(|f| f.inflow.max(f.outflow)).max().unwrap_or(1).max(1);
    p.flows
        .iter()
        .enumerate()
        .map(|(i, f)| FlowBar {
            x: 40 + i as u32 * 50,
            in_h: (f.inflow * 120 / max) as u32,
            out_h: (f.outflow * 120 / max) as u32,
            label: format!("{}月", f.month.month() as u8),
            title: format!("{}：流入 {}，流出 {}，月末在岗 {}", month_label(f.month), f.inflow, f.outflow, f.stock),
        })
        .collect()
}

fn pct(part: i64, whole: i64) -> String {
    if whole == 0 { "—".into() } else { format!("{:.1}%", part as f64 * 100.0 / whole as f64) }
}

fn ratio(r: Option<i64>) -> String {
    r.map(|x| format!("{}.{:02}", x / 100, x % 100)).unwrap_or_else(|| "—".into())
}

#[derive(Template)]
#[template(path = "talent.html")]
struct TalentPage {
    layout: Layout,
    p: Portrait,
    query: String,
    industry: String,
    division: String,
    industries: Vec<String>,
    divisions: Vec<(String, String)>,
    educations: Vec<&'static str>,
    edu_bars: Vec<Bar>,
    age_bars: Vec<Bar>,
    shortage_bars: Vec<Bar>,
    flows: Vec<FlowBar>,
    avg_age: String,
    higher_share: String,
    openings: i64,
    applicants: i64,
    ratio: String,
}

async fn page(ctx: RequestCtx, Query(q): Query<TalentQuery>) -> PageResult {
    let state = &ctx.state;
    let p = load(&ctx, &q).await?;
    let divisions = store::org::list_divisions(&state.db, Some(state.config().city.division_code.as_str()))
        .await?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect();
    let edu_bars = bars(&p.education, |e| e.0.label().to_string(), |e| e.1, |_| String::new());
    let age_bars = bars(&p.ages, |a| a.0.to_string(), |a| a.1, |_| String::new());
    let short: Vec<_> = p.shortages.iter().filter(|s| s.gap > 0).cloned().collect();
    let shortage_bars = bars(&short, |s| s.industry.clone(), |s| s.gap, |s| s.hardest.clone());
    let (openings, applicants) = p.shortages.iter().fold((0, 0), |(o, a), s| (o + s.openings, a + s.applicants));
    render(TalentPage {
        layout: Layout::new(&ctx, &state.config().city.name, "人才画像", "/talent"),
        query: q.query_string(),
        industry: q.industry.clone().unwrap_or_default(),
        division: q.division.clone().unwrap_or_default(),
        industries: store::org::industries(&state.db).await?,
        divisions,
        educations: Education::ALL.iter().map(|e| e.label()).collect(),
        edu_bars,
        age_bars,
        shortage_bars,
        flows: flow_bars(&p),
        avg_age: format!("{}.{}", p.avg_age_x10 / 10, p.avg_age_x10 % 10),
        higher_share: pct(p.higher, p.stock),
        openings,
        applicants,
        ratio: ratio((applicants > 0).then(|| openings * 100 / applicants)),
        p,
    })
}

async fn export(ctx: RequestCtx, Query(q): Query<TalentQuery>) -> PageResult {
    let format = ExportFormat::parse(q.format.as_deref())
        .ok_or_else(|| AppError::invalid("format", "导出格式应为 csv 或 xlsx"))?;
    let p = load(&ctx, &q).await?;
    let table = q.table.clone().unwrap_or_else(|| "industries".into());
    let count_table = |title: &str, first: &'static str, rows: Vec<(String, i64)>, total: i64| Table {
        title: title.into(),
        headers: vec![first, "人数", "占比"],
        rows: rows.into_iter().map(|(k, n)| vec![k.into(), Cell::Int(n), pct(n, total).into()]).collect(),
    };
    let t = match table.as_str() {
        "industries" => {
            let mut headers = vec!["行业", "在岗人数", "大专及以上"];
            headers.extend(Education::ALL.iter().map(|e| e.label()));
            headers.extend(["近 12 个月流入", "近 12 个月流出"]);
            Table {
                title: "分行业人才存量".into(),
                headers,
                rows: p
                    .industries
                    .iter()
                    .map(|r| {
                        let mut row: Vec<Cell> =
                            vec![r.industry.clone().into(), Cell::Int(r.stock), Cell::Int(r.higher)];
                        row.extend(r.by_education.iter().map(|n| Cell::Int(*n)));
                        row.extend([Cell::Int(r.inflow), Cell::Int(r.outflow)]);
                        row
                    })
                    .collect(),
            }
        }
        "education" => count_table(
            "学历结构",
            "最高学历",
            p.education.iter().map(|(e, n)| (e.label().to_string(), *n)).collect(),
            p.stock,
        ),
        "ages" => count_table("年龄结构", "年龄段", p.ages.iter().map(|(a, n)| (a.to_string(), *n)).collect(), p.stock),
        "majors" => count_table("大专及以上人才所学专业（前 10）", "专业", p.majors.clone(), p.higher),
        "schools" => count_table("大专及以上人才毕业院校（前 10）", "院校", p.schools.clone(), p.higher),
        "flows" => Table {
            title: "人才流入流出（按月）".into(),
            headers: vec!["月份", "流入", "流出", "净流入", "月末在岗"],
            rows: p
                .flows
                .iter()
                .map(|f| {
                    vec![
                        month_label(f.month).into(),
                        Cell::Int(f.inflow),
                        Cell::Int(f.outflow),
                        Cell::Int(f.inflow - f.outflow),
                        Cell::Int(f.stock),
                    ]
                })
                .collect(),
        },
        "shortages" => Table {
            title: "岗位供需（近 12 个月）".into(),
            headers: vec!["行业", "招聘人数", "应聘人数", "缺口", "求人倍率", "最缺岗位"],
            rows: p
                .shortages
                .iter()
                .map(|s| {
                    vec![
                        s.industry.clone().into(),
                        Cell::Int(s.openings),
                        Cell::Int(s.applicants),
                        Cell::Int(s.gap),
                        ratio(s.ratio_x100).into(),
                        s.hardest.clone().into(),
                    ]
                })
                .collect(),
        },
        _ => return Err(AppError::invalid("table", "没有这张表").into()),
    };
    ctx.audit(ctx.entry(domain::wages::WagesAudit::TalentExport, "talent", &table).detail(format!(
        "导出{}，{} 行",
        t.title,
        t.rows.len()
    )))
    .await?;
    Ok(t.into_response(format))
}
