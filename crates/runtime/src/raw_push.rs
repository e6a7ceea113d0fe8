//! The raw path of a pipe that only copies a dataset to a sink taking JSON text (the `json`
//! sink): no transforms and no namespace changes, so each stored record goes out as the
//! transit JSON the general path would write for it (`ReadIter::next_raw` / `write_json`),
//! without becoming a `Value` and being serialized again — the same bytes, at a fraction of
//! the CPU (docs/BENCHMARKS.md, "JSON protocols"). Commits, last-seen and stop requests work
//! as in `runner`: the pipe state moves every `COMMIT_EVERY` entities, after the sink has
//! every entity before it acknowledged.

use std::sync::atomic::{AtomicBool, Ordering};

use pumphouse_connectors::{RawSink, Sink, SinkStats};
use pumphouse_core::{Pipe, SourceSpec};
use pumphouse_store::{PipeState, ReadIter, ReadOptions, Store, StoreError};
use pumphouse_value::Value;

use crate::runner::{Progress, RunError, RunStats, COMMIT_EVERY};

/// The dataset and history flag of a pipe the raw path can run, if it can.
pub fn eligible(pipe: &Pipe) -> Option<(&str, bool)> {
    let SourceSpec::Dataset {
        dataset,
        include_previous_versions,
        completeness: None,
        include_replaced: true,
        subset: None,
        ..
    } = &pipe.source
    else {
        return None;
    };
    let ns = &pipe.namespaces;
    (pipe.transforms.is_empty() && !ns.add_namespaces && !ns.remove_namespaces)
        .then_some((dataset.as_str(), *include_previous_versions))
}

/// Everything one raw run needs from the runner.
pub struct RawRun<'a> {
    pub store: &'a Store,
    pub pipe: &'a Pipe,
    pub dataset: &'a str,
    pub history: bool,
    pub since: Option<u64>,
    pub stop: &'a AtomicBool,
    pub progress: Progress<'a>,
}

/// Streams the dataset into `sink` (its `raw()` side); returns whether the source dataset is
/// populated. Commits as it goes into `totals`, updating `stats` and `st`.
pub fn run(
    r: &RawRun,
    sink: &mut dyn Sink,
    stats: &mut RunStats,
    st: &mut PipeState,
    totals: &mut SinkStats,
) -> Result<bool, RunError> {
    let Some(info) = r.store.dataset_info(r.dataset)? else {
        return Ok(false);
    };
    let opts = ReadOptions {
        since: r.since,
        limit: None,
        history: r.history,
        deleted: true,
    };
    let mut iter = match r.store.read(r.dataset, opts) {
        Ok(it) => it,
        Err(StoreError::NoSuchDataset(_)) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let mut buf = Vec::with_capacity(4096);
    let mut pending = 0u64;
    while let Some((offset, record)) = iter.next_raw()? {
        buf.clear();
        ReadIter::write_json(offset, &record, &mut buf)?;
        let deleted = ReadIter::is_deleted(&record)?;
        raw(sink)?.write_raw(&buf, deleted)?;
        stats.processed += 1;
        stats.last_seen = Value::Int(offset as i64);
        pending += 1;
        if r.stop.load(Ordering::Relaxed) {
            st.last_seen = stats.last_seen.clone();
            sink.commit(st)?;
            return Err(RunError::stopped(&r.pipe.id));
        }
        if pending >= COMMIT_EVERY {
            st.last_seen = stats.last_seen.clone();
            totals.add(sink.commit(st)?);
            pending = 0;
            (r.progress)(&r.pipe.id, stats.processed);
        }
    }
    Ok(info.populated)
}

fn raw(sink: &mut dyn Sink) -> Result<&mut dyn RawSink, RunError> {
    sink.raw()
        .ok_or_else(|| RunError::config("the sink does not take JSON text"))
}
