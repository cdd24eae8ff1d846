//! 满薪满益 pages: 在建项目 (construction projects under wage monitoring) with their special
//! account, deposit, workers, monthly payroll against payments, signals, complaints and alerts;
//! the statistics page. Staff see projects in their scope; a contractor sees its own.

use crate::access::{Access, RequestCtx, Routes};
use crate::error::{AppError, PageResult};
use crate::export::{Cell, ExportFormat, Table};
use crate::layout::{Layout, Pager, fmt_millis};
use crate::pages::{opt, render};
use askama::Template;
use axum::extract::{Path, Query};
use axum::routing::get;
use domain::Money;
use domain::auth::perm;
use domain::rules::Level;
use domain::wages::{DepositMode, ProjectStatus, SignalKind};
use store::alerts::AlertRow;
use store::sql::PageRequest;
use store::wages::{AccountView, ComplaintRow, MonthLine, ProjectFilter, ProjectRow, SignalRow, Totals};

pub fn routes() -> Routes {
    Routes::default()
        .add("/wages", Access::Perm(perm::WAGES_VIEW), get(list))
        .add("/wages/export", Access::Perm(perm::WAGES_VIEW), get(export))
        .add("/wages/stats", Access::Perm(perm::WAGES_VIEW), get(stats))
        .add("/wages/projects/{code}", Access::Perm(perm::WAGES_VIEW), get(detail))
        .add("/wages/projects/{code}/notice-board", Access::Perm(perm::WAGES_VIEW), get(notice_board))
}

/// Fen as grouped yuan, `1,234.50`; takes fields by value or by reference (templates).
pub fn yuan(fen: impl std::borrow::Borrow<i64>) -> String {
    Money::from_fen(*fen.borrow()).to_string()
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    division: Option<String>,
    page: Option<u32>,
    format: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> ProjectFilter {
        ProjectFilter { q: opt(&self.q), status: opt(&self.status), division: opt(&self.division) }
    }
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![("q", v(&self.q)), ("status", v(&self.status)), ("division", v(&self.division))]
    }
}

pub struct Line {
    pub p: ProjectRow,
    pub status: &'static str,
    pub value: String,
    pub level: Option<Level>,
    pub alerts: i64,
}

#[derive(Template)]
#[template(path = "wages/list.html")]
struct ListPage {
    layout: Layout,
    items: Vec<Line>,
    pager: Pager,
    q: String,
    status: String,
    division: String,
    statuses: Vec<(&'static str, &'static str)>,
    divisions: Vec<(String, String)>,
    can_import: bool,
}

async fn lines(ctx: &RequestCtx, rows: Vec<ProjectRow>) -> Result<Vec<Line>, AppError> {
    let levels = store::wages::open_alert_levels(&ctx.state.db).await?;
    Ok(rows
        .into_iter()
        .map(|p| {
            let (level, alerts) = levels.get(&p.code).map_or((None, 0), |(l, n)| (Some(*l), *n));
            Line { status: p.status.label(), value: yuan(p.contract_value_fen), level, alerts, p }
        })
        .collect())
}

async fn list(ctx: RequestCtx, Query(q): Query<ListQuery>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::WAGES_VIEW).await?;
    let paged = store::wages::list_projects(&state.db, &scope, &q.filter(), PageRequest::new(q.page, None)).await?;
    let pager = Pager::new(&paged, "/wages", &q.pairs());
    let items = lines(&ctx, paged.items).await?;
    let divisions = store::org::list_divisions(&state.db, Some(state.config().city.division_code.as_str()))
        .await?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect();
    render(ListPage {
        layout: Layout::new(&ctx, &state.config().city.name, "在建项目", "/wages"),
        items,
        pager,
        q: q.q.clone().unwrap_or_default(),
        status: q.status.clone().unwrap_or_default(),
        division: q.division.clone().unwrap_or_default(),
        statuses: ProjectStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        divisions,
        can_import: p.can(perm::WAGES_IMPORT),
    })
}

async fn export(ctx: RequestCtx, Query(q): Query<ListQuery>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let format = ExportFormat::parse(q.format.as_deref())
        .ok_or_else(|| AppError::invalid("format", "导出格式应为 csv 或 xlsx"))?;
    let scope = store::org::row_scope(&state.db, p, perm::WAGES_VIEW).await?;
    let paged = store::wages::list_projects(&state.db, &scope, &q.filter(), PageRequest::all()).await?;
    let items = lines(&ctx, paged.items).await?;
    let rows: Vec<Vec<Cell>> = items
        .into_iter()
        .map(|l| {
            vec![
                l.p.code.into(),
                l.p.name.into(),
                l.p.division_code.into(),
                l.status.into(),
                l.p.contractor_name.into(),
                l.p.contractor_uscc.into(),
                Cell::Money(Money::from_fen(l.p.contract_value_fen)),
                l.p.start_on.unwrap_or_default().into(),
                l.level.map_or("", Level::label).into(),
                Cell::Int(l.alerts),
            ]
        })
        .collect();
    ctx.audit(
        ctx.entry(domain::wages::WagesAudit::Export, "wage_project", "list")
            .detail(format!("导出在建项目 {} 个", rows.len())),
    )
    .await?;
    Ok(Table {
        title: "在建项目".into(),
        headers: vec![
            "项目编号",
            "项目名称",
            "区划",
            "状态",
            "总包单位",
            "总包信用代码",
            "合同金额（元）",
            "开工日期",
            "最高预警",
            "未销号预警",
        ],
        rows,
    }
    .into_response(format))
}

pub struct WorkerLine {
    pub name: String,
    pub id_card: String,
    pub team: String,
    pub bank: String,
    pub registered: bool,
    pub contract: bool,
    pub joined_on: String,
    pub left_on: String,
    pub settled_on: String,
}

pub struct AlertLine {
    pub a: AlertRow,
    pub indicator: String,
    pub level: &'static str,
    pub status: &'static str,
    pub opened: String,
}

impl AlertLine {
    /// An alert as a line of a subject's page: the indicator's name and Chinese labels.
    pub fn new(cfg: &store::config::CityConfig, a: AlertRow) -> Self {
        AlertLine {
            indicator: cfg.indicator(&a.indicator).map(|i| i.name.clone()).unwrap_or_else(|| a.indicator.clone()),
            level: a.level.label(),
            status: a.status.label(),
            opened: fmt_millis(&Some(a.opened_at)),
            a,
        }
    }
}

#[derive(Template)]
#[template(path = "wages/project.html")]
struct DetailPage {
    layout: Layout,
    p: ProjectRow,
    status: &'static str,
    account: Option<AccountView>,
    deposit: Option<(String, String, String, String, String)>,
    months: Vec<MonthLine>,
    workers: Vec<WorkerLine>,
    signals: Vec<(SignalRow, &'static str)>,
    complaints: Vec<ComplaintRow>,
    alerts: Vec<AlertLine>,
    facts: Vec<(String, String)>,
    can_alerts: bool,
    contracts: Vec<(store::wages::contracts::ContractRow, String)>,
    can_contract: bool,
    /// Workers on site without a pending or signed contract: (ID number, name, masked).
    uncontracted: Vec<(String, String, String)>,
    wage_types: Vec<(&'static str, &'static str)>,
    term_kinds: Vec<(&'static str, &'static str)>,
    refund: crate::wages::refund::RefundView,
    /// The e-contract form as typed and what is wrong with it (after a refused submission).
    contract_form: ContractForm,
    contract_errors: crate::layout::FormErrors,
}

/// What the contractor typed into the e-contract form, kept when it is refused.
#[derive(Debug, Clone, Default)]
pub struct ContractForm {
    pub id_card_no: String,
    pub job: String,
    pub wage_type: String,
    pub wage_rate: String,
    pub start_on: String,
    pub end_on: String,
    pub terms: String,
    pub kind: String,
    pub task: String,
    pub probation_months: String,
}

/// ID numbers on pages: first 6 and last 4 digits, unless the user may see them in full.
fn mask_id(card: &str, full: bool) -> String {
    match domain::IdCardNo::parse(card) {
        Ok(id) if !full => id.masked(),
        _ => card.to_string(),
    }
}

#[derive(Template)]
#[template(path = "wages/notice_board.html")]
struct NoticeBoardPage {
    layout: Layout,
    row: ProjectRow,
    industry: String,
    minimum: String,
    pay_day: i64,
    channels: domain::wages::RightsChannels,
    today: String,
    refund: Option<store::wages::refund::RefundRow>,
}

/// 维权信息告示牌 (条例 art. 34): generated from what the platform holds — the parties, the
/// 劳资专管员, the minimum wage in force in the site's division, the pay day and the complaint,
/// arbitration and legal-aid channels — for the general contractor to print and post on site.
async fn notice_board(ctx: RequestCtx, Path(code): Path<String>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::WAGES_VIEW).await?;
    let row = store::wages::project(&state.db, &scope, &code).await?;
    let cfg = state.config();
    let today = domain::clock::local(state.clock.now()).date();
    let params = &cfg.city.wages;
    let minimum = params.minimum_on(&row.division_code, domain::wages::first_of_month(today));
    // The refund commitment while it is publicised (人社部发〔2021〕65号 art. 22 ¶1).
    let mut conn = state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let refund = store::wages::refund::of_project(&mut conn, &row.id)
        .await?
        .filter(|r| r.status == domain::wages::refund::RefundStatus::Publicising);
    drop(conn);
    // 相关行业工程建设主管部门: housing and construction.
    let industry = cfg
        .departments
        .iter()
        .find(|d| d.code == "zjj")
        .map(|d| d.name.clone())
        .unwrap_or_else(|| "住房和城乡建设主管部门".into());
    render(NoticeBoardPage {
        layout: Layout::new(&ctx, &cfg.city.name, "维权信息告示牌", "/wages"),
        industry,
        minimum: Money::from_fen(minimum).to_yuan_string(),
        pay_day: row.pay_day,
        channels: params.channels.clone(),
        today: today.to_string(),
        refund,
        row,
    })
}

async fn detail(ctx: RequestCtx, Path(code): Path<String>) -> PageResult {
    // A new contract starts today as a fixed-term one unless the employer says otherwise.
    let form = ContractForm {
        start_on: domain::clock::local(ctx.state.clock.now()).date().to_string(),
        kind: "fixed".into(),
        ..ContractForm::default()
    };
    show_detail(&ctx, &code, form, crate::layout::FormErrors::default()).await
}

/// The project page; `errors` are the e-contract form's, shown beside its fields with what was
/// typed (422).
pub(crate) async fn show_detail(
    ctx: &RequestCtx,
    code: &str,
    contract_form: ContractForm,
    contract_errors: crate::layout::FormErrors,
) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::WAGES_VIEW).await?;
    let row = store::wages::project(&state.db, &scope, code).await?;
    let full_ids = p.can(perm::ORG_CITIZENS_SENSITIVE);
    let can_contract = p.can(perm::WAGES_CONTRACT) && p.uscc.as_deref() == Some(row.contractor_uscc.as_str());
    ctx.audit(
        ctx.entry(domain::wages::WagesAudit::View, "wage_project", &row.code).detail(format!("查看项目“{}”", row.name)),
    )
    .await?;
    let account = store::wages::account(&state.db, &row.id).await?;
    let deposit = store::wages::deposit(&state.db, &row.id).await?.map(|d| {
        (
            d.mode.label().to_string(),
            yuan(d.required),
            yuan(d.paid),
            if d.drawn > 0 {
                format!("{}（{}）", yuan(d.drawn), d.drawn_on.map(|x| x.to_string()).unwrap_or_default())
            } else {
                "—".into()
            },
            yuan(d.topped_up),
        )
    });
    let deposit = deposit
        .or_else(|| Some((DepositMode::None.label().to_string(), "—".into(), "—".into(), "—".into(), "—".into())));
    let months = store::wages::months(&state.db, &row.id).await?;
    let contracts = store::wages::contracts::for_project(&state.db, &row.id).await?;
    let all_workers = store::wages::workers(&state.db, &row.id).await?;
    let uncontracted = if can_contract {
        all_workers
            .iter()
            .filter(|w| w.left_on.is_none())
            .filter(|w| !contracts.iter().any(|c| c.id_card_no == w.id_card_no && !c.is_declined()))
            .map(|w| (w.id_card_no.clone(), w.name.clone(), mask_id(&w.id_card_no, false)))
            .collect()
    } else {
        vec![]
    };
    let contracts = contracts
        .into_iter()
        .map(|c| {
            let s = domain::wages::contract::standard(c.wage_type(), c.wage_rate_fen);
            (c, s)
        })
        .collect();
    let workers = all_workers
        .into_iter()
        .map(|w| WorkerLine {
            id_card: mask_id(&w.id_card_no, full_ids),
            name: w.name,
            team: w.team,
            bank: w.bank,
            registered: w.registered != 0,
            contract: w.contract != 0,
            joined_on: w.joined_on,
            left_on: w.left_on.unwrap_or_default(),
            settled_on: w.settled_on.unwrap_or_default(),
        })
        .collect();
    let signals = store::wages::signals(&state.db, &row)
        .await?
        .into_iter()
        .map(|s| {
            let label = SignalKind::parse(&s.kind).map(|k| k.label()).unwrap_or("");
            (s, label)
        })
        .collect();
    let complaints = store::wages::complaints(&state.db, &row).await?;
    let alerts = store::wages::project_alerts(&state.db, &row.code)
        .await?
        .into_iter()
        .map(|a| AlertLine::new(&state.config(), a))
        .collect();
    // The facts the indicators read today, named as the schema documents them.
    let cal = state.calendar();
    let mut conn = state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let facts =
        store::wages::facts_of(&mut conn, &row.code, state.clock.today(), &cal, &state.config().city.wages).await?;
    let refund = store::wages::refund::of_project(&mut conn, &row.id).await?;
    drop(conn);
    let refund = crate::wages::refund::RefundView::of(p, &row, refund, &state.config().city.wages.deposit_department);
    let facts = match state.config().schemas.get("wage_project") {
        Some(schema) => schema
            .fields()
            .iter()
            .filter_map(|f| {
                facts.get(&f.name).map(|v| (domain::expr::field_label(f), crate::pages::workflow::fact_text(f, v)))
            })
            .collect(),
        None => vec![],
    };
    render(DetailPage {
        layout: Layout::new(ctx, &state.config().city.name, &row.name, "/wages"),
        status: row.status.label(),
        p: row,
        account,
        deposit,
        months,
        workers,
        signals,
        complaints,
        alerts,
        facts,
        can_alerts: p.can(perm::ALERTS_VIEW),
        contracts,
        can_contract,
        uncontracted,
        wage_types: domain::wages::contract::WageType::ALL.iter().map(|t| (t.as_str(), t.label())).collect(),
        term_kinds: domain::wages::contract::TermKind::ALL.iter().map(|t| (t.as_str(), t.label())).collect(),
        refund,
        contract_form,
        contract_errors: contract_errors.clone(),
    })
    .map(|mut r| {
        if !contract_errors.is_empty() {
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        }
        r
    })
}

#[derive(Template)]
#[template(path = "wages/stats.html")]
struct StatsPage {
    layout: Layout,
    t: Totals,
    rows: Vec<(&'static str, String, &'static str)>,
}

async fn stats(ctx: RequestCtx) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::WAGES_VIEW).await?;
    let t = store::wages::totals(&state.db, &scope).await?;
    let n = |v: i64| v.to_string();
    let rows = vec![
        ("监管项目", n(t.projects), "纳入工资支付监测的工程建设项目"),
        ("其中在建", n(t.projects_building), "状态为在建的项目"),
        ("总包企业", n(t.contractors), "项目总包单位（去重）"),
        ("实名登记工人", n(t.workers), "服务的农民工人次（按项目计）"),
        ("签订劳动合同", n(t.contracts), "已签劳动合同（含电子合同）的工人"),
        ("电子劳动合同", n(t.e_contracts), "在平台上由用人单位和工人双方确认、SM3 存证的合同"),
        ("注册企业用户", n(t.enterprise_users), "在平台开通账号的企业（全市）"),
        ("代发工资（元）", yuan(t.wages_paid_fen), "银行代发流水合计"),
        ("欠薪投诉", n(t.complaints), "含 12345 热线、来访、平台投诉"),
        ("追回欠薪（元）", yuan(t.recovered_fen), "投诉办结追回金额合计"),
        ("告知函", n(t.notices), "预警处置发出的告知函"),
        ("整改通知单", n(t.rectification_orders), "预警处置发出的整改通知单"),
    ];
    render(StatsPage {
        layout: Layout::new(&ctx, &state.config().city.name, "满薪满益统计", "/wages/stats"), t, rows
    })
}
