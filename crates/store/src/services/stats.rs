//! 一键申报 statistics for a period: per item (and so per department) the applications, the
//! one-click share, rejections and returns, approval times, one-click verification calls and
//! cross-department requests with their response times.

use crate::{Db, Result};
use sqlx::Row;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ItemStats {
    pub item: String,
    pub department: String,
    pub applications: i64,
    pub one_click: i64,
    pub approved: i64,
    pub rejected: i64,
    /// Applications returned for correction at least once.
    pub returned: i64,
    /// Hours from submission to approval, of the approved ones.
    pub approval_hours: Vec<f64>,
    pub verify_calls: i64,
    pub xrequests: i64,
    /// Hours to answer, of the answered requests.
    pub xrequest_hours: Vec<f64>,
}

/// Mean and 90th percentile, `None` without data.
pub fn mean_p90(v: &[f64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let idx = ((s.len() as f64 * 0.9).ceil() as usize).clamp(1, s.len()) - 1;
    Some((s.iter().sum::<f64>() / s.len() as f64, s[idx]))
}

/// The rows of a query over a period: `$1` and `$2` are its bounds.
async fn in_period(db: &Db, sql: &str, from: i64, to: i64) -> Result<Vec<sqlx::any::AnyRow>> {
    Ok(sqlx::query(sql).bind(from).bind(to).fetch_all(db.reports()).await?)
}

/// Statistics of applications submitted in [from, to) (milliseconds), by item.
pub async fn by_item(db: &Db, from: i64, to: i64) -> Result<Vec<ItemStats>> {
    let mut m: BTreeMap<String, ItemStats> = BTreeMap::new();
    for r in in_period(
        db,
        "SELECT item, department, COUNT(*) AS n, CAST(SUM(one_click) AS BIGINT) AS oc,
                CAST(SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END) AS BIGINT) AS ap,
                CAST(SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) AS BIGINT) AS rj,
                CAST(SUM(CASE WHEN returns > 0 THEN 1 ELSE 0 END) AS BIGINT) AS rt
         FROM svc_applications WHERE submitted_at >= $1 AND submitted_at < $2 GROUP BY item, department",
        from,
        to,
    )
    .await?
    {
        let item: String = r.try_get("item")?;
        m.insert(
            item.clone(),
            ItemStats {
                item,
                department: r.try_get("department")?,
                applications: r.try_get("n")?,
                one_click: r.try_get::<Option<i64>, _>("oc")?.unwrap_or(0),
                approved: r.try_get::<Option<i64>, _>("ap")?.unwrap_or(0),
                rejected: r.try_get::<Option<i64>, _>("rj")?.unwrap_or(0),
                returned: r.try_get::<Option<i64>, _>("rt")?.unwrap_or(0),
                ..Default::default()
            },
        );
    }
    for r in in_period(
        db,
        "SELECT item, decided_at - submitted_at AS ms FROM svc_applications
         WHERE submitted_at >= $1 AND submitted_at < $2 AND status = 'approved' AND decided_at IS NOT NULL",
        from,
        to,
    )
    .await?
    {
        let item: String = r.try_get("item")?;
        if let Some(s) = m.get_mut(&item) {
            s.approval_hours.push(r.try_get::<i64, _>("ms")? as f64 / 3_600_000.0);
        }
    }
    for r in in_period(
        db,
        "SELECT a.item AS item, COUNT(*) AS n FROM dx_calls c JOIN svc_applications a ON a.id = c.application_id
         WHERE c.purpose = '一键核查' AND a.submitted_at >= $1 AND a.submitted_at < $2 GROUP BY a.item",
        from,
        to,
    )
    .await?
    {
        let item: String = r.try_get("item")?;
        if let Some(s) = m.get_mut(&item) {
            s.verify_calls = r.try_get("n")?;
        }
    }
    for r in in_period(
        db,
        "SELECT a.item AS item, x.asked_at AS asked, x.answered_at AS answered FROM svc_xrequests x
         JOIN svc_applications a ON a.id = x.application_id WHERE a.submitted_at >= $1 AND a.submitted_at < $2",
        from,
        to,
    )
    .await?
    {
        let item: String = r.try_get("item")?;
        if let Some(s) = m.get_mut(&item) {
            s.xrequests += 1;
            if let Some(a) = r.try_get::<Option<i64>, _>("answered")? {
                s.xrequest_hours.push((a - r.try_get::<i64, _>("asked")?) as f64 / 3_600_000.0);
            }
        }
    }
    Ok(m.into_values().collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn mean_and_p90() {
        assert_eq!(super::mean_p90(&[]), None);
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(super::mean_p90(&v), Some((5.5, 9.0)));
        assert_eq!(super::mean_p90(&[4.0]), Some((4.0, 4.0)));
    }
}
