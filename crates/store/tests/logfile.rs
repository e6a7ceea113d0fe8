//! The log file of a dataset (`logs/<num>.log`, docs/storage.md "The log file"): reads
//! since any offset find their start through the checkpoints, records a writer wrote but
//! did not commit are never read and are cut off, a damaged record is reported instead of
//! returned, and a store of the older format (logs inside fjall) is refused with one clear
//! error.

use pumphouse_store::{PipeState, ReadOptions, Store, StoreError};
use pumphouse_value::{transit, Map, Value};

fn ent(i: u64, version: u64, pad: usize) -> Value {
    let mut m = Map::default();
    m.insert("_id".into(), Value::String(format!("e{i}")));
    m.insert("v".into(), Value::Int(version as i64));
    m.insert("pad".into(), Value::String("p".repeat(pad)));
    Value::Dict(m)
}

fn json(it: impl Iterator<Item = Result<Value, StoreError>>) -> Vec<String> {
    it.map(|v| transit::to_string(&v.unwrap())).collect()
}

fn log_files(dir: &std::path::Path) -> Vec<(String, u64)> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("logs"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn reads_since_any_offset_equal_the_tail_of_a_full_read() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let mut w = s.writer("ds", "p", false).unwrap();
    // 700 new ids in commits of 100, then every third one changed: 933 versions, so the
    // latest-only read must skip superseded ones, past several checkpoints (every 128).
    for c in 0..7 {
        w.write((c * 100..(c + 1) * 100).map(|i| ent(i, 0, 20)).collect())
            .unwrap();
        w.commit(&PipeState::new(Value::Int(c as i64))).unwrap();
    }
    w.write((0..700).step_by(3).map(|i| ent(i, 1, 20)).collect())
        .unwrap();
    w.commit(&PipeState::new(Value::Int(7))).unwrap();
    drop(w);
    assert_eq!(s.last_offset("ds").unwrap(), Some(700 + 234 - 1));

    for history in [true, false] {
        let opts = ReadOptions {
            history,
            ..ReadOptions::all()
        };
        let full: Vec<(i64, String)> = s
            .read("ds", opts)
            .unwrap()
            .map(|v| {
                let v = v.unwrap();
                let off = v.as_dict().unwrap()["_updated"].as_i64().unwrap();
                (off, transit::to_string(&v))
            })
            .collect();
        assert_eq!(full.len(), if history { 934 } else { 700 });
        for since in [
            0u64, 1, 126, 127, 128, 129, 255, 256, 300, 511, 512, 699, 800, 932, 933,
        ] {
            let got = json(
                s.read(
                    "ds",
                    ReadOptions {
                        since: Some(since),
                        ..opts
                    },
                )
                .unwrap(),
            );
            let want: Vec<String> = full
                .iter()
                .filter(|(o, _)| *o as u64 > since)
                .map(|(_, j)| j.clone())
                .collect();
            assert_eq!(got, want, "since {since}, history {history}");
        }
    }
    // Lookups by `_id` go straight to the record's position.
    let e3 = s.get("ds", "e3").unwrap().unwrap();
    assert_eq!(e3.as_dict().unwrap()["v"], Value::Int(1));
    assert_eq!(e3.as_dict().unwrap()["_previous"], Value::Int(3));
    let e4 = s.get("ds", "e4").unwrap().unwrap();
    assert_eq!(e4.as_dict().unwrap()["v"], Value::Int(0));
}

#[test]
fn records_written_but_not_committed_are_never_read_and_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let mut w = s.writer("ds", "p", false).unwrap();
    w.write((0..10).map(|i| ent(i, 0, 100)).collect()).unwrap();
    w.commit(&PipeState::new(Value::Int(1))).unwrap();
    drop(w);
    let committed = log_files(dir.path());
    assert_eq!(committed.len(), 1);

    // 3 MB staged: most of it reaches the file before the commit that never comes.
    let mut w = s.writer("ds", "p", false).unwrap();
    w.write((10..3010).map(|i| ent(i, 0, 1000)).collect())
        .unwrap();
    assert!(log_files(dir.path())[0].1 > committed[0].1 + (2 << 20));
    drop(w);
    assert_eq!(json(s.read("ds", ReadOptions::all()).unwrap()).len(), 10);
    assert_eq!(s.get("ds", "e20").unwrap(), None);

    // The next writer cuts the file back and appends where the committed log ends.
    let mut w = s.writer("ds", "p", false).unwrap();
    assert_eq!(log_files(dir.path()), committed);
    w.write(vec![ent(5, 1, 100), ent(99, 0, 100)]).unwrap();
    w.commit(&PipeState::new(Value::Int(2))).unwrap();
    drop(w);
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    let all = json(s.read("ds", ReadOptions::all()).unwrap());
    assert_eq!(all.len(), 12);
    assert!(all[10].contains(r#""_id":"e5""#) && all[10].contains(r#""_previous":5"#));
    assert!(all[11].contains(r#""_id":"e99""#) && all[11].contains(r#""_updated":11"#));
}

#[test]
fn a_damaged_record_is_reported_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let mut w = s.writer("ds", "p", false).unwrap();
    w.write((0..300).map(|i| ent(i, 0, 50)).collect()).unwrap();
    w.commit(&PipeState::new(Value::Int(1))).unwrap();
    drop(w);
    drop(s);
    let (name, len) = log_files(dir.path()).remove(0);
    let path = dir.path().join("logs").join(name);
    let mut bytes = std::fs::read(&path).unwrap();
    // A byte inside the `pad` of a record near the middle.
    let at = (len / 2) as usize;
    assert_eq!(bytes[at], b'p');
    bytes[at] = b'q';
    std::fs::write(&path, &bytes).unwrap();

    let s = Store::open(dir.path()).unwrap();
    let results: Vec<_> = s.read("ds", ReadOptions::all()).unwrap().collect();
    let good = results.iter().take_while(|r| r.is_ok()).count();
    assert!(
        (100..200).contains(&good),
        "{good} records read before the damage"
    );
    let err = results[good].as_ref().unwrap_err().to_string();
    assert!(
        err.contains("checksum mismatch") && err.contains(&format!("offset {good}")),
        "{err}"
    );
    assert_eq!(results.len(), good + 1, "the read stops at the damage");
    let err = s.get("ds", &format!("e{good}")).unwrap_err().to_string();
    assert!(err.contains("checksum mismatch"), "{err}");
}

#[test]
fn a_store_with_logs_inside_fjall_is_refused_with_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    {
        // The dataset record of the older format: format byte 1, five u64 counters.
        let ks = fjall::Config::new(dir.path()).open().unwrap();
        let meta = ks
            .open_partition("meta", fjall::PartitionCreateOptions::default())
            .unwrap();
        let mut rec = vec![1u8];
        for x in [7u64, 3, 3, 3, 3] {
            rec.extend_from_slice(&x.to_be_bytes());
        }
        meta.insert(b"ds:old", rec).unwrap();
        ks.persist(fjall::PersistMode::SyncAll).unwrap();
    }
    let err = Store::open(dir.path()).err().expect("refused");
    assert!(matches!(err, StoreError::OldFormat), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("older pumphouse") && msg.contains("new --data directory"),
        "{msg}"
    );
}
