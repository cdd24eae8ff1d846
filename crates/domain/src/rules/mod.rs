//! Warning rules (预警规则): indicators as data, evaluated over every subject in batch or over
//! one subject on new facts; one open alert per subject and indicator whose level may rise or
//! fall; the alert lifecycle open → acknowledged → disposed (notice issued, rectification
//! deadline) → verified → closed, or escalated when the deadline passes.

use crate::config::{ConfigError, line_of};
use crate::expr::{Batch, EvalContext, Expr, Facts, Schema, Step, compile_condition};
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime};

crate::coded! {
    #[derive(PartialOrd, Ord, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Level ("预警等级") {
        Yellow = ("yellow", "黄色"),
        Orange = ("orange", "橙色"),
        Red = ("red", "红色"),
    }
}

/// Who is told about an alert: a role, within the data scope that contains the subject
/// (e.g. the grid manager of the subject's grid).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySpec {
    pub role: String,
    pub scope: crate::auth::ScopeKind,
    /// Only users of this department (a code from departments.toml), e.g. labor inspection.
    #[serde(default)]
    pub department: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Indicator {
    pub id: String,
    pub name: String,
    pub subject: String,
    /// 法律依据.
    pub basis: String,
    /// 处置建议.
    pub action: String,
    pub notify: Vec<NotifySpec>,
    /// Conditions by level, lowest first; the highest that holds wins.
    pub levels: Vec<(Level, Expr)>,
    /// Working days a rectification order gives by default.
    pub rectify_days: u32,
    /// The role an escalation goes to.
    pub escalate_to: Option<String>,
    /// The department that issues its 告知函 and 整改通知单 (a code from departments.toml);
    /// without it, the first department its notices go to.
    pub issuer: Option<String>,
    /// Why the levels are what they are, where no published level exists (our design choice).
    pub note: String,
}

impl Indicator {
    /// The department that issues the indicator's documents.
    pub fn issuing_department(&self) -> Option<&str> {
        self.issuer.as_deref().or_else(|| self.notify.iter().find_map(|n| n.department.as_deref()))
    }

    /// The highest level that holds for each subject of the batch.
    pub fn evaluate(&self, batch: &Batch, ctx: &EvalContext) -> Vec<Option<Level>> {
        let mut out = vec![None; batch.len()];
        for (level, expr) in &self.levels {
            let t = expr.truth(batch, ctx);
            for (i, slot) in out.iter_mut().enumerate() {
                if t.holds(i) {
                    *slot = Some(*level);
                }
            }
        }
        out
    }

    /// The level for one subject and the facts behind it (shown on the alert).
    pub fn explain(
        &self,
        schema: &Schema,
        facts: &Facts,
        ctx: &EvalContext,
    ) -> Result<(Option<Level>, Vec<Step>), String> {
        let mut level = None;
        let mut steps = vec![];
        for (l, expr) in self.levels.iter().rev() {
            let s = expr.explain(schema, facts, ctx)?;
            let holds = s.last().is_some_and(|st| st.value == crate::expr::Value::Bool(true));
            if holds {
                level = Some(*l);
                steps = s;
                break;
            }
            if steps.is_empty() {
                steps = s;
            }
        }
        Ok((level, steps))
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    indicator: Vec<RawIndicator>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    id: toml::Spanned<String>,
    name: String,
    subject: toml::Spanned<String>,
    basis: String,
    action: String,
    #[serde(default)]
    notify: Vec<NotifySpec>,
    yellow: Option<toml::Spanned<String>>,
    orange: Option<toml::Spanned<String>>,
    red: Option<toml::Spanned<String>>,
    #[serde(default = "ten")]
    rectify_days: u32,
    escalate_to: Option<String>,
    issuer: Option<String>,
    #[serde(default)]
    note: String,
}

fn ten() -> u32 {
    10
}

/// Parses an indicator file, compiling each level's condition against its subject's schema.
pub fn parse(
    file: &str,
    text: &str,
    schemas: &BTreeMap<String, Schema>,
    roles: &[String],
) -> Result<Vec<Indicator>, Vec<ConfigError>> {
    let raw: RawFile = crate::config::parse_toml(file, text).map_err(|e| vec![e])?;
    let mut out = vec![];
    let mut errors = vec![];
    for (i, r) in raw.indicator.into_iter().enumerate() {
        let field = |f: &str| format!("indicator[{i}].{f}");
        let Some(schema) = schemas.get(r.subject.get_ref()) else {
            errors.push(ConfigError::new(
                file,
                Some(line_of(text, r.subject.span().start)),
                field("subject"),
                format!("没有名为“{}”的事实定义（config/schemas/）", r.subject.get_ref()),
            ));
            continue;
        };
        let mut levels = vec![];
        for (level, src) in [(Level::Yellow, &r.yellow), (Level::Orange, &r.orange), (Level::Red, &r.red)] {
            if let Some(s) = src {
                match compile_condition(s.get_ref(), schema) {
                    Ok(e) => levels.push((level, e)),
                    Err(e) => errors.push(ConfigError::new(
                        file,
                        Some(line_of(text, s.span().start)),
                        field(level.as_str()),
                        e.to_string(),
                    )),
                }
            }
        }
        if r.yellow.is_none() && r.orange.is_none() && r.red.is_none() {
            errors.push(ConfigError::new(
                file,
                Some(line_of(text, r.id.span().start)),
                field("red"),
                "至少需要一个级别的条件（yellow / orange / red）",
            ));
        }
        for n in &r.notify {
            if !roles.contains(&n.role) {
                errors.push(ConfigError::new(
                    file,
                    Some(line_of(text, r.id.span().start)),
                    field("notify"),
                    format!("角色“{}”未在 roles.toml 中定义", n.role),
                ));
            }
        }
        out.push(Indicator {
            id: r.id.into_inner(),
            name: r.name,
            subject: r.subject.into_inner(),
            basis: r.basis,
            action: r.action,
            notify: r.notify,
            levels,
            rectify_days: r.rectify_days,
            escalate_to: r.escalate_to,
            issuer: r.issuer,
            note: r.note,
        });
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

crate::coded! {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum AlertStatus ("预警状态") {
        Open = ("open", "待签收"),
        Acknowledged = ("acknowledged", "已签收"),
        Disposed = ("disposed", "整改中"),
        Verified = ("verified", "已核查"),
        Closed = ("closed", "已销号"),
        Escalated = ("escalated", "已上报"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// 告知函.
    NoticeLetter,
    /// 整改通知单.
    RectificationOrder,
}

impl DocKind {
    pub fn label(self) -> &'static str {
        match self {
            DocKind::NoticeLetter => "告知函",
            DocKind::RectificationOrder => "整改通知单",
        }
    }

    pub fn parse(s: &str) -> Option<DocKind> {
        match s {
            "notice_letter" => Some(DocKind::NoticeLetter),
            "rectification_order" => Some(DocKind::RectificationOrder),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlertEvent {
    pub at: OffsetDateTime,
    pub by: String,
    pub action: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Disposal {
    pub kind: DocKind,
    pub number: String,
    pub deadline: Date,
    pub text: String,
}

/// The state of one alert (subject × indicator).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Alert {
    pub level: Level,
    pub status: AlertStatus,
    /// The condition no longer holds (the alert stays until verified and closed).
    pub cleared: bool,
    pub disposal: Option<Disposal>,
    pub events: Vec<AlertEvent>,
}

/// What an evaluation means for the subject × indicator pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// Nothing to do.
    Same,
    /// A new alert opens at this level.
    Open(Level),
    /// The open alert's level changes.
    Change { from: Level, to: Level },
    /// The condition no longer holds; the open alert is marked cleared.
    Cleared,
    /// It holds again after being cleared (same level).
    Recurred(Level),
}

/// Deduplication: given the current non-closed alert (if any) and the level that now holds
/// (if any), what changes. One open alert per subject and indicator, whatever the order of
/// the facts that arrive.
pub fn observe(current: Option<&Alert>, level: Option<Level>) -> Observation {
    match (current, level) {
        (None, None) => Observation::Same,
        (None, Some(l)) => Observation::Open(l),
        (Some(a), None) if a.cleared => Observation::Same,
        (Some(_), None) => Observation::Cleared,
        (Some(a), Some(l)) if a.level != l => Observation::Change { from: a.level, to: l },
        (Some(a), Some(l)) if a.cleared => Observation::Recurred(l),
        (Some(_), Some(_)) => Observation::Same,
    }
}

impl Alert {
    pub fn open(level: Level, now: OffsetDateTime, facts: String) -> Alert {
        Alert {
            level,
            status: AlertStatus::Open,
            cleared: false,
            disposal: None,
            events: vec![AlertEvent {
                at: now,
                by: "系统".into(),
                action: "open".into(),
                note: format!("{}预警：{facts}", level.label()),
            }],
        }
    }

    /// Applies an observation to this (non-closed) alert.
    pub fn apply_observation(&mut self, obs: &Observation, now: OffsetDateTime, facts: &str) {
        let ev = |action: &str, note: String| AlertEvent { at: now, by: "系统".into(), action: action.into(), note };
        match obs {
            Observation::Change { from, to } => {
                let word = if to > from { "升级" } else { "降级" };
                self.events.push(ev("level", format!("{}{word}为{}：{facts}", from.label(), to.label())));
                self.level = *to;
                self.cleared = false;
            }
            Observation::Cleared => {
                self.cleared = true;
                self.events.push(ev("cleared", "预警条件已不再成立，待核查后销号".into()));
            }
            Observation::Recurred(l) => {
                self.cleared = false;
                self.events.push(ev("recurred", format!("{}预警条件再次成立：{facts}", l.label())));
            }
            Observation::Same | Observation::Open(_) => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AlertAction {
    Acknowledge,
    Dispose {
        kind: DocKind,
        number: String,
        deadline: Date,
        text: String,
    },
    Verify {
        passed: bool,
        note: String,
    },
    Close {
        note: String,
    },
    /// The rectification deadline passed without a verification.
    DeadlinePassed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AlertError(pub String);

impl Alert {
    pub fn act(&self, action: &AlertAction, by: &str, now: OffsetDateTime) -> Result<Alert, AlertError> {
        use AlertStatus::*;
        let mut a = self.clone();
        let bad = |what: &str| Err(AlertError(format!("预警当前为“{}”，不能{what}", self.status.label())));
        let (status, act, note) = match action {
            AlertAction::Acknowledge => match self.status {
                Open | Escalated => (Acknowledged, "acknowledge", "签收".to_string()),
                _ => return bad("签收"),
            },
            AlertAction::Dispose { kind, number, deadline, text } => match self.status {
                Open | Acknowledged | Escalated => {
                    if *deadline <= crate::clock::local(now).date() {
                        return Err(AlertError("整改期限应晚于今天".into()));
                    }
                    if text.trim().is_empty() {
                        return Err(AlertError(format!("请填写{}的内容", kind.label())));
                    }
                    a.disposal = Some(Disposal {
                        kind: *kind,
                        number: number.clone(),
                        deadline: *deadline,
                        text: text.trim().into(),
                    });
                    (Disposed, "dispose", format!("发出{}（{number}），整改期限 {deadline}", kind.label()))
                }
                _ => return bad("处置"),
            },
            // An escalated alert is verified once the rectification is done after all.
            AlertAction::Verify { passed, note } => match self.status {
                Disposed | Escalated if self.disposal.is_some() => {
                    if note.trim().is_empty() {
                        return Err(AlertError("请填写核查情况".into()));
                    }
                    if *passed {
                        (Verified, "verify", format!("核查通过：{}", note.trim()))
                    } else {
                        (Escalated, "verify_failed", format!("核查未通过，上报：{}", note.trim()))
                    }
                }
                _ => return bad("核查"),
            },
            AlertAction::Close { note } => match self.status {
                Verified => (Closed, "close", format!("销号：{}", note.trim())),
                Open | Acknowledged if !note.trim().is_empty() => {
                    (Closed, "close", format!("经核实不需处置，销号：{}", note.trim()))
                }
                Open | Acknowledged => return Err(AlertError("未经处置直接销号须说明理由".into())),
                _ => return bad("销号"),
            },
            AlertAction::DeadlinePassed => match self.status {
                Disposed => (Escalated, "escalate", "整改期限已过，未核查通过，自动上报".to_string()),
                _ => return Ok(self.clone()),
            },
        };
        a.status = status;
        a.events.push(AlertEvent { at: now, by: by.into(), action: act.into(), note });
        Ok(a)
    }
}

#[cfg(test)]
mod tests;

crate::audit_actions! {
    /// The alert engine's actions; a transition is recorded as `alert.<event action>`.
    pub enum AlertAudit {
        Run = ("alerts.run", "评估预警指标"),
        Acknowledge = ("alert.acknowledge", "签收预警"),
        Dispose = ("alert.dispose", "发出整改文书"),
        Verify = ("alert.verify", "核查通过"),
        VerifyFailed = ("alert.verify_failed", "核查未通过"),
        Close = ("alert.close", "预警销号"),
        Escalate = ("alert.escalate", "预警上报"),
        DocumentView = ("alert.document.view", "查看预警处置文书"),
        Export = ("alert.export", "导出预警"),
    }
}

impl AlertAudit {
    /// The action of an alert event (`acknowledge` → `alert.acknowledge`).
    pub fn of_event(action: &str) -> Option<AlertAudit> {
        AlertAudit::from_code(&format!("alert.{action}"))
    }
}

/// Object types of the alert engine's records.
pub const AUDIT_OBJECTS: &[(&str, &str)] = &[("alert", "预警"), ("indicators", "预警指标")];
