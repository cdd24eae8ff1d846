//! 一键申报 pages: the zone (专区) of items, the prefilled application form, the applicant's
//! and the department's lists, the application page with one-click verification (一键核查),
//! the certificate assistant (证件助手), decisions and cross-department verification (跨部门
//! 证明协查), and the corrections after a one-time notice.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::layout::{FormErrors, Layout, fmt_millis};
use crate::pages::render;
use crate::pages::workflow::actor_of;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query};
use axum::routing::get;
use domain::auth::{DataScope, perm};
use domain::services::applicant_label;
use domain::workflow::Status;
use std::collections::BTreeMap;
use store::config::services::{FieldType, Item, MaterialKind};
use store::services::exchange::Caller;
use store::services::licenses::License;
use store::services::xrequests::XRequest;
use store::services::{self as svc, CheckRow, SvcApp, Upload};

pub fn routes() -> Routes {
    Routes::default()
        .add("/services", Access::Authenticated, get(zone))
        .add(
            "/services/items/{code}",
            Access::Authenticated,
            get(item_page).post(apply).layer(DefaultBodyLimit::max(4 * svc::MAX_UPLOAD)),
        )
        .add("/services/mine", Access::Perm(perm::WORKFLOW_APPLY), get(mine))
        .add("/services/applications", Access::Perm(perm::WORKFLOW_ACT), get(department_list))
        .add("/services/applications/{id}", Access::Authenticated, get(application))
}

pub(crate) fn dept_name(ctx: &RequestCtx, code: &str) -> String {
    crate::pages::workflow::dept_name(ctx, code)
}

/// The subject a user applies for: their enterprise (USCC) or themselves (ID number).
// ---------------------------------------------------------------- the zone

#[derive(serde::Deserialize, Default)]
struct ZoneQuery {
    q: Option<String>,
    dept: Option<String>,
    all: Option<String>,
}

struct ItemLine {
    code: String,
    name: String,
    dept: String,
    kind: String,
    subject: &'static str,
    promised: u32,
    legal: u32,
    one_click: bool,
    kinds: String,
    suspended: bool,
}

#[derive(Template)]
#[template(path = "services/zone.html")]
struct ZonePage {
    layout: Layout,
    items: Vec<ItemLine>,
    depts: Vec<(String, String)>,
    q: String,
    dept: String,
    all: bool,
    total: usize,
    one_click: usize,
}

async fn zone(ctx: RequestCtx, Query(q): Query<ZoneQuery>) -> PageResult {
    let cfg = &ctx.state.config();
    let all = q.all.as_deref() == Some("1");
    let kw = q.q.clone().unwrap_or_default();
    let dept = q.dept.clone().unwrap_or_default();
    let items = &cfg.services.items;
    let lines = items
        .iter()
        .filter(|i| all || i.one_click())
        .filter(|i| dept.is_empty() || i.department == dept)
        .filter(|i| kw.trim().is_empty() || i.name.contains(kw.trim()) || i.code.contains(kw.trim()))
        .map(|i| {
            // Each kind once, in the order first met (dedup alone keeps 表单、电子证照、表单).
            let mut kinds: Vec<&str> = vec![];
            for k in i.materials.iter().map(|m| m.kind.label()) {
                if !kinds.contains(&k) {
                    kinds.push(k);
                }
            }
            ItemLine {
                code: i.code.clone(),
                name: i.name.clone(),
                dept: dept_name(&ctx, &i.department),
                kind: i.kind.clone(),
                subject: i.subject.label(),
                promised: i.promised_days,
                legal: i.legal_days,
                one_click: i.one_click(),
                kinds: kinds.join("、"),
                suspended: super::state(&ctx.state).suspended(&i.code).is_some(),
            }
        })
        .collect();
    let mut depts: Vec<(String, String)> =
        items.iter().map(|i| (i.department.clone(), dept_name(&ctx, &i.department))).collect();
    depts.sort();
    depts.dedup();
    render(ZonePage {
        layout: Layout::new(&ctx, &cfg.city.name, "一键申报专区", "/services"),
        items: lines,
        depts,
        q: kw,
        dept,
        all,
        total: items.len(),
        one_click: items.iter().filter(|i| i.one_click()).count(),
    })
}

// ---------------------------------------------------------------- applying

struct FieldView {
    key: String,
    label: String,
    ty: &'static str,
    value: String,
    /// Where the value came from (interface name) when prefilled.
    from: String,
    options: Vec<String>,
    required: bool,
    readonly: bool,
    checked: bool,
}

struct MaterialView {
    id: String,
    name: String,
    kind: &'static str,
    fields: Vec<FieldView>,
    /// For license materials: the license found, or why none.
    license: Option<(String, String, String)>,
    missing: String,
    upload: bool,
    /// May be supplied after acceptance (容缺).
    deferrable: bool,
    /// For sign materials: what the applicant confirms by ticking; empty otherwise.
    sign: String,
    /// The signing box is ticked (typed values being shown again).
    signed: bool,
    /// The newest signature on the application: (picture, signer, when, digest).
    signature: Option<(String, String, String, String)>,
    /// For e-archive materials: the archived case (application id, item name, when, digest).
    archive: Option<(String, String, String, String)>,
}

fn ty_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Number => "number",
        FieldType::Date => "date",
        FieldType::Phone => "tel",
        FieldType::Select => "select",
        FieldType::Consent => "consent",
        _ => "text",
    }
}

fn material_views(
    cfg: &store::config::CityConfig,
    item: &Item,
    values: &BTreeMap<String, String>,
    from: &BTreeMap<String, String>,
    lics: &BTreeMap<String, Option<License>>,
    archives: &BTreeMap<String, Option<svc::ArchiveRef>>,
) -> Vec<MaterialView> {
    item.materials
        .iter()
        .map(|m| {
            let fields = m
                .fields
                .iter()
                .map(|f| {
                    let value = values.get(&f.key).cloned().unwrap_or_default();
                    FieldView {
                        key: f.key.clone(),
                        label: f.label.clone(),
                        ty: ty_name(f.ty),
                        checked: f.ty == FieldType::Consent && !value.is_empty(),
                        value,
                        from: from.get(&f.key).cloned().unwrap_or_default(),
                        options: f.options.clone(),
                        required: f.required,
                        readonly: m.kind == MaterialKind::Data,
                    }
                })
                .collect();
            let tname = m.license.as_deref().and_then(|t| cfg.services.license_type(t)).map(|t| t.name.clone());
            let license =
                lics.get(&m.id).and_then(|l| l.as_ref()).map(|l| (l.number.clone(), l.title.clone(), l.source.clone()));
            let from_item = m.archive_item.as_deref().unwrap_or_default();
            let from_name = cfg.services.item(from_item).map(|i| i.name.clone()).unwrap_or(from_item.to_string());
            let archive = archives.get(&m.id).and_then(|a| a.as_ref()).map(|a| {
                (
                    a.application_id.clone(),
                    from_name.clone(),
                    crate::layout::fmt_millis(&Some(a.archived_at)),
                    a.digest.clone(),
                )
            });
            MaterialView {
                deferrable: m.deferrable,
                id: m.id.clone(),
                name: m.name.clone(),
                kind: m.kind.label(),
                fields,
                missing: if m.kind == MaterialKind::License && license.is_none() {
                    format!("名下没有有效的{}", tname.unwrap_or_default())
                } else if m.kind == MaterialKind::Archive && archive.is_none() {
                    format!("没有已办结的“{from_name}”电子档案")
                } else {
                    String::new()
                },
                archive,
                license,
                upload: m.kind == MaterialKind::Upload,
                sign: if m.kind == MaterialKind::Sign {
                    format!("我已核对以上申请内容，同意以{}签署《{}》", svc::signatures::what(item.subject), m.name)
                } else {
                    String::new()
                },
                signed: values.contains_key(&svc::signatures::consent_key(&m.id)),
                signature: None,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "services/item.html")]
struct ItemPage {
    layout: Layout,
    item: Item,
    dept: String,
    result: String,
    materials: Vec<MaterialView>,
    /// Why this user cannot apply; empty when they can.
    cannot: String,
    errors: FormErrors,
}

async fn item_page(ctx: RequestCtx, Path(code): Path<String>) -> PageResult {
    show_item(&ctx, &code, None, FormErrors::default()).await
}

async fn show_item(
    ctx: &RequestCtx,
    code: &str,
    typed: Option<&BTreeMap<String, String>>,
    errors: FormErrors,
) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let cfg = &state.config();
    let item = cfg.services.item(code).ok_or_else(|| AppError::NotFound(format!("事项“{code}”")))?;
    let mut cannot = if p.can(perm::WORKFLOW_APPLY) { String::new() } else { "您的账号不能申报事项".into() };
    if let Some(why) = super::state(state).suspended(code) {
        cannot = format!("该事项暂停受理：{why}");
    }
    if item.proactive {
        cannot = "本事项免申即享，无需申请：主管部门依据共享数据主动识别符合条件的单位，核定后直接发放，并在“稳岗返还”页面和消息中告知。".into();
    }
    let (mut values, mut from, mut lics, mut archives) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    match super::service::subject_of(p, item) {
        Ok((subject, _)) if cannot.is_empty() => {
            // Prefilling reads the applicant's own records: logged like any call.
            let mut tx = state.db.begin().await?;
            let caller = Caller {
                id: &p.user_id,
                name: &p.display_name,
                department: "",
                purpose: "事项办理",
                application: None,
            };
            let pre = svc::prefill(&mut tx, state.clock.now(), cfg, item, &subject, &caller).await?;
            tx.commit().await?;
            (values, from, lics, archives) = (pre.values, pre.from, pre.licenses, pre.archives);
        }
        Ok(_) => {}
        Err(m) => cannot = m,
    }
    if let Some(t) = typed {
        for (k, v) in t {
            values.insert(k.clone(), v.clone());
        }
    }
    let materials = material_views(cfg, item, &values, &from, &lics, &archives);
    let bad = !errors.is_empty();
    let mut r = render(ItemPage {
        layout: Layout::new(ctx, &cfg.city.name, &item.name, "/services"),
        dept: dept_name(ctx, &item.department),
        result: item.result_name(&cfg.services).to_string(),
        item: item.clone(),
        materials,
        cannot,
        errors,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

/// Reads the application form: text fields and files.
pub(crate) async fn read_form(mut mp: Multipart) -> Result<(BTreeMap<String, String>, Vec<Upload>), AppError> {
    let (mut values, mut uploads) = (BTreeMap::new(), vec![]);
    while let Some(field) = mp.next_field().await.map_err(|e| AppError::invalid("file", format!("上传中断：{e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        if let Some(material) = name.strip_prefix("file_") {
            let filename = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|e| AppError::invalid("file", format!("上传中断：{e}")))?;
            uploads.push(Upload { material: material.to_string(), filename, bytes: bytes.to_vec() });
        } else {
            let text = field.text().await.unwrap_or_default();
            if let Some(key) = name.strip_prefix("f_") {
                values.insert(key.to_string(), text);
            }
        }
    }
    Ok((values, uploads))
}

async fn apply(ctx: RequestCtx, Path(code): Path<String>, mp: Multipart) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let cfg = &state.config();
    let (item, subject, subject_name) = super::service::applicant(&ctx, cfg, &code)?;
    let (typed, uploads) = read_form(mp).await?;
    let mut errors = FormErrors::default();
    for (k, m) in svc::check_form(item, &typed) {
        errors.add(&k, m);
    }
    if !errors.is_empty() {
        return show_item(&ctx, &code, Some(&typed), errors).await;
    }
    let sub = crate::services::submit_queue::Submission {
        item: code.clone(),
        actor: actor_of(p),
        subject,
        subject_name,
        typed: typed.clone(),
        uploads,
        ip: ctx.ip.clone(),
    };
    match super::state(state).submit_queue(state).submit(state, sub).await {
        Ok(id) => {
            let msg = if item.one_click() {
                "已一键申报，无需上传材料，请等待审核。"
            } else {
                "已提交，请等待审核。"
            };
            Ok(redirect_with_flash(&format!("/services/applications/{id}"), msg, state.secure_cookies))
        }
        Err(store::StoreError::Invalid { field, message }) => {
            errors.add(&field, message);
            show_item(&ctx, &code, Some(&typed), errors).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- lists

struct AppLine {
    id: String,
    item: String,
    subject_name: String,
    dept: String,
    one_click: bool,
    status: &'static str,
    status_code: Status,
    submitted: String,
    result: String,
    case_no: String,
}

#[derive(Template)]
#[template(path = "services/list.html")]
struct ListPage {
    layout: Layout,
    title: String,
    rows: Vec<AppLine>,
    staff: bool,
    status: String,
    q: String,
}

fn lines(ctx: &RequestCtx, rows: Vec<svc::AppRow>) -> Vec<AppLine> {
    let cfg = &ctx.state.config();
    rows.into_iter()
        .map(|r| AppLine {
            item: cfg.services.item(&r.item).map(|i| i.name.clone()).unwrap_or(r.item.clone()),
            dept: dept_name(ctx, &r.department),
            one_click: r.one_click != 0,
            status: applicant_label(r.status),
            submitted: fmt_millis(&Some(r.submitted_at)),
            result: r.result_number.unwrap_or_default(),
            case_no: r.case_no.unwrap_or_default(),
            status_code: r.status,
            subject_name: r.subject_name,
            id: r.id,
        })
        .collect()
}

async fn mine(ctx: RequestCtx, Query(q): Query<ListQuery>) -> PageResult {
    let p = ctx.user()?;
    let query = q.q.clone().unwrap_or_default();
    let f = svc::AppFilter { applicant: Some(p.user_id.clone()), q: Some(query.clone()), ..Default::default() };
    let rows = svc::list(&ctx.state.db, &f, 200).await?;
    render(ListPage {
        layout: Layout::new(&ctx, &ctx.state.config().city.name, "我的办件", "/services/mine"),
        title: "我的办件".into(),
        rows: lines(&ctx, rows),
        staff: false,
        status: String::new(),
        q: query,
    })
}

#[derive(serde::Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    /// 办件编号, applicant or result number.
    q: Option<String>,
}

async fn department_list(ctx: RequestCtx, Query(q): Query<ListQuery>) -> PageResult {
    let p = ctx.user()?;
    let all = p.scope(perm::WORKFLOW_ACT) == Some(DataScope::All);
    let dept = if all { None } else { Some(p.department_code.clone().unwrap_or_else(|| "-".into())) };
    let status = q.status.clone().unwrap_or_default();
    let query = q.q.clone().unwrap_or_default();
    let f =
        svc::AppFilter { department: dept, status: Some(status.clone()), q: Some(query.clone()), ..Default::default() };
    let rows = svc::list(&ctx.state.db, &f, 500).await?;
    render(ListPage {
        layout: Layout::new(&ctx, &ctx.state.config().city.name, "一键申报办件", "/services/applications"),
        title: if all { "一键申报办件（全市）".into() } else { "一键申报办件（本部门）".into() },
        rows: lines(&ctx, rows),
        staff: true,
        status,
        q: query,
    })
}

// ---------------------------------------------------------------- the application page

/// A one-time notice: when, by whom, and (material, what to correct).
type NoticeView = (String, String, Vec<(String, String)>, usize);

pub(crate) struct XView {
    pub x: XRequest,
    /// Whom it concerns, as shown: a USCC in full, an ID number masked.
    pub subject: String,
    /// The item applied for, by name.
    pub item: String,
    pub to: String,
    pub due: String,
    pub overdue: bool,
    pub asked: String,
    pub answered: String,
}

#[derive(Template)]
#[template(path = "services/application.html")]
struct AppPage {
    layout: Layout,
    app: SvcApp,
    item: Item,
    dept: String,
    status: &'static str,
    materials: Vec<MaterialView>,
    uploads: Vec<(String, String, i64, String)>,
    check: Option<(String, String, Vec<CheckRow>)>,
    holder_licenses: Vec<License>,
    notices: Vec<NoticeView>,
    records: Vec<(String, String, String)>,
    xrequests: Vec<XView>,
    departments: Vec<(String, String)>,
    reasons: Vec<(String, String)>,
    is_reviewer: bool,
    is_applicant: bool,
    correcting: bool,
    running: bool,
    /// 容缺受理: (material id, name, due, commitment, supplied) of each tolerated material.
    tolerances: Vec<(String, String, String, String, bool)>,
    /// Every step approved; the decision waits for a tolerated material.
    awaiting_supply: bool,
    /// Deferrable materials of the item (never core ones).
    deferrable: Vec<(String, String)>,
    /// The open task's excluded procedure (行政许可法 art. 45), if one is under way.
    excluded: Option<String>,
    /// The limit may still be extended (art. 42, once).
    may_extend: bool,
    exclusion_kinds: &'static [domain::workflow::ExclusionKind],
    /// A refusal: its reasons and the rights of review (行政许可法 art. 38 ¶2).
    refusal: Option<String>,
    archive: Option<(String, String)>,
    result_name: String,
    /// The item's current catalog version (the application keeps its own).
    current_version: u32,
    errors: FormErrors,
}

async fn application(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let (app, reviewer) = super::service::application(&ctx, &id).await?;
    show(&ctx, app, reviewer, FormErrors::default()).await
}

pub(crate) async fn show(ctx: &RequestCtx, app: SvcApp, reviewer: bool, errors: FormErrors) -> PageResult {
    let state = &ctx.state;
    let cfg = &state.config();
    let p = ctx.user()?;
    let item = store::services::item_of_app(cfg, &app)?.clone();
    let wf = store::workflow::get(&state.db, cfg, &app.id).await?;
    let mut lics = BTreeMap::new();
    let mut conn = state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let mut archives = BTreeMap::new();
    for (m, n) in &app.licenses {
        // Beside license numbers, e-archive materials hold the archived application's id.
        if item.material(m).is_some_and(|m| m.kind == MaterialKind::Archive) {
            archives.insert(m.clone(), svc::archive_by_application(&mut conn, n).await?);
        } else {
            lics.insert(m.clone(), store::services::licenses::get(&mut conn, n).await?);
        }
    }
    let signed = svc::signatures::of_application(&mut conn, &app.id).await?;
    let signer = svc::signatures::key_of(&mut conn, item.subject, &app.subject).await?;
    drop(conn);
    let from: BTreeMap<String, String> = app
        .sources
        .iter()
        .map(|(k, i)| (k.clone(), cfg.services.interface(i).map(|i| i.name.clone()).unwrap_or_default()))
        .collect();
    let mut materials = material_views(cfg, &item, &app.form, &from, &lics, &archives);
    for m in &mut materials {
        // `signed` is newest round first per material.
        if let Some(sig) = signed.iter().find(|s| s.material == m.id) {
            m.signature = Some((
                signer.as_ref().map(|k| k.image.clone()).unwrap_or_default(),
                sig.signer_name.clone(),
                crate::layout::fmt_millis(&Some(sig.signed_at)),
                sig.digest.clone(),
            ));
        }
    }
    let target = |t: &str| item.material(t).map(|m| m.name.clone()).unwrap_or(t.to_string());
    let notices = wf
        .instance
        .notices
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                crate::layout::fmt_time(n.at),
                crate::pages::workflow::late_mark(n),
                n.items.iter().map(|d| (target(&d.target), d.note.clone())).collect(),
                i + 1,
            )
        })
        .collect();
    let records = wf
        .instance
        .records
        .iter()
        .map(|r| {
            (
                crate::layout::fmt_time(r.at),
                r.by.clone(),
                format!(
                    "{}{}",
                    crate::pages::workflow::action_label(&r.action),
                    if r.text.trim().is_empty() { String::new() } else { format!("：{}", r.text.trim()) }
                ),
            )
        })
        .collect();
    let now_ms = domain::clock::to_millis(state.clock.now());
    let xrequests = svc::xrequests::of_application(&state.db, &app.id)
        .await?
        .into_iter()
        .map(|x| XView {
            subject: String::new(),
            item: String::new(),
            to: dept_name(ctx, &x.to_dept),
            due: crate::layout::fmt_deadline(&Some(x.due_at)),
            overdue: x.answered_at.is_none_or(|a| a > x.due_at) && now_ms > x.due_at,
            asked: fmt_millis(&Some(x.asked_at)),
            answered: fmt_millis(&x.answered_at),
            x,
        })
        .collect();
    let check = svc::last_check(&state.db, &app.id).await?.map(|(at, by, rows)| (fmt_millis(&Some(at)), by, rows));
    let holder_licenses =
        if reviewer { store::services::licenses::of_holder(&state.db, &app.subject).await? } else { vec![] };
    let archive = svc::archived(&state.db, &app.id).await?.map(|(at, d, _)| (fmt_millis(&Some(at)), d));
    let departments = cfg
        .departments
        .iter()
        .filter(|d| d.code != app.department)
        .map(|d| (d.code.clone(), d.short_name.clone()))
        .collect();
    let reasons = cfg.reasons.iter().map(|r| (r.code.clone(), r.text.clone())).collect();
    let status = wf.instance.status;
    let bad = !errors.is_empty();
    let inst = &wf.instance;
    let tolerances = inst
        .tolerances
        .iter()
        .map(|t| {
            let name = item.material(&t.material).map(|m| m.name.clone()).unwrap_or_else(|| t.material.clone());
            (t.material.clone(), name, t.due.to_string(), t.commitment.clone(), t.fulfilled_at.is_some())
        })
        .collect();
    let open = inst.open_tasks().next();
    let excluded = open
        .and_then(|t| t.excluded.as_ref())
        .map(|e| format!("{}（约 {} 个工作日）：{}", e.kind.label(), e.days, e.note));
    let may_extend = open.is_some_and(|t| t.clock.sla.unit == domain::workflow::SlaUnit::WorkingDays)
        && inst.tasks.iter().all(|t| t.extended == 0);
    let deferrable = item.materials.iter().filter(|m| m.deferrable).map(|m| (m.id.clone(), m.name.clone())).collect();
    let awaiting_supply = inst.awaiting_supply;
    let mut r = render(AppPage {
        layout: Layout::new(
            ctx,
            &cfg.city.name,
            &item.name,
            if reviewer { "/services/applications" } else { "/services/mine" },
        ),
        dept: dept_name(ctx, &item.department),
        status: applicant_label(status),
        uploads: svc::uploads_of(&state.db, &app.id).await?,
        is_applicant: p.user_id == app.applicant_id,
        correcting: status == Status::Correcting,
        running: status == Status::Running && !awaiting_supply,
        tolerances,
        awaiting_supply,
        deferrable,
        excluded,
        may_extend,
        exclusion_kinds: &domain::workflow::ExclusionKind::ALL,
        refusal: (status == Status::Rejected).then(|| {
            format!(
                "理由：{}。{}",
                wf.instance.outcome_reason.as_deref().unwrap_or("见办理记录"),
                domain::workflow::RIGHTS
            )
        }),
        materials,
        check,
        holder_licenses,
        notices,
        records,
        xrequests,
        departments,
        reasons,
        is_reviewer: reviewer,
        archive,
        result_name: item.result_name(&cfg.services).to_string(),
        current_version: cfg.services.item(&app.item).map(|i| i.version).unwrap_or(app.item_version),
        errors,
        item,
        app,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}
