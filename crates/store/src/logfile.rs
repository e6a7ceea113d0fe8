//! A dataset's version log as one append-only file, `logs/<num>.log` beside the fjall
//! keyspace (docs/storage.md, "The log file"). fjall keeps the `_id` index, the counters and
//! the pipe state; the dataset record's `log_end` says how much of the file is committed.
//!
//! A record is a 16-byte frame (payload length u32 LE, checksum u32 LE, offset u64 LE) and
//! the payload (the log record of `codec::encode_log`). The checksum is the low half of the
//! XXH3-64 of the offset and the payload. Bytes past `log_end` were written by a writer that
//! did not commit (or was killed before its fjall commit); readers never look there and the
//! next writer cuts them off. Every `CHECKPOINT_EVERY`-th offset has its byte position in the
//! `_id` index partition (key `0xFF` + offset BE; no UTF-8 `_id` starts with 0xFF), committed
//! with the records, so a read since an offset starts at most that many records early.

use std::fs::{File, OpenOptions};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::StoreError;

/// Offsets with a stored position: multiples of this.
pub(crate) const CHECKPOINT_EVERY: u64 = 128;
/// Frame header bytes before each payload.
pub(crate) const FRAME: usize = 16;
/// Bytes a reader reads at a time.
const READ_CHUNK: usize = 256 << 10;

/// The index-partition key of the checkpoint of `offset`.
pub(crate) fn checkpoint_key(offset: u64) -> [u8; 9] {
    let mut k = [0xFF; 9];
    k[1..].copy_from_slice(&offset.to_be_bytes());
    k
}

/// Whether an index-partition key is a checkpoint (not an `_id`).
pub(crate) fn is_checkpoint_key(k: &[u8]) -> bool {
    k.first() == Some(&0xFF)
}

/// The checksum of a record from its offset and payload apart (a single record's read).
fn checksum(offset: u64, payload: &[u8]) -> u32 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&offset.to_le_bytes());
    h.update(payload);
    h.digest() as u32
}

/// The same checksum from a frame's bytes after the checksum field (`frame[8..]`: the offset
/// LE, then the payload), hashed in one call: XXH3 of a concatenation is the same in one call
/// as streamed, and the one-call form costs less than setting up the streaming state
/// (a visible share of reads and writes).
fn frame_checksum(offset_and_payload: &[u8]) -> u32 {
    xxhash_rust::xxh3::xxh3_64(offset_and_payload) as u32
}

/// Appends a framed record for `offset` to `out`; `payload` writes the record itself.
pub(crate) fn frame(out: &mut Vec<u8>, offset: u64, payload: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.extend_from_slice(&[0u8; FRAME]);
    out[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
    payload(out);
    let len = (out.len() - at - FRAME) as u32;
    let sum = frame_checksum(&out[at + 8..]);
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    out[at + 4..at + 8].copy_from_slice(&sum.to_le_bytes());
}

/// Checks a frame header and its payload; returns the payload length.
fn check_frame(head: &[u8], expect: u64, at: u64) -> Result<usize, StoreError> {
    let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
    let offset = u64::from_le_bytes(head[8..16].try_into().expect("8 bytes"));
    if offset != expect {
        return Err(StoreError::corrupt(
            "log file",
            format!("byte {at}: record of offset {offset} where offset {expect} belongs"),
        ));
    }
    Ok(len)
}

/// Checks the checksum in `head` against `computed`.
fn check_sum(head: &[u8], computed: u32, offset: u64, at: u64) -> Result<(), StoreError> {
    let sum = u32::from_le_bytes(head[4..8].try_into().expect("4 bytes"));
    if sum != computed {
        return Err(StoreError::corrupt(
            "log file",
            format!("byte {at}: checksum mismatch in the record of offset {offset}"),
        ));
    }
    Ok(())
}

/// One dataset's log file, shared by its writer and readers (positioned reads and writes,
/// no shared cursor).
pub(crate) struct LogFile {
    file: File,
    path: PathBuf,
}

impl LogFile {
    pub(crate) fn path_in(dir: &Path, num: u64) -> PathBuf {
        dir.join(format!("{num}.log"))
    }

    /// Opens the log of dataset `num` in `dir`, creating an empty one when missing. A new
    /// file's directory entry is synced before it is used: `sync` (fdatasync) makes the
    /// file's bytes durable but not its name, and a dataset record whose log file vanished
    /// in a power loss would be a dataset without its versions.
    pub(crate) fn open(dir: &Path, num: u64) -> Result<LogFile, StoreError> {
        let path = Self::path_in(dir, num);
        let mut opts = OpenOptions::new();
        opts.read(true).write(true);
        let file = match opts.clone().create_new(true).open(&path) {
            Ok(f) => {
                File::open(dir)?.sync_all()?;
                f
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => opts.open(&path)?,
            Err(e) => return Err(e.into()),
        };
        Ok(LogFile { file, path })
    }

    /// Makes the file exactly `committed` bytes long: what lies beyond was never committed.
    /// A file shorter than that lost committed records (a disk that dropped synced data).
    pub(crate) fn cut_to(&self, committed: u64) -> Result<(), StoreError> {
        let len = self.file.metadata()?.len();
        if len < committed {
            return Err(StoreError::corrupt(
                "log file",
                format!(
                    "{} is {len} bytes, but {committed} were committed",
                    self.path.display()
                ),
            ));
        }
        if len > committed {
            self.file.set_len(committed)?;
        }
        Ok(())
    }

    pub(crate) fn write_at(&self, pos: u64, bytes: &[u8]) -> Result<(), StoreError> {
        // No early write-back (`sync_file_range` after each write): tried, it made full runs
        // ~8% slower (docs/BENCHMARKS.md, "Seventh session").
        Ok(self.file.write_all_at(bytes, pos)?)
    }

    /// fdatasync: what was written is on disk before the fjall commit that refers to it.
    pub(crate) fn sync(&self) -> Result<(), StoreError> {
        Ok(self.file.sync_data()?)
    }

    /// The payload of the record of `offset` that starts at byte `pos`.
    pub(crate) fn record_at(&self, pos: u64, offset: u64) -> Result<Vec<u8>, StoreError> {
        let mut head = [0u8; FRAME];
        self.read_exact_at(&mut head, pos)?;
        let len = check_frame(&head, offset, pos)?;
        let mut payload = vec![0u8; len];
        self.read_exact_at(&mut payload, pos + FRAME as u64)?;
        check_sum(&head, checksum(offset, &payload), offset, pos)?;
        Ok(payload)
    }

    fn read_exact_at(&self, buf: &mut [u8], pos: u64) -> Result<(), StoreError> {
        self.file.read_exact_at(buf, pos).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                StoreError::corrupt(
                    "log file",
                    format!("{}: short at byte {pos}", self.path.display()),
                )
            } else {
                e.into()
            }
        })
    }
}

/// Reads records in offset order from a position, up to an offset and a byte limit (a
/// snapshot's committed end). Memory: one chunk, or one record if larger.
pub(crate) struct Cursor {
    file: std::sync::Arc<LogFile>,
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    at: usize,
    /// File position of `buf[0]`.
    buf_pos: u64,
    /// Offset of the next record.
    offset: u64,
    /// First offset not to read.
    end_offset: u64,
    /// Committed bytes.
    end_pos: u64,
}

impl Cursor {
    /// A cursor at the record of `offset` that starts at byte `pos`.
    pub(crate) fn new(
        file: std::sync::Arc<LogFile>,
        pos: u64,
        offset: u64,
        end_offset: u64,
        end_pos: u64,
    ) -> Cursor {
        Cursor {
            file,
            buf: Vec::new(),
            at: 0,
            buf_pos: pos,
            offset,
            end_offset,
            end_pos,
        }
    }

    /// An exhausted cursor.
    pub(crate) fn empty(file: std::sync::Arc<LogFile>) -> Cursor {
        Cursor::new(file, 0, 0, 0, 0)
    }

    /// Makes at least `n` unread bytes available; false at the committed end.
    fn fill(&mut self, n: usize) -> Result<bool, StoreError> {
        let have = self.buf.len() - self.at;
        if have >= n {
            return Ok(true);
        }
        let pos = self.buf_pos + self.at as u64;
        let left = self.end_pos.saturating_sub(pos);
        if (left as usize) < n {
            return Ok(false);
        }
        self.buf.drain(..self.at);
        self.buf_pos = pos;
        self.at = 0;
        let want = (READ_CHUNK.max(n) as u64).min(left) as usize;
        let old = self.buf.len();
        self.buf.resize(want, 0);
        self.file
            .read_exact_at(&mut self.buf[old..], pos + old as u64)?;
        Ok(true)
    }

    /// Skips the records before `offset` (after a checkpoint).
    pub(crate) fn skip_to(&mut self, offset: u64) -> Result<(), StoreError> {
        while self.offset < offset {
            if self.next()?.is_none() {
                break;
            }
        }
        Ok(())
    }

    /// The next record: offset, byte position and where its payload is (see `payload`).
    pub(crate) fn next(&mut self) -> Result<Option<(u64, u64, Range<usize>)>, StoreError> {
        if self.offset >= self.end_offset {
            return Ok(None);
        }
        let pos = self.buf_pos + self.at as u64;
        if !self.fill(FRAME)? {
            return Err(self.short(pos));
        }
        let len = check_frame(&self.buf[self.at..self.at + FRAME], self.offset, pos)?;
        if !self.fill(FRAME + len)? {
            return Err(self.short(pos));
        }
        let range = self.at + FRAME..self.at + FRAME + len;
        check_sum(
            &self.buf[self.at..self.at + FRAME],
            frame_checksum(&self.buf[self.at + 8..range.end]),
            self.offset,
            pos,
        )?;
        let offset = self.offset;
        self.offset += 1;
        self.at = range.end;
        Ok(Some((offset, pos, range)))
    }

    /// The payload of the record `next` returned last.
    pub(crate) fn payload(&self, r: Range<usize>) -> &[u8] {
        &self.buf[r]
    }

    fn short(&self, pos: u64) -> StoreError {
        StoreError::corrupt(
            "log file",
            format!(
                "{}: the record of offset {} at byte {pos} runs past the committed end {}",
                self.file.path.display(),
                self.offset,
                self.end_pos
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames written with the one-call checksum carry the checksum earlier versions wrote
    /// (offset and payload hashed as a stream), so existing logs still verify; the sizes
    /// cross XXH3's short, medium and long input paths.
    #[test]
    fn frame_checksum_is_the_streamed_checksum() {
        for len in [0usize, 1, 8, 15, 120, 232, 233, 500, 5000] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let offset = 0x0102_0304_0506_0708 + len as u64;
            let mut out = vec![9u8; 3];
            frame(&mut out, offset, |o| o.extend_from_slice(&payload));
            let head = &out[3..3 + FRAME];
            assert_eq!(check_frame(head, offset, 3).unwrap(), len);
            let stored = u32::from_le_bytes(head[4..8].try_into().unwrap());
            assert_eq!(stored, checksum(offset, &payload), "payload of {len} bytes");
            assert_eq!(&out[3 + FRAME..], &payload[..]);
        }
    }
}
