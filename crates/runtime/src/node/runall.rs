//! `run-all-pipes`: what sesam-py's `run` and `test` ask for. Optionally resets every pipe and
//! deletes its sink dataset, then runs all pipes in dependency order until nothing changes,
//! one at a time per pipe (waiting for a scheduled run to end), with a log the client polls
//! and a token for asynchronous callers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pumphouse_core::Pipe;
use serde_json::{json, Value as Json};

use super::{lock, Node, NodeError};
use crate::{run_all_with, RunAllOptions, RunError, RunStats};

/// The query parameters sesam-py sends (sesam-py.md 5.2).
#[derive(Clone, Debug)]
pub struct RunAllParams {
    pub reset_pipes_and_delete_sink_datasets: bool,
    pub delete_input_datasets: bool,
    pub max_run_time: Duration,
}

impl Default for RunAllParams {
    fn default() -> Self {
        RunAllParams {
            reset_pipes_and_delete_sink_datasets: true,
            delete_input_datasets: true,
            max_run_time: Duration::from_secs(900),
        }
    }
}

/// One run-all: its token, status, log and result.
pub struct RunAll {
    pub token: String,
    stop: AtomicBool,
    state: Mutex<State>,
}

struct State {
    status: &'static str,
    log: Vec<(String, &'static str, String)>,
    last_micros: i64,
    result: Option<Json>,
}

impl RunAll {
    /// "running", "success" or "failed".
    pub fn status(&self) -> &'static str {
        lock(&self.state).status
    }

    pub fn result(&self) -> Option<Json> {
        lock(&self.state).result.clone()
    }

    /// Log lines after `since` (an earlier line's timestamp) as sesam-py reads them.
    pub fn log_since(&self, since: Option<&str>) -> Json {
        let st = lock(&self.state);
        Json::Array(
            st.log
                .iter()
                .filter(|(ts, _, _)| since.is_none_or(|s| ts.as_str() > s))
                .map(|(ts, level, text)| json!({"timestamp": ts, "loglevel": level, "logdata": text}))
                .collect(),
        )
    }

    fn log(&self, node: &Node, level: &'static str, text: String) {
        let mut st = lock(&self.state);
        // Timestamps are strictly increasing, so `since` never skips or repeats a line.
        let m = node.clock.now_micros().max(st.last_micros + 1);
        st.last_micros = m;
        st.log.push((super::iso(m), level, text));
    }

    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Pipes whose (resolved, e.g. chosen by a conditional) source only receives pushes
/// (`http_endpoint`): run-all does not pump them and keeps their data when asked to.
fn receives_pushes(pipe: &Pipe) -> bool {
    matches!(&pipe.source, pumphouse_core::SourceSpec::Unsupported { kind, .. } if kind == "http_endpoint")
}

impl Node {
    /// Registers a new run-all (409 while one runs).
    pub fn begin_run_all(&self) -> Result<Arc<RunAll>, NodeError> {
        let mut cur = lock(&self.runall);
        if cur.as_ref().is_some_and(|r| r.status() == "running") {
            return Err(NodeError::Conflict(
                "run-all-pipes is already running; call stop-run-all-pipes or wait for it".into(),
            ));
        }
        let ra = Arc::new(RunAll {
            token: uuid::Uuid::new_v4().to_string(),
            stop: AtomicBool::new(false),
            state: Mutex::new(State {
                status: "running",
                log: vec![],
                last_micros: 0,
                result: None,
            }),
        });
        *cur = Some(ra.clone());
        Ok(ra)
    }

    /// The current or last run-all.
    pub fn run_all_state(&self) -> Option<Arc<RunAll>> {
        lock(&self.runall).clone()
    }

    /// Runs a registered run-all to the end and returns sesam-py's result object.
    pub fn execute_run_all(&self, ra: &RunAll, p: &RunAllParams) -> Json {
        let started = Instant::now();
        let l = self.loaded();
        ra.log(
            self,
            "INFO",
            format!("run-all-pipes: {} pipes", l.project.pipes.len()),
        );
        let res = self.run_all_inner(ra, p, &l, started);
        let result = match res {
            Ok(sums) => {
                let mut info = String::new();
                for s in &sums {
                    if s.runs > 0 {
                        info.push_str(&format!(
                            "{}: {} runs, {} processed, {} changes\n",
                            s.pipe, s.runs, s.processed, s.changed
                        ));
                    }
                }
                ra.log(
                    self,
                    "INFO",
                    format!(
                        "run-all-pipes succeeded in {:.2} s",
                        started.elapsed().as_secs_f64()
                    ),
                );
                json!({"status": "success", "additional_info": info})
            }
            Err((pipe, e)) => {
                ra.log(
                    self,
                    "ERROR",
                    format!("pipe {pipe:?} failed: {}", e.message),
                );
                json!({"status": "failed", "pipe": pipe, "message": e.message, "cause": e.causes})
            }
        };
        let mut st = lock(&ra.state);
        st.status = if result["status"] == "success" {
            "success"
        } else {
            "failed"
        };
        st.result = Some(result.clone());
        result
    }

    fn run_all_inner(
        &self,
        ra: &RunAll,
        p: &RunAllParams,
        l: &super::Loaded,
        started: Instant,
    ) -> Result<Vec<crate::PipeSummary>, (String, RunError)> {
        if p.reset_pipes_and_delete_sink_datasets {
            for pipe in &l.project.pipes {
                if receives_pushes(pipe) && !p.delete_input_datasets {
                    continue;
                }
                let res = self.acquire(&pipe.id, true).and_then(|_slot| {
                    self.store.delete_pipe_state(&pipe.id)?;
                    if let Some(ds) = pipe.sink.dataset() {
                        self.store.delete_dataset(ds)?;
                    }
                    Ok(())
                });
                if let Err(e) = res {
                    return Err((pipe.id.clone(), RunError::config(e.to_string())));
                }
            }
            ra.log(
                self,
                "INFO",
                "reset every pipe and deleted the sink datasets".into(),
            );
        }
        let run = |pipe: &Pipe| -> Result<RunStats, RunError> {
            if ra.stop.load(Ordering::SeqCst) {
                return Err(RunError::stopped(&pipe.id));
            }
            if started.elapsed() > p.max_run_time {
                return Err(RunError::config(format!(
                    "run-all-pipes took longer than max_run_time ({} s)",
                    p.max_run_time.as_secs()
                )));
            }
            if receives_pushes(pipe) {
                return Ok(RunStats::default());
            }
            let slot = self
                .acquire(&pipe.id, true)
                .map_err(|e| RunError::config(e.to_string()))?;
            let res = self.run_in_slot(pipe, &slot, "run-all-pipes", false);
            match &res {
                Ok(s) => ra.log(
                    self,
                    "INFO",
                    format!(
                        "pipe {:?}: processed {}, changes {}",
                        pipe.id, s.processed, s.changed
                    ),
                ),
                Err(e) => ra.log(self, "ERROR", format!("pipe {:?}: {}", pipe.id, e.message)),
            }
            res
        };
        run_all_with(&self.store, &l.project, &RunAllOptions::default(), &run)
            .map_err(|(_, id, e)| (id, e))
    }

    /// Stops the current run-all (and the runs it started) and waits up to `timeout`.
    pub fn stop_run_all(&self, timeout: Duration) {
        let Some(ra) = self.run_all_state() else {
            return;
        };
        if ra.status() != "running" {
            return;
        }
        ra.request_stop();
        for (_, rt) in self.pumps() {
            rt.request_stop();
        }
        let until = Instant::now() + timeout;
        while ra.status() == "running" && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
