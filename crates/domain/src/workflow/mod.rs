//! Workflow engine (审批流程): steps acted on by departments, SLA clocks on the holiday
//! calendar, what happens on timeout (超时默认, escalation, notice, automatic rejection),
//! parallel approval (并联审批/会签), one-time notice (一次性告知) with the clock stopped
//! during correction, tolerance (容缺受理), and a record of every transition.
//!
//! Pure: [`start`] and [`apply`] take the instance, the event and the time and return the new
//! instance and effects; the runtime stores the one and carries out the others.

mod clock;
mod def;
mod engine;
mod state;
pub mod stats;

pub use clock::{Sla, SlaClock, SlaUnit};
pub use def::{
    ActorSpec, DefContext, Material, Reason, RejectPolicy, Route, StepDef, StepKind, Target, TimeoutAction,
    WorkflowDef, parse, parse_reasons,
};
pub use engine::{EXTENSION_WORKING_DAYS, Env, NOTICE_WORKING_DAYS, RIGHTS, apply, may_act, start};
pub use state::{
    Action, Actor, Deficiency, Effect, Event, Exclusion, ExclusionKind, Instance, Notice, Recipient, Record, Status,
    Task, TaskStatus, Timer, Tolerance, WorkflowError,
};

#[cfg(test)]
mod tests;

crate::audit_actions! {
    /// Transitions of an application; the engine records each under its code without the
    /// `workflow.` prefix ([`WorkflowAudit::step`]).
    pub enum WorkflowAudit {
        Start = ("workflow.start", "提交申请"),
        Submit = ("workflow.submit", "提交申请"),
        Approve = ("workflow.approve", "审批同意"),
        Reject = ("workflow.reject", "审批驳回"),
        Return = ("workflow.return", "退回补正（一次性告知）"),
        Resubmit = ("workflow.resubmit", "补正后重新提交"),
        Withdraw = ("workflow.withdraw", "撤回申请"),
        Transfer = ("workflow.transfer", "转办"),
        Comment = ("workflow.comment", "记录意见"),
        Tolerate = ("workflow.tolerate", "容缺受理"),
        Supply = ("workflow.supply", "补交容缺材料"),
        Extend = ("workflow.extend", "延长办理期限"),
        Exclude = ("workflow.exclude", "听证检验等不计入期限"),
        Resume = ("workflow.resume", "恢复计时"),
        Timeout = ("workflow.timeout", "办理时限到期"),
        DeemedApproved = ("workflow.deemed_approved", "超时默认同意"),
        AutoReject = ("workflow.auto_reject", "超时自动驳回"),
        Escalate = ("workflow.escalate", "超时上报"),
        Overdue = ("workflow.overdue", "超期提醒"),
        ToleranceDue = ("workflow.tolerance_due", "容缺补交期限到期"),
        ToleranceOverdue = ("workflow.tolerance_overdue", "容缺材料逾期未交"),
        Export = ("workflow.export", "导出办件"),
    }
}

impl WorkflowAudit {
    /// The code a record carries (`approve` for `workflow.approve`).
    pub fn step(self) -> &'static str {
        use crate::audit::Action;
        self.code().trim_start_matches("workflow.")
    }

    /// The action of a record's code.
    pub fn of_step(step: &str) -> Option<WorkflowAudit> {
        WorkflowAudit::ALL.iter().copied().find(|a| a.step() == step)
    }
}

/// Object types of workflow records.
pub const AUDIT_OBJECTS: &[(&str, &str)] = &[("application", "申请"), ("stats", "办件统计")];
