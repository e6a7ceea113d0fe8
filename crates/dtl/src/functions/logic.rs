//! Boolean logic, expression conditionals and null handling: `and or not all any`,
//! `if case case-eq`, `coalesce coalesce-args if-null is-null is-not-null`, `boolean`.

use pumphouse_value::Value;

use super::compare::lists_equal;
use super::{spec, Spec, MANY};
use crate::ast::Call;
use crate::error::EvalResult;
use crate::eval::{into_list, Scope};

pub const SPECS: &[Spec] = &[
    spec("and", 1, MANY, and),
    spec("or", 1, MANY, or),
    spec("not", 1, MANY, not),
    spec("all", 1, 2, all),
    spec("any", 1, 2, any),
    spec("if", 2, 3, if_),
    spec("case", 2, MANY, case),
    spec("case-eq", 3, MANY, case_eq),
    spec("coalesce", 1, 2, coalesce),
    spec("coalesce-args", 1, MANY, coalesce_args),
    spec("if-null", 2, 2, if_null),
    spec("is-null", 1, 1, is_null),
    spec("is-not-null", 1, 1, is_not_null),
    spec("boolean", 1, 2, boolean),
    spec("is-boolean", 1, 1, is_boolean),
];

fn and(c: &Call, sc: &Scope) -> EvalResult<Value> {
    for a in &c.args {
        if !sc.eval(a)?.truthy() {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn or(c: &Call, sc: &Scope) -> EvalResult<Value> {
    for a in &c.args {
        if sc.eval(a)?.truthy() {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn not(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(!and(c, sc)?.truthy()))
}

/// `FUNCTION{0|1}, VALUES`: the values, each mapped through the optional function.
fn truth_values(c: &Call, sc: &Scope) -> EvalResult<Vec<bool>> {
    let vals = sc.eval(c.args.last().unwrap_or(&c.args[0]))?;
    let mut out = Vec::new();
    for v in vals.as_slice() {
        out.push(if c.args.len() == 2 {
            sc.call_with(&c.args[0], v)?.truthy()
        } else {
            v.truthy()
        });
    }
    Ok(out)
}

fn all(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(truth_values(c, sc)?.into_iter().all(|b| b)))
}

fn any(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(truth_values(c, sc)?.into_iter().any(|b| b)))
}

fn if_(c: &Call, sc: &Scope) -> EvalResult<Value> {
    if sc.arg(c, 0)?.truthy() {
        sc.arg(c, 1)
    } else {
        sc.arg(c, 2)
    }
}

fn case(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let mut i = 0;
    while i + 1 < c.args.len() {
        if sc.arg(c, i)?.truthy() {
            return sc.arg(c, i + 1);
        }
        i += 2;
    }
    sc.arg(c, i)
}

fn case_eq(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let x = sc.arg(c, 0)?;
    let mut i = 1;
    while i + 1 < c.args.len() {
        if lists_equal(&x, &sc.arg(c, i)?) {
            return sc.arg(c, i + 1);
        }
        i += 2;
    }
    sc.arg(c, i)
}

fn coalesce(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let vals = into_list(sc.eval(&c.args[c.args.len() - 1])?);
    for v in vals {
        let ok = if c.args.len() == 2 {
            sc.call_with(&c.args[0], &v)?.truthy()
        } else {
            !v.is_null()
        };
        if ok {
            return Ok(v);
        }
    }
    Ok(Value::Null)
}

fn coalesce_args(c: &Call, sc: &Scope) -> EvalResult<Value> {
    for a in &c.args {
        let v = sc.eval(a)?;
        if !v.is_null() {
            return Ok(v);
        }
    }
    Ok(Value::Null)
}

/// Sesam's `is-null`: null, `[]`, or a list whose first element is null.
pub fn null_like(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::List(l) => l.first().is_none_or(|x| x.is_null()),
        _ => false,
    }
}

fn if_null(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let v = sc.arg(c, 0)?;
    if null_like(&v) {
        sc.arg(c, 1)
    } else {
        Ok(v)
    }
}

fn is_null(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(null_like(&sc.arg(c, 0)?)))
}

fn is_not_null(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(!null_like(&sc.arg(c, 0)?)))
}

fn to_bool(v: &Value) -> Option<Value> {
    match v {
        Value::Bool(b) => Some(Value::Bool(*b)),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(Value::Bool(false)),
        _ => None,
    }
}

fn boolean(c: &Call, sc: &Scope) -> EvalResult<Value> {
    super::numbers::cast(c, sc, to_bool)
}

fn is_boolean(c: &Call, sc: &Scope) -> EvalResult<Value> {
    super::numbers::first_is(c, sc, |v| matches!(v, Value::Bool(_)))
}
