use crate::helpers::*;
use reqwest::StatusCode;
use time::Duration;

#[tokio::test]
async fn login_page_is_chinese_and_sets_a_csrf_cookie() {
    let app = spawn_app().await;
    let c = app.client();
    let root = c.get("/").await;
    assert_eq!(root.status, StatusCode::SEE_OTHER);
    assert_eq!(root.location.as_deref(), Some("/login"));
    let p = c.get("/login").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("<html lang=\"zh-CN\">"));
    assert!(p.body.contains("登录"));
    assert!(!p.csrf().is_empty());
    let cookie = p.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        cookie.starts_with("ys_csrf=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(p.headers.get("content-security-policy").unwrap().to_str().unwrap().contains("default-src 'self'"));
}

#[tokio::test]
async fn each_demo_role_sees_its_own_home_and_navigation() {
    let app = spawn_app().await;
    // (role, a navigation entry it must have, one it must not)
    let expectations = [
        ("sys_admin", "/admin/users", "/audit"),
        ("auditor", "/audit", "/admin/users"),
        ("leader", "/dashboard", "/citizens"),
        ("dept_staff", "/enterprises", "/dashboard"),
        ("county_staff", "/citizens", "/admin/roles"),
        ("grid_manager", "/divisions", "/dashboard"),
        ("enterprise", "/me/enterprise", "/enterprises"),
        ("citizen", "/me/profile", "/me/enterprise"),
    ];
    for (role, has, lacks) in expectations {
        let login = app.login_of(role).await;
        let c = app.login(&login).await;
        let home = c.get("/home").await;
        assert_eq!(home.status, StatusCode::OK, "{role}");
        assert!(home.body.contains(&format!("href=\"{has}\"")), "{role} home lacks {has}");
        assert!(!home.body.contains(&format!("href=\"{lacks}\"")), "{role} home shows {lacks}");
        assert!(c.get(has).await.status == StatusCode::OK, "{role} cannot open {has}");
    }
    // Role-specific content on the home pages.
    let wangge = app.login("wangge").await.get("/home").await.body;
    assert!(wangge.contains("我的网格") && wangge.contains("古井镇第1网格"));
    let ent = app.login(&app.login_of("enterprise").await).await.get("/home").await.body;
    assert!(ent.contains("本企业") && ent.contains("统一社会信用代码"));
    let cit = app.login(&app.login_of("citizen").await).await.get("/home").await.body;
    assert!(cit.contains("********"), "citizen sees a masked ID number");
}

#[tokio::test]
async fn wrong_password_is_refused_with_one_message() {
    let app = spawn_app().await;
    let (_, p) = app.try_login("admin", "Wrong@2026x").await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.body.contains("账号或密码错误"), "{}", p.body);
    assert!(!p.body.contains("再错"), "the count would tell the account exists: {}", p.body);
    assert!(p.body.contains("value=\"admin\""), "the typed account is kept");
    let (_, p) = app.try_login("nobody", "Wrong@2026x").await;
    assert!(p.body.contains("账号或密码错误"));
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(a, o, _, d)| a == "auth.login" && o == "failure" && d.contains("第1次")));
    assert!(audit.iter().any(|(a, o, id, _)| a == "auth.login" && o == "failure" && id == "nobody"));
}

#[tokio::test]
async fn five_failures_lock_the_account_for_five_minutes() {
    let app = spawn_app().await;
    for _ in 0..4 {
        app.try_login("renshe", "Wrong@2026x").await;
    }
    let (_, p) = app.try_login("renshe", "Wrong@2026x").await;
    assert!(p.body.contains("连续5次密码错误，账号已锁定至"), "{}", p.body);
    // Even the right password is refused while locked.
    app.clock.advance(Duration::minutes(4));
    let (_, p) = app.try_login("renshe", DEMO_PASSWORD).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.body.contains("账号已锁定至"), "{}", p.body);
    app.clock.advance(Duration::minutes(1));
    let (_, p) = app.try_login("renshe", DEMO_PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(a, o, _, d)| a == "auth.login" && o == "failure" && d.contains("账号锁定")));
    assert!(audit.iter().any(|(a, o, _, _)| a == "auth.login" && o == "denied"));
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let c = app.login("leader").await;
    let p = c.submit("/home", "/logout", &[]).await;
    assert_eq!(p.location.as_deref(), Some("/login?logged_out=1"));
    let home = c.get("/home").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert!(home.location.unwrap().starts_with("/login"));
    assert!(app.audit_actions().await.iter().any(|(a, ..)| a == "auth.logout"));
}

#[tokio::test]
async fn idle_sessions_end_after_thirty_minutes() {
    let app = spawn_app().await;
    let c = app.login("leader").await;
    app.clock.advance(Duration::minutes(29));
    assert_eq!(c.get("/dashboard").await.status, StatusCode::OK, "activity within 30 minutes keeps the session");
    app.clock.advance(Duration::minutes(29));
    assert_eq!(c.get("/dashboard").await.status, StatusCode::OK, "the idle clock restarted at the last request");
    app.clock.advance(Duration::minutes(30));
    let p = c.get("/dashboard").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let to = p.location.unwrap();
    assert!(to.starts_with("/login?next=") && to.ends_with("&timeout=1"), "{to}");
    let login = c.get(&to).await;
    assert!(login.body.contains("您已超过30分钟未操作"));
    assert!(app.audit_actions().await.iter().any(|(a, _, _, d)| a == "auth.session_timeout" && d.contains("30分钟")));
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_rejected_and_audited() {
    let app = spawn_app().await;
    // Before login: the double-submit cookie must match.
    let c = app.client();
    c.get("/login").await;
    let p = c.post("/login", &[("_csrf", "forged"), ("account", "admin"), ("password", DEMO_PASSWORD)]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("CSRF"));
    // Signed in: the session's token.
    let admin = app.login("admin").await;
    let p = admin
        .post(
            "/admin/departments",
            &[
                ("_csrf", "forged"),
                ("code", "evil"),
                ("name", "x"),
                ("short_name", "x"),
                ("kind", "bureau"),
                ("division_code", "341600"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(!admin.get("/admin/departments").await.body.contains("evil"));
    let audit = app.audit_actions().await;
    assert_eq!(audit.iter().filter(|(a, o, ..)| a == "security.csrf_rejected" && o == "denied").count(), 2);
}

#[tokio::test]
async fn login_redirects_only_to_local_pages() {
    let app = spawn_app().await;
    let c = app.client();
    let token = c.get("/login").await.csrf();
    let p = c
        .post(
            "/login",
            &[("_csrf", &token), ("account", "leader"), ("password", DEMO_PASSWORD), ("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/home"));
    let c = app.client();
    let to = c.get("/dashboard").await.location.unwrap();
    let login = c.get(&to).await;
    let token = login.csrf();
    assert!(login.body.contains("value=\"/dashboard\""));
    let p = c
        .post(
            "/login",
            &[("_csrf", &token), ("account", "leader"), ("password", DEMO_PASSWORD), ("next", "/dashboard")],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/dashboard"));
}

#[tokio::test]
async fn enterprises_and_citizens_log_in_with_their_identifiers() {
    let app = spawn_app().await;
    let uscc = app.login_of("enterprise").await;
    // Lower case and full-width input still works.
    let (_, p) = app.try_login(&uscc.to_lowercase(), DEMO_PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let id = app.login_of("citizen").await;
    let (_, p) = app.try_login(&format!(" {id} "), DEMO_PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn changing_ones_password_checks_complexity_and_keeps_the_session() {
    let app = spawn_app().await;
    let c = app.login("renshe").await;
    let p = c
        .submit("/account/password", "/account/password", &[("current", "bad"), ("new", "short"), ("confirm", "other")])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in ["当前密码不正确", "密码长度至少8位", "两次输入的新密码不一致", "error-summary"]
    {
        assert!(p.body.contains(msg), "missing {msg}");
    }
    let p = c
        .submit(
            "/account/password",
            "/account/password",
            &[("current", DEMO_PASSWORD), ("new", "Bozhou#2027x"), ("confirm", "Bozhou#2027x")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/home").await.status, StatusCode::OK);
    let (_, p) = app.try_login("renshe", "Bozhou#2027x").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
}
