//! Phone numbers: `phonenumber-parse` (strings or numbers → RFC 3966 `tel:` URIs) and
//! `phonenumber-format` (those URIs → e164 without `+`, rfc3966, national, international,
//! national-e164, isocode, country-code), on libphonenumber's metadata.

use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber};
use pumphouse_value::Value;

use super::{spec, Spec};
use crate::ast::Call;
use crate::error::{EvalError, EvalResult};
use crate::eval::{first, map_values, Scope};

pub const SPECS: &[Spec] = &[
    spec("phonenumber-parse", 1, 2, parse),
    spec("phonenumber-format", 2, 2, format),
];

/// The formats `phonenumber-format` knows.
pub const FORMATS: &[&str] = &[
    "e164",
    "rfc3966",
    "national",
    "international",
    "national-e164",
    "isocode",
    "country-code",
];

fn number_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) | Value::Uri(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::BigInt(i) => Some(i.to_string()),
        _ => None,
    }
}

fn parse_one(region: Option<Id>, v: &Value) -> Option<PhoneNumber> {
    let text = number_text(v)?;
    let text = text.trim();
    if text.is_empty() || !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    // A number without a country code only parses against a region; never panic on odd input.
    std::panic::catch_unwind(|| phonenumber::parse(region, text).ok())
        .ok()
        .flatten()
}

fn parse(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let region = if c.args.len() == 2 {
        match first(sc.arg(c, 0)?) {
            Value::Null => None,
            Value::String(r) => Some(r.to_ascii_uppercase().parse::<Id>().map_err(|_| {
                EvalError::other(format!(
                    "phonenumber-parse: DEFAULT_REGION {r:?} is not an ISO 3166 region code like \"NO\" or \"US\""
                ))
            })?),
            other => {
                return Err(EvalError::other(format!(
                    "phonenumber-parse: DEFAULT_REGION must be a string like \"NO\", got {}",
                    other.type_name()
                )))
            }
        }
    } else {
        None
    };
    Ok(map_values(sc.arg(c, c.args.len() - 1)?, |v| {
        let n = parse_one(region, &v)?;
        Some(Value::Uri(n.format().mode(Mode::Rfc3966).to_string()))
    }))
}

fn format(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let fmt = match first(sc.arg(c, 0)?) {
        Value::String(f) if FORMATS.contains(&f.as_str()) => f,
        other => {
            return Err(EvalError::other(format!(
                "phonenumber-format: FORMAT_STRING must be one of {}, got {}",
                FORMATS.join(", "),
                pumphouse_value::transit::to_string(&other)
            )))
        }
    };
    Ok(map_values(sc.arg(c, 1)?, |v| {
        let n = parse_one(None, &v)?;
        let s = match fmt.as_str() {
            "e164" => n
                .format()
                .mode(Mode::E164)
                .to_string()
                .trim_start_matches('+')
                .to_string(),
            "rfc3966" => n.format().mode(Mode::Rfc3966).to_string(),
            "national" => n.format().mode(Mode::National).to_string(),
            "international" => n.format().mode(Mode::International).to_string(),
            "national-e164" => n.national().to_string(),
            "isocode" => n.country().id()?.as_ref().to_string(),
            _ => n.country().code().to_string(),
        };
        Some(Value::String(s))
    }))
}
