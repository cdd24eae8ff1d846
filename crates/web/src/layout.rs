//! The page shell shared by every page: navigation by permission, the user badge, flash
//! messages, pagination and form error summaries.

use crate::access::RequestCtx;
use domain::auth::{Principal, perm};

/// One navigation entry; shown only to users holding `perm` (`None`: every signed-in user).
pub struct NavDef {
    pub label: &'static str,
    pub href: &'static str,
    pub perm: Option<&'static str>,
    pub group: &'static str,
}

/// The shell's navigation before the cases' entries.
const NAV_HEAD: &[NavDef] = &[
    NavDef { label: "首页", href: "/home", perm: None, group: "" },
    NavDef { label: "消息", href: "/inbox", perm: None, group: "" },
    NavDef { label: "待办", href: "/tasks", perm: Some(perm::WORKFLOW_ACT), group: "审批" },
    NavDef { label: "办件", href: "/applications", perm: Some(perm::WORKFLOW_ACT), group: "审批" },
    NavDef { label: "我的申请", href: "/my/applications", perm: Some(perm::WORKFLOW_APPLY), group: "审批" },
    NavDef { label: "办件统计", href: "/workflows/stats", perm: Some(perm::WORKFLOW_STATS), group: "审批" },
    NavDef { label: "预警", href: "/alerts", perm: Some(perm::ALERTS_VIEW), group: "监测" },
    NavDef { label: "风险评分", href: "/scores", perm: Some(perm::SCORES_VIEW), group: "监测" },
];

/// The shell's navigation after the cases' entries.
const NAV_TAIL: &[NavDef] = &[
    NavDef { label: "全市概览", href: "/dashboard", perm: Some(perm::DASHBOARD_CITY), group: "基础" },
    NavDef { label: "本企业", href: "/me/enterprise", perm: Some(perm::SELF_ENTERPRISE), group: "基础" },
    NavDef { label: "个人信息", href: "/me/profile", perm: Some(perm::SELF_CITIZEN), group: "基础" },
    NavDef { label: "市场主体", href: "/enterprises", perm: Some(perm::ORG_ENTERPRISES), group: "基础" },
    NavDef { label: "群众信息", href: "/citizens", perm: Some(perm::ORG_CITIZENS), group: "基础" },
    NavDef { label: "区划与网格", href: "/divisions", perm: Some(perm::ORG_DIVISIONS), group: "基础" },
    NavDef { label: "审计日志", href: "/audit", perm: Some(perm::AUDIT_READ), group: "管理" },
    NavDef { label: "用户", href: "/admin/users", perm: Some(perm::ADMIN_USERS), group: "管理" },
    NavDef { label: "角色", href: "/admin/roles", perm: Some(perm::ADMIN_ROLES), group: "管理" },
    NavDef { label: "部门", href: "/admin/departments", perm: Some(perm::ADMIN_DEPARTMENTS), group: "管理" },
    NavDef { label: "接口令牌", href: "/admin/tokens", perm: Some(perm::ADMIN_TOKENS), group: "管理" },
    NavDef { label: "节假日", href: "/admin/holidays", perm: Some(perm::ADMIN_HOLIDAYS), group: "管理" },
    NavDef { label: "事项目录", href: "/admin/services", perm: Some(perm::ADMIN_SERVICES), group: "管理" },
    NavDef { label: "系统状态", href: "/admin/system", perm: Some(perm::ADMIN_SYSTEM), group: "管理" },
];

/// The whole navigation: the shell's head, each case's entries in registration order, the tail.
pub fn nav_defs() -> impl Iterator<Item = &'static NavDef> {
    NAV_HEAD.iter().chain(crate::case::CASES.iter().flat_map(|c| c.nav.iter())).chain(NAV_TAIL.iter())
}

pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub active: bool,
    /// A group heading shown before this item (the first item of a group).
    pub heading: Option<&'static str>,
}

pub fn nav_for(p: &Principal, current: &str) -> Vec<NavItem> {
    let mut last_group = "";
    let matches = |href: &str| current == href || (href != "/home" && current.starts_with(&format!("{href}/")));
    // Only the most specific entry is active (/wages/import, not also /wages).
    let best = nav_defs().filter(|n| matches(n.href)).map(|n| n.href.len()).max().unwrap_or(0);
    nav_defs()
        .filter(|n| n.perm.is_none_or(|perm| p.can(perm)))
        .map(|n| {
            let heading = (n.group != last_group && !n.group.is_empty()).then_some(n.group);
            last_group = n.group;
            NavItem { label: n.label, href: n.href, active: matches(n.href) && n.href.len() == best, heading }
        })
        .collect()
}

/// What the base template needs.
pub struct Layout {
    pub title: String,
    pub city: String,
    pub nav: Vec<NavItem>,
    pub user_name: String,
    pub user_roles: String,
    pub csrf: String,
    pub flash: Option<String>,
    pub warning: Option<String>,
}

impl Layout {
    pub fn new(ctx: &RequestCtx, city: &str, title: &str, current: &str) -> Self {
        let (nav, user_name, user_roles) = match &ctx.principal {
            Some(p) => (nav_for(p, current), p.display_name.clone(), p.role_names.join("、")),
            None => (vec![], String::new(), String::new()),
        };
        Layout {
            title: title.to_string(),
            city: city.to_string(),
            nav,
            user_name,
            user_roles,
            csrf: ctx.csrf_token(),
            flash: ctx.flash.clone(),
            warning: None,
        }
    }

    pub fn signed_in(&self) -> bool {
        !self.user_name.is_empty()
    }
}

/// A bare page for errors, without the database or a template (always renders).
pub fn plain_page(title: &str, message: &str) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} - 营商</title><link rel=\"stylesheet\" href=\"/static/app.css\"><link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\"></head><body><main class=\"narrow\">\
         <h1>{t}</h1><p class=\"lead\">{m}</p><p><a href=\"/home\">返回首页</a> · <a href=\"/login\">登录</a></p></main></body></html>",
        t = esc(title),
        m = esc(message)
    )
}

/// Pagination links that keep the current filters.
pub struct Pager {
    pub page: u32,
    pub pages: u32,
    pub total: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// Query string of the current filters without the page, for export links.
    pub filters: String,
}

impl Pager {
    pub fn new<T>(paged: &store::sql::Paged<T>, path: &str, filters: &[(&str, String)]) -> Self {
        let pages = paged.pages();
        let qs: Vec<String> = filters
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", crate::cookies::encode(v)))
            .collect();
        let filters = qs.join("&");
        let link = |page: u32| {
            let mut q = qs.clone();
            q.push(format!("page={page}"));
            format!("{path}?{}", q.join("&"))
        };
        Pager {
            page: paged.page,
            pages,
            total: paged.total,
            prev: (paged.page > 1).then(|| link(paged.page - 1)),
            next: (paged.page < pages).then(|| link(paged.page + 1)),
            filters,
        }
    }

    /// `?a=b&format=csv` for an export of the same filters.
    pub fn export_href(&self, path: &str, format: &str) -> String {
        if self.filters.is_empty() {
            format!("{path}?format={format}")
        } else {
            format!("{path}?{}&format={format}", self.filters)
        }
    }
}

/// Errors of a submitted form, shown as a summary at the top (linking to each field) and next
/// to the fields. The form keeps what was typed.
#[derive(Default, Debug, Clone)]
pub struct FormErrors(pub Vec<(String, String)>);

impl FormErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_string(), message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    pub fn msg(&self, field: &str) -> &str {
        self.get(field).unwrap_or("")
    }
}

/// The badge class of a warning level: red as an error, orange as a warning.
pub fn level_badge(level: &domain::rules::Level) -> &'static str {
    match level {
        domain::rules::Level::Red => "err",
        domain::rules::Level::Orange => "warn",
        domain::rules::Level::Yellow => "",
    }
}

/// The badge class of a code colour (亳安码 and the other scores).
pub fn color_badge(color: &domain::scoring::Color) -> &'static str {
    match color {
        domain::scoring::Color::Green => "ok",
        domain::scoring::Color::Yellow => "warn",
        domain::scoring::Color::Red => "err",
    }
}

/// The badge class of an audit outcome.
pub fn outcome_badge(outcome: &domain::audit::Outcome) -> &'static str {
    if *outcome == domain::audit::Outcome::Success { "ok" } else { "err" }
}

/// A time on screen: China time to the minute (`domain::clock::format_minute`).
pub fn fmt_millis(ms: &Option<i64>) -> String {
    ms.map(|m| domain::clock::format_minute(domain::clock::from_millis(m))).unwrap_or_else(|| "—".into())
}

pub fn fmt_time(t: time::OffsetDateTime) -> String {
    domain::clock::format_minute(t)
}

/// A deadline on screen: to the minute, midnight as the day before's 24:00
/// (`domain::clock::format_deadline`).
pub fn fmt_deadline(ms: &Option<i64>) -> String {
    ms.map(|m| domain::clock::format_deadline(domain::clock::from_millis(m))).unwrap_or_else(|| "—".into())
}
