//! List functions: building (`list combine flatten range tuples insert`), picking (`first
//! last nth slice`), ordering (`sorted reversed distinct min max`), `map filter`, tests.

use pumphouse_value::order::compare;
use pumphouse_value::{Map, Value};

use super::{spec, Spec, MANY};
use crate::ast::{Call, Expr};
use crate::error::EvalResult;
use crate::eval::{into_list, Scope};

pub const SPECS: &[Spec] = &[
    spec("list", 0, MANY, list),
    spec("combine", 1, MANY, combine),
    spec("flatten", 1, 1, flatten),
    spec("count", 1, 1, count),
    spec("first", 1, 1, first),
    spec("last", 1, 1, last),
    spec("nth", 2, 2, nth),
    spec("slice", 2, 4, slice),
    spec("insert", 3, 3, insert),
    spec("range", 1, 3, range),
    spec("reversed", 1, 1, reversed),
    spec("sorted", 1, 2, sorted),
    spec("sorted-descending", 1, 2, sorted_descending),
    spec("distinct", 1, 2, distinct),
    spec("filter", 1, 2, filter),
    spec("map", 2, 2, map),
    spec("is-empty", 1, 1, is_empty),
    spec("is-not-empty", 1, 1, is_not_empty),
    spec("is-list", 1, 1, is_list),
    spec("max", 1, 2, max),
    spec("min", 1, 2, min),
    spec("in", 2, 2, in_),
    spec("enumerate", 1, 2, enumerate),
    spec("tuples", 0, MANY, tuples),
];

/// The last argument (VALUES) and, with two or more arguments, the first (a function).
fn fn_and_values<'c>(c: &'c Call, sc: &Scope) -> EvalResult<(Option<&'c Expr>, Value)> {
    let vals = sc.eval(&c.args[c.args.len() - 1])?;
    Ok(((c.args.len() > 1).then(|| &c.args[0]), vals))
}

fn list(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let mut out = Vec::with_capacity(c.args.len());
    for a in &c.args {
        out.push(sc.eval(a)?);
    }
    Ok(Value::List(out))
}

fn combine(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let mut out = Vec::new();
    for a in &c.args {
        out.extend(into_list(sc.eval(a)?));
    }
    Ok(Value::List(out))
}

fn flatten(c: &Call, sc: &Scope) -> EvalResult<Value> {
    match sc.arg(c, 0)? {
        Value::List(l) => {
            let mut out = Vec::with_capacity(l.len());
            for x in l {
                match x {
                    Value::List(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            Ok(Value::List(out))
        }
        other => Ok(other),
    }
}

fn count(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Int(sc.arg_cow(c, 0)?.as_slice().len() as i64))
}

fn first(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(crate::eval::first(sc.arg(c, 0)?))
}

fn last(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(match sc.arg(c, 0)? {
        Value::List(mut l) => l.pop().unwrap_or(Value::Null),
        other => other,
    })
}

/// A Python-style index (negative counts from the end) into a length.
fn py_index(i: i64, len: usize) -> Option<usize> {
    let j = if i < 0 { len as i64 + i } else { i };
    (j >= 0 && (j as usize) < len).then_some(j as usize)
}

fn nth(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let Some(i) = sc.arg(c, 0)?.as_i64() else {
        return Ok(Value::Null);
    };
    Ok(match sc.arg(c, 1)? {
        Value::List(mut l) => match py_index(i, l.len()) {
            Some(j) => l.swap_remove(j),
            None => Value::Null,
        },
        other if i == 0 => other,
        _ => Value::Null,
    })
}

/// Python slice indices for `len` items.
pub fn slice_indices(len: usize, start: Option<i64>, end: Option<i64>, step: i64) -> Vec<usize> {
    let n = len as i64;
    let clamp = |x: i64, lo: i64, hi: i64| x.max(lo).min(hi);
    let norm = |x: i64| if x < 0 { x + n } else { x };
    let mut out = Vec::new();
    if step > 0 {
        let s = clamp(norm(start.unwrap_or(0)), 0, n);
        let e = clamp(norm(end.unwrap_or(n)), 0, n);
        let mut i = s;
        while i < e {
            out.push(i as usize);
            i += step;
        }
    } else if step < 0 {
        let s = clamp(start.map(norm).unwrap_or(n - 1), -1, n - 1);
        let e = end.map(norm).map(|x| clamp(x, -1, n - 1)).unwrap_or(-1);
        let mut i = s;
        while i > e {
            out.push(i as usize);
            i += step;
        }
    }
    out
}

fn slice(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let n = c.args.len();
    let int = |v: Value| v.as_i64();
    let start = int(sc.arg(c, 0)?);
    let end = if n >= 3 { int(sc.arg(c, 1)?) } else { None };
    let step = if n == 4 {
        int(sc.arg(c, 2)?).unwrap_or(1)
    } else {
        1
    };
    if step == 0 {
        return Ok(Value::Null);
    }
    Ok(match sc.arg(c, n - 1)? {
        Value::List(l) => Value::List(
            slice_indices(l.len(), start, end, step)
                .into_iter()
                .map(|i| l[i].clone())
                .collect(),
        ),
        Value::String(s) => {
            let ch: Vec<char> = s.chars().collect();
            Value::String(
                slice_indices(ch.len(), start, end, step)
                    .into_iter()
                    .map(|i| ch[i])
                    .collect(),
            )
        }
        _ => Value::Null,
    })
}

fn insert(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let Some(i) = sc.arg(c, 0)?.as_i64() else {
        return Ok(Value::Null);
    };
    let mut l = into_list(sc.arg(c, 1)?);
    let obj = sc.arg(c, 2)?;
    let n = l.len() as i64;
    let pos = if i < 0 { (n + i).max(0) } else { i.min(n) };
    l.insert(pos as usize, obj);
    Ok(Value::List(l))
}

fn range(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let ints: Vec<Option<i64>> = (0..c.args.len())
        .map(|i| sc.arg(c, i).map(|v| v.as_i64()))
        .collect::<EvalResult<_>>()?;
    let (start, stop, step) = match ints.as_slice() {
        [Some(b)] => (0, *b, 1),
        [Some(a), Some(b)] => (*a, *b, 1),
        [Some(a), Some(b), Some(s)] if *s != 0 => (*a, *b, *s),
        _ => return Ok(Value::Null),
    };
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(Value::Int(i));
        i += step;
        if out.len() > 10_000_000 {
            break;
        }
    }
    Ok(Value::List(out))
}

fn reversed(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(match sc.arg(c, 0)? {
        Value::List(mut l) => {
            l.reverse();
            Value::List(l)
        }
        other => other,
    })
}

/// The sort keys of `l` (the elements themselves when there is no key function).
fn keys(sc: &Scope, f: Option<&Expr>, l: &[Value]) -> EvalResult<Option<Vec<Value>>> {
    match f {
        None => Ok(None),
        Some(f) => l
            .iter()
            .map(|x| sc.call_with(f, x))
            .collect::<EvalResult<Vec<_>>>()
            .map(Some),
    }
}

fn sort(c: &Call, sc: &Scope, desc: bool) -> EvalResult<Value> {
    let (f, vals) = fn_and_values(c, sc)?;
    let Value::List(l) = vals else {
        return Ok(vals);
    };
    let mut idx: Vec<usize> = (0..l.len()).collect();
    let k = keys(sc, f, &l)?;
    let key = |i: usize| k.as_ref().map_or(&l[i], |k| &k[i]);
    // A stable sort both ways: equal elements keep their original order.
    if desc {
        idx.sort_by(|a, b| compare(key(*b), key(*a)));
    } else {
        idx.sort_by(|a, b| compare(key(*a), key(*b)));
    }
    Ok(Value::List(idx.into_iter().map(|i| l[i].clone()).collect()))
}

fn sorted(c: &Call, sc: &Scope) -> EvalResult<Value> {
    sort(c, sc, false)
}

fn sorted_descending(c: &Call, sc: &Scope) -> EvalResult<Value> {
    sort(c, sc, true)
}

fn distinct(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let (f, vals) = fn_and_values(c, sc)?;
    let Value::List(l) = vals else {
        return Ok(vals);
    };
    let k = keys(sc, f, &l)?;
    let mut seen: Vec<&Value> = Vec::new();
    let mut out = Vec::new();
    for (i, x) in l.iter().enumerate() {
        let key = k.as_ref().map_or(x, |k| &k[i]);
        if !seen.contains(&key) {
            seen.push(key);
            out.push(x.clone());
        }
    }
    Ok(Value::List(out))
}

fn filter(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let (f, vals) = fn_and_values(c, sc)?;
    let mut out = Vec::new();
    for x in into_list(vals) {
        let keep = match f {
            Some(f) => sc.call_with(f, &x)?.truthy(),
            None => x.truthy(),
        };
        if keep {
            out.push(x);
        }
    }
    Ok(Value::List(out))
}

fn map(c: &Call, sc: &Scope) -> EvalResult<Value> {
    match sc.arg(c, 1)? {
        Value::List(l) => {
            let mut out = Vec::with_capacity(l.len());
            for x in &l {
                out.push(sc.call_with(&c.args[0], x)?);
            }
            Ok(Value::List(out))
        }
        Value::Null => Ok(Value::Null),
        other => sc.call_with(&c.args[0], &other),
    }
}

fn is_empty(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(sc.arg_cow(c, 0)?.as_slice().is_empty()))
}

fn is_not_empty(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(!sc.arg_cow(c, 0)?.as_slice().is_empty()))
}

fn is_list(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(Value::Bool(matches!(sc.arg(c, 0)?, Value::List(_))))
}

fn extreme(c: &Call, sc: &Scope, want: std::cmp::Ordering) -> EvalResult<Value> {
    let (f, vals) = fn_and_values(c, sc)?;
    let l: Vec<Value> = into_list(vals)
        .into_iter()
        .filter(|x| !x.is_null())
        .collect();
    let k = keys(sc, f, &l)?;
    let mut best: Option<usize> = None;
    for i in 0..l.len() {
        let key = |j: usize| k.as_ref().map_or(&l[j], |k| &k[j]);
        if best.is_none_or(|b| compare(key(i), key(b)) == want) {
            best = Some(i);
        }
    }
    Ok(best.map_or(Value::Null, |i| l[i].clone()))
}

fn max(c: &Call, sc: &Scope) -> EvalResult<Value> {
    extreme(c, sc, std::cmp::Ordering::Greater)
}

fn min(c: &Call, sc: &Scope) -> EvalResult<Value> {
    extreme(c, sc, std::cmp::Ordering::Less)
}

fn in_(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let vals = sc.arg(c, 0)?;
    let items = sc.arg(c, 1)?;
    let v = vals.as_slice();
    Ok(Value::Bool(
        !v.is_empty() && v.iter().all(|x| items.as_slice().contains(x)),
    ))
}

fn enumerate(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let start = if c.args.len() == 2 {
        sc.arg(c, 0)?.as_i64().unwrap_or(0)
    } else {
        0
    };
    let pair = |i: i64, v: Value| {
        let mut m = Map::default();
        m.insert("key".into(), Value::Int(i));
        m.insert("value".into(), v);
        Value::Dict(m)
    };
    Ok(match sc.arg(c, c.args.len() - 1)? {
        Value::List(l) => Value::List(
            l.into_iter()
                .enumerate()
                .map(|(i, v)| pair(start + i as i64, v))
                .collect(),
        ),
        Value::Null => Value::Null,
        other => pair(start, other),
    })
}

fn tuples(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let mut lists = Vec::new();
    for a in &c.args {
        let v = sc.eval(a)?;
        if v.is_null() {
            continue;
        }
        let l: Vec<Value> = into_list(v).into_iter().filter(|x| !x.is_null()).collect();
        lists.push(l);
    }
    if lists.is_empty() {
        return Ok(Value::List(Vec::new()));
    }
    let mut acc: Vec<Vec<Value>> = vec![Vec::new()];
    for l in &lists {
        let mut next = Vec::with_capacity(acc.len() * l.len());
        for prefix in &acc {
            for x in l {
                let mut t = prefix.clone();
                t.push(x.clone());
                next.push(t);
            }
        }
        acc = next;
    }
    Ok(Value::List(acc.into_iter().map(Value::List).collect()))
}
