//! The transcoder against the `Value` path (`bin::decode` then `transit::write`): fixed
//! values covering every tag and transit encoding, generated values, and corrupt input.

use super::*;
use crate::transit::{from_str, to_string};
use crate::{bin, Map, Value};

/// The JSON text both ways; panics with the value when they differ.
fn both(v: &Value) -> String {
    let bytes = bin::to_vec(v);
    let via_value = to_string(&bin::decode(&bytes).unwrap());
    let mut out = Vec::new();
    write_json(&bytes, &mut out).unwrap();
    let direct = String::from_utf8(out).expect("the transcoder writes UTF-8");
    assert_eq!(direct, via_value, "for {v:?}");
    direct
}

const EVERY_KIND: &str = r#"{
  "_id": "person-1",
  "plain": "abc",
  "escapes": "quote \" backslash \\ slash / nl \n cr \r tab \t bell \u0007 nul \u0000 us \u001f del \u007f",
  "non_ascii": "Ærlig talt, ñandú, 日本語, emoji 😀 and \u2028",
  "empty": "",
  "tilde": "~~not typed",
  "int": -12345, "zero": 0, "max": 9223372036854775807, "min": -9223372036854775808,
  "big": 123456789012345678901234567890, "negbig": -98765432109876543210987654321,
  "just_over": 9223372036854775808,
  "floats": [1.5, -0.0, 0.1, 1e300, 5e-324, 123456789.125, 1e16, 2.5e-7],
  "decimals": ["~f2.30", "~f-0.001", "~f12345678901234567890.1234567890", "~f0", "~f1E+5", "~f-7.5e-3"],
  "datetimes": ["~t2015-01-02T03:04:05Z", "~t2015-01-02T03:04:05.5Z", "~t2015-01-02T03:04:05.123456Z",
                "~t2015-01-02T03:04:05.123456789Z", "~t1815-12-31T23:59:59Z", "~t0001-01-01T00:00:00Z",
                "~t9999-12-31T23:59:59.999999999Z", "~t1969-12-31T23:59:59.000001Z"],
  "dates": ["~t2015-12-31", "~t0001-01-01", "~t1970-01-01", "~t1900-02-28"],
  "bytes": ["~b", "~bAA==", "~bAAE=", "~bAAEC", "~bAAECAwQF", "~b/+/+"],
  "uuid": "~u531a379e-31bb-4ce1-8690-158dceb64be6",
  "nsids": ["~:crm-person:100", "~:a:with \"quote\" and \\"],
  "uris": ["~rhttp://www.sesam.io/", "~rhttp://x/?q=\"1\"&\n"],
  "nested": {"list": [[], {}, [null, true, false], {"deep": {"deeper": [1, {"k": "v"}]}}],
             "key with \"quote\"\n": 1, "é": "ü"},
  "null": null, "t": true, "f": false,
  "_deleted": false, "_updated": 42, "_previous": null, "_ts": 1700000000000000,
  "_hash": "0123456789abcdef0123456789abcdef"
}"#;

#[test]
fn every_value_kind_matches_the_value_path() {
    let v = from_str(EVERY_KIND).unwrap();
    let text = both(&v);
    // A sample of what a user reads, so a change in both paths at once is noticed too.
    for part in [
        r#""escapes":"quote \" backslash \\ slash / nl \n cr \r tab \t bell \u0007 nul \u0000 us \u001f del "#,
        r#""non_ascii":"Ærlig talt, ñandú, 日本語, emoji 😀 and "#,
        r#""big":123456789012345678901234567890"#,
        r#""floats":[1.5,-0.0,0.1,1e300,5e-324,123456789.125,1e16,2.5e-7]"#,
        r#""~f2.30""#,
        r#""~t2015-01-02T03:04:05.500Z""#,
        r#""~t1815-12-31T23:59:59Z""#,
        r#""~t2015-12-31""#,
        r#""bytes":["~b","~bAA==","~bAAE=","~bAAEC","~bAAECAwQF","~b/+/+"]"#,
        r#""~u531a379e-31bb-4ce1-8690-158dceb64be6""#,
        r#""~:a:with \"quote\" and \\""#,
        r#""~rhttp://x/?q=\"1\"&\n""#,
        r#""key with \"quote\"\n":1"#,
        r#""null":null,"t":true,"f":false,"_deleted":false,"_updated":42"#,
    ] {
        assert!(text.contains(part), "{part} not in {text}");
    }
}

#[test]
fn values_transit_text_cannot_carry_match_too() {
    let mut m = Map::default();
    m.insert("nan".into(), Value::Float(f64::NAN));
    m.insert("inf".into(), Value::Float(f64::NEG_INFINITY));
    // Far outside Sesam's years: the fallback to `DateTime::format` / `Date::format`.
    m.insert(
        "far".into(),
        Value::DateTime(DateTime {
            secs: 400_000 * 366 * 86_400,
            nanos: 7,
        }),
    );
    m.insert("before_year_0".into(), Value::Date(Date { days: -800_000 }));
    m.insert("year_10000".into(), Value::Date(Date { days: 2_932_897 }));
    m.insert("bad_date".into(), Value::Date(Date { days: i32::MAX }));
    m.insert("i64min".into(), Value::Int(i64::MIN));
    let text = both(&Value::Dict(m));
    assert!(text.contains(r#""nan":null,"inf":null"#), "{text}");
    assert!(text.contains("invalid-date("), "{text}");
}

/// A small deterministic generator (xorshift) of values of every kind.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn string(&mut self) -> String {
        const PIECES: [&str; 10] = ["a", "Z9", " ", "\"", "\\", "\n", "\u{1}", "é", "😀", "~t"];
        (0..self.below(6))
            .map(|_| PIECES[self.below(10) as usize])
            .collect()
    }
    fn value(&mut self, depth: u32) -> Value {
        let kinds = if depth > 3 { 13 } else { 15 };
        match self.below(kinds) {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 1),
            2 => Value::Int(self.next() as i64 >> self.below(64)),
            3 => Value::from_bigint(BigInt::from(self.next()) * BigInt::from(self.next()) * -3),
            4 => Value::Float(f64::from_bits(self.next())),
            5 => Value::from_decimal(BigDecimal::new(
                BigInt::from(self.next() as i64),
                self.below(30) as i64 - 10,
            )),
            6 => Value::String(self.string()),
            7 => Value::DateTime(DateTime {
                // Years 0000 to a little past 9999 (the fallback).
                secs: self.below(316_500_000_000) as i64 - 62_200_000_000,
                nanos: [0, 5_000_000, 123_456_000, 1, 999_999_999][self.below(5) as usize],
            }),
            8 => Value::Date(Date {
                days: self.below(3_000_000) as i32 - 720_000,
            }),
            9 => Value::Bytes((0..self.below(9)).map(|_| self.next() as u8).collect()),
            10 => Value::Uuid(uuid::Uuid::from_u128(
                (self.next() as u128) << 64 | self.next() as u128,
            )),
            11 => Value::Ni(self.string()),
            12 => Value::Uri(self.string()),
            13 => Value::List((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
            _ => Value::Dict(
                (0..self.below(4))
                    .map(|_| (self.string(), self.value(depth + 1)))
                    .collect(),
            ),
        }
    }
}

#[test]
fn generated_values_match_the_value_path() {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    for _ in 0..5000 {
        both(&g.value(0));
    }
}

#[test]
fn dict_members_leave_the_braces_to_the_caller() {
    let bytes = bin::to_vec(&from_str(r#"{"b":1,"a":["x"]}"#).unwrap());
    let mut out = Vec::new();
    assert_eq!(write_dict_members(&bytes, &mut out).unwrap(), 2);
    assert_eq!(out, br#""b":1,"a":["x"]"#);
    assert!(write_dict_members(&bin::to_vec(&Value::Int(1)), &mut out).is_err());
}

#[test]
fn corrupt_input_is_an_error_like_decode() {
    let v = from_str(EVERY_KIND).unwrap();
    let bytes = bin::to_vec(&v);
    for cut in 0..bytes.len() {
        let mut out = Vec::new();
        assert!(write_json(&bytes[..cut], &mut out).is_err(), "cut at {cut}");
        assert!(bin::decode(&bytes[..cut]).is_err());
    }
    let mut out = Vec::new();
    assert!(write_json(&[99], &mut out).is_err());
    assert!(
        write_json(&[7, 2, 0xff, 0xfe], &mut out).is_err(),
        "bad UTF-8"
    );
    assert!(write_json(&[3, 0, 0], &mut out).is_err(), "trailing bytes");
    assert!(write_json(&[8, 0xff, 0xff, 0xff, 0xff, 0x0f], &mut out).is_err());
}
