//! Engines as data: facts schemas first, then the workflows, reasons, indicators and scores
//! that refer to them and to the departments and roles.

use super::{ConfigSource, DepartmentDef, RoleDef};
use domain::config::ConfigError;
use domain::expr::Schema;
use domain::rules::Indicator;
use domain::scoring::ScoreDef;
use domain::workflow::{DefContext, Reason, WorkflowDef};
use std::collections::BTreeMap;

pub(super) struct Engines {
    pub schemas: BTreeMap<String, Schema>,
    pub workflows: Vec<WorkflowDef>,
    pub reasons: Vec<Reason>,
    pub indicators: Vec<Indicator>,
    pub scores: Vec<ScoreDef>,
}

fn collect<T>(errors: &mut Vec<ConfigError>, r: Result<T, ConfigError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

pub(super) fn load(
    source: &ConfigSource,
    departments: &[DepartmentDef],
    roles: &[RoleDef],
    errors: &mut Vec<ConfigError>,
) -> Engines {
    // Engines as data: facts schemas first, then what refers to them.
    let mut schemas = BTreeMap::new();
    for name in source.list("schemas", ".toml") {
        let rel = format!("schemas/{name}");
        if let Some(text) = collect(errors, source.require(&rel)) {
            match Schema::from_toml(&source.display_path(&rel), &text) {
                Ok(s) => {
                    if schemas.contains_key(&s.subject) {
                        errors.push(ConfigError::new(
                            &source.display_path(&rel),
                            Some(1),
                            "subject",
                            format!("事实定义“{}”重复", s.subject),
                        ));
                    }
                    schemas.insert(s.subject.clone(), s);
                }
                Err(e) => errors.push(e),
            }
        }
    }
    let dept_codes: Vec<String> = departments.iter().map(|d| d.code.clone()).collect();
    let role_codes: Vec<String> = roles.iter().map(|r| r.code.clone()).collect();
    let mut reasons = vec![];
    if let Some(Some(text)) = collect(errors, source.read("workflows/reasons.toml")) {
        match domain::workflow::parse_reasons(&source.display_path("workflows/reasons.toml"), &text) {
            Ok(r) => reasons = r,
            Err(e) => errors.push(e),
        }
    }
    let mut workflows: Vec<WorkflowDef> = vec![];
    for name in source.list("workflows", ".toml").into_iter().filter(|n| n != "reasons.toml") {
        let rel = format!("workflows/{name}");
        if let Some(text) = collect(errors, source.require(&rel)) {
            let cx = DefContext { schemas: &schemas, departments: &dept_codes, roles: &role_codes };
            match domain::workflow::parse(&source.display_path(&rel), &text, &cx) {
                Ok(w) => {
                    if workflows.iter().any(|x| x.id == w.id) {
                        errors.push(ConfigError::new(
                            &source.display_path(&rel),
                            None,
                            "id",
                            format!("流程“{}”重复", w.id),
                        ));
                    }
                    workflows.push(w);
                }
                Err(mut es) => errors.append(&mut es),
            }
        }
    }
    if !workflows.is_empty() && reasons.is_empty() {
        errors.push(ConfigError::new(
            &source.display_path("workflows/reasons.toml"),
            None,
            "reason",
            "有流程定义时需要驳回理由目录",
        ));
    }
    let mut indicator_files: Vec<String> =
        source.list("indicators", ".toml").into_iter().map(|n| format!("indicators/{n}")).collect();
    for dir in source.subdirs() {
        if source.list(&dir, ".toml").iter().any(|n| n == "indicators.toml") {
            indicator_files.push(format!("{dir}/indicators.toml"));
        }
    }
    let mut indicators: Vec<Indicator> = vec![];
    for rel in indicator_files {
        if let Some(text) = collect(errors, source.require(&rel)) {
            match domain::rules::parse(&source.display_path(&rel), &text, &schemas, &role_codes) {
                Ok(list) => {
                    for i in list {
                        if indicators.iter().any(|x| x.id == i.id) {
                            errors.push(ConfigError::new(
                                &source.display_path(&rel),
                                None,
                                "id",
                                format!("指标“{}”重复", i.id),
                            ));
                        }
                        indicators.push(i);
                    }
                }
                Err(mut es) => errors.append(&mut es),
            }
        }
    }
    // Notices addressed to a department must name one that exists, and every indicator needs a
    // department to issue its documents (告知函, 整改通知单 are issued by a department).
    for i in &indicators {
        match i.issuing_department() {
            Some(d) if !departments.iter().any(|x| x.code == d) => errors.push(ConfigError::new(
                "indicators",
                None,
                format!("indicator[{}].issuer", i.id),
                format!("部门代码“{d}”未在 departments.toml 中定义"),
            )),
            None => errors.push(ConfigError::new(
                "indicators",
                None,
                format!("indicator[{}].issuer", i.id),
                "请用 issuer 指定出具告知函、整改通知单的部门（或在 notify 中指定部门）",
            )),
            _ => {}
        }
        for n in &i.notify {
            if let Some(d) = &n.department
                && !departments.iter().any(|x| &x.code == d)
            {
                errors.push(ConfigError::new(
                    "indicators",
                    None,
                    format!("indicator[{}].notify.department", i.id),
                    format!("部门代码“{d}”未在 departments.toml 中定义"),
                ));
            }
        }
    }
    let mut scores: Vec<ScoreDef> = vec![];
    for name in source.list("scores", ".toml") {
        let rel = format!("scores/{name}");
        if let Some(text) = collect(errors, source.require(&rel)) {
            match domain::scoring::parse(&source.display_path(&rel), &text) {
                Ok(list) => {
                    for sc in list {
                        if !schemas.contains_key(&sc.subject) {
                            errors.push(ConfigError::new(
                                &source.display_path(&rel),
                                None,
                                "subject",
                                format!("没有名为“{}”的事实定义", sc.subject),
                            ));
                        }
                        scores.push(sc);
                    }
                }
                Err(mut es) => errors.append(&mut es),
            }
        }
    }

    Engines { schemas, workflows, reasons, indicators, scores }
}
