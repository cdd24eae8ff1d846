//! The home page: what each role needs first, chosen by permission.

use super::render;
use crate::access::{Access, RequestCtx, Routes};
use crate::error::PageResult;
use crate::layout::Layout;
use askama::Template;
use axum::routing::get;
use domain::audit::AuditRecord;
use domain::auth::perm;
use store::org::{Enterprise, IndustryCount, RowScope};

pub fn routes() -> Routes {
    Routes::default().add("/home", Access::Authenticated, get(home))
}

pub struct SystemCard {
    pub users: i64,
    pub locked: i64,
    pub sessions: i64,
    pub jobs_pending: i64,
    pub jobs_failed: i64,
}

pub struct ScopeCard {
    pub scope_label: String,
    pub enterprises: i64,
    pub employees: i64,
    pub industries: Vec<IndustryCount>,
}

pub struct GridCard {
    pub name: String,
    pub town: String,
    pub enterprises: i64,
    pub citizens: i64,
    pub id: String,
}

pub struct CitizenCard {
    pub name: String,
    pub masked_id: String,
    pub sex: String,
    pub age: i32,
    pub division: String,
    pub address: String,
}

/// What waits for the user: 待办, unread messages, open alerts in scope.
pub struct WorkCard {
    /// Documents addressed to the signed-in enterprise that still ask it to act (整改通知单 …).
    pub documents: Vec<store::alerts::OpenDocument>,
    pub tasks: Option<(i64, i64)>,
    /// 跨部门协查 asked of the user's department, to answer (open, overdue).
    pub xrequests: Option<(i64, i64)>,
    pub unread: i64,
    pub alerts: Option<Vec<(&'static str, &'static str, i64)>>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    greeting: String,
    work: WorkCard,
    system: Option<SystemCard>,
    recent_audit: Option<Vec<AuditRecord>>,
    scope: Option<ScopeCard>,
    grid: Option<GridCard>,
    enterprise: Option<Enterprise>,
    citizen: Option<CitizenCard>,
}

impl HomePage {
    fn fmt_time(&self, r: &AuditRecord) -> String {
        crate::layout::fmt_time(r.at)
    }
}

async fn home(ctx: RequestCtx) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?.clone();
    let db = &state.db;
    let now = state.clock.now();
    let mut layout = Layout::new(&ctx, &state.config().city.name, "首页", "/home");
    if p.can(perm::ADMIN_HOLIDAYS) || p.can(perm::ADMIN_SYSTEM) {
        layout.warning = state.calendar().coverage_warning(state.clock.today());
    }

    let system = if p.can(perm::ADMIN_SYSTEM) || p.can(perm::ADMIN_USERS) {
        let counts = store::org::counts(db).await?;
        let locked = store::auth::locked_count(db, now).await?;
        let jobs = store::jobs::counts(db, now).await?;
        Some(SystemCard {
            users: counts.users,
            locked,
            sessions: store::auth::active_session_count(db).await?,
            jobs_pending: jobs.pending,
            jobs_failed: jobs.failed,
        })
    } else {
        None
    };

    let tasks = if p.can(perm::WORKFLOW_ACT) {
        let count = |overdue| {
            store::workflow::my_tasks(
                db,
                &p.user_id,
                p.department_code.as_deref(),
                &p.role_codes,
                overdue,
                store::sql::PageRequest::new(Some(1), Some(1)),
            )
        };
        Some((count(false).await?.total, count(true).await?.total))
    } else {
        None
    };
    let alerts = if p.can(perm::ALERTS_VIEW) {
        let scope = store::org::row_scope(db, &p, perm::ALERTS_VIEW).await?;
        Some(store::alerts::counts(db, &scope).await?.into_iter().map(|(l, n)| (l.as_str(), l.label(), n)).collect())
    } else {
        None
    };
    let documents = match (&p.uscc, p.can(perm::SELF_ENTERPRISE)) {
        (Some(uscc), true) => store::alerts::open_documents_for(db, uscc).await?,
        _ => vec![],
    };
    let xrequests = match (&p.department_code, p.can(perm::WORKFLOW_ACT)) {
        (Some(dept), true) => Some(store::services::xrequests::open_count(db, dept, now).await?),
        _ => None,
    };
    let work = WorkCard { documents, tasks, xrequests, unread: store::notify::unread_count(db, &p).await?, alerts };

    let recent_audit = if p.can(perm::AUDIT_READ) {
        Some(store::audit::list(db, &Default::default(), store::sql::PageRequest::new(Some(1), Some(8))).await?.items)
    } else {
        None
    };

    let scope = if p.can(perm::ORG_ENTERPRISES) {
        let rs = store::org::row_scope(db, &p, perm::ORG_ENTERPRISES).await?;
        let industries = store::org::enterprise_industries(db, &rs).await?;
        let scope_label = match &rs {
            RowScope::All => "全市".to_string(),
            RowScope::Division(prefix) => division_label(db, prefix).await,
            RowScope::Grid(_) => "本网格".to_string(),
            _ => "本人".to_string(),
        };
        Some(ScopeCard {
            scope_label,
            enterprises: industries.iter().map(|i| i.enterprises).sum(),
            employees: industries.iter().map(|i| i.employees).sum(),
            industries: industries.into_iter().take(6).collect(),
        })
    } else {
        None
    };

    let grid = match (&p.grid_id, p.can(perm::ORG_GRIDS_MANAGE)) {
        (Some(gid), true) => {
            let g = store::org::get_grid(db, gid).await?;
            let rs = RowScope::Grid(gid.clone());
            let enterprises = store::org::list_enterprises(
                db,
                &rs,
                &Default::default(),
                store::sql::PageRequest::new(Some(1), Some(1)),
            )
            .await?
            .total;
            let citizens =
                store::org::list_citizens(db, &rs, None, store::sql::PageRequest::new(Some(1), Some(1))).await?.total;
            let town = domain::DivisionCode::parse(&g.division_code)
                .map(|c| state.config().divisions.full_name(&c))
                .unwrap_or_default();
            Some(GridCard { name: g.name, town, enterprises, citizens, id: g.id })
        }
        _ => None,
    };

    let enterprise = match (&p.uscc, p.can(perm::SELF_ENTERPRISE)) {
        (Some(u), true) => store::org::enterprise_by_uscc(db, &RowScope::Enterprise(u.clone()), u).await.ok(),
        _ => None,
    };

    let citizen = match (&p.id_card_no, p.can(perm::SELF_CITIZEN)) {
        (Some(id), true) => match (store::org::citizen_by_id_card(db, id).await?, domain::IdCardNo::parse(id)) {
            (Some(c), Ok(idc)) => Some(CitizenCard {
                name: c.name,
                masked_id: idc.masked(),
                sex: c.sex,
                age: idc.age_on(state.clock.today()),
                division: c
                    .division_code
                    .as_deref()
                    .and_then(|d| domain::DivisionCode::parse(d).ok())
                    .map(|d| state.config().divisions.full_name(&d))
                    .unwrap_or_default(),
                address: c.address,
            }),
            _ => None,
        },
        _ => None,
    };

    let greeting = format!("{}，您好", p.display_name);
    render(HomePage { layout, greeting, work, system, recent_audit, scope, grid, enterprise, citizen })
}

async fn division_label(db: &store::Db, prefix: &str) -> String {
    let code = match prefix.len() {
        2 => format!("{prefix}0000"),
        4 => format!("{prefix}00"),
        _ => prefix.to_string(),
    };
    store::org::division_name(db, &code).await.ok().flatten().unwrap_or(code)
}
