//! Completeness (sesam-spec 2.6): per dataset, its own completeness timestamp and the
//! completeness of every upstream dataset as it was last propagated to it, in the `meta`
//! partition under `cpl:<dataset id>` (format byte + `bin` dict `{"own": µs, "seen": {id: µs}}`).
//!
//! The runtime sets a sink dataset's record after a successful run
//! (`runtime::completeness`). It is written after the run's last commit, not in it: a crash
//! in between leaves the older, smaller value, which only holds entities back longer — never
//! releases them early.

use std::collections::BTreeMap;

use pumphouse_value::{Map, Value};

use crate::codec::{decode_value, encode_value};
use crate::{Store, StoreError};

/// A dataset's completeness record. Timestamps are µs since the Unix epoch (UTC), like `_ts`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completeness {
    /// The dataset's own completeness: entities with `_ts` ≤ this are final.
    pub own: Option<i64>,
    /// The completeness of upstream datasets as propagated to this one.
    pub seen: BTreeMap<String, i64>,
}

impl Completeness {
    /// The completeness of `dataset` as seen through this dataset (`via`): its own value when
    /// `dataset == via`, else what was propagated to it.
    pub fn of(&self, via: &str, dataset: &str) -> Option<i64> {
        if via == dataset {
            self.own
        } else {
            self.seen.get(dataset).copied()
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut m = Map::default();
        if let Some(own) = self.own {
            m.insert("own".into(), Value::Int(own));
        }
        let mut seen = Map::default();
        for (k, v) in &self.seen {
            seen.insert(k.clone(), Value::Int(*v));
        }
        m.insert("seen".into(), Value::Dict(seen));
        encode_value(&Value::Dict(m))
    }

    fn decode(b: &[u8]) -> Result<Self, StoreError> {
        let Value::Dict(m) = decode_value(b, "completeness")? else {
            return Err(StoreError::corrupt("completeness", "not a dict"));
        };
        let own = match m.get("own") {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        };
        let mut seen = BTreeMap::new();
        if let Some(Value::Dict(s)) = m.get("seen") {
            for (k, v) in s {
                if let Value::Int(i) = v {
                    seen.insert(k.clone(), *i);
                }
            }
        }
        Ok(Completeness { own, seen })
    }
}

pub(crate) fn key(dataset: &str) -> Vec<u8> {
    let mut k = b"cpl:".to_vec();
    k.extend_from_slice(dataset.as_bytes());
    k
}

impl Store {
    /// The completeness record of `dataset`; `None` when it has none (never written by a
    /// successful run, or deleted).
    pub fn completeness(&self, dataset: &str) -> Result<Option<Completeness>, StoreError> {
        match self.meta.get(key(dataset))? {
            Some(b) => Completeness::decode(&b).map(Some),
            None => Ok(None),
        }
    }

    /// Replaces the completeness record of `dataset` (which must exist).
    pub fn set_completeness(&self, dataset: &str, c: &Completeness) -> Result<(), StoreError> {
        if !self.dataset_exists(dataset)? {
            return Err(StoreError::NoSuchDataset(dataset.to_owned()));
        }
        let mut batch = self.keyspace.batch();
        batch.insert(&self.meta, key(dataset), c.encode());
        self.commit_batch(batch)
    }
}
