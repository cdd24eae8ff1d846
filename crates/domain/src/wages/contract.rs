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
