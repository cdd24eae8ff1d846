//! The declared facts of a subject type (employer, project, person …). Expressions are
//! type-checked against it when configuration loads.

use super::value::Type;
use crate::config::{ConfigError, line_of};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub ty: Type,
    pub label: String,
    /// May be missing for some subjects; the expression must cope (`has`, `coalesce`).
    pub optional: bool,
    /// Declared `money`: an int in fen, which people read and type in yuan.
    pub money: bool,
    /// For a string field holding codes: the Chinese name of each code (`values` in the
    /// schema file), so people read 在建, not `building`.
    pub values: Vec<(String, String)>,
}

impl FieldDef {
    /// A string value in words: its name from `values`, or the value itself.
    pub fn value_name<'a>(&'a self, v: &'a str) -> &'a str {
        self.values.iter().find(|(k, _)| k == v).map(|(_, l)| l.as_str()).unwrap_or(v)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    pub subject: String,
    pub label: String,
    fields: Vec<FieldDef>,
    index: HashMap<String, usize>,
}

/// Names the language itself uses; a schema may not declare them.
pub const RESERVED: &[&str] = &["today", "true", "false", "null", "in"];

impl Schema {
    pub fn new(subject: &str, label: &str) -> Self {
        Schema { subject: subject.into(), label: label.into(), ..Default::default() }
    }

    /// Adds a field (builder style). Panics on duplicates: use [`Schema::from_toml`] for data.
    pub fn field(mut self, name: &str, ty: Type, label: &str) -> Self {
        self.push(name, ty, label, false).expect("valid field");
        self
    }

    pub fn optional_field(mut self, name: &str, ty: Type, label: &str) -> Self {
        self.push(name, ty, label, true).expect("valid field");
        self
    }

    fn push(&mut self, name: &str, ty: Type, label: &str, optional: bool) -> Result<(), String> {
        let ok = !name.is_empty()
            && name.split('.').all(|p| {
                !p.is_empty()
                    && p.chars().all(|c| c.is_alphanumeric() || c == '_')
                    && !p.starts_with(|c: char| c.is_ascii_digit())
            });
        if !ok {
            return Err(format!("字段名“{name}”无效：只能由字母、数字、下划线和“.”组成"));
        }
        if RESERVED.contains(&name) {
            return Err(format!("“{name}”是保留字，不能作字段名"));
        }
        if self.index.contains_key(name) {
            return Err(format!("字段“{name}”重复"));
        }
        self.index.insert(name.to_string(), self.fields.len());
        self.fields.push(FieldDef {
            name: name.into(),
            ty,
            label: label.into(),
            optional,
            money: false,
            values: vec![],
        });
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<(usize, &FieldDef)> {
        self.index.get(name).map(|i| (*i, &self.fields[*i]))
    }

    pub fn fields(&self) -> &[FieldDef] {
        &self.fields
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Reads a schema file:
    ///
    /// ```toml
    /// subject = "employer"
    /// label = "用人单位"
    /// [fields]
    /// employees = { type = "int", label = "从业人数" }
    /// "payroll.paid_headcount" = { type = "int", label = "实发人数", optional = true }
    /// ```
    pub fn from_toml(file: &str, text: &str) -> Result<Schema, ConfigError> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            subject: String,
            label: String,
            fields: BTreeMap<toml::Spanned<String>, RawField>,
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawField {
            r#type: toml::Spanned<String>,
            label: String,
            #[serde(default)]
            optional: bool,
            #[serde(default)]
            values: BTreeMap<String, String>,
        }
        let raw: Raw = crate::config::parse_toml(file, text)?;
        let mut s = Schema::new(&raw.subject, &raw.label);
        // Keep the file's order, so pages list facts as the author wrote them.
        let mut fields: Vec<_> = raw.fields.into_iter().collect();
        fields.sort_by_key(|(k, _)| k.span().start);
        for (name, f) in fields {
            let line = Some(line_of(text, name.span().start));
            let ty = Type::parse(f.r#type.get_ref()).ok_or_else(|| {
                ConfigError::new(
                    file,
                    Some(line_of(text, f.r#type.span().start)),
                    format!("fields.{}.type", name.get_ref()),
                    format!(
                        "未知类型“{}”，可选 bool、int、money、decimal、string、date、series、list<string>、list<int>",
                        f.r#type.get_ref()
                    ),
                )
            })?;
            s.push(name.get_ref(), ty, &f.label, f.optional)
                .map_err(|m| ConfigError::new(file, line, format!("fields.{}", name.get_ref()), m))?;
            if let Some(last) = s.fields.last_mut() {
                last.money = f.r#type.get_ref() == "money";
                last.values = f.values.into_iter().collect();
            }
        }
        Ok(s)
    }
}
