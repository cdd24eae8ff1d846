//! Writing a whole project from `domain::wages::ProjectData`: the demo city's projects and
//! tests.

use crate::{Conn, Result, StoreError};
use domain::wages::ProjectData;
use std::collections::HashMap;
use time::Date;

/// Writes a whole project as `domain::wages::ProjectData` describes it: the demo city's
/// projects, and tests. Workers get valid generated ID numbers; `source` marks the rows.
pub async fn insert_project_data(
    conn: &mut Conn,
    now: time::OffsetDateTime,
    p: &ProjectData,
    name: &str,
    division_code: &str,
    contractor: (&str, &str),
    source: &str,
) -> Result<String> {
    let id = insert_project_row(conn, now, p, name, division_code, contractor, source).await?;
    let ids = insert_workers(conn, now, p, &id, division_code, source).await?;
    insert_months(conn, now, p, &id, &ids, source).await?;
    insert_events(conn, now, p, &id, source).await?;
    Ok(id)
}

/// The project with its special account, deposit and allocations; its id.
async fn insert_project_row(
    conn: &mut Conn,
    now: time::OffsetDateTime,
    p: &ProjectData,
    name: &str,
    division_code: &str,
    contractor: (&str, &str),
    source: &str,
) -> Result<String> {
    let id = crate::new_id();
    let ms = domain::clock::to_millis(now);
    let d = |x: Option<Date>| x.map(|d| d.to_string());
    sqlx::query(
        "INSERT INTO wage_projects (id, code, name, division_code, status, contract_value_fen, government_funded,
            contract_signed_on, start_on, registered_on, tripartite_on, contractor_uscc, contractor_name, labor_manager_name,
            notice_board_on, payment_guarantee, pay_day, progress_paid_fen, gov_funds_required_fen, gov_funds_in_place_fen,
            source, created_at, updated_at, permit_on, permit_exempt)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22,
            $23, $24)",
    )
    .bind(&id)
    .bind(&p.code)
    .bind(name)
    .bind(division_code)
    .bind(p.status.as_str())
    .bind(p.contract_value)
    .bind(i64::from(p.government_funded))
    .bind(d(p.contract_signed_on))
    .bind(d(p.start_on))
    .bind(d(p.registered_on))
    .bind(d(p.tripartite_on))
    .bind(contractor.0)
    .bind(contractor.1)
    .bind(if p.labor_manager { "劳资专管员" } else { "" })
    .bind(if p.notice_board { d(p.start_on.or(Some(now.date()))) } else { None })
    .bind(i64::from(p.payment_guarantee))
    .bind(i64::from(p.pay_day))
    .bind(p.progress_paid)
    .bind(p.gov_funds_required)
    .bind(p.gov_funds_in_place)
    .bind(source)
    .bind(ms)
    .bind(d(p.permit_on))
    .bind(i64::from(p.permit_exempt))
    .execute(&mut *conn)
    .await?;
    if let Some(opened) = p.account_opened_on {
        sqlx::query(
            "INSERT INTO wage_accounts (project_id, bank, account_no, opened_on, closure_notice_on, closed_on)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind("中国工商银行亳州分行")
        .bind(format!("1306{:012}", ms % 1_000_000_000_000))
        .bind(opened.to_string())
        .bind(d(p.account_closure_notice_on))
        .bind(d(p.account_closed_on))
        .execute(&mut *conn)
        .await?;
    }
    let dep = &p.deposit;
    sqlx::query(
        "INSERT INTO wage_deposits (project_id, mode, required_fen, paid_fen, drawn_fen, drawn_on, topped_up_fen, updated_at,
            guarantee_fen, guarantee_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(dep.mode.as_str())
    .bind(dep.required)
    .bind(dep.paid)
    .bind(dep.drawn)
    .bind(d(dep.drawn_on))
    .bind(dep.topped_up)
    .bind(ms)
    .bind(dep.guarantee)
    .bind(d(dep.guarantee_until))
    .execute(&mut *conn)
    .await?;
    // A refund awaiting review (人社部发〔2021〕65号 art. 22): committed and publicised 30 days
    // before the application.
    if let Some(applied) = p.refund_applied_on {
        sqlx::query(
            "INSERT INTO wage_deposit_refunds (id, project_id, status, commitment, committed_by, committed_name, publicity_from,
                applied_on, review_due, created_at, updated_at)
             VALUES ($1, $2, 'applied', $3, '', $4, $5, $6, NULL, $7, $7)",
        )
        .bind(crate::new_id())
        .bind(&id)
        .bind(domain::wages::refund::commitment(contractor.1, name))
        .bind(contractor.1)
        .bind((applied - time::Duration::days(domain::wages::refund::PUBLICITY_DAYS)).to_string())
        .bind(applied.to_string())
        .bind(ms)
        .execute(&mut *conn)
        .await?;
    }
    for (i, (on, amount)) in p.allocations.iter().enumerate() {
        sqlx::query(
            "INSERT INTO wage_allocations (id, project_id, on_date, amount_fen, source, external_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(crate::new_id())
        .bind(&id)
        .bind(on.to_string())
        .bind(amount)
        .bind(source)
        .bind(format!("{}-A{i}", p.code))
        .bind(ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// The real-name workers with generated valid ID numbers; the data's worker ids to stored ids.
async fn insert_workers<'p>(
    conn: &mut Conn,
    now: time::OffsetDateTime,
    p: &'p ProjectData,
    id: &str,
    division_code: &str,
    source: &str,
) -> Result<HashMap<&'p str, String>> {
    let ms = domain::clock::to_millis(now);
    let d = |x: Option<Date>| x.map(|d| d.to_string());
    let mut ids: HashMap<&str, String> = HashMap::new();
    for (i, w) in p.workers.iter().enumerate() {
        let wid = crate::new_id();
        let body = format!("{}1990{:02}{:02}{:03}", &division_code[..6], 1 + i % 12, 1 + i % 28, i % 1000);
        let card = domain::IdCardNo::from_body(&body).map(|c| c.as_str().to_string()).unwrap_or(body);
        sqlx::query(
            "INSERT INTO wage_workers (id, project_id, id_card_no, name, registered, contract, joined_on, left_on, settled_on,
                source, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(&wid)
        .bind(id)
        .bind(card)
        .bind(format!("工人{}", i + 1))
        .bind(i64::from(w.registered))
        .bind(i64::from(w.contract))
        .bind(w.joined_on.to_string())
        .bind(d(w.left_on))
        .bind(if w.settled { d(w.left_on) } else { None })
        .bind(source)
        .bind(ms)
        .execute(&mut *conn)
        .await?;
        ids.insert(w.id.as_str(), wid);
    }
    Ok(ids)
}

/// Attendance, payroll and payments.
async fn insert_months(
    conn: &mut Conn,
    now: time::OffsetDateTime,
    p: &ProjectData,
    id: &str,
    ids: &HashMap<&str, String>,
    source: &str,
) -> Result<()> {
    let ms = domain::clock::to_millis(now);
    let wid = |w: &str| ids.get(w).cloned().ok_or_else(|| StoreError::Other(format!("未知工人 {w}")));
    for a in &p.attendance {
        sqlx::query(
            "INSERT INTO wage_attendance (worker_id, month, project_id, days, source) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(wid(&a.worker)?)
        .bind(a.month.to_string())
        .bind(id)
        .bind(a.days)
        .bind(source)
        .execute(&mut *conn)
        .await?;
    }
    for l in &p.payroll {
        sqlx::query(
            "INSERT INTO wage_payroll (worker_id, month, project_id, due_fen, deductions_fen, signed, complete, source,
                overtime_fen, payslip)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(wid(&l.worker)?)
        .bind(l.month.to_string())
        .bind(id)
        .bind(l.due)
        .bind(l.deductions)
        .bind(i64::from(l.signed))
        .bind(i64::from(l.complete))
        .bind(source)
        .bind(l.overtime)
        .bind(l.payslip.map(i64::from))
        .execute(&mut *conn)
        .await?;
    }
    for (i, x) in p.payments.iter().enumerate() {
        sqlx::query(
            "INSERT INTO wage_payments (id, project_id, worker_id, month, amount_fen, paid_on, method, source, external_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(crate::new_id())
        .bind(id)
        .bind(wid(&x.worker)?)
        .bind(x.month.to_string())
        .bind(x.amount)
        .bind(x.on.to_string())
        .bind(x.method.as_str())
        .bind(source)
        .bind(format!("{}-P{i}", p.code))
        .bind(ms)
        .execute(&mut *conn)
        .await?;
    }
    for (i, d) in p.debits.iter().enumerate() {
        let worker = match &d.worker {
            Some(w) => Some(wid(w)?),
            None => None,
        };
        sqlx::query(
            "INSERT INTO wage_account_debits (id, project_id, on_date, amount_fen, payee_name, cash, worker_id, source, external_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(crate::new_id())
        .bind(id)
        .bind(d.on.to_string())
        .bind(d.amount)
        .bind(&d.payee)
        .bind(i64::from(d.cash))
        .bind(worker)
        .bind(source)
        .bind(format!("{}-D{i}", p.code))
        .bind(ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Complaints and signals.
async fn insert_events(
    conn: &mut Conn,
    now: time::OffsetDateTime,
    p: &ProjectData,
    id: &str,
    source: &str,
) -> Result<()> {
    let ms = domain::clock::to_millis(now);
    for (i, c) in p.complaints.iter().enumerate() {
        sqlx::query(
            "INSERT INTO wage_complaints (id, project_id, channel, received_on, collective, source, external_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(crate::new_id())
        .bind(id)
        .bind(&c.channel)
        .bind(c.received_on.to_string())
        .bind(i64::from(c.collective))
        .bind(source)
        .bind(format!("{}-C{i}", p.code))
        .bind(ms)
        .execute(&mut *conn)
        .await?;
    }
    for (i, s) in p.signals.iter().enumerate() {
        sqlx::query(
            "INSERT INTO wage_signals (id, project_id, kind, on_date, value, source, external_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(crate::new_id())
        .bind(id)
        .bind(s.kind.as_str())
        .bind(s.on.to_string())
        .bind(s.value)
        .bind(source)
        .bind(format!("{}-S{i}", p.code))
        .bind(ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
