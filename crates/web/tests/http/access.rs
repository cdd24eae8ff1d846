use crate::helpers::*;
use reqwest::StatusCode;
use web::access::Access;

#[tokio::test]
async fn other_roles_pages_are_refused_and_the_refusal_is_audited() {
    let app = spawn_app().await;
    let ent = app.login(&app.login_of("enterprise").await).await;
    for path in ["/admin/users", "/audit", "/citizens", "/dashboard", "/api/v1/users"] {
        let p = ent.get(path).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}");
    }
    let p = ent.get("/admin/users").await;
    assert!(p.body.contains("您的角色没有“用户管理”权限"), "{}", p.body);
    let api = ent.get("/api/v1/users").await;
    let v: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(v["code"], "forbidden");
    // The auditor finds the refusals.
    let auditor = app.login("auditor").await;
    let log = auditor.get("/audit?action=access.denied").await.body;
    assert!(log.contains("/admin/users") && log.contains("缺少权限：用户管理"), "{log}");
    // The administrator cannot read the audit log (separation of duties).
    assert_eq!(app.login("admin").await.get("/audit").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn anonymous_callers_are_sent_to_login_or_get_401() {
    let app = spawn_app().await;
    let c = app.client();
    let p = c.get("/admin/users?page=2").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location.as_deref(), Some("/login?next=%2Fadmin%2Fusers%3Fpage%3D2"));
    let p = c.get("/api/v1/me").await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    let v: serde_json::Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(v["code"], "unauthenticated");
    assert_eq!(v["message"], "请先登录");
}

#[tokio::test]
async fn unknown_paths_are_not_found() {
    let app = spawn_app().await;
    let c = app.login("admin").await;
    assert_eq!(c.get("/no/such/page").await.status, StatusCode::NOT_FOUND);
    let p = c.get("/api/v1/nothing").await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&p.body).unwrap()["code"], "not_found");
}

/// Deny by default: a signed-in user with a role that grants nothing reaches no protected page.
#[tokio::test]
async fn a_role_without_permissions_reaches_only_public_and_personal_pages() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let p = admin
        .submit("/admin/roles/new", "/admin/roles", &[("code", "nothing"), ("name", "空角色"), ("scope", "all")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let roles = store::auth::list_roles(&app.state.db).await.unwrap();
    let empty = roles.iter().find(|r| r.code == "nothing").unwrap().id.clone();
    let p = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("kind", "staff"),
                ("login", "nopower"),
                ("display_name", "无权限"),
                ("roles", &empty),
                ("password", "Nobody#2026x"),
                ("confirm", "Nobody#2026x"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    // First login forces a password change.
    let (c, p) = app.try_login("nopower", "Nobody#2026x").await;
    assert_eq!(p.location.as_deref(), Some("/account/password"));
    assert_eq!(c.get("/home").await.location.as_deref(), Some("/account/password"));
    let p = c
        .submit(
            "/account/password",
            "/account/password",
            &[("current", "Nobody#2026x"), ("new", "Nobody#2027y"), ("confirm", "Nobody#2027y")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);

    let table = app.state.route_table();
    let mut checked = 0;
    for r in table.iter() {
        if r.path.contains('{') {
            continue;
        }
        let p = c.get(&r.path).await;
        match r.rule {
            Access::Perm(_) | Access::AnyOf(_) => {
                // GET may not be the route's method (405) but it must never be allowed.
                assert!(
                    matches!(p.status, StatusCode::FORBIDDEN | StatusCode::METHOD_NOT_ALLOWED),
                    "{} gave {}",
                    r.path,
                    p.status
                );
                checked += 1;
            }
            Access::Public | Access::Authenticated => {
                assert!(p.status != StatusCode::FORBIDDEN, "{} refused", r.path);
            }
        }
    }
    assert!(checked >= 20, "only {checked} protected routes checked");
}

#[tokio::test]
async fn every_route_declares_a_known_permission() {
    let app = spawn_app().await;
    let table = app.state.route_table();
    assert!(table.len() > 30, "{}", table.len());
    for r in table.iter() {
        for p in r.rule.permissions() {
            assert!(domain::auth::permission(p).is_some(), "{} uses unknown {p}", r.path);
        }
        if r.path.starts_with("/admin") {
            assert!(
                matches!(r.rule, Access::Perm(p) if p.starts_with("admin.")),
                "{} is not an admin permission",
                r.path
            );
        }
    }
    let public: std::collections::BTreeSet<&str> =
        table.iter().filter(|r| r.rule == Access::Public).map(|r| r.path.as_str()).collect();
    assert_eq!(
        public,
        std::collections::BTreeSet::from([
            "/healthz",
            "/metrics",
            "/static/app.css",
            "/static/app.js",
            "/static/icon.svg",
            "/favicon.ico",
            "/",
            "/login",
            "/licenses/verify",
            "/documents/verify",
            "/documents/keys",
            "/documents/keys/{department}",
            "/api/openapi.json"
        ])
    );
}

#[tokio::test]
async fn health_metrics_and_static_files_are_served() {
    let app = spawn_app().await;
    let c = app.client();
    assert_eq!(c.get("/healthz").await.body, "ok");
    c.get("/login").await;
    let m = c.get("/metrics").await.body;
    assert!(m.contains("# TYPE yingshang_http_requests_total counter"));
    assert!(m.contains("route=\"/login\""));
    assert!(m.contains("yingshang_holiday_table_missing 1"), "2027 has no table yet");
    let css = c.get("/static/app.css").await;
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    assert!(!css.body.contains("http://") && !css.body.contains("https://"), "nothing from the internet");
    let icon = c.get("/favicon.ico").await;
    assert_eq!(icon.headers["content-type"], "image/svg+xml");
    assert!(icon.body.starts_with("<svg"));
}
