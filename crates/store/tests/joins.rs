//! Join indexes and dependency state: an index follows changes, deletes and a recreated
//! dataset, survives reopening, and the dependency maps and queue behave as the runtime
//! expects.

use std::collections::BTreeSet;

use pumphouse_store::{PipeState, Store};
use pumphouse_value::transit::from_str;
use pumphouse_value::Value;

fn put(s: &Store, ds: &str, ents: &[&str]) {
    let mut w = s.writer(ds, "p", false).unwrap();
    w.write(ents.iter().map(|e| from_str(e).unwrap()).collect())
        .unwrap();
    w.commit(&PipeState::new(Value::Null)).unwrap();
}

/// Index on property `k` (strings, or lists of strings); deleted entities have no keys.
fn keys(e: &Value) -> Vec<Vec<u8>> {
    if matches!(e.get("_deleted"), Some(Value::Bool(true))) {
        return vec![];
    }
    e.get("k")
        .map(|v| {
            v.as_slice()
                .iter()
                .filter_map(|x| x.as_str().map(|s| s.as_bytes().to_vec()))
                .collect()
        })
        .unwrap_or_default()
}

fn look(s: &Store, k: &str) -> Vec<String> {
    s.catch_up_index("d", "d\nk", &keys).unwrap();
    s.index_lookup("d\nk", &[k.as_bytes().to_vec()]).unwrap()
}

#[test]
fn index_follows_changes_deletes_and_recreation() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    put(
        &s,
        "d",
        &[
            r#"{"_id":"a","k":"x"}"#,
            r#"{"_id":"b","k":["x","y"]}"#,
            r#"{"_id":"c","k":null}"#,
        ],
    );
    assert_eq!(look(&s, "x"), ["a", "b"]);
    assert_eq!(look(&s, "y"), ["b"]);
    // Nothing new: no versions read.
    let c = s.catch_up_index("d", "d\nk", &keys).unwrap();
    assert_eq!((c.versions, c.rebuilt), (0, false));
    put(
        &s,
        "d",
        &[
            r#"{"_id":"a","k":"y"}"#,
            r#"{"_id":"b","k":"x","_deleted":true}"#,
        ],
    );
    assert_eq!(look(&s, "x"), Vec::<String>::new());
    assert_eq!(look(&s, "y"), ["a"]);
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(look(&s, "y"), ["a"]);
    s.delete_dataset("d").unwrap();
    put(&s, "d", &[r#"{"_id":"z","k":"y"}"#]);
    let c = s.catch_up_index("d", "d\nk", &keys).unwrap();
    assert!(c.rebuilt);
    assert_eq!(look(&s, "y"), ["z"]);
}

#[test]
fn dependencies_map_keys_to_sources_and_queue_survives_until_dequeued() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    s.set_dependencies(
        "p",
        &[
            ("s1".into(), vec![b"k1".to_vec(), b"k2".to_vec()]),
            ("s2".into(), vec![b"k2".to_vec()]),
        ],
    )
    .unwrap();
    assert_eq!(s.dependents("p", b"k2").unwrap(), ["s1", "s2"]);
    assert_eq!(s.dependents("other", b"k2").unwrap(), Vec::<String>::new());
    // s1 no longer reaches k2.
    s.set_dependencies("p", &[("s1".into(), vec![b"k1".to_vec()])])
        .unwrap();
    assert_eq!(s.dependents("p", b"k2").unwrap(), ["s2"]);
    assert_eq!(s.tracking_offset("p", "orders").unwrap(), None);
    let ids: BTreeSet<String> = ["s2".to_string()].into();
    s.enqueue_dependents("p", "orders", 7, &ids).unwrap();
    assert_eq!(s.tracking_offset("p", "orders").unwrap(), Some(7));
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.dependency_queue("p").unwrap(), ["s2"]);
    s.dequeue_dependents("p", &["s2".into()]).unwrap();
    assert!(s.dependency_queue("p").unwrap().is_empty());
    s.clear_dependencies("p").unwrap();
    assert!(s.dependents("p", b"k1").unwrap().is_empty());
    assert_eq!(s.tracking_offset("p", "orders").unwrap(), None);
}
