//! Writing what other systems send (bank flows, payroll, attendance, signals …) in one
//! transaction per batch: every row is written, recognised as already there, or refused with
//! its reason — nothing is dropped silently. The batch, its refusals and an audit record are
//! kept, and the warning rules are evaluated at once for every project the batch touched.

use crate::org::RowScope;
use crate::sql::{Sql, Value};
use crate::{Conn, Db, Result, StoreError};
use domain::audit::AuditEntry;
use domain::calendar::WorkCalendar;
use domain::text::excerpt;
use domain::wages::SignalKind;
use domain::wages::ingest::{Cell, Identity, Kind, Record, Rejection, Sender, Via};

/// The department that runs the data-sharing platform and may relay every source's signals.
const DATA_OFFICE: &str = "sjj";
use sqlx::Row;
use std::collections::{BTreeSet, HashMap};
use time::OffsetDateTime;

/// A row as it arrived: its number (file line or array index + 1), its external id or key for
/// the report, the raw text kept with a refusal, and the check's result.
pub struct InRow {
    pub row_no: i64,
    pub key: String,
    pub raw: String,
    pub parsed: std::result::Result<Record, Rejection>,
}

/// What is kept of a refused row's raw text and reason, and of its key (characters).
pub const MAX_RAW_CHARS: usize = 500;
pub const MAX_KEY_CHARS: usize = 100;

pub struct Batch<'a> {
    pub kind: Kind,
    pub via: Via,
    /// Who sent it: a system's login for the API, the data source the importer named for a file.
    pub source: &'a str,
    pub filename: &'a str,
    pub by_user: &'a str,
    pub by_name: &'a str,
    pub ip: &'a str,
    /// The importer's data scope: rows about projects outside it are refused.
    pub scope: &'a RowScope,
    /// Who sends it (the caller checked that it may send this kind).
    pub sender: Sender,
    /// The sender's department (config code), if any: each signal comes from its own source
    /// (`SignalKind::sources`).
    pub department: Option<&'a str>,
    pub rows: Vec<InRow>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct RejectedRow {
    pub row_no: i64,
    pub external_id: String,
    pub field: String,
    pub reason: String,
    pub raw: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BatchReport {
    pub batch_id: String,
    pub kind: String,
    pub source: String,
    pub total: i64,
    /// Written: new, or an update of what was there.
    pub accepted: i64,
    /// Already received from this source with the same content (sent twice).
    pub duplicates: i64,
    pub rejected: i64,
    pub rejections: Vec<RejectedRow>,
    /// Projects whose warning indicators were evaluated after the batch.
    pub projects_evaluated: i64,
    pub alerts_opened: u64,
    pub alerts_changed: u64,
    pub alerts_cleared: u64,
}

struct ProjectRef {
    id: String,
    division_code: String,
    grid_id: Option<String>,
    contractor_uscc: String,
}

/// The rejection of a row, returned as the writer's answer; a store error propagates.
macro_rules! tryr {
    ($e:expr) => {
        match $e? {
            Ok(v) => v,
            Err(rej) => return Ok(Err(rej)),
        }
    };
}

impl ProjectRef {
    const COLUMNS: &str = "id, division_code, grid_id, contractor_uscc";

    fn from_row(r: &sqlx::any::AnyRow) -> Result<ProjectRef> {
        Ok(ProjectRef {
            id: r.try_get("id")?,
            division_code: r.try_get("division_code")?,
            grid_id: r.try_get("grid_id")?,
            contractor_uscc: r.try_get("contractor_uscc")?,
        })
    }
}

fn in_scope(scope: &RowScope, p: &ProjectRef) -> bool {
    match scope {
        RowScope::All => true,
        RowScope::Division(prefix) => p.division_code.starts_with(prefix.as_str()),
        RowScope::Grid(g) => p.grid_id.as_deref() == Some(g.as_str()),
        RowScope::Enterprise(uscc) => !uscc.is_empty() && p.contractor_uscc == *uscc,
        RowScope::Citizen(_) | RowScope::Nothing => false,
    }
}

fn value(c: &Cell) -> Value {
    match c {
        Cell::Text(s) => Value::Text(s.clone()),
        Cell::Date(d) => Value::Text(d.to_string()),
        Cell::Int(i) => Value::Int(*i),
        Cell::Bool(b) => Value::Int(i64::from(*b)),
    }
}

/// `INSERT … ON CONFLICT (keys) DO UPDATE SET <the given non-key columns>` (or DO NOTHING);
/// returns rows affected.
async fn upsert(conn: &mut Conn, table: &str, keys: &[&str], cols: &[(&str, Value)], update: bool) -> Result<u64> {
    let mut q = Sql::new(&format!(
        "INSERT INTO {table} ({}) VALUES (",
        cols.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
    ));
    for (i, (_, v)) in cols.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(v.clone());
    }
    q.push(&format!(") ON CONFLICT ({}) ", keys.join(", ")));
    let sets: Vec<String> = cols
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| !keys.contains(c) && *c != "id" && *c != "created_at")
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    if update && !sets.is_empty() {
        q.push(&format!("DO UPDATE SET {}", sets.join(", ")));
    } else {
        q.push("DO NOTHING");
    }
    Ok(q.query().execute(&mut *conn).await?.rows_affected())
}

/// For an event seen before: is it the same event (a resend) or different content under the
/// same external id (refused, never overwritten)?
async fn same_event(conn: &mut Conn, table: &str, cols: &[(&str, Value)]) -> Result<bool> {
    let mut q = Sql::new(&format!("SELECT COUNT(*) FROM {table} WHERE 1 = 1"));
    for (c, v) in cols {
        if matches!(*c, "id" | "created_at") || matches!(v, Value::Null) {
            continue;
        }
        q.push(&format!(" AND {c} = ")).bind(v.clone());
    }
    Ok(q.query_scalar::<i64>().fetch_one(&mut *conn).await? > 0)
}

struct Writer<'a> {
    conn: &'a mut Conn,
    scope: &'a RowScope,
    sender: Sender,
    department: Option<&'a str>,
    source: &'a str,
    ms: i64,
    projects: HashMap<String, Option<ProjectRef>>,
    workers: HashMap<(String, String), Option<String>>,
    touched: BTreeSet<String>,
    employers: BTreeSet<String>,
    /// Employers whose labor reports changed: their labor-risk indicators are evaluated.
    labor: BTreeSet<String>,
}

enum Outcome {
    Accepted,
    Duplicate,
}

impl Writer<'_> {
    async fn lookup(&mut self, code: &str) -> Result<Option<ProjectRef>> {
        let sql = format!("SELECT {} FROM wage_projects WHERE code = $1", ProjectRef::COLUMNS);
        let row = sqlx::query(&sql).bind(code).fetch_optional(&mut *self.conn).await?;
        row.as_ref().map(ProjectRef::from_row).transpose()
    }

    async fn project(&mut self, code: &str) -> Result<std::result::Result<String, Rejection>> {
        if !self.projects.contains_key(code) {
            let r = self.lookup(code).await?;
            self.projects.insert(code.to_string(), r);
        }
        Ok(match self.projects.get(code).expect("just loaded") {
            None => Err(Rejection::new("项目编号", format!("项目编号“{code}”不存在，请先导入在建项目"))),
            Some(p) if !in_scope(self.scope, p) => {
                Err(Rejection::new("项目编号", format!("项目“{code}”不在您的管辖范围内，无权导入")))
            }
            Some(p) => {
                self.touched.insert(code.to_string());
                Ok(p.id.clone())
            }
        })
    }

    async fn worker(&mut self, project_id: &str, card: &str) -> Result<std::result::Result<String, Rejection>> {
        let key = (project_id.to_string(), card.to_string());
        if !self.workers.contains_key(&key) {
            let id: Option<String> =
                sqlx::query_scalar("SELECT id FROM wage_workers WHERE project_id = $1 AND id_card_no = $2")
                    .bind(project_id)
                    .bind(card)
                    .fetch_optional(&mut *self.conn)
                    .await?;
            self.workers.insert(key.clone(), id);
        }
        Ok(self.workers[&key].clone().ok_or_else(|| {
            Rejection::new(
                "身份证号码",
                format!(
                    "该项目没有身份证号码为 {} 的实名制工人，请先登记工人",
                    domain::IdCardNo::parse(card).map(|c| c.masked()).unwrap_or_default()
                ),
            )
        }))
    }

    /// The project's worker a special-account debit went to, by the payee's ID number or, without
    /// one, by the wage card it was paid into (条例 art. 31 ¶3: the worker's own account).
    async fn payee_worker(
        &mut self,
        project_id: &str,
        card: Option<&str>,
        account: Option<&str>,
    ) -> Result<Option<String>> {
        let found: Option<String> = match (card, account) {
            (Some(card), _) => {
                sqlx::query_scalar("SELECT id FROM wage_workers WHERE project_id = $1 AND id_card_no = $2")
                    .bind(project_id)
                    .bind(card)
                    .fetch_optional(&mut *self.conn)
                    .await?
            }
            (None, Some(account)) if !account.trim().is_empty() => {
                sqlx::query_scalar("SELECT id FROM wage_workers WHERE project_id = $1 AND bank_card = $2 LIMIT 1")
                    .bind(project_id)
                    .bind(account.trim())
                    .fetch_optional(&mut *self.conn)
                    .await?
            }
            _ => None,
        };
        Ok(found)
    }

    /// Writes one checked row of `kind`; each family of kinds has its own writer below.
    async fn write(&mut self, kind: Kind, r: &Record) -> Result<std::result::Result<Outcome, Rejection>> {
        match kind {
            Kind::Projects => self.write_project(kind, r).await,
            Kind::Deposits => self.write_deposit(kind, r).await,
            Kind::Workers => self.write_worker(kind, r).await,
            Kind::Attendance | Kind::Payroll => self.write_month(kind, r).await,
            Kind::Labor => self.write_labor(kind, r).await,
            Kind::Talent => self.write_talent(kind, r).await,
            Kind::Employment | Kind::Postings => self.write_employment(kind, r).await,
            Kind::Allocations | Kind::Payments | Kind::Debits | Kind::Signals | Kind::Complaints => {
                self.write_event(kind, r).await
            }
        }
    }

    async fn write_project(&mut self, _kind: Kind, r: &Record) -> Result<std::result::Result<Outcome, Rejection>> {
        let text = |k: &str| r.text(k).unwrap_or_default().to_string();
        let present = |keys: &[&'static str]| -> Vec<(&'static str, Value)> {
            keys.iter().filter_map(|k| r.values.get(k).map(|c| (*k, value(c)))).collect()
        };
        let src = self.source.to_string();
        let code = text("code");
        let division = text("division_code");
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM divisions WHERE code = $1")
            .bind(&division)
            .fetch_one(&mut *self.conn)
            .await?;
        if exists == 0 {
            return Ok(Err(Rejection::new("所属区划代码", format!("区划代码“{division}”不在本市区划中"))));
        }
        let target = ProjectRef {
            id: String::new(),
            division_code: division.clone(),
            grid_id: None,
            contractor_uscc: text("contractor_uscc"),
        };
        let existing = self.lookup(&code).await?;
        let allowed = in_scope(self.scope, &target) && existing.as_ref().is_none_or(|p| in_scope(self.scope, p));
        if !allowed {
            return Ok(Err(Rejection::new("所属区划代码", format!("项目“{code}”不在您的管辖范围内，无权导入"))));
        }
        let id = existing.map(|p| p.id).unwrap_or_else(crate::new_id);
        let mut cols = vec![("id", Value::Text(id.clone()))];
        cols.extend(present(&[
            "code",
            "name",
            "address",
            "division_code",
            "status",
            "contract_value_fen",
            "government_funded",
            "contract_signed_on",
            "permit_on",
            "permit_exempt",
            "start_on",
            "finish_on",
            "registered_on",
            "tripartite_on",
            "builder_uscc",
            "builder_name",
            "contractor_uscc",
            "contractor_name",
            "labor_manager_name",
            "labor_manager_phone",
            "notice_board_on",
            "payment_guarantee",
            "pay_day",
            "progress_paid_fen",
            "gov_funds_required_fen",
            "gov_funds_in_place_fen",
        ]));
        cols.extend([
            ("source", Value::Text(src)),
            ("created_at", Value::Int(self.ms)),
            ("updated_at", Value::Int(self.ms)),
        ]);
        upsert(self.conn, "wage_projects", &["code"], &cols, true).await?;
        if r.has("account_no") {
            let acc = vec![
                ("project_id", Value::Text(id.clone())),
                ("bank", Value::Text(text("account_bank"))),
                ("account_no", Value::Text(text("account_no"))),
                ("opened_on", Value::Text(r.date("account_opened_on").map(|d| d.to_string()).unwrap_or_default())),
            ];
            let mut acc = acc;
            for (col, key) in [("closure_notice_on", "account_closure_notice_on"), ("closed_on", "account_closed_on")] {
                if let Some(d) = r.date(key) {
                    acc.push((col, Value::Text(d.to_string())));
                }
            }
            upsert(self.conn, "wage_accounts", &["project_id"], &acc, true).await?;
        }
        self.projects.remove(&code);
        self.touched.insert(code);
        Ok(Ok(Outcome::Accepted))
    }

    async fn write_deposit(&mut self, _kind: Kind, r: &Record) -> Result<std::result::Result<Outcome, Rejection>> {
        let text = |k: &str| r.text(k).unwrap_or_default().to_string();
        let present = |keys: &[&'static str]| -> Vec<(&'static str, Value)> {
            keys.iter().filter_map(|k| r.values.get(k).map(|c| (*k, value(c)))).collect()
        };
        let pid = tryr!(self.project(&text("project_code")).await);
        let mut cols = vec![("project_id", Value::Text(pid))];
        cols.extend(present(&[
            "mode",
            "required_fen",
            "paid_fen",
            "drawn_fen",
            "drawn_on",
            "topped_up_fen",
            "guarantee_fen",
            "guarantee_until",
        ]));
        cols.push(("updated_at", Value::Int(self.ms)));
        upsert(self.conn, "wage_deposits", &["project_id"], &cols, true).await?;
        Ok(Ok(Outcome::Accepted))
    }

    async fn write_worker(&mut self, _kind: Kind, r: &Record) -> Result<std::result::Result<Outcome, Rejection>> {
        let text = |k: &str| r.text(k).unwrap_or_default().to_string();
        let present = |keys: &[&'static str]| -> Vec<(&'static str, Value)> {
            keys.iter().filter_map(|k| r.values.get(k).map(|c| (*k, value(c)))).collect()
        };
        let src = self.source.to_string();
        let pid = tryr!(self.project(&text("project_code")).await);
        let card = text("id_card_no");
        let id = self.workers.get(&(pid.clone(), card.clone())).cloned().flatten().unwrap_or_else(crate::new_id);
        let mut cols = vec![("id", Value::Text(id.clone())), ("project_id", Value::Text(pid.clone()))];
        cols.extend(present(&[
            "id_card_no",
            "name",
            "phone",
            "bank",
            "bank_card",
            "team",
            "registered",
            "contract",
            "joined_on",
            "left_on",
            "settled_on",
        ]));
        cols.extend([
            ("source", Value::Text(src)),
            ("created_at", Value::Int(self.ms)),
            ("updated_at", Value::Int(self.ms)),
        ]);
        upsert(self.conn, "wage_workers", &["project_id", "id_card_no"], &cols, true).await?;
        // The id of an existing worker is kept by the upsert; forget the guess.
        self.workers.remove(&(pid, card));
        Ok(Ok(Outcome::Accepted))
    }

    async fn write_month(&mut self, kind: Kind, r: &Record) -> Result<std::result::Result<Outcome, Rejection>> {
        let text = |k: &str| r.text(k).unwrap_or_default().to_string();
        let present = |keys: &[&'static str]| -> Vec<(&'static str, Value)> {
            keys.iter().filter_map(|k| r.values.get(k).map(|c| (*k, value(c)))).collect()
        };
        let src = self.source.to_string();
        let pid = tryr!(self.project(&text("project_code")).await);
        let wid = tryr!(self.worker(&pid, &text("id_card_no")).await);
        let mut cols = vec![("worker_id", Value::Text(wid)), ("project_id", Value::Text(pid))];
        let (table, keys): (&str, &[&'static str]) = if kind == Kind::Attendance {
            ("wage_attendance", &["month", "days", "pieces"])
        } else {
            ("wage_payroll", &["month", "due_fen", "deductions_fen", "signed", "complete", "overtime_fen", "payslip"])
        };
        cols.extend(present(keys));
        cols.push(("source", Value::Text(src)));
        upsert(self.conn, table, &["worker_id", "month"], &cols, true).await?;
        Ok(Ok(Outcome::Accepted))
    }

    async fn write_labor(&mut self, _kind: Kind, r: &Record) -> Result<std::result::Result<Outcome, Rejection>> {
        let text = |k: &str| r.text(k).unwrap_or_default().to_string();
        let present = |keys: &[&'static str]| -> Vec<(&'static str, Value)> {
            keys.iter().filter_map(|k| r.values.get(k).map(|c| (*k, value(c)))).collect()
        };
        let src = self.source.to_string();
        let uscc = text("uscc");
        tryr!(self.employer(&uscc).await);
        let mut cols = vec![("uscc", Value::Text(uscc.clone()))];
        cols.extend(present(&[
            "month",
            "employees",
            "insured",
            "consultations",
            "complaints",
            "disputes",
            "collective_risks",
            "contracted",
            "arrears_cases",
        ]));
        cols.extend([("source", Value::Text(src)), ("updated_at", Value::Int(self.ms))]);
        upsert(self.conn, "labor_monthly", &["uscc", "month"], &cols, true).await?;
        self.labor.insert(uscc);
        Ok(Ok(Outcome::Accepted))
    }

    async fn write_talent(&mut self, _kind: Kind, r: &Record) -> Result<std::result::Result<Outcome, Rejection>> {
        let present = |keys: &[&'static str]| -> Vec<(&'static str, Value)> {
            keys.iter().filter_map(|k| r.values.get(k).map(|c| (*k, value(c)))).collect()
        };
        let src = self.source.to_string();
        let mut cols = present(&["id_card_no", "name", "education", "school", "major"]);
        cols.extend([("source", Value::Text(src)), ("updated_at", Value::Int(self.ms))]);
        upsert(self.conn, "talent_people", &["id_card_no"], &cols, true).await?;
        Ok(Ok(Outcome::Accepted))
    }

    async fn write_employment(&mut self, kind: Kind, r: &Record) -> Result<std::result::Result<Outcome, Rejection>> {
        let text = |k: &str| r.text(k).unwrap_or_default().to_string();
        let present = |keys: &[&'static str]| -> Vec<(&'static str, Value)> {
            keys.iter().filter_map(|k| r.values.get(k).map(|c| (*k, value(c)))).collect()
        };
        let src = self.source.to_string();
        tryr!(self.employer(&text("employer_uscc")).await);
        if kind == Kind::Employment {
            let known: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM talent_people WHERE id_card_no = $1")
                .bind(text("id_card_no"))
                .fetch_one(&mut *self.conn)
                .await?;
            if known == 0 {
                return Ok(Err(Rejection::new("身份证号码", "没有此人的人才信息，请先导入“人才信息”")));
            }
        }
        let keys: &[&'static str] = if kind == Kind::Employment {
            &["id_card_no", "employer_uscc", "started_on", "ended_on"]
        } else {
            &["employer_uscc", "title", "education", "openings", "applicants", "posted_on"]
        };
        let mut cols = vec![("id", Value::Text(crate::new_id()))];
        cols.extend(present(keys));
        cols.extend([
            ("source", Value::Text(src)),
            ("external_id", Value::Text(text("external_id"))),
            ("created_at", Value::Int(self.ms)),
        ]);
        let table = if kind == Kind::Employment { "talent_employments" } else { "job_postings" };
        // A departure or more applicants arrive later under the same number.
        if upsert(self.conn, table, &["source", "external_id"], &cols, true).await? > 0 {
            return Ok(Ok(Outcome::Accepted));
        }
        Ok(Ok(Outcome::Duplicate))
    }

    async fn write_event(&mut self, kind: Kind, r: &Record) -> Result<std::result::Result<Outcome, Rejection>> {
        let text = |k: &str| r.text(k).unwrap_or_default().to_string();
        let present = |keys: &[&'static str]| -> Vec<(&'static str, Value)> {
            keys.iter().filter_map(|k| r.values.get(k).map(|c| (*k, value(c)))).collect()
        };
        let src = self.source.to_string();
        if kind == Kind::Signals
            && let Some(k) = r.text("kind").and_then(SignalKind::parse)
            && !k.sent_by(self.department, DATA_OFFICE)
        {
            // Named as clerks know them, not by config code.
            let mut names = vec![];
            for code in k.sources() {
                let name: Option<String> = sqlx::query_scalar("SELECT short_name FROM departments WHERE code = $1")
                    .bind(*code)
                    .fetch_optional(&mut *self.conn)
                    .await?;
                names.push(name.unwrap_or_else(|| "数据共享平台".into()));
            }
            let from = if names.is_empty() { "数据共享平台".to_string() } else { names.join("、") };
            return Ok(Err(Rejection::new("信号类型", format!("“{}”应由其来源部门（{from}）报送", k.label()))));
        }
        let mut cols = vec![("id", Value::Text(crate::new_id()))];
        if let Some(code) = r.text("project_code") {
            let pid = tryr!(self.project(code).await);
            cols.push(("project_id", Value::Text(pid.clone())));
            if kind == Kind::Payments {
                let wid = tryr!(self.worker(&pid, &text("id_card_no")).await);
                cols.push(("worker_id", Value::Text(wid)));
            }
            if kind == Kind::Debits
                && let Some(wid) = self.payee_worker(&pid, r.text("payee_id_card_no"), r.text("payee_account")).await?
            {
                cols.push(("worker_id", Value::Text(wid)));
            }
        } else if let Some(uscc) = r.text("employer_uscc") {
            // About an employer: it applies to the projects it contracts.
            let n = self.employer_projects(uscc).await?;
            if n.is_empty() && !matches!(self.scope, RowScope::All) {
                return Ok(Err(Rejection::new(
                    "用人单位统一社会信用代码",
                    "您的管辖范围内没有该单位总包的项目，无权导入",
                )));
            }
            self.employers.insert(uscc.to_string());
        }
        let keys: &[&'static str] = match kind {
            Kind::Allocations => &["project_code", "on_date", "amount_fen"],
            Kind::Payments => &["month", "amount_fen", "paid_on", "method", "cross_bank"],
            Kind::Debits => &["on_date", "amount_fen", "payee_name", "payee_id_card_no", "payee_account", "cash"],
            Kind::Signals => &["employer_uscc", "kind", "on_date", "value", "note"],
            _ => &[
                "employer_uscc",
                "channel",
                "complainant",
                "amount_fen",
                "received_on",
                "collective",
                "status",
                "recovered_fen",
                "closed_on",
            ],
        };
        cols.extend(present(keys).into_iter().filter(|(k, _)| *k != "project_code"));
        // A bank's 代发 record is a transfer from the special account unless it says otherwise;
        // from anyone else a payment without its method is not assumed to be one.
        if kind == Kind::Payments && !r.has("method") {
            if self.sender != Sender::Bank {
                return Ok(Err(Rejection::new(
                    "发放方式",
                    "请填写发放方式（专用账户代发、现金或转入他人账户）：只有银行推送的代发流水可以不填",
                )));
            }
            cols.push(("method", Value::Text(domain::wages::PayMethod::Bank.as_str().into())));
        }
        cols.extend([
            ("source", Value::Text(src)),
            ("external_id", Value::Text(text("external_id"))),
            ("created_at", Value::Int(self.ms)),
        ]);
        let table = match kind {
            Kind::Allocations => "wage_allocations",
            Kind::Payments => "wage_payments",
            Kind::Debits => "wage_account_debits",
            Kind::Signals => "wage_signals",
            _ => "wage_complaints",
        };
        // A complaint changes as it is handled (status, amount recovered): a later row
        // with the same number updates it. Flows and signals never change.
        let update = kind == Kind::Complaints;
        if upsert(self.conn, table, &["source", "external_id"], &cols, update).await? > 0 {
            return Ok(Ok(Outcome::Accepted));
        }
        if same_event(self.conn, table, &cols).await? {
            Ok(Ok(Outcome::Duplicate))
        } else {
            Ok(Err(Rejection::new(
                "编号",
                format!(
                    "来源“{}”的编号“{}”已登记为不同内容，未覆盖；更正请使用新编号",
                    self.source,
                    text("external_id")
                ),
            )))
        }
    }

    /// An employer of the registry the importer may report on.
    async fn employer(&mut self, uscc: &str) -> Result<std::result::Result<(), Rejection>> {
        let row = sqlx::query("SELECT division_code, grid_id FROM enterprises WHERE uscc = $1")
            .bind(uscc)
            .fetch_optional(&mut *self.conn)
            .await?;
        let Some(row) = row else {
            return Ok(Err(Rejection::new(
                "用人单位统一社会信用代码",
                format!("统一社会信用代码“{uscc}”不在市场主体库中，请先核实单位"),
            )));
        };
        let as_project = ProjectRef {
            id: String::new(),
            division_code: row.try_get("division_code")?,
            grid_id: row.try_get("grid_id")?,
            contractor_uscc: uscc.to_string(),
        };
        if !in_scope(self.scope, &as_project) {
            return Ok(Err(Rejection::new("用人单位统一社会信用代码", "该单位不在您的管辖范围内，无权导入")));
        }
        Ok(Ok(()))
    }

    async fn employer_projects(&mut self, uscc: &str) -> Result<Vec<String>> {
        let sql = format!("SELECT code, {} FROM wage_projects WHERE contractor_uscc = $1", ProjectRef::COLUMNS);
        let rows = sqlx::query(&sql).bind(uscc).fetch_all(&mut *self.conn).await?;
        let mut codes = vec![];
        for r in &rows {
            if in_scope(self.scope, &ProjectRef::from_row(r)?) {
                codes.push(r.try_get("code")?);
            }
        }
        Ok(codes)
    }
}

/// Writes a batch in the caller's transaction and evaluates the touched projects' indicators.
pub async fn ingest(
    tx: &mut Conn,
    cfg: &crate::config::CityConfig,
    cal: &WorkCalendar,
    now: OffsetDateTime,
    batch: Batch<'_>,
) -> Result<BatchReport> {
    if batch.source.trim().is_empty() {
        return Err(StoreError::invalid("source", "请填写数据来源"));
    }
    if batch.rows.is_empty() {
        return Err(StoreError::invalid("rows", "没有可导入的数据行"));
    }
    let ms = domain::clock::to_millis(now);
    let batch_id = crate::new_id();
    let mut w = Writer {
        conn: &mut *tx,
        scope: batch.scope,
        sender: batch.sender,
        department: batch.department,
        source: batch.source.trim(),
        ms,
        projects: HashMap::new(),
        workers: HashMap::new(),
        touched: BTreeSet::new(),
        employers: BTreeSet::new(),
        labor: BTreeSet::new(),
    };
    let (mut accepted, mut duplicates) = (0i64, 0i64);
    let mut rejections = vec![];
    let mut seen = BTreeSet::new();
    for row in &batch.rows {
        let result = match &row.parsed {
            Err(r) => Err(r.clone()),
            // The same event twice in one batch is a resend within the batch.
            Ok(_) if batch.kind.identity() == Identity::Event && !seen.insert(row.key.clone()) => {
                Ok(Outcome::Duplicate)
            }
            Ok(rec) => w.write(batch.kind, rec).await?,
        };
        match result {
            Ok(Outcome::Accepted) => accepted += 1,
            Ok(Outcome::Duplicate) => duplicates += 1,
            // Stored and shown bounded: a refused value may be anything a sender put there.
            Err(r) => rejections.push(RejectedRow {
                row_no: row.row_no,
                external_id: excerpt(&row.key, MAX_KEY_CHARS),
                field: excerpt(&r.field, MAX_KEY_CHARS),
                reason: excerpt(&r.reason, MAX_RAW_CHARS),
                raw: excerpt(&row.raw, MAX_RAW_CHARS),
            }),
        }
    }
    let mut touched: BTreeSet<String> = std::mem::take(&mut w.touched);
    let labor = std::mem::take(&mut w.labor);
    for uscc in std::mem::take(&mut w.employers) {
        touched.extend(w.employer_projects(&uscc).await?);
    }
    let total = batch.rows.len() as i64;
    let rejected = rejections.len() as i64;
    record_batch(tx, now, &batch, &batch_id, (accepted, duplicates), &rejections).await?;
    let mut report = BatchReport {
        batch_id,
        kind: batch.kind.as_str().into(),
        source: batch.source.trim().into(),
        total,
        accepted,
        duplicates,
        rejected,
        rejections,
        projects_evaluated: 0,
        alerts_opened: 0,
        alerts_changed: 0,
        alerts_cleared: 0,
    };
    if accepted > 0 {
        for code in &touched {
            let r = crate::alerts::run_for_subject(tx, cfg, cal, &crate::wages::Projects, code, now).await?;
            report.projects_evaluated += 1;
            report.alerts_opened += r.opened;
            report.alerts_changed += r.changed;
            report.alerts_cleared += r.cleared;
        }
        for uscc in &labor {
            let r = crate::alerts::run_for_subject(tx, cfg, cal, &crate::wages::labor::Employers, uscc, now).await?;
            report.alerts_opened += r.opened;
            report.alerts_changed += r.changed;
            report.alerts_cleared += r.cleared;
        }
    }
    Ok(report)
}

/// The batch's record, its refused rows and its audit record.
async fn record_batch(
    tx: &mut Conn,
    now: OffsetDateTime,
    batch: &Batch<'_>,
    batch_id: &str,
    (accepted, duplicates): (i64, i64),
    rejections: &[RejectedRow],
) -> Result<()> {
    let ms = domain::clock::to_millis(now);
    let total = batch.rows.len() as i64;
    let rejected = rejections.len() as i64;
    sqlx::query(
        "INSERT INTO ingest_batches (id, kind, source, via, filename, by_user, by_name, received_at, total, accepted, duplicates, rejected)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(batch_id)
    .bind(batch.kind.as_str())
    .bind(batch.source.trim())
    .bind(batch.via.as_str())
    .bind(batch.filename)
    .bind(batch.by_user)
    .bind(batch.by_name)
    .bind(ms)
    .bind(total)
    .bind(accepted)
    .bind(duplicates)
    .bind(rejected)
    .execute(&mut *tx)
    .await?;
    for r in rejections {
        sqlx::query(
            "INSERT INTO ingest_rejections (batch_id, row_no, external_id, field, reason, raw) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(batch_id)
        .bind(r.row_no)
        .bind(&r.external_id)
        .bind(&r.field)
        .bind(&r.reason)
        .bind(&r.raw)
        .execute(&mut *tx)
        .await?;
    }
    let entry = AuditEntry::new(domain::wages::WagesAudit::Import, "ingest_batch", batch_id)
        .by(batch.by_user, batch.by_name)
        .from_ip(batch.ip)
        .detail(format!(
            "{}（{}，来源：{}{}）：共 {total} 行，写入 {accepted}，重复 {duplicates}，拒收 {rejected}",
            batch.kind.label(),
            if batch.via == Via::Api { "接口" } else { "文件导入" },
            batch.source.trim(),
            if batch.filename.is_empty() { String::new() } else { format!("，文件 {}", batch.filename) },
        ));
    crate::audit::append(tx, now, entry).await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct BatchRow {
    pub id: String,
    pub kind: String,
    pub source: String,
    pub via: String,
    pub filename: String,
    pub by_name: String,
    pub received_at: i64,
    pub total: i64,
    pub accepted: i64,
    pub duplicates: i64,
    pub rejected: i64,
}

/// Recent batches; an importer who is not an administrator of all data sees their own.
pub async fn batches(db: &Db, by_user: Option<&str>, limit: i64) -> Result<Vec<BatchRow>> {
    let mut q = Sql::new(
        "SELECT id, kind, source, via, filename, by_name, received_at, total, accepted, duplicates, rejected FROM ingest_batches WHERE 1 = 1",
    );
    if let Some(u) = by_user {
        q.push(" AND by_user = ").bind(u);
    }
    q.push(" ORDER BY received_at DESC, id DESC LIMIT ").bind(limit);
    Ok(q.query_as::<BatchRow>().fetch_all(db.reader()).await?)
}

/// A batch and one page of its refused rows.
pub async fn batch(
    db: &Db,
    id: &str,
    by_user: Option<&str>,
    page: crate::sql::PageRequest,
) -> Result<(BatchRow, crate::sql::Paged<RejectedRow>)> {
    let mut q = Sql::new(
        "SELECT id, kind, source, via, filename, by_name, received_at, total, accepted, duplicates, rejected FROM ingest_batches WHERE id = ",
    );
    q.bind(id);
    if let Some(u) = by_user {
        q.push(" AND by_user = ").bind(u);
    }
    let b = q
        .query_as::<BatchRow>()
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("导入批次 {id}")))?;
    let rows = crate::sql::paged::<RejectedRow>(
        db,
        // Rows stored before refused values were bounded are cut on the way out as well.
        "SELECT row_no, substr(external_id, 1, 100) AS external_id, field, substr(reason, 1, 500) AS reason,
                substr(raw, 1, 500) || CASE WHEN length(raw) > 500 THEN '…（共 ' || length(raw) || ' 字）' ELSE '' END AS raw",
        "FROM ingest_rejections WHERE batch_id = ",
        |q| {
            q.bind(id);
        },
        "row_no",
        page,
    )
    .await?;
    Ok((b, rows))
}
