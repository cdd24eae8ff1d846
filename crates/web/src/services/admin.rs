//! 事项目录管理: the service items (from `config/services/`, then as edited on
//! `service_edit`), with suspending and resuming acceptance (暂停受理, with the reason
//! applicants see) and an export of the catalog. Audited.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::PageResult;
use crate::export::{Cell, ExportFormat, Table};
use crate::form::FormData;
use crate::layout::{FormErrors, Layout};
use crate::pages::render;
use askama::Template;
use axum::extract::Path;
use axum::routing::{get, post};
use domain::auth::perm;

pub fn routes() -> Routes {
    Routes::default()
        .add("/admin/services", Access::Perm(perm::ADMIN_SERVICES), get(list))
        .add("/admin/services/export", Access::Perm(perm::ADMIN_SERVICES), get(export))
        .add("/admin/services/{code}", Access::Perm(perm::ADMIN_SERVICES), post(set))
}

struct Row {
    code: String,
    name: String,
    dept: String,
    kind: String,
    one_click: bool,
    materials: usize,
    promised: u32,
    legal: u32,
    version: u32,
    suspended: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/services.html")]
struct Page {
    layout: Layout,
    rows: Vec<Row>,
    /// Saved versions skipped at start because they no longer fit the files.
    warnings: Vec<String>,
    errors: FormErrors,
}

async fn list(ctx: RequestCtx) -> PageResult {
    show(&ctx, FormErrors::default()).await
}

fn rows(ctx: &RequestCtx) -> Vec<Row> {
    ctx.state
        .config()
        .services
        .items
        .iter()
        .map(|i| Row {
            code: i.code.clone(),
            name: i.name.clone(),
            dept: crate::pages::workflow::dept_name(ctx, &i.department),
            kind: i.kind.clone(),
            one_click: i.one_click(),
            materials: i.materials.len(),
            promised: i.promised_days,
            legal: i.legal_days,
            version: i.version,
            suspended: super::state(&ctx.state).suspended(&i.code),
        })
        .collect()
}

async fn show(ctx: &RequestCtx, errors: FormErrors) -> PageResult {
    let bad = !errors.is_empty();
    let mut r = render(Page {
        layout: Layout::new(ctx, &ctx.state.config().city.name, "事项目录", "/admin/services"),
        rows: rows(ctx),
        warnings: super::state(&ctx.state).catalog_warnings.read().expect("catalog lock").clone(),
        errors,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn set(ctx: RequestCtx, Path(code): Path<String>, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let enabled = f.get("enabled") == "1";
    let note = f.get("note");
    let mut tx = state.db.begin().await?;
    match store::services::set_enabled(
        &mut tx,
        state.clock.now(),
        &state.config(),
        &code,
        enabled,
        &note,
        (&p.user_id, &p.display_name),
    )
    .await
    {
        Ok(()) => {
            tx.commit().await?;
            {
                let svc = super::state(state);
                let mut m = svc.suspended_items.write().expect("suspended lock");
                if enabled {
                    m.remove(&code);
                } else {
                    m.insert(code.clone(), note.trim().to_string());
                }
            }
            state.announce(store::changes::Change::Config).await;
            let msg = if enabled { "已恢复受理。" } else { "已暂停受理，申请人将看到原因。" };
            Ok(redirect_with_flash("/admin/services", msg, state.secure_cookies))
        }
        Err(store::StoreError::Invalid { field, message }) => {
            drop(tx);
            let mut e = FormErrors::default();
            e.add(&field, message);
            show(&ctx, e).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

/// The catalog as CSV or XLSX (audited).
async fn export(ctx: RequestCtx, axum::extract::Query(q): axum::extract::Query<ExportQuery>) -> PageResult {
    let format = ExportFormat::parse(q.format.as_deref()).unwrap_or(ExportFormat::Csv);
    let rows = rows(&ctx);
    ctx.audit(
        ctx.entry(domain::services::ServicesAudit::ItemsExport, "svc_item", "*")
            .detail(format!("导出事项目录 {} 项", rows.len())),
    )
    .await?;
    let table = Table {
        title: "事项目录".into(),
        headers: vec![
            "事项编码",
            "事项名称",
            "实施部门",
            "事项类型",
            "材料数",
            "一键申报",
            "承诺时限（工作日）",
            "法定时限（工作日）",
            "版本",
            "受理状态",
        ],
        rows: rows
            .into_iter()
            .map(|r| {
                vec![
                    Cell::from(r.code),
                    r.name.into(),
                    r.dept.into(),
                    r.kind.into(),
                    Cell::Int(r.materials as i64),
                    (if r.one_click { "是" } else { "否" }).into(),
                    Cell::Int(i64::from(r.promised)),
                    Cell::Int(i64::from(r.legal)),
                    Cell::Int(i64::from(r.version)),
                    r.suspended.map(|w| format!("暂停受理：{w}")).unwrap_or_else(|| "受理中".into()).into(),
                ]
            })
            .collect(),
    };
    Ok(table.into_response(format))
}
