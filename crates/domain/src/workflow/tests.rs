use super::*;
use crate::calendar::{HolidayTable, WorkCalendar, WorkingHours};
use crate::expr::{Facts, Schema, Type};
use proptest::prelude::*;
use std::collections::BTreeMap;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

pub const DEF: &str = r#"
id = "joint_permit"
name = "工程建设项目联合审批（测试）"
subject = "project"
start = "accept"

[[material]]
id = "site_plan"
name = "总平面图"
deferrable = true

[[material]]
id = "fire_design"
name = "消防设计文件"

[[step]]
id = "accept"
name = "受理"
department = "sjj"
role = "dept_staff"
sla = { working_days = 1 }
on_timeout = "escalate"
escalate_to = "leader"
next = "joint"

[[step]]
id = "joint"
name = "并联审查"
parallel = ["fire", "planning", "traffic"]
on_reject = "after_all"
next = [{ when = "investment >= 100000000", to = "sign" }, { to = "end" }]

[[step]]
id = "fire"
name = "消防审查"
department = "gaj"
role = "dept_staff"
sla = { working_days = 3 }
on_timeout = "deemed_approved"

[[step]]
id = "planning"
name = "规划审查"
department = "zrzyj"
role = "dept_staff"
sla = { working_days = 3 }
on_timeout = "deemed_approved"

[[step]]
id = "traffic"
name = "交通审查"
department = "jtj"
role = "dept_staff"
sla = { working_hours = 8 }
on_timeout = "auto_reject"

[[step]]
id = "sign"
name = "分管领导签发"
department = "sjj"
role = "leader"
sla = { hours = 48 }
on_timeout = "notify"
next = "end"
"#;

pub fn schema() -> Schema {
    Schema::new("project", "工程项目").field("investment", Type::Int, "总投资（元）").field(
        "area",
        Type::Int,
        "用地面积",
    )
}

pub fn cal() -> WorkCalendar {
    let text =
        std::fs::read_to_string(format!("{}/../../config/holidays/2025.toml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    WorkCalendar::new([HolidayTable::parse_toml("2025.toml", &text).unwrap()], WorkingHours::standard())
}

pub fn def() -> WorkflowDef {
    let mut schemas = BTreeMap::new();
    schemas.insert("project".to_string(), schema());
    let depts: Vec<String> = ["sjj", "gaj", "zrzyj", "jtj"].map(String::from).to_vec();
    let roles: Vec<String> = ["dept_staff", "leader"].map(String::from).to_vec();
    parse("joint.toml", DEF, &DefContext { schemas: &schemas, departments: &depts, roles: &roles })
        .unwrap_or_else(|e| panic!("{e:?}"))
}

fn reasons() -> Vec<Reason> {
    vec![
        Reason { code: "material".into(), text: "材料不符合法定形式".into() },
        Reason { code: "law".into(), text: "不符合法定条件".into() },
    ]
}

fn staff(dept: &str, role: &str) -> Actor {
    Actor {
        user_id: format!("{dept}-{role}"),
        name: format!("{dept}{role}"),
        department: Some(dept.into()),
        roles: vec![role.into()],
    }
}

fn applicant() -> Actor {
    Actor { user_id: "app".into(), name: "申请企业".into(), department: None, roles: vec!["enterprise".into()] }
}

struct World {
    def: WorkflowDef,
    cal: WorkCalendar,
    schema: Schema,
    facts: Facts,
    reasons: Vec<Reason>,
}

impl World {
    fn new(investment: i64) -> World {
        World {
            def: def(),
            cal: cal(),
            schema: schema(),
            facts: Facts::new().with("investment", investment).with("area", 10),
            reasons: reasons(),
        }
    }
    fn env(&self, now: OffsetDateTime) -> Env<'_> {
        Env { now, calendar: &self.cal, facts: &self.facts, schema: Some(&self.schema), reasons: &self.reasons }
    }
    fn start(&self, now: OffsetDateTime) -> (Instance, Vec<Effect>) {
        start(&self.def, "i1", &applicant(), &self.env(now)).unwrap()
    }
    fn apply(&self, i: &Instance, e: Event, now: OffsetDateTime) -> Result<(Instance, Vec<Effect>), WorkflowError> {
        apply(&self.def, i, &e, &self.env(now))
    }
    fn act(&self, i: &Instance, task: u32, who: Actor, a: Action, now: OffsetDateTime) -> Instance {
        self.apply(i, Event::Act { task, actor: who, action: a }, now).unwrap_or_else(|e| panic!("{e}")).0
    }
}

fn approve() -> Action {
    Action::Approve { comment: "同意".into(), received: vec![] }
}

fn task_of(i: &Instance, step: &str) -> u32 {
    i.tasks.iter().rev().find(|t| t.step == step).unwrap().no
}

#[test]
fn definitions_are_checked_with_file_line_and_field() {
    let mut schemas = BTreeMap::new();
    schemas.insert("project".to_string(), schema());
    let depts = vec!["sjj".to_string()];
    let roles = vec!["dept_staff".to_string()];
    let broken = DEF.replacen("investment >= 100000000", "investmnt >= 100000000", 1);
    let errs = parse("joint.toml", &broken, &DefContext { schemas: &schemas, departments: &depts, roles: &roles })
        .unwrap_err();
    let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    let line = broken.lines().position(|l| l.contains("investmnt")).unwrap() + 1;
    assert!(
        text.iter().any(|e| e
            == &format!(
                "joint.toml:{line}: step[1].next[0].when: 第1列：工程项目没有字段“investmnt”，是否应为“investment”？"
            )),
        "{text:#?}"
    );
    assert!(text.iter().any(|e| e.contains("step[2].department") && e.contains("部门“gaj”未在")), "{text:#?}");
    assert!(text.iter().any(|e| e.contains("escalate_to") && e.contains("角色“leader”未在")), "{text:#?}");
    let cyclic = DEF.replacen("next = \"end\"", "next = \"accept\"", 1);
    let depts: Vec<String> = ["sjj", "gaj", "zrzyj", "jtj"].map(String::from).to_vec();
    let roles: Vec<String> = ["dept_staff", "leader"].map(String::from).to_vec();
    let errs = parse("joint.toml", &cyclic, &DefContext { schemas: &schemas, departments: &depts, roles: &roles })
        .unwrap_err();
    assert!(errs.iter().any(|e| e.to_string().contains("流程中有循环：accept → joint → sign → accept")), "{errs:?}");
}

/// The parallel review through the National Day week: fire and planning decide, traffic
/// (8 working hours, auto-reject) decides too; one department that does nothing is deemed to
/// approve only after its deadline.
#[test]
fn parallel_review_through_a_holiday_week_with_deemed_approval() {
    let w = World::new(5_000_000);
    let t0 = datetime!(2025-09-29 09:00 +8);
    let (i, eff) = w.start(t0);
    assert!(
        eff.iter().any(|e| matches!(e, Effect::Schedule { at, .. } if *at == datetime!(2025-10-01 00:00 +8))),
        "{eff:?}"
    );
    let i = w.act(&i, 1, staff("sjj", "dept_staff"), approve(), datetime!(2025-09-29 10:00 +8));
    assert_eq!(i.open_tasks().count(), 3);
    let fire = i.task(task_of(&i, "fire")).unwrap();
    // Accepted 29 September: 3 working days are 30 September, 9 and 10 October.
    assert_eq!(fire.deadline, Some(datetime!(2025-10-11 00:00 +8)));
    let i = w.act(&i, task_of(&i, "traffic"), staff("jtj", "dept_staff"), approve(), datetime!(2025-09-30 11:00 +8));
    let i = w.act(&i, task_of(&i, "planning"), staff("zrzyj", "dept_staff"), approve(), datetime!(2025-10-09 15:00 +8));
    // During the holiday the fire timer must not fire early.
    let (i2, eff) =
        w.apply(&i, Event::Timeout { task: task_of(&i, "fire"), timer: 1 }, datetime!(2025-10-05 12:00 +8)).unwrap();
    assert_eq!(i2, i, "nothing changes before the deadline");
    assert!(matches!(eff.as_slice(), [Effect::Schedule { .. }]));
    let (i, eff) =
        w.apply(&i, Event::Timeout { task: task_of(&i, "fire"), timer: 1 }, datetime!(2025-10-11 00:00 +8)).unwrap();
    assert_eq!(i.task(task_of(&i, "fire")).unwrap().status, TaskStatus::DeemedApproved);
    assert_eq!(i.status, Status::Approved, "investment below 100 million: no leader signature");
    assert!(eff.contains(&Effect::Finished { status: Status::Approved }));
    let rec = i.records.iter().find(|r| r.action == "deemed_approved").unwrap();
    assert!(rec.text.contains("超过3个工作日未办理，视为同意"));
    assert_eq!(rec.elapsed, "3个工作日");
    assert_eq!(
        i.handling_days(datetime!(2025-10-11 00:00 +8), &w.cal),
        3,
        "29 Sep → 24:00 on 10 Oct: 30 Sep, 9, 10 Oct"
    );
}

#[test]
fn routing_follows_the_facts() {
    let w = World::new(300_000_000);
    let (mut i, _) = w.start(datetime!(2025-03-03 09:00 +8));
    i = w.act(&i, 1, staff("sjj", "dept_staff"), approve(), datetime!(2025-03-03 10:00 +8));
    for (step, dept) in [("fire", "gaj"), ("planning", "zrzyj"), ("traffic", "jtj")] {
        i = w.act(&i, task_of(&i, step), staff(dept, "dept_staff"), approve(), datetime!(2025-03-03 11:00 +8));
    }
    assert_eq!(i.status, Status::Running);
    let sign = i.task(task_of(&i, "sign")).unwrap();
    assert_eq!(sign.actor.role, "leader");
    assert_eq!(sign.deadline, Some(datetime!(2025-03-05 11:00 +8)), "48 natural hours");
}

#[test]
fn rejection_needs_a_catalog_reason_and_ends_the_application_once() {
    let w = World::new(5_000_000);
    let (i, _) = w.start(datetime!(2025-03-03 09:00 +8));
    let now = datetime!(2025-03-03 10:00 +8);
    let err = w.apply(
        &i,
        Event::Act {
            task: 1,
            actor: staff("sjj", "dept_staff"),
            action: Action::Reject { reason: "x".into(), text: "t".into() },
        },
        now,
    );
    assert_eq!(err.unwrap_err().to_string(), "请从理由目录中选择驳回理由");
    let err = w.apply(
        &i,
        Event::Act {
            task: 1,
            actor: staff("sjj", "dept_staff"),
            action: Action::Reject { reason: "law".into(), text: " ".into() },
        },
        now,
    );
    assert_eq!(err.unwrap_err().to_string(), "请写明驳回的具体说明");
    let i = w.act(
        &i,
        1,
        staff("sjj", "dept_staff"),
        Action::Reject { reason: "law".into(), text: "用地性质不符".into() },
        now,
    );
    assert_eq!(i.status, Status::Rejected);
    assert_eq!(i.outcome_reason.as_deref(), Some("受理：不符合法定条件（用地性质不符）"));
    let again = w.apply(&i, Event::Act { task: 1, actor: staff("sjj", "dept_staff"), action: approve() }, now);
    assert_eq!(again.unwrap_err(), WorkflowError::Finished("已办结（不予）"));
    let other = w.apply(&i, Event::Withdraw { actor: applicant(), reason: "x".into() }, now);
    assert!(other.is_err(), "no second outcome");
}

/// 行政许可法 art. 38 ¶2: a refusal is written with its reasons and tells the applicant of
/// their right to 行政复议 or 行政诉讼.
#[test]
fn art_38_a_refusal_states_its_reasons_and_the_rights_of_review() {
    let w = World::new(5_000_000);
    let (i, _) = w.start(datetime!(2025-03-03 09:00 +8));
    let (_, eff) = w
        .apply(
            &i,
            Event::Act {
                task: 1,
                actor: staff("sjj", "dept_staff"),
                action: Action::Reject { reason: "law".into(), text: "用地性质不符".into() },
            },
            datetime!(2025-03-03 10:00 +8),
        )
        .unwrap();
    let told = eff
        .iter()
        .find_map(|e| match e {
            Effect::Notify { to: Recipient::Applicant, text } => Some(text.clone()),
            _ => None,
        })
        .unwrap();
    assert!(told.contains("用地性质不符") && told.contains("行政复议") && told.contains("行政诉讼"), "{told}");
    assert!(told.contains("第三十八条第二款"), "{told}");
}

#[test]
fn only_the_right_department_and_role_may_act() {
    let w = World::new(5_000_000);
    let (i, _) = w.start(datetime!(2025-03-03 09:00 +8));
    let e = w.apply(
        &i,
        Event::Act { task: 1, actor: staff("gaj", "dept_staff"), action: approve() },
        datetime!(2025-03-03 10:00 +8),
    );
    assert!(matches!(e, Err(WorkflowError::NotAllowed(_))));
    // Transfer to a named person: only they may act then.
    let i = w.act(
        &i,
        1,
        staff("sjj", "dept_staff"),
        Action::Transfer { to_user: "u9".into(), to_name: "李四".into(), note: "".into() },
        datetime!(2025-03-03 10:00 +8),
    );
    assert!(
        w.apply(
            &i,
            Event::Act { task: 1, actor: staff("sjj", "dept_staff"), action: approve() },
            datetime!(2025-03-03 10:00 +8)
        )
        .is_err()
    );
    let li = Actor {
        user_id: "u9".into(),
        name: "李四".into(),
        department: Some("sjj".into()),
        roles: vec!["dept_staff".into()],
    };
    let i = w.act(&i, 1, li, approve(), datetime!(2025-03-03 11:00 +8));
    assert_eq!(i.open_tasks().count(), 3);
}

#[test]
fn escalation_lets_the_named_role_act() {
    let w = World::new(5_000_000);
    let (i, _) = w.start(datetime!(2025-03-03 09:00 +8));
    let (i, eff) = w.apply(&i, Event::Timeout { task: 1, timer: 1 }, datetime!(2025-03-05 00:00 +8)).unwrap();
    assert!(eff.iter().any(
        |e| matches!(e, Effect::Notify { to: Recipient::Role { department: None, role }, .. } if role == "leader")
    ));
    let t = i.task(1).unwrap();
    assert!(t.overdue && t.status == TaskStatus::Open);
    let boss =
        Actor { user_id: "boss".into(), name: "市领导".into(), department: None, roles: vec!["leader".into()] };
    let i = w.act(&i, 1, boss, approve(), datetime!(2025-03-05 09:00 +8));
    assert_eq!(i.open_tasks().count(), 3);
}

#[test]
fn one_time_notice_stops_the_clock_and_limits_a_second_return() {
    let w = World::new(5_000_000);
    let (i, _) = w.start(datetime!(2025-03-03 09:00 +8));
    let i = w.act(&i, 1, staff("sjj", "dept_staff"), approve(), datetime!(2025-03-03 10:00 +8));
    let fire = task_of(&i, "fire");
    let ret = |items: Vec<(&str, &str)>| Action::Return {
        items: items.into_iter().map(|(t, n)| Deficiency { target: t.into(), note: n.into() }).collect(),
    };
    assert!(
        w.apply(
            &i,
            Event::Act { task: fire, actor: staff("gaj", "dept_staff"), action: ret(vec![]) },
            datetime!(2025-03-04 10:00 +8)
        )
        .is_err()
    );
    assert!(
        w.apply(
            &i,
            Event::Act { task: fire, actor: staff("gaj", "dept_staff"), action: ret(vec![("nothing", "x")]) },
            datetime!(2025-03-04 10:00 +8)
        )
        .is_err()
    );
    let (i, eff) = w
        .apply(
            &i,
            Event::Act {
                task: fire,
                actor: staff("gaj", "dept_staff"),
                action: ret(vec![("fire_design", "缺少喷淋系统图")]),
            },
            datetime!(2025-03-04 10:00 +8),
        )
        .unwrap();
    assert_eq!(i.status, Status::Correcting);
    assert!(i.open_tasks().all(|t| !t.clock.is_running()), "every clock stops");
    assert_eq!(eff.iter().filter(|e| matches!(e, Effect::Cancel { .. })).count(), 3);
    // Others cannot act while the applicant corrects.
    assert_eq!(
        w.apply(
            &i,
            Event::Act { task: task_of(&i, "planning"), actor: staff("zrzyj", "dept_staff"), action: approve() },
            datetime!(2025-03-05 10:00 +8)
        )
        .unwrap_err(),
        WorkflowError::Correcting
    );
    // Two weeks later the applicant resubmits, having changed the fire design and the area.
    let (i, eff) = w
        .apply(
            &i,
            Event::Resubmit { actor: applicant(), changed: vec!["fire_design".into(), "area".into()] },
            datetime!(2025-03-18 09:00 +8),
        )
        .unwrap();
    assert_eq!(i.status, Status::Running);
    let f = i.task(fire).unwrap();
    assert_eq!(f.clock.used, 1, "4 March counted before the return");
    assert_eq!(f.deadline, Some(datetime!(2025-03-21 00:00 +8)), "2 days left from 18 March");
    assert!(eff.iter().any(|e| matches!(e, Effect::Schedule { timer: Timer::Deadline { timer: 2, .. }, .. })));
    // The old timer is stale now.
    let (same, _) = w.apply(&i, Event::Timeout { task: fire, timer: 1 }, datetime!(2025-03-18 09:00 +8)).unwrap();
    assert_eq!(same, i);
    // A second return may repeat the first notice's items or what was changed, nothing else.
    let e = w.apply(
        &i,
        Event::Act {
            task: fire, actor: staff("gaj", "dept_staff"), action: ret(vec![("site_plan", "比例尺不对")])
        },
        datetime!(2025-03-19 10:00 +8),
    );
    assert_eq!(e.unwrap_err().to_string(), "“总平面图”不在首次一次性告知中，申请人此后也未修改，不能再次要求补正");
    let ok = w.apply(
        &i,
        Event::Act {
            task: fire,
            actor: staff("gaj", "dept_staff"),
            action: ret(vec![("fire_design", "仍缺"), ("area", "与规划不符")]),
        },
        datetime!(2025-03-19 10:00 +8),
    );
    assert!(ok.is_ok());
}

/// 行政许可法 art. 32(4): materials incomplete are notified "on the spot or within five days";
/// a later notice means the application was accepted on receipt — the correction no longer
/// stops the clock, the notice is flagged, and the days in correction count as handling time.
#[test]
fn art_32_a_notice_after_five_days_does_not_stop_the_clock() {
    let w = World::new(5_000_000);
    // Received Monday 3 March 2025; accepted at the window the same day.
    let (i, _) = w.start(datetime!(2025-03-03 09:00 +8));
    let i = w.act(&i, 1, staff("sjj", "dept_staff"), approve(), datetime!(2025-03-03 10:00 +8));
    let fire = task_of(&i, "fire");
    let ret = Action::Return {
        items: vec![Deficiency { target: "fire_design".into(), note: "缺少喷淋系统图".into() }],
    };
    // Monday 10 March is the fifth working day: still in time, every clock stops.
    let (on_time, _) = w
        .apply(
            &i,
            Event::Act { task: fire, actor: staff("gaj", "dept_staff"), action: ret.clone() },
            datetime!(2025-03-10 16:00 +8),
        )
        .unwrap();
    assert!(!on_time.notices[0].late);
    assert!(on_time.open_tasks().all(|t| !t.clock.is_running()));
    // Wednesday 12 March, the seventh: too late — accepted on receipt, the clocks run on.
    let (late, eff) = w
        .apply(
            &i,
            Event::Act { task: fire, actor: staff("gaj", "dept_staff"), action: ret },
            datetime!(2025-03-12 10:00 +8),
        )
        .unwrap();
    assert_eq!(late.status, Status::Correcting);
    assert!(late.notices[0].late);
    assert!(late.open_tasks().all(|t| t.clock.is_running()), "the time limit is not suspended");
    assert!(!eff.iter().any(|e| matches!(e, Effect::Cancel { .. })));
    assert!(late.records.last().unwrap().text.contains("第三十二条"));
    // A week in correction counts toward the handling time.
    let (back, _) = w
        .apply(
            &late,
            Event::Resubmit { actor: applicant(), changed: vec!["fire_design".into()] },
            datetime!(2025-03-19 09:00 +8),
        )
        .unwrap();
    assert_eq!(back.correction_days, 0);
    assert_eq!(back.handling_days(datetime!(2025-03-19 09:00 +8), &w.cal), 12, "4 to 19 March, nothing left out");
}

/// 容缺受理: only a deferrable material, only under the applicant's written commitment; the
/// review goes on, but the application is decided when the material has come — and refused,
/// as the commitment says, when its date passes first.
#[test]
fn tolerance_needs_a_commitment_waits_for_the_material_and_refuses_when_overdue() {
    let w = World::new(5_000_000);
    let (i, _) = w.start(datetime!(2025-03-03 09:00 +8));
    let tolerate = |material: &str, commitment: &str| Action::Tolerate {
        material: material.into(),
        due: date!(2025 - 03 - 10),
        note: "".into(),
        commitment: commitment.into(),
    };
    let at = datetime!(2025-03-03 10:00 +8);
    let core = w.apply(
        &i,
        Event::Act { task: 1, actor: staff("sjj", "dept_staff"), action: tolerate("fire_design", "承诺") },
        at,
    );
    assert!(matches!(core, Err(WorkflowError::Invalid(m)) if m.contains("核心材料")));
    let bare =
        w.apply(&i, Event::Act { task: 1, actor: staff("sjj", "dept_staff"), action: tolerate("site_plan", " ") }, at);
    assert!(matches!(bare, Err(WorkflowError::Invalid(m)) if m.contains("书面承诺")));
    let commitment = "本单位承诺于 2025-03-10 前补交总平面图，逾期未交的，同意不予许可";
    let i = w.act(&i, 1, staff("sjj", "dept_staff"), tolerate("site_plan", commitment), at);
    assert_eq!(i.open_tasks().count(), 1, "accepted, the step still to decide: a deferral is no approval");
    assert_eq!(i.tolerances[0].commitment, commitment);
    let i = w.act(&i, 1, staff("sjj", "dept_staff"), approve(), at);
    assert_eq!(i.open_tasks().count(), 3, "went on without the material");
    let mut done = i.clone();
    for (step, dept) in [("fire", "gaj"), ("planning", "zrzyj"), ("traffic", "jtj")] {
        done = w.act(&done, task_of(&done, step), staff(dept, "dept_staff"), approve(), datetime!(2025-03-04 09:00 +8));
    }
    assert_eq!(done.status, Status::Running, "every step approved, the material not yet come");
    assert!(done.awaiting_supply);
    let (ok, eff) = w
        .apply(
            &done,
            Event::SupplyMaterial { actor: applicant(), material: "site_plan".into() },
            datetime!(2025-03-06 09:00 +8),
        )
        .unwrap();
    assert_eq!(ok.status, Status::Approved);
    assert!(eff.iter().any(|e| matches!(e, Effect::Finished { status: Status::Approved })));

    // Not supplied by its date: refused, the reason and the rights of review told.
    let (late, eff) = w.apply(&done, Event::ToleranceDue { index: 0 }, datetime!(2025-03-11 00:00 +8)).unwrap();
    assert_eq!(late.status, Status::Rejected);
    assert!(late.outcome_reason.as_deref().unwrap().contains("逾期未补交"));
    assert!(eff.iter().any(
        |e| matches!(e, Effect::Notify { to: Recipient::Applicant, text } if text.contains("依申请人书面承诺不予许可") && text.contains("行政复议"))
    ));
}

/// 行政许可法 art. 42 ¶1: twenty days, extendable once by ten with the head's approval, the
/// reason told to the applicant.
#[test]
fn art_42_the_limit_extends_once_by_ten_working_days() {
    let w = World::new(5_000_000);
    let (i, _) = w.start(datetime!(2025-03-03 09:00 +8));
    let at = datetime!(2025-03-03 10:00 +8);
    let extend =
        |days: u32, approver: &str| Action::Extend {
            days, approver: approver.into(), reason: "需现场核查".into()
        };
    let act =
        |i: &Instance, a: Action| w.apply(i, Event::Act { task: 1, actor: staff("sjj", "dept_staff"), action: a }, at);
    assert!(matches!(act(&i, extend(11, "局长")), Err(WorkflowError::Invalid(m)) if m.contains("第四十二条")));
    assert!(matches!(act(&i, extend(10, "")), Err(WorkflowError::Invalid(m)) if m.contains("负责人批准")));
    assert_eq!(i.tasks[0].deadline, Some(datetime!(2025-03-05 00:00 +8)), "one working day: 4 March");
    let (x, eff) = act(&i, extend(10, "局长王某")).unwrap();
    // Eleven working days from 3 March: 4–7, 10–14, 17–18 March.
    assert_eq!(x.tasks[0].deadline, Some(datetime!(2025-03-19 00:00 +8)));
    assert!(eff.iter().any(
        |e| matches!(e, Effect::Notify { to: Recipient::Applicant, text } if text.contains("需现场核查") && text.contains("第四十二条"))
    ));
    assert!(matches!(act(&x, extend(1, "局长")), Err(WorkflowError::Invalid(m)) if m.contains("只能延长一次")));
}

/// 行政许可法 art. 45: a hearing's time is not counted; the applicant is told how long it
/// needs; nothing but its end may be recorded meanwhile.
#[test]
fn art_45_a_hearing_is_not_counted_in_the_limit() {
    let w = World::new(5_000_000);
    let (i, _) = w.start(datetime!(2025-03-03 09:00 +8));
    let i = w.act(&i, 1, staff("sjj", "dept_staff"), approve(), datetime!(2025-03-03 10:00 +8));
    let fire = task_of(&i, "fire");
    let hearing =
        Action::Exclude { kind: ExclusionKind::Hearing, days: 10, note: "利害关系人申请听证".into() };
    let (h, eff) = w
        .apply(
            &i,
            Event::Act { task: fire, actor: staff("gaj", "dept_staff"), action: hearing },
            datetime!(2025-03-04 09:00 +8),
        )
        .unwrap();
    let t = h.task(fire).unwrap();
    assert!(!t.clock.is_running() && t.deadline.is_none() && t.excluded.is_some());
    // Stored as JSON and read back.
    let again: Instance = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
    assert_eq!(again, h);
    assert!(eff.iter().any(
        |e| matches!(e, Effect::Notify { to: Recipient::Applicant, text } if text.contains("听证") && text.contains("10 个工作日") && text.contains("第四十五条"))
    ));
    let early = w.apply(
        &h,
        Event::Act { task: fire, actor: staff("gaj", "dept_staff"), action: approve() },
        datetime!(2025-03-05 09:00 +8),
    );
    assert!(matches!(early, Err(WorkflowError::Invalid(m)) if m.contains("恢复计时")));
    // Two weeks of hearing, then two working days used before it; one left.
    let back = w.act(
        &h,
        fire,
        staff("gaj", "dept_staff"),
        Action::Resume { note: "听证结束".into() },
        datetime!(2025-03-18 09:00 +8),
    );
    let t = back.task(fire).unwrap();
    assert!(t.clock.is_running() && t.excluded.is_none());
    assert_eq!(t.deadline, Some(datetime!(2025-03-21 00:00 +8)), "3 working days: 4 March, then 19 and 20 March");
    assert_eq!(back.excluded_days, 10, "5 to 18 March");
    assert_eq!(back.handling_days(datetime!(2025-03-18 09:00 +8), &w.cal), 1);
}

#[test]
fn parallel_rejection_after_all_and_auto_reject() {
    let w = World::new(5_000_000);
    let (i, _) = w.start(datetime!(2025-03-03 09:00 +8));
    let i = w.act(&i, 1, staff("sjj", "dept_staff"), approve(), datetime!(2025-03-03 10:00 +8));
    let i = w.act(
        &i,
        task_of(&i, "fire"),
        staff("gaj", "dept_staff"),
        Action::Reject { reason: "law".into(), text: "消防通道不足".into() },
        datetime!(2025-03-03 11:00 +8),
    );
    assert_eq!(i.status, Status::Running, "after_all: the others still decide");
    let i = w.act(&i, task_of(&i, "planning"), staff("zrzyj", "dept_staff"), approve(), datetime!(2025-03-03 11:00 +8));
    // Traffic has 8 working hours from 10:00 Monday: 5 on Monday, 3 on Tuesday morning.
    let traffic = task_of(&i, "traffic");
    assert_eq!(i.task(traffic).unwrap().deadline, Some(datetime!(2025-03-04 11:30 +8)));
    let (i, _) = w.apply(&i, Event::Timeout { task: traffic, timer: 1 }, datetime!(2025-03-04 11:30 +8)).unwrap();
    assert_eq!(i.status, Status::Rejected);
    assert_eq!(
        i.outcome_reason.as_deref(),
        Some("消防审查：不符合法定条件（消防通道不足）；交通审查：超过8个工作小时未办理，自动驳回")
    );
}

#[test]
fn statistics_per_item_and_department() {
    let w = World::new(5_000_000);
    let (i, _) = w.start(datetime!(2025-03-03 09:00 +8));
    let i = w.act(&i, 1, staff("sjj", "dept_staff"), approve(), datetime!(2025-03-04 09:00 +8));
    let mut i = i;
    for (step, dept) in [("fire", "gaj"), ("planning", "zrzyj"), ("traffic", "jtj")] {
        i = w.act(&i, task_of(&i, step), staff(dept, "dept_staff"), approve(), datetime!(2025-03-05 09:00 +8));
    }
    let (j, _) = w.start(datetime!(2025-03-03 09:00 +8));
    let now = datetime!(2025-03-10 09:00 +8);
    let items = stats::by_item(&[i.clone(), j], now, &w.cal);
    let f = &items["joint_permit"];
    assert_eq!((f.count, f.completed, f.rejected), (2, 1, 0));
    assert_eq!(f.avg, 2.0);
    let d = stats::by_department(&[i], now, &w.cal);
    let gaj = &d[&("gaj".to_string(), "工作日".to_string())];
    assert_eq!((gaj.completed, gaj.avg), (1, 1.0));
}

// ---------------------------------------------------------------- properties

#[derive(Debug, Clone)]
enum Step {
    Approve(usize),
    Reject(usize, bool),
    Return(usize, u8),
    Resubmit(u8),
    Withdraw,
    Advance(i64),
    FireTimers,
    Tolerate(usize),
    Extend(usize),
    Exclude(usize),
    Resume(usize),
    Supply,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let one = prop_oneof![
        4 => (0usize..5).prop_map(Step::Approve),
        1 => ((0usize..5), any::<bool>()).prop_map(|(t, r)| Step::Reject(t, r)),
        1 => ((0usize..5), 0u8..4).prop_map(|(t, m)| Step::Return(t, m)),
        2 => (0u8..4).prop_map(Step::Resubmit),
        1 => Just(Step::Withdraw),
        3 => (1i64..96).prop_map(Step::Advance),
        3 => Just(Step::FireTimers),
        1 => (0usize..5).prop_map(Step::Tolerate),
        1 => (0usize..5).prop_map(Step::Extend),
        1 => (0usize..5).prop_map(Step::Exclude),
        1 => (0usize..5).prop_map(Step::Resume),
        1 => Just(Step::Supply),
    ];
    prop::collection::vec(one, 1..40)
}

fn actor_for(t: &Task) -> Actor {
    staff(&t.actor.department, &t.actor.role)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever happens in whatever order: one outcome at most, every rejection has a reason,
    /// no deemed approval before its deadline, clocks stopped during a timely correction, timers never
    /// resurrect a finished instance.
    #[test]
    fn invariants_hold_under_any_sequence(seq in steps(), investment in prop_oneof![Just(5_000_000i64), Just(200_000_000i64)]) {
        let w = World::new(investment);
        let mut now = datetime!(2025-09-26 09:00 +8);
        let (mut inst, mut effects) = w.start(now);
        let mut outcomes = 0;
        let targets = ["site_plan", "fire_design", "area", "investment"];
        for s in seq {
            let open: Vec<Task> = inst.open_tasks().cloned().collect();
            let before_final = inst.status.is_final();
            let result = match s {
                Step::Approve(k) if !open.is_empty() => {
                    let t = &open[k % open.len()];
                    w.apply(&inst, Event::Act { task: t.no, actor: actor_for(t), action: approve() }, now)
                }
                Step::Reject(k, with_reason) if !open.is_empty() => {
                    let t = &open[k % open.len()];
                    let reason = if with_reason { "law" } else { "" };
                    w.apply(&inst, Event::Act { task: t.no, actor: actor_for(t), action: Action::Reject { reason: reason.into(), text: "说明".into() } }, now)
                }
                Step::Return(k, m) if !open.is_empty() => {
                    let t = &open[k % open.len()];
                    let items = vec![Deficiency { target: targets[m as usize].into(), note: "补正".into() }];
                    w.apply(&inst, Event::Act { task: t.no, actor: actor_for(t), action: Action::Return { items } }, now)
                }
                Step::Resubmit(m) => w.apply(&inst, Event::Resubmit { actor: applicant(), changed: vec![targets[m as usize].into()] }, now),
                Step::Withdraw => w.apply(&inst, Event::Withdraw { actor: applicant(), reason: "不办了".into() }, now),
                Step::Tolerate(k) if !open.is_empty() => {
                    let t = &open[k % open.len()];
                    let due = crate::clock::local(now).date() + Duration::days(5);
                    let action = Action::Tolerate { material: "site_plan".into(), due, note: String::new(), commitment: "承诺".into() };
                    w.apply(&inst, Event::Act { task: t.no, actor: actor_for(t), action }, now)
                }
                Step::Extend(k) if !open.is_empty() => {
                    let t = &open[k % open.len()];
                    let action = Action::Extend { days: 10, approver: "局长".into(), reason: "核查".into() };
                    w.apply(&inst, Event::Act { task: t.no, actor: actor_for(t), action }, now)
                }
                Step::Exclude(k) if !open.is_empty() => {
                    let t = &open[k % open.len()];
                    let action = Action::Exclude { kind: ExclusionKind::ExpertReview, days: 5, note: "专家评审".into() };
                    w.apply(&inst, Event::Act { task: t.no, actor: actor_for(t), action }, now)
                }
                Step::Resume(k) if !open.is_empty() => {
                    let t = &open[k % open.len()];
                    w.apply(&inst, Event::Act { task: t.no, actor: actor_for(t), action: Action::Resume { note: String::new() } }, now)
                }
                Step::Supply => w.apply(&inst, Event::SupplyMaterial { actor: applicant(), material: "site_plan".into() }, now),
                Step::Advance(h) => {
                    now += Duration::hours(h);
                    continue;
                }
                Step::FireTimers => {
                    // Deliver every scheduled timer that is due, in order.
                    let mut due: Vec<(OffsetDateTime, Timer)> = effects.iter().filter_map(|e| match e {
                        Effect::Schedule { timer, at } if *at <= now => Some((*at, timer.clone())),
                        _ => None,
                    }).collect();
                    due.sort_by_key(|(at, _)| *at);
                    let (mut cur, mut all) = (inst.clone(), vec![]);
                    for (_, timer) in due {
                        let ev = match timer { Timer::Deadline { task, timer } => Event::Timeout { task, timer }, Timer::Tolerance { index } => Event::ToleranceDue { index } };
                        if let Ok((i, mut e)) = w.apply(&cur, ev, now) {
                            cur = i;
                            all.append(&mut e);
                        }
                    }
                    let r: Result<(Instance, Vec<Effect>), WorkflowError> = Ok((cur, all));
                    r
                }
                _ => continue,
            };
            if let Ok((next, eff)) = result {
                for e in &eff {
                    if let Effect::Finished { .. } = e { outcomes += 1; }
                }
                prop_assert!(!(before_final && next != inst), "a finished instance changed");
                // Keep scheduled timers; drop cancelled and delivered ones.
                effects.retain(|e| matches!(e, Effect::Schedule { at, .. } if *at > now));
                effects.extend(eff.into_iter().filter(|e| matches!(e, Effect::Schedule { .. })));
                inst = next;
            }
            prop_assert!(outcomes <= 1, "two outcomes");
            if inst.status == Status::Rejected {
                prop_assert!(inst.outcome_reason.as_ref().is_some_and(|r| !r.is_empty()));
                // A refusal comes from a reasoned rejection, or from a tolerated material not
                // supplied by the date the applicant committed to.
                prop_assert!(inst.records.iter().any(|r| (matches!(r.action.as_str(), "reject" | "auto_reject") && r.reason.is_some()) || r.action == "tolerance_overdue"));
            }
            // Clocks stop during correction — unless the notice came after the five days of
            // 行政许可法 art. 32(4), when the application counts as accepted and they run on.
            if inst.status == Status::Correcting && !inst.correction_counts {
                prop_assert!(inst.open_tasks().all(|t| !t.clock.is_running()));
            }
            // 行政许可法 art. 45: no clock runs while its time is excluded.
            prop_assert!(inst.tasks.iter().filter(|t| t.excluded.is_some()).all(|t| !t.clock.is_running()));
            // Decided only once no tolerated material is outstanding.
            if inst.status == Status::Approved {
                prop_assert!(inst.tolerances.iter().all(|t| t.fulfilled_at.is_some()));
            }
            for t in &inst.tasks {
                if t.status == TaskStatus::DeemedApproved {
                    let decided = t.decided_at.unwrap();
                    let deadline = SlaClock { sla: t.clock.sla, used: 0, running_since: Some(t.opened_at) };
                    // Never earlier than the deadline an uninterrupted clock would have had.
                    prop_assert!(decided >= deadline.deadline(&w.cal).unwrap());
                }
            }
        }
    }
}

/// 行政许可法 art. 32 ¶1(4): at the window's acceptance every material is received or, if
/// deferrable, tolerated under a commitment; otherwise the application is not accepted and the
/// applicant is told at once what to supply.
#[test]
fn art_32_acceptance_checks_the_materials_received() {
    let mut w = World::new(5_000_000);
    w.def.steps.iter_mut().find(|s| s.id == "accept").unwrap().check_materials = true;
    let (i, _) = w.start(datetime!(2025-03-03 09:00 +8));
    let at = datetime!(2025-03-03 10:00 +8);
    let accept = |received: &[&str]| Action::Approve {
        comment: String::new(),
        received: received.iter().map(|s| s.to_string()).collect(),
    };
    let none = w.apply(&i, Event::Act { task: 1, actor: staff("sjj", "dept_staff"), action: accept(&[]) }, at);
    assert!(
        matches!(&none, Err(WorkflowError::Invalid(m)) if m.contains("总平面图、消防设计文件") && m.contains("第三十二条")),
        "{none:?}"
    );
    // The deferrable plan tolerated under a commitment, the core design received: accepted,
    // and the record says what was received.
    let tolerate = Action::Tolerate {
        material: "site_plan".into(),
        due: date!(2025 - 03 - 10),
        note: "".into(),
        commitment: "承诺按期补交总平面图".into(),
    };
    let i = w.act(&i, 1, staff("sjj", "dept_staff"), tolerate, at);
    let i = w.act(&i, 1, staff("sjj", "dept_staff"), accept(&["fire_design"]), at);
    assert_eq!(i.open_tasks().count(), 3);
    assert!(i.records.iter().any(|r| r.text.contains("收到材料：消防设计文件")), "{:?}", i.records);
}
