//! 一键申报 under the statutes, over HTTP: the 受理凭证 of 行政许可法 art. 32 ¶2, 容缺受理 and its
//! committed date, the art. 42 extension and the art. 45 excluded time; and 稳岗返还 免申即享,
//! granted without application.

use crate::helpers::*;
use crate::services::{input_value, post_multipart};
use reqwest::StatusCode;

/// Applies for 劳务派遣经营许可 (RS-XK-002) with the form's prefilled values, with or without
/// the deferrable upload; returns the application page.
async fn apply_dispatch(ent: &Client, with_rules: bool) -> String {
    let item = "/services/items/RS-XK-002";
    let form = ent.get(item).await.body;
    assert!(form.contains("可容缺"), "the applicant is told the material may follow");
    let mut f = reqwest::multipart::Form::new().text("_csrf", csrf_of(&form));
    for k in ["name", "legal_rep", "address", "registered_capital"] {
        f = f.text(format!("f_{k}"), input_value(&form, k));
    }
    if with_rules {
        f = f.part("file_rules", reqwest::multipart::Part::bytes(b"%PDF-1.4 rules".to_vec()).file_name("rules.pdf"));
    }
    let r = ent.http.post(format!("{}{item}", ent.base)).multipart(f).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    r.headers()["location"].to_str().unwrap().to_string()
}

/// 行政许可法 in one application: the 受理凭证 with the department's seal and date (art. 32
/// ¶2); 容缺受理 only under a written commitment, the licence issued when the material comes;
/// the limit extended once by at most ten working days with the reason told (art. 42); an
/// expert review not counted and nothing decided meanwhile (art. 45).
#[tokio::test]
async fn art_32_42_45_receipt_tolerance_extension_and_excluded_time() {
    let app = spawn_app().await;
    let ent = app.login(&app.login_of("enterprise").await).await;
    let page = apply_dispatch(&ent, false).await;

    let receipt = ent.get(&format!("{page}/receipt")).await;
    assert_eq!(receipt.status, StatusCode::OK);
    for part in [
        "亳州市人力资源和社会保障局",
        "受理凭证",
        "收到申请材料",
        "自收到申请材料之日起受理",
        "第三十二条第二款",
        "电子印章（SM2）",
        "亳人社受〔2026〕1号",
    ] {
        assert!(receipt.body.contains(part), "{part}: {}", receipt.body);
    }
    assert!(receipt.body.contains("<svg"), "the seal is on it");
    // Seen again unchanged, it is the same document; its PDF downloads.
    assert!(ent.get(&format!("{page}/receipt")).await.body.contains("亳人社受〔2026〕1号"));
    assert_pdf(&ent.get_bytes(&format!("{page}/receipt.pdf")).await);

    let rs = app.login("renshe").await;
    let decide = format!("{page}/decide");
    let due =
        (domain::clock::local(domain::clock::Clock::now(&*app.clock)).date() + time::Duration::days(5)).to_string();
    let bare = rs
        .submit(&page, &decide, &[("action", "tolerate"), ("material", "rules"), ("due", &due), ("commitment", "")])
        .await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bare.body.contains("书面承诺"), "{}", bare.body);
    let core = rs
        .submit(
            &page,
            &decide,
            &[("action", "tolerate"), ("material", "application"), ("due", &due), ("commitment", "承诺")],
        )
        .await;
    assert!(core.body.contains("核心材料"), "{}", core.body);
    let commitment = "本单位承诺 5 日内补交劳务派遣管理制度，逾期未交的同意不予许可";
    let ok = rs
        .submit(
            &page,
            &decide,
            &[("action", "tolerate"), ("material", "rules"), ("due", &due), ("commitment", commitment)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);

    // Art. 42: at most ten days, once, approved, the reason told.
    let long = rs
        .submit(
            &page,
            &decide,
            &[("action", "extend"), ("days", "11"), ("approver", "局长"), ("extend_reason", "核查")],
        )
        .await;
    assert!(long.body.contains("第四十二条"), "{}", long.body);
    let ext = rs
        .submit(
            &page,
            &decide,
            &[("action", "extend"), ("days", "10"), ("approver", "局长王某"), ("extend_reason", "需实地核查经营场所")],
        )
        .await;
    assert_eq!(ext.status, StatusCode::SEE_OTHER, "{}", ext.body);
    let inbox = ent.get("/inbox").await.body;
    assert!(inbox.contains("延长 10 个工作日") && inbox.contains("需实地核查经营场所"), "{inbox}");
    assert!(!rs.get(&page).await.body.contains("延长期限</button>"), "only once");

    // Art. 45: an expert review stops the clock; nothing is decided until it ends.
    let ex = rs
        .submit(
            &page,
            &decide,
            &[("action", "exclude"), ("kind", "expert_review"), ("days", "5"), ("note", "评审管理制度")],
        )
        .await;
    assert_eq!(ex.status, StatusCode::SEE_OTHER, "{}", ex.body);
    assert!(ent.get("/inbox").await.body.contains("第四十五条"));
    let early = rs.submit(&page, &decide, &[("action", "approve"), ("comment", "")]).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(early.body.contains("恢复计时"), "{}", early.body);
    assert_eq!(
        rs.submit(&page, &decide, &[("action", "resume"), ("note", "评审通过")]).await.status,
        StatusCode::SEE_OTHER
    );

    // Approved, but the licence waits for the tolerated material.
    assert_eq!(
        rs.submit(&page, &decide, &[("action", "approve"), ("comment", "同意")]).await.status,
        StatusCode::SEE_OTHER
    );
    let waiting = ent.get(&page).await.body;
    assert!(waiting.contains("待补交以下材料后签发结果") && !waiting.contains("id=\"result\""), "{waiting}");
    let supply = |name: &'static str| {
        let (ent, page) = (&ent, page.clone());
        async move {
            let token = ent.get(&page).await.csrf();
            let f = reqwest::multipart::Form::new()
                .text("_csrf", token)
                .text("f_material", "rules")
                .part("file_rules", reqwest::multipart::Part::bytes(b"%PDF-1.4 rules".to_vec()).file_name(name));
            let r = ent.http.post(format!("{}{page}/supply", ent.base)).multipart(f).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, body) = supply("rules.exe").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("应为 PDF"), "{body}");
    let (s, body) = supply("rules.pdf").await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    let done = ent.get(&page).await.body;
    assert!(done.contains("id=\"result\"") && done.contains("已补交"), "{done}");
    let receipt = ent.get(&format!("{page}/receipt")).await.body;
    assert!(receipt.contains("劳务派遣管理制度（容缺，已补交）"), "{receipt}");
    let audit = app.audit_actions().await;
    for a in ["workflow.tolerate", "workflow.extend", "workflow.exclude", "workflow.resume", "workflow.supply"] {
        assert!(audit.iter().any(|(x, ..)| x == a), "{a}");
    }
}

/// 容缺受理's consequence: the material not supplied by the committed date, the application
/// is refused as the commitment says, with the rights of review, and archived.
#[tokio::test]
async fn a_tolerated_material_not_supplied_in_time_refuses_the_application() {
    let app = spawn_app().await;
    let ent = app.login(&app.login_of("enterprise").await).await;
    let page = apply_dispatch(&ent, false).await;
    let rs = app.login("renshe").await;
    let due =
        (domain::clock::local(domain::clock::Clock::now(&*app.clock)).date() + time::Duration::days(2)).to_string();
    let decide = format!("{page}/decide");
    let ok = rs
        .submit(
            &page,
            &decide,
            &[("action", "tolerate"), ("material", "rules"), ("due", &due), ("commitment", "逾期未交同意不予许可")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(
        rs.submit(&page, &decide, &[("action", "approve"), ("comment", "")]).await.status,
        StatusCode::SEE_OTHER
    );
    let clock = app.clock.clone();
    let dir = app.shut_down().await;
    clock.advance(time::Duration::days(4));
    let app = spawn_app_in(dir, clock).await;
    let ent = app.login(&app.login_of("enterprise").await).await;
    let mut body = String::new();
    for _ in 0..50 {
        body = ent.get(&page).await.body;
        if body.contains("逾期未补交") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        body.contains("依申请人书面承诺不予许可") && body.contains("行政复议") && body.contains("电子档案"),
        "{body}"
    );
}

/// 稳岗返还 免申即享: nobody applies — the item page says so and an application is refused;
/// 市人社局 identifies the employers the year's policy admits (contributions paid 12 months and
/// none owed, layoff rate at most 5.5 %, or 20 % with 30 or fewer insured; 60 % of last year's
/// unemployment-insurance contributions back for small and medium firms, 30 % for large) and
/// grants them in one step with a sealed notice each; the employer sees its notice. Another
/// department may not.
#[tokio::test]
async fn stability_refund_is_granted_without_application() {
    let app = spawn_app().await;
    let enterprise = app.login_of("enterprise").await;
    let ent = app.login(&enterprise).await;
    let item = ent.get("/services/items/RS-GF-003").await;
    assert!(item.body.contains("本事项免申即享，无需申请"), "{}", item.body);
    let r = post_multipart(&ent, "/services/items/RS-GF-003", "/services/items/RS-GF-003", &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("免申即享，无需申请"), "{}", r.body);

    assert_eq!(app.login("shichang").await.get("/services/stability").await.status, StatusCode::FORBIDDEN);
    let renshe = app.login("renshe").await;
    let page = renshe.get("/services/stability").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("5.5%") && page.body.contains("大型企业 30%，中小微企业 60%"), "{}", page.body);
    let r = renshe.submit("/services/stability", "/services/stability/identify", &[]).await;
    let shown = renshe.get(&r.location.clone().unwrap()).await.body;
    assert!(shown.contains("家符合") && shown.contains("欠缴社会保险费"), "{shown}");
    let year = domain::clock::local(domain::clock::Clock::now(&*app.clock)).year() - 1;
    let r = renshe.submit(&r.location.unwrap(), "/services/stability/grant", &[("year", &year.to_string())]).await;
    assert!(renshe.get(&r.location.unwrap()).await.body.contains("核定通知书已加盖电子印章"));

    let db = app.state.db.reader();
    let records: Vec<(String, String)> =
        sqlx::query_as("SELECT subject, data FROM dx_records WHERE interface = 'rs.employer_insurance'")
            .fetch_all(db)
            .await
            .unwrap();
    let granted: Vec<(String, i64)> =
        sqlx::query_as("SELECT uscc, amount_fen FROM svc_stability_grants WHERE status = 'granted'")
            .fetch_all(db)
            .await
            .unwrap();
    let amount_of = |u: &str| granted.iter().find(|g| g.0 == u).map(|g| g.1);
    let (mut checked_owing, mut checked_ok) = (0, 0);
    for (uscc, data) in &records {
        let v: serde_json::Value = serde_json::from_str(data).unwrap();
        let n = |k: &str| v[k].as_str().unwrap().parse::<i64>().unwrap();
        let (insured, layoffs) = (n("insured_employees"), n("layoffs_last_year"));
        if v["arrears"] != "无" || n("ui_paid_months_last_year") < 12 {
            assert_eq!(amount_of(uscc), None, "{uscc} owes or paid under 12 months");
            checked_owing += 1;
        } else if insured > 30 && layoffs * 1000 <= insured * 55 && v["large_enterprise"] == "否" {
            let premium = domain::Money::parse_yuan(v["ui_paid_last_year"].as_str().unwrap()).unwrap().fen();
            assert_eq!(amount_of(uscc), Some(premium * 60 / 100), "{uscc}: 60 % back");
            checked_ok += 1;
        }
    }
    assert!(checked_owing > 0 && checked_ok > 0, "{checked_owing} {checked_ok}");
    // The employer sees its sealed notice (if the demo's own enterprise qualified) and is told.
    let told: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE text LIKE '%稳岗返还条件，免申即享%'")
        .fetch_one(db)
        .await
        .unwrap();
    let with_login: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM svc_stability_grants g JOIN users u ON u.login = g.uscc WHERE g.status = 'granted'",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(told, with_login, "each granted employer with an account is told");
    let mine = ent.get("/services/stability/mine").await;
    assert_eq!(mine.status, StatusCode::OK);
    match amount_of(&enterprise) {
        Some(a) => assert!(mine.body.contains(&domain::Money::from_fen(a).to_string()), "{}", mine.body),
        None => assert!(mine.body.contains("暂无核定的稳岗返还"), "{}", mine.body),
    }
    // Each notice is a registered document of 人社: numbered, sealed, printable; the granting
    // staff open it, another employer does not.
    let (id, uscc): (String, String) =
        sqlx::query_as("SELECT id, uscc FROM svc_stability_grants WHERE status = 'granted' ORDER BY id LIMIT 1")
            .fetch_one(db)
            .await
            .unwrap();
    let sheet = renshe.get(&format!("/services/stability/notices/{id}")).await.body;
    assert!(sheet.contains("失业保险稳岗返还核定通知书") && sheet.contains("亳人社稳返〔2026〕"), "stability sheet");
    assert_pdf(&renshe.get_bytes(&format!("/services/stability/notices/{id}/pdf")).await);
    if uscc != enterprise {
        assert_eq!(ent.get(&format!("/services/stability/notices/{id}")).await.status, StatusCode::NOT_FOUND);
    }
}
