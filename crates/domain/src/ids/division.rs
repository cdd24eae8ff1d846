//! 行政区划代码 (division codes), GB/T 2260 for province, prefecture and county (6 digits),
//! extended with the statistical codes of the National Bureau of Statistics for towns
//! (9 digits) and villages/communities (12 digits). Grids are not divisions: they are
//! management areas inside a town and have their own identifiers.

use super::IdError;
use crate::text::{describe_char, normalize_ascii};
use std::collections::BTreeMap;
use std::fmt;

const KIND: &str = "行政区划代码";

crate::coded! {
    #[derive(PartialOrd, Ord, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum DivisionLevel ("区划级别") {
        Province = ("province", "省级"),
        City = ("city", "地级"),
        County = ("county", "县级"),
        Town = ("town", "乡级"),
        Village = ("village", "村级"),
    }
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode(String);

/// Province-level codes of GB/T 2260 with their names.
const PROVINCES: &[(&str, &str)] = &[
    ("11", "北京市"),
    ("12", "天津市"),
    ("13", "河北省"),
    ("14", "山西省"),
    ("15", "内蒙古自治区"),
    ("21", "辽宁省"),
    ("22", "吉林省"),
    ("23", "黑龙江省"),
    ("31", "上海市"),
    ("32", "江苏省"),
    ("33", "浙江省"),
    ("34", "安徽省"),
    ("35", "福建省"),
    ("36", "江西省"),
    ("37", "山东省"),
    ("41", "河南省"),
    ("42", "湖北省"),
    ("43", "湖南省"),
    ("44", "广东省"),
    ("45", "广西壮族自治区"),
    ("46", "海南省"),
    ("50", "重庆市"),
    ("51", "四川省"),
    ("52", "贵州省"),
    ("53", "云南省"),
    ("54", "西藏自治区"),
    ("61", "陕西省"),
    ("62", "甘肃省"),
    ("63", "青海省"),
    ("64", "宁夏回族自治区"),
    ("65", "新疆维吾尔自治区"),
    ("71", "台湾省"),
    ("81", "香港特别行政区"),
    ("82", "澳门特别行政区"),
];

/// Anhui and its prefecture-level cities, and Bozhou down to county level (GB/T 2260).
const BUILTIN: &[(&str, &str)] = &[
    ("340000", "安徽省"),
    ("340100", "合肥市"),
    ("340200", "芜湖市"),
    ("340300", "蚌埠市"),
    ("340400", "淮南市"),
    ("340500", "马鞍山市"),
    ("340600", "淮北市"),
    ("340700", "铜陵市"),
    ("340800", "安庆市"),
    ("341000", "黄山市"),
    ("341100", "滁州市"),
    ("341200", "阜阳市"),
    ("341300", "宿州市"),
    ("341500", "六安市"),
    ("341600", "亳州市"),
    ("341700", "池州市"),
    ("341800", "宣城市"),
    ("341601", "市辖区"),
    ("341602", "谯城区"),
    ("341621", "涡阳县"),
    ("341622", "蒙城县"),
    ("341623", "利辛县"),
];

pub fn province_name(two_digits: &str) -> Option<&'static str> {
    PROVINCES.iter().find(|(c, _)| *c == two_digits).map(|(_, n)| *n)
}

/// The built-in table (Anhui, its cities, Bozhou's counties) as `DivisionInfo`s.
pub fn builtin_divisions() -> Vec<DivisionInfo> {
    BUILTIN.iter().map(|(c, n)| DivisionInfo { code: DivisionCode((*c).to_string()), name: (*n).to_string() }).collect()
}

impl DivisionCode {
    /// Checks the form of a code: 6, 9 or 12 digits with a known province. Whether the code
    /// exists is a question for a [`DivisionRegistry`].
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = normalize_ascii(input);
        if s.is_empty() {
            return Err(IdError::Empty { kind: KIND });
        }
        if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(IdError::InvalidChar {
                kind: KIND,
                position: i + 1,
                found: describe_char(c),
                rule: "只能是数字",
            });
        }
        if ![6, 9, 12].contains(&s.len()) {
            return Err(IdError::Length {
                kind: KIND,
                expected: "6（省市县）、9（乡镇街道）或12（村社区）",
                actual: s.len(),
            });
        }
        if province_name(&s[0..2]).is_none() {
            return Err(IdError::InvalidPart {
                kind: KIND,
                positions: "1–2",
                what: "省级代码",
                detail: format!("“{}”不是有效的省级代码", &s[0..2]),
            });
        }
        if &s[2..4] == "00" && &s[4..6] != "00" {
            return Err(IdError::InvalidPart {
                kind: KIND,
                positions: "3–4",
                what: "地级代码",
                detail: "县级代码不能挂在“00”地级代码下".to_string(),
            });
        }
        if s.len() > 6 && &s[4..6] == "00" {
            return Err(IdError::InvalidPart {
                kind: KIND,
                positions: "5–6",
                what: "县级代码",
                detail: "乡镇代码必须挂在县级区划下".to_string(),
            });
        }
        if s.len() == 12 && &s[6..9] == "000" {
            return Err(IdError::InvalidPart {
                kind: KIND,
                positions: "7–9",
                what: "乡级代码",
                detail: "村级代码必须挂在乡镇街道下".to_string(),
            });
        }
        Ok(DivisionCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> DivisionLevel {
        match self.0.len() {
            9 => DivisionLevel::Town,
            12 => DivisionLevel::Village,
            _ if &self.0[2..6] == "0000" => DivisionLevel::Province,
            _ if &self.0[4..6] == "00" => DivisionLevel::City,
            _ => DivisionLevel::County,
        }
    }

    /// The division this one belongs to; `None` for a province. A county's parent is its city
    /// (341602 → 341600), a town's its county, a village's its town.
    pub fn parent(&self) -> Option<DivisionCode> {
        let s = &self.0;
        let p = match self.level() {
            DivisionLevel::Province => return None,
            DivisionLevel::City => format!("{}0000", &s[0..2]),
            DivisionLevel::County => format!("{}00", &s[0..4]),
            DivisionLevel::Town => s[0..6].to_string(),
            DivisionLevel::Village => s[0..9].to_string(),
        };
        Some(DivisionCode(p))
    }

    /// The prefix every descendant's code starts with, used for data-scope filters:
    /// 341600 → "3416", 341602 → "341602", 340000 → "34".
    pub fn scope_prefix(&self) -> &str {
        match self.level() {
            DivisionLevel::Province => &self.0[0..2],
            DivisionLevel::City => &self.0[0..4],
            _ => &self.0,
        }
    }

    /// True if `other` is this division or lies inside it.
    pub fn contains(&self, other: &DivisionCode) -> bool {
        other.0.starts_with(self.scope_prefix())
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DivisionCode({})", self.0)
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        DivisionCode::parse(&value)
    }
}

impl From<DivisionCode> for String {
    fn from(value: DivisionCode) -> Self {
        value.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DivisionInfo {
    pub code: DivisionCode,
    pub name: String,
}

/// The divisions a deployment knows: the built-in table plus towns and villages from config.
#[derive(Debug, Clone, Default)]
pub struct DivisionRegistry {
    by_code: BTreeMap<DivisionCode, String>,
}

impl DivisionRegistry {
    pub fn with_builtin() -> Self {
        let mut r = DivisionRegistry::default();
        for d in builtin_divisions() {
            r.by_code.insert(d.code, d.name);
        }
        r
    }

    /// Adds a division; its parent must already be known so the tree has no holes.
    pub fn add(&mut self, code: DivisionCode, name: String) -> Result<(), IdError> {
        if let Some(parent) = code.parent()
            && !self.by_code.contains_key(&parent)
        {
            return Err(IdError::Other(format!("行政区划代码 {code} 的上级 {parent} 不在区划表中")));
        }
        self.by_code.insert(code, name);
        Ok(())
    }

    /// Parses and checks that the code exists in this deployment.
    pub fn lookup(&self, input: &str) -> Result<DivisionCode, IdError> {
        let code = DivisionCode::parse(input)?;
        if self.by_code.contains_key(&code) {
            Ok(code)
        } else {
            Err(IdError::Other(format!("行政区划代码 {code} 不在本系统的区划表中")))
        }
    }

    pub fn name(&self, code: &DivisionCode) -> Option<&str> {
        self.by_code.get(code).map(String::as_str)
    }

    /// Full name from the province down, e.g. 安徽省亳州市谯城区古井镇.
    pub fn full_name(&self, code: &DivisionCode) -> String {
        let mut parts = vec![];
        let mut cur = Some(code.clone());
        while let Some(c) = cur {
            if let Some(n) = self.by_code.get(&c)
                && n != "市辖区"
            {
                parts.push(n.clone());
            }
            cur = c.parent();
        }
        parts.reverse();
        parts.concat()
    }

    pub fn children(&self, code: &DivisionCode) -> Vec<DivisionInfo> {
        self.by_code
            .iter()
            .filter(|(c, _)| c.parent().as_ref() == Some(code))
            .map(|(c, n)| DivisionInfo { code: c.clone(), name: n.clone() })
            .collect()
    }

    pub fn all(&self) -> impl Iterator<Item = DivisionInfo> + '_ {
        self.by_code.iter().map(|(c, n)| DivisionInfo { code: c.clone(), name: n.clone() })
    }

    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_parents() {
        let d = |s| DivisionCode::parse(s).unwrap();
        assert_eq!(d("340000").level(), DivisionLevel::Province);
        assert_eq!(d("341600").level(), DivisionLevel::City);
        assert_eq!(d("341602").level(), DivisionLevel::County);
        assert_eq!(d("341602100").level(), DivisionLevel::Town);
        assert_eq!(d("341602100001").level(), DivisionLevel::Village);
        assert_eq!(d("341602").parent(), Some(d("341600")));
        assert_eq!(d("341600").parent(), Some(d("340000")));
        assert_eq!(d("341602100").parent(), Some(d("341602")));
        assert!(d("341600").contains(&d("341602100")));
        assert!(!d("341602").contains(&d("341621100")));
        assert_eq!(d("341600").scope_prefix(), "3416");
    }

    #[test]
    fn precise_messages() {
        assert_eq!(DivisionCode::parse("3416O2").unwrap_err().to_string(), "行政区划代码第5位字符“O”无效：只能是数字");
        assert!(DivisionCode::parse("34160").unwrap_err().to_string().contains("实际为5位"));
        assert!(DivisionCode::parse("991600").unwrap_err().to_string().contains("省级代码"));
        assert!(DivisionCode::parse("340021").unwrap_err().to_string().contains("地级代码"));
    }

    #[test]
    fn registry_knows_bozhou() {
        let mut r = DivisionRegistry::with_builtin();
        r.add(DivisionCode::parse("341602100").unwrap(), "古井镇".into()).unwrap();
        let code = r.lookup("341602100").unwrap();
        assert_eq!(r.full_name(&code), "安徽省亳州市谯城区古井镇");
        assert!(r.lookup("341699").unwrap_err().to_string().contains("不在本系统的区划表中"));
        let err = r.add(DivisionCode::parse("341688100").unwrap(), "无".into()).unwrap_err();
        assert!(err.to_string().contains("上级 341688"));
        let counties = r.children(&DivisionCode::parse("341600").unwrap());
        assert_eq!(counties.len(), 5);
    }
}
