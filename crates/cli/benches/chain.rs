//! Benchmark of the engine's main path, driving the release binary like a user:
//! embedded (N entities of ~500 bytes) → DTL copy+add → dataset → DTL → dataset.
//! Measures the full run per pipe, then a rerun after 1% of the input changed (the
//! downstream pipe runs incrementally), and the peak memory of each run, for two sizes so
//! growth with dataset size shows. Run: `cargo bench -p pumphouse --bench chain`
//! (`CHAIN_N=1000000` by default; `CHAIN_SIZES=250000,1000000` to compare sizes).

mod entities;

use entities::entity;
use std::path::Path;
use std::process::Command;

fn write_project(dir: &Path, n: usize, changed_every: Option<usize>) {
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
    std::fs::write(
        dir.join("pipes/enriched.conf.json"),
        r#"{"_id": "enriched", "type": "pipe", "source": {"type": "dataset", "dataset": "contacts"},
  "transform": {"type": "dtl", "rules": {"default": [
    ["copy", "_id"],
    ["add", "name", ["concat", "_S.firstname", " ", "_S.lastname"]],
    ["add", "email", ["lower", "_S.email"]],
    ["add", "city", "_S.address.city"],
    ["add", "tags", "_S.tags"],
    ["add", "score", "_S.score"]
  ]}}}"#,
    )
    .unwrap();
}

struct Run {
    pipes: Vec<(String, u64, u64, f64)>,
    peak_mb: f64,
    wall: f64,
}

fn run(bin: &Path, cfg: &Path, data: &Path) -> Run {
    let t = std::time::Instant::now();
    let o = Command::new(bin)
        .args([
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ])
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
    let mut peak_mb = 0.0;
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
            peak_mb = p.trim_end_matches(" MB").parse().unwrap_or(0.0);
        }
    }
    Run {
        pipes,
        peak_mb,
        wall,
    }
}

fn main() {
    let bin = Path::new(env!("CARGO_BIN_EXE_pumphouse"));
    let sizes: Vec<usize> = std::env::var("CHAIN_SIZES")
        .or_else(|_| std::env::var("CHAIN_N"))
        .unwrap_or_else(|_| "1000000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-chain");
    for n in sizes {
        let _ = std::fs::remove_dir_all(&root);
        let cfg = root.join("project");
        let data = root.join("data");
        write_project(&cfg, n, None);
        let bytes = std::fs::metadata(cfg.join("pipes/contacts.conf.json"))
            .unwrap()
            .len();
        println!(
            "## N = {n} entities ({:.0} bytes each in the config)",
            bytes as f64 / n as f64
        );
        let full = run(bin, &cfg, &data);
        println!(
            "full run: wall {:.2}s, peak memory {:.0} MB",
            full.wall, full.peak_mb
        );
        for (p, processed, changed, secs) in &full.pipes {
            println!("  {p:<10} processed {processed:>8} changed {changed:>8} in {secs:>7.3}s = {:>8.0} entities/s", *processed as f64 / secs);
        }
        write_project(&cfg, n, Some(100));
        let inc = run(bin, &cfg, &data);
        println!(
            "rerun after 1% changed: wall {:.2}s, peak memory {:.0} MB",
            inc.wall, inc.peak_mb
        );
        for (p, processed, changed, secs) in &inc.pipes {
            println!("  {p:<10} processed {processed:>8} changed {changed:>8} in {secs:>7.3}s");
        }
        let f = full
            .pipes
            .iter()
            .find(|p| p.0 == "enriched")
            .map(|p| p.3)
            .unwrap_or(f64::NAN);
        let i = inc
            .pipes
            .iter()
            .find(|p| p.0 == "enriched")
            .map(|p| p.3)
            .unwrap_or(f64::NAN);
        println!("downstream incremental / full = {:.2}%", 100.0 * i / f);
        let du = Command::new("du")
            .args(["-sm", data.to_str().unwrap()])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        println!(
            "store size: {} MB",
            du.split_whitespace().next().unwrap_or("?")
        );
    }
}
