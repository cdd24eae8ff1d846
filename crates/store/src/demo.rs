//! First-start bootstrap (divisions, departments and roles from config) and the demo city.

use crate::auth::{self, NewUser};
use crate::config::CityConfig;
use crate::org::{self, NewCitizen, NewEnterprise};
pub use crate::seam::{DemoContext, DemoFuture, DemoPhase, DemoStep};
use crate::{Db, Result, StoreError, audit, random_bytes, settings};
use domain::audit::AuditEntry;
use domain::auth::UserKind;
use domain::demo::{DemoGrid, bozhou_county_boxes, generate};
use sqlx::Row;
use std::collections::HashMap;
use time::OffsetDateTime;

const DEMO_KEY: &str = "demo_loaded";

/// Makes the database know every division, department and role in the config. Existing rows
/// are left as administrators edited them; only missing ones are added — and, for roles, the
/// permissions a new release adds to a shipped template (see `shipped_grants`), each said in
/// the audit record.
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
                doc_prefix: d.doc_prefix.clone(),
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
    // Roles follow the shipped templates release by release (`shipped_grants`, migration
    // 0037): what a release adds is granted once; what administrators changed stays.
    let shipped: Vec<(String, String)> =
        sqlx::query_as("SELECT role_code, permission FROM shipped_grants").fetch_all(&mut *tx).await?;
    let was_shipped = |role: &str, perm: &str| shipped.iter().any(|(r, p)| r == role && p == perm);
    let ms = domain::clock::to_millis(now);
    for r in &cfg.roles {
        let known = shipped.iter().any(|(code, _)| *code == r.code);
        match auth::role_id_by_code(&mut tx, &r.code).await? {
            None if known => {
                // Deleted by an administrator after it shipped: not brought back.
            }
            None => {
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
            Some(id) => {
                for p in r.permissions.iter().filter(|p| !was_shipped(&r.code, p)) {
                    let granted = sqlx::query(
                        "INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    )
                    .bind(&id)
                    .bind(p)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if granted > 0 {
                        added.push(format!("角色 {} 的权限 {p}（本版本新增）", r.name));
                    }
                }
            }
        }
        for p in std::iter::once("").chain(r.permissions.iter().map(String::as_str)) {
            if !was_shipped(&r.code, p) {
                sqlx::query("INSERT INTO shipped_grants (role_code, permission, shipped_at) VALUES ($1, $2, $3)")
                    .bind(&r.code)
                    .bind(p)
                    .bind(ms)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // A permission a release no longer ships: kept where it is granted, said once.
        for (_, p) in shipped.iter().filter(|(code, p)| *code == r.code && !p.is_empty() && !r.permissions.contains(p))
        {
            added
                .push(format!("角色 {} 的权限 {p} 已不在本版本的模板中（保留，如不再需要请在角色管理中移除）", r.name));
            sqlx::query("DELETE FROM shipped_grants WHERE role_code = $1 AND permission = $2")
                .bind(&r.code)
                .bind(p)
                .execute(&mut *tx)
                .await?;
        }
    }
    if !added.is_empty() {
        tracing::info!(changes = %added.join("；"), "configuration synchronised");
        let e = AuditEntry::new(domain::audit::CoreAudit::ConfigSync, "config", &cfg.source)
            .detail(format!("按本版本配置同步：{}", added.join("、")));
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
    let cx = DemoContext { db, cfg, city: &city, grid_ids: &grid_ids, now };
    let mut summary = vec![];
    for step in crate::cases::DEMO_STEPS {
        summary.extend(step.load(DemoPhase::BeforeAccounts, &mut tx, &cx).await?);
    }
    demo_citizens(&mut tx, &city, &grid_ids, now).await?;

    let (api_token, system_tokens) = demo_accounts(&mut tx, cfg, &city, &grid_ids, hashes, now).await?;
    for step in crate::cases::DEMO_STEPS {
        summary.extend(step.load(DemoPhase::AfterAccounts, &mut tx, &cx).await?);
    }
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
            "演示数据：网格 {}，市场主体 {}，群众 {}，{}，账号 {}",
            report.grids,
            report.enterprises,
            report.citizens,
            summary.join("，"),
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
        q.push(" ORDER BY u.created_at, u.id LIMIT 1");
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
           AND u.uscc IN (SELECT contractor_uscc FROM wage_projects) ORDER BY u.created_at, u.id",
    )
    .fetch_all(db.reader())
    .await?;
    for (login, name) in contractors {
        if !out.iter().any(|l| l.login == login) {
            out.push(DemoLogin { login, name, roles: "企业用户（总包单位）".into() });
        }
    }
    // The supervised person the demo gives a leave request and a check-in task (see the
    // supervision case's demo): the one who logs in to 亳安码.
    let supervised: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.login, u.display_name FROM users u JOIN sup_persons p ON p.user_id = u.id
         WHERE p.status = 'active' AND EXISTS (SELECT 1 FROM sup_leaves l WHERE l.person_id = p.id)
         ORDER BY u.created_at LIMIT 1",
    )
    .fetch_all(db.reader())
    .await?;
    for (login, name) in supervised {
        if !out.iter().any(|l| l.login == login) {
            out.push(DemoLogin { login, name, roles: "群众（被监管人员）".into() });
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
        // The configured accounts, the demo contractor and the supervised person.
        assert_eq!(logins.len(), cfg.demo.accounts.iter().filter(|a| a.kind != UserKind::System).count() + 2);
        assert!(logins.iter().any(|l| l.roles == "群众（被监管人员）"));
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
        // fences, 1 alarm, 1 code change, a leave request, a check-in task), the shared data of
        // 一键申报, the demo load.
        assert_eq!(crate::audit::verify(&db).await.unwrap().unwrap().checked, 18);
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
        crate::alerts::run_all(&db, &cfg, &cal, crate::cases::SUBJECT_SOURCES, now).await.unwrap();
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

    /// An install made by an older build: its leader role lacked `wages.complaints` and the
    /// 劳动保障监察员 role did not exist; its administrator removed `talent.view` from the leader
    /// and deleted the 数据报送员 role. Starting this release adds what the release adds and
    /// keeps what the administrator changed, and says what it did.
    #[tokio::test]
    async fn an_upgrade_adds_what_the_release_adds_and_keeps_what_administrators_changed() {
        let (db, _d) = testing::db().await;
        let cfg = load(&ConfigSource::Embedded).unwrap();
        let now = datetime!(2026-11-27 08:00 UTC);
        bootstrap(&db, &cfg, now).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        let role = |code: &'static str| format!("(SELECT id FROM roles WHERE code = '{code}')");
        for sql in [
            // What the older release shipped.
            format!(
                "DELETE FROM role_permissions WHERE role_id = {} AND permission = 'wages.complaints'",
                role("leader")
            ),
            "DELETE FROM shipped_grants WHERE role_code = 'leader' AND permission = 'wages.complaints'".to_string(),
            format!("DELETE FROM user_roles WHERE role_id = {}", role("labor_inspector")),
            "DELETE FROM roles WHERE code = 'labor_inspector'".to_string(),
            "DELETE FROM shipped_grants WHERE role_code = 'labor_inspector'".to_string(),
            // What its administrator changed.
            format!("DELETE FROM role_permissions WHERE role_id = {} AND permission = 'talent.view'", role("leader")),
            format!("DELETE FROM user_roles WHERE role_id = {}", role("data_reporter")),
            "DELETE FROM roles WHERE code = 'data_reporter'".to_string(),
        ] {
            sqlx::query(&sql).execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();

        bootstrap(&db, &cfg, now).await.unwrap();
        let perms = |code: &'static str| {
            let db = db.clone();
            async move {
                let roles = auth::list_roles(&db).await.unwrap();
                roles.into_iter().find(|r| r.code == code).map(|r| r.permissions)
            }
        };
        let leader = perms("leader").await.unwrap();
        assert!(leader.iter().any(|p| p == "wages.complaints"), "added by this release");
        assert!(!leader.iter().any(|p| p == "talent.view"), "the administrator's removal stands");
        assert!(perms("labor_inspector").await.is_some(), "a role new in this release is created");
        assert!(perms("data_reporter").await.is_none(), "a role the administrator deleted stays deleted");
        let said: Vec<String> = sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'config.sync'")
            .fetch_all(db.reader())
            .await
            .unwrap();
        let last = said.last().unwrap();
        assert!(
            last.contains("角色 市领导 的权限 wages.complaints（本版本新增）") && last.contains("角色 劳动保障监察员"),
            "{last}"
        );
        // Nothing more on the next start.
        bootstrap(&db, &cfg, now).await.unwrap();
        let again: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'config.sync'")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(again as usize, said.len());
    }
}
