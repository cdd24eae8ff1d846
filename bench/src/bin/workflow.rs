//! Workflow transitions per second with durable commits: each transition (start, a department's
//! approval, a parallel branch, the leader's signature) is its own transaction on a SQLite file
//! in WAL mode with `synchronous = FULL`, carrying its task rows, timers, notices and audit
//! record — exactly what the web handlers do.
//!
//!     cargo run --release -p yingshang-bench --bin workflow -- [applications] [runs] [clients]

use domain::clock::CHINA;
use domain::expr::Value;
use domain::workflow::{Action, Actor, Event, Status, TaskStatus};
use std::sync::Arc;
use std::time::Instant;
use store::workflow::{self as wf, NewApplication, Runtime};
use time::OffsetDateTime;

struct Setup {
    db: store::Db,
    cfg: store::config::CityConfig,
    cal: domain::calendar::WorkCalendar,
    applicant: Actor,
}

fn staff(department: &str, role: &str) -> Actor {
    Actor {
        user_id: format!("bench-{department}"),
        name: format!("{department} 审查员"),
        department: Some(department.to_string()),
        roles: vec![role.to_string()],
    }
}

/// One application from submission to the end: 6 transitions when the investment needs a
/// leader's signature (start, accept, three parallel branches, sign).
async fn one(s: &Setup, n: usize, now: OffsetDateTime) -> usize {
    let rt = Runtime { cfg: &s.cfg, cal: &s.cal };
    let facts = domain::expr::Facts::new()
        .with("investment", Value::Int(12_000_000_000 + n as i64))
        .with("land_area", Value::Int(5_000))
        .with("building_area", Value::Int(20_000))
        .with("industry", Value::Str("物流".into()))
        .with("county", Value::Str("341602".into()))
        .with("government_funded", Value::Bool(false));
    let title = format!("压测项目 {n}");
    let mut tx = s.db.begin().await.unwrap();
    let mut app = wf::start(
        &mut tx,
        &rt,
        NewApplication { def_id: "demo_joint_review", title: &title, applicant: &s.applicant, facts },
        "127.0.0.1",
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut transitions = 1;
    while let Some(task) = app.instance.tasks.iter().find(|t| t.status == TaskStatus::Open) {
        let role = if task.step == "sign" { "leader" } else { "dept_staff" };
        let actor = staff(&task.actor.department, role);
        // The window confirms every material received at acceptance.
        let received = rt
            .cfg
            .workflow(&app.instance.def_id)
            .map(|d| d.materials.iter().map(|m| m.id.clone()).collect())
            .unwrap_or_default();
        let event = Event::Act { task: task.no, actor, action: Action::Approve { comment: "同意".into(), received } };
        let mut tx = s.db.begin().await.unwrap();
        app = wf::handle(&mut tx, &rt, &app.id, event, "127.0.0.1", now).await.unwrap();
        tx.commit().await.unwrap();
        transitions += 1;
    }
    assert_eq!(app.instance.status, Status::Approved, "application {n} approved");
    transitions
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let apps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let now = time::macros::datetime!(2026-11-02 10:00).assume_offset(CHINA);
    for c in [1, clients] {
        let mut rates = vec![];
        let mut total = 0;
        for _ in 0..runs {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display());
            let db = store::Db::open(&url).await.unwrap();
            let cfg = store::config::load(&store::config::ConfigSource::Embedded).expect("built-in config");
            store::demo::bootstrap(&db, &cfg, now).await.unwrap();
            store::demo::ensure_admin(&db, now).await.unwrap();
            let admin = store::auth::user_by_login(&db, "admin").await.unwrap().expect("admin");
            let cal = domain::calendar::WorkCalendar::new(cfg.holidays.clone(), cfg.city.working_hours.clone());
            let applicant =
                Actor { user_id: admin.id.clone(), name: "压测企业".into(), department: None, roles: vec![] };
            let s = Arc::new(Setup { db, cfg, cal, applicant });
            let t = Instant::now();
            let mut handles = vec![];
            for k in 0..c {
                let s = s.clone();
                handles.push(tokio::spawn(async move {
                    let mut done = 0;
                    for n in (k..apps).step_by(c) {
                        done += one(&s, n, now).await;
                    }
                    done
                }));
            }
            total = 0;
            for h in handles {
                total += h.await.unwrap();
            }
            let secs = t.elapsed().as_secs_f64();
            rates.push(total as f64 / secs);
            s.db.close().await;
        }
        rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{c} client(s): {apps} applications, {total} durable transitions per run; median {:.0} transitions/s of {runs} runs (min {:.0}, max {:.0})",
            rates[rates.len() / 2],
            rates[0],
            rates[rates.len() - 1]
        );
    }
}
