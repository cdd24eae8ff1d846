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

/// Sets a date fact when there is a date.
fn opt_date(f: &mut Facts, name: &str, d: Option<Date>) {
    if let Some(d) = d {
        f.set(name, d);
    }
}

/// The facts of `p` on `today`; see `config/schemas/wage_project.toml` for each one's meaning.
pub fn project_facts(p: &ProjectData, today: Date, cal: &WorkCalendar, params: &WageParams) -> Facts {
    let mut f = Facts::new();
    let building = p.status == ProjectStatus::Building;
    f.set("status", p.status.as_str());
    f.set("building", building);
    f.set("contract_value", p.contract_value);
    f.set("government_funded", p.government_funded);
    registration_facts(&mut f, p, today);
    let deposit_due = deposit_facts(&mut f, p, today, params);
    allocation_facts(&mut f, p, today, building);
    let on_site = worker_facts(&mut f, p, today);
    month_facts(&mut f, p, today, params);
    top_pay_facts(&mut f, p, today);
    let oldest_arrear = arrears_facts(&mut f, p, today);
    account_facts(&mut f, p, today, oldest_arrear.is_some());
    f.set(
        "deposit_refund_overdue_days",
        p.refund_applied_on.map_or(0, |on| refund::review_overdue_days(on, today, cal)),
    );
    payment_day_facts(&mut f, p, today, cal);
    signal_facts(&mut f, p, today);
    let d90 = today - Duration::days(90);
    // Government projects: funds in place (Arts. 23, 59).
    f.set(
        "government_funds_shortfall",
        if p.government_funded { (p.gov_funds_required - p.gov_funds_in_place).max(0) } else { 0 },
    );

    // The "six systems" (六项制度): real-name, deposit, separate labor-cost account, bank
    // payment, notice board, full monthly pay.
    let six = [
        on_site.iter().all(|w| w.registered),
        deposit_due == 0,
        p.account_opened_on.is_some(),
        p.payments.iter().filter(|x| x.on > d90).all(|x| x.method == PayMethod::Bank),
        p.notice_board,
        oldest_arrear.is_none(),
    ];
    f.set("six_systems", six.iter().filter(|b| **b).count() as i64);
    f
}

fn registration_facts(f: &mut Facts, p: &ProjectData, today: Date) {
    opt_date(f, "start_on", p.start_on);
    opt_date(f, "contract_signed_on", p.contract_signed_on);
    opt_date(f, "deposit_clock_from", deposit_clock_from(p));
    // Registration before start (Arts. 26, 28): all three on or before the start day.
    let before_start = |d: Option<Date>| matches!((d, p.start_on), (Some(d), Some(s)) if d <= s);
    f.set(
        "registered_before_start",
        p.start_on.is_none()
            || (before_start(p.registered_on) && before_start(p.account_opened_on) && before_start(p.tripartite_on)),
    );
    f.set("account_opened", p.account_opened_on.is_some_and(|d| d <= today));
    f.set("labor_manager", p.labor_manager);
    f.set("notice_board", p.notice_board);
    f.set("payment_guarantee", p.payment_guarantee);
}

/// The special account's lifecycle: opened, with the three-party agreement, within 30 days of the
/// construction contract (农民工工资专用账户管理暂行办法); closed only after completion, with no
/// wages owed and a 30-day public notice (条例 art. 27 ¶2).
fn account_facts(f: &mut Facts, p: &ProjectData, today: Date, owing: bool) {
    let late = p.contract_signed_on.map_or(0, |signed| {
        let due = signed + Duration::days(ACCOUNT_OPEN_DAYS);
        let by = |d: Option<Date>| d.unwrap_or(today).min(today);
        ((by(p.account_opened_on).max(by(p.tripartite_on)) - due).whole_days()).max(0)
    });
    f.set("account_setup_days_late", late);
    let improper = p.account_closed_on.is_some_and(|closed| {
        p.status != ProjectStatus::Completed
            || owing
            || p.account_closure_notice_on.is_none_or(|n| closed < n + Duration::days(ACCOUNT_CLOSURE_NOTICE_DAYS))
    });
    f.set("account_closed_improperly", improper);
    // After a lawful closure the balance is the contractor's (art. 27 ¶2).
    let lawful_close = p.account_closed_on.filter(|_| !improper);
    let misused: Vec<&AccountDebit> =
        p.debits.iter().filter(|d| !d.to_own_worker() && lawful_close.is_none_or(|c| d.on < c)).collect();
    f.set("account_misuses", misused.len() as i64);
    f.set("account_misused_fen", misused.iter().fold(0i64, |a, d| a.saturating_add(d.amount)));
}

/// Days after the construction contract within which the special account is opened and the
/// three-party agreement signed (农民工工资专用账户管理暂行办法, 人社部发〔2021〕53号).
pub const ACCOUNT_OPEN_DAYS: i64 = 30;

/// Days of public notice before the special account may be closed (条例 art. 27 ¶2).
pub const ACCOUNT_CLOSURE_NOTICE_DAYS: i64 = 30;

/// When the 20 working days for the wage deposit start: the day the construction permit (施工
/// 许可证) or the approval of the start report (开工报告批复) was obtained; for works that by
/// law need neither, the day the construction contract was signed (工程建设领域农民工工资保证金
/// 规定, 人社部发〔2021〕65号, art. 8). None while the permit is still awaited.
pub fn deposit_clock_from(p: &ProjectData) -> Option<Date> {
    if p.permit_exempt { p.contract_signed_on } else { p.permit_on }
}

/// The deposit still due (条例 art. 32; 人社部发〔2021〕65号 arts. 11, 12, 15), computed from the
/// contract value and the contractor's record rather than taken from the sender: cash short of
/// it, a guarantee for less, or an exemption the project is not eligible for all leave it due.
fn deposit_facts(f: &mut Facts, p: &ProjectData, today: Date, params: &WageParams) -> i64 {
    let d = &p.deposit;
    let from = deposit_clock_from(p).unwrap_or(today);
    let within = |on: Date, days: i64| on <= from && on > from - Duration::days(days);
    // Arrears on record: complaints of wage arrears and a 失信 listing before the deposit.
    let arrears_in = |days: i64| p.complaints.iter().any(|c| within(c.received_on, days));
    let dishonest = p.signals.iter().any(|s| s.kind == SignalKind::Dishonest && s.value != 0 && s.on <= from);
    let a = assess_deposit(p.contract_value, &params.deposit, arrears_in(730), arrears_in(365), dishonest);
    let deposit_due = match d.mode {
        DepositMode::Exempt if a.exempt_eligible => 0,
        DepositMode::Guarantee => a.required.saturating_sub(d.guarantee).max(0),
        DepositMode::Exempt | DepositMode::None | DepositMode::Cash => a.required.saturating_sub(d.paid).max(0),
    };
    f.set("deposit_mode", d.mode.as_str());
    f.set("deposit_required", a.required);
    f.set("deposit_rate_bp", a.rate_bp);
    f.set("deposit_exemption_unfounded", d.mode == DepositMode::Exempt && !a.exempt_eligible);
    f.set("deposit_due", deposit_due);
    // Art. 17: a guarantee valid through the works; the department reminds a month before.
    if d.mode == DepositMode::Guarantee
        && p.status == ProjectStatus::Building
        && let Some(until) = d.guarantee_until
    {
        f.set("guarantee_days_left", (until - today).whole_days());
    }
    f.set("deposit_topup_due", d.drawn.saturating_sub(d.topped_up).max(0));
    opt_date(f, "deposit_drawn_on", d.drawn_on);
    deposit_due
}

fn allocation_facts(f: &mut Facts, p: &ProjectData, today: Date, building: bool) {
    // Labor-cost allocations (Arts. 24, 29).
    let allocated: i64 =
        p.allocations.iter().filter(|(on, _)| *on <= today).map(|(_, a)| *a).fold(0, i64::saturating_add);
    f.set("allocated_total", allocated);
    f.set("progress_paid", p.progress_paid);
    let last_allocation = p.allocations.iter().filter(|(on, _)| *on <= today).map(|(on, _)| *on).max();
    opt_date(f, "last_allocation_on", last_allocation);
    // Days the account has gone without labor cost while building: since the last allocation,
    // or since the start when there never was one.
    let since = last_allocation.or(p.start_on);
    f.set(
        "days_without_allocation",
        if building { since.map(|s| (today - s).whole_days().max(0)).unwrap_or(0) } else { 0 },
    );
}

/// The workers on site today.
fn worker_facts<'p>(f: &mut Facts, p: &'p ProjectData, today: Date) -> Vec<&'p Worker> {
    // Workers on site today.
    let on_site: Vec<&Worker> =
        p.workers.iter().filter(|w| w.joined_on <= today && w.left_on.is_none_or(|l| l > today)).collect();
    f.set("workers_on_site", on_site.len() as i64);
    f.set("workers_unregistered", on_site.iter().filter(|w| !w.registered).count() as i64);
    f.set("workers_without_contract", on_site.iter().filter(|w| !w.contract).count() as i64);
    f.set(
        "departed_unsettled",
        p.workers.iter().filter(|w| w.left_on.is_some_and(|l| l <= today) && !w.settled).count() as i64,
    );
    on_site
}

fn month_facts(f: &mut Facts, p: &ProjectData, today: Date, params: &WageParams) {
    // The last month whose wages are due.
    let m = last_due_month(today, p.pay_day);
    let attending: Vec<&Attendance> = p.attendance.iter().filter(|a| a.month == m && a.days > 0).collect();
    let paid_in = |worker: &str, month: Date| -> i64 {
        p.payments
            .iter()
            .filter(|x| x.worker == worker && x.month == month && x.on <= today)
            .map(|x| x.amount)
            .fold(0, i64::saturating_add)
    };
    f.set("attendance_headcount", attending.len() as i64);
    f.set("paid_headcount", attending.iter().filter(|a| paid_in(&a.worker, m) > 0).count() as i64);
    let with_line = |w: &str, month: Date| p.payroll.iter().any(|l| l.worker == w && l.month == month);
    let no_record = attending.iter().filter(|a| !with_line(&a.worker, m)).count() as i64;
    f.set("attending_without_wage_record", no_record);
    f.set(
        "attending_without_wage_record_pct",
        if attending.is_empty() { 0 } else { no_record * 100 / attending.len() as i64 },
    );
    // Each full-month worker's wage for normal hours against the minimum in force in the
    // site's division that month (条例 art. 12; 最低工资规定 art. 12: overtime pay, special
    // allowances and statutory benefits are not counted). An average would hide the one worker
    // paid below it. Only when the month's wages are due.
    let minimum = params.minimum_on(&p.division, m);
    let full: Vec<i64> = attending
        .iter()
        .filter(|a| a.days >= params.full_month_days)
        .map(|a| {
            let lines: Vec<&PayLine> = p.payroll.iter().filter(|l| l.worker == a.worker && l.month == m).collect();
            if lines.is_empty() {
                paid_in(&a.worker, m)
            } else {
                lines.iter().map(|l| l.due.saturating_sub(l.overtime.clamp(0, l.due))).fold(0i64, i64::saturating_add)
            }
        })
        .collect();
    if !full.is_empty() {
        f.set("average_wage", full.iter().copied().fold(0i64, i64::saturating_add) / full.len() as i64);
    }
    f.set("workers_below_minimum", full.iter().filter(|w| **w < minimum).count() as i64);
    f.set("minimum_wage", minimum);
    f.set("payroll_unsigned", p.payroll.iter().filter(|l| l.month == m && !l.signed).count() as i64);
    // Art. 15 ¶3: the worker is given their own pay slip with the wage.
    f.set("payslips_missing", p.payroll.iter().filter(|l| l.month == m && l.payslip == Some(false)).count() as i64);
    let year_ago = today - Duration::days(365);
    f.set(
        "payroll_incomplete",
        p.payroll.iter().filter(|l| l.month >= first_of_month(year_ago) && !l.complete).count() as i64,
    );
}

fn top_pay_facts(f: &mut Facts, p: &ProjectData, today: Date) {
    let year_ago = today - Duration::days(365);
    // Highest pay of one worker in one month and over the last 365 days.
    let mut month_max = 0;
    let mut year_max = 0;
    let mut by_worker: std::collections::BTreeMap<(&str, Date), i64> = Default::default();
    let mut by_worker_year: std::collections::BTreeMap<&str, i64> = Default::default();
    for x in p.payments.iter().filter(|x| x.on <= today) {
        // Saturating: stored data must never make the evaluation panic or wrap.
        let m = by_worker.entry((x.worker.as_str(), x.month)).or_default();
        *m = m.saturating_add(x.amount);
        if x.on > year_ago {
            let y = by_worker_year.entry(x.worker.as_str()).or_default();
            *y = y.saturating_add(x.amount);
        }
    }
    for v in by_worker.values() {
        month_max = month_max.max(*v);
    }
    for v in by_worker_year.values() {
        year_max = year_max.max(*v);
    }
    f.set("max_worker_month_pay", month_max);
    f.set("max_worker_year_pay", year_max);
}

/// The pay-by date of the oldest month in arrears, if any.
fn arrears_facts(f: &mut Facts, p: &ProjectData, today: Date) -> Option<Date> {
    // Arrears: per wage month, what the workers are to receive (实发: 应发 less what was
    // withheld, art. 15 ¶2) against what was paid by its due date. Comparing 应发 with the
    // transfers would count every deduction as arrears.
    let months: std::collections::BTreeSet<Date> = p.payroll.iter().map(|l| l.month).collect();
    let mut oldest_arrear: Option<Date> = None;
    let mut unpaid_through_account = 0;
    let mut arrears_total = 0;
    for &month in &months {
        let due: i64 = p.payroll.iter().filter(|l| l.month == month).map(PayLine::net).fold(0, i64::saturating_add);
        let paid_all: i64 = p
            .payments
            .iter()
            .filter(|x| x.month == month && x.on <= today)
            .map(|x| x.amount)
            .fold(0, i64::saturating_add);
        let pay_by = due_date(month, p.pay_day);
        if today > pay_by && paid_all < due {
            arrears_total = due.saturating_sub(paid_all).saturating_add(arrears_total);
            oldest_arrear = Some(oldest_arrear.map_or(pay_by, |o: Date| o.min(pay_by)));
        }
        // Art. 31 / provincial indicator 1: through the special account by the end of the
        // following month.
        let end_next = last_of_month(next_month(month));
        let via_account: i64 = p
            .payments
            .iter()
            .filter(|x| x.month == month && x.method == PayMethod::Bank && x.on <= end_next && x.on <= today)
            .map(|x| x.amount)
            .fold(0, i64::saturating_add);
        if today > end_next && via_account < due {
            unpaid_through_account += 1;
        }
    }
    f.set("arrears_days", oldest_arrear.map(|d| (today - d).whole_days()).unwrap_or(0));
    f.set("arrears_total", arrears_total);
    f.set("months_unpaid_through_account", unpaid_through_account);
    oldest_arrear
}

fn payment_day_facts(f: &mut Facts, p: &ProjectData, today: Date, cal: &WorkCalendar) {
    // Payments in cash or to a third party in the last 90 days (Art. 31).
    let d90 = today - Duration::days(90);
    let recent_by = |m: PayMethod| p.payments.iter().filter(|x| x.on > d90 && x.on <= today && x.method == m).count();
    f.set("cash_or_third_party_payments", (recent_by(PayMethod::Cash) + recent_by(PayMethod::ThirdParty)) as i64);
    // Art. 11: money only, never goods or vouchers.
    f.set("in_kind_payments", recent_by(PayMethod::InKind) as i64);
    // Art. 14: over the last three closed months, pay days on a rest day that were not moved
    // earlier: the money arrived after the last working day before the pay day.
    let mut not_advanced = 0;
    let mut mm = prev_month(first_of_month(today));
    for _ in 0..3 {
        let nominal = due_date(mm, p.pay_day);
        if nominal <= today && !cal.is_working_day(nominal) {
            let effective = effective_pay_day(mm, p.pay_day, cal);
            let late =
                p.payments.iter().any(|x| x.month == mm && x.on > effective && x.on <= nominal + Duration::days(7));
            if late {
                not_advanced += 1;
            }
        }
        mm = prev_month(mm);
    }
    f.set("pay_day_not_advanced", not_advanced);
}

fn signal_facts(f: &mut Facts, p: &ProjectData, today: Date) {
    // Complaints and incidents.
    let recent = |d: Date, days: i64| d > today - Duration::days(days) && d <= today;
    // Every complaint counts, whatever channel it came by (条例 art. 10: the departments accept
    // complaints by every channel they publish — 12345, 12333, 信访, the platform itself …).
    f.set("complaints_90d", p.complaints.iter().filter(|c| recent(c.received_on, 90)).count() as i64);
    f.set(
        "collective_incidents_90d",
        p.complaints.iter().filter(|c| c.collective && recent(c.received_on, 90)).count() as i64,
    );

    // Signals from other systems.
    let count =
        |k: SignalKind, days: i64| p.signals.iter().filter(|s| s.kind == k && recent(s.on, days)).count() as i64;
    f.set("tax_anomalies_90d", count(SignalKind::TaxAnomaly, 90));
    f.set("social_insurance_anomalies_90d", count(SignalKind::SocialInsuranceAnomaly, 90));
    f.set("credit_anomalies_90d", count(SignalKind::CreditAnomaly, 90) + count(SignalKind::PropertyAnomaly, 90));
    f.set("annual_review_anomaly", count(SignalKind::AnnualReviewAnomaly, 365) > 0);
    f.set("work_injuries_90d", count(SignalKind::WorkInjury, 90));
    f.set("grid_reports_30d", count(SignalKind::GridReport, 30));
    f.set("cards_withheld_90d", count(SignalKind::CardsWithheld, 90));
    // Listings hold until a later signal of value 0 lifts them.
    let latest = |k: SignalKind| p.signals.iter().filter(|s| s.kind == k && s.on <= today).max_by_key(|s| s.on);
    f.set("dishonest", latest(SignalKind::Dishonest).is_some_and(|s| s.value != 0));
    f.set("business_abnormal", latest(SignalKind::BusinessAbnormal).is_some_and(|s| s.value != 0));
    // The integrity grade (条例 art. 47): the latest within two years, "A" best to "C" worst;
    // "" when none was given.
    f.set(
        "integrity_grade",
        latest(SignalKind::ViolationRecord)
            .filter(|s| recent(s.on, 730))
            .and_then(|s| integrity_grade(s.value))
            .unwrap_or("")
            .to_string(),
    );
    for (k, name) in [(SignalKind::Water, "water"), (SignalKind::Electricity, "electricity"), (SignalKind::Gas, "gas")]
    {
        let mut series: Vec<(Date, i64)> =
            p.signals.iter().filter(|s| s.kind == k && s.on <= today).map(|s| (s.on, s.value)).collect();
        series.sort();
        f.set(name, Value::Series(series));
    }
}

pub mod complaint;
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
