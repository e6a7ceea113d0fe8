//! Dependency-tracking state of a pipe (sesam-spec 3.4), in the `deps` partition: which
//! source entity reached which join keys and entities (opaque dependency keys chosen by the
//! runtime), the queue of source entities to process again, and per hopped dataset the
//! offset up to which its changes have been turned into queue entries.
//!
//! Layout, `p` = u16 length + pipe id:
//! * `p f source_id` → the dependency keys the source entity has now;
//! * `p r <u32 len> dep_key source_id` → empty: the reverse map;
//! * `p q source_id` → empty: queued for reprocessing;
//! * `p o dataset` → the next offset of `dataset` to look at.

use std::collections::BTreeSet;

use fjall::PartitionHandle;

use crate::index::{decode_list, encode_list};
use crate::{codec, Store, StoreError};

fn pipe_prefix(pipe: &str, tag: u8) -> Vec<u8> {
    let mut k = Vec::with_capacity(pipe.len() + 3 + 32);
    k.extend_from_slice(&(pipe.len() as u16).to_be_bytes());
    k.extend_from_slice(pipe.as_bytes());
    k.push(tag);
    k
}

fn rev_prefix(pipe: &str, dep: &[u8]) -> Vec<u8> {
    let mut k = pipe_prefix(pipe, b'r');
    k.extend_from_slice(&(dep.len() as u32).to_be_bytes());
    k.extend_from_slice(dep);
    k
}

fn with(mut k: Vec<u8>, tail: &[u8]) -> Vec<u8> {
    k.extend_from_slice(tail);
    k
}

/// The `_id`s that end the keys under `prefix`, in key order.
fn ids_under(part: &PartitionHandle, prefix: &[u8]) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for kv in part.prefix(prefix) {
        let (k, _) = kv?;
        out.push(
            String::from_utf8(k[prefix.len()..].to_vec())
                .map_err(|_| StoreError::corrupt("deps", "non-UTF-8 _id"))?,
        );
    }
    Ok(out)
}

impl Store {
    fn deps_partition(&self) -> Result<PartitionHandle, StoreError> {
        Ok(self.keyspace.open_partition("deps", self.keyed_options())?)
    }

    /// Replaces the dependency keys of each `(source_id, keys)` for `pipe`, in one batch.
    pub fn set_dependencies(
        &self,
        pipe: &str,
        entries: &[(String, Vec<Vec<u8>>)],
    ) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let part = self.deps_partition()?;
        let mut batch = self.keyspace.batch();
        for (id, keys) in entries {
            let fkey = with(pipe_prefix(pipe, b'f'), id.as_bytes());
            let old: BTreeSet<Vec<u8>> = match part.get(&fkey)? {
                Some(b) => decode_list(&b)?.into_iter().collect(),
                None => BTreeSet::new(),
            };
            let new: BTreeSet<Vec<u8>> = keys.iter().cloned().collect();
            if old == new {
                continue;
            }
            for k in old.difference(&new) {
                batch.remove(&part, with(rev_prefix(pipe, k), id.as_bytes()));
            }
            for k in new.difference(&old) {
                batch.insert(&part, with(rev_prefix(pipe, k), id.as_bytes()), []);
            }
            if new.is_empty() {
                batch.remove(&part, fkey);
            } else {
                let list: Vec<Vec<u8>> = new.into_iter().collect();
                batch.insert(&part, fkey, encode_list(&list));
            }
        }
        batch.commit()?;
        Ok(())
    }

    /// The source entities of `pipe` that reached dependency key `dep`.
    pub fn dependents(&self, pipe: &str, dep: &[u8]) -> Result<Vec<String>, StoreError> {
        ids_under(&self.deps_partition()?, &rev_prefix(pipe, dep))
    }

    /// The next offset of `dataset` that `pipe`'s dependency tracking has not looked at;
    /// `None` when it never has.
    pub fn tracking_offset(&self, pipe: &str, dataset: &str) -> Result<Option<u64>, StoreError> {
        let part = self.deps_partition()?;
        part.get(with(pipe_prefix(pipe, b'o'), dataset.as_bytes()))?
            .map(|b| codec::be_u64(&b, "tracking offset"))
            .transpose()
    }

    /// Queues `ids` for reprocessing and moves the tracking offset of `dataset` to `next`,
    /// atomically.
    pub fn enqueue_dependents(
        &self,
        pipe: &str,
        dataset: &str,
        next: u64,
        ids: &BTreeSet<String>,
    ) -> Result<(), StoreError> {
        let part = self.deps_partition()?;
        let mut batch = self.keyspace.batch();
        for id in ids {
            batch.insert(&part, with(pipe_prefix(pipe, b'q'), id.as_bytes()), []);
        }
        batch.insert(
            &part,
            with(pipe_prefix(pipe, b'o'), dataset.as_bytes()),
            next.to_be_bytes(),
        );
        batch.commit()?;
        Ok(())
    }

    /// The queued source entity ids of `pipe`, sorted.
    pub fn dependency_queue(&self, pipe: &str) -> Result<Vec<String>, StoreError> {
        ids_under(&self.deps_partition()?, &pipe_prefix(pipe, b'q'))
    }

    /// Removes `ids` from `pipe`'s queue (after their new versions were committed).
    pub fn dequeue_dependents(&self, pipe: &str, ids: &[String]) -> Result<(), StoreError> {
        let part = self.deps_partition()?;
        let mut batch = self.keyspace.batch();
        for id in ids {
            batch.remove(&part, with(pipe_prefix(pipe, b'q'), id.as_bytes()));
        }
        batch.commit()?;
        Ok(())
    }

    /// Forgets all dependency state of `pipe` (reset, or the pipe was removed).
    pub fn clear_dependencies(&self, pipe: &str) -> Result<(), StoreError> {
        let part = self.deps_partition()?;
        let mut batch = self.keyspace.batch();
        let mut p = (pipe.len() as u16).to_be_bytes().to_vec();
        p.extend_from_slice(pipe.as_bytes());
        for kv in part.prefix(&p) {
            batch.remove(&part, kv?.0);
        }
        batch.commit()?;
        Ok(())
    }
}
