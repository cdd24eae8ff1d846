//! What stands before a password check: a per-source limit on login attempts, a bound on
//! password checks running at once (argon2id takes 19 MiB each, in memory reused from check to
//! check, so it stays at that bound), and a shadow count for logins
//! that name no account, so an unknown account fails exactly like a real one (no message or
//! lock tells which accounts exist).

use std::collections::HashMap;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Entries kept per map before expired ones are swept; past it, new sources are refused
/// rather than letting a flood of addresses grow memory.
const MAX_TRACKED: usize = 100_000;

/// How long a login waits for a password-check slot before it is told to try again.
pub const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

struct Window {
    start: OffsetDateTime,
    count: u32,
}

pub struct LoginGuard {
    per_source: u32,
    window: Duration,
    max_failures: u32,
    lock_for: Duration,
    sources: Mutex<HashMap<String, Window>>,
    /// Unknown logins: failures and, once at the limit, when the shadow lock ends.
    unknown: Mutex<HashMap<String, (u32, Option<OffsetDateTime>)>>,
    hashes: Semaphore,
    /// Working memory of finished checks, reused by the next (at most one per permit).
    memory: Mutex<Vec<domain::auth::password::Memory>>,
}

/// A password-check slot: a permit and the working memory the check runs in.
pub struct Slot<'a> {
    _permit: SemaphorePermit<'a>,
    pool: &'a Mutex<Vec<domain::auth::password::Memory>>,
    memory: Option<domain::auth::password::Memory>,
}

impl Slot<'_> {
    /// Checks `password` against the stored PHC string off the request threads, in the slot's
    /// memory.
    pub async fn verify(&mut self, password: String, phc: String) -> bool {
        let mut m = self.memory.take().unwrap_or_default();
        match tokio::task::spawn_blocking(move || (domain::auth::password::verify_in(&password, &phc, &mut m), m)).await
        {
            Ok((ok, m)) => {
                self.memory = Some(m);
                ok
            }
            Err(_) => false,
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Some(m) = self.memory.take() {
            self.pool.lock().expect("login guard lock").push(m);
        }
    }
}

/// Why a login is refused before any password is checked.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// This address has used up its attempts for the window.
    TooManyFromSource { retry_minutes: i64 },
}

impl LoginGuard {
    pub fn new(cfg: &store::config::SecurityConfig) -> LoginGuard {
        LoginGuard {
            per_source: cfg.login_failures_per_source,
            window: Duration::minutes(cfg.login_window_minutes),
            max_failures: cfg.max_login_failures,
            lock_for: Duration::minutes(cfg.lockout_minutes),
            sources: Mutex::default(),
            unknown: Mutex::default(),
            hashes: Semaphore::new(cfg.password_checks_at_once as usize),
            memory: Mutex::default(),
        }
    }

    /// Takes one attempt from `source`'s allowance for the window; a successful login gives it
    /// back ([`LoginGuard::succeeded`]). Counted on entry, so a burst cannot all pass the check
    /// before any of it has failed.
    pub fn begin(&self, source: &str, now: OffsetDateTime) -> Result<(), Refusal> {
        let mut map = self.sources.lock().expect("login guard lock");
        if map.len() >= MAX_TRACKED {
            map.retain(|_, w| now - w.start < self.window);
        }
        let full = map.len() >= MAX_TRACKED;
        let refuse = |w: &Window| Refusal::TooManyFromSource {
            retry_minutes: ((w.start + self.window - now).whole_seconds().max(0) + 59) / 60,
        };
        match map.get_mut(source) {
            Some(w) if now - w.start >= self.window => {
                *w = Window { start: now, count: 1 };
                Ok(())
            }
            Some(w) if w.count >= self.per_source => Err(refuse(w)),
            Some(w) => {
                w.count += 1;
                Ok(())
            }
            None if full => Err(Refusal::TooManyFromSource { retry_minutes: self.window.whole_minutes() }),
            None => {
                map.insert(source.to_string(), Window { start: now, count: 1 });
                Ok(())
            }
        }
    }

    pub fn succeeded(&self, source: &str) {
        if let Some(w) = self.sources.lock().expect("login guard lock").get_mut(source) {
            w.count = w.count.saturating_sub(1);
        }
    }

    /// A password-check slot, waiting at most [`HASH_WAIT`]; `None` means the server is busy.
    pub async fn hash_slot(&self) -> Option<Slot<'_>> {
        let permit = tokio::time::timeout(HASH_WAIT, self.hashes.acquire()).await.ok().and_then(Result::ok)?;
        let memory = self.memory.lock().expect("login guard lock").pop();
        Some(Slot { _permit: permit, pool: &self.memory, memory })
    }

    /// Whether a login naming no account is in its shadow lock (as a real one would be).
    pub fn unknown_locked(&self, login: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let map = self.unknown.lock().expect("login guard lock");
        map.get(login).and_then(|(_, until)| *until).filter(|u| now < *u)
    }

    /// Records a failure for a login naming no account; returns the attempt number and
    /// whether it reached the lock, mirroring `store::auth::begin_login_attempt`.
    pub fn unknown_failed(&self, login: &str, now: OffsetDateTime) -> (u32, bool) {
        let mut map = self.unknown.lock().expect("login guard lock");
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (_, until)| until.is_none_or(|u| now < u));
            if map.len() >= MAX_TRACKED {
                map.clear();
            }
        }
        let e = map.entry(login.to_string()).or_insert((0, None));
        if e.1.is_some() {
            *e = (0, None);
        }
        e.0 += 1;
        if e.0 >= self.max_failures {
            e.1 = Some(now + self.lock_for);
        }
        (e.0, e.1.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn guard(per_source: u32) -> LoginGuard {
        LoginGuard {
            per_source,
            window: Duration::minutes(15),
            max_failures: 5,
            lock_for: Duration::minutes(5),
            sources: Mutex::default(),
            unknown: Mutex::default(),
            hashes: Semaphore::new(2),
            memory: Mutex::default(),
        }
    }

    #[test]
    fn a_source_gets_its_allowance_per_window() {
        let g = guard(3);
        let t = datetime!(2026-12-07 10:00 UTC);
        for _ in 0..3 {
            g.begin("10.0.0.1", t).unwrap();
        }
        assert_eq!(g.begin("10.0.0.1", t), Err(Refusal::TooManyFromSource { retry_minutes: 15 }));
        g.begin("10.0.0.2", t).unwrap();
        g.succeeded("10.0.0.1");
        g.begin("10.0.0.1", t).unwrap();
        assert!(g.begin("10.0.0.1", t + Duration::minutes(10)).is_err());
        g.begin("10.0.0.1", t + Duration::minutes(15)).unwrap();
    }

    #[test]
    fn unknown_logins_lock_like_real_ones() {
        let g = guard(100);
        let t = datetime!(2026-12-07 10:00 UTC);
        for i in 1..5 {
            assert_eq!(g.unknown_failed("nobody", t), (i, false));
        }
        assert_eq!(g.unknown_failed("nobody", t), (5, true));
        assert!(g.unknown_locked("nobody", t + Duration::minutes(4)).is_some());
        assert!(g.unknown_locked("nobody", t + Duration::minutes(5)).is_none());
        assert_eq!(g.unknown_failed("nobody", t + Duration::minutes(6)), (1, false));
    }
}
