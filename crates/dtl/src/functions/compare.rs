//! Comparisons: `eq`/`neq` compare both sides as lists; `gt`/`gte`/`lt`/`lte` compare the
//! first value of each side in Sesam's mixed-type order.

use std::cmp::Ordering;

use pumphouse_value::order::compare;
use pumphouse_value::Value;

use super::{spec, Spec};
use crate::ast::Call;
use crate::error::EvalResult;
use crate::eval::{first_ref, Scope};

pub const SPECS: &[Spec] = &[
    spec("eq", 2, 2, eq),
    spec("neq", 2, 2, neq),
    spec("gt", 2, 2, gt),
    spec("gte", 2, 2, gte),
    spec("lt", 2, 2, lt),
    spec("lte", 2, 2, lte),
];

/// Equality after turning both sides into lists (`42` equals `[42]`).
pub fn lists_equal(a: &Value, b: &Value) -> bool {
    let (x, y) = (a.as_slice(), b.as_slice());
    x.len() == y.len()
        && x.iter()
            .zip(y)
            .all(|(p, q)| compare(p, q) == Ordering::Equal)
}

fn eq(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(lists_equal(
        &*sc.arg_cow(c, 0)?,
        &*sc.arg_cow(c, 1)?,
    )))
}

fn neq(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(!lists_equal(
        &*sc.arg_cow(c, 0)?,
        &*sc.arg_cow(c, 1)?,
    )))
}

fn ordering(c: &Call, sc: &Scope) -> EvalResult<Option<Ordering>> {
    let (a, b) = (sc.arg_cow(c, 0)?, sc.arg_cow(c, 1)?);
    let (a, b) = (first_ref(&a), first_ref(&b));
    if a.is_null() || b.is_null() {
        return Ok(None);
    }
    Ok(Some(compare(a, b)))
}

fn gt(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(ordering(c, sc)? == Some(Ordering::Greater)))
}

fn gte(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(matches!(
        ordering(c, sc)?,
        Some(Ordering::Greater | Ordering::Equal)
    )))
}

fn lt(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(ordering(c, sc)? == Some(Ordering::Less)))
}

fn lte(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(matches!(
        ordering(c, sc)?,
        Some(Ordering::Less | Ordering::Equal)
    )))
}
