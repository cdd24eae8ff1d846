use super::*;

fn repo_config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

#[test]
fn shipped_config_is_valid() {
    let c = load(&ConfigSource::Dir(repo_config())).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(c.city.name, "亳州市");
    assert_eq!(c.towns.len(), 96);
    assert!(c.departments.iter().any(|d| d.short_name == "市中级人民法院"));
    assert!(c.holidays.iter().any(|h| h.year == 2025));
    assert!(c.workflow("demo_joint_review").is_some());
    assert!(c.indicator("employer.construction_scale").is_some());
    assert!(c.score("demo_risk").is_some());
    assert!(c.schemas.contains_key("project"));
    let embedded = load(&ConfigSource::Embedded).unwrap();
    assert_eq!(embedded.roles, c.roles);
    // 一键申报: at least 30 items over several departments, every material kind, some one-click,
    // each with its workflow.
    use services::MaterialKind as K;
    let items = &c.services.items;
    assert!(items.len() >= 30, "{}", items.len());
    let depts: std::collections::BTreeSet<&str> = items.iter().map(|i| i.department.as_str()).collect();
    assert!(depts.len() >= 8, "{depts:?}");
    for k in [K::Form, K::Data, K::License, K::Archive, K::Sign, K::Upload] {
        assert!(items.iter().any(|i| i.materials.iter().any(|m| m.kind == k)), "{k:?}");
    }
    assert!(items.iter().filter(|i| i.one_click()).count() >= 15);
    assert!(items.iter().all(|i| c.workflow(&i.workflow_id()).is_some()));
}

#[test]
fn service_items_are_cross_checked() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_config(), dir.path());
    let path = dir.path().join("services/items/scjgj.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let broken = text
        .replacen("source = \"scjg.enterprise.name\"", "source = \"scjg.enterprise.nmae\"", 1)
        .replacen("license = \"yyzz\"", "license = \"zz\"", 1)
        .replacen("promised_days = 3", "promised_days = 30", 1);
    std::fs::write(&path, broken).unwrap();
    let errors = load(&ConfigSource::Dir(dir.path().to_path_buf())).unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    for want in ["scjg.enterprise.nmae", "证照类型", "承诺时限"] {
        assert!(text.iter().any(|e| e.contains(want) && e.contains("SCJG-XK-001")), "{want}: {text:?}");
    }
}

#[test]
fn errors_name_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_config(), dir.path());
    let roles = std::fs::read_to_string(dir.path().join("roles.toml")).unwrap();
    let broken =
        roles.replacen("\"audit.read\"", "\"audit.raed\"", 1).replacen("scope = \"all\"", "scope = \"everything\"", 1);
    std::fs::write(dir.path().join("roles.toml"), &broken).unwrap();
    let errors = load(&ConfigSource::Dir(dir.path().to_path_buf())).unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let typo = text.iter().find(|e| e.contains("audit.raed")).expect("typo reported");
    let line = broken.lines().position(|l| l.contains("audit.raed")).unwrap() + 1;
    assert!(typo.contains(&format!("roles.toml:{line}: role[1].permissions[0]")), "{typo}");
    assert!(typo.contains("是否应为“audit.read”"), "{typo}");
    assert!(text.iter().any(|e| e.contains("role[0].scope")), "{text:?}");
}

#[test]
fn grids_and_communities_come_from_config() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_config(), dir.path());
    std::fs::write(
        dir.path().join("divisions/communities.csv"),
        "town_code,community_code,name\n341602100,341602100001,古井村\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("grids")).unwrap();
    let gcj = domain::geo::wgs84_to_gcj02(115.80, 33.90);
    let grid = format!(
        r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"code":"GJ-1","name":"古井村网格","division_code":"341602100001","datum":"gcj02","keywords":["古井镇古井村"]}},
        "geometry":{{"type":"Polygon","coordinates":[[[{},{}],[115.9,33.9],[115.85,34.0],[{},{}]]]}}}}]}}"#,
        gcj.0, gcj.1, gcj.0, gcj.1
    );
    std::fs::write(dir.path().join("grids/gujing.geojson"), grid).unwrap();
    let c = load(&ConfigSource::Dir(dir.path().to_path_buf())).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(c.grids.len(), 1);
    let g = &c.grids[0];
    assert_eq!(g.division_code.as_str(), "341602100001");
    assert!((g.ring.0[0].lon - 115.80).abs() < 1e-8, "converted from GCJ-02");
    assert!(g.original.as_deref().unwrap().contains("Polygon"));
    assert_eq!(c.divisions.full_name(&g.division_code), "安徽省亳州市谯城区古井镇古井村");

    std::fs::write(dir.path().join("grids/bad.geojson"), r#"{"type":"FeatureCollection","features":[{"properties":{"code":"X","name":"x","division_code":"341602"},"geometry":{"type":"Point","coordinates":[1,2]}}]}"#).unwrap();
    let errors = load(&ConfigSource::Dir(dir.path().to_path_buf())).unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        text.iter().any(|e| e.contains("bad.geojson: features[0].properties.division_code") && e.contains("级别过高")),
        "{text:?}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn map_tiles_are_checked() {
    use supervision::MapTiles;
    let tiles = |t: &str, datum: &str| MapTiles { tiles: t.into(), datum: datum.into(), ..MapTiles::default() };
    let errs = |m: &MapTiles| {
        let s = supervision::Supervision { map: m.clone(), ..Default::default() };
        let mut e = vec![];
        s.check("city.toml", &mut e);
        e.iter().map(|e| e.to_string()).collect::<Vec<_>>()
    };
    let ok = tiles("http://10.1.2.3:8080/tiles/{z}/{x}/{y}.png", "gcj02");
    assert!(errs(&ok).is_empty());
    assert_eq!(ok.origin(), Some("http://10.1.2.3:8080"));
    assert_eq!(ok.url(12, 3364, 1637), "http://10.1.2.3:8080/tiles/12/3364/1637.png");
    assert!(ok.gcj02());
    assert_eq!(tiles("/maptiles/{z}/{x}/{y}.png", "").origin(), None);
    assert!(errs(&MapTiles::default()).is_empty(), "no tiles is valid");
    assert!(errs(&tiles("ftp://x/{z}/{x}/{y}", "")).iter().any(|e| e.contains("http://")));
    assert!(errs(&tiles("http://x/{z}/{x}.png", "")).iter().any(|e| e.contains("占位符")));
    assert!(errs(&tiles("http://x/{z}/{x}/{y}.png'; script-src *", "")).iter().any(|e| e.contains("引号")));
    assert!(errs(&tiles("http:///{z}/{x}/{y}", "")).iter().any(|e| e.contains("主机名")));
    assert!(errs(&tiles("http://x/{z}/{x}/{y}", "bd09")).iter().any(|e| e.contains("百度")));
}

#[test]
fn an_edited_item_replaces_its_workflow_and_keeps_the_old_version() {
    let c = load(&ConfigSource::Dir(repo_config())).unwrap();
    let old = c.services.item("SCJG-XK-001").unwrap().clone();
    assert_eq!(old.version, 1);
    let mut item = old.clone();
    item.version = 2;
    item.promised_days = 2;
    item.materials.retain(|m| m.id != "commitment");
    let next = c.with_item(item).unwrap();
    let now = next.services.item("SCJG-XK-001").unwrap();
    assert_eq!((now.version, now.promised_days), (2, 2));
    assert_eq!(next.services.item_at("SCJG-XK-001", 1).unwrap(), &old);
    let sla = |d: &domain::workflow::WorkflowDef| match &d.step("review").unwrap().kind {
        domain::workflow::StepKind::Task { sla, .. } => sla.label(),
        other => panic!("{other:?}"),
    };
    let (v1, v2) = (next.workflow_at("svc.SCJG-XK-001", 1).unwrap(), next.workflow("svc.SCJG-XK-001").unwrap());
    assert_eq!((v1.version, v2.version), (1, 2));
    assert_eq!((sla(v1).as_str(), sla(v2).as_str()), ("3个工作日", "2个工作日"));
    assert!(v2.materials.iter().all(|m| m.id != "commitment"));
    assert_eq!(next.workflow_at("svc.SCJG-XK-001", 7).unwrap().version, 2, "an unknown version is the current one");
    // The original is untouched.
    assert_eq!(c.services.item("SCJG-XK-001").unwrap().version, 1);
    let changes = services::changes(&old, now, &next.services);
    assert!(changes.iter().any(|l| l.contains("承诺时限：3 个工作日 → 2 个工作日")), "{changes:?}");
    assert!(changes.iter().any(|l| l.contains("删除材料“食品安全承诺书”")), "{changes:?}");
}

#[test]
fn an_edit_is_checked_like_the_files_with_every_problem_placed() {
    use services::{FieldType, FormField, ItemMaterial, MaterialKind};
    let c = load(&ConfigSource::Dir(repo_config())).unwrap();
    let mut item = c.services.item("SCJG-XK-001").unwrap().clone();
    item.version = 2;
    item.promised_days = 30;
    item.materials.push(ItemMaterial {
        deferrable: false,
        id: "m1".into(),
        name: "补充说明".into(),
        kind: MaterialKind::Data,
        license: None,
        archive_item: None,
        fields: vec![
            FormField {
                key: "Bad Key".into(),
                label: "说明".into(),
                ty: FieldType::Text,
                source: Some("scjg.enterprise.nmae".into()),
                options: vec![],
                required: true,
                refuse: vec![],
                refuse_note: None,
                days_since: None,
            },
            FormField {
                key: "name".into(),
                label: "重名".into(),
                ty: FieldType::Select,
                source: None,
                options: vec![],
                required: true,
                refuse: vec![],
                refuse_note: None,
                days_since: None,
            },
        ],
    });
    let problems = c.with_item(item).unwrap_err();
    let at = |m: Option<usize>, f: Option<usize>, attr: &str| {
        problems.iter().any(|p| p.material == m && p.field == f && p.attr == attr)
    };
    let n = c.services.item("SCJG-XK-001").unwrap().materials.len();
    assert!(at(None, None, "promised_days"), "{problems:?}");
    assert!(at(Some(n), Some(0), "key"), "{problems:?}");
    assert!(at(Some(n), Some(0), "source"), "{problems:?}");
    assert!(at(Some(n), Some(1), "key"), "duplicate key: {problems:?}");
    assert!(at(Some(n), Some(1), "source"), "data field without source: {problems:?}");
    assert!(at(Some(n), Some(1), "options"), "{problems:?}");
}

/// Each warning cites the article that carries the duty (the statutes are in
/// `shared/reference/law/`): complaints are 条例 art. 10; a collective wage incident is handled
/// by the builder with the general contractor (art. 29 ¶3), the contractor pays first (art. 30)
/// and the government's 应急周转金 (art. 63) — art. 51 is about trade unions; the written review
/// is 劳动保障监察条例 art. 14 (art. 16 is about inspectors); art. 11 allows cash, the special
/// account duty is art. 31 ¶3; monitoring and warning is art. 38 (art. 39 is inspection);
/// integrity grading is art. 47 (art. 48 is the dishonest list); the deposit deadline runs from
/// the construction permit (人社部发〔2021〕65号 art. 8).
#[test]
fn warnings_cite_the_articles_that_carry_the_duty() {
    let c = load(&ConfigSource::Dir(repo_config())).unwrap();
    let cites = |id: &str, must: &[&str], not: &[&str]| {
        let basis = &c.indicator(id).unwrap_or_else(|| panic!("{id}")).basis;
        for m in must {
            assert!(basis.contains(m), "{id} cites {m}: {basis}");
        }
        for n in not {
            assert!(!basis.contains(n), "{id} does not cite {n}: {basis}");
        }
    };
    cites("wages.complaints", &["第十条"], &["第五十条"]);
    cites("wages.collective_incident", &["第二十九条第三款", "第三十条", "第六十三条"], &["第五十一条"]);
    cites("wages.annual_review_anomaly", &["《劳动保障监察条例》第十四条"], &["第十六条"]);
    cites("wages.cash_or_third_party", &["第三十一条第三款"], &["第十一条、"]);
    cites("wages.violation_record", &["第四十七条"], &["第四十八条"]);
    cites("wages.deposit_not_paid", &["第八条", "施工许可证"], &["施工合同签订后20个工作日内"]);
    cites("labor.insured_drop", &["第三十八条"], &["第三十九条"]);
    cites("labor.collective_risk", &["第二十九条第三款", "第六十三条", "第十四条第四款"], &["第四十条", "第十八条"]);
}

/// 刑事诉讼法 art. 71 ¶1(3) and art. 81 ¶4: not appearing when summoned breaks the rules of the
/// measure and may be grounds for arrest. One missed summons alone turns 亳安码 red, whose
/// measures include assessing a change of measure — not a yellow 25 points.
#[test]
fn art_81_a_missed_summons_alone_turns_the_code_red() {
    let c = load(&ConfigSource::Dir(repo_config())).unwrap();
    let anma = c.score("anma").unwrap();
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let s = anma.score(&[("summons_absent".to_string(), now - time::Duration::days(3))], now);
    assert_eq!(s.color, domain::scoring::Color::Red);
    assert!(s.measures.iter().any(|m| m.contains("变更强制措施")), "{:?}", s.measures);
}

/// Every item names the legal source of its time limit; the food-business licence follows the
/// 2023 食品经营许可和备案管理办法 (10 working days, was 20 under the 2015 办法).
#[test]
fn every_item_cites_the_source_of_its_time_limit() {
    let c = load(&ConfigSource::Dir(repo_config())).unwrap();
    for it in &c.services.items {
        let basis = it.legal_basis.as_deref().unwrap_or_default();
        assert!(basis.contains('《'), "{} {} cites no source", it.code, it.name);
        assert!(it.promised_days <= it.legal_days, "{}: promised beyond the legal limit", it.code);
    }
    for code in ["SCJG-XK-001", "SCJG-XK-002"] {
        let it = c.services.item(code).unwrap();
        assert_eq!(it.legal_days, 10, "{code}");
        assert!(it.legal_basis.as_deref().unwrap().contains("2023"));
    }
}

/// 市场主体登记管理条例 art. 19: registration on the spot or within 3 working days (not 15);
/// art. 33: 简易注销 needs the investors' full commitment (清偿费用, 职工工资, 社会保险费用, 法定补偿金,
/// 税款), the 20-day publicity, and is refused to an entity on the 经营异常名录 (¶4).
#[test]
fn art_19_and_33_market_registration_items() {
    let c = load(&ConfigSource::Dir(repo_config())).unwrap();
    let change = c.services.item("SCJG-DJ-001").unwrap();
    assert_eq!(change.legal_days, 3);
    assert!(change.legal_basis.as_deref().unwrap_or("").contains("第十九条"));
    let simple = c.services.item("SCJG-DJ-002").unwrap();
    let commit = simple.fields().find(|(_, f)| f.key == "commit").unwrap().1;
    for duty in ["清偿费用", "职工工资", "社会保险费用", "法定补偿金", "应缴纳税款"] {
        assert!(commit.label.contains(duty), "the commitment names {duty}");
    }
    let today = time::macros::date!(2026 - 12 - 07);
    let listed = simple.fields().find(|(_, f)| f.key == "abnormal").unwrap().1;
    let why = domain::services::rules::data_refusal(listed, "是", today).expect("refused when listed");
    assert!(why.contains("第三十三条第四款"), "{why}");
    assert_eq!(domain::services::rules::data_refusal(listed, "否", today), None);
    // ¶2: the publicity's end is the system's record; the application comes from the day
    // after it to the 20th day after it.
    let (m, ended) = simple.fields().find(|(_, f)| f.key == "publicity_ended_on").unwrap();
    assert_eq!(m.kind, services::MaterialKind::Data, "not declared by the applicant");
    let refused = |d: &str| domain::services::rules::data_refusal(ended, d, today);
    assert_eq!(refused("2026-12-06"), None);
    assert_eq!(refused("2026-11-17"), None, "the 20th day");
    assert!(refused("2026-11-16").unwrap().contains("第三十三条第二款"), "21 days: too late");
    assert!(refused("2026-12-07").is_some(), "the publicity ends today: not yet");
    assert!(refused("").unwrap().contains("无记录"));
}

/// Pages name a project's status and deposit mode from the schema's `values`; they must be
/// the names the wage case itself uses.
#[test]
fn schema_code_names_match_the_case_enums() {
    let c = load(&ConfigSource::Dir(repo_config())).unwrap();
    let s = &c.schemas["wage_project"];
    let names = |f: &str| s.get(f).unwrap().1.values.clone();
    let status: Vec<(String, String)> =
        domain::wages::ProjectStatus::ALL.iter().map(|v| (v.as_str().to_string(), v.label().to_string())).collect();
    let mut got = names("status");
    got.sort();
    let mut want = status;
    want.sort();
    assert_eq!(got, want);
    let mut got = names("deposit_mode");
    got.sort();
    let mut want: Vec<(String, String)> =
        domain::wages::DepositMode::ALL.iter().map(|v| (v.as_str().to_string(), v.label().to_string())).collect();
    want.sort();
    assert_eq!(got, want);
}

/// 网络安全法 art. 21(3): network logs are kept no less than six months; 0 keeps them for ever.
#[test]
fn log_retention_is_never_under_six_months() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_config(), dir.path());
    let city = std::fs::read_to_string(dir.path().join("city.toml")).unwrap();
    assert_eq!(load(&ConfigSource::Dir(dir.path().to_path_buf())).unwrap().city.security.log_retention_months, 0);
    for (months, ok) in [(5, false), (6, true), (36, true)] {
        let set = city.replacen("log_retention_months = 0", &format!("log_retention_months = {months}"), 1);
        std::fs::write(dir.path().join("city.toml"), &set).unwrap();
        match load(&ConfigSource::Dir(dir.path().to_path_buf())) {
            Ok(c) => assert!(ok && c.city.security.log_retention_months == months, "{months}"),
            Err(e) => {
                assert!(!ok, "{months}: {e:?}");
                let text: Vec<String> = e.iter().map(|e| e.to_string()).collect();
                assert!(
                    text.iter().any(|t| t.contains("security.log_retention_months") && t.contains("不少于六个月")),
                    "{text:?}"
                );
            }
        }
    }
}
