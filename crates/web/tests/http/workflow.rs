use crate::helpers::*;
use reqwest::StatusCode;
use std::time::Duration as StdDuration;
use time::Duration;
use time::macros::datetime;

fn task_link(page: &str, step: &str) -> Option<String> {
    // The form of a task the signed-in user may act on: /applications/{id}/tasks/{no}
    let at = page.find(&format!("办理：{step}"))?;
    let rest = &page[at..];
    let s = rest.find("action=\"/applications/")? + "action=\"".len();
    let e = rest[s..].find('"')? + s;
    Some(rest[s..e].to_string())
}

/// The demonstration joint review through the 2026 National Day week: three departments in
/// parallel, one (fire design) never decides and is deemed to approve when its five working days
/// run out — after a server restart, once.
#[tokio::test]
async fn parallel_review_deemed_approval_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = std::sync::Arc::new(domain::clock::FakeClock::new(datetime!(2026-09-29 09:00 +8)));
    let app = spawn_app_in(dir, clock.clone()).await;

    // The enterprise submits.
    let ent = app.login(&app.login_of("enterprise").await).await;
    let form = ent.get("/my/applications/new?def=demo_joint_review").await;
    assert!(form.body.contains("总投资（元）"), "fields come from the project schema");
    let bad = ent
        .submit(
            "/my/applications/new?def=demo_joint_review",
            "/my/applications",
            &[("def", "demo_joint_review"), ("title", ""), ("f_investment", "abc")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("请填写申请名称") && bad.body.contains("“总投资（元）”：金额“abc”格式不正确"),
        "{}",
        bad.body
    );
    let p = ent
        .submit(
            "/my/applications/new?def=demo_joint_review",
            "/my/applications",
            &[
                ("def", "demo_joint_review"),
                ("title", "华佗大道物流园一期"),
                ("f_investment", "30,000,000"),
                ("f_land_area", "20000"),
                ("f_building_area", "45000"),
                ("f_industry", "物流"),
                ("f_county", "341602"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let app_path = p.location.unwrap();
    let id = app_path.trim_start_matches("/applications/").to_string();

    // The window accepts (4 working hours).
    let window = app.login("chuangkou").await;
    let tasks = window.get("/tasks").await.body;
    assert!(tasks.contains("华佗大道物流园一期"));
    let home = window.get("/home").await.body;
    assert!(
        home.contains("待我处理") && home.contains(r#"<div class="num">1</div><div class="label">待办件</div>"#),
        "{home}"
    );
    let page = window.get(&app_path).await.body;
    assert!(page.contains("30,000,000.00 元"), "money facts are typed and shown in yuan: {page}");
    let accept = task_link(&page, "窗口受理").expect("window may act");
    // Accepting checks the materials: with one missing it is refused, naming it and what to do
    // (行政许可法 art. 32 ¶1(4)); with all four received it goes on.
    let mut form = vec![("action", "approve"), ("comment", "材料齐全，予以受理")];
    form.extend([("received", "application_form"), ("received", "site_plan"), ("received", "fire_design")]);
    let p = window.submit(&app_path, &accept, &form).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("以下申请材料未收到：交通影响评价报告") && p.body.contains("一次性告知"), "{}", p.body);
    form.push(("received", "traffic_study"));
    let p = window.submit(&app_path, &accept, &form).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);

    // Planning and traffic decide within the week; fire design never acts.
    clock.advance(Duration::hours(1));
    for (login, step) in [("guihua", "规划审查"), ("jiaotong", "交通影响审查")] {
        let c = app.login(login).await;
        let page = c.get(&app_path).await.body;
        let link = task_link(&page, step).unwrap_or_else(|| panic!("{login} may act on {step}"));
        let p = c.submit(&app_path, &link, &[("action", "approve"), ("comment", "同意")]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{login}");
    }
    // Another department cannot act on the fire review.
    let c = app.login("guihua").await;
    assert!(task_link(&c.get(&app_path).await.body, "消防设计审查").is_none());
    let fire = app.login("zhujian").await;
    let page = fire.get(&app_path).await.body;
    assert!(page.contains("2026-10-12 24:00"), "5 working days: 30 Sep, 9, 10 (make-up Saturday), 12 Oct… {page}");

    // The server stops before the deadline and comes back after it.
    let dir = app.shut_down().await;
    clock.set(datetime!(2026-10-13 08:00 +8));
    let app = spawn_app_in(dir, clock.clone()).await;
    let mut done = false;
    for _ in 0..100 {
        let a = store::workflow::get(&app.state.db, &app.state.config(), &id).await.unwrap();
        if a.instance.status.is_final() {
            done = true;
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert!(done, "the overdue timer fired after the restart");
    let a = store::workflow::get(&app.state.db, &app.state.config(), &id).await.unwrap();
    assert_eq!(a.instance.status, domain::workflow::Status::Approved);
    let fire_task = a.instance.tasks.iter().find(|t| t.step == "fire").unwrap();
    assert_eq!(fire_task.status, domain::workflow::TaskStatus::DeemedApproved);
    assert!(fire_task.decided_at.unwrap() >= datetime!(2026-10-13 00:00 +8));
    let audit = app.audit_actions().await;
    assert_eq!(audit.iter().filter(|(a, ..)| a == "workflow.deemed_approved").count(), 1);

    // And only once: another restart, later, changes nothing.
    let dir = app.shut_down().await;
    clock.advance(Duration::days(3));
    let app = spawn_app_in(dir, clock.clone()).await;
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    let audit = app.audit_actions().await;
    assert_eq!(audit.iter().filter(|(a, ..)| a == "workflow.deemed_approved").count(), 1);
    let ent = app.login(&app.login_of("enterprise").await).await;
    let page = ent.get(&app_path).await.body;
    assert!(page.contains("已办结（准予）") && page.contains("超时默认同意"), "{page}");
    let inbox = ent.get("/inbox").await.body;
    assert!(inbox.contains("您的申请已办结（准予）"));
    // Statistics count it.
    let leader = app.login("leader").await;
    let stats = leader.get("/workflows/stats?from=2026-09-01&to=2026-10-31").await.body;
    assert!(stats.contains("工程建设项目联合审查（演示）") && stats.contains("市住建局"), "{stats}");
    // Both export, audited; the department export shows what the department works on.
    let csv = leader.get("/workflows/stats/export?from=2026-09-01&to=2026-10-31&format=csv").await.body;
    assert!(csv.contains("事项,工程建设项目联合审查（演示）,1,1,") && csv.contains("部门,市住建局,1,1,"), "{csv}");
    let csv = app.login("zhujian").await.get("/applications/export?format=csv").await.body;
    assert!(csv.contains("华佗大道物流园一期") && csv.contains("已办结（准予）"), "{csv}");
    let audit = app.audit_actions().await;
    assert_eq!(audit.iter().filter(|(a, ..)| a == "workflow.export").count(), 2);
}

/// One-time notice over HTTP: the return stops the clocks, the applicant corrects, a second
/// return with a new unrelated item is refused with a clear message.
#[tokio::test]
async fn return_for_correction_and_the_second_return_rule() {
    let dir = tempfile::tempdir().unwrap();
    let clock = std::sync::Arc::new(domain::clock::FakeClock::new(datetime!(2026-03-02 09:00 +8)));
    let app = spawn_app_in(dir, clock.clone()).await;
    let ent = app.login(&app.login_of("enterprise").await).await;
    let p = ent
        .submit(
            "/my/applications/new?def=demo_joint_review",
            "/my/applications",
            &[
                ("def", "demo_joint_review"),
                ("title", "药都大道厂房"),
                ("f_investment", "5000000.00"),
                ("f_land_area", "8000"),
                ("f_building_area", "9000"),
                ("f_industry", "制造"),
                ("f_county", "341602"),
            ],
        )
        .await;
    let app_path = p.location.unwrap();
    let window = app.login("chuangkou").await;
    let page = window.get(&app_path).await.body;
    let accept = task_link(&page, "窗口受理").unwrap();
    let p = window.submit(&app_path, &accept, &[("action", "return")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("一次性告知须列出全部需补正的问题"));
    let p = window
        .submit(
            &app_path,
            &accept,
            &[("action", "return"), ("item", "site_plan"), ("note_site_plan", "缺少用地红线坐标")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let page = ent.get(&app_path).await.body;
    assert!(page.contains("各环节计时暂停") && page.contains("缺少用地红线坐标"));
    assert!(ent.get("/inbox").await.body.contains("请一次性补正以下问题"));
    clock.advance(Duration::days(7));
    // A week later both sessions have timed out; sign in again.
    let ent = app.login(&app.login_of("enterprise").await).await;
    let window = app.login("chuangkou").await;
    let p = ent.submit(&app_path, &format!("{app_path}/resubmit"), &[("changed", "site_plan")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let page = window.get(&app_path).await.body;
    let accept = task_link(&page, "窗口受理").unwrap();
    let p = window
        .submit(
            &app_path,
            &accept,
            &[("action", "return"), ("item", "fire_design"), ("note_fire_design", "缺消防设计")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("“消防设计文件”不在首次一次性告知中"), "{}", p.body);
    // Rejection needs a reason from the catalog.
    let p = window.submit(&app_path, &accept, &[("action", "reject"), ("reason", ""), ("text", "x")]).await;
    assert!(p.body.contains("请从理由目录中选择驳回理由"));
    let p = window
        .submit(
            &app_path,
            &accept,
            &[("action", "reject"), ("reason", "planning_conflict"), ("text", "用地性质为农用地")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let page = ent.get(&app_path).await.body;
    assert!(page.contains("与国土空间规划不符（用地性质为农用地）"), "{page}");
    // Someone else's application is not visible.
    let other = app.login("jiaotong").await;
    assert_eq!(other.get(&app_path).await.status, StatusCode::FORBIDDEN);
}
