//! 系统状态 and 节假日 (holiday tables) administration.

use super::render;
use crate::access::{Access, RequestCtx, RouteInfo, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::form::FormData;
use crate::layout::{FormErrors, Layout, fmt_millis};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use domain::auth::perm;
use domain::calendar::DayKind;
use std::sync::Arc;
use store::jobs::JobCounts;
use store::org::OrgCounts;
use time::Date;

pub fn routes() -> Routes {
    Routes::default()
        .add("/admin/system", Access::Perm(perm::ADMIN_SYSTEM), get(status))
        .add("/admin/holidays", Access::Perm(perm::ADMIN_HOLIDAYS), get(holidays).post(upload))
        .add("/admin/holidays/{year}", Access::Perm(perm::ADMIN_HOLIDAYS), get(download))
}

#[derive(Template)]
#[template(path = "admin/system.html")]
struct StatusPage {
    layout: Layout,
    backend: String,
    url: String,
    /// The streaming replica and what the last check found.
    replica: Option<(String, String)>,
    /// Per partitioned table (PostgreSQL): months held, first and last, rows waiting in the default.
    partitions: Vec<(String, usize, String, i64)>,
    config_source: String,
    version: &'static str,
    counts: OrgCounts,
    jobs: JobCounts,
    failed: Vec<(String, String, i64, String)>,
    sessions: i64,
    audit_seq: i64,
    years: Vec<(i32, String)>,
    routes: Arc<Vec<RouteInfo>>,
}

async fn status(ctx: RequestCtx) -> PageResult {
    let state = &ctx.state;
    let now = state.clock.now();
    let mut layout = Layout::new(&ctx, &state.config().city.name, "系统状态", "/admin/system");
    layout.warning = state.calendar().coverage_warning(state.clock.today());
    let audit =
        store::audit::list(&state.db, &Default::default(), store::sql::PageRequest::new(Some(1), Some(1))).await?;
    let replica = match state.db.check_replica().await {
        Some(r) => {
            let said = match r {
                store::ReplicaStatus::Following { lag_bytes } => {
                    format!("复制中，落后主库 {} KiB；统计与导出由备库提供", lag_bytes / 1024)
                }
                store::ReplicaStatus::Unsuitable(why) | store::ReplicaStatus::Unreachable(why) => {
                    format!("暂不可用（{why}）；统计与导出由主库提供")
                }
            };
            Some((state.db.replica_url().unwrap_or_default().to_string(), said))
        }
        None => None,
    };
    let mut partitions = vec![];
    {
        let mut conn = state.db.reader().acquire().await.map_err(store::StoreError::from)?;
        for t in store::cases::PARTITIONED {
            let months = store::partitions::months(&mut conn, t).await?;
            if let (Some(first), Some(last)) = (months.first(), months.last()) {
                let span = format!("{}–{}", first.month.label(), last.month.label());
                let waiting = store::partitions::default_rows(&mut conn, t).await?;
                partitions.push((t.to_string(), months.len(), span, waiting));
            }
        }
    }
    render(StatusPage {
        layout,
        backend: state.db.backend().name().to_string(),
        url: state.db.url().to_string(),
        replica,
        partitions,
        config_source: state.config().source.clone(),
        version: env!("CARGO_PKG_VERSION"),
        counts: store::org::counts(&state.db).await?,
        jobs: store::jobs::counts(&state.db, now).await?,
        failed: store::jobs::failed(&state.db, 10).await?,
        sessions: store::auth::active_session_count(&state.db).await?,
        audit_seq: audit.items.first().map(|r| r.seq).unwrap_or(0),
        years: state.calendar().years().map(|(y, s)| (y, s.to_string())).collect(),
        routes: state.route_table(),
    })
}

pub struct YearRow {
    pub year: i32,
    pub source: String,
    pub origin: String,
    pub days_off: usize,
    pub make_up: usize,
}

#[derive(Template)]
#[template(path = "admin/holidays.html")]
struct HolidaysPage {
    layout: Layout,
    rows: Vec<YearRow>,
    errors: FormErrors,
    content: String,
    check_date: String,
    check_result: Option<String>,
    add_days: String,
    add_result: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct CheckQuery {
    date: Option<String>,
    days: Option<String>,
}

async fn rows(ctx: &RequestCtx) -> Result<Vec<YearRow>, AppError> {
    let state = &ctx.state;
    let stored = store::holidays::stored(&state.db).await?;
    let mut rows: Vec<YearRow> = vec![];
    for t in &state.config().holidays {
        rows.push(YearRow {
            year: t.year,
            source: t.source.clone(),
            origin: "随系统配置发布".into(),
            days_off: t.days.iter().filter(|d| d.off).count(),
            make_up: t.days.iter().filter(|d| !d.off).count(),
        });
    }
    for (t, by, at) in stored {
        let row = YearRow {
            year: t.year,
            source: t.source.clone(),
            origin: format!("{by} 于 {} 导入", fmt_millis(&Some(at))),
            days_off: t.days.iter().filter(|d| d.off).count(),
            make_up: t.days.iter().filter(|d| !d.off).count(),
        };
        match rows.iter_mut().find(|r| r.year == t.year) {
            Some(r) => *r = row,
            None => rows.push(row),
        }
    }
    rows.sort_by_key(|r| r.year);
    Ok(rows)
}

fn parse_date(s: &str) -> Option<Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &f).ok()
}

async fn holidays(ctx: RequestCtx, Query(q): Query<CheckQuery>) -> PageResult {
    let state = &ctx.state;
    let cal = state.calendar();
    let check_date = q.date.clone().unwrap_or_default();
    let add_days = q.days.clone().unwrap_or_default();
    let (mut check_result, mut add_result) = (None, None);
    if !check_date.is_empty() {
        match parse_date(&check_date) {
            Some(d) => {
                let kind = cal.day_kind(d);
                let note =
                    if cal.covers(d.year()) { "" } else { "（该年节假日表未加载，仅按周末判断）" };
                check_result = Some(format!(
                    "{d} 是{}{}",
                    match &kind {
                        DayKind::Workday => "工作日".to_string(),
                        k => k.label(),
                    },
                    note
                ));
                if let Ok(n) = add_days.parse::<u32>()
                    && n <= 3650
                {
                    let end = cal.add_working_days(d, n);
                    add_result = Some(format!("自 {d} 起 {n} 个工作日后为 {end}（{}）", weekday_cn(end)));
                }
            }
            None => check_result = Some("日期格式应为 2026-10-08".into()),
        }
    }
    let mut layout = Layout::new(&ctx, &state.config().city.name, "节假日安排", "/admin/holidays");
    layout.warning = cal.coverage_warning(state.clock.today());
    render(HolidaysPage {
        layout,
        rows: rows(&ctx).await?,
        errors: FormErrors::default(),
        content: String::new(),
        check_date,
        check_result,
        add_days,
        add_result,
    })
}

fn weekday_cn(d: Date) -> &'static str {
    ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]
        [d.weekday().number_days_from_monday() as usize]
}

async fn upload(ctx: RequestCtx, data: FormData) -> PageResult {
    let state = &ctx.state;
    let content = data.raw("content");
    let mut errors = FormErrors::default();
    let table = match store::holidays::parse_upload("上传的节假日表", &content) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.add("content", e.to_string());
            None
        }
    };
    let Some(table) = table else {
        let mut layout = Layout::new(&ctx, &state.config().city.name, "节假日安排", "/admin/holidays");
        layout.warning = state.calendar().coverage_warning(state.clock.today());
        let mut r = render(HolidaysPage {
            layout,
            rows: rows(&ctx).await?,
            errors,
            content,
            check_date: String::new(),
            check_result: None,
            add_days: String::new(),
            add_result: None,
        })?;
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(r);
    };
    let now = state.clock.now();
    let who = ctx.user()?.display_name.clone();
    let mut tx = state.db.begin().await?;
    store::holidays::save(&mut tx, now, &table, &content, &who).await?;
    let detail = format!(
        "{} 年：放假 {} 天，调休上班 {} 天；来源：{}",
        table.year,
        table.days.iter().filter(|d| d.off).count(),
        table.days.iter().filter(|d| !d.off).count(),
        table.source
    );
    store::audit::append(
        &mut tx,
        now,
        ctx.entry(domain::audit::CoreAudit::HolidayLoad, "holiday_table", &table.year.to_string()).detail(detail),
    )
    .await?;
    tx.commit().await?;
    let cal = store::holidays::calendar(&state.db, &state.config().holidays, state.config().city.working_hours.clone())
        .await?;
    state.set_calendar(cal);
    state.announce(store::changes::Change::Calendar).await;
    tracing::info!(year = table.year, "holiday table loaded");
    Ok(redirect_with_flash(
        "/admin/holidays",
        &format!("{} 年节假日安排已导入并立即生效。", table.year),
        state.secure_cookies,
    ))
}

async fn download(ctx: RequestCtx, Path(year): Path<i32>) -> PageResult {
    let state = &ctx.state;
    let stored = store::holidays::stored(&state.db).await?;
    let table = stored
        .into_iter()
        .map(|(t, _, _)| t)
        .find(|t| t.year == year)
        .or_else(|| state.config().holidays.iter().find(|t| t.year == year).cloned());
    let t = table.ok_or_else(|| AppError::NotFound(format!("{year} 年节假日表")))?;
    let mut r = t.to_toml().into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, "text/plain; charset=utf-8".parse().expect("static"));
    r.headers_mut()
        .insert(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{year}.toml\"").parse().expect("ascii"));
    Ok(r)
}
