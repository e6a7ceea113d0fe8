//! The execution log: one entity per pump event in the dataset `system:pump:<pipe>`
//! (`pump-started`, `pump-completed`, `pump-failed`, `pump-offset-set`, `pump-enabled`,
//! `pump-disabled`), readable like any dataset (`GET /api/pipes/{id}/log`).

use pumphouse_store::Store;
use pumphouse_value::{DateTime, Map, Value};

use crate::runner::{RunError, RunStats};

pub fn dataset_id(pipe: &str) -> String {
    format!("system:pump:{pipe}")
}

fn event(pipe: &str, kind: &str) -> Map {
    let mut m = Map::default();
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

/// A run begins: `sync_type` is `full` or `incremental`; `trigger` says who started it.
pub fn started(
    store: &Store,
    pipe: &str,
    sync_type: &str,
    trigger: &str,
) -> Result<(), pumphouse_store::StoreError> {
    let mut m = event(pipe, "pump-started");
    m.insert("sync_type".into(), Value::String(sync_type.into()));
    m.insert("trigger".into(), Value::String(trigger.into()));
    store.append_log(pipe, Value::Dict(m)).map(|_| ())
}

/// The pipe's last-seen was set through the API (`""`/null = reset).
pub fn offset_set(
    store: &Store,
    pipe: &str,
    original: &Value,
    new: &Value,
) -> Result<(), pumphouse_store::StoreError> {
    let mut m = event(pipe, "pump-offset-set");
    m.insert("pipe_offset".into(), new.clone());
    m.insert("original_pipe_offset".into(), original.clone());
    m.insert("is_reset".into(), Value::Bool(new.is_null()));
    store.append_log(pipe, Value::Dict(m)).map(|_| ())
}

/// Scheduling was switched on (`pump-enabled`) or off (`pump-disabled`, with its comment).
pub fn enabled(
    store: &Store,
    pipe: &str,
    on: bool,
    comment: Option<&str>,
) -> Result<(), pumphouse_store::StoreError> {
    let mut m = event(pipe, if on { "pump-enabled" } else { "pump-disabled" });
    if let Some(c) = comment {
        m.insert("comment".into(), Value::String(c.into()));
    }
    store.append_log(pipe, Value::Dict(m)).map(|_| ())
}

pub fn failed(store: &Store, pipe: &str, e: &RunError) -> Result<(), pumphouse_store::StoreError> {
    let mut m = event(pipe, "pump-failed");
    // Secret values never reach the execution log.
    let redact = pumphouse_core::secrets::redact;
    m.insert("message".into(), Value::String(redact(&e.message)));
    if e.stopped {
        m.insert(
            "reason_why_stopped".into(),
            Value::String("stopped on request".into()),
        );
    }
    m.insert(
        "cause".into(),
        Value::List(e.causes.iter().map(|c| Value::String(redact(c))).collect()),
    );
    if let Some(id) = &e.entity {
        m.insert("entity_id".into(), Value::String(id.clone()));
    }
    store.append_log(pipe, Value::Dict(m)).map(|_| ())
}
