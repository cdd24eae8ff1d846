//! Object-level access, generated from the route table: every route that names an object in
//! its path is called by every demo role that is not city-wide for it, with the id of an object
//! that belongs to another subject (another enterprise, another citizen, another county, another
//! agency). The answer must be 403 or 404 — never the object — and a refusal must leave an audit
//! record. A new route with a path parameter fails this test until it is classified below.

use crate::helpers::*;
use domain::auth::{DataScope, Principal};
use reqwest::StatusCode;
use std::collections::BTreeMap;
use web::access::Access;

/// What a route's path parameters name, by path prefix (longest match wins).
const KINDS: &[(&str, Kind)] = &[
    ("/applications/{id}", Kind::Application),
    ("/api/v1/applications/{id}", Kind::Application),
    ("/services/applications/{id}", Kind::ServiceApplication),
    ("/api/v1/services/applications/{id}", Kind::ServiceApplication),
    ("/services/xrequests/{id}", Kind::ServiceApplication),
    ("/alerts/{id}", Kind::Alert),
    ("/wages/notices/{id}", Kind::Alert),
    ("/wages/notices/{id}/pdf", Kind::Alert),
    ("/alerts/{id}/document.pdf", Kind::Alert),
    ("/wages/projects/{code}", Kind::Project),
    ("/api/v1/wages/projects/{code}", Kind::Project),
    ("/wages/contracts/{id}", Kind::Contract),
    ("/wages/contracts/{id}/pdf", Kind::Contract),
    ("/me/wages/contracts/{id}", Kind::Contract),
    ("/wages/import/batches/{id}", Kind::Batch),
    ("/supervision/persons/{id}", Kind::SupervisedPerson),
    ("/me/supervision/summons/{s}", Kind::Summons),
    ("/api/v1/supervision/summons/{id}", Kind::Summons),
    ("/licenses/{number}", Kind::License),
    ("/licenses/{number}/pdf", Kind::License),
    ("/api/v1/licenses/{number}", Kind::License),
    ("/citizens/{id}", Kind::Citizen),
    ("/enterprises/{uscc}", Kind::Enterprise),
    ("/api/v1/enterprises/{uscc}", Kind::Enterprise),
    ("/labor/employers/{uscc}", Kind::Enterprise),
    ("/scores/{subject_type}/{subject_id}", Kind::Score),
    ("/api/v1/scores/{subject_type}/{subject_id}", Kind::Score),
    ("/grids/{id}", Kind::Grid),
];

/// The foreign contract: one on a project outside 谯城区 (the county staff's scope).
const CONTRACT: &str = "SELECT c.id FROM wage_contracts c JOIN wage_projects p ON p.id = c.project_id WHERE p.division_code NOT LIKE '341602%' ORDER BY c.id LIMIT 1";

/// Routes whose path parameter names no one's object, and why.
const NOT_OBJECTS: &[(&str, &str)] = &[
    ("/admin/", "administration: city-wide administrators only (admin.* permissions)"),
    ("/services/items/{code}", "the public catalogue of service items"),
    ("/wages/import/template/{kind}", "a blank import template by data kind"),
    ("/exchange/template/{code}", "a blank import template of a shared-data interface"),
    ("/exchange/{code}/records", "pushing into an interface: the owner check has its own test"),
    ("/api/v1/exchange/{code}/records", "pushing into an interface: the owner check has its own test"),
    ("/api/v1/wages/ingest/{kind}", "a data kind, not an object"),
    ("/documents/keys/{department}", "a department's public seal key, published for offline verification"),
    (
        "/wages/complaints/{id}",
        "the 人社 department's complaint queue: only wages.complaints holders (its inspectors, the city leader), whose scope is the whole city; steps only by the department's inspectors (checked in the handler); the worker sees his own on /me/wages",
    ),
    (
        "/services/stability/notices/{id}",
        "a 稳岗返还 notice: only the employer it is addressed to (by USCC) or holders of services.stability (checked in the handler); services::stability_refund_is_granted_without_application opens a foreign one",
    ),
    (
        "/api/v1/licenses/{number}/verification",
        "public verification (证照核验): validity only; the holder's name for the holder and staff, audited",
    ),
];

const FORM: [(&str, &str); 10] = [
    ("reason", "测试"),
    ("text", "测试"),
    ("note", "测试"),
    ("comment", "测试"),
    ("keywords", "测试"),
    ("answer", "测试"),
    ("outcome", "confirmed"),
    ("material", "x"),
    ("action", "approve"),
    ("decision", "approve"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Application,
    ServiceApplication,
    Alert,
    Project,
    Contract,
    Batch,
    SupervisedPerson,
    Summons,
    License,
    Citizen,
    Enterprise,
    Score,
    Grid,
}

fn kind_of(path: &str) -> Result<Option<Kind>, String> {
    if NOT_OBJECTS.iter().any(|(p, _)| path.starts_with(p)) {
        return Ok(None);
    }
    KINDS
        .iter()
        .filter(|(p, _)| path.starts_with(p))
        .max_by_key(|(p, _)| p.len())
        .map(|(_, k)| Some(*k))
        .ok_or_else(|| format!("{path} names an object but is not classified in object_access.rs"))
}

async fn one(app: &TestApp, sql: &str) -> String {
    sqlx::query_scalar::<_, String>(sql)
        .fetch_optional(app.state.db.reader())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no object for {sql}"))
}

/// A signed-in browser's JSON POST; the answer's body.
async fn post_json(c: &Client, csrf: &str, path: &str, body: &serde_json::Value) -> serde_json::Value {
    let r = c.http.post(format!("{}{path}", c.base)).header("x-csrf-token", csrf).json(body).send().await.unwrap();
    r.json().await.unwrap()
}

/// Fills the path's parameters with the foreign object's ids.
fn fill(path: &str, ids: &BTreeMap<&str, String>) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').unwrap() + i;
        let name = &rest[i + 1..j];
        out.push_str(ids.get(name).map(String::as_str).unwrap_or("1"));
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

/// The permission through which staff see objects of a kind.
fn staff_permission(kind: Kind) -> &'static str {
    use domain::auth::perm::*;
    match kind {
        Kind::Application | Kind::ServiceApplication => WORKFLOW_ACT,
        Kind::Alert => ALERTS_VIEW,
        Kind::Project | Kind::Contract => WAGES_VIEW,
        Kind::Batch => WAGES_IMPORT,
        Kind::SupervisedPerson | Kind::Summons => SUPERVISION_VIEW,
        Kind::License => SELF_ENTERPRISE,
        Kind::Citizen => ORG_CITIZENS,
        Kind::Enterprise => ORG_ENTERPRISES,
        Kind::Grid => ORG_DIVISIONS,
        Kind::Score => SCORES_VIEW,
    }
}

/// The oracle, from the roles' scopes alone: whether `p` may see the foreign object of `kind`.
/// The foreign objects lie outside 谯城区 and belong to no demo account; the application goes
/// to 市数据资源局 (sjj) and the service application to 市市场监管局 (scjgj); the supervised
/// person is held by 公安 (gaj). Every demo department is a city-level department.
fn may_see(p: &Principal, kind: Kind, owns: &[Kind]) -> bool {
    if owns.contains(&kind) {
        return true;
    }
    if kind == Kind::License {
        // E-licenses: the holder and staff (audited); the test's license belongs to neither
        // demo holder, so only self-service accounts must be refused.
        return p.kind.as_str() == "staff";
    }
    match p.scope(staff_permission(kind)) {
        None | Some(DataScope::Own) | Some(DataScope::Grid(_)) | Some(DataScope::Nothing) => false,
        Some(DataScope::All) => true,
        // A division scope reaches the objects inside it: the city's does, 谯城区's does not.
        Some(DataScope::Division(d)) => d.as_str() == "341600",
        Some(DataScope::Department(_)) => match kind {
            Kind::Application => p.department_code.as_deref() == Some("sjj"),
            Kind::ServiceApplication => p.department_code.as_deref() == Some("scjgj"),
            Kind::SupervisedPerson | Kind::Summons => p.department_code.as_deref() == Some("gaj"),
            _ => true,
        },
    }
}

#[tokio::test]
async fn no_role_opens_another_subjects_object() {
    let app = spawn_app().await;
    let cal = app.state.calendar();
    store::alerts::run_all(&app.state.db, &app.config, &cal, web::case::subject_sources(), app.state.clock.now())
        .await
        .unwrap();
    let enterprise = app.login_of("enterprise").await;
    let citizen = app.login_of("citizen").await;
    // An application of the demo enterprise: foreign to everyone else tested here.
    let ent = app.login(&enterprise).await;
    let csrf = ent.get("/home").await.csrf();
    let body = serde_json::json!({"def": "demo_joint_review", "title": "他人的项目", "facts": {"investment": 1_000_000i64, "land_area": 1, "building_area": 1, "industry": "物流", "county": "341621", "government_funded": false}});
    let v = post_json(&ent, &csrf, "/api/v1/applications", &body).await;
    let application = v["id"].as_str().unwrap_or_else(|| panic!("{v}")).to_string();
    let body = serde_json::json!({ "item": "SCJG-XK-001", "values": { "name": "x", "legal_rep": "x", "address": "x",
        "business_items": "热食类食品制售", "contact_phone": "13900000000", "commit": "同意" } });
    let v = post_json(&ent, &csrf, "/api/v1/services/applications", &body).await;
    let service_application = v["id"].as_str().unwrap_or_else(|| panic!("{v}")).to_string();
    let r = app
        .api()
        .post(format!("{}/api/v1/wages/ingest/payments", app.base))
        .bearer_auth(app.token("bank-api"))
        .json(&serde_json::json!({"rows": [{"project_code": "none", "amount": 1}]}))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    let batch = v["batch_id"].as_str().unwrap_or_else(|| panic!("{v}")).to_string();

    // Objects outside 谯城区 (341602, the county staff's and the demo accounts' county) and not
    // the demo enterprise's, citizen's or contractor's.
    let outside = "NOT LIKE '341602%'";
    let ids: BTreeMap<Kind, BTreeMap<&str, String>> = BTreeMap::from([
        (Kind::Application, BTreeMap::from([("id", application), ("no", "1".into())])),
        (Kind::ServiceApplication, BTreeMap::from([("id", service_application)])),
        (
            Kind::Alert,
            BTreeMap::from([(
                "id",
                one(&app, &format!("SELECT id FROM alerts WHERE division_code {outside} ORDER BY id LIMIT 1")).await,
            )]),
        ),
        (
            Kind::Project,
            BTreeMap::from([(
                "code",
                one(&app, &format!("SELECT code FROM wage_projects WHERE division_code {outside} ORDER BY code LIMIT 1"))
                    .await,
            )]),
        ),
        (Kind::Contract, BTreeMap::from([("id", one(&app, CONTRACT).await)])),
        (Kind::Batch, BTreeMap::from([("id", batch)])),
        (
            Kind::SupervisedPerson,
            BTreeMap::from([
                (
                    "id",
                    one(&app, "SELECT p.id FROM sup_persons p JOIN departments d ON d.id = p.agency_id WHERE d.code = 'gaj' LIMIT 1")
                        .await,
                ),
                ("alarm", "x".into()),
                ("leave", "x".into()),
                ("s", "x".into()),
            ]),
        ),
        (Kind::Summons, BTreeMap::from([("s", "x".into()), ("id", "x".into())])),
        (
            Kind::License,
            BTreeMap::from([(
                "number",
                one(&app, &format!("SELECT number FROM licenses WHERE holder_id NOT IN ('{enterprise}', '{citizen}') AND holder_id LIKE '9%' ORDER BY number LIMIT 1")).await,
            )]),
        ),
        (
            Kind::Citizen,
            BTreeMap::from([(
                "id",
                one(&app, &format!("SELECT id FROM citizens WHERE division_code {outside} ORDER BY id LIMIT 1")).await,
            )]),
        ),
        (
            Kind::Enterprise,
            BTreeMap::from([(
                "uscc",
                one(&app, &format!("SELECT uscc FROM enterprises WHERE division_code {outside} ORDER BY uscc LIMIT 1")).await,
            )]),
        ),
        (
            Kind::Score,
            BTreeMap::from([
                ("subject_type", "enterprise".into()),
                (
                    "subject_id",
                    one(&app, &format!("SELECT uscc FROM enterprises WHERE division_code {outside} ORDER BY uscc LIMIT 1"))
                        .await,
                ),
            ]),
        ),
        (
            Kind::Grid,
            BTreeMap::from([(
                "id",
                one(&app, &format!("SELECT id FROM grids WHERE division_code {outside} ORDER BY id LIMIT 1")).await,
            )]),
        ),
    ]);

    let table = app.state.route_table();
    let mut routes = vec![];
    for r in table.iter().filter(|r| r.path.contains('{')) {
        match kind_of(&r.path) {
            Ok(Some(k)) => routes.push((r.clone(), k)),
            Ok(None) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert!(routes.len() >= 40, "only {} object routes", routes.len());

    let (contract_employer, contract_worker): (String, String) =
        sqlx::query_as(&format!("SELECT employer_uscc, id_card_no FROM wage_contracts WHERE id = ({CONTRACT})"))
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(contract_worker, citizen, "the demo e-contract is the demo citizen's");
    let logins = store::demo::demo_logins(&app.state.db, &app.config).await.unwrap();
    let mut checked = 0;
    let mut leaks = vec![];
    let mut unaudited = vec![];
    for l in logins.iter().filter(|l| !l.login.ends_with("-api") && !l.login.contains('-') && l.login != "scjg-sys") {
        let (user_id,): (String,) = sqlx::query_as("SELECT id FROM users WHERE login = $1")
            .bind(&l.login)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
        let principal: Principal = store::auth::load_principal(&app.state.db, &user_id).await.unwrap().unwrap();
        // The demo enterprise made the applications; the one e-contract is between the demo
        // contractor and the demo citizen.
        let owns: Vec<Kind> = if l.login == enterprise {
            vec![Kind::Application, Kind::ServiceApplication]
        } else if l.login == citizen || l.login == contract_employer {
            vec![Kind::Contract]
        } else {
            vec![]
        };
        let c = app.login(&l.login).await;
        let csrf = c.get("/home").await.csrf();
        let mark: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM audit_log")
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
        let mut refused_here = 0;
        for (r, kind) in &routes {
            // A caller without the route's permission is refused before any object is read
            // (the access test covers that).
            let perms = r.rule.permissions();
            if !matches!(r.rule, Access::Authenticated) && !perms.iter().any(|p| principal.scope(p).is_some()) {
                continue;
            }
            if may_see(&principal, *kind, &owns) {
                continue;
            }
            let url = fill(&r.path, &ids[kind]);
            let mut p = c.get(&url).await;
            if p.status == StatusCode::METHOD_NOT_ALLOWED {
                p = if r.path.starts_with("/api/") {
                    let resp = c
                        .http
                        .post(format!("{}{url}", c.base))
                        .header("x-csrf-token", &csrf)
                        .json(&serde_json::json!({"action": "approve", "comment": "测试", "text": "测试", "reason": "测试"}))
                        .send()
                        .await
                        .unwrap();
                    let status = resp.status();
                    Page { status, body: resp.text().await.unwrap(), location: None, headers: Default::default() }
                } else {
                    // Plausible fields, so that a handler reads the object before it finds the
                    // form wanting.
                    let mut form = vec![("_csrf", csrf.as_str())];
                    form.extend(FORM);
                    c.post(&url, &form).await
                };
            }
            checked += 1;
            let posted = p.status != StatusCode::OK || p.body.is_empty();
            match p.status {
                StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => refused_here += 1,
                // A request body the route cannot read is refused before any object is
                // (the same answer whether the object exists or not).
                StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
                    if posted && !p.body.contains(&ids[kind].values().next().cloned().unwrap_or_default()) => {}
                s => leaks.push(format!("{} {} → {s}: {}", l.login, url, p.body.chars().take(120).collect::<String>())),
            }
        }
        if refused_here > 0 {
            let denied: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM audit_log WHERE seq > $1 AND actor_id = $2 AND outcome IN ('denied', 'failure')",
            )
            .bind(mark)
            .bind(&user_id)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
            if denied == 0 {
                unaudited.push(format!("{}: {refused_here} refusals, no audit record", l.login));
            }
        }
    }
    assert!(checked >= 100, "only {checked} calls checked");
    assert!(leaks.is_empty(), "{} calls answered with another subject's object:\n{}", leaks.len(), leaks.join("\n"));
    assert!(unaudited.is_empty(), "{}", unaudited.join("\n"));
}

/// Page and API call the same service function: a citizen applying for an enterprise item is
/// refused the same way by both, and neither shows another subject's application.
#[tokio::test]
async fn page_and_api_apply_the_same_rules() {
    let app = spawn_app().await;
    let c = app.login(&app.login_of("citizen").await).await;
    let page = c.get("/services/items/SCJG-XK-001").await;
    let csrf = c.get("/home").await.csrf();
    let r = c
        .http
        .post(format!("{}/api/v1/services/applications", app.base))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"item": "SCJG-XK-001", "values": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["message"], "本事项由企业以统一社会信用代码登录后申报", "{v}");
    assert!(page.status == StatusCode::FORBIDDEN || page.body.contains("本事项由企业以统一社会信用代码登录后申报"));
}
