//! Transcodes the store's binary form (`bin`) straight to transit JSON text, byte for byte
//! what `transit::write(&bin::decode(..)?, Mode::Transit)` gives, without building a `Value`.
//! Used to stream datasets over the API. It reads the same format as `bin::decode` with the
//! same cursor, so a format change must touch both; `tests` compares the two over every tag.

use std::io::Write as _;
use std::str::FromStr;

use base64::Engine as _;
use bigdecimal::BigDecimal;
use num_bigint::BigInt;

use crate::bin::{corrupt, unzigzag, Reader};
use crate::{transit, Date, DateTime, ValueError};

/// Writes the transit JSON of the one value that fills `buf`.
pub fn write_json(buf: &[u8], out: &mut Vec<u8>) -> Result<(), ValueError> {
    let mut r = Reader { buf, pos: 0 };
    value(&mut r, out, 0)?;
    if r.pos != buf.len() {
        return Err(ValueError::Corrupt(format!(
            "{} trailing bytes",
            buf.len() - r.pos
        )));
    }
    Ok(())
}

/// For a `bin` dict filling `buf`: writes its `"key":value` pairs separated by commas, without
/// braces, and returns how many it wrote (so a caller can append more properties).
pub fn write_dict_members(buf: &[u8], out: &mut Vec<u8>) -> Result<usize, ValueError> {
    let mut r = Reader { buf, pos: 0 };
    if r.byte()? != 9 {
        return Err(corrupt("expected a dict"));
    }
    let n = r.varint()? as usize;
    members(&mut r, out, n, 0)?;
    if r.pos != buf.len() {
        return Err(ValueError::Corrupt(format!(
            "{} trailing bytes",
            buf.len() - r.pos
        )));
    }
    Ok(n)
}

fn members(r: &mut Reader<'_>, out: &mut Vec<u8>, n: usize, depth: u32) -> Result<(), ValueError> {
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, str_of(r.slice()?)?);
        out.push(b':');
        value(r, out, depth + 1)?;
    }
    Ok(())
}

fn str_of(b: &[u8]) -> Result<&str, ValueError> {
    std::str::from_utf8(b).map_err(|_| corrupt("invalid utf-8"))
}

fn value(r: &mut Reader<'_>, out: &mut Vec<u8>, depth: u32) -> Result<(), ValueError> {
    if depth > 512 {
        return Err(corrupt("nesting too deep"));
    }
    match r.byte()? {
        0 => out.extend_from_slice(b"null"),
        1 => out.extend_from_slice(b"false"),
        2 => out.extend_from_slice(b"true"),
        3 => push_i64(out, unzigzag(r.varint()?)),
        4 => {
            let _ = write!(out, "{}", BigInt::from_signed_bytes_le(r.slice()?));
        }
        5 => {
            let b: [u8; 8] = r.take(8)?.try_into().map_err(|_| corrupt("float"))?;
            let f = f64::from_le_bytes(b);
            if f.is_finite() {
                let _ = write!(out, "{f:?}");
            } else {
                out.extend_from_slice(b"null");
            }
        }
        6 => {
            let d = BigDecimal::from_str(str_of(r.slice()?)?).map_err(|_| corrupt("decimal"))?;
            out.extend_from_slice(b"\"~f");
            out.extend_from_slice(transit::decimal_text(&d).as_bytes());
            out.push(b'"');
        }
        7 => write_str(out, str_of(r.slice()?)?),
        8 => {
            let n = r.varint()? as usize;
            out.push(b'[');
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                value(r, out, depth + 1)?;
            }
            out.push(b']');
        }
        9 => {
            let n = r.varint()? as usize;
            out.push(b'{');
            members(r, out, n, depth)?;
            out.push(b'}');
        }
        10 => {
            let secs = unzigzag(r.varint()?);
            let nanos = r.varint()?;
            if nanos >= 1_000_000_000 {
                return Err(corrupt("nanos out of range"));
            }
            out.extend_from_slice(b"\"~t");
            write_datetime(out, secs, nanos as u32);
            out.push(b'"');
        }
        11 => {
            let d = Date {
                days: unzigzag(r.varint()?) as i32,
            };
            out.extend_from_slice(b"\"~t");
            write_date(out, d);
            out.push(b'"');
        }
        12 => {
            let b = r.slice()?;
            out.extend_from_slice(b"\"~b");
            let start = out.len();
            out.resize(start + b.len().div_ceil(3) * 4, 0);
            let n = base64::engine::general_purpose::STANDARD
                .encode_slice(b, &mut out[start..])
                .map_err(|_| corrupt("bytes"))?;
            out.truncate(start + n);
            out.push(b'"');
        }
        13 => {
            let u = uuid::Uuid::from_slice(r.take(16)?).map_err(|_| corrupt("uuid"))?;
            out.extend_from_slice(b"\"~u");
            out.extend_from_slice(
                u.hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer())
                    .as_bytes(),
            );
            out.push(b'"');
        }
        tag @ (14 | 15) => {
            let s = str_of(r.slice()?)?;
            out.extend_from_slice(if tag == 14 { b"\"~:" } else { b"\"~r" });
            escape_into(out, s.as_bytes());
            out.push(b'"');
        }
        t => return Err(ValueError::Corrupt(format!("unknown tag {t}"))),
    }
    Ok(())
}

/// `DateTime::format`, written in place for the years 0000–9999 (the others go through it).
fn write_datetime(out: &mut Vec<u8>, secs: i64, nanos: u32) {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let Some((y, m, d)) = i32::try_from(days).ok().and_then(|days| ymd(Date { days })) else {
        out.extend_from_slice(DateTime { secs, nanos }.format().as_bytes());
        return;
    };
    push_ymd(out, y, m, d);
    out.push(b'T');
    push_digits(out, sod / 3600, 2);
    out.push(b':');
    push_digits(out, sod / 60 % 60, 2);
    out.push(b':');
    push_digits(out, sod % 60, 2);
    if nanos != 0 {
        out.push(b'.');
        if nanos % 1_000_000 == 0 {
            push_digits(out, nanos / 1_000_000, 3);
        } else if nanos % 1000 == 0 {
            push_digits(out, nanos / 1000, 6);
        } else {
            push_digits(out, nanos, 9);
        }
    }
    out.push(b'Z');
}

/// `Date::format`, in place for the years 0000–9999.
fn write_date(out: &mut Vec<u8>, date: Date) {
    match ymd(date) {
        Some((y, m, d)) => push_ymd(out, y, m, d),
        None => out.extend_from_slice(date.format().as_bytes()),
    }
}

fn ymd(date: Date) -> Option<(u32, u32, u32)> {
    use chrono::Datelike;
    let n = date.to_naive()?;
    let y = u32::try_from(n.year()).ok().filter(|y| *y <= 9999)?;
    Some((y, n.month(), n.day()))
}

fn push_ymd(out: &mut Vec<u8>, y: u32, m: u32, d: u32) {
    push_digits(out, y, 4);
    out.push(b'-');
    push_digits(out, m, 2);
    out.push(b'-');
    push_digits(out, d, 2);
}

/// `v` in exactly `width` decimal digits (zero-padded; `v` must fit).
fn push_digits(out: &mut Vec<u8>, mut v: u32, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for slot in out[start..].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// An integer in decimal, as `{i}` formats it.
pub fn push_i64(out: &mut Vec<u8>, i: i64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut u = i.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if i < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[pos..]);
}

/// A JSON string literal, escaped as `transit::write_str` escapes it.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    escape_into(out, s.as_bytes());
    out.push(b'"');
}

/// Bytes that need an escape: `"`, `\` and the control characters below 0x20.
const fn needs_escape(c: u8) -> bool {
    c < 0x20 || c == b'"' || c == b'\\'
}

static ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = needs_escape(i as u8);
        i += 1;
    }
    t
};

fn escape_into(out: &mut Vec<u8>, b: &[u8]) {
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if !ESCAPE[c as usize] {
            continue;
        }
        out.extend_from_slice(&b[start..i]);
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(c >> 4) as usize]);
                out.push(HEX[(c & 15) as usize]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
}

#[cfg(test)]
mod tests;
