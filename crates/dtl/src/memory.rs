//! `MemoryDatasets`: datasets held in memory, for tests, the conformance suite, `pumphouse
//! test` and benchmarks. `find` scans the dataset and evaluates the index on each entity; it
//! records every tracked lookup so tests can check what dependency tracking would see.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use pumphouse_value::Value;

use crate::hops::{entity_id, join_key};
use crate::{Join, Lookup};

#[derive(Default)]
pub struct MemoryDatasets {
    datasets: HashMap<String, Vec<Value>>,
    /// Tracked lookups: (dataset, index name, key).
    reached: Mutex<Vec<(String, String, Value)>>,
}

impl MemoryDatasets {
    pub fn new() -> MemoryDatasets {
        MemoryDatasets::default()
    }

    /// Adds (or replaces) a dataset's entities.
    pub fn insert(&mut self, dataset: &str, entities: Vec<Value>) {
        self.datasets.insert(dataset.to_string(), entities);
    }

    /// The tracked lookups since the last call: (dataset, index name, key).
    pub fn take_reached(&self) -> Vec<(String, String, Value)> {
        std::mem::take(&mut *self.reached.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Lookup for MemoryDatasets {
    fn get(&self, dataset: &str, id: &str) -> Option<Value> {
        self.datasets
            .get(dataset)?
            .iter()
            .rev()
            .find(|e| entity_id(e) == Some(id))
            .filter(|e| !matches!(e.get("_deleted"), Some(Value::Bool(true))))
            .cloned()
    }

    fn find(&self, join: &Join<'_>, keys: &[Value]) -> Result<Vec<Value>, String> {
        let wanted: HashSet<Vec<u8>> = keys.iter().filter_map(join_key).collect();
        if join.track() {
            let mut r = self.reached.lock().unwrap_or_else(|e| e.into_inner());
            for k in keys {
                r.push((
                    join.dataset().to_string(),
                    join.name().to_string(),
                    k.clone(),
                ));
            }
        }
        let mut hits: BTreeMap<String, Value> = BTreeMap::new();
        for e in self.datasets.get(join.dataset()).map_or(&[][..], |v| v) {
            let Some(id) = entity_id(e) else { continue };
            if join
                .keys_of(e)
                .iter()
                .any(|k| join_key(k).is_some_and(|k| wanted.contains(&k)))
            {
                hits.insert(id.to_string(), e.clone());
            }
        }
        Ok(hits.into_values().collect())
    }
}
