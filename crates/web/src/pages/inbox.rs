//! 消息: the user's notifications from the engines.

use super::render;
use crate::access::{Access, RequestCtx, Routes, redirect_with_flash};
use crate::error::PageResult;
use crate::layout::{Layout, Pager, fmt_millis};
use askama::Template;
use axum::extract::Query;
use axum::routing::{get, post};
use store::sql::PageRequest;

pub fn routes() -> Routes {
    Routes::default().add("/inbox", Access::Authenticated, get(inbox)).add(
        "/inbox/read",
        Access::Authenticated,
        post(read_all),
    )
}

#[derive(Template)]
#[template(path = "workflow/inbox.html")]
struct InboxPage {
    layout: Layout,
    items: Vec<(store::notify::Notice, String)>,
    pager: Pager,
}

#[derive(serde::Deserialize, Default)]
pub struct InboxQuery {
    page: Option<u32>,
}

async fn inbox(ctx: RequestCtx, Query(q): Query<InboxQuery>) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let paged = store::notify::inbox(&state.db, p, false, PageRequest::new(q.page, None)).await?;
    let pager = Pager::new(&paged, "/inbox", &[]);
    let items = paged.items.into_iter().map(|n| {
        let at = fmt_millis(&Some(n.created_at));
        (n, at)
    });
    render(InboxPage {
        layout: Layout::new(&ctx, &state.config().city.name, "消息", "/inbox"),
        items: items.collect(),
        pager,
    })
}

async fn read_all(ctx: RequestCtx) -> PageResult {
    let state = &ctx.state;
    let p = ctx.user()?;
    let mut tx = state.db.begin().await?;
    let n = store::notify::mark_all_read(&mut tx, &state.db, p, state.clock.now()).await?;
    tx.commit().await?;
    Ok(redirect_with_flash("/inbox", &format!("已将 {n} 条消息标为已读。"), state.secure_cookies))
}
