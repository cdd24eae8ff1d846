use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn api_token_works_and_bad_or_revoked_tokens_are_refused() {
    let app = spawn_app().await;
    let api = app.api();
    let me = app.api_get("/api/v1/me").await;
    assert_eq!(me["kind"], "system");
    assert_eq!(me["login"], "bank-api");
    let r = api
        .get(format!("{}/api/v1/enterprises?per_page=5", app.base))
        .bearer_auth(app.token("data-hub"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["total"], domain::demo::ENTERPRISES_PER_SCALE as i64);
    assert_eq!(page["items"].as_array().unwrap().len(), 5);

    let r = api.get(format!("{}/api/v1/me", app.base)).bearer_auth("ys_not_a_token").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "invalid_token");
    assert_eq!(v["message"], "接口令牌无效、已过期或已吊销");
    assert!(v.get("field").is_some());

    // A token without the permission is refused with 403.
    let r = api.get(format!("{}/api/v1/audit", app.base)).bearer_auth(&app.api_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Revoked through the admin page: refused from then on.
    let admin = app.login("admin").await;
    let page = admin.get("/admin/tokens").await;
    let bank_row = page.body.find("bank-api").unwrap();
    let id_start = bank_row + page.body[bank_row..].find("/admin/tokens/").unwrap() + "/admin/tokens/".len();
    let id = &page.body[id_start..id_start + 32];
    let p = admin.submit("/admin/tokens", &format!("/admin/tokens/{id}/revoke"), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let r = api.get(format!("{}/api/v1/me", app.base)).bearer_auth(&app.api_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(a, ..)| a == "token.revoke"));
    assert!(audit.iter().any(|(a, o, ..)| a == "auth.token_rejected" && o == "denied"));
}

#[tokio::test]
async fn tokens_post_without_csrf_but_cookies_need_it() {
    let app = spawn_app().await;
    let api = app.api();
    let body = serde_json::json!({"kind": "id_card", "value": "11010519491231002X"});
    let r = api
        .post(format!("{}/api/v1/identifiers/check", app.base))
        .bearer_auth(&app.api_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["normalized"], "11010519491231002X");
    // A browser session must send the CSRF header for JSON posts.
    let c = app.login("renshe").await;
    let r = c.http.post(format!("{}/api/v1/identifiers/check", app.base)).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let token = c.get("/home").await.csrf();
    let r = c
        .http
        .post(format!("{}/api/v1/identifiers/check", app.base))
        .header("x-csrf-token", token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn identifier_errors_name_the_wrong_character() {
    let app = spawn_app().await;
    let api = app.api();
    let cases = [
        ("uscc", "91110108551385082R", "统一社会信用代码第18位校验码应为“Q”，实际为“R”"),
        ("uscc", "9111010855138508IQ", "第17位字符“I”无效"),
        ("id_card", "110105194912310021", "身份证号第18位校验码应为“X”"),
        ("id_card", "34160219990230123X", "出生日期无效"),
        ("division", "3416O2", "行政区划代码第5位字符“O”无效"),
        ("division", "341699", "不在本系统的区划表中"),
    ];
    for (kind, value, expect) in cases {
        let r = api
            .post(format!("{}/api/v1/identifiers/check", app.base))
            .bearer_auth(&app.api_token)
            .json(&serde_json::json!({"kind": kind, "value": value}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{value}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], "invalid");
        assert_eq!(v["field"], "value");
        assert!(v["message"].as_str().unwrap().contains(expect), "{value}: {}", v["message"]);
    }
}

#[tokio::test]
async fn working_days_follow_the_holiday_table() {
    let app = spawn_app().await;
    let api = app.api();
    let get = |from: &str, days: u32| {
        let url = format!("{}/api/v1/calendar/working-days?from={from}&days={days}", app.base);
        let req = api.get(url).bearer_auth(&app.api_token);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let v = get("2025-09-30", 1).await;
    assert_eq!(v["date"], "2025-10-09");
    assert_eq!(v["covered"], true);
    let v = get("2026-12-30", 3).await;
    assert_eq!(v["covered"], false, "2027 has no table yet");
}

#[tokio::test]
async fn openapi_describes_every_api_route() {
    let app = spawn_app().await;
    let doc: Value =
        app.api().get(format!("{}/api/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for r in app.state.route_table().iter().filter(|r| r.path.starts_with("/api/v1/")) {
        assert!(paths.contains_key(&r.path), "{} missing from OpenAPI", r.path);
    }
    assert!(doc["components"]["securitySchemes"]["api_token"].is_object());
    assert!(doc["components"]["schemas"]["ApiErrorBody"].is_object());
    // The document is generated from the routes: every schema a path names is in it.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = vec![];
    refs(&doc, &mut all);
    assert!(all.len() > 30, "only {} references", all.len());
    for r in all {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(doc["components"]["schemas"][name].is_object(), "{r} is not in the document");
    }
}

/// The API's types are its own: flags are booleans, codes come with their Chinese names.
#[tokio::test]
async fn departments_answer_in_api_types() {
    let app = spawn_app().await;
    let r = app
        .api()
        .get(format!("{}/api/v1/departments", app.base))
        .bearer_auth(app.token("data-hub"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let rsj = v.as_array().unwrap().iter().find(|d| d["code"] == "rsj").expect("市人社局");
    assert_eq!(rsj["active"], true);
    assert_eq!(rsj["kind_label"], "政府工作部门");
}
