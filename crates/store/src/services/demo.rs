//! The demo city's shared data: what the source departments would have pushed for its
//! enterprises and citizens, and the licenses issued by other systems (营业执照 from the
//! provincial registry, 身份证 and 户口簿 from public security).

use super::licenses;
use crate::config::CityConfig;
use crate::{Conn, Result, audit};
use domain::audit::AuditEntry;
use domain::clock::to_millis;
use domain::demo::DemoCity;
use serde_json::{Value, json};
use time::OffsetDateTime;

/// The services case's demo step: its shared data before the accounts are made.
pub struct Demo;

impl crate::seam::DemoStep for Demo {
    fn load<'a>(
        &'a self,
        phase: crate::seam::DemoPhase,
        tx: &'a mut Conn,
        cx: &'a crate::seam::DemoContext<'a>,
    ) -> crate::seam::DemoFuture<'a> {
        Box::pin(async move {
            if phase == crate::seam::DemoPhase::BeforeAccounts {
                load(tx, cx.cfg, cx.city, cx.now).await?;
            }
            Ok(vec![])
        })
    }
}

async fn put(conn: &mut Conn, now: OffsetDateTime, code: &str, subject: &str, data: Value, source: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO dx_records (interface, subject, data, source, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, 'demo')",
    )
    .bind(code)
    .bind(subject)
    .bind(data.to_string())
    .bind(source)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn yuan(fen: i64) -> String {
    format!("{}", fen / 100)
}

pub(crate) async fn load(conn: &mut Conn, cfg: &CityConfig, city: &DemoCity, now: OffsetDateTime) -> Result<()> {
    const CREDIT: [&str; 5] = ["A", "B", "A", "M", "B"];
    for (i, e) in city.enterprises.iter().enumerate() {
        let uscc = e.uscc.to_string();
        let reg = json!({
            "name": e.name, "uscc": uscc, "legal_rep": e.legal_rep, "kind": e.kind, "address": e.address,
            "registered_capital": yuan(e.registered_capital.fen()), "established_on": e.established_on.to_string(), "status": "存续",
            // One in nineteen is on the list of abnormal operations (经营异常名录).
            "abnormal": if i % 19 == 7 { "是" } else { "否" },
            // One in nineteen has finished the 20-day 简易注销 publicity six days ago.
            "publicity_ended_on": if i % 19 == 3 { (domain::clock::local(now).date() - time::Duration::days(6)).to_string() } else { String::new() },
        });
        put(conn, now, "scjg.enterprise", &uscc, reg, "安徽省市场主体登记系统").await?;
        let tax = json!({
            "tax_status": "正常", "paid_last_year": yuan(e.registered_capital.fen() / 50), "credit_level": CREDIT[i % 5],
            "arrears": if i % 17 == 5 { "有欠税" } else { "无" },
        });
        put(conn, now, "sw.tax", &uscc, tax, "金税系统").await?;
        // Unemployment insurance of about 600 yuan a head a year (1 % of a 5,000-yuan wage);
        // one in 29 paid fewer than twelve months.
        let ins = json!({
            "insured_employees": e.employees.to_string(), "arrears": if i % 23 == 7 { "欠缴 2 个月" } else { "无" },
            // Most kept their staff; one in thirteen laid off a quarter.
            "layoffs_last_year": if i % 13 == 5 { (e.employees / 4).max(1) } else if e.employees >= 40 { i as u32 % 3 } else { 0 }.to_string(),
            "ui_paid_months_last_year": if i % 29 == 11 { "8" } else { "12" },
            "ui_paid_last_year": yuan(i64::from(e.employees) * 60_000),
            "large_enterprise": if e.employees >= 1000 { "是" } else { "否" },
        });
        put(conn, now, "rs.employer_insurance", &uscc, ins, "安徽省社会保险信息系统").await?;
        let fields = vec![
            ("name".to_string(), e.name.clone()),
            ("uscc".into(), uscc.clone()),
            ("legal_rep".into(), e.legal_rep.clone()),
            ("address".into(), e.address.clone()),
        ];
        licenses::record_external(
            conn,
            now,
            cfg,
            "yyzz",
            &format!("YYZZ{}", &uscc),
            (&uscc, &e.name),
            fields,
            "安徽省市场主体登记系统",
        )
        .await?;
    }
    for (i, c) in city.citizens.iter().enumerate() {
        let id = c.id_card_no.to_string();
        let pop = json!({
            "name": c.name, "id_card_no": id, "sex": c.id_card_no.sex().label(),
            "birth_date": c.id_card_no.birth_date().to_string(), "household_address": c.address,
        });
        put(conn, now, "ga.population", &id, pop, "安徽省人口信息库").await?;
        let ins =
            json!({ "insured": "参保缴费", "months": (24 + i * 7 % 200).to_string(), "employer": "亳州市演示企业" });
        put(conn, now, "rs.insurance", &id, ins, "安徽省社会保险信息系统").await?;
        let fields = vec![("name".to_string(), c.name.clone()), ("id_card_no".into(), id.clone())];
        licenses::record_external(
            conn,
            now,
            cfg,
            "sfz",
            &format!("SFZ{id}"),
            (&id, &c.name),
            fields.clone(),
            "公安人口信息库",
        )
        .await?;
        licenses::record_external(conn, now, cfg, "hkb", &format!("HKB{id}"), (&id, &c.name), fields, "公安人口信息库")
            .await?;
        if i % 3 != 2 {
            let m = json!({ "marital_status": "已婚", "spouse_name": format!("{}的配偶", c.name), "registered_on": "2015-05-20" });
            put(conn, now, "mz.marriage", &id, m, "全国婚姻登记信息系统").await?;
        }
        if i % 2 == 0 {
            let p = json!({
                "cert_no": format!("皖（2020）亳州市不动产权第{:07}号", 100_000 + i),
                "location": c.address, "area_m2": format!("{}", 80 + i % 60), "usage": "住宅",
            });
            put(conn, now, "zrzy.property", &id, p, "亳州市不动产登记系统").await?;
        }
        if i % 5 == 0 {
            let q = json!({ "qualification": "道路货物运输驾驶员", "cert_no": format!("3416{:012}", 500_000 + i), "valid_to": "2029-12-31" });
            put(conn, now, "jt.qualification", &id, q, "安徽省道路运政管理系统").await?;
        }
    }
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::services::ServicesAudit::ExchangePush, "dx_record", "demo").detail(format!(
            "演示共享数据：企业 {} 家、群众 {} 人的登记、纳税、社保、婚姻、不动产记录及外部证照",
            city.enterprises.len(),
            city.citizens.len()
        )),
    )
    .await?;
    Ok(())
}
