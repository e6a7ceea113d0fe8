//! Latest-only reads near the end of a log without an index lookup per version.
//!
//! A version is the latest of its `_id` when no later version of that `_id` is in the log up
//! to the reader's snapshot end. For the last `TAIL_VERSIONS` versions before that end, every
//! later version is itself in that stretch, so one scan of the stretch's record headers tells
//! which versions are the latest: the last one per `_id`. An incremental read since a recent
//! offset (a downstream pipe's run) thereby needs no point lookups in the `_id` index, which
//! cost a block read and decode each when the cache is cold (~3–5 µs).
//!
//! The scan keeps a 64-bit hash of each `_id` with its last offset (16 bytes an entry, at
//! most `TAIL_VERSIONS` entries), not the ids: a version whose hash is last at its offset is
//! certainly the latest; any other one (superseded, or two ids with the same hash) is decided
//! by the index as before. So a wrong answer is impossible as long as the scan covers every
//! record from the version asked about to the snapshot end; a `LatestTail` carried from one
//! read to the next (the pages of a dataset source) scans only the records committed since.

use std::collections::HashMap;
use std::sync::Arc;

use fjall::Snapshot;

use crate::codec;
use crate::logfile::LogFile;
use crate::read::cursor_at;
use crate::StoreError;

/// How many versions before the snapshot end a tail starts at most, and how many `_id`s it
/// holds at most (beyond that it is dropped and the index decides).
pub(crate) const TAIL_VERSIONS: u64 = 100_000;

type Last = HashMap<u64, u64, foldhash::fast::FixedState>;

/// What the latest-only reads of one reader know about the end of a dataset's log. Pass it
/// from one read to the next with `ReadIter::with_tail` / `ReadIter::into_tail`.
#[derive(Default)]
pub struct LatestTail {
    /// The dataset (its number) and the first offset covered; `None` until a scan.
    covers: Option<(u64, u64)>,
    /// Records before this offset are scanned.
    end: u64,
    last: Last,
    /// Too many `_id`s: the index decides from now on.
    off: bool,
}

/// The snapshot a read's tail checks against.
pub(crate) struct TailCtx {
    pub log: Arc<LogFile>,
    pub num: u64,
    /// The snapshot's end offset and committed log length.
    pub end: u64,
    pub log_end: u64,
}

/// A read's use of a tail: the tail, the snapshot to check against when the read may use it
/// (`None`: history reads, `all_latest`, a circuit breaker holding versions back), and
/// whether it may (not for a read with a limit, unless the caller passed a tail on: such a
/// read may stop long before the tail, not worth a scan of its own).
pub(crate) struct TailUse {
    pub tail: LatestTail,
    pub ctx: Option<TailCtx>,
    pub allowed: bool,
}

impl TailUse {
    pub(crate) fn off() -> TailUse {
        TailUse {
            tail: LatestTail::default(),
            ctx: None,
            allowed: false,
        }
    }

    /// `LatestTail::is_latest` when the read may use its tail, else `false` (ask the index).
    pub(crate) fn is_latest(
        &mut self,
        idx: &Snapshot,
        id: &str,
        offset: u64,
    ) -> Result<bool, StoreError> {
        match (&self.ctx, self.allowed) {
            (Some(c), true) => self.tail.is_latest(c, idx, id, offset),
            _ => Ok(false),
        }
    }
}

fn id_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

impl LatestTail {
    /// `true` if the version of `id` at `offset` is certainly the latest at the snapshot of
    /// `c`; `false` means "ask the index". Scans what it has not seen up to the snapshot end.
    pub(crate) fn is_latest(
        &mut self,
        c: &TailCtx,
        idx: &Snapshot,
        id: &str,
        offset: u64,
    ) -> Result<bool, StoreError> {
        if self.off {
            return Ok(false);
        }
        match self.covers {
            // Another dataset, or a log cut shorter (a circuit breaker's rollback): start over.
            Some((num, _)) if num != c.num || self.end > c.end => *self = LatestTail::default(),
            _ => {}
        }
        let from = match self.covers {
            Some((_, from)) => from,
            None => {
                if offset < c.end.saturating_sub(TAIL_VERSIONS) {
                    return Ok(false);
                }
                self.covers = Some((c.num, offset));
                self.end = offset;
                offset
            }
        };
        if offset < from {
            return Ok(false);
        }
        if self.end < c.end {
            if self.last.len() as u64 + (c.end - self.end) > TAIL_VERSIONS {
                *self = LatestTail {
                    off: true,
                    ..LatestTail::default()
                };
                return Ok(false);
            }
            let mut cur = cursor_at(c.log.clone(), idx, self.end, c.end, c.log_end)?;
            self.last.reserve((c.end - self.end) as usize);
            while let Some((at, _, range)) = cur.next()? {
                let h = codec::decode_header(cur.payload(range))?;
                self.last.insert(id_hash(h.id), at);
            }
            self.end = c.end;
        }
        Ok(self.last.get(&id_hash(id)) == Some(&offset))
    }
}
