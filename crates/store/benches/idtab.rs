//! `_id` tables over many incremental runs: N `_id`s loaded, then R runs that each change
//! C random `_id`s, each run in a freshly opened store (as each `pumphouse run` is), once with
//! `_id` tables (the default) and once without. Prints every run's seconds (open of the
//! writer, its lookups and writes, the last commit, and the table rebuild when one is due),
//! so the cost of the log scan at open, which grows until the next rebuild, and of the
//! rebuilds shows. Run: `cargo bench -p pumphouse-store --bench idtab -- [N] [R] [C]`.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use pumphouse_store::{PipeState, Store, StoreOptions};
use pumphouse_value::{Map, Value};

fn entity(i: u64, gen: u64) -> Value {
    let mut m = Map::default();
    m.insert("_id".into(), Value::String(format!("contact-{i}")));
    m.insert("name".into(), Value::String(format!("Contact {i}")));
    m.insert("email".into(), Value::String(format!("c{i}@example.com")));
    m.insert("gen".into(), Value::Int(gen as i64));
    Value::Dict(m)
}

fn open(dir: &Path, tables: bool) -> Store {
    let opts = StoreOptions {
        id_table_min: if tables { 50_000 } else { u64::MAX },
        ..StoreOptions::default()
    };
    Store::open_with(dir, opts).expect("open")
}

/// One run in a fresh store: the entities in batches of 1,000, committed every 10,000.
fn run(dir: &Path, tables: bool, ids: impl Iterator<Item = u64>, gen: u64) -> f64 {
    let store = open(dir, tables);
    let ids: Vec<u64> = ids.collect();
    let start = Instant::now();
    let mut w = store.writer("ds", "bench", false).expect("writer");
    for (n, chunk) in ids.chunks(1_000).enumerate() {
        w.write(chunk.iter().map(|i| entity(*i, gen)).collect())
            .expect("write");
        if n % 10 == 9 {
            w.commit(&PipeState::new(Value::Int(gen as i64)))
                .expect("commit");
        }
    }
    w.finish_run(&PipeState::new(Value::Int(gen as i64)))
        .expect("finish");
    drop(w);
    start.elapsed().as_secs_f64()
}

fn table_ino(dir: &Path) -> Option<u64> {
    std::fs::metadata(dir.join("logs/1.idtab"))
        .ok()
        .map(|m| m.ino())
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(1_000_000);
    let rounds = args.get(1).copied().unwrap_or(30);
    let changed = args.get(2).copied().unwrap_or(n / 100);
    let with = tempfile::tempdir().expect("tempdir");
    let without = tempfile::tempdir().expect("tempdir");
    println!("N = {n} _ids, {rounds} runs of {changed} changed _ids each");
    let load_with = run(with.path(), true, 0..n, 0);
    let load_without = run(without.path(), false, 0..n, 0);
    println!("load: {load_with:.3} s with tables, {load_without:.3} s without");
    println!("run  with tables  without  table rebuilt");
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut sum_with, mut sum_without) = (0.0, 0.0);
    for r in 1..=rounds {
        let ids: Vec<u64> = (0..changed)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng % n
            })
            .collect();
        let before = table_ino(with.path());
        let a = run(with.path(), true, ids.iter().copied(), r);
        let b = run(without.path(), false, ids.iter().copied(), r);
        let rebuilt = table_ino(with.path()) != before;
        sum_with += a;
        sum_without += b;
        println!(
            "{r:3}  {a:11.4}  {b:7.4}  {}",
            if rebuilt { "yes" } else { "" }
        );
    }
    println!(
        "total of the runs: {sum_with:.3} s with tables, {sum_without:.3} s without ({:.0}%)",
        100.0 * sum_with / sum_without
    );
}
