//! 一键申报 submissions over HTTP with durable commits: the real server (`yingshang serve`, a
//! second process, demo city, SQLite in WAL with `synchronous = FULL`); N clients, each signed
//! in as the demo enterprise, submit the one-click item SCJG-XK-001 through
//! `POST /api/v1/services/applications` back to back. Each answer comes after the commit that
//! holds the submission (group commit, see `web::submit_queue`). Reports submissions per
//! second, p50 / p99 latency, the count found in the database afterwards, and peak memory.
//!
//!     cargo build --release --bin yingshang
//!     cargo run --release -p yingshang-bench --bin services_http -- 64 60000

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Reads one HTTP/1.1 response with a Content-Length body: (status, body).
async fn read_response(conn: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> (u16, String) {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).unwrap().to_ascii_lowercase();
            let status: u16 = head[9..12].parse().unwrap();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .expect("content-length");
            while buf.len() < end + 4 + len {
                read_more(conn, buf).await;
            }
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned();
            buf.drain(..end + 4 + len);
            return (status, body);
        }
        read_more(conn, buf).await;
    }
}

async fn read_more(conn: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 4096];
    let n = conn.read(&mut chunk).await.unwrap();
    assert!(n > 0, "server closed the connection");
    buf.extend_from_slice(&chunk[..n]);
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").expect("csrf field") + 20;
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let clients: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(64);
    let total: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(60_000);

    let data = tempfile::tempdir().unwrap();
    let url = bench::database_url(data.path()).await;
    let exe = std::env::current_exe().unwrap().with_file_name("yingshang");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(&exe)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &url, "--migrate"])
        .env("YINGSHANG_DATA", data.path())
        .env_remove("YINGSHANG_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (cargo build --release --bin yingshang first)", exe.display()));
    let base = format!("http://127.0.0.1:{port}");
    let probe = reqwest::Client::new();
    for _ in 0..1200 {
        if probe.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let db = store::Db::open(&url).await.unwrap();
    let login: String =
        sqlx::query_scalar("SELECT login FROM users WHERE kind = 'enterprise' ORDER BY created_at LIMIT 1")
            .fetch_one(db.reader())
            .await
            .unwrap();

    // Sign the clients in (sequentially: each login hashes a password); keep each session's
    // cookie and CSRF token for the raw load connections.
    let mut sessions = vec![];
    for _ in 0..clients {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let token = csrf_of(&http.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap());
        let r = http
            .post(format!("{base}/login"))
            .form(&[("_csrf", token.as_str()), ("account", login.as_str()), ("password", "Yingshang@2026")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "login");
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
            .join("; ");
        let csrf = csrf_of(&http.get(format!("{base}/services")).send().await.unwrap().text().await.unwrap());
        sessions.push((cookie, csrf));
    }
    let body = serde_json::json!({ "item": "SCJG-XK-001", "values": {
        "name": "演示企业", "legal_rep": "张三", "address": "谯城区", "business_items": "热食类食品制售",
        "contact_phone": "13955550000", "commit": "同意" } })
    .to_string();

    // The load: one keep-alive HTTP/1.1 connection per client, requests written and answers
    // read by hand, so the client spends little of the machine's two cores (reqwest spent
    // about 140 µs per request, a third of the server's time).
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t = Instant::now();
    let mut tasks = vec![];
    for (cookie, csrf) in sessions {
        let request = format!(
            "POST /api/v1/services/applications HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            conn.set_nodelay(true).unwrap();
            let mut buf = Vec::with_capacity(8192);
            let mut lat = vec![];
            while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < total {
                let s = Instant::now();
                conn.write_all(&request).await.unwrap();
                let (status, text) = read_response(&mut conn, &mut buf).await;
                assert!((200..300).contains(&status), "{status}: {text}");
                lat.push(s.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    let mut lat = vec![];
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let secs = t.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    let peak = bench::peak_mib_of(&server.id().to_string());
    server.kill().unwrap();
    let _ = server.wait();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM svc_applications").fetch_one(db.reader()).await.unwrap();
    println!(
        "{} submissions acknowledged in {secs:.2} s by {clients} clients: {:.0} submissions/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {stored} applications in the database after a SIGKILL; server peak memory {peak:.0} MiB",
        lat.len(),
        lat.len() as f64 / secs,
        pct(0.50),
        pct(0.99),
        lat[lat.len() - 1],
    );
}
