//! Source options a user relies on to keep data right (sesam-spec 2.3, 2.4, 5.3):
//! `include_replaced: false`, `require_populated_input`, `if_source_empty: "fail"`, and
//! `subset`.

mod common;

use std::sync::Arc;

use common::{live_ids, load, load_errors, write};
use pumphouse_runtime::run_pipe;
use pumphouse_store::{PipeState, Store};
use serde_json::json;

#[test]
fn include_replaced_false_leaves_out_replaced_entities_even_a_whole_page_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let project = load(
        dir.path(),
        json!([
            {"_id": "merged", "type": "pipe", "source": {"type": "embedded", "entities": []}},
            {"_id": "out", "type": "pipe", "source": {"type": "dataset", "dataset": "merged", "include_replaced": false}},
            {"_id": "all", "type": "pipe", "source": {"type": "dataset", "dataset": "merged"}},
            // Its DTL reads no property, so the source decodes only what it needs itself.
            {"_id": "out_dtl", "type": "pipe", "source": {"type": "dataset", "dataset": "merged", "include_replaced": false},
             "transform": {"type": "dtl", "rules": {"default": [["copy", "_id"]]}}}
        ]),
    );
    let store = Arc::new(Store::open(&dir.path().join("data")).unwrap());
    // More replaced entities than the source reads in one page, then one that is kept.
    let mut es: Vec<_> = (0..2500)
        .map(|i| json!({"_id": format!("r{i:04}"), "$replaced": true}))
        .collect();
    es.push(json!({"_id": "kept", "$replaced": false}));
    es.extend((0..10).map(|i| json!({"_id": format!("t{i}"), "$replaced": true})));
    write(&store, "merged", es);

    let s = run_pipe(&store, project.pipe("out").unwrap(), &|_, _| {}).unwrap();
    let out = live_ids(&store, "out");
    assert!(
        out == ["kept"],
        "{} entities: {:?}…",
        out.len(),
        &out[..out.len().min(3)]
    );
    assert_eq!(
        s.last_seen,
        pumphouse_value::Value::Int(2510),
        "last-seen moves past the entities left out at the end, so they are not read again"
    );
    let again = run_pipe(&store, project.pipe("out").unwrap(), &|_, _| {}).unwrap();
    assert_eq!(again.processed, 0);
    run_pipe(&store, project.pipe("all").unwrap(), &|_, _| {}).unwrap();
    assert_eq!(
        live_ids(&store, "all").len(),
        2511,
        "the default includes them"
    );
    run_pipe(&store, project.pipe("out_dtl").unwrap(), &|_, _| {}).unwrap();
    assert_eq!(live_ids(&store, "out_dtl"), ["kept"]);
}

#[test]
fn require_populated_input_waits_for_a_populated_source_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let project = load(
        dir.path(),
        json!([
            {"_id": "in", "type": "pipe", "source": {"type": "embedded", "entities": [{"_id": "1"}]}},
            {"_id": "out", "type": "pipe", "source": {"type": "dataset", "dataset": "in", "require_populated_input": true}}
        ]),
    );
    let store = Arc::new(Store::open(&dir.path().join("data")).unwrap());
    write(&store, "in", vec![json!({"_id": "early"})]);
    let s = run_pipe(&store, project.pipe("out").unwrap(), &|_, _| {}).unwrap();
    assert!(
        s.waiting.as_deref().unwrap().contains("not populated"),
        "{s:?}"
    );
    assert!(store.dataset_info("out").unwrap().is_none());

    run_pipe(&store, project.pipe("in").unwrap(), &|_, _| {}).unwrap();
    assert!(store.is_populated("in").unwrap());
    let s = run_pipe(&store, project.pipe("out").unwrap(), &|_, _| {}).unwrap();
    assert_eq!(s.waiting, None);
    assert_eq!(live_ids(&store, "out"), ["1"]);
}

#[test]
fn if_source_empty_fail_keeps_the_sink_when_a_full_run_reads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("data")).unwrap());
    let pipe = |entities: serde_json::Value, mode: &str| {
        json!([{"_id": "p", "type": "pipe",
            "source": {"type": "embedded", "entities": entities, "if_source_empty": mode}}])
    };
    let full = load(
        dir.path(),
        pipe(json!([{"_id": "1"}, {"_id": "2"}]), "fail"),
    );
    run_pipe(&store, full.pipe("p").unwrap(), &|_, _| {}).unwrap();

    let empty = load(dir.path(), pipe(json!([]), "fail"));
    let err = run_pipe(&store, empty.pipe("p").unwrap(), &|_, _| {}).unwrap_err();
    assert!(err.message.contains("if_source_empty"), "{err}");
    assert_eq!(live_ids(&store, "p"), ["1", "2"], "nothing was deleted");

    let accept = load(dir.path(), pipe(json!([]), "accept"));
    run_pipe(&store, accept.pipe("p").unwrap(), &|_, _| {}).unwrap();
    assert_eq!(
        live_ids(&store, "p"),
        Vec::<String>::new(),
        "accept: an empty full run deletes"
    );
}

#[test]
fn bad_if_source_empty_and_bad_subsets_are_errors_with_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let errs = load_errors(
        dir.path(),
        json!([
            {"_id": "p", "type": "pipe", "source": {"type": "embedded", "entities": [], "if_source_empty": "never"}},
            {"_id": "q", "type": "pipe", "source": {"type": "dataset", "dataset": "p", "subset": ["eq", "_S.kind", ["ni", "x", "y"]]}},
            {"_id": "r", "type": "pipe", "source": {"type": "dataset", "dataset": "p", "subset": "kind"}},
            {"_id": "s", "type": "pipe", "source": {"type": "dataset", "dataset": "p", "subset": ["eq", ["lowr", "_S.kind"], "a"]}}
        ]),
    );
    for needle in [
        "$.source.if_source_empty",
        "$.source.subset[2]",
        "must be a literal",
        "subset must be [",
        "$.source.subset[1]",
        "lower",
    ] {
        assert!(errs.contains(needle), "{needle}: {errs}");
    }
}

/// A subset reads like a dataset of its own: entities that leave it come out deleted, ones
/// that never were in it do not come out at all, lists match any element, and a full run
/// gives the same result as the incremental one.
#[test]
fn a_subset_is_read_like_a_dataset_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let project = load(
        dir.path(),
        json!([
            {"_id": "in", "type": "pipe", "source": {"type": "embedded", "entities": []}},
            {"_id": "tanks", "type": "pipe", "source": {"type": "dataset", "dataset": "in", "subset": ["eq", "_S.kind", "tank"]}},
            {"_id": "typed", "type": "pipe", "source": {"type": "dataset", "dataset": "in", "subset": ["eq", "_S.ref", "~:x:1"]}}
        ]),
    );
    let store = Arc::new(Store::open(&dir.path().join("data")).unwrap());
    write(
        &store,
        "in",
        vec![
            json!({"_id": "1", "kind": "tank"}),
            json!({"_id": "2", "kind": "pump"}),
            json!({"_id": "3", "kind": ["valve", "tank"], "ref": "~:x:1"}),
            json!({"_id": "5", "kind": "tank"}),
        ],
    );
    let tanks = project.pipe("tanks").unwrap();
    run_pipe(&store, tanks, &|_, _| {}).unwrap();
    assert_eq!(live_ids(&store, "tanks"), ["1", "3", "5"]);
    run_pipe(&store, project.pipe("typed").unwrap(), &|_, _| {}).unwrap();
    assert_eq!(
        live_ids(&store, "typed"),
        ["3"],
        "a transit literal matches the typed value"
    );

    // 1 leaves (twice changed: the version the sink saw was a tank), 2 changes outside, 3 is
    // deleted, 4 is new, 5 stays.
    write(&store, "in", vec![json!({"_id": "1", "kind": "pipe"})]);
    write(
        &store,
        "in",
        vec![
            json!({"_id": "1", "kind": "hose"}),
            json!({"_id": "2", "kind": "valve"}),
            json!({"_id": "3", "kind": ["valve", "tank"], "ref": "~:x:1", "_deleted": true}),
            json!({"_id": "4", "kind": "tank"}),
        ],
    );
    let s = run_pipe(&store, tanks, &|_, _| {}).unwrap();
    assert!(!s.full);
    assert_eq!(live_ids(&store, "tanks"), ["4", "5"]);
    for id in ["1", "3"] {
        let e = store.get("tanks", id).unwrap().unwrap();
        assert_eq!(
            e.get("_deleted"),
            Some(&pumphouse_value::Value::Bool(true)),
            "{id}"
        );
    }
    assert!(
        store.get("tanks", "2").unwrap().is_none(),
        "never in the subset"
    );

    store
        .set_pipe_state("tanks", &PipeState::default())
        .unwrap();
    let s = run_pipe(&store, tanks, &|_, _| {}).unwrap();
    assert!(s.full);
    assert_eq!(live_ids(&store, "tanks"), ["4", "5"]);
    assert!(store.get("tanks", "2").unwrap().is_none());
}

/// The node metadata's `global_defaults` set both for every source; a source's own value wins.
#[test]
fn global_defaults_set_require_populated_input_and_if_source_empty() {
    let dir = tempfile::tempdir().unwrap();
    let project = load(
        dir.path(),
        json!([
            {"_id": "node", "type": "metadata",
             "global_defaults": {"if_source_empty": "fail", "require_populated_input": true}},
            {"_id": "empty", "type": "pipe", "source": {"type": "embedded", "entities": []}},
            {"_id": "empty-ok", "type": "pipe", "source": {"type": "embedded", "entities": [], "if_source_empty": "accept"}},
            {"_id": "down", "type": "pipe", "source": {"type": "dataset", "dataset": "empty-ok"}},
            {"_id": "down-anyway", "type": "pipe", "source": {"type": "dataset", "dataset": "empty-ok", "require_populated_input": false}}
        ]),
    );
    let store = Arc::new(Store::open(&dir.path().join("data")).unwrap());
    let run = |id: &str| run_pipe(&store, project.pipe(id).unwrap(), &|_, _| {});
    assert!(run("empty")
        .unwrap_err()
        .message
        .contains("if_source_empty"));
    write(&store, "empty-ok", vec![json!({"_id": "x"})]);
    assert!(run("down").unwrap().waiting.is_some(), "not populated yet");
    assert!(run("down-anyway").unwrap().waiting.is_none());
    run("empty-ok").unwrap();
    assert!(store.is_populated("empty-ok").unwrap());
    assert!(run("down").unwrap().waiting.is_none());
}
