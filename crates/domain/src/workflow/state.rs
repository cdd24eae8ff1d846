//! The state the engine works on and what it returns: instances with their tasks, notices,
//! tolerances and records; the events that drive them; the effects for the runtime.

use super::clock::SlaClock;
use super::def::ActorSpec;
use crate::calendar::WorkCalendar;
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime};

crate::coded! {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Status ("办件状态") {
        Running = ("running", "办理中"),
        /// Returned to the applicant for correction (补正); every clock is stopped.
        Correcting = ("correcting", "待补正"),
        Approved = ("approved", "已办结（准予）"),
        Rejected = ("rejected", "已办结（不予）"),
        Withdrawn = ("withdrawn", "已撤回"),
    }
}

impl Status {
    pub fn is_final(self) -> bool {
        matches!(self, Status::Approved | Status::Rejected | Status::Withdrawn)
    }
}

crate::coded! {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum TaskStatus ("待办状态") {
        Open = ("open", "待办"),
        Approved = ("approved", "同意"),
        DeemedApproved = ("deemed_approved", "超时默认同意"),
        Rejected = ("rejected", "不同意"),
        Cancelled = ("cancelled", "已取消"),
    }
}

impl TaskStatus {
    pub(super) fn decided(self) -> bool {
        matches!(self, TaskStatus::Approved | TaskStatus::DeemedApproved | TaskStatus::Rejected)
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Task {
    pub no: u32,
    pub step: String,
    /// The parallel step this task is a branch of.
    pub parent: Option<String>,
    pub actor: ActorSpec,
    /// Set by a transfer: only this user may act.
    pub assignee: Option<String>,
    pub status: TaskStatus,
    /// After an escalation, this role (anywhere) may act too.
    pub escalated_to: Option<String>,
    pub clock: SlaClock,
    /// Generation of the deadline timer; timers of older generations are stale.
    pub timer: u32,
    pub deadline: Option<OffsetDateTime>,
    pub overdue: bool,
    pub opened_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    /// The art. 42 extension granted to this task (working days), if any.
    #[serde(default)]
    pub extended: u32,
    /// Time excluded from the limit under way (行政许可法 art. 45).
    #[serde(default)]
    pub excluded: Option<Exclusion>,
}

crate::coded! {
    /// 行政许可法 art. 45: what the decision needs whose time is not counted in the limit.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ExclusionKind ("不计入期限的程序") {
        Hearing = ("hearing", "听证"),
        Bidding = ("bidding", "招标"),
        Auction = ("auction", "拍卖"),
        Inspection = ("inspection", "检验"),
        Testing = ("testing", "检测"),
        Quarantine = ("quarantine", "检疫"),
        Appraisal = ("appraisal", "鉴定"),
        ExpertReview = ("expert_review", "专家评审"),
    }
}

/// A stretch of time excluded from a task's limit (行政许可法 art. 45), with the time needed
/// the applicant was told in writing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Exclusion {
    pub kind: ExclusionKind,
    pub since: OffsetDateTime,
    /// Working days the applicant was told it needs.
    pub days: u32,
    pub note: String,
}

/// One deficiency of a return for correction, tied to a material or a field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deficiency {
    pub target: String,
    pub note: String,
}

/// 一次性告知: a return for correction with every deficiency listed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Notice {
    pub step: String,
    pub at: OffsetDateTime,
    pub by: String,
    pub items: Vec<Deficiency>,
    /// Given after the five days of 行政许可法 art. 32(4): the application counted as accepted
    /// on receipt, and the correction did not stop the time limit.
    #[serde(default)]
    pub late: bool,
}

/// 容缺受理: the application went on without a material the applicant committed to supply.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tolerance {
    pub step: String,
    pub material: String,
    pub due: Date,
    pub note: String,
    pub by: String,
    pub at: OffsetDateTime,
    pub fulfilled_at: Option<OffsetDateTime>,
    pub overdue: bool,
    /// The applicant's written commitment (容缺承诺书): what they will supply by when, and that
    /// the application is refused if they do not.
    #[serde(default)]
    pub commitment: String,
}

/// One transition, as the record shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub at: OffsetDateTime,
    pub by_id: String,
    pub by: String,
    pub action: String,
    pub step: String,
    pub reason: Option<String>,
    pub text: String,
    /// Time the step's clock had used when this happened.
    pub elapsed: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Instance {
    pub id: String,
    pub def_id: String,
    pub def_version: u32,
    pub applicant_id: String,
    pub status: Status,
    pub tasks: Vec<Task>,
    pub notices: Vec<Notice>,
    /// Per step with a notice: what the applicant changed since that step's first notice.
    pub changed: BTreeMap<String, Vec<String>>,
    pub tolerances: Vec<Tolerance>,
    pub records: Vec<Record>,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    /// For a rejection: the reason code and text.
    pub outcome_reason: Option<String>,
    pub correcting_since: Option<OffsetDateTime>,
    /// Working days spent in correction, excluded from handling time.
    pub correction_days: i64,
    /// The correction under way follows a late notice: its days count toward handling time.
    #[serde(default)]
    pub correction_counts: bool,
    /// Working days excluded from handling time under 行政许可法 art. 45 (finished stretches).
    #[serde(default)]
    pub excluded_days: i64,
    /// Every step approved, but a tolerated material is still to come: the application is
    /// decided when it arrives (容缺受理).
    #[serde(default)]
    pub awaiting_supply: bool,
}

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub name: String,
    /// Department code (from config), for staff.
    pub department: Option<String>,
    /// Role codes.
    pub roles: Vec<String>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor { user_id: "system".into(), name: "系统".into(), department: None, roles: vec![] }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Approve {
        comment: String,
        /// At a step that checks materials: the ids of those received.
        received: Vec<String>,
    },
    /// A reason from the catalog is mandatory, plus free text.
    Reject {
        reason: String,
        text: String,
    },
    Return {
        items: Vec<Deficiency>,
    },
    Transfer {
        to_user: String,
        to_name: String,
        note: String,
    },
    Comment {
        text: String,
    },
    /// 容缺: proceed now, a deferrable material to follow by `due` under the applicant's
    /// written commitment; the application is decided only when it has come.
    Tolerate {
        material: String,
        due: Date,
        note: String,
        commitment: String,
    },
    /// 行政许可法 art. 42 ¶1: the limit extended by up to ten working days, once, approved by
    /// the head of the organ, the reason told to the applicant.
    Extend {
        days: u32,
        approver: String,
        reason: String,
    },
    /// 行政许可法 art. 45: a hearing, inspection, expert review … whose time is not counted;
    /// the applicant is told in writing how long it needs.
    Exclude {
        kind: ExclusionKind,
        days: u32,
        note: String,
    },
    /// The excluded procedure is over: the clock runs again.
    Resume {
        note: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Act {
        task: u32,
        actor: Actor,
        action: Action,
    },
    /// The applicant hands the corrected application back, naming what they changed.
    Resubmit {
        actor: Actor,
        changed: Vec<String>,
    },
    Withdraw {
        actor: Actor,
        reason: String,
    },
    /// A deadline timer fired.
    Timeout {
        task: u32,
        timer: u32,
    },
    SupplyMaterial {
        actor: Actor,
        material: String,
    },
    /// A tolerance due date passed.
    ToleranceDue {
        index: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Role { department: Option<String>, role: String },
    Applicant,
    User(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timer {
    Deadline { task: u32, timer: u32 },
    Tolerance { index: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Schedule { timer: Timer, at: OffsetDateTime },
    Cancel { timer: Timer },
    Notify { to: Recipient, text: String },
    Finished { status: Status },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("该申请已{0}，不能再操作")]
    Finished(&'static str),
    #[error("该申请正在补正，请等申请人重新提交")]
    Correcting,
    #[error("没有编号为 {0} 的待办")]
    NoTask(u32),
    #[error("该环节已办理（{0}）")]
    TaskClosed(&'static str),
    #[error("您无权办理此环节：需要{0}")]
    NotAllowed(String),
    #[error("{0}")]
    Invalid(String),
}

impl Instance {
    pub fn open_tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| t.status == TaskStatus::Open)
    }

    pub fn task(&self, no: u32) -> Option<&Task> {
        self.tasks.iter().find(|t| t.no == no)
    }

    /// Working days from submission to the end (or `now`), less the days in correction.
    pub fn handling_days(&self, now: OffsetDateTime, cal: &WorkCalendar) -> i64 {
        let end = self.finished_at.unwrap_or(now);
        let mut correcting = self.correction_days + self.excluded_days;
        if let Some(since) = self.correcting_since.filter(|_| !self.correction_counts) {
            correcting += super::clock::working_days_used(since, end, cal);
        }
        for e in self.tasks.iter().filter_map(|t| t.excluded.as_ref()) {
            correcting += super::clock::working_days_used(e.since, end, cal);
        }
        (super::clock::working_days_used(self.started_at, end, cal) - correcting).max(0)
    }
}
