//! Refusals (403, a bad API token, a failed CSRF check) are audited — but a scanner or a
//! misconfigured system can cause thousands a minute, which would bury the log. The first
//! refusal of a kind from a source in an interval is written at once, as before; the repeats
//! within it are counted and written as one record when the interval ends ("又被拒绝 N 次",
//! with examples), so the log stays complete and readable.

use domain::audit::{AuditEntry, Outcome};
use std::collections::HashMap;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// How long repeats of one refusal are gathered into one record.
pub const INTERVAL: Duration = Duration::minutes(10);
/// Sources tracked at once; beyond it every refusal is written on its own (nothing is lost).
const MAX_KEYS: usize = 10_000;
const EXAMPLES: usize = 5;

/// (source address, action, who).
type Key = (String, String, String);

struct Pending {
    since: OffsetDateTime,
    repeats: u32,
    examples: Vec<String>,
    template: AuditEntry,
}

#[derive(Default)]
pub struct Refusals {
    pending: Mutex<HashMap<Key, Pending>>,
}

impl Refusals {
    /// The entries to write now for this refusal: itself when it opens an interval (plus the
    /// summary of an interval it closes), nothing when it is a repeat.
    pub fn note(&self, entry: AuditEntry, now: OffsetDateTime) -> Vec<AuditEntry> {
        let key = (entry.ip.clone(), entry.action.clone(), entry.actor_id.clone());
        let mut map = self.pending.lock().expect("refusals lock");
        let mut out = vec![];
        if let Some(p) = map.get_mut(&key) {
            if now - p.since < INTERVAL {
                p.repeats += 1;
                if p.examples.len() < EXAMPLES && !p.examples.contains(&entry.object_id) {
                    p.examples.push(entry.object_id.clone());
                }
                return out;
            }
            if let Some(p) = map.remove(&key)
                && let Some(s) = summary(p)
            {
                out.push(s);
            }
        }
        if map.len() < MAX_KEYS {
            map.insert(key, Pending { since: now, repeats: 0, examples: vec![], template: entry.clone() });
        }
        out.push(entry);
        out
    }

    /// Summaries of the intervals that have ended (all of them when `all`), removed.
    pub fn due(&self, now: OffsetDateTime, all: bool) -> Vec<AuditEntry> {
        let mut map = self.pending.lock().expect("refusals lock");
        let ended: Vec<Key> =
            map.iter().filter(|(_, p)| all || now - p.since >= INTERVAL).map(|(k, _)| k.clone()).collect();
        ended.into_iter().filter_map(|k| map.remove(&k)).filter_map(summary).collect()
    }
}

fn summary(p: Pending) -> Option<AuditEntry> {
    if p.repeats == 0 {
        return None;
    }
    let t = p.template;
    let examples =
        if p.examples.is_empty() { String::new() } else { format!("（例：{}）", p.examples.join("、")) };
    Some(AuditEntry { object_id: "-".into(), ..t }.outcome(Outcome::Denied).detail(format!(
        "同一来源在 {} 起 {} 分钟内又被拒绝 {} 次{examples}",
        domain::clock::format_local(p.since),
        INTERVAL.whole_minutes(),
        p.repeats
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn denied(ip: &str, path: &str) -> AuditEntry {
        AuditEntry::new(domain::audit::CoreAudit::AccessDenied, "route", path)
            .by("u1", "张三")
            .from_ip(ip)
            .outcome(Outcome::Denied)
    }

    #[test]
    fn repeats_from_one_source_become_one_counted_record() {
        let r = Refusals::default();
        let t = datetime!(2026-12-07 10:00 UTC);
        assert_eq!(r.note(denied("10.0.0.9", "/a"), t).len(), 1);
        for i in 0..999 {
            assert!(r.note(denied("10.0.0.9", &format!("/p{i}")), t + Duration::seconds(1)).is_empty());
        }
        // Another source is written at once.
        assert_eq!(r.note(denied("10.0.0.8", "/a"), t).len(), 1);
        assert!(r.due(t + Duration::minutes(5), false).is_empty());
        let due = r.due(t + INTERVAL, false);
        assert_eq!(due.len(), 1, "the source with repeats; the other had none");
        assert!(due[0].detail.contains("又被拒绝 999 次") && due[0].detail.contains("/p0"), "{}", due[0].detail);
        // After the interval the next refusal opens a new one.
        assert_eq!(r.note(denied("10.0.0.9", "/a"), t + INTERVAL).len(), 1);
    }
}
