//! 失业保险稳岗返还 granted without application (免申即享): the department of the item reads
//! every employer's social-insurance year from the shared data (`rs.employer_insurance`, one
//! logged bulk call), keeps the employers the year's policy admits, and — when a clerk confirms —
//! grants each one: a notice sealed and signed by the department, sent to the employer. Nobody
//! applies. Pages and the API call these functions.

use super::seals::{self, MasterKey};
use crate::config::CityConfig;
use crate::notify;
use crate::sql::{PageRequest, Paged};
use crate::{Conn, Db, Result, StoreError, audit, new_id};
use domain::Money;
use domain::audit::AuditEntry;
use domain::clock::{local, to_millis};
use domain::services::ServicesAudit;
use domain::services::stability::{Assessment, InsuredYear, StabilityPolicy, percent};
use sqlx::Row;
use time::OffsetDateTime;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct GrantRow {
    pub id: String,
    pub year: i64,
    pub uscc: String,
    pub name: String,
    pub insured: i64,
    pub layoffs: i64,
    pub layoff_rate_bp: i64,
    pub premium_fen: i64,
    pub rate_bp: i64,
    pub amount_fen: i64,
    /// identified | granted
    pub status: String,
    pub granted_at: Option<i64>,
    pub granted_by_name: Option<String>,
    /// The sealed notice's lines ("项目：内容", joined by newlines) and its SM2 signature, hex.
    pub notice: Option<String>,
    pub signature: Option<String>,
}

impl GrantRow {
    pub fn granted(&self) -> bool {
        self.status == "granted"
    }

    pub fn status_label(&self) -> &'static str {
        if self.granted() { "已核定发放" } else { "待核定" }
    }

    /// The lines of a notice issued before notices were registered documents; empty for one
    /// that is (see [`Self::is_document`]).
    pub fn lines(&self) -> Vec<(String, String)> {
        if self.is_document() {
            return vec![];
        }
        seals::signed_lines(self.notice.as_deref().unwrap_or_default())
    }

    /// Whether the notice is a registered document (shown as its sheet and PDF).
    pub fn is_document(&self) -> bool {
        self.notice.as_deref().is_some_and(|n| n.starts_with(domain::documents::PAYLOAD_TAG))
    }
}

const SELECT: &str =
    "SELECT id, year, uscc, name, insured, layoffs, layoff_rate_bp, premium_fen, rate_bp, amount_fen, status,
    granted_at, granted_by_name, notice, signature FROM svc_stability_grants";

/// Who acts, and for which department.
#[derive(Debug, Clone, Copy)]
pub struct Clerk<'a> {
    pub user_id: &'a str,
    pub name: &'a str,
    pub department: Option<&'a str>,
}

/// The policy and the department that grants it; refuses a clerk of another department.
pub fn policy_for<'c>(cfg: &'c CityConfig, by: &Clerk) -> Result<(&'c StabilityPolicy, &'c str)> {
    let p = cfg.services.stability.as_ref().ok_or_else(|| StoreError::NotFound("稳岗返还政策配置".into()))?;
    let item = cfg.services.item(&p.item).ok_or_else(|| StoreError::NotFound(format!("事项“{}”", p.item)))?;
    if by.department != Some(item.department.as_str()) {
        let name = cfg.departments.iter().find(|d| d.code == item.department).map(|d| d.short_name.as_str());
        return Err(StoreError::Forbidden(format!("稳岗返还由{}核定", name.unwrap_or(&item.department))));
    }
    Ok((p, item.department.as_str()))
}

/// What one identification found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Identified {
    pub year: i32,
    pub read: usize,
    pub eligible: usize,
    pub amount_fen: i64,
    /// Why the others were left out, with how many each.
    pub reasons: Vec<(String, usize)>,
}

fn insured_year(data: &serde_json::Map<String, serde_json::Value>) -> InsuredYear {
    let text = |k: &str| {
        data.get(k).and_then(|v| v.as_str().map(str::to_string).or_else(|| Some(v.to_string()))).unwrap_or_default()
    };
    let count = |k: &str| text(k).trim().parse::<u32>().unwrap_or(0);
    let arrears = text("arrears");
    InsuredYear {
        insured: count("insured_employees"),
        layoffs: count("layoffs_last_year"),
        arrears: !matches!(arrears.trim(), "" | "无" | "否"),
        paid_months: count("ui_paid_months_last_year").min(12),
        premium_fen: Money::parse_yuan(text("ui_paid_last_year").trim()).map(|m| m.fen()).unwrap_or(0),
        large: matches!(text("large_enterprise").trim(), "是" | "true"),
    }
}

/// Reads every employer's year and keeps those the policy admits, for the year before `now`'s.
/// Employers already granted are left as they are; one identified before and no longer eligible
/// is dropped.
pub async fn identify(conn: &mut Conn, now: OffsetDateTime, cfg: &CityConfig, by: Clerk<'_>) -> Result<Identified> {
    let (policy, dept) = policy_for(cfg, &by)?;
    let year = local(now).year() - 1;
    let rows =
        sqlx::query("SELECT subject, data FROM dx_records WHERE interface = 'rs.employer_insurance' ORDER BY subject")
            .fetch_all(&mut *conn)
            .await?;
    let mut out = Identified { year, read: rows.len(), ..Default::default() };
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    let ms = to_millis(now);
    for r in &rows {
        let uscc: String = r.try_get("subject")?;
        let data: String = r.try_get("data")?;
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&data).unwrap_or_default();
        let y = insured_year(&map);
        match policy.assess(&y) {
            Assessment::Eligible { rate_bp, amount_fen, layoff_rate_bp } => {
                let name: Option<String> = sqlx::query_scalar("SELECT name FROM enterprises WHERE uscc = $1")
                    .bind(&uscc)
                    .fetch_optional(&mut *conn)
                    .await?;
                sqlx::query(
                    "INSERT INTO svc_stability_grants (id, year, uscc, name, insured, layoffs, layoff_rate_bp, premium_fen, rate_bp,
                        amount_fen, status, identified_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'identified', $11)
                     ON CONFLICT (year, uscc) DO UPDATE SET name = excluded.name, insured = excluded.insured,
                        layoffs = excluded.layoffs, layoff_rate_bp = excluded.layoff_rate_bp, premium_fen = excluded.premium_fen,
                        rate_bp = excluded.rate_bp, amount_fen = excluded.amount_fen, identified_at = excluded.identified_at
                     WHERE svc_stability_grants.status = 'identified'",
                )
                .bind(new_id())
                .bind(i64::from(year))
                .bind(&uscc)
                .bind(name.unwrap_or_else(|| uscc.clone()))
                .bind(i64::from(y.insured))
                .bind(i64::from(y.layoffs))
                .bind(i64::from(layoff_rate_bp))
                .bind(y.premium_fen)
                .bind(i64::from(rate_bp))
                .bind(amount_fen)
                .bind(ms)
                .execute(&mut *conn)
                .await?;
                out.eligible += 1;
                out.amount_fen = out.amount_fen.saturating_add(amount_fen);
            }
            Assessment::Ineligible(why) => {
                // Keep the reason's kind, not the employer's figures.
                let kind = why.split([' ', '上']).find(|s| !s.is_empty()).unwrap_or(&why).to_string();
                let kind = if why.contains("裁员率") { "裁员率超过上限".to_string() } else { kind };
                *reasons.entry(kind).or_default() += 1;
                sqlx::query("DELETE FROM svc_stability_grants WHERE year = $1 AND uscc = $2 AND status = 'identified'")
                    .bind(i64::from(year))
                    .bind(&uscc)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    out.reasons = reasons.into_iter().collect();
    // One bulk read of the shared data, logged as one call.
    sqlx::query(
        "INSERT INTO dx_calls (id, at, caller_id, caller_name, department, interface, purpose, subject, fields, found, application_id)
         VALUES ($1, $2, $3, $4, $5, 'rs.employer_insurance', '一键核查', $6, $7, $8, NULL)",
    )
    .bind(new_id())
    .bind(ms)
    .bind(by.user_id)
    .bind(by.name)
    .bind(dept)
    .bind(format!("稳岗返还免申即享识别：全部参保单位（{} 家）", rows.len()))
    .bind("insured_employees,arrears,layoffs_last_year,ui_paid_months_last_year,ui_paid_last_year,large_enterprise")
    .bind(i64::from(!rows.is_empty()))
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(ServicesAudit::StabilityIdentify, "stability_year", &year.to_string())
            .by(by.user_id, by.name)
            .detail(format!(
                "{year} 年度稳岗返还免申即享识别：读取 {} 家，符合条件 {} 家，合计 {} 元",
                out.read,
                out.eligible,
                Money::from_fen(out.amount_fen)
            )),
    )
    .await?;
    Ok(out)
}

/// Grants every identified employer of `year`: a notice sealed by the department, the
/// employer told. Returns how many.
pub async fn grant_all(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    key: &MasterKey,
    year: i64,
    by: Clerk<'_>,
) -> Result<usize> {
    let (policy, dept) = policy_for(cfg, &by)?;
    let pending: Vec<GrantRow> =
        sqlx::query_as(&format!("{SELECT} WHERE year = $1 AND status = 'identified' ORDER BY uscc"))
            .bind(year)
            .fetch_all(&mut *conn)
            .await?;
    if pending.is_empty() {
        return Err(StoreError::invalid("year", format!("{year} 年度没有待核定的单位，请先识别")));
    }
    let ms = to_millis(now);
    let mut total = 0i64;
    for g in &pending {
        let lines = [
            ("单位", format!("{}（{}）", g.name, g.uscc)),
            ("政策年度", format!("{year} 年度")),
            (
                "核定依据",
                format!(
                    "参保职工 {} 人，上年度裁员 {} 人（裁员率 {}），足额缴纳失业保险费；单位及职工上年度实际缴纳失业保险费 {} 元",
                    g.insured,
                    g.layoffs,
                    percent(g.layoff_rate_bp as u32),
                    Money::from_fen(g.premium_fen)
                ),
            ),
            ("返还比例", percent(g.rate_bp as u32)),
            ("核定返还金额", format!("{} 元", Money::from_fen(g.amount_fen))),
            ("办理方式", "免申即享：依据社会保险数据主动核定，无需申请，资金直接拨付至单位账户".to_string()),
            ("政策依据", policy.basis.clone()),
        ];
        // Each notice is a registered document of the department (its number series, seal and
        // QR payload); the row keeps the signed head and its signature.
        let issued = crate::documents::issue(
            conn,
            now,
            cfg,
            key,
            crate::documents::Draft {
                kind: "stability_refund_notice",
                word: "稳返",
                title: "失业保险稳岗返还核定通知书",
                department: dept,
                addressee: g.name.clone(),
                addressee_id: Some(g.uscc.clone()),
                paragraphs: lines.iter().map(|(k, v)| format!("{k}：{v}")).collect(),
                source: format!("stability:{}", g.id),
            },
        )
        .await?;
        let (text, signature) = issued.head_and_signature();
        let changed = sqlx::query(
            "UPDATE svc_stability_grants SET status = 'granted', granted_at = $1, granted_by = $2, granted_by_name = $3,
                notice = $4, signature = $5 WHERE id = $6 AND status = 'identified'",
        )
        .bind(ms)
        .bind(by.user_id)
        .bind(by.name)
        .bind(&text)
        .bind(&signature)
        .bind(&g.id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if changed == 0 {
            continue;
        }
        total = total.saturating_add(g.amount_fen);
        let text = format!(
            "您单位符合 {year} 年度失业保险稳岗返还条件，免申即享，核定返还 {} 元，将直接拨付至单位账户，无需申请。",
            Money::from_fen(g.amount_fen)
        );
        notify::to_login(conn, now, &g.uscc, "/services/stability/mine", &text).await?;
    }
    audit::append(
        conn,
        now,
        AuditEntry::new(ServicesAudit::StabilityGrant, "stability_year", &year.to_string())
            .by(by.user_id, by.name)
            .detail(format!("{year} 年度稳岗返还核定发放 {} 家，合计 {} 元", pending.len(), Money::from_fen(total))),
    )
    .await?;
    Ok(pending.len())
}

/// The grants of a year, optionally of one status, a page at a time.
pub async fn list(db: &Db, year: i64, status: Option<&str>, page: PageRequest) -> Result<Paged<GrantRow>> {
    let status = status.filter(|s| matches!(*s, "identified" | "granted"));
    let filter = if status.is_some() { " AND status = $2" } else { "" };
    let count_sql = format!("SELECT COUNT(*) FROM svc_stability_grants WHERE year = $1{filter}");
    let mut count = sqlx::query_scalar::<_, i64>(&count_sql).bind(year);
    if let Some(s) = status {
        count = count.bind(s.to_string());
    }
    let total = count.fetch_one(db.reader_for(page)).await?;
    let sql =
        format!("{SELECT} WHERE year = $1{filter} ORDER BY uscc LIMIT {} OFFSET {}", page.per_page, page.offset());
    let mut q = sqlx::query_as::<_, GrantRow>(&sql).bind(year);
    if let Some(s) = status {
        q = q.bind(s.to_string());
    }
    Ok(Paged { items: q.fetch_all(db.reader_for(page)).await?, total, page: page.page, per_page: page.per_page })
}

/// Totals of a year: (identified, granted, amount granted in fen).
pub async fn totals(db: &Db, year: i64) -> Result<(i64, i64, i64)> {
    let r = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'identified' THEN 1 ELSE 0 END), 0) AS BIGINT) AS a,
                CAST(COALESCE(SUM(CASE WHEN status = 'granted' THEN 1 ELSE 0 END), 0) AS BIGINT) AS b,
                CAST(COALESCE(SUM(CASE WHEN status = 'granted' THEN amount_fen ELSE 0 END), 0) AS BIGINT) AS c
         FROM svc_stability_grants WHERE year = $1",
    )
    .bind(year)
    .fetch_one(db.reader())
    .await?;
    Ok((r.try_get("a")?, r.try_get("b")?, r.try_get("c")?))
}

/// An employer's own granted refunds, newest first.
pub async fn of_enterprise(db: &Db, uscc: &str) -> Result<Vec<GrantRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE uscc = $1 AND status = 'granted' ORDER BY year DESC"))
        .bind(uscc)
        .fetch_all(db.reader())
        .await?)
}
