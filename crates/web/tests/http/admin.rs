use crate::helpers::*;
use reqwest::StatusCode;

fn role_id(roles: &[store::auth::Role], code: &str) -> String {
    roles.iter().find(|r| r.code == code).unwrap().id.clone()
}

#[tokio::test]
async fn creating_a_user_shows_every_error_and_keeps_what_was_typed() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let roles = store::auth::list_roles(&app.state.db).await.unwrap();
    let ent_role = role_id(&roles, "enterprise");
    let p = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("kind", "enterprise"),
                ("login", "91110108551385082R"),
                ("display_name", "北京小米科技有限责任公司"),
                ("phone", "12345"),
                ("roles", &ent_role),
                ("password", "weak"),
                ("confirm", "weaker"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    let summary = extract(&p.body, "<div class=\"error-summary\"", "</div>");
    insta::assert_snapshot!("user_create_error_summary", summary);
    assert!(p.body.contains("value=\"北京小米科技有限责任公司\""), "typed name kept");
    assert!(p.body.contains("value=\"enterprise\" checked"), "kind kept");

    let p = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("kind", "enterprise"),
                ("login", "91110108551385082q"),
                ("display_name", "北京小米科技有限责任公司"),
                ("roles", &ent_role),
                ("password", "Xiaomi#2026a"),
                ("confirm", "Xiaomi#2026a"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let list = admin.get("/admin/users?q=91110108").await.body;
    assert!(list.contains("91110108551385082Q") && list.contains("北京小米科技有限责任公司"));
    // Same login again: a clear conflict on the login field.
    let p = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("kind", "enterprise"),
                ("login", "91110108551385082Q"),
                ("display_name", "重复"),
                ("roles", &ent_role),
                ("password", "Xiaomi#2026a"),
                ("confirm", "Xiaomi#2026a"),
            ],
        )
        .await;
    assert!(p.body.contains("账号“91110108551385082Q”已存在"));
    assert!(
        app.audit_actions().await.iter().any(|(a, _, _, d)| a == "user.create" && d.contains("91110108551385082Q"))
    );
}

fn extract<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let s = html.find(start).expect("fragment present");
    let e = html[s..].find(end).unwrap() + s + end.len();
    &html[s..e]
}

#[tokio::test]
async fn role_changes_apply_at_once() {
    let app = spawn_app().await;
    let wangge = app.login("wangge").await;
    assert_eq!(wangge.get("/citizens").await.status, StatusCode::OK);
    let admin = app.login("admin").await;
    let roles = store::auth::list_roles(&app.state.db).await.unwrap();
    let gm = roles.iter().find(|r| r.code == "grid_manager").unwrap();
    let mut form: Vec<(&str, &str)> = vec![("name", gm.name.as_str()), ("scope", "grid"), ("description", "")];
    for p in gm.permissions.iter().filter(|p| *p != "org.citizens") {
        form.push(("permissions", p));
    }
    let p = admin.submit(&format!("/admin/roles/{}", gm.id), &format!("/admin/roles/{}", gm.id), &form).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(wangge.get("/citizens").await.status, StatusCode::FORBIDDEN);
    assert!(
        app.audit_actions().await.iter().any(|(a, _, _, d)| a == "role.update" && d.contains("移除权限：群众信息查询"))
    );
}

#[tokio::test]
async fn disabling_a_user_ends_their_session_and_resetting_forces_a_new_password() {
    let app = spawn_app().await;
    let renshe = app.login("renshe").await;
    let admin = app.login("admin").await;
    let user = store::auth::user_by_login(&app.state.db, "renshe").await.unwrap().unwrap();
    let page = format!("/admin/users/{}", user.id);
    let p = admin.submit(&page, &format!("{page}/status"), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(renshe.get("/home").await.status, StatusCode::SEE_OTHER, "session ended");
    let (_, p) = app.try_login("renshe", DEMO_PASSWORD).await;
    assert!(p.body.contains("账号已停用"));
    admin.submit(&page, &format!("{page}/status"), &[]).await;
    let p = admin
        .submit(&page, &format!("{page}/password"), &[("password", "Temp#2026abc"), ("confirm", "Temp#2026abc")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let (c, p) = app.try_login("renshe", "Temp#2026abc").await;
    assert_eq!(p.location.as_deref(), Some("/account/password"));
    assert_eq!(c.get("/enterprises").await.location.as_deref(), Some("/account/password"));
    // An administrator cannot disable themselves.
    let me = store::auth::user_by_login(&app.state.db, "admin").await.unwrap().unwrap();
    let p = admin.submit(&format!("/admin/users/{}", me.id), &format!("/admin/users/{}/status", me.id), &[]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn locked_accounts_can_be_unlocked_by_an_administrator() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.try_login("qiaocheng", "Wrong#2026xx").await;
    }
    let admin = app.login("admin").await;
    let list = admin.get("/admin/users?q=qiaocheng").await.body;
    assert!(list.contains("锁定中"));
    let user = store::auth::user_by_login(&app.state.db, "qiaocheng").await.unwrap().unwrap();
    let page = format!("/admin/users/{}", user.id);
    assert!(admin.get(&page).await.body.contains("解除锁定"));
    admin.submit(&page, &format!("{page}/unlock"), &[]).await;
    app.login("qiaocheng").await;
}

#[tokio::test]
async fn departments_are_created_edited_and_codes_stay_unique() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let form = [
        ("code", "scj"),
        ("name", "亳州市商务局"),
        ("short_name", "市商务局"),
        ("kind", "bureau"),
        ("division_code", "341600"),
        ("active", "1"),
    ];
    let p = admin.submit("/admin/departments/new", "/admin/departments", &form).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert!(admin.get("/admin/departments").await.body.contains("市商务局"));
    let p = admin.submit("/admin/departments/new", "/admin/departments", &form).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("部门代码“scj”已被使用"));
    let p = admin
        .submit(
            "/admin/departments/new",
            "/admin/departments",
            &[("code", "Bad Code"), ("name", ""), ("short_name", ""), ("kind", "x"), ("division_code", "999999")],
        )
        .await;
    for msg in ["部门代码为1–32位", "请填写部门全称", "请选择部门类型", "省级代码"] {
        assert!(p.body.contains(msg), "missing {msg}");
    }
}

#[tokio::test]
async fn user_lists_filter_page_and_export() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let p = admin.get("/admin/users?kind=staff").await;
    assert!(p.body.contains("wangge") && !p.body.contains("bank-api"));
    let csv = admin.get("/admin/users/export?kind=staff&format=csv").await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(csv.body.starts_with('\u{feff}'));
    assert!(csv.body.contains("账号,姓名/名称,类型"));
    assert!(csv.headers["content-disposition"].to_str().unwrap().contains("filename*=UTF-8''%E7%94%A8%E6%88%B7.csv"));
    let xlsx = admin.http.get(format!("{}/admin/users/export?format=xlsx", app.base)).send().await.unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert_eq!(&xlsx.bytes().await.unwrap()[..2], b"PK");
    assert!(app.audit_actions().await.iter().any(|(a, ..)| a == "user.export"));
}

#[tokio::test]
async fn new_api_tokens_are_shown_once() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let bank = store::auth::user_by_login(&app.state.db, "bank-api").await.unwrap().unwrap();
    let p = admin
        .submit(
            "/admin/tokens",
            "/admin/tokens",
            &[("user_id", &bank.id), ("name", "建设银行工资专户推送"), ("days", "30")],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    let start = p.body.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let token = &p.body[start..start + 51];
    assert!(token.starts_with("ys_"));
    let r = app.api().get(format!("{}/api/v1/me", app.base)).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!admin.get("/admin/tokens").await.body.contains(token), "never shown again");
    let p = admin.submit("/admin/tokens", "/admin/tokens", &[("user_id", ""), ("name", ""), ("days", "0")]).await;
    for msg in ["请填写令牌用途", "请选择一个正常状态的对接系统账号", "有效天数应为1–3650"]
    {
        assert!(p.body.contains(msg), "missing {msg}");
    }
}

#[tokio::test]
async fn a_new_holiday_table_takes_effect_at_once() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    assert!(admin.get("/admin/holidays").await.body.contains("2027年节假日安排未加载"));
    let bad = "year = 2027\n\n[[day]]\ndate = 2027-02-01\nname = \"春节\"\noff = false\n";
    let p = admin.submit("/admin/holidays", "/admin/holidays", &[("content", bad)]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("上传的节假日表:4: day[0].date: 调休上班日 2027-02-01 不是周末"), "{}", p.body);
    // A table for testing only (not the real 2027 notice): 4 January 2027 off.
    let good = "# Source: 测试用节假日表\nyear = 2027\n\n[[day]]\ndate = 2027-01-04\nname = \"测试\"\noff = true\n";
    let p = admin.submit("/admin/holidays", "/admin/holidays", &[("content", good)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let page = admin.get("/admin/holidays?date=2027-01-04&days=1").await.body;
    assert!(page.contains("2027-01-04 是测试假期"), "{page}");
    assert!(page.contains("1 个工作日后为 2027-01-05"));
    assert!(!page.contains("2027年节假日安排未加载"));
    assert!(app.audit_actions().await.iter().any(|(a, _, id, _)| a == "holiday.load" && id == "2027"));
}

#[tokio::test]
async fn system_status_lists_routes_and_their_permissions() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let p = admin.get("/admin/system").await.body;
    assert!(p.contains(app.state.db.backend().name()));
    assert!(
        p.contains("/admin/users/{id}/unlock") && p.contains("用户管理 <code class=\"muted small\">admin.users</code>")
    );
}
