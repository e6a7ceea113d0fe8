//! Dictionary functions and nested rules: `dict items key-values keys values has-key
//! is-dict path apply lookup-entity completeness map-dict map-values group-by group apply-ns strip-ns`.

use pumphouse_value::transit::to_string;
use pumphouse_value::{Map, Value};

use super::{spec, Spec, MANY};
use crate::ast::Call;
use crate::error::EvalResult;
use crate::eval::{first_ref, into_list, Scope};
use crate::path::{split_steps, walk};
use crate::transforms::{run_rule, Flow};

pub const SPECS: &[Spec] = &[
    spec("dict", 0, MANY, dict),
    spec("items", 1, 1, items),
    spec("key-values", 1, 1, key_values),
    spec("keys", 1, 1, keys),
    spec("values", 1, 1, values),
    spec("has-key", 2, 2, has_key),
    spec("is-dict", 1, 1, is_dict),
    spec("path", 2, 2, path),
    spec("apply", 2, 2, apply),
    spec("lookup-entity", 2, 2, lookup_entity),
    spec("completeness", 2, 2, completeness),
    spec("map-dict", 3, 3, map_dict),
    spec("map-values", 2, 2, map_values),
    spec("group-by", 1, 3, group_by),
    spec("group", 3, 3, group),
    spec("apply-ns", 2, 2, super::ni::apply_ns),
    spec("strip-ns", 1, 1, super::ni::strip_ns),
];

fn dicts(v: Value) -> impl Iterator<Item = Map> {
    into_list(v).into_iter().filter_map(|x| match x {
        Value::Dict(m) => Some(m),
        _ => None,
    })
}

fn dict(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let mut m = Map::default();
    match c.args.len() {
        0 => {}
        1 => match sc.arg(c, 0)? {
            Value::Dict(d) => return Ok(Value::Dict(d)),
            v => {
                for item in into_list(v) {
                    if let Value::List(p) = item {
                        if let [Value::String(k), val] = p.as_slice() {
                            m.insert(k.clone(), val.clone());
                        }
                    }
                }
            }
        },
        n if n % 2 == 0 => {
            for i in (0..n).step_by(2) {
                if let Value::String(k) = sc.arg(c, i)? {
                    m.insert(k, sc.arg(c, i + 1)?);
                }
            }
        }
        _ => return Ok(Value::Null),
    }
    Ok(Value::Dict(m))
}

fn items(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let out = dicts(sc.arg(c, 0)?).flat_map(|m| {
        m.into_iter()
            .map(|(k, v)| Value::List(vec![Value::String(k), v]))
    });
    Ok(Value::List(out.collect()))
}

fn key_values(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let single = matches!(sc.arg(c, 0)?, Value::Dict(ref m) if m.len() == 1);
    let mut out: Vec<Value> = dicts(sc.arg(c, 0)?)
        .flat_map(|m| {
            m.into_iter().map(|(k, v)| {
                let mut d = Map::default();
                d.insert("key".into(), Value::String(k));
                d.insert("value".into(), v);
                Value::Dict(d)
            })
        })
        .collect();
    if single {
        return Ok(out.pop().unwrap_or(Value::Null));
    }
    Ok(Value::List(out))
}

fn keys(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::List(
        dicts(sc.arg(c, 0)?)
            .flat_map(|m| m.into_keys().map(Value::String))
            .collect(),
    ))
}

fn values(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::List(
        dicts(sc.arg(c, 0)?).flat_map(|m| m.into_values()).collect(),
    ))
}

fn has_key(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let k = sc.arg(c, 0)?;
    let d = sc.arg(c, 1)?;
    Ok(match (k.as_str(), first_ref(&d)) {
        (Some(k), Value::Dict(m)) => Value::Bool(m.contains_key(k)),
        _ => Value::Null,
    })
}

fn is_dict(c: &Call, sc: &Scope) -> EvalResult<Value> {
    super::numbers::first_is(c, sc, |v| matches!(v, Value::Dict(_)))
}

fn path(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let steps: Vec<String> = match sc.arg(c, 0)? {
        Value::String(s) => split_steps(&s),
        Value::List(l) => l
            .into_iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let v = sc.arg(c, 1)?;
    Ok(walk(&v, &steps, sc.ns()))
}

/// Runs rule `rule` on one value with a fresh target; `None` when the rule filtered it.
pub fn apply_one(sc: &Scope, rule: usize, v: &Value) -> EvalResult<Option<Value>> {
    let mut t = Value::Dict(Map::default());
    let r = sc.env.program.rule(rule);
    match run_rule(sc.env, r, v, &mut t, Some(sc))? {
        Flow::Continue => Ok(Some(t)),
        _ => Ok(None),
    }
}

fn apply(c: &Call, sc: &Scope) -> EvalResult<Value> {
    match sc.arg(c, 1)? {
        Value::List(l) => {
            let mut out = Vec::with_capacity(l.len());
            for v in &l {
                out.extend(apply_one(sc, c.aux, v)?);
            }
            Ok(Value::List(out))
        }
        Value::Null => Ok(Value::Null),
        v => Ok(apply_one(sc, c.aux, &v)?.unwrap_or(Value::Null)),
    }
}

fn completeness(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let via = crate::eval::first(sc.arg(c, 0)?);
    let ds = crate::eval::first(sc.arg(c, 1)?);
    let (Some(lookup), Some(via), Some(ds)) = (sc.env.ctx.lookup, via.as_str(), ds.as_str()) else {
        return Ok(Value::Null);
    };
    Ok(lookup.completeness(via, ds).unwrap_or(Value::Null))
}

fn lookup_entity(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let ds = sc.arg(c, 0)?;
    let id = sc.arg(c, 1)?;
    let (Some(lookup), Some(ds)) = (sc.env.ctx.lookup, ds.as_str()) else {
        return Ok(Value::Null);
    };
    Ok(crate::eval::map_values(id, |x| match &x {
        Value::String(s) => lookup.get(ds, s),
        Value::Ni(s) => lookup.get(ds, s),
        _ => None,
    }))
}

fn map_dict(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let one = |m: Map| -> EvalResult<Option<Value>> {
        let mut out = Map::default();
        for (k, v) in m {
            let nk = sc.call_with(&c.args[0], &Value::String(k))?;
            let nv = sc.call_with(&c.args[1], &v)?;
            if let Value::String(nk) = nk {
                out.insert(nk, nv);
            }
        }
        Ok((!out.is_empty()).then_some(Value::Dict(out)))
    };
    match sc.arg(c, 2)? {
        Value::Dict(m) => Ok(one(m)?.unwrap_or(Value::Null)),
        Value::List(l) => {
            let mut out = Vec::new();
            for x in l {
                if let Value::Dict(m) = x {
                    out.extend(one(m)?);
                }
            }
            Ok(Value::List(out))
        }
        _ => Ok(Value::Null),
    }
}

fn map_values(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let mut out = Vec::new();
    for m in dicts(sc.arg(c, 1)?) {
        for v in m.values() {
            out.push(sc.call_with(&c.args[0], v)?);
        }
    }
    Ok(Value::List(out))
}

fn group_by(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let n = c.args.len();
    let vals = into_list(sc.arg(c, n - 1)?);
    let mut out = Map::default();
    for v in vals {
        let key = if n >= 2 {
            sc.call_with(&c.args[0], &v)?
        } else {
            v.clone()
        };
        let skey = if n == 3 {
            match sc.call_with(&c.args[1], &key)? {
                Value::String(s) => s,
                other => to_string(&other),
            }
        } else {
            to_string(&key)
        };
        match out.get_mut(&skey) {
            Some(Value::List(l)) => l.push(v),
            _ => {
                out.insert(skey, Value::List(vec![v]));
            }
        }
    }
    Ok(Value::Dict(out))
}

fn group(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let vals = into_list(sc.arg(c, 2)?);
    let mut groups: Vec<(Value, Vec<Value>)> = Vec::new();
    for v in vals {
        let k = sc.call_with(&c.args[0], &v)?;
        let x = sc.call_with(&c.args[1], &v)?;
        match groups.iter_mut().find(|(gk, _)| *gk == k) {
            Some((_, l)) => l.push(x),
            None => groups.push((k, vec![x])),
        }
    }
    Ok(Value::List(
        groups
            .into_iter()
            .map(|(k, l)| Value::List(vec![k, Value::List(l)]))
            .collect(),
    ))
}
