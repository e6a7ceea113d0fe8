//! The per-dataset writer lock: a set of dataset ids held by live writers.

use std::sync::{Mutex, MutexGuard};

use crate::{Store, StoreError};

/// Locks a std mutex, ignoring poisoning (the guarded data stay consistent: plain sets/counters).
pub(crate) fn mutex<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Held while a writer (or a delete) owns a dataset; released on drop.
pub(crate) struct DatasetLock<'a> {
    store: &'a Store,
    pub id: String,
}

impl Store {
    pub(crate) fn lock_dataset(&self, id: &str) -> Result<DatasetLock<'_>, StoreError> {
        if !mutex(&self.locks).insert(id.to_owned()) {
            return Err(StoreError::Locked(id.to_owned()));
        }
        Ok(DatasetLock {
            store: self,
            id: id.to_owned(),
        })
    }

    /// Whether a writer currently holds the dataset.
    pub fn is_locked(&self, id: &str) -> bool {
        mutex(&self.locks).contains(id)
    }
}

impl Drop for DatasetLock<'_> {
    fn drop(&mut self) {
        mutex(&self.store.locks).remove(&self.id);
    }
}
