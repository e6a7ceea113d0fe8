//! The execution log: one entity per pump event in the dataset `system:pump:<pipe>`
//! (`pump-started`, `pump-completed`, `pump-failed`, ...), readable like any dataset.

use pumphouse_store::Store;
use pumphouse_value::{DateTime, Map, Value};

use crate::runner::{RunError, RunStats};

pub fn dataset_id(pipe: &str) -> String {
    format!("system:pump:{pipe}")
}

fn event(pipe: &str, kind: &str) -> Map {
    let mut m = Map::new();
    m.insert(
        "_id".into(),
        Value::String(uuid::Uuid::new_v4().to_string()),
    );
    m.insert("event_type".into(), Value::String(kind.into()));
    m.insert("pipe_id".into(), Value::String(pipe.into()));
    m.insert("timestamp".into(), Value::DateTime(DateTime::now()));
    m
}

pub fn completed(
    store: &Store,
    pipe: &str,
    s: &RunStats,
) -> Result<(), pumphouse_store::StoreError> {
    let mut m = event(pipe, "pump-completed");
    m.insert("processed_last_run".into(), Value::Int(s.processed as i64));
    m.insert("changes_last_run".into(), Value::Int(s.changed as i64));
    m.insert("last-seen".into(), s.last_seen.clone());
    m.insert("duration".into(), Value::Float(s.seconds));
    m.insert(
        "sync_type".into(),
        Value::String(if s.full { "full" } else { "incremental" }.into()),
    );
    store.append_log(pipe, Value::Dict(m)).map(|_| ())
}

pub fn failed(store: &Store, pipe: &str, e: &RunError) -> Result<(), pumphouse_store::StoreError> {
    let mut m = event(pipe, "pump-failed");
    m.insert("message".into(), Value::String(e.message.clone()));
    m.insert(
        "cause".into(),
        Value::List(e.causes.iter().map(|c| Value::String(c.clone())).collect()),
    );
    if let Some(id) = &e.entity {
        m.insert("entity_id".into(), Value::String(id.clone()));
    }
    store.append_log(pipe, Value::Dict(m)).map(|_| ())
}
