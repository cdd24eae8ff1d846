//! 用户管理: accounts of staff, enterprises, citizens and systems.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::export::{Cell, ExportFormat, Table};
use crate::form::FormData;
use crate::layout::{FormErrors, Layout, Pager, fmt_millis};
use crate::pages::{opt, render};
use askama::Template;
use axum::extract::{Path, Query};
use axum::routing::{get, post};
use domain::auth::{AccountStatus, UserKind, perm};
use store::auth::{NewUser, Role, User, UserFilter, UserListItem, UserUpdate};
use store::org::Department;
use store::sql::PageRequest;

pub fn routes() -> Routes {
    let p = Access::Perm(perm::ADMIN_USERS);
    Routes::default()
        .add("/admin/users", p, get(list).post(create))
        .add("/admin/users/export", p, get(export))
        .add("/admin/users/new", p, get(new_form))
        .add("/admin/users/{id}", p, get(edit_form).post(update))
        .add("/admin/users/{id}/password", p, post(reset_password))
        .add("/admin/users/{id}/status", p, post(toggle_status))
        .add("/admin/users/{id}/unlock", p, post(unlock))
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    kind: Option<String>,
    department: Option<String>,
    role: Option<String>,
    status: Option<String>,
    page: Option<u32>,
    format: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> UserFilter {
        UserFilter {
            q: opt(&self.q),
            kind: opt(&self.kind),
            department_id: opt(&self.department),
            role_id: opt(&self.role),
            status: opt(&self.status),
        }
    }
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("q", v(&self.q)),
            ("kind", v(&self.kind)),
            ("department", v(&self.department)),
            ("role", v(&self.role)),
            ("status", v(&self.status)),
        ]
    }
}

/// Empty, or a mainland mobile number (11 digits starting with 1).
fn valid_phone(p: &str) -> bool {
    p.is_empty() || (p.len() == 11 && p.starts_with('1') && p.chars().all(|c| c.is_ascii_digit()))
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    layout: Layout,
    items: Vec<UserListItem>,
    pager: Pager,
    q: ListQuery,
    departments: Vec<Department>,
    roles: Vec<Role>,
    now_ms: i64,
}

impl ListPage {
    fn sel(&self, v: &Option<String>, x: &str) -> bool {
        v.as_deref() == Some(x)
    }
    fn val(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
}

async fn list(ctx: RequestCtx, Query(q): Query<ListQuery>) -> PageResult {
    let state = &ctx.state;
    let paged = store::auth::list_users(&state.db, &q.filter(), PageRequest::new(q.page, None)).await?;
    let pager = Pager::new(&paged, "/admin/users", &q.pairs());
    render(ListPage {
        layout: Layout::new(&ctx, &state.config().city.name, "用户管理", "/admin/users"),
        items: paged.items,
        pager,
        departments: store::org::list_departments(&state.db).await?,
        roles: store::auth::list_roles(&state.db).await?,
        now_ms: crate::access::now_millis(state),
        q,
    })
}

async fn export(ctx: RequestCtx, Query(q): Query<ListQuery>) -> PageResult {
    let state = &ctx.state;
    let format = ExportFormat::parse(q.format.as_deref())
        .ok_or_else(|| AppError::invalid("format", "导出格式应为 csv 或 xlsx"))?;
    let paged = store::auth::list_users(&state.db, &q.filter(), PageRequest::all()).await?;
    let rows: Vec<Vec<Cell>> = paged
        .items
        .into_iter()
        .map(|u| {
            vec![
                Cell::from(u.login),
                u.display_name.into(),
                u.kind.label().into(),
                u.department_name.into(),
                u.roles.into(),
                u.status.label().into(),
                fmt_millis(&u.last_login_at).into(),
            ]
        })
        .collect();
    ctx.audit(
        ctx.entry(domain::audit::CoreAudit::UserExport, "user", "list").detail(format!("导出 {} 条", rows.len())),
    )
    .await?;
    Ok(Table {
        title: "用户".into(),
        headers: vec!["账号", "姓名/名称", "类型", "部门", "角色", "状态", "最后登录"],
        rows,
    }
    .into_response(format))
}

/// What the create form holds, kept when it is shown again with errors.
#[derive(Default, Clone)]
pub struct UserForm {
    pub kind: String,
    pub login: String,
    pub display_name: String,
    pub department_id: String,
    pub division_code: String,
    pub grid_code: String,
    pub phone: String,
    pub roles: Vec<String>,
}

impl UserForm {
    pub fn has_role(&self, id: &str) -> bool {
        self.roles.iter().any(|r| r == id)
    }
}

#[derive(Template)]
#[template(path = "admin/user_new.html")]
struct NewPage {
    layout: Layout,
    form: UserForm,
    errors: FormErrors,
    departments: Vec<Department>,
    roles: Vec<Role>,
}

impl NewPage {
    fn kinds(&self) -> [(&'static str, &'static str, &'static str); 4] {
        [
            ("staff", "工作人员", "用户名登录"),
            ("enterprise", "企业", "账号填统一社会信用代码"),
            ("citizen", "群众", "账号填身份证号"),
            ("system", "对接系统", "只能用接口令牌访问"),
        ]
    }
}

async fn show_new(ctx: &RequestCtx, form: UserForm, errors: FormErrors) -> PageResult {
    let state = &ctx.state;
    let mut r = render(NewPage {
        layout: Layout::new(ctx, &state.config().city.name, "新建用户", "/admin/users"),
        form,
        departments: store::org::list_departments(&state.db).await?,
        roles: store::auth::list_roles(&state.db).await?,
        errors: errors.clone(),
    })?;
    if !errors.is_empty() {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn new_form(ctx: RequestCtx) -> PageResult {
    show_new(&ctx, UserForm { kind: "staff".into(), ..Default::default() }, FormErrors::default()).await
}

/// Checks the shared fields (department, division, grid, roles) and returns their ids.
async fn check_org_fields(
    ctx: &RequestCtx,
    f: &UserForm,
    errors: &mut FormErrors,
) -> Result<(Option<String>, Option<String>, Option<String>), AppError> {
    let state = &ctx.state;
    let department = match f.department_id.as_str() {
        "" => None,
        id => match store::org::get_department(&state.db, id).await {
            Ok(d) => Some(d.id),
            Err(_) => {
                errors.add("department_id", "所选部门不存在");
                None
            }
        },
    };
    let division = match f.division_code.as_str() {
        "" => None,
        code => match state.config().divisions.lookup(code) {
            Ok(c) => Some(c.to_string()),
            Err(e) => {
                errors.add("division_code", e.to_string());
                None
            }
        },
    };
    let grid = match f.grid_code.as_str() {
        "" => None,
        code => match store::org::grid_by_code(&state.db, code).await? {
            Some(g) => Some(g.id),
            None => {
                errors.add("grid_code", format!("网格编码“{code}”不存在"));
                None
            }
        },
    };
    let all_roles = store::auth::list_roles(&state.db).await?;
    if f.roles.is_empty() {
        errors.add("roles", "请至少选择一个角色");
    }
    if f.roles.iter().any(|r| !all_roles.iter().any(|x| &x.id == r)) {
        errors.add("roles", "所选角色不存在");
    }
    Ok((department, division, grid))
}

async fn create(ctx: RequestCtx, data: FormData) -> PageResult {
    let state = &ctx.state;
    let mut f = UserForm {
        kind: data.get("kind"),
        login: data.get("login"),
        display_name: data.get("display_name"),
        department_id: data.get("department_id"),
        division_code: data.get("division_code"),
        grid_code: data.get("grid_code"),
        phone: data.get("phone"),
        roles: data.all("roles"),
    };
    let (password, confirm) = (data.raw("password"), data.raw("confirm"));
    let mut errors = FormErrors::default();
    let kind = UserKind::parse(&f.kind);
    let mut uscc = None;
    let mut id_card = None;
    match kind {
        None => errors.add("kind", "请选择账号类型"),
        Some(UserKind::Enterprise) => match domain::Uscc::parse(&f.login) {
            Ok(u) => {
                f.login = u.to_string();
                uscc = Some(u.to_string());
            }
            Err(e) => errors.add("login", e.to_string()),
        },
        Some(UserKind::Citizen) => match domain::IdCardNo::parse(&f.login) {
            Ok(i) => {
                f.login = i.to_string();
                id_card = Some(i.to_string());
            }
            Err(e) => errors.add("login", e.to_string()),
        },
        Some(UserKind::Staff | UserKind::System) => {
            f.login = f.login.to_lowercase();
            let ok = (3..=32).contains(&f.login.len())
                && f.login.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
            if !ok {
                errors.add("login", "账号为3–32位小写字母、数字或 . _ -");
            }
        }
    }
    if f.display_name.is_empty() {
        errors.add("display_name", "请填写姓名或名称");
    } else if f.display_name.chars().count() > 60 {
        errors.add("display_name", "姓名或名称不超过60个字");
    }
    if !valid_phone(&f.phone) {
        errors.add("phone", "手机号应为以1开头的11位数字");
    }
    let system = kind == Some(UserKind::System);
    if !system {
        if let Err(problems) = domain::auth::password::check_complexity(&password, &f.login) {
            for p in problems {
                errors.add("password", p);
            }
        }
        if password != confirm {
            errors.add("confirm", "两次输入的密码不一致");
        }
    }
    let (department_id, division_code, grid_id) = check_org_fields(&ctx, &f, &mut errors).await?;
    if !errors.is_empty() {
        return show_new(&ctx, f, errors).await;
    }
    // System accounts never log in with a password: give them one nobody knows.
    let pw = if system { format!("Sys#{}", store::random_token(16)) } else { password };
    let hash = tokio::task::spawn_blocking(move || domain::auth::password::hash(&pw, &store::random_bytes::<16>()))
        .await
        .map_err(AppError::internal)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let new = NewUser {
        kind,
        login: f.login.clone(),
        display_name: f.display_name.clone(),
        password_hash: hash,
        department_id,
        division_code,
        grid_id,
        uscc,
        id_card_no: id_card,
        phone: f.phone.clone(),
        role_ids: f.roles.clone(),
        must_change_password: !system,
    };
    let id = match store::auth::create_user(&mut tx, now, &new).await {
        Ok(id) => id,
        Err(store::StoreError::Conflict { field, message }) => {
            drop(tx);
            errors.add(&field, message);
            return show_new(&ctx, f, errors).await;
        }
        Err(e) => return Err(e.into()),
    };
    let detail = format!(
        "新建{}账号 {}（{}），首次登录须修改密码",
        kind.map(|k| k.label()).unwrap_or(""),
        f.login,
        f.display_name
    );
    store::audit::append(&mut tx, now, ctx.entry(domain::audit::CoreAudit::UserCreate, "user", &id).detail(detail))
        .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(&format!("/admin/users/{id}"), &format!("已创建账号 {}。", f.login), state.secure_cookies))
}

#[derive(Template)]
#[template(path = "admin/user_edit.html")]
struct EditPage {
    layout: Layout,
    u: User,
    form: UserForm,
    errors: FormErrors,
    departments: Vec<Department>,
    roles: Vec<Role>,
    locked: bool,
    is_self: bool,
}

impl EditPage {
    fn t(&self, ms: &Option<i64>) -> String {
        fmt_millis(ms)
    }
    fn created(&self) -> String {
        fmt_millis(&Some(self.u.created_at))
    }
}

async fn show_edit(ctx: &RequestCtx, u: User, form: UserForm, errors: FormErrors) -> PageResult {
    let state = &ctx.state;
    let now = state.clock.now();
    let is_self = ctx.principal.as_ref().is_some_and(|p| p.user_id == u.id);
    let mut r = render(EditPage {
        layout: Layout::new(ctx, &state.config().city.name, &format!("用户：{}", u.display_name), "/admin/users"),
        locked: u.attempts().is_locked(now),
        is_self,
        u,
        form,
        departments: store::org::list_departments(&state.db).await?,
        roles: store::auth::list_roles(&state.db).await?,
        errors: errors.clone(),
    })?;
    if !errors.is_empty() {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn form_of(state: &crate::state::AppState, u: &User) -> Result<UserForm, AppError> {
    let grid_code = match &u.grid_id {
        Some(g) => store::org::get_grid(&state.db, g).await.map(|g| g.code).unwrap_or_default(),
        None => String::new(),
    };
    Ok(UserForm {
        kind: u.kind.as_str().to_string(),
        login: u.login.clone(),
        display_name: u.display_name.clone(),
        department_id: u.department_id.clone().unwrap_or_default(),
        division_code: u.division_code.clone().unwrap_or_default(),
        grid_code,
        phone: u.phone.clone(),
        roles: store::auth::user_role_ids(&state.db, &u.id).await?,
    })
}

async fn edit_form(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let u = store::auth::get_user(&ctx.state.db, &id).await?;
    let form = form_of(&ctx.state, &u).await?;
    show_edit(&ctx, u, form, FormErrors::default()).await
}

async fn update(ctx: RequestCtx, Path(id): Path<String>, data: FormData) -> PageResult {
    let state = &ctx.state;
    let u = store::auth::get_user(&state.db, &id).await?;
    let before = form_of(state, &u).await?;
    let f = UserForm {
        kind: u.kind.as_str().to_string(),
        login: u.login.clone(),
        display_name: data.get("display_name"),
        department_id: data.get("department_id"),
        division_code: data.get("division_code"),
        grid_code: data.get("grid_code"),
        phone: data.get("phone"),
        roles: data.all("roles"),
    };
    let mut errors = FormErrors::default();
    if f.display_name.is_empty() {
        errors.add("display_name", "请填写姓名或名称");
    }
    if !valid_phone(&f.phone) {
        errors.add("phone", "手机号应为以1开头的11位数字");
    }
    let (department_id, division_code, grid_id) = check_org_fields(&ctx, &f, &mut errors).await?;
    let me = ctx.user()?;
    if me.user_id == u.id && me.can(perm::ADMIN_USERS) {
        // An administrator cannot take user management away from themselves by accident.
        let roles = store::auth::list_roles(&state.db).await?;
        let keeps = f
            .roles
            .iter()
            .any(|r| roles.iter().any(|x| &x.id == r && x.permissions.iter().any(|p| p == perm::ADMIN_USERS)));
        if !keeps {
            errors.add("roles", "不能移除自己的用户管理权限，请由其他管理员操作");
        }
    }
    if !errors.is_empty() {
        return show_edit(&ctx, u, f, errors).await;
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    store::auth::update_user(
        &mut tx,
        now,
        &u.id,
        &UserUpdate {
            display_name: f.display_name.clone(),
            department_id,
            division_code,
            grid_id,
            phone: f.phone.clone(),
            role_ids: f.roles.clone(),
        },
    )
    .await?;
    let mut changes = vec![];
    for (label, a, b) in [
        ("姓名", &before.display_name, &f.display_name),
        ("部门", &before.department_id, &f.department_id),
        ("区划", &before.division_code, &f.division_code),
        ("网格", &before.grid_code, &f.grid_code),
        ("手机", &before.phone, &f.phone),
    ] {
        if a != b {
            changes.push(format!("{label}：{a} → {b}"));
        }
    }
    let (mut r0, mut r1) = (before.roles.clone(), f.roles.clone());
    r0.sort();
    r1.sort();
    if r0 != r1 {
        changes.push("角色已调整".to_string());
    }
    store::audit::append(
        &mut tx,
        now,
        ctx.entry(domain::audit::CoreAudit::UserUpdate, "user", &u.id).detail(changes.join("；")),
    )
    .await?;
    tx.commit().await?;
    // Roles, status and passwords take effect at once, not after the session cache's TTL.
    ctx.state.auth_cache.clear();
    ctx.state.announce(store::changes::Change::Auth).await;
    Ok(redirect_with_flash(&format!("/admin/users/{}", u.id), "已保存。", state.secure_cookies))
}

async fn reset_password(ctx: RequestCtx, Path(id): Path<String>, data: FormData) -> PageResult {
    let state = &ctx.state;
    let u = store::auth::get_user(&state.db, &id).await?;
    let (password, confirm) = (data.raw("password"), data.raw("confirm"));
    let mut errors = FormErrors::default();
    if let Err(problems) = domain::auth::password::check_complexity(&password, &u.login) {
        for p in problems {
            errors.add("password", p);
        }
    }
    if password != confirm {
        errors.add("confirm", "两次输入的密码不一致");
    }
    if !errors.is_empty() {
        let form = form_of(state, &u).await?;
        return show_edit(&ctx, u, form, errors).await;
    }
    let hash =
        tokio::task::spawn_blocking(move || domain::auth::password::hash(&password, &store::random_bytes::<16>()))
            .await
            .map_err(AppError::internal)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    store::auth::set_password(&mut tx, now, &u.id, &hash, true).await?;
    let ended = store::auth::end_user_sessions(&mut tx, now, &u.id, "password_reset").await?;
    store::audit::append(
        &mut tx,
        now,
        ctx.entry(domain::audit::CoreAudit::PasswordReset, "user", &u.id)
            .detail(format!("管理员重置密码，结束会话 {ended} 个，下次登录须修改密码")),
    )
    .await?;
    tx.commit().await?;
    // Roles, status and passwords take effect at once, not after the session cache's TTL.
    ctx.state.auth_cache.clear();
    ctx.state.announce(store::changes::Change::Auth).await;
    Ok(redirect_with_flash(
        &format!("/admin/users/{}", u.id),
        "密码已重置，用户下次登录时须修改密码。",
        state.secure_cookies,
    ))
}

async fn toggle_status(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let state = &ctx.state;
    let u = store::auth::get_user(&state.db, &id).await?;
    if ctx.user()?.user_id == u.id {
        return Err(AppError::invalid("status", "不能停用自己的账号").into());
    }
    let activate = !u.is_active();
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    store::auth::set_status(&mut tx, now, &u.id, activate).await?;
    let action = if activate { domain::audit::CoreAudit::UserEnable } else { domain::audit::CoreAudit::UserDisable };
    store::audit::append(&mut tx, now, ctx.entry(action, "user", &u.id)).await?;
    tx.commit().await?;
    // Roles, status and passwords take effect at once, not after the session cache's TTL.
    ctx.state.auth_cache.clear();
    ctx.state.announce(store::changes::Change::Auth).await;
    let msg = if activate { "账号已启用。" } else { "账号已停用，其会话已结束。" };
    Ok(redirect_with_flash(&format!("/admin/users/{}", u.id), msg, state.secure_cookies))
}

async fn unlock(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let state = &ctx.state;
    let u = store::auth::get_user(&state.db, &id).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    store::auth::unlock(&mut tx, &u.id).await?;
    store::audit::append(&mut tx, now, ctx.entry(domain::audit::CoreAudit::UserUnlock, "user", &u.id)).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(&format!("/admin/users/{}", u.id), "账号已解锁。", state.secure_cookies))
}
