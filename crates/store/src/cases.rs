//! The cases' parts the store's shared code runs: one line per case. The engines and the demo
//! loader read these lists and name no case.

use crate::alerts::SubjectSource;
use crate::seam::DemoStep;

/// Each case's demo data, in registration order.
pub const DEMO_STEPS: &[&dyn DemoStep] =
    &[&crate::wages::demo::Demo, &crate::supervision::demo::Demo, &crate::services::demo::Demo];

/// Where the alert engine finds each subject type's facts.
pub const SUBJECT_SOURCES: &[&dyn SubjectSource] = &[&crate::wages::labor::Employers, &crate::wages::Projects];

/// The tables partitioned by month on PostgreSQL (migration 0039, `crate::partitions`): the
/// audit log, and each case's large append-only tables.
pub const PARTITIONED: &[&str] = &[
    "audit_log",
    crate::supervision::FIXES_TABLE,
    crate::supervision::EVENTS_TABLE,
    crate::services::exchange::CALLS_TABLE,
];
