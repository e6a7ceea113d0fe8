//! Circuit breakers on datasets (sesam-spec 2.5, docs/storage.md "Circuit breakers").
//!
//! A run of a pipe whose dataset sink has `circuit_breaker_threshold_factor` and/or
//! `_count`, on a populated dataset, writes *uncommitted*: its versions go to the log as
//! usual (durable, crash-safe, committed per batch with the pipe state), but readers see the
//! dataset as it was when the run started — the state record `cb:<dataset>` in the meta
//! partition says from which offset on the log is hidden. A run that ends without writing
//! more than the limit removes the record in its last commit, exposing everything at once.
//! A run that writes more trips the breaker: the record stays, marked tripped, and every
//! writer of the dataset is refused until someone rolls back (the hidden versions are
//! removed, the index, counters and the pipe's state go back to where the run started) or
//! commits (the record goes, the versions become visible). `trip!` trips it too.
//!
//! Reads with `uncommitted` see the hidden versions (for inspecting a tripped dataset).

use pumphouse_value::{Map, Value};

use crate::codec::{self, DatasetMeta, IdxRecord};
use crate::logfile::{self, LogFile, CHECKPOINT_EVERY};
use crate::read;
use crate::{PipeState, Store, StoreError};

/// Log versions undone per write batch of a rollback.
const ROLLBACK_BATCH: usize = 10_000;

/// A dataset sink's breaker settings. When both are set the limit is the larger.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BreakerConfig {
    /// A factor of the number of unique `_id`s (deleted included) at the start of the run.
    pub factor: Option<f64>,
    /// An absolute number of versions.
    pub count: Option<u64>,
}

impl BreakerConfig {
    /// How many versions a run may write to a dataset holding `ids` unique `_id`s.
    pub fn limit(&self, ids: u64) -> u64 {
        let f = self
            .factor
            .map(|f| (f * ids as f64).floor().max(0.0) as u64);
        f.into_iter().chain(self.count).max().unwrap_or(u64::MAX)
    }
}

/// The persisted breaker record of a dataset with uncommitted versions.
#[derive(Clone, Debug)]
pub struct BreakerState {
    /// The pipe whose run writes (or wrote) the uncommitted versions.
    pub pipe: String,
    /// First hidden offset: readers see offsets below it.
    pub start: u64,
    /// Versions written since `start`.
    pub written: u64,
    /// The limit of the run; `None` when `trip!` tripped a breaker that was not configured.
    pub limit: Option<u64>,
    pub tripped: bool,
    /// Why it tripped.
    pub message: Option<String>,
    /// The dataset's counters at `start` (restored by a rollback).
    pub(crate) meta_before: DatasetMeta,
    /// The pipe's state at `start` (restored by a rollback, so the next run redoes the work).
    pub(crate) pipe_before: PipeState,
}

pub(crate) fn key(dataset: &str) -> Vec<u8> {
    [b"cb:".as_slice(), dataset.as_bytes()].concat()
}

impl BreakerState {
    pub(crate) fn new(pipe: &str, meta: DatasetMeta, pipe_before: PipeState) -> Self {
        BreakerState {
            pipe: pipe.to_owned(),
            start: meta.next_offset,
            written: 0,
            limit: None,
            tripped: false,
            message: None,
            meta_before: meta,
            pipe_before,
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut m = Map::default();
        let int = |x: u64| Value::Int(x as i64);
        m.insert("pipe".into(), Value::from(self.pipe.as_str()));
        m.insert("start".into(), int(self.start));
        m.insert("written".into(), int(self.written));
        m.insert("limit".into(), self.limit.map_or(Value::Null, int));
        m.insert("tripped".into(), Value::Bool(self.tripped));
        m.insert(
            "message".into(),
            self.message.clone().map_or(Value::Null, Value::String),
        );
        m.insert("meta".into(), Value::Bytes(self.meta_before.encode()));
        m.insert("pipe_state".into(), Value::Bytes(self.pipe_before.encode()));
        codec::encode_value(&Value::Dict(m))
    }

    pub(crate) fn decode(b: &[u8]) -> Result<Self, StoreError> {
        let bad = |what: &str| StoreError::corrupt("circuit breaker", what.to_owned());
        let v = codec::decode_value(b, "circuit breaker")?;
        let m = v.as_dict().ok_or_else(|| bad("not a dict"))?;
        let uint = |k: &str| {
            m.get(k)
                .and_then(Value::as_i64)
                .map(|x| x as u64)
                .ok_or_else(|| bad(k))
        };
        let bytes = |k: &str| match m.get(k) {
            Some(Value::Bytes(b)) => Ok(b.as_slice()),
            _ => Err(bad(k)),
        };
        Ok(BreakerState {
            pipe: m
                .get("pipe")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("pipe"))?
                .to_owned(),
            start: uint("start")?,
            written: uint("written")?,
            limit: m.get("limit").and_then(Value::as_i64).map(|x| x as u64),
            tripped: matches!(m.get("tripped"), Some(Value::Bool(true))),
            message: m.get("message").and_then(Value::as_str).map(str::to_owned),
            meta_before: DatasetMeta::decode(bytes("meta")?)?,
            pipe_before: PipeState::decode(bytes("pipe_state")?)?,
        })
    }

    /// The error a refused writer or a tripping commit reports.
    pub(crate) fn tripped_error(&self, dataset: &str) -> StoreError {
        StoreError::CircuitBreakerTripped {
            dataset: dataset.to_owned(),
            message: self.message.clone().unwrap_or_default(),
        }
    }
}

/// Walks `_previous` from the version at `offset` (record at byte `pos`) to the newest one
/// below `end` (the visible latest version of that `_id`): its offset and position, `None`
/// if every version is at or past `end`.
pub(crate) fn visible_version(
    log: &LogFile,
    mut offset: u64,
    mut pos: u64,
    end: u64,
) -> Result<Option<(u64, u64)>, StoreError> {
    while offset >= end {
        let bytes = log.record_at(pos, offset)?;
        let h = codec::decode_header(&bytes)?;
        match h.previous {
            Some(p) => (offset, pos) = (p, h.previous_pos),
            None => return Ok(None),
        }
    }
    Ok(Some((offset, pos)))
}

impl Store {
    /// The breaker record of a dataset, if it has uncommitted versions or a tripped breaker.
    pub fn circuit_breaker(&self, dataset: &str) -> Result<Option<BreakerState>, StoreError> {
        self.meta
            .get(key(dataset))?
            .map(|b| BreakerState::decode(&b))
            .transpose()
    }

    /// Trips the breaker of `dataset` on behalf of `pipe` (the `trip!` DTL function): an
    /// active uncommitted run is kept hidden; without one, nothing is hidden but the dataset
    /// refuses writers all the same until it is rolled back or committed. Fails with
    /// `Locked` while a writer holds the dataset (the caller drops its writer first).
    pub fn trip_circuit_breaker(
        &self,
        dataset: &str,
        pipe: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        crate::dataset::check_dataset_id(dataset)?;
        let _guard = self.lock_dataset(dataset)?;
        let mut batch = self.keyspace.batch();
        let meta = match self.load_meta(dataset)? {
            Some(m) => m,
            None => {
                let m = DatasetMeta {
                    num: self.alloc_num()?,
                    ..DatasetMeta::default()
                };
                self.parts(m.num)?;
                batch.insert(&self.meta, codec::ds_key(dataset), m.encode());
                m
            }
        };
        let mut st = match self.circuit_breaker(dataset)? {
            Some(st) => st,
            None => BreakerState::new(pipe, meta, self.pipe_state(pipe)?),
        };
        st.tripped = true;
        st.message = Some(format!("trip! in pipe {pipe:?}: {message}"));
        batch.insert(&self.meta, key(dataset), st.encode());
        self.commit_batch(batch)
    }

    /// Makes the versions of a tripped breaker visible and resets it. The pipe keeps the
    /// state of its last commit, so its next run continues after them.
    pub fn commit_circuit_breaker(&self, dataset: &str) -> Result<BreakerState, StoreError> {
        let _guard = self.lock_dataset(dataset)?;
        let st = self.tripped_state(dataset)?;
        let mut batch = self.keyspace.batch();
        batch.remove(&self.meta, key(dataset));
        self.commit_batch(batch)?;
        Ok(st)
    }

    /// Removes the versions a tripped breaker holds back and resets it: the `_id` index, the
    /// counters and the writing pipe's state (last-seen, interrupted full run) go back to
    /// where its run started, so the next run does that work again. Undoes the newest
    /// versions first in batches of `ROLLBACK_BATCH`, each commit leaving a consistent,
    /// shorter log; a crash in between is finished by the next rollback.
    pub fn rollback_circuit_breaker(&self, dataset: &str) -> Result<BreakerState, StoreError> {
        let _guard = self.lock_dataset(dataset)?;
        let st = self.tripped_state(dataset)?;
        let mut meta = self
            .load_meta(dataset)?
            .ok_or_else(|| StoreError::NoSuchDataset(dataset.to_owned()))?;
        let parts = self.parts(meta.num)?;
        while meta.next_offset > st.start {
            let idx = parts.idx.snapshot();
            let lowest = st
                .start
                .max(meta.next_offset.saturating_sub(ROLLBACK_BATCH as u64));
            let mut undo: Vec<(u64, u64, Vec<u8>)> = Vec::new();
            let mut log = read::cursor_at(
                parts.log.clone(),
                &idx,
                lowest,
                meta.next_offset,
                meta.log_end,
            )?;
            while let Some((offset, pos, r)) = log.next()? {
                undo.push((offset, pos, log.payload(r).to_vec()));
            }
            let lowest_pos = undo.first().map_or(meta.log_end, |u| u.1);
            // Newest first, so for an `_id` with several hidden versions the oldest one's
            // `_previous` decides where its index entry ends up.
            let mut restored: foldhash::HashMap<String, Option<IdxRecord>> = Default::default();
            for (_, _, bytes) in undo.iter().rev() {
                let h = codec::decode_header(bytes)?;
                let cur = match restored.get(h.id) {
                    Some(_) => None,
                    None => idx.get(h.id.as_bytes())?,
                };
                let dense = match (cur, restored.get(h.id)) {
                    (Some(b), _) => IdxRecord::decode(&b)?.dense,
                    (None, Some(Some(r))) => r.dense,
                    _ => 0,
                };
                let rec = match h.previous {
                    None => None,
                    Some(p) => {
                        let pb = parts.log.record_at(h.previous_pos, p)?;
                        let ph = codec::decode_header(&pb)?;
                        Some(IdxRecord {
                            offset: p,
                            dense,
                            hash: ph.hash,
                            deleted: ph.deleted,
                            pos: h.previous_pos,
                        })
                    }
                };
                restored.insert(h.id.to_owned(), rec);
            }
            let mut batch = self.keyspace.batch();
            for (offset, _, _) in &undo {
                if offset % CHECKPOINT_EVERY == 0 {
                    batch.remove(&parts.idx, logfile::checkpoint_key(*offset));
                }
            }
            for (id, rec) in restored {
                match rec {
                    Some(r) => batch.insert(&parts.idx, id.into_bytes(), r.encode()),
                    None => batch.remove(&parts.idx, id.into_bytes()),
                }
            }
            meta.versions -= undo.len() as u64;
            meta.next_offset = lowest;
            meta.log_end = lowest_pos;
            batch.insert(&self.meta, codec::ds_key(dataset), meta.encode());
            self.commit_batch(batch)?;
        }
        // The records past the end were never visible; the file can shrink now. An `_id`
        // table built over them would not match the log any more (`IdTab::open` would see
        // that too); it goes.
        parts.log.cut_to(meta.log_end)?;
        crate::idtab::remove(&self.log_dir, meta.num)?;
        let mut batch = self.keyspace.batch();
        let restored = DatasetMeta {
            num: meta.num,
            ..st.meta_before
        };
        batch.insert(&self.meta, codec::ds_key(dataset), restored.encode());
        batch.insert(
            &self.meta,
            codec::pipe_key(&st.pipe),
            st.pipe_before.encode(),
        );
        self.stage_drop_run(&mut batch, meta.num)?;
        batch.remove(&self.meta, key(dataset));
        self.commit_batch(batch)?;
        Ok(st)
    }

    fn tripped_state(&self, dataset: &str) -> Result<BreakerState, StoreError> {
        match self.circuit_breaker(dataset)? {
            Some(st) if st.tripped => Ok(st),
            _ => Err(StoreError::NotTripped(dataset.to_owned())),
        }
    }
}
