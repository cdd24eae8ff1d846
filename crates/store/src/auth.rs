//! Accounts, roles, sessions and API tokens. Secrets are never stored: passwords as argon2id
//! hashes, session and API tokens as SM3 digests of the random value the client holds.

use crate::sql::{PageRequest, Paged, Sql, like_escape};
use crate::{Conn, Db, Result, StoreError, new_id, random_token};
use domain::audit::sm3_hex;
use domain::auth::{AccountStatus, LoginAttempts, Principal, ScopeKind, UserKind};
use domain::clock::{from_millis, to_millis};
use domain::ids::DivisionCode;
use sqlx::Row;
use time::OffsetDateTime;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct User {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub kind: UserKind,
    pub login: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub department_id: Option<String>,
    pub division_code: Option<String>,
    pub grid_id: Option<String>,
    pub uscc: Option<String>,
    pub id_card_no: Option<String>,
    pub phone: String,
    #[sqlx(try_from = "String")]
    pub status: AccountStatus,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub must_change_password: i64,
    pub password_changed_at: i64,
    pub last_login_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl User {
    pub fn attempts(&self) -> LoginAttempts {
        LoginAttempts { failures: self.failed_logins.max(0) as u32, locked_until: self.locked_until.map(from_millis) }
    }

    pub fn kind(&self) -> UserKind {
        self.kind
    }

    pub fn is_active(&self) -> bool {
        self.status == AccountStatus::Active
    }
}

pub async fn user_by_login(db: &Db, login: &str) -> Result<Option<User>> {
    Ok(sqlx::query_as("SELECT * FROM users WHERE login = $1").bind(login).fetch_optional(db.reader()).await?)
}

pub async fn get_user(db: &Db, id: &str) -> Result<User> {
    sqlx::query_as("SELECT * FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::NotFound("用户".into()))
}

/// Builds the principal of an active user, merging the grants of all their roles.
pub async fn load_principal(db: &Db, user_id: &str) -> Result<Option<Principal>> {
    let Some(u): Option<User> = sqlx::query_as("SELECT * FROM users WHERE id = $1 AND status = 'active'")
        .bind(user_id)
        .fetch_optional(db.reader())
        .await?
    else {
        return Ok(None);
    };
    let rows = sqlx::query(
        "SELECT r.name, r.scope, rp.permission, r.code FROM user_roles ur
         JOIN roles r ON r.id = ur.role_id
         LEFT JOIN role_permissions rp ON rp.role_id = r.id
         WHERE ur.user_id = $1 ORDER BY r.name",
    )
    .bind(user_id)
    .fetch_all(db.reader())
    .await?;
    let mut role_names: Vec<String> = vec![];
    let mut role_codes: Vec<String> = vec![];
    let mut per_role: Vec<(Vec<String>, ScopeKind)> = vec![];
    let mut last: Option<String> = None;
    for r in &rows {
        let name: String = r.try_get(0)?;
        let scope: String = r.try_get(1)?;
        let perm: Option<String> = r.try_get(2)?;
        if last.as_deref() != Some(&name) {
            role_names.push(name.clone());
            role_codes.push(r.try_get(3)?);
            per_role.push((vec![], ScopeKind::parse(&scope).unwrap_or(ScopeKind::Own)));
            last = Some(name);
        }
        if let (Some(p), Some(entry)) = (perm, per_role.last_mut()) {
            entry.0.push(p);
        }
    }
    let grants = Principal::grants_from(per_role.iter().map(|(p, s)| (p.as_slice(), *s)));
    let department_code: Option<String> = match &u.department_id {
        Some(d) => {
            sqlx::query_scalar("SELECT code FROM departments WHERE id = $1").bind(d).fetch_optional(db.reader()).await?
        }
        None => None,
    };
    Ok(Some(Principal {
        user_id: u.id.clone(),
        kind: u.kind(),
        login: u.login.clone(),
        display_name: u.display_name.clone(),
        department_id: u.department_id.clone(),
        division_code: u.division_code.as_deref().and_then(|c| DivisionCode::parse(c).ok()),
        grid_id: u.grid_id.clone(),
        uscc: u.uscc.clone(),
        id_card_no: u.id_card_no.clone(),
        department_code,
        role_codes,
        role_names,
        grants,
        must_change_password: u.must_change_password != 0,
    }))
}

pub async fn save_attempts(conn: &mut Conn, user_id: &str, a: LoginAttempts) -> Result<()> {
    sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
        .bind(a.failures as i64)
        .bind(a.locked_until.map(to_millis))
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Counts a login attempt *before* its password is checked, in one statement that increments
/// and returns, so concurrent attempts cannot all read the same count and each be checked
/// (等保 2.0 身份鉴别: lock after `max_failures`). The rule is `LoginAttempts::after_failure`:
/// an expired lock starts a fresh count, and the attempt that reaches the limit sets the lock
/// at once (a right password on it still logs in and clears it). Returns the attempt's number,
/// or `None` while the account is locked (nothing is checked then).
pub async fn begin_login_attempt(
    conn: &mut Conn,
    user_id: &str,
    now: OffsetDateTime,
    policy: domain::auth::LockoutPolicy,
) -> Result<Option<u32>> {
    let n: Option<i64> = sqlx::query_scalar(
        "UPDATE users SET
            failed_logins = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_logins + 1 END,
            locked_until = CASE WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_logins + 1 END) >= $1
                                THEN $2 ELSE NULL END
         WHERE id = $3 AND (locked_until IS NULL OR locked_until <= $4)
         RETURNING failed_logins",
    )
    .bind(i64::from(policy.max_failures))
    .bind(to_millis(now + policy.lock_for))
    .bind(user_id)
    .bind(to_millis(now))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(n.map(|n| n.clamp(0, i64::from(u32::MAX)) as u32))
}

pub async fn record_login(conn: &mut Conn, user_id: &str, now: OffsetDateTime) -> Result<()> {
    sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $1 WHERE id = $2")
        .bind(to_millis(now))
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub kind: Option<UserKind>,
    pub login: String,
    pub display_name: String,
    pub password_hash: String,
    pub department_id: Option<String>,
    pub division_code: Option<String>,
    pub grid_id: Option<String>,
    pub uscc: Option<String>,
    pub id_card_no: Option<String>,
    pub phone: String,
    pub role_ids: Vec<String>,
    pub must_change_password: bool,
}

pub async fn create_user(conn: &mut Conn, now: OffsetDateTime, u: &NewUser) -> Result<String> {
    let id = new_id();
    let r = sqlx::query(
        "INSERT INTO users (id, kind, login, display_name, password_hash, department_id, division_code, grid_id, uscc,
            id_card_no, phone, status, failed_logins, must_change_password, password_changed_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', 0, $12, $13, $13, $13)",
    )
    .bind(&id)
    .bind(u.kind.unwrap_or(UserKind::Staff).as_str())
    .bind(&u.login)
    .bind(&u.display_name)
    .bind(&u.password_hash)
    .bind(&u.department_id)
    .bind(&u.division_code)
    .bind(&u.grid_id)
    .bind(&u.uscc)
    .bind(&u.id_card_no)
    .bind(&u.phone)
    .bind(i64::from(u.must_change_password))
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await;
    crate::unique_as_conflict(r, "login", || format!("账号“{}”已存在", u.login))?;
    set_roles(conn, &id, &u.role_ids).await?;
    Ok(id)
}

pub async fn set_roles(conn: &mut Conn, user_id: &str, role_ids: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for r in role_ids {
        sqlx::query("INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)")
            .bind(user_id)
            .bind(r)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct UserUpdate {
    pub display_name: String,
    pub department_id: Option<String>,
    pub division_code: Option<String>,
    pub grid_id: Option<String>,
    pub phone: String,
    pub role_ids: Vec<String>,
}

pub async fn update_user(conn: &mut Conn, now: OffsetDateTime, id: &str, u: &UserUpdate) -> Result<()> {
    let r = sqlx::query(
        "UPDATE users SET display_name = $1, department_id = $2, division_code = $3, grid_id = $4, phone = $5, updated_at = $6
         WHERE id = $7",
    )
    .bind(&u.display_name)
    .bind(&u.department_id)
    .bind(&u.division_code)
    .bind(&u.grid_id)
    .bind(&u.phone)
    .bind(to_millis(now))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound("用户".into()));
    }
    set_roles(conn, id, &u.role_ids).await
}

pub async fn set_password(conn: &mut Conn, now: OffsetDateTime, id: &str, hash: &str, must_change: bool) -> Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $1, must_change_password = $2, password_changed_at = $3, updated_at = $3,
            failed_logins = 0, locked_until = NULL WHERE id = $4",
    )
    .bind(hash)
    .bind(i64::from(must_change))
    .bind(to_millis(now))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn set_status(conn: &mut Conn, now: OffsetDateTime, id: &str, active: bool) -> Result<()> {
    sqlx::query("UPDATE users SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(if active { AccountStatus::Active } else { AccountStatus::Disabled }.as_str())
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if !active {
        end_user_sessions(conn, now, id, "disabled").await?;
    }
    Ok(())
}

pub async fn unlock(conn: &mut Conn, id: &str) -> Result<()> {
    save_attempts(conn, id, LoginAttempts::default()).await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct UserListItem {
    pub id: String,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub kind: UserKind,
    pub login: String,
    pub display_name: String,
    pub department_name: Option<String>,
    pub division_code: Option<String>,
    pub grid_name: Option<String>,
    #[sqlx(skip)]
    pub roles: String,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub status: AccountStatus,
    pub locked_until: Option<i64>,
    pub last_login_at: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub q: Option<String>,
    pub kind: Option<String>,
    pub department_id: Option<String>,
    pub role_id: Option<String>,
    pub status: Option<String>,
}

fn user_where(f: &UserFilter, q: &mut Sql) {
    q.push(" WHERE 1 = 1");
    if let Some(s) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let p = format!("%{}%", like_escape(s));
        q.push(" AND (u.login LIKE ")
            .bind(p.clone())
            .push(" ESCAPE '\\' OR u.display_name LIKE ")
            .bind(p)
            .push(" ESCAPE '\\')");
    }
    if let Some(k) = f.kind.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND u.kind = ").bind(k);
    }
    if let Some(d) = f.department_id.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND u.department_id = ").bind(d);
    }
    if let Some(r) = f.role_id.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND u.id IN (SELECT user_id FROM user_roles WHERE role_id = ").bind(r).push(")");
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND u.status = ").bind(s);
    }
}

pub async fn list_users(db: &Db, f: &UserFilter, page: PageRequest) -> Result<Paged<UserListItem>> {
    let select = "SELECT u.id, u.kind, u.login, u.display_name, d.short_name AS department_name, u.division_code,
        g.name AS grid_name, u.status, u.locked_until, u.last_login_at";
    let from = "FROM users u LEFT JOIN departments d ON d.id = u.department_id LEFT JOIN grids g ON g.id = u.grid_id";
    let mut paged: Paged<UserListItem> =
        crate::sql::paged(db, select, from, |q| user_where(f, q), "u.kind, u.login", page).await?;
    let items = &mut paged.items;
    if !items.is_empty() {
        let mut rq = Sql::new(
            "SELECT ur.user_id, r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id IN (",
        );
        for (i, u) in items.iter().enumerate() {
            if i > 0 {
                rq.push(", ");
            }
            rq.bind(u.id.clone());
        }
        rq.push(") ORDER BY r.name");
        let rows: Vec<(String, String)> = rq.query_as().fetch_all(db.reader()).await?;
        for u in items.iter_mut() {
            let names: Vec<&str> = rows.iter().filter(|(id, _)| *id == u.id).map(|(_, n)| n.as_str()).collect();
            u.roles = names.join("、");
        }
    }
    Ok(paged)
}

pub async fn user_role_ids(db: &Db, user_id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT role_id FROM user_roles WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(db.reader())
        .await?)
}

// ---------------------------------------------------------------- roles

#[derive(Debug, Clone, serde::Serialize)]
pub struct Role {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub scope: ScopeKind,
    pub builtin: bool,
    pub permissions: Vec<String>,
    pub users: i64,
}

pub async fn list_roles(db: &Db) -> Result<Vec<Role>> {
    let rows = sqlx::query(
        "SELECT r.id, r.code, r.name, r.description, r.scope, r.builtin,
            (SELECT COUNT(*) FROM user_roles ur WHERE ur.role_id = r.id) AS users
         FROM roles r ORDER BY r.builtin DESC, r.code",
    )
    .fetch_all(db.reader())
    .await?;
    let perms = sqlx::query("SELECT role_id, permission FROM role_permissions ORDER BY permission")
        .fetch_all(db.reader())
        .await?;
    let mut out = vec![];
    for r in rows {
        let id: String = r.try_get("id")?;
        let permissions = perms
            .iter()
            .filter(|p| p.try_get::<String, _>(0).map(|x| x == id).unwrap_or(false))
            .filter_map(|p| p.try_get::<String, _>(1).ok())
            .collect();
        let scope: String = r.try_get("scope")?;
        out.push(Role {
            id,
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            description: r.try_get("description")?,
            scope: ScopeKind::parse(&scope).unwrap_or(ScopeKind::Own),
            builtin: r.try_get::<i64, _>("builtin")? != 0,
            permissions,
            users: r.try_get("users")?,
        });
    }
    Ok(out)
}

pub async fn get_role(db: &Db, id: &str) -> Result<Role> {
    list_roles(db).await?.into_iter().find(|r| r.id == id).ok_or_else(|| StoreError::NotFound("角色".into()))
}

pub async fn role_id_by_code(conn: &mut Conn, code: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM roles WHERE code = $1").bind(code).fetch_optional(&mut *conn).await?)
}

#[derive(Debug, Clone)]
pub struct RoleInput {
    pub code: String,
    pub name: String,
    pub description: String,
    pub scope: ScopeKind,
    pub permissions: Vec<String>,
}

pub async fn create_role(conn: &mut Conn, now: OffsetDateTime, r: &RoleInput, builtin: bool) -> Result<String> {
    let id = new_id();
    let res = sqlx::query(
        "INSERT INTO roles (id, code, name, description, scope, builtin, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&id)
    .bind(&r.code)
    .bind(&r.name)
    .bind(&r.description)
    .bind(r.scope.as_str())
    .bind(i64::from(builtin))
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await;
    crate::unique_as_conflict(res, "code", || format!("角色代码“{}”已存在", r.code))?;
    set_permissions(conn, &id, &r.permissions).await?;
    Ok(id)
}

pub async fn update_role(conn: &mut Conn, now: OffsetDateTime, id: &str, r: &RoleInput) -> Result<()> {
    let res = sqlx::query("UPDATE roles SET name = $1, description = $2, scope = $3, updated_at = $4 WHERE id = $5")
        .bind(&r.name)
        .bind(&r.description)
        .bind(r.scope.as_str())
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound("角色".into()));
    }
    set_permissions(conn, id, &r.permissions).await
}

async fn set_permissions(conn: &mut Conn, role_id: &str, perms: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM role_permissions WHERE role_id = $1").bind(role_id).execute(&mut *conn).await?;
    for p in perms {
        sqlx::query("INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)")
            .bind(role_id)
            .bind(p)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- sessions

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ended_at: Option<i64>,
    pub end_reason: Option<String>,
}

/// Creates a session; returns the cookie token (only its SM3 digest is stored) and the session.
pub async fn create_session(
    conn: &mut Conn,
    now: OffsetDateTime,
    user_id: &str,
    ip: &str,
    ua: &str,
) -> Result<(String, Session)> {
    let token = random_token(32);
    let s = Session {
        id: sm3_hex(token.as_bytes()),
        user_id: user_id.to_string(),
        csrf_token: random_token(24),
        created_at: to_millis(now),
        last_seen_at: to_millis(now),
        ended_at: None,
        end_reason: None,
    };
    sqlx::query(
        "INSERT INTO sessions (id, user_id, csrf_token, created_at, last_seen_at, ip, user_agent) VALUES ($1, $2, $3, $4, $4, $5, $6)",
    )
    .bind(&s.id)
    .bind(user_id)
    .bind(&s.csrf_token)
    .bind(s.created_at)
    .bind(ip)
    .bind(ua.chars().take(300).collect::<String>())
    .execute(&mut *conn)
    .await?;
    Ok((token, s))
}

pub async fn find_session(db: &Db, token: &str) -> Result<Option<Session>> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, csrf_token, created_at, last_seen_at, ended_at, end_reason FROM sessions WHERE id = $1",
    )
    .bind(sm3_hex(token.as_bytes()))
    .fetch_optional(db.reader())
    .await?)
}

pub async fn touch_session(conn: &mut Conn, id: &str, now: OffsetDateTime) -> Result<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND ended_at IS NULL")
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn end_session(conn: &mut Conn, id: &str, now: OffsetDateTime, reason: &str) -> Result<()> {
    sqlx::query("UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL")
        .bind(to_millis(now))
        .bind(reason)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn end_user_sessions(conn: &mut Conn, now: OffsetDateTime, user_id: &str, reason: &str) -> Result<u64> {
    let r = sqlx::query("UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE user_id = $3 AND ended_at IS NULL")
        .bind(to_millis(now))
        .bind(reason)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected())
}

/// Ends a user's sessions except `keep` (after a password change).
pub async fn end_other_sessions(
    conn: &mut Conn,
    now: OffsetDateTime,
    user_id: &str,
    keep: &str,
    reason: &str,
) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE user_id = $3 AND id <> $4 AND ended_at IS NULL",
    )
    .bind(to_millis(now))
    .bind(reason)
    .bind(user_id)
    .bind(keep)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected())
}

/// Ends idle sessions and deletes ended ones older than `keep_ended` (their logins and logouts
/// stay in the audit log).
pub async fn purge_sessions(
    conn: &mut Conn,
    now: OffsetDateTime,
    idle_before: OffsetDateTime,
    delete_before: OffsetDateTime,
) -> Result<(u64, u64)> {
    let ended = sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = 'idle' WHERE ended_at IS NULL AND last_seen_at < $2",
    )
    .bind(to_millis(now))
    .bind(to_millis(idle_before))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let deleted = sqlx::query("DELETE FROM sessions WHERE ended_at IS NOT NULL AND ended_at < $1")
        .bind(to_millis(delete_before))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok((ended, deleted))
}

/// Accounts locked right now.
pub async fn locked_count(db: &Db, now: OffsetDateTime) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE locked_until > $1")
        .bind(to_millis(now))
        .fetch_one(db.reader())
        .await?)
}

pub async fn active_session_count(db: &Db) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE ended_at IS NULL").fetch_one(db.reader()).await?)
}

// ---------------------------------------------------------------- API tokens

pub const TOKEN_PREFIX: &str = "ys_";

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub user_login: String,
    pub user_name: String,
    pub name: String,
    pub prefix: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Issues a token for `user_id`. The plain token is returned once and never stored.
pub async fn create_token(
    conn: &mut Conn,
    now: OffsetDateTime,
    user_id: &str,
    name: &str,
    created_by: &str,
    expires_at: Option<OffsetDateTime>,
) -> Result<(String, String)> {
    let id = new_id();
    let token = format!("{TOKEN_PREFIX}{}", random_token(24));
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(name)
    .bind(sm3_hex(token.as_bytes()))
    .bind(&token[..TOKEN_PREFIX.len() + 6])
    .bind(created_by)
    .bind(to_millis(now))
    .bind(expires_at.map(to_millis))
    .execute(&mut *conn)
    .await?;
    Ok((id, token))
}

/// The token's id and user, if the token exists, is not revoked and has not expired.
/// A user's display name, if the user exists.
pub async fn display_name(db: &Db, id: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1").bind(id).fetch_optional(db.reader()).await?)
}

pub async fn check_token(db: &Db, token: &str, now: OffsetDateTime) -> Result<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT id, user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(sm3_hex(token.as_bytes()))
    .bind(to_millis(now))
    .fetch_optional(db.reader())
    .await?;
    Ok(match row {
        Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
        None => None,
    })
}

pub async fn touch_token(conn: &mut Conn, id: &str, now: OffsetDateTime) -> Result<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn revoke_token(conn: &mut Conn, id: &str, now: OffsetDateTime) -> Result<bool> {
    let r = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn list_tokens(db: &Db) -> Result<Vec<ApiToken>> {
    Ok(sqlx::query_as(
        "SELECT t.id, t.user_id, u.login AS user_login, u.display_name AS user_name, t.name, t.prefix, t.created_by, t.created_at,
            t.expires_at, t.last_used_at, t.revoked_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.created_at DESC",
    )
    .fetch_all(db.reader())
    .await?)
}
