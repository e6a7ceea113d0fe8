//! The pump scheduler as a pure state machine over an injected time (µs since the epoch): which
//! pipes are due (interval with jitter, cron, rescan cron, run at startup, input changed),
//! one run at a time per pipe, at most `limit` scheduled runs at once. The async driver
//! (`pump::driver`) feeds it the clock and starts the runs it hands out, so tests drive it
//! with a virtual clock and never sleep.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::spec::{Mode, PumpSpec, Trigger};

/// Why a run was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    Scheduled,
    Rescan,
    Startup,
    /// The pipe's input dataset changed.
    InputChanged,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Scheduled => "schedule",
            RunKind::Rescan => "rescan",
            RunKind::Startup => "startup",
            RunKind::InputChanged => "input-changed",
        }
    }
}

/// A run the driver must start now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    pub pipe: String,
    pub kind: RunKind,
}

struct Entry {
    spec: PumpSpec,
    next: Option<i64>,
    next_rescan: Option<i64>,
    enabled: bool,
}

pub struct Scheduler {
    limit: usize,
    entries: BTreeMap<String, Entry>,
    queue: Vec<Launch>,
    running: BTreeSet<String>,
    rng: u64,
    paused: bool,
}

const MICROS: f64 = 1_000_000.0;

fn cron_next(c: &super::cron::Cron, now: i64) -> Option<i64> {
    let t = DateTime::<Utc>::from_timestamp_micros(now)?;
    c.next_after(t).map(|d| d.timestamp_micros())
}

impl Scheduler {
    /// `limit`: scheduled runs at once; `seed`: the jitter's random sequence.
    pub fn new(limit: usize, seed: u64) -> Self {
        Scheduler {
            limit: limit.max(1),
            entries: BTreeMap::new(),
            queue: Vec::new(),
            running: BTreeSet::new(),
            rng: seed | 1,
            paused: false,
        }
    }

    fn jittered(&mut self, seconds: f64, jitter: f64) -> i64 {
        // xorshift64*: a uniform number in [-1, 1).
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
        ((seconds * (1.0 + jitter * (2.0 * r - 1.0))) * MICROS) as i64
    }

    fn first_run(&mut self, spec: &PumpSpec, now: i64) -> Option<i64> {
        match &spec.trigger {
            Trigger::Interval { seconds, jitter } => Some(now + self.jittered(*seconds, *jitter)),
            Trigger::Cron(c) => cron_next(c, now),
        }
    }

    /// Sets the pipes to schedule (after a config load). Unchanged pipes keep their next run;
    /// with `startup`, pipes with `run_at_startup` are queued.
    pub fn configure(
        &mut self,
        now: i64,
        pipes: Vec<(String, PumpSpec)>,
        disabled: &BTreeSet<String>,
        startup: bool,
    ) {
        let mut old = std::mem::take(&mut self.entries);
        for (id, spec) in pipes {
            let enabled = !disabled.contains(&id);
            let entry = match old.remove(&id) {
                Some(e) if e.spec == spec => Entry { enabled, ..e },
                _ => Entry {
                    next: self.first_run(&spec, now),
                    next_rescan: spec.rescan.as_ref().and_then(|c| cron_next(c, now)),
                    spec,
                    enabled,
                },
            };
            if startup && entry.spec.run_at_startup && entry.spec.mode == Mode::Scheduled {
                self.enqueue(&id, RunKind::Startup);
            }
            self.entries.insert(id, entry);
        }
        let entries = &self.entries;
        self.queue.retain(|l| entries.contains_key(&l.pipe));
    }

    /// Stops (or resumes) all clock-driven runs (`task_manager.disable_user_pipes`).
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    pub fn set_enabled(&mut self, pipe: &str, on: bool, now: i64) {
        let Some(e) = self.entries.get(pipe) else {
            return;
        };
        if e.enabled == on {
            return;
        }
        let spec = e.spec.clone();
        let next = if on { self.first_run(&spec, now) } else { None };
        if let Some(e) = self.entries.get_mut(pipe) {
            e.enabled = on;
            e.next = next;
        }
        if !on {
            self.queue.retain(|l| l.pipe != pipe);
        }
    }

    /// The pipe's input dataset changed: run it soon (if it is scheduled and enabled).
    pub fn input_changed(&mut self, pipe: &str) {
        if self.eligible(pipe) {
            self.enqueue(pipe, RunKind::InputChanged);
        }
    }

    fn eligible(&self, pipe: &str) -> bool {
        !self.paused
            && self
                .entries
                .get(pipe)
                .is_some_and(|e| e.enabled && e.spec.mode == Mode::Scheduled)
    }

    fn enqueue(&mut self, pipe: &str, kind: RunKind) {
        if let Some(l) = self.queue.iter_mut().find(|l| l.pipe == pipe) {
            if kind == RunKind::Rescan {
                l.kind = kind;
            }
            return;
        }
        self.queue.push(Launch {
            pipe: pipe.to_string(),
            kind,
        });
    }

    /// Moves due pipes to the queue and hands out the runs to start now.
    pub fn poll(&mut self, now: i64) -> Vec<Launch> {
        let ids: Vec<String> = self.entries.keys().cloned().collect();
        for id in ids {
            if !self.eligible(&id) {
                continue;
            }
            let Some(e) = self.entries.get(&id) else {
                continue;
            };
            let (spec, next, next_rescan) = (e.spec.clone(), e.next, e.next_rescan);
            if next_rescan.is_some_and(|t| t <= now) {
                self.enqueue(&id, RunKind::Rescan);
                let nr = spec.rescan.as_ref().and_then(|c| cron_next(c, now));
                if let Some(e) = self.entries.get_mut(&id) {
                    e.next_rescan = nr;
                }
            }
            if next.is_some_and(|t| t <= now) {
                self.enqueue(&id, RunKind::Scheduled);
                let n = match &spec.trigger {
                    Trigger::Interval { seconds, jitter } => {
                        Some(now + self.jittered(*seconds, *jitter))
                    }
                    Trigger::Cron(c) => cron_next(c, now),
                };
                if let Some(e) = self.entries.get_mut(&id) {
                    e.next = n;
                }
            }
        }
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.queue.len() && self.running.len() < self.limit {
            if self.running.contains(&self.queue[i].pipe) {
                i += 1;
                continue;
            }
            let l = self.queue.remove(i);
            self.running.insert(l.pipe.clone());
            out.push(l);
        }
        out
    }

    /// A run handed out by `poll` ended.
    pub fn finished(&mut self, pipe: &str) {
        self.running.remove(pipe);
    }

    /// When `poll` has something to do next (µs); `None` when nothing is scheduled.
    pub fn next_wakeup(&self) -> Option<i64> {
        if self.paused {
            return None;
        }
        self.entries
            .values()
            .filter(|e| e.enabled && e.spec.mode == Mode::Scheduled)
            .flat_map(|e| [e.next, e.next_rescan])
            .flatten()
            .min()
    }

    /// The next clock-driven run of `pipe` (µs), for the pump object's `next-run`.
    pub fn next_run(&self, pipe: &str) -> Option<i64> {
        if !self.eligible(pipe) {
            return None;
        }
        let e = self.entries.get(pipe)?;
        [e.next, e.next_rescan].into_iter().flatten().min()
    }

    /// Next run times worth keeping over a restart (sesam-spec 4.1): cron schedules and
    /// intervals over an hour, and rescan crons (as `rescan:<pipe>`).
    pub fn durable_next(&self) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for (id, e) in &self.entries {
            let durable = match &e.spec.trigger {
                Trigger::Cron(_) => true,
                Trigger::Interval { seconds, .. } => *seconds > 3600.0,
            };
            if let (true, Some(t)) = (durable, e.next) {
                out.insert(id.clone(), t);
            }
            if let Some(t) = e.next_rescan {
                out.insert(format!("rescan:{id}"), t);
            }
        }
        out
    }

    /// Puts back saved next run times (see `durable_next`); a time in the past makes the
    /// missed run happen at the next poll.
    pub fn restore(&mut self, saved: &BTreeMap<String, i64>) {
        for (id, e) in self.entries.iter_mut() {
            let durable = match &e.spec.trigger {
                Trigger::Cron(_) => true,
                Trigger::Interval { seconds, .. } => *seconds > 3600.0,
            };
            if let (true, Some(t)) = (durable, saved.get(id)) {
                e.next = Some(*t);
            }
            if let (Some(_), Some(t)) = (&e.spec.rescan, saved.get(&format!("rescan:{id}"))) {
                e.next_rescan = Some(*t);
            }
        }
    }

    /// Runs handed out and not yet finished.
    pub fn running(&self) -> usize {
        self.running.len()
    }
}

#[cfg(test)]
mod tests;
