//! kill -9 at a random moment during a run over 1M entities, then a second run: every dataset
//! and offset must equal those of an uninterrupted run, with no version lost or written twice.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::*;
use pumphouse_store::{ReadOptions, Store};
use pumphouse_value::Value;

const N: usize = 1_000_000;

fn project(dir: &Path) {
    let mut s = String::with_capacity(N * 90);
    s.push_str(r#"{"_id": "source", "type": "pipe", "source": {"type": "embedded", "entities": ["#);
    for i in 0..N {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#"{{"_id":"c{i}","name":"Contact {i}","n":{i},"tags":["a","b{}"]}}"#,
            i % 7
        ));
    }
    s.push_str(r#"]}, "transform": {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "kind", "contact"]]}}}"#);
    write(dir, "pipes/source.conf.json", &s);
    write(
        dir,
        "pipes/derived.conf.json",
        r#"{"_id": "derived", "type": "pipe", "source": {"type": "dataset", "dataset": "source"},
            "transform": {"type": "dtl", "rules": {"default": [["copy", "_id"], ["add", "label", ["concat", "_S.name", "/", "_S.kind"]]]}}}"#,
    );
}

/// (_id, _hash, _deleted, _updated, _previous) of every version, in log order.
fn log(data: &Path, ds: &str) -> Vec<(String, String, bool, i64, Value)> {
    let store = Store::open(data).unwrap();
    let opts = ReadOptions {
        since: None,
        limit: None,
        history: true,
        deleted: true,
    };
    store
        .read(ds, opts)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            (
                s("_id"),
                s("_hash"),
                matches!(e.get("_deleted"), Some(Value::Bool(true))),
                e.get("_updated").and_then(Value::as_i64).unwrap(),
                e.get("_previous").cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

fn last_seen(data: &Path, pipe: &str) -> Value {
    Store::open(data)
        .unwrap()
        .pipe_state(pipe)
        .unwrap()
        .last_seen
}

#[test]
fn kill_9_mid_run_then_rerun_equals_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("project");
    project(&cfg);

    let reference = dir.path().join("reference");
    let t0 = Instant::now();
    let o = run(&cfg, &reference);
    assert!(o.status.success(), "{:?}", text(&o));
    let full = t0.elapsed();

    // A pseudo-random kill moment in (5%, 60%) of the uninterrupted run's time.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let frac = 0.05 + (seed % 1000) as f64 / 1000.0 * 0.55;
    let crashed = dir.path().join("crashed");
    let mut child = Command::new(bin())
        .args([
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--data",
            crashed.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(full.mul_f64(frac));
    let killed = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    eprintln!(
        "killed at {:.0}% of {:.1}s (still running: {killed})",
        frac * 100.0,
        full.as_secs_f64()
    );

    let o = run(&cfg, &crashed);
    assert!(
        o.status.success(),
        "rerun after kill -9 failed: {:?}",
        text(&o)
    );

    for ds in ["source", "derived"] {
        let a = log(&reference, ds);
        let b = log(&crashed, ds);
        assert_eq!(a.len(), N, "{ds}: every entity once in the reference");
        assert_eq!(
            b.len(),
            N,
            "{ds}: a version was lost or written twice after kill -9"
        );
        for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
            assert_eq!(x.3, i as i64, "{ds}: offsets are contiguous");
            assert_eq!(x, y, "{ds}: version {i} differs after kill -9");
        }
    }
    assert_eq!(last_seen(&reference, "derived"), Value::Int(N as i64 - 1));
    assert_eq!(
        last_seen(&crashed, "derived"),
        last_seen(&reference, "derived")
    );
    let store = Store::open(&crashed).unwrap();
    for ds in ["source", "derived"] {
        let info = store.dataset_info(ds).unwrap().unwrap();
        assert_eq!(
            (info.live_count, info.version_count),
            (N as u64, N as u64),
            "{ds}"
        );
        assert!(
            info.populated,
            "{ds} is populated after the completed rerun"
        );
    }
}
