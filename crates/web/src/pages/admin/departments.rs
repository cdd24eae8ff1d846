//! 部门管理.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::PageResult;
use crate::form::FormData;
use crate::layout::{FormErrors, Layout};
use crate::pages::render;
use askama::Template;
use axum::extract::Path;
use axum::routing::get;
use domain::auth::perm;
use store::config::DEPARTMENT_KINDS;
use store::org::{Department, DepartmentInput, Division};

pub fn routes() -> Routes {
    let p = Access::Perm(perm::ADMIN_DEPARTMENTS);
    Routes::default()
        .add("/admin/departments", p, get(list).post(create))
        .add("/admin/departments/new", p, get(new_form))
        .add("/admin/departments/{id}", p, get(edit_form).post(update))
}

pub fn kind_label(k: &str) -> &'static str {
    DEPARTMENT_KINDS.iter().find(|(c, _)| *c == k).map(|(_, l)| *l).unwrap_or("其他")
}

#[derive(Template)]
#[template(path = "admin/departments.html")]
struct ListPage {
    layout: Layout,
    items: Vec<Department>,
    divisions: Vec<Division>,
}

impl ListPage {
    fn division_name(&self, code: &str) -> String {
        self.divisions.iter().find(|d| d.code == code).map(|d| d.name.clone()).unwrap_or_else(|| code.to_string())
    }
}

async fn candidate_divisions(ctx: &RequestCtx) -> Result<Vec<Division>, crate::error::AppError> {
    let state = &ctx.state;
    let cfg = state.config();
    let city = cfg.city.division_code.as_str();
    let mut v = store::org::list_divisions(&state.db, None).await?;
    // The city and its counties: departments sit at those levels.
    v.retain(|d| (d.code == city || d.parent_code.as_deref() == Some(city)) && d.name != "市辖区");
    Ok(v)
}

async fn list(ctx: RequestCtx) -> PageResult {
    render(ListPage {
        layout: Layout::new(&ctx, &ctx.state.config().city.name, "部门管理", "/admin/departments"),
        items: store::org::list_departments(&ctx.state.db).await?,
        divisions: candidate_divisions(&ctx).await?,
    })
}

#[derive(Default, Clone)]
pub struct DeptForm {
    pub id: String,
    pub code: String,
    pub name: String,
    pub short_name: String,
    pub kind: String,
    pub division_code: String,
    pub doc_prefix: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "admin/department_form.html")]
struct FormPage {
    layout: Layout,
    form: DeptForm,
    errors: FormErrors,
    kinds: &'static [(&'static str, &'static str)],
    divisions: Vec<Division>,
}

async fn show(ctx: &RequestCtx, form: DeptForm, errors: FormErrors) -> PageResult {
    let title =
        if form.id.is_empty() { "新建部门".to_string() } else { format!("编辑部门：{}", form.short_name) };
    let bad = !errors.is_empty();
    let mut r = render(FormPage {
        layout: Layout::new(ctx, &ctx.state.config().city.name, &title, "/admin/departments"),
        form,
        errors,
        kinds: DEPARTMENT_KINDS,
        divisions: candidate_divisions(ctx).await?,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn new_form(ctx: RequestCtx) -> PageResult {
    let city = ctx.state.config().city.division_code.to_string();
    show(
        &ctx,
        DeptForm { kind: "bureau".into(), division_code: city, active: true, ..Default::default() },
        FormErrors::default(),
    )
    .await
}

async fn edit_form(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let d = store::org::get_department(&ctx.state.db, &id).await?;
    let f = DeptForm {
        id: d.id,
        code: d.code,
        name: d.name,
        short_name: d.short_name,
        doc_prefix: d.doc_prefix,
        kind: d.kind,
        division_code: d.division_code,
        active: d.active != 0,
    };
    show(&ctx, f, FormErrors::default()).await
}

fn read(ctx: &RequestCtx, data: &FormData, id: String) -> (DeptForm, FormErrors, Option<DepartmentInput>) {
    let f = DeptForm {
        id,
        code: data.get("code").to_lowercase(),
        name: data.get("name"),
        short_name: data.get("short_name"),
        doc_prefix: data.get("doc_prefix"),
        kind: data.get("kind"),
        division_code: data.get("division_code"),
        active: data.checked("active"),
    };
    let mut errors = FormErrors::default();
    if f.code.is_empty()
        || f.code.len() > 32
        || !f.code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        errors.add("code", "部门代码为1–32位小写字母、数字或下划线");
    }
    if f.name.is_empty() {
        errors.add("name", "请填写部门全称");
    }
    if f.short_name.is_empty() {
        errors.add("short_name", "请填写部门简称");
    }
    if f.doc_prefix.chars().count() > 12 || f.doc_prefix.chars().any(|c| c.is_ascii_punctuation() || c.is_whitespace())
    {
        errors.add("doc_prefix", "发文机关代字不超过12个字，不含标点和空格，如“亳人社”");
    }
    if !DEPARTMENT_KINDS.iter().any(|(k, _)| *k == f.kind) {
        errors.add("kind", "请选择部门类型");
    }
    let division = match ctx.state.config().divisions.lookup(&f.division_code) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.add("division_code", e.to_string());
            None
        }
    };
    let input = division.filter(|_| errors.is_empty()).map(|division_code| DepartmentInput {
        code: f.code.clone(),
        name: f.name.clone(),
        short_name: f.short_name.clone(),
        kind: f.kind.clone(),
        division_code,
        active: f.active,
        doc_prefix: f.doc_prefix.clone(),
    });
    (f, errors, input)
}

async fn create(ctx: RequestCtx, data: FormData) -> PageResult {
    let state = &ctx.state;
    let (f, mut errors, input) = read(&ctx, &data, String::new());
    let Some(input) = input else {
        return show(&ctx, f, errors).await;
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let id = match store::org::create_department(&mut tx, now, &input).await {
        Ok(id) => id,
        Err(store::StoreError::Conflict { field, message }) => {
            drop(tx);
            errors.add(&field, message);
            return show(&ctx, f, errors).await;
        }
        Err(e) => return Err(e.into()),
    };
    store::audit::append(
        &mut tx,
        now,
        ctx.entry(domain::audit::CoreAudit::DepartmentCreate, "department", &id)
            .detail(format!("{}（{}）", input.name, input.code)),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash("/admin/departments", &format!("已创建部门“{}”。", input.short_name), state.secure_cookies))
}

async fn update(ctx: RequestCtx, Path(id): Path<String>, data: FormData) -> PageResult {
    let state = &ctx.state;
    let before = store::org::get_department(&state.db, &id).await?;
    let (f, mut errors, input) = read(&ctx, &data, before.id.clone());
    let Some(input) = input else {
        return show(&ctx, f, errors).await;
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    if let Err(e) = store::org::update_department(&mut tx, now, &before.id, &input).await {
        return match e {
            store::StoreError::Conflict { field, message } => {
                drop(tx);
                errors.add(&field, message);
                show(&ctx, f, errors).await
            }
            e => Err(e.into()),
        };
    }
    let mut changes = vec![];
    for (label, a, b) in [
        ("代码", before.code.as_str(), input.code.as_str()),
        ("全称", &before.name, &input.name),
        ("简称", &before.short_name, &input.short_name),
        ("发文机关代字", &before.doc_prefix, &input.doc_prefix),
        ("类型", &before.kind, &input.kind),
        ("区划", &before.division_code, input.division_code.as_str()),
    ] {
        if a != b {
            changes.push(format!("{label}：{a} → {b}"));
        }
    }
    if (before.active != 0) != input.active {
        changes.push(if input.active { "启用".into() } else { "停用".into() });
    }
    store::audit::append(
        &mut tx,
        now,
        ctx.entry(domain::audit::CoreAudit::DepartmentUpdate, "department", &before.id).detail(changes.join("；")),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash("/admin/departments", &format!("已保存部门“{}”。", input.short_name), state.secure_cookies))
}
