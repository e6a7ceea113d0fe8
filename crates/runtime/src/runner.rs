//! Runs one pipe once. The source and the transforms run on one thread (`pipe-source`), a
//! dataset sink's encoding (checks, content hash, stored body) on a second (`store-encode`),
//! and the sink's lookups, staging and commits on the calling thread, joined by bounded
//! channels. The encoding stage may run `ENCODED_AHEAD_BYTES` ahead of the sink, so the
//! transforms and the encoding go on while the sink commits (before, every commit stopped
//! the whole pipe: docs/BENCHMARKS.md, "Sixth session"). Towards such a sink the source's
//! batches travel in groups of `GROUP_ENTITIES` ("Eighth session").
//!
//! Crash safety: the sink commits every `COMMIT_EVERY` source entities (sooner when it has
//! `COMMIT_BYTES` staged); each commit makes the
//! staged versions AND the pipe state (last-seen after the last committed batch) durable in
//! one store transaction. A run that stops at any point (error or kill -9) leaves the previous
//! commit in place; the next run continues from its last-seen. A full run that was interrupted
//! is resumed as a full run by the store (its seen-set was committed with each batch), so
//! deletion tracking stays correct.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::Instant;

use pumphouse_connectors::{open_sink, open_source, supports_since, ConnectorError, SinkStats};
use pumphouse_core::model::InitialOffset;
use pumphouse_core::{Pipe, SinkSpec};
use pumphouse_store::{Store, StoreError};
use pumphouse_value::Value;

use crate::budget::ByteBudget;

/// Source entities per commit (Sesam's default checkpoint is 10000 entities).
pub const COMMIT_EVERY: u64 = 10_000;
/// A commit also happens once the sink has this much staged: 10,000 entities of 50 KB would
/// otherwise hold 500 MB until their commit.
pub const COMMIT_BYTES: u64 = 8 << 20;

/// Encoded bytes the encoding stage may hold ahead of the sink: room for what arrives while
/// the sink commits (a 10,000-entity commit of ~500-byte entities took 20-60 ms, about
/// 5,000 entities of the transforms' output on this machine; docs/BENCHMARKS.md).
const ENCODED_AHEAD_BYTES: u64 = 8 << 20;
/// Batches in the channel after the encoding stage (the byte budget is the usual bound).
const ENCODED_AHEAD_BATCHES: usize = 256;

/// A batch on its way to the sink: the transforms' output, or that output encoded for a sink
/// that encodes on another thread (`Sink::encoder`).
enum Staged {
    Entities(Vec<Value>),
    Encoded(pumphouse_store::EncodedBatch),
}

/// A batch with its source entity count and last-seen, or the error that ends the run.
type Msg = Result<(Staged, u64, Value), RunError>;

/// Source entities the transforms hand to an encoding sink at once (`batch_size` when it is
/// larger): Sesam's default batch of 100 meant a thread hand-over per 100 entities.
const GROUP_ENTITIES: usize = 1000;

/// Reads batches of `batch_size` from the source and transforms them until `group` source
/// entities are together, the source ends or the run is asked to stop. Returns the message for the sink stage (`None`
/// when the source had nothing more) and whether the source ended.
fn next_group(
    source: &mut dyn pumphouse_connectors::Source,
    batch_size: usize,
    group: usize,
    stop: &AtomicBool,
    mut apply: impl FnMut(Vec<Value>, &mut Vec<Value>) -> Result<(), RunError>,
) -> (Option<Msg>, bool) {
    let mut out = Vec::new();
    let mut n = 0u64;
    let mut last_seen = Value::Null;
    let mut got = false;
    loop {
        match source.next_batch(batch_size) {
            Ok(None) => {
                let msg = got.then(|| Ok((Staged::Entities(out), n, last_seen)));
                return (msg, true);
            }
            Ok(Some(b)) => {
                got = true;
                n += b.entities.len() as u64;
                if let Err(e) = apply(b.entities, &mut out) {
                    return (Some(Err(e)), false);
                }
                if !b.last_seen.is_null() {
                    last_seen = b.last_seen;
                }
                if n as usize >= group || stop.load(Ordering::Relaxed) {
                    return (Some(Ok((Staged::Entities(out), n, last_seen))), false);
                }
            }
            Err(e) => return (Some(Err(e.into())), false),
        }
    }
}

struct CloseOnDrop<'a>(&'a ByteBudget);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Starts the thread that encodes the transforms' output for the sink (hash, body, checks):
/// it keeps encoding while the sink looks up, stages and commits, up to
/// `ENCODED_AHEAD_BYTES` ahead. Messages keep their order; the first error ends the stage.
fn encode_stage<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    rx: Receiver<Msg>,
    mut enc: pumphouse_store::BatchEncoder,
    budget: &'scope ByteBudget,
) -> Result<Receiver<Msg>, RunError> {
    let (tx, out) = sync_channel::<Msg>(ENCODED_AHEAD_BATCHES);
    let thread = std::thread::Builder::new().name("store-encode".into());
    thread
        .spawn_scoped(scope, move || {
            for msg in rx {
                let msg = msg.and_then(|(staged, n, last_seen)| match staged {
                    Staged::Entities(e) => enc
                        .encode(e)
                        .map(|b| (Staged::Encoded(b), n, last_seen))
                        .map_err(|e| RunError::from(ConnectorError::from(e))),
                    encoded => Ok((encoded, n, last_seen)),
                });
                let bytes = match &msg {
                    Ok((Staged::Encoded(b), ..)) => b.bytes(),
                    _ => 0,
                };
                if !budget.take(bytes) {
                    return;
                }
                let failed = msg.is_err();
                if tx.send(msg).is_err() || failed {
                    return;
                }
            }
        })
        .map_err(|e| RunError::config(format!("cannot start the encoding thread: {e}")))?;
    Ok(out)
}

/// Why a run failed: a message a person can act on, and the chain of causes.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RunError {
    pub message: String,
    pub causes: Vec<String>,
    /// The `_id` of the entity being processed, if any.
    pub entity: Option<String>,
    /// The run was stopped on request (stop operation, shutdown) after a commit.
    pub stopped: bool,
    /// `trip!` ran: the run fails and trips the sink dataset's circuit breaker.
    pub trip: bool,
}

impl RunError {
    pub fn config(msg: impl Into<String>) -> Self {
        RunError {
            message: msg.into(),
            causes: vec![],
            entity: None,
            stopped: false,
            trip: false,
        }
    }
    /// A run stopped on request: everything up to the last batch is committed.
    pub fn stopped(pipe: &str) -> Self {
        RunError {
            stopped: true,
            ..RunError::config(format!(
                "the run of pipe {pipe:?} was stopped on request; the next run continues from the last committed batch"
            ))
        }
    }
    pub fn entity(e: &Value, msg: impl Into<String>) -> Self {
        let id = match e.get("_id") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => Some(pumphouse_value::transit::to_string(v)),
            None => None,
        };
        let mut message = msg.into();
        if let Some(id) = &id {
            message = format!("entity {id:?}: {message}");
        }
        RunError {
            message,
            causes: vec![],
            entity: id,
            stopped: false,
            trip: false,
        }
    }
}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> Self {
        RunError {
            message: format!("store: {e}"),
            causes: chain(&e),
            entity: None,
            stopped: false,
            trip: false,
        }
    }
}

impl From<ConnectorError> for RunError {
    fn from(e: ConnectorError) -> Self {
        RunError {
            message: e.to_string(),
            causes: chain(&e),
            entity: None,
            stopped: false,
            trip: false,
        }
    }
}

fn chain(e: &dyn std::error::Error) -> Vec<String> {
    let mut v = vec![];
    let mut cur = e.source();
    while let Some(c) = cur {
        v.push(c.to_string());
        cur = c.source();
    }
    v
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    /// Source entities read.
    pub processed: u64,
    /// New versions written (including tombstones).
    pub changed: u64,
    pub deleted: u64,
    pub last_seen: Value,
    pub full: bool,
    pub seconds: f64,
    /// The run did nothing because the source's `initial_completeness` is not met yet: why.
    pub waiting: Option<String>,
}

/// Progress callback: (pipe id, source entities so far).
pub type Progress<'a> = &'a (dyn Fn(&str, u64) + Sync);

/// Runs `pipe` once against `store`.
pub fn run_pipe(store: &Arc<Store>, pipe: &Pipe, progress: Progress) -> Result<RunStats, RunError> {
    run_pipe_until(store, pipe, progress, &AtomicBool::new(false))
}

/// Runs `pipe` once; when `stop` becomes true the run commits the batches written so far and
/// ends with a `RunError` whose `stopped` is set (never a half-written batch).
pub fn run_pipe_until(
    store: &Arc<Store>,
    pipe: &Pipe,
    progress: Progress,
    stop: &AtomicBool,
) -> Result<RunStats, RunError> {
    if let Some(why) = &pipe.not_runnable {
        return Err(RunError::config(format!(
            "pipe {:?} cannot run: {why}",
            pipe.id
        )));
    }
    let started = Instant::now();
    let state = store.pipe_state(&pipe.id)?;
    let since_ok = supports_since(&pipe.source);
    let fresh_full = !since_ok || state.last_seen.is_null();
    let since = if since_ok {
        state.last_seen.clone()
    } else {
        Value::Null
    };
    let waiting = |why: String| RunStats {
        last_seen: state.last_seen.clone(),
        seconds: started.elapsed().as_secs_f64(),
        waiting: Some(why),
        ..RunStats::default()
    };
    if let pumphouse_core::SourceSpec::Dataset {
        dataset,
        require_populated_input: true,
        ..
    } = &pipe.source
    {
        if !store.is_populated(dataset)? {
            return Ok(waiting(format!(
                "require_populated_input: dataset {dataset:?} is not populated yet"
            )));
        }
    }
    let joins = crate::joins::Joins::open(store, pipe)?;
    let ts_limit = match crate::completeness::gate(store, pipe, Some(&joins))? {
        crate::completeness::Gate::Open(limit) => limit,
        crate::completeness::Gate::Wait(why) => return Ok(waiting(why)),
    };
    let inherit = crate::completeness::Inherit::start(store, pipe)?;
    let mut source = open_source(&pipe.source, store, &since, ts_limit)?;
    if let Some(keys) = crate::transform::source_properties(pipe) {
        source.only_properties(keys);
    }
    let mut source = joins.wrap(source)?;
    let joins = &joins;
    let mut sink = open_sink(&pipe.sink, store, &pipe.id, fresh_full)?;
    let full = fresh_full || sink.is_full_run();
    if let SinkSpec::Dataset {
        dataset,
        set_initial_offset: InitialOffset::Initially | InitialOffset::Onload,
        ..
    } = &pipe.sink
    {
        store.set_populated(dataset, true)?;
    }

    let mut stats = RunStats {
        full,
        last_seen: since.clone(),
        ..RunStats::default()
    };
    let mut st = state.clone();
    let batch_size = pipe.batch_size;
    let mut totals = SinkStats::default();
    let raw_plan = crate::raw_push::eligible(pipe).filter(|_| sink.raw().is_some());
    let chain = crate::transform::Chain::open(pipe)?;
    let chain = &chain;
    let scoped = if let Some((dataset, history)) = raw_plan {
        // Copying a dataset to a JSON-text sink: stored records go out as they are.
        let r = crate::raw_push::RawRun {
            store,
            pipe,
            dataset,
            history,
            since: match &since {
                Value::Int(i) if *i >= 0 => Some(*i as u64),
                Value::String(s) if !s.is_empty() => s.parse::<u64>().ok(),
                _ => None,
            },
            stop,
            progress,
        };
        crate::raw_push::run(&r, sink.as_mut(), &mut stats, &mut st, &mut totals)
            .map(|populated| (populated, None))
    } else {
        let budget = ByteBudget::new(ENCODED_AHEAD_BYTES);
        let budget = &budget;
        let encoder = sink.encoder();
        // A sink that encodes on its own stage does not see `batch_size`: the source's
        // batches go to it in groups, so each hand-over between threads carries more.
        let group = match encoder {
            Some(_) => batch_size.max(GROUP_ENTITIES),
            None => batch_size,
        };
        std::thread::scope(|scope| -> Result<_, RunError> {
            // Grouped messages are 10x larger: fewer of them wait (memory stays as it was).
            let (tx, rx) = sync_channel::<Msg>(if group > batch_size { 1 } else { 4 });
            // Named, so profiles show the source+DTL stage apart from the sink (this thread).
            let producer = std::thread::Builder::new().name("pipe-source".into());
            let producer = producer.spawn_scoped(scope, move || -> (bool, Option<Value>) {
                // Groups start at one batch and double, so the sink starts as soon as it
                // would have without them (a small incremental run is a few groups long).
                let mut size = batch_size;
                loop {
                    let (msg, ended) =
                        next_group(&mut *source, batch_size, size, stop, |b, out| {
                            chain.apply_batch(pipe, Some(joins), b, out)
                        });
                    size = (size * 2).min(group);
                    let failed = msg.as_ref().is_some_and(|m| m.is_err());
                    if let Some(msg) = msg {
                        if tx.send(msg).is_err() || failed {
                            return (false, None);
                        }
                    }
                    if ended {
                        return (source.populated(), source.end_last_seen());
                    }
                }
            });
            let producer = producer
                .map_err(|e| RunError::config(format!("cannot start the source thread: {e}")))?;
            // Closes the budget when this closure ends, early or not, so the encoding thread
            // never waits for room that will not come.
            let _close = CloseOnDrop(budget);
            let rx = match encoder {
                None => rx,
                Some(enc) => encode_stage(scope, rx, enc, budget)?,
            };
            let mut pending = 0u64;
            for msg in rx.iter() {
                let (staged, n, last_seen) = msg?;
                match staged {
                    Staged::Entities(entities) => {
                        sink.write(entities)?;
                    }
                    Staged::Encoded(batch) => {
                        let bytes = batch.bytes();
                        let r = sink.write_encoded(batch);
                        budget.give(bytes);
                        r?;
                    }
                }
                stats.processed += n;
                pending += n;
                if !last_seen.is_null() {
                    stats.last_seen = last_seen;
                }
                if stop.load(Ordering::Relaxed) {
                    st.last_seen = stats.last_seen.clone();
                    sink.commit(&st)?;
                    return Err(RunError::stopped(&pipe.id));
                }
                if pending >= COMMIT_EVERY || sink.staged_bytes() >= COMMIT_BYTES {
                    st.last_seen = stats.last_seen.clone();
                    totals.add(sink.commit(&st)?);
                    pending = 0;
                    progress(&pipe.id, stats.processed);
                }
            }
            producer
                .join()
                .map_err(|_| RunError::config("the source thread panicked"))
        })
    };
    let (populated, end_last_seen) = match scoped {
        Err(e) if e.trip => {
            // What the run committed before stays held back if a breaker is active.
            drop(sink);
            if let Some(ds) = pipe.sink.dataset() {
                store.trip_circuit_breaker(ds, &pipe.id, &e.message)?;
            }
            return Err(e);
        }
        r => r?,
    };

    if fresh_full && stats.processed == 0 && pipe.fail_if_source_empty {
        // Nothing was committed (nothing was read): the sink keeps everything.
        return Err(RunError::config(format!(
            "pipe {:?}: the source returned no entities in a full run and if_source_empty is \"fail\"; nothing was deleted",
            pipe.id
        )));
    }

    // The source ended: the run succeeded.
    if let Some(v) = end_last_seen {
        stats.last_seen = v;
    }
    st.last_seen = stats.last_seen.clone();
    let set_populated = match &pipe.sink {
        SinkSpec::Dataset {
            set_initial_offset, ..
        } => match set_initial_offset {
            InitialOffset::IfSourcePopulated => populated,
            InitialOffset::Always | InitialOffset::Initially | InitialOffset::Onload => true,
            InitialOffset::Never => false,
        },
        _ => false,
    };
    totals.add(sink.finish(&st, set_populated)?);
    joins.finish()?;
    inherit.finish(store)?;
    stats.changed = totals.changed;
    stats.deleted = totals.deleted;
    stats.seconds = started.elapsed().as_secs_f64();
    Ok(stats)
}
