//! A pipe's pump settings (sesam-spec 4.1) read from its `pump` section: when it runs
//! (`schedule_interval` or `cron_expression`), when it rescans (`rescan_cron_expression`),
//! `run_at_startup` and `mode`.

use pumphouse_core::{Pipe, SinkSpec, SourceSpec};
use serde_json::Value as Json;

use super::cron::Cron;

/// How a pump is triggered by the clock.
#[derive(Clone, Debug, PartialEq)]
pub enum Trigger {
    /// Seconds between runs; `jitter` is the ± fraction applied to each interval.
    Interval {
        seconds: f64,
        jitter: f64,
    },
    Cron(Cron),
}

/// `mode`: `scheduled` runs on the clock, `manual` only through the API, `off` never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Scheduled,
    Manual,
    Off,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PumpSpec {
    pub trigger: Trigger,
    pub rescan: Option<Cron>,
    pub run_at_startup: bool,
    pub mode: Mode,
}

/// Sesam's default jitter on intervals: ±5 % (30 s ± 1.5 s, 900 s ± 45 s).
pub const JITTER: f64 = 0.05;

impl PumpSpec {
    /// Reads the pump section of `pipe`; an error names the property and says how to fix it.
    pub fn of(pipe: &Pipe) -> Result<PumpSpec, String> {
        let dataset_to_dataset = matches!(pipe.source, SourceSpec::Dataset { .. })
            && matches!(pipe.sink, SinkSpec::Dataset { .. });
        PumpSpec::parse(&pipe.pump, dataset_to_dataset)
    }

    pub fn parse(pump: &Json, dataset_to_dataset: bool) -> Result<PumpSpec, String> {
        let get = |k: &str| pump.get(k).filter(|v| !v.is_null());
        let cron = |k: &str| -> Result<Option<Cron>, String> {
            match get(k) {
                None => Ok(None),
                Some(Json::String(s)) => Cron::parse(s)
                    .map(Some)
                    .map_err(|e| format!("pump.{k}: {e}")),
                Some(v) => Err(format!(
                    "pump.{k} must be a string such as \"0 0 ? * *\", not {v}"
                )),
            }
        };
        let trigger = match cron("cron_expression")? {
            Some(c) => Trigger::Cron(c),
            None => {
                let seconds = match get("schedule_interval") {
                    None => {
                        if dataset_to_dataset {
                            30.0
                        } else {
                            900.0
                        }
                    }
                    Some(v) => v.as_f64().filter(|s| *s > 0.0).ok_or_else(|| {
                        format!(
                            "pump.schedule_interval must be a positive number of seconds, not {v}"
                        )
                    })?,
                };
                Trigger::Interval {
                    seconds,
                    jitter: JITTER,
                }
            }
        };
        let run_at_startup = match get("run_at_startup") {
            None => false,
            Some(Json::Bool(b)) => *b,
            Some(v) => {
                return Err(format!(
                    "pump.run_at_startup must be true or false, not {v}"
                ))
            }
        };
        let mode = match get("mode").and_then(Json::as_str) {
            None | Some("scheduled") => Mode::Scheduled,
            Some("manual") => Mode::Manual,
            Some("off") => Mode::Off,
            Some(m) => {
                return Err(format!(
                    "pump.mode {m:?} is unknown; use \"scheduled\", \"manual\" or \"off\""
                ))
            }
        };
        Ok(PumpSpec {
            trigger,
            rescan: cron("rescan_cron_expression")?,
            run_at_startup,
            mode,
        })
    }
}
