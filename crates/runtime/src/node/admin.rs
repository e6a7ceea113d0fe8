//! Node-wide operations: `reset` (wipe datasets, offsets, config and env), `restart` (reload
//! the persisted config, forget runtime state), `delete-all-sink-datasets`, and `shutdown`
//! (stop every run after its current batch and flush the store).

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Map;

use super::{lock, Node, NodeError};

/// How long reset/restart/shutdown wait for running pipes to commit and stop.
const STOP_WAIT: Duration = Duration::from_secs(60);

impl Node {
    fn stop_everything(&self) -> Result<(), NodeError> {
        self.stop_run_all(STOP_WAIT);
        if !self.stop_all(STOP_WAIT) {
            return Err(NodeError::Conflict(
                "pipes are still running after 60 s; try again when they have stopped".into(),
            ));
        }
        Ok(())
    }

    /// Deletes every dataset, offset, the config and the env; the node starts anew.
    pub fn reset(&self) -> Result<(), NodeError> {
        self.stop_everything()?;
        self.replace(vec![], Some(Map::new()), true)?;
        for id in self.store.dataset_ids()? {
            self.store.delete_dataset(&id)?;
        }
        for id in self.store.pipe_ids()? {
            self.store.delete_pipe_state(&id)?;
        }
        let set = Default::default();
        self.save_disabled(&set)?;
        *lock(&self.disabled) = set;
        lock(&self.pumps).clear();
        *lock(&self.runall) = None;
        *lock(&self.start_time) = self.now_iso();
        self.reschedule(true);
        Ok(())
    }

    /// Stops all runs, reloads the persisted config and starts the pumps as at startup.
    pub fn restart(&self) -> Result<(), NodeError> {
        self.stop_everything()?;
        let l = self.loaded();
        self.replace(l.entities.clone(), Some(l.env.clone()), true)?;
        lock(&self.pumps).clear();
        *lock(&self.start_time) = self.now_iso();
        self.reschedule(true);
        Ok(())
    }

    /// Deletes the sink dataset of every pipe and resets its offset. Returns the datasets.
    pub fn delete_all_sink_datasets(&self) -> Result<Vec<String>, NodeError> {
        let l = self.loaded();
        let mut out = vec![];
        for p in &l.project.pipes {
            let Some(ds) = p.sink.dataset() else { continue };
            let _slot = self.acquire(&p.id, true)?;
            self.store.delete_pipe_state(&p.id)?;
            self.store.delete_dataset(ds)?;
            out.push(ds.to_string());
        }
        Ok(out)
    }

    /// Graceful stop: no new runs, running pipes commit their current batch and stop, the
    /// journal is fsynced. Returns whether every run stopped in time.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        self.shutting_down.store(true, Ordering::SeqCst);
        lock(&self.sched).set_paused(true);
        self.wake.notify_one();
        self.stop_run_all(timeout);
        let stopped = self.stop_all(timeout);
        let _ = self.save_schedule();
        self.stop_services();
        let _ = self.store.sync();
        stopped
    }
}
