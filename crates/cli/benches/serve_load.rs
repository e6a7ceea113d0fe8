//! Load test of `pumphouse serve` on loopback: 100 pipes on 1 s intervals (50 embedded
//! sources, 50 dataset → DTL → dataset) while 50 client threads read the API for LOAD_SECS
//! seconds (default 60). Reports API latency (p50, p99, max), requests, pipe runs and failed
//! runs (from /api/metrics), and the server's resident memory every 5 s.
//! Bounded: fixed duration, loopback only. Run: `cargo bench -p pumphouse --bench serve_load`.

mod serve_common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serve_common::Serve;

fn project(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("pipes")).unwrap();
    for i in 0..50 {
        let ents: Vec<String> = (0..20)
            .map(|k| format!(r#"{{"_id": "e{k}", "n": {k}, "pipe": {i}}}"#))
            .collect();
        std::fs::write(
            dir.join(format!("pipes/src-{i}.conf.json")),
            format!(r#"{{"_id": "src-{i}", "type": "pipe", "pump": {{"schedule_interval": 1}}, "source": {{"type": "embedded", "entities": [{}]}}}}"#, ents.join(",")),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("pipes/dst-{i}.conf.json")),
            format!(
                r#"{{"_id": "dst-{i}", "type": "pipe", "pump": {{"schedule_interval": 1}}, "source": {{"type": "dataset", "dataset": "src-{i}"}},
                   "transform": {{"type": "dtl", "rules": {{"default": [["copy", "*"], ["add", "double", ["*", "_S.n", 2]]]}}}}}}"#
            ),
        )
        .unwrap();
    }
}

fn main() {
    let secs: u64 = std::env::var("LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let readers: usize = std::env::var("LOAD_READERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    project(&dir.path().join("project"));
    let serve = Arc::new(Serve::start(
        &dir.path().join("data"),
        &["--config", dir.path().join("project").to_str().unwrap()],
    ));
    // Warm-up: until every pipe has run once (all 100 datasets exist), so the readers measure
    // a node in steady state rather than 404s for datasets not created yet.
    let warm = Instant::now();
    let c = reqwest::blocking::Client::new();
    loop {
        let n = c
            .get(format!("{}/datasets", serve.base))
            .send()
            .unwrap()
            .json::<serde_json::Value>()
            .unwrap();
        if n.as_array().map_or(0, |a| a.len()) >= 100 {
            break;
        }
        assert!(
            warm.elapsed() < Duration::from_secs(300),
            "pipes did not all run within 300 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "warm-up (every pipe ran once): {:.1} s",
        warm.elapsed().as_secs_f64()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let lat: Arc<Mutex<Vec<u32>>> = Arc::default();
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut threads = vec![];
    for t in 0..readers {
        let (serve, stop, lat, errors) = (serve.clone(), stop.clone(), lat.clone(), errors.clone());
        threads.push(std::thread::spawn(move || {
            let c = reqwest::blocking::Client::new();
            let mut mine = Vec::new();
            let mut k = t;
            while !stop.load(Ordering::Relaxed) {
                let i = k % 50;
                let path = match k % 5 {
                    0 => "/pipes".to_string(),
                    1 => format!("/pipes/dst-{i}/pump"),
                    2 => format!("/datasets/dst-{i}/entities?limit=100"),
                    3 => format!("/pipes/src-{i}"),
                    _ => "/status".to_string(),
                };
                k += 1;
                let t0 = Instant::now();
                match c
                    .get(format!("{}{path}", serve.base))
                    .header("Authorization", "Bearer x.y.z")
                    .send()
                    .and_then(|r| r.error_for_status()?.bytes())
                {
                    Ok(_) => mine.push(t0.elapsed().as_micros() as u32),
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("error on {path}: {e}");
                        }
                    }
                }
            }
            lat.lock().unwrap().extend(mine);
        }));
    }
    let started = Instant::now();
    let mut rss = vec![];
    while started.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(
            Duration::from_secs(5).min(Duration::from_secs(secs).saturating_sub(started.elapsed())),
        );
        rss.push((started.elapsed().as_secs(), serve.rss_mib().0));
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let metrics = reqwest::blocking::get(format!("{}/metrics", serve.base))
        .unwrap()
        .text()
        .unwrap();
    let sum = |name: &str| -> f64 {
        metrics
            .lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let mut l = lat.lock().unwrap().clone();
    l.sort_unstable();
    let pct = |p: f64| {
        l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    println!("duration {secs} s, {readers} readers, 100 pipes on 1 s intervals");
    println!(
        "requests {} ({:.0}/s), errors {}, latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        l.len(),
        l.len() as f64 / secs as f64,
        errors.load(Ordering::Relaxed),
        pct(0.50),
        pct(0.99),
        l.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    println!(
        "pipe runs {}, failed runs {}",
        sum("sesam_pump_runs_total"),
        sum("sesam_pump_failures_total")
    );
    println!(
        "server RSS (MiB) every 5 s: {}",
        rss.iter()
            .map(|(t, m)| format!("{t}s={m:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    match Arc::try_unwrap(serve) {
        Ok(s) => s.stop(),
        Err(_) => panic!("serve still shared"),
    }
}
