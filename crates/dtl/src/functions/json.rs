//! JSON text: `json` / `json-transit` (sorted keys, Python separators) and `json-parse` /
//! `json-transit-parse` (invalid text dropped or replaced by the default).

use pumphouse_value::transit::{from_str_mode, Mode};
use pumphouse_value::Value;

use super::text::py_json;
use super::{spec, Spec};
use crate::ast::Call;
use crate::error::EvalResult;
use crate::eval::{map_values, Scope};

pub const SPECS: &[Spec] = &[
    spec("json", 1, 1, json),
    spec("json-transit", 1, 1, json_transit),
    spec("json-parse", 1, 2, json_parse),
    spec("json-transit-parse", 1, 2, json_transit_parse),
];

fn json(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(map_values(sc.arg(c, 0)?, |v| {
        Some(Value::String(py_json(&v, Mode::Plain)))
    }))
}

fn json_transit(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(map_values(sc.arg(c, 0)?, |v| {
        Some(Value::String(py_json(&v, Mode::Transit)))
    }))
}

/// Parses every string; `Some(Null)` marks a parse that gave JSON `null`.
fn parse(c: &Call, sc: &Scope, mode: Mode) -> EvalResult<Value> {
    let vals = sc.arg(c, c.args.len() - 1)?;
    let has_default = c.args.len() == 2;
    let one = |v: Value| -> EvalResult<Option<Value>> {
        let parsed = v.as_str().and_then(|s| from_str_mode(s, mode).ok());
        match parsed {
            Some(p) => Ok(Some(p)),
            None if has_default => Ok(Some(sc.call_with(&c.args[0], &v)?)),
            None => Ok(None),
        }
    };
    match vals {
        Value::List(l) => {
            let mut out = Vec::new();
            for x in l {
                out.extend(one(x)?);
            }
            Ok(Value::List(out))
        }
        Value::Null => Ok(Value::Null),
        other => Ok(one(other)?.unwrap_or(Value::Null)),
    }
}

fn json_parse(c: &Call, sc: &Scope) -> EvalResult<Value> {
    parse(c, sc, Mode::Plain)
}

fn json_transit_parse(c: &Call, sc: &Scope) -> EvalResult<Value> {
    parse(c, sc, Mode::Transit)
}
