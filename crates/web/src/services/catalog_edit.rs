//! 编辑事项: an administrator changes a service item's name, type, time limits, result and
//! materials (with their form and data fields) on the web. The edit is checked like the
//! configuration files (`CityConfig::with_item`), saved as the item's next version with a note
//! (`store::services::catalog`, audited) and swapped into the running configuration; new
//! applications follow it, applications already made keep their version. Any earlier version
//! can be restored the same way, and an item can be copied into a new one (新增事项).

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::form::FormData;
use crate::layout::{FormErrors, Layout, fmt_millis};
use crate::pages::render;
use askama::Template;
use axum::extract::Path;
use axum::routing::{get, post};
use domain::auth::perm;
use store::config::CityConfig;
use store::config::services::{FieldType, FormField, Item, ItemMaterial, ItemProblem, MaterialKind};

pub fn routes() -> Routes {
    Routes::default()
        .add("/admin/services/{code}/edit", Access::Perm(perm::ADMIN_SERVICES), get(edit).post(save))
        .add("/admin/services/{code}/restore", Access::Perm(perm::ADMIN_SERVICES), post(restore))
        .add("/admin/services/{code}/copy", Access::Perm(perm::ADMIN_SERVICES), get(copy_form).post(copy))
}

/// The 事项类型 offered (the catalog's own value is kept when it is not among them).
const ITEM_TYPES: [&str; 8] =
    ["行政许可", "行政确认", "行政给付", "行政裁决", "行政奖励", "行政征收", "其他行政权力", "公共服务"];

/// The document result, as opposed to a license type code.
const DOCUMENT: &str = "_document";

pub struct Opt {
    value: String,
    label: String,
    selected: bool,
}

fn opts(list: impl IntoIterator<Item = (String, String)>, current: &str) -> Vec<Opt> {
    list.into_iter().map(|(value, label)| Opt { selected: value == current, value, label }).collect()
}

/// A field row of the form, as typed.
#[derive(Default, Clone)]
struct FieldRow {
    key: String,
    label: String,
    ty: String,
    source: String,
    options: String,
    required: bool,
    remove: bool,
}

/// A material row of the form, as typed; `id` is empty for a row added on this page.
#[derive(Default, Clone)]
struct MatRow {
    id: String,
    name: String,
    kind: String,
    license: String,
    archive: String,
    remove: bool,
    fields: Vec<FieldRow>,
}

#[derive(Default, Clone)]
struct ItemForm {
    name: String,
    kind: String,
    legal_days: String,
    promised_days: String,
    result: String,
    result_document: String,
    note: String,
    materials: Vec<MatRow>,
}

impl ItemForm {
    fn of(item: &Item) -> Self {
        ItemForm {
            name: item.name.clone(),
            kind: item.kind.clone(),
            legal_days: item.legal_days.to_string(),
            promised_days: item.promised_days.to_string(),
            result: item.result_license.clone().unwrap_or_else(|| DOCUMENT.into()),
            result_document: item.result_document.clone().unwrap_or_default(),
            note: String::new(),
            materials: item
                .materials
                .iter()
                .map(|m| MatRow {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    kind: m.kind.code().into(),
                    license: m.license.clone().unwrap_or_default(),
                    archive: m.archive_item.clone().unwrap_or_default(),
                    remove: false,
                    fields: m
                        .fields
                        .iter()
                        .map(|f| FieldRow {
                            key: f.key.clone(),
                            label: f.label.clone(),
                            ty: f.ty.code().into(),
                            source: f.source.clone().unwrap_or_default(),
                            options: f.options.join("、"),
                            required: f.required,
                            remove: false,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn parse(f: &FormData) -> Self {
        let count = |name: &str| f.get(name).parse::<usize>().unwrap_or(0).min(200);
        let materials = (0..count("materials"))
            .map(|i| {
                let p = |x: &str| format!("m{i}.{x}");
                MatRow {
                    id: f.get(&p("id")),
                    name: f.get(&p("name")),
                    kind: f.get(&p("kind")),
                    license: f.get(&p("license")),
                    archive: f.get(&p("archive")),
                    remove: f.checked(&p("remove")),
                    fields: (0..count(&p("fields")))
                        .map(|j| {
                            let q = |x: &str| format!("m{i}.f{j}.{x}");
                            FieldRow {
                                key: f.get(&q("key")),
                                label: f.get(&q("label")),
                                ty: f.get(&q("type")),
                                source: f.get(&q("source")),
                                options: f.get(&q("options")),
                                required: f.checked(&q("required")),
                                remove: f.checked(&q("remove")),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        ItemForm {
            name: f.get("name"),
            kind: f.get("type"),
            legal_days: f.get("legal_days"),
            promised_days: f.get("promised_days"),
            result: f.get("result"),
            result_document: f.get("result_document"),
            note: f.get("note"),
            materials,
        }
    }

    /// Adds an empty material and an empty field to every material, for typing new ones.
    fn with_blanks(mut self) -> Self {
        for m in &mut self.materials {
            m.fields.push(FieldRow { required: true, ..Default::default() });
        }
        self.materials.push(MatRow {
            kind: MaterialKind::Form.code().into(),
            fields: vec![FieldRow { required: true, ..Default::default() }; 2],
            ..Default::default()
        });
        self
    }
}

fn blank_field(f: &FieldRow) -> bool {
    f.key.is_empty() && f.label.is_empty() && f.source.is_empty() && f.options.is_empty()
}

fn blank_material(m: &MatRow) -> bool {
    m.id.is_empty() && m.name.is_empty() && m.fields.iter().all(blank_field)
}

/// Where each kept material and field of the item came from in the form, to put a problem
/// beside the right input.
#[derive(Default)]
struct Positions(Vec<(usize, Vec<usize>)>);

impl Positions {
    fn name(&self, p: &ItemProblem) -> String {
        match p.material.and_then(|m| self.0.get(m)) {
            None => match p.attr {
                "material" => "materials".into(),
                "department" | "code" => "name".into(),
                a => a.into(),
            },
            Some((mi, fields)) => match p.field.and_then(|f| fields.get(f)) {
                Some(fi) => format!("m{mi}.f{fi}.{}", p.attr),
                None => {
                    let attr = match p.attr {
                        "id" => "name",
                        // Not `fields`: names under `m{i}.f` belong to field rows.
                        "fields" => "rows",
                        a => a,
                    };
                    format!("m{mi}.{attr}")
                }
            },
        }
    }
}

/// The refusal rule the current item has on this field, if any.
fn kept_rule(current: &Item, material: &str, key: &str) -> (Vec<String>, Option<String>) {
    current
        .material(material)
        .and_then(|m| m.fields.iter().find(|f| f.key == key))
        .map(|f| (f.refuse.clone(), f.refuse_note.clone()))
        .unwrap_or_default()
}

/// The item the form describes (version `version`), or what is wrong with what was typed.
fn build(form: &ItemForm, current: &Item, taken: &[String], version: u32) -> (Item, Positions, FormErrors) {
    let mut errors = FormErrors::default();
    let days = |v: &str, name: &str, errors: &mut FormErrors| match v.parse::<u32>() {
        Ok(d) if (1..=365).contains(&d) => d,
        _ => {
            errors.add(name, "请填写 1 至 365 之间的工作日数");
            0
        }
    };
    let legal_days = days(&form.legal_days, "legal_days", &mut errors);
    let promised_days = days(&form.promised_days, "promised_days", &mut errors);
    let (result_license, result_document) = if form.result == DOCUMENT {
        (None, Some(form.result_document.clone()))
    } else {
        (Some(form.result.clone()), None)
    };
    let mut positions = Positions::default();
    let mut materials = vec![];
    let mut new_ids: Vec<String> = vec![];
    for (mi, m) in form.materials.iter().enumerate() {
        if m.remove || blank_material(m) {
            continue;
        }
        let Some(kind) = MaterialKind::from_code(&m.kind) else {
            errors.add(&format!("m{mi}.kind"), "请选择材料类别");
            continue;
        };
        let id = if m.id.is_empty() {
            // A new material gets an id no version of the item has used, so the history never
            // confuses it with a removed one.
            let id = (1..)
                .map(|n| format!("m{n}"))
                .find(|c| !taken.contains(c) && !new_ids.contains(c))
                .expect("an unused id");
            new_ids.push(id.clone());
            id
        } else {
            m.id.clone()
        };
        let mut kept = vec![];
        let mut fields = vec![];
        for (fi, f) in m.fields.iter().enumerate() {
            if f.remove || blank_field(f) {
                continue;
            }
            let Some(ty) = FieldType::from_code(&f.ty) else {
                errors.add(&format!("m{mi}.f{fi}.type"), "请选择字段类型");
                continue;
            };
            kept.push(fi);
            fields.push(FormField {
                key: f.key.clone(),
                label: f.label.clone(),
                ty,
                source: (!f.source.is_empty()).then(|| f.source.clone()),
                options: f
                    .options
                    .split(['、', ',', '，', ';', '；', '\n'])
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(str::to_string)
                    .collect(),
                required: f.required,
                // The form does not edit refusal rules (legal bases): an edit keeps them.
                refuse: kept_rule(current, &id, &f.key).0,
                refuse_note: kept_rule(current, &id, &f.key).1,
                days_since: current
                    .material(&id)
                    .and_then(|m| m.fields.iter().find(|x| x.key == f.key))
                    .and_then(|x| x.days_since),
            });
        }
        positions.0.push((mi, kept));
        materials.push(ItemMaterial {
            name: m.name.clone(),
            kind,
            fields,
            license: (kind == MaterialKind::License && !m.license.is_empty()).then(|| m.license.clone()),
            archive_item: (kind == MaterialKind::Archive && !m.archive.is_empty()).then(|| m.archive.clone()),
            // Like refusal rules, whether a material may be deferred (容缺) is set in the
            // configuration files; an edit keeps it.
            deferrable: current.material(&id).is_some_and(|c| c.deferrable),
            id,
        });
    }
    let item = Item {
        version,
        code: current.code.clone(),
        name: form.name.clone(),
        department: current.department.clone(),
        kind: form.kind.clone(),
        subject: current.subject,
        legal_days,
        promised_days,
        legal_basis: current.legal_basis.clone(),
        result_license,
        result_document,
        // 免申即享 is set in the configuration files; an edit keeps it.
        proactive: current.proactive,
        materials,
    };
    (item, positions, errors)
}

/// Every material id any version of the item has used.
fn taken_ids(cfg: &CityConfig, code: &str) -> Vec<String> {
    let s = &cfg.services;
    s.items
        .iter()
        .chain(&s.history)
        .filter(|i| i.code == code)
        .flat_map(|i| i.materials.iter().map(|m| m.id.clone()))
        .collect()
}

struct FieldView {
    /// Messages about this field row.
    errs: Vec<String>,
    key: String,
    label: String,
    types: Vec<Opt>,
    sources: Vec<Opt>,
    options: String,
    required: bool,
}

struct MatView {
    /// Messages about this material (not its fields).
    errs: Vec<String>,
    id: String,
    name: String,
    /// Form and data materials (and new ones) show their field rows.
    with_fields: bool,
    kinds: Vec<Opt>,
    licenses: Vec<Opt>,
    archives: Vec<Opt>,
    fields: Vec<FieldView>,
}

struct HistRow {
    version: u32,
    at: String,
    by: String,
    note: String,
    changes: Vec<String>,
    current: bool,
}

#[derive(Template)]
#[template(path = "admin/service_edit.html")]
struct Page {
    layout: Layout,
    errors: FormErrors,
    code: String,
    dept: String,
    subject: &'static str,
    version: u32,
    /// Where version 1 came from: 配置文件 or 网页新增.
    origin: &'static str,
    one_click: bool,
    suspended: Option<String>,
    name: String,
    item_types: Vec<Opt>,
    legal_days: String,
    promised_days: String,
    results: Vec<Opt>,
    result_document: String,
    note: String,
    materials: Vec<MatView>,
    history: Vec<HistRow>,
}

async fn page(ctx: &RequestCtx, code: &str, form: ItemForm, errors: FormErrors) -> PageResult {
    let cfg = ctx.state.config();
    let s = &cfg.services;
    let item = s.item(code).ok_or_else(|| AppError::NotFound(format!("事项“{code}”")))?;
    let subject = item.subject;
    let mut types: Vec<(String, String)> = ITEM_TYPES.iter().map(|t| (t.to_string(), t.to_string())).collect();
    if !ITEM_TYPES.contains(&form.kind.as_str()) && !form.kind.is_empty() {
        types.push((form.kind.clone(), form.kind.clone()));
    }
    let mut results = vec![(DOCUMENT.to_string(), "盖章文书（填写文书名称）".to_string())];
    results.extend(
        s.license_types
            .iter()
            .filter(|t| t.issuer == item.department && t.holder == subject)
            .map(|t| (t.code.clone(), format!("电子证照：{}", t.name))),
    );
    let license_list: Vec<(String, String)> = std::iter::once((String::new(), "（不适用）".to_string()))
        .chain(s.license_types.iter().filter(|t| t.holder == subject).map(|t| (t.code.clone(), t.name.clone())))
        .collect();
    let source_list: Vec<(String, String)> = std::iter::once((String::new(), "（申请人填写）".to_string()))
        .chain(s.interfaces.iter().filter(|i| i.subject == subject).flat_map(|i| {
            i.fields.iter().map(move |f| (format!("{}.{}", i.code, f.key), format!("{} · {}", i.name, f.label)))
        }))
        .collect();
    let archive_list: Vec<(String, String)> = std::iter::once((String::new(), "（不适用）".to_string()))
        .chain(
            s.items
                .iter()
                .filter(|i| i.subject == subject && i.code != item.code)
                .map(|i| (i.code.clone(), format!("{}（{}）", i.name, i.code))),
        )
        .collect();
    let kind_list = || MaterialKind::ALL.iter().map(|k| (k.code().to_string(), k.label().to_string()));
    let type_list = || FieldType::ALL.iter().map(|t| (t.code().to_string(), t.label().to_string()));
    let errs_at = |prefix: &str, except: Option<&str>| -> Vec<String> {
        errors
            .0
            .iter()
            .filter(|(k, _)| k.starts_with(prefix) && except.is_none_or(|x| !k.starts_with(x)))
            .map(|(_, m)| m.clone())
            .collect()
    };
    let materials = form
        .materials
        .iter()
        .enumerate()
        .map(|(i, m)| MatView {
            errs: errs_at(&format!("m{i}."), Some(&format!("m{i}.f"))),
            id: m.id.clone(),
            name: m.name.clone(),
            with_fields: m.id.is_empty()
                || matches!(MaterialKind::from_code(&m.kind), Some(MaterialKind::Form | MaterialKind::Data))
                || !m.fields.iter().all(blank_field),
            kinds: opts(kind_list(), &m.kind),
            licenses: opts(license_list.clone(), &m.license),
            archives: opts(archive_list.clone(), &m.archive),
            fields: m
                .fields
                .iter()
                .enumerate()
                .map(|(j, f)| FieldView {
                    errs: errs_at(&format!("m{i}.f{j}."), None),
                    key: f.key.clone(),
                    label: f.label.clone(),
                    types: opts(type_list(), if f.ty.is_empty() { "text" } else { &f.ty }),
                    sources: opts(source_list.clone(), &f.source),
                    options: f.options.clone(),
                    required: f.required,
                })
                .collect(),
        })
        .collect();
    let mut history: Vec<HistRow> = store::services::catalog::versions(&ctx.state.db, code)
        .await?
        .into_iter()
        .map(|v| HistRow {
            current: v.version == item.version,
            version: v.version,
            at: fmt_millis(&Some(v.edited_at)),
            by: v.edited_by_name,
            note: v.note,
            changes: v.changes,
        })
        .collect();
    if !history.is_empty() && !history.iter().any(|h| h.version == 1) {
        history.push(HistRow {
            version: 1,
            at: String::new(),
            by: "配置文件".into(),
            note: format!("config/services/items/ 中的定义（{}）", cfg.source),
            changes: vec![],
            current: false,
        });
    }
    let made_here = history.iter().any(|h| h.version == 1 && h.by != "配置文件");
    let bad = !errors.is_empty();
    let mut r = render(Page {
        layout: Layout::new(ctx, &cfg.city.name, &format!("编辑事项：{}", item.name), "/admin/services"),
        errors,
        code: item.code.clone(),
        dept: crate::pages::workflow::dept_name(ctx, &item.department),
        subject: subject.label(),
        version: item.version,
        origin: if made_here { "网页新增" } else { "配置文件" },
        one_click: item.one_click(),
        suspended: super::state(&ctx.state).suspended(code),
        name: form.name,
        item_types: opts(types, &form.kind),
        legal_days: form.legal_days,
        promised_days: form.promised_days,
        results: opts(results, &form.result),
        result_document: form.result_document,
        note: form.note,
        materials,
        history,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn edit(ctx: RequestCtx, Path(code): Path<String>) -> PageResult {
    let cfg = ctx.state.config();
    let item = cfg.services.item(&code).ok_or_else(|| AppError::NotFound(format!("事项“{code}”")))?;
    let form = ItemForm::of(item).with_blanks();
    page(&ctx, &code, form, FormErrors::default()).await
}

/// Saves the form as the next version, or shows it again with what is wrong (or with more
/// empty rows when 增加空行 was pressed).
async fn save(ctx: RequestCtx, Path(code): Path<String>, f: FormData) -> PageResult {
    let form = ItemForm::parse(&f);
    if f.get("action") == "more" {
        return page(&ctx, &code, form.with_blanks(), FormErrors::default()).await;
    }
    let svc = super::state(&ctx.state);
    let _edit = svc.catalog_edit.lock().await;
    let cfg = ctx.state.config();
    let current = cfg.services.item(&code).ok_or_else(|| AppError::NotFound(format!("事项“{code}”")))?;
    let (item, positions, mut errors) = build(&form, current, &taken_ids(&cfg, &code), current.version + 1);
    if !errors.is_empty() {
        // Everything wrong at once: what the checker finds too, except where the typing
        // already failed (a day count that is not a number reads as 0).
        for p in cfg.item_problems(&item) {
            let name = positions.name(&p);
            if !errors.has(&name) {
                errors.add(&name, p.message);
            }
        }
        return page(&ctx, &code, form, errors).await;
    }
    match commit(&ctx, &cfg, item, &form.note, |p| positions.name(p)).await? {
        Ok(msg) => Ok(redirect_with_flash(&format!("/admin/services/{code}/edit"), &msg, ctx.state.secure_cookies)),
        Err(errors) => page(&ctx, &code, form, errors).await,
    }
}

/// Checks `item` against the configuration, saves it and swaps the new configuration in: the
/// flash message, or the problems by form field.
async fn commit(
    ctx: &RequestCtx,
    cfg: &CityConfig,
    item: Item,
    note: &str,
    field_of: impl Fn(&ItemProblem) -> String,
) -> Result<Result<String, FormErrors>, AppError> {
    let p = ctx.user()?;
    let mut errors = FormErrors::default();
    let next = match cfg.with_item(item.clone()) {
        Ok(next) => next,
        Err(problems) => {
            for pr in &problems {
                errors.add(&field_of(pr), pr.message.clone());
            }
            return Ok(Err(errors));
        }
    };
    let state = &ctx.state;
    let mut tx = state.db.begin().await?;
    match store::services::catalog::save(&mut tx, state.clock.now(), cfg, &item, note, (&p.user_id, &p.display_name))
        .await
    {
        Ok(changes) => {
            tx.commit().await?;
            state.set_config(next);
            state.announce(store::changes::Change::Config).await;
            Ok(Ok(format!(
                "已保存为第 {} 版（{}），新的申请按此办理；已受理的申请仍按原版本办理。",
                item.version,
                changes.join("；")
            )))
        }
        Err(store::StoreError::Invalid { field, message } | store::StoreError::Conflict { field, message }) => {
            errors.add(&field, message);
            Ok(Err(errors))
        }
        Err(e) => Err(e.into()),
    }
}

/// Makes an earlier version (1 = the configuration file) current again, as a new version.
async fn restore(ctx: RequestCtx, Path(code): Path<String>, f: FormData) -> PageResult {
    let svc = super::state(&ctx.state);
    let _edit = svc.catalog_edit.lock().await;
    let cfg = ctx.state.config();
    let current = cfg.services.item(&code).ok_or_else(|| AppError::NotFound(format!("事项“{code}”")))?;
    let version: u32 = f.get("version").parse().map_err(|_| AppError::invalid("version", "版本号无效"))?;
    let Some(old) = cfg.services.history.iter().find(|i| i.code == code && i.version == version) else {
        return Err(AppError::NotFound(format!("事项“{code}”的第 {version} 版")).into());
    };
    let mut item = old.clone();
    item.version = current.version + 1;
    let note = format!("恢复为第 {version} 版");
    match commit(&ctx, &cfg, item, &note, |_| "note".into()).await? {
        Ok(msg) => Ok(redirect_with_flash(&format!("/admin/services/{code}/edit"), &msg, ctx.state.secure_cookies)),
        Err(errors) => {
            let form = ItemForm::of(current).with_blanks();
            page(&ctx, &code, form, errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin/service_copy.html")]
struct CopyPage {
    layout: Layout,
    errors: FormErrors,
    from_code: String,
    from_name: String,
    code: String,
    name: String,
    departments: Vec<Opt>,
    result_document: String,
    note: String,
}

async fn copy_page(ctx: &RequestCtx, from: &str, f: Option<&FormData>, errors: FormErrors) -> PageResult {
    let cfg = ctx.state.config();
    let item = cfg.services.item(from).ok_or_else(|| AppError::NotFound(format!("事项“{from}”")))?;
    let get = |k: &str, default: String| f.map(|f| f.get(k)).unwrap_or(default);
    let dept = get("department", item.department.clone());
    let bad = !errors.is_empty();
    let mut r = render(CopyPage {
        layout: Layout::new(ctx, &cfg.city.name, &format!("复制为新事项：{}", item.name), "/admin/services"),
        errors,
        from_code: item.code.clone(),
        from_name: item.name.clone(),
        code: get("code", String::new()),
        name: get("name", item.name.clone()),
        departments: opts(cfg.departments.iter().map(|d| (d.code.clone(), d.name.clone())), &dept),
        result_document: get("result_document", String::new()),
        note: get("note", String::new()),
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn copy_form(ctx: RequestCtx, Path(code): Path<String>) -> PageResult {
    copy_page(&ctx, &code, None, FormErrors::default()).await
}

/// 新增事项 by copying one: a new code, name and department; the materials, time limits and
/// result come along (a sealed document instead, when named) and are edited afterwards.
async fn copy(ctx: RequestCtx, Path(from): Path<String>, f: FormData) -> PageResult {
    let svc = super::state(&ctx.state);
    let _edit = svc.catalog_edit.lock().await;
    let cfg = ctx.state.config();
    let source = cfg.services.item(&from).ok_or_else(|| AppError::NotFound(format!("事项“{from}”")))?;
    let mut item = source.clone();
    item.version = 1;
    item.code = f.get("code");
    item.name = f.get("name");
    item.department = f.get("department");
    let doc = f.get("result_document");
    if !doc.is_empty() {
        (item.result_license, item.result_document) = (None, Some(doc));
    }
    let mut errors = FormErrors::default();
    let next = cfg.with_new_item(item.clone()).map_err(|problems| {
        for p in problems {
            let field = match p.attr {
                "code" | "name" | "department" | "result" => p.attr,
                // Materials come from the source; what fails there is named in the message.
                _ => "result",
            };
            errors.add(field, p.message);
        }
    });
    if f.get("note").is_empty() {
        errors.add("note", "请填写新增说明（依据或原因），它记入版本历史和审计日志");
    }
    let Ok(next) = next.and_then(|n| if errors.is_empty() { Ok(n) } else { Err(()) }) else {
        return copy_page(&ctx, &from, Some(&f), errors).await;
    };
    let p = ctx.user()?;
    let state = &ctx.state;
    let note = format!("复制自 {}（{}）：{}", source.name, source.code, f.get("note"));
    let mut tx = state.db.begin().await?;
    match store::services::catalog::create(&mut tx, state.clock.now(), &item, &note, (&p.user_id, &p.display_name))
        .await
    {
        Ok(()) => {
            tx.commit().await?;
            state.set_config(next);
            state.announce(store::changes::Change::Config).await;
            Ok(redirect_with_flash(
                &format!("/admin/services/{}/edit", item.code),
                &format!("已新增事项“{}”（{}），可继续调整材料和时限。", item.name, item.code),
                state.secure_cookies,
            ))
        }
        Err(store::StoreError::Invalid { field, message } | store::StoreError::Conflict { field, message }) => {
            drop(tx);
            errors.add(&field, message);
            copy_page(&ctx, &from, Some(&f), errors).await
        }
        Err(e) => Err(e.into()),
    }
}
