//! The worker and the employer over HTTP: the demo contractor's e-contract is confirmed by the
//! worker on 我的工资 and sealed with SM3 (tampering shows); the worker confirms a month and
//! files a complaint; the contractor issues contracts and reads its own alerts and notices.

use crate::helpers::*;
use reqwest::StatusCode;

async fn open_alert(app: &TestApp, indicator: &str) -> Option<store::alerts::AlertRow> {
    store::wages::project_alerts(&app.state.db, "GC0100")
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.indicator == indicator && a.status != domain::rules::AlertStatus::Closed && a.cleared == 0)
}

#[tokio::test]
async fn worker_confirms_the_contract_and_a_month_and_complains() {
    let app = spawn_app().await;
    let cal = app.state.calendar();
    store::alerts::run_all(&app.state.db, &app.config, &cal, web::case::subject_sources(), app.state.clock.now())
        .await
        .unwrap();
    // The demo worker has no signed contract and has not signed the latest payroll.
    assert!(open_alert(&app, "wages.workers_without_contract").await.is_some());
    assert!(open_alert(&app, "wages.payroll_unsigned").await.is_some());

    let card = app.login_of("citizen").await;
    let worker = app.login(&card).await;
    let page = worker.get("/me/wages").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("待工人确认") && page.body.contains("月薪，"), "{}", page.body);
    let inbox = worker.get("/inbox").await;
    assert!(inbox.body.contains("向您发出电子劳动合同"));

    let c = store::wages::contracts::for_id_card(&app.state.db, &card).await.unwrap().remove(0);
    let path = format!("/me/wages/contracts/{}", c.id);
    // Declining needs a reason.
    let r = worker.submit("/me/wages", &path, &[("action", "decline"), ("reason", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("请说明不同意的原因"));
    let r = worker.submit("/me/wages", &path, &[("action", "accept")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let signed = store::wages::contracts::get(&app.state.db, &c.id).await.unwrap();
    assert_eq!(signed.status, domain::wages::contract::ContractStatus::Signed);
    assert_eq!(signed.digest.as_ref().map(String::len), Some(64));
    assert_eq!(signed.seal_holds(), Some(true));
    assert!(open_alert(&app, "wages.workers_without_contract").await.is_none(), "the contract clears the alert");
    let again = worker.submit("/me/wages", &path, &[("action", "accept")]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("不能再次确认"));

    // Both parties and the supervising staff see it; another enterprise does not.
    let contract_page = format!("/wages/contracts/{}", c.id);
    let mine = worker.get(&contract_page).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body.contains("校验一致") && mine.body.contains(&card), "the worker sees their full ID number");
    // The signed contract's registered copy: sealed by 人社, printable; downloading it twice gives
    // the same registered number.
    assert_pdf(&worker.get_bytes(&format!("{contract_page}/pdf")).await);
    assert_pdf(&worker.get_bytes(&format!("{contract_page}/pdf")).await);
    let registered: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM issued_documents WHERE source = $1")
        .bind(format!("contract:{}", c.id))
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(registered, 1);
    let contractor = app.login(&contractor_login(&app).await).await;
    let theirs = contractor.get(&contract_page).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.body.contains(&card), "the employer sees the ID number masked");
    assert_eq!(app.login("leader").await.get(&contract_page).await.status, StatusCode::OK);
    let other = app.login(&app.login_of("enterprise").await).await;
    assert_eq!(other.get(&contract_page).await.status, StatusCode::NOT_FOUND);

    // The worker confirms the latest month: the payroll counts as signed by them.
    let month: String = sqlx::query_scalar("SELECT MAX(month) FROM wage_payroll WHERE worker_id = $1")
        .bind(&signed.worker_id)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let r = worker
        .submit("/me/wages", "/me/wages/months", &[("worker_id", signed.worker_id.as_str()), ("month", month.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(open_alert(&app, "wages.payroll_unsigned").await.is_none(), "confirmation signs the payroll");
    // Someone else's worker record is out of reach.
    let stranger: String = sqlx::query_scalar("SELECT id FROM wage_workers WHERE id_card_no <> $1 LIMIT 1")
        .bind(&card)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let r = worker
        .submit("/me/wages", "/me/wages/months", &[("worker_id", stranger.as_str()), ("month", month.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A complaint: bad input is refused in Chinese, then filed and numbered.
    let w = signed.worker_id.as_str();
    let r = worker
        .submit("/me/wages", "/me/wages/complaints", &[("worker_id", w), ("amount", "很多"), ("text", "x")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("金额请填写数字"));
    let r =
        worker.submit("/me/wages", "/me/wages/complaints", &[("worker_id", w), ("amount", "100"), ("text", " ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = worker
        .submit(
            "/me/wages",
            "/me/wages/complaints",
            &[("worker_id", w), ("month", month.as_str()), ("amount", "1,200.50"), ("text", "班组长说下个月再发")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (channel, amount): (String, i64) = sqlx::query_as(
        "SELECT channel, amount_fen FROM wage_complaints WHERE source = 'platform' AND complainant = $1",
    )
    .bind(&signed.worker_name)
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!((channel.as_str(), amount), ("平台", 120_050));
    assert!(worker.get("/me/wages").await.body.contains("已投诉"), "the disputed month shows");

    // The complaint is a case in labor inspection's queue: 市人社局's inspector is told, assigns,
    // contacts, handles, answers and closes; the worker is told at each step and sees the answer.
    let (case_id, number): (String, String) =
        sqlx::query_as("SELECT id, external_id FROM wage_complaints WHERE source = 'platform' AND complainant = $1")
            .bind(&signed.worker_name)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    let inspector = app.login("renshe").await;
    let inbox = inspector.get("/inbox").await.body;
    assert!(inbox.contains(&format!("【待办】新欠薪投诉 {number}")), "{}", &inbox[inbox.find("<main").unwrap_or(0)..]);
    let queue = inspector.get("/wages/complaints").await.body;
    assert!(queue.contains(&number) && queue.contains("待分派"), "{queue}");
    assert!(queue.contains("format=xlsx"), "export offered");
    let (st, ct, csv) = inspector.get_bytes("/wages/complaints?stage=all&format=csv").await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.starts_with("text/csv") && String::from_utf8_lossy(&csv).contains(&number), "{ct}");
    let page = format!("/wages/complaints/{case_id}");
    // Steps go in order: contacting before assigning is refused in Chinese.
    let r = inspector.submit(&page, &page, &[("stage", "contacted"), ("note", "已电话联系")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("不能办理“已联系投诉人”"), "{}", r.body);
    let me: String = sqlx::query_scalar("SELECT id FROM users WHERE login = 'renshe'")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let r = inspector.submit(&page, &page, &[("stage", "assigned"), ("assignee", &me)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = inspector.submit(&page, &page, &[("stage", "contacted"), ("note", "")]).await;
    assert!(r.body.contains("请填写已联系投诉人的情况"), "a step that records what was done needs it");
    for (stage, note) in [
        ("contacted", "已电话联系投诉人，约定到项目部核实"),
        ("handled", "责令总包单位3日内补发"),
        ("replied", "总包单位已于12月3日补发1,200.50元"),
        ("closed", ""),
    ] {
        let r = inspector.submit(&page, &page, &[("stage", stage), ("note", note)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{stage}: {}", r.body);
    }
    let told = worker.get("/inbox").await.body;
    assert!(told.contains(&format!("您的欠薪投诉 {number} 已分派给劳动保障监察员办理")), "{told}");
    assert!(told.contains("已答复您办理结果：总包单位已于12月3日补发1,200.50元"), "{told}");
    let mine = worker.get("/me/wages").await.body;
    assert!(mine.contains("已办结") && mine.contains(&number), "{mine}");
    // Others in the platform cannot take steps or see the queue.
    let county = app.login("qiaocheng").await;
    assert_eq!(county.get(&page).await.status, StatusCode::FORBIDDEN);
    let actions = app.audit_actions().await;
    assert_eq!(actions.iter().filter(|(a, ..)| a == "wages.complaint.step").count(), 5);

    // Tampering with the stored contract breaks the seal.
    let mut tx = app.state.db.begin().await.unwrap();
    sqlx::query("UPDATE wage_contracts SET wage_rate_fen = 20000 WHERE id = $1")
        .bind(&c.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(worker.get(&contract_page).await.body.contains("校验不一致"));

    let actions = app.audit_actions().await;
    for a in [
        "wages.contract.issue",
        "wages.contract.sign",
        "wages.contract.view",
        "wages.month.confirm",
        "wages.complaint.file",
    ] {
        assert!(actions.iter().any(|x| x.0 == a), "{a} audited");
    }
    // A second complaint nobody contacts: past the promised working days the deadline job
    // escalates it and the city leader is told.
    let r = worker.submit("/me/wages", "/me/wages/complaints", &[("worker_id", w), ("text", "还有一个月没发")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    app.clock.set(time::macros::datetime!(2026-12-09 09:00 +8));
    let mut escalated = false;
    for _ in 0..100 {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wage_complaints WHERE escalated = 1")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
        if n == 1 {
            escalated = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(escalated, "the contact deadline escalated the case");
    let told: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE role = 'leader' AND text LIKE '【投诉超期】%未联系投诉人%'",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(told, 1);
}

#[tokio::test]
async fn the_contractor_issues_contracts_and_reads_its_notices() {
    let app = spawn_app().await;
    let contractor = app.login(&contractor_login(&app).await).await;
    let page = contractor.get("/wages/projects/GC0100").await;
    assert!(page.body.contains("与工人签订电子劳动合同"));
    let card: String = sqlx::query_scalar(
        "SELECT w.id_card_no FROM wage_workers w JOIN wage_projects p ON p.id = w.project_id
         WHERE p.code = 'GC0100' AND w.left_on IS NULL
           AND NOT EXISTS (SELECT 1 FROM wage_contracts c WHERE c.worker_id = w.id) LIMIT 1",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    let from = "/wages/projects/GC0100";
    let to = "/wages/projects/GC0100/contracts";
    let contract = |rate: &'static str, start: &'static str, kind: &'static str, end: &'static str, probation| {
        vec![
            ("id_card_no", card.clone()),
            ("job", "木工".to_string()),
            ("wage_type", "daily".to_string()),
            ("wage_rate", rate.to_string()),
            ("start_on", start.to_string()),
            ("end_on", end.to_string()),
            ("terms", String::new()),
            ("kind", kind.to_string()),
            ("task", String::new()),
            ("probation_months", probation),
        ]
    };
    let form = |rate: &'static str, start: &'static str| contract(rate, start, "open_ended", "", String::new());
    // A refused form answers 422 with the error in red beside its field and what was typed
    // kept; an accepted one redirects with the news.
    let send = |f: Vec<(&'static str, String)>| {
        let c = &contractor;
        async move {
            let fr: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = c.submit(from, to, &fr).await;
            if r.status == StatusCode::SEE_OTHER {
                return (true, c.get(from).await.body);
            }
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
            assert!(r.body.contains("class=\"field-error\"") && r.body.contains("value=\"木工\""), "{}", r.body);
            (false, r.body)
        }
    };
    let (ok, body) = send(form("0", "2026-12-01")).await;
    assert!(!ok && body.contains("工资标准须大于零"), "{body}");
    let (ok, body) = send(form("280", "12/01")).await;
    assert!(!ok && body.contains("合同起始日期") && body.contains("value=\"280\""), "{body}");
    // The three kinds (劳动合同法 arts. 12–15) and the probation limit (art. 19).
    let (ok, body) = send(contract("280", "2026-12-01", "fixed", "", String::new())).await;
    assert!(!ok && body.contains("固定期限劳动合同须约定终止日期（劳动合同法第十三条）"), "fixed needs an end");
    let (ok, body) = send(contract("280", "2026-12-01", "task", "", String::new())).await;
    assert!(!ok && body.contains("第十五条"), "a task contract names its task");
    let (ok, body) = send(contract("280", "2026-12-01", "fixed", "2027-05-31", "2".into())).await;
    assert!(
        !ok && body.contains("试用期不得超过1个月（劳动合同法第十九条）"),
        "six months allow one month's probation"
    );
    let (ok, body) = send(form("280", "2026-12-01")).await;
    assert!(ok && body.contains("已发给") && body.contains("无固定期限，2026-12-01 起"), "{body}");
    let (ok, body) = send(form("280", "2026-12-01")).await;
    assert!(!ok && body.contains("已有待确认或已签订的劳动合同"), "{body}");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wage_contracts WHERE id_card_no = $1 AND status = 'pending'")
        .bind(&card)
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Another enterprise cannot issue on this project.
    let other = app.login(&app.login_of("enterprise").await).await;
    let fr = [
        ("id_card_no", card.as_str()),
        ("job", "木工"),
        ("wage_type", "daily"),
        ("wage_rate", "280"),
        ("start_on", "2026-12-01"),
    ];
    let token = other.get("/wages").await.csrf();
    let mut f = vec![("_csrf", token.as_str())];
    f.extend_from_slice(&fr);
    assert_eq!(other.post(to, &f).await.status, StatusCode::NOT_FOUND);

    // Labor inspection issues a rectification order on one of its alerts; the contractor reads it.
    let cal = app.state.calendar();
    store::alerts::run_all(&app.state.db, &app.config, &cal, web::case::subject_sources(), app.state.clock.now())
        .await
        .unwrap();
    let alert = open_alert(&app, "wages.payroll_unsigned").await.expect("the demo worker has not signed");
    let staff = app.login("renshe").await;
    let detail = format!("/alerts/{}", alert.id);
    let actions = format!("/alerts/{}/actions", alert.id);
    assert_eq!(staff.submit(&detail, &actions, &[("action", "acknowledge")]).await.status, StatusCode::SEE_OTHER);
    let r = staff
        .submit(
            &detail,
            &actions,
            &[
                ("action", "dispose"),
                ("kind", "rectification_order"),
                ("deadline", "2026-12-10"),
                ("text", "请督促工人确认工资表"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // It reaches the contractor's inbox and home page as something to do.
    let inbox = contractor.get("/inbox").await.body;
    assert!(inbox.contains("【待办】收到整改通知单（亳人社整〔2026〕"), "{inbox}");
    let home = contractor.get("/home").await.body;
    assert!(home.contains("待整改反馈的文书") && home.contains("请于 2026-12-10 前整改并书面反馈"), "{home}");
    let notices = contractor.get("/wages/notices").await;
    assert_eq!(notices.status, StatusCode::OK);
    assert!(notices.body.contains("整改通知单"), "{}", notices.body);
    let doc = contractor.get(&format!("/wages/notices/{}", alert.id)).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body.contains("请督促工人确认工资表"));
    assert_pdf(&contractor.get_bytes(&format!("/wages/notices/{}/pdf", alert.id)).await);
    assert_eq!(other.get_bytes(&format!("/wages/notices/{}/pdf", alert.id)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(other.get(&format!("/wages/notices/{}", alert.id)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.login(&app.login_of("citizen").await).await.get("/wages/notices").await.status,
        StatusCode::FORBIDDEN
    );
}
