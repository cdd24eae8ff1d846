//! Time as a value passed in. Logic never calls `now()` itself; the web layer owns a `Clock`
//! so tests can move time (idle timeouts, lockouts, SLA deadlines) without sleeping.

use std::sync::Mutex;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// China Standard Time. China has had no daylight saving since 1991, so a fixed offset is exact.
pub const CHINA: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("valid offset"),
};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;

    /// Today's date in China.
    fn today(&self) -> Date {
        self.now().to_offset(CHINA).date()
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock tests set and advance.
#[derive(Debug)]
pub struct FakeClock(Mutex<OffsetDateTime>);

impl FakeClock {
    pub fn new(at: OffsetDateTime) -> Self {
        FakeClock(Mutex::new(at))
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().expect("clock lock");
        *t += by;
    }

    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().expect("clock lock") = at;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("clock lock")
    }
}

/// Local wall-clock time in China of an instant.
pub fn local(t: OffsetDateTime) -> PrimitiveDateTime {
    let l = t.to_offset(CHINA);
    PrimitiveDateTime::new(l.date(), l.time())
}

/// The instant of a Chinese wall-clock time.
pub fn from_local(t: PrimitiveDateTime) -> OffsetDateTime {
    t.assume_offset(CHINA)
}

/// Milliseconds since the Unix epoch: how instants are stored.
pub fn to_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2026-11-27 19:52:35` in China time, as pages show instants.
pub fn format_local(t: OffsetDateTime) -> String {
    let l = local(t);
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", l.year(), l.month() as u8, l.day(), l.hour(), l.minute(), l.second())
}

/// How times show on screen: China time to the minute, `2026-12-07 17:30`. Seconds only where
/// they matter (the audit log, location fixes).
pub fn format_minute(t: OffsetDateTime) -> String {
    let l = local(t);
    format!("{:04}-{:02}-{:02} {:02}:{:02}", l.year(), l.month() as u8, l.day(), l.hour(), l.minute())
}

/// How a deadline shows: the last moment to act, to the minute. One that falls at midnight
/// belongs to the day before and shows as that day's 24:00 (民法典 art. 203: the last day of a
/// period ends at 24:00; where there are business hours, at their close — 17:30 for an office
/// day), never as 00:00 of a day on which nothing may be done any more.
pub fn format_deadline(t: OffsetDateTime) -> String {
    let l = local(t);
    if l.hour() == 0 && l.minute() == 0 && l.second() == 0 {
        let d = l.date().previous_day().unwrap_or(l.date());
        return format!("{:04}-{:02}-{:02} 24:00", d.year(), d.month() as u8, d.day());
    }
    format_minute(t)
}

/// RFC 3339 UTC with milliseconds: `2026-11-27T11:52:35.123Z`, used in canonical records.
pub fn format_utc_millis(t: OffsetDateTime) -> String {
    let u = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        u.year(),
        u.month() as u8,
        u.day(),
        u.hour(),
        u.minute(),
        u.second(),
        u.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_in_china_time() {
        let t = datetime!(2026-11-27 11:52:35.123 UTC);
        assert_eq!(format_local(t), "2026-11-27 19:52:35");
        assert_eq!(format_utc_millis(t), "2026-11-27T11:52:35.123Z");
        assert_eq!(from_millis(to_millis(t)), t);
        assert_eq!(format_minute(t), "2026-11-27 19:52");
    }

    /// 民法典 art. 203: a period's last day ends at 24:00, or at the close of business.
    #[test]
    fn a_deadline_at_midnight_shows_as_the_day_before_at_24_00() {
        assert_eq!(format_deadline(datetime!(2026-10-13 00:00 +8)), "2026-10-12 24:00");
        assert_eq!(format_deadline(datetime!(2026-10-12 17:30 +8)), "2026-10-12 17:30");
    }

    #[test]
    fn fake_clock_moves() {
        let c = FakeClock::new(datetime!(2026-01-01 00:00 UTC));
        c.advance(Duration::minutes(31));
        assert_eq!(c.now(), datetime!(2026-01-01 00:31 UTC));
        assert_eq!(c.today(), time::macros::date!(2026 - 01 - 01));
    }
}
