//! 人才画像 over HTTP: people, employments and postings arrive by the API (bad rows refused
//! with reasons), the portrait moves with them, counties see their own, every table exports.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

async fn portrait(app: &TestApp, industry: &str) -> domain::wages::talent::Portrait {
    let f = store::wages::talent::TalentFilter { industry: Some(industry.into()), division: None };
    let (emps, posts) = store::wages::talent::load(&app.state.db, &store::org::RowScope::All, &f).await.unwrap();
    domain::wages::talent::portrait(&emps, &posts, app.state.clock.today(), 12)
}

#[tokio::test]
async fn the_portrait_moves_with_new_people_and_postings() {
    let app = spawn_app().await;
    let (uscc, industry): (String, String) = sqlx::query_as(
        "SELECT uscc, industry FROM enterprises WHERE industry = '制造' ORDER BY employees DESC LIMIT 1",
    )
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    let before = portrait(&app, &industry).await;
    assert!(before.stock > 0, "the demo city has people at work");

    let card = domain::IdCardNo::from_body("34160219980203123").unwrap().to_string();
    let r = app.ingest("talent", json!([
            { "id_card_no": card, "name": "测试人才", "education": "本科", "school": "合肥工业大学", "major": "机械设计制造及其自动化" },
            { "id_card_no": card, "name": "测试人才", "education": "幼儿园" },
        ]),
    )
    .await;
    assert_eq!((r["accepted"].as_i64(), r["rejected"].as_i64()), (Some(1), Some(1)), "{r}");
    assert!(r["rejections"][0]["reason"].as_str().unwrap().contains("最高学历"));
    let stranger = domain::IdCardNo::from_body("34160219980203124").unwrap().to_string();
    let r = app.ingest("employment", json!([
            { "external_id": "JY-T-1", "id_card_no": card, "employer_uscc": uscc, "started_on": "2026-10-10" },
            { "external_id": "JY-T-2", "id_card_no": stranger, "employer_uscc": uscc, "started_on": "2026-10-10" },
            { "external_id": "JY-T-3", "id_card_no": card, "employer_uscc": uscc, "started_on": "2026-10-10", "ended_on": "2026-09-01" },
        ]),
    )
    .await;
    assert_eq!((r["accepted"].as_i64(), r["rejected"].as_i64()), (Some(1), Some(2)), "{r}");
    assert!(r["rejections"][0]["reason"].as_str().unwrap().contains("请先导入“人才信息”"));
    assert!(r["rejections"][1]["reason"].as_str().unwrap().contains("早于入职日期"));
    let r = app.ingest("postings", json!([
            { "external_id": "GW-T-1", "employer_uscc": uscc, "title": "五轴加工中心操作工", "openings": 50, "applicants": 0, "posted_on": "2026-10-15" },
            { "external_id": "GW-T-2", "employer_uscc": uscc, "title": "学徒", "openings": 0, "posted_on": "2026-10-15" },
        ]),
    )
    .await;
    assert_eq!((r["accepted"].as_i64(), r["rejected"].as_i64()), (Some(1), Some(1)), "{r}");

    let after = portrait(&app, &industry).await;
    assert_eq!(after.stock, before.stock + 1);
    assert_eq!(after.higher, before.higher + 1);
    let oct = |p: &domain::wages::talent::Portrait| {
        p.flows.iter().find(|f| f.month.to_string() == "2026-10-01").unwrap().inflow
    };
    assert_eq!(oct(&after), oct(&before) + 1);
    let short = after.shortages.iter().find(|s| s.industry == industry).unwrap();
    assert_eq!(short.hardest, "五轴加工中心操作工");
    // A departure arrives later under the same number.
    app.ingest("employment", json!([{ "external_id": "JY-T-1", "id_card_no": card, "employer_uscc": uscc, "started_on": "2026-10-10", "ended_on": "2026-11-20" }])).await;
    assert_eq!(portrait(&app, &industry).await.stock, before.stock);

    // The page and its exports.
    let leader = app.login("leader").await;
    let page = leader.get(&format!("/talent?industry={industry}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("五轴加工中心操作工") && page.body.contains("求人倍率"), "{}", page.body);
    for t in ["industries", "education", "ages", "majors", "schools", "flows", "shortages"] {
        let r = leader.get(&format!("/talent/export?table={t}&format=xlsx")).await;
        assert_eq!(r.status, StatusCode::OK, "{t}");
    }
    let csv = leader.get("/talent/export?table=flows&format=csv").await;
    assert!(csv.body.contains("月末在岗") && csv.body.contains("2026年10月"));
    assert_eq!(leader.get("/talent/export?table=nope&format=csv").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.audit_actions().await.iter().any(|a| a.0 == "talent.export"));

    // A county sees its own employers' people; grid managers and citizens have no portrait.
    let whole = page_stock(&leader.get("/talent").await.body);
    let county = page_stock(&app.login("qiaocheng").await.get("/talent").await.body);
    assert!(county > 0 && county < whole, "{county} < {whole}");
    assert_eq!(app.login("wangge").await.get("/talent").await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.login(&app.login_of("citizen").await).await.get("/talent").await.status, StatusCode::FORBIDDEN);
}

/// The first card's number on the talent page.
fn page_stock(html: &str) -> i64 {
    let start = html.find("<div class=\"num\">").unwrap() + "<div class=\"num\">".len();
    html[start..start + html[start..].find('<').unwrap()].parse().unwrap()
}
