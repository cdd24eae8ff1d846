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
pub use engine::{Env, apply, may_act, start};
pub use state::{
    Action, Actor, Deficiency, Effect, Event, Instance, Notice, Recipient, Record, Status, Task, TaskStatus, Timer,
    Tolerance, WorkflowError,
};

#[cfg(test)]
mod tests;
