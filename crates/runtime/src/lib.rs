//! The pumphouse runtime: `runner` runs one pipe (source → transforms → sink) with crash-safe
//! commits, `order` sorts pipes by their dataset dependencies, `run_all` runs a project until
//! nothing changes, `execlog` writes the execution log (`system:pump:<pipe>`), `pump` schedules
//! runs (cron, intervals, concurrency limit) on an injected clock, and `node` is the running
//! node behind `pumphouse serve` (config, env, pumps, run-all-pipes, reset).

mod budget;
pub mod completeness;
pub mod execlog;
pub mod joins;
pub mod microservice;
pub mod namespaces;
pub mod node;
pub mod order;
pub mod output;
pub mod pump;
pub mod raw_push;
pub mod run_all;
pub mod runner;
pub mod transform;

pub use run_all::{run_all, run_all_with, PipeRunner, PipeSummary, RunAllOptions};
pub use runner::{run_pipe, run_pipe_until, RunError, RunStats};
