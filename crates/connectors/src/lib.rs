//! Sources and sinks. Each connector lives in its own folder; `open_source` / `open_sink` map
//! a validated `SourceSpec` / `SinkSpec` to an implementation (the one registry).
//!
//! Contract: a source yields batches with the continuation token reached after each batch; a
//! sink stages writes and makes them durable in `commit`, together with the pipe state, so a
//! crash never separates data from offset.

pub mod csv_endpoint;
pub mod dataset;
pub mod embedded;
pub mod empty;
pub mod http;
pub mod json;
pub mod null;

use std::sync::Arc;

use pumphouse_core::{SinkSpec, SourceSpec};
use pumphouse_store::{PipeState, Store, StoreError};
use pumphouse_value::Value;

/// A connector failure. `retryable` tells whether running again may help.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Unsupported(String),
    #[error("{message}")]
    Other { message: String, retryable: bool },
}

/// One batch read from a source.
pub struct Batch {
    pub entities: Vec<Value>,
    /// The continuation token after this batch (`Null` when the source has none).
    pub last_seen: Value,
}

pub trait Source: Send {
    /// The next batch of at most `max` entities, or `None` at the end.
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch>, ConnectorError>;
    /// Whether the source's data counts as complete, for `set_initial_offset`.
    fn populated(&self) -> bool {
        true
    }
    /// A last-seen known only once the source is exhausted (the max strategy of sesam-spec
    /// 5.1); the runner stores it with the final commit.
    fn end_last_seen(&self) -> Option<Value> {
        None
    }
    /// The pipe reads only these user properties of each entity (`dtl::Program::
    /// source_properties`; the `_` properties always): a source may leave the others out.
    /// The default keeps everything.
    fn only_properties(&mut self, _keys: std::sync::Arc<[String]>) {}
}

/// Counts reported by a sink.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SinkStats {
    /// New versions written (or entities delivered).
    pub changed: u64,
    pub unchanged: u64,
    pub deleted: u64,
}

impl SinkStats {
    pub fn add(&mut self, o: SinkStats) {
        self.changed += o.changed;
        self.unchanged += o.unchanged;
        self.deleted += o.deleted;
    }
}

pub trait Sink: Send {
    /// Stages entities (not yet durable). The counts are informational; `commit` and `finish`
    /// return the totals of what they made durable.
    fn write(&mut self, entities: Vec<Value>) -> Result<SinkStats, ConnectorError>;
    /// Makes the staged entities durable together with the pipe state.
    fn commit(&mut self, state: &PipeState) -> Result<SinkStats, ConnectorError>;
    /// Ends a successful run: deletion tracking after a full run, the populated flag, and the
    /// final pipe state.
    fn finish(&mut self, state: &PipeState, populated: bool) -> Result<SinkStats, ConnectorError>;
    /// Whether this run deletion-tracks at the end (a full run, possibly resumed after a crash).
    fn is_full_run(&self) -> bool {
        false
    }
    /// Bytes staged by `write` and not yet committed (0 for sinks that hold nothing), so
    /// the runner commits large entities before `COMMIT_EVERY` of them pile up in memory.
    fn staged_bytes(&self) -> u64 {
        0
    }
    /// A sink that takes entities as transit JSON text, for pipes that only copy a dataset
    /// (the runner's raw path).
    fn raw(&mut self) -> Option<&mut dyn RawSink> {
        None
    }
    /// An encoder that prepares batches for `write_encoded` on another thread (a dataset
    /// sink's validation, hashing and body encoding), so the runner keeps encoding while
    /// this sink commits. `None`: the sink takes `write` only.
    fn encoder(&self) -> Option<pumphouse_store::BatchEncoder> {
        None
    }
    /// Stages a batch made by `encoder()`'s encoder, as `write` would stage its entities.
    fn write_encoded(
        &mut self,
        _batch: pumphouse_store::EncodedBatch,
    ) -> Result<SinkStats, ConnectorError> {
        Err(ConnectorError::Unsupported(
            "this sink takes no encoded batches".into(),
        ))
    }
}

/// Entities as transit JSON text (one object each), staged like `Sink::write`.
pub trait RawSink {
    fn write_raw(&mut self, json: &[u8], deleted: bool) -> Result<(), ConnectorError>;
}

/// Whether a source continues from last-seen (`true`) or reads everything on every run.
pub fn supports_since(spec: &SourceSpec) -> bool {
    match spec {
        SourceSpec::Dataset { .. } => true,
        SourceSpec::Json(j) => j.strategy() != pumphouse_core::model::Continuation::None,
        _ => false,
    }
}

/// Opens the source of a pipe. `since` is the pipe's last-seen (`Null` for a full run).
/// `ts_limit` (µs, from the source's completeness settings): a dataset source stops before
/// the first entity written after it.
pub fn open_source(
    spec: &SourceSpec,
    store: &Arc<Store>,
    since: &Value,
    ts_limit: Option<i64>,
) -> Result<Box<dyn Source>, ConnectorError> {
    Ok(match spec {
        SourceSpec::Embedded { entities } => {
            Box::new(embedded::EmbeddedSource::new(entities.clone()))
        }
        SourceSpec::EmbeddedFile { file, range } => {
            Box::new(embedded::EmbeddedFileSource::open(file.clone(), *range))
        }
        SourceSpec::Dataset {
            dataset,
            include_previous_versions,
            include_replaced,
            subset,
            ..
        } => Box::new(
            dataset::DatasetSource::open(
                store.clone(),
                dataset,
                since,
                *include_previous_versions,
            )?
            .with_ts_limit(ts_limit)
            .with_skip_replaced(!include_replaced)
            .with_subset(subset.clone()),
        ),
        SourceSpec::Empty => Box::new(empty::EmptySource),
        SourceSpec::Json(j) => Box::new(json::source::JsonSource::open(j, since)?),
        SourceSpec::Unsupported { kind, .. } => {
            return Err(ConnectorError::Unsupported(format!(
                "source type {kind:?} is not supported yet"
            )))
        }
    })
}

/// Opens the sink of a pipe for one run.
pub fn open_sink<'s>(
    spec: &SinkSpec,
    store: &'s Store,
    pipe: &str,
    full_run: bool,
) -> Result<Box<dyn Sink + 's>, ConnectorError> {
    Ok(match spec {
        SinkSpec::Dataset {
            dataset,
            deletion_tracking,
            circuit_breaker,
            ..
        } => Box::new(dataset::DatasetSink::open(
            store,
            dataset,
            pipe,
            full_run && *deletion_tracking,
            circuit_breaker.map(|c| pumphouse_store::BreakerConfig {
                factor: c.factor,
                count: c.count,
            }),
        )?),
        SinkSpec::Null => Box::new(null::NullSink::new(store, pipe)),
        SinkSpec::Json(j) => Box::new(json::sink::JsonSink::open(store, pipe, j, full_run)?),
        SinkSpec::Unsupported { kind, .. } => {
            return Err(ConnectorError::Unsupported(format!(
                "sink type {kind:?} is not supported yet"
            )))
        }
    })
}
