//! Math: natural-order operators `+ - * / % ^` (first value of each side, null-safe),
//! map-style `plus minus multiply divide mod pow`, `abs round ceil floor sqrt sin cos tan sum`.

use bigdecimal::RoundingMode;
use num_traits::Signed;
use pumphouse_value::order::as_f64;
use pumphouse_value::Value;

use super::arith::{binop, is_number, round_to, Op};
use super::{spec, Spec};
use crate::ast::Call;
use crate::error::EvalResult;
use crate::eval::{first, map_values, Scope};

pub const SPECS: &[Spec] = &[
    spec("+", 2, 2, add),
    spec("-", 2, 2, sub),
    spec("*", 2, 2, mul),
    spec("/", 2, 2, div),
    spec("%", 2, 2, rem),
    spec("^", 2, 2, pow),
    spec("plus", 2, 2, plus),
    spec("minus", 2, 2, minus),
    spec("multiply", 2, 2, multiply),
    spec("divide", 2, 2, divide),
    spec("mod", 2, 2, mod_),
    spec("pow", 2, 2, pow_map),
    spec("abs", 1, 1, abs),
    spec("round", 1, 2, round),
    spec("ceil", 1, 2, ceil),
    spec("floor", 1, 2, floor),
    spec("sqrt", 1, 1, sqrt),
    spec("sin", 1, 1, sin),
    spec("cos", 1, 1, cos),
    spec("tan", 1, 1, tan),
    spec("sum", 1, 1, sum),
];

fn natural(c: &Call, sc: &Scope, op: Op) -> EvalResult<Value> {
    let a = first(sc.arg(c, 0)?);
    let b = first(sc.arg(c, 1)?);
    Ok(binop(op, &a, &b).unwrap_or(Value::Null))
}

fn add(c: &Call, sc: &Scope) -> EvalResult<Value> {
    natural(c, sc, Op::Add)
}
fn sub(c: &Call, sc: &Scope) -> EvalResult<Value> {
    natural(c, sc, Op::Sub)
}
fn mul(c: &Call, sc: &Scope) -> EvalResult<Value> {
    natural(c, sc, Op::Mul)
}
fn div(c: &Call, sc: &Scope) -> EvalResult<Value> {
    natural(c, sc, Op::Div)
}
fn rem(c: &Call, sc: &Scope) -> EvalResult<Value> {
    natural(c, sc, Op::Mod)
}
fn pow(c: &Call, sc: &Scope) -> EvalResult<Value> {
    natural(c, sc, Op::Pow)
}

/// Map-style: the first argument is the operand applied to every value of the second.
fn mapped(c: &Call, sc: &Scope, op: Op) -> EvalResult<Value> {
    let operand = first(sc.arg(c, 0)?);
    if !is_number(&operand) {
        return Ok(Value::Null);
    }
    Ok(map_values(sc.arg(c, 1)?, |v| binop(op, &v, &operand)))
}

fn plus(c: &Call, sc: &Scope) -> EvalResult<Value> {
    mapped(c, sc, Op::Add)
}
fn minus(c: &Call, sc: &Scope) -> EvalResult<Value> {
    mapped(c, sc, Op::Sub)
}
fn multiply(c: &Call, sc: &Scope) -> EvalResult<Value> {
    mapped(c, sc, Op::Mul)
}
fn divide(c: &Call, sc: &Scope) -> EvalResult<Value> {
    mapped(c, sc, Op::Div)
}
fn mod_(c: &Call, sc: &Scope) -> EvalResult<Value> {
    mapped(c, sc, Op::Mod)
}
fn pow_map(c: &Call, sc: &Scope) -> EvalResult<Value> {
    mapped(c, sc, Op::Pow)
}

fn abs(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(map_values(sc.arg(c, 0)?, |v| match v {
        Value::Int(i) => Some(i.checked_abs().map_or_else(
            || Value::from_bigint(num_bigint::BigInt::from(i).abs()),
            Value::Int,
        )),
        Value::BigInt(b) => Some(Value::from_bigint(b.abs())),
        Value::Float(f) => Some(Value::Float(f.abs())),
        Value::Decimal(d) => Some(Value::from_decimal(d.abs())),
        _ => None,
    }))
}

fn rounding(c: &Call, sc: &Scope, mode: RoundingMode) -> EvalResult<Value> {
    let digits = if c.args.len() == 2 {
        match sc.arg(c, 0)?.as_i64() {
            Some(d) => Some(d),
            None => return Ok(Value::Null),
        }
    } else {
        None
    };
    Ok(map_values(sc.arg(c, c.args.len() - 1)?, |v| {
        round_to(&v, digits, mode)
    }))
}

fn round(c: &Call, sc: &Scope) -> EvalResult<Value> {
    rounding(c, sc, RoundingMode::HalfEven)
}
fn ceil(c: &Call, sc: &Scope) -> EvalResult<Value> {
    rounding(c, sc, RoundingMode::Ceiling)
}
fn floor(c: &Call, sc: &Scope) -> EvalResult<Value> {
    rounding(c, sc, RoundingMode::Floor)
}

fn float_fn(c: &Call, sc: &Scope, f: fn(f64) -> Option<f64>) -> EvalResult<Value> {
    Ok(map_values(sc.arg(c, 0)?, |v| {
        if !is_number(&v) {
            return None;
        }
        f(as_f64(&v)).filter(|x| x.is_finite()).map(Value::Float)
    }))
}

fn sqrt(c: &Call, sc: &Scope) -> EvalResult<Value> {
    float_fn(c, sc, |x| (x >= 0.0).then(|| x.sqrt()))
}
fn sin(c: &Call, sc: &Scope) -> EvalResult<Value> {
    float_fn(c, sc, |x| Some(x.sin()))
}
fn cos(c: &Call, sc: &Scope) -> EvalResult<Value> {
    float_fn(c, sc, |x| Some(x.cos()))
}
fn tan(c: &Call, sc: &Scope) -> EvalResult<Value> {
    float_fn(c, sc, |x| {
        let t = x.tan();
        (t.abs() < 1e15).then_some(t)
    })
}

fn sum(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let v = sc.arg(c, 0)?;
    let mut acc = Value::Int(0);
    for x in v.as_slice().iter().filter(|x| is_number(x)) {
        if let Some(s) = binop(Op::Add, &acc, x) {
            acc = s;
        }
    }
    Ok(acc)
}
