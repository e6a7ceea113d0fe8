//! Dataset source: streams a dataset from an offset, in pages, so memory stays flat.

use std::sync::Arc;

use pumphouse_store::{ReadOptions, Store};
use pumphouse_value::Value;

use crate::{Batch, ConnectorError, Source};

pub struct DatasetSource {
    store: Arc<Store>,
    dataset: String,
    since: Option<u64>,
    history: bool,
    populated: bool,
    done: bool,
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
            history,
            populated,
            done: info.is_none(),
        })
    }
}

impl Source for DatasetSource {
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch>, ConnectorError> {
        if self.done {
            return Ok(None);
        }
        let opts = ReadOptions {
            since: self.since,
            limit: Some(max.max(1)),
            history: self.history,
            deleted: true,
        };
        let mut entities = Vec::with_capacity(max);
        for e in self.store.read(&self.dataset, opts)? {
            entities.push(e?);
        }
        if entities.len() < max {
            self.done = true;
        }
        let Some(last) = entities.last() else {
            return Ok(None);
        };
        let offset = match last.get("_updated") {
            Some(Value::Int(i)) => *i as u64,
            _ => {
                return Err(ConnectorError::Other {
                    message: "stored entity without _updated".into(),
                    retryable: false,
                })
            }
        };
        self.since = Some(offset);
        Ok(Some(Batch {
            entities,
            last_seen: Value::Int(offset as i64),
        }))
    }

    fn populated(&self) -> bool {
        self.populated
    }
}
