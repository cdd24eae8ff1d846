//! The columns each kind of row carries: key, Chinese header, type, whether required, and the
//! template's example row.

use super::{Kind, Via};

use ColType::*;

const fn c(key: &'static str, header: &'static str, ty: ColType, required: bool) -> Column {
    Column { key, header, ty, required }
}

const PROJECTS: &[Column] = &[
    c("code", "项目编号", Text, true),
    c("name", "项目名称", Text, true),
    c("address", "项目地址", Text, false),
    c("division_code", "所属区划代码", Division, true),
    c("status", "项目状态", Status, true),
    c("contract_value_fen", "合同金额（元）", Money, false),
    c("government_funded", "政府投资项目", Bool, false),
    c("contract_signed_on", "合同签订日期", Date, false),
    c("permit_on", "施工许可证（开工报告批复）日期", Date, false),
    c("permit_exempt", "依法无需施工许可", Bool, false),
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
    // 条例 art. 27 ¶2.
    c("account_closure_notice_on", "专用账户注销公示日期", Date, false),
    c("account_closed_on", "专用账户注销日期", Date, false),
];

const DEPOSITS: &[Column] = &[
    c("project_code", "项目编号", Text, true),
    c("mode", "缴存方式", DepositMode, true),
    c("required_fen", "应缴金额（元）", Money, false),
    c("paid_fen", "已缴金额（元）", Money, false),
    c("drawn_fen", "动用金额（元）", Money, false),
    c("drawn_on", "动用日期", Date, false),
    c("topped_up_fen", "已补足金额（元）", Money, false),
    // 人社部发〔2021〕65号 arts. 15, 17.
    c("guarantee_fen", "保函金额（元）", Money, false),
    c("guarantee_until", "保函有效期至", Date, false),
];

const ALLOCATIONS: &[Column] = &[
    c("external_id", "流水号", Text, true),
    c("project_code", "项目编号", Text, true),
    c("on_date", "入账日期", Date, true),
    c("amount_fen", "金额（元）", Money, true),
];

const WORKERS: &[Column] = &[
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

const ATTENDANCE: &[Column] = &[
    c("project_code", "项目编号", Text, true),
    c("id_card_no", "身份证号码", IdCard, true),
    c("month", "月份", Month, true),
    c("days", "出勤天数", Days, true),
    c("pieces", "计件量", Count, false),
];

const PAYROLL: &[Column] = &[
    c("project_code", "项目编号", Text, true),
    c("id_card_no", "身份证号码", IdCard, true),
    c("month", "工资月份", Month, true),
    c("due_fen", "应发工资（元）", Money, true),
    // Art. 15 ¶2: the ledger records what was withheld and what is paid; either may be given
    // (the other follows), both must agree.
    c("deductions_fen", "代扣代缴及扣除（元）", Money, false),
    c("net_fen", "实发工资（元）", Money, false),
    c("signed", "本人已签字确认", Bool, false),
    c("complete", "台账要素齐全", Bool, false),
    // 最低工资规定 art. 12: overtime pay is not compared with the minimum wage.
    c("overtime_fen", "其中加班工资（元）", Money, false),
    // Art. 15 ¶3: the worker's own pay slip.
    c("payslip", "已提供本人工资清单", Bool, false),
];

const PAYMENTS: &[Column] = &[
    c("external_id", "流水号", Text, true),
    c("project_code", "项目编号", Text, true),
    c("id_card_no", "身份证号码", IdCard, true),
    c("month", "工资月份", Month, true),
    c("amount_fen", "实发金额（元）", Money, true),
    c("paid_on", "发放日期", Date, true),
    c("method", "发放方式", PayMethod, false),
    c("cross_bank", "跨行发放", Bool, false),
];

// 条例 arts. 26 ¶1, 27 ¶1, 31 ¶3: the payee tells whether a debit paid a worker of the project.
const DEBITS: &[Column] = &[
    c("external_id", "流水号", Text, true),
    c("project_code", "项目编号", Text, true),
    c("on_date", "支出日期", Date, true),
    c("amount_fen", "金额（元）", Money, true),
    c("payee_name", "收款方户名", Text, true),
    c("payee_id_card_no", "收款人身份证号码", IdCard, false),
    c("payee_account", "收款账号", Text, false),
    c("cash", "现金支取", Bool, false),
];

const COMPLAINTS: &[Column] = &[
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

const SIGNALS: &[Column] = &[
    c("external_id", "编号", Text, true),
    c("project_code", "项目编号", Text, false),
    c("employer_uscc", "用人单位统一社会信用代码", Uscc, false),
    c("kind", "信号类型", SignalKind, true),
    c("on_date", "日期", Date, true),
    c("value", "数值", Count, false),
    c("note", "说明", Text, false),
];

const LABOR: &[Column] = &[
    c("uscc", "用人单位统一社会信用代码", Uscc, true),
    c("month", "月份", Month, true),
    c("employees", "从业人数", Count, false),
    c("insured", "参保人数", Count, false),
    c("consultations", "劳动保障咨询件数", Count, false),
    c("complaints", "投诉举报件数", Count, false),
    c("disputes", "劳动争议案件数", Count, false),
    c("collective_risks", "群体性劳资纠纷风险数", Count, false),
    // The harmony index weighs the contract gap and arrears (not questions).
    c("contracted", "签订劳动合同人数", Count, false),
    c("arrears_cases", "欠薪案件数", Count, false),
];

const TALENT: &[Column] = &[
    c("id_card_no", "身份证号码", IdCard, true),
    c("name", "姓名", Text, true),
    c("education", "最高学历", Education, true),
    c("school", "毕业院校", Text, false),
    c("major", "所学专业", Text, false),
];

const EMPLOYMENT: &[Column] = &[
    c("external_id", "登记编号", Text, true),
    c("id_card_no", "身份证号码", IdCard, true),
    c("employer_uscc", "用人单位统一社会信用代码", Uscc, true),
    c("started_on", "入职日期", Date, true),
    c("ended_on", "离职日期", Date, false),
];

const POSTINGS: &[Column] = &[
    c("external_id", "岗位编号", Text, true),
    c("employer_uscc", "用人单位统一社会信用代码", Uscc, true),
    c("title", "岗位名称", Text, true),
    c("education", "学历要求", Education, false),
    c("openings", "招聘人数", Count, true),
    c("applicants", "应聘人数", Count, false),
    c("posted_on", "发布日期", Date, true),
];

impl Kind {
    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::Projects => PROJECTS,
            Kind::Deposits => DEPOSITS,
            Kind::Allocations => ALLOCATIONS,
            Kind::Workers => WORKERS,
            Kind::Attendance => ATTENDANCE,
            Kind::Payroll => PAYROLL,
            Kind::Payments => PAYMENTS,
            Kind::Debits => DEBITS,
            Kind::Complaints => COMPLAINTS,
            Kind::Signals => SIGNALS,
            Kind::Labor => LABOR,
            Kind::Talent => TALENT,
            Kind::Employment => EMPLOYMENT,
            Kind::Postings => POSTINGS,
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
                "2026-02-01",
                "否",
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
                "",
                "",
            ],
            Kind::Deposits => &["BZ-2026-001", "现金缴存", "1720000.00", "1720000.00", "0", "", "0", "", ""],
            Kind::Allocations => &["A20261105001", "BZ-2026-001", "2026-11-05", "860000.00"],
            Kind::Debits => {
                &["D20261115001", "BZ-2026-001", "2026-11-15", "6800.00", "李四", "", "6228480000000000000", "否"]
            }
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
            Kind::Payroll => {
                &["BZ-2026-001", "", "2026-10", "7800.00", "819.00", "6981.00", "是", "是", "600.00", "是"]
            }
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
            Kind::Labor => &["", "2026-10", "120", "118", "2", "0", "0", "0", "118", "0"],
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
            (ColType::PayMethod, _) => "专用账户代发、现金、转入他人账户、实物或有价证券",
            (ColType::SignalKind, _) => "税务异常、社保缴费异常、失信联合惩戒名单、用电量 等",
            (ColType::ComplaintStatus, _) => "受理中、已办结",
            (ColType::Education, _) => "初中及以下、高中、中专/技校、大专、本科、硕士研究生、博士研究生",
            (ColType::Text, _) => "文字",
        }
    }
}
