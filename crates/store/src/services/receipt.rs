//! 受理凭证: 行政许可法 art. 32 ¶2 — whether an application is accepted or not, the organ
//! issues a written receipt bearing its seal and the date. The receipt states when the
//! materials were received, when and how the application was accepted (on receipt; or, after
//! a timely one-time notice, when the corrections came — art. 32(4), (5)), what was received,
//! what follows under 容缺, and the time limits. Its text is signed with the department's SM2
//! seal, so a printed copy can be checked against the seal's public key.

use super::{MasterKey, SvcApp, item_of_app};
use crate::config::CityConfig;
use crate::documents::{self, Issued};
use crate::{Conn, Result, workflow};
use domain::clock::{format_minute, from_millis};
use domain::workflow::Status;
use time::OffsetDateTime;

/// The 受理凭证 of `app` as it stands: issued by the item's department as a registered document
/// (numbered in its own series, sealed, with a QR payload), and issued again — under a new
/// number — only when what it states has changed (e.g. accepted after a correction).
pub async fn receipt(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    key: &MasterKey,
    app: &SvcApp,
) -> Result<Issued> {
    let item = item_of_app(cfg, app)?;
    let inst = workflow::load(conn, cfg, &app.id).await?.instance;
    let received = format_minute(from_millis(app.submitted_at));
    let timely = inst.notices.first().filter(|n| !n.late);
    let accepted = match (timely, inst.records.iter().find(|r| r.action == "resubmit")) {
        (None, _) => format!("{received}，自收到申请材料之日起受理（《行政许可法》第三十二条）"),
        (Some(n), Some(r)) => format!(
            "{} 一次性告知补正，{} 提交补正材料，自该日受理（《行政许可法》第三十二条第一款第四项、第五项）",
            format_minute(n.at),
            format_minute(r.at)
        ),
        (Some(n), None) if inst.status == Status::Correcting => format!(
            "材料不齐全或不符合法定形式，已于 {} 一次性告知补正，补正后受理（《行政许可法》第三十二条第一款第四项）",
            format_minute(n.at)
        ),
        (Some(n), None) => format!("{} 一次性告知补正后办理", format_minute(n.at)),
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
    let legal = match &item.legal_basis {
        Some(b) => format!("{} 个工作日（{b}）", item.legal_days),
        None => format!("{} 个工作日", item.legal_days),
    };
    let mut paragraphs: Vec<String> = [
        ("办件编号", app.case_no.clone().unwrap_or_else(|| "—".into())),
        ("申请事项", format!("{}（{}）", item.name, item.code)),
        ("申请人", format!("{}（{}）", app.subject_name, app.subject)),
        ("收到申请材料", received),
        ("受理情况", accepted),
        ("收到的材料", materials.join("；")),
        ("法定办结时限", legal),
        ("承诺办结时限", format!("{} 个工作日", item.promised_days)),
    ]
    .into_iter()
    .map(|(k, v)| format!("{k}：{v}"))
    .collect();
    paragraphs.push("本凭证依《中华人民共和国行政许可法》第三十二条第二款出具，加盖本机关电子印章并注明日期。".into());
    let source = format!("receipt:{}", app.id);
    if let Some(i) = documents::latest_of_in(conn, &source).await?
        && i.document.paragraphs == paragraphs
    {
        return Ok(i);
    }
    documents::issue(
        conn,
        now,
        cfg,
        key,
        documents::Draft {
            kind: "acceptance_receipt",
            word: "受",
            title: "受理凭证",
            department: &app.department,
            addressee: app.subject_name.clone(),
            addressee_id: Some(app.subject.clone()),
            paragraphs,
            source,
        },
    )
    .await
}
