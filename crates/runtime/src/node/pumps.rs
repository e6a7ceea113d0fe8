//! Pumps on the node: one run at a time per pipe, the run itself (execution log, status,
//! signalling downstream pipes), and the operations of `POST /api/pipes/{id}/pump`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pumphouse_connectors::supports_since;
use pumphouse_core::Pipe;
use pumphouse_store::PipeState;
use pumphouse_value::Value;

use super::{lock, Node, NodeError};
use crate::{execlog, run_pipe_until, RunError, RunStats};

/// What the pump object reports about past runs.
#[derive(Clone, Debug, Default)]
pub struct PumpInfo {
    pub last_run: Option<String>,
    pub success: Option<bool>,
    pub last_message: String,
    pub runs: u64,
    pub failures: u64,
    pub processed_last_run: u64,
    pub changes_last_run: u64,
    pub seconds_last_run: f64,
}

/// The live state of one pipe's pump.
#[derive(Default)]
pub struct PumpRt {
    running: AtomicBool,
    stop: AtomicBool,
    /// Source entities read by the current run so far.
    pub progress: AtomicU64,
    pub info: Mutex<PumpInfo>,
}

impl PumpRt {
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }
    pub fn request_stop(&self) {
        if self.is_running() {
            self.stop.store(true, Ordering::SeqCst);
        }
    }
}

/// Holds a pipe's run slot; frees it on drop.
pub struct Slot(Arc<PumpRt>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.stop.store(false, Ordering::SeqCst);
        self.0.running.store(false, Ordering::SeqCst);
    }
}

impl Node {
    pub fn pump(&self, id: &str) -> Arc<PumpRt> {
        lock(&self.pumps).entry(id.to_string()).or_default().clone()
    }

    /// The pipe's model, or 404 / 400 (invalid config) as a person would want it explained.
    pub fn runnable_pipe(&self, id: &str) -> Result<(Arc<super::Loaded>, usize), NodeError> {
        let l = self.loaded();
        match l.project.pipes.iter().position(|p| p.id == id) {
            Some(i) => Ok((l, i)),
            None if l.entity(id).is_some() => Err(NodeError::BadRequest(format!(
                "pipe {id:?} has configuration errors and cannot run: {}",
                serde_json::to_string(&l.errors_of(id)).unwrap_or_default()
            ))),
            None => Err(NodeError::NotFound(format!("no pipe with _id {id:?}"))),
        }
    }

    /// Takes the pipe's run slot: at once (`Conflict` if running) or waiting for it.
    pub fn acquire(&self, id: &str, wait: bool) -> Result<Slot, NodeError> {
        let rt = self.pump(id);
        loop {
            if rt
                .running
                .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                rt.progress.store(0, Ordering::SeqCst);
                return Ok(Slot(rt));
            }
            if !wait {
                return Err(NodeError::Conflict(format!(
                    "pipe {id:?} is already running; stop it first or wait for the run to end"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs a pipe once (the caller holds no slot). `trigger` goes into `pump-started`;
    /// `rescan` resets the offset first so the run is a full run.
    pub fn run_pipe(
        &self,
        id: &str,
        trigger: &str,
        rescan: bool,
        wait: bool,
    ) -> Result<RunStats, NodeError> {
        let (l, i) = self.runnable_pipe(id)?;
        let pipe = &l.project.pipes[i];
        if pipe.not_runnable.is_some() {
            return Err(NodeError::BadRequest(format!(
                "pipe {id:?} cannot run: {}",
                pipe.not_runnable.clone().unwrap_or_default()
            )));
        }
        if self.is_shutting_down() {
            return Err(NodeError::Conflict("the node is shutting down".into()));
        }
        let slot = self.acquire(id, wait)?;
        self.run_in_slot(pipe, &slot, trigger, rescan)
            .map_err(|e| NodeError::Internal(e.message))
    }

    /// `start` / `start-rescan`: takes the slot now (409 if running) and runs in the background.
    pub fn start(self: &Arc<Self>, id: &str, rescan: bool) -> Result<(), NodeError> {
        let (l, i) = self.runnable_pipe(id)?;
        if let Some(why) = &l.project.pipes[i].not_runnable {
            return Err(NodeError::BadRequest(format!(
                "pipe {id:?} cannot run: {why}"
            )));
        }
        if self.is_shutting_down() {
            return Err(NodeError::Conflict("the node is shutting down".into()));
        }
        let slot = self.acquire(id, false)?;
        let node = self.clone();
        std::thread::spawn(move || {
            let _ = node.run_in_slot(&l.project.pipes[i], &slot, "api", rescan);
        });
        Ok(())
    }

    /// The run itself, with the slot held: execution log, status, signals.
    pub fn run_in_slot(
        &self,
        pipe: &Pipe,
        slot: &Slot,
        trigger: &str,
        rescan: bool,
    ) -> Result<RunStats, RunError> {
        let store = &self.store;
        if rescan {
            let st = store.pipe_state(&pipe.id)?;
            store.set_pipe_state(
                &pipe.id,
                &PipeState {
                    last_seen: Value::Null,
                    extra: st.extra,
                },
            )?;
        }
        let st = store.pipe_state(&pipe.id)?;
        let full = !supports_since(&pipe.source) || st.last_seen.is_null();
        let _ = execlog::started(
            store,
            &pipe.id,
            if full { "full" } else { "incremental" },
            trigger,
        );
        let rt = &slot.0;
        let progress = |_: &str, n: u64| rt.progress.store(n, Ordering::Relaxed);
        let res = run_pipe_until(store, pipe, &progress, &rt.stop);
        let mut info = lock(&rt.info);
        info.last_run = Some(self.now_iso());
        info.runs += 1;
        match &res {
            Ok(s) => {
                let _ = execlog::completed(store, &pipe.id, s);
                info.success = Some(true);
                info.last_message =
                    format!("processed {} entities, {} changes", s.processed, s.changed);
                info.processed_last_run = s.processed;
                info.changes_last_run = s.changed;
                info.seconds_last_run = s.seconds;
            }
            Err(e) => {
                let _ = execlog::failed(store, &pipe.id, e);
                info.success = Some(false);
                info.failures += 1;
                info.last_message = e.message.clone();
            }
        }
        drop(info);
        if let Ok(s) = &res {
            if s.changed > 0 {
                self.signal_downstream(pipe);
            }
        }
        res
    }

    /// Pipes reading the dataset `pipe` writes run soon (not during run-all-pipes, which runs
    /// them itself).
    fn signal_downstream(&self, pipe: &Pipe) {
        let Some(ds) = pipe.sink.dataset() else {
            return;
        };
        if self
            .run_all_state()
            .is_some_and(|r| r.status() == "running")
        {
            return;
        }
        let l = self.loaded();
        let mut s = lock(&self.sched);
        for p in &l.project.pipes {
            if p.source.dataset() == Some(ds) {
                s.input_changed(&p.id);
            }
        }
        drop(s);
        self.wake.notify_one();
    }

    /// Whether a dataset-fed pipe has input beyond its offset (an input-changed signal is
    /// stale when the pipe has caught up since).
    pub fn input_pending(&self, id: &str) -> bool {
        let l = self.loaded();
        l.project
            .pipe(id)
            .is_some_and(|p| crate::run_all::input_grew(&self.store, p).unwrap_or(true))
    }

    /// Scheduling on or off, persisted, with a `pump-enabled` / `pump-disabled` event.
    pub fn set_enabled(&self, id: &str, on: bool, comment: Option<&str>) -> Result<(), NodeError> {
        self.pipe_exists(id)?;
        let mut set = lock(&self.disabled);
        let changed = if on {
            set.remove(id)
        } else {
            set.insert(id.to_string())
        };
        if changed {
            self.save_disabled(&set)?;
            drop(set);
            execlog::enabled(&self.store, id, on, comment)?;
            lock(&self.sched).set_enabled(id, on, self.clock.now_micros());
            self.wake.notify_one();
        }
        Ok(())
    }

    pub fn pipe_exists(&self, id: &str) -> Result<(), NodeError> {
        match self
            .loaded()
            .of_kind("pipe")
            .any(|e| super::entity_id(e) == Some(id))
        {
            true => Ok(()),
            false => Err(NodeError::NotFound(format!("no pipe with _id {id:?}"))),
        }
    }

    /// `update-last-seen`: `""` resets (the next run is a full run). A dataset source's
    /// offset is a number; other values are kept as strings.
    pub fn set_last_seen(&self, id: &str, value: &str) -> Result<(), NodeError> {
        let (l, i) = self.runnable_pipe(id)?;
        let pipe = &l.project.pipes[i];
        let new = if value.is_empty() {
            Value::Null
        } else if pipe.source.dataset().is_some() {
            Value::Int(value.trim().parse::<i64>().map_err(|_| {
                NodeError::BadRequest(format!(
                    "last-seen {value:?} is not a dataset offset; pipe {id:?} reads a dataset, so give a whole number or \"\" to reset"
                ))
            })?)
        } else {
            Value::String(value.to_string())
        };
        let _slot = self.acquire(id, false)?;
        let st = self.store.pipe_state(id)?;
        self.store.set_pipe_state(
            id,
            &PipeState {
                last_seen: new.clone(),
                extra: st.extra,
            },
        )?;
        execlog::offset_set(&self.store, id, &st.last_seen, &new)?;
        Ok(())
    }

    /// Asks the pipe's current run to stop after its current batch.
    pub fn stop_pipe(&self, id: &str) -> Result<(), NodeError> {
        self.pipe_exists(id)?;
        self.pump(id).request_stop();
        Ok(())
    }

    /// Every pump, for status and metrics.
    pub fn pumps(&self) -> Vec<(String, Arc<PumpRt>)> {
        lock(&self.pumps)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Asks every run to stop and waits up to `timeout` until none runs.
    pub fn stop_all(&self, timeout: Duration) -> bool {
        for (_, rt) in self.pumps() {
            rt.request_stop();
        }
        let until = std::time::Instant::now() + timeout;
        loop {
            if !self.pumps().iter().any(|(_, rt)| rt.is_running()) {
                return true;
            }
            if std::time::Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
