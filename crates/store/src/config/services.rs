//! 一键申报 catalogs in `config/services/`: the data-exchange interfaces (`exchange.toml`), the
//! license types (`licenses.toml`) and the service items (`items/*.toml`). Each item also
//! becomes a workflow definition `svc.{code}` (one review step at its department, SLA = the
//! promised time limit in working days), parsed by the same checker as hand-written ones.

use super::{ConfigSource, DepartmentDef};
use domain::config::ConfigError;
use domain::workflow::{DefContext, WorkflowDef};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// Identified by USCC (统一社会信用代码).
    Enterprise,
    /// Identified by ID number (公民身份号码).
    Person,
}

impl Subject {
    pub fn label(self) -> &'static str {
        match self {
            Subject::Enterprise => "企业",
            Subject::Person => "个人",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyLabel {
    pub key: String,
    pub label: String,
}

/// A data interface (数据接口) of another department or level.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    pub code: String,
    pub name: String,
    pub owner: String,
    #[serde(default)]
    pub level: String,
    pub subject: Subject,
    pub callers: Vec<String>,
    pub purposes: Vec<String>,
    pub fields: Vec<KeyLabel>,
}

impl Interface {
    pub fn may_call(&self, department: &str) -> bool {
        self.callers.iter().any(|c| c == "*" || c == department)
    }

    pub fn field(&self, key: &str) -> Option<&KeyLabel> {
        self.fields.iter().find(|f| f.key == key)
    }
}

/// A license type (证照类型), metadata after GB/T 36901.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseType {
    pub code: String,
    pub name: String,
    pub issuer: String,
    pub holder: Subject,
    /// 0 = 长期有效.
    pub valid_years: u32,
    /// 照面信息: item field keys printed on the license.
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialKind {
    /// 表单开发类: a declared form the applicant fills (prefilled where a source is named).
    Form,
    /// 数据调取类: fields retrieved from the exchange, not typed.
    Data,
    /// 四电 (e-license): satisfied by a license the applicant holds.
    License,
    /// A file the applicant must still upload.
    Upload,
}

impl MaterialKind {
    pub fn label(self) -> &'static str {
        match self {
            MaterialKind::Form => "表单",
            MaterialKind::Data => "数据调取",
            MaterialKind::License => "电子证照",
            MaterialKind::Upload => "上传",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    #[default]
    Text,
    Number,
    Date,
    Phone,
    Uscc,
    Idcard,
    Select,
    /// A statement the applicant ticks: a commitment (承诺书) or an authorisation.
    Consent,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    pub key: String,
    pub label: String,
    #[serde(default, rename = "type")]
    pub ty: FieldType,
    /// `interface.field`: where the value is prefilled from and checked against.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

impl FormField {
    /// (interface code, field key) of the source.
    pub fn source(&self) -> Option<(&str, &str)> {
        self.source.as_deref().and_then(|s| s.rsplit_once('.'))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemMaterial {
    pub id: String,
    pub name: String,
    pub kind: MaterialKind,
    #[serde(default)]
    pub fields: Vec<FormField>,
    #[serde(default)]
    pub license: Option<String>,
}

/// A service item (事项).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub code: String,
    pub name: String,
    pub department: String,
    /// 事项类型: 行政许可, 行政确认, 公共服务 …
    #[serde(rename = "type")]
    pub kind: String,
    pub subject: Subject,
    /// 法定办结时限 and 承诺办结时限, working days.
    pub legal_days: u32,
    pub promised_days: u32,
    /// The result is an e-license of this type …
    #[serde(default)]
    pub result_license: Option<String>,
    /// … or a document sealed with the department's e-seal.
    #[serde(default)]
    pub result_document: Option<String>,
    #[serde(rename = "material")]
    pub materials: Vec<ItemMaterial>,
}

impl Item {
    /// 一键申报: no material needs an upload.
    pub fn one_click(&self) -> bool {
        self.materials.iter().all(|m| m.kind != MaterialKind::Upload)
    }

    pub fn workflow_id(&self) -> String {
        format!("svc.{}", self.code)
    }

    pub fn fields(&self) -> impl Iterator<Item = (&ItemMaterial, &FormField)> {
        self.materials.iter().flat_map(|m| m.fields.iter().map(move |f| (m, f)))
    }

    pub fn material(&self, id: &str) -> Option<&ItemMaterial> {
        self.materials.iter().find(|m| m.id == id)
    }

    pub fn result_name<'a>(&'a self, s: &'a Services) -> &'a str {
        match (&self.result_license, &self.result_document) {
            (Some(l), _) => s.license_type(l).map(|t| t.name.as_str()).unwrap_or(l),
            (None, Some(d)) => d,
            (None, None) => "",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Services {
    pub interfaces: Vec<Interface>,
    pub license_types: Vec<LicenseType>,
    pub items: Vec<Item>,
}

impl Services {
    pub fn interface(&self, code: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.code == code)
    }

    pub fn license_type(&self, code: &str) -> Option<&LicenseType> {
        self.license_types.iter().find(|t| t.code == code)
    }

    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.code == code)
    }
}

fn parse<T: serde::de::DeserializeOwned>(source: &ConfigSource, rel: &str, errors: &mut Vec<ConfigError>) -> Option<T> {
    let text = match source.read(rel) {
        Ok(Some(t)) => t,
        Ok(None) => return None,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    domain::config::parse_toml(&source.display_path(rel), &text).map_err(|e| errors.push(e)).ok()
}

/// Loads and cross-checks the catalogs; returns them and the items' workflow definitions.
pub(super) fn load(
    source: &ConfigSource,
    departments: &[DepartmentDef],
    cx: &DefContext,
    errors: &mut Vec<ConfigError>,
) -> (Services, Vec<WorkflowDef>) {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Ex {
        #[serde(default)]
        interface: Vec<Interface>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Lic {
        #[serde(default)]
        license_type: Vec<LicenseType>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Items {
        #[serde(default)]
        item: Vec<Item>,
    }
    let mut s = Services::default();
    if let Some(e) = parse::<Ex>(source, "services/exchange.toml", errors) {
        s.interfaces = e.interface;
    }
    if let Some(l) = parse::<Lic>(source, "services/licenses.toml", errors) {
        s.license_types = l.license_type;
    }
    let mut item_files = vec![];
    for name in source.list("services/items", ".toml") {
        let rel = format!("services/items/{name}");
        if let Some(i) = parse::<Items>(source, &rel, errors) {
            for it in i.item {
                item_files.push(source.display_path(&rel));
                s.items.push(it);
            }
        }
    }
    let dept = |c: &str| departments.iter().any(|d| d.code == c);
    let ex_file = source.display_path("services/exchange.toml");
    let lic_file = source.display_path("services/licenses.toml");
    let mut found = vec![];
    let mut bad = |file: &str, field: String, msg: String| found.push(ConfigError::new(file, None, field, msg));

    for (n, i) in s.interfaces.iter().enumerate() {
        let f = |x: &str| format!("interface[{n}].{x}");
        if s.interfaces.iter().filter(|x| x.code == i.code).count() > 1 {
            bad(&ex_file, f("code"), format!("接口代码“{}”重复", i.code));
        }
        if !dept(&i.owner) {
            bad(&ex_file, f("owner"), format!("部门代码“{}”未在 departments.toml 中定义", i.owner));
        }
        for c in i.callers.iter().filter(|c| *c != "*" && !dept(c)) {
            bad(&ex_file, f("callers"), format!("部门代码“{c}”未在 departments.toml 中定义"));
        }
        if i.fields.is_empty() || i.purposes.is_empty() {
            bad(&ex_file, f("fields"), "接口至少需要一个字段和一个调用用途".into());
        }
    }
    for (n, t) in s.license_types.iter().enumerate() {
        let f = |x: &str| format!("license_type[{n}].{x}");
        if s.license_types.iter().filter(|x| x.code == t.code).count() > 1 {
            bad(&lic_file, f("code"), format!("证照类型代码“{}”重复", t.code));
        }
        if !dept(&t.issuer) {
            bad(&lic_file, f("issuer"), format!("部门代码“{}”未在 departments.toml 中定义", t.issuer));
        }
    }
    let (mut workflows, mut parse_errors) = (vec![], vec![]);
    for (n, it) in s.items.iter().enumerate() {
        let file = &item_files[n];
        let f = |x: &str| format!("item[{}].{x}", it.code);
        if s.items.iter().filter(|x| x.code == it.code).count() > 1 {
            bad(file, f("code"), format!("事项编码“{}”重复", it.code));
        }
        if !dept(&it.department) {
            bad(file, f("department"), format!("部门代码“{}”未在 departments.toml 中定义", it.department));
        }
        if it.promised_days == 0 || it.promised_days > it.legal_days {
            bad(file, f("promised_days"), "承诺时限应至少 1 个工作日，且不超过法定时限".into());
        }
        let keys: Vec<&str> = it.fields().map(|(_, x)| x.key.as_str()).collect();
        match (&it.result_license, &it.result_document) {
            (Some(l), None) => match s.license_type(l) {
                None => bad(file, f("result_license"), format!("证照类型“{l}”未在 licenses.toml 中定义")),
                Some(t) => {
                    if t.issuer != it.department {
                        bad(file, f("result_license"), format!("“{}”由 {} 签发，与事项部门不符", t.name, t.issuer));
                    }
                    if t.holder != it.subject {
                        bad(file, f("result_license"), format!("“{}”的持证主体与事项对象不符", t.name));
                    }
                    for k in t.fields.iter().filter(|k| !keys.contains(&k.as_str())) {
                        bad(file, f("result_license"), format!("照面信息“{k}”在事项的表单或调取字段中找不到"));
                    }
                }
            },
            (None, Some(d)) if !d.trim().is_empty() => {}
            _ => bad(file, f("result_license"), "请填写 result_license 或 result_document 之一".into()),
        }
        if it.materials.is_empty() {
            bad(file, f("material"), "事项至少需要一项材料".into());
        }
        for (k, key) in keys.iter().enumerate() {
            if keys[..k].contains(key) {
                bad(file, f("material.fields"), format!("字段“{key}”在事项中重复"));
            }
        }
        for m in &it.materials {
            let mf = |x: &str| format!("item[{}].material[{}].{x}", it.code, m.id);
            if it.materials.iter().filter(|x| x.id == m.id).count() > 1 {
                bad(file, mf("id"), "材料编号重复".into());
            }
            match m.kind {
                MaterialKind::License => match m.license.as_deref().and_then(|l| s.license_type(l)) {
                    None => bad(file, mf("license"), "电子证照材料须指明 licenses.toml 中的证照类型".into()),
                    Some(t) if t.holder != it.subject => {
                        bad(file, mf("license"), format!("“{}”的持证主体与事项对象不符", t.name))
                    }
                    Some(_) => {}
                },
                MaterialKind::Form | MaterialKind::Data if m.fields.is_empty() => {
                    bad(file, mf("fields"), "表单或数据调取材料至少需要一个字段".into())
                }
                _ => {}
            }
            for x in &m.fields {
                if m.kind == MaterialKind::Data && x.source.is_none() {
                    bad(file, mf("fields"), format!("数据调取字段“{}”须指明 source", x.key));
                }
                if x.ty == FieldType::Select && x.options.is_empty() {
                    bad(file, mf("fields"), format!("选择字段“{}”须列出 options", x.key));
                }
                if let Some(src) = &x.source {
                    let ok = x.source().and_then(|(i, k)| s.interface(i).map(|i| (i, k)));
                    match ok {
                        Some((i, k)) if i.field(k).is_some() => {
                            if i.subject != it.subject {
                                bad(file, mf("fields"), format!("“{src}”的数据主体与事项对象不符"));
                            }
                        }
                        _ => bad(file, mf("fields"), format!("来源“{src}”不是 exchange.toml 中的接口字段")),
                    }
                }
            }
        }
        // The item's workflow, written as TOML so the usual checker validates it.
        let mut w = format!("id = {:?}\nname = {:?}\nversion = 1\nstart = \"review\"\n", it.workflow_id(), it.name);
        for m in &it.materials {
            w.push_str(&format!("[[material]]\nid = {:?}\nname = {:?}\n", m.id, m.name));
        }
        w.push_str(&format!(
            "[[step]]\nid = \"review\"\nname = \"审核办理\"\ndepartment = {:?}\nrole = \"dept_staff\"\nsla = {{ working_days = {} }}\non_timeout = \"notify\"\nnext = \"end\"\n",
            it.department, it.promised_days
        ));
        match domain::workflow::parse(file, &w, cx) {
            Ok(d) => workflows.push(d),
            Err(mut es) => parse_errors.append(&mut es),
        }
    }
    errors.extend(found);
    errors.extend(parse_errors);
    (s, workflows)
}
