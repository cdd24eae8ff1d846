//! First-start bootstrap (divisions, departments and roles from config) and the demo city.

use crate::auth::{self, NewUser};
use crate::config::CityConfig;
use crate::org::{self, NewCitizen, NewEnterprise, RowScope};
use crate::{Db, Result, StoreError, audit, random_bytes, settings};
use domain::audit::AuditEntry;
use domain::auth::UserKind;
use domain::demo::{DemoGrid, bozhou_county_boxes, generate};
use sqlx::Row;
use std::collections::HashMap;
use time::OffsetDateTime;

const DEMO_KEY: &str = "demo_loaded";

/// Makes the database know every division, department and role in the config. Existing rows
/// are left as administrators edited them; only missing ones are added.
pub async fn bootstrap(db: &Db, cfg: &CityConfig, now: OffsetDateTime) -> Result<()> {
    let mut tx = db.begin().await?;
    org::sync_divisions(&mut tx, &cfg.divisions).await?;
    let mut added = vec![];
    for d in &cfg.departments {
        if org::department_id_by_code(&mut tx, &d.code).await?.is_none() {
            let input = org::DepartmentInput {
                code: d.code.clone(),
                name: d.name.clone(),
                short_name: d.short_name.clone(),
                kind: d.kind.clone(),
                division_code: d.division_code.clone(),
                active: true,
            };
            org::create_department(&mut tx, now, &input).await?;
            added.push(format!("部门 {}", d.short_name));
        }
    }
    for g in &cfg.grids {
        if org::grid_id_by_code(&mut tx, &g.code).await?.is_none() {
            let new = org::NewGrid {
                code: &g.code,
                name: &g.name,
                division: &g.division_code,
                ring: &g.ring,
                keywords: &g.keywords,
                datum: g.datum,
                original: g.original.as_deref(),
            };
            org::insert_grid(&mut tx, now, &new).await?;
            added.push(format!("网格 {}", g.name));
        }
    }
    for r in &cfg.roles {
        if auth::role_id_by_code(&mut tx, &r.code).await?.is_none() {
            let input = auth::RoleInput {
                code: r.code.clone(),
                name: r.name.clone(),
                description: r.description.clone(),
                scope: r.scope,
                permissions: r.permissions.clone(),
            };
            auth::create_role(&mut tx, now, &input, true).await?;
            added.push(format!("角色 {}", r.name));
        }
    }
    if !added.is_empty() {
        let e = AuditEntry::new(domain::audit::CoreAudit::ConfigSync, "config", &cfg.source)
            .detail(format!("新增：{}", added.join("、")));
        audit::append(&mut tx, now, e).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn demo_grid(g: &crate::config::GridDef) -> DemoGrid {
    let town =
        domain::DivisionCode::parse(&g.division_code.as_str()[..9]).expect("grids belong to a town or community");
    DemoGrid {
        code: g.code.clone(),
        name: g.name.clone(),
        town_code: town,
        ring: g.ring.clone(),
        keywords: g.keywords.clone(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    pub login: String,
    pub name: String,
    pub roles: String,
}

#[derive(Debug, Clone)]
pub struct DemoReport {
    pub grids: usize,
    pub enterprises: usize,
    pub citizens: usize,
    /// The bank system's token (the README's example).
    pub api_token: Option<String>,
    /// Every demo system account's token: (login, name, token), shown once.
    pub system_tokens: Vec<(String, String, String)>,
}

pub async fn demo_loaded(db: &Db) -> Result<bool> {
    Ok(settings::get(db, DEMO_KEY).await?.is_some())
}

/// Loads the demo city once. Returns `None` if it was loaded before.
pub async fn load_demo(
    db: &Db,
    cfg: &CityConfig,
    now: OffsetDateTime,
    scale: Option<u32>,
) -> Result<Option<DemoReport>> {
    if demo_loaded(db).await? {
        return Ok(None);
    }
    let scale = scale.unwrap_or(cfg.demo.scale).max(1);
    let configured: Vec<DemoGrid> = cfg.grids.iter().map(demo_grid).collect();
    let city = generate(&cfg.towns, &bozhou_county_boxes(), &configured, scale, cfg.demo.seed);

    // Hash outside the transaction: argon2 is deliberately slow.
    let password = cfg.demo.password.clone();
    let n = cfg.demo.accounts.len();
    let hashes: Vec<String> = tokio::task::spawn_blocking(move || {
        (0..n).map(|_| domain::auth::password::hash(&password, &random_bytes::<16>())).collect()
    })
    .await
    .map_err(|e| StoreError::Other(e.to_string()))?;

    let mut tx = db.begin().await?;
    let grid_ids = demo_grids(&mut tx, &city, now).await?;
    demo_enterprises(&mut tx, &city, &grid_ids, now).await?;
    demo_labor(&mut tx, &city, now).await?;
    demo_citizens(&mut tx, &city, &grid_ids, now).await?;
    crate::services::demo::load(&mut tx, cfg, &city, now).await?;

    let (api_token, system_tokens) = demo_accounts(&mut tx, cfg, &city, &grid_ids, hashes, now).await?;
    let projects = demo_wage_projects(&mut tx, cfg, &city, &grid_ids, now).await?;
    demo_worker(&mut tx, now).await?;
    let talent = crate::wages::talent::load_demo(&mut tx, now).await?;
    demo_supervision(&mut tx, cfg, &city, now).await?;
    settings::set(&mut tx, now, DEMO_KEY, &format!("scale={scale};seed={}", cfg.demo.seed)).await?;
    let report = DemoReport {
        grids: city.grids.len(),
        enterprises: city.enterprises.len(),
        citizens: city.citizens.len(),
        api_token,
        system_tokens,
    };
    let e =
        AuditEntry::new(domain::audit::CoreAudit::DemoLoad, "city", cfg.city.division_code.as_str()).detail(format!(
            "演示数据：网格 {}，市场主体 {}，群众 {}，在建工程项目 {}，人才信息 {talent}，账号 {}",
            report.grids,
            report.enterprises,
            report.citizens,
            projects,
            cfg.demo.accounts.len()
        ));
    audit::append(&mut tx, now, e).await?;
    tx.commit().await?;
    Ok(Some(report))
}

/// The demo city's grids (those from config exist since bootstrap): code → id.
async fn demo_grids(
    tx: &mut crate::Conn,
    city: &domain::demo::DemoCity,
    now: OffsetDateTime,
) -> Result<HashMap<String, String>> {
    let mut grid_ids: HashMap<String, String> = HashMap::new();
    for g in &city.grids {
        // Grids from config were inserted at bootstrap; only generated ones are new.
        let id = match org::grid_id_by_code(tx, &g.code).await? {
            Some(id) => id,
            None => {
                let new = org::NewGrid {
                    code: &g.code,
                    name: &g.name,
                    division: &g.town_code,
                    ring: &g.ring,
                    keywords: &g.keywords,
                    datum: domain::geo::Datum::Wgs84,
                    original: None,
                };
                org::insert_grid(tx, now, &new).await?
            }
        };
        grid_ids.insert(g.code.clone(), id);
    }
    Ok(grid_ids)
}

async fn demo_enterprises(
    tx: &mut crate::Conn,
    city: &domain::demo::DemoCity,
    grid_ids: &HashMap<String, String>,
    now: OffsetDateTime,
) -> Result<()> {
    for e in &city.enterprises {
        org::insert_enterprise(
            tx,
            now,
            &NewEnterprise {
                uscc: e.uscc.to_string(),
                name: e.name.clone(),
                kind: e.kind.to_string(),
                industry: e.industry.to_string(),
                division_code: e.division_code.to_string(),
                grid_id: grid_ids.get(&e.grid_code).cloned(),
                address: e.address.clone(),
                lon: Some(e.location.lon),
                lat: Some(e.location.lat),
                legal_rep: e.legal_rep.clone(),
                employees: e.employees as i64,
                registered_capital_fen: e.registered_capital.fen(),
                established_on: Some(e.established_on.to_string()),
            },
        )
        .await?;
    }
    Ok(())
}

async fn demo_citizens(
    tx: &mut crate::Conn,
    city: &domain::demo::DemoCity,
    grid_ids: &HashMap<String, String>,
    now: OffsetDateTime,
) -> Result<()> {
    for c in &city.citizens {
        let grid_id = grid_ids.get(&c.grid_code).cloned();
        org::insert_citizen(
            tx,
            now,
            &NewCitizen {
                id_card_no: c.id_card_no.clone(),
                name: c.name.clone(),
                phone: c.phone.clone(),
                division_code: c.division_code.to_string(),
                grid_id,
                address: c.address.clone(),
            },
        )
        .await?;
    }

    Ok(())
}

/// The demo accounts of `demo.toml`; system accounts get a token each: (the first token,
/// every system's (login, name, token)).
async fn demo_accounts(
    tx: &mut crate::Conn,
    cfg: &CityConfig,
    city: &domain::demo::DemoCity,
    grid_ids: &HashMap<String, String>,
    hashes: Vec<String>,
    now: OffsetDateTime,
) -> Result<(Option<String>, Vec<(String, String, String)>)> {
    let mut api_token = None;
    let mut system_tokens = vec![];
    for (a, hash) in cfg.demo.accounts.iter().zip(hashes) {
        let mut role_ids = vec![];
        for r in &a.roles {
            role_ids
                .push(auth::role_id_by_code(tx, r).await?.ok_or_else(|| StoreError::NotFound(format!("角色 {r}")))?);
        }
        let department_id = match &a.department {
            Some(code) => Some(
                org::department_id_by_code(tx, code)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("部门 {code}")))?,
            ),
            None => None,
        };
        let grid_id = a.grid.as_ref().and_then(|g| grid_ids.get(g).cloned());
        let mut u = NewUser {
            kind: Some(a.kind),
            login: a.login.clone().unwrap_or_default(),
            display_name: a.name.clone().unwrap_or_default(),
            password_hash: hash,
            department_id,
            division_code: a.division.as_ref().map(|d| d.to_string()),
            grid_id: grid_id.clone(),
            role_ids,
            ..Default::default()
        };
        match a.kind {
            UserKind::Enterprise => {
                let e = city
                    .enterprises
                    .iter()
                    .find(|e| a.grid.as_ref().is_none_or(|g| &e.grid_code == g))
                    .ok_or_else(|| StoreError::Other("演示企业账号找不到所在网格的企业".into()))?;
                u.login = e.uscc.to_string();
                u.uscc = Some(e.uscc.to_string());
                u.display_name = e.name.clone();
                u.division_code = Some(e.division_code.to_string());
                u.grid_id = grid_ids.get(&e.grid_code).cloned();
            }
            UserKind::Citizen => {
                let c = city
                    .citizens
                    .iter()
                    .find(|c| a.division.as_ref().is_none_or(|d| d.contains(&c.division_code)))
                    .ok_or_else(|| StoreError::Other("演示群众账号找不到所在乡镇的群众".into()))?;
                u.login = c.id_card_no.to_string();
                u.id_card_no = Some(c.id_card_no.to_string());
                u.display_name = c.name.clone();
                u.division_code = Some(c.division_code.to_string());
                u.phone = c.phone.clone();
            }
            UserKind::Staff | UserKind::System => {
                if let (Some(g), None) = (&grid_id, &u.division_code) {
                    // A grid manager's division is the grid's town.
                    let town: String = sqlx::query("SELECT division_code FROM grids WHERE id = $1")
                        .bind(g)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get(0)?;
                    u.division_code = Some(town);
                }
                if u.department_id.is_none() && u.division_code.is_none() {
                    u.division_code = Some(cfg.city.division_code.to_string());
                }
            }
        }
        let id = auth::create_user(tx, now, &u).await?;
        if a.kind == UserKind::System {
            let (_, token) = auth::create_token(tx, now, &id, "演示令牌", "demo", None).await?;
            api_token.get_or_insert_with(|| token.clone());
            system_tokens.push((u.login.clone(), u.display_name.clone(), token));
        }
    }
    Ok((api_token, system_tokens))
}

/// The labor-relations grid of the demo city: one employer in 25 registered without
/// coordinates (placed by its address keywords), every employer placed by the real placement,
/// and twelve months of labor reports for employers with ten or more employees, a few of them
/// with a layoff, a jump in complaints or a collective dispute in the latest month.
async fn demo_labor(tx: &mut crate::Conn, city: &domain::demo::DemoCity, now: OffsetDateTime) -> Result<()> {
    use domain::wages::labor::{DemoEvent, demo_reports};
    for e in city.enterprises.iter().skip(12).step_by(25) {
        sqlx::query("UPDATE enterprises SET lon = NULL, lat = NULL, grid_id = NULL WHERE uscc = $1")
            .bind(e.uscc.as_str())
            .execute(&mut *tx)
            .await?;
    }
    crate::wages::labor::place_employers(tx, now, &RowScope::All, true, None).await?;
    let today = domain::clock::local(now).date();
    let mut large = 0usize;
    for (i, e) in city.enterprises.iter().enumerate().filter(|(_, e)| e.employees >= 10) {
        let event = if e.employees >= 50 {
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
    for i in 0..6 {
        list.push((String::new(), clean_project(&format!("GC{:04}", 100 + i), &cx)));
    }
    for (i, (_, p)) in list.iter().enumerate() {
        let b = builders[i % builders.len()];
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
        terms: "以完成本项目主体结构钢筋工程为期限；工资按月足额发放至本人工资卡。".into(),
    };
    crate::wages::contracts::issue(tx, now, &project, &issue, ("demo", &project.contractor_name)).await?;
    Ok(())
}

/// 亳安码 in the demo city: three residents on bail (取保候审) held by the police, each kept to
/// their town (a division fence) and away from a zone in it; a week of fixes, in which one of
/// them left the town for a while — an alarm waiting for the officer and a yellow code.
async fn demo_supervision(
    tx: &mut crate::Conn,
    cfg: &CityConfig,
    city: &domain::demo::DemoCity,
    now: OffsetDateTime,
) -> Result<()> {
    use crate::supervision::{InFix, NewFence, NewPerson, add_fence, create_person, ingest_fixes};
    let officer: Option<(String, String, Option<String>)> =
        sqlx::query_as("SELECT id, display_name, department_id FROM users WHERE login = 'gongan'")
            .fetch_optional(&mut *tx)
            .await?;
    let Some((officer_id, officer_name, agency)) = officer else { return Ok(()) };
    let today = domain::clock::local(now).date();
    for (i, c) in city.citizens.iter().skip(1).step_by(97).take(3).enumerate() {
        let town = city.towns.iter().find(|t| t.code == c.division_code);
        let Some(town) = town else { continue };
        let n = NewPerson {
            id_card_no: c.id_card_no.to_string(),
            name: c.name.clone(),
            phone: c.phone.clone(),
            address: c.address.clone(),
            division_code: c.division_code.to_string(),
            stage: "police".into(),
            measure: "取保候审".into(),
            measure_from: today - time::Duration::days(30 + 20 * i as i64),
            measure_to: today + time::Duration::days(300),
        };
        let id = create_person(tx, now, &n, agency.as_deref(), (&officer_id, &officer_name)).await?;
        let person = crate::supervision::person_in(tx, &id).await?;
        let by = (officer_id.as_str(), officer_name.as_str());
        let home = NewFence {
            name: format!("{}（居住地乡镇）", town.name),
            rule: domain::supervision::Rule::Allowed,
            geometry: format!(r#"{{"type":"Division","code":"{}"}}"#, town.code),
            datum: domain::geo::Datum::Wgs84,
            window: None,
        };
        add_fence(tx, now, &person, &home, by).await?;
        let centre = town.ring.centroid();
        let zone = NewFence {
            name: "被害人住所周边".into(),
            rule: domain::supervision::Rule::Forbidden,
            geometry: format!(r#"{{"type":"Circle","center":[{},{}],"radius_m":300}}"#, centre.lon, centre.lat),
            datum: domain::geo::Datum::Wgs84,
            window: None,
        };
        add_fence(tx, now, &person, &zone, by).await?;
        // A week of fixes every two hours near home; the second person leaves for the
        // neighbouring county on the last day.
        let (x0, y0, x1, y1) = town.ring.bbox();
        let start = domain::clock::to_millis(now) - 7 * 86_400_000;
        let mut fixes = vec![];
        for k in 0..84i64 {
            let at = start + k * 2 * 3_600_000;
            let away = i == 1 && k >= 78;
            let (lon, lat) = if away {
                (x1 + 0.2, (y0 + y1) / 2.0)
            } else {
                let p = ((k * 37 % 100) as f64 / 100.0, (k * 53 % 100) as f64 / 100.0);
                (x0 + (x1 - x0) * (0.3 + 0.4 * p.0), y0 + (y1 - y0) * (0.3 + 0.4 * p.1))
            };
            // Keep clear of the forbidden zone in the town's middle.
            let (lon, lat) = if !away && (lon - centre.lon).abs() < 0.01 && (lat - centre.lat).abs() < 0.01 {
                (lon + 0.02, lat)
            } else {
                (lon, lat)
            };
            fixes.push(InFix { at, lon, lat, datum: None, accuracy_m: Some(15.0), source: Some("gps".into()) });
        }
        ingest_fixes(tx, cfg, now, &person, &fixes, &Default::default()).await?;
    }
    Ok(())
}

/// The demo logins to print at start-up (kinds that log in, with their role names).
pub async fn demo_logins(db: &Db, cfg: &CityConfig) -> Result<Vec<DemoLogin>> {
    let mut out = vec![];
    for a in &cfg.demo.accounts {
        if a.kind == UserKind::System {
            continue;
        }
        let mut q = crate::sql::Sql::new("SELECT u.login, u.display_name FROM users u WHERE u.kind = ");
        q.bind(a.kind.as_str());
        match &a.login {
            Some(l) => {
                q.push(" AND u.login = ").bind(l.clone());
            }
            None => {
                // Enterprise and citizen demo accounts: the one holding the first role.
                q.push(" AND u.id IN (SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.code = ")
                    .bind(a.roles.first().cloned().unwrap_or_default())
                    .push(")");
            }
        }
        q.push(" ORDER BY u.created_at LIMIT 1");
        if let Some((login, name)) = q.query_as::<(String, String)>().fetch_optional(db.reader()).await? {
            let roles = a
                .roles
                .iter()
                .filter_map(|r| cfg.roles.iter().find(|x| &x.code == r).map(|x| x.name.clone()))
                .collect::<Vec<_>>()
                .join("、");
            out.push(DemoLogin { login, name, roles });
        }
    }
    // Contractors of the demo's construction projects who have a login (see `demo_worker`).
    let contractors: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.login, u.display_name FROM users u WHERE u.kind = 'enterprise'
           AND u.uscc IN (SELECT contractor_uscc FROM wage_projects) ORDER BY u.created_at",
    )
    .fetch_all(db.reader())
    .await?;
    for (login, name) in contractors {
        if !out.iter().any(|l| l.login == login) {
            out.push(DemoLogin { login, name, roles: "企业用户（总包单位）".into() });
        }
    }
    Ok(out)
}

/// Without the demo: when no staff account exists, creates `admin` with a random password that
/// must be changed at first login, and returns the password to print once.
pub async fn ensure_admin(db: &Db, now: OffsetDateTime) -> Result<Option<String>> {
    let staff: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE kind = 'staff'").fetch_one(db.reader()).await?;
    if staff > 0 {
        return Ok(None);
    }
    // Four classes guaranteed, then random hex.
    let password = format!("Ys#{}a", crate::random_token(8));
    let pw = password.clone();
    let hash = tokio::task::spawn_blocking(move || domain::auth::password::hash(&pw, &random_bytes::<16>()))
        .await
        .map_err(|e| StoreError::Other(e.to_string()))?;
    let mut tx = db.begin().await?;
    let role = auth::role_id_by_code(&mut tx, "sys_admin")
        .await?
        .ok_or_else(|| StoreError::NotFound("系统管理员角色 sys_admin".into()))?;
    let id = auth::create_user(
        &mut tx,
        now,
        &NewUser {
            kind: Some(UserKind::Staff),
            login: "admin".into(),
            display_name: "系统管理员".into(),
            password_hash: hash,
            role_ids: vec![role],
            must_change_password: true,
            ..Default::default()
        },
    )
    .await?;
    audit::append(
        &mut tx,
        now,
        AuditEntry::new(domain::audit::CoreAudit::UserCreate, "user", &id).detail("首次启动创建初始管理员 admin"),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(password))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigSource, load};
    use crate::org::RowScope;
    use crate::testing;
    use time::macros::datetime;

    #[tokio::test]
    async fn demo_loads_once_and_accounts_work() {
        let (db, _d) = testing::db().await;
        let cfg = load(&ConfigSource::Embedded).unwrap();
        let now = datetime!(2026-11-27 08:00 UTC);
        bootstrap(&db, &cfg, now).await.unwrap();
        bootstrap(&db, &cfg, now).await.unwrap();
        let r = load_demo(&db, &cfg, now, None).await.unwrap().unwrap();
        assert_eq!(r.enterprises, domain::demo::ENTERPRISES_PER_SCALE);
        assert!(r.api_token.as_deref().unwrap().starts_with("ys_"));
        assert!(load_demo(&db, &cfg, now, None).await.unwrap().is_none());
        let logins = demo_logins(&db, &cfg).await.unwrap();
        // The configured accounts and the demo contractor.
        assert_eq!(logins.len(), cfg.demo.accounts.iter().filter(|a| a.kind != UserKind::System).count() + 1);
        let contractor = logins.iter().find(|l| l.roles == "企业用户（总包单位）").unwrap();
        let contracts =
            crate::wages::contracts::for_id_card(&db, &logins.iter().find(|l| l.roles == "群众").unwrap().login)
                .await
                .unwrap();
        assert_eq!(contracts.len(), 1);
        assert_eq!(
            (contracts[0].status.as_str(), contracts[0].employer_uscc.as_str()),
            ("pending", contractor.login.as_str())
        );
        let ent = logins.iter().find(|l| l.roles == "企业用户").unwrap();
        assert!(domain::Uscc::parse(&ent.login).is_ok());
        let cit = logins.iter().find(|l| l.roles == "群众").unwrap();
        assert!(domain::IdCardNo::parse(&cit.login).is_ok());
        // The grid manager sees the demo enterprise.
        let wangge = auth::user_by_login(&db, "wangge").await.unwrap().unwrap();
        let p = auth::load_principal(&db, &wangge.id).await.unwrap().unwrap();
        let scope = org::row_scope(&db, &p, "org.enterprises").await.unwrap();
        let page = org::list_enterprises(&db, &scope, &Default::default(), Default::default()).await.unwrap();
        assert!(page.total > 0);
        assert!(page.items.iter().any(|e| e.uscc == ent.login));
        assert!(page.items.iter().all(|e| e.grid_id == wangge.grid_id));
        // bootstrap, the grid placement, the demo worker's e-contract, 亳安码 (3 persons, 6
        // fences, 1 alarm, 1 code change), the shared data of 一键申报, the demo load.
        assert_eq!(crate::audit::verify(&db).await.unwrap().unwrap().checked, 16);
        let alarms: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sup_alarms WHERE status = 'open'")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(alarms, 1, "the demo person who left town has an alarm waiting");
        // Employers without coordinates were placed by their address keywords.
        let by_keyword: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM enterprises WHERE grid_method = 'keyword'")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert!(by_keyword > 0);

        // The demo city's construction projects make every wage indicator fire at least once.
        let cal = domain::calendar::WorkCalendar::new(cfg.holidays.clone(), cfg.city.working_hours.clone());
        crate::alerts::run_all(&db, &cfg, &cal, &[&crate::wages::labor::Employers, &crate::wages::Projects], now)
            .await
            .unwrap();
        let alerts = crate::alerts::list(&db, &RowScope::All, &Default::default(), crate::sql::PageRequest::all())
            .await
            .unwrap();
        let fire = |prefix: &str| {
            cfg.indicators.iter().filter(|i| i.id.starts_with(prefix)).map(|i| i.id.clone()).collect::<Vec<_>>()
        };
        assert_eq!(fire("labor.").len(), 4);
        for i in fire("labor.").iter().filter(|i| *i != "labor.disputes") {
            assert!(alerts.items.iter().any(|a| &a.indicator == i), "{i} fires in the demo city");
        }
        for i in cfg.indicators.iter().filter(|i| i.subject == "wage_project") {
            assert!(alerts.items.iter().any(|a| a.indicator == i.id), "{} fires in the demo city", i.id);
        }
    }
}
