//! Completeness (sesam-spec 2.6) as a user sees it: what a dataset source with
//! `completeness` emits, what `initial_completeness` waits for, what the sink datasets
//! inherit, and what the DTL function `completeness` returns.

mod common;

use std::sync::Arc;

use pumphouse_runtime::run_pipe;
use pumphouse_store::{Completeness, Store};
use pumphouse_value::Value;
use serde_json::json;

struct Env {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    project: pumphouse_core::Project,
}

fn setup(config: serde_json::Value) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let project = common::load(dir.path(), config);
    let store = Arc::new(Store::open(&dir.path().join("data")).unwrap());
    Env {
        _dir: dir,
        store,
        project,
    }
}

impl Env {
    fn run(&self, pipe: &str) -> pumphouse_runtime::runner::RunStats {
        run_pipe(&self.store, self.project.pipe(pipe).unwrap(), &|_, _| {}).unwrap()
    }
    fn ids(&self, dataset: &str) -> Vec<String> {
        common::live_ids(&self.store, dataset)
    }
    /// Writes entities into `dataset` outside any pipe, as another writer would (no
    /// completeness update).
    fn write(&self, dataset: &str, ids: &[&str]) {
        let es = ids
            .iter()
            .map(|id| json!({"_id": id, "late": true}))
            .collect();
        common::write(&self.store, dataset, es);
    }
    fn own(&self, dataset: &str) -> Option<i64> {
        self.store
            .completeness(dataset)
            .unwrap()
            .and_then(|c| c.own)
    }
}

fn embedded(id: &str, ids: &[&str]) -> serde_json::Value {
    let es: Vec<_> = ids.iter().map(|i| json!({"_id": i})).collect();
    json!({"_id": id, "type": "pipe", "source": {"type": "embedded", "entities": es}})
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

#[test]
fn a_completeness_source_holds_back_entities_written_after_its_datasets_completeness() {
    let env = setup(json!([
        embedded("a", &["1", "2"]),
        {"_id": "b", "type": "pipe", "source": {"type": "dataset", "dataset": "a", "completeness": true}}
    ]));
    let before = now_us();
    env.run("a");
    let ca = env
        .own("a")
        .expect("an inbound pipe's sink gets a completeness");
    assert!(ca >= before && ca <= now_us(), "the time of the run");

    // Written after a's completeness: held back until a's completeness moves past it.
    env.write("a", &["3"]);
    let s = env.run("b");
    assert_eq!(s.processed, 2);
    assert_eq!(env.ids("b"), ["1", "2"]);
    assert_eq!(
        s.last_seen,
        Value::Int(1),
        "last-seen stops in front of the held-back entity"
    );
    assert_eq!(env.own("b"), Some(ca), "b inherits a's completeness");

    env.store
        .set_completeness(
            "a",
            &Completeness {
                own: Some(now_us()),
                ..Default::default()
            },
        )
        .unwrap();
    let s = env.run("b");
    assert_eq!(s.processed, 1);
    assert_eq!(env.ids("b"), ["1", "2", "3"]);
}

#[test]
fn a_dataset_without_completeness_emits_nothing_to_a_completeness_source() {
    let env = setup(json!([
        embedded("a", &["1"]),
        {"_id": "b", "type": "pipe", "source": {"type": "dataset", "dataset": "a", "completeness": true}}
    ]));
    env.write("a", &["1", "2"]);
    let s = env.run("b");
    assert_eq!(s.processed, 0, "nothing is known to be complete");
    assert_eq!(s.last_seen, Value::Null);
}

#[test]
fn initial_completeness_waits_without_touching_the_sink() {
    let env = setup(json!([
        embedded("a", &["1"]),
        embedded("c", &["x"]),
        {"_id": "b", "type": "pipe",
         "source": {"type": "dataset", "dataset": "c", "initial_completeness": ["a"]}}
    ]));
    env.run("c");
    let s = env.run("b");
    assert!(s.waiting.as_deref().unwrap().contains("\"a\""), "{s:?}");
    assert_eq!(s.processed, 0);
    assert!(
        env.store.dataset_info("b").unwrap().is_none(),
        "the sink was not opened"
    );

    env.run("a");
    let s = env.run("b");
    assert_eq!(s.waiting, None);
    assert_eq!(env.ids("b"), ["x"]);
}

#[test]
fn an_expression_sets_the_limit_and_a_non_datetime_means_1970() {
    let env = setup(json!([
        embedded("a", &["1"]),
        {"_id": "week", "type": "pipe", "source": {"type": "dataset", "dataset": "a",
            "completeness": {"expression": ["datetime-plus", "day", -7, ["now"]]}}},
        {"_id": "soon", "type": "pipe", "source": {"type": "dataset", "dataset": "a",
            "completeness": {"expression": ["datetime-plus", "day", 1, ["now"]]}}},
        {"_id": "bad", "type": "pipe", "source": {"type": "dataset", "dataset": "a",
            "completeness": {"expression": "not a datetime"}}}
    ]));
    env.run("a");
    assert_eq!(
        env.run("week").processed,
        0,
        "written less than seven days ago"
    );
    assert_eq!(env.run("soon").processed, 1);
    assert_eq!(env.run("bad").processed, 0);
}

#[test]
fn sinks_inherit_the_smallest_input_completeness_and_dtl_reads_it_through_a_dataset() {
    let env = setup(json!([
        embedded("a", &["1"]),
        embedded("x", &["1"]),
        {"_id": "b", "type": "pipe", "source": {"type": "dataset", "dataset": "a"},
         "transform": {"type": "dtl", "rules": {"default": [
            ["copy", "*"],
            ["add", "x", ["hops", {"datasets": ["x x"], "where": [["eq", "_S._id", "x._id"]]}]]
         ]}}},
        {"_id": "c", "type": "pipe", "source": {"type": "dataset", "dataset": "b"},
         "transform": {"type": "dtl", "rules": {"default": [
            ["copy", "_id"],
            ["add", "a_via_b", ["completeness", "b", "a"]],
            ["add", "b_itself", ["completeness", "b", "b"]],
            ["add", "c_via_a", ["completeness", "a", "c"]],
            ["add", "missing", ["completeness", "nope", "a"]]
         ]}}},
        {"_id": "d", "type": "pipe", "exclude_completeness": ["a"],
         "source": {"type": "dataset", "dataset": "a"}}
    ]));
    env.run("a");
    env.run("x");
    let (ca, cx) = (env.own("a").unwrap(), env.own("x").unwrap());
    assert!(ca < cx);
    env.run("b");
    assert_eq!(
        env.own("b"),
        Some(ca),
        "the smaller of a (source) and x (joined)"
    );
    let rec = env.store.completeness("b").unwrap().unwrap();
    assert_eq!(rec.of("b", "a"), Some(ca));
    assert_eq!(rec.of("b", "x"), Some(cx));

    env.run("c");
    let e = env.store.get("c", "1").unwrap().unwrap();
    let dt = |us: i64| pumphouse_runtime::completeness::to_datetime(us);
    assert_eq!(e.get("a_via_b"), Some(&dt(ca)));
    assert_eq!(e.get("b_itself"), Some(&dt(ca)));
    assert_eq!(e.get("c_via_a"), Some(&Value::Null), "a has no record of c");
    assert_eq!(e.get("missing"), Some(&Value::Null));
    let rec = env.store.completeness("c").unwrap().unwrap();
    assert_eq!(rec.of("c", "a"), Some(ca), "upstream records travel down");

    let before = now_us();
    env.run("d");
    assert!(
        env.own("d").unwrap() >= before,
        "every input excluded: a new value"
    );
}

#[test]
fn bad_completeness_settings_are_config_errors_with_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let text = common::load_errors(
        dir.path(),
        json!([
            embedded("a", &["1"]),
            {"_id": "b", "type": "pipe", "source": {"type": "dataset", "dataset": "a", "completeness": "yes"}},
            {"_id": "c", "type": "pipe", "source": {"type": "dataset", "dataset": "a",
                "completeness": {"expression": ["datetime-pluss", "day", 1, ["now"]]}}},
            {"_id": "d", "type": "pipe", "include_completeness": "a", "source": {"type": "dataset", "dataset": "a",
                "initial_completeness": ["a", 3]}}
        ]),
    );
    for needle in [
        "$.source.completeness",
        "$.source.completeness.expression",
        "datetime-plus",
        "$.include_completeness",
        "$.source.initial_completeness[1]",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
}
