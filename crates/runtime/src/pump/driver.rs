//! Runs the scheduler on tokio: asks it what is due at the node's clock, starts those runs
//! on blocking threads, sleeps until the next due time or until woken (config change, run
//! ended, input changed), and ends when `shutdown` turns true.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::node::Node;
use crate::pump::RunKind;

/// The longest sleep between scheduler polls (also bounds the effect of a clock jump).
const MAX_SLEEP: Duration = Duration::from_secs(5);

pub async fn drive(node: Arc<Node>, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() || node.is_shutting_down() {
            return;
        }
        let now = node.clock.now_micros();
        let launches = node
            .sched
            .lock()
            .map(|mut s| s.poll(now))
            .unwrap_or_default();
        if !launches.is_empty() {
            if let Err(e) = node.save_schedule() {
                tracing::warn!("cannot save the schedule: {e}");
            }
        }
        for l in launches {
            let n = node.clone();
            tokio::task::spawn_blocking(move || {
                if l.kind == RunKind::InputChanged && !n.input_pending(&l.pipe) {
                    if let Ok(mut s) = n.sched.lock() {
                        s.finished(&l.pipe);
                    }
                    return;
                }
                let res = n.run_pipe(&l.pipe, l.kind.as_str(), l.kind == RunKind::Rescan, false);
                if let Err(e) = res {
                    tracing::debug!(pipe = %l.pipe, "scheduled run did not complete: {e}");
                }
                if let Ok(mut s) = n.sched.lock() {
                    s.finished(&l.pipe);
                }
                n.wake.notify_one();
            });
        }
        let next = node.sched.lock().ok().and_then(|s| s.next_wakeup());
        let sleep = next
            .map(|t| Duration::from_micros((t - now).max(0) as u64))
            .unwrap_or(MAX_SLEEP)
            .min(MAX_SLEEP);
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = node.wake.notified() => {}
            _ = shutdown.changed() => {}
        }
    }
}
