//! `pumphouse run` and `pumphouse validate`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use pumphouse_core::project::LoadOptions;
use pumphouse_core::Project;
use pumphouse_runtime::{run_all, RunAllOptions};
use pumphouse_store::Store;

/// Loads a project, printing warnings; on errors prints them all and returns `None`.
pub fn load_project(
    config: &Path,
    env: Option<PathBuf>,
    known: HashSet<String>,
) -> Option<Project> {
    load_project_with(config, env, known, Default::default())
}

/// `load_project` with the secret values for `$SECRET(...)` in systems.
pub fn load_project_with(
    config: &Path,
    env: Option<PathBuf>,
    known: HashSet<String>,
    secrets: pumphouse_core::secrets::Secrets,
) -> Option<Project> {
    let opts = LoadOptions {
        env_file: env,
        known_datasets: known,
        secrets,
        services_root: None,
    };
    match pumphouse_core::load(config, &opts) {
        Ok(p) => {
            for w in &p.warnings {
                eprintln!("{w}");
            }
            Some(p)
        }
        Err(diags) => {
            let n = diags.iter().filter(|d| d.is_error()).count();
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!(
                "{n} error(s) in {}; nothing was run or changed",
                config.display()
            );
            None
        }
    }
}

pub fn validate(config: &Path, env: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let Some(p) = load_project(config, env, HashSet::new()) else {
        return Ok(ExitCode::from(1));
    };
    for pipe in &p.pipes {
        if let Some(why) = &pipe.not_runnable {
            println!(
                "pipe {:?}: valid, not runnable in this version: {why}",
                pipe.id
            );
        }
    }
    println!(
        "{}: {} pipes, {} systems, {} warning(s), no errors",
        config.display(),
        p.pipes.len(),
        p.systems.len(),
        p.warnings.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints a line at most every few seconds while a long run goes on.
pub fn progress_printer() -> impl Fn(&str, u64) + Sync {
    let last = Mutex::new((Instant::now(), String::new(), 0u64, Instant::now()));
    move |pipe: &str, n: u64| {
        let Ok(mut g) = last.lock() else { return };
        if g.1 != pipe {
            *g = (Instant::now(), pipe.to_string(), 0, Instant::now());
        }
        if g.0.elapsed() >= Duration::from_secs(3) {
            let rate = n as f64 / g.3.elapsed().as_secs_f64().max(1e-9);
            eprintln!("  {pipe}: {n} entities processed ({rate:.0}/s)");
            g.0 = Instant::now();
        }
    }
}

pub fn run(
    config: &Path,
    data: &Path,
    pipes: Vec<String>,
    env: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let store = Arc::new(
        Store::open(data)
            .with_context(|| format!("cannot open the store at {}", data.display()))?,
    );
    let known: HashSet<String> = store.dataset_ids()?.into_iter().collect();
    let secrets = pumphouse_secrets::SecretStore::open(data)?.load()?;
    let Some(project) = load_project_with(config, env, known, secrets) else {
        return Ok(ExitCode::from(1));
    };
    for id in &pipes {
        if project.pipe(id).is_none() {
            anyhow::bail!(
                "no pipe {id:?} in {}; the pipes are: {}",
                config.display(),
                project
                    .pipes
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    // The microservices the selected pipes use run for the length of the run.
    let mut services = Vec::new();
    let runnable: Vec<String> = project
        .pipes
        .iter()
        .filter(|p| p.not_runnable.is_none() && (pipes.is_empty() || pipes.contains(&p.id)))
        .map(|p| p.id.clone())
        .collect();
    for ms in pumphouse_runtime::microservice::used_by(&project, &runnable) {
        match pumphouse_runtime::microservice::Service::start(&ms) {
            Ok(s) => {
                eprintln!("microservice {:?} listening at {}", s.id(), s.base_url());
                services.push(s);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(1));
            }
        }
    }
    let progress = progress_printer();
    let res = run_all(&store, &project, &RunAllOptions { pipes }, &progress);
    for s in &mut services {
        s.stop();
    }
    let (sums, failure) = match res {
        Ok(s) => (s, None),
        Err((s, pipe, e)) => (s, Some((pipe, e))),
    };
    println!(
        "{:<40} {:>10} {:>10} {:>12} {:>9}",
        "pipe", "processed", "changed", "last-seen", "seconds"
    );
    for s in &sums {
        if let Some(why) = &s.skipped {
            println!("{:<40} skipped: {why}", s.pipe);
            continue;
        }
        let ls = match &s.last_seen {
            pumphouse_value::Value::Null => "-".to_string(),
            v => pumphouse_value::transit::to_string(v)
                .trim_matches('"')
                .to_string(),
        };
        println!(
            "{:<40} {:>10} {:>10} {:>12} {:>9.3}",
            s.pipe, s.processed, s.changed, ls, s.seconds
        );
        if let Some(why) = &s.waiting {
            println!("{:<40} waiting: {why}", "");
        }
    }
    if let Some((pipe, e)) = failure {
        eprintln!("error: pipe {pipe:?} failed: {}", e.message);
        for c in &e.causes {
            eprintln!("  caused by: {c}");
        }
        eprintln!(
            "  its dataset and last-seen stay at the last commit; fix the cause and run again"
        );
        crate::cmd_data::release(store)?;
        return Ok(ExitCode::from(1));
    }
    crate::cmd_data::release(store)?;
    match peak_memory_mb() {
        Some(mb) => println!("data in {}; peak memory {mb:.0} MB", data.display()),
        None => println!("data in {}", data.display()),
    }
    Ok(ExitCode::SUCCESS)
}

/// Peak resident memory of this process (Linux `VmHWM`), in MB.
pub fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
