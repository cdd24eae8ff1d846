//! Chinese identifiers that can only hold valid values.
//!
//! Each parser normalises what a user would paste (full-width characters, lower case, spaces
//! around) and rejects anything else with a message in Chinese that names the first wrong
//! character by its position.

mod division;
mod id_card;
mod uscc;

pub use division::{DivisionCode, DivisionInfo, DivisionLevel, DivisionRegistry, builtin_divisions, province_name};
pub use id_card::{IdCardNo, Sex};
pub use uscc::Uscc;

/// The 31 characters a USCC may use.
pub fn uscc_charset() -> &'static [u8; 31] {
    uscc::CHARSET
}

/// Why an identifier was rejected. `Display` is the message shown to users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind}不能为空")]
    Empty { kind: &'static str },
    #[error("{kind}应为{expected}位，实际为{actual}位")]
    Length { kind: &'static str, expected: &'static str, actual: usize },
    #[error("{kind}第{position}位字符{found}无效：{rule}")]
    InvalidChar { kind: &'static str, position: usize, found: String, rule: &'static str },
    #[error("{kind}第{position}位校验码应为“{expected}”，实际为“{actual}”，请核对号码是否抄错")]
    CheckMismatch { kind: &'static str, position: usize, expected: char, actual: char },
    #[error("{kind}第{positions}位{what}无效：{detail}")]
    InvalidPart { kind: &'static str, positions: &'static str, what: &'static str, detail: String },
    #[error("{0}")]
    Other(String),
}

impl IdError {
    /// 1-based position of the offending character, when one can be named.
    pub fn position(&self) -> Option<usize> {
        match self {
            IdError::InvalidChar { position, .. } | IdError::CheckMismatch { position, .. } => Some(*position),
            _ => None,
        }
    }
}
