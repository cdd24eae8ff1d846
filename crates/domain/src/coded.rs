//! Enums stored as a short code and shown by their Chinese label.

/// Declares an enum whose variants each have the code stored in the database and the Chinese
/// label users read, written side by side so that neither can be missing. Generates `ALL`,
/// `as_str` (the code), `label`, `parse` (code, or label as typed in an import), `Display`
/// (the label, for templates), `Serialize` (the code) and `TryFrom<String>` with a Chinese error, so rows decode the
/// code at the store boundary (`#[sqlx(try_from = "String")]`).
#[macro_export]
macro_rules! coded {
    (
        $(#[$m:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vm:meta])* $v:ident = ($code:literal, $label:literal) ),+ $(,)?
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $( $(#[$vm])* $v ),+ }

        impl $name {
            pub const ALL: [$name; [$($code),+].len()] = [$($name::$v),+];

            /// The stored code.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $code),+ }
            }

            /// What users read.
            pub fn label(self) -> &'static str {
                match self { $($name::$v => $label),+ }
            }

            /// From the stored code, or the label as typed.
            pub fn parse(s: &str) -> Option<$name> {
                // A label may be its code (the measures are stored by their Chinese names).
                #[allow(unreachable_patterns)]
                match s { $($code | $label => Some($name::$v),)+ _ => None }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<$name, String> {
                $name::parse(&s).ok_or_else(|| format!("未知的{}“{}”", $what, s))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    coded! {
        /// A test enum.
        enum Colour ("颜色") {
            Red = ("red", "红"),
            Blue = ("blue", "蓝"),
        }
    }

    #[test]
    fn code_label_and_decoding() {
        assert_eq!(Colour::ALL, [Colour::Red, Colour::Blue]);
        assert_eq!((Colour::Blue.as_str(), Colour::Blue.label()), ("blue", "蓝"));
        assert_eq!(Colour::parse("red"), Some(Colour::Red));
        assert_eq!(Colour::parse("蓝"), Some(Colour::Blue));
        assert_eq!(Colour::parse("green"), None);
        assert_eq!(Colour::try_from("green".to_string()).unwrap_err(), "未知的颜色“green”");
        assert_eq!(Colour::Red.to_string(), "红");
    }
}
