//! The 一键申报 catalogue model: data-exchange interfaces, license types and service items
//! with their materials and form fields; the checks of an item, the workflow it becomes and
//! the differences between two versions. Loading the files is the configuration loader's work.

use crate::config::ConfigError;
use crate::workflow::{DefContext, WorkflowDef};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
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
    /// An identity document (居民身份证, 户口簿): never looked up by number alone, since its number
    /// is, or leads to, the holder's ID number (个人信息保护法 art. 28: sensitive).
    #[serde(default)]
    pub identity: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
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
    /// 四电 (e-seal / e-signature): the applicant signs the application with the subject's
    /// key on the platform — an enterprise's e-seal, a person's e-signature.
    Sign,
    /// 四电 (e-archive): satisfied by the subject's archived, approved case of another item.
    Archive,
}

impl MaterialKind {
    pub const ALL: [MaterialKind; 4] =
        [MaterialKind::Form, MaterialKind::Data, MaterialKind::License, MaterialKind::Upload];

    pub fn code(self) -> &'static str {
        match self {
            MaterialKind::Form => "form",
            MaterialKind::Data => "data",
            MaterialKind::License => "license",
            MaterialKind::Upload => "upload",
            MaterialKind::Sign => "sign",
            MaterialKind::Archive => "archive",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            MaterialKind::Form => "表单",
            MaterialKind::Data => "数据调取",
            MaterialKind::License => "电子证照",
            MaterialKind::Upload => "上传",
            MaterialKind::Sign => "电子签章（签名）",
            MaterialKind::Archive => "电子档案",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
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

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
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
    /// A shared-data field whose value rules the item out (列入经营异常名录 = 是 for 简易注销):
    /// such a submission is refused with `refuse_note`, which names the legal basis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refuse: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refuse_note: Option<String>,
    /// A shared-data date that must lie this many days before today, both ends included
    /// (简易注销: the publicity ended, and at most 20 days ago — 市场主体登记管理条例 art. 33
    /// ¶2); outside it the submission is refused with `refuse_note`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_since: Option<[i64; 2]>,
}

impl FieldType {
    pub const ALL: [FieldType; 8] = [
        FieldType::Text,
        FieldType::Number,
        FieldType::Date,
        FieldType::Phone,
        FieldType::Uscc,
        FieldType::Idcard,
        FieldType::Select,
        FieldType::Consent,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::Date => "date",
            FieldType::Phone => "phone",
            FieldType::Uscc => "uscc",
            FieldType::Idcard => "idcard",
            FieldType::Select => "select",
            FieldType::Consent => "consent",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            FieldType::Text => "文本",
            FieldType::Number => "数字",
            FieldType::Date => "日期",
            FieldType::Phone => "手机号码",
            FieldType::Uscc => "统一社会信用代码",
            FieldType::Idcard => "身份证号",
            FieldType::Select => "选择",
            FieldType::Consent => "勾选确认（承诺、授权）",
        }
    }
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

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ItemMaterial {
    pub id: String,
    pub name: String,
    pub kind: MaterialKind,
    #[serde(default)]
    pub fields: Vec<FormField>,
    #[serde(default)]
    pub license: Option<String>,
    /// For an e-archive material: the item whose approved case it takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_item: Option<String>,
    /// May follow after acceptance under the applicant's written commitment (容缺受理);
    /// the materials that decide the application (core ones) never may.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deferrable: bool,
}

/// A service item (事项).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// 1 = as in `config/services/items/`; each edit by an administrator adds one. It is also
    /// the version of the item's workflow definition, which applications record.
    #[serde(skip)]
    pub version: u32,
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
    /// Where the statutory time limit comes from, cited on the item's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    /// The result is an e-license of this type …
    #[serde(default)]
    pub result_license: Option<String>,
    /// … or a document sealed with the department's e-seal.
    #[serde(default)]
    pub result_document: Option<String>,
    /// 免申即享: granted by the department from shared data, never applied for; the item page
    /// says so and takes no application.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub proactive: bool,
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
    /// 失业保险稳岗返还 granted without application, when configured.
    pub stability: Option<super::stability::StabilityPolicy>,
    pub interfaces: Vec<Interface>,
    pub license_types: Vec<LicenseType>,
    /// The current version of each item.
    pub items: Vec<Item>,
    /// Earlier versions of edited items, for the applications made under them.
    pub history: Vec<Item>,
}

impl Services {
    pub fn interface(&self, code: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.code == code)
    }

    /// The Chinese label of a data field key (照面信息 of a license, a form field), from the
    /// interfaces and items that declare it.
    pub fn field_label(&self, key: &str) -> Option<&str> {
        self.interfaces.iter().find_map(|i| i.field(key).map(|f| f.label.as_str())).or_else(|| {
            self.items.iter().find_map(|i| i.fields().find(|(_, f)| f.key == key).map(|(_, f)| f.label.as_str()))
        })
    }

    pub fn license_type(&self, code: &str) -> Option<&LicenseType> {
        self.license_types.iter().find(|t| t.code == code)
    }

    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.code == code)
    }

    /// The item as it was at `version`; the current one when that version is not kept (an
    /// edit that no longer fits the configuration files was skipped at start).
    pub fn item_at(&self, code: &str, version: u32) -> Option<&Item> {
        self.history.iter().find(|i| i.code == code && i.version == version).or_else(|| self.item(code))
    }
}

/// One problem with an item: where (material and field by position) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemProblem {
    pub material: Option<usize>,
    pub field: Option<usize>,
    /// The attribute: `name`, `promised_days`, `result`, `kind`, `license`, `key`, `source` …
    pub attr: &'static str,
    pub message: String,
}

/// Checks one item against the other catalogs and the departments; everything wrong at once.
pub fn check_item(s: &Services, dept: &dyn Fn(&str) -> bool, it: &Item) -> Vec<ItemProblem> {
    let mut out = vec![];
    let mut bad = |material: Option<usize>, field: Option<usize>, attr: &'static str, message: String| {
        out.push(ItemProblem { material, field, attr, message })
    };
    if it.name.trim().is_empty() {
        bad(None, None, "name", "请填写事项名称".into());
    }
    if !dept(&it.department) {
        bad(None, None, "department", format!("部门代码“{}”未在 departments.toml 中定义", it.department));
    }
    if it.legal_days == 0 {
        bad(None, None, "legal_days", "法定时限应至少 1 个工作日".into());
    }
    if it.promised_days == 0 || it.promised_days > it.legal_days {
        bad(None, None, "promised_days", "承诺时限应至少 1 个工作日，且不超过法定时限".into());
    }
    let keys: Vec<&str> = it.fields().map(|(_, x)| x.key.as_str()).collect();
    match (&it.result_license, &it.result_document) {
        (Some(l), None) => match s.license_type(l) {
            None => bad(None, None, "result", format!("证照类型“{l}”未在 licenses.toml 中定义")),
            Some(t) => {
                if t.issuer != it.department {
                    bad(None, None, "result", format!("“{}”由 {} 签发，与事项部门不符", t.name, t.issuer));
                }
                if t.holder != it.subject {
                    bad(None, None, "result", format!("“{}”的持证主体与事项对象不符", t.name));
                }
                for k in t.fields.iter().filter(|k| !keys.contains(&k.as_str())) {
                    bad(None, None, "result", format!("“{}”的照面信息“{k}”在事项的表单或调取字段中找不到", t.name));
                }
            }
        },
        (None, Some(d)) if !d.trim().is_empty() => {}
        _ => bad(None, None, "result", "请选择办理结果：一种电子证照，或填写盖章文书的名称".into()),
    }
    if it.materials.is_empty() {
        bad(None, None, "material", "事项至少需要一项材料".into());
    }
    let mut seen: Vec<&str> = vec![];
    for (mi, m) in it.materials.iter().enumerate() {
        let at = Some(mi);
        if m.name.trim().is_empty() {
            bad(at, None, "name", "请填写材料名称".into());
        }
        if it.materials[..mi].iter().any(|x| x.id == m.id) {
            bad(at, None, "id", format!("材料编号“{}”重复", m.id));
        }
        match m.kind {
            MaterialKind::License => match m.license.as_deref().and_then(|l| s.license_type(l)) {
                None => bad(at, None, "license", format!("“{}”须选择一种证照类型", m.name)),
                Some(t) if t.holder != it.subject => {
                    bad(at, None, "license", format!("“{}”的持证主体与事项对象不符", t.name))
                }
                Some(_) => {}
            },
            MaterialKind::Form | MaterialKind::Data if m.fields.is_empty() => {
                bad(at, None, "fields", format!("“{}”至少需要一个字段", m.name))
            }
            MaterialKind::Archive => match m.archive_item.as_deref().and_then(|c| s.item(c)) {
                None => bad(at, None, "archive_item", format!("“{}”须选择档案来源事项", m.name)),
                Some(a) if a.code == it.code => {
                    bad(at, None, "archive_item", format!("“{}”不能取本事项自己的档案", m.name))
                }
                Some(a) if a.subject != it.subject => {
                    bad(at, None, "archive_item", format!("“{}”的申请对象与本事项不符", a.name))
                }
                Some(_) if !m.fields.is_empty() => {
                    bad(at, None, "fields", format!("“{}”是电子档案材料，不应有字段", m.name))
                }
                Some(_) => {}
            },
            MaterialKind::Upload | MaterialKind::Sign if !m.fields.is_empty() => {
                bad(at, None, "fields", format!("“{}”是{}材料，不应有字段", m.name, m.kind.label()))
            }
            _ => {}
        }
        for (fi, x) in m.fields.iter().enumerate() {
            let f = Some(fi);
            if x.key.is_empty() {
                bad(at, f, "key", format!("请填写字段“{}”的标识", x.label));
            } else if !x.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                bad(at, f, "key", format!("字段标识“{}”只能由小写字母、数字和下划线组成", x.key));
            } else if seen.contains(&x.key.as_str()) {
                bad(at, f, "key", format!("字段“{}”在事项中重复", x.key));
            }
            seen.push(&x.key);
            if x.label.trim().is_empty() {
                bad(at, f, "label", format!("请填写字段“{}”的名称", x.key));
            }
            if m.kind == MaterialKind::Data && x.source.is_none() {
                bad(at, f, "source", format!("数据调取字段“{}”须指明来源接口字段", x.label));
            }
            if x.ty == FieldType::Select && x.options.is_empty() {
                bad(at, f, "options", format!("选择字段“{}”须列出选项", x.label));
            }
            if let Some(src) = &x.source {
                match x.source().and_then(|(i, k)| s.interface(i).map(|i| (i, k))) {
                    Some((i, k)) if i.field(k).is_some() => {
                        if i.subject != it.subject {
                            bad(at, f, "source", format!("“{src}”的数据主体与事项对象不符"));
                        }
                    }
                    _ => bad(at, f, "source", format!("来源“{src}”不是 exchange.toml 中的接口字段")),
                }
            }
        }
    }
    out
}

/// The item's workflow definition `svc.{code}` at the item's version, written as TOML so the
/// usual checker validates it: one review step at the item's department, SLA = the promised
/// working days.
pub fn item_workflow(file: &str, it: &Item, cx: &DefContext) -> Result<WorkflowDef, Vec<ConfigError>> {
    let mut w = format!(
        "id = {:?}\nname = {:?}\nversion = {}\nstart = \"review\"\n",
        it.workflow_id(),
        it.name,
        it.version.max(1)
    );
    for m in &it.materials {
        w.push_str(&format!("[[material]]\nid = {:?}\nname = {:?}\ndeferrable = {}\n", m.id, m.name, m.deferrable));
    }
    w.push_str(&format!(
        "[[step]]\nid = \"review\"\nname = \"审核办理\"\ndepartment = {:?}\nrole = \"dept_staff\"\nsla = {{ working_days = {} }}\non_timeout = \"notify\"\nnext = \"end\"\n",
        it.department, it.promised_days
    ));
    crate::workflow::parse(file, &w, cx)
}

/// What changed from `old` to `new`, one Chinese line per change (for the audit record and
/// the version history).
pub fn changes(old: &Item, new: &Item, s: &Services) -> Vec<String> {
    let mut out = vec![];
    let mut diff = |what: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{what}：{a} → {b}"));
        }
    };
    diff("事项名称", old.name.clone(), new.name.clone());
    diff("事项类型", old.kind.clone(), new.kind.clone());
    diff("法定时限", format!("{} 个工作日", old.legal_days), format!("{} 个工作日", new.legal_days));
    diff("承诺时限", format!("{} 个工作日", old.promised_days), format!("{} 个工作日", new.promised_days));
    diff("办理结果", old.result_name(s).to_string(), new.result_name(s).to_string());
    for m in &old.materials {
        if new.material(&m.id).is_none() {
            out.push(format!("删除材料“{}”", m.name));
        }
    }
    for m in &new.materials {
        let Some(o) = old.material(&m.id) else {
            out.push(format!("增加材料“{}”（{}）", m.name, m.kind.label()));
            continue;
        };
        if o == m {
            continue;
        }
        let mut what = vec![];
        if o.name != m.name {
            what.push(format!("名称改为“{}”", m.name));
        }
        if o.kind != m.kind {
            what.push(format!("类别 {} → {}", o.kind.label(), m.kind.label()));
        }
        if o.license != m.license {
            what.push("证照类型调整".to_string());
        }
        if o.archive_item != m.archive_item {
            what.push("档案来源事项调整".to_string());
        }
        for f in &m.fields {
            match o.fields.iter().find(|x| x.key == f.key) {
                None => what.push(format!("增加字段“{}”", f.label)),
                Some(x) if x != f => what.push(format!("调整字段“{}”", f.label)),
                Some(_) => {}
            }
        }
        for f in o.fields.iter().filter(|x| !m.fields.iter().any(|f| f.key == x.key)) {
            what.push(format!("删除字段“{}”", f.label));
        }
        if what.is_empty() {
            what.push("字段顺序调整".to_string());
        }
        out.push(format!("材料“{}”：{}", o.name, what.join("，")));
    }
    let order = |i: &Item| i.materials.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
    let (a, b) = (order(old), order(new));
    let common_a: Vec<_> = a.iter().filter(|x| b.contains(x)).collect();
    let common_b: Vec<_> = b.iter().filter(|x| a.contains(x)).collect();
    if common_a != common_b {
        out.push("材料顺序调整".to_string());
    }
    out
}
