//! 角色管理: permissions and data scope of each role.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::PageResult;
use crate::form::FormData;
use crate::layout::{FormErrors, Layout};
use crate::pages::render;
use askama::Template;
use axum::extract::Path;
use axum::routing::get;
use domain::auth::{PERMISSIONS, PermissionDef, ScopeKind, perm};
use store::auth::{Role, RoleInput};

pub fn routes() -> Routes {
    let p = Access::Perm(perm::ADMIN_ROLES);
    Routes::default().add("/admin/roles", p, get(list).post(create)).add("/admin/roles/new", p, get(new_form)).add(
        "/admin/roles/{id}",
        p,
        get(edit_form).post(update),
    )
}

pub struct PermGroup {
    pub name: &'static str,
    pub perms: Vec<&'static PermissionDef>,
}

fn groups() -> Vec<PermGroup> {
    let mut out: Vec<PermGroup> = vec![];
    for p in PERMISSIONS {
        match out.iter_mut().find(|g| g.name == p.group) {
            Some(g) => g.perms.push(p),
            None => out.push(PermGroup { name: p.group, perms: vec![p] }),
        }
    }
    out
}

pub fn perm_name(code: &str) -> String {
    domain::auth::permission(code).map(|p| p.name.to_string()).unwrap_or_else(|| code.to_string())
}

#[derive(Template)]
#[template(path = "admin/roles.html")]
struct ListPage {
    layout: Layout,
    roles: Vec<Role>,
}

async fn list(ctx: RequestCtx) -> PageResult {
    render(ListPage {
        layout: Layout::new(&ctx, &ctx.state.config().city.name, "角色管理", "/admin/roles"),
        roles: store::auth::list_roles(&ctx.state.db).await?,
    })
}

#[derive(Default, Clone)]
pub struct RoleForm {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub scope: String,
    pub permissions: Vec<String>,
}

impl RoleForm {
    pub fn has(&self, p: &str) -> bool {
        self.permissions.iter().any(|x| x == p)
    }
}

#[derive(Template)]
#[template(path = "admin/role_form.html")]
struct FormPage {
    layout: Layout,
    form: RoleForm,
    errors: FormErrors,
    groups: Vec<PermGroup>,
    scopes: [ScopeKind; 5],
    editing: bool,
}

fn show(ctx: &RequestCtx, form: RoleForm, errors: FormErrors) -> PageResult {
    let editing = !form.id.is_empty();
    let title = if editing { format!("编辑角色：{}", form.name) } else { "新建角色".to_string() };
    let bad = !errors.is_empty();
    let mut r = render(FormPage {
        layout: Layout::new(ctx, &ctx.state.config().city.name, &title, "/admin/roles"),
        form,
        errors,
        groups: groups(),
        scopes: ScopeKind::ALL,
        editing,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn new_form(ctx: RequestCtx) -> PageResult {
    show(&ctx, RoleForm { scope: "own".into(), ..Default::default() }, FormErrors::default())
}

async fn edit_form(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let r = store::auth::get_role(&ctx.state.db, &id).await?;
    show(
        &ctx,
        RoleForm {
            id: r.id,
            code: r.code,
            name: r.name,
            description: r.description,
            scope: r.scope.as_str().into(),
            permissions: r.permissions,
        },
        FormErrors::default(),
    )
}

fn read(data: &FormData, id: String, code: String) -> (RoleForm, FormErrors, Option<RoleInput>) {
    let f = RoleForm {
        id,
        code,
        name: data.get("name"),
        description: data.get("description"),
        scope: data.get("scope"),
        permissions: data.all("permissions"),
    };
    let mut errors = FormErrors::default();
    if f.code.is_empty()
        || !f.code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        || f.code.len() > 32
    {
        errors.add("code", "角色代码为1–32位小写字母、数字或下划线");
    }
    if f.name.is_empty() {
        errors.add("name", "请填写角色名称");
    }
    let scope = ScopeKind::parse(&f.scope);
    if scope.is_none() {
        errors.add("scope", "请选择数据范围");
    }
    if let Some(bad) = f.permissions.iter().find(|p| domain::auth::permission(p).is_none()) {
        errors.add("permissions", format!("未知权限“{bad}”"));
    }
    let input = (errors.is_empty()).then(|| RoleInput {
        code: f.code.clone(),
        name: f.name.clone(),
        description: f.description.clone(),
        scope: scope.expect("checked"),
        permissions: f.permissions.clone(),
    });
    (f, errors, input)
}

async fn create(ctx: RequestCtx, data: FormData) -> PageResult {
    let state = &ctx.state;
    let (f, mut errors, input) = read(&data, String::new(), data.get("code").to_lowercase());
    let Some(input) = input else {
        return show(&ctx, f, errors);
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let id = match store::auth::create_role(&mut tx, now, &input, false).await {
        Ok(id) => id,
        Err(store::StoreError::Conflict { field, message }) => {
            errors.add(&field, message);
            return show(&ctx, f, errors);
        }
        Err(e) => return Err(e.into()),
    };
    let detail = format!(
        "新建角色 {}（{}），范围 {}，权限：{}",
        input.name,
        input.code,
        input.scope.label(),
        input.permissions.iter().map(|p| perm_name(p)).collect::<Vec<_>>().join("、")
    );
    store::audit::append(&mut tx, now, ctx.entry(domain::audit::CoreAudit::RoleCreate, "role", &id).detail(detail))
        .await?;
    tx.commit().await?;
    ctx.state.auth_cache.clear();
    ctx.state.announce(store::changes::Change::Auth).await;
    Ok(redirect_with_flash("/admin/roles", &format!("已创建角色“{}”。", input.name), state.secure_cookies))
}

async fn update(ctx: RequestCtx, Path(id): Path<String>, data: FormData) -> PageResult {
    let state = &ctx.state;
    let before = store::auth::get_role(&state.db, &id).await?;
    let (f, errors, input) = read(&data, before.id.clone(), before.code.clone());
    let Some(input) = input else {
        return show(&ctx, f, errors);
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    store::auth::update_role(&mut tx, now, &before.id, &input).await?;
    let added: Vec<String> =
        input.permissions.iter().filter(|p| !before.permissions.contains(p)).map(|p| perm_name(p)).collect();
    let removed: Vec<String> =
        before.permissions.iter().filter(|p| !input.permissions.contains(p)).map(|p| perm_name(p)).collect();
    let mut detail = vec![];
    if before.scope != input.scope {
        detail.push(format!("数据范围：{} → {}", before.scope.label(), input.scope.label()));
    }
    if !added.is_empty() {
        detail.push(format!("增加权限：{}", added.join("、")));
    }
    if !removed.is_empty() {
        detail.push(format!("移除权限：{}", removed.join("、")));
    }
    if before.name != input.name {
        detail.push(format!("名称：{} → {}", before.name, input.name));
    }
    store::audit::append(
        &mut tx,
        now,
        ctx.entry(domain::audit::CoreAudit::RoleUpdate, "role", &before.id).detail(detail.join("；")),
    )
    .await?;
    tx.commit().await?;
    ctx.state.auth_cache.clear();
    ctx.state.announce(store::changes::Change::Auth).await;
    Ok(redirect_with_flash("/admin/roles", &format!("已保存角色“{}”。", input.name), state.secure_cookies))
}
