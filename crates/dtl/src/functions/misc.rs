//! Bytes, hashing, UUIDs and change detection: `bytes base64-encode base64-decode is-bytes
//! hash128 uuid is-uuid is-changed`.

use base64::Engine as _;
use num_bigint::BigInt;
use pumphouse_value::Value;

use super::{spec, Spec, MANY};
use crate::ast::Call;
use crate::error::EvalResult;
use crate::eval::{map_values, Scope};

pub const SPECS: &[Spec] = &[
    spec("bytes", 1, 1, bytes),
    spec("base64-encode", 1, 1, base64_encode),
    spec("base64-decode", 1, 1, base64_decode),
    spec("is-bytes", 1, 1, is_bytes),
    spec("hash128", 2, 3, hash128),
    spec("uuid", 0, MANY, uuid),
    spec("is-uuid", 1, 1, is_uuid),
    spec("is-changed", 1, 1, is_changed),
];

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn bytes(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(map_values(sc.arg(c, 0)?, |v| match v {
        Value::String(s) => Some(Value::Bytes(s.into_bytes())),
        Value::Bytes(_) => Some(v),
        _ => None,
    }))
}

fn base64_encode(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(map_values(sc.arg(c, 0)?, |v| match v {
        Value::Bytes(b) => Some(Value::String(B64.encode(b))),
        _ => None,
    }))
}

fn base64_decode(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(map_values(sc.arg(c, 0)?, |v| match v {
        Value::String(s) => B64.decode(s.trim()).ok().map(Value::Bytes),
        _ => None,
    }))
}

fn is_bytes(c: &Call, sc: &Scope) -> EvalResult<Value> {
    super::numbers::first_is(c, sc, |v| matches!(v, Value::Bytes(_)))
}

fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// MurmurHash3 x64 128-bit, as the unsigned integer `(h2 << 64) | h1`.
pub fn murmur3_128(data: &[u8], seed: u32) -> u128 {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    let (mut h1, mut h2) = (seed as u64, seed as u64);
    let blocks = data.len() / 16;
    let word = |b: &[u8]| b.iter().rev().fold(0u64, |acc, x| (acc << 8) | *x as u64);
    for i in 0..blocks {
        let k1 = word(&data[i * 16..i * 16 + 8]);
        let k2 = word(&data[i * 16 + 8..i * 16 + 16]);
        h1 ^= k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = &data[blocks * 16..];
    if tail.len() > 8 {
        let k2 = word(&tail[8..]);
        h2 ^= k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
    }
    if !tail.is_empty() {
        let k1 = word(&tail[..tail.len().min(8)]);
        h1 ^= k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    ((h2 as u128) << 64) | h1 as u128
}

fn hash128(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let algo = sc.arg(c, 0)?;
    if algo.as_str() != Some("murmur3") {
        return Ok(Value::Null);
    }
    let seed = if c.args.len() == 3 {
        sc.arg(c, 1)?.as_i64().unwrap_or(0) as u32
    } else {
        0
    };
    Ok(map_values(sc.arg(c, c.args.len() - 1)?, |v| {
        let h = match &v {
            Value::String(s) => murmur3_128(s.as_bytes(), seed),
            Value::Bytes(b) => murmur3_128(b, seed),
            _ => return None,
        };
        Some(Value::from_bigint(BigInt::from(h)))
    }))
}

fn uuid(c: &Call, sc: &Scope) -> EvalResult<Value> {
    if c.args.is_empty() {
        return Ok(Value::Uuid(uuid::Uuid::new_v4()));
    }
    super::numbers::cast(c, sc, |v| match v {
        Value::Uuid(_) => Some(v.clone()),
        Value::String(s) => uuid::Uuid::parse_str(s).ok().map(Value::Uuid),
        _ => None,
    })
}

fn is_uuid(c: &Call, sc: &Scope) -> EvalResult<Value> {
    super::numbers::first_is(c, sc, |v| matches!(v, Value::Uuid(_)))
}

fn is_changed(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let Some(prev) = sc.env.ctx.previous else {
        return Ok(Value::Null);
    };
    let mut root = sc;
    while let Some(p) = root.parent {
        root = p;
    }
    let deleted = |v: &Value| v.get("_deleted").is_some_and(|d| d.truthy());
    if deleted(root.s) || deleted(prev) {
        return Ok(Value::Bool(true));
    }
    let now = sc.call_with(&c.args[0], root.s)?;
    let before = sc.call_with(&c.args[0], prev)?;
    Ok(Value::Bool(
        !super::compare::lists_equal(&now, &before)
            || now.as_slice().len() != before.as_slice().len(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_matches_mmh3() {
        assert_eq!(
            murmur3_128(b"abc", 0),
            79267961763742113019008347020647561319
        );
    }
}
