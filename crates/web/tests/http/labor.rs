//! 劳动关系 over HTTP: social insurance reports arrive by the API, an employer's insured
//! headcount falls and its complaints jump, the grid manager is alerted, sees the employer on
//! the labor-relations pages and updates it; other grids' employers stay out of reach.

use crate::helpers::*;
use domain::rules::AlertStatus;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn insured_drop_alerts_the_grid_manager_who_sees_and_updates_the_employer() {
    let app = spawn_app().await;
    let db = app.state.db.reader();
    let wangge = store::auth::user_by_login(&app.state.db, "wangge").await.unwrap().unwrap();
    let grid = wangge.grid_id.clone().unwrap();
    let (uscc, name): (String, String) =
        sqlx::query_as("SELECT uscc, name FROM enterprises WHERE grid_id = $1 ORDER BY employees DESC LIMIT 1")
            .bind(&grid)
            .fetch_one(db)
            .await
            .unwrap();
    let (other, _): (String, String) = sqlx::query_as("SELECT uscc, name FROM enterprises WHERE grid_id <> $1 LIMIT 1")
        .bind(&grid)
        .fetch_one(db)
        .await
        .unwrap();

    // Social insurance reports: 60 insured in September, 30 in October; complaints 0 → 3, with
    // 4 questions (咨询) that are not complaints.
    let r = app.ingest("labor", json!([
            { "uscc": uscc, "month": "2026-09", "employees": 60, "insured": 60, "consultations": 1, "complaints": 0 },
            { "uscc": uscc, "month": "2026-10", "employees": 58, "insured": 30, "consultations": 4, "complaints": 3, "disputes": 0, "collective_risks": 0, "contracted": 50 },
            { "uscc": uscc, "month": "2026-10", "employees": 5, "insured": 9 },
            { "uscc": "91110108551385082Q", "month": "2026-10", "insured": 9 },
        ]),
    )
    .await;
    assert_eq!((r["accepted"].as_i64(), r["rejected"].as_i64()), (Some(2), Some(2)), "{r}");
    let reasons: Vec<&str> =
        r["rejections"].as_array().unwrap().iter().map(|x| x["reason"].as_str().unwrap()).collect();
    assert!(reasons[0].contains("参保人数（9）多于从业人数（5）"), "{reasons:?}");
    assert!(reasons[1].contains("不在市场主体库中"), "{reasons:?}");
    assert!(r["alerts_opened"].as_u64().unwrap() >= 2, "{r}");

    let alerts = store::alerts::for_subject(&app.state.db, "employer", &uscc).await.unwrap();
    let level = |id: &str| {
        alerts.iter().find(|a| a.indicator == id && a.status != AlertStatus::Closed).map(|a| a.level.as_str())
    };
    assert_eq!(level("labor.insured_drop"), Some("red"));
    // 3 complaints: yellow. Counting the 4 questions too would have made it 7 and orange.
    assert_eq!(level("labor.complaints_rise"), Some("yellow"));

    // The grid manager is told, and sees the employer on the pages.
    let c = app.login("wangge").await;
    let inbox = c.get("/inbox").await;
    assert!(inbox.body.contains("参保人数单月明显下降"), "grid manager notified");
    let page = c.get(&format!("/labor?uscc={uscc}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("和谐指数") && page.body.contains(&name), "{}", page.body);
    let page = c.get(&format!("/labor/employers/{uscc}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("参保人数单月明显下降") && page.body.contains("2026年10月"));
    // 58 employees (rated as 100), 30 insured, 3 complaints (the 4 questions cost nothing), 50
    // with a contract → deductions: disputes 0, complaints 3 × 10 × 4 = 120 → 15 (cap),
    // arrears 0, collective 0, insurance 28/58 × 10 = 4.8, contracts 8/58 × 10 = 1.4.
    assert!(page.body.contains("78.8"), "harmony of October on the page");
    // Another grid's employer is out of reach.
    assert_eq!(c.get(&format!("/labor/employers/{other}")).await.status, StatusCode::NOT_FOUND);

    // The grid manager verifies the employer: bad input is refused in Chinese, then saved.
    let form = |employees: &str| {
        vec![
            ("address", "古井镇测试路 8 号".to_string()),
            ("lon", String::new()),
            ("lat", String::new()),
            ("employees", employees.to_string()),
            ("status", "在业".to_string()),
            ("grid_id", grid.clone()),
        ]
    };
    let path = format!("/labor/employers/{uscc}");
    let f = form("很多");
    let fr: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let bad = c.submit(&path, &path, &fr).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("从业人数应为"));
    let f = form("58");
    let fr: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ok = c.submit(&path, &path, &fr).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let (address, method, employees): (String, String, i64) =
        sqlx::query_as("SELECT address, grid_method, employees FROM enterprises WHERE uscc = $1")
            .bind(&uscc)
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!((address.as_str(), method.as_str(), employees), ("古井镇测试路 8 号", "manual", 58));
    // …and cannot hand it to a grid outside their own.
    let foreign: String =
        sqlx::query_scalar("SELECT id FROM grids WHERE id <> $1 LIMIT 1").bind(&grid).fetch_one(db).await.unwrap();
    let mut f = form("58");
    f[5].1 = foreign;
    let fr: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = c.submit(&path, &path, &fr).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("只能划入您管辖范围内的网格"));

    // Exports, audited.
    let csv = c.get("/labor/export?table=months&format=csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains("和谐指数") && csv.body.contains("2026年10月"));
    assert_eq!(c.get("/labor/export?table=grids&format=xlsx").await.status, StatusCode::OK);
    let actions = app.audit_actions().await;
    for a in ["labor.employer.update", "labor.employer.view", "labor.export", "wages.import"] {
        assert!(actions.iter().any(|x| x.0 == a), "{a} audited");
    }

    // Citizens and contractors have no labor pages.
    let citizen = app.login(&app.login_of("citizen").await).await;
    assert_eq!(citizen.get("/labor").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn county_staff_place_unplaced_employers_by_address_keywords() {
    let app = spawn_app().await;
    let db = app.state.db.reader();
    // An employer of the county registered without coordinates and without a grid, at an
    // address carrying a grid's keyword.
    let (grid_id, keywords): (String, String) = sqlx::query_as(
        "SELECT id, keywords FROM grids WHERE division_code LIKE '341602%' AND keywords <> '' ORDER BY code LIMIT 1",
    )
    .fetch_one(db)
    .await
    .unwrap();
    let kw = keywords.lines().max_by_key(|k| k.chars().count()).unwrap().to_string();
    let uscc: String = sqlx::query_scalar("SELECT uscc FROM enterprises WHERE division_code LIKE '341602%' LIMIT 1")
        .fetch_one(db)
        .await
        .unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    sqlx::query(
        "UPDATE enterprises SET lon = NULL, lat = NULL, grid_id = NULL, grid_method = '', address = $1 WHERE uscc = $2",
    )
    .bind(format!("{kw}99号"))
    .bind(&uscc)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let c = app.login("qiaocheng").await;
    let page = c.get("/labor").await;
    assert!(page.body.contains("未划入网格"), "the unplaced employer shows");
    let r = c.submit("/labor", "/labor/place", &[("mode", "unplaced")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (grid, method): (Option<String>, String) =
        sqlx::query_as("SELECT grid_id, grid_method FROM enterprises WHERE uscc = $1")
            .bind(&uscc)
            .fetch_one(db)
            .await
            .unwrap();
    // The longest keyword may be shared by a neighbouring grid; then nobody guesses.
    if method == "keyword" {
        let placed = grid.unwrap();
        let kws: String =
            sqlx::query_scalar("SELECT keywords FROM grids WHERE id = $1").bind(&placed).fetch_one(db).await.unwrap();
        assert!(kws.lines().any(|k| k == kw), "placed in a grid with the keyword (expected like {grid_id})");
    } else {
        assert_eq!((grid, method.as_str()), (None, ""));
    }
    assert!(app.audit_actions().await.iter().any(|a| a.0 == "labor.place" && a.3.contains("按地址关键词")));
    // A grid manager may not run the county's placement.
    let wangge = app.login("wangge").await;
    let r = wangge.submit("/labor", "/labor/place", &[("mode", "all")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "grid managers place their own grid's employers");
    let citizen = app.login(&app.login_of("citizen").await).await;
    let token = citizen.get("/home").await.csrf();
    assert_eq!(citizen.post("/labor/place", &[("_csrf", &token), ("mode", "all")]).await.status, StatusCode::FORBIDDEN);
}
