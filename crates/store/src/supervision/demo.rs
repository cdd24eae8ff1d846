//! The supervision case's demo data.

use crate::Result;
use crate::config::CityConfig;
use crate::seam::{DemoContext, DemoFuture, DemoPhase, DemoStep};
use time::OffsetDateTime;

pub struct Demo;

impl DemoStep for Demo {
    fn load<'a>(&'a self, phase: DemoPhase, tx: &'a mut crate::Conn, cx: &'a DemoContext<'a>) -> DemoFuture<'a> {
        Box::pin(async move {
            if phase == DemoPhase::AfterAccounts {
                demo_supervision(tx, &crate::supervision::Caches::of(cx.db), cx.cfg, cx.city, cx.now).await?;
            }
            Ok(vec![])
        })
    }
}

/// 亳安码 in the demo city: three residents on bail (取保候审) held by the police, each kept to
/// their county of residence (a division fence, 刑事诉讼法 art. 71 ¶1(1)) and away from a zone
/// in their town; a week of fixes, in which one of them left the county for a while — an alarm
/// waiting for the officer and a yellow code.
async fn demo_supervision(
    tx: &mut crate::Conn,
    caches: &crate::supervision::Caches,
    cfg: &CityConfig,
    city: &domain::demo::DemoCity,
    now: OffsetDateTime,
) -> Result<()> {
    use crate::supervision::{InFix, NewFence, NewPerson, add_fence, create_person, ingest_fixes};
    let officer: Option<(String, String, Option<String>)> =
        sqlx::query_as("SELECT id, display_name, department_id FROM users WHERE login = 'gongan'")
            .fetch_optional(&mut *tx)
            .await?;
    let Some((officer_id, officer_name, agency)) = officer else { return Ok(()) };
    let today = domain::clock::local(now).date();
    for (i, c) in city.citizens.iter().skip(1).step_by(97).take(3).enumerate() {
        let town = city.towns.iter().find(|t| t.code == c.division_code);
        let Some(town) = town else { continue };
        let n = NewPerson {
            id_card_no: c.id_card_no.to_string(),
            name: c.name.clone(),
            phone: c.phone.clone(),
            address: c.address.clone(),
            division_code: c.division_code.to_string(),
            stage: "police".into(),
            measure: "取保候审".into(),
            // Twelve months, the most 取保候审 may last (刑事诉讼法 art. 79).
            measure_from: today - time::Duration::days(30 + 20 * i as i64),
            measure_to: domain::supervision::add_months(today - time::Duration::days(30 + 20 * i as i64), 12)
                - time::Duration::days(1),
        };
        // The first of them logs in (before being registered, so the record links the account).
        let login = if i == 0 { Some(ensure_login(tx, cfg, now, c).await?) } else { None };
        let id = create_person(tx, now, &n, agency.as_deref(), (&officer_id, &officer_name)).await?;
        let person = crate::supervision::person_in(tx, &id).await?;
        let by = (officer_id.as_str(), officer_name.as_str());
        // The county of residence, the least 刑事诉讼法 art. 71 ¶1(1) allows.
        let county = &town.code.as_str()[..6];
        let home = NewFence {
            name: "居住地所在县（市、区）".into(),
            rule: domain::supervision::Rule::Allowed,
            geometry: format!(r#"{{"type":"Division","code":"{county}"}}"#),
            datum: domain::geo::Datum::Wgs84,
            window: None,
        };
        add_fence(tx, caches, now, &person, &home, by).await?;
        let centre = town.ring.centroid();
        let zone = NewFence {
            name: "被害人住所周边".into(),
            rule: domain::supervision::Rule::Forbidden,
            geometry: format!(r#"{{"type":"Circle","center":[{},{}],"radius_m":300}}"#, centre.lon, centre.lat),
            datum: domain::geo::Datum::Wgs84,
            window: None,
        };
        add_fence(tx, caches, now, &person, &zone, by).await?;
        // A week of fixes every two hours near home; the second person leaves the county for
        // the one beside it on the last day.
        let (x0, y0, x1, y1) = town.ring.bbox();
        let east = city
            .towns
            .iter()
            .filter(|t| t.code.as_str().starts_with(county))
            .map(|t| t.ring.bbox().2)
            .fold(x1, f64::max);
        let start = domain::clock::to_millis(now) - 7 * 86_400_000;
        let mut fixes = vec![];
        for k in 0..84i64 {
            let at = start + k * 2 * 3_600_000;
            let away = i == 1 && k >= 78;
            let (lon, lat) = if away {
                (east + 0.1, (y0 + y1) / 2.0)
            } else {
                let p = ((k * 37 % 100) as f64 / 100.0, (k * 53 % 100) as f64 / 100.0);
                (x0 + (x1 - x0) * (0.3 + 0.4 * p.0), y0 + (y1 - y0) * (0.3 + 0.4 * p.1))
            };
            // Keep clear of the forbidden zone in the town's middle.
            let (lon, lat) = if !away && (lon - centre.lon).abs() < 0.01 && (lat - centre.lat).abs() < 0.01 {
                (lon + 0.02, lat)
            } else {
                (lon, lat)
            };
            fixes.push(InFix { at, lon, lat, datum: None, accuracy_m: Some(15.0), source: Some("gps".into()) });
        }
        ingest_fixes(tx, caches, cfg, now, &person, &fixes, &Default::default()).await?;
        if let Some(user_id) = login {
            person_side(tx, cfg, now, &person, (&user_id, &c.name), by).await?;
        }
    }
    Ok(())
}

/// The citizen login of a demo resident (the ID number, the demo password), made if missing.
async fn ensure_login(
    tx: &mut crate::Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    c: &domain::demo::DemoCitizen,
) -> Result<String> {
    use crate::auth::{self, NewUser};
    let login = c.id_card_no.to_string();
    let existing: Option<String> =
        sqlx::query_scalar("SELECT id FROM users WHERE login = $1").bind(&login).fetch_optional(&mut *tx).await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let role = auth::role_id_by_code(tx, "citizen")
        .await?
        .ok_or_else(|| crate::StoreError::NotFound("群众角色 citizen".into()))?;
    let hash = domain::auth::password::hash(&cfg.demo.password, &crate::random_bytes::<16>());
    auth::create_user(
        tx,
        now,
        &NewUser {
            kind: Some(domain::auth::UserKind::Citizen),
            login: login.clone(),
            display_name: c.name.clone(),
            password_hash: hash,
            division_code: Some(c.division_code.to_string()),
            id_card_no: Some(login),
            phone: c.phone.clone(),
            role_ids: vec![role],
            ..Default::default()
        },
    )
    .await
}

/// The supervised person's side of 亳安码: a leave request waiting for the officer and a
/// check-in task due tomorrow.
async fn person_side(
    tx: &mut crate::Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    person: &crate::supervision::Person,
    who: (&str, &str),
    officer: (&str, &str),
) -> Result<()> {
    let ms = domain::clock::to_millis(now);
    let tomorrow_8 = {
        let d = domain::clock::local(now).date().next_day().expect("date");
        domain::clock::to_millis(domain::clock::from_local(time::PrimitiveDateTime::new(d, time::macros::time!(8:00))))
    };
    // A trip to the provincial capital, the kind of leave the presets offer (合肥市区).
    if let Some(preset) = cfg.leave_presets.iter().find(|p| p.id == "hefei").or(cfg.leave_presets.first()) {
        let leave = crate::supervision::NewLeave {
            preset: preset.id.clone(),
            destination: "安徽医科大学第一附属医院".into(),
            reason: "陪同母亲到省城复诊".into(),
            from_ms: tomorrow_8,
            to_ms: tomorrow_8 + 10 * 3_600_000,
        };
        crate::supervision::request_leave(tx, cfg, now, person, &leave, who).await?;
    }
    let task = crate::supervision::NewTask {
        kind: "scheduled".into(),
        open_at: ms,
        due_at: tomorrow_8 + 12 * 3_600_000,
        note: "在居住地打卡".into(),
    };
    crate::supervision::issue_task(tx, now, person, &task, officer).await?;
    Ok(())
}
