//! The output of a pipe at the sink stage, computed without running its sink: the source read
//! in full, through the transforms, the latest version of each `_id` (what Sesam serves for
//! an endpoint pipe, and what sesam-py compares with expected files).

use std::collections::HashMap;
use std::sync::Arc;

use pumphouse_connectors::open_source;
use pumphouse_core::Pipe;
use pumphouse_store::Store;
use pumphouse_value::Value;

use crate::runner::RunError;

/// The output at a stage of `GET /api/pipes/{id}/entities?stage=`: `source` and
/// `before-transforms` are the source's entities, `after-transforms` and `sink` (the default)
/// the transformed ones; the latest version of each `_id` either way.
pub fn at_stage(store: &Arc<Store>, pipe: &Pipe, stage: &str) -> Result<Vec<Value>, RunError> {
    match stage {
        "source" | "before-transforms" | "before-transform" => gather(store, pipe, false),
        "" | "sink" | "after-transforms" | "after-transform" => gather(store, pipe, true),
        other => Err(RunError::config(format!(
            "unknown stage {other:?}; use source, before-transforms, after-transforms or sink"
        ))),
    }
}

/// Collects the output in memory (meant for tests and endpoint previews, not bulk data).
pub fn collect(store: &Arc<Store>, pipe: &Pipe) -> Result<Vec<Value>, RunError> {
    gather(store, pipe, true)
}

fn gather(store: &Arc<Store>, pipe: &Pipe, transformed: bool) -> Result<Vec<Value>, RunError> {
    let joins = crate::joins::Joins::reader(store, &pipe.id);
    let limit = match crate::completeness::gate(store, pipe, Some(&joins))? {
        crate::completeness::Gate::Open(limit) => limit,
        crate::completeness::Gate::Wait(_) => return Ok(vec![]),
    };
    let mut source = open_source(&pipe.source, store, &Value::Null, limit)?;
    let mut out: Vec<Value> = Vec::new();
    let mut pos: HashMap<String, usize> = HashMap::new();
    let mut buf = Vec::new();
    while let Some(b) = source.next_batch(pipe.batch_size)? {
        for e in b.entities {
            buf.clear();
            if transformed {
                crate::transform::apply_with(pipe, Some(&joins), e, &mut buf)?;
            } else {
                buf.push(e);
            }
            for t in buf.drain(..) {
                let id = t
                    .get("_id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                match pos.get(&id) {
                    Some(&i) => out[i] = t,
                    None => {
                        pos.insert(id, out.len());
                        out.push(t);
                    }
                }
            }
        }
    }
    Ok(out)
}
