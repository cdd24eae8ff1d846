//! What other systems send about projects, and how a row of it is checked. Banks, utilities,
//! tax, social insurance, credit, courts and the projects themselves send rows by the API
//! (JSON, money in fen) or as a file (CSV/XLSX with Chinese headers, money in yuan). Each row is
//! parsed into a `Record` or refused with a `Rejection` naming the column and the reason in
//! Chinese; the store writes records and keeps every rejection.

use crate::money::Money;
use crate::wages::{DepositMode, PayMethod, ProjectStatus, SignalKind};
use std::collections::BTreeMap;
use time::Date;

/// How rows arrive; money is fen over the API and yuan in files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Api,
    File,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Api => "api",
            Via::File => "file",
        }
    }
}

/// What a batch carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Projects,
    Deposits,
    Allocations,
    Workers,
    Attendance,
    Payroll,
    Payments,
    /// Every debit of a special account (专用账户支出流水), from its bank.
    Debits,
    Complaints,
    Signals,
    /// An employer's month from social insurance, labor inspection and arbitration
    /// (劳动用工月报): the labor-relations grid reads it.
    Labor,
    /// 人才信息: a person's education, school and major.
    Talent,
    /// 就业登记: a person employed by an employer, and when it ended.
    Employment,
    /// 岗位需求: a job an employer posted and the applicants it drew.
    Postings,
}

crate::coded! {
    /// Who sends a batch. Each kind of data is taken from whoever is its source of truth: the
    /// bank for money that moved through its accounts, the employer for what it keeps itself
    /// (its workers, attendance and payroll ledger — 条例 arts. 15, 28), the departments and
    /// their systems for everything (including what only they know: complaints, 失信 and other
    /// signals, labor reports).
    pub enum Sender ("数据报送方") {
        Bank = ("bank", "银行对接系统"),
        Enterprise = ("enterprise", "用人单位"),
        Authority = ("authority", "主管部门或部门系统"),
    }
}

impl Sender {
    /// The kinds this sender may send.
    pub fn kinds(self) -> &'static [Kind] {
        match self {
            // Transfers from the special account (wages, and every debit of it), the deposit
            // account, labor-cost allocations into the special account.
            Sender::Bank => &[Kind::Payments, Kind::Deposits, Kind::Allocations, Kind::Debits],
            // Its own project details, real-name workers, attendance, the payroll ledger, its
            // employment registrations and job postings. Not payments, deposits or signals: a
            // contractor could otherwise clear its own 失信 flag or declare unpaid wages paid.
            Sender::Enterprise => {
                &[Kind::Projects, Kind::Workers, Kind::Attendance, Kind::Payroll, Kind::Employment, Kind::Postings]
            }
            Sender::Authority => &Kind::ALL,
        }
    }

    pub fn may_send(self, kind: Kind) -> bool {
        self.kinds().contains(&kind)
    }
}

/// How a row meets what is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// An event with an external id from its source: sent twice, kept once.
    Event,
    /// A thing with a natural key (project code, project + ID number, …): a later row updates it.
    Natural,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::Projects,
        Kind::Deposits,
        Kind::Allocations,
        Kind::Workers,
        Kind::Attendance,
        Kind::Payroll,
        Kind::Payments,
        Kind::Debits,
        Kind::Complaints,
        Kind::Signals,
        Kind::Labor,
        Kind::Talent,
        Kind::Employment,
        Kind::Postings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Projects => "projects",
            Kind::Deposits => "deposits",
            Kind::Allocations => "allocations",
            Kind::Workers => "workers",
            Kind::Attendance => "attendance",
            Kind::Payroll => "payroll",
            Kind::Payments => "payments",
            Kind::Debits => "debits",
            Kind::Complaints => "complaints",
            Kind::Signals => "signals",
            Kind::Labor => "labor",
            Kind::Talent => "talent",
            Kind::Employment => "employment",
            Kind::Postings => "postings",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Projects => "在建项目",
            Kind::Deposits => "工资保证金",
            Kind::Allocations => "人工费用拨付（专用账户入账）",
            Kind::Workers => "实名制工人",
            Kind::Attendance => "考勤（出工量）",
            Kind::Payroll => "工资支付台账（应发、代扣、实发）",
            Kind::Payments => "工资代发流水（实发）",
            Kind::Debits => "专用账户支出流水（全部支出）",
            Kind::Complaints => "欠薪投诉",
            Kind::Signals => "外部信号（税务、社保、信用、法院、水电气等）",
            Kind::Labor => "劳动用工月报（参保人数、咨询投诉、争议案件）",
            Kind::Talent => "人才信息（学历、毕业院校、专业）",
            Kind::Employment => "就业登记（入职、离职）",
            Kind::Postings => "岗位需求（招聘岗位与应聘人数）",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn identity(self) -> Identity {
        match self {
            Kind::Allocations
            | Kind::Payments
            | Kind::Debits
            | Kind::Signals
            | Kind::Complaints
            | Kind::Employment
            | Kind::Postings => Identity::Event,
            _ => Identity::Natural,
        }
    }
}

mod columns;
pub use columns::{ColType, Column};

/// A checked value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Date(Date),
    Int(i64),
    Bool(bool),
}

/// A checked row: only the columns the row gave (an absent column is not a blank one: an
/// update leaves it as it was).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub values: BTreeMap<&'static str, Cell>,
}

impl Record {
    pub fn has(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    pub fn text(&self, key: &str) -> Option<&str> {
        match self.values.get(key) {
            Some(Cell::Text(s)) => Some(s),
            _ => None,
        }
    }

    pub fn date(&self, key: &str) -> Option<Date> {
        match self.values.get(key) {
            Some(Cell::Date(d)) => Some(*d),
            _ => None,
        }
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        match self.values.get(key) {
            Some(Cell::Int(i)) => Some(*i),
            _ => None,
        }
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.values.get(key) {
            Some(Cell::Bool(b)) => Some(*b),
            _ => None,
        }
    }
}

/// Why a row was refused: the column (its Chinese header) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub field: String,
    pub reason: String,
}

impl Rejection {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Rejection {
        Rejection { field: field.into(), reason: reason.into() }
    }
}

/// Matches a file's header row to columns. Unknown headers are returned to be reported;
/// a missing required column refuses the whole file.
pub fn map_headers(kind: Kind, headers: &[String]) -> Result<(Vec<Option<&'static Column>>, Vec<String>), String> {
    let mut cols = vec![];
    let mut unknown = vec![];
    for h in headers {
        let c = kind.column(h);
        if c.is_none() && !h.trim().is_empty() {
            unknown.push(h.trim().to_string());
        }
        cols.push(c);
    }
    let missing: Vec<&str> =
        kind.columns().iter().filter(|c| c.required && !cols.contains(&Some(*c))).map(|c| c.header).collect();
    if !missing.is_empty() {
        return Err(format!("文件缺少必填列：{}（请使用“{}”导入模板）", missing.join("、"), kind.label()));
    }
    Ok((cols, unknown))
}

/// Checks one row given as (column, raw text) pairs. Blank cells count as absent.
/// The plausible range of amounts and counts a row may carry (`[wages]` in `city.toml`).
/// A value beyond it is a typing or system error, refused at the edge: stored, it would skew
/// every sum and could clear a real arrears alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// One worker's pay for one month (应发, 实发, a complaint's amount), fen.
    pub worker_month_max: i64,
    /// Any project-level amount (contract value, allocations, deposits, funds), fen.
    pub project_amount_max: i64,
    /// Any count (people, pieces, cases, openings, a signal's value).
    pub count_max: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            worker_month_max: 10_000_000,           // 100,000 yuan
            project_amount_max: 10_000_000_000_000, // 100 billion yuan
            count_max: 1_000_000,
        }
    }
}

impl Limits {
    fn money_max(&self, kind: Kind, col: &Column) -> i64 {
        let per_worker = matches!(
            (kind, col.key),
            (Kind::Payroll, "due_fen" | "deductions_fen" | "net_fen" | "overtime_fen")
                | (Kind::Payments, "amount_fen")
                | (Kind::Complaints, "amount_fen" | "recovered_fen")
        );
        if per_worker { self.worker_month_max } else { self.project_amount_max }
    }
}

/// The longest value any cell may hold before it is read at all (text columns allow 200).
const MAX_CELL_CHARS: usize = 200;

pub fn parse_row<'a>(
    kind: Kind,
    via: Via,
    limits: &Limits,
    cells: impl IntoIterator<Item = (&'static Column, &'a str)>,
) -> Result<Record, Rejection> {
    let mut rec = Record::default();
    for (col, raw) in cells {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        if raw.chars().count() > MAX_CELL_CHARS {
            return Err(Rejection::new(col.header, format!("内容过长（最多{MAX_CELL_CHARS}字）")));
        }
        let cell = parse_cell(kind, col, via, limits, raw).map_err(|r| Rejection::new(col.header, r))?;
        rec.values.insert(col.key, cell);
    }
    for col in kind.columns() {
        if col.required && !rec.has(col.key) {
            return Err(Rejection::new(col.header, format!("“{}”为必填项（{}）", col.header, col.hint(via))));
        }
    }
    check_row(kind, &rec)?;
    if kind == Kind::Payroll {
        settle_net(&mut rec)?;
    }
    Ok(rec)
}

/// A payroll line's 代扣 and 实发 (art. 15 ¶2): from whichever was given, checked against 应发;
/// the record keeps the deductions (实发 is 应发 less them).
fn settle_net(rec: &mut Record) -> Result<(), Rejection> {
    let due = rec.int("due_fen").unwrap_or(0);
    let yuan = |f: i64| Money::from_fen(f).to_yuan_string();
    let deductions = match (rec.int("deductions_fen"), rec.int("net_fen")) {
        (Some(d), Some(n)) if d.checked_add(n) != Some(due) => {
            return Err(Rejection::new(
                "实发工资（元）",
                format!(
                    "应发 {} 元减代扣 {} 元应为实发 {} 元，与填写的 {} 元不符",
                    yuan(due),
                    yuan(d),
                    yuan(due - d),
                    yuan(n)
                ),
            ));
        }
        (Some(d), _) => d,
        (None, Some(n)) => due - n,
        (None, None) => 0,
    };
    if deductions < 0 {
        return Err(Rejection::new("实发工资（元）", format!("实发工资不能多于应发工资（{} 元）", yuan(due))));
    }
    if deductions > due {
        return Err(Rejection::new("代扣代缴及扣除（元）", format!("代扣不能多于应发工资（{} 元）", yuan(due))));
    }
    if rec.int("overtime_fen").is_some_and(|o| o > due) {
        return Err(Rejection::new(
            "其中加班工资（元）",
            format!("加班工资是应发工资的一部分，不能多于应发（{} 元）", yuan(due)),
        ));
    }
    rec.values.remove("net_fen");
    rec.values.insert("deductions_fen", Cell::Int(deductions));
    Ok(())
}

fn parse_cell(kind: Kind, col: &Column, via: Via, limits: &Limits, raw: &str) -> Result<Cell, String> {
    let bad = |what: &str| format!("“{raw}”不是有效的{what}（{}）", col.hint(via));
    Ok(match col.ty {
        ColType::Text => {
            if raw.chars().count() > 200 {
                return Err("内容过长（最多200字）".into());
            }
            Cell::Text(raw.to_string())
        }
        ColType::Date => Cell::Date(parse_date(raw).ok_or_else(|| bad("日期"))?),
        ColType::Month => Cell::Date(parse_month(raw).ok_or_else(|| bad("月份"))?),
        ColType::Money => {
            let fen = match via {
                Via::Api => raw.parse::<i64>().map_err(|_| bad("金额"))?,
                Via::File => Money::parse_yuan(raw).map_err(|e| e.to_string())?.fen(),
            };
            if fen < 0 {
                return Err(format!("金额不能为负数：{raw}"));
            }
            let max = limits.money_max(kind, col);
            if fen > max {
                return Err(format!(
                    "金额 {} 元超出合理范围（{}最多 {} 元），请核对",
                    Money::from_fen(fen).to_yuan_string(),
                    col.header,
                    Money::from_fen(max).to_yuan_string()
                ));
            }
            Cell::Int(fen)
        }
        ColType::Count | ColType::Days | ColType::PayDay => {
            let n: i64 = raw.parse().map_err(|_| bad("整数"))?;
            let (lo, hi) = match col.ty {
                ColType::Days => (0, 31),
                ColType::PayDay => (1, 28),
                _ => (0, limits.count_max),
            };
            if n < lo || n > hi {
                return Err(bad("数值"));
            }
            Cell::Int(n)
        }
        ColType::Bool => Cell::Bool(parse_bool(raw).ok_or_else(|| bad("是/否"))?),
        ColType::IdCard => Cell::Text(crate::IdCardNo::parse(raw).map_err(|e| e.to_string())?.as_str().to_string()),
        ColType::Uscc => Cell::Text(crate::Uscc::parse(raw).map_err(|e| e.to_string())?.as_str().to_string()),
        ColType::Division => {
            Cell::Text(crate::DivisionCode::parse(raw).map_err(|e| e.to_string())?.as_str().to_string())
        }
        ColType::Phone => {
            let digits: String = raw.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
            let ok = digits.chars().all(|c| c.is_ascii_digit())
                && ((digits.len() == 11 && digits.starts_with('1')) || (7..=12).contains(&digits.len()));
            if !ok {
                return Err(bad("电话号码"));
            }
            Cell::Text(digits)
        }
        ColType::Status => Cell::Text(ProjectStatus::parse(raw).ok_or_else(|| bad("项目状态"))?.as_str().into()),
        ColType::DepositMode => Cell::Text(DepositMode::parse(raw).ok_or_else(|| bad("缴存方式"))?.as_str().into()),
        ColType::PayMethod => Cell::Text(PayMethod::parse(raw).ok_or_else(|| bad("发放方式"))?.as_str().into()),
        ColType::SignalKind => Cell::Text(SignalKind::parse(raw).ok_or_else(|| bad("信号类型"))?.as_str().into()),
        ColType::Education => {
            Cell::Text(crate::wages::talent::Education::parse(raw).ok_or_else(|| bad("最高学历"))?.as_str().into())
        }
        ColType::ComplaintStatus => {
            Cell::Text(crate::wages::ComplaintStatus::parse_loose(raw).ok_or_else(|| bad("办理状态"))?.as_str().into())
        }
    })
}

/// Rules across columns of one row.
fn check_row(kind: Kind, r: &Record) -> Result<(), Rejection> {
    let after = |early: &str, late: &str, early_h: &str, late_h: &str| -> Result<(), Rejection> {
        if let (Some(a), Some(b)) = (r.date(early), r.date(late))
            && b < a
        {
            return Err(Rejection::new(late_h, format!("{late_h}（{b}）早于{early_h}（{a}）")));
        }
        Ok(())
    };
    match kind {
        Kind::Projects => {
            after("start_on", "finish_on", "开工日期", "竣工日期")?;
            if r.has("account_opened_on") && !(r.has("account_bank") && r.has("account_no")) {
                return Err(Rejection::new("专用账户账号", "填写专用账户开户日期时须同时填写开户银行和账号"));
            }
        }
        Kind::Workers => {
            after("joined_on", "left_on", "进场日期", "离场日期")?;
            after("left_on", "settled_on", "离场日期", "结算确认日期")?;
            if r.has("settled_on") && !r.has("left_on") {
                return Err(Rejection::new("离场日期", "已填写结算确认日期，须同时填写离场日期"));
            }
        }
        Kind::Allocations | Kind::Payments | Kind::Debits => {
            if r.int("amount_fen") == Some(0) {
                return Err(Rejection::new(
                    kind.columns().iter().find(|c| c.key == "amount_fen").map(|c| c.header).unwrap_or("金额"),
                    "金额须大于零",
                ));
            }
            if let (Some(m), Some(on)) = (r.date("month"), r.date("paid_on"))
                && on < m
            {
                return Err(Rejection::new("发放日期", format!("发放日期（{on}）早于工资月份（{}）", month_label(m))));
            }
        }
        Kind::Complaints | Kind::Signals => {
            if !r.has("project_code") && !r.has("employer_uscc") {
                return Err(Rejection::new("项目编号", "项目编号和用人单位统一社会信用代码至少填写一项"));
            }
            if kind == Kind::Complaints {
                after("received_on", "closed_on", "受理日期", "办结日期")?;
            }
        }
        Kind::Labor => {
            if let (Some(i), Some(e)) = (r.int("insured"), r.int("employees"))
                && i > e
            {
                return Err(Rejection::new("参保人数", format!("参保人数（{i}）多于从业人数（{e}）")));
            }
        }
        Kind::Employment => after("started_on", "ended_on", "入职日期", "离职日期")?,
        Kind::Postings => {
            if r.int("openings") == Some(0) {
                return Err(Rejection::new("招聘人数", "招聘人数须大于零"));
            }
        }
        Kind::Deposits | Kind::Attendance | Kind::Payroll | Kind::Talent => {}
    }
    Ok(())
}

pub fn month_label(m: Date) -> String {
    format!("{}年{}月", m.year(), u8::from(m.month()))
}

/// `2026-11-05`, `2026/11/5`, `2026.11.5`, `2026年11月5日`, `20261105`.
pub fn parse_date(s: &str) -> Option<Date> {
    let s = crate::text::normalize_ascii(s);
    let s = s.trim();
    let parts: Vec<&str> = if s.len() == 8 && s.chars().all(|c| c.is_ascii_digit()) {
        vec![&s[..4], &s[4..6], &s[6..]]
    } else {
        s.trim_end_matches('日').split(['-', '/', '.', '年', '月']).collect()
    };
    if parts.len() != 3 {
        return None;
    }
    let y: i32 = parts[0].parse().ok()?;
    let m: u8 = parts[1].parse().ok()?;
    let d: u8 = parts[2].parse().ok()?;
    if !(1900..=2200).contains(&y) {
        return None;
    }
    Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()
}

/// `2026-10`, `2026/10`, `2026年10月`, `202610`, or any date in the month.
pub fn parse_month(s: &str) -> Option<Date> {
    if let Some(d) = parse_date(s) {
        return Some(super::first_of_month(d));
    }
    let s = crate::text::normalize_ascii(s);
    let s = s.trim().trim_end_matches('月');
    let (y, m) = if s.len() == 6 && s.chars().all(|c| c.is_ascii_digit()) {
        (&s[..4], &s[4..])
    } else {
        s.split_once(['-', '/', '.', '年'])?
    };
    let y: i32 = y.parse().ok()?;
    let m: u8 = m.parse().ok()?;
    if !(1900..=2200).contains(&y) {
        return None;
    }
    Date::from_calendar_date(y, time::Month::try_from(m).ok()?, 1).ok()
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "是" | "有" | "y" | "yes" | "true" | "1" | "√" => Some(true),
        "否" | "无" | "n" | "no" | "false" | "0" | "×" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
