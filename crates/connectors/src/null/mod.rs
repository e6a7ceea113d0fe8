//! The `null` sink: accepts and discards entities; only the pipe state is stored.

use pumphouse_store::{PipeState, Store};
use pumphouse_value::Value;

use crate::{ConnectorError, Sink, SinkStats};

pub struct NullSink<'s> {
    store: &'s Store,
    pipe: String,
    staged: u64,
}

impl<'s> NullSink<'s> {
    pub fn new(store: &'s Store, pipe: &str) -> Self {
        NullSink {
            store,
            pipe: pipe.to_string(),
            staged: 0,
        }
    }
}

impl Sink for NullSink<'_> {
    fn write(&mut self, entities: Vec<Value>) -> Result<SinkStats, ConnectorError> {
        self.staged += entities.len() as u64;
        Ok(SinkStats {
            changed: entities.len() as u64,
            ..SinkStats::default()
        })
    }
    fn commit(&mut self, state: &PipeState) -> Result<SinkStats, ConnectorError> {
        self.store.set_pipe_state(&self.pipe, state)?;
        Ok(SinkStats {
            changed: std::mem::take(&mut self.staged),
            ..SinkStats::default()
        })
    }
    fn finish(&mut self, state: &PipeState, _populated: bool) -> Result<SinkStats, ConnectorError> {
        self.commit(state)
    }
}
