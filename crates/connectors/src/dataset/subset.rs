//! A dataset source's `subset` (sesam-spec 2.8, 5.3): what the subset feed emits for one entity
//! read from the dataset. The subset behaves like a dataset of its own, so an entity that
//! leaves it (changes to a value outside it, or is deleted) comes out as deleted, and one that
//! was never in it does not come out at all.

use pumphouse_core::subset::Subset;
use pumphouse_store::{ReadOptions, Store};
use pumphouse_value::Value;

use crate::ConnectorError;

fn is_deleted(e: &Value) -> bool {
    matches!(e.get("_deleted"), Some(Value::Bool(true)))
}

/// The entity to emit for `e`, if any. `run_since` is the offset the run started after
/// (`None` for a full run, where the sink's deletion tracking removes what left the subset).
pub(crate) fn emit(
    store: &Store,
    dataset: &str,
    subset: &Subset,
    run_since: Option<u64>,
    mut e: Value,
) -> Result<Option<Value>, ConnectorError> {
    if !is_deleted(&e) && subset.contains(&e) {
        return Ok(Some(e));
    }
    let Some(since) = run_since else {
        return Ok(None);
    };
    if !was_in(store, dataset, subset, since, &e)? {
        return Ok(None);
    }
    if let Value::Dict(m) = &mut e {
        m.insert("_deleted".into(), Value::Bool(true));
    }
    Ok(Some(e))
}

/// Whether an earlier version of `e` was in the subset: its versions back to (and including)
/// the newest one at or before `since`, the one the sink saw last. Versions between are
/// checked too (in a history read, or when the entity changed while the run read), so a
/// delete is sent whenever the sink may hold the entity; at worst the sink gets a delete of an
/// `_id` it never had, which changes nothing it shows.
fn was_in(
    store: &Store,
    dataset: &str,
    subset: &Subset,
    since: u64,
    e: &Value,
) -> Result<bool, ConnectorError> {
    let mut prev = previous(e);
    while let Some(p) = prev {
        let opts = ReadOptions {
            since: p.checked_sub(1),
            limit: Some(1),
            history: true,
            deleted: true,
        };
        let Some(v) = store.read(dataset, opts)?.next().transpose()? else {
            return Ok(false);
        };
        if !is_deleted(&v) && subset.contains(&v) {
            return Ok(true);
        }
        if p <= since {
            return Ok(false);
        }
        prev = previous(&v);
    }
    Ok(false)
}

fn previous(e: &Value) -> Option<u64> {
    match e.get("_previous") {
        Some(Value::Int(p)) if *p >= 0 => Some(*p as u64),
        _ => None,
    }
}
