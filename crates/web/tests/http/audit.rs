use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn the_auditor_filters_exports_and_verifies_the_chain() {
    let app = spawn_app().await;
    app.try_login("leader", "Wrong#2026xx").await;
    let auditor = app.login("auditor").await;
    let p = auditor.get("/audit?action=auth.login&outcome=failure").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("密码错误第1次"));
    assert!(!p.body.contains("demo.load"));
    let p = auditor.get("/audit?from=bad").await;
    assert!(p.body.contains("日期格式应为"));
    let csv = auditor.get("/audit/export?action=auth.&format=csv").await;
    assert!(csv.body.contains("序号,时间,操作人"));
    // Chinese for people (操作, 对象类型), the stored code in its own last column for programs.
    let row = csv.body.lines().find(|l| l.contains("登录失败") || l.contains("密码错误")).expect("a failed login");
    let cells: Vec<&str> = row.split(',').collect();
    assert_eq!(cells[4], "登录", "{row}");
    assert!(!cells[5].is_empty() && cells[5].chars().all(|c| !c.is_ascii_lowercase()), "{row}");
    assert_eq!(cells.last(), Some(&"auth.login"), "{row}");
    let p = auditor.submit("/audit", "/audit/verify", &[]).await;
    assert!(p.body.contains("审计链完整"), "{}", p.body);
    let api: serde_json::Value = auditor
        .http
        .get(format!("{}/api/v1/audit?action=audit.verify", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["total"], 1);
}

#[tokio::test]
async fn reading_a_full_id_number_is_audited() {
    let app = spawn_app().await;
    let c = app.login("qiaocheng").await;
    let list = c.get("/citizens").await.body;
    assert!(list.contains("********"));
    let start = list.find("href=\"/citizens/").unwrap() + "href=\"/citizens/".len();
    let id = &list[start..start + 32];
    let detail = c.get(&format!("/citizens/{id}")).await.body;
    assert!(detail.contains("查看完整证件号码"));
    let revealed = c.submit(&format!("/citizens/{id}"), &format!("/citizens/{id}/reveal"), &[]).await.body;
    let citizen = store::org::citizen_by_id(&app.state.db, &store::org::RowScope::All, id).await.unwrap();
    assert!(revealed.contains(&citizen.id_card_no));
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(a, _, oid, _)| a == "person.view" && oid == id));
    assert!(audit.iter().any(|(a, _, oid, _)| a == "person.reveal_id" && oid == id));
    // A grid manager may list people but not reveal numbers.
    let w = app.login("wangge").await;
    assert_eq!(w.submit("/citizens", &format!("/citizens/{id}/reveal"), &[]).await.status, StatusCode::FORBIDDEN);
}
