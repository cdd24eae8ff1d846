//! 亳安码 over HTTP: the police register a person, draw fences, bind the phone; the phone
//! uploads fixes inside, one noisy fix outside (recorded, no alarm), then a run outside (alarm);
//! the officer sees and acknowledges it and the person's code turns yellow. Another agency is
//! refused the person (403, audited).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn upload(app: &TestApp, token: &str, device: &str, fixes: Value) -> (StatusCode, Value) {
    let r = app
        .api()
        .post(format!("{}/api/v1/supervision/fixes", app.base))
        .bearer_auth(token)
        .json(&json!({ "device_id": device, "fixes": fixes }))
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn token_of(html: &str) -> String {
    let start = html.find("ys_").expect("the page shows the device token");
    html[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

#[tokio::test]
async fn fixes_outside_raise_an_alarm_that_the_officer_handles_and_the_code_turns_yellow() {
    let app = spawn_app().await;
    let police = app.login("gongan").await;
    let card = domain::IdCardNo::from_body("34160219850315123").unwrap().to_string();
    let r = police
        .submit(
            "/supervision/persons/new",
            "/supervision/persons",
            &[
                ("id_card_no", card.as_str()),
                ("name", "张监管"),
                ("phone", "13900000000"),
                ("address", "谯城区古井镇"),
                ("division_code", "341602"),
                ("stage", "police"),
                ("measure", "取保候审"),
                ("measure_from", "2026-11-01"),
                ("measure_to", "2027-10-31"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = r.location.unwrap();
    let id = page.rsplit('/').next().unwrap().to_string();
    // A second registration of the same person is refused in Chinese.
    let again = police
        .submit(
            "/supervision/persons/new",
            "/supervision/persons",
            &[
                ("id_card_no", card.as_str()),
                ("name", "张监管"),
                ("division_code", "341602"),
                ("stage", "police"),
                ("measure", "取保候审"),
                ("measure_from", "2026-11-01"),
                ("measure_to", "2027-10-31"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("已在监管中"));

    // Fences: the home area (allowed) and a school (forbidden, drawn on Amap in GCJ-02).
    let fences = format!("{page}/fences");
    let home = r#"{"type":"Polygon","coordinates":[[[115.70,33.80],[115.90,33.80],[115.90,33.90],[115.70,33.90]]]}"#;
    let r = police
        .submit(&page, &fences, &[("name", "居住地"), ("rule", "allowed"), ("geometry", home), ("datum", "wgs84")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (gx, gy) = domain::geo::wgs84_to_gcj02(115.80, 33.85);
    let school = format!(r#"{{"type":"Circle","center":[{gx},{gy}],"radius_m":300}}"#);
    let r = police
        .submit(&page, &fences, &[("name", "某小学"), ("rule", "forbidden"), ("geometry", &school), ("datum", "gcj02")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let bad = police
        .submit(&page, &fences, &[("name", "x"), ("rule", "allowed"), ("geometry", "{oops"), ("datum", "wgs84")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("不是有效的 JSON"));

    // Bind the phone; the token is shown once.
    let bound = police.submit(&page, &format!("{page}/device"), &[("device_id", "IMEI-860000000000001")]).await;
    assert_eq!(bound.status, StatusCode::OK);
    let token = token_of(&bound.body);

    let base = 1_795_000_000_000i64; // 2026-11-18
    let fix = |s: i64, lon: f64, lat: f64| json!({ "at": base + s * 1000, "lon": lon, "lat": lat, "accuracy_m": 10.0 });
    let inside = |s: i64| fix(s, 115.75, 33.82);
    let outside = |s: i64| fix(s, 116.20, 33.82);
    // Inside, one noisy fix outside (recorded, no alarm), inside again.
    let (s, r) =
        upload(&app, &token, "IMEI-860000000000001", json!([inside(0), inside(30), outside(60), inside(90)])).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["accepted"].as_i64(), r["violations"].as_i64(), r["alarms_opened"].as_i64()),
        (Some(4), Some(1), Some(0)),
        "{r}"
    );
    // Sent again after a lost response: nothing new.
    let (_, r) =
        upload(&app, &token, "IMEI-860000000000001", json!([inside(0), inside(30), outside(60), inside(90)])).await;
    assert_eq!((r["accepted"].as_i64(), r["duplicates"].as_i64()), (Some(0), Some(4)));
    // The school (GCJ-02 converted), then three fixes out of the area, out of order: an alarm.
    let (_, r) = upload(
        &app,
        &token,
        "IMEI-860000000000001",
        json!([outside(200), fix(120, 115.80, 33.85), outside(150), outside(180)]),
    )
    .await;
    assert_eq!((r["violations"].as_i64(), r["alarms_opened"].as_i64()), (Some(4), Some(1)), "{r}");
    // Another device, or a bad fix.
    let (s, _) = upload(&app, &token, "IMEI-OTHER", json!([inside(300)])).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, r) =
        upload(&app, &token, "IMEI-860000000000001", json!([{ "at": base + 400_000, "lon": 33.8, "lat": 115.7 }]))
            .await;
    assert!(r["rejected"][0]["reason"].as_str().unwrap().contains("纬度"), "{r}");

    // The officer: inbox, list, person page, acknowledge; the code turns yellow.
    assert!(police.get("/inbox").await.body.contains("越界报警"));
    assert!(police.get("/supervision").await.body.contains("张监管"));
    let person = police.get(&page).await;
    assert_eq!(person.status, StatusCode::OK);
    assert!(person.body.contains("越界报警") && person.body.contains("黄码"), "{}", person.body);
    assert!(person.body.contains("原始越界记录 5 条"));
    let alarm: String = sqlx::query_scalar("SELECT id FROM sup_alarms WHERE person_id = $1")
        .bind(&id)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let act = format!("{page}/alarms/{alarm}");
    assert_eq!(
        police.submit(&page, &act, &[("action", "acknowledge"), ("note", "")]).await.status,
        StatusCode::SEE_OTHER
    );
    let closing = police.submit(&page, &act, &[("action", "close"), ("note", "")]).await;
    assert_eq!(closing.status, StatusCode::UNPROCESSABLE_ENTITY, "closing needs what was found");
    let r = police.submit(&page, &act, &[("action", "close"), ("note", "电话核实：外出就医，已补请假")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let status: String = sqlx::query_scalar("SELECT status FROM sup_alarms WHERE id = $1")
        .bind(&alarm)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(status, "closed");

    // The justice bureau does not hold this case: refused, and the refusal is audited.
    let sifa = app.login("sifa").await;
    assert_eq!(sifa.get(&page).await.status, StatusCode::FORBIDDEN);
    assert!(!sifa.get("/supervision").await.body.contains("张监管"));
    let actions = app.audit_actions().await;
    assert!(actions.iter().any(|a| a.0 == "supervision.person.view" && a.1 == "denied"), "refusal audited");
    for a in [
        "supervision.person.create",
        "supervision.fence.add",
        "supervision.device.bind",
        "supervision.alarm.open",
        "supervision.alarm.handle",
    ] {
        assert!(actions.iter().any(|x| x.0 == a), "{a} audited");
    }
    // The fence drawn in GCJ-02 keeps its original.
    let original: Option<String> = sqlx::query_scalar("SELECT original FROM sup_fences WHERE name = '某小学'")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert!(original.unwrap().contains(&format!("{gx}")));
    // A location gateway (the demo system account) sends many persons' fixes at once; rows
    // for someone not under supervision are refused one by one; the phone's token may not.
    let r = app
        .api()
        .post(format!("{}/api/v1/supervision/fixes/bulk", app.base))
        .bearer_auth(&app.api_token)
        .json(&json!({ "fixes": [
            { "person_id": id, "at": base + 500_000, "lon": 115.75, "lat": 33.82 },
            { "person_id": "nobody", "at": base + 500_000, "lon": 115.75, "lat": 33.82 },
            { "person_id": id, "at": base, "lon": 115.75, "lat": 33.82 },
        ] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!((body["accepted"].as_i64(), body["duplicates"].as_i64()), (Some(1), Some(1)), "{body}");
    assert_eq!(body["rejected"][0]["index"].as_i64(), Some(1));
    let r = app
        .api()
        .post(format!("{}/api/v1/supervision/fixes/bulk", app.base))
        .bearer_auth(&token)
        .json(&json!({ "fixes": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Citizens have no supervision pages.
    assert_eq!(app.login(&app.login_of("citizen").await).await.get("/supervision").await.status, StatusCode::FORBIDDEN);
}
