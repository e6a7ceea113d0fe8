//! Streaming reads of a dataset's log (history or latest-only, with or without deleted
//! versions, since an offset) and lookups by `_id`, all on one consistent snapshot.

use std::sync::Arc;

use fjall::Snapshot;
use pumphouse_value::Value;

use crate::breaker::{self, BreakerState};
use crate::codec::{self, DatasetMeta, IdxRecord};
use crate::logfile::{self, Cursor, LogFile, CHECKPOINT_EVERY};
use crate::tail::{LatestTail, TailCtx, TailUse};
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

/// A streaming iterator over a dataset's log. It holds a snapshot: writes committed after
/// `read` was called are not seen. Memory does not grow with the dataset.
pub struct ReadIter {
    log: Cursor,
    idx: Snapshot,
    opts: ReadOptions,
    /// No `_id` has a second version at the snapshot, so every version is the latest and
    /// latest-only reads need no index lookup.
    all_latest: bool,
    returned: usize,
    done: bool,
    /// Versions at this offset and later are held back by a circuit breaker (not read), with
    /// the log file to find the visible latest version of an `_id` whose newest is.
    hidden: Option<(u64, Arc<LogFile>)>,
    /// `only_properties`: the user properties decoded (all when `None`).
    keys: Option<Arc<[String]>>,
    /// What is known of the latest versions at the end of the log (`tail`).
    tail: TailUse,
}

impl ReadIter {
    fn empty(log: Arc<LogFile>, idx: Snapshot, opts: ReadOptions) -> Self {
        ReadIter {
            log: Cursor::empty(log),
            idx,
            opts,
            all_latest: false,
            returned: 0,
            done: true,
            hidden: None,
            keys: None,
            tail: TailUse::off(),
        }
    }

    /// Uses (and extends) what an earlier read of the same dataset learnt about the end of
    /// its log (`into_tail` of that read), so that consecutive pages of latest-only reads
    /// scan each record once instead of looking each version up in the index.
    pub fn with_tail(mut self, tail: LatestTail) -> Self {
        self.tail.tail = tail;
        self.tail.allowed = true;
        self
    }

    /// What this read knows about the end of the log, for the next read (`with_tail`).
    pub fn into_tail(self) -> LatestTail {
        self.tail.tail
    }

    fn next_entity(&mut self) -> Result<Option<Value>, StoreError> {
        // Taken out while the record borrows `self`.
        let keys = self.keys.take();
        let e = match self.next_raw() {
            Ok(Some((offset, bytes))) => {
                codec::decode_entity_only(offset, bytes, keys.as_deref()).map(Some)
            }
            other => other.map(|_| None),
        };
        self.keys = keys;
        e
    }

    /// Decodes only these user properties of each entity (and every `_` property): for a
    /// reader that never looks at the others. `next_raw` is not affected.
    pub fn only_properties(mut self, keys: Arc<[String]>) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The next version as stored (offset and log record), without decoding it: for
    /// writing it out with `write_json`.
    pub fn next_raw(&mut self) -> Result<Option<(u64, &[u8])>, StoreError> {
        if self.done || self.opts.limit.is_some_and(|l| self.returned >= l) {
            return Ok(None);
        }
        while let Some((offset, _, range)) = self.log.next().inspect_err(|_| self.done = true)? {
            let h = codec::decode_header(self.log.payload(range.clone()))?;
            if h.deleted && !self.opts.deleted {
                continue;
            }
            if !self.opts.history
                && !self.all_latest
                && !self.tail.is_latest(&self.idx, h.id, offset)?
            {
                let latest = self
                    .idx
                    .get(h.id.as_bytes())?
                    .map(|b| IdxRecord::decode(&b))
                    .transpose()?;
                let latest = match (latest, &self.hidden) {
                    (Some(r), Some((end, log))) if r.offset >= *end => {
                        breaker::visible_version(log, r.offset, r.pos, *end)?.map(|v| v.0)
                    }
                    (r, _) => r.map(|r| r.offset),
                };
                if latest != Some(offset) {
                    continue;
                }
            }
            self.returned += 1;
            return Ok(Some((offset, self.log.payload(range))));
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
        let idx = parts.idx.snapshot_at(instant);
        let start = match opts.since {
            None => 0,
            Some(s) => match s.checked_add(1) {
                Some(x) => x,
                None => return Ok(ReadIter::empty(parts.log, idx, opts)),
            },
        };
        // The dataset record commits with the log's index entries and its committed length,
        // so at the same instant its counters describe exactly this log: one version per
        // `_id` means none is superseded.
        let meta_at = self.meta.snapshot_at(instant);
        let at = meta_at
            .get(codec::ds_key(id))?
            .map(|b| DatasetMeta::decode(&b))
            .transpose()?;
        let Some(at) = at.filter(|m| m.num == meta.num) else {
            return Ok(ReadIter::empty(parts.log, idx, opts));
        };
        let held = match uncommitted {
            true => None,
            false => meta_at
                .get(breaker::key(id))?
                .map(|b| BreakerState::decode(&b))
                .transpose()?,
        };
        let all_latest = held.is_none() && at.versions == at.next_dense;
        // Held-back records end where the breaker run began: a reader never reads ahead
        // into them, so a rollback that cuts them off meanwhile cannot cut a read short.
        let (end, log_end) = held.as_ref().map_or((at.next_offset, at.log_end), |st| {
            (st.start, st.meta_before.log_end)
        });
        let log = cursor_at(parts.log.clone(), &idx, start, end, log_end)?;
        let tail = TailUse {
            tail: LatestTail::default(),
            ctx: (!opts.history && !all_latest && held.is_none()).then(|| TailCtx {
                log: parts.log.clone(),
                num: meta.num,
                end,
                log_end,
            }),
            allowed: opts.limit.is_none(),
        };
        Ok(ReadIter {
            log,
            idx,
            opts,
            all_latest,
            returned: 0,
            done: false,
            hidden: held.map(|st| (st.start, parts.log)),
            keys: None,
            tail,
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
        let idx = parts.idx.snapshot_at(instant);
        let Some(rec) = idx.get(entity_id.as_bytes())? else {
            return Ok(None);
        };
        let rec = IdxRecord::decode(&rec)?;
        let (mut offset, mut pos) = (rec.offset, rec.pos);
        if !uncommitted {
            let held = self.meta.snapshot_at(instant).get(breaker::key(id))?;
            if let Some(st) = held.map(|b| BreakerState::decode(&b)).transpose()? {
                match breaker::visible_version(&parts.log, offset, pos, st.start)? {
                    Some(v) => (offset, pos) = v,
                    None => return Ok(None),
                }
            }
        }
        let bytes = parts.log.record_at(pos, offset)?;
        codec::decode_entity(offset, &bytes).map(Some)
    }

    /// Offset of the newest version, `None` if empty or missing.
    pub fn last_offset(&self, id: &str) -> Result<Option<u64>, StoreError> {
        Ok(self
            .load_meta(id)?
            .and_then(|m| m.next_offset.checked_sub(1)))
    }
}

/// A cursor over the records from offset `start` up to (not including) `end`, within the
/// first `log_end` bytes of the file, found through the checkpoints of `idx`.
pub(crate) fn cursor_at(
    log: Arc<LogFile>,
    idx: &Snapshot,
    start: u64,
    end: u64,
    log_end: u64,
) -> Result<Cursor, StoreError> {
    if start >= end {
        return Ok(Cursor::empty(log));
    }
    let from = start / CHECKPOINT_EVERY * CHECKPOINT_EVERY;
    let pos = match from {
        0 => 0,
        _ => {
            let b = idx.get(logfile::checkpoint_key(from))?.ok_or_else(|| {
                StoreError::corrupt("log checkpoint", format!("none for offset {from}"))
            })?;
            codec::be_u64(&b, "log checkpoint")?
        }
    };
    let mut c = Cursor::new(log, pos, from, end, log_end);
    c.skip_to(start)?;
    Ok(c)
}
