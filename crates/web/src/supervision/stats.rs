//! 亳安码 statistics (`/supervision/stats`): persons by agency, stage and code; alarms by kind
//! and how fast they were acknowledged; leave requests and check-in tasks by outcome; the
//! persons whose code recommends changing the measure. Scoped like the list: an agency sees
//! its own persons, a city-wide scope all. Both tables export (audited).

use crate::access::{Access, RequestCtx, Routes};
use crate::error::{AppError, PageResult};
use crate::export::{Cell, ExportFormat, Table};
use crate::layout::Layout;
use crate::pages::render;
use askama::Template;
use axum::extract::Query;
use axum::routing::get;
use domain::auth::perm;
use domain::supervision::{AlarmKind, AlarmStatus, CheckInStatus, LeaveStatus};
use std::collections::{BTreeMap, HashMap, HashSet};
use store::supervision::{Person, stage_label};

pub fn routes() -> Routes {
    Routes::default().add("/supervision/stats", Access::Perm(perm::SUPERVISION_VIEW), get(page)).add(
        "/supervision/stats/export",
        Access::Perm(perm::SUPERVISION_VIEW),
        get(export),
    )
}

/// Persons of one agency at one stage, by code colour.
pub struct AgencyRow {
    pub agency: String,
    pub stage: &'static str,
    pub persons: i64,
    pub green: i64,
    pub yellow: i64,
    pub red: i64,
}

pub struct AlarmKindRow {
    pub kind: &'static str,
    pub total: i64,
    pub not_closed: i64,
    pub acknowledged: i64,
    /// Minutes from opening to acknowledgement: mean and 90th percentile.
    pub mean_min: String,
    pub p90_min: String,
}

pub struct RedRow {
    pub person: Person,
    pub points: i64,
    pub measures: String,
}

struct Stats {
    agencies: Vec<AgencyRow>,
    alarms: Vec<AlarmKindRow>,
    leaves: Vec<(&'static str, i64)>,
    tasks: Vec<(&'static str, i64)>,
    red: Vec<RedRow>,
    persons: i64,
}

async fn compute(ctx: &RequestCtx) -> Result<Stats, AppError> {
    let state = &ctx.state;
    let p = ctx.user()?;
    let persons = store::supervision::persons(&state.db, p).await?;
    let visible: HashSet<&str> = persons.iter().map(|x| x.id.as_str()).collect();
    let now = state.clock.now();
    let mut by_agency: BTreeMap<(String, usize), AgencyRow> = BTreeMap::new();
    let mut red = vec![];
    for x in &persons {
        let stage_ix = store::supervision::STAGES.iter().position(|s| s.0 == x.stage).unwrap_or(0);
        let row = by_agency.entry((x.agency_name.clone(), stage_ix)).or_insert_with(|| AgencyRow {
            agency: x.agency_name.clone(),
            stage: stage_label(&x.stage),
            persons: 0,
            green: 0,
            yellow: 0,
            red: 0,
        });
        row.persons += 1;
        let code = store::scores::of_subject(&state.db, &state.config(), "person", &x.id, now)
            .await?
            .into_iter()
            .find(|(d, _, _)| d.id == "anma");
        match code.as_ref().map(|(_, s, _)| s.color.label()) {
            Some("红码") => {
                row.red += 1;
                let (_, s, _) = code.expect("matched");
                red.push(RedRow { person: x.clone(), points: i64::from(s.points), measures: s.measures.join("、") });
            }
            Some("黄码") => row.yellow += 1,
            _ => row.green += 1,
        }
    }
    red.sort_by_key(|r| -r.points);
    let mut kinds: HashMap<&'static str, (i64, i64, Vec<i64>)> = HashMap::new();
    for (person, kind, status, opened, acknowledged) in store::supervision::alarm_facts(&state.db).await? {
        if !visible.contains(person.as_str()) {
            continue;
        }
        let k = kinds.entry(AlarmKind::parse(&kind).map_or("其他", AlarmKind::label)).or_default();
        k.0 += 1;
        if AlarmStatus::parse(&status) != Some(AlarmStatus::Closed) {
            k.1 += 1;
        }
        if let Some(a) = acknowledged {
            k.2.push((a - opened).max(0) / 60_000);
        }
    }
    let mut alarms: Vec<AlarmKindRow> = kinds
        .into_iter()
        .map(|(kind, (total, not_closed, mut mins))| {
            mins.sort_unstable();
            let mean = (!mins.is_empty()).then(|| mins.iter().sum::<i64>() / mins.len() as i64);
            // Nearest-rank 90th percentile.
            let p90 = (!mins.is_empty()).then(|| mins[(mins.len() * 9).div_ceil(10) - 1]);
            let show = |m: Option<i64>| m.map(|m| m.to_string()).unwrap_or_else(|| "—".into());
            AlarmKindRow {
                kind,
                total,
                not_closed,
                acknowledged: mins.len() as i64,
                mean_min: show(mean),
                p90_min: show(p90),
            }
        })
        .collect();
    alarms.sort_by_key(|a| -a.total);
    let (leave_rows, task_rows) = store::supervision::leave_and_task_facts(&state.db).await?;
    // Per status, in the enum's order: (label, count).
    let count = |rows: Vec<(String, String)>, order: Vec<(&'static str, &'static str)>| {
        let mut n: HashMap<String, i64> = HashMap::new();
        for (person, status) in rows {
            if visible.contains(person.as_str()) {
                *n.entry(status).or_default() += 1;
            }
        }
        order.into_iter().map(|(code, label)| (label, n.get(code).copied().unwrap_or(0))).collect::<Vec<_>>()
    };
    Ok(Stats {
        agencies: by_agency.into_values().collect(),
        alarms,
        leaves: count(leave_rows, LeaveStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect()),
        tasks: count(task_rows, CheckInStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect()),
        red,
        persons: persons.len() as i64,
    })
}

#[derive(Template)]
#[template(path = "supervision/stats.html")]
struct StatsPage {
    layout: Layout,
    agencies: Vec<AgencyRow>,
    alarms: Vec<AlarmKindRow>,
    leaves: Vec<(&'static str, i64)>,
    tasks: Vec<(&'static str, i64)>,
    red: Vec<RedRow>,
    persons: i64,
}

async fn page(ctx: RequestCtx) -> PageResult {
    let s = compute(&ctx).await?;
    render(StatsPage {
        layout: Layout::new(&ctx, &ctx.state.config().city.name, "亳安码 · 统计", "/supervision"),
        agencies: s.agencies,
        alarms: s.alarms,
        leaves: s.leaves,
        tasks: s.tasks,
        red: s.red,
        persons: s.persons,
    })
}

#[derive(serde::Deserialize)]
struct ExportQuery {
    table: Option<String>,
    format: Option<String>,
}

async fn export(ctx: RequestCtx, Query(q): Query<ExportQuery>) -> PageResult {
    let format = ExportFormat::parse(q.format.as_deref())
        .ok_or_else(|| AppError::invalid("format", "导出格式应为 csv 或 xlsx"))?;
    let s = compute(&ctx).await?;
    let table = q.table.unwrap_or_default();
    let t = match table.as_str() {
        "agencies" => Table {
            title: "亳安码按机关阶段".into(),
            headers: vec!["机关", "阶段", "人数", "绿码", "黄码", "红码"],
            rows: s
                .agencies
                .iter()
                .map(|a| {
                    vec![
                        a.agency.clone().into(),
                        a.stage.into(),
                        Cell::Int(a.persons),
                        Cell::Int(a.green),
                        Cell::Int(a.yellow),
                        Cell::Int(a.red),
                    ]
                })
                .collect(),
        },
        "alarms" => Table {
            title: "亳安码报警处置".into(),
            headers: vec!["报警类型", "总数", "未关闭", "已签收", "平均签收用时（分钟）", "90%签收用时（分钟）"],
            rows: s
                .alarms
                .iter()
                .map(|a| {
                    vec![
                        a.kind.into(),
                        Cell::Int(a.total),
                        Cell::Int(a.not_closed),
                        Cell::Int(a.acknowledged),
                        a.mean_min.clone().into(),
                        a.p90_min.clone().into(),
                    ]
                })
                .collect(),
        },
        _ => return Err(AppError::invalid("table", "没有这张表").into()),
    };
    ctx.audit(ctx.entry(domain::supervision::SupervisionAudit::StatsExport, "supervision", &table).detail(format!(
        "导出{}，{} 行",
        t.title,
        t.rows.len()
    )))
    .await?;
    Ok(t.into_response(format))
}
