//! Statistics per service item, department and period: count, completed, average and p90
//! handling time, overdue, rejection and return rates, deemed approvals.

use super::clock::SlaUnit;
use super::state::{Instance, Status, TaskStatus};
use crate::calendar::WorkCalendar;
use std::collections::BTreeMap;
use time::OffsetDateTime;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Figures {
    pub count: u64,
    pub completed: u64,
    /// Handling time of completed ones, in working days (items) or the SLA unit (departments).
    pub avg: f64,
    pub p90: f64,
    pub overdue: u64,
    pub rejected: u64,
    pub returned: u64,
    pub deemed: u64,
    pub unit: String,
}

impl Figures {
    fn rate(&self, x: u64) -> f64 {
        if self.count == 0 { 0.0 } else { x as f64 / self.count as f64 }
    }
    pub fn overdue_rate(&self) -> f64 {
        self.rate(self.overdue)
    }
    pub fn rejection_rate(&self) -> f64 {
        if self.completed == 0 { 0.0 } else { self.rejected as f64 / self.completed as f64 }
    }
    pub fn return_rate(&self) -> f64 {
        self.rate(self.returned)
    }
}

fn finish(mut times: Vec<f64>, f: &mut Figures) {
    if times.is_empty() {
        return;
    }
    times.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    f.avg = times.iter().sum::<f64>() / times.len() as f64;
    // Nearest-rank p90.
    let rank = ((0.9 * times.len() as f64).ceil() as usize).clamp(1, times.len());
    f.p90 = times[rank - 1];
}

/// Figures per workflow (service item), over instances started in the period.
pub fn by_item(instances: &[Instance], now: OffsetDateTime, cal: &WorkCalendar) -> BTreeMap<String, Figures> {
    let mut out: BTreeMap<String, (Figures, Vec<f64>)> = BTreeMap::new();
    for i in instances {
        let (f, times) = out
            .entry(i.def_id.clone())
            .or_insert_with(|| (Figures { unit: "工作日".into(), ..Default::default() }, vec![]));
        f.count += 1;
        if i.status.is_final() && i.status != Status::Withdrawn {
            f.completed += 1;
            times.push(i.handling_days(now, cal) as f64);
        }
        f.overdue += u64::from(i.tasks.iter().any(|t| t.overdue));
        f.rejected += u64::from(i.status == Status::Rejected);
        f.returned += u64::from(!i.notices.is_empty());
        f.deemed += i.tasks.iter().filter(|t| t.status == TaskStatus::DeemedApproved).count() as u64;
    }
    out.into_iter()
        .map(|(k, (mut f, t))| {
            finish(t, &mut f);
            (k, f)
        })
        .collect()
}

/// Figures per department and time unit, over the tasks of the instances: steps timed in
/// working days and steps timed in hours are kept apart, since their times cannot be averaged.
pub fn by_department(
    instances: &[Instance],
    now: OffsetDateTime,
    cal: &WorkCalendar,
) -> BTreeMap<(String, String), Figures> {
    let mut out: BTreeMap<(String, String), (Figures, Vec<f64>)> = BTreeMap::new();
    for i in instances {
        for t in &i.tasks {
            let unit = match t.clock.sla.unit {
                SlaUnit::WorkingDays => "工作日",
                SlaUnit::WorkingHours | SlaUnit::Hours => "小时",
            };
            let (f, times) = out
                .entry((t.actor.department.clone(), unit.to_string()))
                .or_insert_with(|| (Figures { unit: unit.into(), ..Default::default() }, vec![]));
            f.count += 1;
            if matches!(t.status, TaskStatus::Approved | TaskStatus::DeemedApproved | TaskStatus::Rejected) {
                f.completed += 1;
                let used = t.clock.used_at(now, cal) as f64;
                times.push(if t.clock.sla.unit == SlaUnit::WorkingDays { used } else { used / 60.0 });
            }
            f.overdue += u64::from(t.overdue);
            f.rejected += u64::from(t.status == TaskStatus::Rejected);
            f.returned += i.notices.iter().filter(|n| n.step == t.step).count().min(1) as u64;
            f.deemed += u64::from(t.status == TaskStatus::DeemedApproved);
        }
    }
    out.into_iter()
        .map(|(k, (mut f, t))| {
            finish(t, &mut f);
            (k, f)
        })
        .collect()
}
