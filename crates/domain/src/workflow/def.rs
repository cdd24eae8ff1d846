//! Workflow definitions (流程定义) read from TOML and checked against the rest of the
//! configuration: departments, roles, the subject's facts schema and the reason catalog.

use super::clock::{Sla, SlaUnit};
use crate::config::{ConfigError, line_of};
use crate::expr::{Expr, Schema, compile_condition};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use toml::Spanned;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutAction {
    /// 超时默认: the step counts as approved.
    DeemedApproved,
    /// The task goes to a named role, with a notice.
    Escalate,
    /// A notice only; the task stays open.
    Notify,
    /// The application is rejected.
    AutoReject,
}

impl TimeoutAction {
    pub fn label(self) -> &'static str {
        match self {
            TimeoutAction::DeemedApproved => "超时默认同意",
            TimeoutAction::Escalate => "超时上报",
            TimeoutAction::Notify => "超时提醒",
            TimeoutAction::AutoReject => "超时自动驳回",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectPolicy {
    /// One department's rejection ends the application at once; the others stop.
    RejectAtOnce,
    /// Every department decides; the application is rejected after the join if any rejected.
    AfterAll,
}

/// Who acts on a task: a department (by its config code) and a role within it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActorSpec {
    pub department: String,
    pub role: String,
}

#[derive(Debug, Clone)]
pub enum Target {
    Step(String),
    End,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub when: Option<Expr>,
    pub to: Target,
}

#[derive(Debug, Clone)]
pub enum StepKind {
    Task { actor: ActorSpec, sla: Sla, on_timeout: TimeoutAction, escalate_to: Option<String> },
    Parallel { branches: Vec<String>, on_reject: RejectPolicy },
}

#[derive(Debug, Clone)]
pub struct StepDef {
    pub id: String,
    pub name: String,
    pub kind: StepKind,
    /// Empty for parallel branches (they return to their parallel step).
    pub next: Vec<Route>,
    /// The window's acceptance (受理): approving it confirms which of the definition's
    /// materials were received, and every one must be received or tolerated (容缺) — otherwise
    /// the application is returned with a one-time notice (行政许可法 art. 32 ¶1(4)).
    pub check_materials: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Material {
    pub id: String,
    pub name: String,
    /// May be supplied after acceptance under a written commitment (容缺); core materials
    /// never are.
    pub deferrable: bool,
}

#[derive(Debug, Clone)]
pub struct WorkflowDef {
    pub id: String,
    pub name: String,
    pub version: u32,
    pub subject: Option<String>,
    pub start: String,
    pub materials: Vec<Material>,
    pub steps: Vec<StepDef>,
}

impl WorkflowDef {
    pub fn step(&self, id: &str) -> Option<&StepDef> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The parallel step a branch belongs to.
    pub fn parent_of(&self, branch: &str) -> Option<&StepDef> {
        self.steps
            .iter()
            .find(|s| matches!(&s.kind, StepKind::Parallel { branches, .. } if branches.iter().any(|b| b == branch)))
    }

    pub fn material(&self, id: &str) -> Option<&Material> {
        self.materials.iter().find(|m| m.id == id)
    }
}

/// A rejection reason from the catalog (驳回理由).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Reason {
    pub code: String,
    pub text: String,
}

/// The rest of the configuration a definition refers to.
pub struct DefContext<'a> {
    pub schemas: &'a BTreeMap<String, Schema>,
    pub departments: &'a [String],
    pub roles: &'a [String],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDef {
    id: String,
    name: String,
    #[serde(default = "one")]
    version: u32,
    subject: Option<Spanned<String>>,
    start: Spanned<String>,
    #[serde(default)]
    material: Vec<Material>,
    step: Vec<RawStep>,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    name: String,
    department: Option<Spanned<String>>,
    role: Option<Spanned<String>>,
    sla: Option<Spanned<BTreeMap<String, u32>>>,
    on_timeout: Option<Spanned<String>>,
    escalate_to: Option<Spanned<String>>,
    parallel: Option<Spanned<Vec<String>>>,
    on_reject: Option<Spanned<String>>,
    next: Option<Spanned<RawNext>>,
    #[serde(default)]
    check_materials: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawNext {
    One(String),
    Routes(Vec<RawRoute>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    when: Option<String>,
    to: String,
}

impl<'de> Deserialize<'de> for Material {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct M {
            id: String,
            name: String,
            #[serde(default)]
            deferrable: bool,
        }
        let m = M::deserialize(d)?;
        Ok(Material { id: m.id, name: m.name, deferrable: m.deferrable })
    }
}

/// Parses and validates one definition; every problem found is returned.
pub fn parse(file: &str, text: &str, cx: &DefContext) -> Result<WorkflowDef, Vec<ConfigError>> {
    let raw: RawDef = crate::config::parse_toml(file, text).map_err(|e| vec![e])?;
    let mut errors = vec![];
    let at = |sp: std::ops::Range<usize>| Some(line_of(text, sp.start));
    let schema = match &raw.subject {
        Some(s) => match cx.schemas.get(s.get_ref()) {
            Some(sc) => Some(sc),
            None => {
                errors.push(ConfigError::new(
                    file,
                    at(s.span()),
                    "subject",
                    format!("没有名为“{}”的事实定义（config/schemas/）", s.get_ref()),
                ));
                None
            }
        },
        None => None,
    };
    let ids: Vec<String> = raw.step.iter().map(|s| s.id.get_ref().clone()).collect();
    let mut seen = HashSet::new();
    let mut steps = vec![];
    for (i, s) in raw.step.iter().enumerate() {
        let field = |f: &str| format!("step[{i}].{f}");
        if !seen.insert(s.id.get_ref().clone()) || s.id.get_ref() == "end" {
            errors.push(ConfigError::new(
                file,
                at(s.id.span()),
                field("id"),
                format!("步骤“{}”重复或使用了保留名 end", s.id.get_ref()),
            ));
        }
        let kind = if let Some(branches) = &s.parallel {
            for b in branches.get_ref() {
                if !ids.contains(b) {
                    errors.push(ConfigError::new(
                        file,
                        at(branches.span()),
                        field("parallel"),
                        format!("并联分支“{b}”不是已定义的步骤"),
                    ));
                }
            }
            if branches.get_ref().len() < 2 {
                errors.push(ConfigError::new(file, at(branches.span()), field("parallel"), "并联步骤至少需要两个分支"));
            }
            let on_reject = match s.on_reject.as_ref().map(|r| r.get_ref().as_str()) {
                None | Some("reject_at_once") => RejectPolicy::RejectAtOnce,
                Some("after_all") => RejectPolicy::AfterAll,
                Some(other) => {
                    let sp = s.on_reject.as_ref().map(|r| r.span()).unwrap_or(0..0);
                    errors.push(ConfigError::new(
                        file,
                        at(sp),
                        field("on_reject"),
                        format!("“{other}”无效，应为 reject_at_once 或 after_all"),
                    ));
                    RejectPolicy::RejectAtOnce
                }
            };
            StepKind::Parallel { branches: branches.get_ref().clone(), on_reject }
        } else {
            let dept = match &s.department {
                Some(d) if cx.departments.contains(d.get_ref()) => d.get_ref().clone(),
                Some(d) => {
                    errors.push(ConfigError::new(
                        file,
                        at(d.span()),
                        field("department"),
                        format!("部门“{}”未在 departments.toml 中定义", d.get_ref()),
                    ));
                    String::new()
                }
                None => {
                    errors.push(ConfigError::new(
                        file,
                        at(s.id.span()),
                        field("department"),
                        "办理步骤需要 department",
                    ));
                    String::new()
                }
            };
            let role = match &s.role {
                Some(r) if cx.roles.contains(r.get_ref()) => r.get_ref().clone(),
                Some(r) => {
                    errors.push(ConfigError::new(
                        file,
                        at(r.span()),
                        field("role"),
                        format!("角色“{}”未在 roles.toml 中定义", r.get_ref()),
                    ));
                    String::new()
                }
                None => {
                    errors.push(ConfigError::new(file, at(s.id.span()), field("role"), "办理步骤需要 role"));
                    String::new()
                }
            };
            let sla = match &s.sla {
                Some(sp) => {
                    let m = sp.get_ref();
                    let unit = match (m.len(), m.keys().next().map(String::as_str)) {
                        (1, Some("working_days")) => Some(SlaUnit::WorkingDays),
                        (1, Some("working_hours")) => Some(SlaUnit::WorkingHours),
                        (1, Some("hours")) => Some(SlaUnit::Hours),
                        _ => None,
                    };
                    match (unit, m.values().next()) {
                        (Some(unit), Some(&amount)) if amount > 0 => Sla { amount, unit },
                        _ => {
                            errors.push(ConfigError::new(
                                file,
                                at(sp.span()),
                                field("sla"),
                                "时限应写成 { working_days = 5 }、{ working_hours = 4 } 或 { hours = 24 }，且大于0",
                            ));
                            Sla { amount: 1, unit: SlaUnit::WorkingDays }
                        }
                    }
                }
                None => {
                    errors.push(ConfigError::new(file, at(s.id.span()), field("sla"), "办理步骤需要时限 sla"));
                    Sla { amount: 1, unit: SlaUnit::WorkingDays }
                }
            };
            let on_timeout = match s.on_timeout.as_ref().map(|t| t.get_ref().as_str()) {
                None | Some("notify") => TimeoutAction::Notify,
                Some("deemed_approved") => TimeoutAction::DeemedApproved,
                Some("escalate") => TimeoutAction::Escalate,
                Some("auto_reject") => TimeoutAction::AutoReject,
                Some(other) => {
                    let sp = s.on_timeout.as_ref().map(|r| r.span()).unwrap_or(0..0);
                    errors.push(ConfigError::new(
                        file,
                        at(sp),
                        field("on_timeout"),
                        format!("“{other}”无效，应为 deemed_approved、escalate、notify 或 auto_reject"),
                    ));
                    TimeoutAction::Notify
                }
            };
            let escalate_to = match (&s.escalate_to, on_timeout) {
                (Some(r), _) if !cx.roles.contains(r.get_ref()) => {
                    errors.push(ConfigError::new(
                        file,
                        at(r.span()),
                        field("escalate_to"),
                        format!("角色“{}”未在 roles.toml 中定义", r.get_ref()),
                    ));
                    None
                }
                (None, TimeoutAction::Escalate) => {
                    errors.push(ConfigError::new(
                        file,
                        at(s.id.span()),
                        field("escalate_to"),
                        "超时上报（escalate）需要指定上报角色 escalate_to",
                    ));
                    None
                }
                (r, _) => r.as_ref().map(|r| r.get_ref().clone()),
            };
            StepKind::Task { actor: ActorSpec { department: dept, role }, sla, on_timeout, escalate_to }
        };
        let mut next = vec![];
        if let Some(n) = &s.next {
            let routes: Vec<(Option<&str>, &str)> = match n.get_ref() {
                RawNext::One(to) => vec![(None, to.as_str())],
                RawNext::Routes(rs) => rs.iter().map(|r| (r.when.as_deref(), r.to.as_str())).collect(),
            };
            for (j, (when, to)) in routes.iter().enumerate() {
                let target = if *to == "end" {
                    Target::End
                } else if ids.iter().any(|x| x == to) {
                    Target::Step(to.to_string())
                } else {
                    errors.push(ConfigError::new(
                        file,
                        at(n.span()),
                        field(&format!("next[{j}].to")),
                        format!("下一步“{to}”不是已定义的步骤（结束请写 end）"),
                    ));
                    Target::End
                };
                let when = match (when, schema) {
                    (None, _) => None,
                    (Some(w), Some(sc)) => match compile_condition(w, sc) {
                        Ok(e) => Some(e),
                        Err(e) => {
                            errors.push(ConfigError::new(
                                file,
                                at(n.span()),
                                field(&format!("next[{j}].when")),
                                e.to_string(),
                            ));
                            None
                        }
                    },
                    (Some(_), None) => {
                        errors.push(ConfigError::new(
                            file,
                            at(n.span()),
                            field(&format!("next[{j}].when")),
                            "按条件分流需要在流程中声明 subject（事实定义）",
                        ));
                        None
                    }
                };
                next.push(Route { when, to: target });
            }
            if next.iter().rev().skip(1).any(|r| r.when.is_none()) {
                errors.push(ConfigError::new(
                    file,
                    at(n.span()),
                    field("next"),
                    "无条件的去向只能放在最后（作为默认）",
                ));
            }
            let conditional = matches!(n.get_ref(), RawNext::Routes(rs) if rs.iter().any(|r| r.when.is_some()));
            if conditional && matches!(n.get_ref(), RawNext::Routes(rs) if rs.last().is_some_and(|r| r.when.is_some()))
            {
                errors.push(ConfigError::new(
                    file,
                    at(n.span()),
                    field("next"),
                    "按条件分流时，最后一项应为无条件的默认去向",
                ));
            }
        }
        steps.push(StepDef {
            id: s.id.get_ref().clone(),
            name: s.name.clone(),
            kind,
            next,
            check_materials: s.check_materials,
        });
    }
    let def = WorkflowDef {
        id: raw.id,
        name: raw.name,
        version: raw.version,
        subject: raw.subject.map(Spanned::into_inner),
        start: raw.start.get_ref().clone(),
        materials: raw.material,
        steps,
    };
    if def.step(&def.start).is_none() {
        errors.push(ConfigError::new(file, at(raw.start.span()), "start", format!("起始步骤“{}”未定义", def.start)));
    }
    let lines: HashMap<&str, usize> =
        raw.step.iter().map(|s| (s.id.get_ref().as_str(), line_of(text, s.id.span().start))).collect();
    check_graph(&def, file, &lines, &mut errors);
    if errors.is_empty() { Ok(def) } else { Err(errors) }
}

/// Branches are reached only through their parallel step and have no `next`; every other step
/// has a way on; the graph has no cycle (a loop would never finish).
fn check_graph(def: &WorkflowDef, file: &str, lines: &HashMap<&str, usize>, errors: &mut Vec<ConfigError>) {
    // Graph errors point at the `id` line of the step they concern.
    let at = |id: &str| lines.get(id).copied();
    let mut branch_ids = HashSet::new();
    for s in &def.steps {
        if let StepKind::Parallel { branches, .. } = &s.kind {
            for b in branches {
                if !branch_ids.insert(b.clone()) {
                    errors.push(ConfigError::new(
                        file,
                        at(&s.id),
                        format!("step[{}].parallel", s.id),
                        format!("分支“{b}”属于多个并联步骤"),
                    ));
                }
                if let Some(bs) = def.step(b) {
                    if matches!(bs.kind, StepKind::Parallel { .. }) {
                        errors.push(ConfigError::new(file, at(b), format!("step[{b}]"), "并联分支不能再嵌套并联"));
                    }
                    if !bs.next.is_empty() {
                        errors.push(ConfigError::new(
                            file,
                            at(b),
                            format!("step[{b}].next"),
                            "并联分支办完后回到并联步骤，不能设置 next",
                        ));
                    }
                }
            }
        }
    }
    for s in &def.steps {
        if !branch_ids.contains(&s.id) && s.next.is_empty() {
            errors.push(ConfigError::new(
                file,
                at(&s.id),
                format!("step[{}].next", s.id),
                "需要下一步 next（结束请写 end）",
            ));
        }
        for r in &s.next {
            if let Target::Step(t) = &r.to
                && branch_ids.contains(t)
            {
                errors.push(ConfigError::new(
                    file,
                    at(&s.id),
                    format!("step[{}].next", s.id),
                    format!("不能直接转到并联分支“{t}”"),
                ));
            }
        }
    }
    if branch_ids.contains(&def.start) {
        errors.push(ConfigError::new(file, at(&def.start), "start", "起始步骤不能是并联分支"));
    }
    // Depth-first search for a cycle among the main steps.
    fn visit<'a>(
        def: &'a WorkflowDef,
        id: &'a str,
        stack: &mut Vec<&'a str>,
        done: &mut HashSet<&'a str>,
    ) -> Option<(String, &'a str)> {
        if stack.contains(&id) {
            // The step whose `next` closes the loop is the one to fix.
            return Some((format!("{} → {id}", stack.join(" → ")), stack[stack.len() - 1]));
        }
        if done.contains(id) {
            return None;
        }
        stack.push(id);
        if let Some(s) = def.step(id) {
            for r in &s.next {
                if let Target::Step(t) = &r.to
                    && let Some(c) = visit(def, t, stack, done)
                {
                    return Some(c);
                }
            }
        }
        stack.pop();
        done.insert(id);
        None
    }
    if let Some((cycle, closing)) = visit(def, &def.start, &mut vec![], &mut HashSet::new()) {
        errors.push(ConfigError::new(
            file,
            at(closing),
            format!("step[{closing}].next"),
            format!("流程中有循环：{cycle}"),
        ));
    }
}

/// Parses the reason catalog `config/workflows/reasons.toml`.
pub fn parse_reasons(file: &str, text: &str) -> Result<Vec<Reason>, ConfigError> {
    #[derive(Deserialize)]
    struct F {
        reason: Vec<Reason>,
    }
    let f: F = crate::config::parse_toml(file, text)?;
    let mut seen = HashSet::new();
    for r in &f.reason {
        if !seen.insert(r.code.clone()) {
            return Err(ConfigError::new(file, None, "reason.code", format!("理由代码“{}”重复", r.code)));
        }
    }
    Ok(f.reason)
}
