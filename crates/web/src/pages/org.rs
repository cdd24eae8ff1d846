//! Organisation pages: enterprises (市场主体), citizens, divisions and grids, the city
//! dashboard, and the enterprise's and citizen's own pages.

use super::{opt, render};
use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::export::{Cell, ExportFormat, Table};
use crate::layout::{Layout, Pager};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::routing::{get, post};
use domain::Money;
use domain::audit::Outcome;
use domain::auth::perm;
use domain::geo::Ring;
use store::org::{Citizen, CountyCount, Division, Enterprise, EnterpriseFilter, Grid, IndustryCount, RowScope};
use store::sql::PageRequest;

pub fn routes() -> Routes {
    Routes::default()
        .add("/enterprises", Access::Perm(perm::ORG_ENTERPRISES), get(enterprises))
        .add("/enterprises/export", Access::Perm(perm::ORG_ENTERPRISES_EXPORT), get(enterprises_export))
        .add("/enterprises/{uscc}", Access::Perm(perm::ORG_ENTERPRISES), get(enterprise_detail))
        .add("/citizens", Access::Perm(perm::ORG_CITIZENS), get(citizens))
        .add("/citizens/{id}", Access::Perm(perm::ORG_CITIZENS), get(citizen_detail))
        .add("/citizens/{id}/reveal", Access::Perm(perm::ORG_CITIZENS_SENSITIVE), post(citizen_reveal))
        .add("/divisions", Access::Perm(perm::ORG_DIVISIONS), get(divisions))
        .add("/grids/{id}", Access::Perm(perm::ORG_DIVISIONS), get(grid_detail))
        .add("/grids/{id}/keywords", Access::Perm(perm::ORG_GRIDS_MANAGE), post(grid_keywords))
        .add("/dashboard", Access::Perm(perm::DASHBOARD_CITY), get(dashboard))
        .add("/me/enterprise", Access::Perm(perm::SELF_ENTERPRISE), get(my_enterprise))
        .add("/me/profile", Access::Perm(perm::SELF_CITIZEN), get(my_profile))
}

fn city(ctx: &RequestCtx) -> String {
    ctx.state.config().city.name.clone()
}

// ---------------------------------------------------------------- enterprises

#[derive(serde::Deserialize, Default)]
pub struct EnterpriseQuery {
    q: Option<String>,
    industry: Option<String>,
    division: Option<String>,
    grid: Option<String>,
    page: Option<u32>,
}

impl EnterpriseQuery {
    fn filter(&self) -> EnterpriseFilter {
        EnterpriseFilter {
            q: opt(&self.q),
            industry: opt(&self.industry),
            division: opt(&self.division),
            grid_id: opt(&self.grid),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("q", self.q.clone().unwrap_or_default()),
            ("industry", self.industry.clone().unwrap_or_default()),
            ("division", self.division.clone().unwrap_or_default()),
            ("grid", self.grid.clone().unwrap_or_default()),
        ]
    }
}

#[derive(Template)]
#[template(path = "enterprises.html")]
struct EnterprisesPage {
    layout: Layout,
    items: Vec<Enterprise>,
    pager: Pager,
    q: String,
    industry: String,
    division: String,
    industries: Vec<String>,
    divisions: Vec<Division>,
    can_export: bool,
}

async fn enterprises(ctx: RequestCtx, Query(q): Query<EnterpriseQuery>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::ORG_ENTERPRISES).await?;
    let paged = store::org::list_enterprises(&state.db, &scope, &q.filter(), PageRequest::new(q.page, None)).await?;
    let pager = Pager::new(&paged, "/enterprises", &q.pairs());
    let mut divisions = store::org::list_divisions(&state.db, Some(state.config().city.division_code.as_str())).await?;
    divisions.retain(|d| d.name != "市辖区");
    render(EnterprisesPage {
        layout: Layout::new(&ctx, &city(&ctx), "市场主体", "/enterprises"),
        items: paged.items,
        pager,
        q: q.q.clone().unwrap_or_default(),
        industry: q.industry.clone().unwrap_or_default(),
        division: q.division.clone().unwrap_or_default(),
        industries: store::org::industries(&state.db).await?,
        divisions,
        can_export: p.can(perm::ORG_ENTERPRISES_EXPORT),
    })
}

#[derive(serde::Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    #[serde(flatten)]
    q: EnterpriseQuery,
}

async fn enterprises_export(ctx: RequestCtx, Query(eq): Query<ExportQuery>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let format = ExportFormat::parse(eq.format.as_deref())
        .ok_or_else(|| AppError::invalid("format", "导出格式应为 csv 或 xlsx"))?;
    let scope = store::org::row_scope(&state.db, p, perm::ORG_ENTERPRISES).await?;
    let paged = store::org::list_enterprises(&state.db, &scope, &eq.q.filter(), PageRequest::all()).await?;
    let rows = paged
        .items
        .into_iter()
        .map(|e| {
            vec![
                Cell::from(e.uscc),
                e.name.into(),
                e.kind.into(),
                e.industry.into(),
                e.division_name.into(),
                e.grid_name.into(),
                e.address.into(),
                e.legal_rep.into(),
                e.employees.into(),
                Money::from_fen(e.registered_capital_fen).into(),
                e.established_on.into(),
                e.status.into(),
            ]
        })
        .collect::<Vec<_>>();
    let n = rows.len();
    ctx.audit(
        ctx.entry(domain::audit::CoreAudit::EnterprisesExport, "enterprise", "list")
            .detail(format!("导出 {n} 条，格式 {:?}", format)),
    )
    .await?;
    Ok(Table {
        title: "市场主体".into(),
        headers: vec![
            "统一社会信用代码",
            "名称",
            "类型",
            "行业",
            "所在乡镇",
            "网格",
            "地址",
            "法定代表人",
            "从业人数",
            "注册资本（元）",
            "成立日期",
            "状态",
        ],
        rows,
    }
    .into_response(format))
}

#[derive(Template)]
#[template(path = "enterprise.html")]
struct EnterprisePage {
    layout: Layout,
    e: Enterprise,
    division_full: String,
    org_code: String,
    authority: String,
    link_grid: bool,
}

impl EnterprisePage {
    fn grid_id(&self) -> &str {
        self.e.grid_id.as_deref().unwrap_or_default()
    }

    fn capital(&self) -> String {
        Money::from_fen(self.e.registered_capital_fen).to_string()
    }
}

async fn enterprise_detail(ctx: RequestCtx, Path(uscc): Path<String>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::ORG_ENTERPRISES).await?;
    let e = store::org::enterprise_by_uscc(&state.db, &scope, &uscc).await?;
    enterprise_page(&ctx, e, "/enterprises")
}

fn enterprise_page(ctx: &RequestCtx, e: Enterprise, current: &str) -> PageResult {
    let u = domain::Uscc::parse(&e.uscc).ok();
    let division_full = domain::DivisionCode::parse(&e.division_code)
        .map(|c| ctx.state.config().divisions.full_name(&c))
        .unwrap_or_default();
    render(EnterprisePage {
        layout: Layout::new(ctx, &city(ctx), &e.name, current),
        org_code: u.as_ref().map(|u| u.organization_code()).unwrap_or_default(),
        authority: u.as_ref().map(|u| u.authority_name().to_string()).unwrap_or_default(),
        division_full,
        link_grid: ctx.principal.as_ref().is_some_and(|p| p.can(perm::ORG_DIVISIONS)),
        e,
    })
}

async fn my_enterprise(ctx: RequestCtx) -> PageResult {
    let p = ctx.user()?;
    let uscc = p.uscc.clone().ok_or_else(|| AppError::NotFound("本账号关联的企业".into()))?;
    let e = store::org::enterprise_by_uscc(&ctx.state.db, &RowScope::Enterprise(uscc.clone()), &uscc).await?;
    enterprise_page(&ctx, e, "/me/enterprise")
}

// ---------------------------------------------------------------- citizens

#[derive(serde::Deserialize, Default)]
pub struct CitizenQuery {
    q: Option<String>,
    page: Option<u32>,
}

pub struct CitizenRow {
    pub c: Citizen,
    pub masked: String,
}

fn mask(c: &Citizen) -> String {
    domain::IdCardNo::parse(&c.id_card_no).map(|i| i.masked()).unwrap_or_else(|_| "******".into())
}

fn mask_phone(p: &str) -> String {
    if p.len() == 11 { format!("{}****{}", &p[..3], &p[7..]) } else { p.to_string() }
}

#[derive(Template)]
#[template(path = "citizens.html")]
struct CitizensPage {
    layout: Layout,
    rows: Vec<CitizenRow>,
    pager: Pager,
    q: String,
}

async fn citizens(ctx: RequestCtx, Query(q): Query<CitizenQuery>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::ORG_CITIZENS).await?;
    let text = opt(&q.q);
    let paged = store::org::list_citizens(&state.db, &scope, text.as_deref(), PageRequest::new(q.page, None)).await?;
    let pager = Pager::new(&paged, "/citizens", &[("q", q.q.clone().unwrap_or_default())]);
    if let Some(t) = &text
        && domain::IdCardNo::parse(t).is_ok()
    {
        // Looking a person up by full ID number is itself a read of personal data.
        ctx.audit(
            ctx.entry(
                domain::audit::CoreAudit::PersonSearch,
                "citizen",
                &domain::IdCardNo::parse(t).map(|i| i.masked()).unwrap_or_default(),
            )
            .detail(format!("结果 {} 条", paged.total)),
        )
        .await?;
    }
    let rows = paged.items.iter().cloned().map(|c| CitizenRow { masked: mask(&c), c }).collect();
    render(CitizensPage {
        layout: Layout::new(&ctx, &city(&ctx), "群众信息", "/citizens"),
        rows,
        pager,
        q: q.q.unwrap_or_default(),
    })
}

#[derive(Template)]
#[template(path = "citizen.html")]
struct CitizenPage {
    layout: Layout,
    c: Citizen,
    id_shown: String,
    revealed: bool,
    phone: String,
    can_reveal: bool,
    division_full: String,
}

async fn citizen_view(ctx: RequestCtx, id: String, reveal: bool) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::ORG_CITIZENS).await?;
    let c = store::org::citizen_by_id(&state.db, &scope, &id).await?;
    let (action, detail) = if reveal {
        (domain::audit::CoreAudit::PersonRevealId, "查看完整身份证号和手机号")
    } else {
        (domain::audit::CoreAudit::PersonView, "查看群众信息（证件号已脱敏）")
    };
    ctx.audit(ctx.entry(action, "citizen", &c.id).outcome(Outcome::Success).detail(detail)).await?;
    let division_full = c
        .division_code
        .as_deref()
        .and_then(|d| domain::DivisionCode::parse(d).ok())
        .map(|d| state.config().divisions.full_name(&d))
        .unwrap_or_default();
    render(CitizenPage {
        layout: Layout::new(&ctx, &city(&ctx), &c.name, "/citizens"),
        id_shown: if reveal { c.id_card_no.clone() } else { mask(&c) },
        phone: if reveal { c.phone.clone() } else { mask_phone(&c.phone) },
        revealed: reveal,
        can_reveal: p.can(perm::ORG_CITIZENS_SENSITIVE),
        division_full,
        c,
    })
}

async fn citizen_detail(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    citizen_view(ctx, id, false).await
}

async fn citizen_reveal(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    citizen_view(ctx, id, true).await
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    layout: Layout,
    c: Citizen,
    masked: String,
    age: i32,
    division_full: String,
}

async fn my_profile(ctx: RequestCtx) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let id = p.id_card_no.clone().ok_or_else(|| AppError::NotFound("本账号关联的个人信息".into()))?;
    let c =
        store::org::citizen_by_id_card(&state.db, &id).await?.ok_or_else(|| AppError::NotFound("个人信息".into()))?;
    let idc = domain::IdCardNo::parse(&id).map_err(|e| AppError::internal(e.to_string()))?;
    let division_full = c
        .division_code
        .as_deref()
        .and_then(|d| domain::DivisionCode::parse(d).ok())
        .map(|d| state.config().divisions.full_name(&d))
        .unwrap_or_default();
    render(ProfilePage {
        layout: Layout::new(&ctx, &city(&ctx), "个人信息", "/me/profile"),
        masked: idc.masked(),
        age: idc.age_on(state.clock.today()),
        division_full,
        c,
    })
}

// ---------------------------------------------------------------- divisions and grids

/// A shape drawn in an SVG of fixed size, lon/lat projected linearly onto the box (good enough
/// for a county; no tiles needed, so it works on an offline intranet).
pub struct Shape {
    pub points: String,
    pub label: String,
    pub href: String,
    /// CSS class: "" (plain), "hl" (highlighted), "dot" (a point of interest).
    pub class: &'static str,
}

pub struct SvgMap {
    pub width: u32,
    pub height: u32,
    pub shapes: Vec<Shape>,
    /// Boundaries drawn over the shapes (towns around their grids).
    pub outlines: Vec<String>,
}

pub fn svg_map(rings: Vec<(Ring, String, String, &'static str)>, outlines: Vec<Ring>, width: u32) -> SvgMap {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (r, ..) in &rings {
        let (a, b, c, d) = r.bbox();
        x0 = x0.min(a);
        y0 = y0.min(b);
        x1 = x1.max(c);
        y1 = y1.max(d);
    }
    if rings.is_empty() || x1 <= x0 || y1 <= y0 {
        return SvgMap { width, height: 10, shapes: vec![], outlines: vec![] };
    }
    // Shrink longitudes by cos(latitude) so shapes keep their proportions.
    let k = ((y0 + y1) / 2.0).to_radians().cos();
    let scale = width as f64 / ((x1 - x0) * k);
    let height = ((y1 - y0) * scale).ceil() as u32;
    let project = |r: &Ring| {
        let pts: Vec<String> =
            r.0.iter().map(|p| format!("{:.1},{:.1}", (p.lon - x0) * k * scale, (y1 - p.lat) * scale)).collect();
        pts.join(" ")
    };
    let shapes = rings
        .iter()
        .map(|(r, label, href, class)| Shape { points: project(r), label: label.clone(), href: href.clone(), class })
        .collect();
    SvgMap { width, height, shapes, outlines: outlines.iter().map(project).collect() }
}

pub fn ring_of(g: &Grid) -> Ring {
    Ring::rect(g.min_lon, g.min_lat, g.max_lon, g.max_lat)
}

fn parse_ring(geojson: &str) -> Option<Ring> {
    let v: serde_json::Value = serde_json::from_str(geojson).ok()?;
    let coords = v.get("coordinates")?.get(0)?.as_array()?;
    let pts = coords
        .iter()
        .filter_map(|c| Some(domain::geo::Wgs84Point { lon: c.get(0)?.as_f64()?, lat: c.get(1)?.as_f64()? }))
        .collect();
    Ring::new(pts).ok()
}

pub struct TownRow {
    pub code: String,
    pub name: String,
    pub grids: Vec<Grid>,
    /// Ids of the grids whose page the user may open (within their `org.divisions` scope).
    pub open: Vec<String>,
}

impl TownRow {
    pub fn may_open(&self, g: &Grid) -> bool {
        self.open.contains(&g.id)
    }
}

#[derive(Template)]
#[template(path = "divisions.html")]
struct DivisionsPage {
    layout: Layout,
    counties: Vec<Division>,
    county: String,
    towns: Vec<TownRow>,
    map: SvgMap,
}

#[derive(serde::Deserialize, Default)]
pub struct DivisionQuery {
    county: Option<String>,
}

async fn divisions(ctx: RequestCtx, Query(q): Query<DivisionQuery>) -> PageResult {
    let state = &ctx.state;
    let mut counties = store::org::list_divisions(&state.db, Some(state.config().city.division_code.as_str())).await?;
    counties.retain(|d| d.name != "市辖区");
    let county = opt(&q.county)
        .filter(|c| counties.iter().any(|d| &d.code == c))
        .unwrap_or_else(|| counties.first().map(|d| d.code.clone()).unwrap_or_default());
    let grids = store::org::list_grids(&state.db, Some(&county)).await?;
    let mut towns: Vec<TownRow> = store::org::list_divisions(&state.db, Some(&county))
        .await?
        .into_iter()
        .map(|d| TownRow { code: d.code, name: d.name, grids: vec![], open: vec![] })
        .collect();
    // The structure is shown whole; a grid's own page only within the user's scope.
    let scope = store::org::row_scope(&state.db, ctx.user()?, perm::ORG_DIVISIONS).await?;
    let may_open = |g: &Grid| scope.contains(&g.division_code, Some(&g.id));
    for g in &grids {
        if let Some(t) = towns.iter_mut().find(|t| t.code == g.division_code) {
            if may_open(g) {
                t.open.push(g.id.clone());
            }
            t.grids.push(g.clone());
        }
    }
    let me = ctx.user()?.grid_id.clone();
    let rings = grids
        .iter()
        .map(|g| {
            let class = if Some(&g.id) == me.as_ref() { "hl" } else { "" };
            let href = if may_open(g) { format!("/grids/{}", g.id) } else { String::new() };
            (parse_ring(&g.polygon).unwrap_or_else(|| ring_of(g)), g.name.clone(), href, class)
        })
        .collect();
    // Each town's outline: the box around its grids (demo shapes tile their town).
    let outlines = towns
        .iter()
        .filter(|t| !t.grids.is_empty())
        .map(|t| {
            let b = t.grids.iter().fold((f64::MAX, f64::MAX, f64::MIN, f64::MIN), |(a, b, c, d), g| {
                (a.min(g.min_lon), b.min(g.min_lat), c.max(g.max_lon), d.max(g.max_lat))
            });
            Ring::rect(b.0, b.1, b.2, b.3)
        })
        .collect();
    render(DivisionsPage {
        layout: Layout::new(&ctx, &city(&ctx), "区划与网格", "/divisions"),
        counties,
        county,
        towns,
        map: svg_map(rings, outlines, 640),
    })
}

#[derive(Template)]
#[template(path = "grid.html")]
struct GridPage {
    layout: Layout,
    g: Grid,
    town: String,
    map: SvgMap,
    enterprises: Vec<Enterprise>,
    enterprise_total: i64,
    citizens: i64,
    keywords: String,
    can_edit: bool,
}

/// A grid within the caller's reach of `org.divisions`; a refusal is audited.
async fn visible_grid(ctx: &RequestCtx, id: &str) -> Result<Grid, AppError> {
    let scope = store::org::row_scope(&ctx.state.db, ctx.user()?, perm::ORG_DIVISIONS).await?;
    match store::org::grid_in(&ctx.state.db, &scope, id).await {
        Err(store::StoreError::Forbidden(why)) => {
            let e = ctx.entry(domain::audit::CoreAudit::AccessDenied, "grid", id).outcome(Outcome::Denied);
            ctx.audit_refusal(e.detail(why.clone())).await?;
            Err(AppError::Forbidden(why))
        }
        r => Ok(r?),
    }
}

async fn grid_detail(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let g = visible_grid(&ctx, &id).await?;
    let town = domain::DivisionCode::parse(&g.division_code)
        .map(|c| state.config().divisions.full_name(&c))
        .unwrap_or_default();
    let ring = parse_ring(&g.polygon).unwrap_or_else(|| ring_of(&g));
    // Enterprises of this grid, within what the user may see.
    let scope = store::org::row_scope(&state.db, p, perm::ORG_ENTERPRISES).await?;
    let f = EnterpriseFilter { grid_id: Some(g.id.clone()), ..Default::default() };
    let ents = if p.can(perm::ORG_ENTERPRISES) {
        store::org::list_enterprises(&state.db, &scope, &f, PageRequest::new(Some(1), Some(50))).await?
    } else {
        store::sql::Paged { items: vec![], total: 0, page: 1, per_page: 50 }
    };
    let citizens =
        store::org::list_citizens(&state.db, &RowScope::Grid(g.id.clone()), None, PageRequest::new(Some(1), Some(1)))
            .await?
            .total;
    let mut rings = vec![(ring, g.name.clone(), format!("/grids/{}", g.id), "hl")];
    for e in &ents.items {
        if let (Some(lon), Some(lat)) = (e.lon, e.lat) {
            let d = 0.0008;
            rings.push((
                Ring::rect(lon - d, lat - d, lon + d, lat + d),
                e.name.clone(),
                format!("/enterprises/{}", e.uscc),
                "dot",
            ));
        }
    }
    render(GridPage {
        layout: Layout::new(&ctx, &city(&ctx), &g.name, "/divisions"),
        keywords: g.keywords.clone(),
        can_edit: p.can(perm::ORG_GRIDS_MANAGE) && may_manage_grid(&ctx, &g),
        town,
        map: svg_map(rings, vec![], 480),
        enterprise_total: ents.total,
        enterprises: ents.items,
        citizens,
        g,
    })
}

/// A grid manager edits only their own grid; wider scopes edit any grid inside them.
fn may_manage_grid(ctx: &RequestCtx, g: &Grid) -> bool {
    let Some(p) = &ctx.principal else {
        return false;
    };
    match p.scope(perm::ORG_GRIDS_MANAGE) {
        Some(domain::auth::DataScope::All) => true,
        Some(domain::auth::DataScope::Division(d)) => g.division_code.starts_with(d.scope_prefix()),
        Some(domain::auth::DataScope::Grid(id)) => id == g.id,
        _ => false,
    }
}

#[derive(serde::Deserialize)]
pub struct KeywordsForm {
    keywords: String,
}

async fn grid_keywords(ctx: RequestCtx, Path(id): Path<String>, Form(f): Form<KeywordsForm>) -> PageResult {
    let state = &ctx.state;
    // Maintaining needs the manage scope, which is narrower than the reading one.
    let g = store::org::get_grid(&state.db, &id).await?;
    if !may_manage_grid(&ctx, &g) {
        ctx.audit(
            ctx.entry(domain::audit::CoreAudit::GridUpdate, "grid", &g.id)
                .outcome(Outcome::Denied)
                .detail("不在本人网格范围内"),
        )
        .await?;
        return Err(AppError::Forbidden("只能维护本人负责的网格".into()).into());
    }
    let keywords: Vec<String> =
        f.keywords.lines().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
    if keywords.iter().any(|k| k.chars().count() < 2) {
        return Err(AppError::invalid("keywords", "每个地址关键字至少2个字").into());
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    store::org::update_grid_keywords(&mut tx, now, &g.id, &keywords).await?;
    let detail = format!("地址关键字：{} → {}", g.keywords.replace('\n', "、"), keywords.join("、"));
    store::audit::append(&mut tx, now, ctx.entry(domain::audit::CoreAudit::GridUpdate, "grid", &g.id).detail(detail))
        .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(&format!("/grids/{}", g.id), "地址关键字已保存。", state.secure_cookies))
}

// ---------------------------------------------------------------- dashboard

pub struct Bar {
    pub label: String,
    pub value: i64,
    pub width: u32,
    pub y: u32,
    pub extra: String,
}

pub(crate) fn bars<T>(
    items: &[T],
    label: impl Fn(&T) -> String,
    value: impl Fn(&T) -> i64,
    extra: impl Fn(&T) -> String,
) -> Vec<Bar> {
    let max = items.iter().map(&value).max().unwrap_or(1).max(1);
    items
        .iter()
        .enumerate()
        .map(|(i, it)| Bar {
            label: label(it),
            value: value(it),
            width: (value(it) * 360 / max) as u32,
            y: i as u32 * 28,
            extra: extra(it),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    enterprises: i64,
    employees: i64,
    citizens: i64,
    grids: i64,
    county_bars: Vec<Bar>,
    industry_bars: Vec<Bar>,
    counties: Vec<CountyCount>,
    industries: Vec<IndustryCount>,
}

async fn dashboard(ctx: RequestCtx) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::DASHBOARD_CITY).await?;
    let counties = store::org::enterprise_counties(&state.db, &scope).await?;
    let industries = store::org::enterprise_industries(&state.db, &scope).await?;
    let counts = store::org::counts(&state.db).await?;
    render(DashboardPage {
        layout: Layout::new(&ctx, &city(&ctx), "全市营商环境概览", "/dashboard"),
        enterprises: counties.iter().map(|c| c.enterprises).sum(),
        employees: counties.iter().map(|c| c.employees).sum(),
        citizens: counts.citizens,
        grids: counts.grids,
        county_bars: bars(&counties, |c| c.name.clone(), |c| c.enterprises, |c| format!("从业 {} 人", c.employees)),
        industry_bars: bars(
            &industries,
            |i| i.industry.clone(),
            |i| i.enterprises,
            |i| format!("从业 {} 人", i.employees),
        ),
        counties,
        industries,
    })
}
