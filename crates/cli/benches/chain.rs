//! Benchmark of the engine's main path, driving the release binary like a user:
//! embedded (N entities of ~500 bytes) → DTL copy+add → dataset → DTL → dataset.
//! Measures the full run per pipe, then a rerun after 1% of the input changed (the
//! downstream pipe runs incrementally), and the peak memory of each run, for two sizes so
//! growth with dataset size shows. Run: `cargo bench -p pumphouse --bench chain`
//! (`CHAIN_N=1000000` by default; `CHAIN_SIZES=250000,1000000` to compare sizes).

mod binrun;
mod entities;

use binrun::{du_mb, run, write_contacts};
use std::path::Path;

fn write_project(dir: &Path, n: usize, changed_every: Option<usize>) {
    write_contacts(dir, n, changed_every);
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
        let full = run(bin, &cfg, &data, &[]);
        println!(
            "full run: wall {:.2}s, peak memory {:.0} MB",
            full.wall, full.peak_mb
        );
        for (p, processed, changed, secs) in &full.pipes {
            println!("  {p:<10} processed {processed:>8} changed {changed:>8} in {secs:>7.3}s = {:>8.0} entities/s", *processed as f64 / secs);
        }
        write_project(&cfg, n, Some(100));
        let inc = run(bin, &cfg, &data, &[]);
        println!(
            "rerun after 1% changed: wall {:.2}s, peak memory {:.0} MB",
            inc.wall, inc.peak_mb
        );
        for (p, processed, changed, secs) in &inc.pipes {
            println!("  {p:<10} processed {processed:>8} changed {changed:>8} in {secs:>7.3}s");
        }
        let (f, i) = (full.secs("enriched"), inc.secs("enriched"));
        println!("downstream incremental / full = {:.2}%", 100.0 * i / f);
        println!("store size: {} MB", du_mb(&data));
    }
}
