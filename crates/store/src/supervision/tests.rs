use super::*;
use crate::config::{ConfigSource, load};
use crate::testing;
use domain::geo::Datum;
use domain::supervision::{Hysteresis, Rule};
use time::macros::datetime;

#[tokio::test]
async fn location_data_is_purged_after_the_retention_and_the_purge_is_audited() {
    let (db, _d) = testing::db().await;
    let cfg = load(&ConfigSource::Embedded).unwrap();
    let now = datetime!(2026-11-27 08:00 UTC);
    crate::demo::bootstrap(&db, &cfg, now).await.unwrap();
    crate::demo::ensure_admin(&db, now).await.unwrap();
    let officer: String =
        sqlx::query_scalar("SELECT id FROM users WHERE login = 'admin'").fetch_one(db.reader()).await.unwrap();
    let by = (officer.as_str(), "民警");
    let mut tx = db.begin().await.unwrap();
    let agency: String =
        sqlx::query_scalar("SELECT id FROM departments WHERE code = 'gaj'").fetch_one(&mut *tx).await.unwrap();
    let mut ids = vec![];
    for (i, (from, to)) in [("2025-01-01", "2026-03-01"), ("2026-01-01", "2026-10-01")].iter().enumerate() {
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
        let fixes: Vec<InFix> = (0..5)
            .map(|k| InFix {
                at: 1_760_000_000_000 + k * 1000,
                lon: 130.0,
                lat: 45.0,
                datum: None,
                accuracy_m: None,
                source: None,
            })
            .collect();
        add_fence(
            &mut tx,
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
        ingest_fixes(&mut tx, &cfg, now, &person, &fixes, &Hysteresis::default()).await.unwrap();
        ids.push(id);
    }
    // Ended 2026-03-01 (over 180 days ago): purged; ended 2026-10-01: kept.
    let (persons, fixes, events) = purge_locations(&mut tx, now, 180).await.unwrap();
    assert_eq!((persons, fixes, events), (1, 5, 5));
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sup_fixes WHERE person_id = $1")
        .bind(&ids[1])
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(left, 5);
    // A second night finds nothing more to do.
    assert_eq!(purge_locations(&mut tx, now, 180).await.unwrap().0, 0);
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'supervision.purge'")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(audited, 1);
    tx.commit().await.unwrap();
}
