//! 事项目录管理 over HTTP: an administrator edits an item's time limit and materials on the web
//! form; new applications follow the new version (its fields, its shorter deadline) while one
//! made before keeps its own, across a restart; an earlier version is restored.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

const EDIT: &str = "/admin/services/SCJG-XK-001/edit";

/// What a browser would send for the form posting to `action`: text, hidden and number inputs,
/// ticked checkboxes, the selected option of each select, and textareas.
fn form_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let start = html.find(&format!("action=\"{action}\"")).expect("the form");
    let form = &html[start..start + html[start..].find("</form>").expect("form end")];
    let attr = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[at..].split('"').next()?.replace("&amp;", "&").replace("&quot;", "\"").replace("&#x27;", "'"))
    };
    let mut out = vec![];
    let mut rest = form;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(t) = tag.strip_prefix("input") {
            let ty = attr(t, "type").unwrap_or_else(|| "text".into());
            let Some(name) = attr(t, "name") else { continue };
            if ty == "checkbox" && !t.contains(" checked") {
                continue;
            }
            out.push((name, attr(t, "value").unwrap_or_default()));
        } else if let Some(t) = tag.strip_prefix("select") {
            let name = attr(t, "name").expect("select name");
            let body = &rest[..rest.find("</select>").expect("select end")];
            let options: Vec<&str> = body.split("<option").skip(1).collect();
            let chosen = options.iter().find(|o| o.contains(" selected")).or(options.first()).expect("an option");
            out.push((name, attr(chosen, "value").unwrap_or_default()));
        } else if let Some(t) = tag.strip_prefix("textarea") {
            let name = attr(t, "name").expect("textarea name");
            let body = &rest[rest.find('>').unwrap() + 1..];
            out.push((name, body[..body.find("</textarea>").unwrap()].to_string()));
        }
    }
    out
}

fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    fields.iter_mut().find(|(k, _)| k == name).unwrap_or_else(|| panic!("no field {name}")).1 = value.to_string();
}

async fn post_form(c: &Client, path: &str, fields: &[(String, String)]) -> Page {
    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    c.post(path, &f).await
}

/// Submits SCJG-XK-001 over the JSON API as the enterprise, with `extra` values.
async fn apply(app: &TestApp, extra: serde_json::Value) -> reqwest::Response {
    let ent = app.login(&app.login_of("enterprise").await).await;
    let csrf = ent.get("/services").await.csrf();
    let mut values = json!({ "name": "x", "legal_rep": "x", "address": "x", "business_items": "热食类食品制售",
        "contact_phone": "13955550000", "commit": "同意" });
    values.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    ent.http
        .post(format!("{}/api/v1/services/applications", ent.base))
        .header("x-csrf-token", &csrf)
        .json(&json!({ "item": "SCJG-XK-001", "values": values }))
        .send()
        .await
        .unwrap()
}

async fn deadline(app: &TestApp, id: &str) -> time::OffsetDateTime {
    let a = store::workflow::get(&app.state.db, &app.state.config(), id).await.unwrap();
    a.instance.tasks[0].deadline.expect("a deadline")
}

#[tokio::test]
async fn an_administrator_edits_an_item_and_new_applications_follow_while_earlier_ones_keep_theirs() {
    let app = spawn_app().await;
    let r = apply(&app, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let before: serde_json::Value = r.json().await.unwrap();
    let before = before["id"].as_str().unwrap().to_string();

    // Staff of a department cannot edit the catalog.
    assert_eq!(app.login("shichang").await.get(EDIT).await.status, StatusCode::FORBIDDEN);

    let admin = app.login("admin").await;
    let list = admin.get("/admin/services").await.body;
    assert!(list.contains(EDIT), "{list}");
    let page = admin.get(EDIT).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("第 1 版（配置文件）") && page.body.contains("尚未在网页上修改"), "{}", page.body);
    let mut fields = form_fields(&page.body, EDIT);
    let materials: usize = fields.iter().find(|(k, _)| k == "materials").unwrap().1.parse().unwrap();
    let blank = materials - 1;

    // A promised limit over the legal one is refused beside the field, with the typed values kept.
    set(&mut fields, "promised_days", "30");
    set(&mut fields, &format!("m{blank}.name"), "食品安全管理人员信息");
    set(&mut fields, &format!("m{blank}.f0.key"), "food_safety_officer");
    set(&mut fields, &format!("m{blank}.f0.label"), "食品安全管理员姓名");
    let r = post_form(&admin, EDIT, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("承诺时限应至少 1 个工作日，且不超过法定时限"), "{}", r.body);
    assert!(r.body.contains("value=\"食品安全管理员姓名\""), "typed values kept");
    // A bad field key is placed on its row.
    set(&mut fields, "promised_days", "2");
    set(&mut fields, &format!("m{blank}.f0.key"), "Officer Name");
    let r = post_form(&admin, EDIT, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains(&format!("href=\"#f-m{blank}.f0.key\"")) && r.body.contains("只能由小写字母"),
        "{}",
        r.body
    );
    // A day count that is not a number is reported together with the checker's findings.
    set(&mut fields, "promised_days", "两天");
    let r = post_form(&admin, EDIT, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("请填写 1 至 365 之间的工作日数") && r.body.contains("只能由小写字母"), "{}", r.body);
    set(&mut fields, "promised_days", "2");
    // Without a note, then saved.
    set(&mut fields, &format!("m{blank}.f0.key"), "food_safety_officer");
    let r = post_form(&admin, EDIT, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("请填写修改说明"), "{}", r.body);
    set(&mut fields, "note", "按市政务服务管理局通知压缩承诺时限，增加管理人员信息");
    let r = post_form(&admin, EDIT, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = admin.get(EDIT).await.body;
    assert!(page.contains("第 2 版（网页修改）"), "{page}");
    let history = page.split("id=\"history\"").nth(1).expect("history");
    assert!(
        history.contains("承诺时限：3 个工作日 → 2 个工作日") && history.contains("增加材料“食品安全管理人员信息”")
    );
    assert!(history.contains("按市政务服务管理局通知压缩承诺时限"), "{history}");
    let edit = app.audit_actions().await.into_iter().find(|a| a.0 == "services.item.edit").expect("audited");
    assert!(edit.3.contains("第 2 版") && edit.3.contains("承诺时限"), "{edit:?}");
    // The catalog exports with the version.
    let x = admin.get("/admin/services/export?format=csv").await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.body.contains("SCJG-XK-001,食品经营许可证延续"), "{}", x.body);

    // Applicants meet the new version at once: the new field, the new limit.
    let ent = app.login(&app.login_of("enterprise").await).await;
    let item = ent.get("/services/items/SCJG-XK-001").await.body;
    assert!(item.contains("食品安全管理员姓名") && item.contains("承诺 2 个工作日"), "{item}");
    let r = apply(&app, json!({})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("食品安全管理员姓名"));
    let r = apply(&app, json!({ "food_safety_officer": "李四" })).await;
    assert_eq!(r.status(), StatusCode::OK);
    let after: serde_json::Value = r.json().await.unwrap();
    let after = after["id"].as_str().unwrap().to_string();
    // Same submission instant, so the shorter limit gives the earlier deadline.
    assert!(deadline(&app, &after).await < deadline(&app, &before).await);

    // Across a restart the edit stays, and each application keeps its own version.
    let clock = app.clock.clone();
    let dir = app.shut_down().await;
    let app = spawn_app_in(dir, clock).await;
    assert_eq!(app.state.config().services.item("SCJG-XK-001").unwrap().version, 2);
    let rev = app.login("shichang").await;
    let old = rev.get(&format!("/services/applications/{before}")).await.body;
    let new = rev.get(&format!("/services/applications/{after}")).await.body;
    assert!(!old.contains("食品安全管理员姓名") && new.contains("李四"), "{old}");
    assert!(old.contains("事项第 1 版：承诺 3 个工作日") && old.contains("已调整为第 2 版"), "{old}");
    assert!(new.contains("事项第 2 版：承诺 2 个工作日") && !new.contains("已调整为"), "{new}");
    // The earlier application is decided under its own version.
    let page = format!("/services/applications/{before}");
    let r = rev.submit(&page, &format!("{page}/decide"), &[("action", "approve"), ("comment", "符合条件")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(rev.get(&page).await.body.contains("已办结"));

    // Restoring version 1 makes it current again, as version 3.
    let admin = app.login("admin").await;
    let r = admin.submit(EDIT, "/admin/services/SCJG-XK-001/restore", &[("version", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let cur = app.state.config().services.item("SCJG-XK-001").unwrap().clone();
    assert_eq!((cur.version, cur.promised_days), (3, 3));
    assert!(cur.materials.iter().all(|m| m.name != "食品安全管理人员信息"));
    assert!(admin.get(EDIT).await.body.contains("恢复为第 1 版"));
}

#[tokio::test]
async fn an_administrator_adds_an_item_by_copying_one_and_it_survives_a_restart() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let copy = "/admin/services/SCJG-XK-001/copy";
    let page = admin.get(copy).await;
    assert_eq!(page.status, StatusCode::OK);
    // A taken code, a malformed one, and no note: all refused at once.
    let r = admin.submit(copy, copy, &[("code", "SCJG-XK-002"), ("name", "x"), ("department", "scjgj")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("已被使用") && r.body.contains("请填写新增说明"), "{}", r.body);
    let r =
        admin.submit(copy, copy, &[("code", "scjg 101"), ("name", "x"), ("department", "scjgj"), ("note", "n")]).await;
    assert!(r.body.contains("事项编码由大写字母和数字组成"), "{}", r.body);
    // Another department cannot issue the market regulator's license: it must name a document.
    let r =
        admin.submit(copy, copy, &[("code", "RS-QT-101"), ("name", "x"), ("department", "rsj"), ("note", "n")]).await;
    assert!(r.body.contains("与事项部门不符"), "{}", r.body);
    let r = admin
        .submit(
            copy,
            copy,
            &[
                ("code", "SCJG-XK-101"),
                ("name", "食品经营许可证延续（告知承诺制）"),
                ("department", "scjgj"),
                ("note", "按告知承诺制试点新增"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/admin/services/SCJG-XK-101/edit"));
    let edit = admin.get("/admin/services/SCJG-XK-101/edit").await.body;
    assert!(edit.contains("第 1 版（网页新增）"), "{edit}");
    assert!(app.audit_actions().await.iter().any(|a| a.0 == "services.item.create" && a.2 == "SCJG-XK-101"));

    // Applicants find it in the zone and can apply at once; so after a restart.
    let ent = app.login(&app.login_of("enterprise").await).await;
    assert!(ent.get("/services").await.body.contains("食品经营许可证延续（告知承诺制）"));
    let clock = app.clock.clone();
    let dir = app.shut_down().await;
    let app = spawn_app_in(dir, clock).await;
    let item = app.state.config().services.item("SCJG-XK-101").cloned().expect("kept");
    assert_eq!((item.version, item.department.as_str()), (1, "scjgj"));
    assert!(app.state.config().workflow("svc.SCJG-XK-101").is_some());
    let ent = app.login(&app.login_of("enterprise").await).await;
    let form = ent.get("/services/items/SCJG-XK-101").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("确认提交"), "{}", form.body);
}
