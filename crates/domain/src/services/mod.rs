//! 一键申报 (one-click services): the catalogue model and the pure rules of applying —
//! form checks, material assembly and the verification decisions. The store reads and
//! writes; what is decided is decided here.

pub mod catalog;
pub mod rules;
pub mod stability;

use crate::workflow::Status;

crate::coded! {
    /// What an asked department answers to a 跨部门协查 request: the fact is true, false, or
    /// true only in part (the answer's text says which part).
    pub enum XOutcome ("协查结论") {
        Confirmed = ("confirmed", "属实"),
        Denied = ("denied", "不属实"),
        Partly = ("partly", "部分属实"),
    }
}

/// An application's status as the applicant reads it (the workflow's own labels are the
/// officers').
pub fn applicant_label(s: Status) -> &'static str {
    match s {
        Status::Running => "审核中",
        Status::Correcting => "待补正",
        Status::Approved => "已办结",
        Status::Rejected => "不予受理/不予许可",
        Status::Withdrawn => "已撤回",
    }
}

/// The 办件编号 (受理号) of an application: the year and its serial in the year's series,
/// `20260000123`; eleven digits, easy to read out on the phone and to type into a search.
pub fn case_no(year: i64, serial: i64) -> String {
    format!("{year}{serial:07}")
}

crate::audit_actions! {
    /// Actions of one-click services, the data exchange and e-licenses.
    pub enum ServicesAudit {
        Submit = ("services.submit", "一键申报提交"),
        Verify = ("services.verify", "材料自动核验"),
        Archive = ("services.archive", "办结归档"),
        Item = ("services.item", "启用或停用事项"),
        ItemCreate = ("services.item.create", "新建办事事项"),
        ItemEdit = ("services.item.edit", "修改办事事项"),
        ItemsExport = ("services.items.export", "导出办事事项"),
        StatsExport = ("services.stats.export", "导出办件统计"),
        XRequest = ("services.xrequest", "发起部门协查"),
        XAnswer = ("services.xanswer", "答复部门协查"),
        XRequestOverdue = ("services.xrequest.overdue", "部门协查超期"),
        ExchangePush = ("exchange.push", "推送共享数据"),
        ExchangeImport = ("exchange.import", "导入共享数据"),
        ExchangeView = ("exchange.view", "查看共享数据调用日志"),
        LicenseIssue = ("license.issue", "签发电子证照"),
        DocumentIssue = ("document.issue", "签发电子文书"),
        LicenseView = ("license.view", "查看电子证照"),
        LicenseVerify = ("license.verify", "核验电子证照"),
        LicenseDownload = ("license.download", "下载电子证照"),
        LicenseRevoke = ("license.revoke", "注销电子证照"),
        StabilityIdentify = ("services.stability.identify", "识别稳岗返还免申即享单位"),
        StabilityGrant = ("services.stability.grant", "核定发放稳岗返还"),
        StabilityView = ("services.stability.view", "查看稳岗返还核定通知"),
    }
}

/// Object types of one-click services' records.
pub const AUDIT_OBJECTS: &[(&str, &str)] = &[
    ("svc_item", "办事事项"),
    ("dx_record", "共享数据记录"),
    ("dx_interface", "共享数据接口"),
    ("dx_calls", "共享数据调用日志"),
    ("license", "电子证照"),
    ("services", "申报统计"),
    ("stability_year", "稳岗返还年度"),
    ("stability_notice", "稳岗返还核定通知书"),
];
