//! Errors of the DTL crate: compile errors (with the JSON path of the offending element)
//! and evaluation errors (with their kind, so the runtime knows `fail!` from `trip!`).

use std::fmt;

/// One problem found while compiling a rule set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    /// JSON path inside the rules object, like `default[2][1]`.
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for CompileError {}

/// What kind of evaluation failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalErrorKind {
    /// `fail!` was run: the pump fails with the message.
    Fail,
    /// `trip!` was run: the pump fails and trips the sink's circuit breaker.
    Trip,
    /// `id_required` is on and the target (or a created entity) has no string `_id`.
    IdRequired,
    Other,
}

/// An error while running a compiled program on one entity.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub message: String,
    pub path: Option<String>,
    pub kind: EvalErrorKind,
}

impl EvalError {
    pub fn new(kind: EvalErrorKind, message: impl Into<String>) -> EvalError {
        EvalError {
            message: message.into(),
            path: None,
            kind,
        }
    }

    pub fn other(message: impl Into<String>) -> EvalError {
        EvalError::new(EvalErrorKind::Other, message)
    }
}

/// Result of evaluating an expression.
pub type EvalResult<T> = Result<T, EvalError>;
