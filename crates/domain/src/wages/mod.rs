//! 满薪满益: migrant-worker wage monitoring under 《保障农民工工资支付条例》 (State Council Order
//! No. 724, "the Regulation"). This module turns what is known about a construction project —
//! parties, the wage special account (农民工工资专用账户) and its flows, the wage guarantee
//! deposit (工资保证金), real-name workers, contracts, attendance, payroll, payments, complaints
//! and outside signals (utilities, tax, social insurance, credit, courts) — into the facts the
//! wage indicators (`config/wages/indicators.toml`) are written over. Every fact is documented
//! in `config/schemas/wage_project.toml`; the computation is here so it is tested without IO.

use crate::calendar::WorkCalendar;
use crate::expr::{Facts, Value};
use time::{Date, Duration, Month};

crate::coded! {
    /// 项目状态.
    pub enum ProjectStatus ("项目状态") {
        Planned = ("planned", "未开工"),
        Building = ("building", "在建"),
        Suspended = ("suspended", "停工"),
        Completed = ("completed", "已竣工"),
    }
}

crate::coded! {
    /// Where a wage complaint (欠薪投诉) stands.
    pub enum ComplaintStatus ("投诉办理状态") {
        Open = ("open", "受理中"),
        Closed = ("closed", "已办结"),
    }
}

impl ComplaintStatus {
    /// Also the words a source system may use (处理中, 办结).
    pub fn parse_loose(s: &str) -> Option<ComplaintStatus> {
        ComplaintStatus::parse(s).or(match s {
            "处理中" => Some(ComplaintStatus::Open),
            "办结" => Some(ComplaintStatus::Closed),
            _ => None,
        })
    }
}

crate::coded! {
    /// How the wage guarantee deposit (工资保证金, Arts. 32–33) is provided.
    pub enum DepositMode ("保证金缴存方式") {
        /// Nothing provided yet.
        None = ("none", "未缴存"),
        /// Cash into the deposit account.
        Cash = ("cash", "现金缴存"),
        /// A bank guarantee (银行保函) replaces the cash.
        Guarantee = ("guarantee", "银行保函"),
        /// Exempt (e.g. contract under 3 million yuan and no arrears in the past year).
        Exempt = ("exempt", "免缴"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deposit {
    pub mode: DepositMode,
    /// What the rate (1–3 % of the contract value) requires, in fen.
    pub required: i64,
    pub paid: i64,
    /// Paid out to workers from the deposit (动用), and when; it must be topped up within 10
    /// working days.
    pub drawn: i64,
    pub drawn_on: Option<Date>,
    pub topped_up: i64,
    /// A bank guarantee's amount (fen) and last valid day (人社部发〔2021〕65号 arts. 15, 17).
    pub guarantee: i64,
    pub guarantee_until: Option<Date>,
}

impl Default for Deposit {
    fn default() -> Self {
        Deposit {
            mode: DepositMode::None,
            required: 0,
            paid: 0,
            drawn: 0,
            drawn_on: None,
            topped_up: 0,
            guarantee: 0,
            guarantee_until: None,
        }
    }
}

/// The city's deposit rate (工程建设领域农民工工资保证金规定, 人社部发〔2021〕65号 art. 11 ¶1:
/// a share of the construction contract value, at least 1 % and at most 3 %, optionally
/// capped per project), and the contract value below which a project may be exempt (¶3:
/// 3 million yuan, adjustable by the province).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositPolicy {
    /// Basis points of the contract value: 100 = 1 %.
    pub rate_bp: i64,
    /// Fen; 0: no cap.
    pub cap: i64,
    /// Fen.
    pub exempt_below: i64,
}

impl Default for DepositPolicy {
    fn default() -> Self {
        DepositPolicy { rate_bp: 100, cap: 0, exempt_below: 300_000_000 }
    }
}

/// What a project's deposit must be, from its contract value and the contractor's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositAssessment {
    /// Basis points after the record's increase.
    pub rate_bp: i64,
    /// Fen.
    pub required: i64,
    /// May be exempt (art. 11 ¶3): under the threshold and no arrears in the year before.
    pub exempt_eligible: bool,
}

/// Art. 11 and 12: the rate, raised by at least 50 % after wage arrears in the two years
/// before and by at least 100 % for a contractor on the serious-dishonesty list for arrears;
/// never beyond the cap; the exemption only under the threshold with a clean year.
pub fn assess_deposit(
    contract_value: i64,
    policy: &DepositPolicy,
    arrears_two_years: bool,
    arrears_one_year: bool,
    seriously_dishonest: bool,
) -> DepositAssessment {
    let rate_bp = if seriously_dishonest {
        policy.rate_bp * 2
    } else if arrears_two_years {
        policy.rate_bp * 3 / 2
    } else {
        policy.rate_bp
    };
    let mut required =
        ((contract_value.max(0) as i128 * rate_bp as i128 + 9_999) / 10_000).min(i64::MAX as i128) as i64;
    if policy.cap > 0 {
        required = required.min(policy.cap);
    }
    DepositAssessment {
        rate_bp,
        required,
        exempt_eligible: contract_value < policy.exempt_below && !arrears_one_year && !seriously_dishonest,
    }
}

crate::coded! {
    /// 支付方式.
    pub enum PayMethod ("支付方式") {
        /// By bank from the special account to the worker's own card (Art. 31).
        Bank = ("bank", "专用账户代发"),
        Cash = ("cash", "现金"),
        /// Into someone else's account (a team leader's, a relative's).
        ThirdParty = ("third_party", "转入他人账户"),
        /// Goods, vouchers or other securities instead of money: forbidden (art. 11; penalty
        /// art. 54(1)).
        InKind = ("in_kind", "实物或有价证券"),
    }
}

/// A real-name registered (or merely observed) worker on the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    pub id: String,
    /// 实名登记 done before work (Art. 28).
    pub registered: bool,
    /// A labor contract (written or electronic) exists.
    pub contract: bool,
    pub joined_on: Date,
    pub left_on: Option<Date>,
    /// The worker confirmed the final settlement (离场结算确认).
    pub settled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendance {
    pub worker: String,
    /// First day of the month.
    pub month: Date,
    pub days: i64,
}

/// One worker's line of a monthly pay sheet (工资支付台账).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayLine {
    pub worker: String,
    pub month: Date,
    /// 应发, fen.
    pub due: i64,
    /// 代扣、代缴、扣除 (tax, the worker's social insurance, advances), fen: art. 15 ¶2 has the
    /// ledger record them beside 应发 and 实发.
    pub deductions: i64,
    /// Signed or confirmed by the worker (Art. 31).
    pub signed: bool,
    /// All fields Art. 15 requires are present.
    pub complete: bool,
    /// 延长工作时间的工资 (overtime pay) within 应发, fen: not part of the wage compared with
    /// the minimum (最低工资规定 art. 12).
    pub overtime: i64,
    /// The worker was given their own pay slip (工资清单, art. 15 ¶3); None when the sender
    /// did not say.
    pub payslip: Option<bool>,
}

/// A debit of the special account as its bank reports it (条例 art. 27 ¶1: the bank's daily
/// management of the account). Wages go from it straight to the worker's own bank account (art.
/// 31 ¶3); anything else — a transfer to the contractor or a subcontractor, a cash withdrawal,
/// another project's worker — spends money that is for this project's wages only (art. 26 ¶1,
/// penalty art. 55(1)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDebit {
    pub on: Date,
    /// Fen.
    pub amount: i64,
    /// The payee as the bank names it (户名).
    pub payee: String,
    /// The worker of this project whose own account (by ID number or wage card) received it.
    pub worker: Option<String>,
    /// Withdrawn in cash.
    pub cash: bool,
}

impl AccountDebit {
    /// Whether this debit pays one of the project's workers into their own account (条例 arts.
    /// 26 ¶1, 31 ¶3). The balance left after a lawful closure belongs to the contractor (art. 27
    /// ¶2), so debits from then on are not counted here.
    pub fn to_own_worker(&self) -> bool {
        self.worker.is_some() && !self.cash
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub worker: String,
    /// The wage month this pays.
    pub month: Date,
    pub amount: i64,
    pub on: Date,
    pub method: PayMethod,
}

impl PayLine {
    /// 实发: what the worker is to receive, and what payments are compared with (art. 15 ¶2);
    /// never below zero.
    pub fn net(&self) -> i64 {
        self.due.saturating_sub(self.deductions).max(0)
    }
}

/// Channels complaints arrive by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    pub received_on: Date,
    /// 12345, 12333, 信访, 平台, 网格 … (as the source names it; every channel counts).
    pub channel: String,
    /// A collective wage claim (群体性讨薪).
    pub collective: bool,
}

/// A fact from another system: tax, social insurance, credit, courts, market supervision,
/// grid workers. `value` carries a level where the kind has one (violation class 1–3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    pub kind: SignalKind,
    pub on: Date,
    pub value: i64,
}

crate::coded! {
    pub enum SignalKind ("外部信号类型") {
        TaxAnomaly = ("tax_anomaly", "税务异常"),
        SocialInsuranceAnomaly = ("social_insurance_anomaly", "社保缴费异常"),
        CreditAnomaly = ("credit_anomaly", "信用异常"),
        PropertyAnomaly = ("property_anomaly", "物业异常"),
        BusinessAbnormal = ("business_abnormal", "经营异常名录"),
        Dishonest = ("dishonest", "失信联合惩戒名单"),
        /// The employer's 劳动保障守法诚信等级 (条例 art. 47: the 人社 department keeps an integrity
        /// file and grades employers): value 1 = A (守法诚信, the best), 2 = B (基本守法诚信),
        /// 3 = C (不守法诚信, the worst) — a higher number is a worse grade.
        ViolationRecord = ("violation_record", "劳动保障守法诚信等级"),
        AnnualReviewAnomaly = ("annual_review_anomaly", "书面审查异常"),
        WorkInjury = ("work_injury", "工伤"),
        GridReport = ("grid_report", "网格员报告"),
        /// A worker's social-security or bank card, bound to the wage account, held back by
        /// the employer or anyone else (art. 31 ¶4; penalty art. 54(3)) — found by inspection,
        /// a grid worker or a complaint.
        CardsWithheld = ("cards_withheld", "扣押社保卡或银行卡"),
        Water = ("water", "用水量"),
        Electricity = ("electricity", "用电量"),
        Gas = ("gas", "用气量"),
    }
}

impl SignalKind {
    /// The departments (by config code) that are the source of truth for this kind; a county
    /// office of the same department (`qcq_rsj` for `rsj`) counts as it. Utility readings come
    /// from the utilities through the data-sharing platform, not from a department.
    pub fn sources(self) -> &'static [&'static str] {
        match self {
            SignalKind::TaxAnomaly => &["swj"],
            SignalKind::SocialInsuranceAnomaly => &["rsj", "ybj"],
            SignalKind::CreditAnomaly => &["fgw", "jrj"],
            SignalKind::PropertyAnomaly => &["zjj"],
            SignalKind::BusinessAbnormal => &["scjgj"],
            // 拖欠农民工工资失信联合惩戒名单 is kept by 人社 (条例 art. 48); 失信被执行人 by the courts.
            SignalKind::Dishonest => &["rsj", "zy"],
            // The 守法诚信等级 (art. 47), written review and work injuries: 人社.
            SignalKind::ViolationRecord | SignalKind::AnnualReviewAnomaly | SignalKind::WorkInjury => &["rsj"],
            SignalKind::GridReport => &["rsj", "zjj"],
            SignalKind::CardsWithheld => &["rsj", "gaj", "zjj"],
            SignalKind::Water | SignalKind::Electricity | SignalKind::Gas => &[],
        }
    }

    /// Whether a sender of `department` (None: a system or the data-sharing platform relaying
    /// the sources; or `data_office`, the 数据资源局 that runs it) may send this kind.
    pub fn sent_by(self, department: Option<&str>, data_office: &str) -> bool {
        match department {
            None => true,
            Some(d) if d == data_office => true,
            Some(d) => self.sources().iter().any(|s| d == *s || d.ends_with(&format!("_{s}"))),
        }
    }

    /// Utility readings form a series; the other kinds are events.
    pub fn is_reading(self) -> bool {
        matches!(self, SignalKind::Water | SignalKind::Electricity | SignalKind::Gas)
    }
}

/// The letter of an integrity grade as the source sends it (1 = A … 3 = C); none for other
/// values. A is the best grade: 条例 art. 47 has employers graded for their compliance, and
/// the 人社部 grading (劳动保障守法诚信等级评价办法) names A 守法诚信, B 基本守法诚信, C 不守法诚信.
pub fn integrity_grade(value: i64) -> Option<&'static str> {
    match value {
        1 => Some("A"),
        2 => Some("B"),
        3 => Some("C"),
        _ => None,
    }
}

/// Everything known about one project, as of the evaluation day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectData {
    pub code: String,
    /// 行政区划 of the site: the minimum wage is set per division.
    pub division: String,
    pub status: ProjectStatus,
    pub contract_value: i64,
    pub government_funded: bool,
    pub contract_signed_on: Option<Date>,
    /// The construction permit (施工许可证) or approval of the start report (开工报告批复).
    pub permit_on: Option<Date>,
    /// The works need no permit by law (so the deposit runs from contract signing).
    pub permit_exempt: bool,
    pub start_on: Option<Date>,
    /// Project, special account and tripartite agreement (三方协议) registered on the platform.
    pub registered_on: Option<Date>,
    pub account_opened_on: Option<Date>,
    pub tripartite_on: Option<Date>,
    /// 条例 art. 27 ¶2: the 30-day public notice before closing the special account, and its
    /// closure.
    pub account_closure_notice_on: Option<Date>,
    pub account_closed_on: Option<Date>,
    /// 劳资专管员 named (Art. 28).
    pub labor_manager: bool,
    /// 维权信息告示牌 photo uploaded (Art. 34).
    pub notice_board: bool,
    /// 工程款支付担保 (Art. 24).
    pub payment_guarantee: bool,
    /// Day of the month on which the previous month's wages are due (1–28).
    pub pay_day: u8,
    /// 工程进度款 paid to the contractor so far, fen.
    pub progress_paid: i64,
    pub gov_funds_required: i64,
    pub gov_funds_in_place: i64,
    pub deposit: Deposit,
    /// A refund of the deposit applied for and awaiting the department's review (人社部发
    /// 〔2021〕65号 art. 22 ¶2): the day of the application.
    pub refund_applied_on: Option<Date>,
    /// Labor-cost allocations (人工费用拨付) into the special account.
    pub allocations: Vec<(Date, i64)>,
    pub workers: Vec<Worker>,
    pub attendance: Vec<Attendance>,
    pub payroll: Vec<PayLine>,
    pub payments: Vec<Payment>,
    /// Every debit of the special account, from its bank.
    pub debits: Vec<AccountDebit>,
    pub complaints: Vec<Complaint>,
    pub signals: Vec<Signal>,
}

/// A monthly minimum wage (最低工资标准) in force from `from` in the divisions whose code
/// starts with one of `divisions` (最低工资规定 art. 7: areas may differ; art. 10: adjusted
/// at least every two years).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinimumWage {
    pub divisions: Vec<String>,
    pub from: Date,
    /// Fen.
    pub monthly: i64,
}

/// 条例 art. 34(3): the complaint and report lines of the industry department and of labor
/// inspection, where to apply for labor-dispute mediation and arbitration and for legal aid,
/// and the public legal-service hotline, as each site's 维权信息告示牌 shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightsChannels {
    pub inspection: String,
    pub industry: String,
    pub arbitration: String,
    pub legal_aid: String,
    pub legal_service: String,
}

impl Default for RightsChannels {
    fn default() -> Self {
        RightsChannels {
            inspection: "12333（人力资源社会保障咨询投诉热线）".into(),
            industry: "12345（政务服务便民热线）".into(),
            arbitration: "向用人单位所在地的劳动人事争议仲裁委员会申请调解、仲裁".into(),
            legal_aid: "12348（法律援助）".into(),
            legal_service: "12348（公共法律服务热线）".into(),
        }
    }
}

/// Parameters from the city's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WageParams {
    /// The monthly minimum wage, fen, where `minimum_wages` names nothing for a division and
    /// month.
    pub minimum_wage: i64,
    /// The standards by division and date; a month is checked against the one then in force.
    pub minimum_wages: Vec<MinimumWage>,
    /// The channels every site's 维权信息告示牌 lists (art. 34(3)).
    pub channels: RightsChannels,
    pub deposit: DepositPolicy,
    /// The department (config code) that holds deposits and reviews their refund: the 属地人力
    /// 资源社会保障行政部门 of 人社部发〔2021〕65号 art. 22.
    pub deposit_department: String,
    /// Working days within which a complaint's worker is contacted (a promise, not a statute).
    pub complaint_contact_days: u32,
    /// Attendance days from which a worker counts as full-month for the minimum-wage check.
    pub full_month_days: i64,
    /// Plausible ranges of amounts and counts in what systems and files send.
    pub limits: ingest::Limits,
}

impl WageParams {
    /// The minimum wage in force in `division` in the month starting `month`: of the
    /// standards in force by then, the newest with the most specific division prefix.
    pub fn minimum_on(&self, division: &str, month: Date) -> i64 {
        self.minimum_wages
            .iter()
            .filter(|w| w.from <= last_of_month(month))
            .filter_map(|w| {
                let len = w.divisions.iter().filter(|d| division.starts_with(d.as_str())).map(|d| d.len()).max()?;
                Some((w.from, len, w.monthly))
            })
            .max_by_key(|(from, len, _)| (*from, *len))
            .map(|(_, _, m)| m)
            .unwrap_or(self.minimum_wage)
    }
}

pub fn first_of_month(d: Date) -> Date {
    d.replace_day(1).expect("day 1 exists")
}

pub fn next_month(m: Date) -> Date {
    let (y, mo) =
        if m.month() == Month::December { (m.year() + 1, Month::January) } else { (m.year(), m.month().next()) };
    Date::from_calendar_date(y, mo, 1).expect("valid month")
}

pub fn prev_month(m: Date) -> Date {
    let (y, mo) =
        if m.month() == Month::January { (m.year() - 1, Month::December) } else { (m.year(), m.month().previous()) };
    Date::from_calendar_date(y, mo, 1).expect("valid month")
}

fn last_of_month(m: Date) -> Date {
    next_month(m) - Duration::days(1)
}

/// The day wages of `month` are due: `pay_day` of the following month.
pub fn due_date(month: Date, pay_day: u8) -> Date {
    let n = next_month(month);
    n.replace_day(pay_day.clamp(1, 28)).expect("day 1-28 exists")
}

/// The latest wage month whose pay day has come: last month from the pay day on, the month
/// before until then. Checks of "last month's" payroll look at this month, so nothing is
/// reported unpaid before it is due.
pub fn last_due_month(today: Date, pay_day: u8) -> Date {
    let m = prev_month(first_of_month(today));
    if today >= due_date(m, pay_day) { m } else { prev_month(m) }
}

/// Art. 14: a pay day on a holiday or rest day moves to the last working day before it.
pub fn effective_pay_day(month: Date, pay_day: u8, cal: &WorkCalendar) -> Date {
    let mut d = due_date(month, pay_day);
    while !cal.is_working_day(d) {
        d = d.previous_day().expect("date in range");
    }
    d
}

pub mod complaint;
mod facts;
pub use facts::{ACCOUNT_CLOSURE_NOTICE_DAYS, ACCOUNT_OPEN_DAYS, deposit_clock_from, project_facts};
pub mod contract;
pub mod demo;
pub mod ingest;
pub mod labor;
pub mod refund;
pub mod talent;

#[cfg(test)]
mod tests;

crate::audit_actions! {
    /// Actions of the wage case (满薪满益): monitoring data, contracts, employers, talent.
    pub enum WagesAudit {
        Import = ("wages.import", "工资监测数据导入"),
        View = ("wages.view", "查看在建项目"),
        Export = ("wages.export", "导出在建项目"),
        MonthConfirm = ("wages.month.confirm", "确认月度工资"),
        ComplaintFile = ("wages.complaint.file", "提交欠薪投诉"),
        ComplaintStep = ("wages.complaint.step", "办理欠薪投诉"),
        ComplaintEscalate = ("wages.complaint.escalate", "欠薪投诉超期上报"),
        ComplaintExport = ("wages.complaint.export", "导出欠薪投诉"),
        ContractIssue = ("wages.contract.issue", "发起电子劳动合同"),
        ContractSign = ("wages.contract.sign", "签署电子劳动合同"),
        ContractDecline = ("wages.contract.decline", "拒签电子劳动合同"),
        ContractView = ("wages.contract.view", "查看电子劳动合同"),
        EmployerView = ("labor.employer.view", "查看用人单位用工信息"),
        EmployerUpdate = ("labor.employer.update", "修改用人单位用工信息"),
        LaborExport = ("labor.export", "导出用工信息"),
        Place = ("labor.place", "标注用人单位位置"),
        TalentExport = ("talent.export", "导出人才信息"),
        RefundCommit = ("wages.refund.commit", "承诺并公示申请返还工资保证金"),
        RefundApply = ("wages.refund.apply", "申请返还工资保证金"),
        RefundConfirm = ("wages.refund.confirm", "出具工资保证金返还确认书"),
        RefundRefuse = ("wages.refund.refuse", "不予返还工资保证金"),
    }
}

/// Object types of the wage case's records.
pub const AUDIT_OBJECTS: &[(&str, &str)] = &[
    ("employer", "用人单位"),
    ("enterprises", "市场主体"),
    ("project", "工程项目"),
    ("contract", "电子劳动合同"),
    ("wage_month", "月度工资"),
    ("complaint", "欠薪投诉"),
    ("wage_complaint", "欠薪投诉"),
    ("talent", "人才信息"),
    ("ingest_batch", "导入批次"),
    ("wage_ingest", "工资监测数据接口"),
    ("labor", "劳动关系数据"),
    ("wage_contract", "电子劳动合同"),
    ("wage_project", "工程项目"),
];
