//! The `dataset` source (reads a dataset since the pipe's offset, latest versions by default,
//! deleted ones included so deletes flow downstream) and the `dataset` sink (appends versions;
//! the batch and the pipe state commit in one store transaction).

mod sink;
mod source;
mod subset;

pub use sink::DatasetSink;
pub use source::DatasetSource;
