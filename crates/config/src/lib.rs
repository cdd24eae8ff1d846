//! Loading and validating the city configuration under `config/`.
//!
//! Every problem found is reported with file, line and field, and all problems are collected
//! before giving up, so one run of `yingshang check-config` lists everything to fix.

use domain::auth::{PERMISSIONS, ScopeKind, UserKind};
use domain::calendar::HolidayTable;
use domain::config::{ConfigError, line_of, parse_toml};
use domain::demo::TownInput;
use domain::expr::Schema;
use domain::ids::{DivisionCode, DivisionRegistry};
use domain::rules::Indicator;
use domain::scoring::ScoreDef;
use domain::workflow::{Reason, WorkflowDef};
use include_dir::{Dir, include_dir};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use toml::Spanned;

pub mod boundaries;
mod city;
mod engines;
mod grids;
pub mod services;
mod supervision;

pub use city::{City, SecurityConfig};
use grids::parse_grids;
pub use supervision::{LeaveArea, LeavePreset, MapTiles, Supervision};

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../config");

/// Where configuration comes from: a directory, or the copy built into the binary.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    Dir(PathBuf),
    Embedded,
}

impl ConfigSource {
    /// `explicit` if given, else `./config` if it exists, else the built-in copy.
    pub fn locate(explicit: Option<&Path>) -> ConfigSource {
        match explicit {
            Some(p) => ConfigSource::Dir(p.to_path_buf()),
            None if Path::new("config/city.toml").is_file() => ConfigSource::Dir(PathBuf::from("config")),
            None => ConfigSource::Embedded,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ConfigSource::Dir(p) => p.display().to_string(),
            ConfigSource::Embedded => "内置配置（编译时的 config/）".to_string(),
        }
    }

    fn display_path(&self, rel: &str) -> String {
        match self {
            ConfigSource::Dir(p) => p.join(rel).display().to_string(),
            ConfigSource::Embedded => format!("config/{rel}"),
        }
    }

    fn read(&self, rel: &str) -> Result<Option<String>, ConfigError> {
        match self {
            ConfigSource::Dir(p) => match std::fs::read_to_string(p.join(rel)) {
                Ok(s) => Ok(Some(s)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(ConfigError::new(&self.display_path(rel), None, "", format!("无法读取：{e}"))),
            },
            ConfigSource::Embedded => Ok(EMBEDDED.get_file(rel).and_then(|f| f.contents_utf8()).map(str::to_string)),
        }
    }

    fn require(&self, rel: &str) -> Result<String, ConfigError> {
        self.read(rel)?.ok_or_else(|| ConfigError::new(&self.display_path(rel), None, "", "文件不存在"))
    }

    /// Names of the sub-directories of the configuration root, sorted.
    fn subdirs(&self) -> Vec<String> {
        let mut names: Vec<String> = match self {
            ConfigSource::Dir(p) => std::fs::read_dir(p)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                        .map(|e| e.file_name().to_string_lossy().to_string())
                        .collect()
                })
                .unwrap_or_default(),
            ConfigSource::Embedded => {
                EMBEDDED.dirs().filter_map(|d| d.path().file_name().map(|n| n.to_string_lossy().to_string())).collect()
            }
        };
        names.sort();
        names
    }

    /// File names (not paths) in a sub-directory with the given extension, sorted.
    fn list(&self, rel_dir: &str, ext: &str) -> Vec<String> {
        let mut names: Vec<String> = match self {
            ConfigSource::Dir(p) => std::fs::read_dir(p.join(rel_dir))
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().to_string())
                        .filter(|n| n.ends_with(ext))
                        .collect()
                })
                .unwrap_or_default(),
            ConfigSource::Embedded => EMBEDDED
                .get_dir(rel_dir)
                .map(|d| {
                    d.files()
                        .filter_map(|f| f.path().file_name().map(|n| n.to_string_lossy().to_string()))
                        .filter(|n| n.ends_with(ext))
                        .collect()
                })
                .unwrap_or_default(),
        };
        names.sort();
        names
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentDef {
    pub code: String,
    pub name: String,
    pub short_name: String,
    pub kind: String,
    pub division_code: DivisionCode,
    /// 发文机关代字 in document numbers (亳人社 → 亳人社监整〔2026〕1号); empty: the short name.
    pub doc_prefix: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDef {
    pub code: String,
    pub name: String,
    pub description: String,
    pub scope: ScopeKind,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub login: Option<String>,
    pub kind: UserKind,
    pub name: Option<String>,
    pub roles: Vec<String>,
    pub department: Option<String>,
    pub division: Option<DivisionCode>,
    pub grid: Option<String>,
}

/// A grid (网格) from `config/grids/*.geojson`: an official management area with its shape.
#[derive(Debug, Clone)]
pub struct GridDef {
    pub code: String,
    pub name: String,
    /// The town (9 digits) or community (12 digits) the grid belongs to.
    pub division_code: DivisionCode,
    /// Converted to WGS-84.
    pub ring: domain::geo::Ring,
    pub datum: domain::geo::Datum,
    /// The geometry as supplied, when its datum was not WGS-84.
    pub original: Option<String>,
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub password: String,
    pub seed: u64,
    pub scale: u32,
    pub accounts: Vec<DemoAccount>,
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct CityConfig {
    pub source: String,
    pub city: City,
    pub divisions: DivisionRegistry,
    pub towns: Vec<TownInput>,
    /// Division boundaries for the fence map (`divisions/boundaries.geojson`, optional).
    pub boundaries: Vec<boundaries::Boundary>,
    pub grids: Vec<GridDef>,
    pub departments: Vec<DepartmentDef>,
    pub roles: Vec<RoleDef>,
    pub holidays: Vec<HolidayTable>,
    pub demo: DemoConfig,
    /// Facts schemas by subject (config/schemas/*.toml).
    pub schemas: BTreeMap<String, Schema>,
    /// The current definition of each workflow.
    pub workflows: Vec<WorkflowDef>,
    /// Earlier versions of definitions replaced while running (service items edited on the
    /// web), for the applications started under them.
    pub workflow_history: Vec<WorkflowDef>,
    pub reasons: Vec<Reason>,
    pub indicators: Vec<Indicator>,
    pub scores: Vec<ScoreDef>,
    /// 外出请假 destinations (config/supervision/leave_presets.toml).
    pub leave_presets: Vec<LeavePreset>,
    /// 一键申报 catalogs (config/services/).
    pub services: services::Services,
}

impl CityConfig {
    pub fn leave_preset(&self, id: &str) -> Option<&LeavePreset> {
        self.leave_presets.iter().find(|p| p.id == id)
    }

    pub fn workflow(&self, id: &str) -> Option<&WorkflowDef> {
        self.workflows.iter().find(|w| w.id == id)
    }

    /// The definition an application started under; the current one when that version is not
    /// kept (a hand-written definition whose file has since changed).
    pub fn workflow_at(&self, id: &str, version: u32) -> Option<&WorkflowDef> {
        self.workflow_history.iter().find(|w| w.id == id && w.version == version).or_else(|| self.workflow(id))
    }

    /// This configuration with a new service item (version 1, made on the web), or what is
    /// wrong with it.
    pub fn with_new_item(&self, item: services::Item) -> Result<CityConfig, Vec<services::ItemProblem>> {
        let mut next = self.clone();
        next.put_new_item(item)?;
        Ok(next)
    }

    /// This configuration with `item` as the current version of its service item (and its
    /// workflow definition), the replaced ones kept as history; or what is wrong with it.
    pub fn with_item(&self, item: services::Item) -> Result<CityConfig, Vec<services::ItemProblem>> {
        let mut next = self.clone();
        next.put_item(item)?;
        Ok(next)
    }

    /// [`with_new_item`](Self::with_new_item) in place: the code must be new (never used by
    /// any version) and well formed. Nothing changes when it fails.
    pub fn put_new_item(&mut self, item: services::Item) -> Result<(), Vec<services::ItemProblem>> {
        let problem = |message: String| services::ItemProblem { material: None, field: None, attr: "code", message };
        let code_ok = !item.code.is_empty()
            && item.code.len() <= 40
            && item
                .code
                .split('-')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        if !code_ok {
            return Err(vec![problem("事项编码由大写字母和数字组成，可用连字符分段，如 SCJG-XK-101".into())]);
        }
        let s = &self.services;
        if s.items.iter().chain(&s.history).any(|i| i.code == item.code) {
            return Err(vec![problem(format!("事项编码“{}”已被使用", item.code))]);
        }
        let def = self.item_def(&item)?;
        self.services.items.push(item);
        self.workflows.push(def);
        Ok(())
    }

    /// [`with_item`](Self::with_item) in place. Nothing changes when it fails.
    pub fn put_item(&mut self, item: services::Item) -> Result<(), Vec<services::ItemProblem>> {
        let Some(pos) = self.services.items.iter().position(|i| i.code == item.code) else {
            return Err(vec![services::ItemProblem {
                material: None,
                field: None,
                attr: "code",
                message: format!("没有事项“{}”", item.code),
            }]);
        };
        let def = self.item_def(&item)?;
        let old = std::mem::replace(&mut self.services.items[pos], item);
        self.services.history.push(old);
        match self.workflows.iter().position(|w| w.id == def.id) {
            Some(w) => {
                let old = std::mem::replace(&mut self.workflows[w], def);
                self.workflow_history.push(old);
            }
            None => self.workflows.push(def),
        }
        Ok(())
    }

    /// What is wrong with an item (an existing one's next version), without building a
    /// configuration.
    pub fn item_problems(&self, item: &services::Item) -> Vec<services::ItemProblem> {
        self.item_def(item).err().unwrap_or_default()
    }

    /// Checks an item against this configuration and builds its workflow definition.
    fn item_def(&self, item: &services::Item) -> Result<WorkflowDef, Vec<services::ItemProblem>> {
        let dept = |c: &str| self.departments.iter().any(|d| d.code == c);
        let problems = services::check_item(&self.services, &dept, item);
        if !problems.is_empty() {
            return Err(problems);
        }
        let dept_codes: Vec<String> = self.departments.iter().map(|d| d.code.clone()).collect();
        let role_codes: Vec<String> = self.roles.iter().map(|r| r.code.clone()).collect();
        let cx = domain::workflow::DefContext { schemas: &self.schemas, departments: &dept_codes, roles: &role_codes };
        services::item_workflow("事项目录", item, &cx).map_err(|es| {
            es.into_iter()
                .map(|e| services::ItemProblem { material: None, field: None, attr: "code", message: e.to_string() })
                .collect()
        })
    }

    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }

    pub fn score(&self, id: &str) -> Option<&ScoreDef> {
        self.scores.iter().find(|s| s.id == id)
    }
}

#[derive(Deserialize)]
struct RawDepartments {
    #[serde(default)]
    department: Vec<RawDepartment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDepartment {
    code: Spanned<String>,
    name: String,
    short_name: String,
    kind: Spanned<String>,
    division_code: Spanned<String>,
    #[serde(default)]
    doc_prefix: String,
}

#[derive(Deserialize)]
struct RawRoles {
    #[serde(default)]
    role: Vec<RawRole>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    code: Spanned<String>,
    name: String,
    #[serde(default)]
    description: String,
    scope: Spanned<String>,
    permissions: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDemo {
    password: String,
    seed: u64,
    scale: u32,
    #[serde(default)]
    account: Vec<RawAccount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    login: Option<String>,
    kind: Option<Spanned<String>>,
    name: Option<String>,
    roles: Vec<Spanned<String>>,
    department: Option<Spanned<String>>,
    division: Option<Spanned<String>>,
    grid: Option<String>,
}

pub const DEPARTMENT_KINDS: &[(&str, &str)] = &[
    ("government", "人民政府"),
    ("bureau", "政府工作部门"),
    ("police", "公安机关"),
    ("procuratorate", "检察院"),
    ("court", "法院"),
    ("tax", "税务机关"),
];

struct Ctx<'a> {
    errors: Vec<ConfigError>,
    file: String,
    text: &'a str,
}

impl Ctx<'_> {
    fn err<T>(&mut self, span: &Spanned<T>, field: String, message: impl Into<String>) {
        let line = Some(line_of(self.text, span.span().start));
        self.errors.push(ConfigError::new(&self.file, line, field, message));
    }
}

/// `Some(value)`, or `None` with the error collected.
macro_rules! collect {
    ($errors:expr, $e:expr) => {
        match $e {
            Ok(v) => Some(v),
            Err(e) => {
                $errors.push(e);
                None
            }
        }
    };
}

/// Loads and validates everything. Returns every error found, not just the first.
pub fn load(source: &ConfigSource) -> Result<CityConfig, Vec<ConfigError>> {
    let mut errors = vec![];
    macro_rules! try_or_collect {
        ($e:expr) => {
            match $e {
                Ok(v) => Some(v),
                Err(e) => {
                    errors.push(e);
                    None
                }
            }
        };
    }

    let (divisions, towns) = load_divisions(source, &mut errors);

    let grids = load_grids(source, &divisions, &mut errors);

    let boundaries = match collect!(errors, source.read("divisions/boundaries.geojson")).flatten() {
        Some(text) => {
            boundaries::parse(&source.display_path("divisions/boundaries.geojson"), &text, &divisions, &mut errors)
        }
        None => vec![],
    };

    let city = try_or_collect!(source.require("city.toml"))
        .and_then(|text| city::parse(source, &text, &divisions, &towns, &mut errors));

    let departments = load_departments(source, &divisions, &mut errors);

    let roles = load_roles(source, &mut errors);

    let holidays = load_holidays(source, &mut errors);

    let demo = load_demo(source, &divisions, &departments, &roles, &mut errors);

    let engines::Engines { schemas, mut workflows, reasons, indicators, scores } =
        engines::load(source, &departments, &roles, &mut errors);
    let dept_codes: Vec<String> = departments.iter().map(|d| d.code.clone()).collect();
    let role_codes: Vec<String> = roles.iter().map(|r| r.code.clone()).collect();
    let cx = domain::workflow::DefContext { schemas: &schemas, departments: &dept_codes, roles: &role_codes };
    let (services, item_flows) = services::load(source, &departments, &cx, &mut errors);
    workflows.extend(item_flows);
    let leave_presets = supervision::load_leave_presets(source, &mut errors);

    match (city, demo) {
        (Some(city), Some(demo)) if errors.is_empty() => Ok(CityConfig {
            source: source.describe(),
            city,
            divisions,
            towns,
            boundaries,
            grids,
            departments,
            roles,
            holidays,
            demo,
            schemas,
            workflows,
            workflow_history: vec![],
            reasons,
            indicators,
            scores,
            leave_presets,
            services,
        }),
        _ => {
            if errors.is_empty() {
                errors.push(ConfigError::new(&source.describe(), None, "", "配置不完整"));
            }
            Err(errors)
        }
    }
}

/// The built-in division table plus the towns (and optional communities) from CSV.
fn load_divisions(source: &ConfigSource, errors: &mut Vec<ConfigError>) -> (DivisionRegistry, Vec<TownInput>) {
    // Divisions: built-in table plus towns from CSV.
    let mut divisions = DivisionRegistry::with_builtin();
    let mut towns = vec![];
    if let Some(text) = collect!(errors, source.require("divisions/towns.csv")) {
        let file = source.display_path("divisions/towns.csv");
        let mut rdr = csv::ReaderBuilder::new().comment(Some(b'#')).from_reader(text.as_bytes());
        for (i, rec) in rdr.records().enumerate() {
            let line = rec.as_ref().ok().and_then(|r| r.position()).map(|p| p.line() as usize).or(Some(i + 3));
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    errors.push(ConfigError::new(&file, line, "", format!("CSV 格式错误：{e}")));
                    continue;
                }
            };
            let (code, name) = (rec.get(2).unwrap_or(""), rec.get(3).unwrap_or("").trim());
            match DivisionCode::parse(code) {
                Ok(c) if c.level() == domain::ids::DivisionLevel::Town => {
                    if name.is_empty() {
                        errors.push(ConfigError::new(&file, line, "township_name", "名称不能为空"));
                    } else if let Err(e) = divisions.add(c.clone(), name.to_string()) {
                        errors.push(ConfigError::new(&file, line, "township_code", e.to_string()));
                    } else {
                        towns.push(TownInput { code: c, name: name.to_string() });
                    }
                }
                Ok(_) => errors.push(ConfigError::new(&file, line, "township_code", "应为9位乡级代码")),
                Err(e) => errors.push(ConfigError::new(&file, line, "township_code", e.to_string())),
            }
        }
    }

    // Communities (村/社区, 12-digit codes), optional.
    if let Some(Some(text)) = collect!(errors, source.read("divisions/communities.csv")) {
        let file = source.display_path("divisions/communities.csv");
        let mut rdr = csv::ReaderBuilder::new().comment(Some(b'#')).from_reader(text.as_bytes());
        for rec in rdr.records() {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    errors.push(ConfigError::new(
                        &file,
                        e.position().map(|p| p.line() as usize),
                        "",
                        format!("CSV 格式错误：{e}"),
                    ));
                    continue;
                }
            };
            let line = rec.position().map(|p| p.line() as usize);
            let (code, name) = (rec.get(1).unwrap_or(""), rec.get(2).unwrap_or("").trim());
            match DivisionCode::parse(code) {
                Ok(c) if c.level() == domain::ids::DivisionLevel::Village && !name.is_empty() => {
                    if let Err(e) = divisions.add(c, name.to_string()) {
                        errors.push(ConfigError::new(&file, line, "community_code", e.to_string()));
                    }
                }
                Ok(_) => {
                    errors.push(ConfigError::new(&file, line, "community_code", "应为12位村级代码，且名称不能为空"))
                }
                Err(e) => errors.push(ConfigError::new(&file, line, "community_code", e.to_string())),
            }
        }
    }
    (divisions, towns)
}

/// Grids from `grids/*.geojson`, codes unique.
fn load_grids(source: &ConfigSource, divisions: &DivisionRegistry, errors: &mut Vec<ConfigError>) -> Vec<GridDef> {
    let mut grids = vec![];
    let mut grid_codes = HashSet::new();
    for name in source.list("grids", ".geojson") {
        let rel = format!("grids/{name}");
        if let Some(text) = collect!(errors, source.require(&rel)) {
            let file = source.display_path(&rel);
            match parse_grids(&file, &text, divisions) {
                Ok(list) => {
                    for g in list {
                        if !grid_codes.insert(g.code.clone()) {
                            errors.push(ConfigError::new(
                                &file,
                                None,
                                "properties.code",
                                format!("网格编码“{}”重复", g.code),
                            ));
                        }
                        grids.push(g);
                    }
                }
                Err(mut es) => errors.append(&mut es),
            }
        }
    }
    grids
}

/// Departments from `departments.toml`.
fn load_departments(
    source: &ConfigSource,
    divisions: &DivisionRegistry,
    errors: &mut Vec<ConfigError>,
) -> Vec<DepartmentDef> {
    let mut departments = vec![];
    if let Some(text) = collect!(errors, source.require("departments.toml")) {
        let file = source.display_path("departments.toml");
        match parse_toml::<RawDepartments>(&file, &text) {
            Err(e) => errors.push(e),
            Ok(raw) => {
                let mut ctx = Ctx { errors: vec![], file, text: &text };
                let mut codes = HashSet::new();
                for (i, d) in raw.department.into_iter().enumerate() {
                    if !valid_code(d.code.get_ref()) {
                        ctx.err(&d.code, format!("department[{i}].code"), "代码只能用小写字母、数字和下划线");
                    }
                    if !codes.insert(d.code.get_ref().clone()) {
                        ctx.err(
                            &d.code,
                            format!("department[{i}].code"),
                            format!("部门代码“{}”重复", d.code.get_ref()),
                        );
                    }
                    if !DEPARTMENT_KINDS.iter().any(|(k, _)| k == d.kind.get_ref()) {
                        let kinds: Vec<_> = DEPARTMENT_KINDS.iter().map(|(k, _)| *k).collect();
                        ctx.err(
                            &d.kind,
                            format!("department[{i}].kind"),
                            format!("未知的部门类型，可选：{}", kinds.join("、")),
                        );
                    }
                    match divisions.lookup(d.division_code.get_ref()) {
                        Ok(code) => departments.push(DepartmentDef {
                            code: d.code.into_inner(),
                            name: d.name,
                            short_name: d.short_name,
                            kind: d.kind.into_inner(),
                            division_code: code,
                            doc_prefix: d.doc_prefix,
                        }),
                        Err(e) => ctx.err(&d.division_code, format!("department[{i}].division_code"), e.to_string()),
                    }
                }
                errors.extend(ctx.errors);
            }
        }
    }
    departments
}

/// Roles (templates of permissions with a scope) from `roles.toml`.
fn load_roles(source: &ConfigSource, errors: &mut Vec<ConfigError>) -> Vec<RoleDef> {
    let mut roles = vec![];
    if let Some(text) = collect!(errors, source.require("roles.toml")) {
        let file = source.display_path("roles.toml");
        match parse_toml::<RawRoles>(&file, &text) {
            Err(e) => errors.push(e),
            Ok(raw) => {
                let mut ctx = Ctx { errors: vec![], file, text: &text };
                let mut codes = HashSet::new();
                for (i, r) in raw.role.into_iter().enumerate() {
                    if !valid_code(r.code.get_ref()) {
                        ctx.err(&r.code, format!("role[{i}].code"), "代码只能用小写字母、数字和下划线");
                    }
                    if !codes.insert(r.code.get_ref().clone()) {
                        ctx.err(&r.code, format!("role[{i}].code"), format!("角色代码“{}”重复", r.code.get_ref()));
                    }
                    let scope = ScopeKind::parse(r.scope.get_ref());
                    if scope.is_none() {
                        ctx.err(
                            &r.scope,
                            format!("role[{i}].scope"),
                            "数据范围应为 own、grid、department、division 或 all",
                        );
                    }
                    let mut perms = vec![];
                    for (j, p) in r.permissions.iter().enumerate() {
                        if domain::auth::permission(p.get_ref()).is_none() {
                            let hint = domain::text::closest(p.get_ref(), PERMISSIONS.iter().map(|d| d.code))
                                .map(|c| format!("，是否应为“{c}”？"))
                                .unwrap_or_default();
                            ctx.err(
                                p,
                                format!("role[{i}].permissions[{j}]"),
                                format!("未知权限“{}”{hint}", p.get_ref()),
                            );
                        } else {
                            perms.push(p.get_ref().clone());
                        }
                    }
                    if let Some(scope) = scope {
                        roles.push(RoleDef {
                            code: r.code.into_inner(),
                            name: r.name,
                            description: r.description,
                            scope,
                            permissions: perms,
                        });
                    }
                }
                errors.extend(ctx.errors);
            }
        }
    }
    roles
}

/// Holiday tables from `holidays/<year>.toml`.
fn load_holidays(source: &ConfigSource, errors: &mut Vec<ConfigError>) -> Vec<HolidayTable> {
    let mut holidays = vec![];
    for name in source.list("holidays", ".toml") {
        let rel = format!("holidays/{name}");
        if let Some(text) = collect!(errors, source.require(&rel)) {
            match HolidayTable::parse_toml(&source.display_path(&rel), &text) {
                Ok(t) => {
                    if name.trim_end_matches(".toml") != t.year.to_string() {
                        errors.push(ConfigError::new(
                            &source.display_path(&rel),
                            Some(1),
                            "year",
                            format!("文件名应为 {}.toml", t.year),
                        ));
                    }
                    holidays.push(t);
                }
                Err(e) => errors.push(e),
            }
        }
    }
    holidays
}

/// The demo city (`demo.toml`): password, seed, scale and accounts.
fn load_demo(
    source: &ConfigSource,
    divisions: &DivisionRegistry,
    departments: &[DepartmentDef],
    roles: &[RoleDef],
    errors: &mut Vec<ConfigError>,
) -> Option<DemoConfig> {
    collect!(errors, source.require("demo.toml")).and_then(|text| {
        let file = source.display_path("demo.toml");
        let raw: RawDemo = match parse_toml(&file, &text) {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                return None;
            }
        };
        let mut ctx = Ctx { errors: vec![], file, text: &text };
        if let Err(problems) = domain::auth::password::check_complexity(&raw.password, "") {
            ctx.errors.push(ConfigError::new(&ctx.file.clone(), None, "password", problems.join("；")));
        }
        let mut accounts = vec![];
        for (i, a) in raw.account.into_iter().enumerate() {
            let kind = match &a.kind {
                None => UserKind::Staff,
                Some(k) => match UserKind::parse(k.get_ref()) {
                    Some(kind) => kind,
                    None => {
                        ctx.err(k, format!("account[{i}].kind"), "账号类型应为 staff、enterprise、citizen 或 system");
                        continue;
                    }
                },
            };
            for (j, r) in a.roles.iter().enumerate() {
                if !roles.iter().any(|x: &RoleDef| &x.code == r.get_ref()) {
                    ctx.err(
                        r,
                        format!("account[{i}].roles[{j}]"),
                        format!("角色“{}”未在 roles.toml 中定义", r.get_ref()),
                    );
                }
            }
            if let Some(d) = &a.department
                && !departments.iter().any(|x| &x.code == d.get_ref())
            {
                ctx.err(
                    d,
                    format!("account[{i}].department"),
                    format!("部门“{}”未在 departments.toml 中定义", d.get_ref()),
                );
            }
            let division = match &a.division {
                Some(d) => match divisions.lookup(d.get_ref()) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        ctx.err(d, format!("account[{i}].division"), e.to_string());
                        None
                    }
                },
                None => None,
            };
            if matches!(kind, UserKind::Staff | UserKind::System) && a.login.is_none() {
                ctx.errors.push(ConfigError::new(
                    &ctx.file.clone(),
                    None,
                    format!("account[{i}].login"),
                    "工作人员和对接系统账号需要 login",
                ));
            }
            accounts.push(DemoAccount {
                login: a.login,
                kind,
                name: a.name,
                roles: a.roles.into_iter().map(Spanned::into_inner).collect(),
                department: a.department.map(Spanned::into_inner),
                division,
                grid: a.grid,
            });
        }
        errors.extend(ctx.errors);
        Some(DemoConfig { password: raw.password, seed: raw.seed, scale: raw.scale.max(1), accounts })
    })
}

fn valid_code(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests;
