//! In-app notices (站内消息): to a role (within a department or anywhere) or to one user.

use crate::sql::{PageRequest, Paged, Sql};
use crate::{Conn, Db, Result, new_id};
use domain::auth::Principal;
use domain::clock::to_millis;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum To {
    Role { department: Option<String>, role: String },
    User(String),
}

pub async fn send(conn: &mut Conn, now: OffsetDateTime, to: &To, link: &str, text: &str) -> Result<String> {
    let id = new_id();
    let (dept, role, user) = match to {
        To::Role { department, role } => (department.clone(), Some(role.clone()), None),
        To::User(u) => (None, None, Some(u.clone())),
    };
    sqlx::query("INSERT INTO notifications (id, department, role, user_id, link, text, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&id)
        .bind(dept)
        .bind(role)
        .bind(user)
        .bind(link)
        .bind(text)
        .bind(to_millis(now))
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Notice {
    pub id: String,
    pub link: String,
    pub text: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// The `WHERE` part selecting what `p` receives.
fn mine(p: &Principal, q: &mut Sql) {
    q.push(" WHERE (n.user_id = ").bind(p.user_id.clone());
    if !p.role_codes.is_empty() {
        q.push(" OR (n.role IN (");
        for (i, r) in p.role_codes.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(r.clone());
        }
        q.push(") AND (n.department IS NULL");
        if let Some(d) = &p.department_code {
            q.push(" OR n.department = ").bind(d.clone());
        }
        q.push("))");
    }
    q.push(")");
}

pub async fn inbox(db: &Db, p: &Principal, unread_only: bool, page: PageRequest) -> Result<Paged<Notice>> {
    let build = |select: &str| {
        let mut q = Sql::new(select);
        q.push(" FROM notifications n LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.user_id = ");
        q.bind(p.user_id.clone());
        mine(p, &mut q);
        if unread_only {
            q.push(" AND r.read_at IS NULL");
        }
        q
    };
    let total: i64 = build("SELECT COUNT(*)").query_scalar().fetch_one(db.reader()).await?;
    let mut q = build("SELECT n.id, n.link, n.text, n.created_at, r.read_at");
    q.push(" ORDER BY n.created_at DESC, n.id DESC");
    page.apply(&mut q);
    let items = q.query_as().fetch_all(db.reader()).await?;
    Ok(Paged { items, total, page: page.page, per_page: page.per_page })
}

pub async fn unread_count(db: &Db, p: &Principal) -> Result<i64> {
    let mut q = Sql::new(
        "SELECT COUNT(*) FROM notifications n LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.user_id = ",
    );
    q.bind(p.user_id.clone());
    mine(p, &mut q);
    q.push(" AND r.read_at IS NULL");
    Ok(q.query_scalar().fetch_one(db.reader()).await?)
}

pub async fn mark_all_read(conn: &mut Conn, db: &Db, p: &Principal, now: OffsetDateTime) -> Result<u64> {
    let unread = inbox(db, p, true, PageRequest::all()).await?;
    for n in &unread.items {
        sqlx::query("INSERT INTO notification_reads (notification_id, user_id, read_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(&n.id)
            .bind(&p.user_id)
            .bind(to_millis(now))
            .execute(&mut *conn)
            .await?;
    }
    Ok(unread.items.len() as u64)
}

/// Sends to the active account(s) whose login is `login` (an enterprise's USCC, a person's ID
/// number): how a party the platform knows by identifier is told; nothing if it has no account.
pub async fn to_login(conn: &mut Conn, now: OffsetDateTime, login: &str, link: &str, text: &str) -> Result<()> {
    let users: Vec<String> = sqlx::query_scalar("SELECT id FROM users WHERE login = $1 AND status = 'active'")
        .bind(login)
        .fetch_all(&mut *conn)
        .await?;
    for u in users {
        send(conn, now, &To::User(u), link, text).await?;
    }
    Ok(())
}
