//! Streaming reads of a dataset's log (history or latest-only, with or without deleted
//! versions, since an offset) and lookups by `_id`, all on one consistent snapshot.

use fjall::Snapshot;
use pumphouse_value::Value;

use crate::breaker::{self, BreakerState};
use crate::codec::{self, DatasetMeta, IdxRecord};
use crate::{Store, StoreError};

/// What `Store::read` returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Only versions with an offset strictly greater than this; `None` = from the start.
    pub since: Option<u64>,
    /// At most this many entities (after filtering).
    pub limit: Option<usize>,
    /// Every version (`true`) or only versions that are still the latest of their `_id`.
    pub history: bool,
    /// Include deleted versions (tombstones).
    pub deleted: bool,
}

impl ReadOptions {
    /// The raw dataset API's default: every version, deleted included.
    pub fn all() -> Self {
        ReadOptions {
            since: None,
            limit: None,
            history: true,
            deleted: true,
        }
    }
    /// What a dataset source reads: latest versions, deleted included.
    pub fn latest() -> Self {
        ReadOptions {
            since: None,
            limit: None,
            history: false,
            deleted: true,
        }
    }
}

type KvIter = Box<dyn Iterator<Item = Result<fjall::KvPair, fjall::LsmError>>>;

/// A streaming iterator over a dataset's log. It holds a snapshot: writes committed after
/// `read` was called are not seen. Memory does not grow with the dataset.
pub struct ReadIter {
    log: KvIter,
    idx: Snapshot,
    opts: ReadOptions,
    /// No `_id` has a second version at the snapshot, so every version is the latest and
    /// latest-only reads need no index lookup.
    all_latest: bool,
    returned: usize,
    done: bool,
    /// Versions at this offset and later are held back by a circuit breaker (not read), with
    /// the log snapshot to find the visible latest version of an `_id` whose newest is.
    hidden: Option<(u64, Snapshot)>,
}

impl ReadIter {
    fn empty(idx: Snapshot, opts: ReadOptions) -> Self {
        ReadIter {
            log: Box::new(std::iter::empty()),
            idx,
            opts,
            all_latest: false,
            returned: 0,
            done: true,
            hidden: None,
        }
    }

    fn next_entity(&mut self) -> Result<Option<Value>, StoreError> {
        match self.next_raw()? {
            Some((offset, bytes)) => codec::decode_entity(offset, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The next version as stored (offset and log record), without decoding it: for
    /// writing it out with `write_json`.
    pub fn next_raw(&mut self) -> Result<Option<(u64, fjall::Slice)>, StoreError> {
        if self.done || self.opts.limit.is_some_and(|l| self.returned >= l) {
            return Ok(None);
        }
        while let Some(kv) = self.log.next() {
            let (k, v) = kv.inspect_err(|_| self.done = true)?;
            let offset = codec::be_u64(&k, "log key")?;
            let h = codec::decode_header(&v)?;
            if h.deleted && !self.opts.deleted {
                continue;
            }
            if !self.opts.history && !self.all_latest {
                let latest = self
                    .idx
                    .get(h.id.as_bytes())?
                    .map(|b| IdxRecord::decode(&b))
                    .transpose()?;
                let latest = match (latest, &self.hidden) {
                    (Some(r), Some((end, log))) if r.offset >= *end => {
                        breaker::visible_version(log, r.offset, *end)?
                    }
                    (r, _) => r.map(|r| r.offset),
                };
                if latest != Some(offset) {
                    continue;
                }
            }
            self.returned += 1;
            return Ok(Some((offset, v)));
        }
        self.done = true;
        Ok(None)
    }

    /// Appends the transit JSON of a version `next_raw` returned, byte for byte what
    /// `transit::write` gives for the decoded entity (user properties, then `_id`,
    /// `_deleted`, `_updated`, `_previous`, `_ts`, `_hash`), straight from the stored bytes.
    pub fn write_json(offset: u64, record: &[u8], out: &mut Vec<u8>) -> Result<(), StoreError> {
        codec::entity_json(offset, record, out)
    }

    /// Whether a record `next_raw` returned is a deleted version (a tombstone).
    pub fn is_deleted(record: &[u8]) -> Result<bool, StoreError> {
        Ok(codec::decode_header(record)?.deleted)
    }
}

impl Iterator for ReadIter {
    type Item = Result<Value, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_entity() {
            Ok(v) => v.map(Ok),
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl Store {
    /// Streams entities of a dataset in offset order. `NoSuchDataset` if it does not exist.
    /// Versions a circuit breaker holds back are not seen (see `read_view`).
    pub fn read(&self, id: &str, opts: ReadOptions) -> Result<ReadIter, StoreError> {
        self.read_view(id, opts, false)
    }

    /// As `read`; with `uncommitted` it also returns the versions a circuit breaker holds
    /// back (the `uncommitted=true` of the dataset API, for inspecting a tripped dataset).
    pub fn read_view(
        &self,
        id: &str,
        opts: ReadOptions,
        uncommitted: bool,
    ) -> Result<ReadIter, StoreError> {
        let meta = self
            .load_meta(id)?
            .ok_or_else(|| StoreError::NoSuchDataset(id.to_owned()))?;
        let parts = self.parts(meta.num)?;
        let instant = self.keyspace.instant();
        let (log, idx) = (
            parts.log.snapshot_at(instant),
            parts.idx.snapshot_at(instant),
        );
        let start = match opts.since {
            None => 0,
            Some(s) => match s.checked_add(1) {
                Some(x) => x,
                None => return Ok(ReadIter::empty(idx, opts)),
            },
        };
        // The dataset record commits with the log, so at the same instant its counters
        // describe exactly this log: one version per `_id` means none is superseded.
        let meta_at = self.meta.snapshot_at(instant);
        let at = meta_at
            .get(codec::ds_key(id))?
            .map(|b| DatasetMeta::decode(&b))
            .transpose()?;
        let held = match uncommitted {
            true => None,
            false => meta_at
                .get(breaker::key(id))?
                .map(|b| BreakerState::decode(&b))
                .transpose()?,
        };
        let all_latest =
            held.is_none() && at.is_some_and(|m| m.num == meta.num && m.versions == m.next_dense);
        let hidden = held.map(|st| (st.start, parts.log.snapshot_at(instant)));
        let log: KvIter = match &hidden {
            Some((end, _)) if start >= *end => Box::new(std::iter::empty()),
            Some((end, _)) => Box::new(log.range(start.to_be_bytes()..end.to_be_bytes())),
            None => Box::new(log.range(start.to_be_bytes()..)),
        };
        Ok(ReadIter {
            log,
            idx,
            opts,
            all_latest,
            returned: 0,
            done: false,
            hidden,
        })
    }

    /// The latest version of `entity_id` (deleted or not), or `None`. Versions a circuit
    /// breaker holds back are not seen (see `get_view`).
    pub fn get(&self, id: &str, entity_id: &str) -> Result<Option<Value>, StoreError> {
        self.get_view(id, entity_id, false)
    }

    /// As `get`; with `uncommitted` the latest version even if a circuit breaker holds it back.
    pub fn get_view(
        &self,
        id: &str,
        entity_id: &str,
        uncommitted: bool,
    ) -> Result<Option<Value>, StoreError> {
        let Some(meta) = self.load_meta(id)? else {
            return Ok(None);
        };
        let parts = self.parts(meta.num)?;
        let instant = self.keyspace.instant();
        let (log, idx) = (
            parts.log.snapshot_at(instant),
            parts.idx.snapshot_at(instant),
        );
        let Some(rec) = idx.get(entity_id.as_bytes())? else {
            return Ok(None);
        };
        let mut offset = IdxRecord::decode(&rec)?.offset;
        if !uncommitted {
            let held = self.meta.snapshot_at(instant).get(breaker::key(id))?;
            if let Some(st) = held.map(|b| BreakerState::decode(&b)).transpose()? {
                match breaker::visible_version(&log, offset, st.start)? {
                    Some(o) => offset = o,
                    None => return Ok(None),
                }
            }
        }
        let bytes = log.get(offset.to_be_bytes())?.ok_or_else(|| {
            StoreError::corrupt(
                "index",
                format!("{entity_id:?} points to missing offset {offset}"),
            )
        })?;
        codec::decode_entity(offset, &bytes).map(Some)
    }

    /// Offset of the newest version, `None` if empty or missing.
    pub fn last_offset(&self, id: &str) -> Result<Option<u64>, StoreError> {
        Ok(self
            .load_meta(id)?
            .and_then(|m| m.next_offset.checked_sub(1)))
    }
}
