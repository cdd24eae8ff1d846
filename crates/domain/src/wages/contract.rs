//! Electronic labor contracts (电子劳动合同) between an employer and a worker on a project:
//! the employer issues (and thereby confirms) the terms, the worker confirms on their phone,
//! and the signed record is sealed with an SM3 digest of its canonical text, so either party —
//! or an inspector — can tell whether what they see is what both confirmed.

use crate::audit::sm3_hex;
use crate::money::Money;
use time::Date;

crate::coded! {
    /// How the wage is set (工资标准).
    pub enum WageType ("工资形式") {
        /// 月薪: a fixed amount for a month with attendance.
        Monthly = ("monthly", "月薪"),
        /// 日薪: per day attended.
        Daily = ("daily", "日薪"),
        /// 计件: per piece (出工量 / 计件量).
        Piece = ("piece", "计件"),
    }
}

crate::coded! {
    /// The three kinds of labor contract (劳动合同法 art. 12).
    pub enum TermKind ("合同期限类型") {
        /// 固定期限: the parties agree when it ends (art. 13).
        Fixed = ("fixed", "固定期限"),
        /// 无固定期限: no fixed end (art. 14).
        OpenEnded = ("open_ended", "无固定期限"),
        /// 以完成一定工作任务为期限: it ends when the named work is done (art. 15).
        Task = ("task", "以完成一定工作任务为期限"),
    }
}

/// The longest probation (试用期) 劳动合同法 art. 19 allows, in months: none for a task
/// contract or a term under three months; one month for three months to under a year; two for
/// one to under three years; six for three years or more and for open-ended contracts.
pub fn probation_limit(kind: TermKind, start: Date, end: Option<Date>) -> u8 {
    match (kind, end) {
        (TermKind::Task, _) => 0,
        (TermKind::OpenEnded, _) => 6,
        (TermKind::Fixed, None) => 0,
        (TermKind::Fixed, Some(end)) => {
            let months_at = |m: i32| add_months(start, m);
            if end < months_at(3) {
                0
            } else if end < months_at(12) {
                1
            } else if end < months_at(36) {
                2
            } else {
                6
            }
        }
    }
}

/// `d` moved by `months`, the day kept or clipped to the month's end.
fn add_months(d: Date, months: i32) -> Date {
    let total = d.year() * 12 + (u8::from(d.month()) as i32 - 1) + months;
    let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u8);
    let month = time::Month::try_from(m).unwrap_or(time::Month::January);
    let day = d.day().min(month.length(y));
    Date::from_calendar_date(y, month, day).unwrap_or(d)
}

impl WageType {
    pub fn unit(self) -> &'static str {
        match self {
            WageType::Monthly => "元/月",
            WageType::Daily => "元/天",
            WageType::Piece => "元/件",
        }
    }
}

/// What a worker earns for a month under the contract: the month's amount with any
/// attendance, the day rate times days, or the piece rate times pieces.
pub fn earned(t: WageType, rate_fen: i64, days: i64, pieces: i64) -> i64 {
    match t {
        WageType::Monthly if days > 0 => rate_fen,
        WageType::Monthly => 0,
        WageType::Daily => rate_fen.saturating_mul(days),
        WageType::Piece => rate_fen.saturating_mul(pieces),
    }
}

/// The terms both parties confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub contract_no: String,
    pub project_code: String,
    pub project_name: String,
    pub employer_uscc: String,
    pub employer_name: String,
    pub worker_name: String,
    pub id_card_no: String,
    pub job: String,
    pub wage_type: WageType,
    pub wage_rate_fen: i64,
    /// Day of the month wages are paid (the project's pay day).
    pub pay_day: u8,
    pub start_on: Date,
    pub end_on: Option<Date>,
    /// Further terms in the employer's words.
    pub terms: String,
    /// The contract's kind; `None` for contracts made before the three kinds were recorded
    /// (their seal covers the earlier text, see `canonical`).
    pub kind: Option<TermKind>,
    /// For a task contract: the work whose completion ends it (art. 15).
    pub task: String,
    /// 试用期 in months (art. 19).
    pub probation_months: u8,
}

/// Checks the terms an employer issues; the Chinese message names what is wrong.
pub fn check(t: &Terms) -> Result<(), (&'static str, String)> {
    if t.job.trim().is_empty() {
        return Err(("job", "请填写工作岗位（工种）".into()));
    }
    if t.job.chars().count() > 50 {
        return Err(("job", "工作岗位不超过 50 字".into()));
    }
    if t.wage_rate_fen <= 0 {
        return Err(("wage_rate", "工资标准须大于零".into()));
    }
    if let Some(end) = t.end_on
        && end < t.start_on
    {
        return Err(("end_on", format!("合同终止日期（{end}）早于起始日期（{}）", t.start_on)));
    }
    if let Some(kind) = t.kind {
        match kind {
            TermKind::Fixed if t.end_on.is_none() => {
                return Err(("end_on", "固定期限劳动合同须约定终止日期（劳动合同法第十三条）".into()));
            }
            TermKind::OpenEnded if t.end_on.is_some() => {
                return Err(("end_on", "无固定期限劳动合同不约定终止日期（劳动合同法第十四条）".into()));
            }
            TermKind::Task if t.task.trim().is_empty() => {
                return Err(("task", "请写明以完成哪项工作任务为期限（劳动合同法第十五条）".into()));
            }
            TermKind::Task if t.end_on.is_some() => {
                return Err(("end_on", "以完成一定工作任务为期限的合同以任务完成为终止，不填终止日期".into()));
            }
            _ => {}
        }
        if t.task.chars().count() > 200 {
            return Err(("task", "工作任务不超过 200 字".into()));
        }
        let limit = probation_limit(kind, t.start_on, t.end_on);
        if t.probation_months > limit {
            let why = match (kind, limit) {
                (TermKind::Task, _) => "以完成一定工作任务为期限的劳动合同不得约定试用期".to_string(),
                (_, 0) => "劳动合同期限不满三个月的，不得约定试用期".to_string(),
                (_, n) => format!("该期限的劳动合同试用期不得超过{n}个月"),
            };
            return Err(("probation_months", format!("{why}（劳动合同法第十九条）")));
        }
    }
    if t.terms.chars().count() > 2000 {
        return Err(("terms", "其他约定不超过 2000 字".into()));
    }
    Ok(())
}

/// The text the seal covers: every term and both confirmations, one `key=value` per line in a
/// fixed order, so the same contract always gives the same digest.
pub fn canonical(t: &Terms, employer_confirmed_ms: i64, worker_confirmed_ms: i64) -> String {
    let line = |k: &str, v: &str| format!("{k}={}\n", v.replace(['\r', '\n'], " "));
    let mut s = String::new();
    s += &line("contract_no", &t.contract_no);
    s += &line("project_code", &t.project_code);
    s += &line("project_name", &t.project_name);
    s += &line("employer_uscc", &t.employer_uscc);
    s += &line("employer_name", &t.employer_name);
    s += &line("worker_name", &t.worker_name);
    s += &line("id_card_no", &t.id_card_no);
    s += &line("job", &t.job);
    s += &line("wage_type", t.wage_type.as_str());
    s += &line("wage_rate_fen", &t.wage_rate_fen.to_string());
    s += &line("pay_day", &t.pay_day.to_string());
    s += &line("start_on", &t.start_on.to_string());
    s += &line("end_on", &t.end_on.map(|d| d.to_string()).unwrap_or_default());
    s += &line("terms", &t.terms);
    // Contracts made since the three kinds are recorded seal them too; earlier ones keep
    // their text, so their seals still hold.
    if let Some(kind) = t.kind {
        s += &line("term_kind", kind.as_str());
        s += &line("task", &t.task);
        s += &line("probation_months", &t.probation_months.to_string());
    }
    s += &line("employer_confirmed_ms", &employer_confirmed_ms.to_string());
    s += &line("worker_confirmed_ms", &worker_confirmed_ms.to_string());
    s
}

/// The SM3 seal of a signed contract, lower-case hex.
pub fn seal(t: &Terms, employer_confirmed_ms: i64, worker_confirmed_ms: i64) -> String {
    sm3_hex(canonical(t, employer_confirmed_ms, worker_confirmed_ms).as_bytes())
}

/// The wage standard as a sentence, for the contract and the worker's page.
pub fn standard(t: WageType, rate_fen: i64) -> String {
    format!("{}，{} {}", t.label(), Money::from_fen(rate_fen), t.unit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn terms() -> Terms {
        Terms {
            contract_no: "HT-2026-000001".into(),
            project_code: "BZ-2026-001".into(),
            project_name: "安置小区二期".into(),
            employer_uscc: "91110108551385082Q".into(),
            employer_name: "亳州市某建设有限公司".into(),
            worker_name: "李四".into(),
            id_card_no: "11010519491231002X".into(),
            job: "钢筋工".into(),
            wage_type: WageType::Daily,
            wage_rate_fen: 30_000,
            pay_day: 15,
            start_on: date!(2026 - 03 - 01),
            end_on: None,
            terms: "按月足额支付工资".into(),
            kind: None,
            task: String::new(),
            probation_months: 0,
        }
    }

    #[test]
    fn the_seal_changes_with_any_term_or_confirmation() {
        let t = terms();
        let s = seal(&t, 1, 2);
        assert_eq!(s.len(), 64);
        assert_eq!(s, seal(&t, 1, 2));
        assert_ne!(s, seal(&t, 1, 3));
        let mut changed = t.clone();
        changed.wage_rate_fen += 1;
        assert_ne!(s, seal(&changed, 1, 2));
        // A newline in free text cannot forge another line.
        let mut sneaky = t.clone();
        sneaky.terms = "x\nwage_rate_fen=1".into();
        assert!(!canonical(&sneaky, 1, 2).contains("\nwage_rate_fen=1\n"));
    }

    #[test]
    fn earned_follows_the_wage_type() {
        assert_eq!(earned(WageType::Monthly, 600_000, 20, 0), 600_000);
        assert_eq!(earned(WageType::Monthly, 600_000, 0, 0), 0);
        assert_eq!(earned(WageType::Daily, 30_000, 22, 0), 660_000);
        assert_eq!(earned(WageType::Piece, 250, 0, 1200), 300_000);
    }

    #[test]
    fn terms_are_checked_in_chinese() {
        let mut t = terms();
        assert!(check(&t).is_ok());
        t.wage_rate_fen = 0;
        assert_eq!(check(&t).unwrap_err().0, "wage_rate");
        let mut t = terms();
        t.end_on = Some(date!(2026 - 02 - 01));
        assert!(check(&t).unwrap_err().1.contains("早于"));
        assert_eq!(standard(WageType::Daily, 30_000), "日薪，300.00 元/天");
    }

    /// 劳动合同法 arts. 12–15: three kinds; a fixed term names its end, an open-ended one has
    /// none, a task contract names its task and ends with it.
    #[test]
    fn the_three_kinds_of_contract_art_12_to_15() {
        let with = |kind, end, task: &str| Terms { kind: Some(kind), end_on: end, task: task.into(), ..terms() };
        let end = Some(date!(2027 - 02 - 28));
        assert!(check(&with(TermKind::Fixed, end, "")).is_ok());
        assert!(check(&with(TermKind::Fixed, None, "")).unwrap_err().1.contains("第十三条"));
        assert!(check(&with(TermKind::OpenEnded, None, "")).is_ok());
        assert!(check(&with(TermKind::OpenEnded, end, "")).unwrap_err().1.contains("第十四条"));
        assert!(check(&with(TermKind::Task, None, "安置小区二期主体结构钢筋绑扎")).is_ok());
        assert_eq!(check(&with(TermKind::Task, None, " ")).unwrap_err().0, "task");
        assert_eq!(check(&with(TermKind::Task, end, "主体结构")).unwrap_err().0, "end_on");
        // The kind is sealed: the same terms under another kind give another digest.
        let fixed = with(TermKind::Fixed, end, "");
        let mut other = fixed.clone();
        other.probation_months = 1;
        assert_ne!(seal(&fixed, 1, 2), seal(&other, 1, 2));
        // A contract made before the kinds were recorded keeps its earlier seal text.
        assert!(!canonical(&terms(), 1, 2).contains("term_kind"));
    }

    /// 劳动合同法 art. 19 ¶1, ¶3: probation by term — none under three months or for a task
    /// contract; one month for three months to under a year; two for one to under three years;
    /// six for three years or more and for open-ended contracts.
    #[test]
    fn probation_limits_follow_art_19() {
        let start = date!(2026 - 03 - 01);
        let fixed = |end| probation_limit(TermKind::Fixed, start, Some(end));
        assert_eq!(fixed(date!(2026 - 05 - 31)), 0, "under three months");
        assert_eq!(fixed(date!(2026 - 06 - 01)), 1, "three months");
        assert_eq!(fixed(date!(2027 - 02 - 28)), 1, "under a year");
        assert_eq!(fixed(date!(2027 - 03 - 01)), 2, "one year");
        assert_eq!(fixed(date!(2029 - 02 - 28)), 2, "under three years");
        assert_eq!(fixed(date!(2029 - 03 - 01)), 6, "three years");
        assert_eq!(probation_limit(TermKind::OpenEnded, start, None), 6);
        assert_eq!(probation_limit(TermKind::Task, start, None), 0);
        let t =
            Terms { kind: Some(TermKind::Fixed), end_on: Some(date!(2027 - 02 - 28)), probation_months: 2, ..terms() };
        let (field, msg) = check(&t).unwrap_err();
        assert_eq!(field, "probation_months");
        assert!(msg.contains("不得超过1个月") && msg.contains("第十九条"), "{msg}");
        let t = Terms { kind: Some(TermKind::Task), task: "钢筋绑扎".into(), probation_months: 1, ..terms() };
        assert!(check(&t).unwrap_err().1.contains("不得约定试用期"));
    }
}

crate::coded! {
    /// Where an e-contract stands: issued by the employer and awaiting the worker, signed by both,
    /// or declined by the worker.
    pub enum ContractStatus ("合同状态") {
        Pending = ("pending", "待工人确认"),
        Signed = ("signed", "已签订"),
        Declined = ("declined", "工人未同意"),
    }
}
