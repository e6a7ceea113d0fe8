//! A stop request ends a run between batches: what was written is committed, nothing is
//! half-written, and the next run finishes the job.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use pumphouse_runtime::{run_pipe, run_pipe_until};
use pumphouse_store::Store;

#[test]
fn stop_commits_the_written_batches_and_the_next_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.json");
    let entities: Vec<_> = (0..5)
        .map(|i| serde_json::json!({"_id": format!("e{i}")}))
        .collect();
    let config = serde_json::json!([{"_id": "p", "type": "pipe", "batch_size": 2,
        "source": {"type": "embedded", "entities": entities}}]);
    std::fs::write(&cfg, config.to_string()).unwrap();
    let project = pumphouse_core::load(&cfg, &Default::default()).unwrap();
    let store = Arc::new(Store::open(&dir.path().join("data")).unwrap());
    let pipe = project.pipe("p").unwrap();

    let err = run_pipe_until(&store, pipe, &|_, _| {}, &AtomicBool::new(true)).unwrap_err();
    assert!(err.stopped, "{err}");
    let info = store.dataset_info("p").unwrap().unwrap();
    assert_eq!(
        info.live_count, 2,
        "the first batch of 2 is committed whole"
    );

    let stats = run_pipe(&store, pipe, &|_, _| {}).unwrap();
    assert_eq!(stats.processed, 5);
    assert_eq!(store.dataset_info("p").unwrap().unwrap().live_count, 5);
}
