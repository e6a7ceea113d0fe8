//! String functions: `concat join split lower upper strip lstrip rstrip ljust rjust length
//! substring replace matches string is-string`. Non-strings are ignored.

use pumphouse_value::Value;

use super::lists::slice_indices;
use super::{spec, Spec, MANY};
use crate::ast::Call;
use crate::error::EvalResult;
use crate::eval::{map_values, Scope};
use crate::wildcard::Wildcard;

pub const SPECS: &[Spec] = &[
    spec("concat", 1, MANY, concat),
    spec("join", 2, 2, join),
    spec("split", 1, 2, split),
    spec("lower", 1, 1, lower),
    spec("upper", 1, 1, upper),
    spec("strip", 1, 2, strip),
    spec("lstrip", 1, 2, lstrip),
    spec("rstrip", 1, 2, rstrip),
    spec("ljust", 3, 3, ljust),
    spec("rjust", 3, 3, rjust),
    spec("length", 1, 1, length),
    spec("substring", 2, 3, substring),
    spec("replace", 2, 3, replace),
    spec("matches", 2, 2, matches),
    spec("string", 1, 2, string),
    spec("is-string", 1, 1, is_string),
];

fn push_strings(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::List(l) => l
            .iter()
            .filter_map(|x| x.as_str())
            .for_each(|s| out.push_str(s)),
        _ => {}
    }
}

fn concat(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let mut out = String::new();
    for a in &c.args {
        push_strings(&mut out, &*sc.eval_cow(a)?);
    }
    Ok(Value::String(out))
}

fn join(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let sep = sc.arg(c, 0)?;
    let Some(sep) = sep.as_str() else {
        return Ok(Value::Null);
    };
    let v = sc.arg(c, 1)?;
    let parts: Vec<&str> = v.as_slice().iter().filter_map(|x| x.as_str()).collect();
    Ok(Value::String(parts.join(sep)))
}

fn split(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let sep = if c.args.len() == 2 {
        sc.arg(c, 0)?
    } else {
        Value::Null
    };
    let vals = sc.arg(c, c.args.len() - 1)?;
    let mut out = Vec::new();
    for s in vals.as_slice().iter().filter_map(|x| x.as_str()) {
        match sep.as_str() {
            None => out.extend(s.split_whitespace().map(Value::from)),
            Some("") => out.extend(s.chars().map(|ch| Value::String(ch.to_string()))),
            Some(p) => out.extend(s.split(p).map(Value::from)),
        }
    }
    Ok(Value::List(out))
}

/// Maps a string function over the string values, dropping everything else.
pub fn map_str(v: Value, f: impl Fn(&str) -> Option<Value>) -> Value {
    map_values(v, |x| match &x {
        Value::String(s) => f(s),
        _ => None,
    })
}

fn lower(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(map_str(sc.arg(c, 0)?, |s| {
        Some(Value::String(s.to_lowercase()))
    }))
}

fn upper(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(map_str(sc.arg(c, 0)?, |s| {
        Some(Value::String(s.to_uppercase()))
    }))
}

fn strip_with(c: &Call, sc: &Scope, left: bool, right: bool) -> EvalResult<Value> {
    let chars: Option<Vec<char>> = if c.args.len() == 2 {
        match sc.arg(c, 0)? {
            Value::String(s) => Some(s.chars().collect()),
            _ => return Ok(Value::Null),
        }
    } else {
        None
    };
    let pred = |ch: char| {
        chars
            .as_ref()
            .map_or(ch.is_whitespace(), |set| set.contains(&ch))
    };
    Ok(map_str(sc.arg(c, c.args.len() - 1)?, |s| {
        let mut t = s;
        if left {
            t = t.trim_start_matches(pred);
        }
        if right {
            t = t.trim_end_matches(pred);
        }
        Some(Value::from(t))
    }))
}

fn strip(c: &Call, sc: &Scope) -> EvalResult<Value> {
    strip_with(c, sc, true, true)
}

fn lstrip(c: &Call, sc: &Scope) -> EvalResult<Value> {
    strip_with(c, sc, true, false)
}

fn rstrip(c: &Call, sc: &Scope) -> EvalResult<Value> {
    strip_with(c, sc, false, true)
}

fn justify(c: &Call, sc: &Scope, left: bool) -> EvalResult<Value> {
    let Some(width) = sc.arg(c, 0)?.as_i64() else {
        return Ok(Value::Null);
    };
    let fill = sc.arg(c, 1)?;
    let fill: Vec<char> = fill
        .as_str()
        .map(|s| s.chars().collect())
        .unwrap_or_default();
    if fill.len() != 1 {
        return Ok(Value::Null);
    }
    Ok(map_str(sc.arg(c, 2)?, |s| {
        let n = s.chars().count() as i64;
        let pad: String = std::iter::repeat_n(fill[0], (width - n).max(0) as usize).collect();
        Some(Value::String(if left {
            format!("{s}{pad}")
        } else {
            format!("{pad}{s}")
        }))
    }))
}

fn ljust(c: &Call, sc: &Scope) -> EvalResult<Value> {
    justify(c, sc, true)
}

fn rjust(c: &Call, sc: &Scope) -> EvalResult<Value> {
    justify(c, sc, false)
}

fn length(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(map_str(sc.arg(c, 0)?, |s| {
        Some(Value::Int(s.chars().count() as i64))
    }))
}

fn substring(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let Some(start) = sc.arg(c, 0)?.as_i64() else {
        return Ok(Value::Null);
    };
    let end = if c.args.len() == 3 {
        sc.arg(c, 1)?.as_i64()
    } else {
        None
    };
    Ok(map_str(sc.arg(c, c.args.len() - 1)?, |s| {
        let ch: Vec<char> = s.chars().collect();
        Some(Value::String(
            slice_indices(ch.len(), Some(start), end, 1)
                .into_iter()
                .map(|i| ch[i])
                .collect(),
        ))
    }))
}

fn replace(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let pairs: Vec<(String, String)> = if c.args.len() == 3 {
        match (sc.arg(c, 0)?, sc.arg(c, 1)?) {
            (Value::String(a), Value::String(b)) => vec![(a, b)],
            _ => return Ok(Value::Null),
        }
    } else {
        match sc.arg(c, 0)? {
            Value::Dict(m) => m
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
                .collect(),
            _ => return Ok(Value::Null),
        }
    };
    Ok(map_str(sc.arg(c, c.args.len() - 1)?, |s| {
        let mut t = s.to_owned();
        for (a, b) in &pairs {
            if !a.is_empty() {
                t = t.replace(a.as_str(), b);
            }
        }
        Some(Value::String(t))
    }))
}

fn matches(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let p = sc.arg(c, 0)?;
    let Some(p) = p.as_str() else {
        return Ok(Value::Bool(false));
    };
    let w = Wildcard::new(p);
    let v = sc.arg(c, 1)?;
    let l = v.as_slice();
    Ok(Value::Bool(
        !l.is_empty() && l.iter().all(|x| x.as_str().is_some_and(|s| w.matches(s))),
    ))
}

fn string(c: &Call, sc: &Scope) -> EvalResult<Value> {
    super::numbers::cast(c, sc, |v| super::text::py_str(v).map(Value::String))
}

fn is_string(c: &Call, sc: &Scope) -> EvalResult<Value> {
    super::numbers::first_is(c, sc, |v| matches!(v, Value::String(_)))
}
