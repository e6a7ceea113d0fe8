//! Circuit breakers (sesam-spec 2.5): a run over the limit trips, its versions stay hidden
//! from readers, the dataset refuses writers, and rollback / commit resolve it — also after
//! the process dies in the middle of a held-back run.

use pumphouse_store::{BreakerConfig, PipeState, ReadOptions, Store, StoreError};
use pumphouse_value::transit::{from_str, to_string};
use pumphouse_value::Value;

fn ent(id: &str, v: i64) -> Value {
    from_str(&format!(r#"{{"_id":"{id}","v":{v}}}"#)).unwrap()
}

fn st(n: i64) -> PipeState {
    PipeState::new(Value::Int(n))
}

/// `(_id, v, _deleted)` of what a reader sees, in log order.
fn view(s: &Store, ds: &str, history: bool, uncommitted: bool) -> Vec<(String, i64, bool)> {
    let opts = ReadOptions {
        history,
        ..ReadOptions::all()
    };
    s.read_view(ds, opts, uncommitted)
        .unwrap()
        .map(|v| {
            let v = v.unwrap();
            let d = v.as_dict().unwrap();
            (
                d["_id"].as_str().unwrap().to_owned(),
                d.get("v").and_then(Value::as_i64).unwrap_or(-1),
                d["_deleted"] == Value::Bool(true),
            )
        })
        .collect()
}

fn count(n: u64) -> Option<BreakerConfig> {
    Some(BreakerConfig {
        factor: None,
        count: Some(n),
    })
}

/// A populated dataset `ds` of ids `e0..e{n}` with `v = 0`, written by pipe `p` (last-seen 1).
fn seed(s: &Store, n: usize) {
    let mut w = s.writer("ds", "p", true).unwrap();
    w.write((0..n).map(|i| ent(&format!("e{i}"), 0)).collect())
        .unwrap();
    w.finish_full_run(&st(1), true).unwrap();
}

/// Opens a breaker run of `p` and commits `changes` new values in commits of `per_commit`,
/// returning the first error.
fn run(
    s: &Store,
    cfg: Option<BreakerConfig>,
    changes: &[(&str, i64)],
    per_commit: usize,
) -> Result<(), StoreError> {
    let mut w = s.writer("ds", "p", false)?;
    w.set_circuit_breaker(cfg)?;
    for (i, chunk) in changes.chunks(per_commit).enumerate() {
        w.write(chunk.iter().map(|(id, v)| ent(id, *v)).collect())?;
        w.commit(&st(10 + i as i64))?;
    }
    w.finish_run(&st(99))?;
    Ok(())
}

fn is_tripped(r: Result<(), StoreError>) -> bool {
    matches!(r, Err(StoreError::CircuitBreakerTripped { .. }))
}

#[test]
fn a_run_under_the_limit_is_visible_once_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    seed(&s, 100);
    let before = view(&s, "ds", true, false);
    let mut w = s.writer("ds", "p", false).unwrap();
    w.set_circuit_breaker(count(10)).unwrap();
    w.write(vec![ent("e1", 1), ent("new", 1)]).unwrap();
    w.commit(&st(2)).unwrap();
    // Committed but held back while the run goes on: readers see the dataset as before.
    assert_eq!(view(&s, "ds", true, false), before);
    assert_eq!(s.get("ds", "new").unwrap(), None);
    assert_eq!(
        to_string(&s.get("ds", "e1").unwrap().unwrap()).contains(r#""v":0"#),
        true
    );
    assert_eq!(view(&s, "ds", true, true).len(), 102);
    w.write(vec![ent("e2", 1)]).unwrap();
    w.finish_run(&st(3)).unwrap();
    drop(w);
    assert!(s.circuit_breaker("ds").unwrap().is_none());
    let latest = view(&s, "ds", false, false);
    assert_eq!(latest.len(), 101);
    assert!(latest.contains(&("e1".into(), 1, false)));
    assert!(latest.contains(&("new".into(), 1, false)));
    assert!(!latest.contains(&("e1".into(), 0, false)));
}

#[test]
fn over_the_limit_it_trips_hides_the_run_and_refuses_writers_until_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    seed(&s, 100);
    let before = view(&s, "ds", true, false);
    let info = s.dataset_info("ds").unwrap().unwrap();
    // 12 changes in commits of 5 against a limit of 10: the third commit trips. Changes
    // include a second version of e3 inside the run and ids that did not exist.
    let changes: Vec<(&str, i64)> = vec![
        ("e1", 1),
        ("e2", 1),
        ("e3", 1),
        ("x1", 1),
        ("x2", 1),
        ("e3", 2),
        ("e4", 1),
        ("e5", 1),
        ("e6", 1),
        ("e7", 1),
        ("e8", 1),
        ("x3", 1),
    ];
    let r = run(&s, count(10), &changes, 5);
    let msg = r.as_ref().unwrap_err().to_string();
    assert!(is_tripped(r), "{msg}");
    assert!(
        msg.contains("12 new versions") && msg.contains("limit of 10"),
        "{msg}"
    );
    assert!(msg.contains("rollback-circuit-breaker"), "{msg}");
    let cb = s.circuit_breaker("ds").unwrap().unwrap();
    assert!(cb.tripped);
    assert_eq!((cb.written, cb.limit), (12, Some(10)));
    // Readers see the dataset as before the run; uncommitted readers see the run.
    assert_eq!(view(&s, "ds", true, false), before);
    assert_eq!(view(&s, "ds", false, false).len(), 100);
    assert_eq!(s.get("ds", "x1").unwrap(), None);
    assert!(s.get_view("ds", "x1", true).unwrap().is_some());
    assert_eq!(view(&s, "ds", true, true).len(), 112);
    // No writer may run: not the pipe, not a receiver.
    assert!(matches!(
        s.writer("ds", "p", false),
        Err(StoreError::CircuitBreakerTripped { .. })
    ));
    assert!(matches!(
        s.writer("ds", "other", true),
        Err(StoreError::CircuitBreakerTripped { .. })
    ));
    // The pipe's state moved with its commits; rollback puts it back.
    assert_eq!(s.pipe_state("p").unwrap().last_seen, Value::Int(12));
    s.rollback_circuit_breaker("ds").unwrap();
    assert!(s.circuit_breaker("ds").unwrap().is_none());
    assert_eq!(s.pipe_state("p").unwrap().last_seen, Value::Int(1));
    assert_eq!(view(&s, "ds", true, true), before);
    assert_eq!(s.dataset_info("ds").unwrap().unwrap(), info);
    assert!(matches!(
        s.rollback_circuit_breaker("ds"),
        Err(StoreError::NotTripped(_))
    ));
    // The rerun sees the same index as before the run: a small run is written normally and
    // the next offsets follow on from the original log.
    run(&s, count(10), &[("e3", 5), ("x1", 5)], 5).unwrap();
    let all = view(&s, "ds", true, false);
    assert_eq!(all.len(), 102);
    assert_eq!(all[100], ("e3".into(), 5, false));
    let e3 = s.get("ds", "e3").unwrap().unwrap();
    assert_eq!(e3.get("_updated"), Some(&Value::Int(100)));
    assert_eq!(e3.get("_previous"), Some(&Value::Int(3)));
    // Unchanged content is still recognised against the restored index.
    let mut w = s.writer("ds", "p", false).unwrap();
    assert_eq!(w.write(vec![ent("e9", 0)]).unwrap().unchanged, 1);
}

#[test]
fn commit_exposes_the_held_back_run_and_keeps_the_pipe_state() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    seed(&s, 10);
    // A factor of 0.5 of 10 ids: 5 versions are allowed, 6 trip.
    let cfg = Some(BreakerConfig {
        factor: Some(0.5),
        count: Some(2),
    });
    let changes: Vec<(&str, i64)> = (0..6)
        .map(|i| (["e0", "e1", "e2", "e3", "e4", "e5"][i], 7))
        .collect();
    assert!(is_tripped(run(&s, cfg, &changes, 3)));
    assert_eq!(
        view(&s, "ds", false, false)
            .iter()
            .filter(|e| e.1 == 7)
            .count(),
        0
    );
    let cb = s.commit_circuit_breaker("ds").unwrap();
    assert_eq!(cb.limit, Some(5));
    assert!(s.circuit_breaker("ds").unwrap().is_none());
    assert_eq!(
        view(&s, "ds", false, false)
            .iter()
            .filter(|e| e.1 == 7)
            .count(),
        6
    );
    assert_eq!(s.pipe_state("p").unwrap().last_seen, Value::Int(11));
    // Five are fine.
    run(
        &s,
        cfg,
        &changes[..5]
            .iter()
            .map(|(id, _)| (*id, 8))
            .collect::<Vec<_>>(),
        5,
    )
    .unwrap();
}

#[test]
fn the_breaker_is_inactive_until_the_dataset_is_populated() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let changes: Vec<(String, i64)> = (0..50).map(|i| (format!("e{i}"), 1)).collect();
    let changes: Vec<(&str, i64)> = changes.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    run(&s, count(3), &changes, 10).unwrap();
    assert_eq!(view(&s, "ds", false, false).len(), 50);
    s.set_populated("ds", true).unwrap();
    let more: Vec<(&str, i64)> = changes.iter().map(|(a, _)| (*a, 2)).collect();
    assert!(is_tripped(run(&s, count(3), &more, 10)));
}

#[test]
fn trip_without_a_configured_breaker_blocks_the_dataset_until_reset() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    seed(&s, 5);
    run(&s, None, &[("e1", 3)], 1).unwrap();
    s.trip_circuit_breaker("ds", "p", "bad input").unwrap();
    let err = s.writer("ds", "p", false).err().unwrap().to_string();
    assert!(
        err.contains("bad input") && err.contains("tripped"),
        "{err}"
    );
    // Nothing was held back, so a rollback removes nothing.
    s.rollback_circuit_breaker("ds").unwrap();
    assert_eq!(view(&s, "ds", true, false).len(), 6);
    assert_eq!(s.pipe_state("p").unwrap().last_seen, Value::Int(99));
    s.writer("ds", "p", false).unwrap();
    // trip! on a dataset that does not exist yet creates it, tripped.
    s.trip_circuit_breaker("fresh", "q", "stop").unwrap();
    assert!(s.writer("fresh", "q", true).is_err());
    s.commit_circuit_breaker("fresh").unwrap();
    s.writer("fresh", "q", true).unwrap();
}

#[test]
fn a_held_back_run_survives_a_crash_and_is_resumed_or_released() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open(dir.path()).unwrap();
        seed(&s, 20);
        let mut w = s.writer("ds", "p", false).unwrap();
        w.set_circuit_breaker(count(4)).unwrap();
        w.write(vec![ent("e1", 1), ent("e2", 1), ent("e3", 1)])
            .unwrap();
        w.commit(&st(5)).unwrap();
        // The process dies here: no finish.
        std::mem::forget(w);
    }
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(view(&s, "ds", true, false).len(), 20);
    let cb = s.circuit_breaker("ds").unwrap().unwrap();
    assert!(!cb.tripped);
    // The next run of the pipe continues the count: 3 + 2 > 4.
    assert!(is_tripped(run(&s, count(4), &[("e4", 1), ("e5", 1)], 2)));
    s.rollback_circuit_breaker("ds").unwrap();
    assert_eq!(view(&s, "ds", true, true).len(), 20);
    assert_eq!(s.pipe_state("p").unwrap().last_seen, Value::Int(1));

    // A held-back run whose pipe lost its breaker is released by the next writer.
    let mut w = s.writer("ds", "p", false).unwrap();
    w.set_circuit_breaker(count(4)).unwrap();
    w.write(vec![ent("e1", 2)]).unwrap();
    w.commit(&st(5)).unwrap();
    drop(w);
    assert_eq!(view(&s, "ds", true, false).len(), 20);
    run(&s, None, &[("e2", 2)], 1).unwrap();
    assert!(s.circuit_breaker("ds").unwrap().is_none());
    assert_eq!(view(&s, "ds", true, false).len(), 22);
}

#[test]
fn rollback_undoes_a_run_larger_than_one_rollback_batch() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    seed(&s, 1000);
    let before = view(&s, "ds", true, false);
    let ids: Vec<String> = (0..25_000).map(|i| format!("e{}", i % 1500)).collect();
    let changes: Vec<(&str, i64)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i as i64 + 1))
        .collect();
    assert!(is_tripped(run(&s, count(20_000), &changes, 5000)));
    assert_eq!(view(&s, "ds", true, true).len(), 26_000);
    s.rollback_circuit_breaker("ds").unwrap();
    assert_eq!(view(&s, "ds", true, true), before);
    for i in [0, 999, 1000, 1499] {
        let got = s.get_view("ds", &format!("e{i}"), true).unwrap();
        assert_eq!(got.is_some(), i < 1000, "e{i}");
    }
}
