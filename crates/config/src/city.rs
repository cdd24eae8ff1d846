//! `city.toml`: the city's name and code, office hours, `[security]` limits, `[wages]`
//! parameters and plausible ranges, and `[supervision]`; every problem as `file:line: field`.

use super::{ConfigSource, Ctx, Supervision};
use domain::calendar::WorkingHours;
use domain::config::{ConfigError, parse_toml};
use domain::demo::TownInput;
use domain::ids::{DivisionCode, DivisionRegistry};
use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Clone)]
pub struct SecurityConfig {
    pub max_login_failures: u32,
    pub lockout_minutes: i64,
    pub idle_timeout_minutes: i64,
    pub session_max_hours: i64,
    /// Failed logins one address may make per window before it must wait (any account).
    pub login_failures_per_source: u32,
    pub login_window_minutes: i64,
    /// Password checks (argon2id, 19 MiB each) running at once; more wait briefly, then 429.
    pub password_checks_at_once: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed; nobody's by default.
    pub trusted_proxies: Vec<domain::net::IpRange>,
    /// Addresses that may read `/metrics`.
    pub metrics_from: Vec<domain::net::IpRange>,
    /// Months the audit log and the data-exchange call log are kept before their oldest months
    /// are dropped; 0 keeps them for ever. At least 6 (等保 2.0 level 3; 网络安全法
    /// art. 21(3): network logs kept no less than six months). PostgreSQL only: SQLite does not
    /// partition, and a server on SQLite refuses a non-zero value.
    pub log_retention_months: u32,
}

#[derive(Debug, Clone)]
pub struct City {
    pub name: String,
    pub division_code: DivisionCode,
    pub working_hours: WorkingHours,
    pub security: SecurityConfig,
    /// 满薪满益 parameters: the local minimum wage and what counts as a full month.
    pub wages: domain::wages::WageParams,
    /// 亳安码: days after a measure ends that the person's location data is kept.
    /// 亳安码 settings (`[supervision]`).
    pub supervision: Supervision,
    /// `[documents]`: the fonts of the PDF copies.
    pub documents: Documents,
}

/// `[documents]` in city.toml: the CJK fonts PDF copies are set in. Empty: the usual system
/// places (Debian's `fonts-noto-cjk`). No font ships with the platform.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Documents {
    /// A .ttf, .otf or .ttc file; from a collection the Simplified Chinese face is used.
    #[serde(default)]
    pub font: String,
    /// The bold face for the 发文机关标志 and titles; empty: the regular file's `Bold` sibling.
    #[serde(default)]
    pub font_bold: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCity {
    name: String,
    division_code: Spanned<String>,
    working_hours: Spanned<Vec<String>>,
    security: RawSecurity,
    wages: RawWages,
    #[serde(default)]
    supervision: Supervision,
    #[serde(default)]
    documents: Documents,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWages {
    /// Yuan, as the provincial notice writes it.
    minimum_wage: Spanned<String>,
    full_month_days: i64,
    /// Yuan: the most one worker's month (应发, 实发, a complaint) may be.
    #[serde(default)]
    worker_month_max: Option<Spanned<String>>,
    /// Yuan: the most any project-level amount may be.
    #[serde(default)]
    project_amount_max: Option<Spanned<String>>,
    #[serde(default)]
    count_max: Option<i64>,
    /// The minimum wage by division and date.
    #[serde(default)]
    minimum: Vec<RawMinimum>,
    /// The deposit rate, percent of the contract value (人社部发〔2021〕65号 art. 11: 1–3).
    #[serde(default)]
    deposit_rate_percent: Option<Spanned<String>>,
    /// Yuan: the most one project's deposit need be; absent, no cap.
    #[serde(default)]
    deposit_cap: Option<Spanned<String>>,
    /// Yuan: contracts below it may be exempt (art. 11 ¶3: 3 million).
    #[serde(default)]
    deposit_exempt_below: Option<Spanned<String>>,
    /// The department that holds deposits and reviews refunds (人社部发〔2021〕65号 art. 22).
    #[serde(default)]
    deposit_department: Option<String>,
    /// Working days within which labor inspection contacts a worker who complained (the promise
    /// the complaint page makes; default 3).
    #[serde(default)]
    complaint_contact_days: Option<u32>,
    /// 维权信息告示牌 channels (条例 art. 34(3)); defaults are the national lines.
    #[serde(default)]
    rights_channels: Option<RawChannels>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannels {
    inspection: String,
    industry: String,
    arbitration: String,
    legal_aid: String,
    legal_service: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMinimum {
    /// Division codes (or prefixes) it applies to.
    divisions: Vec<String>,
    /// `YYYY-MM-DD`: in force from.
    from: Spanned<String>,
    /// Yuan per month.
    monthly: Spanned<String>,
    /// The notice that set it.
    #[allow(dead_code)]
    basis: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecurity {
    max_login_failures: u32,
    lockout_minutes: i64,
    idle_timeout_minutes: i64,
    session_max_hours: i64,
    #[serde(default = "default_per_source")]
    login_failures_per_source: u32,
    #[serde(default = "default_window")]
    login_window_minutes: i64,
    #[serde(default = "default_checks")]
    password_checks_at_once: u32,
    #[serde(default)]
    trusted_proxies: Vec<Spanned<String>>,
    #[serde(default = "default_metrics_from")]
    metrics_from: Vec<Spanned<String>>,
    #[serde(default = "default_retention")]
    log_retention_months: Spanned<u32>,
}

fn default_per_source() -> u32 {
    50
}
fn default_window() -> i64 {
    15
}
fn default_retention() -> Spanned<u32> {
    Spanned::new(0..0, 0)
}
fn default_checks() -> u32 {
    2
}
fn default_metrics_from() -> Vec<Spanned<String>> {
    ["127.0.0.1", "::1"].map(|a| Spanned::new(0..0, a.to_string())).into()
}

pub(super) fn parse(
    source: &ConfigSource,
    text: &str,
    divisions: &DivisionRegistry,
    towns: &[TownInput],
    errors: &mut Vec<ConfigError>,
) -> Option<City> {
    let file = source.display_path("city.toml");
    let raw: RawCity = match parse_toml(&file, text) {
        Ok(r) => r,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let mut ctx = Ctx { errors: vec![], file, text };
    let code = divisions.lookup(raw.division_code.get_ref());
    if let Err(e) = &code {
        ctx.err(&raw.division_code, "division_code".into(), e.to_string());
    }
    let hours = WorkingHours::parse(raw.working_hours.get_ref());
    if let Err(e) = &hours {
        ctx.err(&raw.working_hours, "working_hours".into(), e.clone());
    }
    if let Ok(c) = &code
        && let Some(t) = towns.iter().find(|t| !c.contains(&t.code))
    {
        ctx.errors.push(ConfigError::new(
            &source.display_path("divisions/towns.csv"),
            None,
            "township_code",
            format!("{} {} 不在本市 {} 范围内", t.code, t.name, c),
        ));
    }
    let security = security(&raw.security, &mut ctx);
    let wages = wages(&raw.wages, &mut ctx);
    raw.supervision.check(&ctx.file, &mut ctx.errors);
    errors.extend(ctx.errors);
    Some(City {
        supervision: raw.supervision,
        documents: raw.documents,
        wages: wages?,
        name: raw.name,
        division_code: code.ok()?,
        working_hours: hours.ok()?,
        security,
    })
}

/// `[security]`: every count and duration positive; proxies and metrics readers as addresses.
fn security(s: &RawSecurity, ctx: &mut Ctx) -> SecurityConfig {
    if s.max_login_failures == 0
        || s.lockout_minutes <= 0
        || s.idle_timeout_minutes <= 0
        || s.session_max_hours <= 0
        || s.login_failures_per_source == 0
        || s.login_window_minutes <= 0
        || s.password_checks_at_once == 0
    {
        ctx.errors.push(ConfigError::new(&ctx.file.clone(), None, "security", "安全参数必须为正数"));
    }
    let months = *s.log_retention_months.get_ref();
    if months != 0 && !(6..=1200).contains(&months) {
        ctx.err(
            &s.log_retention_months,
            "security.log_retention_months".into(),
            "应为 0（永久保留）或 6–1200 个月：网络日志留存不少于六个月",
        );
    }
    let mut ranges = |list: &[Spanned<String>], field: &str| -> Vec<domain::net::IpRange> {
        let mut out = vec![];
        for (i, a) in list.iter().enumerate() {
            match domain::net::IpRange::parse(a.get_ref()) {
                Ok(r) => out.push(r),
                Err(e) => ctx.err(a, format!("security.{field}[{i}]"), e),
            }
        }
        out
    };
    let trusted_proxies = ranges(&s.trusted_proxies, "trusted_proxies");
    let metrics_from = ranges(&s.metrics_from, "metrics_from");
    SecurityConfig {
        max_login_failures: s.max_login_failures,
        lockout_minutes: s.lockout_minutes,
        idle_timeout_minutes: s.idle_timeout_minutes,
        session_max_hours: s.session_max_hours,
        login_failures_per_source: s.login_failures_per_source,
        login_window_minutes: s.login_window_minutes,
        password_checks_at_once: s.password_checks_at_once,
        trusted_proxies,
        metrics_from,
        log_retention_months: months,
    }
}

/// `[wages]`: the minimum wage and full-month days, and the plausible ranges of what arrives.
fn wages(w: &RawWages, ctx: &mut Ctx) -> Option<domain::wages::WageParams> {
    let minimum = domain::Money::parse_yuan(w.minimum_wage.get_ref());
    if let Err(e) = &minimum {
        ctx.err(&w.minimum_wage, "wages.minimum_wage".into(), e.to_string());
    }
    if !(1..=31).contains(&w.full_month_days) {
        ctx.errors.push(ConfigError::new(&ctx.file.clone(), None, "wages.full_month_days", "应为 1–31 之间的天数"));
    }
    let defaults = domain::wages::ingest::Limits::default();
    let mut yuan = |v: &Option<Spanned<String>>, field: &str, default: i64| -> i64 {
        let Some(v) = v else { return default };
        match domain::Money::parse_yuan(v.get_ref()) {
            Ok(m) if m.fen() > 0 => m.fen(),
            Ok(_) => {
                ctx.err(v, format!("wages.{field}"), "应为正数");
                default
            }
            Err(e) => {
                ctx.err(v, format!("wages.{field}"), e.to_string());
                default
            }
        }
    };
    let limits = domain::wages::ingest::Limits {
        worker_month_max: yuan(&w.worker_month_max, "worker_month_max", defaults.worker_month_max),
        project_amount_max: yuan(&w.project_amount_max, "project_amount_max", defaults.project_amount_max),
        count_max: w.count_max.unwrap_or(defaults.count_max),
    };
    let deposit_cap = if w.deposit_cap.is_some() { yuan(&w.deposit_cap, "deposit_cap", 0) } else { 0 };
    let exempt_below =
        yuan(&w.deposit_exempt_below, "deposit_exempt_below", domain::wages::DepositPolicy::default().exempt_below);
    if limits.count_max <= 0 {
        ctx.errors.push(ConfigError::new(&ctx.file.clone(), None, "wages.count_max", "应为正整数"));
    }
    let mut minimum_wages = vec![];
    for (i, m) in w.minimum.iter().enumerate() {
        let from = time::Date::parse(m.from.get_ref(), &time::macros::format_description!("[year]-[month]-[day]"));
        let monthly = domain::Money::parse_yuan(m.monthly.get_ref());
        match (from, monthly) {
            (Ok(from), Ok(monthly)) if monthly.fen() > 0 && !m.divisions.is_empty() => minimum_wages
                .push(domain::wages::MinimumWage { divisions: m.divisions.clone(), from, monthly: monthly.fen() }),
            (Err(_), _) => ctx.err(&m.from, format!("wages.minimum[{i}].from"), "日期格式应为 2021-12-01"),
            _ => ctx.err(&m.monthly, format!("wages.minimum[{i}].monthly"), "应为正的金额，并列出适用的区划"),
        }
    }
    let dp = domain::wages::DepositPolicy::default();
    let rate_bp = match &w.deposit_rate_percent {
        // Two decimals of a percent are basis points, as fen are of a yuan.
        Some(v) => match domain::Money::parse_yuan(v.get_ref()) {
            Ok(m) if (100..=300).contains(&m.fen()) => m.fen(),
            _ => {
                ctx.err(
                    v,
                    "wages.deposit_rate_percent".into(),
                    "存储比例应在 1 到 3 之间（《工程建设领域农民工工资保证金规定》第十一条）",
                );
                dp.rate_bp
            }
        },
        None => dp.rate_bp,
    };
    let deposit = domain::wages::DepositPolicy { rate_bp, cap: deposit_cap, exempt_below };
    let channels = match &w.rights_channels {
        Some(c) => domain::wages::RightsChannels {
            inspection: c.inspection.clone(),
            industry: c.industry.clone(),
            arbitration: c.arbitration.clone(),
            legal_aid: c.legal_aid.clone(),
            legal_service: c.legal_service.clone(),
        },
        None => Default::default(),
    };
    Some(domain::wages::WageParams {
        minimum_wage: minimum.ok()?.fen(),
        minimum_wages,
        channels,
        deposit,
        deposit_department: w.deposit_department.clone().unwrap_or_else(|| "rsj".into()),
        complaint_contact_days: w.complaint_contact_days.unwrap_or(3).clamp(1, 30),
        full_month_days: w.full_month_days,
        limits,
    })
}
