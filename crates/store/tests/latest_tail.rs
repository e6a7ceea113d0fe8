//! Latest-only reads decided from a scan of the log's tail (`store::LatestTail`) give exactly
//! what the `_id` index gives: each `_id`'s latest version once, superseded and (when asked)
//! deleted versions left out — across pages that carry the tail from one read to the next
//! while writers commit in between, and for reads that start before the tail.

use std::collections::HashMap;

use pumphouse_store::{LatestTail, PipeState, ReadOptions, Store, Writer};
use pumphouse_value::transit::from_str;
use pumphouse_value::Value;

fn ent(id: usize, x: usize) -> Value {
    from_str(&format!(r#"{{"_id":"id-{id}","x":{x}}}"#)).unwrap()
}

fn gone(id: usize) -> Value {
    from_str(&format!(r#"{{"_id":"id-{id}","_deleted":true}}"#)).unwrap()
}

fn write(w: &mut Writer, batch: Vec<Value>, n: i64) {
    w.write(batch).unwrap();
    w.commit(&PipeState::new(Value::Int(n))).unwrap();
}

fn offset(e: &Value) -> u64 {
    match e.get("_updated") {
        Some(Value::Int(o)) => *o as u64,
        other => panic!("no _updated: {other:?}"),
    }
}

/// `(offset, _id)` of each version after `since` that is its `_id`'s latest, from the full
/// history (no index, no tail involved).
fn expected(s: &Store, since: Option<u64>, deleted: bool) -> Vec<(u64, String)> {
    let mut last: HashMap<String, (u64, bool)> = HashMap::new();
    for e in s.read("d", ReadOptions::all()).unwrap() {
        let e = e.unwrap();
        let id = e.get("_id").unwrap().as_str().unwrap().to_owned();
        let del = matches!(e.get("_deleted"), Some(Value::Bool(true)));
        last.insert(id, (offset(&e), del));
    }
    let mut out: Vec<(u64, String)> = last
        .into_iter()
        .filter(|(_, (o, del))| since.is_none_or(|s| *o > s) && (deleted || !*del))
        .map(|(id, (o, _))| (o, id))
        .collect();
    out.sort();
    out
}

fn row(e: Value) -> (u64, String) {
    let id = e.get("_id").unwrap().as_str().unwrap().to_owned();
    (offset(&e), id)
}

/// `(offset, _id)` of what one read with `opts` returns (its own tail).
fn rows(s: &Store, opts: ReadOptions) -> Vec<(u64, String)> {
    s.read("d", opts)
        .unwrap()
        .map(|e| row(e.unwrap()))
        .collect()
}

#[test]
fn pages_carrying_the_tail_see_versions_committed_between_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let mut w = s.writer("d", "p", false).unwrap();
    write(&mut w, (0..200).map(|i| ent(i, 0)).collect(), 1);
    // Superseded versions before and inside the stretch read below, a tombstone.
    write(&mut w, (0..50).map(|i| ent(i, 1)).collect(), 2);
    write(&mut w, vec![ent(10, 2), gone(20), ent(150, 1)], 3);
    let since = Some(120);
    let mut got = Vec::new();
    let mut tail = LatestTail::default();
    let mut at = since;
    let mut page = 0;
    loop {
        let opts = ReadOptions {
            since: at,
            limit: Some(30),
            ..ReadOptions::latest()
        };
        let mut iter = s.read("d", opts).unwrap().with_tail(tail);
        let rows: Vec<(u64, String)> = iter.by_ref().map(|e| row(e.unwrap())).collect();
        tail = iter.into_tail();
        if page == 0 {
            // After the first page (which scanned the tail): versions that supersede ones
            // the next pages would otherwise return, and one more tombstone.
            write(&mut w, vec![ent(40, 3), ent(45, 3), gone(190)], 4);
        }
        page += 1;
        let n = rows.len();
        at = rows.last().map(|r| r.0).or(at);
        got.extend(rows);
        if n < 30 {
            break;
        }
    }
    assert_eq!(got, expected(&s, since, true));
    assert!(got.iter().any(|r| r.1 == "id-40" && r.0 == 253), "{got:?}");
    assert!(!got.iter().any(|r| r.1 == "id-40" && r.0 < 253), "{got:?}");
    // Without deleted versions, in one read (its own tail).
    let opts = ReadOptions {
        since,
        deleted: false,
        ..ReadOptions::latest()
    };
    assert_eq!(rows(&s, opts), expected(&s, since, false));
}

#[test]
fn a_read_that_starts_before_the_tail_is_exact_on_both_sides_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let mut w = s.writer("d", "p", false).unwrap();
    // 110,000 ids, then new versions of ids from the start and from the end of that run:
    // the scanned tail (the last 100,000 versions) begins inside the first write.
    write(&mut w, (0..110_000).map(|i| ent(i, 0)).collect(), 1);
    let again: Vec<Value> = (0..2_000)
        .chain(100_000..101_000)
        .map(|i| ent(i, 1))
        .collect();
    write(&mut w, again, 2);
    write(&mut w, vec![gone(5), gone(105_000), ent(100_500, 2)], 3);
    drop(w);
    for since in [None, Some(20_000), Some(111_000)] {
        let opts = ReadOptions {
            since,
            ..ReadOptions::latest()
        };
        assert_eq!(rows(&s, opts), expected(&s, since, true), "since {since:?}");
    }
}
