//! A person's compliance report (遵规守纪情况报告), printable.

use super::pages::{AlarmLine, alarm_lines, visible};
use crate::access::{Access, RequestCtx, Routes};
use crate::error::PageResult;
use crate::layout::{Layout, fmt_millis};
use crate::pages::render;
use askama::Template;
use axum::extract::Path;
use axum::routing::get;
use domain::auth::perm;
use store::supervision::{Person, stage_label};

pub fn routes() -> Routes {
    Routes::default().add("/supervision/persons/{id}/report", Access::Perm(perm::SUPERVISION_VIEW), get(report))
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
        x,
    })
}
