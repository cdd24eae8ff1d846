//! A small W3C WebDriver client over the HTTP client the tests already use: enough to drive
//! Debian's headless Chromium through chromedriver as a person would (open a page, type, choose,
//! click, read) and take a screenshot of each step. Waiting is WebDriver's own implicit wait
//! for an element to appear; nothing sleeps for timing.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The chromedriver binary: `CHROMEDRIVER` or Debian's path. `None` when absent; CI installs it
/// (Debian `chromium-driver`), so there a missing driver fails the test.
fn chromedriver() -> Option<PathBuf> {
    let p = std::env::var_os("CHROMEDRIVER").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromedriver".into());
    if p.exists() {
        return Some(p);
    }
    assert!(std::env::var("CI").is_err(), "CI must install chromium and chromium-driver (.ci/run)");
    eprintln!("skipped: no chromedriver at {} (apt-get install chromium chromium-driver)", p.display());
    None
}

/// One chromedriver process; killed when dropped.
pub struct Driver {
    base: String,
    /// Steps across all of a journey's browsers, so screenshots sort in the order taken.
    steps: std::sync::Arc<std::sync::atomic::AtomicU32>,
    /// Journeys whose screenshot folder was emptied of an earlier run's pictures.
    cleared: std::sync::Mutex<std::collections::BTreeSet<String>>,
    http: reqwest::Client,
    _child: tokio::process::Child,
}

impl Driver {
    pub async fn start() -> Option<Driver> {
        let bin = chromedriver()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = tokio::process::Command::new(bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        // Ready once it says so on stdout; the rest of its output is drained in the background.
        use tokio::io::AsyncBufReadExt;
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        loop {
            let line = lines.next_line().await.unwrap().expect("chromedriver exited before it was ready");
            if line.contains("started successfully") {
                break;
            }
        }
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let base = format!("http://127.0.0.1:{port}");
        Some(Driver {
            base,
            steps: Default::default(),
            cleared: Default::default(),
            http: reqwest::Client::new(),
            _child: child,
        })
    }

    /// A new browser: desktop (1280×900) or phone (390×844), JavaScript on or off. Screenshots
    /// go to `target/browser-shots/<journey>/`.
    pub async fn browser(&self, journey: &str, who: &str, phone: bool, javascript: bool) -> Browser {
        let (w, h) = if phone { (390, 844) } else { (1280, 900) };
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-gpu".into(),
            "--lang=zh-CN".into(),
            format!("--window-size={w},{h}"),
        ];
        if phone {
            args.push("--force-device-scale-factor=1".into());
        }
        let mut prefs = json!({});
        if !javascript {
            prefs = json!({ "profile.managed_default_content_settings.javascript": 2 });
        }
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": binary, "args": args, "prefs": prefs }
        } } });
        let r: Value =
            self.http.post(format!("{}/session", self.base)).json(&caps).send().await.unwrap().json().await.unwrap();
        let id = r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {r}")).to_string();
        let b = Browser {
            http: self.http.clone(),
            session: format!("{}/session/{id}", self.base),
            shots: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-shots").join(journey),
            who: who.to_string(),
            steps: self.steps.clone(),
            app: String::new(),
        };
        if self.cleared.lock().unwrap().insert(journey.to_string()) {
            let _ = std::fs::remove_dir_all(&b.shots);
        }
        std::fs::create_dir_all(&b.shots).unwrap();
        // Elements are waited for up to 10 s; a page that never shows one fails the test.
        b.cmd("POST", "/timeouts", json!({ "implicit": 10_000, "pageLoad": 30_000 })).await;
        if phone {
            b.cmd("POST", "/window/rect", json!({ "width": w, "height": h })).await;
        }
        b
    }
}

/// One person's browser.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    shots: PathBuf,
    who: String,
    steps: std::sync::Arc<std::sync::atomic::AtomicU32>,
    /// The application's base URL.
    pub app: String,
}

impl Browser {
    async fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.session);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if let Some(e) = v["value"]["error"].as_str() {
            panic!("webdriver {method} {path}: {e}: {}", v["value"]["message"]);
        }
        v["value"].clone()
    }

    pub fn at(mut self, base: &str) -> Self {
        self.app = base.to_string();
        self
    }

    pub async fn go(&self, path: &str) {
        self.cmd("POST", "/url", json!({ "url": format!("{}{path}", self.app) })).await;
    }

    /// The current path (without the origin).
    pub async fn path(&self) -> String {
        let url = self.cmd("GET", "/url", Value::Null).await.as_str().unwrap().to_string();
        url.strip_prefix(&self.app).unwrap_or(&url).to_string()
    }

    pub async fn source(&self) -> String {
        self.cmd("GET", "/source", Value::Null).await.as_str().unwrap().to_string()
    }

    /// The element `css` matches, waiting for it to appear.
    pub async fn find(&self, css: &str) -> String {
        let v = self.cmd("POST", "/element", json!({ "using": "css selector", "value": css })).await;
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}")).to_string()
    }

    /// Whether `css` matches now (no waiting).
    pub async fn has(&self, css: &str) -> bool {
        self.cmd("POST", "/timeouts", json!({ "implicit": 0 })).await;
        let v = self.cmd("POST", "/elements", json!({ "using": "css selector", "value": css })).await;
        self.cmd("POST", "/timeouts", json!({ "implicit": 10_000 })).await;
        v.as_array().is_some_and(|a| !a.is_empty())
    }

    pub async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.cmd("GET", &format!("/element/{e}/text"), Value::Null).await.as_str().unwrap_or_default().to_string()
    }

    /// Types into a field after clearing it.
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd("POST", &format!("/element/{e}/clear"), json!({})).await;
        self.cmd("POST", &format!("/element/{e}/value"), json!({ "text": text })).await;
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd("POST", &format!("/element/{e}/click"), json!({})).await;
    }

    /// Chooses an option of the select with id `select` by its value or, lacking one, its text.
    pub async fn choose(&self, select: &str, value: &str) {
        let xpath = format!("//select[@id='{select}']/option[@value='{value}' or (not(@value) and .='{value}')]");
        let v = self.cmd("POST", "/element", json!({ "using": "xpath", "value": xpath })).await;
        let e = v[ELEMENT].as_str().unwrap_or_else(|| panic!("no option {value} in {select}")).to_string();
        self.cmd("POST", &format!("/element/{e}/click"), json!({})).await;
    }

    /// A form field's current value (what scripts or typing put there).
    pub async fn value(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.cmd("GET", &format!("/element/{e}/property/value"), Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Clicks with the mouse at an offset (CSS pixels) from the centre of the element `css`,
    /// as a person clicking on a map does.
    pub async fn click_at(&self, css: &str, dx: i64, dy: i64) {
        let e = self.find(css).await;
        let actions = json!({ "actions": [{
            "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" },
            "actions": [
                { "type": "pointerMove", "origin": { ELEMENT: e }, "x": dx, "y": dy },
                { "type": "pointerDown", "button": 0 },
                { "type": "pointerUp", "button": 0 }
            ]
        }] });
        self.cmd("POST", "/actions", actions).await;
    }

    /// Chooses the first option with a value (e.g. the first colleague offered).
    pub async fn choose_first(&self, select: &str) {
        let xpath = format!("//select[@id='{select}']/option[@value!=''][1]");
        let v = self.cmd("POST", "/element", json!({ "using": "xpath", "value": xpath })).await;
        let e = v[ELEMENT].as_str().unwrap_or_else(|| panic!("no option in {select}")).to_string();
        self.cmd("POST", &format!("/element/{e}/click"), json!({})).await;
    }

    /// Clicks the button, link or summary in the page's main part whose text is `label`.
    pub async fn press(&self, label: &str) {
        let xpath = format!("//main//*[(self::button or self::a or self::summary) and normalize-space(.)='{label}']");
        let v = self.cmd("POST", "/element", json!({ "using": "xpath", "value": xpath })).await;
        let e = v[ELEMENT].as_str().unwrap_or_else(|| panic!("no button {label}")).to_string();
        self.cmd("POST", &format!("/element/{e}/click"), json!({})).await;
    }

    /// Waits until the page's main text contains `needle` (WebDriver's wait on an XPath).
    pub async fn wait_for_text(&self, needle: &str) {
        let xpath = format!("//main[contains(., '{needle}')]");
        let v = self.cmd("POST", "/element", json!({ "using": "xpath", "value": xpath })).await;
        assert!(v[ELEMENT].is_string(), "the page never showed {needle}");
    }

    /// Waits for an element matching an XPath expression.
    pub async fn find_xpath(&self, xpath: &str) -> String {
        let v = self.cmd("POST", "/element", json!({ "using": "xpath", "value": xpath })).await;
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {xpath}")).to_string()
    }

    pub async fn main_text(&self) -> String {
        self.text("main").await
    }

    /// The page's width as laid out, to check nothing overflows a phone's screen.
    pub async fn scroll_width(&self) -> i64 {
        let v = self
            .cmd(
                "POST",
                "/execute/sync",
                json!({ "script": "return document.documentElement.scrollWidth", "args": [] }),
            )
            .await;
        v.as_i64().unwrap_or_default()
    }

    /// Saves a screenshot as `NN-<who>-<label>.png`.
    pub async fn shot(&mut self, label: &str) {
        let step = self.steps.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let b64 = self.cmd("GET", "/screenshot", Value::Null).await.as_str().unwrap().to_string();
        let png = base64_decode(&b64);
        std::fs::write(self.shots.join(format!("{step:02}-{}-{label}.png", self.who)), png).unwrap();
    }

    /// Signs in through the login form.
    pub async fn login(&mut self, account: &str) {
        self.go("/login").await;
        self.fill("#f-account", account).await;
        self.fill("#f-password", crate::helpers::DEMO_PASSWORD).await;
        self.click("form[action=\"/login\"] button[type=submit]").await;
        self.find("nav").await;
        assert_ne!(self.path().await, "/login", "login of {account} failed");
    }

    pub async fn quit(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= u32::from(val(*c)) << (18 - 6 * i);
        }
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    out
}
