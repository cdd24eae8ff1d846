//! A short-lived cache of signed-in sessions and their principals. Every request needs both,
//! and loading them is three queries; under load that is most of a request's database work.
//! Entries live two seconds, so a disabled account or a changed role takes effect within two
//! seconds; this process ends sessions itself (logout, password change), and clears the cache
//! when it does, so those take effect at once.

use domain::auth::Principal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::auth::Session;

const TTL: Duration = Duration::from_secs(2);
/// Past this many entries the cache starts again (a flood of distinct cookies).
const CAP: usize = 20_000;

/// Cookie token → (when loaded, the session, its principal).
type Entries = HashMap<String, (Instant, Session, Arc<Principal>)>;

#[derive(Default)]
pub struct AuthCache {
    map: Mutex<Entries>,
}

impl AuthCache {
    pub fn get(&self, token: &str) -> Option<(Session, Arc<Principal>)> {
        let map = self.map.lock().expect("auth cache lock");
        map.get(token).filter(|e| e.0.elapsed() < TTL).map(|e| (e.1.clone(), e.2.clone()))
    }

    pub fn put(&self, token: &str, s: Session, p: Arc<Principal>) {
        let mut map = self.map.lock().expect("auth cache lock");
        if map.len() >= CAP {
            map.clear();
        }
        map.insert(token.to_string(), (Instant::now(), s, p));
    }

    /// Entries held (live or expired).
    pub fn len(&self) -> usize {
        self.map.lock().expect("auth cache lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&self) {
        self.map.lock().expect("auth cache lock").clear();
    }
}
