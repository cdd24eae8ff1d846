use super::*;
use crate::config::{ConfigSource, load};
use crate::testing;
use domain::geo::Datum;
use domain::supervision::{Hysteresis, PersonStatus, Rule};
use ending::ExpiryReport;
use time::OffsetDateTime;
use time::macros::datetime;

/// A database with the demo's organisation, an officer (the administrator, for the tests) and
/// the police agency's id.
async fn setup(now: OffsetDateTime) -> (crate::Db, tempfile::TempDir, crate::config::CityConfig, String, String) {
    let (db, dir) = testing::db().await;
    let cfg = load(&ConfigSource::Embedded).unwrap();
    crate::demo::bootstrap(&db, &cfg, now).await.unwrap();
    crate::demo::ensure_admin(&db, now).await.unwrap();
    let officer: String =
        sqlx::query_scalar("SELECT id FROM users WHERE login = 'admin'").fetch_one(db.reader()).await.unwrap();
    let agency: String =
        sqlx::query_scalar("SELECT id FROM departments WHERE code = 'gaj'").fetch_one(db.reader()).await.unwrap();
    (db, dir, cfg, officer, agency)
}

#[tokio::test]
async fn location_data_is_purged_after_the_retention_and_the_purge_is_audited() {
    let now = datetime!(2026-11-27 08:00 UTC);
    let (db, _d, cfg, officer, agency) = setup(now).await;
    let by = (officer.as_str(), "民警");
    let mut tx = db.begin().await.unwrap();
    let mut ids = vec![];
    for (i, (from, to)) in [("2025-03-02", "2026-03-01"), ("2026-01-01", "2026-10-01")].iter().enumerate() {
        let n = NewPerson {
            id_card_no: domain::IdCardNo::from_body(&format!("34160219800101{:03}", i + 1)).unwrap().to_string(),
            name: format!("对象{i}"),
            phone: String::new(),
            address: String::new(),
            division_code: "341602".into(),
            stage: "police".into(),
            measure: "取保候审".into(),
            measure_from: time::Date::parse(from, &time::macros::format_description!("[year]-[month]-[day]")).unwrap(),
            measure_to: time::Date::parse(to, &time::macros::format_description!("[year]-[month]-[day]")).unwrap(),
        };
        let id = create_person(&mut tx, now, &n, Some(&agency), by).await.unwrap();
        let person = person_in(&mut tx, &id).await.unwrap();
        // Each person's fixes in a month of their own (2025-06 and 2026-02, China time).
        let fixes: Vec<InFix> = (0..5)
            .map(|k| InFix {
                at: [1_750_000_000_000, 1_770_000_000_000][i] + k * 1000,
                lon: 130.0,
                lat: 45.0,
                datum: None,
                accuracy_m: None,
                source: None,
            })
            .collect();
        add_fence(
            &mut tx,
            &Caches::of(&db),
            now,
            &person,
            &NewFence {
                name: "家".into(),
                rule: Rule::Allowed,
                geometry: r#"{"type":"Circle","center":[115.78,33.85],"radius_m":1000}"#.into(),
                datum: Datum::Wgs84,
                window: None,
            },
            by,
        )
        .await
        .unwrap();
        ingest_fixes(&mut tx, &Caches::of(&db), &cfg, now, &person, &fixes, &Hysteresis::default()).await.unwrap();
        ids.push(id);
    }
    // As the server does: fixes folded, then the months made (PostgreSQL; nothing on SQLite).
    fold(&mut tx, &Caches::of(&db), i64::MAX, &Hysteresis::default()).await.unwrap();
    let made = crate::partitions::ensure_all(&mut tx, now).await.unwrap();
    let postgres = db.backend() == crate::Backend::Postgres;
    assert_eq!(made.made.contains(&"sup_fixes_p202506".to_string()), postgres, "{made:?}");
    // Ended 2026-03-01 (over 180 days ago): purged; ended 2026-10-01: kept. On PostgreSQL the
    // first person's month goes whole; the second's stays.
    let (persons, fixes, events) = purge_locations(&mut tx, &Caches::of(&db), now, 180).await.unwrap();
    assert_eq!((persons, fixes, events), (1, 5, 5));
    let months: Vec<String> =
        crate::partitions::months(&mut tx, "sup_fixes").await.unwrap().into_iter().map(|p| p.name).collect();
    assert!(!months.contains(&"sup_fixes_p202506".to_string()), "{months:?}");
    assert_eq!(months.contains(&"sup_fixes_p202602".to_string()), postgres, "{months:?}");
    let by_month: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'supervision.purge' AND detail LIKE '按月删除%'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(by_month, if postgres { 2 } else { 0 }, "the fixes' and the violations' months");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sup_fixes WHERE person_id = $1")
        .bind(&ids[1])
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(left, 5);
    // A second night finds nothing more to do.
    assert_eq!(purge_locations(&mut tx, &Caches::of(&db), now, 180).await.unwrap().0, 0);
    // Per person: the check-in coordinates and leave destinations still go person by person.
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'supervision.purge' AND object_type = 'sup_person'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(audited, if postgres { 0 } else { 1 });
    tx.commit().await.unwrap();
}

/// The durable path: fixes go to the log and are folded later; a fix sent again is a duplicate
/// whether it is still in the log or already folded; a late fix is recorded (flagged) but does
/// not move the state; and the state survives losing the cache (a restart) exactly.
#[tokio::test]
async fn logged_fixes_are_idempotent_late_ones_flagged_and_the_state_survives_a_restart() {
    let now = datetime!(2026-11-27 08:00 UTC);
    let (db, _d, cfg, officer, agency) = setup(now).await;
    let mut tx = db.begin().await.unwrap();
    let n = NewPerson {
        id_card_no: domain::IdCardNo::from_body("34160219800101077").unwrap().to_string(),
        name: "对象".into(),
        phone: String::new(),
        address: String::new(),
        division_code: "341602".into(),
        stage: "police".into(),
        measure: "取保候审".into(),
        measure_from: time::macros::date!(2026 - 11 - 01),
        measure_to: time::macros::date!(2027 - 05 - 01),
    };
    let id = create_person(&mut tx, now, &n, Some(&agency), (officer.as_str(), "民警")).await.unwrap();
    let person = person_in(&mut tx, &id).await.unwrap();
    add_fence(
        &mut tx,
        &Caches::of(&db),
        now,
        &person,
        &NewFence {
            name: "家".into(),
            rule: Rule::Allowed,
            geometry: r#"{"type":"Circle","center":[115.78,33.85],"radius_m":1000}"#.into(),
            datum: Datum::Wgs84,
            window: None,
        },
        (officer.as_str(), "民警"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let t0 = 1_764_200_000_000i64;
    let fix = |at: i64, out: bool| InFix {
        at,
        lon: if out { 115.90 } else { 115.78 },
        lat: 33.85,
        datum: None,
        accuracy_m: Some(5.0),
        source: None,
    };
    let h = Hysteresis::default();
    let send = |fixes: Vec<InFix>| {
        let (db, cfg, id) = (db.clone(), cfg.clone(), id.clone());
        async move {
            let rows: Vec<(&str, &InFix)> = fixes.iter().map(|f| (id.as_str(), f)).collect();
            ingest_durable(&db, &cfg, now, &rows, &Hysteresis::default()).await.unwrap()
        }
    };
    // Inside, then two violations (3 confirm an alarm): recorded, no alarm yet.
    let r = send(vec![fix(t0, false), fix(t0 + 1000, true), fix(t0 + 2000, true)]).await;
    assert_eq!((r.accepted, r.violations, r.alarms_opened), (3, 2, 0));
    // Sent again while still in the log: all duplicates.
    let r = send(vec![fix(t0 + 1000, true), fix(t0 + 2000, true)]).await;
    assert_eq!((r.accepted, r.duplicates), (0, 2));
    // Folded (as the server does once a second), then the cache lost as in a restart.
    assert_eq!(fold_pending(&db, FoldWhen::Always, &h).await.unwrap(), 3);
    let lose_cache = || async { Caches::of(&db).trackers.clear() };
    lose_cache().await;
    let r = send(vec![fix(t0 + 2000, true)]).await;
    assert_eq!((r.accepted, r.duplicates), (0, 1), "a folded fix is a duplicate too");
    // A late fix never seen before: recorded and flagged, state unmoved (an inside fix would
    // otherwise have cleared the streak).
    let r = send(vec![fix(t0 + 500, false)]).await;
    assert_eq!((r.accepted, r.alarms_opened), (1, 0));
    // The third violation in a row confirms the alarm: the streak of two survived the restart.
    let r = send(vec![fix(t0 + 3000, true)]).await;
    assert_eq!((r.accepted, r.violations, r.alarms_opened), (1, 1, 1));
    // Lost again with fixes still in the log: rebuilt from the saved state plus the log.
    lose_cache().await;
    let r = send(vec![fix(t0 + 4000, true)]).await;
    assert_eq!((r.accepted, r.alarms_opened), (1, 0), "one alarm per excursion");
    fold_pending(&db, FoldWhen::Always, &h).await.unwrap();
    let rows: Vec<(i64, i64, i64)> =
        sqlx::query_as("SELECT at, violation, late FROM sup_fixes WHERE person_id = $1 ORDER BY at")
            .bind(&id)
            .fetch_all(db.reader())
            .await
            .unwrap();
    let ats: Vec<i64> = rows.iter().map(|r| r.0 - t0).collect();
    assert_eq!(ats, vec![0, 500, 1000, 2000, 3000, 4000]);
    assert_eq!(rows.iter().map(|r| r.2).collect::<Vec<_>>(), vec![0, 1, 0, 0, 0, 0]);
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sup_events WHERE person_id = $1")
        .bind(&id)
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert_eq!(events, 4);
    let alarms: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sup_alarms WHERE person_id = $1")
        .bind(&id)
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert_eq!(alarms, 1);
}

/// 刑事诉讼法 art. 79: 取保候审 at most twelve months; at the end the measure is lifted and the
/// person and units told (¶2). Registration refuses a longer term; the agency is reminded 15 and
/// 3 days before the last day (once each); the day after it, collection stops (the device token
/// is revoked, fixes are refused) and the agency is told to lift it; 解除 records the reason,
/// tells the person, and lets the person be registered again under a new decision.
#[tokio::test]
async fn art_79_a_measure_ends_collection_stops_and_it_is_lifted() {
    let start = datetime!(2026-01-05 08:00 UTC);
    let (db, _d, cfg, officer, agency) = setup(start).await;
    let by = (officer.as_str(), "民警");
    let caches = Caches::of(&db);
    let mut tx = db.begin().await.unwrap();
    let mut n = NewPerson {
        id_card_no: domain::IdCardNo::from_body("34160219800101099").unwrap().to_string(),
        name: "对象".into(),
        phone: String::new(),
        address: String::new(),
        division_code: "341602".into(),
        stage: "police".into(),
        measure: "取保候审".into(),
        measure_from: time::macros::date!(2026 - 01 - 05),
        measure_to: time::macros::date!(2027 - 01 - 05),
    };
    let e = create_person(&mut tx, start, &n, Some(&agency), by).await.unwrap_err().to_string();
    assert!(e.contains("十二个月") && e.contains("2027-01-04"), "{e}");
    n.measure_to = time::macros::date!(2026 - 03 - 31);
    let id = create_person(&mut tx, start, &n, Some(&agency), by).await.unwrap();
    let person = person_in(&mut tx, &id).await.unwrap();
    let token = bind_device(&mut tx, start, &person, "phone-1", by).await.unwrap();
    assert!(!token.is_empty());
    tx.commit().await.unwrap();

    let night = |y: u16, m: u8, d: u8| {
        time::Date::from_calendar_date(y as i32, time::Month::try_from(m).unwrap(), d).unwrap().midnight().assume_utc()
            + time::Duration::hours(-7)
    };
    let run = |at: OffsetDateTime| {
        let db = db.clone();
        let caches = caches.clone();
        async move {
            let mut tx = db.begin().await.unwrap();
            let r = expire_and_warn(&mut tx, &caches, at).await.unwrap();
            tx.commit().await.unwrap();
            r
        }
    };
    // 16 March (15 days before the last day, 31 March): a reminder, once.
    assert_eq!(run(night(2026, 3, 16)).await.warned, 1);
    assert_eq!(run(night(2026, 3, 17)).await.warned, 0);
    // 28 March: the 3-day reminder.
    assert_eq!(run(night(2026, 3, 28)).await.warned, 1);
    // 31 March is still under the measure; 1 April it has run out.
    assert_eq!(run(night(2026, 3, 31)).await, ExpiryReport { warned: 0, expired: 0 });
    assert_eq!(run(night(2026, 4, 1)).await.expired, 1);
    let mut conn = db.reader().acquire().await.unwrap();
    let x = person_in(&mut conn, &id).await.unwrap();
    assert_eq!((x.status, x.ended_on.as_deref()), (PersonStatus::Expired, Some("2026-03-31")));
    let revoked: Option<i64> = sqlx::query_scalar(
        "SELECT t.revoked_at FROM api_tokens t JOIN sup_devices d ON d.token_id = t.id WHERE d.person_id = $1",
    )
    .bind(&id)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert!(revoked.is_some(), "the phone's token no longer works");
    drop(conn);
    // A fix after the end is refused: no one is under the measure.
    let fix = InFix { at: 1_775_100_000_000, lon: 115.78, lat: 33.85, datum: None, accuracy_m: None, source: None };
    let rep =
        ingest_durable(&db, &cfg, night(2026, 4, 2), &[(id.as_str(), &fix)], &Hysteresis::default()).await.unwrap();
    assert_eq!((rep.accepted, rep.rejected.len()), (0, 1));
    // 解除: reason required; the person is told; then they may be registered anew.
    let mut tx = db.begin().await.unwrap();
    let x = person_in(&mut tx, &id).await.unwrap();
    assert!(release(&mut tx, &caches, night(2026, 4, 2), &x, " ", by).await.is_err());
    release(&mut tx, &caches, night(2026, 4, 2), &x, "取保候审期限届满", by).await.unwrap();
    let x = person_in(&mut tx, &id).await.unwrap();
    assert_eq!(x.status, PersonStatus::Released);
    let told: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND text LIKE '%解除%'")
        .bind(x.user_id.as_deref().unwrap())
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(told, 1);
    assert!(release(&mut tx, &caches, night(2026, 4, 2), &x, "再次", by).await.is_err(), "only once");
    n.measure_from = time::macros::date!(2026 - 04 - 10);
    n.measure_to = time::macros::date!(2026 - 10 - 09);
    n.measure = "监视居住".into();
    create_person(&mut tx, night(2026, 4, 10), &n, Some(&agency), by).await.unwrap();
    tx.commit().await.unwrap();
}

/// 刑事诉讼法 arts. 67 ¶2, 74 ¶3: the police execute the measure at every stage, so what the
/// person reports or raises must reach someone even while no officer holds the case (after a
/// hand-off, before it is taken): then the agency's supervision officers are told.
#[tokio::test]
async fn without_an_officer_the_agency_is_told() {
    let now = datetime!(2026-11-27 08:00 UTC);
    let (db, _d, _cfg, officer, agency) = setup(now).await;
    let mut tx = db.begin().await.unwrap();
    let n = NewPerson {
        id_card_no: domain::IdCardNo::from_body("34160219800101088").unwrap().to_string(),
        name: "对象".into(),
        phone: String::new(),
        address: String::new(),
        division_code: "341602".into(),
        stage: "police".into(),
        measure: "取保候审".into(),
        measure_from: time::macros::date!(2026 - 11 - 01),
        measure_to: time::macros::date!(2027 - 04 - 30),
    };
    let id = create_person(&mut tx, now, &n, Some(&agency), (officer.as_str(), "民警")).await.unwrap();
    sqlx::query("UPDATE sup_persons SET officer_id = NULL WHERE id = $1").bind(&id).execute(&mut *tx).await.unwrap();
    let person = person_in(&mut tx, &id).await.unwrap();
    let r = NewReport { kind: "info_change", text: "新工作单位：亳州某公司", ..Default::default() };
    file_report(&mut tx, now, &person, &r).await.unwrap();
    let (dept, role): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT department, role FROM notifications WHERE text LIKE '%新工作单位%' ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!((dept.as_deref(), role.as_deref()), (Some("gaj"), Some("sup_officer")));
}
