//! 亳安码 pages for the agency holding a case: its supervised persons, a person's page (code
//! with its measures, device, fences, recent fixes, alarms and their handling), registering a
//! person, drawing fences (GeoJSON, WGS-84 or GCJ-02/BD-09 converted with the original kept),
//! binding a phone. Only the holding agency (and city-wide superiors) see a person; every view
//! is audited, and a refused view too.

use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::{AppError, PageResult};
use crate::form::FormData;
use crate::layout::{FormErrors, Layout, fmt_millis};
use crate::pages::render;
use askama::Template;
use axum::extract::Path;
use axum::routing::{get, post};
use domain::audit::Outcome;
use domain::auth::perm;
use domain::geo::Datum;
use domain::scoring::Color;
use domain::supervision::{AlarmStatus, CheckInStatus, PersonStatus, Rule};
use store::supervision::{AlarmRow, FenceRow, FixRow, MEASURES, Person, STAGES, stage_label};

pub fn routes() -> Routes {
    Routes::default()
        .add("/supervision", Access::Perm(perm::SUPERVISION_VIEW), get(list))
        .add("/supervision/persons", Access::Perm(perm::SUPERVISION_HANDLE), post(create))
        .add("/supervision/persons/new", Access::Perm(perm::SUPERVISION_HANDLE), get(new_form))
        .add("/supervision/persons/{id}", Access::Perm(perm::SUPERVISION_VIEW), get(detail))
        .add("/supervision/persons/{id}/fences", Access::Perm(perm::SUPERVISION_HANDLE), post(add_fence))
        .add("/supervision/persons/{id}/device", Access::Perm(perm::SUPERVISION_HANDLE), post(bind))
        .add("/supervision/persons/{id}/alarms/{alarm}", Access::Perm(perm::SUPERVISION_HANDLE), post(handle))
        .add("/supervision/persons/{id}/leaves/{leave}", Access::Perm(perm::SUPERVISION_HANDLE), post(decide))
        .add("/supervision/persons/{id}/tasks", Access::Perm(perm::SUPERVISION_HANDLE), post(issue_task))
        .add("/supervision/persons/{id}/handoff", Access::Perm(perm::SUPERVISION_HANDLE), post(hand_off))
        .add("/supervision/persons/{id}/take", Access::Perm(perm::SUPERVISION_HANDLE), post(take_over))
        .add("/supervision/persons/{id}/release", Access::Perm(perm::SUPERVISION_HANDLE), post(release))
        .add("/supervision/persons/{id}/locating", Access::Perm(perm::SUPERVISION_HANDLE), post(locating))
        .add("/supervision/persons/{id}/summons", Access::Perm(perm::SUPERVISION_HANDLE), post(summon))
        .add("/supervision/persons/{id}/summons/{s}", Access::Perm(perm::SUPERVISION_HANDLE), post(record_appearance))
}

pub struct AlarmLine {
    pub a: AlarmRow,
    pub at: String,
    pub status: &'static str,
}

pub(crate) fn alarm_lines(rows: Vec<AlarmRow>) -> Vec<AlarmLine> {
    rows.into_iter().map(|a| AlarmLine { at: fmt_millis(&Some(a.at)), status: a.status.label(), a }).collect()
}

#[derive(Template)]
#[template(path = "supervision/list.html")]
struct ListPage {
    layout: Layout,
    persons: Vec<(Person, &'static str)>,
    alarms: Vec<AlarmLine>,
    can_handle: bool,
}

async fn list(ctx: RequestCtx) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let persons = store::supervision::persons(&state.db, p).await?.into_iter().map(|x| {
        let s = stage_label(&x.stage);
        (x, s)
    });
    let alarms = alarm_lines(store::supervision::open_alarms(&state.db, p).await?);
    render(ListPage {
        layout: Layout::new(&ctx, &state.config().city.name, "亳安码 · 被监管人员", "/supervision"),
        persons: persons.collect(),
        alarms,
        can_handle: p.can(perm::SUPERVISION_HANDLE),
    })
}

#[derive(Template)]
#[template(path = "supervision/new.html")]
struct NewPage {
    layout: Layout,
    errors: FormErrors,
    f: FormData,
    stages: Vec<(&'static str, &'static str)>,
    measures: Vec<&'static str>,
}

fn new_page(ctx: &RequestCtx, errors: FormErrors, f: FormData) -> PageResult {
    let bad = !errors.0.is_empty();
    let mut r = render(NewPage {
        layout: Layout::new(ctx, &ctx.state.config().city.name, "登记被监管人员", "/supervision"),
        errors,
        f,
        stages: STAGES.iter().map(|s| (s.0, s.1)).collect(),
        measures: MEASURES.to_vec(),
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn new_form(ctx: RequestCtx) -> PageResult {
    new_page(&ctx, FormErrors::default(), FormData(vec![]))
}

fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s.trim(), &time::macros::format_description!("[year]-[month]-[day]")).ok()
}

async fn create(ctx: RequestCtx, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let mut errors = FormErrors::default();
    let from = parse_date(&f.get("measure_from"));
    let to = parse_date(&f.get("measure_to"));
    if from.is_none() {
        errors.add("measure_from", "请填写措施开始日期，如 2026-11-01");
    }
    if to.is_none() {
        errors.add("measure_to", "请填写措施截止日期，如 2027-11-01");
    }
    let (Some(from), Some(to)) = (from, to) else { return new_page(&ctx, errors, f) };
    let n = store::supervision::NewPerson {
        id_card_no: f.get("id_card_no").trim().to_uppercase(),
        name: f.get("name"),
        phone: f.get("phone"),
        address: f.get("address"),
        division_code: f.get("division_code").trim().to_string(),
        stage: f.get("stage"),
        measure: f.get("measure"),
        measure_from: from,
        measure_to: to,
    };
    let mut tx = state.db.begin().await?;
    let officer = (p.user_id.as_str(), p.display_name.as_str());
    match store::supervision::create_person(&mut tx, state.clock.now(), &n, p.department_id.as_deref(), officer).await {
        Ok(id) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/supervision/persons/{id}"),
                "已登记。请设置电子围栏并绑定其手机。",
                state.secure_cookies,
            ))
        }
        Err(store::StoreError::Invalid { field, message }) => {
            drop(tx);
            errors.add(&field, message);
            new_page(&ctx, errors, f)
        }
        Err(e) => Err(e.into()),
    }
}

/// The person's 亳安码 now: colour, points, recommended measures and what made them.
pub struct Code {
    pub name: String,
    pub color: Color,
    pub points: u32,
    pub measures: Vec<String>,
    pub parts: Vec<(String, u32, u32)>,
}

#[derive(Template)]
#[template(path = "supervision/person.html")]
struct PersonPage {
    layout: Layout,
    x: Person,
    stage: &'static str,
    code: Option<Code>,
    device: Option<(String, String)>,
    fences: Vec<(FenceRow, &'static str, String)>,
    fixes: Vec<(FixRow, String)>,
    alarms: Vec<AlarmLine>,
    violations: i64,
    leaves: Vec<LeaveLine>,
    tasks: Vec<TaskLine>,
    summons: Vec<SummonsLine>,
    /// (label, filed at, report).
    reports: Vec<(&'static str, String, store::supervision::ReportRow)>,
    /// Earlier stages: (record, stage label, ended at).
    history: Vec<(store::supervision::StageRow, &'static str, String)>,
    /// Later stages the case may be handed to.
    next_stages: Vec<(&'static str, &'static str)>,
    measures: Vec<&'static str>,
    officer_name: Option<String>,
    /// The caller acts as the executing / deciding organ.
    organ: store::supervision::Organ,
    /// 社区矫正法 art. 29 decisions, newest first, and the situations to choose from.
    locating: Vec<(store::supervision::LocatingRow, &'static str)>,
    grounds: &'static [domain::supervision::LocatingGround],
    /// The statute's area (刑事诉讼法 arts. 71, 77; 社区矫正法 art. 27) and, where it is the
    /// county of residence, that county's code for the one-step fence.
    area: (String, Option<String>),
    errors: FormErrors,
    token: Option<String>,
}

pub(crate) struct LeaveLine {
    pub row: store::supervision::LeaveRow,
    pub preset: String,
    pub from: String,
    pub to: String,
    pub status: &'static str,
    /// Whose decision the request awaits, on the officers' page.
    pub turn: Option<store::supervision::Organ>,
}

pub(crate) struct TaskLine {
    pub row: store::supervision::TaskRow,
    pub kind: &'static str,
    pub open: String,
    pub due: String,
    pub status: &'static str,
}

pub(crate) struct SummonsLine {
    pub row: store::supervision::SummonsRow,
    pub at: String,
    pub status: &'static str,
}

pub(crate) fn summons_lines(rows: Vec<store::supervision::SummonsRow>) -> Vec<SummonsLine> {
    rows.into_iter()
        .map(|row| SummonsLine { at: fmt_millis(&Some(row.appear_at)), status: row.status.label(), row })
        .collect()
}

pub(crate) fn task_lines(rows: Vec<store::supervision::TaskRow>) -> Vec<TaskLine> {
    rows.into_iter()
        .map(|row| TaskLine {
            kind: row.kind.label(),
            open: fmt_millis(&Some(row.open_at)),
            due: crate::layout::fmt_deadline(&Some(row.due_at)),
            status: row.status.label(),
            row,
        })
        .collect()
}

pub(crate) fn leave_lines(cfg: &store::config::CityConfig, rows: Vec<store::supervision::LeaveRow>) -> Vec<LeaveLine> {
    rows.into_iter()
        .map(|row| LeaveLine {
            preset: cfg.leave_preset(&row.preset).map(|p| p.name.clone()).unwrap_or_else(|| row.preset.clone()),
            from: fmt_millis(&Some(row.from_ms)),
            to: fmt_millis(&Some(row.to_ms)),
            status: row.status.label(),
            turn: None,
            row,
        })
        .collect()
}

/// The person if `ctx`'s user may see them; a refusal is audited and answered 403.
pub(crate) async fn visible(ctx: &RequestCtx, id: &str) -> Result<Person, AppError> {
    let p = ctx.user()?;
    match store::supervision::person(&ctx.state.db, p, id).await {
        Err(store::StoreError::Forbidden(why)) => {
            ctx.audit(
                ctx.entry(domain::supervision::SupervisionAudit::PersonView, "sup_person", id)
                    .outcome(Outcome::Denied)
                    .detail(why),
            )
            .await?;
            Err(AppError::Forbidden("该人员由其他机关监管，您无权查看".into()))
        }
        r => Ok(r?),
    }
}

/// Which organ an action belongs to (刑事诉讼法 arts. 67 ¶2, 74 ¶3, 79 ¶2).
#[derive(Clone, Copy)]
enum Need {
    /// The executing organ: fences, devices, alarms, check-ins, taking the case.
    Execute,
    /// The deciding organ: hand-off and lifting the measure.
    Decide,
    /// Either: summons.
    Either,
}

/// The person if `ctx`'s user may see them and act as the organ `need` names; a refusal is
/// audited and answered 403 naming the organ whose work it is.
async fn acting(ctx: &RequestCtx, id: &str, need: Need) -> Result<Person, AppError> {
    let x = visible(ctx, id).await?;
    let o = store::supervision::organ_of(ctx.user()?, &x);
    let (ok, whose) = match need {
        Need::Execute => (o.executes, format!("执行机关{}", x.agency_name)),
        Need::Decide => (o.decides, format!("决定机关{}", x.decider_name)),
        Need::Either => (o.executes || o.decides, format!("{}或{}", x.agency_name, x.decider_name)),
    };
    if ok {
        return Ok(x);
    }
    ctx.audit(
        ctx.entry(domain::supervision::SupervisionAudit::PersonView, "sup_person", id)
            .outcome(Outcome::Denied)
            .detail(format!("{}：此项由{whose}办理，已拒绝", x.name)),
    )
    .await?;
    Err(AppError::Forbidden(format!("此项由{whose}办理")))
}

async fn show(ctx: &RequestCtx, x: Person, errors: FormErrors, token: Option<String>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    ctx.audit(
        ctx.entry(domain::supervision::SupervisionAudit::PersonView, "sup_person", &x.id)
            .detail(format!("查看被监管人员 {} 的位置与报警", x.name)),
    )
    .await?;
    let code = store::scores::of_subject(&state.db, &state.config(), "person", &x.id, state.clock.now())
        .await?
        .into_iter()
        .find(|(d, _, _)| d.id == "anma")
        .map(|(d, s, _)| {
            let parts = s.contributions.iter().map(|c| (c.name.clone(), c.count, c.points)).collect();
            Code { name: d.name, color: s.color, points: s.points, measures: s.measures, parts }
        });
    let mut conn = state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let fences = store::supervision::fences(&mut conn, &x.id)
        .await?
        .into_iter()
        .map(|f| {
            let rule = f.rule.label();
            let window = match (f.window_from, f.window_to) {
                (Some(a), Some(b)) => format!("{} 至 {}", fmt_millis(&Some(a)), fmt_millis(&Some(b))),
                _ => "长期".into(),
            };
            (f, rule, window)
        })
        .collect();
    drop(conn);
    let device = store::supervision::active_device(&state.db, &x.id).await?.map(|(d, at)| (d, fmt_millis(&Some(at))));
    // Fixes reach the tables a moment after they are acknowledged (the fix log); fold what has
    // arrived so that the page is current — unless uploads are pouring in, when it may lag.
    store::supervision::fold_pending(&state.db, store::supervision::FoldWhen::Small, &Default::default()).await?;
    let fixes = store::supervision::recent_fixes(&state.db, &x.id, 30)
        .await?
        .into_iter()
        .map(|f| {
            // Fixes come seconds apart: their times keep the seconds.
            let at = domain::clock::format_local(domain::clock::from_millis(f.at));
            (f, at)
        })
        .collect();
    let bad = !errors.0.is_empty();
    let mut r = render(PersonPage {
        layout: Layout::new(ctx, &state.config().city.name, &format!("被监管人员 {}", x.name), "/supervision"),
        stage: stage_label(&x.stage),
        code,
        device,
        fences,
        fixes,
        alarms: alarm_lines(store::supervision::alarms_of(&state.db, &x.id).await?),
        violations: store::supervision::violation_count(&state.db, &x.id).await?,
        leaves: leave_lines(&state.config(), store::supervision::leaves_of(&state.db, &x.id).await?)
            .into_iter()
            .map(|l| LeaveLine { turn: l.row.awaits(&x), ..l })
            .collect(),
        tasks: task_lines(store::supervision::tasks_of(&state.db, &x.id).await?),
        summons: summons_lines(store::supervision::summons_of(&state.db, &x.id).await?),
        reports: store::supervision::reports_of(&state.db, &x.id)
            .await?
            .into_iter()
            .map(|r| (r.kind.label(), fmt_millis(&Some(r.created_at)), r))
            .collect(),
        history: store::supervision::stages_of(&state.db, &x.id)
            .await?
            .into_iter()
            .map(|r| {
                let label = stage_label(&r.stage);
                let ended = fmt_millis(&Some(r.ended_at));
                (r, label, ended)
            })
            .collect(),
        next_stages: STAGES.iter().skip_while(|s| s.0 != x.stage).skip(1).map(|s| (s.0, s.1)).collect(),
        measures: MEASURES.to_vec(),
        officer_name: match &x.officer_id {
            Some(id) => store::auth::display_name(&state.db, id).await?,
            None => None,
        },
        organ: store::supervision::organ_of(p, &x),
        locating: store::supervision::locating_of(&state.db, &x.id)
            .await?
            .into_iter()
            .map(|r| {
                let g = r.ground.label();
                (r, g)
            })
            .collect(),
        grounds: &domain::supervision::LocatingGround::ALL,
        area: match x.measure() {
            Some(m) => (
                m.allowed_area_note(),
                m.keeps_to_county().then(|| x.division_code.get(..6).unwrap_or_default().to_string()),
            ),
            None => (String::new(), None),
        },
        errors,
        token,
        x,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn detail(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let x = visible(&ctx, &id).await?;
    show(&ctx, x, FormErrors::default(), None).await
}

/// Runs a store write for a visible person: commit and back to the person's page with
/// `done`, or the page again with the refusal.
async fn write<T>(
    ctx: &RequestCtx,
    x: Person,
    tx: store::Tx,
    r: Result<T, store::StoreError>,
    done: &str,
) -> PageResult {
    match r {
        Ok(_) => {
            tx.commit().await?;
            Ok(redirect_with_flash(&format!("/supervision/persons/{}", x.id), done, ctx.state.secure_cookies))
        }
        Err(e) => {
            drop(tx);
            refused(ctx, x, e).await
        }
    }
}

/// The person's page again with a store refusal shown at its field; any other error as is.
async fn refused(ctx: &RequestCtx, x: Person, e: store::StoreError) -> PageResult {
    match e {
        store::StoreError::Invalid { field, message } | store::StoreError::Conflict { field, message } => {
            let mut errors = FormErrors::default();
            errors.add(&field, message);
            show(ctx, x, errors, None).await
        }
        e => Err(e.into()),
    }
}

/// Sets a check-in task: flying (open now) or scheduled (open at the given time), due the
/// given minutes after it opens.
async fn issue_task(ctx: RequestCtx, Path(id): Path<String>, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = acting(&ctx, &id, Need::Execute).await?;
    let now = domain::clock::to_millis(state.clock.now());
    let minutes: Option<i64> = f.get("minutes").trim().parse().ok().filter(|m| (5..=1440).contains(m));
    let open = match f.get("open").trim() {
        "" => Some(now),
        s => parse_local_minute(s),
    };
    let mut e = FormErrors::default();
    if minutes.is_none() {
        e.add("due", "限时请填写 5–1440 之间的分钟数");
    }
    if open.is_none() {
        e.add("open", "开始时间格式如 2026-12-01 08:00");
    }
    let (Some(minutes), Some(open_at)) = (minutes, open) else { return show(&ctx, x, e, None).await };
    let t = store::supervision::NewTask {
        kind: f.get("kind"),
        open_at,
        due_at: open_at + minutes * 60_000,
        note: f.get("note"),
    };
    let mut tx = state.db.begin().await?;
    let r = store::supervision::issue_task(&mut tx, state.clock.now(), &x, &t, (&p.user_id, &p.display_name)).await;
    let page = write(&ctx, x, tx, r, "打卡任务已下发，本人将收到通知。").await;
    // The deadline job is queued; the runner sleeps until told.
    if let Some(w) = &state.job_waker {
        w.notify_one();
    }
    page
}

/// Issues a summons (传讯通知).
async fn summon(ctx: RequestCtx, Path(id): Path<String>, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = acting(&ctx, &id, Need::Either).await?;
    let Some(at) = parse_local_minute(&f.get("appear_at")) else {
        let mut e = FormErrors::default();
        e.add("appear_at", "请填写到案时间，如 2026-12-01 09:00");
        return show(&ctx, x, e, None).await;
    };
    let mut tx = state.db.begin().await?;
    let r = store::supervision::summon(
        &mut tx,
        state.clock.now(),
        &x,
        at,
        &f.get("place"),
        &f.get("reason"),
        (&p.user_id, &p.display_name),
    )
    .await;
    write(&ctx, x, tx, r, "传讯通知已发出，本人将收到通知。").await
}

/// Records whether the person appeared as summoned.
async fn record_appearance(ctx: RequestCtx, Path((id, s)): Path<(String, String)>, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = acting(&ctx, &id, Need::Either).await?;
    let mut tx = state.db.begin().await?;
    let r = store::supervision::record_appearance(
        &mut tx,
        &state.config(),
        state.clock.now(),
        &x,
        &s,
        f.get("outcome") == "appeared",
        (&p.user_id, &p.display_name),
    )
    .await;
    write(&ctx, x, tx, r, "到案情况已登记。").await
}

/// Hands the person to a later stage's agency with that stage's measure.
async fn hand_off(ctx: RequestCtx, Path(id): Path<String>, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = acting(&ctx, &id, Need::Decide).await?;
    let (from, to) = (parse_date(&f.get("measure_from")), parse_date(&f.get("measure_to")));
    let (Some(measure_from), Some(measure_to)) = (from, to) else {
        let mut e = FormErrors::default();
        e.add("measure_to", "请填写新阶段措施的起止日期，如 2026-12-01 和 2027-05-31");
        return show(&ctx, x, e, None).await;
    };
    let h = store::supervision::HandOff {
        stage: f.get("stage"),
        measure: f.get("measure"),
        measure_from,
        measure_to,
        note: f.get("note"),
    };
    let mut tx = state.db.begin().await?;
    match store::supervision::hand_off(&mut tx, state.clock.now(), &x, &h, (&p.user_id, &p.display_name)).await {
        Ok(()) => {
            tx.commit().await?;
            // The person now belongs to the receiving agency: back to the list.
            Ok(redirect_with_flash(
                "/supervision",
                &format!("{}已移交{}，接收机关将收到通知。", x.name, stage_label(&h.stage)),
                state.secure_cookies,
            ))
        }
        Err(e) => {
            drop(tx);
            refused(&ctx, x, e).await
        }
    }
}

/// 解除: lifts the measure and stops all collection (刑事诉讼法 art. 79 ¶2).
async fn release(ctx: RequestCtx, Path(id): Path<String>, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = acting(&ctx, &id, Need::Decide).await?;
    let caches = store::supervision::Caches::of(&state.db);
    let mut tx = state.db.begin().await?;
    let r = store::supervision::release(
        &mut tx,
        &caches,
        state.clock.now(),
        &x,
        &f.get("reason"),
        (&p.user_id, &p.display_name),
    )
    .await;
    write(&ctx, x, tx, r, "措施已解除，已停止采集并通知本人和办案机关。").await
}

/// Records a 社区矫正法 art. 29 decision (or its renewal) approved by the head of the county
/// 司法行政部门: only then are the person's fixes collected.
async fn locating(ctx: RequestCtx, Path(id): Path<String>, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = acting(&ctx, &id, Need::Execute).await?;
    let (Some(approved_on), Some(valid_to)) = (parse_date(&f.get("approved_on")), parse_date(&f.get("valid_to")))
    else {
        let mut e = FormErrors::default();
        e.add("valid_to", "请填写批准日期和使用截止日期，如 2026-12-01 和 2027-02-28");
        return show(&ctx, x, e, None).await;
    };
    let n = store::supervision::NewLocating {
        ground: f.get("ground"),
        facts: f.get("facts"),
        approver_name: f.get("approver_name"),
        approved_on,
        valid_to,
        renew: f.get("renew") == "1",
    };
    let mut tx = state.db.begin().await?;
    let r =
        store::supervision::approve_locating(&mut tx, state.clock.now(), &x, &n, (&p.user_id, &p.display_name)).await;
    write(&ctx, x, tx, r, "电子定位装置使用决定已登记，期限内采集定位。").await
}

/// The caller (an officer of the holding agency) takes responsibility for the person.
async fn take_over(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = acting(&ctx, &id, Need::Execute).await?;
    let mut tx = state.db.begin().await?;
    let r = store::supervision::take_over(&mut tx, state.clock.now(), &x, (&p.user_id, &p.display_name)).await;
    write(&ctx, x, tx, r, "已接收，由您负责此人的监管。").await
}

/// Approves or refuses a leave request of a visible person.
async fn decide(ctx: RequestCtx, Path((id, leave)): Path<(String, String)>, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = visible(&ctx, &id).await?;
    let mut tx = state.db.begin().await?;
    let l = store::supervision::leave(&mut tx, &leave).await?;
    if l.person_id != x.id {
        return Err(AppError::NotFound("请假申请".into()).into());
    }
    let approve = f.get("action") == "approve";
    let organ = store::supervision::organ_of(p, &x);
    let consenting = l.awaits(&x).is_some_and(|o| o.decides);
    let r = store::supervision::decide_leave(
        &mut tx,
        &store::supervision::Caches::of(&state.db),
        &state.config(),
        state.clock.now(),
        &leave,
        organ,
        store::supervision::LeaveVerdict { approve, note: &f.get("note") },
        (&p.user_id, &p.display_name),
    )
    .await;
    let done = match (consenting, approve) {
        (true, true) => "已同意，执行机关将收到通知并审批。",
        (_, false) => "已不予批准，本人将收到通知。",
        (false, true) => "已批准，请假时段内围栏自动调整。",
    };
    if let Err(store::StoreError::Forbidden(why)) = &r {
        drop(tx);
        ctx.audit(
            ctx.entry(domain::supervision::SupervisionAudit::LeaveDecide, "sup_leave", &leave)
                .outcome(Outcome::Denied)
                .detail(why.clone()),
        )
        .await?;
        return Err(AppError::Forbidden(why.clone()).into());
    }
    write(&ctx, x, tx, r, done).await
}

async fn add_fence(ctx: RequestCtx, Path(id): Path<String>, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = acting(&ctx, &id, Need::Execute).await?;
    let window = match (f.get("window_from").trim(), f.get("window_to").trim()) {
        ("", "") => None,
        (a, b) => match (parse_date(a), parse_date(b)) {
            (Some(a), Some(b)) => Some((
                domain::supervision::local_ms(a.midnight()),
                domain::supervision::local_ms(b.next_day().unwrap_or(b).midnight()),
            )),
            _ => {
                let mut e = FormErrors::default();
                e.add("window", "有效期请填写两个日期，如 2026-12-01 和 2026-12-03；长期有效请都留空");
                return show(&ctx, x, e, None).await;
            }
        },
    };
    let (typed, file) = (f.raw("geometry"), f.raw("geojson_file"));
    let from_file = !file.trim().is_empty();
    if from_file && !typed.trim().is_empty() {
        let mut e = FormErrors::default();
        e.add("geometry", "请只用一种方式：在地图上画 / 粘贴 GeoJSON，或上传文件");
        return show(&ctx, x, e, None).await;
    }
    let nf = store::supervision::NewFence {
        name: f.get("name"),
        rule: if f.get("rule") == "forbidden" { Rule::Forbidden } else { Rule::Allowed },
        geometry: if from_file { file } else { typed },
        datum: Datum::parse(&f.get("datum")).unwrap_or(Datum::Wgs84),
        window,
    };
    let (now, by) = (state.clock.now(), (p.user_id.as_str(), p.display_name.as_str()));
    let caches = store::supervision::Caches::of(&state.db);
    let mut tx = state.db.begin().await?;
    if from_file {
        let r = store::supervision::add_fences_from_file(&mut tx, &caches, now, &x, &nf, by).await;
        let done = match &r {
            Ok(ids) => format!("已从文件保存 {} 个围栏，之后上报的定位按新围栏判断。", ids.len()),
            Err(_) => String::new(),
        };
        return write(&ctx, x, tx, r, &done).await;
    }
    let r = store::supervision::add_fence(&mut tx, &caches, now, &x, &nf, by).await;
    write(&ctx, x, tx, r, "围栏已保存，之后上报的定位按新围栏判断。").await
}

async fn bind(ctx: RequestCtx, Path(id): Path<String>, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = acting(&ctx, &id, Need::Execute).await?;
    let mut tx = state.db.begin().await?;
    match store::supervision::bind_device(
        &mut tx,
        state.clock.now(),
        &x,
        &f.get("device_id"),
        (&p.user_id, &p.display_name),
    )
    .await
    {
        Ok(token) => {
            tx.commit().await?;
            // The token is shown once, on this response, never stored in clear.
            show(&ctx, x, FormErrors::default(), Some(token)).await
        }
        Err(e) => {
            drop(tx);
            refused(&ctx, x, e).await
        }
    }
}

async fn handle(ctx: RequestCtx, Path((id, alarm)): Path<(String, String)>, f: FormData) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let x = acting(&ctx, &id, Need::Execute).await?;
    let mut tx = state.db.begin().await?;
    let r = store::supervision::handle_alarm(
        &mut tx,
        state.clock.now(),
        &x,
        &alarm,
        domain::supervision::AlarmAction::parse(&f.get("action"))
            .ok_or_else(|| AppError::BadRequest("请选择处置方式：签收、说明情况或关闭".into()))?,
        &f.get("note"),
        (&p.user_id, &p.display_name),
    )
    .await;
    write(&ctx, x, tx, r, "报警处置已记录。").await
}

/// `2026-12-01T08:30` (datetime-local) as China time.
pub(crate) fn parse_local_minute(s: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    time::PrimitiveDateTime::parse(s.trim(), &fmt).ok().map(domain::supervision::local_ms)
}
