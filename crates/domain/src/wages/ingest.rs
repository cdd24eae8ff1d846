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

/// How a row meets what is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// An event with an external id from its source: sent twice, kept once.
    Event,
    /// A thing with a natural key (project code, project + ID number, …): a later row updates it.
    Natural,
}

impl Kind {
    pub const ALL: [Kind; 13] = [
        Kind::Projects,
        Kind::Deposits,
        Kind::Allocations,
        Kind::Workers,
        Kind::Attendance,
        Kind::Payroll,
        Kind::Payments,
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
            Kind::Payroll => "工资支付台账（应发）",
            Kind::Payments => "工资代发流水（实发）",
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
            | Kind::Signals
            | Kind::Complaints
            | Kind::Employment
            | Kind::Postings => Identity::Event,
            _ => Identity::Natural,
        }
    }

    pub fn columns(self) -> &'static [Column] {
        use ColType::*;
        const fn c(key: &'static str, header: &'static str, ty: ColType, required: bool) -> Column {
            Column { key, header, ty, required }
        }
        match self {
            Kind::Projects => {
                const C: &[Column] = &[
                    c("code", "项目编号", Text, true),
                    c("name", "项目名称", Text, true),
                    c("address", "项目地址", Text, false),
                    c("division_code", "所属区划代码", Division, true),
                    c("status", "项目状态", Status, true),
                    c("contract_value_fen", "合同金额（元）", Money, false),
                    c("government_funded", "政府投资项目", Bool, false),
                    c("contract_signed_on", "合同签订日期", Date, false),
                    c("start_on", "开工日期", Date, false),
                    c("finish_on", "竣工日期", Date, false),
                    c("registered_on", "平台登记日期", Date, false),
                    c("tripartite_on", "三方协议签订日期", Date, false),
                    c("builder_uscc", "建设单位统一社会信用代码", Uscc, false),
                    c("builder_name", "建设单位名称", Text, false),
                    c("contractor_uscc", "总包单位统一社会信用代码", Uscc, false),
                    c("contractor_name", "总包单位名称", Text, false),
                    c("labor_manager_name", "劳资专管员", Text, false),
                    c("labor_manager_phone", "劳资专管员电话", Phone, false),
                    c("notice_board_on", "维权告示牌设立日期", Date, false),
                    c("payment_guarantee", "工程款支付担保", Bool, false),
                    c("pay_day", "工资支付日", PayDay, false),
                    c("progress_paid_fen", "已拨付工程进度款（元）", Money, false),
                    c("gov_funds_required_fen", "政府应到位资金（元）", Money, false),
                    c("gov_funds_in_place_fen", "政府已到位资金（元）", Money, false),
                    c("account_bank", "专用账户开户银行", Text, false),
                    c("account_no", "专用账户账号", Text, false),
                    c("account_opened_on", "专用账户开户日期", Date, false),
                ];
                C
            }
            Kind::Deposits => {
                const C: &[Column] = &[
                    c("project_code", "项目编号", Text, true),
                    c("mode", "缴存方式", DepositMode, true),
                    c("required_fen", "应缴金额（元）", Money, false),
                    c("paid_fen", "已缴金额（元）", Money, false),
                    c("drawn_fen", "动用金额（元）", Money, false),
                    c("drawn_on", "动用日期", Date, false),
                    c("topped_up_fen", "已补足金额（元）", Money, false),
                ];
                C
            }
            Kind::Allocations => {
                const C: &[Column] = &[
                    c("external_id", "流水号", Text, true),
                    c("project_code", "项目编号", Text, true),
                    c("on_date", "入账日期", Date, true),
                    c("amount_fen", "金额（元）", Money, true),
                ];
                C
            }
            Kind::Workers => {
                const C: &[Column] = &[
                    c("project_code", "项目编号", Text, true),
                    c("id_card_no", "身份证号码", IdCard, true),
                    c("name", "姓名", Text, true),
                    c("phone", "手机号码", Phone, false),
                    c("bank", "工资卡开户银行", Text, false),
                    c("bank_card", "工资卡号", Text, false),
                    c("team", "班组", Text, false),
                    c("registered", "已实名登记", Bool, false),
                    c("contract", "已签劳动合同", Bool, false),
                    c("joined_on", "进场日期", Date, true),
                    c("left_on", "离场日期", Date, false),
                    c("settled_on", "结算确认日期", Date, false),
                ];
                C
            }
            Kind::Attendance => {
                const C: &[Column] = &[
                    c("project_code", "项目编号", Text, true),
                    c("id_card_no", "身份证号码", IdCard, true),
                    c("month", "月份", Month, true),
                    c("days", "出勤天数", Days, true),
                    c("pieces", "计件量", Count, false),
                ];
                C
            }
            Kind::Payroll => {
                const C: &[Column] = &[
                    c("project_code", "项目编号", Text, true),
                    c("id_card_no", "身份证号码", IdCard, true),
                    c("month", "工资月份", Month, true),
                    c("due_fen", "应发工资（元）", Money, true),
                    c("signed", "本人已签字确认", Bool, false),
                    c("complete", "台账要素齐全", Bool, false),
                ];
                C
            }
            Kind::Payments => {
                const C: &[Column] = &[
                    c("external_id", "流水号", Text, true),
                    c("project_code", "项目编号", Text, true),
                    c("id_card_no", "身份证号码", IdCard, true),
                    c("month", "工资月份", Month, true),
                    c("amount_fen", "实发金额（元）", Money, true),
                    c("paid_on", "发放日期", Date, true),
                    c("method", "发放方式", PayMethod, false),
                    c("cross_bank", "跨行发放", Bool, false),
                ];
                C
            }
            Kind::Complaints => {
                const C: &[Column] = &[
                    c("external_id", "投诉编号", Text, true),
                    c("project_code", "项目编号", Text, false),
                    c("employer_uscc", "用人单位统一社会信用代码", Uscc, false),
                    c("channel", "投诉渠道", Text, true),
                    c("complainant", "投诉人", Text, false),
                    c("amount_fen", "投诉金额（元）", Money, false),
                    c("received_on", "受理日期", Date, true),
                    c("collective", "群体性讨薪", Bool, false),
                    c("status", "办理状态", ComplaintStatus, false),
                    c("recovered_fen", "追回金额（元）", Money, false),
                    c("closed_on", "办结日期", Date, false),
                ];
                C
            }
            Kind::Signals => {
                const C: &[Column] = &[
                    c("external_id", "编号", Text, true),
                    c("project_code", "项目编号", Text, false),
                    c("employer_uscc", "用人单位统一社会信用代码", Uscc, false),
                    c("kind", "信号类型", SignalKind, true),
                    c("on_date", "日期", Date, true),
                    c("value", "数值", Count, false),
                    c("note", "说明", Text, false),
                ];
                C
            }
            Kind::Labor => {
                const C: &[Column] = &[
                    c("uscc", "用人单位统一社会信用代码", Uscc, true),
                    c("month", "月份", Month, true),
                    c("employees", "从业人数", Count, false),
                    c("insured", "参保人数", Count, false),
                    c("consultations", "劳动保障咨询件数", Count, false),
                    c("complaints", "投诉举报件数", Count, false),
                    c("disputes", "劳动争议案件数", Count, false),
                    c("collective_risks", "群体性劳资纠纷风险数", Count, false),
                ];
                C
            }
            Kind::Talent => {
                const C: &[Column] = &[
                    c("id_card_no", "身份证号码", IdCard, true),
                    c("name", "姓名", Text, true),
                    c("education", "最高学历", Education, true),
                    c("school", "毕业院校", Text, false),
                    c("major", "所学专业", Text, false),
                ];
                C
            }
            Kind::Employment => {
                const C: &[Column] = &[
                    c("external_id", "登记编号", Text, true),
                    c("id_card_no", "身份证号码", IdCard, true),
                    c("employer_uscc", "用人单位统一社会信用代码", Uscc, true),
                    c("started_on", "入职日期", Date, true),
                    c("ended_on", "离职日期", Date, false),
                ];
                C
            }
            Kind::Postings => {
                const C: &[Column] = &[
                    c("external_id", "岗位编号", Text, true),
                    c("employer_uscc", "用人单位统一社会信用代码", Uscc, true),
                    c("title", "岗位名称", Text, true),
                    c("education", "学历要求", Education, false),
                    c("openings", "招聘人数", Count, true),
                    c("applicants", "应聘人数", Count, false),
                    c("posted_on", "发布日期", Date, true),
                ];
                C
            }
        }
    }

    /// Columns a file or API row may name, by key or by header.
    pub fn column(self, name: &str) -> Option<&'static Column> {
        let n = name.trim().trim_start_matches('*').trim_end_matches('*').trim();
        self.columns().iter().find(|c| c.key == n || c.header == n)
    }

    /// One example row for the download template (file form: yuan, Chinese labels).
    pub fn example(self) -> &'static [&'static str] {
        match self {
            Kind::Projects => &[
                "BZ-2026-001",
                "亳州市某安置小区二期",
                "谯城区古井镇",
                "341602",
                "在建",
                "86000000.00",
                "是",
                "2026-01-10",
                "2026-02-15",
                "",
                "2026-02-01",
                "2026-02-05",
                "",
                "",
                "",
                "",
                "张三",
                "13800000000",
                "2026-02-14",
                "是",
                "15",
                "20000000.00",
                "0",
                "0",
                "中国工商银行亳州分行",
                "1306000000000001",
                "2026-02-03",
            ],
            Kind::Deposits => &["BZ-2026-001", "现金缴存", "1720000.00", "1720000.00", "0", "", "0"],
            Kind::Allocations => &["A20261105001", "BZ-2026-001", "2026-11-05", "860000.00"],
            Kind::Workers => &[
                "BZ-2026-001",
                "",
                "李四",
                "13900000000",
                "中国农业银行",
                "6228480000000000000",
                "钢筋班",
                "是",
                "是",
                "2026-03-01",
                "",
                "",
            ],
            Kind::Attendance => &["BZ-2026-001", "", "2026-10", "26", "0"],
            Kind::Payroll => &["BZ-2026-001", "", "2026-10", "7800.00", "是", "是"],
            Kind::Payments => {
                &["P20261115001", "BZ-2026-001", "", "2026-10", "7800.00", "2026-11-15", "专用账户代发", "否"]
            }
            Kind::Complaints => &[
                "12345-20261120-0001",
                "BZ-2026-001",
                "",
                "12345",
                "王五",
                "15600.00",
                "2026-11-20",
                "否",
                "受理中",
                "0",
                "",
            ],
            Kind::Signals => &["E-20261101-01", "BZ-2026-001", "", "用电量", "2026-11-01", "12000", "11月抄表"],
            Kind::Labor => &["", "2026-10", "120", "118", "2", "0", "0", "0"],
            Kind::Talent => &["", "李四", "本科", "亳州学院", "中药学"],
            Kind::Employment => &["JY-20261101-001", "", "", "2026-11-01", ""],
            Kind::Postings => &["GW-20261101-001", "", "中药炮制工", "中专/技校", "5", "2", "2026-11-01"],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Text,
    Date,
    /// A wage month: `2026-10`, `2026-10-01`, `2026年10月`; stored as its first day.
    Month,
    /// Fen over the API, yuan in files; never negative.
    Money,
    /// A non-negative whole number.
    Count,
    /// Attendance days in a month, 0–31.
    Days,
    /// Day of the month wages are paid, 1–28.
    PayDay,
    Bool,
    IdCard,
    Uscc,
    Division,
    Phone,
    Status,
    DepositMode,
    PayMethod,
    SignalKind,
    ComplaintStatus,
    /// 最高学历: 初中及以下 … 博士研究生.
    Education,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub key: &'static str,
    pub header: &'static str,
    pub ty: ColType,
    pub required: bool,
}

impl Column {
    /// What to write in this column, for templates and error messages.
    pub fn hint(&self, via: Via) -> &'static str {
        match (self.ty, via) {
            (ColType::Date, _) => "日期，如 2026-11-05",
            (ColType::Month, _) => "月份，如 2026-10",
            (ColType::Money, Via::Api) => "金额，单位分（整数）",
            (ColType::Money, Via::File) => "金额，单位元，最多两位小数",
            (ColType::Count, _) => "非负整数",
            (ColType::Days, _) => "0–31 的整数",
            (ColType::PayDay, _) => "1–28 的整数",
            (ColType::Bool, _) => "是 或 否",
            (ColType::IdCard, _) => "18 位居民身份证号码",
            (ColType::Uscc, _) => "18 位统一社会信用代码",
            (ColType::Division, _) => "行政区划代码，如 341602",
            (ColType::Phone, _) => "11 位手机号码或座机号码",
            (ColType::Status, _) => "未开工、在建、停工、已竣工",
            (ColType::DepositMode, _) => "未缴存、现金缴存、银行保函、免缴",
            (ColType::PayMethod, _) => "专用账户代发、现金、转入他人账户",
            (ColType::SignalKind, _) => "税务异常、社保缴费异常、失信联合惩戒名单、用电量 等",
            (ColType::ComplaintStatus, _) => "受理中、已办结",
            (ColType::Education, _) => "初中及以下、高中、中专/技校、大专、本科、硕士研究生、博士研究生",
            (ColType::Text, _) => "文字",
        }
    }
}

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
            (Kind::Payroll, "due_fen")
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
    Ok(rec)
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
            Cell::Text(crate::talent::Education::parse(raw).ok_or_else(|| bad("最高学历"))?.as_str().into())
        }
        ColType::ComplaintStatus => Cell::Text(
            match raw {
                "open" | "受理中" | "处理中" => "open",
                "closed" | "已办结" | "办结" => "closed",
                _ => return Err(bad("办理状态")),
            }
            .into(),
        ),
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
        Kind::Allocations | Kind::Payments => {
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
mod tests {
    use super::*;

    fn row(kind: Kind, via: Via, pairs: &[(&str, &str)]) -> Result<Record, Rejection> {
        parse_row(
            kind,
            via,
            &Limits::default(),
            pairs.iter().map(|(k, v)| (kind.column(k).unwrap_or_else(|| panic!("{k}")), *v)),
        )
    }

    #[test]
    fn a_payment_row_in_yuan_from_a_file_and_in_fen_from_the_api() {
        let file = row(
            Kind::Payments,
            Via::File,
            &[
                ("流水号", "P1"),
                ("项目编号", "BZ-1"),
                ("身份证号码", "11010519491231002X"),
                ("工资月份", "2026年10月"),
                ("实发金额（元）", "7,800.50"),
                ("发放日期", "2026/11/15"),
            ],
        )
        .unwrap();
        assert_eq!(file.int("amount_fen"), Some(780_050));
        assert_eq!(file.date("month"), Some(time::macros::date!(2026 - 10 - 01)));
        let api = row(
            Kind::Payments,
            Via::Api,
            &[
                ("external_id", "P1"),
                ("project_code", "BZ-1"),
                ("id_card_no", "11010519491231002x"),
                ("month", "2026-10"),
                ("amount_fen", "780050"),
                ("paid_on", "2026-11-15"),
            ],
        )
        .unwrap();
        assert_eq!(api, file, "same record either way");
    }

    #[test]
    fn bad_rows_say_which_column_and_why_in_chinese() {
        let base = [
            ("流水号", "P1"),
            ("项目编号", "BZ-1"),
            ("身份证号码", "11010519491231002X"),
            ("工资月份", "2026-10"),
            ("实发金额（元）", "100"),
            ("发放日期", "2026-11-15"),
        ];
        let with = |k: &str, v: &'static str| {
            let mut p: Vec<(&str, &str)> = base.iter().filter(|(h, _)| *h != k).copied().collect();
            p.push((k, v));
            row(Kind::Payments, Via::File, &p).unwrap_err()
        };
        let e = with("身份证号码", "110105194912310021");
        assert_eq!(e.field, "身份证号码");
        assert!(e.reason.contains("校验码"), "{e:?}");
        let e = with("实发金额（元）", "12.345");
        assert!(e.reason.contains("两位小数"), "{e:?}");
        let e = with("实发金额（元）", "-5");
        assert!(e.reason.contains("负数"), "{e:?}");
        let e = with("实发金额（元）", "0");
        assert!(e.reason.contains("大于零"), "{e:?}");
        let e = with("发放日期", "2026-02-30");
        assert!(e.reason.contains("不是有效的日期"), "{e:?}");
        let e = with("发放日期", "2026-09-30");
        assert!(e.reason.contains("早于工资月份"), "{e:?}");
        let e = with("流水号", "");
        assert!(e.reason.contains("必填"), "{e:?}");
    }

    #[test]
    fn headers_by_key_or_chinese_and_missing_required_columns() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (cols, unknown) =
            map_headers(Kind::Attendance, &h(&["*项目编号", "id_card_no", "月份", "出勤天数", "备注"])).unwrap();
        assert_eq!(cols.iter().filter(|c| c.is_some()).count(), 4);
        assert_eq!(unknown, vec!["备注".to_string()]);
        let err = map_headers(Kind::Attendance, &h(&["项目编号", "月份"])).unwrap_err();
        assert!(err.contains("身份证号码") && err.contains("出勤天数"), "{err}");
    }

    #[test]
    fn every_kind_has_a_template_row_that_parses_once_ids_are_filled() {
        for kind in Kind::ALL {
            assert_eq!(kind.columns().len(), kind.example().len(), "{kind:?}");
            let cells = kind.columns().iter().zip(kind.example()).map(|(c, v)| match (c.ty, v.is_empty()) {
                (ColType::IdCard, true) => (c, "11010519491231002X"),
                (ColType::Uscc, true) if c.required => (c, "91110108551385082Q"),
                _ => (c, *v),
            });
            parse_row(kind, Via::File, &Limits::default(), cells).unwrap_or_else(|e| panic!("{kind:?}: {e:?}"));
        }
    }

    #[test]
    fn dates_and_months_as_people_write_them() {
        let d = time::macros::date!(2026 - 11 - 05);
        for s in ["2026-11-05", "2026/11/5", "2026.11.05", "2026年11月5日", "20261105", "２０２６-11-05"] {
            assert_eq!(parse_date(s), Some(d), "{s}");
        }
        let m = time::macros::date!(2026 - 10 - 01);
        for s in ["2026-10", "2026/10", "2026年10月", "202610", "2026-10-31"] {
            assert_eq!(parse_month(s), Some(m), "{s}");
        }
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_date("2026-11"), None);
    }
}
