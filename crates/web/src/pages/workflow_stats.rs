//! 办件统计: figures per item and department over a period, on screen and exported.

use super::opt;
use super::render;
use super::workflow::{def_name, dept_name};
use crate::access::{Access, RequestCtx, Routes};
use crate::error::{AppError, PageResult};
use crate::export::{Cell, ExportFormat, Table};
use crate::layout::Layout;
use askama::Template;
use axum::extract::Query;
use axum::routing::get;
use domain::auth::perm;
use domain::workflow as wf;

pub fn routes() -> Routes {
    Routes::default().add("/workflows/stats", Access::Perm(perm::WORKFLOW_STATS), get(stats)).add(
        "/workflows/stats/export",
        Access::Perm(perm::WORKFLOW_STATS),
        get(stats_export),
    )
}

pub struct StatRow {
    pub name: String,
    pub f: wf::stats::Figures,
}

impl StatRow {
    pub fn pct(&self, x: f64) -> String {
        format!("{:.1}%", x * 100.0)
    }
    pub fn num(&self, x: &f64) -> String {
        format!("{x:.1}")
    }
}

#[derive(Template)]
#[template(path = "workflow/stats.html")]
struct StatsPage {
    layout: Layout,
    from: String,
    to: String,
    items: Vec<StatRow>,
    departments: Vec<StatRow>,
}

#[derive(serde::Deserialize, Default)]
pub struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

struct Stats {
    from: time::Date,
    to: time::Date,
    items: Vec<StatRow>,
    departments: Vec<StatRow>,
}

async fn stats(ctx: RequestCtx, Query(q): Query<StatsQuery>) -> PageResult {
    let s = compute_stats(&ctx, &q).await?;
    render(StatsPage {
        layout: Layout::new(&ctx, &ctx.state.config().city.name, "办件统计", "/workflows/stats"),
        from: s.from.to_string(),
        to: s.to.to_string(),
        items: s.items,
        departments: s.departments,
    })
}

/// Both tables in one sheet, a first column naming the dimension; rates as percentages.
async fn stats_export(ctx: RequestCtx, Query(q): Query<StatsQuery>) -> PageResult {
    let format = ExportFormat::parse(q.format.as_deref())
        .ok_or_else(|| AppError::invalid("format", "导出格式应为 csv 或 xlsx"))?;
    let s = compute_stats(&ctx, &q).await?;
    let line = |dim: &str, r: &StatRow, unit: &str| -> Vec<Cell> {
        vec![
            dim.into(),
            r.name.clone().into(),
            (r.f.count as i64).into(),
            (r.f.completed as i64).into(),
            r.num(&r.f.avg).into(),
            r.num(&r.f.p90).into(),
            unit.to_string().into(),
            r.pct(r.f.overdue_rate()).into(),
            r.pct(r.f.rejection_rate()).into(),
            r.pct(r.f.return_rate()).into(),
            (r.f.deemed as i64).into(),
        ]
    };
    let mut rows: Vec<Vec<Cell>> = s.items.iter().map(|r| line("事项", r, "工作日")).collect();
    rows.extend(s.departments.iter().map(|r| line("部门", r, &r.f.unit)));
    ctx.audit(ctx.entry(domain::workflow::WorkflowAudit::Export, "stats", &format!("{}~{}", s.from, s.to))).await?;
    Ok(Table {
        title: format!("办件统计{}至{}", s.from, s.to),
        headers: vec![
            "维度",
            "名称",
            "件数",
            "办结",
            "平均用时",
            "P90",
            "单位",
            "超期率",
            "驳回率",
            "退回补正率",
            "超时默认",
        ],
        rows,
    }
    .into_response(format))
}

async fn compute_stats(ctx: &RequestCtx, q: &StatsQuery) -> Result<Stats, AppError> {
    let state = &ctx.state;
    let today = state.clock.today();
    let parse = |s: &Option<String>| {
        opt(s).and_then(|s| time::Date::parse(&s, &time::macros::format_description!("[year]-[month]-[day]")).ok())
    };
    let from = parse(&q.from).unwrap_or(today - time::Duration::days(90));
    let to = parse(&q.to).unwrap_or(today);
    let at = |d: time::Date| domain::clock::from_local(time::PrimitiveDateTime::new(d, time::Time::MIDNIGHT));
    let instances = store::workflow::instances_between(&state.db, at(from), at(to + time::Duration::days(1))).await?;
    let now = state.clock.now();
    let cal = state.calendar();
    let items = wf::stats::by_item(&instances, now, &cal)
        .into_iter()
        .map(|(k, f)| StatRow { name: def_name(ctx, &k), f })
        .collect();
    let departments = wf::stats::by_department(&instances, now, &cal)
        .into_iter()
        .map(|((k, _), f)| StatRow { name: dept_name(ctx, &k), f })
        .collect();
    Ok(Stats { from, to, items, departments })
}
