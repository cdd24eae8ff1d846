//! E-licenses: public verification by number or by uploading the file (证照核验), the license
//! page with its seal, the file download, and the shared-data page (共享数据: catalog,
//! call counts, recent calls). The push API for source departments is in `api::services`.

use super::render;
use crate::access::{Access, RequestCtx, Routes, ensure_anon_csrf};
use crate::error::{AppError, PageResult};
use crate::layout::{Layout, fmt_millis};
use askama::Template;
use axum::extract::{Multipart, Path, Query};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use domain::auth::{DataScope, perm};
use store::services::licenses::{self, License, Verdict};

pub fn routes() -> Routes {
    Routes::default()
        .add("/licenses/verify", Access::Public, get(verify_form).post(verify))
        .add("/licenses/{number}", Access::Authenticated, get(license))
        .add("/licenses/{number}/file", Access::Authenticated, get(download))
        .add("/exchange", Access::Perm(perm::EXCHANGE_VIEW), get(exchange))
}

#[derive(Template)]
#[template(path = "services/verify.html")]
struct VerifyPage {
    layout: Layout,
    number: String,
    verdict: Option<Verdict>,
    fields: Vec<(String, String)>,
}

fn fields_of(l: &License) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(&l.content).unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    v["fields"].as_array().map(|a| a.iter().map(|p| (text(&p[0]), text(&p[1]))).collect()).unwrap_or_default()
}

async fn verify_form(ctx: RequestCtx, Query(q): Query<std::collections::HashMap<String, String>>) -> PageResult {
    let number = q.get("number").cloned().unwrap_or_default();
    if number.trim().is_empty() {
        return verify_page(&ctx, String::new(), None).await;
    }
    let mut conn = ctx.state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let v = licenses::verify_number(&mut conn, &number, ctx.state.clock.now()).await?;
    drop(conn);
    verify_page(&ctx, number, Some(v)).await
}

async fn verify_page(ctx: &RequestCtx, number: String, verdict: Option<Verdict>) -> PageResult {
    let (csrf, cookie) = ensure_anon_csrf(ctx);
    let mut layout = Layout::new(ctx, &ctx.state.config.city.name, "电子证照核验", "/licenses/verify");
    layout.csrf = csrf;
    let fields = verdict.as_ref().and_then(|v| v.license.as_ref()).map(fields_of).unwrap_or_default();
    let mut r = render(VerifyPage { layout, number, verdict, fields })?;
    if let Some(c) = cookie {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(r)
}

/// Verifies an uploaded license file (anyone may: the file itself is what is checked).
async fn verify(ctx: RequestCtx, mut mp: Multipart) -> PageResult {
    let mut bytes = vec![];
    while let Some(field) = mp.next_field().await.map_err(|e| AppError::invalid("file", format!("上传中断：{e}")))?
    {
        if field.name() == Some("file") {
            bytes = field.bytes().await.map_err(|e| AppError::invalid("file", format!("上传中断：{e}")))?.to_vec();
        }
    }
    let v = if bytes.is_empty() {
        Verdict {
            valid: false, problems: vec!["请选择要核验的电子证照文件".into()], license: None, seal_name: None
        }
    } else {
        let mut conn = ctx.state.db.reader().acquire().await.map_err(store::StoreError::from)?;
        licenses::verify_file(&mut conn, &bytes, ctx.state.clock.now()).await?
    };
    let e = ctx
        .entry("license.verify", "license", v.license.as_ref().map(|l| l.number.as_str()).unwrap_or("-"))
        .detail(if v.valid {
            "文件核验通过".to_string()
        } else {
            format!("文件核验不通过：{}", v.problems.join("；"))
        });
    ctx.audit(e).await?;
    verify_page(&ctx, String::new(), Some(v)).await
}

#[derive(Template)]
#[template(path = "services/license.html")]
struct LicensePage {
    layout: Layout,
    l: License,
    verdict: Verdict,
    fields: Vec<(String, String)>,
    seal_image: String,
    issued: String,
    valid_to: String,
}

/// The holder, and staff who may act on applications, see a license's full page.
async fn visible(ctx: &RequestCtx, number: &str) -> Result<License, AppError> {
    let p = ctx.user()?;
    let mut conn = ctx.state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let l = licenses::get(&mut conn, number).await?.ok_or_else(|| AppError::NotFound("证照".into()))?;
    let own = p.uscc.as_deref() == Some(l.holder_id.as_str()) || p.id_card_no.as_deref() == Some(l.holder_id.as_str());
    let staff = p.can(perm::WORKFLOW_ACT)
        && (p.scope(perm::WORKFLOW_ACT) == Some(DataScope::All) || p.department_code.is_some());
    if !(own || staff) {
        let e = ctx
            .entry("access.denied", "license", number)
            .outcome(domain::audit::Outcome::Denied)
            .detail("无权查看该证照");
        ctx.audit(e).await?;
        return Err(AppError::Forbidden("您无权查看该证照，可在“证照核验”输入编号核验真伪".into()));
    }
    Ok(l)
}

async fn license(ctx: RequestCtx, Path(number): Path<String>) -> PageResult {
    let l = visible(&ctx, &number).await?;
    let mut conn = ctx.state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let verdict = licenses::verify_number(&mut conn, &number, ctx.state.clock.now()).await?;
    let seal_image = match &l.seal_id {
        Some(id) => store::services::seals::by_id(&mut conn, id).await?.map(|s| s.image).unwrap_or_default(),
        None => String::new(),
    };
    drop(conn);
    ctx.audit(ctx.entry("license.view", "license", &number).detail(l.title.clone())).await?;
    render(LicensePage {
        layout: Layout::new(&ctx, &ctx.state.config.city.name, &l.title, "/licenses/verify"),
        fields: fields_of(&l),
        issued: fmt_millis(&Some(l.issued_at)),
        valid_to: l.valid_to.map(|v| fmt_millis(&Some(v))).unwrap_or_else(|| "长期".into()),
        seal_image,
        verdict,
        l,
    })
}

async fn download(ctx: RequestCtx, Path(number): Path<String>) -> PageResult {
    let l = visible(&ctx, &number).await?;
    let mut conn = ctx.state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let body = licenses::file_of(&mut conn, &l).await?;
    drop(conn);
    ctx.audit(ctx.entry("license.download", "license", &number).detail(l.title.clone())).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{number}.json\"")),
        ],
        body,
    )
        .into_response())
}

struct IfaceLine {
    code: String,
    name: String,
    owner: String,
    level: String,
    subject: &'static str,
    fields: String,
    records: i64,
    calls: i64,
    found: i64,
}

#[derive(Template)]
#[template(path = "services/exchange.html")]
struct ExchangePage {
    layout: Layout,
    lines: Vec<IfaceLine>,
    calls: Vec<(String, String, String, String, String, String, bool)>,
    total_calls: i64,
}

async fn exchange(ctx: RequestCtx) -> PageResult {
    let cfg = &ctx.state.config;
    let (counts, records) = store::services::exchange::call_counts(&ctx.state.db, 0, i64::MAX).await?;
    let lines: Vec<IfaceLine> = cfg
        .services
        .interfaces
        .iter()
        .map(|i| {
            let (calls, found) = counts.get(&i.code).copied().unwrap_or((0, 0));
            IfaceLine {
                code: i.code.clone(),
                name: i.name.clone(),
                owner: super::workflow::dept_name(&ctx, &i.owner),
                level: i.level.clone(),
                subject: i.subject.label(),
                fields: i.fields.iter().map(|f| f.label.as_str()).collect::<Vec<_>>().join("、"),
                records: records.get(&i.code).copied().unwrap_or(0),
                calls,
                found,
            }
        })
        .collect();
    let total_calls = lines.iter().map(|l| l.calls).sum();
    let calls = store::services::exchange::recent_calls(&ctx.state.db, None, 100)
        .await?
        .into_iter()
        .map(|c| {
            let name = cfg.services.interface(&c.interface).map(|i| i.name.clone()).unwrap_or(c.interface.clone());
            let who = if c.department.is_empty() {
                format!("{}（本人）", c.caller_name)
            } else {
                format!("{}（{}）", c.caller_name, super::workflow::dept_name(&ctx, &c.department))
            };
            (fmt_millis(&Some(c.at)), who, name, c.purpose, mask(&c.subject), c.fields, c.found != 0)
        })
        .collect();
    ctx.audit(ctx.entry("exchange.view", "dx_calls", "-").detail("查看共享数据调用日志")).await?;
    render(ExchangePage {
        layout: Layout::new(&ctx, &cfg.city.name, "共享数据", "/exchange"),
        lines,
        calls,
        total_calls,
    })
}

/// Subjects in the call log are shown masked: the first 6 and last 4 characters.
fn mask(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    if c.len() <= 10 {
        return s.to_string();
    }
    format!(
        "{}{}{}",
        c[..6].iter().collect::<String>(),
        "*".repeat(c.len() - 10),
        c[c.len() - 4..].iter().collect::<String>()
    )
}
