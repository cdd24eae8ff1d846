//! Journeys in a real browser (headless Chromium over WebDriver), each person in their own
//! browser, with a screenshot of every step in `target/browser-shots/<journey>/` (CI keeps the
//! folder). They skip with a message on a machine without Chromium; CI installs it.

mod driver;

use crate::helpers::*;
use driver::Driver;

/// 一键申报 with JavaScript switched off: the enterprise applies, the reviewer verifies and
/// approves, the license's QR payload verifies on the public page, and the PDF copy downloads.
#[tokio::test]
async fn an_application_runs_end_to_end_without_javascript() {
    let Some(driver) = Driver::start().await else { return };
    let app = spawn_app().await;
    let login = app.login_of("enterprise").await;

    let mut ent = driver.browser("services", "enterprise", false, false).await.at(&app.base);
    ent.login(&login).await;
    ent.go("/services").await;
    ent.wait_for_text("食品经营许可证延续").await;
    ent.shot("zone").await;
    ent.go("/services/items/SCJG-XK-001").await;
    ent.wait_for_text("已从“企业登记信息”预填").await;
    ent.choose("f-business_items", "热食类食品制售").await;
    ent.fill("#f-contact_phone", "13955550000").await;
    ent.shot("form").await;
    // Without the commitment the form comes back with the error beside the field, input kept.
    ent.click("form[enctype] button[type=submit]").await;
    ent.wait_for_text("请阅读并勾选《食品安全承诺书》").await;
    assert_eq!(ent.source().await.matches("value=\"13955550000\"").count(), 1, "the phone number is kept");
    ent.shot("refused").await;
    ent.click("#f-commit").await;
    ent.click("form[enctype] button[type=submit]").await;
    ent.wait_for_text("审核中").await;
    let page = ent.path().await;
    assert!(page.starts_with("/services/applications/"), "{page}");
    ent.shot("submitted").await;
    // Its 办件编号 is on the page; the 受理凭证 is a sealed document whose QR payload verifies.
    let case_no = ent.text("#case-no").await;
    assert!(case_no.starts_with("2026"), "{case_no}");
    ent.go(&format!("{page}/receipt")).await;
    ent.wait_for_text("受理凭证").await;
    assert!(ent.main_text().await.contains(&case_no));
    ent.shot("receipt").await;
    ent.click("a[href^=\"/documents/verify?p=\"]").await;
    ent.wait_for_text("核验通过").await;
    ent.shot("receipt-verified").await;

    let mut rev = driver.browser("services", "reviewer", false, false).await.at(&app.base);
    rev.login("shichang").await;
    rev.go("/services/applications").await;
    rev.wait_for_text("食品经营许可证延续").await;
    rev.shot("list").await;
    rev.go(&page).await;
    rev.click(&format!("form[action=\"{page}/verify\"] button[type=submit]")).await;
    rev.wait_for_text("全部一致").await;
    rev.shot("verified").await;
    rev.click("#decide input[value=approve]").await;
    rev.fill("#f-comment", "符合条件").await;
    rev.click(&format!("form[action=\"{page}/decide\"] button.btn[type=submit]:not([name])")).await;
    rev.wait_for_text("已办结").await;
    let number = rev.text("#result").await;
    assert!(number.starts_with("SPJYXK"), "{number}");
    rev.shot("approved").await;

    // The holder opens the license: QR code, seal, a date for 有效期至; following the online
    // check link verifies its signed payload.
    ent.go(&format!("/licenses/{number}")).await;
    ent.wait_for_text("有效期至").await;
    assert!(ent.has("svg[aria-label=证照核验二维码]").await);
    ent.shot("license").await;
    ent.click("a[href^=\"/documents/verify?p=\"]").await;
    ent.wait_for_text("核验通过").await;
    assert!(ent.main_text().await.contains(&number));
    ent.shot("license-verified").await;

    // A stranger pastes a payload with one character changed: refused.
    let payload = ent.text("#f-p").await;
    let forged = payload.replacen(&number, &number.replace("SPJYXK", "SPJYXX"), 1);
    let mut anon = driver.browser("services", "anyone", false, false).await.at(&app.base);
    anon.go("/documents/verify").await;
    anon.fill("#f-p", &forged).await;
    anon.click("form[action=\"/documents/verify\"] button[type=submit]").await;
    anon.wait_for_text("核验不通过").await;
    anon.shot("forged-refused").await;
    for b in [ent, rev, anon] {
        b.quit().await;
    }
}

/// A wage alert to its notice and closure: labor inspection signs for it, issues a 整改通知单
/// to the general contractor, the contractor finds it on its home page and reads the sealed
/// sheet, the inspector checks and closes the alert.
#[tokio::test]
async fn a_wage_alert_becomes_a_notice_and_is_closed() {
    let Some(driver) = Driver::start().await else { return };
    let app = spawn_app().await;
    let cal = app.state.calendar();
    store::alerts::run_all(&app.state.db, &app.config, &cal, web::case::subject_sources(), app.state.clock.now())
        .await
        .unwrap();
    let alert = store::wages::project_alerts(&app.state.db, "GC0100")
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.indicator == "wages.payroll_unsigned" && a.cleared == 0)
        .expect("the demo worker has not signed the payroll");

    let mut staff = driver.browser("wage-alert", "inspector", false, true).await.at(&app.base);
    staff.login("renshe").await;
    staff.go("/alerts").await;
    staff.wait_for_text("预警").await;
    staff.shot("alerts").await;
    staff.go(&format!("/alerts/{}", alert.id)).await;
    staff.press("签收").await;
    staff.wait_for_text("已办理，预警状态：已签收").await;
    staff.shot("acknowledged").await;
    staff.choose("kind", "rectification_order").await;
    staff.fill("#text", "请于期限内督促工人确认工资表并书面反馈").await;
    staff.press("发出").await;
    staff.wait_for_text("整改通知单").await;
    staff.shot("disposed").await;
    staff.go(&format!("/alerts/{}/document", alert.id)).await;
    staff.wait_for_text("亳人社整〔2026〕").await;
    let sheet = staff.main_text().await;
    assert!(sheet.contains("亳州市人力资源和社会保障局") && sheet.contains("亳州市谯韵建设工程有限公司"), "{sheet}");
    staff.shot("sheet").await;

    let mut ent = driver.browser("wage-alert", "contractor", false, true).await.at(&app.base);
    ent.login(&contractor_login(&app).await).await;
    ent.go("/home").await;
    ent.wait_for_text("待整改反馈的文书").await;
    ent.shot("home").await;
    ent.go("/wages/notices").await;
    ent.wait_for_text("整改通知单").await;
    ent.go(&format!("/wages/notices/{}", alert.id)).await;
    ent.wait_for_text("请于期限内督促工人确认工资表并书面反馈").await;
    assert!(ent.has("a[href$=\"/pdf\"]").await, "the PDF copy is offered");
    ent.shot("notice").await;

    staff.go(&format!("/alerts/{}", alert.id)).await;
    staff.fill("#vn", "已现场核查，工人已确认工资表").await;
    staff.press("核查通过").await;
    staff.wait_for_text("已办理").await;
    staff.shot("verified").await;
    if staff.has("#vc").await {
        staff.press("销号").await;
        staff.wait_for_text("已销号").await;
    }
    staff.shot("closed").await;
    let d = store::alerts::get(&app.state.db, &store::org::RowScope::All, &alert.id).await.unwrap();
    assert_eq!(d.alert.status, domain::rules::AlertStatus::Closed);
    for b in [staff, ent] {
        b.quit().await;
    }
}

/// The contractor issues an e-contract; the worker confirms his own on a phone (390 px), and
/// nothing on his page is wider than the screen.
#[tokio::test]
async fn a_contract_is_issued_and_the_worker_confirms_on_a_phone() {
    let Some(driver) = Driver::start().await else { return };
    let app = spawn_app().await;
    let mut ent = driver.browser("e-contract", "contractor", false, true).await.at(&app.base);
    ent.login(&contractor_login(&app).await).await;
    ent.go("/wages/projects/GC0100").await;
    ent.press("与工人签订电子劳动合同").await;
    ent.fill("#f-job", "木工").await;
    ent.choose("f-wage_type", "daily").await;
    ent.fill("#f-wage_rate", "280").await;
    // The start date defaults to today; an open-ended contract names no end (art. 14).
    ent.choose("f-kind", "open_ended").await;
    ent.shot("form").await;
    ent.press("发出合同").await;
    ent.wait_for_text("已发给").await;
    ent.wait_for_text("无固定期限").await;
    ent.shot("issued").await;

    let mut worker = driver.browser("e-contract", "worker-phone", true, true).await.at(&app.base);
    worker.login(&app.login_of("citizen").await).await;
    worker.go("/me/wages").await;
    worker.wait_for_text("待工人确认").await;
    assert!(worker.scroll_width().await <= 390, "the page fits a 390 px screen");
    worker.shot("contract").await;
    worker.press("我已阅读，确认签订").await;
    worker.wait_for_text("已签订").await;
    assert!(worker.scroll_width().await <= 390);
    worker.shot("signed").await;
    for b in [ent, worker] {
        b.quit().await;
    }
}

/// A worker's complaint from his phone to its answer: labor inspection assigns, contacts,
/// handles and answers; the worker sees each stage and the answer.
#[tokio::test]
async fn a_complaint_is_handled_to_the_end() {
    let Some(driver) = Driver::start().await else { return };
    let app = spawn_app().await;
    let mut worker = driver.browser("complaint", "worker-phone", true, true).await.at(&app.base);
    worker.login(&app.login_of("citizen").await).await;
    worker.go("/me/wages").await;
    worker.press("工资有出入或被拖欠？投诉").await;
    worker.fill("#f-amount", "3200").await;
    worker.fill("#f-text", "十月份工资至今未发").await;
    worker.shot("complaint").await;
    worker.press("提交投诉").await;
    worker.wait_for_text("已受理").await;
    worker.shot("received").await;

    let mut staff = driver.browser("complaint", "inspector", false, true).await.at(&app.base);
    staff.login("renshe").await;
    staff.go("/wages/complaints").await;
    staff.wait_for_text("待分派").await;
    staff.shot("queue").await;
    staff.click("#main table a[href^=\"/wages/complaints/\"]").await;
    let case = staff.path().await;
    for (stage, note) in [
        ("assigned", ""),
        ("contacted", "已电话联系投诉人，约定面谈"),
        ("handled", "已责令总包单位补发"),
        ("replied", "总包单位已于12月1日补发3200元"),
        ("closed", "投诉人确认收到"),
    ] {
        staff.go(&case).await;
        staff.choose("f-stage-s", stage).await;
        if stage == "assigned" {
            staff.choose_first("f-assignee").await;
        }
        if !note.is_empty() {
            staff.fill("#f-note", note).await;
        }
        staff.press("提交").await;
        staff.wait_for_text("已").await;
        staff.shot(stage).await;
    }
    worker.go("/me/wages").await;
    worker.wait_for_text("已办结").await;
    worker.shot("closed").await;
    worker.go("/inbox").await;
    worker.wait_for_text("总包单位已于12月1日补发3200元").await;
    worker.shot("answer").await;
    for b in [worker, staff] {
        b.quit().await;
    }
}

/// 亳安码: the officer draws a forbidden area on the fence map with the mouse and saves it; with
/// the alarm list open, the person's phone reports from inside the area and the alarm appears
/// on the officer's page without a reload.
#[tokio::test]
async fn an_officer_draws_a_fence_and_sees_the_alarm_arrive_live() {
    let Some(driver) = Driver::start().await else { return };
    let app = spawn_app().await;
    let police = app.login("gongan").await;
    let (_, page) =
        crate::supervision::register(&police, "34160219880808123", "钱围栏", "取保候审", ("2026-11-01", "2027-10-31"))
            .await;
    let bound = police.submit(&page, &format!("{page}/device"), &[("device_id", "IMEI-DRAW")]).await;
    let token = crate::supervision::token_of(&bound.body);

    let mut officer = driver.browser("fence-live", "officer", false, true).await.at(&app.base);
    officer.login("gongan").await;
    officer.go(&format!("{page}/map")).await;
    officer.wait_for_text("新增围栏").await;
    for (dx, dy) in [(-60, -60), (60, -60), (60, 60), (-60, 60)] {
        officer.click_at("svg.fence-map", dx, dy).await;
    }
    let drawn = officer.value("#f-geometry").await;
    let geometry: serde_json::Value = serde_json::from_str(&drawn).unwrap_or_else(|_| panic!("drawn: {drawn}"));
    let ring = geometry["coordinates"][0].as_array().expect("a polygon ring").clone();
    assert!(ring.len() >= 4, "{drawn}");
    officer.fill("#f-name", "某小学周边").await;
    officer.choose("f-rule", "forbidden").await;
    officer.shot("drawn").await;
    officer.press("保存围栏").await;
    officer.wait_for_text("某小学周边").await;
    officer.shot("saved").await;

    // The alarm list, connected for live alarms.
    officer.go("/supervision").await;
    officer.find_xpath("//p[@id='live-status' and not(contains(., '刷新页面'))]").await;
    officer.shot("listening").await;
    // The centre of what was drawn, in the datum the map was drawn in (WGS-84 without tiles).
    let n = (ring.len() - 1) as f64;
    let lon = ring[..ring.len() - 1].iter().map(|p| p[0].as_f64().unwrap()).sum::<f64>() / n;
    let lat = ring[..ring.len() - 1].iter().map(|p| p[1].as_f64().unwrap()).sum::<f64>() / n;
    let now = domain::clock::to_millis(domain::clock::Clock::now(&*app.clock));
    let fixes: Vec<serde_json::Value> = (0..4)
        .map(|i| serde_json::json!({ "at": now - 120_000 + i * 30_000, "lon": lon, "lat": lat, "accuracy_m": 8.0 }))
        .collect();
    let (status, r) = crate::supervision::upload(&app, &token, "IMEI-DRAW", serde_json::json!(fixes)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{r}");
    assert_eq!(r["alarms_opened"].as_i64(), Some(1), "{r}");
    // Pushed to the open page: a fresh row naming the person, no reload.
    officer.find_xpath("//table[@id='alarms']//tr[contains(@class, 'fresh') and contains(., '钱围栏')]").await;
    officer.shot("alarm-live").await;
    officer.quit().await;
}
