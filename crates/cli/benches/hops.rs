//! Benchmark of a join, driving the release binary like a user: N contacts (the chain
//! benchmark's, ~500 bytes each) and 5,000 companies in datasets, then the pipe `hopped`
//! whose DTL adds each contact's company name with `hops` (an `_id` join, with dependency
//! tracking, as Sesam does by default). Reports the `hopped` full run and the peak memory of
//! its process, for each size so growth with the data shows. Run:
//! `cargo bench -p pumphouse --bench hops` (`HOPS_SIZES=250000,1000000`, default 1000000).

mod binrun;
mod entities;

use binrun::{du_mb, run, write_contacts};
use std::fmt::Write as _;
use std::path::Path;

const COMPANIES: usize = 5000;

fn write_project(dir: &Path, n: usize) {
    write_contacts(dir, n, None);
    let mut s = String::from(
        r#"{"_id": "companies", "type": "pipe", "source": {"type": "embedded", "entities": ["#,
    );
    for k in 0..COMPANIES {
        let sep = if k > 0 { ", " } else { "" };
        let _ = write!(
            s,
            r#"{sep}{{"_id": "company-{k}", "name": "Company {k}", "country": "NO"}}"#
        );
    }
    s.push_str("]}}");
    std::fs::write(dir.join("pipes/companies.conf.json"), s).unwrap();
    std::fs::write(
        dir.join("pipes/hopped.conf.json"),
        r#"{"_id": "hopped", "type": "pipe", "source": {"type": "dataset", "dataset": "contacts"},
  "transform": {"type": "dtl", "rules": {"default": [
    ["copy", "_id"],
    ["add", "company_name", ["hops", {"datasets": ["companies c"],
      "where": [["eq", "_S.company", "c._id"]], "return": "c.name"}]]
  ]}}}"#,
    )
    .unwrap();
}

fn main() {
    let bin = Path::new(env!("CARGO_BIN_EXE_pumphouse"));
    let sizes: Vec<usize> = std::env::var("HOPS_SIZES")
        .unwrap_or_else(|_| "1000000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-hops");
    for n in sizes {
        let _ = std::fs::remove_dir_all(&root);
        let cfg = root.join("project");
        let data = root.join("data");
        write_project(&cfg, n);
        let setup = run(
            bin,
            &cfg,
            &data,
            &["--pipe", "contacts", "--pipe", "companies"],
        );
        println!(
            "## N = {n} contacts, {COMPANIES} companies (loaded in {:.2}s)",
            setup.wall
        );
        let hop = run(bin, &cfg, &data, &["--pipe", "hopped"]);
        let secs = hop.secs("hopped");
        println!(
            "hopped full run: {secs:.3}s = {:.0} entities/s, peak memory {:.0} MB",
            n as f64 / secs,
            hop.peak_mb
        );
        println!("store size: {} MB", du_mb(&data));
    }
}
