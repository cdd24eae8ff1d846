use crate::helpers::*;
use domain::clock::Clock;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration as StdDuration;
use time::Duration;

/// The first link under `prefix` whose target is a record id rather than an action such as `export`.
fn first_link(body: &str, prefix: &str) -> String {
    body.match_indices(prefix)
        .map(|(i, _)| {
            let s = i + prefix.len();
            let e = body[s..].find('"').unwrap() + s;
            &body[s..e]
        })
        .find(|id| id.len() >= 16 && !id.contains('/') && !id.contains('?'))
        .expect("a record link")
        .to_string()
}

#[tokio::test]
async fn indicators_raise_deduplicated_alerts_that_go_through_their_lifecycle() {
    let app = spawn_app().await;
    let county = app.login("qiaocheng").await;
    let p = county.submit("/alerts", "/alerts/run", &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let list = county.get("/alerts").await.body;
    let n = app.state.config().indicators.len();
    assert!(list.contains(&format!("已评估 {n} 个指标")), "{list}");
    let total = |body: &str| -> i64 {
        let s = body.find("共 ").unwrap() + "共 ".len();
        body[s..].split(' ').next().unwrap().parse().unwrap()
    };
    let first = total(&list);
    assert!(first > 0, "the demo city has large construction employers");
    // Running again opens nothing new: one open alert per subject and indicator.
    county.submit("/alerts", "/alerts/run", &[]).await;
    let again = county.get("/alerts").await.body;
    assert!(again.contains("新增预警 0"), "{again}");
    assert_eq!(total(&again), first);
    // The county sees only 谯城区; the city leader sees more.
    let leader_total = total(&app.login("leader").await.get("/alerts").await.body);
    assert!(leader_total >= first);
    let scope = store::org::RowScope::Division("341602".into());
    let rows =
        store::alerts::list(&app.state.db, &scope, &Default::default(), store::sql::PageRequest::all()).await.unwrap();
    assert!(rows.items.iter().all(|a| a.division_code.as_deref().unwrap().starts_with("341602")));

    // Lifecycle on one alert: acknowledge, order rectification, deadline passes → escalated.
    let scale_list = county.get("/alerts?indicator=employer.construction_scale").await.body;
    let id = first_link(&scale_list, "href=\"/alerts/");
    let page = county.get(&format!("/alerts/{id}")).await.body;
    assert!(page.contains("触发预警的事实") && page.contains("从业人数") && !page.contains("employees"), "{page}");
    let p =
        county.submit(&format!("/alerts/{id}"), &format!("/alerts/{id}/actions"), &[("action", "acknowledge")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let p = county
        .submit(
            &format!("/alerts/{id}"),
            &format!("/alerts/{id}/actions"),
            &[("action", "dispose"), ("kind", "rectification_order"), ("deadline", "2026-11-20"), ("text", "限期整改")],
        )
        .await;
    assert!(p.body.contains("整改期限应晚于今天"), "{}", p.body);
    let p = county
        .submit(
            &format!("/alerts/{id}"),
            &format!("/alerts/{id}/actions"),
            &[
                ("action", "dispose"),
                ("kind", "rectification_order"),
                ("deadline", "2026-12-11"),
                ("text", "请于期限内开设农民工工资专用账户并报送"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    // Issued by the indicator's department under its own number, to the employer, sealed, with
    // the facts in words and a QR code that verifies.
    let doc = county.get(&format!("/alerts/{id}/document")).await.body;
    for part in [
        "整改通知单",
        "亳州市人力资源和社会保障局",
        "亳人社整〔2026〕1号",
        "2026年12月11日",
        "从业人数：",
        "电子印章",
        "文书核验二维码",
    ] {
        assert!(doc.contains(part), "{part}: {doc}");
    }
    let sheet = doc.split("<article class=\"gov-doc\"").nth(1).unwrap().split("</article>").next().unwrap();
    assert!(!sheet.contains("营商环境数字化平台") && !sheet.contains("employees"), "{sheet}");
    let name: String = sqlx::query_scalar("SELECT subject_name FROM alerts WHERE id = $1")
        .bind(&id)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert!(doc.contains(&format!("{name}：")), "addressed to the employer: {doc}");
    let link =
        doc.split("href=\"/documents/verify?p=").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let anyone = app.client();
    let ok = anyone.get(&format!("/documents/verify?p={link}")).await.body;
    assert!(ok.contains("核验通过") && ok.contains("亳人社整〔2026〕1号"), "{ok}");
    // One character of the number changed: the seal's signature no longer holds.
    let forged = link.replacen("1%E5%8F%B7", "2%E5%8F%B7", 1);
    assert_ne!(forged, link);
    let bad = anyone.get(&format!("/documents/verify?p={forged}")).await.body;
    assert!(bad.contains("核验不通过") && bad.contains("签名无效"), "{bad}");
    // The same document as an A4 PDF; strangers get nothing.
    assert_pdf(&county.get_bytes(&format!("/alerts/{id}/document.pdf")).await);
    assert_eq!(anyone.get_bytes(&format!("/alerts/{id}/document.pdf")).await.0, StatusCode::SEE_OTHER);
    let keys = anyone.get("/documents/keys").await.body;
    assert!(keys.contains("/documents/keys/rsj.pem"), "{keys}");
    let pem = anyone.get("/documents/keys/rsj.pem").await;
    assert!(pem.status == StatusCode::OK, "{}", pem.status);
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(a, _, _, d)| a == "gov_document.issue" && d.contains("亳人社整〔2026〕1号")));
    app.clock.set(time::macros::datetime!(2026-12-12 09:00 +8));
    let mut escalated = false;
    for _ in 0..60 {
        let d = store::alerts::get(&app.state.db, &store::org::RowScope::All, &id).await.unwrap();
        if d.alert.status == domain::rules::AlertStatus::Escalated {
            escalated = true;
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert!(escalated, "the deadline job escalated the alert");
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(a, ..)| a == "alert.escalate"));
    assert!(audit.iter().any(|(a, _, _, d)| a == "alerts.run" && d.contains(&format!("评估 {n} 个指标"))));
}

#[tokio::test]
async fn facts_changing_raise_or_clear_the_level() {
    let app = spawn_app().await;
    let cal = app.state.calendar();
    let now = app.clock.now();
    // A construction employer with 150 staff: yellow.
    let uscc: String = sqlx::query_scalar("SELECT uscc FROM enterprises WHERE industry = '建筑' ORDER BY uscc LIMIT 1")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let set = |n: i64| {
        let db = app.state.db.clone();
        let uscc = uscc.clone();
        async move {
            let mut tx = db.begin().await.unwrap();
            sqlx::query("UPDATE enterprises SET employees = $1 WHERE uscc = $2")
                .bind(n)
                .bind(&uscc)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    };
    let level = || {
        let db = app.state.db.clone();
        let uscc = uscc.clone();
        async move {
            let f = store::alerts::AlertFilter {
                indicator: Some("employer.construction_scale".into()),
                closed: true,
                ..Default::default()
            };
            let rows =
                store::alerts::list(&db, &store::org::RowScope::Enterprise(uscc), &f, store::sql::PageRequest::all())
                    .await
                    .unwrap()
                    .items;
            rows.into_iter()
                .map(|a| (a.level.as_str().to_string(), a.status.as_str().to_string(), a.cleared))
                .collect::<Vec<_>>()
        }
    };
    set(150).await;
    store::alerts::run_all(&app.state.db, &app.state.config(), &cal, web::case::subject_sources(), now).await.unwrap();
    assert_eq!(level().await, vec![("yellow".to_string(), "open".to_string(), 0)]);
    set(1200).await;
    store::alerts::run_all(&app.state.db, &app.state.config(), &cal, web::case::subject_sources(), now).await.unwrap();
    assert_eq!(level().await, vec![("red".to_string(), "open".to_string(), 0)], "same alert, level raised");
    set(20).await;
    let r = store::alerts::run_all(&app.state.db, &app.state.config(), &cal, web::case::subject_sources(), now)
        .await
        .unwrap();
    assert!(r.cleared >= 1);
    assert_eq!(level().await, vec![("red".to_string(), "open".to_string(), 1)], "kept until verified, marked cleared");
    // The employer's grid manager was told (notify: grid_manager of the subject's grid).
    let grid: Option<String> = sqlx::query_scalar("SELECT grid_id FROM enterprises WHERE uscc = $1")
        .bind(&uscc)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let managers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE grid_id = $1")
        .bind(&grid)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let notices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE link LIKE '/alerts/%' AND user_id IN (SELECT id FROM users WHERE grid_id = $1)")
        .bind(&grid)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    if managers > 0 {
        assert!(notices >= 2, "opened and raised");
    }
}

#[tokio::test]
async fn new_facts_for_one_subject_are_evaluated_at_once() {
    let app = spawn_app().await;
    let cal = app.state.calendar();
    let now = app.clock.now();
    let pick = |division: &'static str| {
        let db = app.state.db.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT uscc FROM enterprises WHERE industry = '建筑' AND division_code LIKE $1 ORDER BY uscc LIMIT 1",
            )
            .bind(format!("{division}%"))
            .fetch_one(db.reader())
            .await
            .unwrap()
        }
    };
    let (mine, other) = (pick("341602").await, pick("341623").await);
    // Facts written and evaluated in one transaction: the alert sees the uncommitted facts.
    let mut tx = app.state.db.begin().await.unwrap();
    sqlx::query("UPDATE enterprises SET employees = 1200 WHERE uscc = $1").bind(&mine).execute(&mut *tx).await.unwrap();
    let r =
        store::alerts::run_for_subject(&mut tx, &app.state.config(), &cal, &store::wages::labor::Employers, &mine, now)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    assert_eq!((r.subjects, r.opened), (1, 1), "{r:?}");
    let level = || async {
        let rows = store::alerts::list(
            &app.state.db,
            &store::org::RowScope::Enterprise(mine.clone()),
            &store::alerts::AlertFilter { indicator: Some("employer.construction_scale".into()), ..Default::default() },
            store::sql::PageRequest::all(),
        )
        .await
        .unwrap();
        rows.items.into_iter().map(|a| a.level.as_str()).collect::<Vec<_>>()
    };
    assert_eq!(level().await, vec!["red"]);

    // Over the API, by the county's staff: their own county only.
    let mut tx = app.state.db.begin().await.unwrap();
    sqlx::query("UPDATE enterprises SET employees = 400 WHERE uscc = $1").bind(&mine).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let county = app.login("qiaocheng").await;
    let token = county.get("/home").await.csrf();
    let call = |ty: &str, id: &str| {
        county
            .http
            .post(format!("{}/api/v1/alerts/evaluate", app.base))
            .header("x-csrf-token", &token)
            .json(&serde_json::json!({"subject_type": ty, "subject_id": id}))
            .send()
    };
    let r = call("employer", &mine).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["subjects"].as_u64(), v["changed"].as_u64()), (Some(1), Some(1)), "{v}");
    assert_eq!(level().await, vec!["orange"], "the level fell with the facts");
    assert_eq!(call("employer", &other).await.unwrap().status(), StatusCode::NOT_FOUND, "outside 谯城区");
    let r = call("company", &mine).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("没有名为“company”的对象类型"));
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(a, _, _, d)| a == "alerts.run" && d.contains("新事实触发评估")));
}

#[tokio::test]
async fn score_events_over_the_api_change_the_colour() {
    let app = spawn_app().await;
    let api = app.api();
    let post = |kind: &str| {
        let req = api
            .post(format!("{}/api/v1/score-events", app.base))
            .bearer_auth(app.token("data-hub"))
            .json(&serde_json::json!({"subject_type": "person", "subject_id": "P-001", "kind": kind, "note": "测试"}));
        async move { req.send().await.unwrap() }
    };
    let r = post("teleport").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("未知事件类型“teleport”"));
    // Every score over persons is recomputed (the demo score and 亳安码); this test reads the
    // demo one.
    let demo = |v: Value| v.as_array().unwrap().iter().find(|x| x["score"] == "demo_risk").cloned().unwrap();
    let v = demo(post("missed_check_in").await.json().await.unwrap());
    assert_eq!(v["color"], "green");
    let v = demo(post("fence_alarm").await.json().await.unwrap());
    assert_eq!((v["points"].as_u64(), v["color"].as_str()), (Some(35), Some("yellow")));
    post("fence_alarm").await;
    let v = demo(post("late_response").await.json().await.unwrap());
    assert_eq!(v["color"], "red");
    assert!(v["measures"].as_array().unwrap().iter().any(|m| m == "提请抓捕收监评估"));
    // Explained on the page, with history, to a city-wide viewer; a county clerk sees only
    // persons whose case its own agency holds (P-001 is nobody's case).
    let county = app.login("qiaocheng").await;
    assert_eq!(county.get("/scores/person/P-001").await.status, StatusCode::FORBIDDEN);
    let c = app.login("leader").await;
    let page = c.get("/scores/person/P-001").await.body;
    assert!(page.contains("越界报警") && page.contains("红码") && page.contains("历史"), "{page}");
    assert!(c.get("/scores").await.body.contains("P-001"));
    // Older than the window, events stop counting.
    app.clock.advance(Duration::days(61));
    let v = app.api_get("/api/v1/scores/person/P-001").await;
    assert_eq!(v["code"], "forbidden", "the bank system may not read scores: {v}");
    let list = store::scores::of_subject(&app.state.db, &app.state.config(), "person", "P-001", app.clock.now())
        .await
        .unwrap();
    assert_eq!(list[0].1.points, 0);
}

#[tokio::test]
async fn applications_over_the_api() {
    let app = spawn_app().await;
    let ent = app.login(&app.login_of("enterprise").await).await;
    let token = ent.get("/home").await.csrf();
    let body = serde_json::json!({"def": "demo_joint_review", "title": "接口提交的项目", "facts": {"investment": 12_000_000_000i64, "land_area": 1, "building_area": 1, "industry": "物流", "county": "341602", "government_funded": false}});
    let r = ent
        .http
        .post(format!("{}/api/v1/applications", app.base))
        .header("x-csrf-token", &token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["tasks"][0]["department"], "sjj");
    let bad = serde_json::json!({"def": "demo_joint_review", "title": "x", "facts": {"investment": "many"}});
    let r = ent
        .http
        .post(format!("{}/api/v1/applications", app.base))
        .header("x-csrf-token", &token)
        .json(&bad)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["code"].as_str(), v["field"].as_str()), (Some("invalid"), Some("facts.investment")));
    // The window approves over the API; a department that is not the window is refused.
    let window = app.login("chuangkou").await;
    let t = window.get("/home").await.csrf();
    let tasks: Value =
        window.http.get(format!("{}/api/v1/tasks", app.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(tasks["total"], 1);
    let url = format!("{}/api/v1/applications/{id}/tasks/1/actions", app.base);
    let other = app.login("jiaotong").await;
    let ot = other.get("/home").await.csrf();
    let r = other
        .http
        .post(&url)
        .header("x-csrf-token", ot)
        .json(&serde_json::json!({"action": "approve"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = window
        .http
        .post(&url)
        .header("x-csrf-token", t)
        .json(&serde_json::json!({"action": "approve", "comment": "受理",
            "received": ["application_form", "site_plan", "fire_design", "traffic_study"]}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["tasks"].as_array().unwrap().len(), 4, "three parallel reviews opened");
}
