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
//! Layout: pages, each a `u32` entry count, entries in `_id` byte order, zero padding to
//! `PAGE` bytes and the XXH3-64 of the bytes before it (a page whose one entry needs more
//! than `PAGE` is as long as it needs). An entry is the length of the prefix its `_id`
//! shares with the one before it in the page (varint; 0 for the first), the length of the
//! rest (varint) and the rest, then the `IdxRecord`: a flags byte (1: deleted), the offset,
//! dense number and byte position (varints) and the content hash (16 bytes LE); ~35 bytes
//! for a 14-byte `_id` against 55 in fjall. Then the page index: each page's byte position
//! (`u64`) and first `_id` (`u32` length + bytes); then the footer (`Covers`, counts,
//! checksums). A table is written to `<num>.idtab.tmp` and renamed; it is never changed
//! after. It needs no fsync: after a power loss a missing or torn table fails its
//! checksums, and one that outlived the fjall commits it describes no longer matches the
//! log (`IdTab::open`).
//!
//! A build reads the whole fjall index in key order (most of its cost: fjall merges every
//! segment), in two halves on two threads when the machine has two cores.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use fjall::PartitionHandle;
use pumphouse_value::bin;

use crate::codec::{self, DatasetMeta, IdxRecord};
use crate::logfile::{self, Cursor, LogFile};
use crate::newids::NewIds;
use crate::StoreError;

/// Bytes of a page (one page of the OS page cache).
const PAGE: usize = 4096;
/// The page checksum at the end of each page.
const PAGE_SUM: usize = 8;
const MAGIC: [u8; 8] = *b"PHIDTAB2";
const FOOTER: usize = 8 * 12 + 16;

/// The table's name for dataset `num`.
pub(crate) fn path_in(dir: &Path, num: u64) -> PathBuf {
    dir.join(format!("{num}.idtab"))
}

fn tmp_path_in(dir: &Path, num: u64) -> PathBuf {
    dir.join(format!("{num}.idtab.tmp"))
}

/// The upper half of a table being built on two threads.
fn hi_path_in(dir: &Path, num: u64) -> PathBuf {
    dir.join(format!("{num}.idtab.hi.tmp"))
}

/// The dataset number of a table file's name (`<num>.idtab`, or a half-written one).
pub(crate) fn file_num(name: &str) -> Option<u64> {
    let (num, kind) = name.split_once('.')?;
    match kind {
        "idtab" | "idtab.tmp" | "idtab.hi.tmp" => num.parse().ok(),
        _ => None,
    }
}

/// Removes the table of dataset `num` (and a half-written one).
pub(crate) fn remove(dir: &Path, num: u64) -> Result<(), StoreError> {
    for p in [
        path_in(dir, num),
        tmp_path_in(dir, num),
        hi_path_in(dir, num),
    ] {
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
/// whole fjall index (~0.3–0.4 µs an `_id` on two threads); the table saves ~2.5 µs a lookup, and each
/// version written was one lookup, so rebuilding sooner than every ~ids/5 versions would
/// cost about as much as it saves (docs/BENCHMARKS.md, fourteenth session).
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

/// Reads a varint at `*at` within `b`, moving `*at` past it.
fn get_varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut u = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at)?;
        *at += 1;
        u |= ((byte & 0x7f) as u64) << shift;
        if byte < 0x80 {
            return Some(u);
        }
    }
    None
}

/// An entry's record: flags, offset, dense number, position, hash.
fn put_record(out: &mut Vec<u8>, r: &IdxRecord) {
    out.push(r.deleted as u8);
    bin::varint(out, r.offset);
    bin::varint(out, r.dense);
    bin::varint(out, r.pos);
    out.extend_from_slice(&r.hash.to_le_bytes());
}

fn get_record(b: &[u8], at: &mut usize) -> Option<IdxRecord> {
    let deleted = *b.get(*at)? == 1;
    *at += 1;
    let offset = get_varint(b, at)?;
    let dense = get_varint(b, at)?;
    let pos = get_varint(b, at)?;
    let hash = u128::from_le_bytes(b.get(*at..*at + 16)?.try_into().ok()?);
    *at += 16;
    Some(IdxRecord {
        offset,
        dense,
        hash,
        deleted,
        pos,
    })
}

/// Fills and writes the pages of one part of a table.
struct PageWriter {
    out: BufWriter<File>,
    page: Vec<u8>,
    count: u32,
    /// The `_id` of the page's last entry.
    prev: Vec<u8>,
    entry: Vec<u8>,
    /// The page index: position and first `_id` of each page written or being filled.
    top: Vec<u8>,
    /// Bytes written.
    at: u64,
    pages: u64,
    entries: u64,
}

impl PageWriter {
    fn new(path: &Path) -> Result<PageWriter, StoreError> {
        Ok(PageWriter {
            out: BufWriter::with_capacity(256 << 10, File::create(path)?),
            page: vec![0; 4],
            count: 0,
            prev: Vec::new(),
            entry: Vec::with_capacity(128),
            top: Vec::new(),
            at: 0,
            pages: 0,
            entries: 0,
        })
    }

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

    fn add(&mut self, id: &[u8], rec: &IdxRecord) -> Result<(), StoreError> {
        for _ in 0..2 {
            let shared = match self.count {
                0 => 0,
                _ => id
                    .iter()
                    .zip(&self.prev)
                    .take_while(|(a, b)| a == b)
                    .count(),
            };
            self.entry.clear();
            bin::varint(&mut self.entry, shared as u64);
            bin::varint(&mut self.entry, (id.len() - shared) as u64);
            self.entry.extend_from_slice(&id[shared..]);
            put_record(&mut self.entry, rec);
            if self.count > 0 && self.page.len() + self.entry.len() > PAGE - PAGE_SUM {
                // The first entry of the next page shares nothing: encode it again.
                self.flush_page()?;
                continue;
            }
            break;
        }
        if self.count == 0 {
            self.top.extend_from_slice(&self.at.to_le_bytes());
            self.top.extend_from_slice(&(id.len() as u32).to_le_bytes());
            self.top.extend_from_slice(id);
        }
        self.page.extend_from_slice(&self.entry);
        self.prev.clear();
        self.prev.extend_from_slice(id);
        self.count += 1;
        self.entries += 1;
        Ok(())
    }

    /// Writes the `_id` entries of `kvs` (index partition items in key order, from `from`
    /// on); stops at the checkpoints, which sort after every `_id`.
    fn fill<E>(
        &mut self,
        kvs: impl Iterator<Item = Result<fjall::KvPair, E>>,
    ) -> Result<(), StoreError>
    where
        StoreError: From<E>,
    {
        let mut last: Option<fjall::Slice> = None;
        for kv in kvs {
            let (k, v) = kv?;
            if logfile::is_checkpoint_key(&k) {
                break;
            }
            if last.as_ref().is_some_and(|l| *l >= k) {
                return Err(bad("index entries out of order"));
            }
            self.add(&k, &IdxRecord::decode(&v)?)?;
            last = Some(k);
        }
        self.flush_page()
    }
}

/// A key between the first and the last `_id` of `idx`, near the middle if the `_id`s are
/// spread evenly over their range (the bytes after their common prefix read as a fraction).
fn pivot(idx: &fjall::Snapshot) -> Result<Option<Vec<u8>>, StoreError> {
    let Some((first, _)) = idx.first_key_value()? else {
        return Ok(None);
    };
    let Some((last, _)) = idx
        .range(..logfile::checkpoint_key(0).as_slice())
        .next_back()
        .transpose()?
    else {
        return Ok(None);
    };
    let common = first
        .iter()
        .zip(last.iter())
        .take_while(|(a, b)| a == b)
        .count();
    let frac = |k: &[u8]| {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(k.iter().skip(common)) {
            *d = *s;
        }
        u64::from_be_bytes(b) as u128
    };
    let mid = ((frac(&first) + frac(&last)) / 2) as u64;
    let mut p = first[..common].to_vec();
    p.extend_from_slice(&mid.to_be_bytes());
    while p.len() > common + 1 && p.last() == Some(&0) {
        p.pop();
    }
    Ok(Some(p))
}

/// Writes the table of `covers` from the `_id` entries of a snapshot of the dataset's index
/// partition taken when the dataset was at `covers` (the caller holds the dataset's lock).
/// Returns the number of entries.
pub(crate) fn build(dir: &Path, covers: Covers, idx: &fjall::Snapshot) -> Result<u64, StoreError> {
    let tmp = tmp_path_in(dir, covers.num);
    let tmp_hi = hi_path_in(dir, covers.num);
    let r = write_table(&tmp, &tmp_hi, covers, idx);
    let _ = std::fs::remove_file(&tmp_hi);
    match r {
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

fn write_table(
    tmp: &Path,
    tmp_hi: &Path,
    covers: Covers,
    idx: &fjall::Snapshot,
) -> Result<u64, StoreError> {
    let mut lo = PageWriter::new(tmp)?;
    let split = match crate::prepare::threads() {
        1 => None,
        _ => pivot(idx)?,
    };
    let hi = match &split {
        None => {
            lo.fill(idx.iter())?;
            None
        }
        Some(p) => std::thread::scope(|s| -> Result<_, StoreError> {
            let hi = std::thread::Builder::new()
                .name("store-idtab".into())
                .spawn_scoped(s, || -> Result<PageWriter, StoreError> {
                    let mut hi = PageWriter::new(tmp_hi)?;
                    hi.fill(idx.range(p.as_slice()..))?;
                    Ok(hi)
                })?;
            let r = lo.fill(idx.range(..p.as_slice()));
            let hi = hi.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            r?;
            Ok(Some(hi?))
        })?,
    };
    let mut top = std::mem::take(&mut lo.top);
    let (mut pages, mut entries, mut data_len) = (lo.pages, lo.entries, lo.at);
    let mut out = lo.out.into_inner().map_err(|e| e.into_error())?;
    if let Some(hi) = hi {
        hi.out.into_inner().map_err(|e| e.into_error())?;
        // The upper half after the lower one (a copy inside the kernel on Linux).
        std::io::copy(&mut File::open(tmp_hi)?, &mut out)?;
        let mut at = 0;
        while at < hi.top.len() {
            let pos = le(&hi.top, at) + data_len;
            let n = le32(&hi.top, at + 8);
            top.extend_from_slice(&pos.to_le_bytes());
            top.extend_from_slice(&hi.top[at + 8..at + 12 + n]);
            at += 12 + n;
        }
        pages += hi.pages;
        entries += hi.entries;
        data_len += hi.at;
    }
    let top_sum = xxhash_rust::xxh3::xxh3_64(&top);
    let mut footer = Vec::with_capacity(FOOTER);
    footer.extend_from_slice(&MAGIC);
    for x in [
        covers.num,
        covers.next_offset,
        covers.log_end,
        covers.last_pos,
        pages,
        entries,
        top.len() as u64,
        top_sum,
    ] {
        footer.extend_from_slice(&x.to_le_bytes());
    }
    footer.extend_from_slice(&covers.last_hash.to_le_bytes());
    footer.extend_from_slice(&data_len.to_le_bytes());
    footer.extend_from_slice(&[0; 8]);
    let sum = xxhash_rust::xxh3::xxh3_64(&footer);
    footer.extend_from_slice(&sum.to_le_bytes());
    debug_assert_eq!(footer.len(), FOOTER);
    let mut out = BufWriter::new(out);
    out.write_all(&top)?;
    out.write_all(&footer)?;
    out.into_inner().map_err(|e| e.into_error())?;
    Ok(entries)
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
            let id = top
                .get(at + 12..at + 12 + n)
                .ok_or_else(|| bad("page index"))?;
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
        let mut cur: Vec<u8> = Vec::with_capacity(id.len() + 16);
        let broken = || bad(format!("entry past the end of page {p}"));
        for _ in 0..le32(page, 0) {
            let body = &page[..body];
            let shared = get_varint(body, &mut at).ok_or_else(broken)? as usize;
            let n = get_varint(body, &mut at).ok_or_else(broken)? as usize;
            let rest = body.get(at..at + n).ok_or_else(broken)?;
            if shared > cur.len() {
                return Err(broken());
            }
            cur.truncate(shared);
            cur.extend_from_slice(rest);
            at += n;
            let rec = get_record(body, &mut at).ok_or_else(broken)?;
            match cur.as_slice().cmp(id) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Ok(Some(rec)),
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
        let mut cur = Cursor::new(
            log,
            c.log_end,
            c.next_offset,
            meta.next_offset,
            meta.log_end,
        );
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
