//! Facts as JSON, by the subject's schema: how a workflow's facts are stored and how the API
//! takes them. Dates are `"YYYY-MM-DD"`, decimals strings, series `[["2025-09-01", 40], …]`.

use domain::expr::{Facts, FieldDef, Schema, Type, Value};
use rust_decimal::Decimal;
use serde_json::{Value as Json, json};
use std::str::FromStr;

pub fn to_json(facts: &Facts) -> Json {
    let mut m = serde_json::Map::new();
    for (k, v) in &facts.0 {
        m.insert(k.clone(), value_json(v));
    }
    Json::Object(m)
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Dec(d) => json!(d.to_string()),
        Value::Str(s) => json!(s),
        Value::Date(d) => json!(d.to_string()),
        Value::List(l) => Json::Array(l.iter().map(value_json).collect()),
        Value::Series(s) => Json::Array(s.iter().map(|(d, x)| json!([d.to_string(), x])).collect()),
    }
}

fn parse_date(s: &str) -> Option<time::Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.trim(), &f).ok()
}

/// Reads facts for `schema` from a JSON object; unknown names and wrong types are errors
/// that name the field.
pub fn from_json(schema: &Schema, v: &Json) -> Result<Facts, (String, String)> {
    let obj = v.as_object().ok_or_else(|| ("facts".to_string(), "事实应为 JSON 对象".to_string()))?;
    let mut f = Facts::new();
    for (k, x) in obj {
        let Some((_, def)) = schema.get(k) else {
            return Err((k.clone(), format!("{}没有字段“{k}”", schema.label)));
        };
        if x.is_null() {
            continue;
        }
        let bad = || (k.clone(), format!("“{}”应为{}", def.label, def.ty));
        let val = match &def.ty {
            Type::Bool => Value::Bool(x.as_bool().ok_or_else(bad)?),
            Type::Int => Value::Int(x.as_i64().ok_or_else(bad)?),
            Type::Dec => Value::Dec(match x {
                Json::String(s) => Decimal::from_str(s).map_err(|_| bad())?,
                Json::Number(n) => Decimal::from_str(&n.to_string()).map_err(|_| bad())?,
                _ => return Err(bad()),
            }),
            Type::Str => Value::Str(x.as_str().ok_or_else(bad)?.to_string()),
            Type::Date => Value::Date(x.as_str().and_then(parse_date).ok_or_else(bad)?),
            Type::List(inner) => Value::List(
                x.as_array()
                    .ok_or_else(bad)?
                    .iter()
                    .map(|e| match **inner {
                        Type::Int => e.as_i64().map(Value::Int),
                        _ => e.as_str().map(|s| Value::Str(s.to_string())),
                    })
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(bad)?,
            ),
            Type::Series => Value::Series(
                x.as_array()
                    .ok_or_else(bad)?
                    .iter()
                    .map(|p| Some((parse_date(p.get(0)?.as_str()?)?, p.get(1)?.as_i64()?)))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(bad)?,
            ),
        };
        f.set(k, val);
    }
    for def in schema.fields() {
        if !def.optional && !f.0.contains_key(&def.name) {
            return Err((def.name.clone(), format!("请填写“{}”", def.label)));
        }
    }
    Ok(f)
}

/// Parses one typed value from a form field (pages post text). Money is typed in yuan
/// (`1,234.56`, `¥1234`) and kept in fen.
pub fn from_form(field: &FieldDef, text: &str) -> Result<Option<Value>, String> {
    let (ty, label) = (&field.ty, &field.label);
    let t = domain::text::normalize_ascii(text);
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || format!("“{label}”应为{ty}");
    if field.money {
        return domain::money::Money::parse_yuan(&t)
            .map(|m| Some(Value::Int(m.fen())))
            .map_err(|e| format!("“{label}”：{e}"));
    }
    Ok(Some(match ty {
        Type::Bool => match t.as_str() {
            "true" | "1" | "是" | "on" => Value::Bool(true),
            "false" | "0" | "否" => Value::Bool(false),
            _ => return Err(bad()),
        },
        Type::Int => Value::Int(t.replace(',', "").parse().map_err(|_| bad())?),
        Type::Dec => Value::Dec(Decimal::from_str(&t.replace(',', "")).map_err(|_| bad())?),
        Type::Str => Value::Str(t),
        Type::Date => Value::Date(parse_date(&t).ok_or_else(|| format!("“{label}”应为日期，如 2026-01-31"))?),
        Type::List(_) => Value::List(
            t.split([',', '，', '、'])
                .map(|s| Value::Str(s.trim().to_string()))
                .filter(|v| *v != Value::Str(String::new()))
                .collect(),
        ),
        Type::Series => return Err(format!("“{label}”不能在表单中填写")),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_bad_fields() {
        let s = Schema::new("p", "项目").field("investment", Type::Int, "总投资").optional_field(
            "start",
            Type::Date,
            "开工日期",
        );
        let f = Facts::new().with("investment", 12).with("start", time::macros::date!(2026 - 01 - 02));
        assert_eq!(from_json(&s, &to_json(&f)).unwrap(), f);
        assert_eq!(from_json(&s, &json!({"investment": "x"})).unwrap_err().1, "“总投资”应为整数");
        assert_eq!(from_json(&s, &json!({})).unwrap_err().1, "请填写“总投资”");
        assert!(from_json(&s, &json!({"investment": 1, "typo": 2})).unwrap_err().1.contains("没有字段“typo”"));
        let plain = FieldDef {
            name: "n".into(),
            ty: Type::Int,
            label: "人数".into(),
            optional: false,
            money: false,
            values: vec![],
        };
        assert_eq!(from_form(&plain, "1,000").unwrap(), Some(Value::Int(1000)));
        let money = FieldDef { label: "总投资".into(), money: true, ..plain };
        assert_eq!(from_form(&money, "¥1,234.5").unwrap(), Some(Value::Int(123_450)));
        assert!(from_form(&money, "1.234").unwrap_err().starts_with("“总投资”："));
    }
}
