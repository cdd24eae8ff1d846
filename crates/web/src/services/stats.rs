//! 一键申报 statistics (`/services/stats`): per item and department for a period, the
//! city-level figures beside those the reference reports for Bozhou, and exports (audited).

use crate::access::{Access, RequestCtx, Routes};
use crate::error::{AppError, PageResult};
use crate::export::{Cell, ExportFormat, Table};
use crate::layout::Layout;
use crate::pages::render;
use askama::Template;
use axum::extract::Query;
use axum::routing::get;
use domain::auth::perm;
use store::services::stats::{ItemStats, mean_p90};

pub fn routes() -> Routes {
    Routes::default().add("/services/stats", Access::Perm(perm::WORKFLOW_STATS), get(stats))
}

#[derive(serde::Deserialize, Default)]
struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

pub struct Line {
    pub name: String,
    pub dept: String,
    pub applications: i64,
    pub one_click_pct: String,
    pub rejected_pct: String,
    pub returned_pct: String,
    pub approval: String,
    pub verify_calls: i64,
    pub xrequests: i64,
    pub xrequest_hours: String,
}

fn pct(a: i64, b: i64) -> String {
    if b == 0 { "—".into() } else { format!("{:.1}%", a as f64 * 100.0 / b as f64) }
}

fn hours(v: &[f64]) -> String {
    mean_p90(v).map(|(m, p)| format!("{m:.1} / {p:.1}")).unwrap_or_else(|| "—".into())
}

fn line(name: String, dept: String, s: &ItemStats) -> Line {
    Line {
        name,
        dept,
        applications: s.applications,
        one_click_pct: pct(s.one_click, s.applications),
        rejected_pct: pct(s.rejected, s.applications),
        returned_pct: pct(s.returned, s.applications),
        approval: hours(&s.approval_hours),
        verify_calls: s.verify_calls,
        xrequests: s.xrequests,
        xrequest_hours: hours(&s.xrequest_hours),
    }
}

/// Sums item statistics (a department's, or the city's).
fn total(of: &[&ItemStats]) -> ItemStats {
    let mut t = ItemStats::default();
    for s in of {
        t.applications += s.applications;
        t.one_click += s.one_click;
        t.approved += s.approved;
        t.rejected += s.rejected;
        t.returned += s.returned;
        t.approval_hours.extend(&s.approval_hours);
        t.verify_calls += s.verify_calls;
        t.xrequests += s.xrequests;
        t.xrequest_hours.extend(&s.xrequest_hours);
    }
    t
}

#[derive(Template)]
#[template(path = "services/stats.html")]
struct StatsPage {
    layout: Layout,
    from: String,
    to: String,
    /// (heading, table id, rows): by department, then by item.
    tables: Vec<(&'static str, &'static str, Vec<Line>)>,
    city: Line,
    items_total: usize,
    items_one_click: usize,
    one_click_share: String,
    calls_total: i64,
}

async fn stats(ctx: RequestCtx, Query(q): Query<StatsQuery>) -> PageResult {
    let state = &ctx.state;
    let cfg = &state.config();
    let today = domain::clock::local(state.clock.now()).date();
    let parse = |s: &Option<String>| {
        s.as_deref().filter(|s| !s.is_empty()).map(|s| {
            time::Date::parse(s, &time::format_description::well_known::Iso8601::DATE)
                .map_err(|_| AppError::invalid("from", "日期格式应为 2026-01-01"))
        })
    };
    let from = parse(&q.from).transpose()?.unwrap_or_else(|| today.replace_ordinal(1).unwrap_or(today));
    let to = parse(&q.to).transpose()?.unwrap_or(today);
    let ms = |d: time::Date| domain::clock::to_millis(domain::clock::from_local(d.midnight()));
    let rows = store::services::stats::by_item(&state.db, ms(from), ms(to.next_day().unwrap_or(to))).await?;
    let item_name = |c: &str| cfg.services.item(c).map(|i| i.name.clone()).unwrap_or(c.to_string());
    let dept_name = |c: &str| crate::pages::workflow::dept_name(&ctx, c);
    let mut depts: Vec<String> = rows.iter().map(|r| r.department.clone()).collect();
    depts.dedup();
    depts.sort();
    depts.dedup();
    let dept_lines: Vec<Line> = depts
        .iter()
        .map(|d| {
            let of: Vec<&ItemStats> = rows.iter().filter(|r| &r.department == d).collect();
            line(dept_name(d), dept_name(d), &total(&of))
        })
        .collect();
    let city = line("全市".into(), String::new(), &total(&rows.iter().collect::<Vec<_>>()));
    let items: Vec<Line> = rows.iter().map(|r| line(item_name(&r.item), dept_name(&r.department), r)).collect();
    if let Some(f) = q.format.as_deref() {
        let format =
            ExportFormat::parse(Some(f)).ok_or_else(|| AppError::invalid("format", "导出格式应为 csv 或 xlsx"))?;
        let t = Table {
            title: format!("一键申报统计 {from} 至 {to}"),
            headers: vec![
                "事项",
                "部门",
                "申请数",
                "一键申报占比",
                "驳回率",
                "退回补正率",
                "办结用时（小时，平均 / 90%）",
                "一键核查调用",
                "跨部门协查",
                "协查答复用时（小时，平均 / 90%）",
            ],
            rows: items
                .iter()
                .chain(dept_lines.iter())
                .chain(std::iter::once(&city))
                .map(|l| {
                    vec![
                        l.name.clone().into(),
                        l.dept.clone().into(),
                        Cell::Int(l.applications),
                        l.one_click_pct.clone().into(),
                        l.rejected_pct.clone().into(),
                        l.returned_pct.clone().into(),
                        l.approval.clone().into(),
                        Cell::Int(l.verify_calls),
                        Cell::Int(l.xrequests),
                        l.xrequest_hours.clone().into(),
                    ]
                })
                .collect(),
        };
        let detail = format!("导出{}，{} 行", t.title, t.rows.len());
        ctx.audit(ctx.entry(domain::services::ServicesAudit::StatsExport, "services", "stats").detail(detail)).await?;
        return Ok(t.into_response(format));
    }
    let (calls, _) = store::services::exchange::call_totals(&state.db).await?;
    let items_total = cfg.services.items.len();
    let items_one_click = cfg.services.items.iter().filter(|i| i.one_click()).count();
    render(StatsPage {
        layout: Layout::new(&ctx, &cfg.city.name, "一键申报统计", "/services/stats"),
        from: from.to_string(),
        to: to.to_string(),
        tables: vec![("按部门", "depts", dept_lines), ("按事项", "items", items)],
        city,
        one_click_share: pct(items_one_click as i64, items_total as i64),
        items_total,
        items_one_click,
        calls_total: calls.values().map(|c| c.0).sum(),
    })
}
