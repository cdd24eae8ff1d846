//! Refund of a completed project's wage deposit (人社部发〔2021〕65号 art. 22): the general
//! contractor's written commitment and its 30-day publicity, the application, and the 人社
//! department's review — which, when nothing stands against it, issues the sealed
//! 工资保证金返还（销户）确认书 at once. Each step is one transaction, audited, and tells the
//! other party. Pages and the API call these functions.

use super::{PROJECT_COLUMNS, ProjectRow, date_opt};
use crate::config::CityConfig;
use crate::notify::{self, To};
use crate::services::seals::{self, MasterKey};
use crate::{Conn, Result, StoreError, audit, new_id};
use domain::Money;
use domain::audit::AuditEntry;
use domain::calendar::WorkCalendar;
use domain::clock::{local, to_millis};
use domain::expr::Value;
use domain::wages::refund::{self, RefundStatus};
use domain::wages::{DepositMode, WagesAudit};
use sqlx::Row;
use time::{Date, OffsetDateTime};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct RefundRow {
    pub id: String,
    pub project_id: String,
    #[sqlx(try_from = "String")]
    pub status: RefundStatus,
    pub commitment: String,
    pub committed_name: String,
    pub publicity_from: String,
    pub applied_on: Option<String>,
    pub review_due: Option<String>,
    pub reviewed_on: Option<String>,
    pub reviewer_name: Option<String>,
    pub reason: Option<String>,
    pub confirmation_no: Option<String>,
    pub department: Option<String>,
    /// The confirmation's lines as signed ("项目：内容", joined by newlines).
    pub confirmation: Option<String>,
    /// SM2 signature of `confirmation` by the department's seal, hex.
    pub signature: Option<String>,
}

impl RefundRow {
    /// The first day the contractor may apply (30 days of publicity, art. 22 ¶1).
    pub fn may_apply_from(&self) -> Option<Date> {
        date_opt(Some(self.publicity_from.clone())).map(refund::may_apply_from)
    }

    /// The confirmation's (label, value) lines.
    pub fn lines(&self) -> Vec<(String, String)> {
        seals::signed_lines(self.confirmation.as_deref().unwrap_or_default())
    }
}

const SELECT: &str =
    "SELECT id, project_id, status, commitment, committed_name, publicity_from, applied_on, review_due,
    reviewed_on, reviewer_name, reason, confirmation_no, department, confirmation, signature FROM wage_deposit_refunds";

pub async fn of_project(conn: &mut Conn, project_id: &str) -> Result<Option<RefundRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE project_id = $1")).bind(project_id).fetch_optional(&mut *conn).await?)
}

/// Who acts: the user, and the enterprise (USCC) or department they act for.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub user_id: &'a str,
    pub name: &'a str,
    pub uscc: Option<&'a str>,
    pub department: Option<&'a str>,
}

async fn project_in(conn: &mut Conn, code: &str) -> Result<ProjectRow> {
    sqlx::query_as(&format!("SELECT {PROJECT_COLUMNS} FROM wage_projects WHERE code = $1"))
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("项目 {code}")))
}

fn contractor_only(p: &ProjectRow, by: &Actor) -> Result<()> {
    if by.uscc.is_some_and(|u| !u.is_empty() && u == p.contractor_uscc) {
        Ok(())
    } else {
        Err(StoreError::Forbidden("只有该项目的施工总承包单位可以申请返还工资保证金".into()))
    }
}

/// What the deposit holds: its form and amount (cash paid or the guarantee's sum).
async fn held(conn: &mut Conn, project_id: &str) -> Result<(DepositMode, i64)> {
    let row = sqlx::query("SELECT mode, paid_fen, guarantee_fen FROM wage_deposits WHERE project_id = $1")
        .bind(project_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => {
            let mode = DepositMode::parse(&r.try_get::<String, _>("mode")?).unwrap_or(DepositMode::None);
            let amount = match mode {
                DepositMode::Guarantee => r.try_get("guarantee_fen")?,
                _ => r.try_get("paid_fen")?,
            };
            (mode, amount)
        }
        None => (DepositMode::None, 0),
    })
}

/// The contractor commits in writing that no wage arrears are unresolved; the 30-day publicity
/// starts today on the site's 维权信息告示牌 (and the department's portal). A refused refund may
/// start again.
pub async fn commit(conn: &mut Conn, now: OffsetDateTime, code: &str, by: Actor<'_>) -> Result<RefundRow> {
    let p = project_in(conn, code).await?;
    contractor_only(&p, &by)?;
    let (mode, amount) = held(conn, &p.id).await?;
    refund::check_commit(p.status, mode, amount).map_err(|m| StoreError::invalid("status", m))?;
    let today = local(now).date();
    let text = refund::commitment(&p.contractor_name, &p.name);
    let ms = to_millis(now);
    let changed = sqlx::query(
        "INSERT INTO wage_deposit_refunds (id, project_id, status, commitment, committed_by, committed_name, publicity_from,
            created_at, updated_at)
         VALUES ($1, $2, 'publicising', $3, $4, $5, $6, $7, $7)
         ON CONFLICT (project_id) DO UPDATE SET status = 'publicising', commitment = excluded.commitment,
            committed_by = excluded.committed_by, committed_name = excluded.committed_name,
            publicity_from = excluded.publicity_from, applied_on = NULL, review_due = NULL, reviewed_on = NULL,
            reviewer_id = NULL, reviewer_name = NULL, reason = NULL, updated_at = excluded.updated_at
         WHERE wage_deposit_refunds.status = 'refused'",
    )
    .bind(new_id())
    .bind(&p.id)
    .bind(&text)
    .bind(by.user_id)
    .bind(by.name)
    .bind(today.to_string())
    .bind(ms)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::conflict("status", "该项目已在办理工资保证金返还，请勿重复承诺"));
    }
    audit::append(
        conn,
        now,
        AuditEntry::new(WagesAudit::RefundCommit, "wage_project", &p.code)
            .by(by.user_id, by.name)
            .detail(format!("{}：书面承诺并自 {today} 起公示30日", p.name)),
    )
    .await?;
    of_project(conn, &p.id).await?.ok_or_else(|| StoreError::NotFound("返还申请".into()))
}

/// The contractor applies once the publicity has run 30 days; the department is told, with the
/// day its review is due (5 working days).
pub async fn apply(
    conn: &mut Conn,
    now: OffsetDateTime,
    cal: &WorkCalendar,
    cfg: &CityConfig,
    code: &str,
    by: Actor<'_>,
) -> Result<RefundRow> {
    let p = project_in(conn, code).await?;
    contractor_only(&p, &by)?;
    let r = of_project(conn, &p.id).await?.ok_or_else(|| StoreError::invalid("status", "请先作出书面承诺并公示"))?;
    if r.status != RefundStatus::Publicising {
        return Err(StoreError::conflict("status", format!("当前状态为“{}”，不能再次申请", r.status.label())));
    }
    let today = local(now).date();
    let from = date_opt(Some(r.publicity_from.clone())).ok_or_else(|| StoreError::Other("公示日期格式错误".into()))?;
    refund::check_apply(from, today).map_err(|m| StoreError::invalid("status", m))?;
    let due = refund::review_due(today, cal);
    let changed = sqlx::query(
        "UPDATE wage_deposit_refunds SET status = 'applied', applied_on = $1, review_due = $2, updated_at = $3
         WHERE id = $4 AND status = 'publicising'",
    )
    .bind(today.to_string())
    .bind(due.to_string())
    .bind(to_millis(now))
    .bind(&r.id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::conflict("status", "该申请已提交"));
    }
    audit::append(
        conn,
        now,
        AuditEntry::new(WagesAudit::RefundApply, "wage_project", &p.code)
            .by(by.user_id, by.name)
            .detail(format!("{}：申请返还工资保证金，审核期限至 {due}", p.name)),
    )
    .await?;
    let dept = &cfg.city.wages.deposit_department;
    notify::send(
        conn,
        now,
        &To::Role { department: Some(dept.clone()), role: "labor_inspector".into() },
        &format!("/wages/projects/{}#refund", p.code),
        &format!(
            "{}申请返还“{}”的工资保证金，请于 {due} 前审核完毕（人社部发〔2021〕65号第二十二条）。",
            p.contractor_name, p.name
        ),
    )
    .await?;
    of_project(conn, &p.id).await?.ok_or_else(|| StoreError::NotFound("返还申请".into()))
}

/// The department's review. Approval is refused while wages are owed or complaints received
/// since the publicity are open; it issues the sealed confirmation at once (art. 22 ¶2, ¶3). A
/// refusal states its reason. The contractor is told either way.
#[allow(clippy::too_many_arguments)]
pub async fn review(
    conn: &mut Conn,
    now: OffsetDateTime,
    cal: &WorkCalendar,
    cfg: &CityConfig,
    key: &MasterKey,
    code: &str,
    by: Actor<'_>,
    approve: bool,
    reason: &str,
) -> Result<RefundRow> {
    let dept = cfg.city.wages.deposit_department.clone();
    if by.department != Some(dept.as_str()) {
        let name = cfg.departments.iter().find(|d| d.code == dept).map(|d| d.short_name.clone()).unwrap_or(dept);
        return Err(StoreError::Forbidden(format!("工资保证金返还由{name}审核")));
    }
    let p = project_in(conn, code).await?;
    let r = of_project(conn, &p.id).await?.ok_or_else(|| StoreError::NotFound("返还申请".into()))?;
    if r.status != RefundStatus::Applied {
        return Err(StoreError::conflict("status", format!("当前状态为“{}”，无需审核", r.status.label())));
    }
    let today = local(now).date();
    let reason = reason.trim();
    if !approve && reason.is_empty() {
        return Err(StoreError::invalid("reason", "不予返还须写明理由"));
    }
    if reason.chars().count() > 500 {
        return Err(StoreError::invalid("reason", "审核意见最多500字"));
    }
    let (mode, amount) = held(conn, &p.id).await?;
    let (status, confirmation, signature, number, audit_action) = if approve {
        let facts = super::facts_of(conn, &p.code, today, cal, &cfg.city.wages).await?;
        let owing = matches!(facts.get("arrears_days"), Some(Value::Int(d)) if *d > 0);
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM wage_complaints WHERE project_id = $1 AND received_on >= $2 AND closed_on IS NULL",
        )
        .bind(&p.id)
        .bind(&r.publicity_from)
        .fetch_one(&mut *conn)
        .await?;
        let against = refund::objections(owing, open as usize);
        if !against.is_empty() {
            return Err(StoreError::invalid(
                "action",
                format!("不能同意返还：{}。请核实处理后再审核，或写明理由不予返还", against.join("；")),
            ));
        }
        // Issued as a registered document of the department (its number series, seal and QR
        // payload); the row keeps the number, the signed head and its signature.
        let paragraphs = confirmation_paragraphs(&p, &r, mode, amount);
        let issued = crate::documents::issue(
            conn,
            now,
            cfg,
            key,
            crate::documents::Draft {
                kind: "deposit_refund_confirmation",
                word: "保返",
                title: "工资保证金返还（销户）确认书",
                department: &cfg.city.wages.deposit_department,
                addressee: format!("{}、工资保证金经办银行", p.contractor_name),
                addressee_id: Some(p.contractor_uscc.clone()),
                paragraphs,
                source: format!("refund:{}", r.id),
            },
        )
        .await?;
        let (head, signature) = issued.head_and_signature();
        (RefundStatus::Confirmed, Some(head), Some(signature), Some(issued.document.number), WagesAudit::RefundConfirm)
    } else {
        (RefundStatus::Refused, None, None, None, WagesAudit::RefundRefuse)
    };
    let changed = sqlx::query(
        "UPDATE wage_deposit_refunds SET status = $1, reviewed_on = $2, reviewer_id = $3, reviewer_name = $4, reason = $5,
            confirmation_no = $6, department = $7, confirmation = $8, signature = $9, updated_at = $10
         WHERE id = $11 AND status = 'applied'",
    )
    .bind(status.as_str())
    .bind(today.to_string())
    .bind(by.user_id)
    .bind(by.name)
    .bind((!reason.is_empty()).then_some(reason))
    .bind(&number)
    .bind(&cfg.city.wages.deposit_department)
    .bind(&confirmation)
    .bind(&signature)
    .bind(to_millis(now))
    .bind(&r.id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::conflict("status", "该申请已审核"));
    }
    let told = match &number {
        Some(n) => {
            format!("“{}”的工资保证金返还申请已审核通过，返还确认书 {n} 已出具，请持确认书到经办银行办理。", p.name)
        }
        None => format!("“{}”的工资保证金返还申请不予通过：{reason}", p.name),
    };
    audit::append(
        conn,
        now,
        AuditEntry::new(audit_action, "wage_project", &p.code).by(by.user_id, by.name).detail(format!(
            "{}：{}",
            p.name,
            number.as_deref().map(|n| format!("出具返还确认书 {n}")).unwrap_or_else(|| format!("不予返还（{reason}）"))
        )),
    )
    .await?;
    notify::to_login(conn, now, &p.contractor_uscc, &format!("/wages/projects/{}#refund", p.code), &told).await?;
    of_project(conn, &p.id).await?.ok_or_else(|| StoreError::NotFound("返还申请".into()))
}

/// What the 返还确认书 states: the project and contractor, the deposit, the commitment and its
/// publicity, the application and the decision with its article.
fn confirmation_paragraphs(p: &ProjectRow, r: &RefundRow, mode: DepositMode, amount: i64) -> Vec<String> {
    let from = date_opt(Some(r.publicity_from.clone()));
    let until = from.map(|d| (d + time::Duration::days(refund::PUBLICITY_DAYS - 1)).to_string()).unwrap_or_default();
    let (held, decision) = match mode {
        DepositMode::Guarantee => (
            format!("银行保函，担保金额 {} 元", Money::from_fen(amount)),
            "经审核，该工程不存在未解决的拖欠农民工工资问题，同意返还银行保函正本（《工程建设领域农民工工资保证金规定》第二十二条第三款）。".to_string(),
        ),
        _ => (
            format!("现金存储 {} 元", Money::from_fen(amount)),
            "经审核，该工程不存在未解决的拖欠农民工工资问题，同意返还。经办银行收到本确认书后，工资保证金账户解除监管，相应款项不再属于工资保证金，施工总承包单位可自行处置账户资金或办理账户销户（《工程建设领域农民工工资保证金规定》第二十二条第二款）。".to_string(),
        ),
    };
    vec![
        format!("项目：{}（{}）", p.name, p.code),
        format!("施工总承包单位：{}（{}）", p.contractor_name, p.contractor_uscc),
        format!("工资保证金：{held}"),
        format!("书面承诺：{}", r.commitment),
        format!("公示：{} 起在施工现场维权信息告示牌及本部门门户网站公示，至 {until} 满30日", r.publicity_from),
        format!("申请日期：{}", r.applied_on.clone().unwrap_or_default()),
        format!("审核意见：{decision}"),
    ]
}
