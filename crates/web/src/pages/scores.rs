//! 风险评分: a subject's scores with the events behind them, the measures they call for, and
//! their history.

use super::render;
use crate::access::{Access, RequestCtx, Routes};
use crate::error::{AppError, PageResult};
use crate::layout::{Layout, fmt_millis};
use askama::Template;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use domain::auth::perm;
use domain::scoring::{Score, ScoreDef};

pub fn routes() -> Routes {
    Routes::default().add("/scores", Access::Perm(perm::SCORES_VIEW), get(list)).add(
        "/scores/{subject_type}/{subject_id}",
        Access::Perm(perm::SCORES_VIEW),
        get(detail),
    )
}

#[derive(Template)]
#[template(path = "scores/list.html")]
struct ListPage {
    layout: Layout,
    items: Vec<(store::scores::Latest, String, String)>,
    subject_id: String,
}

#[derive(serde::Deserialize, Default)]
pub struct Lookup {
    subject_type: Option<String>,
    subject_id: Option<String>,
}

async fn list(ctx: RequestCtx, Query(q): Query<Lookup>) -> PageResult {
    let state = &ctx.state;
    if let (Some(t), Some(i)) = (super::opt(&q.subject_type), super::opt(&q.subject_id)) {
        return Ok(Redirect::to(&format!("/scores/{t}/{}", crate::cookies::encode(&i))).into_response());
    }
    let scope = store::scores::ScoreScope::of(ctx.user()?);
    let items = store::scores::latest(&state.db, &scope, 200)
        .await?
        .into_iter()
        .map(|l| {
            let name = state.config().score(&l.score_id).map(|d| d.name.clone()).unwrap_or_else(|| l.score_id.clone());
            let at = fmt_millis(&Some(l.at));
            (l, name, at)
        })
        .collect();
    render(ListPage {
        layout: Layout::new(&ctx, &state.config().city.name, "风险评分", "/scores"),
        items,
        subject_id: String::new(),
    })
}

pub struct ScoreView {
    pub def: ScoreDef,
    pub score: Score,
    pub history: Vec<(String, i64, &'static str)>,
}

#[derive(Template)]
#[template(path = "scores/detail.html")]
struct DetailPage {
    layout: Layout,
    subject_type: String,
    subject_id: String,
    scores: Vec<ScoreView>,
}

/// Refuses (403, audited) a subject outside the caller's score scope: page and API alike.
pub(crate) async fn ensure_visible(ctx: &RequestCtx, subject_type: &str, subject_id: &str) -> Result<(), AppError> {
    let scope = store::scores::ScoreScope::of(ctx.user()?);
    if scope.admits(&ctx.state.db, subject_type, subject_id).await? {
        return Ok(());
    }
    let e = ctx
        .entry(domain::audit::CoreAudit::ScoreView, subject_type, subject_id)
        .outcome(domain::audit::Outcome::Denied)
        .detail("查看不属于本机关的评分，已拒绝");
    ctx.audit(e).await?;
    Err(AppError::Forbidden("该对象的评分不属于您的查看范围".into()))
}

async fn detail(ctx: RequestCtx, Path((subject_type, subject_id)): Path<(String, String)>) -> PageResult {
    let state = &ctx.state;
    let now = state.clock.now();
    ensure_visible(&ctx, &subject_type, &subject_id).await?;
    let scores = store::scores::of_subject(&state.db, &state.config(), &subject_type, &subject_id, now)
        .await?
        .into_iter()
        .map(|(def, score, history)| ScoreView {
            def,
            score,
            history: history.into_iter().map(|(at, p, c)| (fmt_millis(&Some(at)), p, c.label())).collect(),
        })
        .collect();
    ctx.audit(ctx.entry(domain::audit::CoreAudit::ScoreView, &subject_type, &subject_id)).await?;
    render(DetailPage {
        layout: Layout::new(&ctx, &state.config().city.name, "风险评分", "/scores"),
        subject_type,
        subject_id,
        scores,
    })
}
