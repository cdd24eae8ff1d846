//! Chinese names for the codes stored in the audit log, so the auditor reads 登录, not
//! `auth.login`. Each case adds its own through its `case::Case`.

/// The shell's and the shared engines' actions; each case adds its own (`case::Case`).
const SHELL_ACTIONS: &[&[(&str, &str)]] =
    &[domain::audit::CoreAudit::LABELS, domain::workflow::WorkflowAudit::LABELS, domain::rules::AlertAudit::LABELS];

const SHELL_OBJECTS: &[&[(&str, &str)]] =
    &[domain::audit::CORE_OBJECTS, domain::workflow::AUDIT_OBJECTS, domain::rules::AUDIT_OBJECTS];

/// Every (code, label) of audit actions the product records.
pub fn actions() -> impl Iterator<Item = (&'static str, &'static str)> {
    SHELL_ACTIONS
        .iter()
        .chain(crate::case::CASES.iter().flat_map(|c| c.audit_actions.iter()))
        .flat_map(|t| t.iter().copied())
}

fn objects() -> impl Iterator<Item = (&'static str, &'static str)> {
    SHELL_OBJECTS
        .iter()
        .copied()
        .chain(crate::case::CASES.iter().map(|c| c.audit_objects))
        .flat_map(|t| t.iter().copied())
}

fn find(mut table: impl Iterator<Item = (&'static str, &'static str)>, code: &str) -> Option<&'static str> {
    table.find(|(c, _)| *c == code).map(|(_, l)| l)
}

/// The Chinese label of an action code (a code no release knows shows as itself).
pub fn action(code: &str) -> String {
    find(actions(), code).map(str::to_string).unwrap_or_else(|| code.to_string())
}

pub fn object(code: &str) -> String {
    find(objects(), code).map(str::to_string).unwrap_or_else(|| code.to_string())
}

/// Long ids shortened for tables; the full value goes into a `title`.
pub fn short(id: &str) -> String {
    if id.chars().count() > 14 { format!("{}…", id.chars().take(12).collect::<String>()) } else { id.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    fn sources(dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("source dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                sources(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(std::fs::read_to_string(&p).expect("source"));
            }
        }
    }

    fn all_sources() -> Vec<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut out = vec![];
        for c in ["domain/src", "store/src", "web/src", "cli/src"] {
            sources(&root.join(c), &mut out);
        }
        out
    }

    #[test]
    fn every_action_has_one_label() {
        let mut seen = BTreeSet::new();
        for (code, label) in actions() {
            assert!(seen.insert(code), "audit action {code} is declared twice");
            assert!(!label.trim().is_empty() && !label.is_ascii(), "audit action {code} has no Chinese label");
        }
    }

    /// An `audit_actions!` enum that no case registers would leave its codes raw on the page.
    #[test]
    fn every_declared_action_is_registered() {
        let known: BTreeSet<&str> = actions().map(|(c, _)| c).collect();
        let mut declared = 0;
        for src in all_sources() {
            for block in src.split("audit_actions! {").skip(1) {
                let block = &block[..block.find("\n}").unwrap_or(block.len())];
                for line in block.lines() {
                    if let Some(code) = line.split("= (\"").nth(1).and_then(|r| r.split('"').next()) {
                        declared += 1;
                        assert!(known.contains(code), "audit action {code} is declared but no case registers it");
                    }
                }
            }
        }
        assert!(declared >= known.len(), "found {declared} declared actions, {} registered", known.len());
    }

    /// Object types are strings at the call site; each one written in the code has a label.
    #[test]
    fn every_object_type_written_has_a_label() {
        let mut missing = BTreeSet::new();
        for src in all_sources() {
            for call in src.split("AuditEntry::new(").skip(1).chain(src.split("ctx.entry(").skip(1)) {
                let args = &call[..call.find(')').unwrap_or(call.len())];
                if let Some(ty) = args.split(", \"").nth(1).and_then(|r| r.split('"').next())
                    && object(ty) == ty
                {
                    missing.insert(ty.to_string());
                }
            }
        }
        assert!(missing.is_empty(), "object types without a Chinese name: {missing:?}");
    }
}
