//! The per-entity work of a write that does not depend on other entities of the batch:
//! validation, the content hash, the encoded body and the committed index lookup. Large
//! batches spread it over the machine's cores; the order-dependent part stays in `writer`.

use fjall::PartitionHandle;
use pumphouse_value::hash::entity_hash_with;
use pumphouse_value::Value;

use crate::codec::{self, IdxRecord};
use crate::StoreError;

/// Batches smaller than this are prepared on the calling thread.
const PARALLEL_MIN: usize = 512;

/// One incoming entity, ready to be compared with the latest version and appended.
pub(crate) struct Prepared {
    pub id: String,
    /// Hash of the content as it would be stored (a `_filtered` entity hashes as a tombstone).
    pub hash: u128,
    pub deleted: bool,
    pub filtered: bool,
    /// `bin` dict of the user properties.
    pub body: Vec<u8>,
    /// The committed index record of `id` (staged versions are the writer's business).
    pub committed: Option<IdxRecord>,
}

/// Checks that every entity is a dict with a string `_id`, before anything is staged.
pub(crate) fn validate(entities: &[Value]) -> Result<(), StoreError> {
    for (index, e) in entities.iter().enumerate() {
        let reason = match e {
            Value::Dict(m) => match m.get("_id") {
                Some(Value::String(_)) => continue,
                Some(other) => format!("_id is a {}, not a string", other.type_name()),
                None => "no _id".to_owned(),
            },
            other => format!("a {} is not an entity", other.type_name()),
        };
        return Err(StoreError::InvalidEntity { index, reason });
    }
    Ok(())
}

fn prepare_one(idx: &PartitionHandle, e: Value, buf: &mut Vec<u8>) -> Result<Prepared, StoreError> {
    let Value::Dict(mut m) = e else {
        return Err(StoreError::InvalidEntity {
            index: 0,
            reason: "not a dict".into(),
        });
    };
    let id = match m.get("_id") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(StoreError::InvalidEntity {
                index: 0,
                reason: "no _id".into(),
            })
        }
    };
    let filtered = matches!(m.get("_filtered"), Some(Value::Bool(true)));
    if filtered {
        m.insert("_deleted".into(), Value::Bool(true));
    }
    let deleted = matches!(m.get("_deleted"), Some(Value::Bool(true)));
    let dict = Value::Dict(m);
    let hash = entity_hash_with(&dict, buf);
    let mut body = Vec::with_capacity(buf.len() + 16);
    if let Value::Dict(m) = &dict {
        codec::encode_body(&mut body, m);
    }
    let committed = idx
        .get(id.as_bytes())?
        .map(|b| IdxRecord::decode(&b))
        .transpose()?;
    Ok(Prepared {
        id,
        hash,
        deleted,
        filtered,
        body,
        committed,
    })
}

fn prepare_all(idx: &PartitionHandle, entities: Vec<Value>) -> Result<Vec<Prepared>, StoreError> {
    let mut buf = Vec::with_capacity(1024);
    entities
        .into_iter()
        .map(|e| prepare_one(idx, e, &mut buf))
        .collect()
}

/// Prepares a validated batch, in order.
pub(crate) fn prepare(
    idx: &PartitionHandle,
    mut entities: Vec<Value>,
) -> Result<Vec<Prepared>, StoreError> {
    // Asked once: `available_parallelism` reads cgroup files on every call.
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let threads = *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    });
    if entities.len() < PARALLEL_MIN || threads < 2 {
        return prepare_all(idx, entities);
    }
    let chunk = entities.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    while entities.len() > chunk {
        let tail = entities.split_off(chunk);
        parts.push(std::mem::replace(&mut entities, tail));
    }
    let last = entities;
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|p| {
                let b = std::thread::Builder::new().name("store-prepare".into());
                b.spawn_scoped(s, move || prepare_all(idx, p))
                    .expect("cannot start a prepare thread")
            })
            .collect();
        let last = prepare_all(idx, last);
        let mut out = Vec::new();
        for h in handles {
            match h.join() {
                Ok(r) => out.extend(r?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out.extend(last?);
        Ok(out)
    })
}
