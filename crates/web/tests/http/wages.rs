//! 满薪满益 over HTTP: a bank's system feeds the platform through the API, an inspector works
//! the alert to its end; staff import CSV files with bad rows; pages show the project.

use crate::helpers::*;
use domain::rules::{AlertStatus, Level};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration as StdDuration;

const PROJECT: &str = "BZ-E2E-001";

fn id_card(i: u32) -> String {
    domain::IdCardNo::from_body(&format!("34160219900101{i:03}")).unwrap().as_str().to_string()
}

fn open_alert(app: &TestApp, indicator: &str) -> impl Future<Output = Option<store::alerts::AlertRow>> {
    let db = app.state.db.clone();
    let indicator = indicator.to_string();
    async move {
        store::wages::project_alerts(&db, PROJECT)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.indicator == indicator && a.status != AlertStatus::Closed)
    }
}

#[tokio::test]
async fn bank_feed_raises_arrears_which_is_worked_to_closing() {
    let app = spawn_app().await;
    // The project, its workers and attendance (from the housing bureau's system, same token).
    let r = app.ingest("projects", json!([{
            "code": PROJECT, "name": "谯城区古井镇安置小区（测试）", "division_code": "341602", "status": "在建",
            "contract_value_fen": 3_000_000_000i64, "start_on": "2026-07-01", "registered_on": "2026-06-20",
            "tripartite_on": "2026-06-22", "account_bank": "中国工商银行亳州分行", "account_no": "1306000000009999",
            "account_opened_on": "2026-06-22", "labor_manager_name": "张专管", "labor_manager_phone": "13800000001",
            "notice_board_on": "2026-06-30", "payment_guarantee": true, "pay_day": 15, "contract_signed_on": "2026-06-15"
        }]),
    )
    .await;
    assert_eq!(r["accepted"], 1, "{r}");
    app.ingest("deposits", json!([{ "project_code": PROJECT, "mode": "guarantee" }])).await;
    let workers: Vec<Value> = (1..=3)
        .map(|i| {
            json!({ "project_code": PROJECT, "id_card_no": id_card(i), "name": format!("工人{i}"), "joined_on": "2026-07-01",
                    "contract": true, "team": "钢筋班", "bank": "中国农业银行", "bank_card": format!("62284800000000{i:05}") })
        })
        .collect();
    assert_eq!(app.ingest("workers", json!(workers)).await["accepted"], 3);
    let months = ["2026-08", "2026-09", "2026-10"];
    let mut attendance = vec![];
    for m in months {
        for i in 1..=3 {
            attendance.push(json!({ "project_code": PROJECT, "id_card_no": id_card(i), "month": m, "days": 22 }));
        }
    }
    assert_eq!(app.ingest("attendance", json!(attendance)).await["accepted"], 9);
    let allocations: Vec<Value> = ["2026-08-05", "2026-09-05", "2026-10-05", "2026-11-05"]
        .iter()
        .enumerate()
        .map(|(i, d)| json!({ "external_id": format!("A{i}"), "project_code": PROJECT, "on_date": d, "amount_fen": 3_000_000 }))
        .collect();
    app.ingest("allocations", json!(allocations)).await;

    // The bank's 代发 feed: what it transferred (worker 3's August wage is missing), then the
    // pay list it was given. With the pay list the August arrears (due 9-15, 73 days) are red.
    let mut payments = vec![];
    for (mi, m) in months.iter().enumerate() {
        for i in 1..=3 {
            if mi == 0 && i == 3 {
                continue;
            }
            let paid_on = ["2026-09-10", "2026-10-10", "2026-11-10"][mi];
            payments
                .push(json!({ "external_id": format!("P{m}-{i}"), "project_code": PROJECT, "id_card_no": id_card(i),
                                  "month": m, "amount_fen": 660_000, "paid_on": paid_on }));
        }
    }
    let r = app.ingest("payments", json!(payments)).await;
    assert_eq!((r["accepted"].as_i64(), r["rejected"].as_i64()), (Some(8), Some(0)), "{r}");
    assert!(open_alert(&app, "wages.arrears").await.is_none(), "nothing is due before the pay list arrives");
    let mut payroll = vec![];
    for m in months {
        for i in 1..=3 {
            payroll.push(json!({ "project_code": PROJECT, "id_card_no": id_card(i), "month": m, "due_fen": 660_000, "signed": true }));
        }
    }
    let r = app.ingest("payroll", json!(payroll)).await;
    assert_eq!(r["accepted"], 9, "{r}");
    assert!(r["alerts_opened"].as_u64().unwrap() >= 1, "{r}");
    let alert = open_alert(&app, "wages.arrears").await.expect("arrears alert");
    assert_eq!(alert.level, Level::Red);
    assert_eq!(alert.division_code.as_deref(), Some("341602"));

    // The same feed sent again is recognised, not stored twice.
    let again = app.ingest("payments", json!(payments)).await;
    assert_eq!((again["accepted"].as_i64(), again["duplicates"].as_i64()), (Some(0), Some(8)), "{again}");

    // The project page shows it; the county inspector works the alert.
    let county = app.login("qiaocheng").await;
    let page = county.get(&format!("/wages/projects/{PROJECT}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("拖欠农民工工资"), "{}", page.body);
    assert!(page.body.contains("341602********0018") || page.body.contains(&id_card(1)), "ID numbers shown");
    let id = alert.id.clone();
    let detail = format!("/alerts/{id}");
    let actions = format!("/alerts/{id}/actions");
    assert_eq!(county.submit(&detail, &actions, &[("action", "acknowledge")]).await.status, StatusCode::SEE_OTHER);
    let p = county
        .submit(
            &detail,
            &actions,
            &[
                ("action", "dispose"),
                ("kind", "rectification_order"),
                ("deadline", "2026-12-04"),
                ("text", "限期足额支付工人8月工资，并通过专用账户代发"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    // Wage matters go to the general contractor (条例 art. 30), from 市人社局 under its number.
    let doc = county.get(&format!("/alerts/{id}/document")).await.body;
    assert!(doc.contains("整改通知单") && doc.contains("2026年12月4日") && doc.contains("亳人社整〔2026〕"), "{doc}");
    let (project, contractor): (String, String) =
        sqlx::query_as("SELECT name, contractor_name FROM wage_projects WHERE code = $1")
            .bind(PROJECT)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert!(doc.contains(&format!("{contractor}：")) && doc.contains(&format!("承建的“{project}”")), "{doc}");

    // The deadline passes without payment: the deadline job escalates.
    app.clock.set(time::macros::datetime!(2026-12-05 09:00 +8));
    let mut escalated = false;
    for _ in 0..100 {
        let d = store::alerts::get(&app.state.db, &store::org::RowScope::All, &id).await.unwrap();
        if d.alert.status == domain::rules::AlertStatus::Escalated {
            escalated = true;
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert!(escalated, "escalated after the deadline");

    // Then the payment arrives from the bank: the condition clears at once.
    let r = app
        .ingest(
            "payments",
            json!([{ "external_id": "P2026-08-3", "project_code": PROJECT, "id_card_no": id_card(3), "month": "2026-08",
                 "amount_fen": 660_000, "paid_on": "2026-12-05", "cross_bank": true }]),
        )
        .await;
    assert_eq!(r["accepted"], 1, "{r}");
    assert!(r["alerts_cleared"].as_u64().unwrap() >= 1, "{r}");
    let d = store::alerts::get(&app.state.db, &store::org::RowScope::All, &id).await.unwrap();
    assert!(d.row.cleared != 0, "arrears condition cleared");
    let project = store::wages::project(&app.state.db, &store::org::RowScope::All, PROJECT).await.unwrap();
    let months = store::wages::months(&app.state.db, &project.id).await.unwrap();
    let aug = months.iter().find(|m| m.month == "2026-08").unwrap();
    assert_eq!((aug.due_fen, aug.paid_fen, aug.paid_via_account_fen), (1_980_000, 1_980_000, 1_980_000));

    // Verification on site, then closing (a new day, a new sign-in).
    let county = app.login("qiaocheng").await;
    let p = county.submit(&detail, &actions, &[("action", "verify_pass"), ("note", "经核查，8月工资已足额代发")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let p = county.submit(&detail, &actions, &[("action", "close"), ("note", "整改完成，核查通过")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let d = store::alerts::get(&app.state.db, &store::org::RowScope::All, &id).await.unwrap();
    assert_eq!(d.alert.status, domain::rules::AlertStatus::Closed);

    // All of it is in the audit chain.
    let audit = app.audit_actions().await;
    let has =
        |action: &str, object: &str| audit.iter().any(|(a, _, o, _)| a == action && (object.is_empty() || o == object));
    assert!(has("wages.import", ""), "imports audited");
    for action in ["alert.acknowledge", "alert.dispose", "alert.escalate", "alert.verify", "alert.close"] {
        assert!(audit.iter().any(|(a, _, o, _)| a == action && o == &id), "{action} audited: {audit:?}");
    }
    assert!(has("alerts.run", PROJECT), "evaluation on new facts audited");
    let imports = audit.iter().filter(|(a, ..)| a == "wages.import").count();
    assert!(imports >= 9, "one audit record per batch: {imports}");
}

/// Posts a file to the import form as `client`; the redirect target.
async fn import_file(client: &Client, kind: &str, source: &str, name: &str, body: &str) -> Page {
    let token = client.get("/wages/import").await.csrf();
    let form = reqwest::multipart::Form::new()
        .text("_csrf", token)
        .text("kind", kind.to_string())
        .text("source", source.to_string())
        .part("file", reqwest::multipart::Part::bytes(body.as_bytes().to_vec()).file_name(name.to_string()));
    let r = client.http.post(format!("{}/wages/import", client.base)).multipart(form).send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let location = headers.get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    Page { status, body: r.text().await.unwrap_or_default(), location, headers }
}

#[tokio::test]
async fn a_csv_with_bad_rows_reports_each_and_keeps_the_rest() {
    let app = spawn_app().await;
    let county = app.login("qiaocheng").await;
    let projects = format!(
        "项目编号,项目名称,所属区划代码,项目状态,开工日期,合同金额（元）\n\
         {PROJECT},测试项目,341602,在建,2026-07-01,\"30,000,000.00\"\n\
         BZ-OUTSIDE,别的县的项目,341621,在建,2026-07-01,100\n"
    );
    let p = import_file(&county, "projects", "市住建局项目库", "projects.csv", &projects).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let batch = county.get(p.location.as_deref().unwrap()).await.body;
    assert!(batch.contains("不在您的管辖范围内"), "涡阳县 is outside 谯城区: {batch}");
    let workers = format!(
        "项目编号,身份证号码,姓名,进场日期,已签劳动合同\n{PROJECT},{},甲,2026-07-01,是\n{PROJECT},{},乙,2026-07-01,否\n",
        id_card(1),
        id_card(2)
    );
    let p = import_file(&county, "workers", "项目实名制系统", "workers.csv", &workers).await;
    assert!(county.get(p.location.as_deref().unwrap()).await.body.contains("全部行均已处理"));

    let good = |n: u32, card: &str| format!("Q{n},{PROJECT},{card},2026-10,\"6,600.00\",2026-11-10,专用账户代发");
    let mut bad_card = id_card(2);
    bad_card.replace_range(17..18, if bad_card.ends_with('1') { "2" } else { "1" });
    let csv = [
        "流水号,项目编号,身份证号码,工资月份,实发金额（元）,发放日期,发放方式,备注".to_string(),
        good(1, &id_card(1)),
        good(2, &id_card(2)),
        format!("Q3,{PROJECT},{bad_card},2026-10,100,2026-11-10,专用账户代发"),
        format!("Q4,{PROJECT},{},2026-10,12.345,2026-11-10,专用账户代发", id_card(1)),
        format!("Q5,{PROJECT},{},2026-10,100,2026-13-01,专用账户代发", id_card(1)),
        format!("Q6,NO-SUCH,{},2026-10,100,2026-11-10,专用账户代发", id_card(1)),
        format!("Q7,{PROJECT},{},2026-10,100,2026-11-10,专用账户代发", id_card(9)),
        format!(",{PROJECT},{},2026-10,100,2026-11-10,专用账户代发", id_card(1)),
        format!("Q8,{PROJECT},{},2026-10,100,2026-11-10,微信转账", id_card(1)),
    ]
    .join("\r\n");
    let p = import_file(&county, "payments", "工商银行亳州分行代发", "bank-2026-11.csv", &csv).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let loc = p.location.unwrap();
    let page = county.get(&loc).await.body;
    for reason in [
        "校验码",
        "最多保留两位小数",
        "不是有效的日期",
        "项目编号“NO-SUCH”不存在",
        "没有身份证号码为",
        "“流水号”为必填项",
        "不是有效的发放方式",
    ] {
        assert!(page.contains(reason), "reason {reason} shown: {page}");
    }
    let b = store::wages::ingest::batches(&app.state.db, None, 10).await.unwrap();
    let b = b.iter().find(|b| b.kind == "payments").unwrap();
    assert_eq!((b.total, b.accepted, b.duplicates, b.rejected), (9, 2, 0, 7));
    // Row numbers are the file's lines (header is line 1).
    let (_, rejected) =
        store::wages::ingest::batch(&app.state.db, &b.id, None, store::sql::PageRequest::all()).await.unwrap();
    let rejected = rejected.items;
    assert_eq!(rejected.iter().map(|r| r.row_no).collect::<Vec<_>>(), vec![4, 5, 6, 7, 8, 9, 10]);
    assert!(rejected.iter().all(|r| !r.reason.is_empty() && !r.raw.is_empty()));
    // The unknown column was reported, the rejections download as a table.
    let export = county.get(&format!("{loc}?format=csv")).await;
    assert!(export.body.contains("行号") && export.body.contains("NO-SUCH"));
    // The good rows are stored once, even when the file is imported again.
    let p = import_file(&county, "payments", "工商银行亳州分行代发", "bank-2026-11.csv", &csv).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let b = store::wages::ingest::batches(&app.state.db, None, 1).await.unwrap().remove(0);
    assert_eq!((b.accepted, b.duplicates, b.rejected), (0, 2, 7));
    let project = store::wages::project(&app.state.db, &store::org::RowScope::All, PROJECT).await.unwrap();
    let months = store::wages::months(&app.state.db, &project.id).await.unwrap();
    assert_eq!(months[0].paid_fen, 1_320_000, "two payments of 6,600.00");

    // Form errors: no file, unknown columns only.
    let p = import_file(&county, "payments", "", "x.csv", "").await;
    assert!(p.body.contains("请填写数据来源") && p.body.contains("请选择要导入的"), "{}", p.body);
    let p = import_file(&county, "payments", "某银行", "x.csv", "a,b\n1,2\n").await;
    assert!(p.body.contains("文件缺少必填列"), "{}", p.body);
    // Templates download.
    let t = county.get("/wages/import/template/payments?format=csv").await;
    assert_eq!(t.status, StatusCode::OK);
    assert!(t.body.contains("流水号") && t.body.contains("实发金额（元）"));
    // A grid manager may look but not import; a citizen may not look.
    let grid = app.login("wangge").await;
    assert_eq!(grid.get("/wages/import").await.status, StatusCode::FORBIDDEN);
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(a, _, _, d)| a == "wages.import" && d.contains("拒收 7")), "{audit:?}");
}

#[tokio::test]
async fn project_pages_list_filter_export_and_respect_scope() {
    let app = spawn_app().await;
    let leader = app.login("leader").await;
    let list = leader.get("/wages").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("在建项目") && list.body.contains("GC0001"), "{}", list.body);
    let red = leader.get("/wages?q=GC0001").await.body;
    assert!(red.contains("GC0001") && !red.contains("GC0101"));
    let x = leader.get("/wages/export?format=csv").await;
    assert!(x.body.contains("项目编号") && x.body.contains("GC0001"));
    let stats = leader.get("/wages/stats").await.body;
    assert!(stats.contains("监管项目") && stats.contains("追回欠薪"), "{stats}");
    // A project page shows its parts.
    let page = leader.get("/wages/projects/GC0001").await;
    assert_eq!(page.status, StatusCode::OK);
    for part in ["农民工工资专用账户", "按月工资支付", "实名制工人", "预警指标读取的事实"]
    {
        assert!(page.body.contains(part), "{part}");
    }
    // A citizen has no access; API lists projects for a system with the permission.
    let citizen = app.login(&app.login_of("citizen").await).await;
    assert_eq!(citizen.get("/wages").await.status, StatusCode::FORBIDDEN);
    let r =
        app.api().get(format!("{}/api/v1/wages/projects", app.base)).bearer_auth(&app.api_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "the bank system sends data but does not read projects");
    let r = app
        .api()
        .post(format!("{}/api/v1/wages/ingest/nonsense", app.base))
        .bearer_auth(&app.api_token)
        .json(&json!({"rows": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("payments"), "{body}");
    // Unknown fields are refused per row, naming the field.
    let r = app.ingest("signals", json!([{ "external_id": "S1", "project_code": "GC0001", "kind": "dishonest", "on_date": "2026-11-01", "nmae": "x" }])).await;
    assert_eq!(r["rejected"], 1);
    assert!(r["rejections"][0]["reason"].as_str().unwrap().contains("未知字段“nmae”"), "{r}");

    // An event's number is never reused for different content; a complaint updates as handled.
    let s1 = json!([{ "external_id": "S2", "project_code": "GC0001", "kind": "dishonest", "on_date": "2026-11-01" }]);
    assert_eq!(app.ingest("signals", s1).await["accepted"], 1);
    let changed =
        json!([{ "external_id": "S2", "project_code": "GC0001", "kind": "tax_anomaly", "on_date": "2026-11-01" }]);
    let r = app.ingest("signals", changed).await;
    assert_eq!(r["rejected"], 1, "{r}");
    assert!(r["rejections"][0]["reason"].as_str().unwrap().contains("已登记为不同内容"), "{r}");
    let c = |status: &str, recovered: i64| {
        json!([{ "external_id": "12345-1", "project_code": "GC0001", "channel": "12345", "amount_fen": 1_560_000,
                 "received_on": "2026-11-20", "status": status, "recovered_fen": recovered }])
    };
    assert_eq!(app.ingest("complaints", c("open", 0)).await["accepted"], 1);
    assert_eq!(app.ingest("complaints", c("closed", 1_560_000)).await["accepted"], 1);
    let t = store::wages::totals(&app.state.db, &store::org::RowScope::All).await.unwrap();
    let recovered: i64 = t.recovered_fen;
    assert!(recovered >= 1_560_000, "the complaint was updated, not duplicated: {t:?}");
    let project = store::wages::project(&app.state.db, &store::org::RowScope::All, "GC0001").await.unwrap();
    let complaints = store::wages::complaints(&app.state.db, &project).await.unwrap();
    assert_eq!(complaints.iter().filter(|c| c.channel == "12345" && c.received_on == "2026-11-20").count(), 1);
}

/// Each kind of wage data comes from its source of truth: a general contractor sends what it
/// keeps itself (workers, attendance, payroll), never signals or payments — it could clear its
/// own 失信 flag or declare unpaid wages paid (refused, audited, and not offered on its page);
/// and a payment that does not say how it was made is not assumed to be a 专户代发 unless a bank
/// sent it.
#[tokio::test]
async fn each_kind_comes_from_its_source_of_truth() {
    let app = spawn_app().await;
    // A general contractor of the demo city, whose login is its USCC.
    let uscc: String = sqlx::query_scalar(
        "SELECT p.contractor_uscc FROM wage_projects p JOIN users u ON u.login = p.contractor_uscc ORDER BY p.code LIMIT 1",
    )
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let contractor = app.login(&uscc).await;
    let page = contractor.get("/wages/import").await.body;
    assert!(page.contains("工资支付台账") && !page.contains("value=\"signals\""), "offered only its own kinds");
    let csv = "项目编号,用人单位统一社会信用代码,信号类型,日期,数值\r\nBZ-1,,失信联合惩戒名单,2026-11-01,0";
    let r = import_file(&contractor, "signals", "自报", "signals.csv", csv).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("应由其数据来源报送"), "{}", r.body);
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' AND object_type = 'wage_ingest' AND object_id = 'signals'",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(audited, 1);

    let county = app.login("qiaocheng").await;
    let project: String =
        sqlx::query_scalar("SELECT code FROM wage_projects WHERE division_code LIKE '341602%' LIMIT 1")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    let card: String = sqlx::query_scalar(
        "SELECT w.id_card_no FROM wage_workers w JOIN wage_projects p ON p.id = w.project_id WHERE p.code = $1 LIMIT 1",
    )
    .bind(&project)
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    let csv = format!(
        "流水号,项目编号,身份证号码,工资月份,实发金额（元）,发放日期\r\nNM1,{project},{card},2026-10,100,2026-11-10"
    );
    let r = import_file(&county, "payments", "某单位自报", "pay.csv", &csv).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let shown = county.get(&r.location.unwrap()).await.body;
    assert!(shown.contains("请填写发放方式"), "{shown}");
}

/// 条例 art. 34: the 维权信息告示牌 is generated from what the platform holds — the parties, the
/// 劳资专管员, the minimum wage in force in the site's division, the pay day and the channels of
/// art. 34(3) — and only for whoever may see the project.
#[tokio::test]
async fn art_34_the_rights_notice_board_is_generated_from_the_project() {
    let app = spawn_app().await;
    let (code, contractor, division): (String, String, String) = sqlx::query_as(
        "SELECT p.code, p.contractor_uscc, p.division_code FROM wage_projects p JOIN users u ON u.login = p.contractor_uscc
         ORDER BY p.code LIMIT 1",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    let ent = app.login(&contractor).await;
    let board = ent.get(&format!("/wages/projects/{code}/notice-board")).await;
    assert_eq!(board.status, StatusCode::OK);
    let minimum = app.config.city.wages.minimum_on(&division, time::macros::date!(2026 - 11 - 01));
    let yuan = domain::Money::from_fen(minimum).to_yuan_string();
    for part in [
        "农民工维权信息告示牌",
        "第三十四条",
        "劳资专管员",
        "当地最低工资标准",
        &yuan,
        "12333",
        "12348",
        "劳动人事争议仲裁",
    ] {
        assert!(board.body.contains(part), "{part}: {}", board.body);
    }
    // Another enterprise's login does not see it.
    let other: String = sqlx::query_scalar(
        "SELECT u.login FROM users u JOIN enterprises e ON e.uscc = u.login WHERE u.login <> $1 LIMIT 1",
    )
    .bind(&contractor)
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    let status = app.login(&other).await.get(&format!("/wages/projects/{code}/notice-board")).await.status;
    assert!(matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{status}");
}

/// Signals split by their source of truth: 人社 sends the 失信 list it keeps (条例 art. 48) but
/// not a tax anomaly, which only 税务 knows; the data-sharing platform relays every source.
#[tokio::test]
async fn each_signal_comes_from_its_own_department() {
    let app = spawn_app().await;
    let uscc: String = sqlx::query_scalar("SELECT contractor_uscc FROM wage_projects ORDER BY code LIMIT 1")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    let renshe = app.login("renshe").await;
    let csv = format!(
        "编号,项目编号,用人单位统一社会信用代码,信号类型,日期,数值\r\nS1,,{uscc},税务异常,2026-11-01,1\r\nS2,,{uscc},失信联合惩戒名单,2026-11-02,1"
    );
    let r = import_file(&renshe, "signals", "人社局劳动监察", "signals.csv", &csv).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let shown = renshe.get(&r.location.unwrap()).await.body;
    assert!(shown.contains("“税务异常”应由其来源部门（市税务局）报送"), "{shown}");
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM wage_signals WHERE employer_uscc = $1 AND source = '人社局劳动监察'")
            .bind(&uscc)
            .fetch_all(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(kinds, vec!["dishonest".to_string()]);
    // The platform's system token relays a tax anomaly.
    let r = app
        .ingest("signals", json!([{ "external_id": "T1", "employer_uscc": uscc, "kind": "tax_anomaly", "on_date": "2026-11-03", "value": 1 }]))
        .await;
    assert_eq!(r["accepted"].as_i64(), Some(1), "{r}");
}

/// 条例 art. 26 ¶1 (the special account is for this project's wages only), art. 31 ¶3 (paid
/// straight into the worker's own account) and art. 27 ¶1 (the bank manages the account day to
/// day): the bank reports every debit; wages to the project's workers — known by ID number or
/// by wage card — raise nothing, a transfer to the contractor's own account or a cash
/// withdrawal is red. A general contractor cannot send the feed.
#[tokio::test]
async fn art_26_money_leaving_the_special_account_for_anything_but_wages_is_red() {
    let app = spawn_app().await;
    let r = app
        .ingest(
            "projects",
            json!([{ "code": PROJECT, "name": "谯城区专户核查项目（测试）", "division_code": "341602", "status": "在建",
                "start_on": "2026-07-01", "contract_signed_on": "2026-06-15", "account_bank": "中国工商银行亳州分行",
                "account_no": "1306000000008888", "account_opened_on": "2026-06-22", "tripartite_on": "2026-06-22" }]),
        )
        .await;
    assert_eq!(r["accepted"], 1, "{r}");
    let workers: Vec<Value> = (1..=2)
        .map(|i| {
            json!({ "project_code": PROJECT, "id_card_no": id_card(i), "name": format!("工人{i}"), "joined_on": "2026-07-01",
                    "bank": "中国农业银行", "bank_card": format!("62284800000000{i:05}") })
        })
        .collect();
    assert_eq!(app.ingest("workers", json!(workers)).await["accepted"], 2);
    let debit = |id: &str, extra: Value| {
        let mut row =
            json!({ "external_id": id, "project_code": PROJECT, "on_date": "2026-11-15", "amount_fen": 680_000 });
        row.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        row
    };
    let wages = json!([
        debit("D1", json!({ "payee_name": "工人1", "payee_id_card_no": id_card(1) })),
        debit("D2", json!({ "payee_name": "工人2", "payee_account": "6228480000000000002" })),
    ]);
    let r = app.ingest("debits", wages).await;
    assert_eq!((r["accepted"].as_i64(), r["rejected"].as_i64()), (Some(2), Some(0)), "{r}");
    assert!(open_alert(&app, "wages.account_misused").await.is_none(), "wages to the project's own workers");

    let out = json!([debit(
        "D3",
        json!({ "payee_name": "亳州某建设集团有限公司", "payee_account": "1306000000001234", "amount_fen": 30_000_000 })
    )]);
    let r = app.ingest("debits", out).await;
    assert_eq!(r["accepted"], 1, "{r}");
    let alert = open_alert(&app, "wages.account_misused").await.expect("misuse alert");
    assert_eq!(alert.level, Level::Red);
    let county = app.login("qiaocheng").await;
    let shown = county.get(&format!("/alerts/{}", alert.id)).await.body;
    assert!(
        shown.contains("专用账户资金用于支付本项目农民工工资以外的用途") && shown.contains("第二十六条第一款"),
        "{shown}"
    );
    // A cash withdrawal, even by a worker, is not a transfer to the worker's own account.
    let cash = json!([debit("D4", json!({ "payee_name": "工人1", "payee_id_card_no": id_card(1), "cash": true }))]);
    assert_eq!(app.ingest("debits", cash).await["accepted"], 1);
    let matched: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT d.external_id, w.id_card_no, d.cash FROM wage_account_debits d LEFT JOIN wage_workers w ON w.id = d.worker_id
         WHERE d.project_id = (SELECT id FROM wage_projects WHERE code = $1) ORDER BY d.external_id",
    )
    .bind(PROJECT)
    .fetch_all(app.state.db.reader())
    .await
    .unwrap();
    let expected = [
        ("D1".to_string(), Some(id_card(1)), 0),
        ("D2".to_string(), Some(id_card(2)), 0),
        ("D3".to_string(), None, 0),
        ("D4".to_string(), Some(id_card(1)), 1),
    ];
    assert_eq!(matched, expected, "workers known by ID number or wage card");

    // Only the bank (or a department's system) sends the account's debits.
    let sent = app
        .api()
        .post(format!("{}/api/v1/wages/ingest/debits", app.base))
        .bearer_auth(app.token("location-gw"))
        .json(&json!({ "rows": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::FORBIDDEN);
}

/// 人社部发〔2021〕65号 art. 22: only after completion does the general contractor commit in
/// writing and publicise for 30 days (the notice board shows it); an application before the
/// 30 days is refused; the 人社 department — no other — reviews, cannot approve while a
/// complaint received during the publicity is open, and on approval issues the sealed
/// 返还确认书, whose SM2 signature checks against the seal's key. The contractor is told.
#[tokio::test]
async fn art_22_the_deposit_is_refunded_after_commitment_publicity_and_review() {
    let app = spawn_app().await;
    let uscc: String = sqlx::query_scalar(
        "SELECT p.contractor_uscc FROM wage_projects p JOIN users u ON u.login = p.contractor_uscc ORDER BY p.code LIMIT 1",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    let project = |status: &str| {
        json!([{ "code": PROJECT, "name": "谯城区保证金返还项目（测试）", "division_code": "341602", "status": status,
            "contractor_uscc": uscc, "contractor_name": "测试总包单位", "contract_value_fen": 5_000_000_000i64,
            "start_on": "2025-03-01", "finish_on": "2026-10-31" }])
    };
    assert_eq!(app.ingest("projects", project("在建")).await["accepted"], 1);
    let deposit = json!([{ "project_code": PROJECT, "mode": "cash", "paid_fen": 50_000_000 }]);
    assert_eq!(app.ingest("deposits", deposit).await["accepted"], 1);
    let page = format!("/wages/projects/{PROJECT}");
    let contractor = app.login(&uscc).await;
    let first = contractor.get(&page).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let r = contractor.submit(&page, &format!("{page}/refund/commit"), &[]).await;
    let shown = contractor.get(&r.location.unwrap()).await.body;
    assert!(
        shown.contains("工程完工后方可申请返还工资保证金（《工程建设领域农民工工资保证金规定》第二十二条第一款）"),
        "{shown}"
    );

    assert_eq!(app.ingest("projects", project("已竣工")).await["accepted"], 1);
    let r = contractor.submit(&page, &format!("{page}/refund/commit"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let today = domain::clock::local(domain::clock::Clock::now(&*app.clock)).date();
    assert!(
        contractor.get(&r.location.unwrap()).await.body.contains(&format!("自 {today} 起在维权信息告示牌公示30日"))
    );
    let board = contractor.get(&format!("{page}/notice-board")).await.body;
    assert!(board.contains("工资保证金返还公示") && board.contains("不存在未解决的拖欠农民工工资问题"), "{board}");
    let r = contractor.submit(&page, &format!("{page}/refund/apply"), &[]).await;
    let shown = contractor.get(&r.location.unwrap()).await.body;
    let from = today + time::Duration::days(30);
    assert!(shown.contains(&format!("须公示满30日，{from} 起方可申请返还")), "{shown}");

    // A worker complains during the publicity.
    let complaint = |closed: bool| {
        let mut c = json!({ "external_id": "C-REFUND-1", "project_code": PROJECT, "channel": "12333", "complainant": "王某",
            "amount_fen": 800_000, "received_on": (today + time::Duration::days(10)).to_string() });
        if closed {
            c["status"] = json!("closed");
            c["closed_on"] = json!((today + time::Duration::days(31)).to_string());
            c["recovered_fen"] = json!(800_000);
        }
        json!([c])
    };
    assert_eq!(app.ingest("complaints", complaint(false)).await["accepted"], 1);
    app.clock.advance(time::Duration::days(30));
    // A month on, the session has lapsed: sign in again.
    let contractor = app.login(&uscc).await;
    let r = contractor.submit(&page, &format!("{page}/refund/apply"), &[]).await;
    assert!(contractor.get(&r.location.unwrap()).await.body.contains("返还申请已提交，人社部门应于"));
    let told: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE department = 'rsj' AND text LIKE '%申请返还%工资保证金%'",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(told, 1);

    // Another department's clerk (same role) and the contractor may not review.
    let shichang = app.login("shichang").await;
    let review = format!("{page}/refund/review");
    assert_eq!(shichang.post(&review, &[("action", "approve")]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(contractor.post(&review, &[("action", "approve")]).await.status, StatusCode::FORBIDDEN);
    let renshe = app.login("renshe").await;
    let r = renshe.submit(&page, &review, &[("action", "approve"), ("reason", "")]).await;
    let shown = renshe.get(&r.location.unwrap()).await.body;
    assert!(shown.contains("不能同意返还：公示期间收到欠薪投诉 1 件"), "{shown}");
    let r = renshe.submit(&page, &review, &[("action", "refuse"), ("reason", "")]).await;
    assert!(renshe.get(&r.location.unwrap()).await.body.contains("不予返还须写明理由"));

    assert_eq!(app.ingest("complaints", complaint(true)).await["accepted"], 1);
    let r = renshe.submit(&page, &review, &[("action", "approve"), ("reason", "投诉已办结，工资已支付")]).await;
    let shown = renshe.get(&r.location.unwrap()).await.body;
    assert!(shown.contains("返还确认书 亳人社保返〔2026〕1号"), "{shown}");
    let doc = contractor.get(&format!("{page}/refund/confirmation")).await;
    assert_eq!(doc.status, StatusCode::OK);
    for s in
        ["工资保证金返还（销户）确认书", "现金存储 500,000.00 元", "第二十二条第二款", "亳州市人力资源和社会保障局"]
    {
        assert!(doc.body.contains(s), "{s}: {}", doc.body);
    }
    let (text, sig, key): (String, String, String) = {
        let row: (String, String) = sqlx::query_as(
            "SELECT confirmation, signature FROM wage_deposit_refunds WHERE project_id = (SELECT id FROM wage_projects WHERE code = $1)",
        )
        .bind(PROJECT)
        .fetch_one(app.state.db.reader())
            .await
            .unwrap();
        let key: String =
            sqlx::query_scalar("SELECT public_key FROM sm2_keys WHERE owner_kind = 'department' AND owner_id = 'rsj'")
                .fetch_one(app.state.db.reader())
                .await
                .unwrap();
        (row.0, row.1, key)
    };
    // The row keeps the signed head and signature; the sheet's QR code carries them.
    assert!(doc.body.contains(&sig) && text.starts_with("YSDOC1|亳人社保返〔2026〕1号|rsj|"), "{text}");
    let ok = domain::crypto::verify(&hex::decode(&key).unwrap(), text.as_bytes(), &hex::decode(&sig).unwrap()).unwrap();
    assert!(ok, "the confirmation verifies under the department's seal");
    assert_pdf(&contractor.get_bytes(&format!("{page}/refund/confirmation.pdf")).await);
    let told: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE text LIKE '%返还确认书%已出具%'")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(told, 1, "the contractor is told");
    // Nothing to review twice.
    let again = renshe.submit(&page, &review, &[("action", "approve"), ("reason", "")]).await;
    assert!(renshe.get(&again.location.unwrap()).await.body.contains("无需审核"));
}
