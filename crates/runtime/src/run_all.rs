//! Runs a project's pipes in dependency order until nothing changes: the first pass runs every
//! selected pipe; later passes run only dataset-fed pipes whose input grew past their
//! last-seen. Stops at the first failure (the failed pipe's data and offset are untouched
//! beyond its last commit).

use std::collections::BTreeMap;
use std::sync::Arc;

use pumphouse_core::{Pipe, Project, SourceSpec};
use pumphouse_store::Store;
use pumphouse_value::Value;

use crate::order::dependency_order;
use crate::runner::{run_pipe, Progress, RunError};
use crate::{execlog, RunStats};

/// Passes before giving up on a configuration that never settles (a cycle that keeps changing).
pub const MAX_PASSES: usize = 100;

#[derive(Default)]
pub struct RunAllOptions {
    /// Run only these pipes (all when empty).
    pub pipes: Vec<String>,
}

/// Totals of one pipe over all passes.
#[derive(Clone, Debug, Default)]
pub struct PipeSummary {
    pub pipe: String,
    pub runs: u32,
    pub processed: u64,
    pub changed: u64,
    pub last_seen: Value,
    pub seconds: f64,
    /// Why the pipe was skipped (not runnable), if it was.
    pub skipped: Option<String>,
    /// Why its last run did nothing (`require_populated_input`, `initial_completeness`).
    pub waiting: Option<String>,
}

/// Runs until stable. On failure returns the summaries so far and the error of the failing pipe.
pub fn run_all(
    store: &Arc<Store>,
    project: &Project,
    opts: &RunAllOptions,
    progress: Progress,
) -> Result<Vec<PipeSummary>, (Vec<PipeSummary>, String, RunError)> {
    let run = |pipe: &Pipe| {
        let res = run_pipe(store, pipe, progress);
        match &res {
            Ok(s) if s.changed > 0 => {
                let _ = execlog::completed(store, &pipe.id, s);
            }
            Ok(_) => {}
            Err(e) => {
                let _ = execlog::failed(store, &pipe.id, e);
            }
        }
        res
    };
    run_all_with(store, project, opts, &run)
}

/// One pipe run as `run_all_with` asks for it (the node adds locking, stop and its log).
pub type PipeRunner<'a> = &'a (dyn Fn(&Pipe) -> Result<RunStats, RunError> + Sync);

/// `run_all` with the single-pipe run supplied by the caller; the caller writes the
/// execution log.
pub fn run_all_with(
    store: &Arc<Store>,
    project: &Project,
    opts: &RunAllOptions,
    run: PipeRunner,
) -> Result<Vec<PipeSummary>, (Vec<PipeSummary>, String, RunError)> {
    let selected: Vec<&Pipe> = project
        .pipes
        .iter()
        .filter(|p| opts.pipes.is_empty() || opts.pipes.contains(&p.id))
        .collect();
    let order = dependency_order(&selected);
    let mut sums: BTreeMap<String, PipeSummary> = BTreeMap::new();
    let list = |sums: &BTreeMap<String, PipeSummary>| {
        order
            .iter()
            .filter_map(|&i| sums.get(&selected[i].id).cloned())
            .collect::<Vec<_>>()
    };
    for pass in 0..MAX_PASSES {
        let mut changed = 0;
        for &i in &order {
            let pipe = selected[i];
            let grew = match pass {
                0 => true,
                _ => match input_grew(store, pipe) {
                    Ok(g) => g,
                    Err(e) => return Err((list(&sums), pipe.id.clone(), e)),
                },
            };
            let sum = sums.entry(pipe.id.clone()).or_insert_with(|| PipeSummary {
                pipe: pipe.id.clone(),
                ..Default::default()
            });
            if let Some(why) = &pipe.not_runnable {
                sum.skipped = Some(why.clone());
                continue;
            }
            if !grew {
                continue;
            }
            match run(pipe) {
                Ok(s) => {
                    add(sum, &s);
                    changed += s.changed;
                }
                Err(e) => {
                    let id = pipe.id.clone();
                    return Err((list(&sums), id, e));
                }
            }
        }
        if changed == 0 {
            break;
        }
    }
    Ok(list(&sums))
}

fn add(sum: &mut PipeSummary, s: &RunStats) {
    sum.runs += 1;
    sum.processed += s.processed;
    sum.changed += s.changed;
    sum.last_seen = s.last_seen.clone();
    sum.seconds += s.seconds;
    sum.waiting = s.waiting.clone();
}

/// Whether a dataset-fed pipe has input beyond its last-seen offset.
pub fn input_grew(store: &Store, pipe: &Pipe) -> Result<bool, RunError> {
    let SourceSpec::Dataset { dataset, .. } = &pipe.source else {
        return Ok(false);
    };
    let Some(info) = store.dataset_info(dataset)? else {
        return Ok(false);
    };
    let last = store.pipe_state(&pipe.id)?.last_seen;
    Ok(match (info.last_offset, last) {
        (None, _) => false,
        (Some(_), Value::Null) => true,
        (Some(o), Value::Int(l)) => o as i64 > l,
        _ => true,
    })
}
