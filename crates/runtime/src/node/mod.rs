//! The node: one store, the configuration (persisted under `<data>/node/`), the pumps and the
//! scheduler, and the operations the service API exposes (config, env, pump operations,
//! run-all-pipes, reset). Everything here is synchronous and thread-safe; the API calls it
//! from blocking tasks and `pump::driver` runs the scheduler.

pub mod admin;
pub mod config;
pub mod pumps;
pub mod runall;
pub mod services;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use pumphouse_store::{Clock, Store, SystemClock};
use serde_json::{Map, Value as Json};

use crate::pump::{PumpSpec, Scheduler};
pub use config::Loaded;
use config::{entity_id, Files};
pub use pumps::{PumpInfo, PumpRt};
pub use runall::{RunAll, RunAllParams};

/// What went wrong, sorted by what the client must do (the API maps these to 404/400/409/500).
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    /// The configuration was rejected: Sesam's `validation_errors` list.
    #[error("the configuration has errors")]
    Invalid(Vec<Json>),
    #[error("{0}")]
    Internal(String),
}

impl NodeError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        NodeError::Internal(e.to_string())
    }
}

impl From<pumphouse_store::StoreError> for NodeError {
    fn from(e: pumphouse_store::StoreError) -> Self {
        match e {
            pumphouse_store::StoreError::Locked(d) => NodeError::Conflict(format!(
                "dataset {d:?} is being written by a running pipe; stop it or try again when the run is done"
            )),
            e @ (pumphouse_store::StoreError::CircuitBreakerTripped { .. }
            | pumphouse_store::StoreError::NotTripped(_)) => NodeError::Conflict(e.to_string()),
            e => NodeError::Internal(format!("store: {e}")),
        }
    }
}

/// How a node is opened.
pub struct NodeOptions {
    /// The data folder: `store/` (datasets) and `node/` (config, env, pump settings).
    pub data: PathBuf,
    /// A sesam-py project folder or JSON file to import at start when it changed since the
    /// last import (so API changes survive a restart, and edits of the folder take effect).
    pub import: Option<PathBuf>,
    /// Scheduled runs at once.
    pub max_concurrent: usize,
    pub clock: Arc<dyn Clock>,
    /// Seed of the schedule jitter.
    pub seed: u64,
}

impl NodeOptions {
    pub fn new(data: PathBuf) -> Self {
        NodeOptions {
            data,
            import: None,
            max_concurrent: 4,
            clock: Arc::new(SystemClock),
            seed: 0x5eed,
        }
    }
}

pub struct Node {
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
    files: Files,
    loaded: RwLock<Arc<Loaded>>,
    /// Serialises config and env changes.
    edit: Mutex<()>,
    pumps: Mutex<HashMap<String, Arc<PumpRt>>>,
    disabled: Mutex<BTreeSet<String>>,
    pub sched: Mutex<Scheduler>,
    /// Wakes the scheduler driver (config changed, a run ended, input changed).
    pub wake: tokio::sync::Notify,
    start_time: Mutex<String>,
    runall: Mutex<Option<Arc<RunAll>>>,
    shutting_down: AtomicBool,
    /// Running microservices (`services`).
    services: services::Services,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// ISO 8601 UTC with microseconds (`2024-03-05T13:07:00.000000Z`).
pub fn iso(micros: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn now_iso(clock: &dyn Clock) -> String {
    iso(clock.now_micros())
}

impl Node {
    /// Opens the store and the persisted configuration, importing `opts.import` if it changed.
    pub fn open(opts: NodeOptions) -> Result<Arc<Node>, NodeError> {
        let files = Files {
            dir: opts.data.join("node"),
        };
        std::fs::create_dir_all(&files.dir)
            .map_err(|e| NodeError::internal(format!("{}: {e}", files.dir.display())))?;
        let store = Arc::new(Store::open(&opts.data.join("store"))?);
        let pumps_file = config::read_json(&files.pumps())?;
        let field = |k: &str| pumps_file.as_ref().and_then(|v| v.get(k).cloned());
        let disabled: BTreeSet<String> = field("disabled")
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let saved_next: std::collections::BTreeMap<String, i64> = field("next")
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let empty = Loaded {
            entities: vec![],
            project: Arc::new(pumphouse_core::Project {
                root: files.dir.clone(),
                pipes: vec![],
                systems: vec![],
                metadata: None,
                warnings: vec![],
            }),
            invalid: Default::default(),
            warnings: Default::default(),
            env: Map::new(),
        };
        let node = Arc::new(Node {
            store,
            clock: opts.clock.clone(),
            files,
            loaded: RwLock::new(Arc::new(empty)),
            edit: Mutex::new(()),
            pumps: Mutex::new(HashMap::new()),
            disabled: Mutex::new(disabled),
            sched: Mutex::new(Scheduler::new(opts.max_concurrent, opts.seed)),
            wake: tokio::sync::Notify::new(),
            start_time: Mutex::new(String::new()),
            runall: Mutex::new(None),
            shutting_down: AtomicBool::new(false),
            services: Default::default(),
        });
        node.load_persisted(opts.import.as_deref())?;
        lock(&node.sched).restore(&saved_next);
        *lock(&node.start_time) = now_iso(&*node.clock);
        Ok(node)
    }

    fn load_persisted(&self, import: Option<&std::path::Path>) -> Result<(), NodeError> {
        let stored_entities = match config::read_json(&self.files.config())? {
            Some(Json::Array(a)) => Some(a),
            _ => None,
        };
        let env = match config::read_json(&self.files.env())? {
            Some(Json::Object(m)) => m,
            _ => Map::new(),
        };
        if let Some(dir) = import {
            self.files.set_services_root(dir)?;
            let (entities, project_env) = config::read_project(dir)?;
            let fingerprint = format!(
                "{:x}",
                xxhash(&serde_json::to_vec(&(&entities, &project_env)).unwrap_or_default())
            );
            let last = std::fs::read_to_string(self.files.imported()).unwrap_or_default();
            if stored_entities.is_none() || last.trim() != fingerprint {
                let env = project_env.unwrap_or(env);
                self.replace(entities, Some(env), false)?;
                std::fs::write(self.files.imported(), fingerprint).map_err(NodeError::internal)?;
                return Ok(());
            }
        }
        self.replace(stored_entities.unwrap_or_default(), Some(env), true)?;
        Ok(())
    }

    pub fn loaded(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn start_time(&self) -> String {
        lock(&self.start_time).clone()
    }

    pub fn now_iso(&self) -> String {
        now_iso(&*self.clock)
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    fn known_datasets(&self) -> Result<HashSet<String>, NodeError> {
        Ok(self.store.dataset_ids()?.into_iter().collect())
    }

    /// Replaces the whole configuration (and the env, if given). See `config::apply`.
    pub fn replace(
        &self,
        entities: Vec<Json>,
        env: Option<Map<String, Json>>,
        force: bool,
    ) -> Result<Arc<Loaded>, NodeError> {
        let _g = lock(&self.edit);
        let env = env.unwrap_or_else(|| self.loaded().env.clone());
        let new = Arc::new(config::apply(
            &self.files,
            entities,
            env,
            &self.known_datasets()?,
            force,
        )?);
        let old = std::mem::replace(
            &mut *self.loaded.write().unwrap_or_else(|p| p.into_inner()),
            new.clone(),
        );
        // Pipes that went away: stop their runs and forget their offsets.
        for e in old.of_kind("pipe") {
            if let Some(id) = entity_id(e) {
                if new.project.pipe(id).is_none() && new.entity(id).is_none() {
                    if let Some(rt) = lock(&self.pumps).get(id) {
                        rt.request_stop();
                    }
                    let _ = self.store.delete_pipe_state(id);
                }
            }
        }
        self.reschedule(false);
        self.sync_services();
        Ok(new)
    }

    /// Changes one entity (insert or replace by `_id`) or removes it (`new` = None).
    pub fn edit_entity(
        &self,
        id: &str,
        new: Option<Json>,
        force: bool,
    ) -> Result<Arc<Loaded>, NodeError> {
        let mut entities = self.loaded().entities.clone();
        let pos = entities.iter().position(|e| entity_id(e) == Some(id));
        match (pos, new) {
            (Some(i), Some(n)) => entities[i] = n,
            (None, Some(n)) => entities.push(n),
            (Some(i), None) => {
                entities.remove(i);
            }
            (None, None) => {
                return Err(NodeError::NotFound(format!(
                    "no config entity with _id {id:?}"
                )))
            }
        }
        self.replace(entities, None, force)
    }

    /// Sets the environment: `replace` drops variables not in `vars`.
    pub fn set_env(
        &self,
        vars: Map<String, Json>,
        replace: bool,
    ) -> Result<Map<String, Json>, NodeError> {
        let cur = self.loaded();
        let mut env = if replace { Map::new() } else { cur.env.clone() };
        env.extend(vars);
        let l = self.replace(cur.entities.clone(), Some(env), true)?;
        Ok(l.env.clone())
    }

    pub fn delete_env(&self, name: &str) -> Result<Map<String, Json>, NodeError> {
        let cur = self.loaded();
        if !cur.env.contains_key(name) {
            return Err(NodeError::NotFound(format!(
                "no environment variable {name:?}"
            )));
        }
        let mut env = cur.env.clone();
        env.remove(name);
        let l = self.replace(cur.entities.clone(), Some(env), true)?;
        Ok(l.env.clone())
    }

    /// Tells the scheduler about the current pipes (after a config change or a restart).
    pub fn reschedule(&self, startup: bool) {
        let l = self.loaded();
        let mut specs = vec![];
        for p in &l.project.pipes {
            if p.not_runnable.is_some() {
                continue;
            }
            if let Ok(s) = PumpSpec::of(p) {
                specs.push((p.id.clone(), s));
            }
        }
        let paused = l.task_manager_flag("disable_user_pipes")
            || l.task_manager_flag("disable_pump_scheduler");
        let disabled = lock(&self.disabled).clone();
        {
            let mut s = lock(&self.sched);
            s.set_paused(paused);
            s.configure(self.clock.now_micros(), specs, &disabled, startup);
        }
        self.wake.notify_one();
    }

    pub fn is_disabled(&self, pipe: &str) -> bool {
        lock(&self.disabled).contains(pipe)
    }

    fn save_disabled(&self, set: &BTreeSet<String>) -> Result<(), NodeError> {
        let next = lock(&self.sched).durable_next();
        config::write_json(
            &self.files.pumps(),
            &serde_json::json!({ "disabled": set, "next": next }),
        )
    }

    /// Persists the next run times of cron schedules (so a run missed while the node was down
    /// happens right after the restart) when they changed.
    pub fn save_schedule(&self) -> Result<(), NodeError> {
        let set = lock(&self.disabled).clone();
        self.save_disabled(&set)
    }
}

fn xxhash(b: &[u8]) -> u64 {
    // FNV-1a: a fingerprint of the imported project (not security relevant).
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ x as u64).wrapping_mul(0x100_0000_01b3)
    })
}
