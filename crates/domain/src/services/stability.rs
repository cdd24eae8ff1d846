//! 失业保险稳岗返还 granted without application (免申即享): the 人社 department identifies
//! eligible employers from social-insurance data and grants the refund; nobody applies.
//!
//! The conditions and rates are the national policy as local 人社 bureaus publish it (e.g.
//! 三门峡市人社局, 2025-12-15: "参保企业足额缴纳失业保险费12个月以上，上年度未裁员或裁员率不高于上年度
//! 全国城镇调查失业率控制目标5.5%，30人（含）以下的参保企业裁员率不高于参保职工总数20%的，可以享受稳岗
//! 返还政策。大型企业按企业及其职工上年度实际缴纳失业保险费的30%返还，中小微企业按60%返还"). The
//! policy is renewed year by year, so every figure is configuration
//! (`config/services/stability_refund.toml`), checked against the year's notice.

/// The year's policy, in basis points (1 % = 100) and counts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StabilityPolicy {
    /// The service item it grants (e.g. RS-GF-003), whose department grants it.
    pub item: String,
    /// The policy document, cited on every grant.
    pub basis: String,
    /// Months of unemployment-insurance contributions paid in full in the year before.
    pub min_paid_months: u32,
    /// Highest layoff rate, basis points (5.5 % = 550: the urban surveyed unemployment target).
    pub layoff_rate_max_bp: u32,
    /// Employers with at most this many insured staff …
    pub small_insured_max: u32,
    /// … may lay off up to this rate, basis points (20 % = 2000).
    pub small_layoff_rate_max_bp: u32,
    /// Share of last year's unemployment-insurance contributions returned: large enterprises …
    pub large_return_bp: u32,
    /// … and small, medium and micro enterprises (and the bodies treated like them).
    pub sme_return_bp: u32,
}

/// An employer's year as social insurance records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsuredYear {
    pub insured: u32,
    /// Staff laid off (or newly drawing unemployment benefit) in the year.
    pub layoffs: u32,
    /// Contributions owed now.
    pub arrears: bool,
    pub paid_months: u32,
    /// Unemployment-insurance contributions of the employer and its staff paid in the year, fen.
    pub premium_fen: i64,
    pub large: bool,
}

/// The refund granted, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assessment {
    Eligible { rate_bp: u32, amount_fen: i64, layoff_rate_bp: u32 },
    Ineligible(String),
}

impl StabilityPolicy {
    pub fn check(&self) -> Result<(), String> {
        if self.layoff_rate_max_bp > 10_000 || self.small_layoff_rate_max_bp > 10_000 {
            return Err("裁员率上限应在 0–100% 之间".into());
        }
        if self.large_return_bp > 10_000 || self.sme_return_bp > 10_000 {
            return Err("返还比例应在 0–100% 之间".into());
        }
        if self.min_paid_months > 12 {
            return Err("缴费月数不能超过 12".into());
        }
        Ok(())
    }

    pub fn assess(&self, y: &InsuredYear) -> Assessment {
        if y.insured == 0 {
            return Assessment::Ineligible("上年度无参保职工".into());
        }
        if y.arrears {
            return Assessment::Ineligible("欠缴社会保险费".into());
        }
        if y.paid_months < self.min_paid_months {
            return Assessment::Ineligible(format!(
                "上年度足额缴纳失业保险费 {} 个月，不满 {} 个月",
                y.paid_months, self.min_paid_months
            ));
        }
        // Basis points, rounded down: 5 of 100 is 500.
        let rate = (u64::from(y.layoffs) * 10_000 / u64::from(y.insured)) as u32;
        let max =
            if y.insured <= self.small_insured_max { self.small_layoff_rate_max_bp } else { self.layoff_rate_max_bp };
        if rate > max {
            return Assessment::Ineligible(format!("上年度裁员率 {} 高于 {}", percent(rate), percent(max)));
        }
        let rate_bp = if y.large { self.large_return_bp } else { self.sme_return_bp };
        // Fen × bp / 10,000, rounded down to the fen; checked, never a float.
        let amount_fen = y.premium_fen.max(0).checked_mul(i64::from(rate_bp)).map(|v| v / 10_000).unwrap_or(0);
        if amount_fen == 0 {
            return Assessment::Ineligible("上年度未缴纳失业保险费".into());
        }
        Assessment::Eligible { rate_bp, amount_fen, layoff_rate_bp: rate }
    }
}

/// Basis points as a percentage, `5.5%`.
pub fn percent(bp: u32) -> String {
    let (whole, frac) = (bp / 100, bp % 100);
    match frac {
        0 => format!("{whole}%"),
        f if f % 10 == 0 => format!("{whole}.{}%", f / 10),
        f => format!("{whole}.{f:02}%"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> StabilityPolicy {
        StabilityPolicy {
            item: "RS-GF-003".into(),
            basis: "测试".into(),
            min_paid_months: 12,
            layoff_rate_max_bp: 550,
            small_insured_max: 30,
            small_layoff_rate_max_bp: 2000,
            large_return_bp: 3000,
            sme_return_bp: 6000,
        }
    }

    fn year(insured: u32, layoffs: u32) -> InsuredYear {
        InsuredYear { insured, layoffs, arrears: false, paid_months: 12, premium_fen: 1_000_000, large: false }
    }

    /// The published policy's own figures: a layoff rate up to 5.5 %, up to 20 % for employers
    /// of 30 or fewer insured; 30 % of last year's contributions back for large enterprises, 60 %
    /// for the rest; contributions paid in full for 12 months.
    #[test]
    fn the_policys_own_cases() {
        let p = policy();
        // 5 of 100 laid off is 5 %: eligible; 6 of 100 is 6 %: not.
        assert_eq!(
            p.assess(&year(100, 5)),
            Assessment::Eligible { rate_bp: 6000, amount_fen: 600_000, layoff_rate_bp: 500 }
        );
        let Assessment::Ineligible(why) = p.assess(&year(100, 6)) else { panic!() };
        assert_eq!(why, "上年度裁员率 6% 高于 5.5%");
        // A snack bar of 20 insured that laid off 4 (20 %) qualifies; 5 (25 %) does not.
        assert!(matches!(p.assess(&year(20, 4)), Assessment::Eligible { .. }));
        assert!(matches!(p.assess(&year(20, 5)), Assessment::Ineligible(_)));
        // 31 insured is above the small-employer line: 5.5 % applies.
        assert!(matches!(p.assess(&year(31, 2)), Assessment::Ineligible(_)));
        // A large enterprise gets 30 %.
        let large = InsuredYear { large: true, ..year(1000, 10) };
        assert_eq!(p.assess(&large), Assessment::Eligible { rate_bp: 3000, amount_fen: 300_000, layoff_rate_bp: 100 });
        // Arrears, or fewer than 12 months paid, exclude.
        assert!(
            matches!(p.assess(&InsuredYear { arrears: true, ..year(100, 0) }), Assessment::Ineligible(w) if w.contains("欠缴"))
        );
        assert!(
            matches!(p.assess(&InsuredYear { paid_months: 11, ..year(100, 0) }), Assessment::Ineligible(w) if w.contains("不满 12"))
        );
        assert_eq!(percent(550), "5.5%");
        assert_eq!(percent(2000), "20%");
        assert_eq!(percent(1234), "12.34%");
        assert!(StabilityPolicy { sme_return_bp: 12_000, ..policy() }.check().is_err());
    }
}
