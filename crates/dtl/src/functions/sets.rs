//! Order-preserving set functions: `union intersection difference intersects`, and `sum`.

use pumphouse_value::Value;

use super::{spec, Spec, MANY};
use crate::ast::Call;
use crate::error::EvalResult;
use crate::eval::{into_list, Scope};

pub const SPECS: &[Spec] = &[
    spec("union", 1, MANY, union),
    spec("intersection", 1, MANY, intersection),
    spec("difference", 1, MANY, difference),
    spec("intersects", 2, MANY, intersects),
];

fn union(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let mut out: Vec<Value> = Vec::new();
    for a in &c.args {
        for x in into_list(sc.eval(a)?) {
            if !out.contains(&x) {
                out.push(x);
            }
        }
    }
    Ok(Value::List(out))
}

fn intersection(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let mut out = into_list(sc.arg(c, 0)?);
    for a in &c.args[1..] {
        let other = sc.eval(a)?;
        out.retain(|x| other.as_slice().contains(x));
    }
    Ok(Value::List(out))
}

fn difference(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let mut out = into_list(sc.arg(c, 0)?);
    for a in &c.args[1..] {
        let other = sc.eval(a)?;
        out.retain(|x| !other.as_slice().contains(x));
    }
    Ok(Value::List(out))
}

fn intersects(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let a = sc.arg(c, 0)?;
    for e in &c.args[1..] {
        let b = sc.eval(e)?;
        if !a.as_slice().iter().any(|x| b.as_slice().contains(x)) {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}
