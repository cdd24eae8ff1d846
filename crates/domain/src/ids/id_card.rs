//! 公民身份号码 (citizen identity number), GB 11643-1999.
//!
//! Layout (1-based): 1–6 address code (GB/T 2260), 7–14 birth date YYYYMMDD, 15–17 sequence
//! (17th odd for men, even for women), 18 check character (ISO 7064 MOD 11-2).

use super::{IdError, division::province_name};
use crate::text::{describe_char, normalize_ascii};
use std::fmt;
use time::{Date, Month};

const KIND: &str = "身份证号";
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdCardNo(String);

fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(c, w)| (c - b'0') as u32 * w).sum();
    CHECK[(sum % 11) as usize]
}

impl IdCardNo {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = normalize_ascii(input).to_ascii_uppercase();
        if s.is_empty() {
            return Err(IdError::Empty { kind: KIND });
        }
        let count = s.chars().count();
        if count == 15 && s.chars().all(|c| c.is_ascii_digit()) {
            return Err(IdError::Other("15位旧身份证号已停止使用，请输入18位公民身份号码".to_string()));
        }
        if count != 18 {
            return Err(IdError::Length { kind: KIND, expected: "18", actual: count });
        }
        for (i, c) in s.chars().enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && c == 'X');
            if !ok {
                let rule = if i == 17 { "第18位只能是数字或 X" } else { "前17位只能是数字" };
                return Err(IdError::InvalidChar { kind: KIND, position: i + 1, found: describe_char(c), rule });
            }
        }
        let b = s.as_bytes();
        if province_name(&s[0..2]).is_none() {
            return Err(IdError::InvalidPart {
                kind: KIND,
                positions: "1–2",
                what: "省级行政区划代码",
                detail: format!("“{}”不是有效的省级代码", &s[0..2]),
            });
        }
        birth_date_of(&s)?;
        let expected = check_char(&b[..17]);
        if expected != b[17] {
            return Err(IdError::CheckMismatch {
                kind: KIND,
                position: 18,
                expected: expected as char,
                actual: b[17] as char,
            });
        }
        Ok(IdCardNo(s))
    }

    /// Builds a valid number from its first 17 digits (demo generator, tests).
    pub fn from_body(first17: &str) -> Option<Self> {
        let b = first17.as_bytes();
        if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut s = first17.to_string();
        s.push(check_char(b) as char);
        IdCardNo::parse(&s).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Date {
        birth_date_of(&self.0).expect("validated at parse")
    }

    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female }
    }

    /// Address code (positions 1–6), the division where the number was issued.
    pub fn division_code(&self) -> &str {
        &self.0[0..6]
    }

    /// Full years of age on `today`.
    pub fn age_on(&self, today: Date) -> i32 {
        let b = self.birth_date();
        let mut age = today.year() - b.year();
        if (today.month() as u8, today.day()) < (b.month() as u8, b.day()) {
            age -= 1;
        }
        age
    }

    /// What lists show: the region and the last four characters, never the birth date.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[0..6], &self.0[14..18])
    }
}

fn birth_date_of(s: &str) -> Result<Date, IdError> {
    let bad = |detail: String| IdError::InvalidPart { kind: KIND, positions: "7–14", what: "出生日期", detail };
    let y: i32 = s[6..10].parse().map_err(|_| bad("年份不是数字".into()))?;
    let m: u8 = s[10..12].parse().map_err(|_| bad("月份不是数字".into()))?;
    let d: u8 = s[12..14].parse().map_err(|_| bad("日期不是数字".into()))?;
    if !(1900..=2100).contains(&y) {
        return Err(bad(format!("年份 {y} 不在 1900–2100 之间")));
    }
    let month = Month::try_from(m).map_err(|_| bad(format!("月份 {m:02} 不存在")))?;
    Date::from_calendar_date(y, month, d).map_err(|_| bad(format!("{y}年{m}月没有{d}日")))
}

impl fmt::Display for IdCardNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Debug output never prints a full number: logs must not leak personal data.
impl fmt::Debug for IdCardNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdCardNo({})", self.masked())
    }
}

impl TryFrom<String> for IdCardNo {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        IdCardNo::parse(&value)
    }
}

impl From<IdCardNo> for String {
    fn from(value: IdCardNo) -> Self {
        value.0
    }
}

impl std::str::FromStr for IdCardNo {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdCardNo::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn accepts_the_standard_example() {
        // The example number printed in GB 11643-1999.
        let id = IdCardNo::parse("11010519491231002x").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), date!(1949 - 12 - 31));
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.division_code(), "110105");
        assert_eq!(id.age_on(date!(2026 - 12 - 30)), 76);
        assert_eq!(id.age_on(date!(2026 - 12 - 31)), 77);
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(format!("{id:?}"), "IdCardNo(110105********002X)");
    }

    #[test]
    fn names_the_wrong_check_character() {
        let e = IdCardNo::parse("110105194912310021").unwrap_err();
        assert_eq!(e.position(), Some(18));
        assert_eq!(e.to_string(), "身份证号第18位校验码应为“X”，实际为“1”，请核对号码是否抄错");
    }

    #[test]
    fn names_a_letter_in_the_body() {
        let e = IdCardNo::parse("1101051949123100AX").unwrap_err();
        assert_eq!(e.to_string(), "身份证号第17位字符“A”无效：前17位只能是数字");
    }

    #[test]
    fn rejects_impossible_birth_dates() {
        let body = "34160219990230123";
        let mut s = body.to_string();
        s.push(check_char(body.as_bytes()) as char);
        let e = IdCardNo::parse(&s).unwrap_err();
        assert_eq!(e.to_string(), "身份证号第7–14位出生日期无效：1999年2月没有30日");
    }

    #[test]
    fn rejects_unknown_province_and_old_numbers() {
        let body = "99160219900101123";
        let mut s = body.to_string();
        s.push(check_char(body.as_bytes()) as char);
        assert!(IdCardNo::parse(&s).unwrap_err().to_string().contains("省级行政区划代码"));
        assert!(IdCardNo::parse("341602900101123").unwrap_err().to_string().contains("15位"));
    }

    fn body_strategy() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["341602", "341621", "341622", "341623", "110105", "440305"]),
            1930i32..2020,
            1u8..=12,
            1u8..=28,
            0u32..1000,
        )
            .prop_map(|(div, y, m, d, seq)| format!("{div}{y:04}{m:02}{d:02}{seq:03}"))
    }

    proptest! {
        #[test]
        fn generated_numbers_validate(body in body_strategy()) {
            let id = IdCardNo::from_body(&body).unwrap();
            prop_assert!(IdCardNo::parse(id.as_str()).is_ok());
        }

        #[test]
        fn single_digit_changes_never_validate(body in body_strategy(), pos in 0usize..18, repl in 0usize..11) {
            let id = IdCardNo::from_body(&body).unwrap();
            let mut v = id.as_str().as_bytes().to_vec();
            let new = if pos == 17 { b"0123456789X"[repl] } else { b"0123456789"[repl % 10] };
            prop_assume!(v[pos] != new);
            v[pos] = new;
            let changed = String::from_utf8(v).unwrap();
            prop_assert!(IdCardNo::parse(&changed).is_err(), "{} accepted", changed);
        }
    }
}
