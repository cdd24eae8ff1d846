//! 预警: the alerts the indicators raise, within the user's scope; their lifecycle; the
//! printable notice letter or rectification order; running the evaluation on demand.

use super::{opt, render};
use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::export::{Cell, ExportFormat, Table};
use crate::form::FormData;
use crate::layout::{FormErrors, Layout, Pager, fmt_millis, fmt_time};
use askama::Template;
use axum::extract::{Path, Query};
use axum::routing::{get, post};
use domain::auth::perm;
use domain::rules::{Alert, DocKind};
use store::alerts::{AlertFilter, AlertRow, Request};
use store::sql::PageRequest;

pub fn routes() -> Routes {
    Routes::default()
        .add("/alerts", Access::Perm(perm::ALERTS_VIEW), get(list))
        .add("/alerts/export", Access::Perm(perm::ALERTS_VIEW), get(export))
        .add("/alerts/run", Access::Perm(perm::ALERTS_RUN), post(run))
        .add("/alerts/{id}", Access::Perm(perm::ALERTS_VIEW), get(detail))
        .add("/alerts/{id}/actions", Access::Perm(perm::ALERTS_HANDLE), post(act))
        .add("/alerts/{id}/document", Access::Perm(perm::ALERTS_VIEW), get(document))
        .add("/alerts/{id}/document.pdf", Access::Perm(perm::ALERTS_VIEW), get(document_pdf))
}

fn indicator_name(ctx: &RequestCtx, id: &str) -> String {
    ctx.state.config().indicator(id).map(|i| i.name.clone()).unwrap_or_else(|| id.to_string())
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    level: Option<String>,
    status: Option<String>,
    indicator: Option<String>,
    q: Option<String>,
    page: Option<u32>,
    format: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> AlertFilter {
        AlertFilter {
            level: opt(&self.level),
            // "all" (全部) includes closed alerts; no status means those still open.
            status: opt(&self.status).filter(|s| s != "all"),
            indicator: opt(&self.indicator),
            q: opt(&self.q),
            closed: self.status.as_deref() == Some("all"),
        }
    }
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("level", v(&self.level)),
            ("status", v(&self.status)),
            ("indicator", v(&self.indicator)),
            ("q", v(&self.q)),
        ]
    }
}

pub struct Line {
    pub a: AlertRow,
    pub indicator: String,
    pub level: &'static str,
    pub status: &'static str,
    pub opened: String,
}

#[derive(Template)]
#[template(path = "alerts/list.html")]
struct ListPage {
    layout: Layout,
    items: Vec<Line>,
    pager: Pager,
    level: String,
    status: String,
    indicator: String,
    q: String,
    indicators: Vec<(String, String)>,
    counts: Vec<(&'static str, &'static str, i64)>,
    can_run: bool,
}

async fn list(ctx: RequestCtx, Query(q): Query<ListQuery>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::ALERTS_VIEW).await?;
    let paged = store::alerts::list(&state.db, &scope, &q.filter(), PageRequest::new(q.page, None)).await?;
    let pager = Pager::new(&paged, "/alerts", &q.pairs());
    let items = paged
        .items
        .into_iter()
        .map(|a| Line {
            indicator: indicator_name(&ctx, &a.indicator),
            level: a.level.label(),
            status: a.status.label(),
            opened: fmt_millis(&Some(a.opened_at)),
            a,
        })
        .collect();
    let counts =
        store::alerts::counts(&state.db, &scope).await?.into_iter().map(|(l, n)| (l.as_str(), l.label(), n)).collect();
    render(ListPage {
        layout: Layout::new(&ctx, &state.config().city.name, "预警", "/alerts"),
        items,
        pager,
        level: q.level.clone().unwrap_or_default(),
        status: q.status.clone().unwrap_or_default(),
        indicator: q.indicator.clone().unwrap_or_default(),
        q: q.q.clone().unwrap_or_default(),
        indicators: state.config().indicators.iter().map(|i| (i.id.clone(), i.name.clone())).collect(),
        counts,
        can_run: p.can(perm::ALERTS_RUN),
    })
}

async fn export(ctx: RequestCtx, Query(q): Query<ListQuery>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let format = ExportFormat::parse(q.format.as_deref())
        .ok_or_else(|| AppError::invalid("format", "导出格式应为 csv 或 xlsx"))?;
    let scope = store::org::row_scope(&state.db, p, perm::ALERTS_VIEW).await?;
    let paged = store::alerts::list(&state.db, &scope, &q.filter(), PageRequest::all()).await?;
    let rows: Vec<Vec<Cell>> = paged
        .items
        .into_iter()
        .map(|a| {
            vec![
                Cell::from(a.level.label()),
                indicator_name(&ctx, &a.indicator).into(),
                a.subject_name.into(),
                a.subject_id.into(),
                a.division_code.into(),
                a.status.label().into(),
                fmt_millis(&Some(a.opened_at)).into(),
            ]
        })
        .collect();
    ctx.audit(ctx.entry(domain::rules::AlertAudit::Export, "alert", "list").detail(format!("导出 {} 条", rows.len())))
        .await?;
    Ok(Table {
        title: "预警".into(), headers: vec!["级别", "指标", "对象", "标识", "区划", "状态", "发现时间"], rows
    }
    .into_response(format))
}

async fn run(ctx: RequestCtx) -> PageResult {
    let state = &ctx.state;
    let cal = state.calendar();
    let r = store::alerts::run_all(&state.db, &state.config(), &cal, crate::case::subject_sources(), state.clock.now())
        .await?;
    let msg = format!(
        "已评估 {} 个指标、{} 个对象：新增预警 {}，等级变化 {}，条件解除 {}。",
        r.indicators, r.subjects, r.opened, r.changed, r.cleared
    );
    Ok(redirect_with_flash("/alerts", &msg, state.secure_cookies))
}

pub struct EventView {
    pub at: String,
    pub by: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "alerts/detail.html")]
struct DetailPage {
    layout: Layout,
    a: AlertRow,
    alert: Alert,
    level: &'static str,
    status: &'static str,
    indicator: String,
    basis: String,
    recommended: String,
    facts: Vec<(String, String)>,
    events: Vec<EventView>,
    can_handle: bool,
    default_deadline: String,
    errors: FormErrors,
}

impl DetailPage {
    fn is(&self, s: &str) -> bool {
        self.alert.status.as_str() == s
    }
}

async fn show(ctx: &RequestCtx, id: &str, errors: FormErrors) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::ALERTS_VIEW).await?;
    let d = store::alerts::get(&state.db, &scope, id).await?;
    let cfg = state.config();
    let ind = cfg.indicator(&d.row.indicator);
    let days = ind.map(|i| i.rectify_days).unwrap_or(10);
    let cal = state.calendar();
    let bad = !errors.is_empty();
    let mut r = render(DetailPage {
        layout: Layout::new(ctx, &state.config().city.name, &format!("预警：{}", d.row.subject_name), "/alerts"),
        level: d.row.level.label(),
        status: d.row.status.label(),
        indicator: indicator_name(ctx, &d.row.indicator),
        basis: ind.map(|i| i.basis.clone()).unwrap_or_default(),
        recommended: ind.map(|i| i.action.clone()).unwrap_or_default(),
        facts: d.facts,
        events: d
            .alert
            .events
            .iter()
            .rev()
            .map(|e| EventView { at: fmt_time(e.at), by: e.by.clone(), note: e.note.clone() })
            .collect(),
        can_handle: p.can(perm::ALERTS_HANDLE),
        default_deadline: cal.add_working_days(state.clock.today(), days).to_string(),
        alert: d.alert,
        a: d.row,
        errors,
    })?;
    if bad {
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
    // The alert must be within the user's scope to be handled.
    let scope = store::org::row_scope(&state.db, p, perm::ALERTS_HANDLE).await?;
    store::alerts::get(&state.db, &scope, &id).await?;
    let parse_date = |s: &str| time::Date::parse(s, &time::macros::format_description!("[year]-[month]-[day]")).ok();
    let req = match data.get("action").as_str() {
        "acknowledge" => Request::Acknowledge,
        "dispose" => {
            let kind = DocKind::parse(&data.get("kind"))
                .ok_or_else(|| AppError::invalid("kind", "请选择告知函或整改通知单"))?;
            let deadline = parse_date(&data.get("deadline"))
                .ok_or_else(|| AppError::invalid("deadline", "请填写整改期限，如 2026-12-31"))?;
            Request::Dispose { kind, deadline, text: data.get("text") }
        }
        "verify_pass" => Request::Verify { passed: true, note: data.get("note") },
        "verify_fail" => Request::Verify { passed: false, note: data.get("note") },
        "close" => Request::Close { note: data.get("note") },
        _ => return Err(AppError::invalid("action", "未知操作").into()),
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let issuing = store::alerts::Issuing { key: state.seal_key.as_deref(), sources: crate::case::subject_sources() };
    match store::alerts::act(&mut tx, &state.config(), &issuing, &id, req, (&p.user_id, &p.display_name), &ctx.ip, now)
        .await
    {
        Ok(a) => {
            tx.commit().await?;
            if let Some(w) = &state.job_waker {
                w.notify_one();
            }
            Ok(redirect_with_flash(
                &format!("/alerts/{id}"),
                &format!("已办理，预警状态：{}。", a.status.label()),
                state.secure_cookies,
            ))
        }
        Err(store::StoreError::Invalid { message, .. }) => {
            drop(tx);
            let mut e = FormErrors::default();
            e.add("action", message);
            show(&ctx, &id, e).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn document(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::ALERTS_VIEW).await?;
    let d = store::alerts::get(&state.db, &scope, &id).await?;
    render_document(&ctx, d, "/alerts", &format!("/alerts/{id}/document.pdf")).await
}

async fn document_pdf(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::ALERTS_VIEW).await?;
    let d = store::alerts::get(&state.db, &scope, &id).await?;
    crate::pages::documents::pdf(&ctx, &issued_of(&ctx, &d).await?)
}

pub(crate) async fn issued_of(
    ctx: &RequestCtx,
    d: &store::alerts::AlertDetail,
) -> PageResult<store::documents::Issued> {
    Ok(store::documents::latest_of(&ctx.state.db, &format!("alert:{}", d.row.id))
        .await?
        .ok_or_else(|| AppError::NotFound("该预警的处置文书".into()))?)
}

/// The printable 告知函 / 整改通知单 of an alert the caller may see: the document as issued.
/// `pdf_link` downloads it as PDF.
pub(crate) async fn render_document(
    ctx: &RequestCtx,
    d: store::alerts::AlertDetail,
    nav: &str,
    pdf_link: &str,
) -> PageResult {
    let issued = issued_of(ctx, &d).await?;
    let back = if nav == "/alerts" { format!("/alerts/{}", d.row.id) } else { nav.to_string() };
    let label = if nav == "/alerts" { "返回预警" } else { "返回通知" };
    crate::pages::documents::sheet(ctx, issued, nav, &back, label, pdf_link)
}
