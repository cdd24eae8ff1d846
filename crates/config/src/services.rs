//! 一键申报 catalogs in `config/services/`: the data-exchange interfaces (`exchange.toml`), the
//! license types (`licenses.toml`) and the service items (`items/*.toml`). Each item also
//! becomes a workflow definition `svc.{code}` (one review step at its department, SLA = the
//! promised time limit in working days), parsed by the same checker as hand-written ones.

use super::{ConfigSource, DepartmentDef};
use domain::config::ConfigError;
use domain::workflow::{DefContext, WorkflowDef};
// The catalogue model and its checks are pure and live in the domain.
pub use domain::services::catalog::*;
use serde::Deserialize;

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
    if let Some(p) =
        parse::<domain::services::stability::StabilityPolicy>(source, "services/stability_refund.toml", errors)
    {
        s.stability = Some(p);
    }
    let mut item_files = vec![];
    for name in source.list("services/items", ".toml") {
        let rel = format!("services/items/{name}");
        if let Some(i) = parse::<Items>(source, &rel, errors) {
            for mut it in i.item {
                it.version = 1;
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
    if let Some(p) = &s.stability {
        let file = source.display_path("services/stability_refund.toml");
        if let Err(m) = p.check() {
            bad(&file, "stability_refund".into(), m);
        }
        if !s.items.iter().any(|i| i.code == p.item && i.proactive) {
            bad(&file, "item".into(), format!("事项“{}”不存在或未标记为免申即享（proactive = true）", p.item));
        }
    }
    let (mut workflows, mut parse_errors) = (vec![], vec![]);
    for (n, it) in s.items.iter().enumerate() {
        let file = &item_files[n];
        if s.items.iter().filter(|x| x.code == it.code).count() > 1 {
            bad(file, format!("item[{}].code", it.code), format!("事项编码“{}”重复", it.code));
        }
        for p in check_item(&s, &dept, it) {
            bad(file, problem_path(it, &p), p.message);
        }
        match item_workflow(file, it, cx) {
            Ok(d) => workflows.push(d),
            Err(mut es) => parse_errors.append(&mut es),
        }
    }
    errors.extend(found);
    errors.extend(parse_errors);
    (s, workflows)
}

/// `item[code].material[id].fields[key].attr`, as a config error names the place.
fn problem_path(it: &Item, p: &ItemProblem) -> String {
    let mut path = format!("item[{}]", it.code);
    if let Some(m) = p.material.and_then(|m| it.materials.get(m)) {
        path.push_str(&format!(".material[{}]", m.id));
        if let Some(f) = p.field.and_then(|f| m.fields.get(f)) {
            path.push_str(&format!(".fields[{}]", f.key));
        }
    }
    let attr = match p.attr {
        "result" => "result_license",
        a => a,
    };
    format!("{path}.{attr}")
}
