//! Where each running microservice listens. The supervisor (runtime) registers a base URL
//! when a service is up, and marks it as starting before; the HTTP client resolves
//! `system:microservice` urls through it, waiting for a service that is still starting (a
//! node's first scheduled runs come right after it launched its services).

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::time::{Duration, Instant};

static BASES: RwLock<Option<HashMap<String, String>>> = RwLock::new(None);
static STARTING: RwLock<Option<HashSet<String>>> = RwLock::new(None);

/// Records that microservice `id` listens at `base` (e.g. `http://127.0.0.1:5000/`).
pub fn set(id: &str, base: &str) {
    if let Ok(mut g) = BASES.write() {
        g.get_or_insert_with(HashMap::new)
            .insert(id.to_string(), base.to_string());
    }
    not_starting(id);
}

/// Forgets a stopped microservice.
pub fn remove(id: &str) {
    if let Ok(mut g) = BASES.write() {
        if let Some(m) = g.as_mut() {
            m.remove(id);
        }
    }
    not_starting(id);
}

/// Marks microservice `id` as being started: requests to it wait (see `wait`).
pub fn starting(id: &str) {
    if let Ok(mut g) = STARTING.write() {
        g.get_or_insert_with(HashSet::new).insert(id.to_string());
    }
}

/// Ends `starting` (the start failed, or the service is up: `set` calls it).
pub fn not_starting(id: &str) {
    if let Ok(mut g) = STARTING.write() {
        if let Some(s) = g.as_mut() {
            s.remove(id);
        }
    }
}

fn is_starting(id: &str) -> bool {
    STARTING
        .read()
        .ok()
        .is_some_and(|g| g.as_ref().is_some_and(|s| s.contains(id)))
}

/// The base URL of microservice `id`; while it is starting, waits up to `timeout` for it.
pub fn wait(id: &str, timeout: Duration) -> Option<String> {
    let until = Instant::now() + timeout;
    loop {
        if let Some(b) = get(id) {
            return Some(b);
        }
        if !is_starting(id) || Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The base URL of a running microservice.
pub fn get(id: &str) -> Option<String> {
    BASES.read().ok()?.as_ref()?.get(id).cloned()
}
