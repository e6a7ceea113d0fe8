//! The `_id` tables (`logs/<num>.idtab`): a store that builds and uses them gives the same
//! datasets and write counts as one that never does, also when a table is corrupt, when it
//! outlived the commits it describes, after a circuit breaker's rollback and after a
//! dataset's deletion.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pumphouse_store::{ManualClock, PipeState, ReadOptions, Store, StoreOptions, WriteStats};
use pumphouse_value::transit::{from_str, to_string};
use pumphouse_value::Value;

/// Tables for datasets of 200 `_id`s or more; `None`: never.
fn open(dir: &Path, tables: bool) -> Store {
    let opts = StoreOptions {
        clock: Arc::new(ManualClock::new(1000)),
        id_table_min: if tables { 200 } else { u64::MAX },
        ..StoreOptions::default()
    };
    Store::open_with(dir, opts).unwrap()
}

fn entity(i: u64, v: u64) -> Value {
    // Long and short ids, so pages hold different numbers of entries.
    let pad = "x".repeat((i % 7 * 40) as usize);
    from_str(&format!(r#"{{"_id":"e{i:05}{pad}","v":{v}}}"#)).unwrap()
}

fn tombstone(i: u64) -> Value {
    let pad = "x".repeat((i % 7 * 40) as usize);
    from_str(&format!(r#"{{"_id":"e{i:05}{pad}","_deleted":true}}"#)).unwrap()
}

/// One incremental run writing `entities` in batches of 100.
fn run(s: &Store, entities: Vec<Value>) -> WriteStats {
    let mut w = s.writer("ds", "p", false).unwrap();
    let mut total = WriteStats::default();
    for chunk in entities.chunks(100) {
        let st = w.write(chunk.to_vec()).unwrap();
        total.written += st.written;
        total.unchanged += st.unchanged;
        total.deleted += st.deleted;
    }
    w.finish_run(&PipeState::new(Value::Int(1))).unwrap();
    total
}

fn dump(s: &Store) -> Vec<String> {
    s.read("ds", ReadOptions::all())
        .unwrap()
        .map(|v| to_string(&v.unwrap()))
        .collect()
}

fn table(dir: &Path) -> PathBuf {
    dir.join("logs/1.idtab")
}

/// The runs both stores get: a load of 1,000, then changes, unchanged rewrites, deletions
/// and new `_id`s, several runs, enough for the tables to be rebuilt.
fn runs() -> Vec<Vec<Value>> {
    let mut out = vec![(0..1000).map(|i| entity(i, 0)).collect::<Vec<_>>()];
    for r in 1..8u64 {
        let mut batch = Vec::new();
        for i in 0..1200u64 {
            match (i * 7 + r * 13) % 11 {
                0 | 1 => batch.push(entity(i, r)),
                2 => batch.push(entity(i, 0)),
                3 if i % 5 == r % 5 => batch.push(tombstone(i)),
                4..=6 => batch.push(entity(i, r / 2)),
                _ => {}
            }
        }
        out.push(batch);
    }
    out
}

#[test]
fn a_store_with_tables_writes_what_one_without_writes() {
    let with = tempfile::tempdir().unwrap();
    let without = tempfile::tempdir().unwrap();
    let mut built = 0;
    for (n, batch) in runs().into_iter().enumerate() {
        let before = std::fs::metadata(table(with.path())).ok().map(|m| m.ino());
        let a = run(&open(with.path(), true), batch.clone());
        let b = run(&open(without.path(), false), batch);
        assert_eq!(a, b, "run {n}: write counts");
        let after = std::fs::metadata(table(with.path())).ok().map(|m| m.ino());
        if after.is_some() && after != before {
            built += 1;
        }
        assert_eq!(
            dump(&open(with.path(), true)),
            dump(&open(without.path(), false)),
            "run {n}: datasets"
        );
    }
    assert!(built >= 2, "the table was built {built} times");
    assert!(!table(without.path()).exists());
}

/// `_id`s written after the table was built, by earlier writers (read from the log when a
/// writer opens) or by this writer's earlier commits, are not taken from the table: writing
/// them back to the content the table holds is a change, not a no-op.
#[test]
fn versions_after_the_table_are_not_taken_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), true);
    run(&s, (0..1000).map(|i| entity(i, 0)).collect());
    let built = std::fs::metadata(table(dir.path())).unwrap().ino();
    // 100 changed: fewer than a rebuild needs, so the table stays as it was.
    assert_eq!(
        run(&s, (0..100).map(|i| entity(i, 1)).collect()).written,
        100
    );
    assert_eq!(std::fs::metadata(table(dir.path())).unwrap().ino(), built);
    drop(s);
    let s = open(dir.path(), true);
    let mut w = s.writer("ds", "p", false).unwrap();
    // Back to what the table says: all 100 are changes.
    let st = w.write((0..100).map(|i| entity(i, 0)).collect()).unwrap();
    assert_eq!((st.written, st.unchanged), (100, 0));
    // Others the table holds as they are: no-ops.
    let st = w.write((500..600).map(|i| entity(i, 0)).collect()).unwrap();
    assert_eq!((st.written, st.unchanged), (0, 100));
    // Changed, committed, and changed back within one writer.
    let st = w.write((600..650).map(|i| entity(i, 2)).collect()).unwrap();
    assert_eq!(st.written, 50);
    w.commit(&PipeState::new(Value::Int(2))).unwrap();
    let st = w.write((600..650).map(|i| entity(i, 0)).collect()).unwrap();
    assert_eq!((st.written, st.unchanged), (50, 0));
    w.finish_run(&PipeState::new(Value::Int(3))).unwrap();
    drop(w);
    let latest: Vec<String> = s
        .read("ds", ReadOptions::latest())
        .unwrap()
        .map(|v| to_string(&v.unwrap()))
        .filter(|j| j.contains(r#""v":0"#))
        .collect();
    assert_eq!(latest.len(), 1000);
}

#[test]
fn a_corrupt_table_is_not_used_and_goes() {
    let (with, without) = loaded_pair();
    // The first entry of every page claims to be deleted (the page count is in the footer,
    // the last 112 bytes: magic, then u64s LE, the fifth one).
    let path = table(with.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let footer = bytes.len() - 112;
    let pages = u64::from_le_bytes(bytes[footer + 40..footer + 48].try_into().unwrap()) as usize;
    assert!(pages > 10, "{pages} pages");
    for p in 0..pages {
        let at = p * 4096;
        // u32 entry count; varint shared prefix (0), varint `_id` length, `_id`, flags.
        let (mut id_len, mut i) = (0usize, at + 5);
        for shift in [0, 7] {
            id_len |= ((bytes[i] & 0x7f) as usize) << shift;
            i += 1;
            if bytes[i - 1] < 0x80 {
                break;
            }
        }
        bytes[i + id_len] ^= 1;
    }
    std::fs::write(&path, bytes).unwrap();
    let change: Vec<Value> = (0..1000).map(|i| entity(i, i % 2)).collect();
    let a = run(&open(with.path(), true), change.clone());
    let b = run(&open(without.path(), false), change);
    assert_eq!(a, b);
    assert_eq!(a.unchanged, 500);
    assert_eq!(
        dump(&open(with.path(), true)),
        dump(&open(without.path(), false))
    );

    // The run rebuilt the table. A torn footer: the next writer does not use it and
    // removes it.
    let path = table(with.path());
    let len = std::fs::metadata(&path).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len - 3).unwrap();
    let w = open(with.path(), true);
    drop(w.writer("ds", "p", false).unwrap());
    assert!(!path.exists());
}

/// A table that survived while the commits it describes did not (a power loss with
/// `PersistMode::Buffer`), and the dataset was then written differently: the record before
/// the table's offset is not the one it was built after, so the table is ignored.
#[test]
fn a_table_of_lost_commits_is_ignored() {
    let (with, without) = loaded_pair();
    let snap = tempfile::tempdir().unwrap();
    copy_dir(with.path(), snap.path());
    // The future that is lost: every entity changed, and a table describing it.
    run(
        &open(with.path(), true),
        (0..1000).map(|i| entity(i, 5)).collect(),
    );
    let future = std::fs::read(table(with.path())).unwrap();
    // What happens instead, from the snapshot: other changes, past the lost table's offset.
    let other: Vec<Value> = (0..1000).map(|i| entity(i, 6 + i % 3)).collect();
    run(&open(snap.path(), true), other.clone());
    run(&open(without.path(), false), other);
    std::fs::write(table(snap.path()), future).unwrap();
    let last: Vec<Value> = (0..1000).map(|i| entity(i, 5)).collect();
    let a = run(&open(snap.path(), true), last.clone());
    let b = run(&open(without.path(), false), last);
    assert_eq!(a, b, "the lost table would call every entity unchanged");
    assert_eq!(a.written, 1000);
    assert_eq!(
        dump(&open(snap.path(), true)),
        dump(&open(without.path(), false))
    );
}

#[test]
fn deleting_the_dataset_removes_its_table() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), true);
    run(&s, (0..1000).map(|i| entity(i, 0)).collect());
    assert!(table(dir.path()).exists());
    s.delete_dataset("ds").unwrap();
    assert!(!table(dir.path()).exists());
    // A half-written table of a killed writer goes at the next open.
    run(&s, (0..10).map(|i| entity(i, 0)).collect());
    drop(s);
    let tmp = dir.path().join("logs/9.idtab.tmp");
    let hi = dir.path().join("logs/2.idtab.hi.tmp");
    std::fs::write(&tmp, b"half").unwrap();
    std::fs::write(&hi, b"half").unwrap();
    let s = open(dir.path(), true);
    assert!(!tmp.exists() && !hi.exists());
    assert_eq!(dump(&s).len(), 10);
}

/// Two stores after the same load of 1,000 `_id`s, with tables and without.
fn loaded_pair() -> (tempfile::TempDir, tempfile::TempDir) {
    let with = tempfile::tempdir().unwrap();
    let without = tempfile::tempdir().unwrap();
    let load: Vec<Value> = (0..1000).map(|i| entity(i, 0)).collect();
    run(&open(with.path(), true), load.clone());
    run(&open(without.path(), false), load);
    (with, without)
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

#[test]
fn an_id_longer_than_a_page_gets_a_page_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), true);
    let long = |c: &str, v: u64| {
        from_str(&format!(r#"{{"_id":"e00500{}","v":{v}}}"#, c.repeat(9000))).unwrap()
    };
    let mut load: Vec<Value> = (0..1000).map(|i| entity(i, 0)).collect();
    load.push(long("L", 1));
    load.push(long("M", 1));
    run(&s, load);
    assert!(table(dir.path()).exists());
    drop(s);
    let s = open(dir.path(), true);
    let again = run(
        &s,
        vec![long("L", 1), long("M", 2), entity(500, 0), entity(501, 0)],
    );
    assert_eq!((again.written, again.unchanged), (1, 3));
}
