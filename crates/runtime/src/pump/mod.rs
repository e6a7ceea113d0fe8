//! The pump: when pipes run. `cron` parses Sesam's cron dialect, `spec` reads a pipe's pump
//! settings, `scheduler` decides what is due on an injected clock, `driver` runs the
//! scheduler on tokio and starts the runs on the node.

pub mod cron;
pub mod driver;
pub mod scheduler;
pub mod spec;

pub use cron::Cron;
pub use scheduler::{Launch, RunKind, Scheduler};
pub use spec::{Mode, PumpSpec, Trigger};
