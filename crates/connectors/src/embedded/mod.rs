//! The `embedded` source: entities written in the pipe config. No continuation, so every run
//! is a full run (and deletion-tracks what was removed from the config).

mod file;

pub use file::EmbeddedFileSource;

use std::sync::Arc;

use pumphouse_value::Value;

use crate::{Batch, ConnectorError, Source};

pub struct EmbeddedSource {
    entities: Arc<Vec<Value>>,
    pos: usize,
}

impl EmbeddedSource {
    pub fn new(entities: Arc<Vec<Value>>) -> Self {
        EmbeddedSource { entities, pos: 0 }
    }
}

impl Source for EmbeddedSource {
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch>, ConnectorError> {
        if self.pos >= self.entities.len() {
            return Ok(None);
        }
        let end = (self.pos + max.max(1)).min(self.entities.len());
        let entities = self.entities[self.pos..end].to_vec();
        self.pos = end;
        Ok(Some(Batch {
            entities,
            last_seen: Value::Null,
        }))
    }
}
