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

/// Collects the output in memory (meant for tests and endpoint previews, not bulk data).
pub fn collect(store: &Arc<Store>, pipe: &Pipe) -> Result<Vec<Value>, RunError> {
    let mut source = open_source(&pipe.source, store, &Value::Null)?;
    let mut out: Vec<Value> = Vec::new();
    let mut pos: HashMap<String, usize> = HashMap::new();
    let mut buf = Vec::new();
    let joins = crate::joins::Joins::reader(store, &pipe.id);
    while let Some(b) = source.next_batch(pipe.batch_size)? {
        for e in b.entities {
            buf.clear();
            crate::transform::apply_with(pipe, Some(&joins), e, &mut buf)?;
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
