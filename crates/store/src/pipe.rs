//! Per-pipe state (`last_seen` and whatever else the runtime keeps), stored as a dict.

use pumphouse_value::{Map, Value};

use crate::codec::{decode_value, encode_value};
use crate::StoreError;

/// The state the pump keeps per pipe. `last_seen` null means "empty": the next run is full.
/// `extra` is opaque to the store.
#[derive(Clone, Debug, Default)]
pub struct PipeState {
    pub last_seen: Value,
    pub extra: Map,
}

impl PipeState {
    pub fn new(last_seen: Value) -> Self {
        PipeState {
            last_seen,
            extra: Map::default(),
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut m = pumphouse_value::map_with_capacity(self.extra.len() + 1);
        m.insert("last_seen".into(), self.last_seen.clone());
        for (k, v) in &self.extra {
            if k != "last_seen" {
                m.insert(k.clone(), v.clone());
            }
        }
        encode_value(&Value::Dict(m))
    }

    pub(crate) fn decode(b: &[u8]) -> Result<Self, StoreError> {
        match decode_value(b, "pipe state")? {
            Value::Dict(mut m) => {
                let last_seen = m.shift_remove("last_seen").unwrap_or(Value::Null);
                Ok(PipeState {
                    last_seen,
                    extra: m,
                })
            }
            _ => Err(StoreError::corrupt("pipe state", "not a dict")),
        }
    }
}
