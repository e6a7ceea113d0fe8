//! Dataset-level operations: listing, info, the populated flag, deletion, pipe state, and the
//! clean-up of half-created or half-deleted datasets when the store opens.

use std::collections::HashSet;
use std::sync::Arc;

use fjall::{PartitionCreateOptions, PartitionHandle};
use pumphouse_value::{Map, Value};

use crate::codec::{self, DatasetMeta};
use crate::idtab;
use crate::lock::mutex;
use crate::logfile::LogFile;
use crate::{PipeState, Store, StoreError};

/// Summary of one dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetInfo {
    pub id: String,
    /// `_id`s whose latest version is not deleted.
    pub live_count: u64,
    /// Versions in the log (= `last_offset + 1`; nothing is compacted yet).
    pub version_count: u64,
    /// Offset (`_updated`) of the newest version; `None` when empty.
    pub last_offset: Option<u64>,
    pub populated: bool,
    /// Set while a circuit breaker holds versions back (the counts above leave them out) or
    /// is tripped.
    pub circuit_breaker: Option<BreakerSummary>,
}

/// What `DatasetInfo` tells about a circuit breaker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakerSummary {
    pub tripped: bool,
    /// Versions held back (written by the run, not visible to readers).
    pub held_back: u64,
    pub limit: Option<u64>,
    pub message: Option<String>,
}

/// A dataset's log file and index partition.
pub(crate) struct Parts {
    pub log: Arc<LogFile>,
    pub idx: PartitionHandle,
}

/// Log files kept open beyond those in use; past this, unused ones are closed.
pub(crate) const OPEN_LOGS: usize = 256;

pub(crate) fn check_dataset_id(id: &str) -> Result<(), StoreError> {
    if id.is_empty() {
        return Err(StoreError::InvalidDatasetId(id.to_owned(), "empty"));
    }
    if id.contains('/') {
        return Err(StoreError::InvalidDatasetId(id.to_owned(), "contains '/'"));
    }
    Ok(())
}

/// Data block size of new index partitions (fjall's default is 4 KiB; index blocks keep it).
/// Set through `CreateOptions::data_block_size`, a public field fjall 2 hides from its docs
/// (`block_size()` would change the index blocks too).
const IDX_DATA_BLOCK: u32 = 1 << 10;
/// Target size of the index partitions' segments (fjall's default is 64 MiB).
const IDX_TARGET_SIZE: u32 = 8 << 20;
/// Flushed index segments (L0) merged into L1 once this many accumulate (fjall's default is
/// 4). A dataset's `_id`s arrive in no key order, so every L0 segment overlaps all of L1 and
/// each L0 → L1 compaction rewrites the whole of L1: with 16 there are a quarter as many (L1
/// is also 4× larger, `target_size × l0_threshold`). A full chain run took ~10% less CPU and
/// its peak memory was lower; lookups, which check each L0 segment's Bloom filter first, were
/// as fast (docs/BENCHMARKS.md, eighth session). fjall 2 starts delaying writes at 20 L0
/// segments and halts them at 32, so this leaves four flushes of room while a compaction runs.
const IDX_L0_THRESHOLD: u8 = 16;

/// The options of the store's new partitions, built once at open:
/// `PartitionCreateOptions::default()` builds a whole lsm-tree `Config` (its folder made
/// absolute, a block cache, a descriptor table), and `parts` runs for every `Store::get`, so a
/// `hops` join paid that per lookup (~8% of a 1M-entity `hops` pipe's busiest thread,
/// docs/BENCHMARKS.md, eleventh session).
pub(crate) struct PartOptions {
    /// The `_id` indexes (`d<N>_idx`): `keyed`, and their blocks are stored without
    /// compression (the values are 41 bytes around a random 16-byte hash) and hold 1 KiB of
    /// data instead of 4, so a lookup that misses the block cache decodes a quarter of the
    /// entries (docs/storage.md, `d<N>_idx`).
    pub idx: PartitionCreateOptions,
    /// Partitions whose keys arrive in no key order (the `_id` indexes, `deps`, `joins`):
    /// memtables of half `memtable_bytes`, and leveled compaction that merges 16 flushed
    /// segments at a time (`IDX_L0_THRESHOLD`) into segments of 8 MiB instead of 64
    /// (`IDX_TARGET_SIZE`): while it writes one, fjall keeps 16 bytes per key for the
    /// segment's Bloom filter (1M `_id`s made a 16-32 MiB buffer, the peak of a 1M-entity
    /// run). With fjall's defaults for `deps` and `joins` (16 MiB memtables, 64 MiB segments),
    /// a 1M-entity `hops` pipe peaked at 172-193 MB instead of 111-113 MB (docs/storage.md,
    /// "`joins` and `deps`").
    pub keyed: PartitionCreateOptions,
}

impl PartOptions {
    pub(crate) fn new(memtable_bytes: u32) -> PartOptions {
        let mt = memtable_bytes.max(1 << 20);
        let keyed = PartitionCreateOptions::default()
            .max_memtable_size((mt / 2).max(1 << 20))
            .compaction_strategy(fjall::compaction::Strategy::Leveled(
                fjall::compaction::Leveled {
                    target_size: IDX_TARGET_SIZE,
                    l0_threshold: IDX_L0_THRESHOLD,
                    ..Default::default()
                },
            ));
        let mut idx = keyed.clone().compression(fjall::CompressionType::None);
        idx.data_block_size = IDX_DATA_BLOCK;
        PartOptions { idx, keyed }
    }
}

fn part_name(num: u64, kind: &str) -> String {
    format!("d{num}_{kind}")
}

impl Store {
    pub(crate) fn load_meta(&self, id: &str) -> Result<Option<DatasetMeta>, StoreError> {
        self.meta
            .get(codec::ds_key(id))?
            .map(|b| DatasetMeta::decode(&b))
            .transpose()
    }

    /// The log file of dataset `num`, opened (created when missing) once and shared.
    fn log_file(&self, num: u64) -> Result<Arc<LogFile>, StoreError> {
        let mut logs = mutex(&self.logs);
        if let Some(f) = logs.get(&num) {
            return Ok(f.clone());
        }
        if logs.len() >= OPEN_LOGS {
            logs.retain(|_, f| Arc::strong_count(f) > 1);
        }
        let f = Arc::new(LogFile::open(&self.log_dir, num)?);
        logs.insert(num, f.clone());
        Ok(f)
    }

    /// Opens (creating when missing) the log file and index partition of dataset `num`.
    pub(crate) fn parts(&self, num: u64) -> Result<Parts, StoreError> {
        let log = self.log_file(num)?;
        // fjall keeps a partition's options from its creation; these apply to new datasets.
        let idx_opts = self.part_opts.idx.clone();
        let idx = self
            .keyspace
            .open_partition(&part_name(num, "idx"), idx_opts)?;
        Ok(Parts { log, idx })
    }

    /// The options of new `deps` and `joins` partitions (`PartOptions::keyed`).
    pub(crate) fn keyed_options(&self) -> PartitionCreateOptions {
        self.part_opts.keyed.clone()
    }

    /// A new dataset number. Numbers are never reused (a deleted dataset's partition folders
    /// may outlive it briefly), so the counter is persisted before the number is handed out.
    pub(crate) fn alloc_num(&self) -> Result<u64, StoreError> {
        let mut n = mutex(&self.next_num);
        let mut batch = self.keyspace.batch();
        batch.insert(&self.meta, b"seq".as_slice(), (*n + 1).to_be_bytes());
        self.commit_batch(batch)?;
        *n += 1;
        Ok(*n - 1)
    }

    /// The pipe of the interrupted full run on dataset `num`, if any.
    pub(crate) fn run_pipe(&self, num: u64) -> Result<Option<String>, StoreError> {
        let Some(b) = self.runs.get(codec::run_key(num))? else {
            return Ok(None);
        };
        match codec::decode_value(&b, "run state")?.get("pipe") {
            Some(Value::String(p)) => Ok(Some(p.clone())),
            _ => Err(StoreError::corrupt("run state", "no pipe")),
        }
    }

    /// Keys of everything under dataset `num` in the runs partition (state and chunks).
    pub(crate) fn run_keys(&self, num: u64) -> Result<Vec<fjall::Slice>, StoreError> {
        self.runs
            .prefix(codec::run_key(num))
            .map(|kv| Ok(kv?.0))
            .collect()
    }

    /// Stages removal of dataset `num`'s full-run state, chunks and marker.
    pub(crate) fn stage_drop_run(
        &self,
        batch: &mut fjall::Batch,
        num: u64,
    ) -> Result<(), StoreError> {
        if let Some(pipe) = self.run_pipe(num)? {
            batch.remove(&self.meta, codec::run_marker_key(&pipe, num));
        }
        for k in self.run_keys(num)? {
            batch.remove(&self.runs, k);
        }
        Ok(())
    }

    pub(crate) fn commit_batch(&self, batch: fjall::Batch) -> Result<(), StoreError> {
        Ok(batch.durability(Some(self.opts.persist)).commit()?)
    }

    /// Ids of all datasets, sorted.
    pub fn dataset_ids(&self) -> Result<Vec<String>, StoreError> {
        self.meta
            .prefix(b"ds:")
            .map(|kv| {
                let (k, _) = kv?;
                String::from_utf8(k[3..].to_vec())
                    .map_err(|_| StoreError::corrupt("dataset key", "not utf-8"))
            })
            .collect()
    }

    pub fn dataset_exists(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.meta.contains_key(codec::ds_key(id))?)
    }

    /// Counts as readers see them: without versions a circuit breaker holds back.
    pub fn dataset_info(&self, id: &str) -> Result<Option<DatasetInfo>, StoreError> {
        let Some(m) = self.load_meta(id)? else {
            return Ok(None);
        };
        let cb = self.circuit_breaker(id)?;
        let m = cb.as_ref().map_or(m, |st| st.meta_before);
        Ok(Some(DatasetInfo {
            id: id.to_owned(),
            live_count: m.live,
            version_count: m.versions,
            last_offset: m.next_offset.checked_sub(1),
            populated: self.is_populated(id)?,
            circuit_breaker: cb.map(|st| BreakerSummary {
                tripped: st.tripped,
                held_back: st.written,
                limit: st.limit,
                message: st.message,
            }),
        }))
    }

    pub fn is_populated(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .meta
            .get(codec::pop_key(id))?
            .is_some_and(|b| b.first() == Some(&1)))
    }

    /// Sets the populated flag. Setting it on a missing dataset creates the dataset, empty.
    /// Allowed while a writer holds the dataset (the flag is a key of its own).
    pub fn set_populated(&self, id: &str, populated: bool) -> Result<(), StoreError> {
        check_dataset_id(id)?;
        let mut batch = self.keyspace.batch();
        let guard = self.lock_dataset(id).ok();
        if populated && guard.is_some() && self.load_meta(id)?.is_none() {
            let meta = DatasetMeta {
                num: self.alloc_num()?,
                ..DatasetMeta::default()
            };
            self.parts(meta.num)?;
            batch.insert(&self.meta, codec::ds_key(id), meta.encode());
        }
        batch.insert(&self.meta, codec::pop_key(id), vec![populated as u8]);
        self.commit_batch(batch)
    }

    /// Drops a dataset and all its data. A missing dataset is not an error. Fails with
    /// `Locked` while a writer holds it.
    pub fn delete_dataset(&self, id: &str) -> Result<(), StoreError> {
        let _guard = self.lock_dataset(id)?;
        let meta = self.load_meta(id)?;
        let mut batch = self.keyspace.batch();
        batch.remove(&self.meta, codec::ds_key(id));
        batch.remove(&self.meta, codec::pop_key(id));
        batch.remove(&self.meta, crate::breaker::key(id));
        batch.remove(&self.meta, crate::completeness::key(id));
        if let Some(m) = meta {
            self.stage_drop_run(&mut batch, m.num)?;
        }
        self.commit_batch(batch)?;
        // The partitions are unreachable now; a crash before this line leaves orphans that
        // `cleanup_orphans` removes at the next open.
        if let Some(m) = meta {
            self.drop_partitions(m.num)?;
        }
        Ok(())
    }

    fn drop_partitions(&self, num: u64) -> Result<(), StoreError> {
        // `d<num>_log`: the log partition of stores before the log files (none are opened
        // any more, but a name is a name).
        for kind in ["log", "idx"] {
            let name = part_name(num, kind);
            if self.keyspace.partition_exists(&name) {
                let h = self
                    .keyspace
                    .open_partition(&name, PartitionCreateOptions::default())?;
                self.keyspace.delete_partition(h)?;
            }
        }
        mutex(&self.logs).remove(&num);
        idtab::remove(&self.log_dir, num)?;
        match std::fs::remove_file(LogFile::path_in(&self.log_dir, num)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// The pipe's state; the default (null `last_seen`) when never saved.
    pub fn pipe_state(&self, pipe: &str) -> Result<PipeState, StoreError> {
        match self.meta.get(codec::pipe_key(pipe))? {
            Some(b) => PipeState::decode(&b),
            None => Ok(PipeState::default()),
        }
    }

    /// Saves a pipe's state outside a run (reset, set-last-seen, ...). This abandons any
    /// interrupted full run of the pipe, so a later incremental run does not resume it and
    /// deletion-track against a partial bitset. Fails with `Locked` if such a run's dataset
    /// is being written. Runs save their state through `Writer::commit`.
    pub fn set_pipe_state(&self, pipe: &str, st: &PipeState) -> Result<(), StoreError> {
        let mut batch = self.keyspace.batch();
        let mut guards = Vec::new();
        for kv in self.meta.prefix(codec::run_marker_prefix(pipe)) {
            let (k, v) = kv?;
            let num = codec::be_u64(&k[k.len() - 8..], "run marker")?;
            let dataset = String::from_utf8(v.to_vec())
                .map_err(|_| StoreError::corrupt("run marker", "not utf-8"))?;
            guards.push(self.lock_dataset(&dataset)?);
            self.stage_drop_run(&mut batch, num)?;
        }
        batch.insert(&self.meta, codec::pipe_key(pipe), st.encode());
        self.commit_batch(batch)
    }

    /// Pipes with saved state.
    pub fn pipe_ids(&self) -> Result<Vec<String>, StoreError> {
        self.meta
            .prefix(b"pipe:")
            .map(|kv| {
                String::from_utf8(kv?.0[5..].to_vec())
                    .map_err(|_| StoreError::corrupt("pipe key", "not utf-8"))
            })
            .collect()
    }

    /// Removes a pipe's state (when the pipe is deleted).
    pub fn delete_pipe_state(&self, pipe: &str) -> Result<(), StoreError> {
        self.set_pipe_state(pipe, &PipeState::default())?;
        let mut batch = self.keyspace.batch();
        batch.remove(&self.meta, codec::pipe_key(pipe));
        self.commit_batch(batch)
    }

    /// Deletes partitions, log files and run state that no dataset record points to (left by a crash
    /// between creating a dataset's partitions and its first commit, or inside a delete).
    /// Returns the next dataset number to hand out.
    pub(crate) fn cleanup_orphans(&self) -> Result<u64, StoreError> {
        let mut live = HashSet::new();
        for kv in self.meta.prefix(b"ds:") {
            live.insert(DatasetMeta::decode(&kv?.1)?.num);
        }
        for name in self.keyspace.list_partitions() {
            let num = name
                .strip_prefix('d')
                .and_then(|r| r.strip_suffix("_log").or_else(|| r.strip_suffix("_idx")))
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(num) = num.filter(|n| !live.contains(n)) {
                self.drop_partitions(num)?;
            }
        }
        for entry in std::fs::read_dir(&self.log_dir)? {
            let name = entry?.file_name();
            let name = name.to_str().unwrap_or_default();
            let num = name
                .strip_suffix(".log")
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(num) = num.filter(|n| !live.contains(n)) {
                self.drop_partitions(num)?;
            }
            // A table of a dataset that is gone, or one a killed writer left half-written
            // (no writer runs while the store opens).
            if let Some(num) = idtab::file_num(name) {
                if !live.contains(&num) || name.ends_with(".tmp") {
                    let _ = std::fs::remove_file(self.log_dir.join(name));
                }
            }
        }
        let mut batch = self.keyspace.batch();
        for kv in self.runs.iter() {
            let (k, _) = kv?;
            if !live.contains(&codec::be_u64(&k, "run key")?) {
                batch.remove(&self.runs, k);
            }
        }
        for kv in self.meta.prefix(b"runp:") {
            let (k, _) = kv?;
            if k.len() < 8 || !live.contains(&codec::be_u64(&k[k.len() - 8..], "run marker")?) {
                batch.remove(&self.meta, k);
            }
        }
        if !batch.is_empty() {
            self.commit_batch(batch)?;
        }
        let seq = match self.meta.get(b"seq")? {
            Some(b) => codec::be_u64(&b, "seq")?,
            None => 1,
        };
        Ok(live.into_iter().max().map_or(seq, |m| seq.max(m + 1)))
    }
}

/// The run-state record: which pipe runs the full run.
pub(crate) fn run_state_value(pipe: &str) -> Vec<u8> {
    let mut m = Map::default();
    m.insert("pipe".into(), Value::from(pipe));
    codec::encode_value(&Value::Dict(m))
}
