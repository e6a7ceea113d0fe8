//! Crash test: a child process (this test binary re-invoked on the ignored entry test
//! `crash_child_entry`) writes batches and commits them with the pipe state; the parent kills
//! it with SIGKILL at random moments, reopens the store and checks that the log, the index,
//! the counters and the pipe state agree exactly. A second scenario kills a full run (and its
//! deletion tracking) repeatedly and checks that the resumed run deletes exactly the unseen ids.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pumphouse_store::{PipeState, ReadOptions, Store, StoreOptions};
use pumphouse_value::{Map, Value};

const CHILD_ENV: &str = "PUMPHOUSE_STORE_CRASH_CHILD";
const APPEND_TOTAL: i64 = 60_000;
const APPEND_IDS: i64 = 3_000;
const FULL_IDS: i64 = 2_000;

fn ent(id: String, fields: &[(&str, i64)]) -> Value {
    let mut m = Map::default();
    m.insert("_id".into(), Value::String(id));
    for (k, v) in fields {
        m.insert((*k).into(), Value::Int(*v));
    }
    m.insert("pad".into(), Value::String("p".repeat(200)));
    Value::Dict(m)
}

fn last_seen(store: &Store, pipe: &str) -> i64 {
    store
        .pipe_state(pipe)
        .unwrap()
        .last_seen
        .as_i64()
        .unwrap_or(0)
}

/// Child: append `APPEND_TOTAL` source entities, each a new version, resuming at last_seen.
fn child_append(dir: &Path) {
    let store = Store::open(dir).unwrap();
    let mut w = store.writer("ds", "src", false).unwrap();
    // As a dataset sink fed by `Sink::write` does (the receiver endpoint); pipe runs stage
    // through `write_encoded`, which the cli's `e2e_crash` kills.
    w.pipeline().unwrap();
    let mut pos = last_seen(&store, "src");
    while pos < APPEND_TOTAL {
        let end = (pos + 1 + (pos * 7919) % 300).min(APPEND_TOTAL);
        w.write(
            (pos..end)
                .map(|i| ent(format!("e{}", i % APPEND_IDS), &[("i", i)]))
                .collect(),
        )
        .unwrap();
        w.commit(&PipeState::new(Value::Int(end))).unwrap();
        pos = end;
    }
}

/// Child: a full run over the even ids (changed content), resumed after a kill, then
/// deletion tracking in small commits.
fn child_full(dir: &Path) {
    let opts = StoreOptions {
        tombstone_batch: 37,
        ..StoreOptions::default()
    };
    let store = Store::open_with(dir, opts).unwrap();
    let st = store.pipe_state("full").unwrap();
    let mut w = store.writer("fds", "full", st.last_seen.is_null()).unwrap();
    if !w.is_full_run() {
        return; // finished earlier
    }
    let mut pos = st.last_seen.as_i64().unwrap_or(0);
    while pos < FULL_IDS {
        let end = (pos + 40).min(FULL_IDS);
        w.write(
            (pos..end)
                .filter(|i| i % 2 == 0)
                .map(|i| ent(format!("f{i:05}"), &[("gen", 1)]))
                .collect(),
        )
        .unwrap();
        w.commit(&PipeState::new(Value::Int(end))).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        pos = end;
    }
    w.finish_full_run(&PipeState::new(Value::Int(FULL_IDS)), true)
        .unwrap();
}

#[test]
#[ignore = "entry point of the crash test's child process"]
fn crash_child_entry() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (mode, dir) = spec.split_once(':').unwrap();
    match mode {
        "append" => child_append(Path::new(dir)),
        "full" => child_full(Path::new(dir)),
        _ => panic!("unknown mode {mode}"),
    }
}

/// Runs the child; kills it after `kill_after` unless it finishes first. True if it finished.
fn run_child(mode: &str, dir: &Path, kill_after: Option<Duration>) -> bool {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_entry",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{mode}:{}", dir.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "child failed: {status}");
            return true;
        }
        if kill_after.is_some_and(|k| start.elapsed() >= k) {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Log and index agree: offsets contiguous from 0, `_previous` chains, `get` returns the last
/// version of every id, counts match. Returns the versions per `_id`.
fn check_consistent(store: &Store, ds: &str) -> HashMap<String, Vec<Value>> {
    let info = store.dataset_info(ds).unwrap().unwrap();
    let mut by_id: HashMap<String, Vec<Value>> = HashMap::new();
    let mut last: HashMap<String, i64> = HashMap::new();
    let mut n = 0i64;
    for v in store.read(ds, ReadOptions::all()).unwrap() {
        let v = v.unwrap();
        assert_eq!(
            v.get("_updated").unwrap().as_i64(),
            Some(n),
            "offsets are contiguous"
        );
        let id = v.get("_id").unwrap().as_str().unwrap().to_owned();
        assert_eq!(
            v.get("_previous").unwrap().as_i64(),
            last.get(&id).copied(),
            "_previous of {n}"
        );
        last.insert(id.clone(), n);
        by_id.entry(id).or_default().push(v);
        n += 1;
    }
    assert_eq!(info.version_count as i64, n);
    assert_eq!(info.last_offset.map(|o| o as i64), n.checked_sub(1));
    let mut live = 0;
    for (id, off) in &last {
        let got = store.get(ds, id).unwrap().unwrap();
        assert_eq!(
            got.get("_updated").unwrap().as_i64(),
            Some(*off),
            "index of {id}"
        );
        live += (got.get("_deleted") != Some(&Value::Bool(true))) as u64;
    }
    assert_eq!(info.live_count, live);
    let latest = store.read(ds, ReadOptions::latest()).unwrap().count();
    assert_eq!(latest, last.len());
    by_id
}

fn rng_ms(state: &mut u64, lo: u64, hi: u64) -> Duration {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    Duration::from_millis(lo + *state % (hi - lo))
}

#[test]
fn kill_during_appends_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 0x2545_F491_4F6C_DD1D ^ std::process::id() as u64;
    let mut kills = 0;
    for _ in 0..8 {
        if run_child("append", dir.path(), Some(rng_ms(&mut seed, 20, 300))) {
            break;
        }
        kills += 1;
        let store = Store::open(dir.path()).unwrap();
        if store.dataset_exists("ds").unwrap() {
            let seen = last_seen(&store, "src");
            let versions = check_consistent(&store, "ds");
            // Every committed source entity is exactly one version, and vice versa.
            let total: usize = versions.values().map(|v| v.len()).sum();
            assert_eq!(
                total as i64, seen,
                "versions = last_seen after kill {kills}"
            );
            for vs in versions.values() {
                for v in vs {
                    let i = v.get("i").unwrap().as_i64().unwrap();
                    assert_eq!(
                        v.get("_updated").unwrap().as_i64(),
                        Some(i),
                        "source entity {i} at its offset"
                    );
                }
            }
        }
    }
    assert!(kills > 0, "the child was never killed");
    assert!(run_child("append", dir.path(), None));
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(last_seen(&store, "src"), APPEND_TOTAL);
    let versions = check_consistent(&store, "ds");
    assert_eq!(
        versions.values().map(|v| v.len()).sum::<usize>() as i64,
        APPEND_TOTAL
    );
    eprintln!("append crash test: {kills} kills");
}

#[test]
fn kill_during_full_run_still_deletes_exactly_the_unseen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let mut w = store.writer("fds", "setup", false).unwrap();
        w.write(
            (0..FULL_IDS)
                .map(|i| ent(format!("f{i:05}"), &[("gen", 0)]))
                .collect(),
        )
        .unwrap();
        w.commit(&PipeState::default()).unwrap();
    }
    let mut seed = 0x9E37_79B9_7F4A_7C15 ^ std::process::id() as u64;
    let (mut kills, mut in_tracking) = (0, 0);
    while kills < 30 {
        if run_child("full", dir.path(), Some(rng_ms(&mut seed, 5, 250))) {
            break;
        }
        kills += 1;
        let store = Store::open(dir.path()).unwrap();
        if last_seen(&store, "full") == FULL_IDS {
            in_tracking += 1;
        }
        for (id, vs) in check_consistent(&store, "fds") {
            let n: i64 = id[1..].parse().unwrap();
            let tombstones = vs
                .iter()
                .filter(|v| v.get("_deleted") == Some(&Value::Bool(true)))
                .count();
            assert!(
                tombstones <= (n % 2) as usize,
                "{id}: {tombstones} tombstones"
            );
        }
    }
    assert!(run_child("full", dir.path(), None));
    let store = Store::open(dir.path()).unwrap();
    let versions = check_consistent(&store, "fds");
    for (id, vs) in &versions {
        let n: i64 = id[1..].parse().unwrap();
        let last = vs.last().unwrap();
        if n % 2 == 0 {
            assert_eq!(vs.len(), 2, "{id}: setup + changed");
            assert_eq!(last.get("_deleted"), Some(&Value::Bool(false)));
            assert_eq!(last.get("gen").unwrap().as_i64(), Some(1));
        } else {
            assert_eq!(vs.len(), 2, "{id}: setup + one tombstone");
            assert_eq!(last.get("_deleted"), Some(&Value::Bool(true)));
            assert_eq!(
                last.get("gen").unwrap().as_i64(),
                Some(0),
                "tombstone copies the properties"
            );
        }
    }
    let info = store.dataset_info("fds").unwrap().unwrap();
    assert_eq!(
        (info.live_count, info.populated),
        (FULL_IDS as u64 / 2, true)
    );
    assert!(!store.writer("fds", "full", false).unwrap().is_full_run());
    assert!(kills > 0, "the child was never killed");
    eprintln!("full-run crash test: {kills} kills, {in_tracking} during deletion tracking");
}
