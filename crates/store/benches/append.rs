//! Append benchmark: N new entities of ~500 bytes into one dataset, B per commit (log + `_id`
//! index + meta + pipe state per commit), then an unchanged rewrite of the same entities and a
//! full streaming read. Run: `cargo bench -p pumphouse-store --bench append -- [N] [B]`.

use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use pumphouse_store::{PipeState, ReadOptions, Store};
use pumphouse_value::{Map, Value};

fn entity(i: u64, gen: i64) -> Value {
    let mut m = Map::default();
    m.insert("_id".into(), Value::String(format!("person-{i:010}")));
    m.insert(
        "name".into(),
        Value::String(format!("Person number {i} with a reasonably long name")),
    );
    m.insert(
        "email".into(),
        Value::String(format!("person.{i}@example.com")),
    );
    m.insert("age".into(), Value::Int((i % 90) as i64));
    m.insert("gen".into(), Value::Int(gen));
    m.insert(
        "address".into(),
        Value::String(format!(
            "{i} Some Street, Some Town, Some Country, postcode {}",
            i % 10000
        )),
    );
    m.insert(
        "tags".into(),
        Value::List(
            (0..5)
                .map(|t| Value::String(format!("tag-{}", (i + t) % 50)))
                .collect(),
        ),
    );
    m.insert("notes".into(), Value::String("x".repeat(250)));
    Value::Dict(m)
}

static T0: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);

fn run(store: &Store, ds: &str, n: u64, batch: u64, gen: i64) -> (f64, u64) {
    let mut w = store.writer(ds, "bench", false).expect("writer");
    let (mut t_write, mut t_commit) = (0.0, 0.0);
    let mut written = 0;
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        // Building the entities is the caller's cost, not timed.
        let entities: Vec<Value> = (i..end).map(|j| entity(j, gen)).collect();
        let start = Instant::now();
        w.write(entities).expect("write");
        let mid = Instant::now();
        written += w
            .commit(&PipeState::new(Value::Int(end as i64)))
            .expect("commit")
            .written;
        t_write += (mid - start).as_secs_f64();
        t_commit += mid.elapsed().as_secs_f64();
        if std::env::var("SLOW").is_ok() && mid.elapsed().as_millis() > 40 {
            println!(
                "    slow commit at {end}: {} ms (at {:.3})",
                mid.elapsed().as_millis(),
                T0.elapsed().as_secs_f64()
            );
        }
        i = end;
    }
    println!("  (write {t_write:.2} s, commit {t_commit:.2} s)");
    (t_write + t_commit, written)
}

/// Prints fjall's info-level messages (write stalls) when LOG is set.
struct StallLog(Instant);
impl log::Log for StallLog {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Info
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            println!("    [{:>8.3}] {}", self.0.elapsed().as_secs_f64(), r.args());
        }
    }
    fn flush(&self) {}
}

fn main() {
    if std::env::var("LOG").is_ok() {
        let _ = log::set_logger(Box::leak(Box::new(StallLog(*T0))))
            .map(|()| log::set_max_level(log::LevelFilter::Info));
    }
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(1_000_000);
    let batch = args.get(1).copied().unwrap_or(10_000);
    if std::env::args().any(|a| a == "raw") {
        return raw(n, batch);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // Optional overrides: WB (write buffer MiB), MT (log memtable MiB).
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let mut opts = pumphouse_store::StoreOptions::default();
    if let Some(wb) = env("WB") {
        opts.write_buffer_bytes = wb << 20;
    }
    if let Some(mt) = env("MT") {
        opts.memtable_bytes = (mt << 20) as u32;
    }
    if let Some(ms) = env("FSYNC_MS") {
        opts.fsync_ms = (ms > 0).then_some(ms as u16);
    }
    let store = Store::open_with(dir.path(), opts).expect("open");
    let size = pumphouse_value::bin::to_vec(&entity(1, 0)).len();
    println!(
        "{n} entities of {size} bytes (binary), {batch} per commit, persist mode {:?}",
        store.options().persist
    );

    let (t, written) = run(&store, "bench", n, batch, 0);
    println!(
        "append new:       {:>8.0} entities/s ({t:.2} s, {written} versions)",
        n as f64 / t
    );
    if std::env::var("QUICK").is_ok() {
        return;
    }
    let (t, written) = run(&store, "bench", n, batch, 0);
    println!(
        "rewrite unchanged:{:>8.0} entities/s ({t:.2} s, {written} versions)",
        n as f64 / t
    );
    let (t, written) = run(&store, "bench", n, batch, 1);
    println!(
        "rewrite changed:  {:>8.0} entities/s ({t:.2} s, {written} versions)",
        n as f64 / t
    );

    let start = Instant::now();
    let count = store
        .read("bench", ReadOptions::latest())
        .expect("read")
        .filter(|r| r.is_ok())
        .count();
    let t = start.elapsed().as_secs_f64();
    println!(
        "read latest:      {:>8.0} entities/s ({t:.2} s, {count} entities)",
        count as f64 / t
    );
    let start = Instant::now();
    let count = store
        .read("bench", ReadOptions::all())
        .expect("read")
        .filter(|r| r.is_ok())
        .count();
    let t = start.elapsed().as_secs_f64();
    println!(
        "read history:     {:>8.0} entities/s ({t:.2} s, {count} versions)",
        count as f64 / t
    );
}

/// Baseline: the same bytes straight into fjall (log + index partition, one batch per commit).
fn raw(n: u64, batch: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let ks = fjall::Config::new(dir.path())
        .max_write_buffer_size(env("WB", 64) << 20)
        .open()
        .expect("open");
    let comp = if env("LZ4", 1) == 1 {
        fjall::CompressionType::Lz4
    } else {
        fjall::CompressionType::None
    };
    let o = || {
        fjall::PartitionCreateOptions::default()
            .max_memtable_size((env("MT", 16) << 20) as u32)
            .compression(comp)
    };
    let log = ks.open_partition("log", o()).expect("p");
    let idx = ks.open_partition("idx", o()).expect("p");
    let val = vec![7u8; 476];
    let start = Instant::now();
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        let mut b = ks.batch();
        for j in i..end {
            b.insert(&log, j.to_be_bytes(), val.as_slice());
            b.insert(&idx, format!("person-{j:010}"), j.to_be_bytes());
        }
        b.durability(Some(fjall::PersistMode::Buffer))
            .commit()
            .expect("commit");
        i = end;
    }
    let t = start.elapsed().as_secs_f64();
    println!(
        "raw fjall baseline: {:>8.0} entities/s ({t:.2} s)",
        n as f64 / t
    );
}
