//! Tokens of the expression language.

use super::ExprError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Int(i64),
    Dec(rust_decimal::Decimal),
    Str(String),
    Ident(String),
    True,
    False,
    Null,
    In,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Plus,
    Minus,
    Star,
    Slash,
    SlashSlash,
    Percent,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Bang,
    Question,
    Colon,
    Eof,
}

/// A token with its span in characters (0-based, end exclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

pub fn lex(src: &str) -> Result<Vec<Token>, ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two = chars.get(i + 1).copied();
        let (tok, len) = match (c, two) {
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            ('[', _) => (Tok::LBracket, 1),
            (']', _) => (Tok::RBracket, 1),
            (',', _) => (Tok::Comma, 1),
            ('+', _) => (Tok::Plus, 1),
            ('-', _) => (Tok::Minus, 1),
            ('*', _) => (Tok::Star, 1),
            ('/', Some('/')) => (Tok::SlashSlash, 2),
            ('/', _) => (Tok::Slash, 1),
            ('%', _) => (Tok::Percent, 1),
            ('=', Some('=')) => (Tok::Eq, 2),
            ('!', Some('=')) => (Tok::Ne, 2),
            ('<', Some('=')) => (Tok::Le, 2),
            ('>', Some('=')) => (Tok::Ge, 2),
            ('<', _) => (Tok::Lt, 1),
            ('>', _) => (Tok::Gt, 1),
            ('&', Some('&')) => (Tok::AndAnd, 2),
            ('|', Some('|')) => (Tok::OrOr, 2),
            ('!', _) => (Tok::Bang, 1),
            ('?', _) => (Tok::Question, 1),
            (':', _) => (Tok::Colon, 1),
            ('.', Some(d)) if !d.is_ascii_digit() => (Tok::Dot, 1),
            ('=', _) => return Err(ExprError::at(start, 1, "比较是否相等请写“==”")),
            ('&', _) => return Err(ExprError::at(start, 1, "“并且”请写“&&”")),
            ('|', _) => return Err(ExprError::at(start, 1, "“或者”请写“||”")),
            ('"' | '\'', _) => {
                let quote = c;
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(ExprError::at(start, j - start, "文本缺少结束引号")),
                        Some('\\') => {
                            match chars.get(j + 1) {
                                Some('n') => s.push('\n'),
                                Some(&e) => s.push(e),
                                None => return Err(ExprError::at(start, j - start, "文本缺少结束引号")),
                            }
                            j += 2;
                        }
                        Some(&q) if q == quote => break,
                        Some(&ch) => {
                            s.push(ch);
                            j += 1;
                        }
                    }
                }
                (Tok::Str(s), j + 1 - i)
            }
            (d, _) if d.is_ascii_digit() || d == '.' => {
                let mut j = i;
                let mut seen_dot = false;
                while let Some(&ch) = chars.get(j) {
                    if ch.is_ascii_digit() || ch == '_' {
                        j += 1;
                    } else if ch == '.' && !seen_dot && chars.get(j + 1).is_some_and(|n| n.is_ascii_digit()) {
                        seen_dot = true;
                        j += 1;
                    } else {
                        break;
                    }
                }
                let text: String = chars[i..j].iter().filter(|c| **c != '_').collect();
                let tok = if seen_dot {
                    Tok::Dec(text.parse().map_err(|_| ExprError::at(start, j - i, format!("数字“{text}”无效")))?)
                } else {
                    Tok::Int(text.parse().map_err(|_| ExprError::at(start, j - i, format!("整数“{text}”超出范围")))?)
                };
                (tok, j - i)
            }
            (a, _) if a.is_alphabetic() || a == '_' => {
                let mut j = i;
                while chars.get(j).is_some_and(|ch| ch.is_alphanumeric() || *ch == '_') {
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                let tok = match word.as_str() {
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "null" => Tok::Null,
                    "in" => Tok::In,
                    "and" | "or" | "not" => {
                        let hint = match word.as_str() {
                            "and" => "&&",
                            "or" => "||",
                            _ => "!",
                        };
                        return Err(ExprError::at(start, j - i, format!("请用“{hint}”代替“{word}”")));
                    }
                    _ => Tok::Ident(word),
                };
                (tok, j - i)
            }
            _ => return Err(ExprError::at(start, 1, format!("无法识别的字符“{c}”"))),
        };
        i += len;
        out.push(Token { tok, start, end: i });
    }
    out.push(Token { tok: Tok::Eof, start: chars.len(), end: chars.len() });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_operators_numbers_and_text() {
        let t: Vec<Tok> =
            lex("a.b >= 1_000 && c // 2 != 0.5 || x in [\"建筑\"]").unwrap().into_iter().map(|t| t.tok).collect();
        assert_eq!(t[1], Tok::Dot);
        assert_eq!(t[4], Tok::Int(1000));
        assert_eq!(t[7], Tok::SlashSlash);
        assert!(t.contains(&Tok::Dec("0.5".parse().unwrap())));
        assert!(t.contains(&Tok::Str("建筑".into())));
    }

    #[test]
    fn helpful_errors() {
        assert_eq!(lex("a = 1").unwrap_err().to_string(), "第3列：比较是否相等请写“==”");
        assert_eq!(lex("a and b").unwrap_err().to_string(), "第3列：请用“&&”代替“and”");
        assert!(lex("\"abc").unwrap_err().to_string().contains("结束引号"));
    }
}
