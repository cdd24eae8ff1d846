//! Errors for configuration read from data files: they name the file, the line and the field,
//! so an administrator can fix the file without reading code.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub field: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(file: &str, line: Option<usize>, field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { file: file.to_string(), line, field: field.into(), message: message.into() }
    }

    /// From a TOML syntax or type error, keeping its line.
    pub fn from_toml(file: &str, text: &str, err: &toml::de::Error) -> Self {
        let line = err.span().map(|s| line_of(text, s.start));
        ConfigError::new(file, line, "", err.message().to_string())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// Parses TOML into `T`, mapping errors to a `ConfigError` with the line.
pub fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::from_toml(file, text, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct T {
        a: i32,
    }

    #[test]
    fn toml_errors_name_the_line() {
        let e = parse_toml::<T>("x.toml", "\n\na = \"s\"\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.to_string().starts_with("x.toml:3"), "{e}");
    }
}
