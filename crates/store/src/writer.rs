//! The dataset writer: stages versions (change detection, tombstones, `_filtered`), then
//! commits them with the dataset meta, the seen bitset and the pipe state in one atomic
//! batch. Full runs end with deletion tracking.

use pumphouse_value::hash::EntityEncoder;
use pumphouse_value::Value;

use crate::bitset::SeenSet;
use crate::breaker::{self, BreakerConfig, BreakerState};
use crate::codec::{self, DatasetMeta, IdxRecord};
use crate::dataset::{check_dataset_id, run_state_value, Parts};
use crate::idtab::{self, Committed, IdTab};
use crate::lock::DatasetLock;
use crate::logfile::{self, CHECKPOINT_EVERY};
use crate::newids::NewIds;
use crate::prepare::{self, Prepared};
use crate::{PipeState, Store, StoreError};

/// Counts of a write or commit. `deleted` counts the tombstones among `written`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// New versions appended (tombstones included).
    pub written: u64,
    /// Entities that matched the latest version (or were `_filtered` with nothing to delete).
    pub unchanged: u64,
    /// Tombstones appended (a subset of `written`).
    pub deleted: u64,
}

impl WriteStats {
    fn add(&mut self, o: WriteStats) {
        self.written += o.written;
        self.unchanged += o.unchanged;
        self.deleted += o.deleted;
    }
}

/// A run's memtables at least this large are sealed when it ends.
const SEAL_AT_RUN_END: u32 = 1 << 20;

/// Seals the dataset's index memtable when a run ends, so fjall flushes them to disk now instead
/// of keeping them in memory until they fill (up to `memtable_bytes` per partition) while the
/// next pipe runs: in a chain of pipes each one's memtables were still held during the next
/// one's run. Small ones (frequent small runs under `serve`) are left to grow. Failing to seal
/// is harmless (they are flushed when full), so errors are ignored.
fn seal_memtables(parts: &Parts) {
    use fjall::AbstractTree;
    if parts.idx.tree.active_memtable_size() >= SEAL_AT_RUN_END {
        let _ = parts.idx.rotate_memtable();
    }
}

/// Staged log records are written to the log file (past its committed end) once this many
/// bytes are buffered, so the commit's sync has less left to write.
const LOG_WRITE_BYTES: usize = 1 << 20;

/// A commit with at least this many staged `_id` records syncs the log on a thread of its
/// own while it builds the batch (for 10,000 records the sync took ~1.9 ms and the build
/// ~1.5 ms). Smaller commits (the execution log's: one record) sync inline, where a thread's
/// start would be most of what the overlap can save; the threshold is a choice, not measured.
const SYNC_ASIDE_MIN: usize = 1_000;

/// Which commit of a run this is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    No,
    /// The last commit of an incremental run.
    Run,
    /// The last commit of a full run (its run state goes too).
    FullRun,
}

/// State of a full run in progress.
struct FullRun {
    seen: SeenSet,
    /// True until the first commit of a run that started fresh.
    fresh: bool,
    /// Chunk keys of an earlier run to remove at the first commit.
    stale: Vec<fjall::Slice>,
    /// Pipe of an earlier abandoned run whose marker must go.
    stale_pipe: Option<String>,
}

/// Writes one dataset. Holds the dataset's lock until dropped. Dropping without `commit`
/// discards the staged versions.
pub struct Writer<'s> {
    store: &'s Store,
    lock: DatasetLock<'s>,
    pipe: String,
    parts: Parts,
    /// Committed meta plus what is staged.
    meta: DatasetMeta,
    exists: bool,
    /// Extra items for the next commit's batch (the populated flag of `finish_full_run`).
    batch: Option<fjall::Batch>,
    /// Framed log records staged and not yet written to the file.
    log_buf: Vec<u8>,
    /// File position up to which staged records were written (`log_buf` goes there).
    log_written: u64,
    /// The committed length of the log file.
    log_committed: u64,
    /// Checkpoints (offset, byte position) of the staged records.
    checkpoints: Vec<(u64, u64)>,
    /// Foldhash: SipHash was a visible share of the sink thread.
    staged_idx: foldhash::HashMap<String, IdxRecord>,
    /// Set when the dataset had no `_id` when the writer opened: the `_id`s this writer
    /// added, so change detection looks up only those it may have committed.
    new_ids: Option<NewIds>,
    /// The dataset had no `_id` when the writer opened (it holds the lock, so every index
    /// entry is this writer's): a full run's live entities were then all seen, and deletion
    /// tracking has nothing to look for.
    started_empty: bool,
    staged: WriteStats,
    /// Bytes of the log records staged since the last commit.
    staged_bytes: u64,
    full: Option<FullRun>,
    resumed: bool,
    mark_deletion_tracked: bool,
    failed: bool,
    /// Set by `pipeline()`: batches of `write` are encoded on a thread of their own, started
    /// at the first `write` (a writer fed by `write_encoded` never starts it).
    pipelined: bool,
    pipeline: Option<prepare::Pipeline>,
    /// Started at the first encoded batch with enough lookups to split (`lookup_batch`).
    lookups: Option<prepare::LookupHelper>,
    /// The circuit breaker of this run, if active: what it wrote so far is held back.
    breaker: Option<BreakerState>,
    /// Where change detection finds the committed records (fjall, or the `_id` table).
    committed: Committed,
    /// Byte position and content hash of the last version this writer staged.
    last: Option<(u64, u128)>,
    /// A held-back run of a crashed process that this writer exposes at its first commit
    /// (its pipe no longer has a breaker, or the writer is not a breaker run).
    release_held: bool,
}

impl Store {
    /// A writer for `dataset`, on behalf of `pipe`. Fails with `Locked` if another writer has
    /// the dataset.
    ///
    /// * `full_run = true` starts a new full run: the seen bitset starts empty (an earlier
    ///   interrupted run is discarded at the first commit).
    /// * `full_run = false` resumes the interrupted full run of this pipe on this dataset if
    ///   one was committed (its bitset is loaded; `is_full_run()` then says true and the
    ///   caller must end with `finish_full_run`), otherwise it is an incremental run.
    pub fn writer(
        &self,
        dataset: &str,
        pipe: &str,
        full_run: bool,
    ) -> Result<Writer<'_>, StoreError> {
        check_dataset_id(dataset)?;
        let lock = self.lock_dataset(dataset)?;
        let (meta, exists) = match self.load_meta(dataset)? {
            Some(m) => (m, true),
            None => (
                DatasetMeta {
                    num: self.alloc_num()?,
                    ..DatasetMeta::default()
                },
                false,
            ),
        };
        if let Some(st) = self.circuit_breaker(dataset)?.filter(|st| st.tripped) {
            return Err(st.tripped_error(dataset));
        }
        let release_held = exists && self.meta.contains_key(breaker::key(dataset))?;
        let parts = self.parts(meta.num)?;
        // Bytes past the committed end are from a writer that did not commit.
        parts.log.cut_to(meta.log_end)?;
        let committed = self.committed_records(&parts, &meta, exists)?;
        let run_pipe = if exists {
            self.run_pipe(meta.num)?
        } else {
            None
        };
        let mut resumed = false;
        let full = if full_run {
            let stale = if exists {
                self.run_keys(meta.num)?
                    .into_iter()
                    .filter(|k| k.len() == 12)
                    .collect()
            } else {
                Vec::new()
            };
            Some(FullRun {
                seen: SeenSet::default(),
                fresh: true,
                stale,
                stale_pipe: run_pipe.filter(|p| p != pipe),
            })
        } else if run_pipe.as_deref() == Some(pipe) {
            let mut seen = SeenSet::default();
            for kv in self.runs.prefix(codec::run_key(meta.num)) {
                let (k, v) = kv?;
                if k.len() == 12 {
                    seen.load_chunk(u32::from_be_bytes([k[8], k[9], k[10], k[11]]), &v);
                }
            }
            resumed = true;
            Some(FullRun {
                seen,
                fresh: false,
                stale: Vec::new(),
                stale_pipe: None,
            })
        } else {
            None
        };
        Ok(Writer {
            store: self,
            lock,
            pipe: pipe.to_owned(),
            parts,
            meta,
            exists,
            batch: None,
            log_buf: Vec::new(),
            log_written: meta.log_end,
            log_committed: meta.log_end,
            checkpoints: Vec::new(),
            staged_idx: foldhash::HashMap::default(),
            // Every index entry of such a dataset is written by this writer (it holds the
            // lock), so the ids it added are all the index can hold.
            new_ids: (meta.next_dense == 0).then(NewIds::default),
            started_empty: meta.next_dense == 0,
            staged_bytes: 0,
            staged: WriteStats::default(),
            full,
            resumed,
            mark_deletion_tracked: false,
            failed: false,
            pipelined: false,
            pipeline: None,
            lookups: None,
            breaker: None,
            committed,
            last: None,
            release_held,
        })
    }

    /// Where a writer of the dataset (`meta`, its lock held) finds committed records: its
    /// `_id` table when it has a valid one and fewer versions came after it than make it
    /// due for a rebuild (the writer reads those from the log when it opens), else fjall.
    fn committed_records(
        &self,
        parts: &Parts,
        meta: &DatasetMeta,
        exists: bool,
    ) -> Result<Committed, StoreError> {
        let index = || Committed::index(parts.idx.clone());
        if !exists || meta.next_dense < self.opts.id_table_min {
            return Ok(index());
        }
        let Some(tab) = IdTab::open(&self.log_dir, meta, &parts.log)? else {
            return Ok(index());
        };
        let limit = idtab::rebuild_after(meta.next_dense, self.opts.id_table_min);
        Committed::with_table(parts.idx.clone(), tab, meta, parts.log.clone(), limit)
    }

    /// Appends one entry to the execution log dataset `system:pump:<pipe>` and commits it.
    pub fn append_log(&self, pipe: &str, entity: Value) -> Result<WriteStats, StoreError> {
        let mut w = self.writer(&format!("system:pump:{pipe}"), pipe, false)?;
        w.write(vec![entity])?;
        w.commit_data()
    }
}

impl<'s> Writer<'s> {
    pub fn dataset(&self) -> &str {
        &self.lock.id
    }

    /// Whether this writer is in a full run (started or resumed).
    pub fn is_full_run(&self) -> bool {
        self.full.is_some()
    }

    /// Whether this writer resumed an interrupted full run.
    pub fn resumed(&self) -> bool {
        self.resumed
    }

    /// Adds `"$deletion_tracked": true` to deletion-tracking tombstones.
    pub fn set_mark_deletion_tracked(&mut self, on: bool) {
        self.mark_deletion_tracked = on;
    }

    /// Turns on the circuit breaker for this run (sesam-spec 2.5), before anything is
    /// written. It is active only on a populated dataset: the run's versions are then held
    /// back from readers until the run ends (`finish_run` / `finish_full_run`), and a commit
    /// that brings them past the limit trips it. A run held back by a process that crashed
    /// is resumed, counts included (its versions were never accepted). `None`: no breaker;
    /// a held-back run left by a crash is exposed at the first commit.
    pub fn set_circuit_breaker(&mut self, cfg: Option<BreakerConfig>) -> Result<(), StoreError> {
        let id = self.lock.id.clone();
        let active = match cfg {
            Some(c) if self.exists && self.store.is_populated(&id)? => Some(c),
            _ => None,
        };
        let Some(cfg) = active else {
            return Ok(());
        };
        let st = match self.store.circuit_breaker(&id)? {
            Some(st) => st,
            None => {
                let mut st =
                    BreakerState::new(&self.pipe, self.meta, self.store.pipe_state(&self.pipe)?);
                st.limit = Some(cfg.limit(self.meta.next_dense));
                st
            }
        };
        self.release_held = false;
        self.breaker = Some(st);
        Ok(())
    }

    /// The active breaker of this run, if any.
    pub fn circuit_breaker(&self) -> Option<&BreakerState> {
        self.breaker.as_ref()
    }

    /// Counts of what is staged and not yet committed (after `pipeline()`: batches still
    /// being encoded are not counted yet).
    pub fn staged(&self) -> WriteStats {
        self.staged
    }

    /// Bytes of the versions staged and not yet committed (log records, without the `_id`
    /// index entries), so a caller can commit by size as well as by count.
    pub fn staged_bytes(&self) -> u64 {
        self.staged_bytes
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.failed {
            return Err(StoreError::WriterFailed(self.lock.id.clone()));
        }
        Ok(())
    }

    /// Stages entities in order; not visible or durable until `commit`. Root `_` keys other
    /// than `_id`/`_deleted` are dropped; an unchanged entity is a no-op; `_filtered: true`
    /// becomes a tombstone if the `_id` is live. Every entity must be a dict with a string
    /// `_id`; otherwise nothing of the batch is staged.
    ///
    /// After `pipeline()`, the returned counts are those of the batches applied during this
    /// call (earlier batches, whose encoding finished); `commit` applies the rest first.
    pub fn write(&mut self, entities: Vec<Value>) -> Result<WriteStats, StoreError> {
        self.check()?;
        prepare::validate(&entities)?;
        if self.pipelined && self.pipeline.is_none() {
            self.pipeline = Some(prepare::Pipeline::start()?);
        }
        if let Some(p) = self.pipeline.as_mut() {
            // `_ts` is the time of this call, not of the later apply.
            p.send(entities, self.store.opts.clock.now_micros())?;
            let full = p.in_flight > prepare::PIPELINE_DEPTH;
            return self.apply_encoded(full, false);
        }
        self.staged_idx.reserve(entities.len());
        let prepared = prepare::prepare(&self.committed, self.new_ids.as_ref(), entities)?;
        let ts = self.store.opts.clock.now_micros();
        self.apply_all(prepared, ts)
    }

    /// Encodes later batches (hash and body) on a thread of its own while this thread looks
    /// up, stages and commits earlier ones. For a writer fed continuously (a pipe's sink).
    pub fn pipeline(&mut self) -> Result<(), StoreError> {
        self.pipelined = true;
        Ok(())
    }

    /// An encoder for `write_encoded`, to run on another thread: batches are validated,
    /// hashed and encoded there, and this writer only looks them up, stages and commits.
    pub fn encoder(&self) -> prepare::BatchEncoder {
        prepare::BatchEncoder::new(self.store.opts.clock.clone())
    }

    /// Stages a batch made by this writer's `encoder()`, after the batches of earlier
    /// `write` calls; otherwise as `write`.
    pub fn write_encoded(
        &mut self,
        batch: prepare::EncodedBatch,
    ) -> Result<WriteStats, StoreError> {
        self.check()?;
        let mut stats = self.apply_encoded(false, true)?;
        stats.add(self.lookup_and_apply(batch.items, batch.ts)?);
        Ok(stats)
    }

    /// Looks up the committed record of each entity of an encoded batch, then stages it.
    fn lookup_and_apply(
        &mut self,
        mut batch: Vec<Prepared>,
        ts: i64,
    ) -> Result<WriteStats, StoreError> {
        self.staged_idx.reserve(batch.len());
        self.lookup_batch(&mut batch)
            .inspect_err(|_| self.failed = true)?;
        self.apply_all(batch, ts)
    }

    /// The committed record of each entity of `batch`, half of them on the writer's lookup
    /// helper when the batch has `prepare::SPLIT_LOOKUPS_MIN` or more. A writer with `NewIds`
    /// (a first load) looks up only the few ids its filter cannot rule out, on its own thread.
    /// Only the committed index is read, so the result is the sequential one.
    fn lookup_batch(&mut self, batch: &mut Vec<prepare::Prepared>) -> Result<(), StoreError> {
        let new = self.new_ids.as_ref();
        if new.is_none() && batch.len() >= prepare::SPLIT_LOOKUPS_MIN {
            if self.lookups.is_none() {
                self.lookups = prepare::LookupHelper::start(&self.committed)?;
            }
            if let Some(h) = self.lookups.as_mut() {
                return h.lookup_split(&self.committed, batch);
            }
        }
        batch
            .iter_mut()
            .try_for_each(|p| prepare::lookup(&self.committed, new, p))
    }

    /// Applies encoded batches of the pipeline: those ready, at least one if `one`, all if
    /// `all`.
    fn apply_encoded(&mut self, one: bool, all: bool) -> Result<WriteStats, StoreError> {
        let mut stats = WriteStats::default();
        let mut wait = one || all;
        while let Some(r) = self.pipeline.as_mut().and_then(|p| p.recv(wait)) {
            let (batch, ts) = r.inspect_err(|_| self.failed = true)?;
            stats.add(self.lookup_and_apply(batch, ts)?);
            wait = all;
        }
        Ok(stats)
    }

    fn apply_all(&mut self, prepared: Vec<Prepared>, ts: i64) -> Result<WriteStats, StoreError> {
        let mut stats = WriteStats::default();
        for p in prepared {
            if let Err(err) = self.apply(p, ts, &mut stats) {
                self.failed = true;
                return Err(err);
            }
        }
        self.staged.add(stats);
        Ok(stats)
    }

    fn apply(&mut self, p: Prepared, ts: i64, stats: &mut WriteStats) -> Result<(), StoreError> {
        let prev = self.staged_idx.get(&p.id).copied().or(p.committed);
        if p.filtered && prev.is_none_or(|v| v.deleted) {
            stats.unchanged += 1;
            return Ok(());
        }
        if let Some(v) = prev.filter(|v| v.hash == p.hash && v.deleted == p.deleted) {
            stats.unchanged += 1;
            self.mark_seen(v.dense);
            return Ok(());
        }
        let dense = self.append(p.id, &p.body, p.deleted, p.hash, prev, ts)?;
        if !p.filtered {
            self.mark_seen(dense);
        }
        stats.written += 1;
        stats.deleted += p.deleted as u64;
        Ok(())
    }

    fn mark_seen(&mut self, dense: u64) {
        if let Some(f) = self.full.as_mut() {
            f.seen.insert(dense);
        }
    }

    /// Stages one version; returns its dense number.
    fn append(
        &mut self,
        id: String,
        body: &[u8],
        deleted: bool,
        hash: u128,
        prev: Option<IdxRecord>,
        ts: i64,
    ) -> Result<u64, StoreError> {
        let offset = self.meta.next_offset;
        let dense = match prev {
            Some(p) => p.dense,
            None => {
                if let Some(n) = self.new_ids.as_mut() {
                    n.insert(&id);
                }
                self.meta.next_dense += 1;
                self.meta.next_dense - 1
            }
        };
        let pos = self.meta.log_end;
        self.last = Some((pos, hash));
        let before = self.log_buf.len();
        logfile::frame(&mut self.log_buf, offset, |out| {
            codec::encode_log(out, deleted, ts, prev.map(|p| (p.offset, p.pos)), hash, &id);
            out.extend_from_slice(body);
        });
        let len = (self.log_buf.len() - before) as u64;
        self.meta.log_end += len;
        self.staged_bytes += len;
        if offset % CHECKPOINT_EVERY == 0 && offset > 0 {
            self.checkpoints.push((offset, pos));
        }
        if self.log_buf.len() >= LOG_WRITE_BYTES {
            self.write_log()?;
        }
        self.staged_idx.insert(
            id,
            IdxRecord {
                offset,
                dense,
                hash,
                deleted,
                pos,
            },
        );
        let was_live = prev.is_some_and(|p| !p.deleted);
        match (was_live, deleted) {
            (false, false) => self.meta.live += 1,
            (true, true) => self.meta.live -= 1,
            _ => {}
        }
        self.meta.next_offset += 1;
        self.meta.versions += 1;
        Ok(dense)
    }

    /// Writes the buffered log records to the file, past its committed end.
    fn write_log(&mut self) -> Result<(), StoreError> {
        if self.log_buf.is_empty() {
            return Ok(());
        }
        self.parts
            .log
            .write_at(self.log_written, &self.log_buf)
            .inspect_err(|_| self.failed = true)?;
        self.log_written += self.log_buf.len() as u64;
        self.log_buf.clear();
        Ok(())
    }

    /// Commits everything staged together with the pipe's new state in one atomic batch,
    /// durable (per `StoreOptions::persist`) when this returns. Returns what was committed.
    pub fn commit(&mut self, pipe_state: &PipeState) -> Result<WriteStats, StoreError> {
        self.commit_inner(Some(pipe_state), End::No)
    }

    /// As `commit`, for the last commit of an incremental run: an active circuit breaker
    /// that did not trip releases the run's versions to readers in the same batch.
    pub fn finish_run(&mut self, pipe_state: &PipeState) -> Result<WriteStats, StoreError> {
        self.commit_inner(Some(pipe_state), End::Run)
    }

    /// As `commit`, leaving the pipe state alone (for the execution log and other writes
    /// that are not a pipe run's output).
    pub fn commit_data(&mut self) -> Result<WriteStats, StoreError> {
        self.commit_inner(None, End::No)
    }

    fn commit_inner(
        &mut self,
        pipe_state: Option<&PipeState>,
        end: End,
    ) -> Result<WriteStats, StoreError> {
        self.check()?;
        self.apply_encoded(false, true)?;
        let store = self.store;
        self.write_log()?;
        // The records reach the disk before the commit that makes them part of the dataset:
        // the log's fdatasync runs on a thread of its own while the batch is built (for a
        // large batch), and the batch is committed only after it returned.
        let sync = self.log_written > self.log_committed;
        let log = self.parts.log.clone();
        let built = if sync && self.staged_idx.len() >= SYNC_ASIDE_MIN {
            let (built, synced) = std::thread::scope(|s| {
                let aside = std::thread::Builder::new()
                    .name("store-sync".into())
                    .spawn_scoped(s, || log.sync());
                let built = self.build_batch(pipe_state, end);
                let synced = match aside {
                    Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                    Err(_) => log.sync(),
                };
                (built, synced)
            });
            synced.inspect_err(|_| self.failed = true)?;
            built
        } else {
            if sync {
                log.sync().inspect_err(|_| self.failed = true)?;
            }
            self.build_batch(pipe_state, end)
        };
        let (batch, tripped_now) = built?;
        if let Err(e) = store.commit_batch(batch) {
            self.failed = true;
            return Err(e);
        }
        self.exists = true;
        self.log_committed = self.meta.log_end;
        if let Some(f) = self.full.as_mut() {
            f.fresh = false;
            f.stale.clear();
            f.stale_pipe = None;
        }
        self.release_held = false;
        if end != End::No {
            seal_memtables(&self.parts);
        }
        if tripped_now {
            self.failed = true;
            let st = self.breaker.as_ref().expect("tripped breaker");
            return Err(st.tripped_error(&self.lock.id));
        }
        if end != End::No {
            self.rebuild_table_if_due();
        }
        self.staged_bytes = 0;
        Ok(std::mem::take(&mut self.staged))
    }

    /// The fjall batch of a commit: the breaker's state, checkpoints, staged index records,
    /// the dataset's meta, the full run's bookkeeping and the pipe state. Returns whether
    /// the circuit breaker tripped with it.
    fn build_batch(
        &mut self,
        pipe_state: Option<&PipeState>,
        end: End,
    ) -> Result<(fjall::Batch, bool), StoreError> {
        let store = self.store;
        let end_run = end == End::FullRun;
        let mut batch = self.batch.take().unwrap_or_else(|| store.keyspace.batch());
        let tripped_now = self.stage_breaker(&mut batch, end != End::No);
        for (offset, pos) in self.checkpoints.drain(..) {
            batch.insert(
                &self.parts.idx,
                logfile::checkpoint_key(offset),
                pos.to_be_bytes(),
            );
        }
        // In key order: fjall inserts them into its memtable's skiplist one by one, and
        // neighbouring keys find their place along the same, cached path (the commit of a
        // 10,000-entity incremental run 5.2 -> 3.4 ms; docs/BENCHMARKS.md, twelfth session).
        let mut staged: Vec<(String, IdxRecord)> = self.staged_idx.drain().collect();
        staged.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.committed
            .committed(staged.iter().map(|(id, _)| id.as_str()));
        for (id, rec) in staged {
            batch.insert(&self.parts.idx, id.into_bytes(), rec.encode());
        }
        batch.insert(
            &store.meta,
            codec::ds_key(&self.lock.id),
            self.meta.encode(),
        );
        let num = self.meta.num;
        if end_run {
            // Everything of the run goes; nothing of the run is inserted in this batch.
            if let Some(f) = &self.full {
                if let Some(p) = &f.stale_pipe {
                    batch.remove(&store.meta, codec::run_marker_key(p, num));
                }
            }
            batch.remove(&store.meta, codec::run_marker_key(&self.pipe, num));
            for k in store.run_keys(num)? {
                batch.remove(&store.runs, k);
            }
        } else if let Some(f) = self.full.as_mut() {
            let dirty = f.seen.take_dirty();
            if f.fresh {
                if let Some(p) = &f.stale_pipe {
                    batch.remove(&store.meta, codec::run_marker_key(p, num));
                }
                for k in f
                    .stale
                    .iter()
                    .filter(|k| !dirty.contains(&u32::from_be_bytes([k[8], k[9], k[10], k[11]])))
                {
                    batch.remove(&store.runs, k.clone());
                }
                batch.insert(
                    &store.runs,
                    codec::run_key(num),
                    run_state_value(&self.pipe),
                );
                batch.insert(
                    &store.meta,
                    codec::run_marker_key(&self.pipe, num),
                    self.lock.id.as_bytes(),
                );
            }
            for c in dirty {
                batch.insert(&store.runs, codec::chunk_key(num, c), f.seen.chunk_bytes(c));
            }
        }
        if let Some(st) = pipe_state {
            batch.insert(&store.meta, codec::pipe_key(&self.pipe), st.encode());
        }
        Ok((batch, tripped_now))
    }

    /// Counts the commit's versions against an active breaker and stages its record (kept
    /// while the run goes on or when tripped, removed at the end of a run that stayed under
    /// the limit); or stages the release of a crashed run's held-back versions. Returns
    /// whether this commit trips the breaker.
    fn stage_breaker(&mut self, batch: &mut fjall::Batch, ending: bool) -> bool {
        let key = breaker::key(&self.lock.id);
        let Some(b) = self.breaker.as_mut() else {
            if self.release_held {
                batch.remove(&self.store.meta, key);
            }
            return false;
        };
        b.written += self.staged.written;
        let mut tripped_now = false;
        if let Some(limit) = b.limit.filter(|l| !b.tripped && b.written > *l) {
            b.tripped = true;
            tripped_now = true;
            b.message = Some(format!(
                "pipe {:?} wrote {} new versions in one run, more than the limit of {limit} set by circuit_breaker_threshold_factor/_count",
                b.pipe, b.written
            ));
        }
        if ending && !b.tripped {
            batch.remove(&self.store.meta, key);
        } else {
            batch.insert(&self.store.meta, key, b.encode());
        }
        tripped_now
    }

    /// Ends a full run: commits what is staged, then writes a tombstone (a copy of the latest
    /// version with `_deleted: true`) for every live `_id` not seen during the run, in
    /// commits of `StoreOptions::tombstone_batch`, and finally clears the run state, sets
    /// populated if asked and saves `pipe_state`, in one last commit. A crash in between
    /// is resumed by the next `writer(.., false)` + `finish_full_run`.
    pub fn finish_full_run(
        &mut self,
        pipe_state: &PipeState,
        set_populated: bool,
    ) -> Result<WriteStats, StoreError> {
        self.check()?;
        if self.full.is_none() {
            return Err(StoreError::NotFullRun(self.lock.id.clone()));
        }
        let mut total = self.commit(pipe_state)?;
        if !self.started_empty {
            total.add(self.track_deletions()?);
        }
        if set_populated {
            let batch = self
                .batch
                .get_or_insert_with(|| self.store.keyspace.batch());
            batch.insert(&self.store.meta, codec::pop_key(&self.lock.id), vec![1u8]);
        }
        total.add(self.commit_inner(Some(pipe_state), End::FullRun)?);
        self.full = None;
        Ok(total)
    }

    /// After a run's last commit: writes the dataset's `_id` table anew when enough
    /// versions are not covered by it (`idtab::rebuild_due`). A failure (a full disk) leaves
    /// the old table or none and is not the run's: the table only speeds up later lookups.
    fn rebuild_table_if_due(&mut self) {
        let Some((last_pos, last_hash)) = self.last else {
            return;
        };
        let covered = self.committed.covers().map_or(0, |c| c.next_offset);
        let min = self.store.opts.id_table_min;
        if !idtab::rebuild_due(self.meta.next_dense, self.meta.next_offset - covered, min) {
            return;
        }
        let covers = idtab::Covers {
            num: self.meta.num,
            next_offset: self.meta.next_offset,
            log_end: self.meta.log_end,
            last_pos,
            last_hash,
        };
        let _ = idtab::build(&self.store.log_dir, covers, &self.parts.idx.snapshot());
    }

    /// Deletion tracking of a full run: a tombstone for every live `_id` the run did not
    /// see, committed every `tombstone_batch`.
    fn track_deletions(&mut self) -> Result<WriteStats, StoreError> {
        let mut total = WriteStats::default();
        let snapshot = self.parts.idx.snapshot();
        let log = self.parts.log.clone();
        let mut enc = EntityEncoder::default();
        for kv in snapshot.iter() {
            let (k, v) = kv?;
            if logfile::is_checkpoint_key(&k) {
                // Checkpoints sort after every `_id`.
                break;
            }
            let rec = IdxRecord::decode(&v)?;
            if rec.deleted
                || self
                    .full
                    .as_ref()
                    .is_some_and(|f| f.seen.contains(rec.dense))
            {
                continue;
            }
            let id = std::str::from_utf8(&k)
                .map_err(|_| StoreError::corrupt("index key", "not utf-8"))?;
            let bytes = log.record_at(rec.pos, rec.offset)?;
            let h = codec::decode_header(&bytes)?;
            let mut m = codec::decode_body(&h)?;
            if self.mark_deletion_tracked {
                m.insert("$deletion_tracked".into(), Value::Bool(true));
            }
            m.insert("_id".into(), Value::String(id.to_owned()));
            m.insert("_deleted".into(), Value::Bool(true));
            let mut body = Vec::with_capacity(bytes.len());
            let hash = enc.encode(&m, &mut body);
            let ts = self.store.opts.clock.now_micros();
            if let Err(e) = self.append(id.to_owned(), &body, true, hash, Some(rec), ts) {
                self.failed = true;
                return Err(e);
            }
            self.staged.written += 1;
            self.staged.deleted += 1;
            if self.staged.written as usize >= self.store.opts.tombstone_batch.max(1) {
                total.add(self.commit_data()?);
            }
        }
        Ok(total)
    }
}
