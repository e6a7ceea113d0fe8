//! The canonical content hash of an entity (`_hash`): XXH3-128 over the canonical binary
//! encoding (`bin::encode_canonical`, dict keys sorted) of the entity with every root key that
//! starts with `_` removed except `_id`, and `_deleted` normalised to a boolean (only `true`
//! means deleted). Printed as 32 lowercase hex digits. The hash depends only on content, is
//! the same on every platform and run (no random seed), and changes only with the format.

use crate::bin::encode_canonical;
use crate::{Map, Value};

/// Content hash of an entity (a dict). Non-dicts hash their canonical encoding.
pub fn entity_hash(entity: &Value) -> u128 {
    let mut buf = Vec::with_capacity(512);
    entity_hash_with(entity, &mut buf)
}

/// As `entity_hash`, reusing `buf` to avoid an allocation per entity.
pub fn entity_hash_with(entity: &Value, buf: &mut Vec<u8>) -> u128 {
    buf.clear();
    match entity {
        Value::Dict(m) => encode_entity(m, buf),
        other => encode_canonical(other, buf),
    }
    xxhash_rust::xxh3::xxh3_128(buf)
}

fn encode_entity(m: &Map, buf: &mut Vec<u8>) {
    let deleted = matches!(m.get("_deleted"), Some(Value::Bool(true)));
    let mut pairs: Vec<(&String, &Value)> = m
        .iter()
        .filter(|(k, _)| !k.starts_with('_') || k.as_str() == "_id")
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    buf.push(9);
    crate::bin::varint(buf, pairs.len() as u64 + 1);
    for (k, v) in pairs {
        crate::bin::varint(buf, k.len() as u64);
        buf.extend_from_slice(k.as_bytes());
        encode_canonical(v, buf);
    }
    buf.extend_from_slice(&[8, b'_', b'd', b'e', b'l', b'e', b't', b'e', b'd']);
    buf.push(if deleted { 2 } else { 1 });
}

/// The `_hash` text: 32 lowercase hex digits.
pub fn hash_hex(h: u128) -> String {
    format!("{h:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transit::from_str;

    fn h(s: &str) -> String {
        hash_hex(entity_hash(&from_str(s).unwrap()))
    }

    #[test]
    fn hash_ignores_key_order_and_generated_fields() {
        assert_eq!(
            h(r#"{"_id":"a","x":1,"y":{"b":1,"a":2}}"#),
            h(r#"{"y":{"a":2,"b":1},"x":1,"_id":"a","_updated":7,"_ts":1,"_hash":"x"}"#)
        );
        assert_eq!(h(r#"{"_id":"a","_deleted":false}"#), h(r#"{"_id":"a"}"#));
    }

    #[test]
    fn hash_sees_content_deletion_and_types() {
        let base = h(r#"{"_id":"a","x":1}"#);
        assert_ne!(base, h(r#"{"_id":"a","x":2}"#));
        assert_ne!(base, h(r#"{"_id":"b","x":1}"#));
        assert_ne!(base, h(r#"{"_id":"a","x":1,"_deleted":true}"#));
        assert_ne!(base, h(r#"{"_id":"a","x":"1"}"#));
        assert_ne!(base, h(r#"{"_id":"a","x":1.0}"#));
        assert_ne!(
            h(r#"{"_id":"a","x":"~:a:b"}"#),
            h(r#"{"_id":"a","x":"~ra:b"}"#)
        );
    }

    #[test]
    fn hash_is_stable_across_runs_and_platforms() {
        // A fixed value: a change here is a store format change.
        assert_eq!(h(r#"{"_id":"a","x":1}"#), h(r#"{"x":1,"_id":"a"}"#));
        assert_eq!(h(r#"{"_id":"a","x":1}"#).len(), 32);
        assert_eq!(h(r#"{"_id":"a","x":1}"#), STABLE_A_X1);
    }

    const STABLE_A_X1: &str = "1ea75a52a1e2b94d5d866b89ac0b1df6";
}
