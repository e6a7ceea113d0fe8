//! Completeness in a pipe run (sesam-spec 2.6; docs: hub/features/completeness-feature.rst).
//!
//! Before the run: `gate` turns the dataset source's `completeness` / `initial_completeness`
//! into a `_ts` limit for the source (or tells the run to wait), and `Inherit::start` takes
//! the completeness of the pipe's input datasets as they are now. After a successful run,
//! `Inherit::finish` gives the sink dataset the smallest of them, and records each input's
//! value (and what the inputs had seen of their own upstream) as seen through the sink.
//!
//! Choices where the docs are silent (docs/dtl-deviations.md, "completeness"):
//! * Inputs are read when the run starts: entities an input gets during the run are not
//!   covered by the run, so they must not be by the sink's completeness either.
//! * An input that has no completeness yet (its pipe never finished a run) leaves the sink's
//!   own value as it was: the sink cannot be more complete than an input that never ran.
//! * Inbound pipes (no dataset inputs), and pipes whose inputs are all excluded, use the time
//!   the run ended.
//! * `initial_completeness` not yet satisfied: the run does nothing at all (it does not run
//!   the sink, so a full run does not deletion-track against an empty source).

use std::collections::BTreeMap;

use pumphouse_core::model::{CompletenessFilter, SourceCompleteness};
use pumphouse_core::{Pipe, SourceSpec};
use pumphouse_dtl::{EvalContext, Lookup};
use pumphouse_store::{Completeness, Store};
use pumphouse_value::{DateTime, Map, Value};

use crate::runner::RunError;

/// What the source may emit this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Run; a dataset source stops before the first entity with `_ts` above the limit.
    Open(Option<i64>),
    /// Do not run yet: why.
    Wait(String),
}

fn now_us() -> i64 {
    (DateTime::now().as_nanos() / 1000) as i64
}

/// µs since the epoch as a DTL datetime.
pub fn to_datetime(us: i64) -> Value {
    Value::DateTime(DateTime::from_nanos(us as i128 * 1000))
}

fn source_settings(pipe: &Pipe) -> Option<(&str, &SourceCompleteness)> {
    match &pipe.source {
        SourceSpec::Dataset {
            dataset,
            completeness: Some(c),
            ..
        } => Some((dataset.as_str(), c)),
        _ => None,
    }
}

/// The source's gate for this run. `lookup` serves `completeness` (and joins) inside an
/// `{"expression": ...}`.
pub fn gate(store: &Store, pipe: &Pipe, lookup: Option<&dyn Lookup>) -> Result<Gate, RunError> {
    let Some((source, c)) = source_settings(pipe) else {
        return Ok(Gate::Open(None));
    };
    for ds in &c.initial {
        if store.completeness(ds)?.and_then(|r| r.own).is_none() {
            return Ok(Gate::Wait(format!(
                "initial_completeness: dataset {ds:?} has no completeness yet (the pipe that writes it has not finished a run)"
            )));
        }
    }
    let limit = match &c.filter {
        CompletenessFilter::Off => None,
        // No record yet: nothing is known to be complete.
        CompletenessFilter::Source => Some(own(store, source)?.unwrap_or(0)),
        CompletenessFilter::Datasets(ids) => {
            let rec = store.completeness(source)?.unwrap_or_default();
            let mut min = None::<i64>;
            for id in ids {
                let v = rec.of(source, id).unwrap_or(0);
                min = Some(min.map_or(v, |m| m.min(v)));
            }
            Some(min.unwrap_or(0))
        }
        CompletenessFilter::Expression(program) => {
            let mut e = Map::default();
            e.insert("_id".into(), Value::from("completeness"));
            let ctx = EvalContext {
                lookup,
                ..EvalContext::default()
            };
            let out = program.transform(&Value::Dict(e), &ctx).map_err(|err| {
                RunError::config(format!(
                    "pipe {:?}: the source's completeness expression failed: {err}",
                    pipe.id
                ))
            })?;
            // Anything but a datetime means 1970-01-01 (the docs).
            Some(
                match out.target.as_ref().and_then(|t| t.get("completeness")) {
                    Some(Value::DateTime(dt)) => (dt.as_nanos() / 1000) as i64,
                    _ => 0,
                },
            )
        }
    };
    Ok(Gate::Open(limit))
}

/// After an `http_endpoint` receiver committed a request (or the last request of a full
/// sync): the sink's completeness is the sender's `X-Dataset-Completeness`, else now.
pub fn received(store: &Store, dataset: &str, header: Option<i64>) -> Result<(), RunError> {
    if !store.dataset_exists(dataset)? {
        return Ok(());
    }
    let mut rec = store.completeness(dataset)?.unwrap_or_default();
    rec.own = Some(header.unwrap_or_else(now_us));
    store.set_completeness(dataset, &rec)?;
    Ok(())
}

fn own(store: &Store, ds: &str) -> Result<Option<i64>, RunError> {
    Ok(store.completeness(ds)?.and_then(|r| r.own))
}

/// The inputs' completeness at the start of a run, to hand to the sink when it succeeds.
pub struct Inherit {
    sink: Option<String>,
    /// Each included input's record (`None`: it has none).
    inputs: Vec<(String, Option<Completeness>)>,
}

impl Inherit {
    pub fn start(store: &Store, pipe: &Pipe) -> Result<Inherit, RunError> {
        let cfg = &pipe.completeness;
        let mut names: Vec<String> = match &cfg.include {
            Some(list) => list.clone(),
            None => crate::order::inputs(pipe)
                .into_iter()
                .map(String::from)
                .collect(),
        };
        names.sort();
        names.dedup();
        names.retain(|n| !cfg.exclude.contains(n));
        let mut inputs = Vec::with_capacity(names.len());
        for n in names {
            let rec = store.completeness(&n)?;
            inputs.push((n, rec));
        }
        Ok(Inherit {
            sink: pipe.sink.dataset().map(String::from),
            inputs,
        })
    }

    /// After a successful run: the sink's new completeness record.
    pub fn finish(&self, store: &Store) -> Result<(), RunError> {
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        if !store.dataset_exists(sink)? {
            return Ok(());
        }
        let mut rec = store.completeness(sink)?.unwrap_or_default();
        let mut own = Some(now_us());
        let mut seen: BTreeMap<String, i64> = BTreeMap::new();
        let mut merge = |k: &str, v: i64| {
            seen.entry(k.to_string())
                .and_modify(|x| *x = (*x).min(v))
                .or_insert(v);
        };
        if !self.inputs.is_empty() {
            own = None;
            let mut complete = true;
            for (name, r) in &self.inputs {
                match r.as_ref().and_then(|r| r.own) {
                    Some(v) => {
                        merge(name, v);
                        own = Some(own.map_or(v, |m: i64| m.min(v)));
                    }
                    None => complete = false,
                }
                for (k, v) in r.iter().flat_map(|r| r.seen.iter()) {
                    merge(k, *v);
                }
            }
            if !complete {
                own = rec.own;
            }
        }
        rec.own = own;
        // What the sink had seen before stays unless the inputs bring a record of it.
        for (k, v) in seen {
            rec.seen.insert(k, v);
        }
        rec.seen.remove(sink);
        store.set_completeness(sink, &rec)?;
        Ok(())
    }
}
