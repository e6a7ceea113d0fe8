//! Number arithmetic across Sesam's numeric types: int (i64 with BigInt overflow), float
//! and decimal. The more precise type wins (decimal > float > int).

use bigdecimal::{BigDecimal, RoundingMode};
use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};
use pumphouse_value::order::{as_f64, to_bigdecimal};
use pumphouse_value::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

pub fn is_number(v: &Value) -> bool {
    matches!(
        v,
        Value::Int(_) | Value::BigInt(_) | Value::Float(_) | Value::Decimal(_)
    )
}

fn big(v: &Value) -> Option<BigInt> {
    match v {
        Value::Int(i) => Some(BigInt::from(*i)),
        Value::BigInt(b) => Some(BigInt::clone(b)),
        _ => None,
    }
}

fn float(f: f64) -> Option<Value> {
    f.is_finite().then_some(Value::Float(f))
}

/// `a OP b`, or `None` for non-numbers, division by zero and undefined results.
pub fn binop(op: Op, a: &Value, b: &Value) -> Option<Value> {
    if !is_number(a) || !is_number(b) {
        return None;
    }
    if matches!(a, Value::Decimal(_)) || matches!(b, Value::Decimal(_)) {
        return dec_op(op, &to_bigdecimal(a)?, &to_bigdecimal(b)?);
    }
    if matches!(a, Value::Float(_)) || matches!(b, Value::Float(_)) {
        return float_op(op, as_f64(a), as_f64(b));
    }
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        let r = match op {
            Op::Add => x.checked_add(*y),
            Op::Sub => x.checked_sub(*y),
            Op::Mul => x.checked_mul(*y),
            Op::Mod if *y != 0 => {
                x.checked_rem_euclid(*y)
                    .map(|r| if r != 0 && *y < 0 { r + y } else { r })
            }
            _ => None,
        };
        if let Some(r) = r {
            return Some(Value::Int(r));
        }
    }
    int_op(op, big(a)?, big(b)?)
}

fn int_op(op: Op, x: BigInt, y: BigInt) -> Option<Value> {
    Some(match op {
        Op::Add => Value::from_bigint(x + y),
        Op::Sub => Value::from_bigint(x - y),
        Op::Mul => Value::from_bigint(x * y),
        Op::Div => {
            if y.is_zero() {
                return None;
            }
            return float_op(Op::Div, x.to_f64()?, y.to_f64()?);
        }
        Op::Mod => {
            if y.is_zero() {
                return None;
            }
            let r = ((&x % &y) + &y) % &y;
            Value::from_bigint(r)
        }
        Op::Pow => {
            if y.is_negative() {
                return float_op(Op::Pow, x.to_f64()?, y.to_f64()?);
            }
            let e = y.to_u32().filter(|e| *e <= 100_000)?;
            Value::from_bigint(num_traits::pow(x, e as usize))
        }
    })
}

fn float_op(op: Op, x: f64, y: f64) -> Option<Value> {
    match op {
        Op::Add => float(x + y),
        Op::Sub => float(x - y),
        Op::Mul => float(x * y),
        Op::Div if y != 0.0 => float(x / y),
        Op::Mod if y != 0.0 => float(x - y * (x / y).floor()),
        Op::Pow => float(x.powf(y)),
        _ => None,
    }
}

fn dec_op(op: Op, x: &BigDecimal, y: &BigDecimal) -> Option<Value> {
    Some(Value::from_decimal(match op {
        Op::Add => x + y,
        Op::Sub => x - y,
        Op::Mul => x * y,
        Op::Div if !y.is_zero() => x / y,
        Op::Mod if !y.is_zero() => {
            let q = (x / y).with_scale_round(0, RoundingMode::Floor);
            x - y * q
        }
        Op::Pow => {
            if y.is_integer() {
                let e = y.to_i64()?;
                if e.unsigned_abs() > 10_000 {
                    return None;
                }
                let mut r = BigDecimal::from(1);
                for _ in 0..e.unsigned_abs() {
                    r *= x;
                }
                if e < 0 {
                    if r.is_zero() {
                        return None;
                    }
                    BigDecimal::from(1) / r
                } else {
                    r
                }
            } else {
                let f = x.to_f64()?.powf(y.to_f64()?);
                return float(f)
                    .and_then(|v| to_bigdecimal(&v))
                    .map(Value::from_decimal);
            }
        }
        _ => return None,
    }))
}

/// Rounds a number to `digits` decimals (`None` = to an integer) with `mode`.
pub fn round_to(v: &Value, digits: Option<i64>, mode: RoundingMode) -> Option<Value> {
    match (v, digits) {
        (Value::Int(_) | Value::BigInt(_), None) => Some(v.clone()),
        (Value::Int(_) | Value::BigInt(_), Some(d)) if d >= 0 => Some(v.clone()),
        (Value::Float(f), _) if !f.is_finite() => None,
        (_, None) => {
            let d = to_bigdecimal(v)?.with_scale_round(0, mode);
            Some(super::numbers::decimal_to_int(&d))
        }
        (Value::Float(_), Some(d)) => {
            let r = to_bigdecimal(v)?.with_scale_round(d, mode);
            r.to_f64().map(Value::Float)
        }
        (_, Some(d)) => {
            let r = to_bigdecimal(v)?.with_scale_round(d, mode);
            match v {
                Value::Decimal(_) => Some(Value::from_decimal(r)),
                _ => Some(super::numbers::decimal_to_int(&r)),
            }
        }
    }
}
