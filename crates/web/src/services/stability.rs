//! 稳岗返还 免申即享 pages: the granting department identifies eligible employers from the
//! social-insurance data and grants them in one step (list, filter, export); an employer sees
//! its sealed notices. Nobody applies — the item page says so. Page and API call
//! `store::services::stability`.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::export::{Cell, ExportFormat, Table};
use crate::form::FormData;
use crate::layout::{Layout, Pager};
use crate::pages::render;
use askama::Template;
use axum::extract::Query;
use axum::routing::{get, post};
use domain::Money;
use domain::auth::{Principal, perm};
use domain::services::ServicesAudit;
use domain::services::stability::percent;
use store::services::stability::{Clerk, GrantRow};
use store::sql::PageRequest;

pub fn routes() -> Routes {
    Routes::default()
        .add("/services/stability", Access::Perm(perm::SERVICES_STABILITY), get(list))
        .add("/services/stability/identify", Access::Perm(perm::SERVICES_STABILITY), post(identify))
        .add("/services/stability/grant", Access::Perm(perm::SERVICES_STABILITY), post(grant))
        .add("/services/stability/mine", Access::Perm(perm::SELF_ENTERPRISE), get(mine))
        .add("/services/stability/notices/{id}", Access::Authenticated, get(notice))
        .add("/services/stability/notices/{id}/pdf", Access::Authenticated, get(notice_pdf))
}

fn clerk(p: &Principal) -> Clerk<'_> {
    Clerk { user_id: &p.user_id, name: &p.display_name, department: p.department_code.as_deref() }
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    year: Option<i64>,
    status: Option<String>,
    page: Option<u32>,
    format: Option<String>,
}

pub struct Line {
    pub g: GrantRow,
    pub layoff_rate: String,
    pub rate: String,
    pub premium: String,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "services/stability.html")]
struct ListPage {
    layout: Layout,
    year: i64,
    status: String,
    items: Vec<Line>,
    pager: Pager,
    identified: i64,
    granted: i64,
    granted_amount: String,
    basis: String,
    policy: Vec<(&'static str, String)>,
}

async fn list(ctx: RequestCtx, Query(q): Query<ListQuery>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let cfg = state.config();
    let (policy, _) = store::services::stability::policy_for(&cfg, &clerk(p))?;
    let year = q.year.filter(|y| (2000..=2100).contains(y)).unwrap_or(i64::from(state.clock.today().year() - 1));
    let status = q.status.clone().filter(|s| matches!(s.as_str(), "identified" | "granted"));
    if let Some(f) = q.format.as_deref() {
        let format =
            ExportFormat::parse(Some(f)).ok_or_else(|| AppError::invalid("format", "导出格式应为 csv 或 xlsx"))?;
        let all = store::services::stability::list(&state.db, year, status.as_deref(), PageRequest::all()).await?;
        let rows: Vec<Vec<Cell>> = all
            .items
            .iter()
            .map(|g| {
                vec![
                    g.name.clone().into(),
                    g.uscc.clone().into(),
                    Cell::Int(g.insured),
                    Cell::Int(g.layoffs),
                    percent(g.layoff_rate_bp as u32).into(),
                    Cell::Money(Money::from_fen(g.premium_fen)),
                    percent(g.rate_bp as u32).into(),
                    Cell::Money(Money::from_fen(g.amount_fen)),
                    g.status_label().into(),
                ]
            })
            .collect();
        ctx.audit(
            ctx.entry(ServicesAudit::StatsExport, "stability_year", &year.to_string())
                .detail(format!("导出 {year} 年度稳岗返还名单 {} 家", rows.len())),
        )
        .await?;
        return Ok(Table {
            title: format!("{year}年度稳岗返还"),
            headers: vec![
                "单位名称",
                "统一社会信用代码",
                "参保职工",
                "上年度裁员",
                "裁员率",
                "上年度缴纳失业保险费（元）",
                "返还比例",
                "返还金额（元）",
                "状态",
            ],
            rows,
        }
        .into_response(format));
    }
    let paged =
        store::services::stability::list(&state.db, year, status.as_deref(), PageRequest::new(q.page, None)).await?;
    let pager = Pager::new(
        &paged,
        "/services/stability",
        &[("year", year.to_string()), ("status", status.clone().unwrap_or_default())],
    );
    let (identified, granted, amount) = store::services::stability::totals(&state.db, year).await?;
    render(ListPage {
        layout: Layout::new(&ctx, &cfg.city.name, "稳岗返还（免申即享）", "/services/stability"),
        year,
        status: status.unwrap_or_default(),
        items: paged
            .items
            .into_iter()
            .map(|g| Line {
                layoff_rate: percent(g.layoff_rate_bp as u32),
                rate: percent(g.rate_bp as u32),
                premium: Money::from_fen(g.premium_fen).to_string(),
                amount: Money::from_fen(g.amount_fen).to_string(),
                g,
            })
            .collect(),
        pager,
        identified,
        granted,
        granted_amount: Money::from_fen(amount).to_string(),
        basis: policy.basis.clone(),
        policy: vec![
            ("足额缴纳失业保险费", format!("上年度满 {} 个月，且无欠缴", policy.min_paid_months)),
            (
                "裁员率上限",
                format!(
                    "{}；参保职工 {} 人（含）以下的 {}",
                    percent(policy.layoff_rate_max_bp),
                    policy.small_insured_max,
                    percent(policy.small_layoff_rate_max_bp)
                ),
            ),
            (
                "返还比例",
                format!(
                    "大型企业 {}，中小微企业 {}（上年度单位及职工实际缴纳失业保险费）",
                    percent(policy.large_return_bp),
                    percent(policy.sme_return_bp)
                ),
            ),
        ],
    })
}

async fn identify(ctx: RequestCtx) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let cfg = state.config();
    let mut tx = state.db.begin().await?;
    let r = store::services::stability::identify(&mut tx, state.clock.now(), &cfg, clerk(p)).await?;
    tx.commit().await?;
    let others: Vec<String> = r.reasons.iter().map(|(k, n)| format!("{k} {n} 家")).collect();
    Ok(redirect_with_flash(
        &format!("/services/stability?year={}", r.year),
        &format!(
            "已读取 {} 家参保单位，{} 家符合 {} 年度稳岗返还条件，合计 {} 元，待核定发放。{}",
            r.read,
            r.eligible,
            r.year,
            Money::from_fen(r.amount_fen),
            if others.is_empty() { String::new() } else { format!("不符合：{}。", others.join("，")) }
        ),
        state.secure_cookies,
    ))
}

async fn grant(ctx: RequestCtx, data: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let year: i64 = data.get("year").trim().parse().map_err(|_| AppError::invalid("year", "请选择年度"))?;
    let key = state.seal_key.clone().ok_or_else(|| AppError::internal("印章主密钥未加载"))?;
    let cfg = state.config();
    let back = format!("/services/stability?year={year}");
    let mut tx = state.db.begin().await?;
    match store::services::stability::grant_all(&mut tx, state.clock.now(), &cfg, &key, year, clerk(p)).await {
        Ok(n) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &back,
                &format!("已核定发放 {n} 家，核定通知书已加盖电子印章并通知各单位。"),
                state.secure_cookies,
            ))
        }
        Err(store::StoreError::Invalid { message, .. }) => {
            Ok(redirect_with_flash(&back, &message, state.secure_cookies))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "services/stability_mine.html")]
struct MinePage {
    layout: Layout,
    grants: Vec<GrantRow>,
    seal: Option<(String, String)>,
}

/// A granted notice as issued, for the employer it is addressed to and the granting staff.
async fn notice_of(ctx: &RequestCtx, id: &str) -> Result<store::documents::Issued, AppError> {
    let p = ctx.user()?;
    let issued = store::documents::latest_of(&ctx.state.db, &format!("stability:{id}"))
        .await?
        .ok_or_else(|| AppError::NotFound("稳岗返还核定通知书".into()))?;
    let own = p.can(perm::SELF_ENTERPRISE) && p.uscc.is_some() && p.uscc == issued.document.addressee_id;
    if !(own || p.can(perm::SERVICES_STABILITY)) {
        return Err(AppError::NotFound("稳岗返还核定通知书".into()));
    }
    ctx.audit(
        ctx.entry(ServicesAudit::StabilityView, "stability_notice", id)
            .detail(format!("查看{}（{}）", issued.document.title, issued.document.number)),
    )
    .await?;
    Ok(issued)
}

async fn notice(ctx: RequestCtx, axum::extract::Path(id): axum::extract::Path<String>) -> PageResult {
    let issued = notice_of(&ctx, &id).await?;
    let back = if ctx.user()?.can(perm::SELF_ENTERPRISE) { "/services/stability/mine" } else { "/services/stability" };
    crate::pages::documents::sheet(&ctx, issued, back, back, "返回", &format!("/services/stability/notices/{id}/pdf"))
}

async fn notice_pdf(ctx: RequestCtx, axum::extract::Path(id): axum::extract::Path<String>) -> PageResult {
    let issued = notice_of(&ctx, &id).await?;
    crate::pages::documents::pdf(&ctx, &issued)
}

/// An employer's granted refunds with their sealed notices.
async fn mine(ctx: RequestCtx) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let uscc = p.uscc.clone().ok_or_else(|| AppError::Forbidden("账号没有统一社会信用代码".into()))?;
    let grants = store::services::stability::of_enterprise(&state.db, &uscc).await?;
    let cfg = state.config();
    let seal = match (&cfg.services.stability, grants.is_empty(), state.seal_key.clone()) {
        (Some(policy), false, Some(key)) => {
            let dept = cfg.services.item(&policy.item).map(|i| i.department.clone()).unwrap_or_default();
            let mut tx = state.db.begin().await?;
            let s = store::services::seals::of_department(&mut tx, state.clock.now(), &cfg, &key, &dept).await?;
            tx.commit().await?;
            Some((s.image, s.public_key))
        }
        _ => None,
    };
    if !grants.is_empty() {
        ctx.audit(
            ctx.entry(ServicesAudit::StabilityView, "stability_year", &grants[0].year.to_string()).detail(format!(
                "{}查看稳岗返还核定通知 {} 份",
                p.display_name,
                grants.len()
            )),
        )
        .await?;
    }
    render(MinePage {
        layout: Layout::new(&ctx, &cfg.city.name, "稳岗返还", "/services/stability/mine"), grants, seal
    })
}

/// Fen as yuan with thousands separators, for the templates.
pub fn yuan(fen: &i64) -> String {
    Money::from_fen(*fen).to_string()
}
