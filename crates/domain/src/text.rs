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

/// Levenshtein distance in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `input` when it is a likely typo (at most 2 edits, or a third of
/// the length for long names).
pub fn closest<'a>(input: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (input.chars().count() / 3).max(2);
    candidates.map(|c| (edit_distance(input, c), c)).filter(|(d, _)| *d <= limit).min().map(|(_, c)| c)
}

/// At most `max` characters of `s`; a longer text keeps its start and says how long it was
/// (`前缀…（共 123456 字）`), so a refused value is stored and shown bounded but recognisable.
pub fn excerpt(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    format!("{head}…（共 {n} 字）")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_keep_a_prefix_and_the_length() {
        assert_eq!(excerpt("工资", 5), "工资");
        assert_eq!(excerpt(&"欠".repeat(1_000_000), 3), "欠欠欠…（共 1000000 字）");
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(closest("employes", ["employees", "industry"].into_iter()), Some("employees"));
        assert_eq!(closest("zzz", ["employees"].into_iter()), None);
    }

    #[test]
    fn full_width_becomes_ascii() {
        assert_eq!(normalize_ascii("　９１３４Ａｂ "), "9134Ab");
    }
}

/// A date as Chinese documents write it (GB/T 9704—2012 §7.3.5.1: Arabic numerals, year in
/// full, month and day without leading zeros): 2026年12月7日.
pub fn date_cn(d: time::Date) -> String {
    format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())
}

/// Orders text as people expect a list of names to be ordered: runs of digits by their value,
/// so 工人2 comes before 工人10 and 第9班组 before 第10班组.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<(bool, &str)> {
        let mut out = vec![];
        let mut start = 0;
        let mut digits = None;
        for (i, c) in s.char_indices() {
            let d = c.is_ascii_digit();
            if digits.is_some_and(|x| x != d) {
                out.push((digits.unwrap_or(false), &s[start..i]));
                start = i;
            }
            digits = Some(d);
        }
        if start < s.len() {
            out.push((digits.unwrap_or(false), &s[start..]));
        }
        out
    }
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = match (x, y) {
            ((true, n), (true, m)) => {
                let (n, m) = (n.trim_start_matches('0'), m.trim_start_matches('0'));
                n.len().cmp(&m.len()).then_with(|| n.cmp(m))
            }
            ((_, p), (_, q)) => p.cmp(q),
        };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod date_tests {
    #[test]
    fn names_with_numbers_sort_by_value() {
        let mut v = vec!["工人10", "工人2", "工人1", "班组B", "工人02", "班组A"];
        v.sort_by(|a, b| super::natural_cmp(a, b));
        assert_eq!(v, vec!["工人1", "工人02", "工人2", "工人10", "班组A", "班组B"]);
    }

    #[test]
    fn dates_are_written_as_documents_write_them() {
        assert_eq!(super::date_cn(time::macros::date!(2026 - 01 - 07)), "2026年1月7日");
    }
}
