use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn data_scopes_limit_what_each_role_sees() {
    let app = spawn_app().await;
    let count = |body: &str| -> i64 {
        let s = body.find("共 ").unwrap() + "共 ".len();
        body[s..].split(' ').next().unwrap().parse().unwrap()
    };
    let leader = count(&app.login("leader").await.get("/enterprises").await.body);
    let county = count(&app.login("qiaocheng").await.get("/enterprises").await.body);
    let grid = count(&app.login("wangge").await.get("/enterprises").await.body);
    assert_eq!(leader, domain::demo::ENTERPRISES_PER_SCALE as i64);
    assert!(county < leader && county > grid && grid > 0, "{leader} > {county} > {grid}");
    // The grid manager cannot open an enterprise of another grid, even by its URL.
    let outside = store::org::list_enterprises(
        &app.state.db,
        &store::org::RowScope::Division("341621".into()),
        &Default::default(),
        store::sql::PageRequest::default(),
    )
    .await
    .unwrap()
    .items[0]
        .uscc
        .clone();
    let w = app.login("wangge").await;
    assert_eq!(w.get(&format!("/enterprises/{outside}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.login("leader").await.get(&format!("/enterprises/{outside}")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn enterprise_lists_filter_page_and_export() {
    let app = spawn_app().await;
    let c = app.login("leader").await;
    let p = c.get("/enterprises?industry=中药").await.body;
    assert!(p.contains("中药"));
    assert!(p.contains("下一页"));
    let p2 = c.get("/enterprises?industry=中药&page=2").await.body;
    assert!(p2.contains("上一页"));
    let xlsx = c.http.get(format!("{}/enterprises/export?industry=中药&format=xlsx", app.base)).send().await.unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    let csv = c.get("/enterprises/export?format=csv&industry=白酒").await.body;
    assert!(csv.contains("统一社会信用代码,名称"));
    assert!(csv.lines().skip(1).all(|l| l.contains("白酒")), "{csv}");
    assert_eq!(c.get("/enterprises/export?format=pdf").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Grid managers have no export permission.
    assert_eq!(app.login("wangge").await.get("/enterprises/export?format=csv").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_enterprise_sees_its_own_record_and_no_other() {
    let app = spawn_app().await;
    let uscc = app.login_of("enterprise").await;
    let c = app.login(&uscc).await;
    let p = c.get("/me/enterprise").await.body;
    assert!(p.contains(&uscc));
    assert!(p.contains("组织机构代码"));
    assert_eq!(c.get("/api/v1/enterprises").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn grid_managers_edit_only_their_own_grid() {
    let app = spawn_app().await;
    let w = app.login("wangge").await;
    let mine = store::org::grid_by_code(&app.state.db, "G341602100-01").await.unwrap().unwrap();
    let other = store::org::grid_by_code(&app.state.db, "G341602100-02").await.unwrap().unwrap();
    let page = w.get(&format!("/grids/{}", mine.id)).await.body;
    assert!(page.contains("保存关键字") && page.contains("<svg class=\"map\""));
    let p = w
        .submit(
            &format!("/grids/{}", mine.id),
            &format!("/grids/{}/keywords", mine.id),
            &[("keywords", "古井镇人民路\n古井镇酒城大道")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(w.get(&format!("/grids/{}", mine.id)).await.body.contains("古井镇酒城大道"));
    let p = w
        .submit(&format!("/grids/{}", mine.id), &format!("/grids/{}/keywords", other.id), &[("keywords", "x路")])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(a, o, id, _)| a == "grid.update" && o == "success" && *id == mine.id));
    assert!(audit.iter().any(|(a, o, id, _)| a == "grid.update" && o == "denied" && *id == other.id));
}

#[tokio::test]
async fn the_dashboard_and_division_map_render() {
    let app = spawn_app().await;
    let c = app.login("leader").await;
    let d = c.get("/dashboard").await.body;
    assert!(d.contains("谯城区") && d.contains("利辛县") && d.contains("<svg class=\"bars\""));
    let m = c.get("/divisions?county=341622").await.body;
    assert!(m.contains("双涧镇") && m.contains("<polygon points="));
}

/// The division map shows the whole structure, but links a grid's page only within the
/// user's reach, and the page itself refuses (audited) outside it.
#[tokio::test]
async fn grid_pages_open_within_the_users_reach() {
    let app = spawn_app().await;
    let c = app.login("qiaocheng").await;
    let own = c.get("/divisions?county=341602").await.body;
    assert!(own.contains("href=\"/grids/"), "谯城区's own grids are linked");
    let other = c.get("/divisions?county=341621").await.body;
    assert!(!other.contains("href=\"/grids/"), "another county's grids are not linked");
    let g = store::org::list_grids(&app.state.db, Some("341621")).await.unwrap();
    assert_eq!(c.get(&format!("/grids/{}", g[0].id)).await.status, StatusCode::FORBIDDEN);
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(a, o, id, _)| a == "access.denied" && o == "denied" && *id == g[0].id));
    let leader = app.login("leader").await;
    assert!(leader.get("/divisions?county=341621").await.body.contains("href=\"/grids/"));
}
