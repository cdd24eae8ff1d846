//! 审计日志: list, filter, export and verify the chain.

use super::{opt, render};
use crate::access::{Access, RequestCtx, Routes};
use crate::error::{AppError, PageResult};
use crate::export::{Cell, ExportFormat, Table};
use crate::layout::{Layout, Pager};
use askama::Template;
use axum::extract::Query;
use axum::routing::{get, post};
use domain::audit::{AuditRecord, Outcome};
use domain::auth::perm;
use store::audit::AuditFilter;
use store::sql::PageRequest;
use time::{Date, PrimitiveDateTime, Time};

pub fn routes() -> Routes {
    Routes::default()
        .add("/audit", Access::Perm(perm::AUDIT_READ), get(list))
        .add("/audit/export", Access::Perm(perm::AUDIT_EXPORT), get(export))
        .add("/audit/verify", Access::Perm(perm::AUDIT_READ), post(verify))
        .add("/audit/checkpoints", Access::Perm(perm::AUDIT_EXPORT), get(checkpoints))
}

#[derive(serde::Deserialize, Default)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    object: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u32>,
    format: Option<String>,
}

fn day_start(s: &str) -> Option<time::OffsetDateTime> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    let d = Date::parse(s.trim(), &f).ok()?;
    Some(domain::clock::from_local(PrimitiveDateTime::new(d, Time::MIDNIGHT)))
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, AppError> {
        let date = |v: &Option<String>, field: &str| -> Result<Option<time::OffsetDateTime>, AppError> {
            match opt(v) {
                None => Ok(None),
                Some(s) => day_start(&s).map(Some).ok_or_else(|| AppError::invalid(field, "日期格式应为 2026-11-27")),
            }
        };
        Ok(AuditFilter {
            actor: opt(&self.actor),
            action: opt(&self.action),
            object: opt(&self.object),
            outcome: opt(&self.outcome).and_then(|o| Outcome::parse(&o)),
            from: date(&self.from, "from")?,
            // "to" is inclusive: up to the end of that day.
            to: date(&self.to, "to")?.map(|t| t + time::Duration::days(1)),
        })
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("actor", v(&self.actor)),
            ("action", v(&self.action)),
            ("object", v(&self.object)),
            ("outcome", v(&self.outcome)),
            ("from", v(&self.from)),
            ("to", v(&self.to)),
        ]
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct ListPage {
    layout: Layout,
    items: Vec<AuditRecord>,
    pager: Pager,
    q: AuditQuery,
    can_export: bool,
    verify_result: Option<(bool, String)>,
    error: Option<String>,
}

impl ListPage {
    fn t(&self, r: &AuditRecord) -> String {
        domain::clock::format_local(r.at)
    }
    fn v(&self, o: &Option<String>) -> String {
        o.clone().unwrap_or_default()
    }
    fn short(&self, h: &str) -> String {
        h.chars().take(12).collect()
    }
}

async fn render_list(ctx: &RequestCtx, q: AuditQuery, verify_result: Option<(bool, String)>) -> PageResult {
    let state = &ctx.state;
    let (filter, error) = match q.filter() {
        Ok(f) => (f, None),
        Err(e) => (AuditFilter::default(), Some(e.to_string())),
    };
    let paged = store::audit::list(&state.db, &filter, PageRequest::new(q.page, Some(50))).await?;
    let pager = Pager::new(&paged, "/audit", &q.pairs());
    render(ListPage {
        layout: Layout::new(ctx, &state.config().city.name, "审计日志", "/audit"),
        items: paged.items,
        pager,
        can_export: ctx.user()?.can(perm::AUDIT_EXPORT),
        q,
        verify_result,
        error,
    })
}

async fn list(ctx: RequestCtx, Query(q): Query<AuditQuery>) -> PageResult {
    render_list(&ctx, q, None).await
}

async fn export(ctx: RequestCtx, Query(q): Query<AuditQuery>) -> PageResult {
    let state = &ctx.state;
    let format = ExportFormat::parse(q.format.as_deref())
        .ok_or_else(|| AppError::invalid("format", "导出格式应为 csv 或 xlsx"))?;
    let paged = store::audit::list(&state.db, &q.filter()?, PageRequest::all()).await?;
    let rows: Vec<Vec<Cell>> = paged
        .items
        .into_iter()
        .map(|r| {
            vec![
                Cell::Int(r.seq),
                domain::clock::format_local(r.at).into(),
                r.entry.actor_name.into(),
                r.entry.actor_id.into(),
                crate::labels::action(&r.entry.action).into(),
                crate::labels::object(&r.entry.object_type).into(),
                r.entry.object_id.into(),
                r.entry.outcome.label().into(),
                r.entry.ip.into(),
                r.entry.detail.into(),
                r.prev_hash.into(),
                r.hash.into(),
                r.entry.action.into(),
            ]
        })
        .collect();
    ctx.audit(
        ctx.entry(domain::audit::CoreAudit::AuditExport, "audit_log", "list").detail(format!("导出 {} 条", rows.len())),
    )
    .await?;
    Ok(Table {
        title: "审计日志".into(),
        headers: vec![
            "序号",
            "时间",
            "操作人",
            "操作人ID",
            "操作",
            "对象类型",
            "对象",
            "结果",
            "来源IP",
            "详情",
            "前序哈希",
            "SM3哈希",
            // The stored code as well, for programs that read the export.
            "操作代码",
        ],
        rows,
    }
    .into_response(format))
}

async fn verify(ctx: RequestCtx) -> PageResult {
    let state = &ctx.state;
    let result = store::audit::verify_anchored(&state.db, state.audit_anchor.as_deref()).await?;
    let (ok, msg) = match &result {
        Ok(r) => (
            true,
            format!(
                "审计链完整：共校验 {} 条记录，SM3 哈希与链接全部一致，与 {} 个库外签名检查点一致。{}",
                r.checked,
                r.checkpoints,
                if r.base_seq > 0 {
                    format!("#{} 及之前的记录已按保留期限删除，自 #{} 起校验。", r.base_seq, r.base_seq + 1)
                } else {
                    String::new()
                }
            ),
        ),
        Err(b) => (false, format!("审计链被破坏：{b}")),
    };
    let outcome = if ok { Outcome::Success } else { Outcome::Failure };
    ctx.audit(
        ctx.entry(domain::audit::CoreAudit::AuditVerify, "audit_log", "chain").outcome(outcome).detail(msg.clone()),
    )
    .await?;
    render_list(&ctx, AuditQuery::default(), Some((ok, msg))).await
}

/// The signed checkpoint file, for the auditor to keep apart from the server (each line: head
/// sequence, head SM3, time in ms, HMAC-SM3 chained over the previous line).
async fn checkpoints(ctx: RequestCtx) -> PageResult {
    use axum::response::IntoResponse;
    let Some(a) = ctx.state.audit_anchor.clone() else {
        return Err(crate::error::AppError::NotFound("审计检查点文件".into()).into());
    };
    let text = std::fs::read_to_string(a.path()).unwrap_or_default();
    let n = text.lines().count();
    ctx.audit(
        ctx.entry(domain::audit::CoreAudit::AuditExport, "audit_checkpoints", "-")
            .detail(format!("导出库外签名检查点 {n} 个")),
    )
    .await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"audit-checkpoints.log\"".to_string()),
        ],
        text,
    )
        .into_response())
}
