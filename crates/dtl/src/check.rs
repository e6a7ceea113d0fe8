//! Compile-time checks of constant arguments whose wrong values the docs give no meaning
//! to: time zone names, date parts, the hash algorithm, phone formats and regions, property
//! names of transforms, and malformed typed literals (`~t…`, `~u…`, `~f…`, `~b…`). Each error
//! names the function, the argument (as the docs call it) and its JSON path.

use chrono_tz::Tz;
use pumphouse_value::Value;

use crate::compile::suggest;

/// What a constant argument must be.
#[derive(Clone, Copy)]
pub enum Kind {
    TimeZone,
    DatePart,
    Murmur,
    PhoneFormat,
    Region,
    /// A property name: a string (or a list of strings).
    Name,
}

/// (function, argument count or 0 for any, argument index, argument name, kind).
const CHECKS: &[(&str, usize, usize, &str, Kind)] = &[
    ("datetime-parse", 3, 0, "TIMEZONE", Kind::TimeZone),
    ("datetime-format", 3, 0, "TIMEZONE", Kind::TimeZone),
    ("datetime-shift", 3, 0, "FROM_TIMEZONE", Kind::TimeZone),
    ("datetime-shift", 3, 1, "TO_TIMEZONE", Kind::TimeZone),
    ("datetime-plus", 3, 0, "TYPE", Kind::DatePart),
    ("datetime-diff", 3, 0, "TYPE", Kind::DatePart),
    ("hash128", 0, 0, "ALGORITHM", Kind::Murmur),
    (
        "phonenumber-format",
        2,
        0,
        "FORMAT_STRING",
        Kind::PhoneFormat,
    ),
    ("phonenumber-parse", 2, 0, "DEFAULT_REGION", Kind::Region),
    ("add", 2, 0, "PROPERTY", Kind::Name),
    ("default", 2, 0, "PROPERTY", Kind::Name),
    ("add-if", 0, 0, "PROPERTY", Kind::Name),
    ("rename", 2, 0, "FROM_PROPERTY", Kind::Name),
    ("rename", 2, 1, "TO_PROPERTY", Kind::Name),
    ("copy", 0, 0, "INCLUDE", Kind::Name),
    ("copy", 2, 1, "EXCLUDE", Kind::Name),
    ("remove", 1, 0, "PROPERTY", Kind::Name),
    ("make-ni", 0, 0, "NAMESPACE", Kind::Name),
];

const PARTS: &[&str] = &[
    "year",
    "month",
    "week",
    "day",
    "hour",
    "minute",
    "second",
    "millisecond",
    "microsecond",
    "nanosecond",
];

/// The problem with constant argument `i` of `name` (called with `n` arguments): the
/// argument's name and (message, hint).
pub fn argument(name: &str, n: usize, i: usize, v: &Value) -> Option<(String, Option<String>)> {
    let &(_, _, _, arg, kind) = CHECKS
        .iter()
        .find(|c| c.0 == name && (c.1 == 0 || c.1 == n) && c.2 == i)?;
    let what = pumphouse_value::transit::to_string(v);
    let (msg, hint) = match kind {
        Kind::TimeZone => {
            let s = v.as_str()?;
            if s.parse::<Tz>().is_ok() {
                return None;
            }
            (
                format!("unknown time zone {s:?}"),
                suggest(s, chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()))
                    .or_else(|| Some("use an IANA name like \"Europe/Oslo\" or \"UTC\"".into())),
            )
        }
        Kind::DatePart => {
            let s = v.as_str()?;
            if PARTS.contains(&s.strip_suffix('s').unwrap_or(s)) {
                return None;
            }
            (
                format!("unknown date part {s:?}"),
                suggest(s, PARTS.iter().copied())
                    .or_else(|| Some(format!("one of {}", PARTS.join(", ")))),
            )
        }
        Kind::Murmur => {
            if v.as_str() == Some("murmur3") {
                return None;
            }
            (
                format!("unsupported hash algorithm {what}"),
                Some("the only algorithm is \"murmur3\"".into()),
            )
        }
        Kind::PhoneFormat => {
            let s = v.as_str().unwrap_or("");
            if crate::functions::phone::FORMATS.contains(&s) {
                return None;
            }
            (
                format!("unknown phone number format {what}"),
                suggest(s, crate::functions::phone::FORMATS.iter().copied()).or_else(|| {
                    Some(format!(
                        "one of {}",
                        crate::functions::phone::FORMATS.join(", ")
                    ))
                }),
            )
        }
        Kind::Region => {
            let s = v.as_str()?;
            if s.to_ascii_uppercase()
                .parse::<phonenumber::country::Id>()
                .is_ok()
            {
                return None;
            }
            (
                format!("unknown region {s:?}"),
                Some("use an ISO 3166 region code like \"NO\" or \"US\"".into()),
            )
        }
        Kind::Name => {
            let ok = match v {
                Value::String(_) => true,
                Value::List(l) => l.iter().all(|x| matches!(x, Value::String(_))),
                _ => false,
            };
            if ok {
                return None;
            }
            (
                format!("must be a property name (a string), got {what}"),
                None,
            )
        }
    };
    Some((format!("`{name}`: {arg} {msg}"), hint))
}

/// A typed literal that does not decode (it would silently stay a string).
pub fn typed_literal(s: &str) -> Option<String> {
    let kind = match s.as_bytes().get(..2)? {
        b"~t" => "datetime",
        b"~u" => "UUID",
        b"~f" => "decimal",
        b"~b" => "bytes (base64)",
        _ => return None,
    };
    if matches!(
        pumphouse_value::transit::decode_string(s, pumphouse_value::transit::Mode::Transit),
        Value::String(_)
    ) {
        return Some(format!("{s:?} is not a valid {kind} literal"));
    }
    None
}

/// A string that looks like a path over an unknown variable (`_X.name`).
pub fn unknown_variable(s: &str) -> Option<(String, Option<String>)> {
    let (head, _) = s.split_once('.')?;
    let name = head.strip_prefix('_')?;
    if name.len() != 1 || !name.as_bytes()[0].is_ascii_uppercase() {
        return None;
    }
    if ["S", "T", "P", "R", "B"].contains(&name) {
        return None;
    }
    Some((
        format!("unknown variable `{head}` in path {s:?}"),
        Some("variables are _S (source), _T (target), _ (current element), _P (parent), _R (root) and _B (request parameters)".into()),
    ))
}
