//! `_id` tables: an immutable file per dataset, `logs/<num>.idtab`, holding the `_id` index
//! record of every `_id` as of one log offset, so a writer's change detection finds the
//! committed record of an `_id` with one 4 KiB `pread` instead of a point read in fjall
//! (where each lookup that misses the block cache costs an `lseek`, an 8 KiB `read` and the
//! decoding of a whole block, ~4-5 µs; docs/BENCHMARKS.md, fourteenth session).
//!
//! A table is only ever an accelerator: the fjall index stays the truth and is written as
//! before. A writer uses its dataset's table for an `_id` only when the `_id` certainly has
//! no version at or after the table's offset (`Committed`): the versions since that offset
//! are read from the log when the writer opens, and each of the writer's commits adds its
//! `_id`s, to a Bloom filter (`NewIds`) whose "maybe" sends the lookup to fjall. Any doubt
//! about a table (a checksum, the log no longer matching, a read error) makes the writer
//! ignore it. A writer rebuilds the table after a run's last commit once enough versions
//! are not covered (`rebuild_due`), from a snapshot of the fjall index taken under the
//! dataset's lock.
//!
//! Layout: pages, each a `u32` entry count, entries (`u32` `_id` length, `_id`, the 41-byte
//! `IdxRecord`) in `_id` byte order, zero padding to `PAGE` bytes and the XXH3-64 of the
//! bytes before it (a page whose one entry needs more than `PAGE` is as long as it needs);
//! then the page index: each page's byte position (`u64`) and first `_id` (`u32` length +
//! bytes); then the footer (`Covers`, counts, checksums). A table is written to
//! `<num>.idtab.tmp` and renamed; it is never changed after. It needs no fsync: after a
//! power loss a missing or torn table fails its checksums, and one that outlived the fjall
//! commits it describes no longer matches the log (`IdTab::open`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use fjall::PartitionHandle;

use crate::codec::{self, DatasetMeta, IdxRecord};
use crate::logfile::{self, Cursor, LogFile};
use crate::newids::NewIds;
use crate::StoreError;

/// Bytes of a page (one page of the OS page cache).
const PAGE: usize = 4096;
/// The page checksum at the end of each page.
const PAGE_SUM: usize = 8;
const RECORD: usize = 41;
const MAGIC: [u8; 8] = *b"PHIDTAB1";
const FOOTER: usize = 8 * 12 + 16;

/// The table's name for dataset `num`.
pub(crate) fn path_in(dir: &Path, num: u64) -> PathBuf {
    dir.join(format!("{num}.idtab"))
}

fn tmp_path_in(dir: &Path, num: u64) -> PathBuf {
    dir.join(format!("{num}.idtab.tmp"))
}

/// The dataset number of a table file's name (`<num>.idtab` or `<num>.idtab.tmp`).
pub(crate) fn file_num(name: &str) -> Option<u64> {
    name.strip_suffix(".idtab")
        .or_else(|| name.strip_suffix(".idtab.tmp"))
        .and_then(|n| n.parse().ok())
}

/// Removes the table of dataset `num` (and a half-written one).
pub(crate) fn remove(dir: &Path, num: u64) -> Result<(), StoreError> {
    for p in [path_in(dir, num), tmp_path_in(dir, num)] {
        match std::fs::remove_file(p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

/// What a table describes: dataset `num` up to (not including) offset `next_offset`, whose
/// log was `log_end` bytes long then; the last version before it starts at byte `last_pos`
/// and has content hash `last_hash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Covers {
    pub num: u64,
    pub next_offset: u64,
    pub log_end: u64,
    pub last_pos: u64,
    pub last_hash: u128,
}

/// Versions after a table's offset at which a writer of a dataset with `ids` `_id`s stops
/// using it and rebuilds it: a quarter of the `_id`s, at least `min`. A rebuild reads the
/// whole fjall index (~0.45 µs an `_id`); the table saves ~2.5 µs a lookup, and each
/// version written was one lookup, so rebuilding sooner than every ~ids/5 versions would
/// cost more than it saves (docs/BENCHMARKS.md, fourteenth session).
pub(crate) fn rebuild_after(ids: u64, min: u64) -> u64 {
    (ids / 4).max(min)
}

/// Whether a writer that leaves `uncovered` versions past the table's offset (all of them
/// without a table) rebuilds the table of its dataset with `ids` `_id`s.
pub(crate) fn rebuild_due(ids: u64, uncovered: u64, min: u64) -> bool {
    ids >= min && uncovered >= rebuild_after(ids, min)
}

/// An open table.
pub(crate) struct IdTab {
    file: File,
    covers: Covers,
    /// The first `_id` of every page, one after the other; page `p`'s is
    /// `firsts[starts[p]..starts[p + 1]]`.
    firsts: Vec<u8>,
    starts: Vec<u32>,
    /// Byte position of every page, and the end of the last one.
    offsets: Vec<u64>,
}

fn le(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn le32(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes")) as usize
}

fn bad(why: impl Into<String>) -> StoreError {
    StoreError::corrupt("_id table", why)
}

/// Fills and writes pages.
struct PageWriter {
    out: BufWriter<File>,
    page: Vec<u8>,
    count: u32,
    /// The page index: position and first `_id` of each page written or being filled.
    top: Vec<u8>,
    /// Bytes written.
    at: u64,
    pages: u64,
    entries: u64,
}

impl PageWriter {
    fn flush_page(&mut self) -> Result<(), StoreError> {
        if self.count == 0 {
            return Ok(());
        }
        self.page[..4].copy_from_slice(&self.count.to_le_bytes());
        if self.page.len() < PAGE - PAGE_SUM {
            self.page.resize(PAGE - PAGE_SUM, 0);
        }
        let sum = xxhash_rust::xxh3::xxh3_64(&self.page);
        self.out.write_all(&self.page)?;
        self.out.write_all(&sum.to_le_bytes())?;
        self.at += (self.page.len() + PAGE_SUM) as u64;
        self.page.clear();
        self.page.extend_from_slice(&[0; 4]);
        self.count = 0;
        self.pages += 1;
        Ok(())
    }

    fn add(&mut self, id: &[u8], rec: &[u8]) -> Result<(), StoreError> {
        let need = 4 + id.len() + RECORD;
        if self.count > 0 && self.page.len() + need > PAGE - PAGE_SUM {
            self.flush_page()?;
        }
        if self.count == 0 {
            self.top.extend_from_slice(&self.at.to_le_bytes());
            self.top.extend_from_slice(&(id.len() as u32).to_le_bytes());
            self.top.extend_from_slice(id);
        }
        self.page.extend_from_slice(&(id.len() as u32).to_le_bytes());
        self.page.extend_from_slice(id);
        self.page.extend_from_slice(rec);
        self.count += 1;
        self.entries += 1;
        Ok(())
    }
}

/// Writes the table of `covers` from the `_id` entries of a snapshot of the dataset's index
/// partition taken when the dataset was at `covers` (the caller holds the dataset's lock).
/// Returns the number of entries.
pub(crate) fn build(dir: &Path, covers: Covers, idx: &fjall::Snapshot) -> Result<u64, StoreError> {
    let tmp = tmp_path_in(dir, covers.num);
    match write_table(&tmp, covers, idx) {
        Ok(n) => {
            std::fs::rename(&tmp, path_in(dir, covers.num))?;
            Ok(n)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write_table(tmp: &Path, covers: Covers, idx: &fjall::Snapshot) -> Result<u64, StoreError> {
    let file = File::create(tmp)?;
    let mut w = PageWriter {
        out: BufWriter::with_capacity(256 << 10, file),
        page: vec![0; 4],
        count: 0,
        top: Vec::new(),
        at: 0,
        pages: 0,
        entries: 0,
    };
    let mut last: Option<fjall::Slice> = None;
    for kv in idx.iter() {
        let (k, v) = kv?;
        if logfile::is_checkpoint_key(&k) {
            // Checkpoints sort after every `_id`.
            break;
        }
        if v.len() != RECORD || last.as_ref().is_some_and(|l| *l >= k) {
            return Err(bad("index entries out of order or of the wrong size"));
        }
        w.add(&k, &v)?;
        last = Some(k);
    }
    w.flush_page()?;
    let top_sum = xxhash_rust::xxh3::xxh3_64(&w.top);
    let mut footer = Vec::with_capacity(FOOTER);
    footer.extend_from_slice(&MAGIC);
    for x in [
        covers.num,
        covers.next_offset,
        covers.log_end,
        covers.last_pos,
        w.pages,
        w.entries,
        w.top.len() as u64,
        top_sum,
    ] {
        footer.extend_from_slice(&x.to_le_bytes());
    }
    footer.extend_from_slice(&covers.last_hash.to_le_bytes());
    footer.extend_from_slice(&w.at.to_le_bytes());
    footer.extend_from_slice(&[0; 8]);
    let sum = xxhash_rust::xxh3::xxh3_64(&footer);
    footer.extend_from_slice(&sum.to_le_bytes());
    debug_assert_eq!(footer.len(), FOOTER);
    w.out.write_all(&w.top)?;
    w.out.write_all(&footer)?;
    w.out.into_inner().map_err(|e| e.into_error())?;
    Ok(w.entries)
}

impl IdTab {
    /// Opens the table of dataset `meta.num` if there is one that describes the committed
    /// dataset: its offset not past the dataset's end and the log's record just before it
    /// the one the table was built after. A table that does not is removed (the caller
    /// holds the dataset's lock); `None` then, and when there is none.
    pub(crate) fn open(
        dir: &Path,
        meta: &DatasetMeta,
        log: &LogFile,
    ) -> Result<Option<IdTab>, StoreError> {
        let path = path_in(dir, meta.num);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        match IdTab::check(file, meta, log) {
            Ok(t) => Ok(Some(t)),
            Err(_) => {
                remove(dir, meta.num)?;
                Ok(None)
            }
        }
    }

    fn check(file: File, meta: &DatasetMeta, log: &LogFile) -> Result<IdTab, StoreError> {
        let len = file.metadata()?.len();
        if len < FOOTER as u64 {
            return Err(bad("shorter than its footer"));
        }
        let mut f = [0u8; FOOTER];
        file.read_exact_at(&mut f, len - FOOTER as u64)?;
        if f[..8] != MAGIC || xxhash_rust::xxh3::xxh3_64(&f[..FOOTER - 8]) != le(&f, FOOTER - 8) {
            return Err(bad("footer"));
        }
        let covers = Covers {
            num: le(&f, 8),
            next_offset: le(&f, 16),
            log_end: le(&f, 24),
            last_pos: le(&f, 32),
            last_hash: u128::from_le_bytes(f[72..88].try_into().expect("16 bytes")),
        };
        let (pages, top_len, top_sum, data_len) = (le(&f, 40), le(&f, 56), le(&f, 64), le(&f, 88));
        if covers.num != meta.num
            || covers.next_offset == 0
            || covers.next_offset > meta.next_offset
            || covers.log_end > meta.log_end
            || data_len + top_len + FOOTER as u64 != len
        {
            return Err(bad("does not describe the dataset"));
        }
        // The record before the table's offset is still the one it was built after: a log
        // cut back (a breaker's rollback, commits lost with the machine) and written again
        // would not end at the same byte with the same content.
        let last = log.record_at(covers.last_pos, covers.next_offset - 1)?;
        let h = codec::decode_header(&last)?;
        if h.hash != covers.last_hash
            || covers.last_pos + (logfile::FRAME + last.len()) as u64 != covers.log_end
        {
            return Err(bad("the log changed after it was built"));
        }
        let mut top = vec![0u8; top_len as usize];
        file.read_exact_at(&mut top, data_len)?;
        if xxhash_rust::xxh3::xxh3_64(&top) != top_sum {
            return Err(bad("page index checksum"));
        }
        let mut starts = Vec::with_capacity(pages as usize + 1);
        let mut offsets = Vec::with_capacity(pages as usize + 1);
        let mut firsts = Vec::with_capacity(top.len());
        let mut at = 0;
        while at < top.len() {
            let head = top.get(at..at + 12).ok_or_else(|| bad("page index"))?;
            let (pos, n) = (le(head, 0), le32(head, 8));
            let id = top.get(at + 12..at + 12 + n).ok_or_else(|| bad("page index"))?;
            if offsets.last().is_some_and(|l| *l >= pos) || pos >= data_len {
                return Err(bad("page index"));
            }
            offsets.push(pos);
            starts.push(firsts.len() as u32);
            firsts.extend_from_slice(id);
            at += 12 + n;
        }
        if starts.len() as u64 != pages {
            return Err(bad("page index"));
        }
        starts.push(firsts.len() as u32);
        offsets.push(data_len);
        Ok(IdTab {
            file,
            covers,
            firsts,
            starts,
            offsets,
        })
    }

    pub(crate) fn covers(&self) -> Covers {
        self.covers
    }

    fn first(&self, p: usize) -> &[u8] {
        &self.firsts[self.starts[p] as usize..self.starts[p + 1] as usize]
    }

    /// The record `id` had at the table's offset.
    pub(crate) fn get(&self, id: &str) -> Result<Option<IdxRecord>, StoreError> {
        let id = id.as_bytes();
        let pages = self.starts.len() - 1;
        let after = partition_point(pages, |p| self.first(p) <= id);
        let Some(p) = after.checked_sub(1) else {
            return Ok(None);
        };
        let (from, to) = (self.offsets[p], self.offsets[p + 1]);
        let len = (to - from) as usize;
        let mut small = [0u8; PAGE];
        let mut large = Vec::new();
        let page = if len <= PAGE {
            &mut small[..len]
        } else {
            large.resize(len, 0);
            &mut large[..]
        };
        if len < 4 + PAGE_SUM {
            return Err(bad(format!("page {p} of {len} bytes")));
        }
        self.file.read_exact_at(page, from)?;
        let body = len - PAGE_SUM;
        if xxhash_rust::xxh3::xxh3_64(&page[..body]) != le(page, body) {
            return Err(bad(format!("checksum of page {p}")));
        }
        let mut at = 4;
        for _ in 0..le32(page, 0) {
            if at + 4 > body {
                return Err(bad(format!("entry past the end of page {p}")));
            }
            let n = le32(page, at);
            let end = at + 4 + n + RECORD;
            if end > body {
                return Err(bad(format!("entry past the end of page {p}")));
            }
            match page[at + 4..at + 4 + n].cmp(id) {
                std::cmp::Ordering::Less => at = end,
                std::cmp::Ordering::Equal => {
                    return IdxRecord::decode(&page[at + 4 + n..end]).map(Some)
                }
                std::cmp::Ordering::Greater => break,
            }
        }
        Ok(None)
    }
}

/// The first `i` in `0..n` for which `pred` is false (`pred` true then false).
fn partition_point(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The committed `_id` records a writer looks up: from fjall, or from its dataset's table
/// for the `_id`s certainly not written since the table's offset. Cloned for the writer's
/// lookup threads; the writer adds its commits' `_id`s with `committed`.
#[derive(Clone)]
pub(crate) struct Committed {
    idx: PartitionHandle,
    fast: Option<Arc<Fast>>,
}

struct Fast {
    tab: IdTab,
    /// The `_id`s with a version at or after the table's offset; "maybe" reads fjall. Set
    /// to `None` when the table fails a read: everything goes to fjall then.
    since: RwLock<Option<NewIds>>,
}

impl Committed {
    /// Lookups in fjall only.
    pub(crate) fn index(idx: PartitionHandle) -> Committed {
        Committed { idx, fast: None }
    }

    /// Lookups through `tab` for `_id`s without a version since its offset, read here from
    /// `log` up to the committed end of `meta`. Without the table when more than `limit`
    /// versions came after it (the scan would cost more than it saves).
    pub(crate) fn with_table(
        idx: PartitionHandle,
        tab: IdTab,
        meta: &DatasetMeta,
        log: Arc<LogFile>,
        limit: u64,
    ) -> Result<Committed, StoreError> {
        let c = tab.covers();
        if meta.next_offset - c.next_offset >= limit {
            return Ok(Committed::index(idx));
        }
        let mut since = NewIds::default();
        let mut cur = Cursor::new(log, c.log_end, c.next_offset, meta.next_offset, meta.log_end);
        while let Some((_, _, range)) = cur.next()? {
            since.insert(codec::decode_header(cur.payload(range))?.id);
        }
        Ok(Committed {
            idx,
            fast: Some(Arc::new(Fast {
                tab,
                since: RwLock::new(Some(since)),
            })),
        })
    }

    /// What the writer's table covers, if it uses one.
    pub(crate) fn covers(&self) -> Option<Covers> {
        self.fast.as_ref().map(|f| f.tab.covers())
    }

    /// The committed record of `id`.
    pub(crate) fn get(&self, id: &str) -> Result<Option<IdxRecord>, StoreError> {
        if let Some(f) = &self.fast {
            let fresh = {
                let since = f.since.read().unwrap_or_else(|e| e.into_inner());
                since.as_ref().is_some_and(|s| !s.may_contain(id))
            };
            if fresh {
                match f.tab.get(id) {
                    Ok(r) => return Ok(r),
                    Err(_) => *f.since.write().unwrap_or_else(|e| e.into_inner()) = None,
                }
            }
        }
        self.idx
            .get(id.as_bytes())?
            .map(|b| IdxRecord::decode(&b))
            .transpose()
    }

    /// `ids` are about to be committed: from now on they are looked up in fjall.
    pub(crate) fn committed<'a>(&self, ids: impl Iterator<Item = &'a str>) {
        if let Some(f) = &self.fast {
            let mut since = f.since.write().unwrap_or_else(|e| e.into_inner());
            if let Some(s) = since.as_mut() {
                ids.for_each(|id| s.insert(id));
            }
        }
    }
}
