//! The canonical content hash of an entity (`_hash`): XXH3-128 over the canonical binary
//! encoding (`bin::encode_canonical`, dict keys sorted) of the entity with every root key that
//! starts with `_` removed except `_id`, and `_deleted` normalised to a boolean (only `true`
//! means deleted). Printed as 32 lowercase hex digits. The hash depends only on content, is
//! the same on every platform and run (no random seed), and changes only with the format.

use crate::bin::{self, encode_canonical};
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

/// Reusable buffers for `EntityEncoder::encode`.
#[derive(Default)]
pub struct EntityEncoder {
    /// Hash input, assembled in key order.
    input: Vec<u8>,
    /// Canonical bytes of the pairs whose stored bytes are not canonical, and of `_id`.
    canon: Vec<u8>,
    /// Per hashed pair: (map index, in `canon`?, start, end).
    spans: Vec<(usize, bool, usize, usize)>,
}

impl EntityEncoder {
    /// Appends the stored body of the entity `m` to `body` — a `bin` dict of the root keys
    /// not starting with `_`, in their original order — and returns `entity_hash` of `m`,
    /// from one encoding pass: each pair's stored bytes are reused for the hash when they are
    /// already canonical (see `bin::encode_is_canonical`), and only the others are encoded
    /// again. The result equals `entity_hash(&Value::Dict(m))` exactly.
    pub fn encode(&mut self, m: &Map, body: &mut Vec<u8>) -> u128 {
        let EntityEncoder {
            input,
            canon,
            spans,
        } = self;
        spans.clear();
        canon.clear();
        body.push(9);
        bin::varint(
            body,
            m.keys().filter(|k| !k.starts_with('_')).count() as u64,
        );
        let base = body.len();
        for (i, (k, v)) in m.iter().enumerate() {
            if k.starts_with('_') {
                if k == "_id" {
                    let start = canon.len();
                    key(canon, k);
                    encode_canonical(v, canon);
                    spans.push((i, true, start, canon.len()));
                }
                continue;
            }
            let start = body.len();
            key(body, k);
            if bin::encode_is_canonical(v, body) {
                spans.push((i, false, start - base, body.len() - base));
            } else {
                let c = canon.len();
                key(canon, k);
                encode_canonical(v, canon);
                spans.push((i, true, c, canon.len()));
            }
        }
        spans.sort_unstable_by(|a, b| key_at(m, a.0).cmp(key_at(m, b.0)));
        let deleted = matches!(m.get("_deleted"), Some(Value::Bool(true)));
        input.clear();
        input.push(9);
        bin::varint(input, spans.len() as u64 + 1);
        let pairs = &body[base..];
        for &(_, in_canon, start, end) in spans.iter() {
            let src = if in_canon { &canon[..] } else { pairs };
            input.extend_from_slice(&src[start..end]);
        }
        input.extend_from_slice(&[8, b'_', b'd', b'e', b'l', b'e', b't', b'e', b'd']);
        input.push(if deleted { 2 } else { 1 });
        xxhash_rust::xxh3::xxh3_128(input)
    }
}

fn key(out: &mut Vec<u8>, k: &str) {
    bin::varint(out, k.len() as u64);
    out.extend_from_slice(k.as_bytes());
}

fn key_at(m: &Map, i: usize) -> &str {
    m.get_index(i).map_or("", |(k, _)| k.as_str())
}

/// The `_hash` text: 32 lowercase hex digits.
pub fn hash_hex(h: u128) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(32);
    for b in h.to_be_bytes() {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
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

    #[test]
    fn hex_is_32_lowercase_digits() {
        assert_eq!(hash_hex(0), "0".repeat(32));
        assert_eq!(
            hash_hex(0xab << 120 | 0x1f),
            format!("{:032x}", 0xab_u128 << 120 | 0x1f)
        );
    }

    /// One pass gives the stored body and exactly the hash of the two-pass path, whether the
    /// pairs are canonical (sorted nested keys) or not (unsorted nested dicts, decimals).
    #[test]
    fn encoder_matches_entity_hash_and_body() {
        let cases = [
            r#"{"_id":"a","x":1}"#,
            r#"{"x":1,"_id":"a"}"#,
            r#"{"b":{"z":1,"a":[{"y":2,"b":3}]},"_id":"k","a":"~f1.50","_updated":3,"c":[1,"~f2.0"]}"#,
            r#"{"_id":"a","_deleted":true,"y":{"a":1,"b":{"c":null}},"Z":"~t2020-01-01T00:00:00Z"}"#,
            r#"{"_deleted":false,"_id":7,"_x":1,"m":[]}"#,
            r#"{"n":"~:a:b","_id":"q","u":"~rhttp://x/","e":{}}"#,
            r#"{}"#,
        ];
        let mut enc = EntityEncoder::default();
        for c in cases {
            let v = from_str(c).unwrap();
            let m = v.as_dict().unwrap();
            let mut body = vec![0xee];
            let hash = enc.encode(m, &mut body);
            assert_eq!(hash, entity_hash(&v), "{c}");
            let mut user = Map::default();
            for (k, x) in m.iter().filter(|(k, _)| !k.starts_with('_')) {
                user.insert(k.clone(), x.clone());
            }
            let mut want = vec![0xee];
            crate::bin::encode(&Value::Dict(user), &mut want);
            assert_eq!(body, want, "{c}");
        }
    }

    const STABLE_A_X1: &str = "1ea75a52a1e2b94d5d866b89ac0b1df6";
}
