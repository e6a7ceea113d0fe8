//! Helpers shared by the runtime's integration tests: load a config array, write entities
//! into a dataset outside any pipe, read a dataset's live `_id`s.

#![allow(dead_code)]

use std::path::Path;

use pumphouse_store::{PipeState, ReadOptions, Store};

fn write_config(dir: &Path, config: &serde_json::Value) -> std::path::PathBuf {
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, config.to_string()).unwrap();
    cfg
}

/// Loads `config` (a JSON array) from `dir/config.json`; panics with the errors if invalid.
pub fn load(dir: &Path, config: serde_json::Value) -> pumphouse_core::Project {
    let cfg = write_config(dir, &config);
    pumphouse_core::load(&cfg, &Default::default()).unwrap_or_else(|e| panic!("{e:?}"))
}

/// The load errors of an invalid `config`, as text.
pub fn load_errors(dir: &Path, config: serde_json::Value) -> String {
    let cfg = write_config(dir, &config);
    format!(
        "{:?}",
        pumphouse_core::load(&cfg, &Default::default()).unwrap_err()
    )
}

/// The `_id`s of the live entities of `dataset`, sorted.
pub fn live_ids(store: &Store, dataset: &str) -> Vec<String> {
    let opts = ReadOptions {
        since: None,
        limit: None,
        history: false,
        deleted: false,
    };
    let mut v: Vec<String> = store
        .read(dataset, opts)
        .unwrap()
        .map(|e| e.unwrap().get("_id").unwrap().as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// Writes `entities` into `dataset` outside any pipe, as another writer would.
pub fn write(store: &Store, dataset: &str, entities: Vec<serde_json::Value>) {
    let mut w = store.writer(dataset, "outside", false).unwrap();
    w.write(
        entities
            .iter()
            .map(pumphouse_value::transit::from_json)
            .collect(),
    )
    .unwrap();
    w.commit(&PipeState::default()).unwrap();
}
