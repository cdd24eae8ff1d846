//! Facts of many subjects as columns, the input of batch evaluation.

use super::schema::Schema;
use super::value::{Facts, Type, Value, day_number};
use rust_decimal::Decimal;
use std::collections::HashMap;
use time::Date;

/// Strings are stored once; columns hold their codes.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    map: HashMap<String, u32>,
    strings: Vec<String>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(c) = self.map.get(s) {
            return *c;
        }
        let c = self.strings.len() as u32;
        self.strings.push(s.to_string());
        self.map.insert(s.to_string(), c);
        c
    }

    pub fn code(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }

    pub fn get(&self, code: u32) -> &str {
        &self.strings[code as usize]
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

/// A dated series per row: row `r` owns points `offsets[r]..offsets[r + 1]`.
#[derive(Debug, Clone, Default)]
pub struct SeriesData {
    pub offsets: Vec<u32>,
    pub dates: Vec<i32>,
    pub vals: Vec<i64>,
}

impl SeriesData {
    pub fn row(&self, r: usize) -> (&[i32], &[i64]) {
        let (a, b) = (self.offsets[r] as usize, self.offsets[r + 1] as usize);
        (&self.dates[a..b], &self.vals[a..b])
    }
}

/// A list per row (list<string> as codes, list<int>).
#[derive(Debug, Clone, Default)]
pub struct ListData {
    pub offsets: Vec<u32>,
    pub items: Vec<i64>,
}

impl ListData {
    pub fn row(&self, r: usize) -> &[i64] {
        &self.items[self.offsets[r] as usize..self.offsets[r + 1] as usize]
    }
}

#[derive(Debug, Clone)]
pub enum Data {
    Bool(Vec<bool>),
    Int(Vec<i64>),
    Dec(Vec<Decimal>),
    Str(Vec<u32>),
    Date(Vec<i32>),
    Series(SeriesData),
    List(ListData),
}

#[derive(Debug, Clone)]
pub struct BatchCol {
    pub data: Data,
    /// `None`: every row has a value.
    pub valid: Option<Vec<bool>>,
}

/// Columns of facts for `len` subjects, laid out by the schema's field order.
#[derive(Debug, Clone)]
pub struct Batch {
    len: usize,
    pub(crate) cols: Vec<Option<BatchCol>>,
    pub(crate) types: Vec<Type>,
    names: Vec<String>,
    pub strings: Interner,
}

impl Batch {
    pub fn new(schema: &Schema, len: usize) -> Batch {
        Batch {
            len,
            cols: vec![None; schema.len()],
            types: schema.fields().iter().map(|f| f.ty.clone()).collect(),
            names: schema.fields().iter().map(|f| f.name.clone()).collect(),
            strings: Interner::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn slot(&self, name: &str, want: &[Type]) -> Result<usize, String> {
        let i = self.names.iter().position(|n| n == name).ok_or_else(|| format!("没有字段“{name}”"))?;
        if !want.contains(&self.types[i]) {
            return Err(format!("字段“{name}”的类型是{}", self.types[i]));
        }
        Ok(i)
    }

    fn check_len(&self, n: usize, valid: &Option<Vec<bool>>) -> Result<(), String> {
        if n != self.len || valid.as_ref().is_some_and(|v| v.len() != self.len) {
            return Err(format!("列长度应为 {}", self.len));
        }
        Ok(())
    }

    pub fn set_ints(&mut self, name: &str, values: Vec<i64>, valid: Option<Vec<bool>>) -> Result<(), String> {
        let i = self.slot(name, &[Type::Int])?;
        self.check_len(values.len(), &valid)?;
        self.cols[i] = Some(BatchCol { data: Data::Int(values), valid });
        Ok(())
    }

    pub fn set_decs(&mut self, name: &str, values: Vec<Decimal>, valid: Option<Vec<bool>>) -> Result<(), String> {
        let i = self.slot(name, &[Type::Dec])?;
        self.check_len(values.len(), &valid)?;
        self.cols[i] = Some(BatchCol { data: Data::Dec(values), valid });
        Ok(())
    }

    pub fn set_bools(&mut self, name: &str, values: Vec<bool>, valid: Option<Vec<bool>>) -> Result<(), String> {
        let i = self.slot(name, &[Type::Bool])?;
        self.check_len(values.len(), &valid)?;
        self.cols[i] = Some(BatchCol { data: Data::Bool(values), valid });
        Ok(())
    }

    pub fn set_dates(&mut self, name: &str, values: &[Option<Date>]) -> Result<(), String> {
        let i = self.slot(name, &[Type::Date])?;
        self.check_len(values.len(), &None)?;
        let data = values.iter().map(|d| d.map(day_number).unwrap_or(0)).collect();
        let valid = values.iter().any(Option::is_none).then(|| values.iter().map(Option::is_some).collect());
        self.cols[i] = Some(BatchCol { data: Data::Date(data), valid });
        Ok(())
    }

    pub fn set_strs<'s>(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = Option<&'s str>>,
    ) -> Result<(), String> {
        let i = self.slot(name, &[Type::Str])?;
        let mut codes = Vec::with_capacity(self.len);
        let mut valid = Vec::with_capacity(self.len);
        for v in values {
            codes.push(v.map(|s| self.strings.intern(s)).unwrap_or(0));
            valid.push(v.is_some());
        }
        self.check_len(codes.len(), &None)?;
        let valid = valid.iter().any(|v| !v).then_some(valid);
        self.cols[i] = Some(BatchCol { data: Data::Str(codes), valid });
        Ok(())
    }

    pub fn set_series(&mut self, name: &str, rows: &[Vec<(Date, i64)>]) -> Result<(), String> {
        let i = self.slot(name, &[Type::Series])?;
        self.check_len(rows.len(), &None)?;
        let mut s = SeriesData { offsets: vec![0], ..Default::default() };
        for r in rows {
            let mut pts = r.clone();
            pts.sort_by_key(|(d, _)| *d);
            for (d, v) in pts {
                s.dates.push(day_number(d));
                s.vals.push(v);
            }
            s.offsets.push(s.vals.len() as u32);
        }
        self.cols[i] = Some(BatchCol { data: Data::Series(s), valid: None });
        Ok(())
    }

    pub fn set_lists(&mut self, name: &str, rows: &[Vec<Value>]) -> Result<(), String> {
        let i = self.slot(name, &[Type::List(Box::new(Type::Str)), Type::List(Box::new(Type::Int))])?;
        self.check_len(rows.len(), &None)?;
        let mut l = ListData { offsets: vec![0], items: vec![] };
        for r in rows {
            for v in r {
                match v {
                    Value::Str(s) => l.items.push(self.strings.intern(s) as i64),
                    Value::Int(x) => l.items.push(*x),
                    other => return Err(format!("列表元素{other}类型不符")),
                }
            }
            l.offsets.push(l.items.len() as u32);
        }
        self.cols[i] = Some(BatchCol { data: Data::List(l), valid: None });
        Ok(())
    }

    /// The facts of row `i` (to explain one subject of a batch run).
    pub fn row_facts(&self, i: usize) -> Facts {
        let mut f = Facts::new();
        for (k, name) in self.names.iter().enumerate() {
            let Some(c) = &self.cols[k] else { continue };
            if c.valid.as_ref().is_some_and(|v| !v[i]) {
                continue;
            }
            let v = match &c.data {
                Data::Bool(v) => Value::Bool(v[i]),
                Data::Int(v) => Value::Int(v[i]),
                Data::Dec(v) => Value::Dec(v[i]),
                Data::Str(v) => Value::Str(self.strings.get(v[i]).to_string()),
                Data::Date(v) => Value::Date(super::value::from_day_number(v[i])),
                Data::Series(s) => {
                    let (d, x) = s.row(i);
                    Value::Series(d.iter().zip(x).map(|(d, x)| (super::value::from_day_number(*d), *x)).collect())
                }
                Data::List(l) => Value::List(
                    l.row(i)
                        .iter()
                        .map(|x| {
                            if self.types[k] == Type::List(Box::new(Type::Str)) {
                                Value::Str(self.strings.get(*x as u32).to_string())
                            } else {
                                Value::Int(*x)
                            }
                        })
                        .collect(),
                ),
            };
            f.set(name, v);
        }
        f
    }

    /// Builds a batch from per-subject facts (the general path; bulk loaders set columns).
    pub fn from_facts(schema: &Schema, rows: &[Facts]) -> Result<Batch, String> {
        let mut b = Batch::new(schema, rows.len());
        for f in schema.fields() {
            let get = |r: &Facts| r.get(&f.name).filter(|v| **v != Value::Null).cloned();
            let bad = |v: &Value| format!("字段“{}”应为{}，实际为{v}", f.name, f.ty);
            match &f.ty {
                Type::Int => {
                    let mut vals = Vec::with_capacity(rows.len());
                    let mut ok = Vec::with_capacity(rows.len());
                    for r in rows {
                        match get(r) {
                            Some(Value::Int(x)) => {
                                vals.push(x);
                                ok.push(true);
                            }
                            None => {
                                vals.push(0);
                                ok.push(false);
                            }
                            Some(v) => return Err(bad(&v)),
                        }
                    }
                    let valid = ok.iter().any(|v| !v).then_some(ok);
                    b.set_ints(&f.name, vals, valid)?;
                }
                Type::Dec => {
                    let mut vals = Vec::with_capacity(rows.len());
                    let mut ok = Vec::with_capacity(rows.len());
                    for r in rows {
                        match get(r) {
                            Some(Value::Dec(x)) => {
                                vals.push(x);
                                ok.push(true);
                            }
                            Some(Value::Int(x)) => {
                                vals.push(x.into());
                                ok.push(true);
                            }
                            None => {
                                vals.push(Decimal::ZERO);
                                ok.push(false);
                            }
                            Some(v) => return Err(bad(&v)),
                        }
                    }
                    let valid = ok.iter().any(|v| !v).then_some(ok);
                    b.set_decs(&f.name, vals, valid)?;
                }
                Type::Bool => {
                    let mut vals = Vec::with_capacity(rows.len());
                    let mut ok = Vec::with_capacity(rows.len());
                    for r in rows {
                        match get(r) {
                            Some(Value::Bool(x)) => {
                                vals.push(x);
                                ok.push(true);
                            }
                            None => {
                                vals.push(false);
                                ok.push(false);
                            }
                            Some(v) => return Err(bad(&v)),
                        }
                    }
                    let valid = ok.iter().any(|v| !v).then_some(ok);
                    b.set_bools(&f.name, vals, valid)?;
                }
                Type::Str => {
                    let mut vals: Vec<Option<String>> = vec![];
                    for r in rows {
                        match get(r) {
                            Some(Value::Str(s)) => vals.push(Some(s)),
                            None => vals.push(None),
                            Some(v) => return Err(bad(&v)),
                        }
                    }
                    b.set_strs(&f.name, vals.iter().map(|s| s.as_deref()))?;
                }
                Type::Date => {
                    let mut vals = vec![];
                    for r in rows {
                        match get(r) {
                            Some(Value::Date(d)) => vals.push(Some(d)),
                            None => vals.push(None),
                            Some(v) => return Err(bad(&v)),
                        }
                    }
                    b.set_dates(&f.name, &vals)?;
                }
                Type::Series => {
                    let mut vals = vec![];
                    for r in rows {
                        match get(r) {
                            Some(Value::Series(s)) => vals.push(s),
                            None => vals.push(vec![]),
                            Some(v) => return Err(bad(&v)),
                        }
                    }
                    b.set_series(&f.name, &vals)?;
                }
                Type::List(_) => {
                    let mut vals = vec![];
                    for r in rows {
                        match get(r) {
                            Some(Value::List(s)) => vals.push(s),
                            None => vals.push(vec![]),
                            Some(v) => return Err(bad(&v)),
                        }
                    }
                    b.set_lists(&f.name, &vals)?;
                }
            }
        }
        Ok(b)
    }
}
