//! `ReadIter::next_raw` + `ReadIter::write_json` (how the API streams a dataset) write byte
//! for byte what the `Value` path (`read` + `transit::write`) writes, for every read option
//! and entities of every value kind, versions, tombstones and deletion tracking.

use pumphouse_store::{PipeState, ReadIter, ReadOptions, Store};
use pumphouse_value::transit::{from_str, to_string};
use pumphouse_value::Value;

fn via_value(s: &Store, opts: ReadOptions) -> Vec<String> {
    s.read("ds", opts)
        .unwrap()
        .map(|v| to_string(&v.unwrap()))
        .collect()
}

fn via_raw(s: &Store, opts: ReadOptions) -> Vec<String> {
    let mut it = s.read("ds", opts).unwrap();
    let mut out = Vec::new();
    while let Some((offset, rec)) = it.next_raw().unwrap() {
        let mut buf = Vec::new();
        ReadIter::write_json(offset, &rec, &mut buf).unwrap();
        out.push(String::from_utf8(buf).unwrap());
    }
    out
}

#[test]
fn the_raw_json_path_matches_the_value_path() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let mut w = s.writer("ds", "p", true).unwrap();
    w.write(vec![
        from_str(
            r#"{"_id": "a \"quoted\"\n id é", "s": "x\u0001y", "n": -5, "big": 123456789012345678901234567890,
                "f": 1.5, "d": "~f2.30", "t": "~t2015-01-02T03:04:05.123456789Z", "day": "~t2015-12-31",
                "b": "~bAAEC", "u": "~u531a379e-31bb-4ce1-8690-158dceb64be6", "ni": "~:crm:1",
                "uri": "~rhttp://x/", "l": [null, true, {"k": []}], "_ignored": 1, "$meta": "kept"}"#,
        )
        .unwrap(),
        from_str(r#"{"_id": "empty"}"#).unwrap(),
        from_str(r#"{"_id": "gone", "x": 1}"#).unwrap(),
        from_str(r#"{"_id": "twice", "v": 1}"#).unwrap(),
    ])
    .unwrap();
    w.finish_full_run(&PipeState::new(Value::Int(1)), true)
        .unwrap();
    drop(w);
    let mut w = s.writer("ds", "p", true).unwrap();
    w.write(vec![
        from_str(r#"{"_id": "twice", "v": 2}"#).unwrap(),
        from_str(r#"{"_id": "empty"}"#).unwrap(),
        from_str(r#"{"_id": "a \"quoted\"\n id é", "_deleted": true}"#).unwrap(),
    ])
    .unwrap();
    w.set_mark_deletion_tracked(true);
    // "gone" is not seen: deletion tracking writes its tombstone.
    w.finish_full_run(&PipeState::new(Value::Int(2)), true)
        .unwrap();
    for history in [true, false] {
        for deleted in [true, false] {
            for since in [None, Some(0), Some(3)] {
                for limit in [None, Some(2)] {
                    let opts = ReadOptions {
                        since,
                        limit,
                        history,
                        deleted,
                    };
                    let want = via_value(&s, opts);
                    assert!(!want.is_empty() || since == Some(3), "{opts:?}");
                    assert_eq!(via_raw(&s, opts), want, "{opts:?}");
                }
            }
        }
    }
    let all = via_raw(&s, ReadOptions::all()).join("\n");
    assert!(all.contains(r#""$deletion_tracked":true"#), "{all}");
    assert!(
        all.contains(r#"{"_id":"empty","_deleted":false,"_updated":1,"_previous":null"#),
        "{all}"
    );
}
