//! The one error type of the store crate, with a hint whether retrying can help.

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage engine failed (I/O, a full disk, a poisoned journal).
    #[error("storage engine error: {0}")]
    Engine(#[from] fjall::Error),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Stored bytes could not be decoded: a bug or on-disk corruption.
    #[error("corrupt stored data ({what}): {reason}")]
    Corrupt { what: &'static str, reason: String },
    #[error("dataset {0:?} does not exist")]
    NoSuchDataset(String),
    /// Another writer holds the dataset (only one writer per dataset at a time).
    #[error("dataset {0:?} is being written by another writer")]
    Locked(String),
    #[error("invalid dataset id {0:?}: {1}")]
    InvalidDatasetId(String, &'static str),
    /// An entity is not a dict or has no string `_id`. Nothing of the batch was staged.
    #[error("invalid entity at position {index} of the batch: {reason}")]
    InvalidEntity { index: usize, reason: String },
    /// `finish_full_run` on a writer that is not in a full run.
    #[error("writer for dataset {0:?} is not in a full run")]
    NotFullRun(String),
    /// The dataset's circuit breaker is tripped: no writer may run until it is rolled back
    /// or committed (sesam-spec 2.5).
    #[error("dataset {dataset:?} has a tripped circuit breaker ({message}); look at the held-back entities with GET /api/datasets/{dataset}/entities?uncommitted=true, then POST /api/datasets/{dataset} with operation=rollback-circuit-breaker (drop them and rerun from where the run started) or operation=commit-circuit-breaker (accept them); on the command line: pumphouse circuit-breaker --data DIR {dataset} rollback|commit")]
    CircuitBreakerTripped { dataset: String, message: String },
    /// Rollback or commit of a breaker that is not tripped.
    #[error("the circuit breaker of dataset {0:?} is not tripped; there is nothing to roll back or commit")]
    NotTripped(String),
    /// A commit failed earlier; the writer's staged state is gone. Open a new writer.
    #[error("writer for dataset {0:?} failed before and must be dropped")]
    WriterFailed(String),
    /// The store was written by a pumphouse before 2026-12-04, which kept each dataset's log
    /// inside fjall (dataset record format 1); this one keeps logs in files of their own.
    #[error("the store was written by an older pumphouse (dataset logs inside fjall, format 1) and this version keeps them in log files (format 2); run the pipes again into a new --data directory (the old one can then be deleted)")]
    OldFormat,
}

impl StoreError {
    /// Whether running the same operation again later can succeed (the lock may be released,
    /// an I/O problem may pass); corrupt data or invalid input will fail again.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Engine(_)
                | StoreError::Io(_)
                | StoreError::Locked(_)
                | StoreError::WriterFailed(_)
        )
    }

    pub(crate) fn corrupt(what: &'static str, reason: impl Into<String>) -> Self {
        StoreError::Corrupt {
            what,
            reason: reason.into(),
        }
    }
}

impl From<fjall::LsmError> for StoreError {
    fn from(e: fjall::LsmError) -> Self {
        StoreError::Engine(e.into())
    }
}

impl From<pumphouse_value::ValueError> for StoreError {
    fn from(e: pumphouse_value::ValueError) -> Self {
        StoreError::corrupt("value", e.to_string())
    }
}
