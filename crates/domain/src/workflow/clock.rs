//! SLA clocks (办理时限). A clock runs while a task waits for its actor and stops while the
//! applicant corrects a returned application; it counts in the unit the definition names.

use crate::calendar::WorkCalendar;
use crate::clock::{from_local, local};
use time::{Duration, OffsetDateTime, PrimitiveDateTime, Time};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaUnit {
    /// 工作日: the time limit ends at the end of the N-th working day after the start day.
    WorkingDays,
    /// 工作小时: office hours only.
    WorkingHours,
    /// 自然小时.
    Hours,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sla {
    pub amount: u32,
    pub unit: SlaUnit,
}

impl Sla {
    pub fn label(&self) -> String {
        match self.unit {
            SlaUnit::WorkingDays => format!("{}个工作日", self.amount),
            SlaUnit::WorkingHours => format!("{}个工作小时", self.amount),
            SlaUnit::Hours => format!("{}小时", self.amount),
        }
    }
}

/// What a task's clock has used. Working days are counted in days; the hour units in minutes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlaClock {
    pub sla: Sla,
    /// Used before the current run (days or minutes, by unit).
    pub used: i64,
    /// When the current run started; `None` while stopped.
    pub running_since: Option<OffsetDateTime>,
}

/// Working days used from `since` to `now`: a day counts once it has begun, so the deadline
/// instant (24:00 of the last day) uses exactly the allowance, not one day more.
pub fn working_days_used(since: OffsetDateTime, now: OffsetDateTime, cal: &WorkCalendar) -> i64 {
    let last = local(now - Duration::seconds(1)).date().max(local(since).date());
    cal.working_days_between(local(since).date(), last).max(0)
}

fn end_of_day(d: time::Date) -> OffsetDateTime {
    // 24:00 of that day, China time.
    from_local(PrimitiveDateTime::new(d.next_day().expect("date in range"), Time::MIDNIGHT))
}

impl SlaClock {
    pub fn started(sla: Sla, now: OffsetDateTime) -> Self {
        SlaClock { sla, used: 0, running_since: Some(now) }
    }

    pub fn is_running(&self) -> bool {
        self.running_since.is_some()
    }

    /// Use of the current run from its start to `now`.
    fn run_use(&self, now: OffsetDateTime, cal: &WorkCalendar) -> i64 {
        let Some(since) = self.running_since else { return 0 };
        match self.sla.unit {
            SlaUnit::WorkingDays => working_days_used(since, now, cal),
            SlaUnit::WorkingHours => cal.working_time_between(local(since), local(now)).whole_minutes().max(0),
            SlaUnit::Hours => (now - since).whole_minutes().max(0),
        }
    }

    /// Total use so far, in the clock's unit.
    pub fn used_at(&self, now: OffsetDateTime, cal: &WorkCalendar) -> i64 {
        self.used + self.run_use(now, cal)
    }

    /// Stops the clock (return for correction); what was used is kept.
    pub fn stop(&mut self, now: OffsetDateTime, cal: &WorkCalendar) {
        self.used = self.used_at(now, cal);
        self.running_since = None;
    }

    pub fn resume(&mut self, now: OffsetDateTime) {
        if self.running_since.is_none() {
            self.running_since = Some(now);
        }
    }

    /// When the time limit runs out, if the clock is running.
    pub fn deadline(&self, cal: &WorkCalendar) -> Option<OffsetDateTime> {
        let since = self.running_since?;
        let left = (self.sla.amount as i64 - self.used).max(0);
        Some(match self.sla.unit {
            SlaUnit::WorkingDays => end_of_day(cal.add_working_days(local(since).date(), left as u32)),
            SlaUnit::WorkingHours => from_local(cal.add_working_time(local(since), Duration::minutes(left * 60))),
            SlaUnit::Hours => since + Duration::minutes(left * 60),
        })
    }

    /// Time used, for records and statistics: `3个工作日` / `5.5个工作小时` / `26.0小时`.
    pub fn used_label(&self, now: OffsetDateTime, cal: &WorkCalendar) -> String {
        let u = self.used_at(now, cal);
        match self.sla.unit {
            SlaUnit::WorkingDays => format!("{u}个工作日"),
            SlaUnit::WorkingHours => format!("{:.1}个工作小时", u as f64 / 60.0),
            SlaUnit::Hours => format!("{:.1}小时", u as f64 / 60.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{HolidayTable, WorkingHours};
    use time::macros::datetime;

    fn cal() -> WorkCalendar {
        let text =
            std::fs::read_to_string(format!("{}/../../config/holidays/2025.toml", env!("CARGO_MANIFEST_DIR"))).unwrap();
        WorkCalendar::new([HolidayTable::parse_toml("2025.toml", &text).unwrap()], WorkingHours::standard())
    }

    #[test]
    fn working_day_deadline_skips_the_national_day_holiday() {
        let c = cal();
        // Accepted Tuesday 2025-09-30 10:00; 3 working days: 9, 10, 11 October (the 11th is a
        // make-up Saturday). Due at 24:00 on the 11th.
        let clock = SlaClock::started(Sla { amount: 3, unit: SlaUnit::WorkingDays }, datetime!(2025-09-30 10:00 +8));
        assert_eq!(clock.deadline(&c), Some(datetime!(2025-10-12 00:00 +8)));
    }

    #[test]
    fn a_stopped_clock_keeps_what_it_used() {
        let c = cal();
        let mut clock =
            SlaClock::started(Sla { amount: 5, unit: SlaUnit::WorkingDays }, datetime!(2025-03-03 09:00 +8));
        clock.stop(datetime!(2025-03-05 15:00 +8), &c); // Tue and Wed used
        assert_eq!(clock.used, 2);
        assert_eq!(clock.deadline(&c), None);
        clock.resume(datetime!(2025-03-17 09:00 +8)); // two weeks of correction do not count
        assert_eq!(clock.deadline(&c), Some(datetime!(2025-03-21 00:00 +8)), "3 days left: 18, 19, 20 March");
    }

    #[test]
    fn working_hours_and_natural_hours() {
        let c = cal();
        let wh = SlaClock::started(Sla { amount: 4, unit: SlaUnit::WorkingHours }, datetime!(2025-09-30 16:30 +8));
        assert_eq!(wh.deadline(&c), Some(datetime!(2025-10-09 11:30 +8)));
        let h = SlaClock::started(Sla { amount: 24, unit: SlaUnit::Hours }, datetime!(2025-09-30 16:30 +8));
        assert_eq!(h.deadline(&c), Some(datetime!(2025-10-01 16:30 +8)));
        assert_eq!(h.used_label(datetime!(2025-10-01 04:30 +8), &c), "12.0小时");
    }
}
