//! A worker's 欠薪投诉 as a case with a time limit: received, assigned to an inspector,
//! the complainant contacted, the matter handled, the complainant answered, closed — the worker
//! told at each step, and a case past its limit escalated.
//!
//! The limits: contacting the complainant within the working days the city promises on the
//! complaint page (`[wages] complaint_contact_days`, 3 by default — a service promise, not a
//! statute), and finishing within 60 working days, the time 《劳动保障监察条例》第十七条 gives an
//! investigation from 立案 ("应当自立案之日起60个工作日内完成"; 30 more only with the head of
//! the department's approval, which this platform does not record, so it does not extend).
//! A worker's right to complain is art. 9 ¶2 of the same regulation.

use crate::calendar::WorkCalendar;
use time::Date;

crate::coded! {
    /// Where a complaint case stands.
    pub enum Stage ("投诉办理环节") {
        Received = ("received", "已受理"),
        Assigned = ("assigned", "已分派"),
        Contacted = ("contacted", "已联系投诉人"),
        Handled = ("handled", "已处理"),
        Replied = ("replied", "已答复投诉人"),
        Closed = ("closed", "已办结"),
    }
}

/// 《劳动保障监察条例》第十七条: 60 working days from 立案.
pub const HANDLE_WORKING_DAYS: u32 = 60;

impl Stage {
    fn rank(self) -> u8 {
        Stage::ALL.iter().position(|s| *s == self).unwrap_or(0) as u8
    }

    /// The steps that may follow: each in order; an assigned case may be reassigned.
    pub fn may_go_to(self, to: Stage) -> bool {
        (self == Stage::Assigned && to == Stage::Assigned)
            || (to.rank() == self.rank() + 1 && self != Stage::Closed)
            // A case assigned when it was received may be reassigned before contact.
            || (self == Stage::Received && to == Stage::Assigned)
    }

    /// What the worker is told when the case reaches this step.
    pub fn tell_worker(self) -> &'static str {
        match self {
            Stage::Received => "已受理，人社部门会在承诺时限内联系您",
            Stage::Assigned => "已分派给劳动保障监察员办理",
            Stage::Contacted => "办理人员已与您联系",
            Stage::Handled => "已处理",
            Stage::Replied => "已答复您办理结果",
            Stage::Closed => "已办结",
        }
    }

    /// A note is required where the step records what was done.
    pub fn needs_note(self) -> bool {
        matches!(self, Stage::Contacted | Stage::Handled | Stage::Replied)
    }
}

/// The two deadlines of a complaint received on `received`.
pub fn deadlines(cal: &WorkCalendar, received: Date, contact_days: u32) -> (Date, Date) {
    (cal.add_working_days(received, contact_days), cal.add_working_days(received, HANDLE_WORKING_DAYS))
}

/// Why a case is overdue on `today`, if it is.
pub fn overdue(stage: Stage, contact_due: Date, handle_due: Date, today: Date, contact_days: u32) -> Option<String> {
    if stage.rank() < Stage::Contacted.rank() && today > contact_due {
        return Some(format!("超过{contact_days}个工作日未联系投诉人（应于 {contact_due} 前）"));
    }
    if stage.rank() < Stage::Replied.rank() && today > handle_due {
        return Some(format!(
            "超过{HANDLE_WORKING_DAYS}个工作日未办结（《劳动保障监察条例》第十七条，应于 {handle_due} 前）"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn cal() -> WorkCalendar {
        WorkCalendar::new(Vec::new(), crate::calendar::WorkingHours::standard())
    }

    #[test]
    fn steps_follow_in_order_and_a_closed_case_stays_closed() {
        assert!(Stage::Received.may_go_to(Stage::Assigned));
        assert!(Stage::Assigned.may_go_to(Stage::Assigned));
        assert!(Stage::Assigned.may_go_to(Stage::Contacted));
        assert!(!Stage::Received.may_go_to(Stage::Handled));
        assert!(!Stage::Contacted.may_go_to(Stage::Received));
        assert!(Stage::Replied.may_go_to(Stage::Closed));
        assert!(Stage::ALL.iter().all(|s| !Stage::Closed.may_go_to(*s)));
    }

    /// 《劳动保障监察条例》第十七条: "应当自立案之日起60个工作日内完成" — 60 working days from the
    /// day the case is opened, weekends not counted.
    #[test]
    fn art_17_sixty_working_days_from_the_day_the_case_is_opened() {
        // Monday 2026-03-02: 60 working days (12 weeks) later is Monday 2026-05-25.
        let (contact, handle) = deadlines(&cal(), date!(2026 - 03 - 02), 3);
        assert_eq!(contact, date!(2026 - 03 - 05));
        assert_eq!(handle, date!(2026 - 05 - 25));
        assert_eq!(overdue(Stage::Assigned, contact, handle, date!(2026 - 03 - 05), 3), None);
        assert!(overdue(Stage::Assigned, contact, handle, date!(2026 - 03 - 06), 3).unwrap().contains("未联系"));
        assert_eq!(overdue(Stage::Contacted, contact, handle, date!(2026 - 05 - 25), 3), None);
        assert!(overdue(Stage::Handled, contact, handle, date!(2026 - 05 - 26), 3).unwrap().contains("第十七条"));
        assert_eq!(overdue(Stage::Replied, contact, handle, date!(2026 - 06 - 30), 3), None);
    }
}
