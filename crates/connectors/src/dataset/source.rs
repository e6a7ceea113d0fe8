//! Dataset source: streams a dataset from an offset, in pages, so memory stays flat.

use std::collections::VecDeque;
use std::sync::Arc;

use pumphouse_store::{ReadOptions, Store};
use pumphouse_value::Value;

use crate::{Batch, ConnectorError, Source};

/// Entities read from the store at once when batches are smaller: each read sets up a
/// snapshot and iterator, which costs as much as decoding dozens of entities.
const PAGE: usize = 1000;

pub struct DatasetSource {
    store: Arc<Store>,
    dataset: String,
    /// Offset of the last entity read from the store (handed out or buffered).
    since: Option<u64>,
    /// Read, not yet handed out; at most one page.
    buffered: VecDeque<Value>,
    history: bool,
    populated: bool,
    done: bool,
    /// Completeness: stop before the first entity whose `_ts` is above this (µs).
    ts_limit: Option<i64>,
    /// `include_replaced: false`: leave out entities with `"$replaced": true`.
    skip_replaced: bool,
    /// `subset`, and the offset the run started after (the sink saw what came before).
    subset: Option<Arc<pumphouse_core::subset::Subset>>,
    run_since: Option<u64>,
    /// The last-seen of the last batch handed out.
    handed_out: Option<u64>,
    /// `only_properties`: the user properties decoded (all when `None`).
    keys: Option<Arc<[String]>>,
}

impl DatasetSource {
    pub fn open(
        store: Arc<Store>,
        dataset: &str,
        since: &Value,
        history: bool,
    ) -> Result<Self, ConnectorError> {
        let since = match since {
            Value::Int(i) if *i >= 0 => Some(*i as u64),
            Value::String(s) if !s.is_empty() => s.parse::<u64>().ok(),
            _ => None,
        };
        let info = store.dataset_info(dataset)?;
        let populated = info.as_ref().is_some_and(|i| i.populated);
        Ok(DatasetSource {
            store,
            dataset: dataset.to_string(),
            since,
            buffered: VecDeque::new(),
            history,
            populated,
            done: info.is_none(),
            ts_limit: None,
            skip_replaced: false,
            subset: None,
            run_since: since,
            handed_out: since,
            keys: None,
        })
    }

    /// Reads only the entities in `subset` (sesam-spec 2.8); entities that leave it since the
    /// run's offset come out as deleted (`dataset/subset.rs`).
    pub fn with_subset(mut self, subset: Option<Arc<pumphouse_core::subset::Subset>>) -> Self {
        self.subset = subset;
        self
    }

    /// `include_replaced: false` (sesam-spec 5.3): entities with `"$replaced": true` (those a
    /// merge source replaced) are left out.
    pub fn with_skip_replaced(mut self, skip: bool) -> Self {
        self.skip_replaced = skip;
        self
    }

    /// Emits only entities written at or before `limit` (µs since the epoch, compared with
    /// `_ts`): the source ends before the first later one, so the pipe's last-seen stays in
    /// front of it and the next run continues there (sesam-spec 2.6).
    pub fn with_ts_limit(mut self, limit: Option<i64>) -> Self {
        self.ts_limit = limit;
        self
    }
}

impl Source for DatasetSource {
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch>, ConnectorError> {
        let max = max.max(1);
        // A page can be left out whole (`include_replaced`): read on until something is kept.
        while self.buffered.len() < max && !self.done {
            self.fill(max.max(PAGE))?;
            if !self.buffered.is_empty() {
                break;
            }
        }
        let n = max.min(self.buffered.len());
        let entities: Vec<Value> = self.buffered.drain(..n).collect();
        let offset = match entities.last() {
            // With nothing left buffered, every entity read after the last one was left out
            // (`include_replaced`, `subset`): last-seen moves past them too, so the next run
            // does not read them again.
            Some(_) if self.buffered.is_empty() && self.since.is_some() => self.since,
            Some(last) => Some(updated(last)?),
            None if self.since > self.handed_out => self.since,
            None => return Ok(None),
        };
        self.handed_out = offset;
        Ok(Some(Batch {
            entities,
            last_seen: offset.map_or(Value::Null, |o| Value::Int(o as i64)),
        }))
    }

    fn populated(&self) -> bool {
        self.populated
    }

    /// Entities are decoded with only these user properties, which saves decoding (and
    /// freeing) the rest. Not with `subset` (its expression reads properties of its own);
    /// `include_replaced: false` keeps `$replaced`, which it checks.
    fn only_properties(&mut self, keys: Arc<[String]>) {
        if self.subset.is_some() {
            return;
        }
        let mut keys = keys.to_vec();
        if self.skip_replaced && !keys.iter().any(|k| k == "$replaced") {
            keys.push("$replaced".into());
        }
        self.keys = Some(keys.into());
    }
}

impl DatasetSource {
    /// Reads up to `page` more entities after `since` into the buffer.
    fn fill(&mut self, page: usize) -> Result<(), ConnectorError> {
        let opts = ReadOptions {
            since: self.since,
            limit: Some(page),
            history: self.history,
            deleted: true,
        };
        let mut read = 0;
        let mut last_read = None;
        let mut iter = self.store.read(&self.dataset, opts)?;
        if let Some(keys) = &self.keys {
            iter = iter.only_properties(keys.clone());
        }
        for e in iter {
            let e = e?;
            read += 1;
            if let (Some(limit), Some(Value::Int(ts))) = (self.ts_limit, e.get("_ts")) {
                if *ts > limit {
                    self.done = true;
                    break;
                }
            }
            last_read = Some(updated(&e)?);
            if self.skip_replaced && matches!(e.get("$replaced"), Some(Value::Bool(true))) {
                continue;
            }
            let e = match &self.subset {
                None => e,
                Some(sub) => {
                    match super::subset::emit(&self.store, &self.dataset, sub, self.run_since, e)? {
                        Some(e) => e,
                        None => continue,
                    }
                }
            };
            self.buffered.push_back(e);
        }
        if read < page {
            self.done = true;
        }
        if last_read.is_some() {
            self.since = last_read;
        }
        Ok(())
    }
}

fn updated(e: &Value) -> Result<u64, ConnectorError> {
    match e.get("_updated") {
        Some(Value::Int(i)) => Ok(*i as u64),
        _ => Err(ConnectorError::Other {
            message: "stored entity without _updated".into(),
            retryable: false,
        }),
    }
}
