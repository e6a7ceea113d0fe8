//! The `empty` source: yields nothing (a full run that deletes everything downstream).

use crate::{Batch, ConnectorError, Source};

pub struct EmptySource;

impl Source for EmptySource {
    fn next_batch(&mut self, _max: usize) -> Result<Option<Batch>, ConnectorError> {
        Ok(None)
    }
}
