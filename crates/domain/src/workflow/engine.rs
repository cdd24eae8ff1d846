//! The workflow engine: instance + event + now → new instance + effects. No IO: the runtime
//! persists the instance, turns `Schedule` effects into durable jobs and delivers notices.

use super::clock::SlaClock;
use super::def::{Reason, RejectPolicy, StepKind, Target, TimeoutAction, WorkflowDef};
use crate::calendar::WorkCalendar;
use crate::clock::local;
use crate::expr::{EvalContext, Facts, Schema, Value};
use std::collections::BTreeMap;
use time::OffsetDateTime;

use super::WorkflowAudit;
use super::state::*;

/// What the engine may consult besides the instance.
pub struct Env<'a> {
    pub now: OffsetDateTime,
    pub calendar: &'a WorkCalendar,
    pub facts: &'a Facts,
    pub schema: Option<&'a Schema>,
    pub reasons: &'a [Reason],
}

struct Run<'a> {
    def: &'a WorkflowDef,
    env: &'a Env<'a>,
    inst: Instance,
    effects: Vec<Effect>,
}

/// 行政许可法 art. 38 ¶2: told with every refusal.
pub const RIGHTS: &str =
    "如对本决定不服，可以依法申请行政复议或者提起行政诉讼（《中华人民共和国行政许可法》第三十八条第二款）。";

/// 行政许可法 art. 32(4): the one-time notice is given on the spot or within five days of
/// receiving the materials (working days: art. 82).
pub const NOTICE_WORKING_DAYS: i64 = 5;

/// 行政许可法 art. 42 ¶1: a limit that cannot be met may be extended once by ten days (working
/// days, art. 82), approved by the head of the organ.
pub const EXTENSION_WORKING_DAYS: u32 = 10;

/// Recorded with a notice given after those five days.
const LATE_NOTICE: &str = "（逾期告知：超过收到申请材料后五日，依《行政许可法》第三十二条第一款第四项自收到之日起即为受理，补正期间不停止计时）";

impl Run<'_> {
    fn record(
        &mut self,
        actor: &Actor,
        action: WorkflowAudit,
        step: &str,
        reason: Option<String>,
        text: String,
        elapsed: String,
    ) {
        self.inst.records.push(Record {
            at: self.env.now,
            by_id: actor.user_id.clone(),
            by: actor.name.clone(),
            action: action.step().into(),
            step: step.into(),
            reason,
            text,
            elapsed,
        });
    }

    fn step_name(&self, id: &str) -> String {
        self.def.step(id).map(|s| s.name.clone()).unwrap_or_else(|| id.to_string())
    }

    fn schedule(&mut self, ti: usize) {
        let t = &mut self.inst.tasks[ti];
        t.timer += 1;
        t.deadline = t.clock.deadline(self.env.calendar);
        if let Some(at) = t.deadline {
            self.effects.push(Effect::Schedule { timer: Timer::Deadline { task: t.no, timer: t.timer }, at });
        }
    }

    fn cancel(&mut self, ti: usize) {
        let t = &self.inst.tasks[ti];
        if t.deadline.is_some() {
            self.effects.push(Effect::Cancel { timer: Timer::Deadline { task: t.no, timer: t.timer } });
        }
        self.inst.tasks[ti].deadline = None;
    }

    fn activate(&mut self, step_id: &str, parent: Option<&str>) {
        let step = self.def.step(step_id).expect("validated step").clone();
        match &step.kind {
            StepKind::Task { actor, sla, .. } => {
                let no = self.inst.tasks.len() as u32 + 1;
                self.inst.tasks.push(Task {
                    no,
                    step: step.id.clone(),
                    parent: parent.map(str::to_string),
                    actor: actor.clone(),
                    assignee: None,
                    status: TaskStatus::Open,
                    escalated_to: None,
                    clock: SlaClock::started(*sla, self.env.now),
                    timer: 0,
                    deadline: None,
                    overdue: false,
                    opened_at: self.env.now,
                    decided_at: None,
                    extended: 0,
                    excluded: None,
                });
                let ti = self.inst.tasks.len() - 1;
                self.schedule(ti);
                let due = self.inst.tasks[ti].deadline.map(crate::clock::format_local).unwrap_or_default();
                self.effects.push(Effect::Notify {
                    to: Recipient::Role { department: Some(actor.department.clone()), role: actor.role.clone() },
                    text: format!("新待办：{}（{}），请于 {due} 前办理", step.name, sla.label()),
                });
            }
            StepKind::Parallel { branches, .. } => {
                for b in branches {
                    self.activate(b, Some(&step.id));
                }
            }
        }
    }

    /// The latest task of each branch of a parallel step.
    fn branch_tasks(&self, parent: &str) -> Vec<usize> {
        let Some(StepKind::Parallel { branches, .. }) = self.def.step(parent).map(|s| &s.kind) else { return vec![] };
        branches
            .iter()
            .filter_map(|b| self.inst.tasks.iter().rposition(|t| &t.step == b && t.parent.as_deref() == Some(parent)))
            .collect()
    }

    /// After a step is done positively: join parallel branches, or follow the routes.
    fn proceed(&mut self, step_id: &str) -> Result<(), WorkflowError> {
        if let Some(parent) = self.def.parent_of(step_id).map(|p| p.id.clone()) {
            let tasks = self.branch_tasks(&parent);
            if tasks.iter().any(|i| !self.inst.tasks[*i].status.decided()) {
                return Ok(());
            }
            if tasks.iter().any(|i| self.inst.tasks[*i].status == TaskStatus::Rejected) {
                let reason = self.rejections();
                self.finish(Status::Rejected, Some(reason));
                return Ok(());
            }
            return self.route(&parent);
        }
        self.route(step_id)
    }

    fn route(&mut self, step_id: &str) -> Result<(), WorkflowError> {
        let step = self.def.step(step_id).expect("validated step").clone();
        let ctx = EvalContext { today: local(self.env.now).date(), calendar: Some(self.env.calendar) };
        for r in &step.next {
            let ok = match (&r.when, self.env.schema) {
                (None, _) => true,
                (Some(e), Some(schema)) => {
                    e.eval_facts(schema, self.env.facts, &ctx).map_err(WorkflowError::Invalid)? == Value::Bool(true)
                }
                (Some(_), None) => false,
            };
            if ok {
                match &r.to {
                    Target::End => self.end_approved(),
                    Target::Step(t) => self.activate(t, None),
                }
                return Ok(());
            }
        }
        Err(WorkflowError::Invalid(format!("“{}”之后没有符合条件的下一步，请检查流程配置", step.name)))
    }

    /// The last step approved: decided at once, unless a tolerated material is still to come
    /// (容缺受理: the decision waits for it, and its due date passing refuses the application).
    fn end_approved(&mut self) {
        let waiting: Vec<String> = self
            .inst
            .tolerances
            .iter()
            .filter(|t| t.fulfilled_at.is_none())
            .map(|t| format!("“{}”（{} 前）", self.target_name(&t.material), t.due))
            .collect();
        if waiting.is_empty() {
            self.finish(Status::Approved, None);
            return;
        }
        self.inst.awaiting_supply = true;
        let text = format!("审查通过，待补交容缺材料{}后办结", waiting.join("、"));
        self.record(&Actor::system(), WorkflowAudit::Tolerate, "", None, text.clone(), String::new());
        self.effects.push(Effect::Notify { to: Recipient::Applicant, text: format!("您的申请{text}") });
    }

    /// Every rejection so far (several departments may have said no), as one reason.
    fn rejections(&self) -> String {
        let parts: Vec<String> = self
            .inst
            .records
            .iter()
            .filter(|r| matches!(r.action.as_str(), "reject" | "auto_reject"))
            .map(|r| {
                let why = match r.reason.as_deref().and_then(|c| self.env.reasons.iter().find(|x| x.code == c)) {
                    Some(x) => format!("{}（{}）", x.text, r.text),
                    None => r.text.clone(),
                };
                format!("{}：{why}", self.step_name(&r.step))
            })
            .collect();
        parts.join("；")
    }

    fn finish(&mut self, status: Status, reason: Option<String>) {
        for i in 0..self.inst.tasks.len() {
            if self.inst.tasks[i].status == TaskStatus::Open {
                self.cancel(i);
                let now = self.env.now;
                let cal = self.env.calendar;
                let t = &mut self.inst.tasks[i];
                t.clock.stop(now, cal);
                t.status = TaskStatus::Cancelled;
            }
        }
        for (i, tol) in self.inst.tolerances.iter().enumerate() {
            if tol.fulfilled_at.is_none() && !tol.overdue && status != Status::Approved {
                self.effects.push(Effect::Cancel { timer: Timer::Tolerance { index: i } });
            }
        }
        self.inst.status = status;
        self.inst.finished_at = Some(self.env.now);
        let text = match (&reason, status) {
            // 行政许可法 art. 38 ¶2: a refusal states its reasons and the applicant's rights.
            (Some(why), Status::Rejected) => format!("您的申请{}。理由：{why}。{RIGHTS}", status.label()),
            _ => format!("您的申请{}", status.label()),
        };
        self.inst.outcome_reason = reason;
        self.effects.push(Effect::Finished { status });
        self.effects.push(Effect::Notify { to: Recipient::Applicant, text });
    }

    fn may_act(&self, t: &Task, a: &Actor) -> Result<(), WorkflowError> {
        may_act(t, a)
    }

    fn open_task(&self, no: u32) -> Result<usize, WorkflowError> {
        let i = self.inst.tasks.iter().position(|t| t.no == no).ok_or(WorkflowError::NoTask(no))?;
        let t = &self.inst.tasks[i];
        if t.status != TaskStatus::Open {
            return Err(WorkflowError::TaskClosed(t.status.label()));
        }
        Ok(i)
    }

    fn decide(&mut self, ti: usize, status: TaskStatus) {
        self.cancel(ti);
        let (now, cal) = (self.env.now, self.env.calendar);
        let t = &mut self.inst.tasks[ti];
        t.clock.stop(now, cal);
        t.status = status;
        t.decided_at = Some(now);
    }

    fn act(&mut self, task: u32, actor: &Actor, action: &Action) -> Result<(), WorkflowError> {
        let ti = self.open_task(task)?;
        self.may_act(&self.inst.tasks[ti], actor)?;
        let step = self.inst.tasks[ti].step.clone();
        let elapsed = self.inst.tasks[ti].clock.used_label(self.env.now, self.env.calendar);
        if let Some(e) = &self.inst.tasks[ti].excluded
            && !matches!(action, Action::Resume { .. } | Action::Comment { .. })
        {
            return Err(WorkflowError::Invalid(format!(
                "{}期间不计时，请先登记{}结束、恢复计时",
                e.kind.label(),
                e.kind.label()
            )));
        }
        match action {
            Action::Approve { comment, received } => {
                let mut comment = comment.clone();
                if self.def.step(&step).is_some_and(|s| s.check_materials) {
                    let tolerated = |id: &str| self.inst.tolerances.iter().any(|t| t.material == id);
                    let missing: Vec<&str> = self
                        .def
                        .materials
                        .iter()
                        .filter(|m| !received.contains(&m.id) && !tolerated(&m.id))
                        .map(|m| m.name.as_str())
                        .collect();
                    if !missing.is_empty() {
                        return Err(WorkflowError::Invalid(format!(
                            "以下申请材料未收到：{}。材料不齐全的不能受理，请一次性告知申请人补正；可容缺的材料可容缺受理（《行政许可法》第三十二条第一款第四项）",
                            missing.join("、")
                        )));
                    }
                    let names: Vec<&str> = self
                        .def
                        .materials
                        .iter()
                        .filter(|m| received.contains(&m.id))
                        .map(|m| m.name.as_str())
                        .collect();
                    let got = format!("收到材料：{}", names.join("、"));
                    comment = if comment.trim().is_empty() { got } else { format!("{got}。{comment}") };
                }
                self.decide(ti, TaskStatus::Approved);
                self.record(actor, WorkflowAudit::Approve, &step, None, comment, elapsed);
                self.proceed(&step)?;
            }
            Action::Reject { reason, text } => {
                let r = self
                    .env
                    .reasons
                    .iter()
                    .find(|r| &r.code == reason)
                    .ok_or_else(|| WorkflowError::Invalid("请从理由目录中选择驳回理由".into()))?;
                if text.trim().is_empty() {
                    return Err(WorkflowError::Invalid("请写明驳回的具体说明".into()));
                }
                let code = r.code.clone();
                self.decide(ti, TaskStatus::Rejected);
                self.record(actor, WorkflowAudit::Reject, &step, Some(code), text.trim().to_string(), elapsed);
                let at_once = match self.def.parent_of(&step).map(|p| &p.kind) {
                    Some(StepKind::Parallel { on_reject, .. }) => *on_reject == RejectPolicy::RejectAtOnce,
                    _ => true,
                };
                if at_once {
                    let reason = self.rejections();
                    self.finish(Status::Rejected, Some(reason));
                } else {
                    self.proceed(&step)?;
                }
            }
            Action::Return { items } => self.return_for_correction(ti, actor, items, elapsed)?,
            Action::Transfer { to_user, to_name, note } => {
                if to_user.is_empty() {
                    return Err(WorkflowError::Invalid("请选择转办对象".into()));
                }
                self.inst.tasks[ti].assignee = Some(to_user.clone());
                self.record(actor, WorkflowAudit::Transfer, &step, None, format!("转办给 {to_name}。{note}"), elapsed);
                self.effects.push(Effect::Notify {
                    to: Recipient::User(to_user.clone()),
                    text: format!("{} 转办给您：{}", actor.name, self.step_name(&step)),
                });
            }
            Action::Comment { text } => {
                if text.trim().is_empty() {
                    return Err(WorkflowError::Invalid("意见不能为空".into()));
                }
                self.record(actor, WorkflowAudit::Comment, &step, None, text.trim().to_string(), elapsed);
            }
            Action::Tolerate { material, due, note, commitment } => {
                let m = self
                    .def
                    .material(material)
                    .ok_or_else(|| WorkflowError::Invalid(format!("材料“{material}”不在本事项的材料清单中")))?;
                if !m.deferrable {
                    return Err(WorkflowError::Invalid(format!("“{}”是核心材料，不能容缺受理", m.name)));
                }
                if *due <= local(self.env.now).date() {
                    return Err(WorkflowError::Invalid("容缺材料的补交日期应晚于今天".into()));
                }
                if commitment.trim().is_empty() {
                    return Err(WorkflowError::Invalid(
                        "容缺受理须有申请人的书面承诺（承诺补交的材料、期限和逾期后果）".into(),
                    ));
                }
                if self.inst.tolerances.iter().any(|t| &t.material == material && t.fulfilled_at.is_none()) {
                    return Err(WorkflowError::Invalid(format!("“{}”已容缺受理，待补交", m.name)));
                }
                let name = m.name.clone();
                self.inst.tolerances.push(Tolerance {
                    step: step.clone(),
                    material: material.clone(),
                    due: *due,
                    note: note.clone(),
                    by: actor.name.clone(),
                    at: self.env.now,
                    fulfilled_at: None,
                    overdue: false,
                    commitment: commitment.trim().to_string(),
                });
                let index = self.inst.tolerances.len() - 1;
                let at = crate::clock::from_local(time::PrimitiveDateTime::new(
                    due.next_day().expect("date"),
                    time::Time::MIDNIGHT,
                ));
                self.effects.push(Effect::Schedule { timer: Timer::Tolerance { index }, at });
                self.effects.push(Effect::Notify {
                    to: Recipient::Applicant,
                    text: format!("容缺受理：请于 {due} 前补交“{name}”；逾期未交的，依您的书面承诺不予许可"),
                });
                // Accepted with the material to follow: the step stays open for its decision
                // (a deferral is not an approval); the application is decided when it comes.
                self.record(
                    actor,
                    WorkflowAudit::Tolerate,
                    &step,
                    None,
                    format!("容缺“{name}”，承诺 {due} 前补交（承诺书：{}）。{note}", commitment.trim()),
                    elapsed,
                );
            }
            Action::Extend { days, approver, reason } => {
                if *days == 0 || *days > EXTENSION_WORKING_DAYS {
                    return Err(WorkflowError::Invalid(format!(
                        "延长期限为 1–{EXTENSION_WORKING_DAYS} 个工作日（《行政许可法》第四十二条第一款）"
                    )));
                }
                if self.inst.tasks.iter().any(|t| t.extended > 0) {
                    return Err(WorkflowError::Invalid(
                        "办理期限只能延长一次（《行政许可法》第四十二条第一款）".into(),
                    ));
                }
                if approver.trim().is_empty() || reason.trim().is_empty() {
                    return Err(WorkflowError::Invalid("延长期限须经本机关负责人批准，并写明告知申请人的理由".into()));
                }
                if self.inst.tasks[ti].clock.sla.unit != super::clock::SlaUnit::WorkingDays {
                    return Err(WorkflowError::Invalid("只有以工作日计的办理期限可以延长".into()));
                }
                self.cancel(ti);
                let t = &mut self.inst.tasks[ti];
                t.extended = *days;
                t.clock.sla.amount += days;
                t.overdue = false;
                self.schedule(ti);
                let due = self.inst.tasks[ti].deadline.map(crate::clock::format_local).unwrap_or_default();
                let text = format!("经{}批准延长 {days} 个工作日，至 {due}。理由：{}", approver.trim(), reason.trim());
                self.record(actor, WorkflowAudit::Extend, &step, None, text, elapsed);
                self.effects.push(Effect::Notify {
                    to: Recipient::Applicant,
                    text: format!(
                        "您的申请办理期限延长 {days} 个工作日，至 {due}。理由：{}（《行政许可法》第四十二条第一款）",
                        reason.trim()
                    ),
                });
            }
            Action::Exclude { kind, days, note } => {
                if *days == 0 || *days > 365 {
                    return Err(WorkflowError::Invalid(format!("请填写{}所需的工作日数（1–365）", kind.label())));
                }
                if note.trim().is_empty() {
                    return Err(WorkflowError::Invalid(format!("请写明{}的安排（依据、机构、时间）", kind.label())));
                }
                self.cancel(ti);
                let (now, cal) = (self.env.now, self.env.calendar);
                let t = &mut self.inst.tasks[ti];
                t.clock.stop(now, cal);
                t.excluded = Some(Exclusion { kind: *kind, since: now, days: *days, note: note.trim().to_string() });
                let text = format!("{}，预计需 {days} 个工作日，不计入办理期限。{}", kind.label(), note.trim());
                self.record(actor, WorkflowAudit::Exclude, &step, None, text, elapsed);
                // Art. 45: the applicant is told in writing how long it needs.
                self.effects.push(Effect::Notify {
                    to: Recipient::Applicant,
                    text: format!(
                        "您的申请需要{}，所需时间约 {days} 个工作日，不计算在办理期限内（《行政许可法》第四十五条）。{}",
                        kind.label(),
                        note.trim()
                    ),
                });
            }
            Action::Resume { note } => {
                let Some(e) = self.inst.tasks[ti].excluded.take() else {
                    return Err(WorkflowError::Invalid("此环节没有中止计时".into()));
                };
                let (now, cal) = (self.env.now, self.env.calendar);
                self.inst.excluded_days += super::clock::working_days_used(e.since, now, cal);
                if self.inst.status == Status::Running {
                    self.inst.tasks[ti].clock.resume(now);
                    self.schedule(ti);
                }
                let text = format!("{}结束，恢复计时。{}", e.kind.label(), note.trim());
                self.record(actor, WorkflowAudit::Resume, &step, None, text.clone(), elapsed);
                self.effects.push(Effect::Notify { to: Recipient::Applicant, text: format!("您的申请{text}") });
            }
        }
        Ok(())
    }

    fn known_target(&self, target: &str) -> bool {
        self.def.material(target).is_some() || self.env.schema.is_some_and(|s| s.get(target).is_some())
    }

    fn target_name(&self, target: &str) -> String {
        if let Some(m) = self.def.material(target) {
            return m.name.clone();
        }
        self.env.schema.and_then(|s| s.get(target)).map(|(_, f)| f.label.clone()).unwrap_or_else(|| target.to_string())
    }

    fn return_for_correction(
        &mut self,
        ti: usize,
        actor: &Actor,
        items: &[Deficiency],
        elapsed: String,
    ) -> Result<(), WorkflowError> {
        let step = self.inst.tasks[ti].step.clone();
        if items.is_empty() {
            return Err(WorkflowError::Invalid("一次性告知须列出全部需补正的问题".into()));
        }
        for it in items {
            if !self.known_target(&it.target) {
                return Err(WorkflowError::Invalid(format!("补正事项“{}”不是本事项的材料或字段", it.target)));
            }
            if it.note.trim().is_empty() {
                return Err(WorkflowError::Invalid(format!("请写明“{}”需要如何补正", self.target_name(&it.target))));
            }
        }
        // 一次性告知: after the first notice at this step, only its items or what the applicant
        // changed since may be raised again.
        if let Some(first) = self.inst.notices.iter().find(|n| n.step == step) {
            let changed = self.inst.changed.get(&step).cloned().unwrap_or_default();
            for it in items {
                let allowed = first.items.iter().any(|f| f.target == it.target) || changed.contains(&it.target);
                if !allowed {
                    return Err(WorkflowError::Invalid(format!(
                        "“{}”不在首次一次性告知中，申请人此后也未修改，不能再次要求补正",
                        self.target_name(&it.target)
                    )));
                }
            }
        }
        // 行政许可法 art. 32(4): the notice is given on the spot or within five days (working
        // days, art. 82) of receiving the materials; otherwise the application counts as
        // accepted on receipt, so a later correction does not stop the time limit.
        let late = super::clock::working_days_used(self.inst.started_at, self.env.now, self.env.calendar)
            > NOTICE_WORKING_DAYS;
        self.inst.notices.push(Notice {
            step: step.clone(),
            at: self.env.now,
            by: actor.name.clone(),
            items: items.to_vec(),
            late,
        });
        self.inst.changed.entry(step.clone()).or_default();
        if !late {
            // Every running clock stops while the applicant corrects.
            for i in 0..self.inst.tasks.len() {
                if self.inst.tasks[i].status == TaskStatus::Open {
                    self.cancel(i);
                    let (now, cal) = (self.env.now, self.env.calendar);
                    self.inst.tasks[i].clock.stop(now, cal);
                }
            }
        }
        self.inst.status = Status::Correcting;
        self.inst.correcting_since = Some(self.env.now);
        self.inst.correction_counts = late;
        let list: Vec<String> =
            items.iter().map(|i| format!("{}：{}", self.target_name(&i.target), i.note.trim())).collect();
        let mut text = list.join("；");
        if late {
            text.push_str(LATE_NOTICE);
        }
        self.record(actor, WorkflowAudit::Return, &step, None, text, elapsed);
        self.effects.push(Effect::Notify {
            to: Recipient::Applicant,
            text: format!(
                "请一次性补正以下问题：{}{}",
                list.join("；"),
                if late {
                    "（本次告知超过五日，依法自收到申请材料之日起即为受理，办理时限不因补正中止）"
                } else {
                    ""
                }
            ),
        });
        Ok(())
    }

    fn resubmit(&mut self, actor: &Actor, changed: &[String]) -> Result<(), WorkflowError> {
        if actor.user_id != self.inst.applicant_id {
            return Err(WorkflowError::NotAllowed("申请人本人".into()));
        }
        if self.inst.status != Status::Correcting {
            return Err(WorkflowError::Invalid("该申请不在补正状态".into()));
        }
        for c in changed {
            if !self.known_target(c) {
                return Err(WorkflowError::Invalid(format!("“{c}”不是本事项的材料或字段")));
            }
        }
        for list in self.inst.changed.values_mut() {
            for c in changed {
                if !list.contains(c) {
                    list.push(c.clone());
                }
            }
        }
        if let Some(since) = self.inst.correcting_since.take()
            && !self.inst.correction_counts
        {
            self.inst.correction_days += super::clock::working_days_used(since, self.env.now, self.env.calendar);
        }
        self.inst.correction_counts = false;
        self.inst.status = Status::Running;
        for i in 0..self.inst.tasks.len() {
            if self.inst.tasks[i].status == TaskStatus::Open && self.inst.tasks[i].excluded.is_none() {
                self.inst.tasks[i].clock.resume(self.env.now);
                self.schedule(i);
                let t = &self.inst.tasks[i];
                self.effects.push(Effect::Notify {
                    to: Recipient::Role { department: Some(t.actor.department.clone()), role: t.actor.role.clone() },
                    text: format!("申请人已补正，请继续办理：{}", self.step_name(&t.step)),
                });
            }
        }
        let names: Vec<String> = changed.iter().map(|c| self.target_name(c)).collect();
        // Resubmitted without changing anything the notice named: say so, not "补正了：".
        let text = if names.is_empty() {
            "未修改材料，重新提交".to_string()
        } else {
            format!("补正了：{}", names.join("、"))
        };
        self.record(actor, WorkflowAudit::Resubmit, "", None, text, String::new());
        Ok(())
    }

    fn timeout(&mut self, task: u32, timer: u32) -> Result<(), WorkflowError> {
        let Some(ti) = self.inst.tasks.iter().position(|t| t.no == task) else { return Ok(()) };
        let t = &self.inst.tasks[ti];
        // Stale timers (decided, stopped, rescheduled) do nothing.
        if t.status != TaskStatus::Open || t.timer != timer || !t.clock.is_running() {
            return Ok(());
        }
        // Never before the deadline: a timer that fires early is scheduled again.
        match t.deadline {
            Some(d) if self.env.now >= d => {}
            Some(d) => {
                self.effects.push(Effect::Schedule { timer: Timer::Deadline { task, timer }, at: d });
                return Ok(());
            }
            None => return Ok(()),
        }
        let step = t.step.clone();
        let elapsed = t.clock.used_label(self.env.now, self.env.calendar);
        let Some(StepKind::Task { on_timeout, escalate_to, sla, .. }) = self.def.step(&step).map(|s| s.kind.clone())
        else {
            return Ok(());
        };
        self.inst.tasks[ti].overdue = true;
        let sys = Actor::system();
        match on_timeout {
            TimeoutAction::DeemedApproved => {
                self.decide(ti, TaskStatus::DeemedApproved);
                self.record(
                    &sys,
                    WorkflowAudit::DeemedApproved,
                    &step,
                    None,
                    format!("超过{}未办理，视为同意（超时默认）", sla.label()),
                    elapsed,
                );
                self.proceed(&step)?;
            }
            TimeoutAction::AutoReject => {
                self.decide(ti, TaskStatus::Rejected);
                self.record(
                    &sys,
                    WorkflowAudit::AutoReject,
                    &step,
                    Some("timeout".into()),
                    format!("超过{}未办理，自动驳回", sla.label()),
                    elapsed,
                );
                let reason = self.rejections();
                self.finish(Status::Rejected, Some(reason));
            }
            TimeoutAction::Escalate => {
                let role = escalate_to.unwrap_or_default();
                self.inst.tasks[ti].escalated_to = Some(role.clone());
                self.inst.tasks[ti].deadline = None;
                self.record(
                    &sys,
                    WorkflowAudit::Escalate,
                    &step,
                    None,
                    format!("超过{}未办理，已上报{role}", sla.label()),
                    elapsed,
                );
                self.effects.push(Effect::Notify {
                    to: Recipient::Role { department: None, role },
                    text: format!("超时上报：{}超过{}未办理", self.step_name(&step), sla.label()),
                });
            }
            TimeoutAction::Notify => {
                self.inst.tasks[ti].deadline = None;
                let actor = self.inst.tasks[ti].actor.clone();
                self.record(&sys, WorkflowAudit::Overdue, &step, None, format!("超过{}未办理", sla.label()), elapsed);
                self.effects.push(Effect::Notify {
                    to: Recipient::Role { department: Some(actor.department), role: actor.role },
                    text: format!("已超期：{}超过{}", self.step_name(&step), sla.label()),
                });
            }
        }
        Ok(())
    }
}

/// Whether `a` may act on task `t`: its department and role, the role it was escalated to, or
/// the person it was transferred to.
pub fn may_act(t: &Task, a: &Actor) -> Result<(), WorkflowError> {
    if let Some(u) = &t.assignee {
        return if &a.user_id == u {
            Ok(())
        } else {
            Err(WorkflowError::NotAllowed("转办指定的办理人".into()))
        };
    }
    let in_dept = a.department.as_deref() == Some(t.actor.department.as_str()) && a.roles.contains(&t.actor.role);
    let escalated = t.escalated_to.as_ref().is_some_and(|r| a.roles.contains(r));
    if in_dept || escalated {
        Ok(())
    } else {
        Err(WorkflowError::NotAllowed(format!("{}部门的{}角色", t.actor.department, t.actor.role)))
    }
}

/// Starts an instance at the definition's first step.
pub fn start(
    def: &WorkflowDef,
    id: &str,
    applicant: &Actor,
    env: &Env,
) -> Result<(Instance, Vec<Effect>), WorkflowError> {
    let inst = Instance {
        id: id.into(),
        def_id: def.id.clone(),
        def_version: def.version,
        applicant_id: applicant.user_id.clone(),
        status: Status::Running,
        tasks: vec![],
        notices: vec![],
        changed: BTreeMap::new(),
        tolerances: vec![],
        records: vec![],
        started_at: env.now,
        finished_at: None,
        outcome_reason: None,
        correcting_since: None,
        correction_days: 0,
        correction_counts: false,
        excluded_days: 0,
        awaiting_supply: false,
    };
    let mut run = Run { def, env, inst, effects: vec![] };
    run.record(applicant, WorkflowAudit::Submit, "", None, "提交申请".into(), String::new());
    run.activate(&def.start, None);
    Ok((run.inst, run.effects))
}

/// Applies one event. The instance is not changed when the event is refused.
pub fn apply(
    def: &WorkflowDef,
    inst: &Instance,
    event: &Event,
    env: &Env,
) -> Result<(Instance, Vec<Effect>), WorkflowError> {
    if inst.status.is_final() {
        // Late timers after the end are harmless; everything else is refused.
        return match event {
            Event::Timeout { .. } | Event::ToleranceDue { .. } => Ok((inst.clone(), vec![])),
            _ => Err(WorkflowError::Finished(inst.status.label())),
        };
    }
    let mut run = Run { def, env, inst: inst.clone(), effects: vec![] };
    match event {
        Event::Act { task, actor, action } => {
            if run.inst.status == Status::Correcting && !matches!(action, Action::Comment { .. }) {
                return Err(WorkflowError::Correcting);
            }
            run.act(*task, actor, action)?;
        }
        Event::Resubmit { actor, changed } => run.resubmit(actor, changed)?,
        Event::Withdraw { actor, reason } => {
            if actor.user_id != run.inst.applicant_id {
                return Err(WorkflowError::NotAllowed("申请人本人".into()));
            }
            run.record(actor, WorkflowAudit::Withdraw, "", None, reason.clone(), String::new());
            run.finish(Status::Withdrawn, Some(format!("申请人撤回：{reason}")));
        }
        Event::Timeout { task, timer } => {
            if run.inst.status == Status::Correcting {
                return Ok((inst.clone(), vec![]));
            }
            run.timeout(*task, *timer)?;
        }
        Event::SupplyMaterial { actor, material } => {
            if actor.user_id != run.inst.applicant_id {
                return Err(WorkflowError::NotAllowed("申请人本人".into()));
            }
            let now = env.now;
            let i = run
                .inst
                .tolerances
                .iter()
                .position(|t| &t.material == material && t.fulfilled_at.is_none())
                .ok_or_else(|| WorkflowError::Invalid("没有待补交的该项容缺材料".into()))?;
            run.inst.tolerances[i].fulfilled_at = Some(now);
            run.effects.push(Effect::Cancel { timer: Timer::Tolerance { index: i } });
            let name = run.target_name(material);
            run.record(
                actor,
                WorkflowAudit::Supply,
                &run.inst.tolerances[i].step.clone(),
                None,
                format!("补交容缺材料“{name}”"),
                String::new(),
            );
            if run.inst.awaiting_supply && run.inst.tolerances.iter().all(|t| t.fulfilled_at.is_some()) {
                run.inst.awaiting_supply = false;
                run.finish(Status::Approved, None);
            }
        }
        Event::ToleranceDue { index } => {
            let Some(t) = run.inst.tolerances.get(*index).cloned() else { return Ok((inst.clone(), vec![])) };
            if t.fulfilled_at.is_some() || t.overdue {
                return Ok((inst.clone(), vec![]));
            }
            run.inst.tolerances[*index].overdue = true;
            let name = run.target_name(&t.material);
            run.record(
                &Actor::system(),
                WorkflowAudit::ToleranceOverdue,
                &t.step,
                None,
                format!("容缺材料“{name}”逾期未补交（承诺 {}）", t.due),
                String::new(),
            );
            if let Some(StepKind::Task { actor, .. }) = def.step(&t.step).map(|s| &s.kind) {
                run.effects.push(Effect::Notify {
                    to: Recipient::Role { department: Some(actor.department.clone()), role: actor.role.clone() },
                    text: format!("容缺材料逾期：“{name}”承诺 {} 前补交，至今未交", t.due),
                });
            }
            // The commitment's consequence: not supplied in time, the application is refused.
            run.inst.awaiting_supply = false;
            run.finish(
                Status::Rejected,
                Some(format!("容缺材料“{name}”逾期未补交（承诺 {} 前），依申请人书面承诺不予许可", t.due)),
            );
        }
    }
    Ok((run.inst, run.effects))
}
