//! Electronic labor contracts and the worker's own side of wage monitoring: the contractor
//! issues a contract, the worker confirms (the record is then sealed with SM3) or declines;
//! the worker confirms or disputes each month's attendance and wages, and files complaints.

use crate::config::CityConfig;
use crate::notify::{self, To};
use crate::{Conn, Db, Result, StoreError, audit};
use domain::audit::AuditEntry;
use domain::calendar::WorkCalendar;
use domain::clock::{local, to_millis};
use domain::wages::contract::{TermKind, Terms, WageType, check, seal};
use sqlx::Row;
use time::{Date, OffsetDateTime};

use super::ProjectRow;
use domain::wages::contract::ContractStatus;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ContractRow {
    pub id: String,
    pub contract_no: String,
    pub project_id: String,
    pub project_code: String,
    pub project_name: String,
    pub worker_id: String,
    pub employer_uscc: String,
    pub employer_name: String,
    pub worker_name: String,
    pub id_card_no: String,
    pub job: String,
    pub wage_type: String,
    pub wage_rate_fen: i64,
    pub pay_day: i64,
    pub start_on: String,
    pub end_on: Option<String>,
    pub terms: String,
    #[sqlx(try_from = "String")]
    pub status: ContractStatus,
    pub employer_confirmed_at: i64,
    pub worker_confirmed_at: Option<i64>,
    pub decline_reason: String,
    pub digest: Option<String>,
    pub term_kind: Option<String>,
    pub task: String,
    pub probation_months: i64,
}

const SELECT: &str =
    "SELECT c.id, c.contract_no, c.project_id, p.code AS project_code, p.name AS project_name, c.worker_id,
    c.employer_uscc, c.employer_name, c.worker_name, c.id_card_no, c.job, c.wage_type, c.wage_rate_fen, c.pay_day,
    c.start_on, c.end_on, c.terms, c.status, c.employer_confirmed_at, c.worker_confirmed_at, c.decline_reason, c.digest,
    c.term_kind, c.task, c.probation_months
    FROM wage_contracts c JOIN wage_projects p ON p.id = c.project_id";

impl ContractRow {
    pub fn wage_type(&self) -> WageType {
        WageType::parse(&self.wage_type).unwrap_or(WageType::Monthly)
    }

    pub fn kind(&self) -> Option<TermKind> {
        self.term_kind.as_deref().and_then(TermKind::parse)
    }

    /// 合同期限 in words: the kind, its dates or task, and any probation.
    pub fn term_text(&self) -> String {
        let dates = match &self.end_on {
            Some(e) => format!("{} 至 {e}", self.start_on),
            None => format!("{} 起", self.start_on),
        };
        let mut s = match self.kind() {
            Some(TermKind::Task) => format!("以完成一定工作任务为期限：{}（{} 起）", self.task, self.start_on),
            Some(k) => format!("{}，{dates}", k.label()),
            None => dates,
        };
        if self.probation_months > 0 {
            s.push_str(&format!("，试用期{}个月", self.probation_months));
        }
        s
    }

    pub fn status_label(&self) -> &'static str {
        self.status.label()
    }

    pub fn is_signed(&self) -> bool {
        self.status == ContractStatus::Signed
    }

    pub fn is_pending(&self) -> bool {
        self.status == ContractStatus::Pending
    }

    pub fn is_declined(&self) -> bool {
        self.status == ContractStatus::Declined
    }

    pub fn terms(&self) -> Terms {
        let day = |s: &str| crate::wages::labor::parse_day(s);
        Terms {
            contract_no: self.contract_no.clone(),
            project_code: self.project_code.clone(),
            project_name: self.project_name.clone(),
            employer_uscc: self.employer_uscc.clone(),
            employer_name: self.employer_name.clone(),
            worker_name: self.worker_name.clone(),
            id_card_no: self.id_card_no.clone(),
            job: self.job.clone(),
            wage_type: self.wage_type(),
            wage_rate_fen: self.wage_rate_fen,
            pay_day: self.pay_day as u8,
            start_on: day(&self.start_on).unwrap_or(Date::MIN),
            end_on: self.end_on.as_deref().and_then(day),
            terms: self.terms.clone(),
            kind: self.kind(),
            task: self.task.clone(),
            probation_months: self.probation_months.clamp(0, 12) as u8,
        }
    }

    /// For a signed contract: does the stored record still match its seal?
    pub fn seal_holds(&self) -> Option<bool> {
        let (Some(digest), Some(worker_at)) = (&self.digest, self.worker_confirmed_at) else { return None };
        Some(seal(&self.terms(), self.employer_confirmed_at, worker_at) == *digest)
    }
}

/// Who acts on the worker's side, when, and what the alerts they trigger are evaluated with.
pub struct Actor<'a> {
    pub cfg: &'a CityConfig,
    pub cal: &'a WorkCalendar,
    pub now: OffsetDateTime,
    /// User id and display name, for the audit record.
    pub by: (&'a str, &'a str),
}

/// What the employer fills in.
#[derive(Debug, Clone)]
pub struct Issue {
    pub id_card_no: String,
    pub job: String,
    pub wage_type: WageType,
    pub wage_rate_fen: i64,
    pub start_on: Date,
    pub end_on: Option<Date>,
    pub terms: String,
    pub kind: TermKind,
    pub task: String,
    pub probation_months: u8,
}

/// The contractor issues a contract to a worker of its project: its confirmation. The worker
/// is told in their inbox.
pub async fn issue(
    conn: &mut Conn,
    now: OffsetDateTime,
    project: &ProjectRow,
    i: &Issue,
    by: (&str, &str),
) -> Result<ContractRow> {
    let worker = sqlx::query("SELECT id, name FROM wage_workers WHERE project_id = $1 AND id_card_no = $2")
        .bind(&project.id)
        .bind(&i.id_card_no)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::invalid("id_card_no", "该项目没有这名实名制工人"))?;
    let worker_id: String = worker.try_get("id")?;
    let worker_name: String = worker.try_get("name")?;
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM wage_contracts WHERE worker_id = $1 AND status IN ('pending', 'signed')",
    )
    .bind(&worker_id)
    .fetch_one(&mut *conn)
    .await?;
    if open > 0 {
        return Err(StoreError::invalid("id_card_no", format!("{worker_name}已有待确认或已签订的劳动合同")));
    }
    let year = local(now).year();
    let n = crate::alerts::next_serial(conn, "labor_contract", year).await?;
    let terms = Terms {
        contract_no: format!("HT{year}{n:06}"),
        project_code: project.code.clone(),
        project_name: project.name.clone(),
        employer_uscc: project.contractor_uscc.clone(),
        employer_name: project.contractor_name.clone(),
        worker_name: worker_name.clone(),
        id_card_no: i.id_card_no.clone(),
        job: i.job.trim().to_string(),
        wage_type: i.wage_type,
        wage_rate_fen: i.wage_rate_fen,
        pay_day: project.pay_day as u8,
        start_on: i.start_on,
        end_on: i.end_on,
        terms: i.terms.trim().to_string(),
        kind: Some(i.kind),
        task: i.task.trim().to_string(),
        probation_months: i.probation_months,
    };
    check(&terms).map_err(|(field, msg)| StoreError::invalid(field, msg))?;
    // 劳动合同法 art. 19 ¶2: one probation per employer and worker, across all their contracts.
    if terms.probation_months > 0 {
        let before: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM wage_contracts WHERE employer_uscc = $1 AND id_card_no = $2 AND probation_months > 0
               AND status <> 'declined'",
        )
        .bind(&terms.employer_uscc)
        .bind(&terms.id_card_no)
        .fetch_one(&mut *conn)
        .await?;
        if before > 0 {
            return Err(StoreError::invalid(
                "probation_months",
                format!(
                    "本单位与{worker_name}已约定过试用期，同一用人单位与同一劳动者只能约定一次试用期（劳动合同法第十九条）"
                ),
            ));
        }
    }
    let id = crate::new_id();
    let ms = to_millis(now);
    sqlx::query(
        "INSERT INTO wage_contracts (id, contract_no, project_id, worker_id, employer_uscc, employer_name, worker_name,
            id_card_no, job, wage_type, wage_rate_fen, pay_day, start_on, end_on, terms, status, employer_by,
            employer_confirmed_at, created_at, updated_at, term_kind, task, probation_months)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'pending', $16, $17, $17, $17,
            $18, $19, $20)",
    )
    .bind(&id)
    .bind(&terms.contract_no)
    .bind(&project.id)
    .bind(&worker_id)
    .bind(&terms.employer_uscc)
    .bind(&terms.employer_name)
    .bind(&terms.worker_name)
    .bind(&terms.id_card_no)
    .bind(&terms.job)
    .bind(terms.wage_type.as_str())
    .bind(terms.wage_rate_fen)
    .bind(terms.pay_day as i64)
    .bind(terms.start_on.to_string())
    .bind(terms.end_on.map(|d| d.to_string()))
    .bind(&terms.terms)
    .bind(by.0)
    .bind(ms)
    .bind(i.kind.as_str())
    .bind(&terms.task)
    .bind(i.probation_months as i64)
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::wages::WagesAudit::ContractIssue, "wage_contract", &terms.contract_no)
            .by(by.0, by.1)
            .detail(format!(
                "{}向{}发出电子劳动合同（{}，{}）",
                terms.employer_name,
                worker_name,
                terms.job,
                domain::wages::contract::standard(terms.wage_type, terms.wage_rate_fen)
            )),
    )
    .await?;
    let user: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE id_card_no = $1 AND status = 'active'")
        .bind(&i.id_card_no)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(u) = user {
        notify::send(
            conn,
            now,
            &To::User(u),
            "/me/wages",
            &format!("{}向您发出电子劳动合同 {}，请核对后确认。", terms.employer_name, terms.contract_no),
        )
        .await?;
    }
    get_in(conn, &id).await
}

async fn get_in(conn: &mut Conn, id: &str) -> Result<ContractRow> {
    sqlx::query_as(&format!("{SELECT} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound("劳动合同".into()))
}

pub async fn get(db: &Db, id: &str) -> Result<ContractRow> {
    let mut conn = db.reader().acquire().await?;
    get_in(&mut conn, id).await
}

pub async fn for_project(db: &Db, project_id: &str) -> Result<Vec<ContractRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE c.project_id = $1 ORDER BY c.contract_no DESC"))
        .bind(project_id)
        .fetch_all(db.reader())
        .await?)
}

pub async fn for_id_card(db: &Db, id_card_no: &str) -> Result<Vec<ContractRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE c.id_card_no = $1 ORDER BY c.contract_no DESC"))
        .bind(id_card_no)
        .fetch_all(db.reader())
        .await?)
}

/// The worker accepts (the contract is sealed and the worker counts as under contract) or
/// declines with a reason. Only the worker named in the contract can answer, once.
pub async fn respond(
    conn: &mut Conn,
    a: &Actor<'_>,
    id: &str,
    id_card_no: &str,
    accept: bool,
    reason: &str,
) -> Result<ContractRow> {
    let (cfg, cal, now, by) = (a.cfg, a.cal, a.now, a.by);
    let c = get_in(conn, id).await?;
    if c.id_card_no != id_card_no {
        return Err(StoreError::NotFound("劳动合同".into()));
    }
    if c.status != ContractStatus::Pending {
        return Err(StoreError::invalid("action", format!("该合同{}，不能再次确认", c.status_label())));
    }
    let ms = to_millis(now);
    if accept {
        let digest = seal(&c.terms(), c.employer_confirmed_at, ms);
        sqlx::query(
            "UPDATE wage_contracts SET status = 'signed', worker_confirmed_at = $1, digest = $2, updated_at = $1 WHERE id = $3",
        )
        .bind(ms)
        .bind(&digest)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE wage_workers SET contract = 1, updated_at = $1 WHERE id = $2")
            .bind(ms)
            .bind(&c.worker_id)
            .execute(&mut *conn)
            .await?;
        audit::append(
            conn,
            now,
            AuditEntry::new(domain::wages::WagesAudit::ContractSign, "wage_contract", &c.contract_no)
                .by(by.0, by.1)
                .detail(format!("{}确认劳动合同，双方签订完成，SM3 {digest}", c.worker_name)),
        )
        .await?;
        crate::alerts::run_for_subject(conn, cfg, cal, &crate::wages::Projects, &c.project_code, now).await?;
    } else {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::invalid("reason", "请说明不同意的原因，便于用人单位更正"));
        }
        sqlx::query(
            "UPDATE wage_contracts SET status = 'declined', decline_reason = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(reason)
        .bind(ms)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        audit::append(
            conn,
            now,
            AuditEntry::new(domain::wages::WagesAudit::ContractDecline, "wage_contract", &c.contract_no)
                .by(by.0, by.1)
                .detail(format!("{}不同意劳动合同：{reason}", c.worker_name)),
        )
        .await?;
    }
    get_in(conn, id).await
}

/// A project a worker is (or was) registered on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkerJob {
    pub worker_id: String,
    pub name: String,
    pub team: String,
    pub joined_on: String,
    pub left_on: Option<String>,
    pub project_id: String,
    pub project_code: String,
    pub project_name: String,
    pub contractor_name: String,
    pub pay_day: i64,
}

pub async fn jobs_of(db: &Db, id_card_no: &str) -> Result<Vec<WorkerJob>> {
    Ok(sqlx::query_as(
        "SELECT w.id AS worker_id, w.name, w.team, w.joined_on, w.left_on, p.id AS project_id, p.code AS project_code,
            p.name AS project_name, p.contractor_name, p.pay_day
         FROM wage_workers w JOIN wage_projects p ON p.id = w.project_id
         WHERE w.id_card_no = $1 ORDER BY w.joined_on DESC",
    )
    .bind(id_card_no)
    .fetch_all(db.reader())
    .await?)
}

/// A month as the worker sees it.
#[derive(Debug, Clone)]
pub struct WorkerMonth {
    pub month: Date,
    pub days: i64,
    pub pieces: i64,
    /// 应发; `None`: no payroll line yet.
    pub due_fen: Option<i64>,
    /// 代扣、代缴、扣除 (art. 15 ¶2).
    pub deductions_fen: i64,
    pub paid_fen: i64,
    pub confirmed: bool,
    pub disputed: bool,
}

impl WorkerMonth {
    /// 实发: 应发 less what was withheld.
    pub fn net_fen(&self) -> Option<i64> {
        self.due_fen.map(|d| d.saturating_sub(self.deductions_fen).max(0))
    }
}

pub async fn worker_months(db: &Db, worker_id: &str) -> Result<Vec<WorkerMonth>> {
    let rows = sqlx::query(
        "SELECT m.month,
            (SELECT days FROM wage_attendance a WHERE a.worker_id = $1 AND a.month = m.month) AS days,
            (SELECT pieces FROM wage_attendance a WHERE a.worker_id = $1 AND a.month = m.month) AS pieces,
            (SELECT due_fen FROM wage_payroll r WHERE r.worker_id = $1 AND r.month = m.month) AS due,
            (SELECT deductions_fen FROM wage_payroll r WHERE r.worker_id = $1 AND r.month = m.month) AS deductions,
            (SELECT confirmed_at FROM wage_payroll r WHERE r.worker_id = $1 AND r.month = m.month) AS confirmed_at,
            (SELECT disputed_at FROM wage_payroll r WHERE r.worker_id = $1 AND r.month = m.month) AS disputed_at,
            (SELECT CAST(COALESCE(SUM(CASE WHEN amount_fen > 10000000000000 THEN 10000000000000 ELSE amount_fen END), 0) AS BIGINT) FROM wage_payments x WHERE x.worker_id = $1 AND x.month = m.month) AS paid
         FROM (SELECT month FROM wage_attendance WHERE worker_id = $1
               UNION SELECT month FROM wage_payroll WHERE worker_id = $1
               UNION SELECT month FROM wage_payments WHERE worker_id = $1) m
         ORDER BY m.month DESC",
    )
    .bind(worker_id)
    .fetch_all(db.reader())
    .await?;
    let mut out = vec![];
    for r in rows {
        let m: String = r.try_get("month")?;
        let Some(month) = crate::wages::labor::parse_day(&m) else { continue };
        out.push(WorkerMonth {
            month,
            days: r.try_get::<Option<i64>, _>("days")?.unwrap_or(0),
            pieces: r.try_get::<Option<i64>, _>("pieces")?.unwrap_or(0),
            due_fen: r.try_get("due")?,
            deductions_fen: r.try_get::<Option<i64>, _>("deductions")?.unwrap_or(0),
            paid_fen: r.try_get("paid")?,
            confirmed: r.try_get::<Option<i64>, _>("confirmed_at")?.is_some(),
            disputed: r.try_get::<Option<i64>, _>("disputed_at")?.is_some(),
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentLine {
    pub month: String,
    pub amount_fen: i64,
    pub paid_on: String,
    pub method: String,
    pub cross_bank: i64,
}

pub async fn worker_payments(db: &Db, worker_id: &str) -> Result<Vec<PaymentLine>> {
    Ok(sqlx::query_as(
        "SELECT month, amount_fen, paid_on, method, cross_bank FROM wage_payments WHERE worker_id = $1 ORDER BY paid_on DESC, month DESC",
    )
    .bind(worker_id)
    .fetch_all(db.reader())
    .await?)
}

/// The worker row behind a request, if it is the signed-in worker's own.
async fn own_worker(conn: &mut Conn, worker_id: &str, id_card_no: &str) -> Result<(String, String, String)> {
    let r = sqlx::query(
        "SELECT w.name, p.code, p.id FROM wage_workers w JOIN wage_projects p ON p.id = w.project_id
         WHERE w.id = $1 AND w.id_card_no = $2",
    )
    .bind(worker_id)
    .bind(id_card_no)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound("工人登记".into()))?;
    Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
}

/// The worker confirms a month's attendance and wages: the payroll counts as signed by them.
pub async fn confirm_month(
    conn: &mut Conn,
    a: &Actor<'_>,
    worker_id: &str,
    id_card_no: &str,
    month: Date,
) -> Result<()> {
    let (cfg, cal, now, by) = (a.cfg, a.cal, a.now, a.by);
    let (name, code, _) = own_worker(conn, worker_id, id_card_no).await?;
    let ms = to_millis(now);
    let n = sqlx::query(
        "UPDATE wage_payroll SET confirmed_at = $1, signed = 1, disputed_at = NULL WHERE worker_id = $2 AND month = $3",
    )
    .bind(ms)
    .bind(worker_id)
    .bind(month.to_string())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::invalid("month", "该月还没有工资台账，暂不能确认；如有疑问可以投诉"));
    }
    sqlx::query("UPDATE wage_attendance SET confirmed_at = $1 WHERE worker_id = $2 AND month = $3")
        .bind(ms)
        .bind(worker_id)
        .bind(month.to_string())
        .execute(&mut *conn)
        .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::wages::WagesAudit::MonthConfirm, "wage_project", &code)
            .by(by.0, by.1)
            .detail(format!("{name}确认{}出勤与工资", domain::wages::ingest::month_label(month))),
    )
    .await?;
    crate::alerts::run_for_subject(conn, cfg, cal, &crate::wages::Projects, &code, now).await?;
    Ok(())
}

/// The worker objects to a month (or complains without one): a 欠薪投诉 on the platform,
/// handled like one from 12345. Returns the complaint number.
pub async fn complain(
    conn: &mut Conn,
    a: &Actor<'_>,
    worker_id: &str,
    id_card_no: &str,
    month: Option<Date>,
    amount_fen: i64,
    text: &str,
) -> Result<String> {
    let (cfg, cal, now, by) = (a.cfg, a.cal, a.now, a.by);
    let (name, code, project_id) = own_worker(conn, worker_id, id_card_no).await?;
    let text = text.trim();
    if text.is_empty() {
        return Err(StoreError::invalid("text", "请简要说明情况，如哪个月、欠多少、找过谁"));
    }
    if text.chars().count() > 500 {
        return Err(StoreError::invalid("text", "情况说明不超过 500 字"));
    }
    if amount_fen < 0 {
        return Err(StoreError::invalid("amount", "金额不能为负数"));
    }
    let ms = to_millis(now);
    if let Some(m) = month {
        sqlx::query(
            "UPDATE wage_payroll SET disputed_at = $1, confirmed_at = NULL WHERE worker_id = $2 AND month = $3",
        )
        .bind(ms)
        .bind(worker_id)
        .bind(m.to_string())
        .execute(&mut *conn)
        .await?;
    }
    let year = local(now).year();
    let n = crate::alerts::next_serial(conn, "wage_complaint", year).await?;
    let number = format!("TS{year}{n:06}");
    let employer: String = sqlx::query_scalar("SELECT contractor_uscc FROM wage_projects WHERE id = $1")
        .bind(&project_id)
        .fetch_one(&mut *conn)
        .await?;
    // A case with its deadlines (domain::wages::complaint): labor inspection is told now.
    let received = local(now).date();
    let contact_days = cfg.city.wages.complaint_contact_days;
    let (contact_due, handle_due) = domain::wages::complaint::deadlines(cal, received, contact_days);
    let case_id = crate::new_id();
    sqlx::query(
        "INSERT INTO wage_complaints (id, project_id, employer_uscc, channel, complainant, amount_fen, received_on,
            collective, status, recovered_fen, source, external_id, created_at,
            text, worker_id, id_card_no, stage, contact_due, handle_due)
         VALUES ($1, $2, $3, '平台', $4, $5, $6, 0, 'open', 0, 'platform', $7, $8, $9, $10, $11, 'received', $12, $13)",
    )
    .bind(&case_id)
    .bind(&project_id)
    .bind(&employer)
    .bind(&name)
    .bind(amount_fen)
    .bind(received.to_string())
    .bind(&number)
    .bind(ms)
    .bind(text)
    .bind(worker_id)
    .bind(id_card_no)
    .bind(contact_due.to_string())
    .bind(handle_due.to_string())
    .execute(&mut *conn)
    .await?;
    super::complaints::opened(conn, cfg, now, &case_id, &number, &name, contact_due, handle_due).await?;
    let about = month.map(|m| format!("（{}）", domain::wages::ingest::month_label(m))).unwrap_or_default();
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::wages::WagesAudit::ComplaintFile, "wage_project", &code).by(by.0, by.1).detail(
            format!("{name}投诉欠薪{about}，编号 {number}，金额 {} 元：{text}", domain::Money::from_fen(amount_fen)),
        ),
    )
    .await?;
    crate::alerts::run_for_subject(conn, cfg, cal, &crate::wages::Projects, &code, now).await?;
    Ok(number)
}
