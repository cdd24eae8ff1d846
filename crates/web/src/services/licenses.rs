//! E-licenses: public verification by number or by uploading the file (证照核验), the license
//! page with its seal, the file download, and the shared-data page (共享数据: catalog,
//! call counts, recent calls). The push API for source departments is in `api::services`.

use crate::access::{Access, RequestCtx, Routes, ensure_anon_csrf};
use crate::error::{AppError, PageResult};
use crate::layout::{FormErrors, Layout, fmt_millis};
use crate::pages::render;
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
        .add("/licenses/{number}/pdf", Access::Authenticated, get(download_pdf))
        .add("/exchange", Access::Perm(perm::EXCHANGE_VIEW), get(exchange))
        .add(
            "/exchange/import",
            Access::Perm(perm::EXCHANGE_PUSH),
            axum::routing::post(import).layer(axum::extract::DefaultBodyLimit::max(crate::access::MAX_FORM_BYTES)),
        )
        .add("/exchange/template/{code}", Access::Perm(perm::EXCHANGE_PUSH), get(template))
}

#[derive(Template)]
#[template(path = "services/verify.html")]
struct VerifyPage {
    layout: Layout,
    number: String,
    verdict: Option<Verdict>,
    /// The holder and the face fields: only when the verifier presented the license's own
    /// content (the file), never for a number typed in.
    show_holder: bool,
    fields: Vec<(String, String)>,
    issuer: String,
    valid_to: String,
}

/// The face fields (照面信息) with their Chinese labels; the content stores field keys.
fn fields_of(ctx: &RequestCtx, l: &License) -> Vec<(String, String)> {
    let cfg = ctx.state.config();
    let v: serde_json::Value = serde_json::from_str(&l.content).unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let label = |k: String| cfg.services.field_label(&k).map(str::to_string).unwrap_or(k);
    v["fields"].as_array().map(|a| a.iter().map(|p| (label(text(&p[0])), text(&p[1]))).collect()).unwrap_or_default()
}

/// Verification by number answers what a verifier needs — genuine or not, type, issuer,
/// validity, revocation — and nothing about the holder. Identity documents (身份证, 户口簿) are
/// not looked up by number at all, and answer exactly as an unknown number does, so the page
/// cannot tell whether a person holds one (个人信息保护法 art. 28).
async fn verify_form(ctx: RequestCtx, Query(q): Query<std::collections::HashMap<String, String>>) -> PageResult {
    let number = q.get("number").cloned().unwrap_or_default();
    if number.trim().is_empty() {
        return verify_page(&ctx, String::new(), None, false).await;
    }
    let v = verify_by_number(&ctx, number.trim()).await?;
    verify_page(&ctx, number, Some(v), false).await
}

pub(crate) async fn verify_by_number(ctx: &RequestCtx, number: &str) -> Result<Verdict, AppError> {
    let mut conn = ctx.state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let v = licenses::verify_number(&mut conn, number, ctx.state.clock.now()).await?;
    let cfg = ctx.state.config();
    let identity = v.license.as_ref().is_some_and(|l| cfg.services.license_type(&l.r#type).is_some_and(|t| t.identity));
    if identity || v.license.is_none() {
        return Ok(Verdict { valid: false, problems: vec![NOT_BY_NUMBER.into()], license: None, seal_name: None });
    }
    Ok(v)
}

pub const NOT_BY_NUMBER: &str =
    "未找到可按编号核验的证照：编号有误，或属于居民身份证、户口簿等身份证件（身份证件请上传证照文件核验）";

async fn verify_page(ctx: &RequestCtx, number: String, verdict: Option<Verdict>, show_holder: bool) -> PageResult {
    let (csrf, cookie) = ensure_anon_csrf(ctx);
    let mut layout = Layout::new(ctx, &ctx.state.config().city.name, "电子证照核验", "/licenses/verify");
    layout.csrf = csrf;
    let license = verdict.as_ref().and_then(|v| v.license.as_ref());
    let fields = if show_holder { license.map(|l| fields_of(ctx, l)).unwrap_or_default() } else { vec![] };
    let issuer = license.map(|l| issuer_name(ctx, l)).unwrap_or_default();
    let valid_to = license.map(licenses::valid_to_text).unwrap_or_default();
    let mut r = render(VerifyPage { layout, number, verdict, show_holder, fields, issuer, valid_to })?;
    if let Some(c) = cookie {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(r)
}

/// The issuing department's name (or the source system's, for a license pushed in).
pub(crate) fn issuer_name(ctx: &RequestCtx, l: &License) -> String {
    if l.source == licenses::ISSUED_HERE { crate::pages::workflow::dept_name(ctx, &l.issuer) } else { l.source.clone() }
}

/// 有效期至 as an ISO date (China time), or 长期, for the API.
pub(crate) fn valid_to_text(l: &License) -> String {
    l.valid_to
        .map(|v| domain::clock::local(domain::clock::from_millis(v)).date().to_string())
        .unwrap_or_else(|| "长期".into())
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
        .entry(
            domain::services::ServicesAudit::LicenseVerify,
            "license",
            v.license.as_ref().map(|l| l.number.as_str()).unwrap_or("-"),
        )
        .detail(if v.valid {
            "文件核验通过".to_string()
        } else {
            format!("文件核验不通过：{}", v.problems.join("；"))
        });
    ctx.audit(e).await?;
    verify_page(&ctx, String::new(), Some(v), true).await
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
    qr: String,
    verify_link: String,
}

/// The holder, and staff who may act on applications.
pub(crate) fn may_see_holder(ctx: &RequestCtx, l: &License) -> bool {
    let Some(p) = ctx.principal.as_deref() else { return false };
    let own = p.uscc.as_deref() == Some(l.holder_id.as_str()) || p.id_card_no.as_deref() == Some(l.holder_id.as_str());
    let staff = p.can(perm::WORKFLOW_ACT)
        && (p.scope(perm::WORKFLOW_ACT) == Some(DataScope::All) || p.department_code.is_some());
    own || staff
}

/// The holder, and staff who may act on applications, see a license's full page.
async fn visible(ctx: &RequestCtx, number: &str) -> Result<License, AppError> {
    ctx.user()?;
    let mut conn = ctx.state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let l = licenses::get(&mut conn, number).await?.ok_or_else(|| AppError::NotFound("证照".into()))?;
    if !may_see_holder(ctx, &l) {
        let e = ctx
            .entry(domain::audit::CoreAudit::AccessDenied, "license", number)
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
    let payload = payload_of(&ctx, &l).await?;
    ctx.audit(ctx.entry(domain::services::ServicesAudit::LicenseView, "license", &number).detail(l.title.clone()))
        .await?;
    render(LicensePage {
        layout: Layout::new(&ctx, &ctx.state.config().city.name, &l.title, "/licenses/verify"),
        fields: fields_of(&ctx, &l),
        issued: licenses::issued_on(&l).map(domain::text::date_cn).unwrap_or_else(|| fmt_millis(&Some(l.issued_at))),
        valid_to: licenses::valid_to_text(&l),
        qr: payload.as_deref().and_then(|p| crate::qr::svg(p, 132, "证照核验二维码")).unwrap_or_default(),
        verify_link: payload
            .map(|p| format!("/documents/verify?p={}", crate::pages::documents::query_value(&p)))
            .unwrap_or_default(),
        seal_image,
        verdict,
        l,
    })
}

/// The license's QR payload (signed on first view for licenses issued before payloads existed).
async fn payload_of(ctx: &RequestCtx, l: &License) -> Result<Option<String>, AppError> {
    if l.qr_payload.is_some() || l.seal_id.is_none() {
        return Ok(l.qr_payload.clone());
    }
    let mut tx = ctx.state.db.begin().await?;
    let p = licenses::qr_payload(&mut tx, ctx.state.seal_key.as_deref(), l).await?;
    tx.commit().await?;
    Ok(p)
}

/// The license as an A4 PDF: title, number, holder, face fields, issuer's seal and the QR code.
async fn download_pdf(ctx: RequestCtx, Path(number): Path<String>) -> PageResult {
    let l = visible(&ctx, &number).await?;
    let payload = payload_of(&ctx, &l).await?.ok_or_else(|| AppError::Conflict {
        field: "number".into(),
        message: "该证照由其他系统签发，本平台不出具其 PDF；请下载电子证照文件或到签发系统打印".into(),
    })?;
    let fonts = crate::pdf::fonts(&ctx.state.config()).map_err(AppError::Unavailable)?;
    // The issuing department by its full name, as on its seal.
    let cfg = ctx.state.config();
    let issuer =
        cfg.departments.iter().find(|d| d.code == l.issuer).map(|d| d.name.clone()).unwrap_or_else(|| l.issuer.clone());
    let mut rows = vec![
        ("证照编号".to_string(), l.number.clone()),
        ("持证主体".to_string(), l.holder_name.clone()),
        ("证件号码".to_string(), l.holder_id.clone()),
    ];
    rows.extend(fields_of(&ctx, &l));
    rows.push(("有效期至".to_string(), licenses::valid_to_text(&l)));
    if l.revoked_at.is_some() {
        rows.push(("状态".to_string(), format!("已吊销：{}", l.revoked_reason.clone().unwrap_or_default())));
    }
    let date = licenses::issued_on(&l).map(domain::text::date_cn).unwrap_or_default();
    let bytes = crate::pdf::render(
        &fonts,
        &crate::pdf::Sheet {
            head: None,
            title: &l.title,
            addressee: None,
            paragraphs: &[],
            rows: &rows,
            signer: &issuer,
            date: &date,
            seal: l.seal_id.as_ref().map(|_| issuer.as_str()),
            payload: &payload,
            note: crate::pages::documents::VERIFY_NOTE,
        },
    )
    .map_err(AppError::Internal)?;
    ctx.audit(
        ctx.entry(domain::services::ServicesAudit::LicenseDownload, "license", &number)
            .detail(format!("{}（PDF）", l.title)),
    )
    .await?;
    Ok(crate::pages::documents::pdf_response(bytes, &number))
}

async fn download(ctx: RequestCtx, Path(number): Path<String>) -> PageResult {
    let l = visible(&ctx, &number).await?;
    let mut conn = ctx.state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let body = licenses::file_of(&mut conn, &l).await?;
    drop(conn);
    ctx.audit(ctx.entry(domain::services::ServicesAudit::LicenseDownload, "license", &number).detail(l.title.clone()))
        .await?;
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
    /// Interfaces this user may import into: (code, name).
    importable: Vec<(String, String)>,
    errors: FormErrors,
    form_iface: String,
    form_source: String,
    calls: Vec<(String, String, String, String, String, String, bool)>,
    total_calls: i64,
}

async fn exchange(ctx: RequestCtx) -> PageResult {
    exchange_page(&ctx, FormErrors::default(), String::new(), String::new()).await
}

async fn exchange_page(ctx: &RequestCtx, errors: FormErrors, form_iface: String, form_source: String) -> PageResult {
    let cfg = &ctx.state.config();
    let (counts, records) = store::services::exchange::call_totals(&ctx.state.db).await?;
    let lines: Vec<IfaceLine> = cfg
        .services
        .interfaces
        .iter()
        .map(|i| {
            let (calls, found) = counts.get(&i.code).copied().unwrap_or((0, 0));
            IfaceLine {
                code: i.code.clone(),
                name: i.name.clone(),
                owner: crate::pages::workflow::dept_name(ctx, &i.owner),
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
                format!("{}（{}）", c.caller_name, crate::pages::workflow::dept_name(ctx, &c.department))
            };
            (fmt_millis(&Some(c.at)), who, name, c.purpose, mask(&c.subject), c.fields, c.found != 0)
        })
        .collect();
    ctx.audit(ctx.entry(domain::services::ServicesAudit::ExchangeView, "dx_calls", "-").detail("查看共享数据调用日志"))
        .await?;
    let invalid = !errors.is_empty();
    let mut r = render(ExchangePage {
        layout: Layout::new(ctx, &cfg.city.name, "共享数据", "/exchange"),
        lines,
        importable: cfg
            .services
            .interfaces
            .iter()
            .filter(|i| ctx.may_push_to(&i.owner))
            .map(|i| (i.code.clone(), i.name.clone()))
            .collect(),
        errors,
        form_iface,
        form_source,
        calls,
        total_calls,
    })?;
    if invalid {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

/// Column headers that name the subject (not "统一社会信用代码": that is also a field).
const SUBJECT_HEADERS: [&str; 2] = ["subject", "主体标识"];

/// Rows of an uploaded table for an interface: a subject column, and columns named by field
/// key or label; empty cells are left out.
fn import_rows(
    iface: &store::config::services::Interface,
    up: &crate::import::Upload,
) -> Result<Vec<store::services::exchange::ImportRow>, String> {
    let mut subject_col = None;
    let mut cols = vec![];
    for (n, h) in up.headers.iter().enumerate() {
        let h = h.trim();
        if SUBJECT_HEADERS.contains(&h) {
            if subject_col.replace(n).is_some() {
                return Err("“主体标识”列只能有一列".into());
            }
        } else if let Some(f) = iface.fields.iter().find(|f| f.key == h || f.label == h) {
            cols.push((n, f.key.clone()));
        } else if !h.is_empty() {
            let known: Vec<&str> = iface.fields.iter().map(|f| f.label.as_str()).collect();
            return Err(format!("未知列“{h}”；可用列：主体标识、{}", known.join("、")));
        }
    }
    let subject_col = subject_col.ok_or("缺少“主体标识”列（统一社会信用代码或公民身份号码）")?;
    Ok(up
        .rows
        .iter()
        .map(|(no, cells)| {
            let cell = |n: usize| cells.get(n).map(|c| c.trim()).unwrap_or_default();
            let data = cols
                .iter()
                .filter(|(n, _)| !cell(*n).is_empty())
                .map(|(n, k)| (k.clone(), serde_json::Value::String(cell(*n).to_string())))
                .collect();
            (*no, cell(subject_col).to_string(), data)
        })
        .collect())
}

async fn import(ctx: RequestCtx, mut mp: Multipart) -> PageResult {
    let (mut code, mut source, mut filename, mut bytes) = (String::new(), String::new(), String::new(), vec![]);
    while let Some(field) = mp.next_field().await.map_err(|e| AppError::invalid("file", format!("上传中断：{e}")))?
    {
        match field.name().unwrap_or("") {
            "interface" => code = field.text().await.unwrap_or_default().trim().to_string(),
            "source" => source = field.text().await.unwrap_or_default().trim().to_string(),
            "file" => {
                filename = field.file_name().unwrap_or("").to_string();
                bytes = field.bytes().await.map_err(|e| AppError::invalid("file", format!("上传中断：{e}")))?.to_vec();
            }
            _ => {}
        }
    }
    let state = &ctx.state;
    let mut errors = FormErrors::default();
    let cfg = state.config();
    let iface = cfg.services.interface(&code);
    match iface {
        None => errors.add("interface", "请选择数据接口"),
        Some(i) if !ctx.may_push_to(&i.owner) => {
            return Err(AppError::Forbidden(format!("只能导入本部门提供的接口数据（“{}”）", i.name)).into());
        }
        Some(_) => {}
    }
    if source.is_empty() {
        errors.add("source", "请填写数据来源系统名称，如“安徽省市场主体登记系统”");
    }
    if bytes.is_empty() {
        errors.add("file", "请选择要导入的 CSV 或 Excel（.xlsx）文件");
    }
    let Some(iface) = iface.filter(|_| errors.is_empty()) else {
        return exchange_page(&ctx, errors, code, source).await;
    };
    let upload = crate::import::read_upload(&state.import_slots, filename.clone(), std::mem::take(&mut bytes)).await;
    let rows = match upload.and_then(|up| import_rows(iface, &up)) {
        Ok(r) => r,
        Err(msg) => {
            errors.add("file", msg);
            return exchange_page(&ctx, errors, code, source).await;
        }
    };
    let p = ctx.user()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let n = match store::services::exchange::import(
        &mut tx,
        now,
        &state.config(),
        &code,
        &rows,
        &source,
        &filename,
        (&p.user_id, &p.display_name),
    )
    .await
    {
        Ok(n) => n,
        Err(store::StoreError::Invalid { field, message }) => {
            // Give the writer back before the page (which records the view) is drawn.
            tx.rollback().await?;
            errors.add(&field, message);
            return exchange_page(&ctx, errors, code, source).await;
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    Ok(crate::access::redirect_with_flash(
        "/exchange",
        &format!("已导入“{}”{n} 条记录（来源：{source}）。", iface.name),
        state.secure_cookies,
    ))
}

/// An import template (CSV, UTF-8 with BOM so Excel opens it): the subject column and the
/// interface's fields by label, one example row.
async fn template(ctx: RequestCtx, Path(code): Path<String>) -> PageResult {
    let cfg = ctx.state.config();
    let iface = cfg.services.interface(&code).ok_or_else(|| AppError::NotFound(format!("数据接口“{code}”")))?;
    let example = match iface.subject {
        store::config::services::Subject::Enterprise => "91341600MA2N0XXXXX",
        store::config::services::Subject::Person => "341602199001011234",
    };
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let head = std::iter::once("主体标识").chain(iface.fields.iter().map(|f| f.label.as_str()));
    let row = std::iter::once(example).chain(iface.fields.iter().map(|_| ""));
    w.write_record(head).and_then(|_| w.write_record(row)).map_err(|e| AppError::Internal(e.to_string()))?;
    let bytes = w.into_inner().map_err(|e| AppError::Internal(e.to_string()))?;
    let name = format!("导入模板-{}.csv", iface.name);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"template.csv\"; filename*=UTF-8''{}", crate::cookies::encode(&name)),
            ),
        ],
        bytes,
    )
        .into_response())
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
