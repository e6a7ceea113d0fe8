//! Pumphouse's embedded store: datasets as append-only logs of entity versions with an `_id`
//! index, change detection, deletion tracking for full runs, the populated flag and per-pipe
//! state. Each log is an append-only file of its own; everything else lives in the fjall LSM
//! engine. A batch of versions is written to its log file and synced, then its index
//! entries, the dataset's committed log length and the pipe state commit in one atomic fjall
//! write batch. The on-disk format is described in docs/storage.md.

mod bitset;
mod breaker;
mod clock;
mod codec;
mod completeness;
mod dataset;
mod deps;
mod error;
mod idtab;
mod index;
mod lock;
mod logfile;
mod newids;
mod pipe;
mod prepare;
mod read;
mod tail;
mod writer;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fjall::{Config, Keyspace, PartitionCreateOptions, PartitionHandle};

pub use breaker::{BreakerConfig, BreakerState};
pub use clock::{Clock, ManualClock, SystemClock};
pub use completeness::Completeness;
pub use dataset::{BreakerSummary, DatasetInfo};
pub use error::StoreError;
pub use fjall::PersistMode;
pub use index::{name_hash as index_name_hash, IndexCatchUp};
pub use pipe::PipeState;
pub use prepare::{BatchEncoder, EncodedBatch};
pub use read::{ReadIter, ReadOptions};
pub use tail::LatestTail;
pub use writer::{WriteStats, Writer};

/// How a store is opened.
#[derive(Clone)]
pub struct StoreOptions {
    /// Durability of a returned `commit`. `Buffer` (default) hands the journal to the OS: the
    /// commit survives a crash of the process (kill -9) but not of the machine. `SyncData` /
    /// `SyncAll` also survive power loss, at the price of an fsync per commit.
    pub persist: PersistMode,
    /// Stamps `_ts`.
    pub clock: Arc<dyn Clock>,
    /// Deletion-tracking tombstones per commit in `finish_full_run`.
    pub tombstone_batch: usize,
    /// Block cache size in bytes.
    pub cache_bytes: u64,
    /// Memory for memtables across all datasets before writes wait for flushes. A limit, not
    /// an allocation (docs/storage.md, "Knobs").
    pub write_buffer_bytes: u64,
    /// Twice the memtable size of each new dataset's `_id`-index partition (it gets half;
    /// the other half was the log partition's until the logs became files).
    /// 8 MiB (docs/storage.md, "Knobs"): a memtable holds about twice its nominal size (fjall
    /// counts keys and values, not the skiplist), and 16 MiB made the chain benchmark's peak
    /// 15-20 MB higher for no measurable CPU. 8 MiB once hung the rerun after kill -9 of a
    /// 1M-entity run; that was fjall's flush scheduling after recovery, fixed by
    /// `FLUSH_TASKS_PER_RUN`, and the crash tests pass with it.
    pub memtable_bytes: u32,
    /// If set, a background thread fsyncs the journal this often (default 100 ms). This bounds
    /// what a power loss can take in `Buffer` mode, and it makes commits ~20% faster: the fsync
    /// a journal rotation does has little left to write.
    pub fsync_ms: Option<u16>,
    /// Datasets with at least this many `_id`s get an `_id` table (`logs/<num>.idtab`,
    /// docs/storage.md): a writer rebuilds it after a run once an eighth of the `_id`s (at
    /// least this many versions) came after it, and finds committed records there with one
    /// page read instead of a point read in fjall.
    pub id_table_min: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            persist: PersistMode::Buffer,
            clock: Arc::new(SystemClock),
            tombstone_batch: 10_000,
            cache_bytes: 8 << 20,
            write_buffer_bytes: 256 << 20,
            memtable_bytes: 8 << 20,
            fsync_ms: Some(100),
            id_table_min: 50_000,
        }
    }
}

/// How many sealed memtables one fjall flush run may take (fjall's `flush_workers`, which
/// is not a thread count but the task limit of a run; it defaults to the number of cores).
/// After a crash, recovery queues every sealed memtable left in the journals but grants only
/// one flush run per partition; with the default limit (2 here) the rest stay queued with no
/// run to take them, and the first commit that needs room (write buffer or journal limit)
/// waits forever. A limit above anything a crash can leave (write buffer / smallest
/// memtable) drains the queue in the first run. See docs/storage.md, "Recovery".
const FLUSH_TASKS_PER_RUN: usize = 512;

/// The store: one fjall keyspace holding every dataset and all pipe state.
pub struct Store {
    keyspace: Keyspace,
    /// Dataset meta, populated flags, pipe states, run markers.
    meta: PartitionHandle,
    /// Full-run state and seen-bitset chunks.
    runs: PartitionHandle,
    opts: StoreOptions,
    /// Datasets with a live writer (or a delete in progress).
    locks: Mutex<HashSet<String>>,
    /// Next internal dataset number.
    next_num: Mutex<u64>,
    /// The folder of the datasets' log files (`<store>/logs`).
    log_dir: PathBuf,
    /// Open log files by dataset number.
    logs: Mutex<HashMap<u64, Arc<logfile::LogFile>>>,
    /// The options of new index, `deps` and `joins` partitions.
    part_opts: dataset::PartOptions,
}

/// File descriptors fjall may keep open for its segment files: its Linux default (900)
/// less the log files the store keeps open (`dataset::OPEN_LOGS`), so the store as a whole
/// stays within the usual soft limit of 1024 descriptors as it did before the logs left fjall.
const FJALL_OPEN_FILES: usize = 900 - dataset::OPEN_LOGS;

impl Store {
    /// Opens (creating if needed) the store in `dir` with default options.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, StoreOptions::default())
    }

    pub fn open_with(dir: &Path, opts: StoreOptions) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)?;
        let log_dir = dir.join("logs");
        if !log_dir.is_dir() {
            std::fs::create_dir_all(&log_dir)?;
            // The folder's name durable, like the log files' names (`LogFile::open`).
            std::fs::File::open(dir)?.sync_all()?;
        }
        let keyspace = Config::new(dir)
            .cache_size(opts.cache_bytes)
            .max_write_buffer_size(opts.write_buffer_bytes)
            .fsync_ms(opts.fsync_ms)
            .flush_workers(FLUSH_TASKS_PER_RUN)
            .max_open_files(FJALL_OPEN_FILES)
            .open()?;
        let meta = keyspace.open_partition("meta", PartitionCreateOptions::default())?;
        let runs = keyspace.open_partition("runs", PartitionCreateOptions::default())?;
        let part_opts = dataset::PartOptions::new(opts.memtable_bytes);
        let store = Store {
            keyspace,
            meta,
            runs,
            opts,
            locks: Mutex::new(HashSet::new()),
            next_num: Mutex::new(1),
            log_dir,
            logs: Mutex::new(HashMap::new()),
            part_opts,
        };
        let next = store.cleanup_orphans()?;
        *lock::mutex(&store.next_num) = next;
        Ok(store)
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.opts
    }

    /// Forces the journal to disk with fsync (e.g. at shutdown when running with `Buffer`).
    /// Log files need no such call: a commit syncs its log file before it commits.
    pub fn sync(&self) -> Result<(), StoreError> {
        Ok(self.keyspace.persist(PersistMode::SyncAll)?)
    }
}
