//! The node's microservices and secrets. The secret store lives in the data folder
//! (`<data>/secrets/`); every config load substitutes `$SECRET(...)` from it, and changing a
//! secret reloads the config. Every `system:microservice` of the loaded config runs while
//! the node runs (Sesam's `eager_load`): started in the background after a config change,
//! restarted when its config changed, stopped when it was removed and on shutdown.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use pumphouse_core::Microservice;
use pumphouse_secrets::SecretStore;

use super::config::Files;
use super::{lock, Node, NodeError};
use crate::microservice::Service;

/// The secret values for a config load (empty when the store cannot be read; the systems
/// that need secrets then say which are missing).
pub fn secrets(files: &Files) -> pumphouse_core::secrets::Secrets {
    let data = files.dir.parent().unwrap_or(&files.dir);
    SecretStore::open(data)
        .and_then(|s| s.load())
        .unwrap_or_default()
}

/// A microservice slot: the config it was started with and the service once it runs.
pub struct Slot {
    pub spec: Arc<Microservice>,
    pub service: Option<Service>,
    /// Why it is not running (start failed), if it is not.
    pub error: Option<String>,
}

#[derive(Default)]
pub struct Services(pub Mutex<HashMap<String, Arc<Mutex<Slot>>>>);

impl Node {
    fn secret_store(&self) -> Result<SecretStore, NodeError> {
        let data = self.files.dir.parent().unwrap_or(&self.files.dir);
        SecretStore::open(data).map_err(NodeError::internal)
    }

    /// The names of the global secrets, or of one system's.
    pub fn secret_names(&self, system: Option<&str>) -> Result<Vec<String>, NodeError> {
        self.secret_store()?
            .names(system)
            .map_err(NodeError::internal)
    }

    /// Sets secrets (`replace`: exactly these) and reloads the config so they take effect.
    pub fn set_secrets(
        &self,
        system: Option<&str>,
        values: BTreeMap<String, String>,
        replace: bool,
    ) -> Result<Vec<String>, NodeError> {
        let st = self.secret_store()?;
        st.set(system, values, replace)
            .map_err(|e| NodeError::BadRequest(e.to_string()))?;
        self.reload()?;
        st.names(system).map_err(NodeError::internal)
    }

    pub fn delete_secret(&self, system: Option<&str>, name: &str) -> Result<(), NodeError> {
        if !self
            .secret_store()?
            .delete(system, name)
            .map_err(NodeError::internal)?
        {
            return Err(NodeError::NotFound(format!("no secret {name:?}")));
        }
        self.reload().map(|_| ())
    }

    fn reload(&self) -> Result<(), NodeError> {
        let cur = self.loaded();
        self.replace(cur.entities.clone(), None, true).map(|_| ())
    }

    /// Starts, restarts and stops microservices to match the loaded config.
    pub fn sync_services(&self) {
        if self.is_shutting_down() {
            return;
        }
        let l = self.loaded();
        let wanted: HashMap<String, (Arc<Microservice>, Option<String>)> = l
            .project
            .systems
            .iter()
            .filter_map(|s| {
                let why = s.http.as_ref().and_then(|h| h.unavailable.clone());
                Some((s.id.clone(), (s.microservice.clone()?, why)))
            })
            .collect();
        let mut map = lock(&self.services.0);
        let stale: Vec<String> = map
            .iter()
            .filter(|(id, slot)| {
                wanted.get(*id).is_none_or(|(w, why)| {
                    let g = lock(slot);
                    format!("{w:?}") != format!("{:?}", g.spec)
                        || why.is_some() != g.error.is_some()
                })
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            if let Some(slot) = map.remove(&id) {
                std::thread::spawn(move || {
                    if let Some(s) = lock(&slot).service.as_mut() {
                        s.stop();
                    }
                });
            }
        }
        for (id, (spec, why)) in wanted {
            if map.contains_key(&id) {
                continue;
            }
            let slot = Arc::new(Mutex::new(Slot {
                spec: spec.clone(),
                service: None,
                error: why.clone(),
            }));
            map.insert(id, slot.clone());
            if why.is_some() {
                continue; // not started until its secrets are set
            }
            // Marked here, not only in the thread: a run may start before the thread does.
            pumphouse_connectors::http::services::starting(&spec.id);
            std::thread::spawn(move || {
                let res = Service::start(&spec);
                let mut g = lock(&slot);
                match res {
                    Ok(s) => g.service = Some(s),
                    Err(e) => g.error = Some(e),
                }
            });
        }
    }

    /// The slot of microservice `id`, if the config has one.
    pub fn service(&self, id: &str) -> Option<Arc<Mutex<Slot>>> {
        lock(&self.services.0).get(id).cloned()
    }

    /// Stops every microservice (on shutdown).
    pub fn stop_services(&self) {
        let all: Vec<_> = lock(&self.services.0).drain().map(|(_, s)| s).collect();
        for slot in all {
            if let Some(s) = lock(&slot).service.as_mut() {
                s.stop();
            }
        }
    }
}
