//! `pumphouse datasets` and `pumphouse entities`: look into a store.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use pumphouse_store::{ReadIter, ReadOptions, Store};

pub(crate) fn open(data: &Path) -> anyhow::Result<Store> {
    if !data.is_dir() {
        anyhow::bail!(
            "no store at {} (run `pumphouse run --config DIR --data {}` first)",
            data.display(),
            data.display()
        );
    }
    Store::open(data).with_context(|| format!("cannot open the store at {}", data.display()))
}

/// Ends a command's use of the store: fsyncs the journal, then leaves the store to the
/// process exit instead of dropping it. fjall's drop waits for its monitor thread, which
/// sleeps 250 ms between rounds: that was a quarter of a second at the end of every command.
/// Everything committed is in the journal, which the next open replays, as after any exit
/// (dropping the keyspace does not flush memtables either).
pub(crate) fn release<S: std::borrow::Borrow<Store>>(store: S) -> anyhow::Result<()> {
    store
        .borrow()
        .sync()
        .context("cannot sync the store's journal")?;
    std::mem::forget(store);
    Ok(())
}

pub fn datasets(data: &Path) -> anyhow::Result<ExitCode> {
    let store = open(data)?;
    println!(
        "{:<50} {:>10} {:>10} {:>10}",
        "dataset", "entities", "versions", "populated"
    );
    for id in store.dataset_ids()? {
        if let Some(i) = store.dataset_info(&id)? {
            let cb = match &i.circuit_breaker {
                Some(c) if c.tripped => "  circuit breaker TRIPPED",
                Some(_) => "  run held back by its circuit breaker",
                None => "",
            };
            println!(
                "{:<50} {:>10} {:>10} {:>10}{cb}",
                i.id, i.live_count, i.version_count, i.populated
            );
        }
    }
    release(store)?;
    Ok(ExitCode::SUCCESS)
}

pub fn entities(
    data: &Path,
    dataset: &str,
    since: Option<u64>,
    limit: Option<usize>,
    history: bool,
) -> anyhow::Result<ExitCode> {
    let store = open(data)?;
    if !store.dataset_exists(dataset)? {
        let ids = store.dataset_ids()?;
        anyhow::bail!(
            "no dataset {dataset:?} in {}; the datasets are: {}",
            data.display(),
            ids.join(", ")
        );
    }
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    out.write_all(b"[")?;
    let mut buf = Vec::new();
    let mut iter = store.read(
        dataset,
        ReadOptions {
            since,
            limit,
            history,
            deleted: true,
        },
    )?;
    // Stored records go out as JSON text directly, as the API streams them.
    let mut first = true;
    while let Some((offset, record)) = iter.next_raw()? {
        buf.clear();
        buf.extend_from_slice(if first { b"\n" } else { b",\n" });
        first = false;
        ReadIter::write_json(offset, &record, &mut buf)?;
        out.write_all(&buf)?;
    }
    out.write_all(b"\n]\n")?;
    out.flush()?;
    drop(iter);
    release(store)?;
    Ok(ExitCode::SUCCESS)
}
