//! 数据导入: bank flows, payroll, attendance, workers, projects and outside signals arrive as
//! files (CSV/XLSX) here and as JSON batches on the API; both end in `store::wages::ingest`.
//! Every refused row is shown with its reason and can be downloaded to fix and send again.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::export::{Cell, ExportFormat, Table};
use crate::layout::{FormErrors, Layout, Pager, fmt_millis};
use crate::pages::render;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query};
use axum::routing::get;
use domain::auth::{Principal, perm};
use domain::wages::ingest::{Column, Identity, Kind, Sender, Via, map_headers, parse_row};
use store::org::RowScope;
use store::sql::PageRequest;
use store::wages::ingest::{Batch, BatchReport, BatchRow, InRow, RejectedRow};

pub fn routes() -> Routes {
    Routes::default()
        .add(
            "/wages/import",
            Access::Perm(perm::WAGES_IMPORT),
            get(form).post(upload).layer(DefaultBodyLimit::max(crate::access::MAX_FORM_BYTES)),
        )
        .add("/wages/import/template/{kind}", Access::Perm(perm::WAGES_IMPORT), get(template))
        .add("/wages/import/batches/{id}", Access::Perm(perm::WAGES_IMPORT), get(batch))
}

fn parse_kind(s: &str) -> Result<Kind, AppError> {
    Kind::parse(s).ok_or_else(|| AppError::invalid("kind", format!("没有“{s}”这类数据")))
}

/// The key shown beside a row: its external id, or its natural key.
fn row_key(kind: Kind, get: &dyn Fn(&str) -> String) -> String {
    match kind.identity() {
        Identity::Event => get("external_id"),
        Identity::Natural => {
            let parts: Vec<String> = ["code", "project_code", "id_card_no", "month"]
                .iter()
                .map(|k| get(k))
                .filter(|v| !v.is_empty())
                .collect();
            parts.join(" / ")
        }
    }
}

/// Rows of an uploaded file, checked; unknown headers are returned to be reported.
pub fn rows_from_upload(
    kind: Kind,
    limits: &domain::wages::ingest::Limits,
    up: &crate::import::Upload,
) -> Result<(Vec<InRow>, Vec<String>), String> {
    let (cols, unknown) = map_headers(kind, &up.headers)?;
    let rows = up
        .rows
        .iter()
        .map(|(no, cells)| {
            let pairs: Vec<(&'static Column, &str)> =
                cols.iter().zip(cells.iter()).filter_map(|(c, v)| c.map(|c| (c, v.as_str()))).collect();
            let get =
                |k: &str| pairs.iter().find(|(c, _)| c.key == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
            InRow {
                row_no: *no,
                key: row_key(kind, &get),
                raw: csv_line(cells),
                parsed: parse_row(kind, Via::File, limits, pairs.iter().copied()),
            }
        })
        .collect();
    Ok((rows, unknown))
}

/// A row as one CSV line, quoted where needed, as it is kept with a refusal.
fn csv_line(cells: &[String]) -> String {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(vec![]);
    if w.write_record(cells).is_err() {
        return cells.join(",");
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end().to_string()
}

/// Rows of an API batch: objects keyed by column key; values strings, numbers or booleans.
pub fn rows_from_json(
    kind: Kind,
    limits: &domain::wages::ingest::Limits,
    rows: &[serde_json::Map<String, serde_json::Value>],
) -> Vec<InRow> {
    rows.iter()
        .enumerate()
        .map(|(i, obj)| {
            let text = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => other.to_string(),
            };
            let get = |k: &str| obj.get(k).map(text).unwrap_or_default();
            let mut pairs = vec![];
            let mut unknown = None;
            for (k, v) in obj {
                match kind.columns().iter().find(|c| c.key == k) {
                    Some(c) => pairs.push((c, text(v))),
                    None => unknown = Some(k.clone()),
                }
            }
            let parsed = match unknown {
                Some(k) => {
                    let k = domain::text::excerpt(&k, 40);
                    Err(domain::wages::ingest::Rejection::new(
                        k.clone(),
                        format!("未知字段“{k}”；可用字段见接口文档 /api/openapi.json 或导入模板"),
                    ))
                }
                None => parse_row(kind, Via::Api, limits, pairs.iter().map(|(c, v)| (*c, v.as_str()))),
            };
            InRow {
                row_no: i as i64 + 1,
                key: row_key(kind, &get),
                raw: serde_json::Value::Object(obj.clone()).to_string(),
                parsed,
            }
        })
        .collect()
}

/// Runs a batch in its own transaction.
pub async fn run_batch(
    ctx: &RequestCtx,
    kind: Kind,
    via: Via,
    source: &str,
    filename: &str,
    rows: Vec<InRow>,
) -> Result<BatchReport, AppError> {
    let state = &ctx.state;
    let p = ctx.user()?;
    let sender = sender_of(p);
    only_from_its_source(ctx, sender, kind).await?;
    // A bank's system feeds under its own permission; an importer under wages.import.
    let perm = if p.can(perm::WAGES_IMPORT) { perm::WAGES_IMPORT } else { perm::WAGES_FEED_BANK };
    let scope = store::org::row_scope(&state.db, p, perm).await?;
    let cal = state.calendar();
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let report = store::wages::ingest::ingest(
        &mut tx,
        &state.config(),
        &cal,
        now,
        Batch {
            kind,
            via,
            source,
            filename,
            by_user: &p.user_id,
            by_name: &p.display_name,
            ip: &ctx.ip,
            scope: &scope,
            sender,
            department: p.department_code.as_deref(),
            rows,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

pub struct KindView {
    pub code: &'static str,
    pub label: &'static str,
    pub columns: Vec<(&'static str, bool, &'static str)>,
    pub identity: &'static str,
}

/// Refuses (audited) a kind the sender is not the source of truth for.
async fn only_from_its_source(ctx: &RequestCtx, sender: Sender, kind: Kind) -> Result<(), AppError> {
    if sender.may_send(kind) {
        return Ok(());
    }
    let e = ctx
        .entry(domain::audit::CoreAudit::AccessDenied, "wage_ingest", kind.as_str())
        .outcome(domain::audit::Outcome::Denied)
        .detail(format!("{}报送“{}”，已拒绝", sender.label(), kind.label()));
    ctx.audit_refusal(e).await?;
    let allowed: Vec<&str> = sender.kinds().iter().map(|k| k.label()).collect();
    Err(AppError::Forbidden(format!(
        "“{}”应由其数据来源报送；{}只能推送或导入：{}",
        kind.label(),
        sender.label(),
        allowed.join("、")
    )))
}

/// Who the caller sends as: a bank's system (only `wages.feed.bank`), an enterprise, or a
/// department or its system.
pub fn sender_of(p: &Principal) -> Sender {
    if !p.can(perm::WAGES_IMPORT) {
        Sender::Bank
    } else if p.kind == domain::auth::UserKind::Enterprise {
        Sender::Enterprise
    } else {
        Sender::Authority
    }
}

fn kinds(sender: Sender) -> Vec<KindView> {
    sender
        .kinds()
        .iter()
        .copied()
        .map(|k| KindView {
            code: k.as_str(),
            label: k.label(),
            columns: k.columns().iter().map(|c| (c.header, c.required, c.hint(Via::File))).collect(),
            identity: match k.identity() {
                Identity::Event => "按“来源 + 编号”去重：同一流水重复导入只记一次，同号不同内容拒收",
                Identity::Natural => "按业务主键更新：再次导入同一项目、工人或月份即覆盖所填的列，空白列保持原值",
            },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "wages/import.html")]
struct ImportPage {
    layout: Layout,
    kinds: Vec<KindView>,
    kind: String,
    source: String,
    batches: Vec<(BatchRow, &'static str, String)>,
    errors: FormErrors,
}

fn default_source(p: &Principal) -> String {
    match &p.uscc {
        Some(u) => format!("企业自报 {u}"),
        None => String::new(),
    }
}

/// Importers see their own batches; a city-wide importer sees everyone's.
async fn visible_to(ctx: &RequestCtx, p: &Principal) -> Result<Option<String>, AppError> {
    let scope = store::org::row_scope(&ctx.state.db, p, perm::WAGES_IMPORT).await?;
    Ok(if matches!(scope, RowScope::All) { None } else { Some(p.user_id.clone()) })
}

async fn page(ctx: &RequestCtx, kind: String, source: String, errors: FormErrors) -> PageResult {
    let p = ctx.user()?;
    let mine = visible_to(ctx, p).await?;
    let batches = store::wages::ingest::batches(&ctx.state.db, mine.as_deref(), 30)
        .await?
        .into_iter()
        .map(|b| {
            let label = Kind::parse(&b.kind).map(|k| k.label()).unwrap_or("");
            let at = fmt_millis(&Some(b.received_at));
            (b, label, at)
        })
        .collect();
    let source = if source.is_empty() { default_source(p) } else { source };
    let mut layout = Layout::new(ctx, &ctx.state.config().city.name, "数据导入", "/wages/import");
    if !errors.is_empty() {
        layout.title = "数据导入（有错误）".into();
    }
    let invalid = !errors.is_empty();
    let mut r = render(ImportPage { layout, kinds: kinds(sender_of(ctx.user()?)), kind, source, batches, errors })?;
    if invalid {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn form(ctx: RequestCtx) -> PageResult {
    page(&ctx, "payments".into(), String::new(), FormErrors::default()).await
}

async fn upload(ctx: RequestCtx, mut mp: Multipart) -> PageResult {
    let (mut kind, mut source, mut filename, mut bytes) = (String::new(), String::new(), String::new(), vec![]);
    while let Some(field) = mp.next_field().await.map_err(|e| AppError::invalid("file", format!("上传中断：{e}")))?
    {
        match field.name().unwrap_or("") {
            "kind" => kind = field.text().await.unwrap_or_default().trim().to_string(),
            "source" => source = field.text().await.unwrap_or_default().trim().to_string(),
            "file" => {
                filename = field.file_name().unwrap_or("").to_string();
                bytes = field.bytes().await.map_err(|e| AppError::invalid("file", format!("上传中断：{e}")))?.to_vec();
            }
            _ => {}
        }
    }
    let mut errors = FormErrors::default();
    let k = Kind::parse(&kind);
    if k.is_none() {
        errors.add("kind", "请选择数据类别");
    }
    if source.is_empty() {
        errors.add("source", "请填写数据来源（如“工商银行亳州分行代发”），同一来源重复导入的流水只记一次");
    }
    if bytes.is_empty() {
        errors.add("file", "请选择要导入的 CSV 或 Excel（.xlsx）文件");
    }
    if let Some(k) = k {
        only_from_its_source(&ctx, sender_of(ctx.user()?), k).await?;
    }
    let Some(k) = k.filter(|_| errors.is_empty()) else {
        return page(&ctx, kind, source, errors).await;
    };
    let parsed = crate::import::read_upload(&ctx.state.import_slots, filename.clone(), bytes)
        .await
        .and_then(|up| rows_from_upload(k, &ctx.state.config().city.wages.limits, &up));
    let (rows, unknown) = match parsed {
        Ok(x) => x,
        Err(msg) => {
            errors.add("file", msg);
            return page(&ctx, kind, source, errors).await;
        }
    };
    let report = match run_batch(&ctx, k, Via::File, &source, &filename, rows).await {
        Ok(r) => r,
        Err(AppError::Invalid { field, message }) => {
            errors.add(&field, message);
            return page(&ctx, kind, source, errors).await;
        }
        Err(e) => return Err(e.into()),
    };
    let mut msg = format!(
        "已导入 {}：共 {} 行，写入 {}，重复 {}，拒收 {}；评估项目 {} 个，新增预警 {}，解除 {}。",
        k.label(),
        report.total,
        report.accepted,
        report.duplicates,
        report.rejected,
        report.projects_evaluated,
        report.alerts_opened,
        report.alerts_cleared
    );
    if !unknown.is_empty() {
        msg.push_str(&format!("以下列不认识，已忽略：{}。", unknown.join("、")));
    }
    Ok(redirect_with_flash(&format!("/wages/import/batches/{}", report.batch_id), &msg, ctx.state.secure_cookies))
}

#[derive(serde::Deserialize)]
struct FormatQuery {
    format: Option<String>,
}

async fn template(Path(kind): Path<String>, Query(q): Query<FormatQuery>) -> PageResult {
    let k = parse_kind(&kind)?;
    let format = ExportFormat::parse(q.format.as_deref()).unwrap_or(ExportFormat::Xlsx);
    Ok(Table {
        title: format!("导入模板-{}", k.label()),
        headers: k.columns().iter().map(|c| c.header).collect(),
        rows: vec![k.example().iter().map(|v| Cell::from(*v)).collect()],
    }
    .into_response(format))
}

#[derive(Template)]
#[template(path = "wages/batch.html")]
struct BatchPage {
    layout: Layout,
    b: BatchRow,
    kind: &'static str,
    at: String,
    rejections: Vec<RejectedRow>,
    pager: Pager,
}

async fn batch(ctx: RequestCtx, Path(id): Path<String>, Query(q): Query<BatchQuery>) -> PageResult {
    let p = ctx.user()?;
    let mine = visible_to(&ctx, p).await?;
    let export = ExportFormat::parse(q.format.as_deref());
    let page = if export.is_some() { PageRequest::all() } else { PageRequest::new(q.page, Some(100)) };
    let (b, rejections) = store::wages::ingest::batch(&ctx.state.db, &id, mine.as_deref(), page).await?;
    let kind = Kind::parse(&b.kind).map(|k| k.label()).unwrap_or("");
    if let Some(format) = export {
        let rows = rejections
            .items
            .iter()
            .map(|r| {
                vec![
                    Cell::Int(r.row_no),
                    r.external_id.clone().into(),
                    r.field.clone().into(),
                    r.reason.clone().into(),
                    r.raw.clone().into(),
                ]
            })
            .collect();
        return Ok(Table {
            title: format!("拒收明细-{kind}"),
            headers: vec!["行号", "编号/主键", "列", "原因", "原始内容"],
            rows,
        }
        .into_response(format));
    }
    let at = fmt_millis(&Some(b.received_at));
    let pager = Pager::new(&rejections, &format!("/wages/import/batches/{}", b.id), &[]);
    render(BatchPage {
        layout: Layout::new(&ctx, &ctx.state.config().city.name, "导入结果", "/wages/import"),
        b,
        kind,
        at,
        rejections: rejections.items,
        pager,
    })
}

#[derive(serde::Deserialize, Default)]
pub struct BatchQuery {
    format: Option<String>,
    page: Option<u32>,
}
