//! 亳安码 under the statutes it applies (刑事诉讼法, 社区矫正法): which organ decides and which
//! executes at each stage, leave and its consent, the 24-hour change report, residential
//! surveillance kept at the residence, and location devices under 社区矫正法 art. 29.

use crate::helpers::*;
use crate::supervision::{register, register_at, token_of, upload};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Hand-off: the police hand the person to community correction (司法局) with the new
/// measure; the justice bureau is told, reads the police stage's record and takes the case;
/// the police no longer see the person (403).
#[tokio::test]
async fn a_case_handed_to_the_next_stage_moves_to_that_agency_with_its_record() {
    let app = spawn_app().await;
    let police = app.login("gongan").await;
    let (_, page) = register(&police, "34160219880808246", "孙移交", "取保候审", ("2026-06-01", "2027-05-31")).await;
    let handoff = format!("{page}/handoff");
    let back = police
        .submit(
            &page,
            &handoff,
            &[
                ("stage", "police"),
                ("measure", "社区矫正"),
                ("measure_from", "2026-12-01"),
                ("measure_to", "2027-11-30"),
            ],
        )
        .await;
    assert_eq!(back.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(back.body.contains("只能移交到后续办案阶段"));
    let ok = police
        .submit(
            &page,
            &handoff,
            &[
                ("stage", "justice"),
                ("measure", "社区矫正"),
                ("measure_from", "2026-12-01"),
                ("measure_to", "2027-11-30"),
                ("note", "判决生效，交付社区矫正"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(police.get(&page).await.status, StatusCode::FORBIDDEN);

    let sifa = app.login("sifa").await;
    let inbox = sifa.get("/inbox").await.body;
    assert!(
        inbox.contains("孙移交由市公安局移交执行（司法局社区矫正）") && inbox.contains("由市司法局执行"),
        "{inbox}"
    );
    let body = sifa.get(&page).await.body;
    assert!(
        body.contains("此前阶段") && body.contains("市公安局") && body.contains("2026-06-01 至 2027-05-31"),
        "{body}"
    );
    // After judgment the court is the deciding organ (社区矫正法 art. 2).
    assert!(body.contains("决定机关 市中级人民法院") && body.contains("执行机关 市司法局"), "{body}");
    assert!(body.contains("社区矫正") && body.contains("待接收"));
    let taken = sifa.submit(&page, &format!("{page}/take"), &[]).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER);
    let body = sifa.get(&page).await.body;
    assert!(!body.contains("待接收") && !body.contains("移交下一办案阶段"), "the last stage hands on to no one");
    let audit = app.audit_actions().await;
    assert!(
        audit.iter().any(|(a, ..)| a == "supervision.hand_off")
            && audit.iter().any(|(a, ..)| a == "supervision.take_over")
    );
}

/// Fetches a JSON API as the person's phone.
async fn phone(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = app.api().post(format!("{}{path}", app.base)).bearer_auth(token).json(&body).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// 刑事诉讼法 arts. 67 ¶2 and 74 ¶3: after the procuratorate decides to continue 取保候审, the
/// police still execute it — the officer, the fences and the alarms stay with them; the
/// procuratorate reads the case. Leave (art. 71 ¶1(1)) is asked before departure; the
/// procuratorate consents first, then the police approve (公安机关办理刑事案件程序规定). A
/// change of address reported 30 hours after it happened is six hours late (art. 71 ¶1(2)).
/// A measure must fit the stage.
#[tokio::test]
async fn art_67_the_police_execute_what_the_procuratorate_decides_and_leave_needs_its_consent() {
    let app = spawn_app().await;
    let police = app.login("gongan").await;
    let (_, page) = register(&police, "34160219910202357", "钱审查", "取保候审", ("2026-09-01", "2027-08-31")).await;
    let bound = police.submit(&page, &format!("{page}/device"), &[("device_id", "IMEI-JCY")]).await;
    let token = token_of(&bound.body);
    let handoff = format!("{page}/handoff");
    let hand = |measure: &'static str| {
        [
            ("stage", "procuratorate"),
            ("measure", measure),
            ("measure_from", "2026-11-27"),
            ("measure_to", "2027-11-26"),
            ("note", "移送审查起诉，检察院决定继续取保候审"),
        ]
    };
    let bad = police.submit(&page, &handoff, &hand("社区矫正")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("社区矫正不适用于审查起诉"), "{}", bad.body);
    let ok = police.submit(&page, &handoff, &hand("取保候审")).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);

    // The police keep the case: same officer, no one needs to take it.
    let body = police.get(&page).await.body;
    assert!(body.contains("决定机关 市检察院") && body.contains("执行机关 市公安局"), "{body}");
    assert!(!body.contains("待接收"), "the executing officer is kept");
    let jiancha = app.login("jiancha").await;
    assert!(jiancha.get("/inbox").await.body.contains("钱审查由市公安局移交审查起诉（检察院）"));
    let seen = jiancha.get(&page).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(!seen.body.contains("绑定设备</button>"), "the deciding organ does not execute");
    let fence = jiancha
        .submit(
            &page,
            &format!("{page}/fences"),
            &[("name", "x"), ("rule", "allowed"), ("geometry", ""), ("datum", "wgs84")],
        )
        .await;
    assert_eq!(fence.status, StatusCode::FORBIDDEN);

    // Leave: asked before departure, not after.
    let now = domain::clock::to_millis(domain::clock::Clock::now(&*app.clock));
    let hour = 3_600_000i64;
    let leave = |from: i64| {
        json!({ "device_id": "IMEI-JCY", "preset": "hefei", "destination": "安徽省立医院", "reason": "复诊",
            "from": from, "to": from + 6 * hour })
    };
    let (s, late) = phone(&app, &token, "/api/v1/supervision/leaves", leave(now - hour)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(late["message"].as_str().unwrap().contains("请在出发前申请"), "{late}");
    let (s, l) = phone(&app, &token, "/api/v1/supervision/leaves", leave(now + 2 * hour)).await;
    assert_eq!(s, StatusCode::OK, "{l}");
    let decide = format!("{page}/leaves/{}", l["id"].as_str().unwrap());
    assert!(jiancha.get("/inbox").await.body.contains("请先审查是否同意"));
    // The police may not approve before the procuratorate consents; then it is theirs alone.
    let early = police.submit(&page, &decide, &[("action", "approve"), ("note", "")]).await;
    assert_eq!(early.status, StatusCode::FORBIDDEN);
    let consent = jiancha.submit(&page, &decide, &[("action", "approve"), ("note", "同意")]).await;
    assert_eq!(consent.status, StatusCode::SEE_OTHER, "{}", consent.body);
    assert_eq!(
        jiancha.submit(&page, &decide, &[("action", "approve"), ("note", "")]).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(police.get("/inbox").await.body.contains("决定机关市检察院同意"));
    let body = police.get(&page).await.body;
    assert!(body.contains("决定机关已同意，待执行机关批准") && body.contains("决定机关：市检察院办案检察官"), "{body}");
    let approved = police.submit(&page, &decide, &[("action", "approve"), ("note", "按时返回")]).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    assert!(police.get(&page).await.body.contains("请假QJ"), "the leave's fence was added");

    // A move reported 30 hours after it happened: six hours late, the address replaced.
    let (s, r) = phone(
        &app,
        &token,
        "/api/v1/supervision/reports",
        json!({ "device_id": "IMEI-JCY", "kind": "info_change", "text": "搬家至谯城区花戏楼街道",
            "changed_at": now - 30 * hour, "new_address": "谯城区花戏楼街道某小区" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["late_hours"], 6);
    let body = police.get(&page).await.body;
    assert!(body.contains("逾期 6 小时"), "{body}");
    let address: String = sqlx::query_scalar("SELECT address FROM sup_persons WHERE name = '钱审查'")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(address, "谯城区花戏楼街道某小区");
    assert!(police.get("/inbox").await.body.contains("请核对电子围栏"));
}

/// 监视居住 keeps the person at the residence (刑事诉讼法 art. 77 ¶1(1)): business travel is not
/// offered, a hospital visit in the provincial capital is.
#[tokio::test]
async fn art_77_residential_surveillance_offers_no_business_travel() {
    let app = spawn_app().await;
    let police = app.login("gongan").await;
    let (_, page) = register(&police, "34160219920303468", "孙居住", "监视居住", ("2026-11-01", "2027-04-30")).await;
    let token = token_of(&police.submit(&page, &format!("{page}/device"), &[("device_id", "IMEI-SUR")]).await.body);
    let now = domain::clock::to_millis(domain::clock::Clock::now(&*app.clock));
    let ask = |preset: &str| {
        json!({ "device_id": "IMEI-SUR", "preset": preset, "destination": "上海", "reason": "洽谈",
            "from": now + 3_600_000, "to": now + 7_200_000 })
    };
    let (s, r) = phone(&app, &token, "/api/v1/supervision/leaves", ask("yrd")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r["message"].as_str().unwrap().contains("第七十七条"), "{r}");
    assert_eq!(phone(&app, &token, "/api/v1/supervision/leaves", ask("hefei")).await.0, StatusCode::OK);
}

/// 社区矫正法 art. 29: under community correction no fix is collected until a decision naming
/// one of the five situations is recorded (three months at most; renewal three more); then
/// fixes are.
#[tokio::test]
async fn art_29_community_correction_is_tracked_only_under_an_approved_decision() {
    let app = spawn_app().await;
    let sifa = app.login("sifa").await;
    let (_, page) =
        register_at(&sifa, "justice", "34160219850505246", "周矫正", "社区矫正", ("2026-10-01", "2028-09-30")).await;
    let token = token_of(&sifa.submit(&page, &format!("{page}/device"), &[("device_id", "IMEI-SQJZ")]).await.body);
    let now = domain::clock::to_millis(domain::clock::Clock::now(&*app.clock));
    let fix = |at: i64| json!([{ "at": at, "lon": 115.78, "lat": 33.85 }]);
    let (s, r) = upload(&app, &token, "IMEI-SQJZ", fix(now - 60_000)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["accepted"], 0);
    assert!(r["rejected"][0]["reason"].as_str().unwrap().contains("第二十九条"), "{r}");
    assert!(sifa.get(&page).await.body.contains("未批准使用"));

    let decide = |approved: &'static str, to: &'static str, renew: &'static str| {
        [
            ("ground", "2"),
            ("facts", "2026-11-20 未经批准前往合肥，已给予警告"),
            ("approver_name", "谯城区司法局 张局长"),
            ("approved_on", approved),
            ("valid_to", to),
            ("renew", renew),
        ]
    };
    let locating = format!("{page}/locating");
    let long = sifa.submit(&page, &locating, &decide("2026-11-26", "2027-02-26", "")).await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(long.body.contains("不得超过三个月") && long.body.contains("2027-02-25"), "{}", long.body);
    let ok = sifa.submit(&page, &locating, &decide("2026-11-26", "2027-02-25", "")).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let (_, r) = upload(&app, &token, "IMEI-SQJZ", fix(now - 30_000)).await;
    assert_eq!(r["accepted"], 1, "{r}");
    // A second decision while one is in force is a renewal, which runs on from its end.
    let again = sifa.submit(&page, &locating, &decide("2026-11-27", "2027-02-26", "")).await;
    assert!(again.body.contains("请办理延长"), "{}", again.body);
    let renewed = sifa.submit(&page, &locating, &decide("2026-11-27", "2027-05-25", "1")).await;
    assert_eq!(renewed.status, StatusCode::SEE_OTHER, "{}", renewed.body);
    let body = sifa.get(&page).await.body;
    assert!(
        body.contains("批准使用至 <strong>2027-05-25</strong>") && body.contains("2027-02-26 至 2027-05-25"),
        "{body}"
    );
}

/// 刑事诉讼法 art. 71 ¶1(1): a person on bail "未经执行机关批准不得离开所居住的市、县". With the
/// county's boundary on file (one grid here), a standing allowed area smaller than the county
/// — the town, or a box drawn round the home — is refused citing the article; the county in one
/// step, or a shape covering it, is accepted. A leave window, a forbidden zone and 监视居住
/// (kept at the residence, art. 77 ¶1(1)) are not limited by it.
#[tokio::test]
async fn art_71_bail_is_kept_to_the_county_of_residence_not_less() {
    let app = spawn_app_with(|c| {
        c.grids.push(store::config::GridDef {
            code: "G-QC-1".into(),
            name: "花戏楼网格".into(),
            division_code: domain::DivisionCode::parse("341602001").unwrap(),
            ring: domain::geo::Ring::rect(115.6, 33.7, 116.0, 34.0),
            datum: domain::geo::Datum::Wgs84,
            original: None,
            keywords: vec![],
        })
    })
    .await;
    let police = app.login("gongan").await;
    let (_, page) = register(&police, "34160219930707468", "钱取保", "取保候审", ("2026-11-01", "2027-10-31")).await;
    let shown = police.get(&page).await.body;
    assert!(shown.contains("未经批准不得离开所居住的市、县（《刑事诉讼法》第七十一条第一款第一项）"), "{shown}");
    let fence = |name: &str, rule: &str, geometry: &str| {
        let (police, page) = (&police, &page);
        let (name, rule, geometry) = (name.to_string(), rule.to_string(), geometry.to_string());
        async move {
            police
                .submit(
                    page,
                    &format!("{page}/fences"),
                    &[
                        ("name", name.as_str()),
                        ("rule", rule.as_str()),
                        ("geometry", geometry.as_str()),
                        ("datum", "wgs84"),
                    ],
                )
                .await
        }
    };
    let small = r#"{"type":"Polygon","coordinates":[[[115.70,33.80],[115.90,33.80],[115.90,33.90],[115.70,33.90]]]}"#;
    for narrow in [
        small,
        r#"{"type":"Division","code":"341602001"}"#,
        r#"{"type":"Circle","center":[115.8,33.85],"radius_m":3000}"#,
    ] {
        let r = fence("居住地", "allowed", narrow).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{narrow}");
        assert!(r.body.contains("不得小于所居住的市、县（《刑事诉讼法》第七十一条第一款第一项）"), "{}", r.body);
    }
    // Forbidden zones are art. 71 ¶2's 特定场所, not the allowed area.
    assert_eq!(fence("被害人住所", "forbidden", small).await.status, StatusCode::SEE_OTHER);
    let cover = r#"{"type":"Polygon","coordinates":[[[115.5,33.6],[116.1,33.6],[116.1,34.1],[115.5,34.1]]]}"#;
    assert_eq!(fence("覆盖全县", "allowed", cover).await.status, StatusCode::SEE_OTHER);
    // The one-step button posts the county of residence.
    assert!(shown.contains(r#"{"type":"Division","code":"341602"}"#), "{shown}");
    let r = fence("居住地所在县（市、区）", "allowed", r#"{"type":"Division","code":"341602"}"#).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let listed = police.get(&page).await.body;
    assert!(listed.contains("<td>居住地所在县（市、区）</td>"), "{listed}");

    // 监视居住 is kept at the residence: a box round the home is what the statute asks.
    let (_, home) = register(&police, "34160219930808579", "孙处所", "监视居住", ("2026-11-01", "2027-04-30")).await;
    let r = police
        .submit(
            &home,
            &format!("{home}/fences"),
            &[("name", "住处"), ("rule", "allowed"), ("geometry", small), ("datum", "wgs84")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(police.get(&home).await.body.contains("执行监视居住的处所（《刑事诉讼法》第七十七条第一款第一项）"));
}
