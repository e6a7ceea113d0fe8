//! Where each running microservice listens. The supervisor (runtime) registers a base URL
//! when a service is up; the HTTP client resolves `system:microservice` urls through it.

use std::collections::HashMap;
use std::sync::RwLock;

static BASES: RwLock<Option<HashMap<String, String>>> = RwLock::new(None);

/// Records that microservice `id` listens at `base` (e.g. `http://127.0.0.1:5000/`).
pub fn set(id: &str, base: &str) {
    if let Ok(mut g) = BASES.write() {
        g.get_or_insert_with(HashMap::new)
            .insert(id.to_string(), base.to_string());
    }
}

/// Forgets a stopped microservice.
pub fn remove(id: &str) {
    if let Ok(mut g) = BASES.write() {
        if let Some(m) = g.as_mut() {
            m.remove(id);
        }
    }
}

/// The base URL of a running microservice.
pub fn get(id: &str) -> Option<String> {
    BASES.read().ok()?.as_ref()?.get(id).cloned()
}
