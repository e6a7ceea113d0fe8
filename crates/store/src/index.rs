//! Secondary (join) indexes over a dataset, kept apart from the write path: each index lives
//! in the `joins` partition and is caught up by reading the dataset's log from the offset it
//! last saw, so writers never pay for it. The caller gives the key function (the join
//! expression); keys are opaque bytes (null values are never indexed, deleted entities have
//! no keys). A dataset that was deleted and recreated is re-indexed from the start.
//!
//! Layout (`joins` partition), `h` = 64-bit FNV-1a of the index name:
//! * `I h e <u32 key len> key id` → empty: the entries;
//! * `I h r id` → the keys `id` currently has (for removing them when it changes);
//! * `I h m` → dataset number and the next log offset to read.
//!
//! Each catch-up commits in batches of `CATCHUP_BATCH` versions, entries and progress in one
//! write batch, so a crash leaves the index consistent with the offset it records.

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;

use fjall::PartitionHandle;
use pumphouse_value::Value;

use crate::read::ReadOptions;
use crate::{codec, Store, StoreError};

/// Versions per catch-up write batch.
const CATCHUP_BATCH: usize = 10_000;

/// One catch-up at a time per process (two pipes sharing an index must not interleave).
static CATCHUP: Mutex<()> = Mutex::new(());

/// 64-bit FNV-1a.
pub fn name_hash(name: &str) -> [u8; 8] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h.to_be_bytes()
}

fn prefix(h: &[u8; 8], tag: u8) -> Vec<u8> {
    let mut k = Vec::with_capacity(10 + 32);
    k.push(b'I');
    k.extend_from_slice(h);
    k.push(tag);
    k
}

fn entry_prefix(h: &[u8; 8], key: &[u8]) -> Vec<u8> {
    let mut k = prefix(h, b'e');
    k.extend_from_slice(&(key.len() as u32).to_be_bytes());
    k.extend_from_slice(key);
    k
}

/// Encodes a list of byte strings (u32 length + bytes each).
pub(crate) fn encode_list(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for i in items {
        out.extend_from_slice(&(i.len() as u32).to_be_bytes());
        out.extend_from_slice(i);
    }
    out
}

pub(crate) fn decode_list(mut b: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut out = Vec::new();
    while !b.is_empty() {
        if b.len() < 4 {
            return Err(StoreError::corrupt("join index", "truncated key list"));
        }
        let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if b.len() < 4 + n {
            return Err(StoreError::corrupt("join index", "truncated key list"));
        }
        out.push(b[4..4 + n].to_vec());
        b = &b[4 + n..];
    }
    Ok(out)
}

/// What a catch-up did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexCatchUp {
    /// Versions read from the log.
    pub versions: u64,
    /// Whether the index was (re)built from the start.
    pub rebuilt: bool,
}

impl Store {
    pub(crate) fn joins_partition(&self) -> Result<PartitionHandle, StoreError> {
        Ok(self
            .keyspace
            .open_partition("joins", self.keyed_options())?)
    }

    /// Brings index `name` over `dataset` up to the dataset's newest version. `keys` gives
    /// the index keys of one entity version (called with deleted versions too; it should
    /// return none for them). Cheap when nothing changed: one metadata read.
    pub fn catch_up_index(
        &self,
        dataset: &str,
        name: &str,
        keys: &dyn Fn(&Value) -> Vec<Vec<u8>>,
    ) -> Result<IndexCatchUp, StoreError> {
        let Some(meta) = self.load_meta(dataset)? else {
            return Ok(IndexCatchUp::default());
        };
        let part = self.joins_partition()?;
        let h = name_hash(name);
        let mkey = prefix(&h, b'm');
        let state = |p: &PartitionHandle| -> Result<(u64, u64), StoreError> {
            Ok(match p.get(&mkey)? {
                Some(b) if b.len() == 16 => (
                    codec::be_u64(&b[..8], "join index num")?,
                    codec::be_u64(&b[8..], "join index offset")?,
                ),
                _ => (0, 0),
            })
        };
        let (num, next) = state(&part)?;
        if num == meta.num && next >= meta.next_offset {
            return Ok(IndexCatchUp::default());
        }
        let _guard = CATCHUP.lock().unwrap_or_else(|e| e.into_inner());
        let (num, mut next) = state(&part)?;
        let mut out = IndexCatchUp::default();
        if num != meta.num {
            // New index, or the dataset was recreated: start over.
            let mut batch = self.keyspace.batch();
            let mut n = 0;
            for kv in part
                .prefix(prefix(&h, b'e'))
                .chain(part.prefix(prefix(&h, b'r')))
            {
                batch.remove(&part, kv?.0);
                n += 1;
                if n % CATCHUP_BATCH == 0 {
                    batch.commit()?;
                    batch = self.keyspace.batch();
                }
            }
            batch.commit()?;
            next = 0;
            out.rebuilt = true;
        }
        let opts = ReadOptions {
            since: next.checked_sub(1),
            ..ReadOptions::all()
        };
        let mut batch = self.keyspace.batch();
        let mut pending = 0usize;
        let save = |batch: &mut fjall::Batch, next: u64| {
            let mut v = meta.num.to_be_bytes().to_vec();
            v.extend_from_slice(&next.to_be_bytes());
            batch.insert(&part, mkey.clone(), v);
        };
        for e in self.read(dataset, opts)? {
            let e = e?;
            let offset = match e.get("_updated") {
                Some(Value::Int(o)) => *o as u64,
                _ => return Err(StoreError::corrupt("log", "entity without _updated offset")),
            };
            let Some(id) = e.get("_id").and_then(Value::as_str) else {
                continue;
            };
            let rkey = {
                let mut k = prefix(&h, b'r');
                k.extend_from_slice(id.as_bytes());
                k
            };
            let old: BTreeSet<Vec<u8>> = match part.get(&rkey)? {
                Some(b) => decode_list(&b)?.into_iter().collect(),
                None => BTreeSet::new(),
            };
            let new: BTreeSet<Vec<u8>> = keys(&e).into_iter().collect();
            for k in old.difference(&new) {
                let mut ek = entry_prefix(&h, k);
                ek.extend_from_slice(id.as_bytes());
                batch.remove(&part, ek);
            }
            for k in new.difference(&old) {
                let mut ek = entry_prefix(&h, k);
                ek.extend_from_slice(id.as_bytes());
                batch.insert(&part, ek, []);
            }
            if new.is_empty() {
                batch.remove(&part, rkey);
            } else if new != old {
                let list: Vec<Vec<u8>> = new.into_iter().collect();
                batch.insert(&part, rkey, encode_list(&list));
            }
            next = offset + 1;
            out.versions += 1;
            pending += 1;
            if pending >= CATCHUP_BATCH {
                save(&mut batch, next);
                std::mem::replace(&mut batch, self.keyspace.batch()).commit()?;
                pending = 0;
            }
        }
        save(&mut batch, next.max(meta.next_offset));
        batch.commit()?;
        Ok(out)
    }

    /// The `_id`s whose entities have any of `keys` in index `name`, sorted, each once.
    /// Call `catch_up_index` first to see the newest versions.
    pub fn index_lookup(&self, name: &str, keys: &[Vec<u8>]) -> Result<Vec<String>, StoreError> {
        let part = self.joins_partition()?;
        let h = name_hash(name);
        let mut ids = BTreeSet::new();
        let mut seen = HashSet::new();
        for k in keys {
            if !seen.insert(k) {
                continue;
            }
            let p = entry_prefix(&h, k);
            for kv in part.prefix(&p) {
                let (key, _) = kv?;
                let id = std::str::from_utf8(&key[p.len()..])
                    .map_err(|_| StoreError::corrupt("join index", "non-UTF-8 _id"))?;
                ids.insert(id.to_string());
            }
        }
        Ok(ids.into_iter().collect())
    }
}
