//! 受理凭证: 行政许可法 art. 32 ¶2 — whether an application is accepted or not, the organ
//! issues a written receipt bearing its seal and the date. The receipt states when the
//! materials were received, when and how the application was accepted (on receipt; or, after
//! a timely one-time notice, when the corrections came — art. 32(4), (5)), what was received,
//! what follows under 容缺, and the time limits. Its text is signed with the department's SM2
//! seal, so a printed copy can be checked against the seal's public key.

use super::{MasterKey, SvcApp, item_of_app, seals};
use crate::config::CityConfig;
use crate::{Conn, Result, workflow};
use domain::clock::{format_local, from_millis, local};
use domain::workflow::Status;
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct Receipt {
    pub number: String,
    pub department: String,
    /// (label, value) lines, in order; `text` is them joined, which is what is signed.
    pub lines: Vec<(String, String)>,
    pub text: String,
    pub seal_image: String,
    pub public_key: String,
    /// SM2 signature of `text`, hex.
    pub signature: String,
}

/// The receipt of `app` as of `now` (the seal is made on first use).
pub async fn receipt(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    key: &MasterKey,
    app: &SvcApp,
) -> Result<Receipt> {
    let item = item_of_app(cfg, app)?;
    let inst = workflow::load(conn, cfg, &app.id).await?.instance;
    let received = format_local(from_millis(app.submitted_at));
    let timely = inst.notices.first().filter(|n| !n.late);
    let accepted = match (timely, inst.records.iter().find(|r| r.action == "resubmit")) {
        (None, _) => format!("{received}，自收到申请材料之日起受理（《行政许可法》第三十二条）"),
        (Some(n), Some(r)) => format!(
            "{} 一次性告知补正，{} 提交补正材料，自该日受理（《行政许可法》第三十二条第一款第四项、第五项）",
            format_local(n.at),
            format_local(r.at)
        ),
        (Some(n), None) if inst.status == Status::Correcting => format!(
            "材料不齐全或不符合法定形式，已于 {} 一次性告知补正，补正后受理（《行政许可法》第三十二条第一款第四项）",
            format_local(n.at)
        ),
        (Some(n), None) => format!("{} 一次性告知补正后办理", format_local(n.at)),
    };
    let materials: Vec<String> = item
        .materials
        .iter()
        .map(|m| match inst.tolerances.iter().find(|t| t.material == m.id) {
            Some(t) if t.fulfilled_at.is_none() => format!("{}（容缺，承诺 {} 前补交）", m.name, t.due),
            Some(_) => format!("{}（容缺，已补交）", m.name),
            None => m.name.clone(),
        })
        .collect();
    let dept = cfg.departments.iter().find(|d| d.code == app.department);
    let dept_name = dept.map(|d| d.name.clone()).unwrap_or_else(|| app.department.clone());
    let legal = match &item.legal_basis {
        Some(b) => format!("{} 个工作日（{b}）", item.legal_days),
        None => format!("{} 个工作日", item.legal_days),
    };
    let number = format!("SL-{}", app.id);
    let lines: Vec<(String, String)> = [
        ("凭证编号", number.clone()),
        ("申请事项", format!("{}（{}）", item.name, item.code)),
        ("申请人", format!("{}（{}）", app.subject_name, app.subject)),
        ("收到申请材料", received),
        ("受理情况", accepted),
        ("收到的材料", materials.join("；")),
        ("法定办结时限", legal),
        ("承诺办结时限", format!("{} 个工作日", item.promised_days)),
        ("办理机关", dept_name.clone()),
        ("出具日期", local(now).date().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let text = seals::signed_text(&lines);
    let seal = seals::of_department(conn, now, cfg, key, &app.department).await?;
    let signature = hex::encode(seals::sign(conn, key, &seal, text.as_bytes()).await?);
    Ok(Receipt {
        number,
        department: dept_name,
        lines,
        text,
        seal_image: seal.image,
        public_key: seal.public_key,
        signature,
    })
}
