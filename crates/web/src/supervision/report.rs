//! A person's compliance report (遵规守纪情况报告), printable.

use super::pages::{AlarmLine, alarm_lines, visible};
use crate::access::{Access, RequestCtx, Routes};
use crate::error::{AppError, PageResult};
use crate::layout::{Layout, fmt_millis};
use crate::pages::render;
use askama::Template;
use axum::extract::Path;
use axum::routing::{get, post};
use domain::auth::perm;
use store::supervision::{Person, stage_label};

pub fn routes() -> Routes {
    Routes::default()
        .add("/supervision/persons/{id}/report", Access::Perm(perm::SUPERVISION_VIEW), get(report))
        .add("/supervision/persons/{id}/report/issue", Access::Perm(perm::SUPERVISION_HANDLE), post(issue))
        .add("/supervision/persons/{id}/report/issued", Access::Perm(perm::SUPERVISION_VIEW), get(issued))
        .add("/supervision/persons/{id}/report/issued.pdf", Access::Perm(perm::SUPERVISION_VIEW), get(issued_pdf))
}

#[derive(Template)]
#[template(path = "supervision/report.html")]
struct ReportPage {
    layout: Layout,
    x: Person,
    stage: &'static str,
    history: Vec<(store::supervision::StageRow, &'static str)>,
    fixes: i64,
    violations: i64,
    first_fix: String,
    last_fix: String,
    alarms_total: usize,
    alarms_by_kind: Vec<(&'static str, usize)>,
    tasks_total: usize,
    tasks_by_status: Vec<(&'static str, usize)>,
    leaves_total: usize,
    leaves_by_status: Vec<(&'static str, usize)>,
    /// Points, colour label, recommended measures.
    code: Option<(u32, &'static str, String)>,
    alarms: Vec<AlarmLine>,
    generated: String,
    date: String,
    /// The latest report issued as a sealed document, if any: its number.
    issued: Option<String>,
    can_issue: bool,
}

/// Counts by label, in first-seen order.
fn tally(labels: impl Iterator<Item = &'static str>) -> Vec<(&'static str, usize)> {
    let mut out: Vec<(&'static str, usize)> = vec![];
    for l in labels {
        match out.iter_mut().find(|(k, _)| *k == l) {
            Some((_, n)) => *n += 1,
            None => out.push((l, 1)),
        }
    }
    out
}

/// The person's compliance report (遵规守纪情况报告) over the whole period, printable (the
/// browser's print saves a PDF). Viewing it is audited like the person's page.
async fn report(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let state = &ctx.state;
    let x = visible(&ctx, &id).await?;
    ctx.audit(
        ctx.entry(domain::supervision::SupervisionAudit::ReportView, "sup_person", &x.id)
            .detail(format!("生成 {} 的遵规守纪情况报告", x.name)),
    )
    .await?;
    store::supervision::fold_pending(&state.db, store::supervision::FoldWhen::Small, &Default::default()).await?;
    let (fixes, violations, first, last) = store::supervision::location_summary(&state.db, &x.id).await?;
    let alarm_rows = store::supervision::alarms_of(&state.db, &x.id).await?;
    let tasks = store::supervision::tasks_of(&state.db, &x.id).await?;
    let leaves = store::supervision::leaves_of(&state.db, &x.id).await?;
    let now = state.clock.now();
    let code = store::scores::of_subject(&state.db, &state.config(), "person", &x.id, now)
        .await?
        .into_iter()
        .find(|(d, _, _)| d.id == "anma")
        .map(|(_, s, _)| (s.points, s.color.label(), s.measures.join("、")));
    render(ReportPage {
        layout: Layout::new(&ctx, &state.config().city.name, &format!("{} 遵规守纪情况报告", x.name), "/supervision"),
        stage: stage_label(&x.stage),
        history: store::supervision::stages_of(&state.db, &x.id)
            .await?
            .into_iter()
            .map(|h| {
                let l = stage_label(&h.stage);
                (h, l)
            })
            .collect(),
        fixes,
        violations,
        first_fix: fmt_millis(&first),
        last_fix: fmt_millis(&last),
        alarms_total: alarm_rows.len(),
        alarms_by_kind: tally(alarm_rows.iter().map(|a| a.kind.label())),
        tasks_total: tasks.len(),
        tasks_by_status: tally(tasks.iter().map(|t| t.status.label())),
        leaves_total: leaves.len(),
        leaves_by_status: tally(leaves.iter().map(|l| l.status.label())),
        code,
        alarms: alarm_lines(alarm_rows),
        generated: format!("生成于 {}", crate::layout::fmt_time(now)),
        date: domain::clock::local(now).date().to_string(),
        issued: store::documents::latest_of(&state.db, &format!("sup_report:{}", x.id))
            .await?
            .map(|i| i.document.number),
        can_issue: store::supervision::organ_of(ctx.user()?, &x).executes,
        x,
    })
}

/// The executing organ issues the report as a sealed document addressed to the deciding organ
/// (for its 社会危险性 assessment and decisions on leniency), numbered in its own series.
async fn issue(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let state = &ctx.state;
    let x = visible(&ctx, &id).await?;
    let p = ctx.user()?;
    if !store::supervision::organ_of(p, &x).executes {
        return Err(AppError::Forbidden(format!("遵规守纪情况报告由执行机关{}出具", x.agency_name)).into());
    }
    let agency = store::org::get_department(&state.db, &x.agency_id).await?.code;
    let key = state.seal_key.clone().ok_or_else(|| AppError::internal("印章主密钥未加载"))?;
    store::supervision::fold_pending(&state.db, store::supervision::FoldWhen::Small, &Default::default()).await?;
    let (fixes, violations, first, last) = store::supervision::location_summary(&state.db, &x.id).await?;
    let alarms = store::supervision::alarms_of(&state.db, &x.id).await?;
    let tasks = store::supervision::tasks_of(&state.db, &x.id).await?;
    let leaves = store::supervision::leaves_of(&state.db, &x.id).await?;
    let counts = |v: Vec<(&'static str, usize)>| {
        if v.is_empty() {
            "无".to_string()
        } else {
            v.iter().map(|(k, n)| format!("{k} {n} 次")).collect::<Vec<_>>().join("，")
        }
    };
    let mut paragraphs = vec![
        format!(
            "被监管人员{}（身份证号 {}），居住地{}，{}：{}，期限 {} 至 {}。现将其电子监管期间遵规守纪情况报告如下，供社会危险性评估及从宽处理、适用缓刑等决定参考。",
            x.name,
            x.id_card_no,
            x.address,
            stage_label(&x.stage),
            x.measure,
            x.measure_from,
            x.measure_to
        ),
        format!(
            "一、定位记录 {fixes} 条（{} 至 {}），其中越界定位 {violations} 条（单个越界定位不一定构成违规，连续越界才报警）。",
            fmt_millis(&first),
            fmt_millis(&last)
        ),
        format!("二、报警 {} 次：{}。", alarms.len(), counts(tally(alarms.iter().map(|a| a.kind.label())))),
        format!("三、打卡任务 {} 次：{}。", tasks.len(), counts(tally(tasks.iter().map(|t| t.status.label())))),
        format!("四、外出请假 {} 次：{}。", leaves.len(), counts(tally(leaves.iter().map(|l| l.status.label())))),
    ];
    for a in alarms.iter().take(30) {
        paragraphs.push(format!(
            "报警：{} {}，{}{}",
            fmt_millis(&Some(a.at)),
            a.detail,
            a.status.label(),
            if a.note.is_empty() { String::new() } else { format!("：{}", a.note) }
        ));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let doc = store::documents::issue(
        &mut tx,
        now,
        &state.config(),
        &key,
        store::documents::Draft {
            kind: "compliance_report",
            word: "监报",
            title: "被监管人员遵规守纪情况报告",
            department: &agency,
            addressee: x.decider_name.clone(),
            addressee_id: None,
            paragraphs,
            source: format!("sup_report:{}", x.id),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(crate::access::redirect_with_flash(
        &format!("/supervision/persons/{}/report/issued", x.id),
        &format!("已出具 {}，加盖{}电子印章。", doc.document.number, x.agency_name),
        state.secure_cookies,
    ))
}

async fn latest(ctx: &RequestCtx, id: &str) -> Result<(Person, store::documents::Issued), AppError> {
    let x = visible(ctx, id).await?;
    let doc = store::documents::latest_of(&ctx.state.db, &format!("sup_report:{}", x.id))
        .await?
        .ok_or_else(|| AppError::NotFound("已出具的遵规守纪情况报告".into()))?;
    ctx.audit(
        ctx.entry(domain::supervision::SupervisionAudit::ReportView, "sup_person", &x.id)
            .detail(format!("查阅 {} 的遵规守纪情况报告 {}", x.name, doc.document.number)),
    )
    .await?;
    Ok((x, doc))
}

async fn issued(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let (x, doc) = latest(&ctx, &id).await?;
    let back = format!("/supervision/persons/{}/report", x.id);
    crate::pages::documents::sheet(
        &ctx,
        doc,
        "/supervision",
        &back,
        "返回报告",
        &format!("/supervision/persons/{}/report/issued.pdf", x.id),
    )
}

async fn issued_pdf(ctx: RequestCtx, Path(id): Path<String>) -> PageResult {
    let (_, doc) = latest(&ctx, &id).await?;
    crate::pages::documents::pdf(&ctx, &doc)
}
