//! Dataset sink: stages versions in a store writer; `commit` makes them durable together with
//! the pipe state; `finish` deletion-tracks after a full run (a fresh one, or one the store
//! resumes after a crash) and sets the populated flag. With a circuit breaker the run's
//! versions are held back from readers until `finish` (pumphouse_store's `breaker`).

use pumphouse_store::{BreakerConfig, PipeState, Store, Writer};
use pumphouse_value::Value;

use crate::{ConnectorError, Sink, SinkStats};

pub struct DatasetSink<'s> {
    store: &'s Store,
    writer: Writer<'s>,
}

impl<'s> DatasetSink<'s> {
    pub fn open(
        store: &'s Store,
        dataset: &str,
        pipe: &str,
        full_run: bool,
        breaker: Option<BreakerConfig>,
    ) -> Result<Self, ConnectorError> {
        let mut writer = store.writer(dataset, pipe, full_run)?;
        writer.set_circuit_breaker(breaker)?;
        // Hashing and encoding of `write` run beside the lookups and commits of earlier
        // batches (the runner encodes on its own thread, `encoder`).
        writer.pipeline()?;
        Ok(DatasetSink { store, writer })
    }
}

fn stats(s: pumphouse_store::WriteStats) -> SinkStats {
    SinkStats {
        changed: s.written,
        unchanged: s.unchanged,
        deleted: s.deleted,
    }
}

impl Sink for DatasetSink<'_> {
    fn write(&mut self, entities: Vec<Value>) -> Result<SinkStats, ConnectorError> {
        Ok(stats(self.writer.write(entities)?))
    }
    fn commit(&mut self, state: &PipeState) -> Result<SinkStats, ConnectorError> {
        Ok(stats(self.writer.commit(state)?))
    }
    fn staged_bytes(&self) -> u64 {
        self.writer.staged_bytes()
    }
    fn encoder(&self) -> Option<pumphouse_store::BatchEncoder> {
        Some(self.writer.encoder())
    }
    fn write_encoded(
        &mut self,
        batch: pumphouse_store::EncodedBatch,
    ) -> Result<SinkStats, ConnectorError> {
        Ok(stats(self.writer.write_encoded(batch)?))
    }
    fn finish(&mut self, state: &PipeState, populated: bool) -> Result<SinkStats, ConnectorError> {
        if self.writer.is_full_run() {
            return Ok(stats(self.writer.finish_full_run(state, populated)?));
        }
        let s = stats(self.writer.finish_run(state)?);
        if populated {
            self.store.set_populated(self.writer.dataset(), true)?;
        }
        Ok(s)
    }
    fn is_full_run(&self) -> bool {
        self.writer.is_full_run()
    }
}
