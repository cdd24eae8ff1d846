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
pub mod stats;

pub use clock::{Sla, SlaClock, SlaUnit};
pub use def::{
    ActorSpec, DefContext, Material, Reason, RejectPolicy, Route, StepDef, StepKind, Target, TimeoutAction,
    WorkflowDef, parse, parse_reasons,
};
pub use engine::{
    Action, Actor, Deficiency, Effect, Env, Event, Instance, Notice, Recipient, Record, Status, Task, TaskStatus,
    Timer, Tolerance, WorkflowError, apply, may_act, start,
};

#[cfg(test)]
mod tests;
