//! Running transforms: each one reads `_S`/`_T` through a scope, then changes the target.
//! `filter`/`discard` stop the rule; `create` emits entities right away.

use std::borrow::Cow;

use pumphouse_value::{Map, Value};

use crate::ast::{Expr, Patterns, Transform};
use crate::error::{EvalError, EvalErrorKind, EvalResult};
use crate::eval::{into_list, Env, Scope};
use crate::functions::compare::lists_equal;
use crate::wildcard::Wildcard;
use crate::{ns, Options};

/// How a rule ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Filtered,
    Discarded,
}

/// Runs `rule` on source `s`, building `target`.
pub fn run_rule<'a>(
    env: &'a Env<'a>,
    rule: &[Transform],
    s: &'a Value,
    target: &mut Value,
    parent: Option<&'a Scope<'a>>,
) -> EvalResult<Flow> {
    for t in rule {
        let flow = run_one(env, t, s, target, parent)?;
        if flow != Flow::Continue {
            return Ok(flow);
        }
    }
    Ok(Flow::Continue)
}

fn names(v: Value) -> Vec<String> {
    into_list(v)
        .into_iter()
        .filter_map(|x| match x {
            Value::String(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn dict_mut(t: &mut Value) -> &mut Map {
    if !matches!(t, Value::Dict(_)) {
        *t = Value::Dict(Map::default());
    }
    match t {
        Value::Dict(m) => m,
        _ => unreachable!("target was just made a dict"),
    }
}

fn patterns<'p>(sc: &Scope, p: &'p Patterns) -> EvalResult<Cow<'p, [Wildcard]>> {
    match p {
        Patterns::Const(w) => Ok(Cow::Borrowed(w)),
        Patterns::Dyn(e) => Ok(Cow::Owned(
            names(sc.eval(e)?)
                .iter()
                .map(|s| Wildcard::new(s))
                .collect(),
        )),
    }
}

fn matches(ws: &[Wildcard], key: &str, opts: &Options) -> bool {
    if opts.namespaced_identifiers {
        ws.iter()
            .any(|w| w.matches_ns(key, &opts.property_namespace))
    } else {
        ws.iter().any(|w| w.matches(key))
    }
}

fn run_one<'a>(
    env: &'a Env<'a>,
    tr: &Transform,
    s: &'a Value,
    target: &mut Value,
    parent: Option<&'a Scope<'a>>,
) -> EvalResult<Flow> {
    let opts = &env.program.opts;
    let sc = Scope {
        s,
        t: &*target,
        elem: None,
        parent,
        env,
        row: &[],
    };
    match tr {
        Transform::Add {
            prop,
            value,
            only_missing,
        } => {
            let v = sc.eval(value)?;
            if let Expr::Const(Value::String(k)) = prop {
                let key = ns::target_key(k, opts);
                let m = dict_mut(target);
                if !(*only_missing && m.contains_key(&key)) {
                    let val = ns::target_value(&key, v, opts);
                    m.insert(key, val);
                }
                return Ok(Flow::Continue);
            }
            let keys = names(sc.eval(prop)?);
            let m = dict_mut(target);
            for k in keys {
                let key = ns::target_key(&k, opts);
                if *only_missing && m.contains_key(&key) {
                    continue;
                }
                let val = ns::target_value(&key, v.clone(), opts);
                m.insert(key, val);
            }
        }
        Transform::AddIf { prop, cond, value } => {
            let keys = names(sc.eval(prop)?);
            let v = sc.eval(value)?;
            let ok = match cond {
                None => !v.is_null(),
                Some(c) => sc.call_with(c, &v)?.truthy(),
            };
            if ok {
                let m = dict_mut(target);
                for k in keys {
                    let key = ns::target_key(&k, opts);
                    let val = ns::target_value(&key, v.clone(), opts);
                    m.insert(key, val);
                }
            }
        }
        Transform::Copy { include, exclude } => {
            let inc = patterns(&sc, include)?;
            let exc = match exclude {
                Some(e) => patterns(&sc, e)?,
                None => Cow::Borrowed(&[][..]),
            };
            let Some(src) = s.as_dict() else {
                return Ok(Flow::Continue);
            };
            let m = dict_mut(target);
            if exc.is_empty() && inc.iter().any(|w| w.is_all()) {
                m.reserve(src.len());
                for (k, v) in src {
                    m.insert(k.clone(), v.clone());
                }
            } else {
                for (k, v) in src {
                    if matches(&inc, k, opts) && !matches(&exc, k, opts) {
                        m.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        Transform::Rename { from, to } => {
            let from = names(sc.eval(from)?);
            let to = names(sc.eval(to)?);
            let (Some(from), Some(to)) = (from.first(), to.first()) else {
                return Ok(Flow::Continue);
            };
            rename(s, target, from, to, opts);
        }
        Transform::Remove { pattern } => {
            let ws = patterns(&sc, pattern)?;
            dict_mut(target).retain(|k, _| !matches(&ws, k, opts));
        }
        Transform::Filter(c) | Transform::Discard(c) => {
            let keep = match c {
                Some(c) => sc.eval(c)?.truthy(),
                None => false,
            };
            if !keep {
                return Ok(if matches!(tr, Transform::Filter(_)) {
                    Flow::Filtered
                } else {
                    Flow::Discarded
                });
            }
        }
        Transform::If { cond, then, els } => {
            let branch = if sc.eval(cond)?.truthy() { then } else { els };
            return run_rule(env, branch, s, target, parent);
        }
        Transform::Case { branches, els } => {
            for (c, body) in branches {
                if sc.eval(c)?.truthy() {
                    return run_rule(env, body, s, target, parent);
                }
            }
            return run_rule(env, els, s, target, parent);
        }
        Transform::CaseEq {
            value,
            branches,
            els,
        } => {
            let x = sc.eval(value)?;
            for (c, body) in branches {
                if lists_equal(&x, &sc.eval(c)?) {
                    return run_rule(env, body, s, target, parent);
                }
            }
            return run_rule(env, els, s, target, parent);
        }
        Transform::Merge { values, union } => {
            let vals = sc.eval(values)?;
            let m = dict_mut(target);
            for d in into_list(vals) {
                let Value::Dict(d) = d else { continue };
                for (k, v) in d {
                    if k.starts_with('_') {
                        continue;
                    }
                    match m.get_mut(&k) {
                        Some(old) if *union => merge_union(old, v),
                        _ => {
                            m.insert(k, v);
                        }
                    }
                }
            }
        }
        Transform::Create(e) => {
            let vals = sc.eval(e)?;
            for v in into_list(vals) {
                if let Some(v) = checked_entity(v, opts, "create")? {
                    env.created.borrow_mut().push(v);
                }
            }
        }
        Transform::CreateChild(e) => {
            let vals = sc.eval(e)?;
            let mut kids = Vec::new();
            for v in into_list(vals) {
                kids.extend(checked_entity(v, opts, "create-child")?);
            }
            let m = dict_mut(target);
            match m.get_mut("$children") {
                Some(Value::List(l)) => l.extend(kids),
                _ => {
                    m.insert("$children".into(), Value::List(kids));
                }
            }
        }
        Transform::MakeNi { ns: nse, from, to } => {
            let nsv = sc.eval(nse)?;
            let from = names(sc.eval(from)?);
            let to = match to {
                Some(t) => names(sc.eval(t)?).into_iter().next(),
                None => None,
            };
            let (Some(prefix), Some(from)) = (nsv.as_str(), from.first()) else {
                return Ok(Flow::Continue);
            };
            make_ni(s, target, prefix, from, to.as_deref(), opts);
        }
        Transform::Fail(m) | Transform::Trip(m) => {
            let msg = message(sc.eval(m)?);
            let kind = if matches!(tr, Transform::Fail(_)) {
                EvalErrorKind::Fail
            } else {
                EvalErrorKind::Trip
            };
            return Err(EvalError::new(kind, msg));
        }
        Transform::Sleep(e) => {
            let secs = pumphouse_value::order::as_f64(&sc.eval(e)?);
            if secs.is_finite() && secs > 0.0 {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0)));
            }
        }
        Transform::Nop => {}
    }
    Ok(Flow::Continue)
}

fn message(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => pumphouse_value::transit::to_string(&other),
    }
}

fn merge_union(old: &mut Value, new: Value) {
    let mut l = into_list(std::mem::take(old));
    for x in into_list(new) {
        if !l.contains(&x) {
            l.push(x);
        }
    }
    *old = Value::List(l);
}

/// A created entity must be a dict with a string `_id`; otherwise an error, or dropped
/// when `id_required` is off.
fn checked_entity(v: Value, opts: &Options, what: &str) -> EvalResult<Option<Value>> {
    if matches!(v.get("_id"), Some(Value::String(_))) {
        return Ok(Some(v));
    }
    if opts.id_required {
        return Err(EvalError::new(
            EvalErrorKind::IdRequired,
            format!("{what} got a value that is not an entity with a string `_id`: give every created dict an `_id`, or set id_required to false to drop such values"),
        ));
    }
    Ok(None)
}

fn rename(s: &Value, target: &mut Value, from: &str, to: &str, opts: &Options) {
    let hits = ns::matching_keys(s, from, opts);
    let m = dict_mut(target);
    let gather = opts.namespaced_identifiers && to.contains(':') && hits.len() > 1;
    if gather {
        let vals: Vec<Value> = hits.iter().filter_map(|(k, _)| s.get(k).cloned()).collect();
        m.insert(ns::with_ns(None, to, opts), Value::List(vals));
        return;
    }
    for (k, kns) in hits {
        if let Some(v) = s.get(k) {
            m.insert(ns::with_ns(kns, to, opts), v.clone());
        }
    }
}

fn make_ni(
    s: &Value,
    target: &mut Value,
    prefix: &str,
    from: &str,
    to: Option<&str>,
    opts: &Options,
) {
    let hits = ns::matching_keys(s, from, opts);
    let m = dict_mut(target);
    for (k, kns) in hits {
        let Some(v) = s.get(k) else { continue };
        let ni = |x: &Value| x.as_str().map(|t| Value::Ni(format!("{prefix}:{t}")));
        let out = match v {
            Value::List(l) => {
                let mut nis: Vec<Value> = l.iter().filter_map(ni).collect();
                if nis.is_empty() {
                    continue;
                }
                nis.sort();
                Value::List(nis)
            }
            other => match ni(other) {
                Some(n) => n,
                None => continue,
            },
        };
        let base = split_local(from);
        let key = match to {
            Some(t) => ns::with_ns(kns, t, opts),
            None => ns::with_ns(kns, &format!("{base}-ni"), opts),
        };
        m.insert(key, out);
    }
}

fn split_local(name: &str) -> &str {
    let n = name.trim_start_matches(':');
    crate::wildcard::split_ns(n).1
}
