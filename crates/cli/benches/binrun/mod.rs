//! What the benchmarks that drive the release binary share: the `contacts` pipe of N
//! generated entities, and a `pumphouse run` whose per-pipe summary and peak memory are
//! parsed from its output.

// Each benchmark is its own crate and uses part of this.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use crate::entities::entity;

/// Writes `pipes/contacts.conf.json`: an embedded source of `n` contacts (every
/// `changed_every`-th one in a second version) with DTL `copy *` + one `add`.
pub fn write_contacts(dir: &Path, n: usize, changed_every: Option<usize>) {
    std::fs::create_dir_all(dir.join("pipes")).unwrap();
    let mut s = String::with_capacity(n * 580);
    s.push_str(
        r#"{"_id": "contacts", "type": "pipe", "source": {"type": "embedded", "entities": ["#,
    );
    for i in 0..n {
        if i > 0 {
            s.push_str(",\n");
        }
        let v = match changed_every {
            Some(k) if i % k == 0 => 2,
            _ => 1,
        };
        s.push_str(&entity(i, v));
    }
    s.push_str(r#"]}, "transform": {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "source", "crm"]]}}}"#);
    std::fs::write(dir.join("pipes/contacts.conf.json"), s).unwrap();
}

/// One `pumphouse run`: per pipe (id, processed, changed, seconds), its peak memory (NaN when
/// the summary has none) and wall time.
pub struct Run {
    pub pipes: Vec<(String, u64, u64, f64)>,
    pub peak_mb: f64,
    pub wall: f64,
}

impl Run {
    /// The seconds of `pipe` (NaN when it did not run).
    pub fn secs(&self, pipe: &str) -> f64 {
        self.pipes
            .iter()
            .find(|p| p.0 == pipe)
            .map_or(f64::NAN, |p| p.3)
    }
}

/// `pumphouse run --config CFG --data DATA` plus `extra` arguments; panics on failure.
pub fn run(bin: &Path, cfg: &Path, data: &Path, extra: &[&str]) -> Run {
    let t = std::time::Instant::now();
    let o = Command::new(bin)
        .args([
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ])
        .args(extra)
        .output()
        .unwrap();
    let wall = t.elapsed().as_secs_f64();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut pipes = vec![];
    let mut peak_mb = f64::NAN;
    for line in out.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() == 5 && f[1].parse::<u64>().is_ok() {
            pipes.push((
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[4].parse().unwrap(),
            ));
        }
        if let Some(p) = line.split("peak memory ").nth(1) {
            peak_mb = p.trim_end_matches(" MB").parse().unwrap_or(f64::NAN);
        }
    }
    Run {
        pipes,
        peak_mb,
        wall,
    }
}

/// The size of a folder in MB, by `du -sm` ("?" if it cannot be read).
pub fn du_mb(dir: &Path) -> String {
    Command::new("du")
        .args(["-sm", dir.to_str().unwrap()])
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "?".into())
}
