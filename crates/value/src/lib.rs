//! Sesam's value model: the `Value` type holding every entity value type, with the transit
//! JSON codec (`transit`), a compact binary codec for storage (`bin`) with its straight-to-JSON
//! transcoder (`bin_json`), the mixed-type
//! ordering of sesam-spec 1.4 (`order`) and the canonical content hash (`hash`).
//!
//! No I/O happens here; every other crate builds on these types.

pub mod bin;
pub mod bin_json;
pub mod hash;
pub mod order;
pub mod pyfmt;
pub mod time;
pub mod transit;

use bigdecimal::BigDecimal;
use num_bigint::BigInt;

pub use indexmap::IndexMap;
pub use time::{Date, DateTime};

/// A dict keeping insertion order (Sesam entities print their keys in the order written).
/// Hashed with foldhash (randomly seeded per map) instead of SipHash: key hashing was a
/// third of the time spent in maps. Create one with `Map::default()` or `map_with_capacity`.
pub type Map = IndexMap<String, Value, MapHasher>;

/// The hasher of `Map`.
pub type MapHasher = foldhash::fast::RandomState;

/// An empty `Map` with room for `n` entries.
pub fn map_with_capacity(n: usize) -> Map {
    Map::with_capacity_and_hasher(n, MapHasher::default())
}

/// One Sesam value. Integers are unbounded (i64 fast path, `BigInt` beyond), decimals are
/// arbitrary precision, datetimes carry nanoseconds.
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    /// An integer that fits in i64. Always used when the value fits (normalised).
    Int(i64),
    /// An integer outside the i64 range. Never holds a value that fits in i64.
    BigInt(Box<BigInt>),
    Float(f64),
    Decimal(Box<BigDecimal>),
    String(String),
    List(Vec<Value>),
    Dict(Map),
    DateTime(DateTime),
    Date(Date),
    Bytes(Vec<u8>),
    Uuid(uuid::Uuid),
    /// A namespaced identifier, held as its text without the `~:` tag: `"crm-person:100"`.
    Ni(String),
    /// A URI, held as its text without the `~r` tag.
    Uri(String),
}

/// Errors of this crate: malformed transit strings, bad binary data, JSON syntax.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    #[error("invalid {kind} value {text:?}: {reason}")]
    BadTransit {
        kind: &'static str,
        text: String,
        reason: String,
    },
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The type names used in messages and by DTL's type tests.
impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::BigInt(_) => "integer",
            Value::Float(_) => "float",
            Value::Decimal(_) => "decimal",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::DateTime(_) => "datetime",
            Value::Date(_) => "date",
            Value::Bytes(_) => "bytes",
            Value::Uuid(_) => "uuid",
            Value::Ni(_) => "namespaced identifier",
            Value::Uri(_) => "URI",
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&Map> {
        match self {
            Value::Dict(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_dict_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Dict(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// An integer from a `BigInt`, normalised to `Int` when it fits.
    pub fn from_bigint(b: BigInt) -> Value {
        match i64::try_from(&b) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::BigInt(Box::new(b)),
        }
    }

    pub fn from_decimal(d: BigDecimal) -> Value {
        Value::Decimal(Box::new(d))
    }

    /// Sesam truthiness: `false`, `null` and `[]` are false, everything else is true.
    pub fn truthy(&self) -> bool {
        !matches!(self, Value::Null | Value::Bool(false))
            && !matches!(self, Value::List(l) if l.is_empty())
    }

    /// The value as a list: a list is itself, null is empty, anything else is one element.
    pub fn as_slice(&self) -> &[Value] {
        match self {
            Value::List(l) => l,
            Value::Null => &[],
            other => std::slice::from_ref(other),
        }
    }

    /// Property of a dict by key; `None` for a missing key or a non-dict.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_dict().and_then(|m| m.get(key))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Self {
        Value::List(l)
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Dict(m)
    }
}
