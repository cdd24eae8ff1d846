//! The complaint queue (欠薪投诉) of labor inspection: list with filters and overdue marks, a
//! case page with its steps, and the next step — assign, contact, handle, answer, close. The
//! page and its form call `store::wages::complaints`, which owns the rules, the worker's notices
//! and the audit.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::form::FormData;
use crate::layout::{FormErrors, Layout};
use crate::pages::render;
use askama::Template;
use axum::extract::{Path, Query};
use axum::routing::get;
use domain::auth::perm;
use domain::wages::complaint::Stage;
use store::wages::complaints::{self, Case, Step};

pub fn routes() -> Routes {
    Routes::default().add("/wages/complaints", Access::Perm(perm::WAGES_COMPLAINTS), get(list)).add(
        "/wages/complaints/{id}",
        Access::Perm(perm::WAGES_COMPLAINTS),
        get(detail).post(act),
    )
}

pub struct Line {
    pub case: Case,
    pub overdue: Option<String>,
}

#[derive(Template)]
#[template(path = "wages/complaints.html")]
struct ListPage {
    layout: Layout,
    lines: Vec<Line>,
    stage: String,
    stages: Vec<(&'static str, &'static str)>,
    overdue_only: bool,
    total: usize,
    page: usize,
    pages: usize,
    /// The filters as a query string, for the pager and export links.
    query: String,
}

/// Cases per page.
const PAGE: usize = 50;

#[derive(serde::Deserialize, Default)]
struct ListQuery {
    stage: Option<String>,
    overdue: Option<String>,
    page: Option<String>,
    /// `csv` or `xlsx`: the whole filtered list as a file.
    format: Option<String>,
}

async fn list(ctx: RequestCtx, Query(q): Query<ListQuery>) -> PageResult {
    let state = &ctx.state;
    let stage = q.stage.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "open".into());
    let days = state.config().city.wages.complaint_contact_days;
    let today = state.clock.today();
    let overdue_only = q.overdue.as_deref() == Some("1");
    let lines: Vec<Line> = complaints::list(&state.db, Some(&stage))
        .await?
        .into_iter()
        .map(|case| Line { overdue: case.overdue(today, days), case })
        .filter(|l| !overdue_only || l.overdue.is_some())
        .collect();
    if let Some(f) = q.format.as_deref().filter(|f| !f.is_empty()) {
        let format = crate::export::ExportFormat::parse(Some(f))
            .ok_or_else(|| AppError::invalid("format", "导出格式应为 csv 或 xlsx"))?;
        ctx.audit(
            ctx.entry(domain::wages::WagesAudit::ComplaintExport, "wage_complaint", "list")
                .detail(format!("导出欠薪投诉 {} 件", lines.len())),
        )
        .await?;
        return Ok(export(lines).into_response(format));
    }
    let total = lines.len();
    let pages = total.div_ceil(PAGE).max(1);
    let page = q.page.as_deref().and_then(|p| p.trim().parse::<usize>().ok()).unwrap_or(1).clamp(1, pages);
    let lines: Vec<Line> = lines.into_iter().skip((page - 1) * PAGE).take(PAGE).collect();
    let query = format!(
        "stage={}{}",
        crate::pages::documents::query_value(&stage),
        if overdue_only { "&overdue=1" } else { "" }
    );
    render(ListPage {
        layout: Layout::new(&ctx, &state.config().city.name, "欠薪投诉", "/wages/complaints"),
        lines,
        stage,
        stages: Stage::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        overdue_only,
        total,
        page,
        pages,
        query,
    })
}

fn export(lines: Vec<Line>) -> crate::export::Table {
    use crate::export::Cell;
    let date = |d: Option<time::Date>| d.map(|d| d.to_string()).unwrap_or_default();
    crate::export::Table {
        title: "欠薪投诉".into(),
        headers: vec![
            "编号",
            "投诉人",
            "项目",
            "金额（元）",
            "受理日期",
            "环节",
            "办理人",
            "联系时限",
            "办结时限",
            "超期",
        ],
        rows: lines
            .into_iter()
            .map(|l| {
                vec![
                    Cell::from(l.case.number),
                    Cell::from(l.case.complainant),
                    Cell::from(l.case.project_name),
                    Cell::Money(domain::Money::from_fen(l.case.amount_fen)),
                    Cell::from(l.case.received_on),
                    Cell::from(l.case.stage.label()),
                    Cell::from(l.case.assignee_name),
                    Cell::from(date(l.case.contact_due)),
                    Cell::from(date(l.case.handle_due)),
                    Cell::from(l.overdue.unwrap_or_default()),
                ]
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "wages/complaint.html")]
struct DetailPage {
    layout: Layout,
    c: Case,
    overdue: Option<String>,
    next: Vec<(&'static str, &'static str)>,
    inspectors: Vec<(String, String)>,
    can_act: bool,
    errors: FormErrors,
    steps: Vec<(String, String, String, String)>,
}

async fn show(ctx: &RequestCtx, id: &str, errors: FormErrors) -> PageResult {
    let state = &ctx.state;
    let mut conn = state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let c = complaints::get(&mut conn, id).await?;
    drop(conn);
    let cfg = state.config();
    // Only labor inspection's own staff take steps; the city leader follows escalated cases.
    let dept = complaints::department(&cfg).to_string();
    let p = ctx.user()?;
    let can_act = p.department_code.as_deref() == Some(dept.as_str()) && p.can(perm::WAGES_COMPLAINTS);
    let next = Stage::ALL.iter().filter(|s| c.stage.may_go_to(**s)).map(|s| (s.as_str(), s.label())).collect();
    let steps = c
        .steps
        .iter()
        .map(|s| {
            (
                crate::layout::fmt_millis(&Some(s.at)),
                s.by.clone(),
                Stage::parse(&s.stage).map(|x| x.label()).unwrap_or("办理").to_string(),
                s.note.clone(),
            )
        })
        .collect();
    let mut r = render(DetailPage {
        layout: Layout::new(ctx, &cfg.city.name, &format!("欠薪投诉 {}", c.number), "/wages/complaints"),
        overdue: c.overdue(state.clock.today(), cfg.city.wages.complaint_contact_days),
        inspectors: complaints::inspectors(&state.db, &cfg).await?,
        c,
        next,
        can_act,
        errors: errors.clone(),
        steps,
    })?;
    if !errors.is_empty() {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn detail(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    show(&ctx, &id, FormErrors::default()).await
}

async fn act(ctx: RequestCtx, Path(id): Path<String>, data: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let cfg = state.config();
    if p.department_code.as_deref() != Some(complaints::department(&cfg)) {
        return Err(AppError::Forbidden("只有属地人社部门的劳动保障监察员可以办理欠薪投诉".into()).into());
    }
    let Some(to) = Stage::parse(&data.get("stage")) else {
        let mut e = FormErrors::default();
        e.add("stage", "请选择办理环节");
        return show(&ctx, &id, e).await;
    };
    let step = Step { to, note: data.get("note"), assignee: Some(data.get("assignee")).filter(|s| !s.is_empty()) };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    match complaints::act(&mut tx, &cfg, now, &id, (&p.user_id, &p.display_name), step).await {
        Ok(c) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/wages/complaints/{id}"),
                &format!("已办理：{}，投诉人已收到通知。", c.stage.label()),
                state.secure_cookies,
            ))
        }
        Err(store::StoreError::Invalid { field, message } | store::StoreError::Conflict { field, message }) => {
            drop(tx);
            let mut e = FormErrors::default();
            e.add(&field, message);
            show(&ctx, &id, e).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Fen as yuan for the tables.
pub fn yuan(fen: &i64) -> String {
    domain::money::Money::from_fen(*fen).to_string()
}
