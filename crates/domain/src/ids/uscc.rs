//! 统一社会信用代码 (unified social credit code), GB 32100-2015.
//!
//! Layout (1-based): 1 registration authority, 2 entity category, 3–8 division code of the
//! registration authority, 9–17 entity identifier (the GB 11714 organization code, whose own
//! check character is position 17), 18 check character.

use super::IdError;
use crate::text::{describe_char, normalize_ascii};
use std::fmt;

const KIND: &str = "统一社会信用代码";
/// The 31 characters GB 32100 allows; I, O, S, V and Z are excluded to avoid confusion.
pub const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights 3^(i-1) mod 31 for positions 1..=17.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/// GB 11714 weights for the 8 body characters of the organization code.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
/// Registration authority codes in GB 32100 (机构编制, 外交, 司法行政, 文化, 民政, 旅游, 宗教,
/// 工会, 工商/市场监管, 中央军委改革和编制办公室, 农业, 其他).
const AUTHORITIES: &[u8] = b"123456789ANY";

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

fn value_of(c: u8) -> Option<u32> {
    CHARSET.iter().position(|&x| x == c).map(|p| p as u32)
}

/// GB 11714 value of an organization-code body character: digits, then A=10 … Z=35.
fn org_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some((c - b'0') as u32),
        b'A'..=b'Z' => Some((c - b'A') as u32 + 10),
        _ => None,
    }
}

/// Check character of a GB 11714 organization code body (8 characters).
fn org_check(body: &[u8]) -> Option<u8> {
    let mut sum = 0;
    for (c, w) in body.iter().zip(ORG_WEIGHTS) {
        sum += org_value(*c)? * w;
    }
    Some(match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    })
}

/// Check character (position 18) for the first 17 characters.
fn check_char(first17: &[u8]) -> Option<u8> {
    let mut sum = 0;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value_of(*c)? * w;
    }
    Some(CHARSET[((31 - sum % 31) % 31) as usize])
}

impl Uscc {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = normalize_ascii(input).to_ascii_uppercase();
        if s.is_empty() {
            return Err(IdError::Empty { kind: KIND });
        }
        let count = s.chars().count();
        if count != 18 {
            return Err(IdError::Length { kind: KIND, expected: "18", actual: count });
        }
        for (i, c) in s.chars().enumerate() {
            if !c.is_ascii() || value_of(c as u8).is_none() {
                let rule = if matches!(c, 'I' | 'O' | 'S' | 'V' | 'Z') {
                    "统一社会信用代码不使用字母 I、O、S、V、Z"
                } else {
                    "只允许数字和大写字母（不含 I、O、S、V、Z）"
                };
                return Err(IdError::InvalidChar { kind: KIND, position: i + 1, found: describe_char(c), rule });
            }
        }
        let b = s.as_bytes();
        if !AUTHORITIES.contains(&b[0]) {
            return Err(IdError::InvalidChar {
                kind: KIND,
                position: 1,
                found: describe_char(b[0] as char),
                rule: "登记管理部门代码应为 1–9、A、N 或 Y",
            });
        }
        if let Some(i) = b[2..8].iter().position(|c| !c.is_ascii_digit()) {
            return Err(IdError::InvalidChar {
                kind: KIND,
                position: i + 3,
                found: describe_char(b[i + 2] as char),
                rule: "第3–8位是登记管理机关行政区划码，只能是数字",
            });
        }
        let expected = check_char(&b[..17]).expect("charset checked");
        if expected != b[17] {
            return Err(IdError::CheckMismatch {
                kind: KIND,
                position: 18,
                expected: expected as char,
                actual: b[17] as char,
            });
        }
        let org_expected = org_check(&b[8..16]).expect("charset is a subset of GB 11714");
        if org_expected != b[16] {
            return Err(IdError::CheckMismatch {
                kind: "统一社会信用代码中的组织机构代码（第9–17位）",
                position: 17,
                expected: org_expected as char,
                actual: b[16] as char,
            });
        }
        Ok(Uscc(s))
    }

    /// Builds a valid code from its first 16 characters by appending both check characters.
    /// Used by the demo generator; returns `None` if the body has characters GB 32100 forbids.
    pub fn from_body(first16: &str) -> Option<Self> {
        let b = first16.as_bytes();
        if b.len() != 16 || b.iter().any(|c| value_of(*c).is_none()) {
            return None;
        }
        let mut v = b.to_vec();
        let org = org_check(&b[8..16])?;
        // The organization check may be 'X' which the USCC charset allows; other letters too.
        value_of(org)?;
        v.push(org);
        let c = check_char(&v)?;
        v.push(c);
        Some(Uscc(String::from_utf8(v).expect("ascii")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Positions 3–8: division code of the registration authority.
    pub fn division_code(&self) -> &str {
        &self.0[2..8]
    }

    /// Positions 9–17: the organization code (GB 11714), written with its hyphen.
    pub fn organization_code(&self) -> String {
        format!("{}-{}", &self.0[8..16], &self.0[16..17])
    }

    /// Name of the registration authority (position 1).
    pub fn authority_name(&self) -> &'static str {
        match self.0.as_bytes()[0] {
            b'1' => "机构编制",
            b'2' => "外交",
            b'3' => "司法行政",
            b'4' => "文化",
            b'5' => "民政",
            b'6' => "旅游",
            b'7' => "宗教",
            b'8' => "工会",
            b'9' => "市场监督管理",
            b'A' => "中央军委改革和编制办公室",
            b'N' => "农业",
            _ => "其他",
        }
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uscc({})", self.0)
    }
}

impl TryFrom<String> for Uscc {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Uscc::parse(&value)
    }
}

impl From<Uscc> for String {
    fn from(value: Uscc) -> Self {
        value.0
    }
}

impl std::str::FromStr for Uscc {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uscc::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Published codes of well-known companies (business licence pages).
    const REAL: &[&str] = &["91110108551385082Q", "9144030071526726XG"];

    #[test]
    fn accepts_real_codes() {
        for code in REAL {
            let u = Uscc::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(u.as_str(), *code);
        }
        let u = Uscc::parse("91110108551385082Q").unwrap();
        assert_eq!(u.organization_code(), "55138508-2");
        assert_eq!(u.division_code(), "110108");
        assert_eq!(u.authority_name(), "市场监督管理");
    }

    #[test]
    fn normalises_case_and_full_width() {
        let u = Uscc::parse(" ９１１１０１０８５５１３８５０８２ｑ ").unwrap();
        assert_eq!(u.as_str(), "91110108551385082Q");
    }

    #[test]
    fn names_the_wrong_check_character() {
        let e = Uscc::parse("91110108551385082R").unwrap_err();
        assert_eq!(e.position(), Some(18));
        assert_eq!(e.to_string(), "统一社会信用代码第18位校验码应为“Q”，实际为“R”，请核对号码是否抄错");
    }

    #[test]
    fn names_forbidden_letters() {
        let e = Uscc::parse("9111010855138508IQ").unwrap_err();
        assert_eq!(e.position(), Some(17));
        assert!(e.to_string().contains("第17位字符“I”无效"), "{e}");
        assert!(e.to_string().contains("不使用字母"), "{e}");
    }

    #[test]
    fn length_is_reported() {
        let e = Uscc::parse("9111010855138508").unwrap_err();
        assert_eq!(e.to_string(), "统一社会信用代码应为18位，实际为16位");
        assert_eq!(Uscc::parse("  ").unwrap_err().to_string(), "统一社会信用代码不能为空");
    }

    #[test]
    fn nested_organization_code_is_checked() {
        // Change position 17 and recompute position 18 so only the nested check fails.
        let body = "9111010855138508";
        let mut v = body.as_bytes().to_vec();
        v.push(b'3');
        let c = check_char(&v).unwrap();
        v.push(c);
        let code = String::from_utf8(v).unwrap();
        let e = Uscc::parse(&code).unwrap_err();
        assert_eq!(e.position(), Some(17));
        assert!(e.to_string().contains("组织机构代码"), "{e}");
        assert!(e.to_string().contains("应为“2”"), "{e}");
    }

    #[test]
    fn authority_and_division_digits_are_checked() {
        let e = Uscc::from_body("B111010855138508");
        assert!(e.is_some(), "builder does not judge the authority");
        let code = e.unwrap();
        let err = Uscc::parse(code.as_str()).unwrap_err();
        assert_eq!(err.position(), Some(1));
        let code = Uscc::from_body("9111A10855138508").unwrap();
        let err = Uscc::parse(code.as_str()).unwrap_err();
        assert_eq!(err.position(), Some(5));
    }

    fn body_strategy() -> impl Strategy<Value = String> {
        let auth = prop::sample::select(AUTHORITIES.to_vec());
        let cat = prop::sample::select(CHARSET.to_vec());
        let digits = prop::collection::vec(prop::sample::select(b"0123456789".to_vec()), 6);
        let org = prop::collection::vec(prop::sample::select(b"0123456789ABCDEFGHJKLMNPQRTUWXY".to_vec()), 8);
        (auth, cat, digits, org).prop_map(|(a, c, d, o)| {
            let mut v = vec![a, c];
            v.extend(d);
            v.extend(o);
            String::from_utf8(v).unwrap()
        })
    }

    proptest! {
        #[test]
        fn generated_codes_validate(body in body_strategy()) {
            // Bodies whose org check character falls outside the USCC charset cannot exist.
            if let Some(code) = Uscc::from_body(&body) {
                prop_assert_eq!(Uscc::parse(code.as_str()).map(|u| u.0), Ok(code.0.clone()));
            }
        }

        #[test]
        fn single_character_changes_never_validate(body in body_strategy(), pos in 0usize..18, repl in 0usize..31) {
            if let Some(code) = Uscc::from_body(&body) {
                let mut v = code.0.clone().into_bytes();
                let new = CHARSET[repl];
                prop_assume!(v[pos] != new);
                v[pos] = new;
                let changed = String::from_utf8(v).unwrap();
                prop_assert!(Uscc::parse(&changed).is_err(), "{} accepted", changed);
            }
        }
    }
}
