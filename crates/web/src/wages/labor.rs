//! 劳动关系 pages: the labor-relations grid. For the employers a user may see — narrowed to a
//! division, grid, industry or one employer — the latest month and the twelve before it:
//! employers, employees, insured, consultations and complaints, dispute cases, collective-dispute
//! risks and the harmony index (和谐指数, explained on the page); distributions by grid and
//! industry; each employer's page, where a grid manager verifies and updates it.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::export::{Cell, ExportFormat, Table};
use crate::form::FormData;
use crate::layout::{FormErrors, Layout};
use crate::pages::org::{Bar, bars};
use crate::pages::{opt, render};
use askama::Template;
use axum::extract::{Path, Query};
use axum::routing::{get, post};
use domain::auth::perm;
use domain::wages::ingest::month_label;
use domain::wages::labor::{HARMONY_RULES, Harmony, Method, Tally, harmony, month_start, prev_month};
use store::wages::labor::{By, LaborFilter, Part};
use time::Date;

pub fn routes() -> Routes {
    Routes::default()
        .add("/labor", Access::Perm(perm::LABOR_VIEW), get(overview))
        .add("/labor/export", Access::Perm(perm::LABOR_VIEW), get(export))
        .add("/labor/place", Access::Perm(perm::LABOR_MANAGE), post(place))
        .add("/labor/employers/{uscc}", Access::Perm(perm::LABOR_VIEW), get(employer).post(update))
}

#[derive(serde::Deserialize, Default, Clone)]
pub struct LaborQuery {
    division: Option<String>,
    grid: Option<String>,
    industry: Option<String>,
    uscc: Option<String>,
    table: Option<String>,
    format: Option<String>,
}

impl LaborQuery {
    fn filter(&self) -> LaborFilter {
        LaborFilter {
            division: opt(&self.division),
            grid_id: opt(&self.grid),
            industry: opt(&self.industry),
            uscc: opt(&self.uscc).map(|s| s.to_uppercase()),
        }
    }

    fn query_string(&self) -> String {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let pairs = [
            ("division", v(&self.division)),
            ("grid", v(&self.grid)),
            ("industry", v(&self.industry)),
            ("uscc", v(&self.uscc)),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", crate::cookies::encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A month of the series as the page shows it.
pub struct MonthRow {
    pub label: String,
    pub t: Tally,
    pub h: Harmony,
}

/// A line of a breakdown with its harmony index.
pub struct PartRow {
    pub p: Part,
    pub h: Harmony,
}

/// A line chart drawn on the server: polyline points and labelled ticks.
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub points: String,
    pub dots: Vec<(u32, u32, String)>,
    pub ticks: Vec<(u32, String)>,
}

/// The harmony index over months, on a fixed 0–100 scale so charts compare.
fn harmony_chart(rows: &[MonthRow]) -> Chart {
    let (w, h, left, top, plot_h) = (640u32, 200u32, 36u32, 12u32, 150u32);
    let n = rows.len().max(1) as u32;
    let step = if n > 1 { (w - left - 16) / (n - 1) } else { 0 };
    let y = |score: f64| top + plot_h - (score.clamp(0.0, 100.0) * plot_h as f64 / 100.0).round() as u32;
    let dots: Vec<(u32, u32, String)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (left + i as u32 * step, y(r.h.score), format!("{}：{:.1}", r.label, r.h.score)))
        .collect();
    let points = dots.iter().map(|(x, y, _)| format!("{x},{y}")).collect::<Vec<_>>().join(" ");
    let ticks = rows
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0 || rows.len() <= 6)
        .map(|(i, r)| (left + i as u32 * step, r.label.trim_start_matches("20").to_string()))
        .collect();
    Chart { width: w, height: h, points, dots, ticks }
}

struct View {
    latest: Option<Date>,
    now: Option<MonthRow>,
    months: Vec<MonthRow>,
    grids: Vec<PartRow>,
    industries: Vec<PartRow>,
    employers: Vec<PartRow>,
    registered: i64,
    registered_employees: i64,
}

async fn view(ctx: &RequestCtx, q: &LaborQuery) -> Result<View, AppError> {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::LABOR_VIEW).await?;
    let f = q.filter();
    let latest = store::wages::labor::latest_month(&state.db, &scope, &f).await?;
    let this = month_start(state.clock.today());
    let end = latest.unwrap_or_else(|| prev_month(this));
    let mut from = end;
    for _ in 0..11 {
        from = prev_month(from);
    }
    let months: Vec<MonthRow> = store::wages::labor::series(&state.db, &scope, &f, from)
        .await?
        .into_iter()
        .map(|(m, t)| MonthRow { label: month_label(m), h: harmony(&t), t })
        .collect();
    let now =
        months.last().filter(|_| latest.is_some()).map(|m| MonthRow { label: m.label.clone(), t: m.t, h: m.h.clone() });
    let with_h = |parts: Vec<Part>| -> Vec<PartRow> {
        parts.into_iter().map(|p| PartRow { h: harmony(&Tally { employers: p.registered, ..p.tally }), p }).collect()
    };
    let grids = with_h(store::wages::labor::breakdown(&state.db, &scope, &f, By::Grid, end).await?);
    let industries = with_h(store::wages::labor::breakdown(&state.db, &scope, &f, By::Industry, end).await?);
    let mut employers = with_h(store::wages::labor::breakdown(&state.db, &scope, &f, By::Employer, end).await?);
    // The employers that need attention first.
    employers.retain(|e| e.p.tally.employers > 0);
    employers.sort_by(|a, b| {
        a.h.score.total_cmp(&b.h.score).then_with(|| b.p.registered_employees.cmp(&a.p.registered_employees))
    });
    let registered = industries.iter().map(|i| i.p.registered).sum();
    let registered_employees = industries.iter().map(|i| i.p.registered_employees).sum();
    Ok(View { latest, now, months, grids, industries, employers, registered, registered_employees })
}

#[derive(Template)]
#[template(path = "labor/overview.html")]
struct OverviewPage {
    layout: Layout,
    q: LaborQuery,
    query: String,
    title: String,
    latest: String,
    now: Option<MonthRow>,
    months: Vec<MonthRow>,
    chart: Chart,
    grids: Vec<PartRow>,
    grids_total: usize,
    industries: Vec<PartRow>,
    industry_bars: Vec<Bar>,
    employers: Vec<PartRow>,
    registered: i64,
    registered_employees: i64,
    rules: Vec<(&'static str, &'static str, f64)>,
    divisions: Vec<(String, String)>,
    grid_options: Vec<(String, String)>,
    industry_options: Vec<String>,
    can_manage: bool,
    unplaced: i64,
}

async fn overview(ctx: RequestCtx, Query(q): Query<LaborQuery>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let v = view(&ctx, &q).await?;
    let scope = store::org::row_scope(&state.db, p, perm::LABOR_VIEW).await?;
    let divisions = store::org::list_divisions(&state.db, Some(state.config().city.division_code.as_str()))
        .await?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect();
    let prefix = match &scope {
        store::org::RowScope::Division(p) => Some(p.clone()),
        _ => None,
    };
    let grid_options = store::org::list_grids(&state.db, prefix.as_deref())
        .await?
        .into_iter()
        .filter(|g| match &scope {
            store::org::RowScope::Grid(mine) => &g.id == mine,
            _ => true,
        })
        .map(|g| (g.id, g.name))
        .collect();
    let unplaced = v.grids.iter().filter(|g| g.p.key.is_empty()).map(|g| g.p.registered).sum();
    let mut title = String::from("全部管辖范围");
    if let Some(g) = opt(&q.grid) {
        title = store::org::get_grid(&state.db, &g).await.map(|g| g.name).unwrap_or(title);
    } else if let Some(d) = opt(&q.division) {
        title = store::org::division_name(&state.db, &d).await?.unwrap_or(d);
    }
    if let Some(i) = opt(&q.industry) {
        title = format!("{title} · {i}");
    }
    let industry_bars =
        bars(&v.industries, |i| i.p.label.clone(), |i| i.p.registered, |i| i.p.registered_employees.to_string());
    render(OverviewPage {
        layout: Layout::new(&ctx, &state.config().city.name, "劳动关系", "/labor"),
        query: q.query_string(),
        title,
        latest: v.latest.map(month_label).unwrap_or_else(|| "暂无月报".into()),
        chart: harmony_chart(&v.months),
        now: v.now,
        months: v.months,
        grids_total: v.grids.len(),
        grids: {
            // Unplaced employers first, then the grids that need attention.
            let mut g = v.grids;
            g.sort_by(|a, b| {
                (!a.p.key.is_empty()).cmp(&!b.p.key.is_empty()).then_with(|| a.h.score.total_cmp(&b.h.score))
            });
            g.into_iter().take(30).collect()
        },
        industries: v.industries,
        industry_bars,
        employers: v.employers.into_iter().take(20).collect(),
        registered: v.registered,
        registered_employees: v.registered_employees,
        rules: HARMONY_RULES.to_vec(),
        divisions,
        grid_options,
        industry_options: store::org::industries(&state.db).await?,
        can_manage: p.can(perm::LABOR_MANAGE),
        unplaced,
        q,
    })
}

fn tally_cells(t: &Tally, h: &Harmony) -> Vec<Cell> {
    vec![
        Cell::Int(t.employees),
        Cell::Int(t.insured),
        Cell::Int(t.consultations),
        Cell::Int(t.complaints),
        Cell::Int(t.disputes),
        Cell::Int(t.arrears),
        Cell::Int(t.collective_risks),
        if t.contract_reported > 0 { Cell::Int(t.contracted) } else { "未报送".into() },
        format!("{:.1}", h.score).into(),
        h.level().into(),
    ]
}

const TALLY_HEADERS: [&str; 10] = [
    "从业人数（月报）",
    "参保人数",
    "咨询（不扣分）",
    "投诉举报",
    "争议案件",
    "欠薪案件",
    "群体性风险",
    "签订劳动合同人数",
    "和谐指数",
    "等级",
];

async fn export(ctx: RequestCtx, Query(q): Query<LaborQuery>) -> PageResult {
    let format = ExportFormat::parse(q.format.as_deref())
        .ok_or_else(|| AppError::invalid("format", "导出格式应为 csv 或 xlsx"))?;
    let v = view(&ctx, &q).await?;
    let table = q.table.clone().unwrap_or_else(|| "months".into());
    let part_table = |title: &str, first: &'static str, parts: &[PartRow]| {
        let mut headers = vec![first, "登记单位数", "登记从业人数", "报送单位数"];
        headers.extend(TALLY_HEADERS);
        Table {
            title: title.into(),
            headers,
            rows: parts
                .iter()
                .map(|r| {
                    let mut row: Vec<Cell> = vec![
                        r.p.label.clone().into(),
                        Cell::Int(r.p.registered),
                        Cell::Int(r.p.registered_employees),
                        Cell::Int(r.p.tally.employers),
                    ];
                    row.extend(tally_cells(&r.p.tally, &r.h));
                    row
                })
                .collect(),
        }
    };
    let t = match table.as_str() {
        "months" => {
            let mut headers = vec!["月份", "报送单位数"];
            headers.extend(TALLY_HEADERS);
            Table {
                title: "劳动关系月度走势".into(),
                headers,
                rows: v
                    .months
                    .iter()
                    .map(|m| {
                        let mut row: Vec<Cell> = vec![m.label.clone().into(), Cell::Int(m.t.employers)];
                        row.extend(tally_cells(&m.t, &m.h));
                        row
                    })
                    .collect(),
            }
        }
        "grids" => part_table("劳动关系分网格", "网格", &v.grids),
        "industries" => part_table("劳动关系分行业", "行业", &v.industries),
        "employers" => part_table("用人单位劳动关系", "用人单位", &v.employers),
        _ => return Err(AppError::invalid("table", "没有这张表").into()),
    };
    ctx.audit(ctx.entry(domain::wages::WagesAudit::LaborExport, "labor", &table).detail(format!(
        "导出{}，{} 行",
        t.title,
        t.rows.len()
    )))
    .await?;
    Ok(t.into_response(format))
}

async fn place(ctx: RequestCtx, data: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::LABOR_MANAGE).await?;
    let all = data.get("mode") == "all";
    let mut tx = state.db.begin().await?;
    let r = store::wages::labor::place_employers(
        &mut tx,
        state.clock.now(),
        &scope,
        all,
        Some((&p.user_id, &p.display_name)),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/labor",
        &format!(
            "已检查 {} 户：按坐标划入 {}，按地址关键词划入 {}，调整网格 {}，关键词对应多个网格 {}，无法自动划分 {}。",
            r.examined, r.by_polygon, r.by_keyword, r.moved, r.ambiguous, r.unplaced
        ),
        state.secure_cookies,
    ))
}

#[derive(Template)]
#[template(path = "labor/employer.html")]
struct EmployerPage {
    layout: Layout,
    e: store::org::Enterprise,
    method: &'static str,
    months: Vec<MonthRow>,
    chart: Chart,
    alerts: Vec<crate::wages::pages::AlertLine>,
    can_manage: bool,
    can_alerts: bool,
    grid_options: Vec<(String, String)>,
    errors: FormErrors,
    lon: String,
    lat: String,
}

async fn show_employer(ctx: &RequestCtx, uscc: &str, errors: FormErrors, audit: bool) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::LABOR_VIEW).await?;
    let e = store::org::enterprise_by_uscc(&state.db, &scope, uscc).await?;
    if audit {
        ctx.audit(
            ctx.entry(domain::wages::WagesAudit::EmployerView, "enterprise", uscc)
                .detail(format!("查看用人单位“{}”劳动关系", e.name)),
        )
        .await?;
    }
    let q = LaborQuery { uscc: Some(uscc.to_string()), ..Default::default() };
    let v = view(ctx, &q).await?;
    let method = store::wages::labor::grid_method(&state.db, uscc).await?.map(Method::label).unwrap_or("未划入网格");
    let alerts = store::alerts::for_subject(&state.db, "employer", uscc)
        .await?
        .into_iter()
        .map(|a| crate::wages::pages::AlertLine::new(&state.config(), a))
        .collect();
    let manage_scope = store::org::row_scope(&state.db, p, perm::LABOR_MANAGE).await?;
    let grid_options = match &manage_scope {
        store::org::RowScope::Nothing => vec![],
        s => store::org::list_grids(
            &state.db,
            match s {
                store::org::RowScope::Division(p) => Some(p.as_str()),
                _ => None,
            },
        )
        .await?
        .into_iter()
        .filter(|g| !matches!(s, store::org::RowScope::Grid(mine) if &g.id != mine))
        .map(|g| (g.id, g.name))
        .collect(),
    };
    let bad = !errors.0.is_empty();
    let mut r = render(EmployerPage {
        layout: Layout::new(ctx, &state.config().city.name, &e.name, "/labor"),
        method,
        chart: harmony_chart(&v.months),
        months: v.months,
        alerts,
        can_manage: p.can(perm::LABOR_MANAGE) && !matches!(manage_scope, store::org::RowScope::Nothing),
        can_alerts: p.can(perm::ALERTS_VIEW),
        grid_options,
        errors,
        lon: e.lon.map(|x| format!("{x:.6}")).unwrap_or_default(),
        lat: e.lat.map(|x| format!("{x:.6}")).unwrap_or_default(),
        e,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn employer(ctx: RequestCtx, Path(uscc): Path<String>) -> PageResult {
    show_employer(&ctx, &uscc, FormErrors::default(), true).await
}

const STATUSES: [&str; 5] = ["存续", "在业", "停业", "注销", "吊销"];

async fn update(ctx: RequestCtx, Path(uscc): Path<String>, data: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    if !p.can(perm::LABOR_MANAGE) {
        return Err(AppError::Forbidden("您没有维护用人单位的权限".into()).into());
    }
    let scope = store::org::row_scope(&state.db, p, perm::LABOR_MANAGE).await?;
    let mut errors = FormErrors::default();
    let address = data.get("address").trim().to_string();
    if address.is_empty() {
        errors.add("address", "请填写经营地址");
    }
    let employees = data.get("employees").trim().parse::<i64>().ok().filter(|n| (0..=1_000_000).contains(n));
    if employees.is_none() {
        errors.add("employees", "从业人数应为 0–1000000 的整数");
    }
    let status = data.get("status");
    if !STATUSES.contains(&status.as_str()) {
        errors.add("status", "请选择经营状态");
    }
    let (lon, lat) = (data.get("lon"), data.get("lat"));
    let point = match (lon.trim(), lat.trim()) {
        ("", "") => None,
        (x, y) => match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(x), Ok(y)) => match domain::geo::Wgs84Point::new(x, y) {
                Ok(p) => Some(p),
                Err(_) => {
                    errors.add("lon", "经纬度超出范围");
                    None
                }
            },
            _ => {
                errors.add("lon", "经度、纬度应为数字（WGS-84），如 115.78、33.85；不知道可都留空");
                None
            }
        },
    };
    let grid_id = opt(&Some(data.get("grid_id")));
    if !errors.0.is_empty() {
        return show_employer(&ctx, &uscc, errors, false).await;
    }
    let u = store::wages::labor::EmployerUpdate { address, point, employees: employees.unwrap_or(0), status, grid_id };
    let mut tx = state.db.begin().await?;
    match store::wages::labor::update_employer(
        &mut tx,
        state.clock.now(),
        &scope,
        &uscc,
        &u,
        (&p.user_id, &p.display_name),
    )
    .await
    {
        Ok(grid) => {
            let cal = state.calendar();
            store::alerts::run_for_subject(
                &mut tx,
                &state.config(),
                &cal,
                &store::wages::labor::Employers,
                &uscc,
                state.clock.now(),
            )
            .await?;
            tx.commit().await?;
            let msg = if grid.is_some() {
                "单位信息已更新。"
            } else {
                "单位信息已更新；未能自动划入网格，请选择所属网格。"
            };
            Ok(redirect_with_flash(&format!("/labor/employers/{uscc}"), msg, state.secure_cookies))
        }
        Err(store::StoreError::Invalid { field, message }) => {
            drop(tx);
            let mut e = FormErrors::default();
            e.add(&field, message);
            show_employer(&ctx, &uscc, e, false).await
        }
        Err(e) => Err(e.into()),
    }
}
