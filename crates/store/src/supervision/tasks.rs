//! Check-in tasks (打卡任务): the agency sets a scheduled check-in or a random "flying" one
//! (飞行打卡) with a deadline; the phone answers with its location, the face-match score and
//! liveness flag reported by its verifier, and the photo's SM3 digest. A failed check-in (face
//! not matched, not live, or outside the allowed areas) and a missed deadline open an alarm and
//! count on the 亳安码 score.

use super::alarms::open_alarm;
use super::fences::fence_set;
use super::{Person, person_in};
use crate::config::CityConfig;
use crate::notify::{self, To};
use crate::{Conn, Db, Result, StoreError, audit, new_id};
use domain::audit::AuditEntry;
use domain::clock::{format_minute, from_millis, local, to_millis};
use domain::geo::{Datum, to_wgs84};
use domain::supervision::{AlarmKind, CheckInKind, CheckInStatus};
use time::OffsetDateTime;

/// The job that settles a task at its deadline.
pub const TASK_DUE_JOB: &str = "supervision.task_due";

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct TaskRow {
    pub id: String,
    pub no: String,
    pub person_id: String,
    /// `flying` (飞行打卡) or `scheduled` (定时打卡).
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub kind: CheckInKind,
    pub note: String,
    /// Open from and due by, Unix ms.
    pub open_at: i64,
    pub due_at: i64,
    /// `open`, `done`, `failed`, `missed`.
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub status: CheckInStatus,
    pub done_at: Option<i64>,
    pub face_score: Option<f64>,
    pub result: String,
}

const TASK_SELECT: &str =
    "SELECT id, no, person_id, kind, note, open_at, due_at, status, done_at, face_score, result FROM sup_tasks";

fn when(ms: i64) -> String {
    format_minute(from_millis(ms))
}

#[derive(Debug, Clone)]
pub struct NewTask {
    /// `flying` or `scheduled`.
    pub kind: String,
    pub open_at: i64,
    pub due_at: i64,
    /// What the person is to do (e.g. 在居住地打卡).
    pub note: String,
}

/// Sets a task for `person`: open from `open_at`, due by `due_at` (after now, at most a week
/// ahead). The person is told; the deadline job is queued in the same transaction.
pub async fn issue_task(
    conn: &mut Conn,
    now: OffsetDateTime,
    person: &Person,
    t: &NewTask,
    by: (&str, &str),
) -> Result<TaskRow> {
    let (open_at, due_at, note) = (t.open_at, t.due_at, t.note.as_str());
    let Some(kind) = CheckInKind::parse(&t.kind) else {
        return Err(StoreError::invalid("kind", "打卡方式应为飞行打卡或定时打卡"));
    };
    let now_ms = to_millis(now);
    if due_at <= open_at || due_at <= now_ms {
        return Err(StoreError::invalid("due", "打卡截止时间应晚于开始时间和当前时间"));
    }
    if due_at - now_ms > 7 * 86_400_000 {
        return Err(StoreError::invalid("due", "打卡任务最多提前 7 天布置"));
    }
    let year = local(now).year();
    let n = crate::alerts::next_serial(conn, "sup_task", year).await?;
    let no = format!("DK{year}{n:06}");
    let id = new_id();
    sqlx::query(
        "INSERT INTO sup_tasks (id, no, person_id, kind, note, open_at, due_at, status, created_by, created_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10)",
    )
    .bind(&id)
    .bind(&no)
    .bind(&person.id)
    .bind(kind.as_str())
    .bind(note.trim())
    .bind(open_at)
    .bind(due_at)
    .bind(by.0)
    .bind(by.1)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    crate::jobs::enqueue(
        conn,
        now,
        TASK_DUE_JOB,
        &serde_json::json!({ "task": id }),
        from_millis(due_at),
        Some(&format!("{TASK_DUE_JOB}:{id}")),
    )
    .await?;
    let what =
        format!("{}（{}）：请于 {} 至 {} 之间在亳安码 App 完成打卡", kind.label(), no, when(open_at), when(due_at));
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::TaskIssue, "sup_task", &id)
            .by(by.0, by.1)
            .detail(format!("{}：{what}", person.name)),
    )
    .await?;
    if let Some(user) = &person.user_id {
        notify::send(conn, now, &To::User(user.clone()), "/me/supervision", &what).await?;
    }
    task(conn, &id).await
}

pub async fn task(conn: &mut Conn, id: &str) -> Result<TaskRow> {
    sqlx::query_as(&format!("{TASK_SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound("打卡任务".into()))
}

pub async fn tasks_of(db: &Db, person_id: &str) -> Result<Vec<TaskRow>> {
    Ok(sqlx::query_as(&format!("{TASK_SELECT} WHERE person_id = $1 ORDER BY due_at DESC LIMIT 50"))
        .bind(person_id)
        .fetch_all(db.reader())
        .await?)
}

/// A check-in as the phone reports it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct CheckIn {
    pub task_id: String,
    /// Unix ms.
    pub at: i64,
    pub lon: f64,
    pub lat: f64,
    /// `wgs84` (default), `gcj02` or `bd09`.
    #[serde(default)]
    pub datum: Option<String>,
    #[serde(default)]
    pub accuracy_m: Option<f64>,
    /// The phone verifier's face-match score, 0–100.
    pub face_score: f64,
    /// The phone verifier's liveness result.
    pub liveness: bool,
    /// SM3 of the photo, 64 hex digits.
    pub photo_sm3: String,
    /// The face-verification service's SM2 signature (hex) of
    /// `domain::supervision::face_result_message`: without a valid one the score is not
    /// trusted and the check-in goes to the officer.
    #[serde(default)]
    pub verifier_signature: Option<String>,
}

/// Settles an open task of `person` with the phone's check-in: done, or failed (an alarm)
/// with the reasons. After the deadline the task is missed and the check-in refused.
pub async fn check_in(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    person: &Person,
    c: &CheckIn,
) -> Result<TaskRow> {
    let t = task(conn, &c.task_id).await?;
    if t.person_id != person.id {
        return Err(StoreError::NotFound("打卡任务".into()));
    }
    if t.status != CheckInStatus::Open {
        return Err(StoreError::conflict("task_id", format!("该任务{}，不能再打卡", t.status.label())));
    }
    if c.photo_sm3.len() != 64 || !c.photo_sm3.chars().all(|ch| ch.is_ascii_hexdigit()) {
        return Err(StoreError::invalid("photo_sm3", "照片摘要应为 64 位十六进制 SM3 值"));
    }
    if !(0.0..=100.0).contains(&c.face_score) {
        return Err(StoreError::invalid("face_score", "人脸比对分应在 0–100 之间"));
    }
    let now_ms = to_millis(now);
    if c.at > now_ms + 5 * 60_000 {
        return Err(StoreError::invalid("at", "打卡时间晚于服务器时间 5 分钟以上，请校准手机时间"));
    }
    if c.at < t.open_at {
        return Err(StoreError::invalid("at", format!("打卡时间未到，请于 {} 之后打卡", when(t.open_at))));
    }
    if c.at > t.due_at || now_ms > t.due_at + 10 * 60_000 {
        return Err(StoreError::conflict("at", "已超过打卡时限"));
    }
    let datum = match c.datum.as_deref().map(Datum::parse) {
        None => Datum::Wgs84,
        Some(Some(d)) => d,
        Some(None) => return Err(StoreError::invalid("datum", "坐标系应为 wgs84、gcj02 或 bd09")),
    };
    let p = to_wgs84(datum, c.lon, c.lat).map_err(|e| StoreError::invalid("lon", e.to_string()))?;
    let fences = fence_set(conn, &person.id).await?;
    let v = fences.judge(&p, c.at, c.accuracy_m.unwrap_or(0.0).clamp(0.0, 10_000.0));
    let mut problems = vec![];
    let message = domain::supervision::face_result_message(&t.id, c.at, c.face_score, c.liveness, &c.photo_sm3);
    let keys = &cfg.city.supervision.face_verifier_keys;
    if !domain::supervision::face_result_verified(keys, &message, c.verifier_signature.as_deref()) {
        problems.push(if keys.is_empty() {
            "未配置人脸核验服务，比对结果无法核验，请民警人工复核照片".to_string()
        } else {
            "人脸比对结果签名无效或缺失（非认证核验服务出具），请民警人工复核照片".to_string()
        });
    }
    if c.face_score < cfg.city.supervision.face_match_min {
        problems.push(format!("人脸比对 {:.0} 分，低于 {:.0} 分", c.face_score, cfg.city.supervision.face_match_min));
    }
    if !c.liveness {
        problems.push("未通过活体检测".to_string());
    }
    if v.violates() {
        problems.push(if v.outside_allowed {
            "打卡位置不在允许活动区域".to_string()
        } else {
            format!("打卡位置在禁止区域：{}", v.in_forbidden.join("、"))
        });
    }
    let (status, result) = if problems.is_empty() {
        (CheckInStatus::Done, "通过".to_string())
    } else {
        (CheckInStatus::Failed, problems.join("；"))
    };
    sqlx::query(
        "UPDATE sup_tasks SET status = $1, done_at = $2, lon = $3, lat = $4, face_score = $5, liveness = $6, photo_sm3 = $7,
            result = $8 WHERE id = $9",
    )
    .bind(status.as_str())
    .bind(c.at)
    .bind(p.lon)
    .bind(p.lat)
    .bind(c.face_score)
    .bind(i64::from(c.liveness))
    .bind(c.photo_sm3.to_ascii_lowercase())
    .bind(&result)
    .bind(&t.id)
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::supervision::SupervisionAudit::TaskCheckIn, "sup_task", &t.id)
            .by(person.user_id.as_deref().unwrap_or("system"), &person.name)
            .detail(format!("{}（{}）：{}", t.kind.label(), t.no, result)),
    )
    .await?;
    if status == CheckInStatus::Failed {
        open_alarm(conn, cfg, now, person, AlarmKind::CheckIn, &format!("打卡未通过（{}）：{result}", t.no), c.at)
            .await?;
    }
    task(conn, &t.id).await
}

/// The deadline job: a task still open is missed, and alarmed.
pub async fn task_due(conn: &mut Conn, cfg: &CityConfig, now: OffsetDateTime, task_id: &str) -> Result<()> {
    let t = task(conn, task_id).await?;
    if t.status != CheckInStatus::Open {
        return Ok(());
    }
    sqlx::query("UPDATE sup_tasks SET status = 'missed', result = '超时未打卡' WHERE id = $1 AND status = 'open'")
        .bind(task_id)
        .execute(&mut *conn)
        .await?;
    let person = person_in(conn, &t.person_id).await?;
    open_alarm(
        conn,
        cfg,
        now,
        &person,
        AlarmKind::CheckIn,
        &format!("{}（{}）超时未打卡，截止 {}", t.kind.label(), t.no, when(t.due_at)),
        t.due_at,
    )
    .await?;
    Ok(())
}
