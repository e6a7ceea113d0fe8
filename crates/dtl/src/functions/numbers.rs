//! Casts with an optional default function (`integer decimal float`, shared by `boolean`,
//! `datetime` …), type tests on the first value, and `hex`.

use std::str::FromStr;

use bigdecimal::BigDecimal;
use num_bigint::BigInt;
use num_traits::{ToPrimitive, Zero};
use pumphouse_value::order::to_bigdecimal;
use pumphouse_value::Value;

use super::{spec, Spec};
use crate::ast::Call;
use crate::error::EvalResult;
use crate::eval::{first_ref, try_map_values, Scope};

pub const SPECS: &[Spec] = &[
    spec("integer", 1, 2, integer),
    spec("decimal", 1, 2, decimal),
    spec("float", 1, 2, float),
    spec("hex", 1, 1, hex),
    spec("is-integer", 1, 1, is_integer),
    spec("is-decimal", 1, 1, is_decimal),
    spec("is-float", 1, 1, is_float),
];

/// `DEFAULT{0|1}, VALUES` casting: nulls are skipped; a value `f` cannot cast is dropped,
/// or replaced by DEFAULT evaluated with `_` = that value.
pub fn cast(c: &Call, sc: &Scope, f: impl Fn(&Value) -> Option<Value>) -> EvalResult<Value> {
    let vals = sc.eval(&c.args[c.args.len() - 1])?;
    let has_default = c.args.len() == 2;
    try_map_values(vals, |v| {
        if v.is_null() {
            return Ok(None);
        }
        match f(&v) {
            Some(x) => Ok(Some(x)),
            None if has_default => Ok(Some(sc.call_with(&c.args[0], &v)?)),
            None => Ok(None),
        }
    })
}

/// A type test on the value, or on the first element of a list.
pub fn first_is(c: &Call, sc: &Scope, pred: impl Fn(&Value) -> bool) -> EvalResult<Value> {
    let v = sc.arg(c, 0)?;
    Ok(Value::Bool(pred(first_ref(&v))))
}

/// Parses integer text, including `0x…` two's-complement hex.
pub fn parse_int(s: &str) -> Option<Value> {
    let t = s.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if h.is_empty() {
            return None;
        }
        let u = BigInt::parse_bytes(h.as_bytes(), 16)?;
        let bits = 4 * h.len() as u32;
        let top = BigInt::from(1) << (bits - 1);
        let v = if u >= top {
            u - (BigInt::from(1) << bits)
        } else {
            u
        };
        return Some(Value::from_bigint(v));
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(Value::Int(i));
    }
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return BigInt::from_str(t).ok().map(Value::from_bigint);
    }
    None
}

/// A decimal with an integral value as an integer value.
pub fn decimal_to_int(d: &BigDecimal) -> Value {
    let (b, exp) = d.with_scale(0).into_bigint_and_exponent();
    let _ = exp;
    Value::from_bigint(b)
}

pub fn to_int(v: &Value) -> Option<Value> {
    match v {
        Value::Int(_) | Value::BigInt(_) => Some(v.clone()),
        Value::Float(f) if f.is_finite() => {
            let t = f.trunc();
            if t.abs() < 9.0e18 {
                Some(Value::Int(t as i64))
            } else {
                to_bigdecimal(v).map(|d| decimal_to_int(&d))
            }
        }
        Value::Decimal(d) => Some(decimal_to_int(d)),
        Value::String(s) => parse_int(s),
        _ => None,
    }
}

fn integer(c: &Call, sc: &Scope) -> EvalResult<Value> {
    cast(c, sc, to_int)
}

pub fn to_decimal(v: &Value) -> Option<Value> {
    match v {
        Value::Int(_) | Value::BigInt(_) | Value::Float(_) => {
            to_bigdecimal(v).map(Value::from_decimal)
        }
        Value::Decimal(_) => Some(v.clone()),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty()
                || t.chars()
                    .any(|ch| ch.is_ascii_alphabetic() && ch != 'e' && ch != 'E')
            {
                return None;
            }
            BigDecimal::from_str(t).ok().map(Value::from_decimal)
        }
        _ => None,
    }
}

fn decimal(c: &Call, sc: &Scope) -> EvalResult<Value> {
    cast(c, sc, to_decimal)
}

pub fn to_float(v: &Value) -> Option<Value> {
    match v {
        Value::Float(_) => Some(v.clone()),
        Value::Int(i) => Some(Value::Float(*i as f64)),
        Value::BigInt(b) => b.to_f64().map(Value::Float),
        Value::Decimal(d) => d.to_f64().map(Value::Float),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::Float),
        _ => None,
    }
}

fn float(c: &Call, sc: &Scope) -> EvalResult<Value> {
    cast(c, sc, to_float)
}

/// Two's-complement hex with a sign-safe number of bytes (`1`→`0x01`, `255`→`0x00ff`, `-1`→`0xff`).
pub fn hex_text(n: &BigInt) -> String {
    let mut k: u32 = 1;
    loop {
        let bits = 8 * k;
        let lo = -(BigInt::from(1) << (bits - 1));
        let hi = (BigInt::from(1) << (bits - 1)) - 1;
        if *n >= lo && *n <= hi {
            let v = if n < &BigInt::zero() {
                n + (BigInt::from(1) << bits)
            } else {
                n.clone()
            };
            return format!("0x{:0width$x}", v, width = (2 * k) as usize);
        }
        k += 1;
    }
}

fn hex(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let v = sc.arg(c, 0)?;
    Ok(crate::eval::map_values(v, |x| match x {
        Value::Int(i) => Some(Value::String(hex_text(&BigInt::from(i)))),
        Value::BigInt(b) => Some(Value::String(hex_text(&b))),
        _ => None,
    }))
}

fn is_integer(c: &Call, sc: &Scope) -> EvalResult<Value> {
    first_is(c, sc, |v| matches!(v, Value::Int(_) | Value::BigInt(_)))
}

fn is_decimal(c: &Call, sc: &Scope) -> EvalResult<Value> {
    first_is(c, sc, |v| matches!(v, Value::Decimal(_)))
}

fn is_float(c: &Call, sc: &Scope) -> EvalResult<Value> {
    first_is(c, sc, |v| matches!(v, Value::Float(_)))
}
