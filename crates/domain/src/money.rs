//! Money in integer fen (分). No floating point anywhere: amounts are `i64` fen, rates are
//! `rust_decimal::Decimal`, and rounding to the fen is half-up (四舍五入, away from zero for
//! negative amounts) at the points a caller chooses.

use rust_decimal::{Decimal, RoundingStrategy, prelude::ToPrimitive};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("金额不能为空")]
    Empty,
    #[error("金额“{0}”格式不正确，请填写数字，如 1234.56")]
    Format(String),
    #[error("金额“{0}”最多保留两位小数（到分）")]
    TooPrecise(String),
    #[error("金额超出可处理的范围")]
    Overflow,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    pub fn from_yuan(yuan: i64) -> Result<Self, MoneyError> {
        yuan.checked_mul(100).map(Money).ok_or(MoneyError::Overflow)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Parses yuan as people write them: `1234.5`, `1,234.56`, `¥1234`, `1234.56元`, `-3.2`.
    /// More than two decimals is an error, never silently rounded.
    pub fn parse_yuan(input: &str) -> Result<Self, MoneyError> {
        let t = crate::text::normalize_ascii(input);
        let t = t.trim_start_matches(['¥', '￥']).trim_end_matches('元').trim();
        if t.is_empty() {
            return Err(MoneyError::Empty);
        }
        let cleaned: String = t.chars().filter(|c| *c != ',').collect();
        let (neg, digits) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, cleaned.as_str()),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let ok = !int.is_empty()
            && int.chars().all(|c| c.is_ascii_digit())
            && frac.chars().all(|c| c.is_ascii_digit())
            && !(digits.contains('.') && frac.is_empty());
        if !ok {
            return Err(MoneyError::Format(input.trim().to_string()));
        }
        if frac.len() > 2 {
            return Err(MoneyError::TooPrecise(input.trim().to_string()));
        }
        let yuan: i64 = int.parse().map_err(|_| MoneyError::Overflow)?;
        let mut fen_part: i64 = if frac.is_empty() { 0 } else { frac.parse().expect("digits") };
        if frac.len() == 1 {
            fen_part *= 10;
        }
        let total = yuan.checked_mul(100).and_then(|v| v.checked_add(fen_part)).ok_or(MoneyError::Overflow)?;
        Ok(Money(if neg { -total } else { total }))
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// Amount in yuan as an exact decimal.
    pub fn to_decimal_yuan(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Rounds an exact yuan amount half-up to the fen.
    pub fn from_decimal_yuan(yuan: Decimal) -> Result<Self, MoneyError> {
        let fen = (yuan * Decimal::ONE_HUNDRED).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
        fen.to_i64().map(Money).ok_or(MoneyError::Overflow)
    }

    /// `self × rate`, rounded half-up to the fen: 3 % of ¥1,234.55 is ¥37.04 (37.0365).
    pub fn mul_rate(self, rate: Decimal) -> Result<Self, MoneyError> {
        let exact = Decimal::from(self.0).checked_mul(rate).ok_or(MoneyError::Overflow)?;
        exact
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
            .to_i64()
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    /// Splits into `parts` amounts that differ by at most one fen and sum exactly to `self`;
    /// the first ones take the remainder (instalments, shared costs).
    pub fn split(self, parts: u32) -> Vec<Money> {
        if parts == 0 {
            return vec![];
        }
        let n = parts as i64;
        let base = self.0.div_euclid(n);
        let rem = self.0.rem_euclid(n);
        (0..n).map(|i| Money(base + i64::from(i < rem))).collect()
    }

    /// Plain yuan with two decimals, no separators: `1234.50`, `-0.05`.
    pub fn to_yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// `1,234.50` — grouped yuan with two decimals, as tables show amounts.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let int = (abs / 100).to_string();
        let mut grouped = String::with_capacity(int.len() + int.len() / 3);
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{sign}{grouped}.{:02}", abs % 100)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}", self)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        self.checked_add(rhs).expect("money overflow")
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        self.checked_sub(rhs).expect("money overflow")
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        *self = *self + rhs;
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        *self = *self - rhs;
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

/// Parses a rate written as `3%`, `0.03` or `3 %`.
pub fn parse_rate(input: &str) -> Result<Decimal, MoneyError> {
    let t = crate::text::normalize_ascii(input);
    let (num, pct) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (t.as_str(), false),
    };
    let d: Decimal = num.parse().map_err(|_| MoneyError::Format(input.to_string()))?;
    Ok(if pct { d / Decimal::ONE_HUNDRED } else { d })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    #[test]
    fn parses_what_people_type() {
        assert_eq!(Money::parse_yuan("1,234.56").unwrap().fen(), 123456);
        assert_eq!(Money::parse_yuan("¥12").unwrap().fen(), 1200);
        assert_eq!(Money::parse_yuan("12.5元").unwrap().fen(), 1250);
        assert_eq!(Money::parse_yuan("-0.05").unwrap().fen(), -5);
        assert_eq!(Money::parse_yuan("１２.３").unwrap().fen(), 1230);
        assert_eq!(Money::parse_yuan("1.234").unwrap_err().to_string(), "金额“1.234”最多保留两位小数（到分）");
        assert!(Money::parse_yuan("12a").is_err());
        assert!(Money::parse_yuan("1.").is_err());
        assert!(Money::parse_yuan("").is_err());
    }

    #[test]
    fn rounds_half_up_to_the_fen() {
        let rate = parse_rate("3%").unwrap();
        assert_eq!(Money::from_fen(123455).mul_rate(rate).unwrap().fen(), 3704); // 3703.65
        assert_eq!(Money::from_fen(50).mul_rate(Decimal::from_str("0.01").unwrap()).unwrap().fen(), 1); // 0.5
        assert_eq!(Money::from_fen(-50).mul_rate(Decimal::from_str("0.01").unwrap()).unwrap().fen(), -1);
        assert_eq!(Money::from_decimal_yuan(Decimal::from_str("10.005").unwrap()).unwrap().fen(), 1001);
    }

    #[test]
    fn displays_grouped_yuan() {
        assert_eq!(Money::from_fen(123456789).to_string(), "1,234,567.89");
        assert_eq!(Money::from_fen(-5).to_string(), "-0.05");
        assert_eq!(Money::from_fen(100).to_yuan_string(), "1.00");
    }

    proptest! {
        #[test]
        fn display_parses_back(fen in -1_000_000_000_000i64..1_000_000_000_000) {
            let m = Money::from_fen(fen);
            prop_assert_eq!(Money::parse_yuan(&m.to_string()).unwrap(), m);
            prop_assert_eq!(Money::parse_yuan(&m.to_yuan_string()).unwrap(), m);
        }

        #[test]
        fn split_sums_exactly(fen in -1_000_000_000i64..1_000_000_000, parts in 1u32..500) {
            let v = Money::from_fen(fen).split(parts);
            prop_assert_eq!(v.len(), parts as usize);
            prop_assert_eq!(v.iter().copied().sum::<Money>(), Money::from_fen(fen));
            let max = v.iter().max().unwrap().fen();
            let min = v.iter().min().unwrap().fen();
            prop_assert!(max - min <= 1);
        }
    }
}
