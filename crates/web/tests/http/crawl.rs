//! Every page every demo login can reach: each link answers, and no page shows an internal
//! identifier (a rule field, a workflow action, a status or object code) outside a code
//! element. Users read Chinese; codes belong in `<code>` where an administrator needs them.

use crate::helpers::*;
use reqwest::StatusCode;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// Pages per login, and per page shape (a path with its ids and query values blanked), so the
/// crawl covers every kind of page without walking every record.
const PAGES_PER_LOGIN: usize = 400;
const PAGES_PER_SHAPE: usize = 2;

/// Lower-case words that are not codes: units and names people write in Latin letters.
const WORDS: &[&str] =
    &["km", "kb", "mb", "gib", "mib", "ms", "px", "png", "csv", "json", "xlsx", "pdf", "https", "http"];

fn shape(path: &str) -> String {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let segs: Vec<String> = p
        .split('/')
        .map(|s| if s.chars().any(|c| c.is_ascii_digit()) || s.len() > 24 { "{}".to_string() } else { s.to_string() })
        .collect();
    let mut keys: Vec<&str> = q.split('&').filter_map(|kv| kv.split('=').next()).filter(|k| !k.is_empty()).collect();
    keys.sort();
    format!("{}?{}", segs.join("/"), keys.join("&"))
}

/// The links of a page that a person would follow (same site, GET, not a download or logout).
fn links(html: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = html;
    while let Some(i) = rest.find("href=\"") {
        rest = &rest[i + 6..];
        let Some(end) = rest.find('"') else { break };
        let href = rest[..end].replace("&amp;", "&");
        rest = &rest[end..];
        if !href.starts_with('/') || href.starts_with("//") {
            continue;
        }
        let path = href.split('#').next().unwrap_or("").to_string();
        let bare = path.split('?').next().unwrap_or("");
        let download = [".csv", ".json", ".pdf", ".svg", ".css", ".js", ".pem", ".png", "/export", "/download"]
            .iter()
            .any(|s| bare.ends_with(s))
            || path.contains("format=csv");
        if download || bare == "/logout" || bare.starts_with("/api/") || bare.starts_with("/static/") {
            continue;
        }
        out.push(path);
    }
    out
}

/// Removes the elements whose content is not prose (or is code on purpose) and every tag.
fn visible_text(html: &str) -> String {
    let mut s = html.to_string();
    for tag in ["script", "style", "code", "pre", "kbd", "samp", "textarea", "svg"] {
        loop {
            let open = format!("<{tag}");
            let close = format!("</{tag}>");
            let Some(a) = s.find(&open) else { break };
            let Some(b) = s[a..].find(&close) else { break };
            s.replace_range(a..a + b + close.len(), " ");
        }
    }
    // Elements styled as code (class "mono"): identifiers shown on purpose, like a USCC or a
    // code in grey after its name.
    let mut from = 0;
    while let Some(i) = s[from..].find(" class=\"").map(|i| i + from) {
        let start = i + 8;
        let Some(end) = s[start..].find('"').map(|e| e + start) else { break };
        let is_mono = s[start..end].split(' ').any(|c| c == "mono");
        let open = s[..i].rfind('<').unwrap_or(i);
        let tag: String = s[open + 1..i].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        from = end;
        if !is_mono || tag.is_empty() {
            continue;
        }
        let close = format!("</{tag}>");
        if let Some(c) = s[end..].find(&close).map(|c| c + end) {
            s.replace_range(open..c + close.len(), " ");
            from = open;
        }
    }
    let mut text = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
}

/// Internal identifiers in the text: lower-case Latin words (snake_case codes, English action
/// and status names). Latin text people do read (SM2, USCC, API) is upper case.
fn codes(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')) {
        let w = word.trim_matches('.');
        if w.len() < 3 || !w.starts_with(|c: char| c.is_ascii_lowercase()) {
            continue;
        }
        // A login, a token prefix or a file name is data, not a code shown by mistake.
        if w.contains('.') && !w.contains('_') {
            continue;
        }
        if WORDS.contains(&w) || w.chars().all(|c| c.is_ascii_hexdigit()) {
            continue;
        }
        found.insert(w.to_string());
    }
    found
}

/// GETs a page; a live stream (server-sent events) is not a page and is not read.
async fn fetch(c: &Client, path: &str) -> Option<Page> {
    let r = c.http.get(format!("{}{path}", c.base)).send().await.expect("request");
    let status = r.status();
    let headers = r.headers().clone();
    let kind = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if kind.starts_with("text/event-stream") {
        return None;
    }
    let location = headers.get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = if kind.starts_with("text/html") { r.text().await.unwrap_or_default() } else { String::new() };
    Some(Page { status, body, location, headers })
}

#[tokio::test]
async fn every_page_of_every_demo_login_answers_and_shows_no_codes() {
    let app = spawn_app().await;
    let logins = store::demo::demo_logins(&app.state.db, &app.config).await.unwrap();
    // A login's own name is data it typed, not a code (demo staff logins are pinyin).
    // Logins (of people and of systems: bank-api) are names administrators chose.
    let all_logins: Vec<String> =
        sqlx::query_scalar("SELECT login FROM users").fetch_all(app.state.db.reader()).await.unwrap();
    let login_names: BTreeSet<String> = all_logins
        .iter()
        .flat_map(|l| {
            l.to_lowercase()
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut broken: Vec<String> = vec![];
    let mut shown: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut total = 0;
    for l in logins.iter().filter(|l| {
        !l.login.ends_with("-api") && !l.login.ends_with("-gw") && !l.login.ends_with("-sys") && l.login != "data-hub"
    }) {
        let c = app.login(&l.login).await;
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut shapes: HashMap<String, usize> = HashMap::new();
        let mut queue: VecDeque<(String, String)> = VecDeque::from([("/".to_string(), "登录后".to_string())]);
        while let Some((path, from)) = queue.pop_front() {
            if seen.len() >= PAGES_PER_LOGIN || !seen.insert(path.clone()) {
                continue;
            }
            let n = shapes.entry(shape(&path)).or_default();
            if *n >= PAGES_PER_SHAPE {
                continue;
            }
            *n += 1;
            let Some(p) = fetch(&c, &path).await else { continue };
            total += 1;
            if p.status == StatusCode::SEE_OTHER {
                match p.location {
                    Some(to) if to.starts_with("/login") => {
                        broken.push(format!("{}：{path}（来自 {from}）转到登录页", l.login))
                    }
                    Some(to) if to.starts_with('/') => queue.push_back((to, path.clone())),
                    _ => {}
                }
                continue;
            }
            if p.status != StatusCode::OK {
                broken.push(format!("{}：{path}（来自 {from}）答 {}", l.login, p.status));
                continue;
            }
            let html =
                p.headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
            if !html {
                continue;
            }
            let text = visible_text(&p.body);
            for w in codes(&text) {
                if !login_names.contains(&w) {
                    // Where it is, in a few words around it, to find the template that shows it.
                    let at = text.find(&w).unwrap_or(0);
                    let before: String =
                        text[..at].chars().rev().take(16).collect::<Vec<_>>().into_iter().rev().collect();
                    let after: String = text[at..].chars().take(w.chars().count() + 16).collect();
                    let around = format!("{before}{after}").split_whitespace().collect::<Vec<_>>().join(" ");
                    shown.entry(w).or_default().insert(format!("{} {}「{around}」", l.login, shape(&path)));
                }
            }
            for next in links(&p.body) {
                if !seen.contains(&next) {
                    queue.push_back((next, path.clone()));
                }
            }
        }
    }
    let report: Vec<String> = shown
        .iter()
        .map(|(w, at)| format!("{w}: {}", at.iter().take(2).cloned().collect::<Vec<_>>().join("; ")))
        .collect();
    assert!(total > 500, "the crawl reached only {total} pages");
    assert!(broken.is_empty(), "{} broken links:\n{}", broken.len(), broken.join("\n"));
    assert!(report.is_empty(), "{} internal identifiers on screen:\n{}", report.len(), report.join("\n"));
}

/// Which demo login may open which page follows from `config/roles.toml` alone: for every
/// protected page without a path parameter, each login is let in exactly when one of its roles
/// (as configured) holds a permission the page asks for.
#[tokio::test]
async fn each_demo_login_opens_exactly_the_pages_its_roles_allow() {
    use web::access::Access;
    let app = spawn_app().await;
    let logins = store::demo::demo_logins(&app.state.db, &app.config).await.unwrap();
    let table = app.state.route_table();
    let mut checked = 0;
    let mut wrong = vec![];
    for l in &logins {
        let perms: BTreeSet<&str> = l
            .roles
            .split('、')
            // "企业用户（总包单位）": the role, and what the demo made of the account.
            .filter_map(|name| {
                let role = |n: &str| app.config.roles.iter().find(|r| r.name == n);
                role(name).or_else(|| role(name.split('（').next().unwrap_or(name)))
            })
            .flat_map(|r| r.permissions.iter().map(String::as_str))
            .collect();
        assert!(!perms.is_empty(), "{} has no configured role ({})", l.login, l.roles);
        let c = app.login(&l.login).await;
        for r in table.iter() {
            if r.path.contains('{') || r.path.starts_with("/api/") || r.path.ends_with("/export") {
                continue;
            }
            let needs = match r.rule {
                Access::Perm(_) | Access::AnyOf(_) => r.rule.permissions(),
                _ => continue,
            };
            let allowed = needs.iter().any(|p| perms.contains(p));
            let Some(page) = fetch(&c, &r.path).await else { continue };
            let status = page.status;
            if status == StatusCode::METHOD_NOT_ALLOWED {
                continue;
            }
            checked += 1;
            let refused = status == StatusCode::FORBIDDEN;
            if allowed == refused {
                wrong.push(format!("{}（{}）{} → {status}", l.login, l.roles, r.path));
            }
        }
    }
    assert!(checked > 200, "only {checked} checks");
    assert!(wrong.is_empty(), "{} answers differ from roles.toml:\n{}", wrong.len(), wrong.join("\n"));
}

/// Department staff see only their duty: an approval clerk of 税务, 规划 or 交通 sees no wage
/// alert and no citizen, and cannot handle an alert; the labor inspector can.
#[tokio::test]
async fn approval_clerks_see_no_wage_alerts_or_citizens() {
    let app = spawn_app().await;
    for login in ["shuiwu", "guihua", "jiaotong", "chuangkou"] {
        let c = app.login(login).await;
        assert_eq!(c.get("/alerts").await.status, StatusCode::FORBIDDEN, "{login} /alerts");
        assert_eq!(c.get("/citizens").await.status, StatusCode::FORBIDDEN, "{login} /citizens");
        assert_eq!(c.get("/wages").await.status, StatusCode::FORBIDDEN, "{login} /wages");
        let home = c.get("/home").await.body;
        assert!(!home.contains("href=\"/alerts\""), "{login} is offered the alerts");
    }
    let renshe = app.login("renshe").await;
    assert_eq!(renshe.get("/alerts").await.status, StatusCode::OK);
}
