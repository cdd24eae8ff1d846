//! Text helpers shared by identifier parsers and forms.

/// Normalises what users paste from Chinese input methods: trims whitespace (including the
/// ideographic space U+3000) and turns full-width ASCII (ＡＢＣ１２３) into half-width.
pub fn normalize_ascii(input: &str) -> String {
    input
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}')
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            other => other,
        })
        .collect()
}

/// Position (1-based) and character, as error messages show them.
pub fn describe_char(c: char) -> String {
    if c.is_whitespace() { "空白".to_string() } else { format!("“{c}”") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_becomes_ascii() {
        assert_eq!(normalize_ascii("　９１３４Ａｂ "), "9134Ab");
    }
}
