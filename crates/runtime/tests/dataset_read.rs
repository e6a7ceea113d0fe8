//! A dataset source reads ahead on a thread of its own and the runner hands its batches to a
//! dataset sink in groups: the output keeps every entity in the source's order, a rerun
//! reads only what is new, and a run that stops early leaves no reader behind holding the
//! store.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::{load, write};
use pumphouse_runtime::{run_pipe, run_pipe_until};
use pumphouse_store::{ReadOptions, Store};
use pumphouse_value::Value;
use serde_json::json;

/// The `_id`s of every version of `dataset`, in offset order.
fn ids_in_order(store: &Store, dataset: &str) -> Vec<String> {
    store
        .read(dataset, ReadOptions::all())
        .unwrap()
        .map(|e| e.unwrap().get("_id").unwrap().as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_dataset_read_over_many_pages_arrives_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let project = load(
        dir.path(),
        json!([
            {"_id": "src", "type": "pipe", "source": {"type": "embedded", "entities": []}},
            // An odd batch size, so batches, pages and groups never line up.
            {"_id": "copy", "type": "pipe", "batch_size": 7,
             "source": {"type": "dataset", "dataset": "src"},
             "transform": {"type": "dtl", "rules": {"default": [["copy", "_id"], ["add", "n", "_S.n"]]}}}
        ]),
    );
    let store = Arc::new(Store::open(&dir.path().join("data")).unwrap());
    // Not in `_id` order, so an output sorted some other way would show.
    let ids: Vec<String> = (0..3500)
        .map(|i| format!("e{}", (i * 7919) % 3500))
        .collect();
    write(
        &store,
        "src",
        ids.iter().map(|id| json!({"_id": id, "n": 1})).collect(),
    );

    let pipe = project.pipe("copy").unwrap();
    let s = run_pipe(&store, pipe, &|_, _| {}).unwrap();
    assert_eq!((s.processed, s.changed), (3500, 3500));
    assert_eq!(s.last_seen, Value::Int(3499));
    assert_eq!(ids_in_order(&store, "copy"), ids);

    // New versions of a few: the rerun reads those alone, in their new order.
    let changed = ["e17", "e3", "e2999"];
    write(
        &store,
        "src",
        changed
            .iter()
            .map(|id| json!({"_id": id, "n": 2}))
            .collect(),
    );
    let s = run_pipe(&store, pipe, &|_, _| {}).unwrap();
    assert_eq!((s.processed, s.changed), (3, 3));
    assert_eq!(s.last_seen, Value::Int(3502));
    let all = ids_in_order(&store, "copy");
    assert_eq!(&all[3500..], changed);
    let e3 = store.get("copy", "e3").unwrap().unwrap();
    assert_eq!(e3.get("n"), Some(&Value::Int(2)));
}

#[test]
fn a_run_stopped_in_the_middle_of_a_dataset_leaves_no_reader_holding_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let project = load(
        dir.path(),
        json!([
            {"_id": "src", "type": "pipe", "source": {"type": "embedded", "entities": []}},
            {"_id": "copy", "type": "pipe", "batch_size": 10, "source": {"type": "dataset", "dataset": "src"}}
        ]),
    );
    let store = Arc::new(Store::open(&dir.path().join("data")).unwrap());
    write(
        &store,
        "src",
        (0..5000).map(|i| json!({"_id": format!("e{i}")})).collect(),
    );
    let pipe = project.pipe("copy").unwrap();
    let err = run_pipe_until(&store, pipe, &|_, _| {}, &AtomicBool::new(true)).unwrap_err();
    assert!(err.stopped, "{err}");
    let written = store.dataset_info("copy").unwrap().unwrap().live_count;
    assert!(
        written > 0 && written < 5000,
        "stopped after its first group: {written} written"
    );
    assert_eq!(
        Arc::strong_count(&store),
        1,
        "the read-ahead thread ended with the run"
    );
    // The next run continues where the stopped one committed.
    let s = run_pipe(&store, pipe, &|_, _| {}).unwrap();
    assert_eq!(s.processed as usize + written as usize, 5000);
    assert_eq!(ids_in_order(&store, "copy").len(), 5000);
}
