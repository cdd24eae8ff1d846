//! 亳安码 (case 2), the pure part: a supervised person's fences and how a location fix is
//! judged against them, and the noise handling that turns raw violations into alarms.
//!
//! A person has allowed areas (允许活动区域: the fix must be covered by at least one active one)
//! and forbidden zones (禁止进入区域: the fix must be covered by none). Each fence may be limited
//! to a window (an approved leave's area exists only for the leave) and to a weekly schedule (a
//! curfew zone at night). Every violating fix is a raw violation, recorded at once; an alarm is
//! confirmed only after `confirm_fixes` violating fixes in a row or `confirm_secs` of
//! continuous violation, so one noisy fix does not raise it.

use crate::geo::Wgs84Point;
use crate::geo::fence::{Shape, Where};
use crate::ids::DivisionCode;
use time::Weekday;

crate::coded! {
    pub enum Rule ("围栏规则") {
        /// Must not be left.
        Allowed = ("allowed", "允许活动区域"),
        /// Must not be entered.
        Forbidden = ("forbidden", "禁止进入区域"),
    }
}

crate::coded! {
    /// The measure a person is under: a compulsory measure of the 刑事诉讼法 (取保候审, 监视居住)
    /// or a way of serving a sentence in the community (社区矫正, 暂予监外执行). The stored code
    /// is the Chinese name.
    pub enum Measure ("强制措施或刑罚执行方式") {
        Bail = ("取保候审", "取保候审"),
        Surveillance = ("监视居住", "监视居住"),
        CommunityCorrection = ("社区矫正", "社区矫正"),
        MedicalParole = ("暂予监外执行", "暂予监外执行"),
    }
}

impl Measure {
    /// 刑事诉讼法 art. 79 ¶1: 取保候审 lasts at most twelve months, 监视居住 at most six. The
    /// community measures run for the sentence, which the court sets.
    pub fn max_months(self) -> Option<u32> {
        match self {
            Measure::Bail => Some(12),
            Measure::Surveillance => Some(6),
            Measure::CommunityCorrection | Measure::MedicalParole => None,
        }
    }

    /// Checks a period decided for the measure: it ends on or after its start, and a
    /// compulsory measure ends within its statutory maximum (the last allowed day is the day
    /// before the same date `max_months` later). A new decision — by the next stage's organ —
    /// starts a new period (art. 79 counts per deciding organ).
    pub fn check_term(self, from: time::Date, to: time::Date) -> Result<(), String> {
        if to < from {
            return Err("措施截止日期早于开始日期".into());
        }
        if let Some(max) = self.max_months() {
            let last = add_months(from, max) - time::Duration::days(1);
            if to > last {
                return Err(format!(
                    "{}最长不得超过{}个月（《刑事诉讼法》第七十九条），自 {from} 起最晚至 {last}",
                    self.label(),
                    if max == 12 { "十二" } else { "六" }
                ));
            }
        }
        Ok(())
    }
}

impl Measure {
    /// The stage whose organ executes the measure, whichever organ decided it: the police
    /// execute 取保候审 and 监视居住 at every stage (刑事诉讼法 art. 67 ¶2, art. 74 ¶3); the
    /// 社区矫正机构 (司法局) executes community correction and 暂予监外执行 (社区矫正法 arts. 2, 9).
    pub fn executing_stage(self) -> &'static str {
        match self {
            Measure::Bail | Measure::Surveillance => "police",
            Measure::CommunityCorrection | Measure::MedicalParole => "justice",
        }
    }

    /// Whether the measure can be in force at `stage`: the compulsory measures (刑事诉讼法
    /// art. 66: decided by the court, procuratorate or police) before judgment is executed;
    /// the community measures (社区矫正法 art. 2) only when it is.
    pub fn fits_stage(self, stage: &str) -> bool {
        match self {
            Measure::Bail | Measure::Surveillance => matches!(stage, "police" | "procuratorate" | "court"),
            Measure::CommunityCorrection | Measure::MedicalParole => stage == "justice",
        }
    }

    /// 社区矫正法 art. 29: a person under community correction may carry an electronic
    /// location device only by an approved decision; the compulsory measures are tracked
    /// under the executing organ's decision itself.
    pub fn tracking_needs_decision(self) -> bool {
        matches!(self, Measure::CommunityCorrection | Measure::MedicalParole)
    }

    /// The area the person may not leave without approval, with its article, as officers
    /// read it: 监视居住 the residence (刑事诉讼法 art. 77 ¶1(1)); 取保候审 the city or county
    /// of residence (art. 71 ¶1(1)); community correction likewise (社区矫正法 art. 27).
    pub fn allowed_area_note(self) -> String {
        let area = match self {
            Measure::Surveillance => "执行监视居住的处所",
            _ => "所居住的市、县",
        };
        format!("未经批准不得离开{area}（{}）", self.area_article())
    }
}

impl Measure {
    /// The article that sets the area the person may not leave without approval.
    fn area_article(self) -> &'static str {
        match self {
            Measure::Bail => "《刑事诉讼法》第七十一条第一款第一项",
            Measure::Surveillance => "《刑事诉讼法》第七十七条第一款第一项",
            Measure::CommunityCorrection | Measure::MedicalParole => "《社区矫正法》第二十七条",
        }
    }

    /// Whether the statute sets the allowed area at the city or county of residence: 取保候审
    /// "未经执行机关批准不得离开所居住的市、县" (刑事诉讼法 art. 71 ¶1(1)), and community
    /// correction "离开所居住的市、县……应当报经社区矫正机构批准" (社区矫正法 art. 27). A standing
    /// allowed fence narrower than that would alarm on lawful movement. 监视居住 keeps the
    /// person at the residence (art. 77 ¶1(1)), so any shape may be drawn for it.
    pub fn keeps_to_county(self) -> bool {
        !matches!(self, Measure::Surveillance)
    }

    fn too_narrow(self, residence: &DivisionCode) -> String {
        let county = residence.as_str().get(..6).unwrap_or(residence.as_str());
        format!(
            "{}的允许活动区域不得小于所居住的市、县（{}）：请选择居住地所在的县（市、区）（区划代码 {county}）或更大的区划，或画出覆盖该县全境的范围",
            self.label(),
            self.area_article()
        )
    }

    /// Checks a standing allowed area entered as a division against the residence.
    pub fn check_allowed_division(self, fence: &DivisionCode, residence: &DivisionCode) -> Result<(), String> {
        if !self.keeps_to_county() {
            return Ok(());
        }
        let wide = matches!(
            fence.level(),
            crate::ids::DivisionLevel::Province | crate::ids::DivisionLevel::City | crate::ids::DivisionLevel::County
        );
        if wide && fence.contains(residence) { Ok(()) } else { Err(self.too_narrow(residence)) }
    }

    /// Checks a standing allowed area drawn as a shape: it must cover every point of the
    /// boundary of the county of residence. With no boundary on file there is nothing to
    /// measure against and the shape is taken as drawn.
    pub fn check_allowed_shape(
        self,
        shape: &Shape,
        county_boundary: &[Wgs84Point],
        residence: &DivisionCode,
    ) -> Result<(), String> {
        if !self.keeps_to_county() || county_boundary.iter().all(|p| shape.covers(p)) {
            Ok(())
        } else {
            Err(self.too_narrow(residence))
        }
    }
}

crate::coded! {
    /// 社区矫正法 art. 29 ¶1: the five situations in which a person under community correction
    /// may be made to carry an electronic location device.
    pub enum LocatingGround ("使用电子定位装置的情形") {
        BanViolated = ("1", "违反人民法院禁止令的"),
        LeftWithoutLeave = ("2", "无正当理由，未经批准离开所居住的市、县的"),
        RefusedToReport = ("3", "拒不按照规定报告自己的活动情况，被给予警告的"),
        PoliceSanction = ("4", "违反监督管理规定，被给予治安管理处罚的"),
        RevocationProposed = ("5", "拟提请撤销缓刑、假释或者暂予监外执行收监执行的"),
    }
}

/// 社区矫正法 art. 29 ¶2: one approval of a location device lasts at most three months; each
/// renewal at most three more. Returns the last allowed day for a period starting `from`.
pub fn check_locating_term(from: time::Date, to: time::Date) -> Result<(), String> {
    if to < from {
        return Err("使用期限截止日期早于开始日期".into());
    }
    let last = add_months(from, 3) - time::Duration::days(1);
    if to > last {
        return Err(format!(
            "电子定位装置每次使用不得超过三个月（《社区矫正法》第二十九条），自 {from} 起最晚至 {last}；期满仍有必要的，经评估另行批准延长"
        ));
    }
    Ok(())
}

/// 刑事诉讼法 art. 71 ¶1(2): a change of address, employer or contact details is reported to
/// the executing organ within twenty-four hours. Returns how many hours late a report of a
/// change at `changed_ms` made at `reported_ms` is (0 when on time).
pub fn change_report_late_hours(changed_ms: i64, reported_ms: i64) -> i64 {
    let over = reported_ms - changed_ms - CHANGE_REPORT_HOURS * 3_600_000;
    if over <= 0 { 0 } else { (over + 3_599_999) / 3_600_000 }
}

/// The hours art. 71 ¶1(2) allows for reporting a change.
pub const CHANGE_REPORT_HOURS: i64 = 24;

/// The same day `n` months later (the month's last day when it has no such day).
pub fn add_months(d: time::Date, n: u32) -> time::Date {
    let months = d.year() * 12 + i32::from(u8::from(d.month())) - 1 + n as i32;
    let (year, month) = (months.div_euclid(12), (months.rem_euclid(12) + 1) as u8);
    let month = time::Month::try_from(month).expect("1..=12");
    let day = d.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day).expect("a day of the month")
}

/// Days before a measure's end at which its agency is reminded to decide: lift it, or change
/// the measure (art. 79 ¶2, art. 99).
pub const EXPIRY_WARNINGS: [i64; 2] = [15, 3];

crate::coded! {
    /// Whether a person is under supervision.
    pub enum PersonStatus ("监管状态") {
        /// Under the measure: locations, check-ins and alarms are collected.
        Active = ("active", "在管"),
        /// The period has run out and no one has lifted the measure yet: nothing is collected
        /// any more; the agency must lift it and notify (art. 79 ¶2).
        Expired = ("expired", "期限届满待解除"),
        /// Lifted (解除), the person and the units concerned notified.
        Released = ("released", "已解除"),
    }
}

crate::coded! {
    /// What raised an alarm.
    pub enum AlarmKind ("报警类型") {
        Fence = ("fence", "越界报警"),
        CheckIn = ("checkin", "打卡异常"),
        Offline = ("offline", "长时间无定位"),
        Device = ("device", "更换设备"),
        Summons = ("summons", "传讯未到案"),
    }
}

impl AlarmKind {
    /// The 亳安码 score event it records (`config/scores/anma.toml`).
    pub fn score_event(self) -> &'static str {
        match self {
            AlarmKind::Fence => "fence_alarm",
            AlarmKind::CheckIn => "missed_check_in",
            AlarmKind::Offline => "offline",
            AlarmKind::Device => "device_changed",
            AlarmKind::Summons => "summons_absent",
        }
    }
}

crate::coded! {
    /// Where an alarm's handling stands.
    pub enum AlarmStatus ("报警状态") {
        Open = ("open", "待处置"),
        Acknowledged = ("acknowledged", "已签收"),
        Explained = ("explained", "已说明"),
        Closed = ("closed", "已关闭"),
    }
}

crate::coded! {
    /// What the officer does with an alarm: 签收, 说明情况, 关闭.
    pub enum AlarmAction ("报警处置") {
        Acknowledge = ("acknowledge", "签收"),
        Explain = ("explain", "说明情况"),
        Close = ("close", "关闭"),
    }
}

impl AlarmStatus {
    /// The status after `action`, if it may be taken now.
    pub fn after(self, action: AlarmAction) -> Option<AlarmStatus> {
        use AlarmStatus::*;
        match (self, action) {
            (Open, AlarmAction::Acknowledge) => Some(Acknowledged),
            (Acknowledged | Explained, AlarmAction::Explain) => Some(Explained),
            (Open | Acknowledged | Explained, AlarmAction::Close) => Some(Closed),
            _ => None,
        }
    }
}

crate::coded! {
    /// How a check-in task is set: at a random moment (飞行打卡) or at a fixed time.
    pub enum CheckInKind ("打卡方式") {
        Flying = ("flying", "飞行打卡"),
        Scheduled = ("scheduled", "定时打卡"),
    }
}

crate::coded! {
    pub enum CheckInStatus ("打卡任务状态") {
        Open = ("open", "待打卡"),
        Done = ("done", "已完成"),
        Failed = ("failed", "打卡未通过"),
        Missed = ("missed", "超时未打卡"),
        /// The measure ended before the task was due.
        Cancelled = ("cancelled", "措施解除已取消"),
    }
}

crate::coded! {
    /// A summons (传讯) from its sending to the person's appearance or absence.
    pub enum SummonsStatus ("传讯状态") {
        Sent = ("sent", "已送达待确认"),
        Acknowledged = ("acknowledged", "本人已确认"),
        Appeared = ("appeared", "已按时到案"),
        Absent = ("absent", "未到案"),
    }
}

impl SummonsStatus {
    /// Appearance or absence has been recorded.
    pub fn is_settled(self) -> bool {
        matches!(self, SummonsStatus::Appeared | SummonsStatus::Absent)
    }
}

crate::coded! {
    pub enum LeaveStatus ("请假状态") {
        Pending = ("pending", "待审批"),
        /// The deciding organ (a 检察院 or 法院) has consented; the police approve next.
        Consented = ("consented", "决定机关已同意，待执行机关批准"),
        Approved = ("approved", "已批准"),
        Refused = ("refused", "不予批准"),
        Withdrawn = ("withdrawn", "已撤回"),
    }
}

crate::coded! {
    /// What the person reports: a change of address or employer, or how they are doing.
    pub enum ReportKind ("报告类型") {
        InfoChange = ("info_change", "信息变更"),
        Status = ("status", "情况汇报"),
    }
}

/// What a face-verification service signs for a check-in: the task, the instant, the score
/// (one decimal), liveness and the photo's SM3, so none can be changed on the phone.
pub fn face_result_message(task_id: &str, at_ms: i64, score: f64, live: bool, photo_sm3: &str) -> String {
    format!("{task_id}|{at_ms}|{score:.1}|{live}|{}", photo_sm3.to_ascii_lowercase())
}

/// Whether `signature_hex` is a valid SM2 signature of `message` by one of `keys_hex`.
pub fn face_result_verified(keys_hex: &[String], message: &str, signature_hex: Option<&str>) -> bool {
    let Some(sig) = signature_hex.and_then(|s| hex::decode(s.trim()).ok()) else { return false };
    keys_hex
        .iter()
        .filter_map(|k| hex::decode(k.trim()).ok())
        .any(|k| crate::crypto::verify(&k, message.as_bytes(), &sig).unwrap_or(false))
}

/// Weekly hours a fence applies (local time): days of the week and minutes of the day. A
/// window that ends before it starts runs over midnight (22:00–06:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Bit 0 Monday … bit 6 Sunday.
    pub days: u8,
    pub from_min: u16,
    pub to_min: u16,
}

impl Schedule {
    pub fn applies(&self, local: time::PrimitiveDateTime) -> bool {
        let day_bit = |d: Weekday| 1u8 << d.number_days_from_monday();
        let m = local.hour() as u16 * 60 + local.minute() as u16;
        if self.from_min <= self.to_min {
            self.days & day_bit(local.weekday()) != 0 && m >= self.from_min && m < self.to_min
        } else if m >= self.from_min {
            self.days & day_bit(local.weekday()) != 0
        } else {
            // After midnight: the window began the day before.
            self.days & day_bit(local.weekday().previous()) != 0 && m < self.to_min
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fence {
    pub id: String,
    pub rule: Rule,
    pub shape: Shape,
    /// Only between these instants (Unix ms, end exclusive), e.g. an approved leave.
    pub window: Option<(i64, i64)>,
    pub schedule: Option<Schedule>,
}

impl Fence {
    pub fn active(&self, at_ms: i64) -> bool {
        let in_window = self.window.is_none_or(|(a, b)| at_ms >= a && at_ms < b);
        in_window
            && self.schedule.is_none_or(|s| {
                let t = crate::clock::from_millis(at_ms);
                s.applies(crate::clock::local(t))
            })
    }
}

/// How a fix stands against a person's fences.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    /// Not covered by any active allowed area (only when the person has one).
    pub outside_allowed: bool,
    /// The active forbidden zones the fix is in.
    pub in_forbidden: Vec<String>,
    /// Too close to an edge, given the fix's accuracy, to say.
    pub uncertain: bool,
}

impl Verdict {
    pub fn violates(&self) -> bool {
        self.outside_allowed || !self.in_forbidden.is_empty()
    }
}

/// A person's fences, ready for checking.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FenceSet {
    pub fences: Vec<Fence>,
}

impl FenceSet {
    /// Judges a fix at `at_ms` reported with `accuracy_m` (0: exact).
    pub fn judge(&self, p: &Wgs84Point, at_ms: i64, accuracy_m: f64) -> Verdict {
        let mut v = Verdict::default();
        let (mut any_allowed, mut covered, mut maybe_covered) = (false, false, false);
        for f in self.fences.iter().filter(|f| f.active(at_ms)) {
            match (f.rule, f.shape.locate(p, accuracy_m)) {
                (Rule::Allowed, w) => {
                    any_allowed = true;
                    covered |= w == Where::Inside;
                    maybe_covered |= w == Where::Uncertain;
                }
                (Rule::Forbidden, Where::Inside) => v.in_forbidden.push(f.id.clone()),
                (Rule::Forbidden, Where::Uncertain) => v.uncertain = true,
                (Rule::Forbidden, Where::Outside) => {}
            }
        }
        if any_allowed && !covered {
            if maybe_covered {
                v.uncertain = true;
            } else {
                v.outside_allowed = true;
            }
        }
        v
    }

    /// The exact check the benchmark counts: outside every allowed area or inside a forbidden
    /// zone, ignoring accuracy, windows and schedules.
    pub fn violates_exact(&self, p: &Wgs84Point) -> (bool, bool) {
        let mut any_allowed = false;
        let mut covered = false;
        let mut forbidden = false;
        for f in &self.fences {
            match f.rule {
                Rule::Allowed => {
                    any_allowed = true;
                    covered = covered || f.shape.covers(p);
                }
                Rule::Forbidden => forbidden = forbidden || f.shape.covers(p),
            }
        }
        (any_allowed && !covered, forbidden)
    }
}

/// When a violation becomes an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hysteresis {
    /// Violating fixes in a row that confirm an alarm.
    pub confirm_fixes: u32,
    /// Or this long in violation, from the first violating fix.
    pub confirm_secs: i64,
}

impl Default for Hysteresis {
    fn default() -> Self {
        Hysteresis { confirm_fixes: 3, confirm_secs: 120 }
    }
}

/// What one fix does to a person's alarm state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing to record.
    Clear,
    /// A raw violation, recorded, not (yet) an alarm.
    Suspect,
    /// A raw violation that confirms an alarm.
    Alarm,
    /// A raw violation while an alarm is already standing.
    Continuing,
    /// Back within the fences after an alarm.
    Returned,
}

/// A person's running state. Fixes are applied in time order; a late fix (not newer than the
/// last one applied — so also a fix sent twice) is still judged and recorded as a raw
/// violation, but does not move the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tracker {
    pub last_ms: i64,
    pub streak: u32,
    pub since_ms: Option<i64>,
    pub alarmed: bool,
}

impl Tracker {
    pub fn step(&mut self, h: &Hysteresis, at_ms: i64, v: &Verdict) -> Step {
        self.step_flags(h, at_ms, v.violates(), v.uncertain)
    }

    /// `step` with the verdict reduced to what the state depends on (as stored with a fix).
    pub fn step_flags(&mut self, h: &Hysteresis, at_ms: i64, violates: bool, uncertain: bool) -> Step {
        if at_ms <= self.last_ms {
            return if violates { Step::Suspect } else { Step::Clear };
        }
        self.last_ms = at_ms;
        if violates {
            self.streak += 1;
            let since = *self.since_ms.get_or_insert(at_ms);
            if self.alarmed {
                return Step::Continuing;
            }
            if self.streak >= h.confirm_fixes || at_ms - since >= h.confirm_secs * 1000 {
                self.alarmed = true;
                return Step::Alarm;
            }
            Step::Suspect
        } else if uncertain {
            // An uncertain fix neither confirms nor clears.
            Step::Clear
        } else {
            let was = self.alarmed;
            *self = Tracker { last_ms: at_ms, ..Tracker::default() };
            if was { Step::Returned } else { Step::Clear }
        }
    }
}

/// Local time of day helper for schedules in tests and pages.
pub fn minutes(h: u16, m: u16) -> u16 {
    h * 60 + m
}

/// Unix ms of a local (Beijing) time.
pub fn local_ms(t: time::PrimitiveDateTime) -> i64 {
    crate::clock::to_millis(crate::clock::from_local(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::Ring;
    use crate::geo::fence::{Area, Circle};
    use time::macros::datetime;

    /// 刑事诉讼法 art. 71 ¶1(1): a person on bail may not leave "所居住的市、县" without
    /// approval — so the town of residence is too narrow an allowed area, the county or the city
    /// is right; 监视居住 (art. 77 ¶1(1)) keeps the person at the residence, any shape fits.
    #[test]
    fn bail_is_kept_to_the_county_of_residence_not_the_town() {
        let home = DivisionCode::parse("341602100").unwrap();
        let town = DivisionCode::parse("341602100").unwrap();
        let county = DivisionCode::parse("341602").unwrap();
        let city = DivisionCode::parse("341600").unwrap();
        let other = DivisionCode::parse("341621").unwrap();
        let e = Measure::Bail.check_allowed_division(&town, &home).unwrap_err();
        assert!(e.contains("第七十一条第一款第一项") && e.contains("341602"), "{e}");
        assert!(Measure::Bail.check_allowed_division(&county, &home).is_ok());
        assert!(Measure::Bail.check_allowed_division(&city, &home).is_ok());
        assert!(Measure::Bail.check_allowed_division(&other, &home).is_err(), "another county is not the residence");
        // 社区矫正法 art. 27 sets the same area for community correction.
        assert!(Measure::CommunityCorrection.check_allowed_division(&town, &home).unwrap_err().contains("第二十七条"));
        assert!(Measure::Surveillance.check_allowed_division(&town, &home).is_ok());

        // A drawn shape must cover the county's whole boundary.
        let boundary: Vec<Wgs84Point> = Ring::rect(115.5, 33.6, 116.2, 34.1).0;
        let small = Shape::Areas(vec![Area::new(Ring::rect(115.7, 33.8, 115.9, 33.9), vec![])]);
        let large = Shape::Areas(vec![Area::new(Ring::rect(115.4, 33.5, 116.3, 34.2), vec![])]);
        assert!(Measure::Bail.check_allowed_shape(&small, &boundary, &county).is_err());
        assert!(Measure::Bail.check_allowed_shape(&large, &boundary, &county).is_ok());
        assert!(Measure::Surveillance.check_allowed_shape(&small, &boundary, &county).is_ok());
    }

    fn pt(lon: f64, lat: f64) -> Wgs84Point {
        Wgs84Point { lon, lat }
    }

    fn home() -> Fence {
        Fence {
            id: "home".into(),
            rule: Rule::Allowed,
            shape: Shape::Areas(vec![Area::new(Ring::rect(115.7, 33.8, 115.9, 33.9), vec![])]),
            window: None,
            schedule: None,
        }
    }

    fn school() -> Fence {
        Fence {
            id: "school".into(),
            rule: Rule::Forbidden,
            shape: Shape::Circle(Circle::new(pt(115.8, 33.85), 300.0).unwrap()),
            window: None,
            schedule: None,
        }
    }

    #[test]
    fn allowed_and_forbidden() {
        let set = FenceSet { fences: vec![home(), school()] };
        let t = local_ms(datetime!(2026-11-27 10:00));
        assert!(!set.judge(&pt(115.75, 33.82), t, 0.0).violates());
        let out = set.judge(&pt(116.2, 33.82), t, 0.0);
        assert!(out.outside_allowed && out.in_forbidden.is_empty());
        let bad = set.judge(&pt(115.8, 33.85), t, 0.0);
        assert_eq!(bad.in_forbidden, vec!["school".to_string()]);
        assert_eq!(set.violates_exact(&pt(115.8, 33.85)), (false, true));
    }

    #[test]
    fn an_approved_leave_changes_the_fences_for_its_window_only() {
        // Leave to Hefei, 2026-12-01 08:00 to 2026-12-03 20:00.
        let (from, to) = (local_ms(datetime!(2026-12-01 08:00)), local_ms(datetime!(2026-12-03 20:00)));
        let leave = Fence {
            id: "leave".into(),
            rule: Rule::Allowed,
            shape: Shape::Areas(vec![Area::new(Ring::rect(117.0, 31.7, 117.4, 32.0), vec![])]),
            window: Some((from, to)),
            schedule: None,
        };
        let set = FenceSet { fences: vec![home(), leave] };
        let hefei = pt(117.2, 31.85);
        assert!(set.judge(&hefei, from - 60_000, 0.0).outside_allowed, "before the leave");
        assert!(!set.judge(&hefei, from, 0.0).violates(), "during");
        assert!(!set.judge(&hefei, to - 1, 0.0).violates());
        assert!(set.judge(&hefei, to, 0.0).outside_allowed, "after: back to home only");
        assert!(!set.judge(&pt(115.75, 33.82), from + 1000, 0.0).violates(), "home stays allowed");
    }

    #[test]
    fn schedules_can_run_over_midnight() {
        let curfew = Schedule { days: 0b111_1111, from_min: minutes(22, 0), to_min: minutes(6, 0) };
        assert!(curfew.applies(datetime!(2026-11-27 23:30)));
        assert!(curfew.applies(datetime!(2026-11-28 05:59)));
        assert!(!curfew.applies(datetime!(2026-11-28 06:00)));
        assert!(!curfew.applies(datetime!(2026-11-27 12:00)));
        let weekdays = Schedule { days: 0b001_1111, from_min: minutes(8, 0), to_min: minutes(18, 0) };
        assert!(weekdays.applies(datetime!(2026-11-27 09:00)), "a Friday");
        assert!(!weekdays.applies(datetime!(2026-11-28 09:00)), "a Saturday");
    }

    #[test]
    fn hysteresis_suppresses_a_single_noisy_fix_but_records_it() {
        let h = Hysteresis { confirm_fixes: 3, confirm_secs: 120 };
        let set = FenceSet { fences: vec![home()] };
        let (inside, outside) = (pt(115.75, 33.82), pt(116.2, 33.82));
        let mut t = Tracker::default();
        let ms = |s: i64| 1_800_000_000_000 + s * 1000;
        assert_eq!(t.step(&h, ms(0), &set.judge(&inside, ms(0), 0.0)), Step::Clear);
        assert_eq!(t.step(&h, ms(10), &set.judge(&outside, ms(10), 0.0)), Step::Suspect, "recorded");
        assert_eq!(t.step(&h, ms(20), &set.judge(&inside, ms(20), 0.0)), Step::Clear, "no alarm");
        // Three in a row confirm; then it continues; coming back is reported.
        assert_eq!(t.step(&h, ms(30), &set.judge(&outside, ms(30), 0.0)), Step::Suspect);
        assert_eq!(t.step(&h, ms(40), &set.judge(&outside, ms(40), 0.0)), Step::Suspect);
        assert_eq!(t.step(&h, ms(50), &set.judge(&outside, ms(50), 0.0)), Step::Alarm);
        assert_eq!(t.step(&h, ms(60), &set.judge(&outside, ms(60), 0.0)), Step::Continuing);
        // A late fix is judged but does not move the state.
        assert_eq!(t.step(&h, ms(5), &set.judge(&outside, ms(5), 0.0)), Step::Suspect);
        assert!(t.alarmed);
        assert_eq!(t.step(&h, ms(70), &set.judge(&inside, ms(70), 0.0)), Step::Returned);
        // Or time: two fixes 3 minutes apart.
        let mut t = Tracker::default();
        assert_eq!(t.step(&h, ms(0), &set.judge(&outside, ms(0), 0.0)), Step::Suspect);
        assert_eq!(t.step(&h, ms(180), &set.judge(&outside, ms(180), 0.0)), Step::Alarm);
    }

    #[test]
    fn an_uncertain_fix_neither_confirms_nor_clears() {
        let h = Hysteresis { confirm_fixes: 2, confirm_secs: 3600 };
        let set = FenceSet { fences: vec![home()] };
        let (_, mx) = crate::geo::geodesic::metres_per_degree(33.85);
        let near = pt(115.9 + 20.0 / mx, 33.85);
        let mut t = Tracker::default();
        assert_eq!(t.step(&h, 1000, &set.judge(&pt(116.2, 33.82), 1000, 0.0)), Step::Suspect);
        let v = set.judge(&near, 2000, 50.0);
        assert!(v.uncertain && !v.violates());
        assert_eq!(t.step(&h, 2000, &v), Step::Clear);
        assert_eq!(t.streak, 1, "kept");
        assert_eq!(t.step(&h, 3000, &set.judge(&near, 3000, 5.0)), Step::Alarm, "a precise fix confirms");
    }
}

crate::audit_actions! {
    /// Actions of electronic supervision (非羁押人员电子监管).
    pub enum SupervisionAudit {
        PersonCreate = ("supervision.person.create", "登记监管对象"),
        PersonView = ("supervision.person.view", "查看监管对象"),
        DeviceBind = ("supervision.device.bind", "绑定监管设备"),
        FenceAdd = ("supervision.fence.add", "设置电子围栏"),
        AlarmOpen = ("supervision.alarm.open", "产生监管告警"),
        AlarmHandle = ("supervision.alarm.handle", "处置监管告警"),
        HandOff = ("supervision.hand_off", "移交下一诉讼阶段"),
        TakeOver = ("supervision.take_over", "接收移交案件"),
        LeaveRequest = ("supervision.leave.request", "申请外出"),
        LeaveDecide = ("supervision.leave.decide", "审批外出申请"),
        TaskIssue = ("supervision.task.issue", "下发打卡任务"),
        TaskCheckIn = ("supervision.task.check_in", "打卡签到"),
        SummonsIssue = ("supervision.summons.issue", "发出传唤"),
        SummonsAcknowledge = ("supervision.summons.acknowledge", "确认收到传唤"),
        SummonsRecord = ("supervision.summons.record", "登记到案情况"),
        ReportFile = ("supervision.report.file", "提交思想汇报"),
        ReportView = ("supervision.report.view", "查看思想汇报"),
        Purge = ("supervision.purge", "清理过期轨迹"),
        Expire = ("supervision.expire", "措施期限届满停止采集"),
        ExpiryWarn = ("supervision.expiry_warn", "措施即将到期提醒"),
        Release = ("supervision.release", "解除强制措施"),
        Locating = ("supervision.locating", "批准使用电子定位装置"),
        StatsExport = ("supervision.stats.export", "导出监管统计"),
    }
}

/// Object types of the supervision case's records.
pub const AUDIT_OBJECTS: &[(&str, &str)] = &[
    ("sup_person", "监管对象"),
    ("sup_leave", "外出申请"),
    ("sup_summons", "传唤"),
    ("sup_task", "打卡任务"),
    ("sup_fix", "定位轨迹"),
    ("supervision", "监管统计"),
];

#[cfg(test)]
mod measure_tests {
    use super::*;
    use time::macros::date;

    /// 刑事诉讼法 art. 79 ¶1: 取保候审 at most twelve months, 监视居住 at most six.
    #[test]
    fn art_79_bail_at_most_twelve_months_surveillance_six() {
        let from = date!(2026 - 01 - 10);
        assert_eq!(Measure::Bail.check_term(from, date!(2027 - 01 - 09)), Ok(()));
        let e = Measure::Bail.check_term(from, date!(2027 - 01 - 10)).unwrap_err();
        assert!(e.contains("十二个月") && e.contains("第七十九条") && e.contains("2027-01-09"), "{e}");
        assert_eq!(Measure::Surveillance.check_term(from, date!(2026 - 07 - 09)), Ok(()));
        assert!(Measure::Surveillance.check_term(from, date!(2026 - 07 - 10)).unwrap_err().contains("六个月"));
        // Sentences served in the community run as the court decided.
        assert_eq!(Measure::CommunityCorrection.check_term(from, date!(2029 - 01 - 09)), Ok(()));
        assert!(Measure::Bail.check_term(from, date!(2026 - 01 - 09)).is_err(), "ends before it starts");
        // Month ends: 31 August plus six months is the end of February.
        assert_eq!(add_months(date!(2026 - 08 - 31), 6), date!(2027 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 12 - 15), 1), date!(2027 - 01 - 15));
    }

    /// 刑事诉讼法 art. 67 ¶2 and art. 74 ¶3: whoever decided, the police execute bail and
    /// residential surveillance; community measures belong to the 社区矫正机构 and to the stage
    /// after judgment (社区矫正法 art. 2).
    #[test]
    fn art_67_and_74_the_police_execute_whoever_decided() {
        assert_eq!(Measure::Bail.executing_stage(), "police");
        assert_eq!(Measure::Surveillance.executing_stage(), "police");
        assert_eq!(Measure::CommunityCorrection.executing_stage(), "justice");
        for stage in ["police", "procuratorate", "court"] {
            assert!(Measure::Bail.fits_stage(stage) && !Measure::CommunityCorrection.fits_stage(stage));
        }
        assert!(!Measure::Bail.fits_stage("justice") && Measure::MedicalParole.fits_stage("justice"));
    }

    /// 社区矫正法 art. 29: five situations; three months per approval, renewable by three.
    #[test]
    fn art_29_a_location_device_three_months_at_a_time() {
        assert_eq!(LocatingGround::ALL.len(), 5);
        assert_eq!(LocatingGround::parse("2"), Some(LocatingGround::LeftWithoutLeave));
        assert!(Measure::CommunityCorrection.tracking_needs_decision() && !Measure::Bail.tracking_needs_decision());
        assert_eq!(check_locating_term(date!(2026 - 12 - 01), date!(2027 - 02 - 28)), Ok(()));
        let e = check_locating_term(date!(2026 - 12 - 01), date!(2027 - 03 - 01)).unwrap_err();
        assert!(e.contains("三个月") && e.contains("第二十九条") && e.contains("2027-02-28"), "{e}");
    }

    /// 刑事诉讼法 art. 71 ¶1(2): a change reported within 24 hours is on time; 25 hours is one
    /// hour late.
    #[test]
    fn art_71_a_change_is_reported_within_twenty_four_hours() {
        let h = 3_600_000;
        assert_eq!(change_report_late_hours(0, 24 * h), 0);
        assert_eq!(change_report_late_hours(0, 24 * h + 1), 1);
        assert_eq!(change_report_late_hours(0, 49 * h), 25);
        assert_eq!(change_report_late_hours(10 * h, 0), 0, "reported before it happened");
    }

    /// A face-match score is trusted only with the verification service's signature over the
    /// task, instant, score, liveness and photo: a phone that raises the score breaks it.
    #[test]
    fn a_face_match_score_is_trusted_only_when_signed() {
        let k = crate::crypto::KeyPair::from_secret(&[9; 32]).unwrap();
        let keys = vec![hex::encode(k.public())];
        let msg = face_result_message("T1", 1_000, 91.0, true, &"AB".repeat(32));
        let sig = hex::encode(k.sign(msg.as_bytes()));
        assert!(face_result_verified(&keys, &msg, Some(&sig)));
        let raised = face_result_message("T1", 1_000, 99.0, true, &"AB".repeat(32));
        assert!(!face_result_verified(&keys, &raised, Some(&sig)));
        assert!(!face_result_verified(&keys, &msg, None));
        assert!(!face_result_verified(&[], &msg, Some(&sig)), "no key, nothing verified");
    }
}
