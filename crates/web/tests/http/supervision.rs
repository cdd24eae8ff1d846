//! 亳安码 over HTTP: the police register a person, draw fences, bind the phone; the phone
//! uploads fixes inside, one noisy fix outside (recorded, no alarm), then a run outside (alarm);
//! the officer sees and acknowledges it and the person's code turns yellow. Another agency is
//! refused the person (403, audited).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) async fn upload(app: &TestApp, token: &str, device: &str, fixes: Value) -> (StatusCode, Value) {
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

/// Registers a person with the police (on bail or the like, in 谯城区) and returns their ID
/// number and page.
pub(crate) async fn register(
    police: &Client,
    card_body: &str,
    name: &str,
    measure: &str,
    period: (&str, &str),
) -> (String, String) {
    register_at(police, "police", card_body, name, measure, period).await
}

/// Registers a person at `stage` by the caller's agency.
pub(crate) async fn register_at(
    agency: &Client,
    stage: &str,
    card_body: &str,
    name: &str,
    measure: &str,
    period: (&str, &str),
) -> (String, String) {
    let card = domain::IdCardNo::from_body(card_body).unwrap().to_string();
    let r = agency
        .submit(
            "/supervision/persons/new",
            "/supervision/persons",
            &[
                ("id_card_no", card.as_str()),
                ("name", name),
                ("division_code", "341602"),
                ("stage", stage),
                ("measure", measure),
                ("measure_from", period.0),
                ("measure_to", period.1),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    (card, r.location.unwrap())
}

/// The allowed area on bail: the county of residence, 谯城区 (刑事诉讼法 art. 71 ¶1(1)).
async fn fence_home(police: &Client, page: &str) {
    fence_allowed(police, page, "居住地所在县（市、区）", COUNTY).await
}

/// The allowed area under 监视居住: a box round the residence at 115.8, 33.85 (art. 77 ¶1(1)).
async fn fence_residence(police: &Client, page: &str) {
    fence_allowed(police, page, "住处", RESIDENCE).await
}

pub(crate) const COUNTY: &str = r#"{"type":"Division","code":"341602"}"#;
const RESIDENCE: &str =
    r#"{"type":"Polygon","coordinates":[[[115.70,33.80],[115.90,33.80],[115.90,33.90],[115.70,33.90]]]}"#;

pub(crate) async fn fence_allowed(police: &Client, page: &str, name: &str, geometry: &str) {
    let r = police
        .submit(
            page,
            &format!("{page}/fences"),
            &[("name", name), ("rule", "allowed"), ("geometry", geometry), ("datum", "wgs84")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

pub(crate) fn token_of(html: &str) -> String {
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

    // Fences: the county of residence (allowed) and a school (forbidden, drawn on Amap in GCJ-02).
    let fences = format!("{page}/fences");
    let r = police
        .submit(
            &page,
            &fences,
            &[("name", "居住地所在县"), ("rule", "allowed"), ("geometry", COUNTY), ("datum", "wgs84")],
        )
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

    // The executing organ issues the compliance report as a sealed document to the deciding
    // organ, numbered in its own series, with its PDF.
    let r = police.submit(&format!("{page}/report"), &format!("{page}/report/issue"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let sheet = police.get(&format!("{page}/report/issued")).await.body;
    assert!(sheet.contains("被监管人员遵规守纪情况报告") && sheet.contains("亳公监报〔2026〕1号"), "report sheet");
    assert!(sheet.contains("报警 1 次") && sheet.contains("电话核实：外出就医，已补请假"), "the facts in it");
    assert_pdf(&police.get_bytes(&format!("{page}/report/issued.pdf")).await);

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
        .bearer_auth(app.token("location-gw"))
        .json(&json!({ "fixes": [
            { "person_id": id, "at": base + 500_000, "lon": 115.75, "lat": 33.82 },
            { "person_id": "nobody", "at": base + 500_000, "lon": 115.75, "lat": 33.82 },
            { "person_id": id, "at": base, "lon": 115.75, "lat": 33.82 },
            // A hostile id (a NUL and quotes, as schemathesis sent) names no one: refused, no 500.
            { "person_id": "\u{0}x'; --", "at": base, "lon": 115.75, "lat": 33.82 },
            { "person_id": id, "at": base + 600_000, "lon": 115.75, "lat": 33.82, "source": "gps\u{0}" },
        ] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!((body["accepted"].as_i64(), body["duplicates"].as_i64()), (Some(1), Some(1)), "{body}");
    assert_eq!(body["rejected"][0]["index"].as_i64(), Some(1));
    assert_eq!(body["rejected"][1]["reason"], "被监管人员编号无效", "{body}");
    assert!(body["rejected"][2]["reason"].as_str().unwrap().contains("定位来源"), "{body}");
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

/// 外出请假: the person asks from the app for 长三角 business travel; the officer approves it on
/// the person's page; fixes in Shanghai violate before the window, are fine inside it and
/// violate again after it. A refusal needs a reason, and the person sees the outcome on their
/// own page.
#[tokio::test]
async fn an_approved_leave_changes_the_fences_for_its_window_only() {
    let app = spawn_app().await;
    let police = app.login("gongan").await;
    let (card, page) = register(&police, "34160219900101456", "李出差", "取保候审", ("2026-11-01", "2027-10-31")).await;
    let id = page.rsplit('/').next().unwrap().to_string();
    fence_home(&police, &page).await;
    let bound = police.submit(&page, &format!("{page}/device"), &[("device_id", "IMEI-LEAVE")]).await;
    let token = token_of(&bound.body);

    let now = domain::clock::to_millis(domain::clock::Clock::now(&*app.clock));
    let hour = 3_600_000i64;
    let ask = |body: Value| {
        let (app, token) = (&app, token.clone());
        async move {
            let r = app
                .api()
                .post(format!("{}/api/v1/supervision/leaves", app.base))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap())
        }
    };
    // Refused in Chinese: return before departure; an unknown preset.
    let (s, body) = ask(json!({ "device_id": "IMEI-LEAVE", "preset": "yrd", "destination": "上海", "reason": "洽谈",
        "from": now + 3 * hour, "to": now + hour }))
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"].as_str().unwrap().contains("返回时间应晚于出发时间"), "{body}");
    let (s, _) = ask(json!({ "device_id": "IMEI-LEAVE", "preset": "moon", "destination": "x", "reason": "y",
        "from": now + hour, "to": now + 3 * hour }))
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, leave) = ask(json!({ "device_id": "IMEI-LEAVE", "preset": "yrd", "destination": "上海某中药饮片公司",
        "reason": "洽谈供货合同", "from": now + hour, "to": now + 3 * hour }))
    .await;
    assert_eq!(s, StatusCode::OK, "{leave}");
    assert_eq!(leave["status"], "pending");
    let leave_id = leave["id"].as_str().unwrap().to_string();
    let no = leave["no"].as_str().unwrap().to_string();
    assert!(no.starts_with("QJ2026"), "{no}");

    // The officer sees it and approves; deciding twice is refused.
    let person = police.get(&page).await;
    assert!(person.body.contains(&no) && person.body.contains("待审批"));
    let decide = format!("{page}/leaves/{leave_id}");
    let refused = police.submit(&page, &decide, &[("action", "refuse"), ("note", "")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("不予批准须写明理由"));
    let ok = police.submit(&page, &decide, &[("action", "approve"), ("note", "按时返回并保持定位")]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let again = police.submit(&page, &decide, &[("action", "approve"), ("note", "")]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    let person = police.get(&page).await;
    assert!(person.body.contains("已批准") && person.body.contains(&format!("请假{no}：长三角")), "{}", person.body);
    // The fence map draws both allowed areas (home and the leave's) over the county's grids,
    // with the drawing form.
    let map = police.get(&format!("{page}/map")).await;
    assert_eq!(map.status, StatusCode::OK);
    let allowed: Vec<&str> = map.body.split(r#"class="allowed""#).skip(1).collect();
    assert!(allowed.iter().any(|s| s.contains("居住地所在县（市、区）")), "{}", map.body);
    assert!(allowed.iter().any(|s| s.contains(&format!("请假{no}"))), "{}", map.body);
    assert!(map.body.contains(r#"class="grid""#) && map.body.contains("data-draw-target"));

    // Four hours later the phone uploads what it buffered: Shanghai before, during and after.
    app.clock.advance(time::Duration::hours(4));
    let shanghai = |at: i64| json!({ "at": at, "lon": 121.47, "lat": 31.23, "accuracy_m": 10.0 });
    let (s, r) = upload(
        &app,
        &token,
        "IMEI-LEAVE",
        json!([shanghai(now + hour / 2), shanghai(now + 2 * hour), shanghai(now + 3 * hour + hour / 2)]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!((r["accepted"].as_i64(), r["violations"].as_i64()), (Some(3), Some(2)), "{r}");
    // (The officer's session lapsed over the four idle hours.)
    let police = app.login("gongan").await;
    let fixes = police.get(&page).await;
    let violating: Vec<&str> = fixes.body.split("<tr>").filter(|row| row.contains("121.470000")).collect();
    assert_eq!(violating.len(), 3, "{}", &fixes.body[fixes.body.find("最近定位").unwrap_or(0)..]);
    assert_eq!(violating.iter().filter(|row| row.contains("越界")).count(), 2, "only outside the window");

    // Both the request and the decision are audited.
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('supervision.leave.request', 'supervision.leave.decide') AND object_id = $1",
    )
    .bind(&leave_id)
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(audited, 2);

    // The person's own page (phone-sized): give their login (the ID number) a password as the
    // agency would on request, sign in, see the approval and ask for another leave.
    let user: String = sqlx::query_scalar("SELECT user_id FROM sup_persons WHERE id = $1")
        .bind(&id)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    let hash = domain::auth::password::hash(DEMO_PASSWORD, &[7; 16]);
    store::auth::set_password(&mut tx, domain::clock::Clock::now(&*app.clock), &user, &hash, false).await.unwrap();
    tx.commit().await.unwrap();
    let me = app.login(&card).await;
    let mine = me.get("/me/supervision").await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body.contains(&no) && mine.body.contains("已批准") && mine.body.contains("按时返回并保持定位"));
    let bad = me
        .submit(
            "/me/supervision",
            "/me/supervision/leaves",
            &[("preset", "herbs"), ("destination", "安国药市"), ("reason", "采购"), ("from", ""), ("to", "")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("请填写出发时间"));
    let filed = me
        .submit(
            "/me/supervision",
            "/me/supervision/leaves",
            &[
                ("preset", "herbs"),
                ("destination", "安国药市"),
                ("reason", "采购黄芪"),
                ("from", "2026-12-05T08:00"),
                ("to", "2026-12-07T20:00"),
            ],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    assert!(me.get("/me/supervision").await.body.contains("中药材产区考察采购"));
    // The officer was told.
    assert!(police.get("/inbox").await.body.contains("中药材产区考察采购"));

    // A summons (传讯通知): issued, acknowledged from the app, and not appearing is alarmed —
    // but only once the appointed time has passed.
    let at = domain::clock::local(domain::clock::Clock::now(&*app.clock) + time::Duration::hours(1));
    let at = format!("{}T{:02}:{:02}", at.date(), at.hour(), at.minute());
    let r = police
        .submit(
            &page,
            &format!("{page}/summons"),
            &[("appear_at", at.as_str()), ("place", "谯城分局办案中心"), ("reason", "接受讯问")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let list: Value = app
        .api()
        .get(format!("{}/api/v1/supervision/summons?device_id=IMEI-LEAVE", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let summons_id = list[0]["id"].as_str().unwrap().to_string();
    let acked: Value = app
        .api()
        .post(format!("{}/api/v1/supervision/summons/{summons_id}/ack", app.base))
        .bearer_auth(&token)
        .json(&json!({ "device_id": "IMEI-LEAVE" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(acked["status"], "acknowledged", "{acked}");
    let record = format!("{page}/summons/{summons_id}");
    let early = police.submit(&page, &record, &[("outcome", "absent")]).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(early.body.contains("到案时间未到"));
    app.clock.advance(time::Duration::hours(2));
    let police = app.login("gongan").await;
    let absent = police.submit(&page, &record, &[("outcome", "absent")]).await;
    assert_eq!(absent.status, StatusCode::SEE_OTHER, "{}", absent.body);
    let body = police.get(&page).await.body;
    assert!(body.contains("传讯未到案") && !body.contains("本人已确认"), "{body}");
    // Grounds for arrest when serious (刑事诉讼法 art. 81 ¶4): the code turns red at once.
    assert!(body.contains("红码") && body.contains("第八十一条第四款"), "{body}");

    // Reports from the app: an information change reaches the person's page; bad input is
    // refused in Chinese.
    let post = |body: Value| {
        let (app, token) = (&app, token.clone());
        async move {
            app.api()
                .post(format!("{}/api/v1/supervision/reports", app.base))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let bad = post(json!({ "device_id": "IMEI-LEAVE", "kind": "gossip", "text": "x" })).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ok =
        post(json!({ "device_id": "IMEI-LEAVE", "kind": "info_change", "text": "手机号变更为 13900001111" })).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let body = police.get(&page).await.body;
    assert!(body.contains("信息变更") && body.contains("手机号变更为 13900001111"));
}

/// Check-in tasks: a flying check-in answered with a poor face match fails and alarms; one
/// answered properly passes and cannot be answered twice; one left unanswered is missed at its
/// deadline (the job runs across a restart) and alarms; two check-in alarms turn the code yellow.
#[tokio::test]
async fn check_in_tasks_fail_pass_and_are_missed_at_the_deadline() {
    // The certified face-verification service's key; the phone forwards its signed result.
    let verifier = domain::crypto::KeyPair::from_secret(&[0x5a; 32]).unwrap();
    let hexs = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let public = hexs(&verifier.public());
    let app = spawn_app_with(|c| c.city.supervision.face_verifier_keys = vec![public]).await;
    let police = app.login("gongan").await;
    let (_, page) = register(&police, "34160219920202789", "王打卡", "监视居住", ("2026-11-01", "2027-04-30")).await;
    fence_residence(&police, &page).await;
    let token = token_of(&police.submit(&page, &format!("{page}/device"), &[("device_id", "IMEI-TASK")]).await.body);
    let tasks_url = format!("{page}/tasks");
    let issue = |minutes: &'static str| {
        let (police, page, tasks_url) = (&police, page.clone(), tasks_url.clone());
        async move {
            police
                .submit(
                    &page,
                    &tasks_url,
                    &[("kind", "flying"), ("open", ""), ("minutes", minutes), ("note", "在家拍摄正脸")],
                )
                .await
        }
    };
    let bad = issue("2").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("5–1440"));
    assert_eq!(issue("30").await.status, StatusCode::SEE_OTHER);
    let open_task = || async {
        let list: Value = app
            .api()
            .get(format!("{}/api/v1/supervision/tasks?device_id=IMEI-TASK", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        list.as_array().unwrap().iter().find(|t| t["status"] == "open").map(|t| t["id"].as_str().unwrap().to_string())
    };
    let now = domain::clock::to_millis(domain::clock::Clock::now(&*app.clock));
    let check = |task: String, face: f64, lon: f64| {
        let (app, token) = (&app, token.clone());
        let msg = domain::supervision::face_result_message(&task, now + 60_000, face, true, &"a".repeat(64));
        let sig = hexs(&verifier.sign(msg.as_bytes()));
        async move {
            let r = app
                .api()
                .post(format!("{}/api/v1/supervision/checkins", app.base))
                .bearer_auth(&token)
                .json(&json!({ "device_id": "IMEI-TASK", "task_id": task, "at": now + 60_000, "lon": lon, "lat": 33.85,
                    "face_score": face, "liveness": true, "photo_sm3": "a".repeat(64), "verifier_signature": sig }))
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap())
        }
    };
    // A poor face match: failed, alarmed.
    let t1 = open_task().await.expect("an open task");
    let (s, r) = check(t1.clone(), 62.0, 115.80).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "failed");
    assert!(r["result"].as_str().unwrap().contains("人脸比对 62 分"), "{r}");
    // A high score the phone merely reports, unsigned (or signed for another score): not
    // trusted, failed and sent to the officer.
    issue("30").await;
    let forged = open_task().await.unwrap();
    let r: Value = app
        .api()
        .post(format!("{}/api/v1/supervision/checkins", app.base))
        .bearer_auth(&token)
        .json(&json!({ "device_id": "IMEI-TASK", "task_id": forged, "at": now + 60_000, "lon": 115.80, "lat": 33.85,
            "face_score": 99.0, "liveness": true, "photo_sm3": "a".repeat(64) }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "failed");
    assert!(r["result"].as_str().unwrap().contains("签名无效或缺失"), "{r}");
    // A proper one: done; answering again is refused.
    issue("30").await;
    let t2 = open_task().await.unwrap();
    let (_, r) = check(t2.clone(), 93.5, 115.80).await;
    assert_eq!(r["status"], "done", "{r}");
    let (s, _) = check(t2, 93.5, 115.80).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // A third left unanswered past its deadline: the job marks it missed, across a restart.
    issue("30").await;
    assert!(open_task().await.is_some());
    let clock = app.clock.clone();
    let dir = app.shut_down().await;
    clock.advance(time::Duration::hours(1));
    let app = spawn_app_in(dir, clock.clone()).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let police = app.login("gongan").await;
    let person = police.get(&page).await.body;
    assert!(person.contains("超时未打卡") && person.contains("打卡未通过"), "{person}");
    assert!(person.contains("黄码"), "two check-in alarms (20 points) make the code yellow");
    let alarms = police.get("/supervision").await.body;
    assert!(alarms.contains("超时未打卡"), "{alarms}");

    // The statistics count them (the police's own persons: the demo's and this one).
    let stats = police.get("/supervision/stats").await;
    assert_eq!(stats.status, StatusCode::OK);
    let tasks = &stats.body[stats.body.find("task-stats").unwrap()..];
    for (label, n) in [("已完成", 1), ("打卡未通过", 2), ("超时未打卡", 1)] {
        assert!(tasks.contains(&format!("<td>{label}</td><td class=\"num\">{n}</td>")), "{label}: {tasks}");
    }
    let csv = police.get("/supervision/stats/export?table=alarms&format=csv").await.body;
    assert!(csv.contains("打卡异常,3,3,0,"), "{csv}");
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(a, ..)| a == "supervision.stats.export"));

    // The compliance report over the whole period, printable; generating it is audited.
    let report = police.get(&format!("{page}/report")).await;
    assert_eq!(report.status, StatusCode::OK);
    for part in ["遵规守纪情况报告", "打卡任务 4 次", "打卡异常 3 次", "已完成 1 次", "黄码"] {
        assert!(report.body.contains(part), "{part}: {}", report.body);
    }
    assert!(app.audit_actions().await.iter().any(|(a, ..)| a == "supervision.report.view"));
    assert_eq!(app.login("sifa").await.get(&format!("{page}/report")).await.status, StatusCode::FORBIDDEN);
}

/// Uploads from another device are refused and alarmed once; a phone silent for longer than
/// `offline_hours` (6) is alarmed by the quarter-hourly check.
#[tokio::test]
async fn a_foreign_device_and_a_silent_phone_are_alarmed() {
    let app = spawn_app().await;
    let police = app.login("gongan").await;
    let (_, page) = register(&police, "34160219930303135", "赵失联", "取保候审", ("2026-11-01", "2027-10-31")).await;
    let token = token_of(&police.submit(&page, &format!("{page}/device"), &[("device_id", "IMEI-OWN")]).await.body);
    let now = domain::clock::to_millis(domain::clock::Clock::now(&*app.clock));
    let fix = json!([{ "at": now - 60_000, "lon": 115.78, "lat": 33.85 }]);
    assert_eq!(upload(&app, &token, "IMEI-OWN", fix.clone()).await.0, StatusCode::OK);
    // The officer's live page is open (server-sent events) when the alarm comes.
    let mut live = police.http.get(format!("{}/supervision/live", app.base)).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    assert!(live.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    for _ in 0..2 {
        assert_eq!(upload(&app, &token, "IMEI-OTHER", fix.clone()).await.0, StatusCode::FORBIDDEN);
    }
    let mut seen = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !seen.contains("更换设备") && std::time::Instant::now() < deadline {
        match tokio::time::timeout(std::time::Duration::from_secs(5), live.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    assert!(seen.contains("event: alarm") && seen.contains("赵失联") && seen.contains("更换设备"), "{seen}");
    drop(live);
    let body = police.get(&page).await.body;
    assert_eq!(body.matches("使用未绑定的设备“IMEI-OTHER”上报").count(), 1, "alarmed once");

    // Seven hours without a fix: the check (every quarter hour) alarms, across a restart.
    let clock = app.clock.clone();
    let dir = app.shut_down().await;
    clock.advance(time::Duration::hours(7));
    let app = spawn_app_in(dir, clock.clone()).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let police = app.login("gongan").await;
    let body = police.get(&page).await.body;
    assert!(body.contains("超过 6 小时无定位"), "{body}");
}

/// Multipart POST of the fence form with a GeoJSON file (and optionally typed geometry).
async fn upload_fences(police: &Client, page: &str, file: Vec<u8>, typed: &str, datum: &str) -> Page {
    let token = police.get(page).await.csrf();
    let form = reqwest::multipart::Form::new()
        .text("_csrf", token)
        .text("name", "")
        .text("rule", "allowed")
        .text("geometry", typed.to_string())
        .text("datum", datum.to_string())
        .part("geojson_file", reqwest::multipart::Part::bytes(file).file_name("fences.geojson"));
    let r = police.http.post(format!("{}{page}/fences", police.base)).multipart(form).send().await.unwrap();
    let (status, location) = (r.status(), r.headers().get("location").map(|v| v.to_str().unwrap().to_string()));
    let body = r.text().await.unwrap();
    Page { status, body, location, headers: Default::default() }
}

#[tokio::test]
async fn fence_map_sits_on_configured_tiles_and_fences_come_from_a_geojson_file() {
    let app = spawn_app_with(|c| {
        c.city.supervision.map = store::config::MapTiles {
            tiles: "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png".into(),
            datum: "gcj02".into(),
            attribution: "测试底图".into(),
            max_zoom: Some(17),
        }
    })
    .await;
    let police = app.login("gongan").await;
    // 监视居住: drawn areas round the residence are what art. 77 ¶1(1) asks.
    let (_, page) = register(&police, "34160219800101555", "李上传", "监视居住", ("2026-11-01", "2027-04-30")).await;

    // A GIS export: a Polygon named 居住地 and a two-part MultiPolygon named 工作地.
    let file = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "居住地"}, "geometry": {"type": "Polygon",
            "coordinates": [[[115.70, 33.80], [115.90, 33.80], [115.90, 33.90], [115.70, 33.90], [115.70, 33.80]]]}},
        {"type": "Feature", "properties": {"name": "工作地"}, "geometry": {"type": "MultiPolygon", "coordinates": [
            [[[115.95, 33.95], [115.97, 33.95], [115.97, 33.97], [115.95, 33.95]]],
            [[[116.00, 33.95], [116.02, 33.95], [116.02, 33.97], [116.00, 33.95]]]]}}]});
    let r = upload_fences(&police, &page, file.to_string().into_bytes(), "", "wgs84").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let shown = police.get(&page).await.body;
    assert!(shown.contains("已从文件保存 3 个围栏"), "{shown}");
    for n in ["居住地", "工作地（1）", "工作地（2）"] {
        assert!(shown.contains(&format!("<td>{n}</td>")), "{n}");
    }

    // The map names the towns, outlines them (marked 示意 without configured boundaries), has a
    // scale bar, and zooms and pans by plain links.
    let map = police.get(&format!("{page}/map")).await.body;
    assert!(map.contains("class=\"town-name\">古井镇<") && map.contains("class=\"bound town\""), "towns");
    assert!(map.contains("乡镇界线为示意") && (map.contains(" 公里</text>") || map.contains(" 米</text>")));
    let z = |html: &str| html.split("data-z=\"").nth(1).unwrap().split('"').next().unwrap().parse::<u8>().unwrap();
    assert!(map.contains("href=\"?zoom=1&#38;px=0&#38;py=0\""), "zoom link");
    let closer = police.get(&format!("{page}/map?zoom=1&px=0&py=0")).await.body;
    assert_eq!(police.get(&format!("{page}/map?zoom=abc")).await.status, StatusCode::OK, "nonsense is ignored");
    assert_eq!(z(&closer), z(&map) + 1);
    // Asking for more than the map has is held to its limits.
    assert_eq!(police.get(&format!("{page}/map?zoom=99&px=-999")).await.status, StatusCode::OK);
    // All or nothing: a bad shape in the file names its position and saves none.
    let bad = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
            "coordinates": [[[115.1, 33.1], [115.2, 33.1], [115.2, 33.2], [115.1, 33.1]]]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [115.1, 33.1]}}]});
    let r = upload_fences(&police, &page, bad.to_string().into_bytes(), "", "wgs84").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("第 2 个形状：type 应为 Polygon、Circle 或 Division"), "{}", r.body);
    assert!(!r.body.contains("上传围栏（1）"));
    // Typed and uploaded at once is ambiguous; a binary file is refused.
    let r = upload_fences(&police, &page, file.to_string().into_bytes(), "{\"type\":\"Polygon\"}", "wgs84").await;
    assert!(r.body.contains("请只用一种方式"), "{}", r.body);
    let r = upload_fences(&police, &page, vec![0xff, 0xfe, 0x00, 0x81], "", "wgs84").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("不是 UTF-8"), "{}", r.body);

    // A file drawn on 高德 (GCJ-02) is converted, the original kept.
    let gcj = domain::geo::wgs84_to_gcj02(115.80, 33.85);
    let drawn = json!({"type": "Feature", "properties": {"name": "单位"}, "geometry": {"type": "Polygon",
        "coordinates": [[[gcj.0, gcj.1], [115.81, 33.85], [115.81, 33.86], [gcj.0, gcj.1]]]}});
    let r = upload_fences(&police, &page, drawn.to_string().into_bytes(), "", "gcj02").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(police.get(&page).await.body.contains("按 GCJ-02 坐标绘制，已转换"));

    // The map: tiles from the configured server, its origin allowed on this page only, and our
    // WGS-84 fences shifted onto the GCJ-02 tiles.
    let map = police.get(&format!("{page}/map")).await;
    assert_eq!(map.status, StatusCode::OK);
    let csp = map.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.ends_with("img-src 'self' data: http://127.0.0.1:9"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(map.body.contains("<image href=\"http://127.0.0.1:9/tiles/"), "{}", map.body);
    assert!(map.body.contains("底图：测试底图") && map.body.contains("data-datum=\"gcj02\""));
    let attr = |k: &str| -> f64 {
        let at = map.body.find(&format!("data-{k}=\"")).unwrap() + k.len() + 7;
        map.body[at..].split('"').next().unwrap().parse().unwrap()
    };
    let (z, ox, oy) = (attr("z") as u8, attr("ox"), attr("oy"));
    assert!(z <= 17);
    let (lon, lat) = domain::geo::wgs84_to_gcj02(115.70, 33.80);
    let (x, y) = domain::geo::mercator::to_pixel(lon, lat, z);
    let corner = format!("M{:.1},{:.1}", x - ox, y - oy);
    assert!(map.body.contains("class=\"allowed\"><title>居住地"), "fence drawn");
    assert!(map.body.contains(&corner), "居住地's first vertex at {corner}");
    // Every other page keeps the strict policy.
    let other = police.get(&page).await;
    assert!(!other.headers["content-security-policy"].to_str().unwrap().contains("127.0.0.1:9"));
}

/// 刑事诉讼法 art. 79 ¶2: the officer lifts the measure (解除) from the person's page with a
/// reason; collection stops at once — the phone's token no longer uploads — and the person is
/// told. A term beyond the statutory maximum is refused at registration.
#[tokio::test]
async fn the_officer_lifts_a_measure_and_the_phone_stops_uploading() {
    let app = spawn_app().await;
    let police = app.login("gongan").await;
    let card = domain::IdCardNo::from_body("34160219910101357").unwrap().to_string();
    let too_long = police
        .submit(
            "/supervision/persons/new",
            "/supervision/persons",
            &[
                ("id_card_no", card.as_str()),
                ("name", "周解除"),
                ("division_code", "341602"),
                ("stage", "police"),
                ("measure", "监视居住"),
                ("measure_from", "2026-11-01"),
                ("measure_to", "2027-05-01"),
            ],
        )
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.body.contains("监视居住最长不得超过六个月"), "{}", too_long.body);
    let (_, page) = register(&police, "34160219910101357", "周解除", "监视居住", ("2026-11-01", "2027-04-30")).await;
    let token = token_of(&police.submit(&page, &format!("{page}/device"), &[("device_id", "IMEI-END")]).await.body);
    let now = domain::clock::to_millis(domain::clock::Clock::now(&*app.clock));
    let fix = json!([{ "at": now - 60_000, "lon": 115.78, "lat": 33.85 }]);
    assert_eq!(upload(&app, &token, "IMEI-END", fix.clone()).await.0, StatusCode::OK);

    let r = police.submit(&page, &format!("{page}/release"), &[("reason", " ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("请填写解除理由"), "{}", r.body);
    let r = police.submit(&page, &format!("{page}/release"), &[("reason", "案件撤销，不应追究刑事责任")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let shown = police.get(&page).await;
    assert!(shown.body.contains("已解除"), "{}", shown.body);
    let (s, _) = upload(&app, &token, "IMEI-END", json!([{ "at": now, "lon": 115.78, "lat": 33.85 }])).await;
    assert!(s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN, "{s}");
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'supervision.release'")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(audited, 1);
}
