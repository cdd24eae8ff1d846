//! The hardening issue, one test per finding: each failed on the code before it.

use crate::helpers::*;
use domain::clock::Clock;
use reqwest::StatusCode;
use serde_json::json;
use std::io::Write;
use time::Duration;

/// An XLSX with the given worksheet XML (and a workbook that points at it).
fn xlsx(sheet: &str) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in [
        (
            "xl/workbook.xml",
            r#"<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ] {
        w.start_file(name, opts).unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

async fn upload(
    client: &Client,
    form_page: &str,
    path: &str,
    fields: &[(&str, &str)],
    name: &str,
    bytes: Vec<u8>,
) -> Page {
    let token = client.get(form_page).await.csrf();
    let mut form = reqwest::multipart::Form::new().text("_csrf", token);
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    let r = client.http.post(format!("{}{path}", client.base)).multipart(form).send().await.unwrap();
    Page {
        status: r.status(),
        headers: r.headers().clone(),
        location: r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string),
        body: r.text().await.unwrap_or_default(),
    }
}

#[tokio::test]
async fn a_sparse_spreadsheet_is_refused_and_the_server_lives() {
    let app = spawn_app().await;
    let sparse = xlsx(
        r#"<worksheet><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>流水号</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#,
    );
    assert!(sparse.len() < 2_000);
    let contractor = app.login(&app.login_of("enterprise").await).await;
    let p = upload(
        &contractor,
        "/wages/import",
        "/wages/import",
        &[("kind", "payroll"), ("source", "自报")],
        "s.xlsx",
        sparse.clone(),
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    assert!(p.body.contains("超过 200 列的上限"), "{}", p.body);
    let shichang = app.login("shichang").await;
    let p = upload(
        &shichang,
        "/exchange",
        "/exchange/import",
        &[("interface", "scjg.enterprise"), ("source", "x")],
        "s.xlsx",
        sparse,
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("超过 200 列的上限"));
    // A cell far larger than any real one (deflated to a few KB): refused, nothing stored.
    let big = xlsx(&format!(
        r#"<worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>流水号</t></is></c></row><row r="2"><c t="inlineStr"><is><t>{}</t></is></c></row></sheetData></worksheet>"#,
        "欠".repeat(3_000_000)
    ));
    let p = upload(
        &contractor,
        "/wages/import",
        "/wages/import",
        &[("kind", "payroll"), ("source", "自报")],
        "b.xlsx",
        big,
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("超过 2000 字的上限"), "{}", p.body);
    assert_eq!(app.client().get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn refused_values_are_stored_bounded_and_batches_paged() {
    let app = spawn_app().await;
    let rows: Vec<_> = (0..150)
        .map(|i| {
            json!({"external_id": format!("L{i}"), "project_code": "GC0001", "id_card_no": "bad", "month": "2026-10",
            "amount_fen": 100, "paid_on": "2026-11-10", "note": "x".repeat(100_000)})
        })
        .collect();
    let report = app.ingest("payments", json!(rows)).await;
    assert_eq!(report["rejected"], 150);
    let stored: i64 = sqlx::query_scalar("SELECT MAX(length(raw)) FROM ingest_rejections")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert!(stored < 600, "a refused row keeps a prefix and its length, not 100 KB: {stored}");
    // An enterprise's own file with 150 refused rows: its batch page shows them 100 a page.
    let enterprise = app.login(&app.login_of("enterprise").await).await;
    let mut csv = String::from("项目编号,身份证号码,工资月份,应发工资（元）,备注\n");
    for _ in 0..150 {
        csv.push_str(&format!("GC0001,bad,2026-10,100,{}\n", "长".repeat(1_900)));
    }
    let p = upload(
        &enterprise,
        "/wages/import",
        "/wages/import",
        &[("kind", "payroll"), ("source", "自报")],
        "p.csv",
        csv.into_bytes(),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = enterprise.get(p.location.as_deref().unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches("<tr><td class=\"num\">").count(), 100, "one page of 100");
    assert!(page.body.contains("page=2"));
    assert!(page.body.contains("（共 "), "the cut value says how long it was");
    let second = enterprise.get(&format!("{}?page=2", p.location.as_deref().unwrap())).await;
    assert_eq!(second.body.matches("<tr><td class=\"num\">").count(), 50);
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_locks_after_five_checks() {
    let app = spawn_app().await;
    let mut tasks = vec![];
    for _ in 0..40 {
        let c = app.client();
        let token = c.get("/login").await.csrf();
        tasks.push(tokio::spawn(async move {
            c.post("/login", &[("_csrf", &token), ("account", "renshe"), ("password", "Wrong@2026x")]).await.status
        }));
    }
    for t in tasks {
        let s = t.await.unwrap();
        assert!(s == StatusCode::UNAUTHORIZED || s == StatusCode::TOO_MANY_REQUESTS, "{s}");
    }
    let (_, p) = app.try_login("renshe", DEMO_PASSWORD).await;
    assert_ne!(p.status, StatusCode::SEE_OTHER, "the right password after the burst is refused");
    let checked = app
        .audit_actions()
        .await
        .iter()
        .filter(|(a, o, _, d)| a == "auth.login" && o == "failure" && d.contains("密码错误第"))
        .count();
    assert!(checked <= 5, "{checked} passwords were checked; the lock allows 5");
    let user = store::auth::user_by_login(&app.state.db, "renshe").await.unwrap().unwrap();
    assert!(user.attempts().is_locked(app.clock.now()));
}

#[tokio::test]
async fn the_login_page_does_not_tell_which_accounts_exist() {
    let app = spawn_app().await;
    let system = sqlx::query_scalar::<_, String>("SELECT login FROM users WHERE kind = 'system' LIMIT 1")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let mut messages = vec![];
    for account in ["nobody-at-all", "renshe", system.as_str()] {
        let (_, p) = app.try_login(account, "Wrong@2026x").await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
        let at = p.body.find("class=\"error\"").or_else(|| p.body.find("账号或密码错误")).expect("an error");
        messages.push(p.body[at..].chars().take(60).collect::<String>());
        assert!(
            p.body.contains("账号或密码错误") && !p.body.contains("再错") && !p.body.contains("接口令牌"),
            "{account}"
        );
    }
    // An unknown account locks after five failures just as a real one does.
    for _ in 0..4 {
        app.try_login("nobody-at-all", "Wrong@2026x").await;
    }
    let (_, p) = app.try_login("nobody-at-all", "Wrong@2026x").await;
    assert!(p.body.contains("账号已锁定至"), "{}", p.body);
    let (_, p) = app.try_login("nobody-at-all", "Wrong@2026x").await;
    assert!(p.body.contains("账号已锁定至"));
}

#[tokio::test]
async fn one_source_gets_its_failed_logins_per_window() {
    let app = spawn_app_with(|c| c.city.security.login_failures_per_source = 10).await;
    for i in 0..10 {
        let (_, p) = app.try_login(&format!("guess{i}"), "Wrong@2026x").await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (_, p) = app.try_login("leader", DEMO_PASSWORD).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(p.body.contains("登录尝试过于频繁"));
    app.clock.advance(Duration::minutes(15));
    let (_, p) = app.try_login("leader", DEMO_PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn next_with_a_tab_or_newline_goes_home() {
    let app = spawn_app().await;
    let c = app.login("leader").await;
    let p = c.get("/login?next=/%09/evil.example").await;
    assert_eq!(p.location.as_deref(), Some("/home"));
    let p = c.get("/login?next=/%0A/evil.example").await;
    assert_eq!(p.location.as_deref(), Some("/home"));
    let c = app.client();
    let token = c.get("/login").await.csrf();
    let p = c
        .post(
            "/login",
            &[("_csrf", &token), ("account", "leader"), ("password", DEMO_PASSWORD), ("next", "/\n/evil.example")],
        )
        .await;
    assert_eq!((p.status, p.location.as_deref()), (StatusCode::SEE_OTHER, Some("/home")));
}

#[tokio::test]
async fn bodies_are_bounded_before_they_are_read() {
    let app = spawn_app().await;
    // Without a session: 256 KiB at most, even with a valid token.
    let c = app.client();
    let token = c.get("/login").await.csrf();
    let big = "x".repeat(1024 * 1024);
    let p = c.post("/login", &[("_csrf", &token), ("account", "leader"), ("password", &big)]).await;
    assert_eq!(p.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Signed in, with no token where the form puts it: refused before 30 MB are read.
    let admin = app.login("admin").await;
    let body = format!("a={}&_csrf=late", "x".repeat(30 * 1024 * 1024));
    let r = admin
        .http
        .post(format!("{}/admin/departments", admin.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await;
    // The server answers 403 after the first 64 KiB; it may close before the client finished.
    if let Ok(r) = r {
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn api_errors_are_always_the_json_envelope() {
    let app = spawn_app().await;
    let url = format!("{}/api/v1/wages/ingest/payments", app.base);
    let r = app.api().post(&url).json(&json!({"rows": []})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "no token, no session: 401, not 403");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated");
    let r = app
        .api()
        .post(&url)
        .bearer_auth(&app.api_token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "bad_request");
    assert!(body["message"].as_str().unwrap().contains("请求格式不正确"));
    let r = app.api().post(&url).bearer_auth(&app.api_token).body("rows").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unsupported_media_type");
    let big = format!("{{\"rows\": [\"{}\"]}}", "x".repeat(26 * 1024 * 1024));
    let r = app
        .api()
        .post(&url)
        .bearer_auth(&app.api_token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], "too_large");
    }
    let spec = app.client().get("/api/openapi.json").await.body;
    let spec: serde_json::Value = serde_json::from_str(&spec).unwrap();
    let ack = &spec["paths"]["/api/v1/supervision/summons/{id}/ack"]["post"]["parameters"];
    assert_eq!(ack[0]["name"], "id", "{ack}");
}

#[tokio::test]
async fn absurd_amounts_are_refused_and_stored_ones_break_no_page() {
    let app = spawn_app().await;
    let worker: String = sqlx::query_scalar(
        "SELECT w.id_card_no FROM wage_workers w JOIN wage_projects p ON p.id = w.project_id WHERE p.code = 'GC0001' LIMIT 1",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    let report = app
        .ingest(
            "payments",
            json!([{"external_id": "MAX", "project_code": "GC0001", "id_card_no": worker, "month": "2026-10",
                "amount_fen": "9223372036854775807", "paid_on": "2026-11-10"}]),
        )
        .await;
    assert_eq!(report["rejected"], 1, "{report}");
    assert!(report["rejections"][0]["reason"].as_str().unwrap().contains("超出合理范围"), "{report}");
    // Rows stored before the check existed (or written around it) must not break sums.
    let mut tx = app.state.db.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO wage_payments (id, project_id, worker_id, month, amount_fen, paid_on, method, cross_bank, source, external_id, created_at)
         SELECT 'x' || id, project_id, worker_id, month, 9223372036854775807, paid_on, method, cross_bank, source, 'X' || external_id, created_at
         FROM wage_payments WHERE project_id = (SELECT id FROM wage_projects WHERE code = 'GC0001') LIMIT 3",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let leader = app.login("leader").await;
    assert_eq!(leader.get("/wages/stats").await.status, StatusCode::OK);
    assert_eq!(leader.get("/wages/projects/GC0001").await.status, StatusCode::OK);
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_configured_proxies() {
    let app = spawn_app().await;
    let c = app.client();
    let token = c.get("/login").await.csrf();
    c.http
        .post(format!("{}/login", c.base))
        .header("x-forwarded-for", "6.6.6.6")
        .form(&[("_csrf", token.as_str()), ("account", "leader"), ("password", "Wrong@2026x")])
        .send()
        .await
        .unwrap();
    let log = store::audit::list(&app.state.db, &Default::default(), store::sql::PageRequest::new(Some(1), Some(50)))
        .await
        .unwrap();
    let row = log.items.iter().find(|r| r.entry.action == "auth.login").unwrap();
    assert_eq!(row.entry.ip, "127.0.0.1");

    let proxied = spawn_app_with(|c| {
        c.city.security.trusted_proxies = vec![domain::net::IpRange::parse("127.0.0.1").unwrap()];
    })
    .await;
    let (c, _) = (proxied.client(), ());
    let token = c.get("/login").await.csrf();
    c.http
        .post(format!("{}/login", c.base))
        .header("x-forwarded-for", "203.0.113.7, 127.0.0.1")
        .form(&[("_csrf", token.as_str()), ("account", "leader"), ("password", "Wrong@2026x")])
        .send()
        .await
        .unwrap();
    let log =
        store::audit::list(&proxied.state.db, &Default::default(), store::sql::PageRequest::new(Some(1), Some(50)))
            .await
            .unwrap();
    let row = log.items.iter().find(|r| r.entry.action == "auth.login").unwrap();
    assert_eq!(row.entry.ip, "203.0.113.7");
}

#[tokio::test]
async fn metrics_only_for_configured_addresses() {
    let app = spawn_app().await;
    assert_eq!(app.client().get("/metrics").await.status, StatusCode::OK, "loopback is allowed by default");
    let closed =
        spawn_app_with(|c| c.city.security.metrics_from = vec![domain::net::IpRange::parse("10.9.9.9").unwrap()]).await;
    assert_eq!(closed.client().get("/metrics").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn repeated_refusals_from_one_source_are_one_counted_record() {
    let app = spawn_app().await;
    let citizen = app.login(&app.login_of("citizen").await).await;
    for _ in 0..30 {
        assert_eq!(citizen.get("/admin/users").await.status, StatusCode::FORBIDDEN);
    }
    let denied = |a: &Vec<(String, String, String, String)>| a.iter().filter(|(a, ..)| a == "access.denied").count();
    assert_eq!(denied(&app.audit_actions().await), 1);
    app.clock.advance(Duration::minutes(10));
    citizen.get("/admin/users").await;
    let audit = app.audit_actions().await;
    assert_eq!(denied(&audit), 3, "the summary and the new interval's first");
    assert!(audit.iter().any(|(a, _, _, d)| a == "access.denied" && d.contains("又被拒绝 29 次")));
}

#[tokio::test]
async fn scores_follow_the_holding_agency() {
    let app = spawn_app().await;
    let police: Vec<(String, String)> = sqlx::query_as(
        "SELECT p.id, p.name FROM sup_persons p JOIN departments d ON d.id = p.agency_id
         WHERE d.code = 'gaj' AND p.id IN (SELECT subject_id FROM score_history)",
    )
    .fetch_all(app.state.db.reader())
    .await
    .unwrap();
    assert!(!police.is_empty(), "the demo scores the police's persons");
    let gongan = app.login("gongan").await;
    let sifa = app.login("sifa").await;
    let (id, _) = &police[0];
    assert!(gongan.get("/scores").await.body.contains(id.as_str()), "the holding agency sees its persons' scores");
    let list = sifa.get("/scores").await;
    assert_eq!(list.status, StatusCode::OK);
    for (id, _) in &police {
        assert!(!list.body.contains(id.as_str()), "sifa must not list the police's person {id}");
    }
    assert_eq!(sifa.get(&format!("/scores/person/{id}")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(sifa.get(&format!("/api/v1/scores/person/{id}")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(gongan.get(&format!("/api/v1/scores/person/{id}")).await.status, StatusCode::OK);
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(a, o, oid, _)| a == "score.view" && o == "denied" && oid == id));
}

#[tokio::test]
async fn a_number_alone_reveals_no_person() {
    let app = spawn_app().await;
    let (sfz, holder): (String, String) =
        sqlx::query_as("SELECT number, holder_name FROM licenses WHERE type = 'sfz' LIMIT 1")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    let anon = app.client();
    let p = anon.get(&format!("/licenses/verify?number={sfz}")).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(!p.body.contains(&holder), "no name: {}", p.body);
    assert_eq!(p.body.matches(&sfz[3..]).count(), 1, "the ID number only as typed into the box: {}", p.body);
    let unknown = anon.get("/licenses/verify?number=SFZ341621196002270000").await;
    let msg = |b: &str| b.contains("未找到可按编号核验的证照");
    assert!(msg(&p.body) && msg(&unknown.body), "an identity document answers as an unknown number does");
    // A business license by number: genuine, type, issuer, validity; no holder.
    let (yyzz, name): (String, String) =
        sqlx::query_as("SELECT number, holder_name FROM licenses WHERE type = 'yyzz' LIMIT 1")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    let p = anon.get(&format!("/licenses/verify?number={yyzz}")).await;
    assert!(p.body.contains("营业执照") && p.body.contains("有效期至"), "{}", p.body);
    assert!(!p.body.contains(&format!("<dd>{name}</dd>")), "the holder is not shown by number");
    // The API: no name for any logged-in user; the holder's staff see it, audited.
    let citizen = app.login(&app.login_of("citizen").await).await;
    let v: serde_json::Value =
        serde_json::from_str(&citizen.get(&format!("/api/v1/licenses/{sfz}/verification")).await.body).unwrap();
    assert!(v["holder_name"].is_null() && v["title"].is_null(), "{v}");
    let v: serde_json::Value =
        serde_json::from_str(&citizen.get(&format!("/api/v1/licenses/{yyzz}/verification")).await.body).unwrap();
    assert!(v["holder_name"].is_null() && v["valid"] == true, "{v}");
    let shichang = app.login("shichang").await;
    let v: serde_json::Value =
        serde_json::from_str(&shichang.get(&format!("/api/v1/licenses/{yyzz}/verification")).await.body).unwrap();
    assert_eq!(v["holder_name"], name.as_str());
    assert!(app.audit_actions().await.iter().any(|(a, _, id, _)| a == "license.view" && id == &yyzz));
}

#[tokio::test]
async fn each_system_token_does_only_its_own_work() {
    let app = spawn_app().await;
    let post = |token: String, path: &str, body: serde_json::Value| {
        let req = app.api().post(format!("{}{path}", app.base)).bearer_auth(token).json(&body);
        async move { req.send().await.unwrap() }
    };
    let bank = app.token("bank-api").to_string();
    let person: String =
        sqlx::query_scalar("SELECT id FROM sup_persons LIMIT 1").fetch_one(app.state.db.reader()).await.unwrap();
    let fix = json!({ "fixes": [{ "person_id": person, "at": 1_764_900_000_000i64, "lon": 115.75, "lat": 33.82 }] });
    // The bank: its transfers yes; a supervised person's location, another department's
    // registry record, a project's payroll: no.
    let r = post(bank.clone(), "/api/v1/supervision/fixes/bulk", fix.clone()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(bank.clone(), "/api/v1/exchange/ga.population/records", json!({"source": "x", "records": []})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(bank.clone(), "/api/v1/wages/ingest/payroll", json!({"rows": []})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("只能推送"), "{body}");
    let r = post(bank, "/api/v1/wages/ingest/payments", json!({"rows": []})).await;
    assert_ne!(r.status(), StatusCode::FORBIDDEN, "{}", r.text().await.unwrap());
    // The location platform: fixes only.
    let gw = app.token("location-gw").to_string();
    assert_eq!(post(gw.clone(), "/api/v1/supervision/fixes/bulk", fix).await.status(), StatusCode::OK);
    assert_eq!(post(gw, "/api/v1/wages/ingest/payments", json!({"rows": []})).await.status(), StatusCode::FORBIDDEN);
    // 市场监管局's system: its own interfaces, not 公安's population register.
    let scjg = app.token("scjg-sys").to_string();
    let r = post(scjg.clone(), "/api/v1/exchange/ga.population/records", json!({"source": "x", "records": []})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(
        scjg,
        "/api/v1/exchange/scjg.enterprise/records",
        json!({"source": "安徽省市场主体登记系统", "records": []}),
    )
    .await;
    assert_ne!(r.status(), StatusCode::FORBIDDEN, "{}", r.text().await.unwrap());
    let audit = app.audit_actions().await;
    assert!(
        audit.iter().filter(|(a, o, ..)| a == "access.denied" && o == "denied").count() >= 3,
        "refusals are audited"
    );
}

#[tokio::test]
async fn the_auditor_verifies_against_signed_checkpoints_and_downloads_them() {
    let app = spawn_app().await;
    let anchor = app.state.audit_anchor.clone().expect("the server keeps an anchor");
    anchor.checkpoint(&app.state.db, app.clock.now()).await.unwrap().expect("a first checkpoint");
    let auditor = app.login("auditor").await;
    let p = auditor.submit("/audit", "/audit/verify", &[]).await;
    assert!(p.body.contains("与 1 个库外签名检查点一致"), "{}", p.body);
    let file = auditor.get("/audit/checkpoints").await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.body.starts_with("v1\t") && file.body.lines().count() == 1, "{}", file.body);
    assert_eq!(app.login("admin").await.get("/audit/checkpoints").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn behind_https_browsers_are_told_to_stay_on_it() {
    let app = spawn_app_secure().await;
    let p = app.client().get("/login").await;
    assert_eq!(p.headers.get("strict-transport-security").unwrap(), "max-age=31536000; includeSubDomains");
    let plain = spawn_app().await;
    assert!(plain.client().get("/login").await.headers.get("strict-transport-security").is_none());
}
