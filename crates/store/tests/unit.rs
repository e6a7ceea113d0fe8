//! Behaviour tests of the store: change detection, tombstones, `_filtered`, `_previous`
//! chains, output shape, locking, pipe state, full runs and reopening.

use std::sync::Arc;

use pumphouse_store::{
    ManualClock, PipeState, ReadOptions, Store, StoreError, StoreOptions, WriteStats,
};
use pumphouse_value::transit::{from_str, to_string};
use pumphouse_value::Value;

fn e(s: &str) -> Value {
    from_str(s).unwrap()
}

fn open(dir: &std::path::Path) -> (Store, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1000));
    let opts = StoreOptions {
        clock: clock.clone(),
        tombstone_batch: 2,
        ..StoreOptions::default()
    };
    (Store::open_with(dir, opts).unwrap(), clock)
}

fn all(s: &Store, ds: &str, opts: ReadOptions) -> Vec<String> {
    s.read(ds, opts)
        .unwrap()
        .map(|v| to_string(&v.unwrap()))
        .collect()
}

fn st(n: i64) -> PipeState {
    PipeState::new(Value::Int(n))
}

fn stats(written: u64, unchanged: u64, deleted: u64) -> WriteStats {
    WriteStats {
        written,
        unchanged,
        deleted,
    }
}

#[test]
fn versions_have_generated_fields_in_order_and_previous_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (s, clock) = open(dir.path());
    let mut w = s.writer("people", "p", false).unwrap();
    assert_eq!(
        w.write(vec![e(
            r#"{"_id":"a","name":"A","_updated":99,"_ts":1,"_foo":1}"#
        )])
        .unwrap(),
        stats(1, 0, 0)
    );
    clock.set(2000);
    assert_eq!(
        w.write(vec![
            e(r#"{"name":"B","_id":"a"}"#),
            e(r#"{"_id":"b","x":1}"#)
        ])
        .unwrap(),
        stats(2, 0, 0)
    );
    assert_eq!(w.commit(&st(3)).unwrap(), stats(3, 0, 0));
    drop(w);
    let h = pumphouse_value::hash::hash_hex(pumphouse_value::hash::entity_hash(&e(
        r#"{"_id":"a","name":"A"}"#,
    )));
    let rows = all(&s, "people", ReadOptions::all());
    assert_eq!(
        rows[0],
        format!(
            r#"{{"name":"A","_id":"a","_deleted":false,"_updated":0,"_previous":null,"_ts":1000,"_hash":"{h}"}}"#
        )
    );
    assert!(
        rows[1].starts_with(
            r#"{"name":"B","_id":"a","_deleted":false,"_updated":1,"_previous":0,"_ts":2000,"#
        ),
        "{}",
        rows[1]
    );
    assert!(rows[2].contains(r#""_updated":2,"_previous":null"#));
    let info = s.dataset_info("people").unwrap().unwrap();
    assert_eq!(
        (
            info.live_count,
            info.version_count,
            info.last_offset,
            info.populated
        ),
        (2, 3, Some(2), false)
    );
    assert_eq!(s.pipe_state("p").unwrap().last_seen.as_i64(), Some(3));
}

#[test]
fn unchanged_rewrites_are_no_ops_but_old_content_makes_a_new_version() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path());
    let mut w = s.writer("d", "p", false).unwrap();
    w.write(vec![e(r#"{"_id":"a","x":1,"y":2}"#)]).unwrap();
    w.commit(&st(1)).unwrap();
    // Same content, other key order, generated fields, `_deleted: false`: no-op.
    let r = w
        .write(vec![e(
            r#"{"y":2,"_id":"a","x":1,"_ts":5,"_hash":"zz","_deleted":false}"#,
        )])
        .unwrap();
    assert_eq!(r, stats(0, 1, 0));
    // Inside one staged batch too: the second copy is a no-op against the first.
    assert_eq!(
        w.write(vec![
            e(r#"{"_id":"a","x":2}"#),
            e(r#"{"_id":"a","x":2}"#),
            e(r#"{"_id":"a","x":1,"y":2}"#)
        ])
        .unwrap(),
        stats(2, 1, 0)
    );
    w.commit(&st(2)).unwrap();
    drop(w);
    let rows = all(&s, "d", ReadOptions::all());
    assert_eq!(rows.len(), 3);
    let h = |i: usize| {
        s.read("d", ReadOptions::all())
            .unwrap()
            .nth(i)
            .unwrap()
            .unwrap()
            .get("_hash")
            .cloned()
            .unwrap()
    };
    assert_eq!(to_string(&h(0)), to_string(&h(2)));
    assert!(rows[2].contains(r#""_updated":2,"_previous":1"#));
}

#[test]
fn tombstones_and_filtered() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path());
    let mut w = s.writer("d", "p", false).unwrap();
    w.write(vec![e(r#"{"_id":"a","x":1}"#), e(r#"{"_id":"b","x":1}"#)])
        .unwrap();
    // Delete a; deleting again is a no-op; a tombstone for an unknown id is written.
    assert_eq!(
        w.write(vec![
            e(r#"{"_id":"a","x":1,"_deleted":true}"#),
            e(r#"{"_id":"a","x":1,"_deleted":true}"#),
            e(r#"{"_id":"c","_deleted":true}"#)
        ])
        .unwrap(),
        stats(2, 1, 2)
    );
    // Filtered: b is live → tombstone with the incoming content; a is deleted and z unknown → nothing.
    assert_eq!(
        w.write(vec![
            e(r#"{"_id":"b","x":2,"_filtered":true}"#),
            e(r#"{"_id":"a","_filtered":true}"#),
            e(r#"{"_id":"z","_filtered":true}"#)
        ])
        .unwrap(),
        stats(1, 2, 1)
    );
    w.commit(&st(1)).unwrap();
    drop(w);
    let b = to_string(&s.get("d", "b").unwrap().unwrap());
    assert!(
        b.starts_with(r#"{"x":2,"_id":"b","_deleted":true,"_updated":4,"_previous":1,"#),
        "{b}"
    );
    assert!(s.get("d", "z").unwrap().is_none());
    let info = s.dataset_info("d").unwrap().unwrap();
    assert_eq!((info.live_count, info.version_count), (0, 5));
    // Latest without deleted: nothing; latest with deleted: a, c, b.
    assert!(all(
        &s,
        "d",
        ReadOptions {
            deleted: false,
            ..ReadOptions::latest()
        }
    )
    .is_empty());
    let ids: Vec<String> = s
        .read("d", ReadOptions::latest())
        .unwrap()
        .map(|v| v.unwrap().get("_id").unwrap().as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["a", "c", "b"]);
    // Undelete: a comes back.
    let mut w = s.writer("d", "p", false).unwrap();
    assert_eq!(
        w.write(vec![e(r#"{"_id":"a","x":1}"#)]).unwrap(),
        stats(1, 0, 0)
    );
    w.commit(&st(2)).unwrap();
    assert_eq!(s.dataset_info("d").unwrap().unwrap().live_count, 1);
}

#[test]
fn since_limit_and_latest_only() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path());
    let mut w = s.writer("d", "p", false).unwrap();
    for i in 0..10 {
        w.write(vec![e(&format!(r#"{{"_id":"{}","v":{i}}}"#, i % 3))])
            .unwrap();
    }
    w.commit(&st(10)).unwrap();
    drop(w);
    let offs = |o: ReadOptions| -> Vec<i64> {
        s.read("d", o)
            .unwrap()
            .map(|v| v.unwrap().get("_updated").unwrap().as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        offs(ReadOptions {
            since: Some(6),
            ..ReadOptions::all()
        }),
        [7, 8, 9]
    );
    assert_eq!(
        offs(ReadOptions {
            since: Some(2),
            limit: Some(2),
            ..ReadOptions::all()
        }),
        [3, 4]
    );
    assert_eq!(offs(ReadOptions::latest()), [7, 8, 9]);
    assert_eq!(
        offs(ReadOptions {
            since: Some(8),
            ..ReadOptions::latest()
        }),
        [9]
    );
    assert_eq!(
        offs(ReadOptions {
            since: Some(u64::MAX),
            ..ReadOptions::all()
        }),
        Vec::<i64>::new()
    );
    assert!(matches!(
        s.read("nope", ReadOptions::all()),
        Err(StoreError::NoSuchDataset(_))
    ));
}

#[test]
fn reads_can_decode_only_some_properties() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path());
    let mut w = s.writer("d", "p", false).unwrap();
    w.write(vec![
        e(r#"{"_id":"a","x":1,"big":{"deep":[1,2,"~t2020-01-01T00:00:00Z"]},"y":"keep","z":null}"#),
        e(r#"{"_id":"b","_deleted":true,"y":2}"#),
    ])
    .unwrap();
    w.commit(&st(1)).unwrap();
    drop(w);
    let keys: Arc<[String]> = vec!["y".to_string(), "missing".to_string()].into();
    let got: Vec<String> = s
        .read("d", ReadOptions::all())
        .unwrap()
        .only_properties(keys)
        .map(|v| to_string(&v.unwrap()))
        .collect();
    // The named properties in their stored order, then every generated `_` property.
    let full = all(&s, "d", ReadOptions::all());
    assert!(
        got[0].starts_with(
            r#"{"y":"keep","_id":"a","_deleted":false,"_updated":0,"_previous":null,"_ts":"#
        ),
        "{}",
        got[0]
    );
    assert!(
        got[1].starts_with(r#"{"y":2,"_id":"b","_deleted":true,"_updated":1,"#),
        "{}",
        got[1]
    );
    for (g, f) in got.iter().zip(&full) {
        let tail = |j: &str| j[j.find(r#""_id""#).unwrap()..].to_string();
        assert_eq!(tail(g), tail(f));
    }
}

#[test]
fn one_writer_per_dataset_and_uncommitted_writes_vanish() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path());
    let mut w = s.writer("d", "p", false).unwrap();
    assert!(matches!(
        s.writer("d", "q", false),
        Err(StoreError::Locked(_))
    ));
    assert!(matches!(s.delete_dataset("d"), Err(StoreError::Locked(_))));
    assert!(s.writer("other", "q", false).is_ok());
    w.write(vec![e(r#"{"_id":"a"}"#)]).unwrap();
    assert!(!s.dataset_exists("d").unwrap());
    drop(w);
    let mut w = s.writer("d", "p", false).unwrap();
    w.write(vec![e(r#"{"_id":"b"}"#)]).unwrap();
    w.commit(&st(1)).unwrap();
    drop(w);
    assert_eq!(all(&s, "d", ReadOptions::all()).len(), 1);
    assert!(s.get("d", "a").unwrap().is_none());
}

#[test]
fn encoded_batches_stage_like_write_in_order_with_pipelined_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (s, clock) = open(dir.path());
    let mut w = s.writer("d", "p", false).unwrap();
    w.pipeline().unwrap();
    let mut enc = w.encoder();
    // Encoded on this thread here; the runner does it on another one.
    let b1 = enc
        .encode(vec![e(r#"{"_id":"a","x":1}"#), e(r#"{"_id":"b","x":1}"#)])
        .unwrap();
    assert!(b1.bytes() > 0);
    assert_eq!(w.write_encoded(b1).unwrap(), stats(2, 0, 0));
    // A pipelined `write` in between, then an encoded batch that changes one id back and
    // repeats the other: change detection sees the staged versions of both paths.
    w.write(vec![e(r#"{"_id":"a","x":2}"#)]).unwrap();
    clock.set(5000);
    let b2 = enc
        .encode(vec![e(r#"{"_id":"a","x":1}"#), e(r#"{"_id":"b","x":1}"#)])
        .unwrap();
    assert_eq!(w.write_encoded(b2).unwrap(), stats(2, 1, 0));
    assert_eq!(w.commit(&st(1)).unwrap(), stats(4, 1, 0));
    // A bad entity fails its batch at encoding, before the writer sees it.
    let err = match enc.encode(vec![e(r#"{"_id":"c"}"#), e(r#"{"_id":1}"#)]) {
        Err(err) => err,
        Ok(_) => panic!("a non-string _id was encoded"),
    };
    assert!(
        matches!(err, StoreError::InvalidEntity { index: 1, .. }),
        "{err}"
    );
    drop(w);
    let rows = all(&s, "d", ReadOptions::all());
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(
        rows[2].contains(r#""x":2"#) && rows[2].contains(r#""_id":"a""#),
        "{rows:?}"
    );
    assert!(
        rows[3].contains(r#""x":1"#) && rows[3].contains(r#""_ts":5000"#),
        "{rows:?}"
    );
    assert!(rows[3].contains(r#""_previous":2"#), "{rows:?}");
}

#[test]
fn invalid_entities_stage_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path());
    let mut w = s.writer("d", "p", false).unwrap();
    let err = w
        .write(vec![e(r#"{"_id":"a"}"#), e(r#"{"_id":1}"#)])
        .unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidEntity { index: 1, .. }),
        "{err}"
    );
    assert_eq!(w.staged(), WriteStats::default());
    assert!(matches!(
        s.writer("a/b", "p", false),
        Err(StoreError::InvalidDatasetId(..))
    ));
}

#[test]
fn full_run_deletion_tracking_copies_properties_and_sets_populated() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path());
    let mut w = s.writer("d", "p", true).unwrap();
    w.write(
        (0..7)
            .map(|i| e(&format!(r#"{{"_id":"{i}","name":"n{i}"}}"#)))
            .collect(),
    )
    .unwrap();
    w.write(vec![e(r#"{"_id":"gone","_deleted":true}"#)])
        .unwrap();
    assert_eq!(w.finish_full_run(&st(1), true).unwrap(), stats(8, 0, 1));
    drop(w);
    assert!(s.dataset_info("d").unwrap().unwrap().populated);
    // Second full run sees 0, 1 (unchanged), 2 (changed), filters 3; 4, 5, 6 disappear.
    let mut w = s.writer("d", "p", true).unwrap();
    w.set_mark_deletion_tracked(true);
    w.write(vec![
        e(r#"{"_id":"0","name":"n0"}"#),
        e(r#"{"_id":"1","name":"n1"}"#),
    ])
    .unwrap();
    w.commit(&st(2)).unwrap();
    w.write(vec![
        e(r#"{"_id":"2","name":"new"}"#),
        e(r#"{"_id":"3","name":"n3","_filtered":true}"#),
    ])
    .unwrap();
    let r = w.finish_full_run(&st(3), true).unwrap();
    assert_eq!(r, stats(5, 0, 4)); // the two unchanged were committed before
    assert!(!w.is_full_run());
    drop(w);
    let t = to_string(&s.get("d", "5").unwrap().unwrap());
    assert!(
        t.starts_with(r#"{"name":"n5","$deletion_tracked":true,"_id":"5","_deleted":true,"#),
        "{t}"
    );
    let live: Vec<String> = s
        .read(
            "d",
            ReadOptions {
                deleted: false,
                ..ReadOptions::latest()
            },
        )
        .unwrap()
        .map(|v| v.unwrap().get("_id").unwrap().as_str().unwrap().to_owned())
        .collect();
    assert_eq!(live, ["0", "1", "2"]);
    assert_eq!(s.dataset_info("d").unwrap().unwrap().live_count, 3);
    assert_eq!(s.pipe_state("p").unwrap().last_seen.as_i64(), Some(3));
    // An incremental writer cannot finish a full run.
    let mut w = s.writer("d", "p", false).unwrap();
    assert!(matches!(
        w.finish_full_run(&st(4), true),
        Err(StoreError::NotFullRun(_))
    ));
}

#[test]
fn first_full_run_on_an_empty_dataset_ends_without_deletion_tracking_scan_but_stays_exact() {
    // The writer skips the index scan when the dataset had no `_id` at open: everything in
    // it was written (and seen) by this run. Ids changed, filtered and deleted within the
    // run must still end exactly as a scan would leave them.
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path());
    let mut w = s.writer("d", "p", true).unwrap();
    w.write(vec![
        e(r#"{"_id":"a","n":1}"#),
        e(r#"{"_id":"b","n":1}"#),
        e(r#"{"_id":"c","n":1}"#),
    ])
    .unwrap();
    w.commit(&st(1)).unwrap();
    w.write(vec![
        e(r#"{"_id":"a","n":2}"#),
        e(r#"{"_id":"b","n":1,"_filtered":true}"#),
        e(r#"{"_id":"c","_deleted":true}"#),
    ])
    .unwrap();
    assert_eq!(w.finish_full_run(&st(2), true).unwrap(), stats(3, 0, 2));
    drop(w);
    let live = |s: &Store| {
        all(
            s,
            "d",
            ReadOptions {
                deleted: false,
                ..ReadOptions::latest()
            },
        )
    };
    let now = live(&s);
    assert_eq!(now.len(), 1, "{now:?}");
    assert!(now[0].starts_with(r#"{"n":2,"_id":"a""#), "{now:?}");
    assert_eq!(s.dataset_info("d").unwrap().unwrap().live_count, 1);
    // The next full run is not on an empty dataset: it deletes what it did not see.
    let mut w = s.writer("d", "p", true).unwrap();
    w.write(vec![e(r#"{"_id":"b","n":3}"#)]).unwrap();
    assert_eq!(w.finish_full_run(&st(3), true).unwrap(), stats(2, 0, 1));
    drop(w);
    let now = live(&s);
    assert_eq!(now.len(), 1, "{now:?}");
    assert!(now[0].starts_with(r#"{"n":3,"_id":"b""#), "{now:?}");
}

#[test]
fn staged_bytes_counts_what_a_commit_would_write_and_resets() {
    // The runner commits by size as well as by count; this is what it reads.
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path());
    let mut w = s.writer("d", "p", false).unwrap();
    assert_eq!(w.staged_bytes(), 0);
    let big = "x".repeat(100_000);
    w.write(vec![e(&format!(r#"{{"_id":"a","blob":"{big}"}}"#))])
        .unwrap();
    let one = w.staged_bytes();
    assert!(one > 100_000, "{one}");
    w.write(vec![e(&format!(r#"{{"_id":"b","blob":"{big}"}}"#))])
        .unwrap();
    assert!(w.staged_bytes() > 2 * 100_000, "{}", w.staged_bytes());
    // An unchanged entity stages nothing.
    let before = w.staged_bytes();
    w.write(vec![e(&format!(r#"{{"_id":"a","blob":"{big}"}}"#))])
        .unwrap();
    assert_eq!(w.staged_bytes(), before);
    w.commit(&st(1)).unwrap();
    assert_eq!(w.staged_bytes(), 0);
}

#[test]
fn interrupted_full_run_resumes_after_reopen_and_manual_state_abandons_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (s, _) = open(dir.path());
        let mut w = s.writer("d", "p", false).unwrap();
        w.write((0..5).map(|i| e(&format!(r#"{{"_id":"{i}"}}"#))).collect())
            .unwrap();
        w.commit(&st(0)).unwrap();
        drop(w);
        let mut w = s.writer("d", "p", true).unwrap();
        w.write(vec![e(r#"{"_id":"0"}"#), e(r#"{"_id":"1"}"#)])
            .unwrap();
        w.commit(&st(2)).unwrap();
        w.write(vec![e(r#"{"_id":"2"}"#)]).unwrap(); // staged, lost
    }
    let (s, _) = open(dir.path());
    let mut w = s.writer("d", "p", false).unwrap();
    assert!(w.is_full_run() && w.resumed());
    w.write(vec![e(r#"{"_id":"3"}"#)]).unwrap();
    w.finish_full_run(&st(4), false).unwrap();
    drop(w);
    let live: Vec<bool> = (0..5)
        .map(|i| {
            !s.get("d", &i.to_string())
                .unwrap()
                .unwrap()
                .get("_deleted")
                .unwrap()
                .truthy()
        })
        .collect();
    assert_eq!(live, [true, true, false, true, false]);
    // A new interrupted run, then a manual set-last-seen: the next writer is incremental.
    let mut w = s.writer("d", "p", true).unwrap();
    w.write(vec![e(r#"{"_id":"0"}"#)]).unwrap();
    w.commit(&st(1)).unwrap();
    assert!(matches!(
        s.set_pipe_state("p", &st(9)),
        Err(StoreError::Locked(_))
    ));
    drop(w);
    s.set_pipe_state("p", &st(9)).unwrap();
    assert!(!s.writer("d", "p", false).unwrap().is_full_run());
}

#[test]
fn delete_dataset_populated_and_execution_log() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path());
    s.set_populated("onload", true).unwrap();
    assert!(s.dataset_info("onload").unwrap().unwrap().populated);
    s.append_log("p", e(r#"{"_id":"run-1","status":"ok"}"#))
        .unwrap();
    s.append_log("p", e(r#"{"_id":"run-2","status":"ok"}"#))
        .unwrap();
    assert_eq!(
        s.dataset_info("system:pump:p")
            .unwrap()
            .unwrap()
            .version_count,
        2
    );
    assert_eq!(s.dataset_ids().unwrap(), ["onload", "system:pump:p"]);
    s.delete_dataset("system:pump:p").unwrap();
    assert!(!s.dataset_exists("system:pump:p").unwrap());
    assert!(s.get("system:pump:p", "run-1").unwrap().is_none());
    // Recreated empty, starting at offset 0 again.
    s.append_log("p", e(r#"{"_id":"run-3"}"#)).unwrap();
    drop(s);
    let (s, _) = open(dir.path());
    assert_eq!(all(&s, "system:pump:p", ReadOptions::all()).len(), 1);
    assert_eq!(s.dataset_ids().unwrap().len(), 2);
}

#[test]
fn store_is_shareable_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Store>();
    send::<pumphouse_store::Writer<'static>>();
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path());
    std::thread::scope(|sc| {
        for t in 0..2 {
            let s = &s;
            sc.spawn(move || {
                let mut w = s.writer(&format!("d{t}"), &format!("p{t}"), false).unwrap();
                w.write(vec![e(r#"{"_id":"a"}"#)]).unwrap();
                w.commit(&st(1)).unwrap();
            });
        }
    });
    assert_eq!(s.dataset_ids().unwrap(), ["d0", "d1"]);
}

#[test]
fn only_true_means_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path());
    let mut w = s.writer("d", "p", false).unwrap();
    w.write(vec![
        e(r#"{"_id":"a","_deleted":"yes"}"#),
        e(r#"{"_id":"b","_deleted":1}"#),
    ])
    .unwrap();
    // `_deleted: false` or absent is the same content as `"yes"`: no new version.
    assert_eq!(
        w.write(vec![
            e(r#"{"_id":"a","_deleted":false}"#),
            e(r#"{"_id":"b"}"#)
        ])
        .unwrap(),
        stats(0, 2, 0)
    );
    w.commit(&st(1)).unwrap();
    drop(w);
    assert_eq!(s.dataset_info("d").unwrap().unwrap().live_count, 2);
    assert_eq!(
        s.get("d", "a").unwrap().unwrap().get("_deleted"),
        Some(&Value::Bool(false))
    );
}

/// A writer on an empty dataset skips the index lookup for `_id`s it certainly did not write
/// (`newids`); an `_id` it wrote in an earlier commit or batch of the same run must still be
/// found, across more ids than the first filter holds.
#[test]
fn first_load_still_detects_ids_repeated_across_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _clock) = open(dir.path());
    for pipeline in [false, true] {
        let ds = if pipeline { "piped" } else { "direct" };
        let mut w = s.writer(ds, "p", true).unwrap();
        if pipeline {
            w.pipeline().unwrap();
        }
        let n = 20_000;
        let mut total = WriteStats::default();
        let add = |t: &mut WriteStats, x: WriteStats| {
            t.written += x.written;
            t.unchanged += x.unchanged;
        };
        for chunk in 0..n / 1000 {
            let batch = (chunk * 1000..(chunk + 1) * 1000)
                .map(|i| e(&format!(r#"{{"_id":"id-{i}","v":1}}"#)))
                .collect();
            w.write(batch).unwrap();
            // `commit` returns all it committed, including what `write` reported.
            add(&mut total, w.commit(&st(chunk as i64)).unwrap());
        }
        // Every 10th again: half unchanged, half changed; one changed twice in one batch.
        let mut again: Vec<Value> = (0..n)
            .step_by(10)
            .map(|i| e(&format!(r#"{{"_id":"id-{i}","v":{}}}"#, 1 + (i / 10) % 2)))
            .collect();
        again.push(e(r#"{"_id":"id-10","v":3}"#));
        w.write(again).unwrap();
        add(&mut total, w.finish_full_run(&st(99), true).unwrap());
        assert_eq!(total.written, n as u64 + 1_000 + 1, "{ds}");
        assert_eq!(total.unchanged, 1_000, "{ds}");
        let info = s.dataset_info(ds).unwrap().unwrap();
        assert_eq!(info.live_count, n as u64, "{ds}");
        assert_eq!(info.version_count, n as u64 + 1_001, "{ds}");
        let latest = to_string(&s.get(ds, "id-10").unwrap().unwrap());
        assert!(latest.contains(r#""v":3"#), "{ds}: {latest}");
        let prev = s.get(ds, "id-10").unwrap().unwrap();
        assert!(matches!(prev.get("_previous"), Some(Value::Int(_))), "{ds}");
        drop(w);
    }
}

/// An encoded batch of hundreds over a dataset loaded by an earlier writer (every id looked
/// up in the index, none skipped as new) finds the committed version of each id: changed
/// ones get a new version pointing at the old one, unchanged ones stay no-ops.
#[test]
fn large_encoded_batches_over_a_loaded_dataset_detect_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path());
    let ent = |i: usize, x: usize| e(&format!(r#"{{"_id":"id-{i}","x":{x}}}"#));
    let mut w = s.writer("d", "p", false).unwrap();
    w.write((0..1000).map(|i| ent(i, 0)).collect()).unwrap();
    w.commit(&st(1)).unwrap();
    drop(w);
    let mut w = s.writer("d", "p", false).unwrap();
    w.pipeline().unwrap();
    let mut enc = w.encoder();
    // Even ids changed, odd ids as they were, in an order unlike the first write's.
    let batch = (0..600).rev().map(|i| ent(i, (i + 1) % 2)).collect();
    let stats_now = w.write_encoded(enc.encode(batch).unwrap()).unwrap();
    assert_eq!(stats_now, stats(300, 300, 0));
    assert_eq!(w.commit(&st(2)).unwrap(), stats(300, 300, 0));
    drop(w);
    let since = ReadOptions {
        since: Some(999),
        ..ReadOptions::latest()
    };
    let rows = all(&s, "d", since);
    assert_eq!(rows.len(), 300, "{:?}", &rows[..3]);
    // New versions in the order written (598, 596, … 0), each pointing at its first version.
    for (k, row) in rows.iter().enumerate() {
        let i = 598 - 2 * k;
        let want = format!(r#""_id":"id-{i}""#);
        assert!(row.contains(&want), "{row}");
        assert!(row.contains(&format!(r#""_previous":{i}"#)), "{row}");
    }
}
