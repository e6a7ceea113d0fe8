//! Recovery after a crash that left many sealed, unflushed memtables in the journals: the
//! reopened store must accept writes (fjall 2 grants one flush run per partition at
//! recovery; with its default task limit the rest stayed queued and the first commit that
//! needed room waited forever — the rerun after `kill -9` hung).

use std::sync::mpsc;
use std::time::Duration;

use pumphouse_store::{PipeState, Store, StoreOptions};
use pumphouse_value::{Map, Value};

fn ent(i: u64) -> Value {
    let mut m = Map::default();
    m.insert("_id".into(), Value::String(format!("e{i}")));
    m.insert("pad".into(), Value::String("p".repeat(1000)));
    Value::Dict(m)
}

#[test]
fn a_store_reopened_with_many_unflushed_memtables_accepts_writes() {
    let dir = tempfile::tempdir().unwrap();
    // What a crash leaves: 48 sealed 1 MiB memtables in the journals, none flushed (no
    // flush worker), and the process gone without a flush (fjall does not flush on drop).
    {
        let ks = fjall::Config::new(dir.path())
            .flush_workers(0)
            .max_write_buffer_size(1 << 30)
            .max_journaling_size(1 << 32)
            .open()
            .unwrap();
        let p = ks
            .open_partition(
                "crash-left",
                fjall::PartitionCreateOptions::default().max_memtable_size(1 << 20),
            )
            .unwrap();
        for i in 0..48 * 1024u32 {
            p.insert(i.to_be_bytes(), vec![b'x'; 1000]).unwrap();
        }
        assert!(
            ks.write_buffer_size() > 40 << 20,
            "memtables stayed unflushed"
        );
    }

    // Reopen with a write buffer limit below what recovery holds: writes wait until the
    // recovered memtables are flushed, which must happen.
    let path = dir.path().to_path_buf();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let opts = StoreOptions {
            write_buffer_bytes: 16 << 20,
            ..StoreOptions::default()
        };
        let store = Store::open_with(&path, opts).unwrap();
        let mut w = store.writer("ds", "pipe", false).unwrap();
        for b in 0..20u64 {
            w.write((b * 1000..(b + 1) * 1000).map(ent).collect())
                .unwrap();
            w.commit(&PipeState::new(Value::Int(b as i64))).unwrap();
        }
        tx.send(store.pipe_state("pipe").unwrap().last_seen)
            .unwrap();
    });
    // A hang is the failure this test is about; 5 minutes is far beyond the few seconds the
    // writes take.
    let last = rx.recv_timeout(Duration::from_secs(300)).expect(
        "writes after recovery never completed: flushes of the recovered memtables did not run",
    );
    assert_eq!(last, Value::Int(19));
}
