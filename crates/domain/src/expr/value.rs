//! Scalar values, the facts of one subject, and types.

use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::fmt;
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Int,
    Dec,
    Str,
    Date,
    List(Box<Type>),
    /// A dated series of integers (monthly water use, daily check-ins …).
    Series,
}

impl Type {
    /// Parses the names used in schema files: bool, int, money (int fen), decimal, string,
    /// date, series, list<string>, list<int>.
    pub fn parse(s: &str) -> Option<Type> {
        Some(match s.trim() {
            "bool" => Type::Bool,
            "int" | "money" => Type::Int,
            "decimal" => Type::Dec,
            "string" => Type::Str,
            "date" => Type::Date,
            "series" => Type::Series,
            "list<string>" => Type::List(Box::new(Type::Str)),
            "list<int>" => Type::List(Box::new(Type::Int)),
            _ => return None,
        })
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Dec)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("布尔值"),
            Type::Int => f.write_str("整数"),
            Type::Dec => f.write_str("小数"),
            Type::Str => f.write_str("文本"),
            Type::Date => f.write_str("日期"),
            Type::List(t) => write!(f, "{t}列表"),
            Type::Series => f.write_str("时间序列"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Missing, or not computable (division by zero, a missing fact).
    Null,
    Bool(bool),
    Int(i64),
    Dec(Decimal),
    Str(String),
    Date(Date),
    List(Vec<Value>),
    Series(Vec<(Date, i64)>),
}

impl Value {
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("无值"),
            Value::Bool(true) => f.write_str("是"),
            Value::Bool(false) => f.write_str("否"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Dec(d) => write!(f, "{}", d.normalize()),
            Value::Str(s) => write!(f, "“{s}”"),
            Value::Date(d) => write!(f, "{d}"),
            Value::List(v) => {
                f.write_str("[")?;
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str("、")?;
                    }
                    write!(f, "{x}")?;
                }
                f.write_str("]")
            }
            Value::Series(s) => write!(f, "{}个数据点", s.len()),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}
impl From<Date> for Value {
    fn from(v: Date) -> Self {
        Value::Date(v)
    }
}
impl From<Decimal> for Value {
    fn from(v: Decimal) -> Self {
        Value::Dec(v)
    }
}

/// The facts of one subject, by field name (`payroll.paid_headcount`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts(pub BTreeMap<String, Value>);

impl Facts {
    pub fn new() -> Self {
        Facts::default()
    }

    pub fn with(mut self, name: &str, v: impl Into<Value>) -> Self {
        self.0.insert(name.to_string(), v.into());
        self
    }

    pub fn set(&mut self, name: &str, v: impl Into<Value>) {
        self.0.insert(name.to_string(), v.into());
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

/// Days since 1970-01-01: how dates sit in columns.
pub fn day_number(d: Date) -> i32 {
    d.to_julian_day() - 2_440_588
}

pub fn from_day_number(n: i32) -> Date {
    Date::from_julian_day(n + 2_440_588).unwrap_or(Date::MIN)
}
