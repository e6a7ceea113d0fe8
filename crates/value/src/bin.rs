//! The compact binary form of a value used by the store: one tag byte, then varints and raw
//! bytes. `encode` keeps dict order; `encode_canonical` sorts dict keys (used by the hash).
//! Format (stable; changing it is a store format change, see docs/storage.md):
//!
//! | tag | type | payload |
//! |---|---|---|
//! | 0 / 1 / 2 | null / false / true | – |
//! | 3 | int | zigzag varint |
//! | 4 | big int | varint length, signed little-endian bytes |
//! | 5 | float | 8 bytes little-endian |
//! | 6 | decimal | varint length, decimal text |
//! | 7 | string | varint length, utf-8 |
//! | 8 | list | varint count, items |
//! | 9 | dict | varint count, (string key, value) pairs |
//! | 10 | datetime | zigzag varint seconds, varint nanos |
//! | 11 | date | zigzag varint days |
//! | 12 | bytes | varint length, bytes |
//! | 13 | uuid | 16 bytes |
//! | 14 / 15 | NI / URI | varint length, utf-8 |
//!
//! `bin_json` reads this format too (straight to JSON text): a format change touches both.

use std::str::FromStr;

use bigdecimal::BigDecimal;
use num_bigint::BigInt;

use crate::{Date, DateTime, Map, Value, ValueError};

pub fn encode(v: &Value, out: &mut Vec<u8>) {
    enc(v, out, false);
}

/// Encoding with dict keys sorted, so equal content gives equal bytes.
pub fn encode_canonical(v: &Value, out: &mut Vec<u8>) {
    enc(v, out, true);
}

/// As `encode`, returning whether the bytes written equal `encode_canonical`'s (every dict's
/// keys already in sorted order, no decimal), so the content hash can reuse them.
pub fn encode_is_canonical(v: &Value, out: &mut Vec<u8>) -> bool {
    enc(v, out, false)
}

pub fn to_vec(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    encode(v, &mut out);
    out
}

/// Encodes `v`; returns whether the bytes are canonical (always true when `sorted`).
fn enc(v: &Value, out: &mut Vec<u8>, sorted: bool) -> bool {
    match v {
        Value::Null => out.push(0),
        Value::Bool(false) => out.push(1),
        Value::Bool(true) => out.push(2),
        Value::Int(i) => {
            out.push(3);
            varint(out, zigzag(*i));
        }
        Value::BigInt(b) => {
            out.push(4);
            bytes(out, &b.to_signed_bytes_le());
        }
        Value::Float(f) => {
            out.push(5);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Decimal(d) => {
            out.push(6);
            let text = if sorted {
                d.normalized().to_string()
            } else {
                d.to_string()
            };
            bytes(out, text.as_bytes());
            return sorted;
        }
        Value::String(s) => {
            out.push(7);
            bytes(out, s.as_bytes());
        }
        Value::List(l) => {
            out.push(8);
            varint(out, l.len() as u64);
            let mut canon = true;
            for x in l {
                canon &= enc(x, out, sorted);
            }
            return canon;
        }
        Value::Dict(m) => {
            out.push(9);
            varint(out, m.len() as u64);
            if sorted {
                let mut pairs: Vec<_> = m.iter().collect();
                pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
                for (k, x) in pairs {
                    bytes(out, k.as_bytes());
                    enc(x, out, sorted);
                }
            } else {
                let mut canon = true;
                let mut last: Option<&str> = None;
                for (k, x) in m {
                    canon &= last.is_none_or(|l| l < k.as_str());
                    last = Some(k);
                    bytes(out, k.as_bytes());
                    canon &= enc(x, out, sorted);
                }
                return canon;
            }
        }
        Value::DateTime(d) => {
            out.push(10);
            varint(out, zigzag(d.secs));
            varint(out, d.nanos as u64);
        }
        Value::Date(d) => {
            out.push(11);
            varint(out, zigzag(d.days as i64));
        }
        Value::Bytes(b) => {
            out.push(12);
            bytes(out, b);
        }
        Value::Uuid(u) => {
            out.push(13);
            out.extend_from_slice(u.as_bytes());
        }
        Value::Ni(s) => {
            out.push(14);
            bytes(out, s.as_bytes());
        }
        Value::Uri(s) => {
            out.push(15);
            bytes(out, s.as_bytes());
        }
    }
    true
}

#[inline]
fn zigzag(i: i64) -> u64 {
    ((i << 1) ^ (i >> 63)) as u64
}

#[inline]
pub(crate) fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

#[inline]
pub fn varint(out: &mut Vec<u8>, mut u: u64) {
    while u >= 0x80 {
        out.push((u as u8) | 0x80);
        u >>= 7;
    }
    out.push(u as u8);
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Decodes one value from the whole slice.
pub fn decode(buf: &[u8]) -> Result<Value, ValueError> {
    let mut r = Reader { buf, pos: 0 };
    let v = r.value(0)?;
    r.end()?;
    Ok(v)
}

/// Decodes a dict from the whole slice, with room for `extra` more entries (so a caller
/// adding keys does not grow the map).
pub fn decode_dict(buf: &[u8], extra: usize) -> Result<Map, ValueError> {
    root_dict(buf, None, extra)
}

/// As `decode_dict`, keeping only the root entries whose key is in `keys` (the others are
/// skipped without being decoded).
pub fn decode_dict_only(buf: &[u8], keys: &[String], extra: usize) -> Result<Map, ValueError> {
    root_dict(buf, Some(keys), extra)
}

fn root_dict(buf: &[u8], keys: Option<&[String]>, extra: usize) -> Result<Map, ValueError> {
    let mut r = Reader { buf, pos: 0 };
    if r.byte()? != 9 {
        return Err(corrupt("not a dict"));
    }
    let m = r.dict(0, extra, keys)?;
    r.end()?;
    Ok(m)
}

/// Decodes one value from the front of `buf`, returning it and the bytes read.
pub fn decode_prefix(buf: &[u8]) -> Result<(Value, usize), ValueError> {
    let mut r = Reader { buf, pos: 0 };
    let v = r.value(0)?;
    Ok((v, r.pos))
}

/// A cursor over `bin` bytes, shared with the JSON transcoder (`bin_json`).
pub(crate) struct Reader<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) pos: usize,
}

pub(crate) fn corrupt(what: &str) -> ValueError {
    ValueError::Corrupt(what.to_owned())
}

impl<'a> Reader<'a> {
    pub(crate) fn byte(&mut self) -> Result<u8, ValueError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| corrupt("unexpected end"))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn varint(&mut self) -> Result<u64, ValueError> {
        let mut u = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift > 63 {
                return Err(corrupt("varint too long"));
            }
            u |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(u);
            }
            shift += 7;
        }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], ValueError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| corrupt("length past end"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn slice(&mut self) -> Result<&'a [u8], ValueError> {
        let n = self.varint()? as usize;
        self.take(n)
    }

    fn string(&mut self) -> Result<String, ValueError> {
        let s = self.slice()?;
        String::from_utf8(s.to_vec()).map_err(|_| corrupt("invalid utf-8"))
    }

    /// A dict's entries (after its tag), with room for `extra` more; with `keys`, only the
    /// entries whose key is there (the others are skipped, not decoded).
    fn dict(
        &mut self,
        depth: u32,
        extra: usize,
        keys: Option<&[String]>,
    ) -> Result<Map, ValueError> {
        let n = self.varint()? as usize;
        let room = keys.map_or(n, |k| n.min(k.len()));
        let mut m = crate::map_with_capacity(room.min(self.buf.len()) + extra);
        for _ in 0..n {
            let k = self.slice()?;
            if keys.is_some_and(|keys| !keys.iter().any(|x| x.as_bytes() == k)) {
                self.skip(depth + 1)?;
                continue;
            }
            let k = std::str::from_utf8(k).map_err(|_| corrupt("invalid utf-8"))?;
            let v = self.value(depth + 1)?;
            m.insert(k.to_owned(), v);
        }
        Ok(m)
    }

    /// Fails unless the whole buffer was read.
    fn end(&self) -> Result<(), ValueError> {
        if self.pos != self.buf.len() {
            return Err(ValueError::Corrupt(format!(
                "{} trailing bytes",
                self.buf.len() - self.pos
            )));
        }
        Ok(())
    }

    /// Moves past one value without building it.
    fn skip(&mut self, depth: u32) -> Result<(), ValueError> {
        if depth > 512 {
            return Err(corrupt("nesting too deep"));
        }
        match self.byte()? {
            0..=2 => {}
            3 | 11 => {
                self.varint()?;
            }
            4 | 6 | 7 | 12 | 14 | 15 => {
                self.slice()?;
            }
            5 => {
                self.take(8)?;
            }
            8 => {
                for _ in 0..self.varint()? {
                    self.skip(depth + 1)?;
                }
            }
            9 => {
                for _ in 0..self.varint()? {
                    self.slice()?;
                    self.skip(depth + 1)?;
                }
            }
            10 => {
                self.varint()?;
                self.varint()?;
            }
            13 => {
                self.take(16)?;
            }
            t => return Err(ValueError::Corrupt(format!("unknown tag {t}"))),
        }
        Ok(())
    }

    fn value(&mut self, depth: u32) -> Result<Value, ValueError> {
        if depth > 512 {
            return Err(corrupt("nesting too deep"));
        }
        Ok(match self.byte()? {
            0 => Value::Null,
            1 => Value::Bool(false),
            2 => Value::Bool(true),
            3 => Value::Int(unzigzag(self.varint()?)),
            4 => Value::from_bigint(BigInt::from_signed_bytes_le(self.slice()?)),
            5 => Value::Float(f64::from_le_bytes(
                self.take(8)?.try_into().map_err(|_| corrupt("float"))?,
            )),
            6 => {
                let s = self.string()?;
                Value::from_decimal(BigDecimal::from_str(&s).map_err(|_| corrupt("decimal"))?)
            }
            7 => Value::String(self.string()?),
            8 => {
                let n = self.varint()? as usize;
                let mut l = Vec::with_capacity(n.min(self.buf.len()));
                for _ in 0..n {
                    l.push(self.value(depth + 1)?);
                }
                Value::List(l)
            }
            9 => Value::Dict(self.dict(depth, 0, None)?),
            10 => {
                let secs = unzigzag(self.varint()?);
                let nanos = self.varint()?;
                if nanos >= 1_000_000_000 {
                    return Err(corrupt("nanos out of range"));
                }
                Value::DateTime(DateTime {
                    secs,
                    nanos: nanos as u32,
                })
            }
            11 => Value::Date(Date {
                days: unzigzag(self.varint()?) as i32,
            }),
            12 => Value::Bytes(self.slice()?.to_vec()),
            13 => Value::Uuid(uuid::Uuid::from_slice(self.take(16)?).map_err(|_| corrupt("uuid"))?),
            14 => Value::Ni(self.string()?),
            15 => Value::Uri(self.string()?),
            t => return Err(ValueError::Corrupt(format!("unknown tag {t}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transit::{from_str, to_string};

    #[test]
    fn round_trips_every_type() {
        let v = from_str(r#"{"_id":"x","n":null,"b":[true,false],"i":-12345,"big":-123456789012345678901234567890,"f":2.5,"d":"~f2.30","s":"héllo","t":"~t2015-01-02T03:04:05.123456789Z","dt":"~t1815-12-31","by":"~bAAECAwQF","u":"~u531a379e-31bb-4ce1-8690-158dceb64be6","ni":"~:a:b","r":"~rhttp://x/","nest":{"z":1,"a":[{}]}}"#).unwrap();
        let back = decode(&to_vec(&v)).unwrap();
        assert_eq!(to_string(&back), to_string(&v));
    }

    #[test]
    fn decode_dict_only_keeps_the_asked_keys_and_skips_every_type() {
        let v = from_str(r#"{"n":null,"b":[true,false],"i":-12345,"big":-123456789012345678901234567890,"f":2.5,"d":"~f2.30","s":"héllo","t":"~t2015-01-02T03:04:05.123456789Z","dt":"~t1815-12-31","by":"~bAAECAwQF","u":"~u531a379e-31bb-4ce1-8690-158dceb64be6","ni":"~:a:b","r":"~rhttp://x/","nest":{"z":1,"a":[{}]},"last":"kept"}"#).unwrap();
        let buf = to_vec(&v);
        let keys = vec!["nest".to_string(), "last".to_string(), "absent".to_string()];
        let m = decode_dict_only(&buf, &keys, 0).unwrap();
        assert_eq!(
            to_string(&Value::Dict(m)),
            r#"{"nest":{"z":1,"a":[{}]},"last":"kept"}"#
        );
        let all: Vec<String> = v.as_dict().unwrap().keys().cloned().collect();
        assert_eq!(Value::Dict(decode_dict_only(&buf, &all, 0).unwrap()), v);
        assert!(decode_dict_only(&buf[..buf.len() - 1], &keys, 0).is_err());
    }

    #[test]
    fn corrupt_input_is_an_error_not_a_panic() {
        let bytes = to_vec(&from_str(r#"{"a":[1,"xyz",2.5]}"#).unwrap());
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err());
        }
        assert!(decode(&[99]).is_err());
        assert!(decode(&[8, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }
}
