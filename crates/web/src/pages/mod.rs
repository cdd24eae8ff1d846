//! Server-rendered pages. Each module adds its routes with their access rules.

pub mod admin;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod documents;
pub mod home;
pub mod inbox;
pub mod org;
pub mod scores;
pub mod system;
pub mod workflow;
pub mod workflow_stats;

use crate::error::{AppError, PageResult};
use askama::Template;
use axum::response::{Html, IntoResponse};

pub fn render(t: impl Template) -> PageResult {
    Ok(Html(t.render().map_err(AppError::from)?).into_response())
}

/// Empty strings from forms as `None`.
pub fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Only local paths are followed after login, so `next` cannot send users to another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) && !n.starts_with("/login") => n.to_string(),
        _ => "/home".to_string(),
    }
}

/// A same-origin relative reference: one leading `/`, then only visible ASCII without a
/// backslash (browsers drop tabs and newlines and read a backslash as `/`, so `/<TAB>/evil`
/// would leave the site), and nothing `http::Uri` reads as carrying a scheme or authority.
fn is_local_path(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && n.chars().all(|c| c.is_ascii_graphic() && c != '\\')
        && n.parse::<axum::http::Uri>().is_ok_and(|u| u.scheme().is_none() && u.authority().is_none())
}

/// A month as `2026年10月` (templates).
pub fn talent_month(m: &time::Date) -> String {
    domain::wages::ingest::month_label(*m)
}

pub fn not_empty(v: &str) -> bool {
    !v.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_site() {
        assert_eq!(safe_next(Some("/admin/users?page=2")), "/admin/users?page=2");
        assert_eq!(safe_next(Some("//evil.example")), "/home");
        assert_eq!(safe_next(Some("https://evil.example")), "/home");
        assert_eq!(safe_next(None), "/home");
    }

    #[test]
    fn next_with_whitespace_or_backslash_goes_home() {
        // Browsers strip the tab and newline: `/\t/evil.example` is `//evil.example` to them.
        for bad in ["/\t/evil.example", "/\n/evil.example", "/\\evil.example", "/a\\b", "/ /x", "/\u{3000}x", "/x\r\n"]
        {
            assert_eq!(safe_next(Some(bad)), "/home", "{bad:?}");
        }
        assert_eq!(safe_next(Some("/wages/projects?q=%E5%B7%A5")), "/wages/projects?q=%E5%B7%A5");
    }
}
