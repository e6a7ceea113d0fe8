//! Sesam's transit JSON: entity JSON where strings starting with `~` carry typed values
//! (`~t` date/datetime, `~f` decimal, `~b` bytes, `~u` uuid, `~:` NI, `~r` URI; `~d` float
//! and `~~` escape are accepted as sesamclient writes them). Decoding and encoding, in
//! `Transit` mode (entities) or `Plain` mode (DTL `json` / `json-parse`).
//!
//! Numbers: a JSON number without `.`/`e` is an integer of any size; with one it is a float.
//! A typed string that does not parse (`"~tnot a date"`) stays a plain string, as Sesam does
//! with unknown tags.

use std::fmt::Write as _;
use std::str::FromStr;

use base64::Engine as _;
use bigdecimal::BigDecimal;
use num_bigint::BigInt;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Date, DateTime, Map, Value};

/// Whether `~` strings are typed values (`Transit`) or plain strings (`Plain`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Transit,
    Plain,
}

const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Parses JSON text into a value, decoding transit strings.
pub fn from_str(text: &str) -> Result<Value, serde_json::Error> {
    from_str_mode(text, Mode::Transit)
}

pub fn from_str_mode(text: &str, mode: Mode) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = ValueSeed(mode).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

pub fn from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = ValueSeed(Mode::Transit).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Converts an already parsed `serde_json::Value` (transit mode).
pub fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => parse_number(&n.to_string()),
        serde_json::Value::String(s) => decode_string(s, Mode::Transit),
        serde_json::Value::Array(a) => Value::List(a.iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            Value::Dict(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    }
}

/// Converts to a `serde_json::Value` (transit mode).
pub fn to_json(v: &Value) -> serde_json::Value {
    serde_json::from_str(&to_string(v)).unwrap_or(serde_json::Value::Null)
}

/// The transit JSON text of a value (compact).
pub fn to_string(v: &Value) -> String {
    let mut s = String::new();
    write(&mut s, v, Mode::Transit);
    s
}

pub fn to_string_mode(v: &Value, mode: Mode) -> String {
    let mut s = String::new();
    write(&mut s, v, mode);
    s
}

/// Parses number text: integers of any size, otherwise float.
pub fn parse_number(text: &str) -> Value {
    if !text.contains(['.', 'e', 'E']) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Int(i);
        }
        if let Ok(b) = BigInt::from_str(text) {
            return Value::from_bigint(b);
        }
    }
    Value::Float(text.parse::<f64>().unwrap_or(f64::NAN))
}

/// Decodes one string in the given mode.
pub fn decode_string(s: &str, mode: Mode) -> Value {
    if mode == Mode::Plain || !s.starts_with('~') || s.len() < 2 {
        return Value::String(s.to_owned());
    }
    decode_typed(s).unwrap_or_else(|| Value::String(s.to_owned()))
}

fn decode_typed(s: &str) -> Option<Value> {
    let payload = &s[2..];
    Some(match s.as_bytes()[1] {
        b':' => Value::Ni(payload.to_owned()),
        b'r' => Value::Uri(payload.to_owned()),
        b't' => {
            if payload.len() == 10 {
                Value::Date(Date::parse(payload)?)
            } else {
                Value::DateTime(DateTime::parse(payload)?)
            }
        }
        b'b' => Value::Bytes(
            base64::engine::general_purpose::STANDARD
                .decode(payload)
                .ok()?,
        ),
        b'u' => Value::Uuid(uuid::Uuid::parse_str(payload).ok()?),
        b'f' => Value::from_decimal(BigDecimal::from_str(payload).ok()?),
        b'd' => Value::Float(payload.parse().ok()?),
        b'~' => Value::String(s[1..].to_owned()),
        _ => return None,
    })
}

/// Writes compact JSON text.
pub fn write(out: &mut String, v: &Value, mode: Mode) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::BigInt(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Float(f) => write_float(out, *f),
        Value::Decimal(d) => match mode {
            Mode::Transit => {
                out.push_str("\"~f");
                out.push_str(&decimal_text(d));
                out.push('"');
            }
            Mode::Plain => out.push_str(&decimal_text(d)),
        },
        Value::String(s) => write_str(out, s),
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, x, mode);
            }
            out.push(']');
        }
        Value::Dict(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write(out, x, mode);
            }
            out.push('}');
        }
        other => write_str(out, &typed_text(other, mode)),
    }
}

/// The string form of a typed scalar: `~t…` in transit mode, bare text in plain mode.
pub fn typed_text(v: &Value, mode: Mode) -> String {
    let (tag, body) = match v {
        Value::DateTime(d) => ("~t", d.format()),
        Value::Date(d) => ("~t", d.format()),
        Value::Bytes(b) => ("~b", base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Uuid(u) => ("~u", u.to_string()),
        Value::Ni(s) => ("~:", s.clone()),
        Value::Uri(s) => ("~r", s.clone()),
        Value::Decimal(d) => ("~f", decimal_text(d)),
        _ => ("", String::new()),
    };
    match mode {
        Mode::Transit => format!("{tag}{body}"),
        Mode::Plain => body,
    }
}

/// Decimal text written out in full (no exponent), as Sesam prints decimals.
pub fn decimal_text(d: &BigDecimal) -> String {
    d.to_plain_string()
}

/// Float text: shortest round-trip form, always with a `.` or exponent; NaN/inf as null.
pub fn write_float(out: &mut String, f: f64) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    let _ = write!(out, "{f:?}");
}

pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    let bytes = s.as_bytes();
    for (i, &c) in bytes.iter().enumerate() {
        let esc: Option<&str> = match c {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{c:04x}");
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A serde seed deserialising a `Value` in the given mode.
#[derive(Clone, Copy)]
pub struct ValueSeed(pub Mode);

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor(self.0))
    }
}

struct ValueVisitor(Mode);

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u)
            .map(Value::Int)
            .unwrap_or_else(|_| Value::from_bigint(BigInt::from(u))))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(decode_string(s, self.0))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        if self.0 == Mode::Plain || !s.starts_with('~') {
            return Ok(Value::String(s));
        }
        Ok(decode_string(&s, self.0))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut l = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element_seed(ValueSeed(self.0))? {
            l.push(v);
        }
        Ok(Value::List(l))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = Map::default();
        let mut first = true;
        while let Some(k) = map.next_key::<String>()? {
            if first && k == NUMBER_TOKEN {
                let text: String = map.next_value()?;
                return Ok(parse_number(&text));
            }
            if first {
                // JSON gives no size hint; start at 8 entries instead of growing 0-4-8-16.
                m.reserve(8);
                first = false;
            }
            let v = map.next_value_seed(ValueSeed(self.0))?;
            m.insert(k, v);
        }
        Ok(Value::Dict(m))
    }
}

impl<'de> Deserialize<'de> for Value {
    /// Deserialises in transit mode.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        ValueSeed(Mode::Transit).deserialize(d)
    }
}

impl Serialize for Value {
    /// Serialises in transit mode.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::BigInt(b) => serde_json::Number::from_str(&b.to_string())
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(_) => s.serialize_unit(),
            Value::String(x) => s.serialize_str(x),
            Value::List(l) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                for x in l {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
            Value::Dict(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, x) in m {
                    map.serialize_entry(k, x)?;
                }
                map.end()
            }
            other => s.serialize_str(&typed_text(other, Mode::Transit)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_strings_round_trip() {
        let text = r#"{"_id":"a","t":"~t2015-01-02T03:04:05.123456789Z","d":"~t2015-12-31","f":"~f12345678901234567890.1234567890","b":"~bAAECAwQF","u":"~u531a379e-31bb-4ce1-8690-158dceb64be6","n":"~:crm-person:100","r":"~rhttp://www.sesam.io/","big":123456789012345678901234567890,"x":1.5,"i":-3}"#;
        let v = from_str(text).unwrap();
        assert!(matches!(v.get("t"), Some(Value::DateTime(_))));
        assert!(matches!(v.get("d"), Some(Value::Date(_))));
        assert!(matches!(v.get("f"), Some(Value::Decimal(_))));
        assert!(matches!(v.get("b"), Some(Value::Bytes(b)) if b == &[0, 1, 2, 3, 4, 5]));
        assert!(matches!(v.get("u"), Some(Value::Uuid(_))));
        assert!(matches!(v.get("n"), Some(Value::Ni(s)) if s == "crm-person:100"));
        assert!(matches!(v.get("r"), Some(Value::Uri(_))));
        assert!(matches!(v.get("big"), Some(Value::BigInt(_))));
        assert!(matches!(v.get("x"), Some(Value::Float(f)) if *f == 1.5));
        assert_eq!(to_string(&v), text);
    }

    #[test]
    fn plain_mode_keeps_tilde_strings() {
        let v = from_str_mode(r#"["~t2015-12-31", 1.0]"#, Mode::Plain).unwrap();
        assert_eq!(to_string(&v), r#"["~t2015-12-31",1.0]"#);
    }

    #[test]
    fn unknown_or_bad_tags_stay_strings() {
        let v = from_str(r#"["~x1", "~tnot a date", "~"]"#).unwrap();
        assert!(v.as_slice().iter().all(|x| matches!(x, Value::String(_))));
    }

    #[test]
    fn strings_are_escaped() {
        let v = Value::String("a\"b\\c\n\u{1}é".into());
        let s = to_string(&v);
        assert_eq!(from_str(&s).unwrap().as_str(), v.as_str());
    }

    #[test]
    fn serde_serialize_matches_writer() {
        let v = from_str(r#"{"a":[1,2.5,"~:x:y",null,true],"b":99999999999999999999999}"#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), to_string(&v));
    }
}
