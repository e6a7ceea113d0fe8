//! `pumphouse test DIR` and `pumphouse update DIR`: sesam-py's `test` and `update` offline.
//! The project runs in a temporary store; the output of every pipe whose sink is not a dataset
//! (sesam-py's "output" and "endpoint" pipes) is compared with, or written to, `expected/`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use pumphouse_core::{Pipe, SinkSpec};
use pumphouse_runtime::{output, run_all, RunAllOptions};
use pumphouse_store::Store;
use serde_json::Value as Json;

use crate::cmd_run::{load_project, progress_printer};
use crate::expected::{self, Spec};

fn is_output(p: &Pipe) -> bool {
    !matches!(p.sink, SinkSpec::Dataset { .. })
}

pub fn test(dir: &Path, env: Option<PathBuf>, update: bool) -> anyhow::Result<ExitCode> {
    let tmp = tempfile::tempdir().context("cannot create a temporary store")?;
    let store = Arc::new(Store::open(tmp.path())?);
    let Some(project) = load_project(dir, env, HashSet::new()) else {
        return Ok(ExitCode::from(1));
    };
    let progress = progress_printer();
    if let Err((_, pipe, e)) = run_all(&store, &project, &RunAllOptions::default(), &progress) {
        eprintln!("error: pipe {pipe:?} failed: {}", e.message);
        return Ok(ExitCode::from(1));
    }
    let outputs: Vec<&Pipe> = project.pipes.iter().filter(|p| is_output(p)).collect();
    let specs = expected::specs(dir)?;
    let mut failures = Vec::new();
    if specs.is_empty() && !update {
        eprintln!(
            "warning: no expected/*.test.json files; nothing to verify ({} output pipes)",
            outputs.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    for p in &outputs {
        if !specs.iter().any(|s| s.pipe == p.id) {
            if update {
                let f = dir.join("expected").join(format!("{}.test.json", p.id));
                std::fs::create_dir_all(dir.join("expected"))?;
                std::fs::write(&f, "{\n}")?;
                println!("created {}", f.display());
            } else {
                failures.push(format!("No tests references pipe {:?}", p.id));
            }
        }
    }
    let specs = if update { expected::specs(dir)? } else { specs };
    for spec in &specs {
        let Some(pipe) = outputs.iter().find(|p| p.id == spec.pipe) else {
            if update && !spec.ignore {
                std::fs::remove_file(&spec.spec_file)?;
                println!("deleted {} (no such output pipe)", spec.spec_file.display());
            } else if !spec.ignore {
                failures.push(format!(
                    "{} references a non-existing output pipe {:?}",
                    spec.spec_file.display(),
                    spec.pipe
                ));
            }
            continue;
        };
        if spec.ignore {
            continue;
        }
        match check(&store, pipe, spec, update) {
            Ok(()) => {
                if !update {
                    println!("ok    {} ({})", spec.name, spec.file.display());
                }
            }
            Err(e) => failures.push(e),
        }
    }
    if failures.is_empty() {
        println!(
            "{} {} spec(s) {}",
            if update { "updated" } else { "passed:" },
            specs.len(),
            if update { "" } else { "all match" }
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &failures {
            eprintln!("FAIL  {f}");
        }
        eprintln!("{} of {} spec(s) failed", failures.len(), specs.len());
        Ok(ExitCode::from(1))
    }
}

fn check(store: &Arc<Store>, pipe: &Pipe, spec: &Spec, update: bool) -> Result<(), String> {
    let entities = output::collect(store, pipe).map_err(|e| {
        format!(
            "pipe {:?}: cannot compute its output: {}",
            pipe.id, e.message
        )
    })?;
    let current: Vec<Json> = entities
        .iter()
        .map(pumphouse_value::transit::to_json)
        .collect();
    match spec.endpoint.as_str() {
        "json" | "excel" => {
            if update {
                write(&spec.file, expected::update_text(&current, spec).as_bytes())
            } else {
                let text = std::fs::read_to_string(&spec.file).map_err(|e| {
                    format!(
                        "{}: cannot read the expected file: {e}",
                        spec.file.display()
                    )
                })?;
                let exp: Json = serde_json::from_str(text.trim_start_matches('\u{feff}'))
                    .map_err(|e| format!("{}: invalid JSON: {e}", spec.file.display()))?;
                expected::compare(&current, exp, spec)
            }
        }
        "csv" => {
            let columns = match &pipe.sink {
                SinkSpec::Unsupported { config, .. } => {
                    pumphouse_connectors::csv_endpoint::columns(config)
                }
                _ => None,
            };
            let body = pumphouse_connectors::csv_endpoint::csv(&current, columns);
            if update {
                write(&spec.file, body.as_bytes())
            } else {
                let exp = std::fs::read(&spec.file).map_err(|e| {
                    format!(
                        "{}: cannot read the expected file: {e}",
                        spec.file.display()
                    )
                })?;
                if exp == body.as_bytes() {
                    Ok(())
                } else {
                    Err(format!("pipe {:?}: CSV output differs from {}:\n  got:      {body:?}\n  expected: {:?}", pipe.id, spec.file.display(), String::from_utf8_lossy(&exp)))
                }
            }
        }
        other => Err(format!(
            "{}: endpoint {other:?} is not supported by this version",
            spec.spec_file.display()
        )),
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
