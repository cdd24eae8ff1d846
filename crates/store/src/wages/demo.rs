//! The wage case's demo data: labor reports and placement, construction projects with one
//! case per indicator, the demo worker's contract and months, and the talent records.

use crate::auth::{self, NewUser};
use crate::config::CityConfig;
use crate::org::RowScope;
use crate::seam::{DemoContext, DemoFuture, DemoPhase, DemoStep};
use crate::{Result, StoreError};
use domain::auth::UserKind;
use sqlx::Row;
use std::collections::HashMap;
use time::OffsetDateTime;

pub struct Demo;

impl DemoStep for Demo {
    fn load<'a>(&'a self, phase: DemoPhase, tx: &'a mut crate::Conn, cx: &'a DemoContext<'a>) -> DemoFuture<'a> {
        Box::pin(async move {
            Ok(match phase {
                DemoPhase::BeforeAccounts => {
                    demo_labor(tx, cx.cfg, cx.city, cx.now).await?;
                    vec![]
                }
                DemoPhase::AfterAccounts => {
                    let projects = demo_wage_projects(tx, cx.cfg, cx.city, cx.grid_ids, cx.now).await?;
                    demo_worker(tx, cx.now).await?;
                    let talent = super::talent::load_demo(tx, cx.now).await?;
                    vec![format!("在建工程项目 {projects}"), format!("人才信息 {talent}")]
                }
            })
        })
    }
}

/// The labor-relations grid of the demo city: one employer in 25 registered without
/// coordinates (placed by its address keywords), every employer placed by the real placement,
/// and twelve months of labor reports for employers with ten or more employees, a few of them
/// with a layoff, a jump in complaints or a collective dispute in the latest month.
async fn demo_labor(
    tx: &mut crate::Conn,
    cfg: &CityConfig,
    city: &domain::demo::DemoCity,
    now: OffsetDateTime,
) -> Result<()> {
    use domain::wages::labor::{DemoEvent, demo_reports};
    for e in city.enterprises.iter().skip(12).step_by(25) {
        sqlx::query("UPDATE enterprises SET lon = NULL, lat = NULL, grid_id = NULL WHERE uscc = $1")
            .bind(e.uscc.as_str())
            .execute(&mut *tx)
            .await?;
    }
    crate::wages::labor::place_employers(tx, now, &RowScope::All, true, None).await?;
    // The demo grid manager's grid gets a layoff too, so its journey has a labor-risk alert.
    let manager_grid =
        cfg.demo.accounts.iter().find(|a| a.roles.iter().any(|r| r == "grid_manager")).and_then(|a| a.grid.clone());
    let grid_layoff: Option<String> = match manager_grid {
        Some(code) => {
            sqlx::query_scalar(
                "SELECT e.uscc FROM enterprises e JOIN grids g ON g.id = e.grid_id
                 WHERE g.code = $1 AND e.employees >= 10 ORDER BY e.employees DESC, e.uscc LIMIT 1",
            )
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?
        }
        None => None,
    };
    let today = domain::clock::local(now).date();
    let mut large = 0usize;
    for (i, e) in city.enterprises.iter().enumerate().filter(|(_, e)| e.employees >= 10) {
        let event = if grid_layoff.as_deref() == Some(e.uscc.as_str()) {
            DemoEvent::Layoff
        } else if e.employees >= 50 {
            large += 1;
            match large {
                1 | 6 => DemoEvent::Layoff,
                2 | 7 => DemoEvent::Complaints,
                3 => DemoEvent::Collective,
                _ => DemoEvent::Quiet,
            }
        } else {
            DemoEvent::Quiet
        };
        for r in demo_reports(i as u64 + 1, e.employees as i64, today, event) {
            crate::wages::labor::put_report(tx, now, e.uscc.as_str(), &r, "演示数据").await?;
        }
    }
    Ok(())
}

/// 满薪满益 demo projects, built by construction employers of the demo city: for each county a
/// clean project, and one project per wage indicator whose data make it fire (the cases of
/// `domain::wages::demo`, laid out relative to today).
async fn demo_wage_projects(
    tx: &mut crate::Conn,
    cfg: &CityConfig,
    city: &domain::demo::DemoCity,
    grid_ids: &HashMap<String, String>,
    now: OffsetDateTime,
) -> Result<usize> {
    use domain::wages::demo::{CaseCtx, cases, clean_project};
    const KINDS: &[&str] =
        &["安置房", "标准化厂房", "教学楼", "道路改造", "商业综合体", "门诊楼", "物流仓储", "污水处理厂"];
    let builders: Vec<&domain::demo::DemoEnterprise> =
        city.enterprises.iter().filter(|e| e.industry == "建筑").collect();
    if builders.is_empty() {
        return Ok(0);
    }
    let cal = domain::calendar::WorkCalendar::new(cfg.holidays.clone(), cfg.city.working_hours.clone());
    let today = domain::clock::local(now).date();
    let cx = CaseCtx::new(today, &cal);
    let mut list: Vec<(String, domain::wages::ProjectData)> = vec![];
    for (i, (indicator, _, change)) in cases().into_iter().enumerate() {
        let mut p = clean_project(&format!("GC{:04}", i + 1), &cx);
        change(&mut p, &cx);
        list.push((indicator.to_string(), p));
    }
    const CLEAN: usize = 6;
    for i in 0..CLEAN {
        list.push((String::new(), clean_project(&format!("GC{:04}", 100 + i), &cx)));
    }
    // The clean projects go round the counties from the second (the demo worker's GC0100 is
    // outside 谯城区, whose county staff must not see his contract); cases round the builders.
    let mut counties: Vec<&str> = vec![];
    for b in &builders {
        let c = &b.division_code.as_str()[..6];
        if !counties.contains(&c) {
            counties.push(c);
        }
    }
    let cases_len = list.len() - CLEAN;
    for (i, (_, p)) in list.iter().enumerate() {
        let b = if i < cases_len {
            builders[i % builders.len()]
        } else {
            let county = counties[(i - cases_len + 1) % counties.len()];
            builders.iter().find(|b| b.division_code.as_str().starts_with(county)).copied().unwrap_or(builders[0])
        };
        let name = format!("{}{}", b.address.chars().take(8).collect::<String>(), KINDS[i % KINDS.len()]);
        let id = crate::wages::insert_project_data(
            tx,
            now,
            p,
            &name,
            b.division_code.as_str(),
            (b.uscc.as_str(), &b.name),
            "demo",
        )
        .await?;
        sqlx::query("UPDATE wage_projects SET grid_id = $1, address = $2, lon = $3, lat = $4 WHERE id = $5")
            .bind(grid_ids.get(&b.grid_code))
            .bind(&b.address)
            .bind(b.location.lon)
            .bind(b.location.lat)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(list.len())
}

/// The demo's worker and contractor: the demo citizen works on the clean project GC0100, its
/// contractor gets a login (same demo password) and has issued the citizen an e-contract to
/// confirm; the latest month's wages wait for the worker's confirmation.
async fn demo_worker(tx: &mut crate::Conn, now: OffsetDateTime) -> Result<()> {
    let citizen =
        sqlx::query("SELECT id_card_no, display_name FROM users WHERE kind = 'citizen' ORDER BY created_at LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    let Some(citizen) = citizen else { return Ok(()) };
    let (card, name): (String, String) = (citizen.try_get(0)?, citizen.try_get(1)?);
    let worker = sqlx::query(
        "SELECT w.id, w.joined_on, (SELECT MAX(due_fen) FROM wage_payroll r WHERE r.worker_id = w.id) AS due
         FROM wage_workers w JOIN wage_projects p ON p.id = w.project_id
         WHERE p.code = 'GC0100' AND w.left_on IS NULL ORDER BY w.joined_on, w.id LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(worker) = worker else { return Ok(()) };
    let worker_id: String = worker.try_get(0)?;
    let joined: String = worker.try_get(1)?;
    // The contract's monthly wage is what the payroll pays, so the two agree on the page.
    let monthly: i64 = worker.try_get::<Option<i64>, _>(2)?.unwrap_or(600_000);
    sqlx::query("UPDATE wage_workers SET id_card_no = $1, name = $2, contract = 0 WHERE id = $3")
        .bind(&card)
        .bind(&name)
        .bind(&worker_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE wage_payroll SET signed = 0, confirmed_at = NULL WHERE worker_id = $1
            AND month = (SELECT MAX(month) FROM wage_payroll WHERE worker_id = $1)",
    )
    .bind(&worker_id)
    .execute(&mut *tx)
    .await?;
    let project = crate::wages::project_in(tx, "GC0100").await?;
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE kind = 'enterprise' ORDER BY created_at LIMIT 1")
            .fetch_one(&mut *tx)
            .await?;
    let role =
        auth::role_id_by_code(tx, "enterprise").await?.ok_or_else(|| StoreError::NotFound("角色 enterprise".into()))?;
    let contractor = NewUser {
        kind: Some(UserKind::Enterprise),
        login: project.contractor_uscc.clone(),
        display_name: project.contractor_name.clone(),
        password_hash: hash,
        division_code: Some(project.division_code.clone()),
        uscc: Some(project.contractor_uscc.clone()),
        role_ids: vec![role],
        ..Default::default()
    };
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE login = $1")
        .bind(&contractor.login)
        .fetch_one(&mut *tx)
        .await?;
    if exists == 0 {
        auth::create_user(tx, now, &contractor).await?;
    }
    let issue = crate::wages::contracts::Issue {
        id_card_no: card,
        job: "钢筋工".into(),
        wage_type: domain::wages::contract::WageType::Monthly,
        wage_rate_fen: monthly,
        start_on: crate::wages::labor::parse_day(&joined).unwrap_or_else(|| domain::clock::local(now).date()),
        end_on: None,
        terms: "工资按月足额发放至本人工资卡。".into(),
        kind: domain::wages::contract::TermKind::Task,
        task: "本项目主体结构钢筋工程".into(),
        probation_months: 0,
    };
    crate::wages::contracts::issue(tx, now, &project, &issue, ("demo", &project.contractor_name)).await?;
    Ok(())
}
