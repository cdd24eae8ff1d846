//! Working-day calendar (工作日) from the State Council's yearly holiday notices.
//!
//! Each year's notice is a table of days off (放假) and make-up working days (调休上班, weekend
//! days that become working days). A year without a table counts weekends only; callers must
//! warn about it (see [`WorkCalendar::coverage_warning`]), because legal time limits computed
//! that way can be wrong by a week around Spring Festival and National Day.
//!
//! Time limits: "within N working days from date D" ends at the end of the N-th working day
//! after D (D itself is not counted). Hour-based limits count minutes inside office hours.

use crate::config::{ConfigError, line_of};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Duration, PrimitiveDateTime, Time, Weekday};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayDay {
    pub date: Date,
    pub name: String,
    /// true: a day off; false: a make-up working day on a weekend.
    pub off: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayTable {
    pub year: i32,
    pub days: Vec<HolidayDay>,
    /// Where the table came from (the notice named in the file's header, or a file name).
    pub source: String,
}

#[derive(Deserialize)]
struct RawFile {
    year: i32,
    #[serde(default)]
    day: Vec<RawDay>,
}

#[derive(Deserialize)]
struct RawDay {
    date: toml::Spanned<toml::value::Datetime>,
    name: String,
    off: bool,
}

impl HolidayTable {
    /// Parses a table in the format of `config/holidays/2025.toml`. Checks every date lies in
    /// the table's year, appears once, and that make-up working days fall on weekends.
    pub fn parse_toml(file: &str, text: &str) -> Result<Self, ConfigError> {
        let raw: RawFile = crate::config::parse_toml(file, text)?;
        let mut seen = BTreeSet::new();
        let mut days = Vec::with_capacity(raw.day.len());
        for (i, d) in raw.day.iter().enumerate() {
            let line = Some(line_of(text, d.date.span().start));
            let field = format!("day[{i}].date");
            let dt = d.date.get_ref();
            let date = match (dt.date, dt.time) {
                (Some(td), None) => time::Month::try_from(td.month)
                    .ok()
                    .and_then(|m| Date::from_calendar_date(td.year as i32, m, td.day).ok()),
                _ => None,
            }
            .ok_or_else(|| ConfigError::new(file, line, &field, "应为日期，如 2025-10-01"))?;
            if date.year() != raw.year {
                return Err(ConfigError::new(file, line, &field, format!("日期 {date} 不属于 {} 年", raw.year)));
            }
            if !seen.insert(date) {
                return Err(ConfigError::new(file, line, &field, format!("日期 {date} 重复")));
            }
            if !d.off && !is_weekend(date) {
                return Err(ConfigError::new(file, line, &field, format!("调休上班日 {date} 不是周末，无需调休")));
            }
            days.push(HolidayDay { date, name: d.name.clone(), off: d.off });
        }
        let source = text
            .lines()
            .find_map(|l| l.strip_prefix("# Source:").map(|s| s.trim().to_string()))
            .unwrap_or_else(|| file.to_string());
        Ok(HolidayTable { year: raw.year, days, source })
    }

    /// Renders the table back to the file format (for export and admin upload round trips).
    pub fn to_toml(&self) -> String {
        let mut s = format!("# Source: {}\nyear = {}\n", self.source, self.year);
        for d in &self.days {
            s.push_str(&format!("\n[[day]]\ndate = {}\nname = \"{}\"\noff = {}\n", d.date, d.name, d.off));
        }
        s
    }
}

pub fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayKind {
    Workday,
    Weekend,
    Holiday(String),
    MakeUpWorkday(String),
}

impl DayKind {
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Workday | DayKind::MakeUpWorkday(_))
    }

    pub fn label(&self) -> String {
        match self {
            DayKind::Workday => "工作日".into(),
            DayKind::Weekend => "周末".into(),
            DayKind::Holiday(n) => format!("{n}假期"),
            DayKind::MakeUpWorkday(n) => format!("{n}调休上班"),
        }
    }
}

/// Office hours: ordered, non-overlapping periods of a working day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    periods: Vec<(Time, Time)>,
}

impl WorkingHours {
    /// From `["08:30-12:00", "14:30-17:30"]`.
    pub fn parse(specs: &[String]) -> Result<Self, String> {
        let mut periods = vec![];
        for spec in specs {
            let (a, b) = spec.split_once('-').ok_or_else(|| format!("办公时段“{spec}”应写成 08:30-12:00"))?;
            let t = |s: &str| -> Result<Time, String> {
                let (h, m) = s.trim().split_once(':').ok_or_else(|| format!("时间“{s}”应写成 08:30"))?;
                let h: u8 = h.parse().map_err(|_| format!("时间“{s}”的小时无效"))?;
                let m: u8 = m.parse().map_err(|_| format!("时间“{s}”的分钟无效"))?;
                Time::from_hms(h, m, 0).map_err(|_| format!("时间“{s}”不存在"))
            };
            let (s, e) = (t(a)?, t(b)?);
            if s >= e {
                return Err(format!("办公时段“{spec}”的结束时间应晚于开始时间"));
            }
            if let Some((_, prev_end)) = periods.last()
                && s < *prev_end
            {
                return Err(format!("办公时段“{spec}”与前一时段重叠或顺序颠倒"));
            }
            periods.push((s, e));
        }
        if periods.is_empty() {
            return Err("至少需要一个办公时段".into());
        }
        Ok(WorkingHours { periods })
    }

    /// 08:30–12:00 and 14:30–17:30, common for government offices in Anhui.
    pub fn standard() -> Self {
        WorkingHours::parse(&["08:30-12:00".into(), "14:30-17:30".into()]).expect("valid")
    }

    pub fn per_day(&self) -> Duration {
        self.periods.iter().map(|(s, e)| *e - *s).sum()
    }

    pub fn periods(&self) -> &[(Time, Time)] {
        &self.periods
    }
}

#[derive(Debug, Clone)]
pub struct WorkCalendar {
    days: BTreeMap<Date, (bool, String)>,
    tables: BTreeMap<i32, String>,
    hours: WorkingHours,
}

impl WorkCalendar {
    pub fn new(tables: impl IntoIterator<Item = HolidayTable>, hours: WorkingHours) -> Self {
        let mut cal = WorkCalendar { days: BTreeMap::new(), tables: BTreeMap::new(), hours };
        for t in tables {
            cal.load(t);
        }
        cal
    }

    /// Adds or replaces one year's table.
    pub fn load(&mut self, table: HolidayTable) {
        self.days.retain(|d, _| d.year() != table.year);
        for d in table.days {
            self.days.insert(d.date, (d.off, d.name));
        }
        self.tables.insert(table.year, table.source);
    }

    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }

    pub fn covers(&self, year: i32) -> bool {
        self.tables.contains_key(&year)
    }

    pub fn years(&self) -> impl Iterator<Item = (i32, &str)> {
        self.tables.iter().map(|(y, s)| (*y, s.as_str()))
    }

    /// A warning when this year's or next year's table is missing (next year's notice is
    /// normally published in November; deadlines in January already need it).
    pub fn coverage_warning(&self, today: Date) -> Option<String> {
        let missing: Vec<String> =
            [today.year(), today.year() + 1].into_iter().filter(|y| !self.covers(*y)).map(|y| y.to_string()).collect();
        (!missing.is_empty()).then(|| {
            format!(
                "{}年节假日安排未加载：这些年份的工作日只按周末计算，法定时限可能算错。请在“节假日”管理页导入国务院办公厅通知。",
                missing.join("、")
            )
        })
    }

    pub fn day_kind(&self, d: Date) -> DayKind {
        match self.days.get(&d) {
            Some((true, name)) => DayKind::Holiday(name.clone()),
            Some((false, name)) => DayKind::MakeUpWorkday(name.clone()),
            None if is_weekend(d) => DayKind::Weekend,
            None => DayKind::Workday,
        }
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        match self.days.get(&d) {
            Some((off, _)) => !off,
            None => !is_weekend(d),
        }
    }

    /// The first working day on or after `d`.
    pub fn next_working_day(&self, mut d: Date) -> Date {
        while !self.is_working_day(d) {
            d = d.next_day().expect("date in range");
        }
        d
    }

    /// The date `n` working days after `start` (not counting `start`). `n = 0` is `start`.
    pub fn add_working_days(&self, start: Date, n: u32) -> Date {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = d.next_day().expect("date in range");
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days in `(from, to]`; negative when `to` is before `from`.
    pub fn working_days_between(&self, from: Date, to: Date) -> i64 {
        if to < from {
            return -self.working_days_between(to, from);
        }
        let mut n = 0;
        let mut d = from;
        while d < to {
            d = d.next_day().expect("date in range");
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }

    /// The local time at which `amount` of office time has passed since `start`. Time outside
    /// office hours does not count; a start outside office hours begins at the next period.
    pub fn add_working_time(&self, start: PrimitiveDateTime, amount: Duration) -> PrimitiveDateTime {
        if amount <= Duration::ZERO {
            return start;
        }
        let mut left = amount;
        let mut t = start;
        loop {
            let day = t.date();
            if self.is_working_day(day) {
                for (s, e) in &self.hours.periods {
                    let (ps, pe) = (PrimitiveDateTime::new(day, *s), PrimitiveDateTime::new(day, *e));
                    if t >= pe {
                        continue;
                    }
                    let from = t.max(ps);
                    let avail = pe - from;
                    if left <= avail {
                        return from + left;
                    }
                    left -= avail;
                    t = pe;
                }
            }
            t = PrimitiveDateTime::new(day.next_day().expect("date in range"), Time::MIDNIGHT);
        }
    }

    /// Office time between two local times; negative when `b` is before `a`.
    pub fn working_time_between(&self, a: PrimitiveDateTime, b: PrimitiveDateTime) -> Duration {
        if b < a {
            return -self.working_time_between(b, a);
        }
        let mut total = Duration::ZERO;
        let mut day = a.date();
        while day <= b.date() {
            if self.is_working_day(day) {
                for (s, e) in &self.hours.periods {
                    let ps = PrimitiveDateTime::new(day, *s).max(a);
                    let pe = PrimitiveDateTime::new(day, *e).min(b);
                    if pe > ps {
                        total += pe - ps;
                    }
                }
            }
            day = day.next_day().expect("date in range");
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    fn cal() -> WorkCalendar {
        let tables = ["2024", "2025", "2026"].map(|y| {
            let path = format!("{}/../../config/holidays/{y}.toml", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).expect("holiday table");
            HolidayTable::parse_toml(&path, &text).expect("valid table")
        });
        WorkCalendar::new(tables, WorkingHours::standard())
    }

    #[test]
    fn spring_festival_2025_make_up_days() {
        let c = cal();
        assert_eq!(date!(2025 - 01 - 26).weekday(), Weekday::Sunday);
        assert!(c.is_working_day(date!(2025 - 01 - 26)));
        assert!(c.is_working_day(date!(2025 - 02 - 08)));
        assert_eq!(c.day_kind(date!(2025 - 02 - 08)), DayKind::MakeUpWorkday("春节".into()));
        assert!(!c.is_working_day(date!(2025 - 01 - 28)));
        assert!(!c.is_working_day(date!(2025 - 02 - 04)));
    }

    #[test]
    fn national_day_2025_is_off() {
        let c = cal();
        let mut d = date!(2025 - 10 - 01);
        while d <= date!(2025 - 10 - 08) {
            assert!(!c.is_working_day(d), "{d} should be off");
            d = d.next_day().unwrap();
        }
        assert!(c.is_working_day(date!(2025 - 09 - 28)));
        assert!(c.is_working_day(date!(2025 - 10 - 11)));
        // One working day after 30 September is 9 October.
        assert_eq!(c.add_working_days(date!(2025 - 09 - 30), 1), date!(2025 - 10 - 09));
        assert_eq!(c.working_days_between(date!(2025 - 09 - 30), date!(2025 - 10 - 09)), 1);
        // 20 working days from 2025-09-26 (a Friday): Sep 28 (Sun, make-up), 29, 30, Oct 9, 10,
        // 11 (Sat, make-up), 13–17, 20–24, 27–30.
        assert_eq!(c.add_working_days(date!(2025 - 09 - 26), 20), date!(2025 - 10 - 30));
    }

    #[test]
    fn missing_year_counts_weekends_and_warns() {
        let c = cal();
        assert!(!c.covers(2027));
        assert!(c.is_working_day(date!(2027 - 01 - 04)));
        assert!(!c.is_working_day(date!(2027 - 01 - 02)));
        let w = c.coverage_warning(date!(2026 - 11 - 27)).unwrap();
        assert!(w.contains("2027年节假日安排未加载"), "{w}");
        assert!(c.coverage_warning(date!(2025 - 06 - 01)).is_none());
    }

    #[test]
    fn working_hours_skip_lunch_nights_and_holidays() {
        let c = cal();
        // Tuesday 2025-09-30 16:30 + 4 office hours: 1 h today, 3 h after National Day.
        let start = datetime!(2025-09-30 16:30);
        let end = c.add_working_time(start, Duration::hours(4));
        assert_eq!(end, datetime!(2025-10-09 11:30));
        assert_eq!(c.working_time_between(start, end), Duration::hours(4));
        // Starting at lunch counts from 14:30.
        assert_eq!(c.add_working_time(datetime!(2025-03-03 12:10), Duration::minutes(30)), datetime!(2025-03-03 15:00));
        // Ending exactly at the end of a period stays there.
        assert_eq!(
            c.add_working_time(datetime!(2025-03-03 08:30), Duration::minutes(210)),
            datetime!(2025-03-03 12:00)
        );
        assert_eq!(c.hours().per_day(), Duration::hours(6) + Duration::minutes(30));
    }

    #[test]
    fn rejects_bad_tables_with_line() {
        let text = "year = 2025\n\n[[day]]\ndate = 2025-01-27\nname = \"春节\"\noff = false\n";
        let e = HolidayTable::parse_toml("h.toml", text).unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.to_string().contains("不是周末"), "{e}");
        let text = "year = 2025\n[[day]]\ndate = 2024-12-31\nname = \"x\"\noff = true\n";
        assert!(HolidayTable::parse_toml("h.toml", text).unwrap_err().to_string().contains("不属于 2025 年"));
    }

    #[test]
    fn table_round_trips() {
        let c = cal();
        let _ = c;
        let text =
            std::fs::read_to_string(format!("{}/../../config/holidays/2025.toml", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let t = HolidayTable::parse_toml("2025.toml", &text).unwrap();
        let back = HolidayTable::parse_toml("x", &t.to_toml()).unwrap();
        assert_eq!(t, back);
    }

    proptest! {
        #[test]
        fn add_then_count_is_identity(offset in 0i64..1100, n in 0u32..60) {
            let c = cal();
            let start = date!(2024 - 01 - 01) + Duration::days(offset);
            let end = c.add_working_days(start, n);
            prop_assert_eq!(c.working_days_between(start, end), n as i64);
            if n > 0 {
                prop_assert!(c.is_working_day(end));
            }
        }

        #[test]
        fn working_time_round_trips(offset_min in 0i64..(1100 * 24 * 60), mins in 0i64..6000) {
            let c = cal();
            let start = datetime!(2024-01-01 00:00) + Duration::minutes(offset_min);
            let end = c.add_working_time(start, Duration::minutes(mins));
            prop_assert_eq!(c.working_time_between(start, end), Duration::minutes(mins));
        }
    }
}
