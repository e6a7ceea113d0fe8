//! Benchmark: stream a large dataset through `GET /api/datasets/{id}/entities` of the release
//! `pumphouse serve` over loopback HTTP. Reports MB/s, entities/s and the server's resident
//! memory before and during the stream, for several sizes so growth with dataset size shows.
//! Run: `cargo bench -p pumphouse --bench serve_stream` (`STREAM_SIZES=250000,1000000`).
//! After the reqwest rounds, `curl` (if installed) fetches the same URL once, for comparison.

mod entities;
mod serve_common;

use std::io::Read;
use std::time::Instant;

use pumphouse_store::Store;
use serve_common::Serve;

fn entity(i: usize) -> pumphouse_value::Value {
    pumphouse_value::transit::from_str(&entities::entity(i, 0)).unwrap()
}

fn fill(data: &std::path::Path, n: usize) {
    let store = Store::open(&data.join("store")).unwrap();
    let mut w = store.writer("contacts", "bench", false).unwrap();
    let mut i = 0;
    while i < n {
        let end = (i + 10_000).min(n);
        w.write((i..end).map(entity).collect()).unwrap();
        w.commit_data().unwrap();
        i = end;
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("STREAM_SIZES")
        .unwrap_or_else(|_| "250000,1000000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    println!("| entities | client | bytes | seconds | MB/s | entities/s | server RSS before (MiB) | server peak RSS (MiB) |");
    println!("|---|---|---|---|---|---|---|---|");
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        fill(dir.path(), n);
        let serve = Serve::start(dir.path(), &[]);
        let client = reqwest::blocking::Client::builder()
            .timeout(None)
            .build()
            .unwrap();
        for round in 0..3 {
            let (before, _) = serve.rss_mib();
            let t = Instant::now();
            let mut resp = client
                .get(format!("{}/datasets/contacts/entities", serve.base))
                .header("Authorization", "Bearer x.y.z")
                .send()
                .unwrap();
            assert!(resp.status().is_success());
            let mut buf = vec![0u8; 1 << 16];
            let (mut bytes, mut peak) = (0usize, 0f64);
            let mut last_newlines = 0usize;
            loop {
                let k = resp.read(&mut buf).unwrap();
                if k == 0 {
                    break;
                }
                last_newlines += buf[..k].iter().filter(|&&b| b == b'\n').count();
                bytes += k;
                if bytes % (64 << 20) < k {
                    peak = peak.max(serve.rss_mib().0);
                }
            }
            let secs = t.elapsed().as_secs_f64();
            peak = peak.max(serve.rss_mib().0);
            assert_eq!(last_newlines, n + 2, "every entity arrived");
            if round > 0 {
                println!(
                    "| {n} | reqwest | {bytes} | {secs:.2} | {:.0} | {:.0} | {before:.0} | {peak:.0} |",
                    bytes as f64 / secs / 1e6,
                    n as f64 / secs
                );
            }
        }
        curl(&serve, n);
        serve.stop();
    }
}

/// `curl -o /dev/null` of the same URL: what a client that only receives bytes sees.
fn curl(serve: &Serve, n: usize) {
    let (before, _) = serve.rss_mib();
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download} %{time_total}",
        ])
        .args(["-H", "Authorization: Bearer x.y.z"])
        .arg(format!("{}/datasets/contacts/entities", serve.base))
        .output();
    let Some(out) = out.ok().filter(|o| o.status.success()) else {
        println!("| {n} | curl: not available | | | | | | |");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut it = text.split_whitespace();
    let bytes: f64 = it.next().and_then(|b| b.parse().ok()).unwrap_or(0.0);
    let secs: f64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
    let peak = serve.rss_mib().0;
    println!(
        "| {n} | curl | {bytes:.0} | {secs:.2} | {:.0} | {:.0} | {before:.0} | {peak:.0} (after) |",
        bytes / secs / 1e6,
        n as f64 / secs
    );
}
