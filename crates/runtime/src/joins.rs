//! Joins and dependency tracking for one pipe run (sesam-spec 3.4).
//!
//! `Joins` is the pipe's `Lookup`: `lookup-entity` reads the store by `_id`; `hops` catches
//! the join's secondary index up with its dataset (store `catch_up_index`, only when the
//! dataset changed) and looks the probe values up in it.
//!
//! Tracking (dataset sources only): while a source entity is transformed, every tracked
//! lookup records two kinds of dependency keys: the join key it asked for (`k` + index +
//! key: an entity that starts to match) and each entity it found (`i` + dataset + `_id`: an
//! entity that changes or stops matching). They are saved per source entity before its batch
//! goes to the sink. At the start of each run, the versions written to each joined dataset
//! since the last run are turned into those keys, their source entities are queued (queue and
//! tracking offset in one store batch), and `DependencySource` feeds the queued entities
//! (their latest version in the source dataset) after the source's own batches. The queue is
//! cleared only after the run has finished, so a crash reprocesses them again.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use pumphouse_connectors::{Batch, ConnectorError, Source};
use pumphouse_core::{Pipe, SourceSpec, TransformSpec};
use pumphouse_dtl::{join_key, Join, Lookup, Program};
use pumphouse_store::{ReadOptions, Store, StoreError};
use pumphouse_value::Value;

use crate::runner::RunError;

/// Dataset versions read per enqueue batch when looking for changed dependencies.
const SCAN_BATCH: usize = 10_000;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn key_dep(index_name: &str, key: &[u8]) -> Vec<u8> {
    let mut d = vec![b'k'];
    d.extend_from_slice(&pumphouse_store::index_name_hash(index_name));
    d.extend_from_slice(key);
    d
}

fn id_dep(dataset: &str, id: &str) -> Vec<u8> {
    let mut d = vec![b'i'];
    d.extend_from_slice(dataset.as_bytes());
    d.push(0);
    d.extend_from_slice(id.as_bytes());
    d
}

fn is_deleted(e: &Value) -> bool {
    matches!(e.get("_deleted"), Some(Value::Bool(true)))
}

/// The store-backed `Lookup` of one pipe run, with dependency tracking.
pub struct Joins {
    store: Arc<Store>,
    pipe: String,
    /// Set when the pipe has a dataset source and joins: tracking is on.
    source_dataset: Option<String>,
    /// Dependency keys of the source entity being transformed.
    current: Mutex<BTreeSet<Vec<u8>>>,
    /// (source `_id`, its dependency keys) not yet saved.
    pending: Mutex<Vec<(String, Vec<Vec<u8>>)>>,
    /// Queued ids handed to `DependencySource` this run, removed by `finish`.
    queued: Mutex<Vec<String>>,
    /// The source's `subset`: queued entities outside it are not processed again.
    subset: Option<Arc<pumphouse_core::subset::Subset>>,
}

fn programs(pipe: &Pipe) -> impl Iterator<Item = &Arc<Program>> {
    pipe.transforms.iter().filter_map(|t| match t {
        TransformSpec::Dtl { program, .. } => Some(program),
        _ => None,
    })
}

impl Joins {
    /// Prepares the run: queues the source entities whose joined entities changed since the
    /// last run.
    pub fn open(store: &Arc<Store>, pipe: &Pipe) -> Result<Joins, RunError> {
        let has_joins = programs(pipe).any(|p| p.indexes().len() > 0);
        let source_dataset = match &pipe.source {
            SourceSpec::Dataset { dataset, .. } if has_joins => Some(dataset.clone()),
            _ => None,
        };
        let j = Joins {
            store: store.clone(),
            pipe: pipe.id.clone(),
            source_dataset,
            current: Mutex::new(BTreeSet::new()),
            pending: Mutex::new(Vec::new()),
            queued: Mutex::new(Vec::new()),
            subset: match &pipe.source {
                SourceSpec::Dataset { subset, .. } => subset.clone(),
                _ => None,
            },
        };
        if j.source_dataset.is_some() {
            j.scan_changes(pipe)?;
        }
        Ok(j)
    }

    /// Lookups without dependency tracking (previews, tests).
    pub fn reader(store: &Arc<Store>, pipe_id: &str) -> Joins {
        Joins {
            store: store.clone(),
            pipe: pipe_id.to_string(),
            source_dataset: None,
            current: Mutex::new(BTreeSet::new()),
            pending: Mutex::new(Vec::new()),
            queued: Mutex::new(Vec::new()),
            subset: None,
        }
    }

    /// Turns the versions written to each joined dataset since the last run into queue
    /// entries.
    fn scan_changes(&self, pipe: &Pipe) -> Result<(), RunError> {
        let mut by_dataset: HashMap<&str, Vec<(&Program, usize)>> = HashMap::new();
        for p in programs(pipe) {
            for (i, (ds, _)) in p.indexes().enumerate() {
                by_dataset.entry(ds).or_default().push((p, i));
            }
        }
        for (ds, idxs) in by_dataset {
            let end = self.store.last_offset(ds)?.map_or(0, |o| o + 1);
            let Some(from) = self.store.tracking_offset(&self.pipe, ds)? else {
                // First run with this join: everything is processed now anyway.
                self.store
                    .enqueue_dependents(&self.pipe, ds, end, &BTreeSet::new())?;
                continue;
            };
            if from >= end {
                continue;
            }
            let opts = ReadOptions {
                since: from.checked_sub(1),
                ..ReadOptions::all()
            };
            let mut ids = BTreeSet::new();
            let mut next = from;
            let mut n = 0usize;
            for e in self.store.read(ds, opts)? {
                let e = e?;
                if let Some(Value::Int(o)) = e.get("_updated") {
                    next = *o as u64 + 1;
                }
                let mut deps = Vec::new();
                if let Some(id) = e.get("_id").and_then(Value::as_str) {
                    deps.push(id_dep(ds, id));
                }
                for &(p, i) in &idxs {
                    let name = p.indexes().nth(i).map_or("", |x| x.1);
                    for k in p.index_keys(i, &e) {
                        if let Some(k) = join_key(&k) {
                            deps.push(key_dep(name, &k));
                        }
                    }
                }
                for d in deps {
                    ids.extend(self.store.dependents(&self.pipe, &d)?);
                }
                n += 1;
                if n % SCAN_BATCH == 0 {
                    self.store.enqueue_dependents(&self.pipe, ds, next, &ids)?;
                    ids.clear();
                }
            }
            self.store
                .enqueue_dependents(&self.pipe, ds, next.max(end), &ids)?;
        }
        Ok(())
    }

    /// Whether lookups are recorded for dependency tracking.
    pub fn tracking(&self) -> bool {
        self.source_dataset.is_some()
    }

    /// Call before transforming a source entity.
    pub fn begin(&self) {
        if self.tracking() {
            lock(&self.current).clear();
        }
    }

    /// Call after transforming source entity `id`: its dependencies are the lookups since
    /// `begin`.
    pub fn end(&self, id: Option<&str>) {
        let (true, Some(id)) = (self.tracking(), id) else {
            return;
        };
        let deps: Vec<Vec<u8>> = std::mem::take(&mut *lock(&self.current))
            .into_iter()
            .collect();
        lock(&self.pending).push((id.to_string(), deps));
    }

    /// Saves the dependencies recorded since the last call (before the batch is written).
    pub fn save(&self) -> Result<(), RunError> {
        let pending = std::mem::take(&mut *lock(&self.pending));
        Ok(self.store.set_dependencies(&self.pipe, &pending)?)
    }

    /// Wraps the pipe's source so the queued entities follow its own batches.
    pub fn wrap<'a>(&self, inner: Box<dyn Source + 'a>) -> Result<Box<dyn Source + 'a>, RunError> {
        let Some(ds) = &self.source_dataset else {
            return Ok(inner);
        };
        let queue = self.store.dependency_queue(&self.pipe)?;
        *lock(&self.queued) = queue.clone();
        if queue.is_empty() {
            return Ok(inner);
        }
        Ok(Box::new(DependencySource {
            inner,
            inner_done: false,
            store: self.store.clone(),
            dataset: ds.clone(),
            queue: queue.into_iter(),
            subset: self.subset.clone(),
        }))
    }

    /// After the run finished and committed: the queued entities are done.
    pub fn finish(&self) -> Result<(), RunError> {
        let q = std::mem::take(&mut *lock(&self.queued));
        Ok(self.store.dequeue_dependents(&self.pipe, &q)?)
    }

    fn store_err(e: StoreError) -> String {
        e.to_string()
    }
}

impl Lookup for Joins {
    fn get(&self, dataset: &str, id: &str) -> Option<Value> {
        self.store
            .get(dataset, id)
            .ok()
            .flatten()
            .filter(|e| !is_deleted(e))
    }

    fn find(&self, join: &Join<'_>, keys: &[Value]) -> Result<Vec<Value>, String> {
        let ds = join.dataset();
        let kb: Vec<Vec<u8>> = keys.iter().filter_map(join_key).collect();
        let ids: Vec<String> = if join.is_id() {
            // `_id` joins read the store's own `_id` index.
            let ids: BTreeSet<String> = keys
                .iter()
                .filter_map(|k| k.as_str().map(String::from))
                .collect();
            ids.into_iter().collect()
        } else {
            let keyf = |e: &Value| -> Vec<Vec<u8>> {
                join.keys_of(e).iter().filter_map(join_key).collect()
            };
            self.store
                .catch_up_index(ds, join.name(), &keyf)
                .map_err(Joins::store_err)?;
            self.store
                .index_lookup(join.name(), &kb)
                .map_err(Joins::store_err)?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(e) = self.store.get(ds, id).map_err(Joins::store_err)? {
                if !is_deleted(&e) {
                    out.push(e);
                }
            }
        }
        if join.track() && self.tracking() {
            let mut cur = lock(&self.current);
            for k in &kb {
                cur.insert(key_dep(join.name(), k));
            }
            for e in &out {
                if let Some(id) = e.get("_id").and_then(Value::as_str) {
                    cur.insert(id_dep(ds, id));
                }
            }
        }
        Ok(out)
    }

    fn completeness(&self, via: &str, dataset: &str) -> Option<Value> {
        let rec = self.store.completeness(via).ok().flatten()?;
        rec.of(via, dataset).map(crate::completeness::to_datetime)
    }
}

/// The pipe's source, then the queued source entities (latest versions, `last_seen` null so
/// the pipe's offset does not move).
struct DependencySource<'a> {
    inner: Box<dyn Source + 'a>,
    inner_done: bool,
    store: Arc<Store>,
    dataset: String,
    queue: std::vec::IntoIter<String>,
    subset: Option<Arc<pumphouse_core::subset::Subset>>,
}

impl Source for DependencySource<'_> {
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch>, ConnectorError> {
        if !self.inner_done {
            match self.inner.next_batch(max)? {
                Some(b) => return Ok(Some(b)),
                None => self.inner_done = true,
            }
        }
        let mut entities = Vec::new();
        for id in self.queue.by_ref() {
            if let Some(e) = self.store.get(&self.dataset, &id)? {
                // Outside the subset now: the source's own read sent its delete when it left.
                if self.subset.as_ref().is_none_or(|s| s.contains(&e)) {
                    entities.push(e);
                }
            }
            if entities.len() >= max.max(1) {
                break;
            }
        }
        if entities.is_empty() {
            return Ok(None);
        }
        Ok(Some(Batch {
            entities,
            last_seen: Value::Null,
        }))
    }

    fn populated(&self) -> bool {
        self.inner.populated()
    }
}
