//! The people of 满薪满益: a worker's own page (我的工资: contract, wage standard, monthly
//! confirmation, payments, complaints — phone-sized), electronic labor contracts between the
//! contractor and its workers, and an employer's own alerts and notices.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::form::FormData;
use crate::layout::{FormErrors, Layout, fmt_millis};
use crate::pages::{opt, render};
use crate::wages::pages::{AlertLine, yuan};
use askama::Template;
use axum::extract::Path;
use axum::routing::{get, post};
use domain::auth::perm;
use domain::wages::contract::{WageType, earned, standard};
use domain::wages::ingest::{month_label, parse_month};
use store::org::RowScope;
use store::wages::contracts::{Actor, ContractRow, Issue, PaymentLine, WorkerJob, WorkerMonth};

pub fn routes() -> Routes {
    Routes::default()
        .add("/me/wages", Access::Perm(perm::SELF_CITIZEN), get(my_wages))
        .add("/me/wages/contracts/{id}", Access::Perm(perm::SELF_CITIZEN), post(respond))
        .add("/me/wages/months", Access::Perm(perm::SELF_CITIZEN), post(confirm_month))
        .add("/me/wages/complaints", Access::Perm(perm::SELF_CITIZEN), post(complain))
        .add("/wages/projects/{code}/contracts", Access::Perm(perm::WAGES_CONTRACT), post(issue))
        .add("/wages/contracts/{id}", Access::Authenticated, get(contract))
        .add("/wages/contracts/{id}/pdf", Access::Authenticated, get(contract_pdf))
        .add("/wages/notices", Access::Perm(perm::SELF_ENTERPRISE), get(notices))
        .add("/wages/notices/{id}", Access::Perm(perm::SELF_ENTERPRISE), get(notice))
        .add("/wages/notices/{id}/pdf", Access::Perm(perm::SELF_ENTERPRISE), get(notice_pdf))
}

fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s.trim(), &time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// Yuan typed by a person (`300`, `300.5`, `1,200.00`) as fen.
fn parse_yuan(s: &str) -> Option<i64> {
    let s: String = s.trim().chars().filter(|c| *c != ',' && *c != '，').collect();
    let m = domain::Money::parse_yuan(&s).ok()?;
    Some(m.fen())
}

// ---------------------------------------------------------------- worker

pub struct MonthView {
    pub key: String,
    pub label: String,
    pub days: i64,
    pub pieces: i64,
    /// 应发, 代扣, 实发 (the payslip of art. 15 ¶3), 到账.
    pub due: String,
    pub deductions: String,
    pub net: String,
    pub paid: String,
    /// What the contract's wage standard gives for the month's attendance.
    pub by_contract: String,
    pub short: bool,
    pub has_payroll: bool,
    pub confirmed: bool,
    pub disputed: bool,
}

pub struct JobView {
    pub job: WorkerJob,
    pub contracts: Vec<(ContractRow, String)>,
    pub months: Vec<MonthView>,
    pub payments: Vec<PaymentLine>,
}

#[derive(Template)]
#[template(path = "wages/me.html")]
struct MyWagesPage {
    layout: Layout,
    jobs: Vec<JobView>,
    errors: FormErrors,
    complaints: Vec<(String, String, String, String)>,
}

fn month_view(m: &WorkerMonth, contract: Option<&ContractRow>) -> MonthView {
    let by_contract =
        contract.filter(|c| c.is_signed()).map(|c| earned(c.wage_type(), c.wage_rate_fen, m.days, m.pieces));
    MonthView {
        key: m.month.to_string(),
        label: month_label(m.month),
        days: m.days,
        pieces: m.pieces,
        due: m.due_fen.map(yuan).unwrap_or_else(|| "—".into()),
        deductions: yuan(m.deductions_fen),
        net: m.net_fen().map(yuan).unwrap_or_else(|| "—".into()),
        paid: yuan(m.paid_fen),
        by_contract: by_contract.map(yuan).unwrap_or_else(|| "—".into()),
        short: m.net_fen().is_some_and(|n| m.paid_fen < n),
        has_payroll: m.due_fen.is_some(),
        confirmed: m.confirmed,
        disputed: m.disputed,
    }
}

async fn show_mine(ctx: &RequestCtx, errors: FormErrors) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let card = p.id_card_no.clone().ok_or_else(|| AppError::Forbidden("仅限实名登记的个人用户".into()))?;
    let contracts = store::wages::contracts::for_id_card(&state.db, &card).await?;
    let mut jobs = vec![];
    for job in store::wages::contracts::jobs_of(&state.db, &card).await? {
        let mine: Vec<ContractRow> = contracts.iter().filter(|c| c.worker_id == job.worker_id).cloned().collect();
        let signed = mine.iter().find(|c| c.is_signed());
        let months = store::wages::contracts::worker_months(&state.db, &job.worker_id)
            .await?
            .iter()
            .map(|m| month_view(m, signed))
            .collect();
        let payments = store::wages::contracts::worker_payments(&state.db, &job.worker_id).await?;
        let contracts = mine
            .into_iter()
            .map(|c| {
                let s = standard(c.wage_type(), c.wage_rate_fen);
                (c, s)
            })
            .collect();
        jobs.push(JobView { job, contracts, months, payments });
    }
    // The worker's complaints and where each stands (the case steps of domain::wages::complaint).
    let complaints = store::wages::complaints::of_worker(&state.db, &card)
        .await?
        .into_iter()
        .map(|c| {
            let last = c.steps.last().map(|s| s.note.clone()).filter(|n| !n.is_empty());
            let status = match (c.stage, last) {
                (domain::wages::complaint::Stage::Replied | domain::wages::complaint::Stage::Closed, Some(n)) => {
                    format!("{}：{n}", c.stage.label())
                }
                (s, _) => s.label().to_string(),
            };
            (c.number, c.project_name.unwrap_or_default(), yuan(c.amount_fen), status)
        })
        .collect();
    let bad = !errors.0.is_empty();
    let mut r = render(MyWagesPage {
        layout: Layout::new(ctx, &state.config().city.name, "我的工资", "/me/wages"),
        jobs,
        errors,
        complaints,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn my_wages(ctx: RequestCtx) -> PageResult {
    show_mine(&ctx, FormErrors::default()).await
}

/// Ends a worker's action: commit and back to 我的工资 with `message`, or, when the store
/// refused it, the page again with the reason (nothing written).
async fn conclude<T>(
    ctx: &RequestCtx,
    tx: store::Tx,
    r: Result<T, store::StoreError>,
    message: impl FnOnce(T) -> String,
) -> PageResult {
    match r {
        Ok(v) => {
            tx.commit().await?;
            if let Some(w) = &ctx.state.job_waker {
                w.notify_one();
            }
            Ok(redirect_with_flash("/me/wages", &message(v), ctx.state.secure_cookies))
        }
        Err(store::StoreError::Invalid { field, message }) => {
            drop(tx);
            let mut errors = FormErrors::default();
            errors.add(&field, message);
            show_mine(ctx, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

fn card_of(ctx: &RequestCtx) -> Result<String, AppError> {
    ctx.user()?.id_card_no.clone().ok_or_else(|| AppError::Forbidden("仅限实名登记的个人用户".into()))
}

async fn respond(ctx: RequestCtx, Path(id): Path<String>, data: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let card = card_of(&ctx)?;
    let accept = match data.get("action").as_str() {
        "accept" => true,
        "decline" => false,
        _ => return Err(AppError::invalid("action", "未知操作").into()),
    };
    let cal = state.calendar();
    let actor = Actor { cfg: &state.config(), cal: &cal, now: state.clock.now(), by: (&p.user_id, &p.display_name) };
    let mut tx = state.db.begin().await?;
    let r = store::wages::contracts::respond(&mut tx, &actor, &id, &card, accept, &data.get("reason")).await;
    conclude(&ctx, tx, r, |c| {
        if accept {
            format!("劳动合同 {} 已签订，双方可随时查看。", c.contract_no)
        } else {
            "已告知用人单位您不同意该合同。".to_string()
        }
    })
    .await
}

async fn confirm_month(ctx: RequestCtx, data: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let card = card_of(&ctx)?;
    let month = parse_month(&data.get("month")).ok_or_else(|| AppError::invalid("month", "月份无效"))?;
    let cal = state.calendar();
    let actor = Actor { cfg: &state.config(), cal: &cal, now: state.clock.now(), by: (&p.user_id, &p.display_name) };
    let mut tx = state.db.begin().await?;
    let r = store::wages::contracts::confirm_month(&mut tx, &actor, &data.get("worker_id"), &card, month).await;
    conclude(&ctx, tx, r, |()| format!("已确认{}出勤与工资。", month_label(month))).await
}

async fn complain(ctx: RequestCtx, data: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let card = card_of(&ctx)?;
    let month = opt(&Some(data.get("month"))).and_then(|m| parse_month(&m));
    let amount = match opt(&Some(data.get("amount"))) {
        None => 0,
        Some(s) => match parse_yuan(&s) {
            Some(f) => f,
            None => {
                let mut e = FormErrors::default();
                e.add("amount", "金额请填写数字（元），如 3600 或 3600.50");
                return show_mine(&ctx, e).await;
            }
        },
    };
    let cal = state.calendar();
    let actor = Actor { cfg: &state.config(), cal: &cal, now: state.clock.now(), by: (&p.user_id, &p.display_name) };
    let mut tx = state.db.begin().await?;
    let (worker, text) = (data.get("worker_id"), data.get("text"));
    let r = store::wages::contracts::complain(&mut tx, &actor, &worker, &card, month, amount, &text).await;
    let days = state.config().city.wages.complaint_contact_days;
    conclude(&ctx, tx, r, |no| {
        format!("投诉已受理，编号 {no}。人社部门会在 {days} 个工作日内联系您，办理进展会通知您。")
    })
    .await
}

// ---------------------------------------------------------------- employer: contracts

async fn issue(ctx: RequestCtx, Path(code): Path<String>, data: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let scope = store::org::row_scope(&state.db, p, perm::WAGES_CONTRACT).await?;
    let project = store::wages::project(&state.db, &scope, &code).await?;
    // Only the contractor signs with its workers; staff see contracts but do not issue them.
    if !matches!(&scope, RowScope::Enterprise(u) if *u == project.contractor_uscc) {
        return Err(AppError::Forbidden("只有项目总包单位可以与工人签订劳动合同".into()).into());
    }
    let back = format!("/wages/projects/{code}#contracts");
    // A refused form comes back with its errors beside the fields and what was typed kept.
    let form = crate::wages::pages::ContractForm {
        id_card_no: data.get("id_card_no"),
        job: data.get("job"),
        wage_type: data.get("wage_type"),
        wage_rate: data.get("wage_rate"),
        start_on: data.get("start_on"),
        end_on: data.get("end_on"),
        terms: data.get("terms"),
        kind: data.get("kind"),
        task: data.get("task"),
        probation_months: data.get("probation_months"),
    };
    let refuse = |field: &str, msg: &str| {
        let mut e = FormErrors::default();
        e.add(field, msg);
        crate::wages::pages::show_detail(&ctx, &code, form.clone(), e)
    };
    let Some(kind) = domain::wages::contract::TermKind::parse(&data.get("kind")) else {
        return refuse("kind", "请选择合同期限类型").await;
    };
    let probation_months = match data.get("probation_months").trim() {
        "" => 0,
        s => match s.parse::<u8>() {
            Ok(n) if n <= 6 => n,
            _ => return refuse("probation_months", "试用期请填写 0 到 6 之间的整月数").await,
        },
    };
    let Some(wage_type) = WageType::parse(&data.get("wage_type")) else {
        return refuse("wage_type", "请选择工资形式").await;
    };
    let Some(rate) = parse_yuan(&data.get("wage_rate")) else {
        return refuse("wage_rate", "工资标准请填写金额（元），最多两位小数").await;
    };
    let Some(start_on) = parse_date(&data.get("start_on")) else {
        return refuse("start_on", "请填写合同起始日期，如 2026-12-01").await;
    };
    let end_on = match opt(&Some(data.get("end_on"))) {
        None => None,
        Some(s) => match parse_date(&s) {
            Some(d) => Some(d),
            None => {
                return refuse(
                    "end_on",
                    "合同终止日期格式应为 2027-06-30；无固定期限和以完成一定工作任务为期限的请留空",
                )
                .await;
            }
        },
    };
    let i = Issue {
        id_card_no: data.get("id_card_no"),
        job: data.get("job"),
        wage_type,
        wage_rate_fen: rate,
        start_on,
        end_on,
        terms: data.get("terms"),
        kind,
        task: data.get("task"),
        probation_months,
    };
    let mut tx = state.db.begin().await?;
    match store::wages::contracts::issue(&mut tx, state.clock.now(), &project, &i, (&p.user_id, &p.display_name)).await
    {
        Ok(c) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &back,
                &format!("劳动合同 {} 已发给{}，待本人确认。", c.contract_no, c.worker_name),
                state.secure_cookies,
            ))
        }
        Err(store::StoreError::Invalid { field, message }) => {
            drop(tx);
            refuse(&field, &message).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "wages/contract.html")]
struct ContractPage {
    layout: Layout,
    c: ContractRow,
    id_card: String,
    standard: String,
    employer_at: String,
    worker_at: String,
    seal: Option<bool>,
    nav: String,
}

/// A contract is shown to the worker it names, the contractor, and staff who may see the
/// project; every view is audited.
/// A signed contract's registered copy: the labor-administration department (`[wages]
/// deposit_department`, which keeps the e-contracts) registers the signed terms as a sealed
/// document with a QR payload, once; it prints as an A4 PDF. For the two parties and the staff
/// who may see the contract.
async fn contract_pdf(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let state = &ctx.state;
    let c = store::wages::contracts::get(&state.db, &id).await?;
    let party = contract_visible(&ctx, &c).await?;
    // The copy names the worker by full ID number: the parties, and staff allowed to see full
    // numbers, only.
    if !party && !ctx.user()?.can(perm::ORG_CITIZENS_SENSITIVE) {
        return Err(AppError::Forbidden(
            "登记件载有劳动者完整身份证号，仅合同双方和有权查看完整身份信息的人员可以下载".into(),
        )
        .into());
    }
    ctx.audit(
        ctx.entry(domain::wages::WagesAudit::ContractView, "wage_contract", &c.contract_no)
            .detail(format!("下载{}与{}的劳动合同登记件", c.employer_name, c.worker_name)),
    )
    .await?;
    let Some(digest) = c.digest.clone().filter(|_| c.is_signed()) else {
        return Err(AppError::Conflict {
            field: "status".into(), message: "合同双方确认签订后才有登记件".into()
        }
        .into());
    };
    let key = state.seal_key.clone().ok_or_else(|| AppError::internal("印章主密钥未加载"))?;
    let cfg = state.config();
    let source = format!("contract:{}", c.id);
    let mut tx = state.db.begin().await?;
    let issued = match store::documents::latest_of_in(&mut tx, &source).await? {
        Some(i) => i,
        None => {
            let mut paragraphs = vec![
                format!("合同编号：{}", c.contract_no),
                format!("甲方（用人单位）：{}（{}）", c.employer_name, c.employer_uscc),
                format!("乙方（劳动者）：{}（{}）", c.worker_name, c.id_card_no),
                format!("工作地点：{}（{}）", c.project_name, c.project_code),
                format!("工作岗位：{}", c.job),
                format!("劳动报酬：{}，每月 {} 日发放上月工资", standard(c.wage_type(), c.wage_rate_fen), c.pay_day),
                format!("合同期限：{}", c.term_text()),
            ];
            if !c.terms.is_empty() {
                paragraphs.push(format!("其他约定：{}", c.terms));
            }
            paragraphs.push(format!(
                "甲方于 {} 发出并确认，乙方于 {} 确认签订。全部条款和双方确认时间的 SM3 存证摘要：{digest}。",
                fmt_millis(&Some(c.employer_confirmed_at)),
                fmt_millis(&c.worker_confirmed_at)
            ));
            store::documents::issue(
                &mut tx,
                state.clock.now(),
                &cfg,
                &key,
                store::documents::Draft {
                    kind: "labor_contract_record",
                    word: "劳合",
                    title: "电子劳动合同登记件",
                    department: &cfg.city.wages.deposit_department,
                    addressee: format!("{}、{}", c.employer_name, c.worker_name),
                    addressee_id: None,
                    paragraphs,
                    source,
                },
            )
            .await?
        }
    };
    tx.commit().await?;
    crate::pages::documents::pdf(&ctx, &issued)
}

/// The contract's two parties and the staff whose scope holds its project; anyone else is told
/// it does not exist. Whether the caller is one of the parties.
async fn contract_visible(ctx: &RequestCtx, c: &store::wages::contracts::ContractRow) -> Result<bool, AppError> {
    let p = ctx.user()?;
    let is_worker = p.id_card_no.as_deref() == Some(c.id_card_no.as_str());
    let is_employer = p.uscc.as_deref() == Some(c.employer_uscc.as_str());
    let is_staff = if p.can(perm::WAGES_VIEW) && !is_employer {
        let scope = store::org::row_scope(&ctx.state.db, p, perm::WAGES_VIEW).await?;
        store::wages::project(&ctx.state.db, &scope, &c.project_code).await.is_ok()
    } else {
        false
    };
    if !(is_worker || is_employer || is_staff) {
        return Err(AppError::NotFound("劳动合同".into()));
    }
    Ok(is_worker || is_employer)
}

async fn contract(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let c = store::wages::contracts::get(&state.db, &id).await?;
    let is_worker = p.id_card_no.as_deref() == Some(c.id_card_no.as_str());
    let is_employer = p.uscc.as_deref() == Some(c.employer_uscc.as_str());
    let is_staff = if p.can(perm::WAGES_VIEW) && !is_employer {
        let scope = store::org::row_scope(&state.db, p, perm::WAGES_VIEW).await?;
        store::wages::project(&state.db, &scope, &c.project_code).await.is_ok()
    } else {
        false
    };
    if !(is_worker || is_employer || is_staff) {
        return Err(AppError::NotFound("劳动合同".into()).into());
    }
    ctx.audit(
        ctx.entry(domain::wages::WagesAudit::ContractView, "wage_contract", &c.contract_no)
            .detail(format!("查看{}与{}的劳动合同", c.employer_name, c.worker_name)),
    )
    .await?;
    let full = is_worker || p.can(perm::ORG_CITIZENS_SENSITIVE);
    let id_card = match domain::IdCardNo::parse(&c.id_card_no) {
        Ok(id) if !full => id.masked(),
        _ => c.id_card_no.clone(),
    };
    render(ContractPage {
        layout: Layout::new(&ctx, &state.config().city.name, &format!("劳动合同 {}", c.contract_no), ""),
        standard: standard(c.wage_type(), c.wage_rate_fen),
        employer_at: fmt_millis(&Some(c.employer_confirmed_at)),
        worker_at: fmt_millis(&c.worker_confirmed_at),
        seal: c.seal_holds(),
        nav: if is_worker { "/me/wages".into() } else { format!("/wages/projects/{}#contracts", c.project_code) },
        id_card,
        c,
    })
}

// ---------------------------------------------------------------- employer: alerts and notices

#[derive(Template)]
#[template(path = "wages/notices.html")]
struct NoticesPage {
    layout: Layout,
    alerts: Vec<(AlertLine, Option<NoticeDoc>)>,
}

/// The 告知函 or 整改通知单 issued on an alert.
pub struct NoticeDoc {
    pub kind: &'static str,
    pub number: String,
    pub deadline: String,
}

/// The alerts about the signed-in enterprise (as employer) and its projects (as contractor).
async fn own_alerts(ctx: &RequestCtx) -> Result<Vec<store::alerts::AlertRow>, AppError> {
    let uscc = ctx.user()?.uscc.clone().ok_or_else(|| AppError::Forbidden("仅限企业用户".into()))?;
    Ok(store::wages::enterprise_alerts(&ctx.state.db, &uscc).await?)
}

async fn notices(ctx: RequestCtx) -> PageResult {
    let state = &ctx.state;
    let mut alerts = vec![];
    let uscc = ctx.user()?.uscc.clone().ok_or_else(|| AppError::Forbidden("仅限企业用户".into()))?;
    for a in own_alerts(&ctx).await? {
        let d = store::wages::enterprise_alert(&state.db, &uscc, &a.id).await?;
        let doc = d.alert.disposal.as_ref().map(|x| NoticeDoc {
            kind: x.kind.label(),
            number: x.number.clone(),
            deadline: x.deadline.to_string(),
        });
        let line = AlertLine::new(&state.config(), a);
        alerts.push((line, doc));
    }
    render(NoticesPage {
        layout: Layout::new(&ctx, &state.config().city.name, "本单位预警与通知", "/wages/notices"),
        alerts,
    })
}

async fn notice(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let uscc = ctx.user()?.uscc.clone().ok_or_else(|| AppError::Forbidden("仅限企业用户".into()))?;
    let d = store::wages::enterprise_alert(&ctx.state.db, &uscc, &id).await?;
    ctx.audit(ctx.entry(domain::rules::AlertAudit::DocumentView, "alert", &id).detail("用人单位查看预警处置文书"))
        .await?;
    crate::pages::alerts::render_document(&ctx, d, "/wages/notices", &format!("/wages/notices/{id}/pdf")).await
}

async fn notice_pdf(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let uscc = ctx.user()?.uscc.clone().ok_or_else(|| AppError::Forbidden("仅限企业用户".into()))?;
    let d = store::wages::enterprise_alert(&ctx.state.db, &uscc, &id).await?;
    ctx.audit(ctx.entry(domain::rules::AlertAudit::DocumentView, "alert", &id).detail("用人单位下载预警处置文书 PDF"))
        .await?;
    crate::pages::documents::pdf(&ctx, &crate::pages::alerts::issued_of(&ctx, &d).await?)
}
