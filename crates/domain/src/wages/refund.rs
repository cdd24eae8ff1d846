//! Refund of the wage deposit (工资保证金返还) after the works are complete, under 工程建设领域
//! 农民工工资保证金规定 (人社部发〔2021〕65号) art. 22: the general contractor commits in writing
//! that no wage arrears of the works are unresolved and publicises it for 30 days on the site's
//! 维权信息告示牌 and the 人社 department's portal; then it may apply. The department reviews
//! within 5 working days of the application and, within 3 working days of the review, issues
//! the 工资保证金返还（销户）确认书 to the bank and the contractor (or returns the original bank
//! guarantee). Here the review and the confirmation are one act, so the 3 days are always met.

use super::{DepositMode, ProjectStatus};
use crate::calendar::WorkCalendar;
use time::{Date, Duration};

/// Days of publicity before the refund may be applied for (art. 22 ¶1).
pub const PUBLICITY_DAYS: i64 = 30;
/// Working days the department has to review an application (art. 22 ¶2).
pub const REVIEW_WORKING_DAYS: u32 = 5;

crate::coded! {
    pub enum RefundStatus ("工资保证金返还状态") {
        Publicising = ("publicising", "承诺公示中"),
        Applied = ("applied", "已申请，待人社部门审核"),
        Confirmed = ("confirmed", "已出具返还确认书"),
        Refused = ("refused", "不予返还"),
    }
}

/// The written commitment of art. 22 ¶1, in the contractor's words.
pub fn commitment(contractor: &str, project: &str) -> String {
    format!(
        "{contractor}承诺：“{project}”工程已完工，该工程不存在未解决的拖欠农民工工资问题。如有不实，本单位依法承担全部责任。"
    )
}

/// Whether the contractor may commit and start the publicity: the works complete and a deposit
/// (cash or a bank guarantee) held for them.
pub fn check_commit(status: ProjectStatus, mode: DepositMode, held: i64) -> Result<(), String> {
    if status != ProjectStatus::Completed {
        return Err("工程完工后方可申请返还工资保证金（《工程建设领域农民工工资保证金规定》第二十二条第一款）".into());
    }
    if !matches!(mode, DepositMode::Cash | DepositMode::Guarantee) || held <= 0 {
        return Err("该项目没有存储工资保证金或提交银行保函，无需返还".into());
    }
    Ok(())
}

/// The first day the refund may be applied for: 30 days after the publicity began.
pub fn may_apply_from(publicity_from: Date) -> Date {
    publicity_from + Duration::days(PUBLICITY_DAYS)
}

pub fn check_apply(publicity_from: Date, today: Date) -> Result<(), String> {
    let from = may_apply_from(publicity_from);
    if today < from {
        return Err(format!(
            "承诺自 {publicity_from} 起公示，须公示满30日，{from} 起方可申请返还（《工程建设领域农民工工资保证金规定》第二十二条第一款）"
        ));
    }
    Ok(())
}

/// The last day of the department's review (art. 22 ¶2: within 5 working days of the
/// application).
pub fn review_due(applied_on: Date, cal: &WorkCalendar) -> Date {
    cal.add_working_days(applied_on, REVIEW_WORKING_DAYS)
}

/// Working days a pending review is past its due day on `today` (0 if not).
pub fn review_overdue_days(applied_on: Date, today: Date, cal: &WorkCalendar) -> i64 {
    let due = review_due(applied_on, cal);
    if today <= due { 0 } else { cal.working_days_between(due, today) }
}

/// What the review finds against a refund: wages still owed on the project, or complaints
/// received since the commitment was publicised. Empty: the refund may be confirmed.
pub fn objections(owing: bool, complaints_since_publicity: usize) -> Vec<String> {
    let mut out = vec![];
    if owing {
        out.push("该项目仍有拖欠农民工工资未结清".to_string());
    }
    if complaints_since_publicity > 0 {
        out.push(format!("公示期间收到欠薪投诉 {complaints_since_publicity} 件，尚待核实处理"));
    }
    out
}
