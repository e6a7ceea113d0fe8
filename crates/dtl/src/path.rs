//! Property paths: parsing `"_S.a.'b.c'.d"` into a variable and steps, and walking a value
//! along steps, fanning out over lists (results are flattened one level, nulls dropped).

use std::borrow::Cow;

use pumphouse_value::Value;

use crate::ast::{PathExpr, Var, Which};
use crate::wildcard::split_ns;

/// Parses a string as a path if it starts with a variable and a dot.
pub fn parse(s: &str) -> Option<PathExpr> {
    let (var, rest) = if let Some(r) = s.strip_prefix("_S.") {
        (Var::S, r)
    } else if let Some(r) = s.strip_prefix("_T.") {
        (Var::T, r)
    } else if let Some(r) = s.strip_prefix("_.") {
        (Var::Elem, r)
    } else if let Some(r) = s.strip_prefix("_B.") {
        (Var::B, r)
    } else if let Some(r) = s.strip_prefix("_P.") {
        return Some(parse_context(r, false));
    } else if let Some(r) = s.strip_prefix("_R.") {
        return Some(parse_context(r, true));
    } else {
        return None;
    };
    Some(PathExpr {
        var,
        steps: split_steps(rest),
    })
}

/// `_P.`/`_R.` paths: `_P._P._S.x`, `_R._T.y`, `_P.` (the context dict itself).
fn parse_context(rest: &str, root: bool) -> PathExpr {
    let mut steps = split_steps(rest);
    let mut depth = 1u32;
    let mut which = None;
    let mut used = 0;
    for st in &steps {
        match st.as_str() {
            "_P" if !root && which.is_none() => depth += 1,
            "_S" => which = Some(Which::S),
            "_T" => which = Some(Which::T),
            _ => break,
        }
        used += 1;
        if which.is_some() {
            break;
        }
    }
    steps.drain(..used);
    let var = if root {
        Var::Root(which)
    } else {
        Var::Parent(depth, which)
    };
    PathExpr { var, steps }
}

/// Splits path text at dots; single-quoted steps may contain dots, `''` is a quote.
pub fn split_steps(rest: &str) -> Vec<String> {
    let mut steps = Vec::new();
    if rest.is_empty() {
        return steps;
    }
    let mut cur = String::new();
    let mut chars = rest.chars().peekable();
    let mut in_quote = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if in_quote {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    cur.push('\'');
                } else {
                    in_quote = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '\'' && at_start {
            in_quote = true;
            at_start = false;
        } else if c == '.' {
            steps.push(std::mem::take(&mut cur));
            at_start = true;
        } else {
            cur.push(c);
            at_start = false;
        }
    }
    steps.push(cur);
    steps
}

/// Walks `root` along `steps`. `ns` is the property namespace when namespaced identifiers
/// are on (an unqualified step then matches the identifier in every namespace).
pub fn walk(root: &Value, steps: &[String], ns: Option<&str>) -> Value {
    let mut cur = root;
    for (i, step) in steps.iter().enumerate() {
        match cur {
            Value::Dict(m) => {
                if let Some(ns) = ns {
                    return walk_ns(cur, &steps[i..], ns);
                }
                match m.get(step.as_str()) {
                    Some(v) => cur = v,
                    None => return Value::Null,
                }
            }
            Value::List(_) => return fan_out(cur, &steps[i..], ns),
            _ => return Value::Null,
        }
    }
    cur.clone()
}

/// Like `walk`, but borrows the value when no fan-out or namespace union is needed.
pub fn walk_ref<'v>(root: &'v Value, steps: &[String], ns: Option<&str>) -> Cow<'v, Value> {
    if ns.is_some() {
        return Cow::Owned(walk(root, steps, ns));
    }
    let mut cur = root;
    for (i, step) in steps.iter().enumerate() {
        match cur {
            Value::Dict(m) => match m.get(step.as_str()) {
                Some(v) => cur = v,
                None => return Cow::Owned(Value::Null),
            },
            Value::List(_) => return Cow::Owned(fan_out(cur, &steps[i..], ns)),
            _ => return Cow::Owned(Value::Null),
        }
    }
    Cow::Borrowed(cur)
}

fn fan_out(list: &Value, steps: &[String], ns: Option<&str>) -> Value {
    let mut out = Vec::new();
    for x in list.as_slice() {
        push_flat(&mut out, walk(x, steps, ns));
    }
    Value::List(out)
}

fn push_flat(out: &mut Vec<Value>, v: Value) {
    match v {
        Value::Null => {}
        Value::List(l) => out.extend(l),
        other => out.push(other),
    }
}

/// One step in namespaced mode: union of every matching key, then the rest of the path.
fn walk_ns(dict: &Value, steps: &[String], ns: &str) -> Value {
    let Some(m) = dict.as_dict() else {
        return Value::Null;
    };
    let step = steps[0].as_str();
    let rest = &steps[1..];
    let mut hits: Vec<&Value> = Vec::new();
    if let Some(exact) = step.strip_prefix("::") {
        hits.extend(m.get(exact));
    } else if let Some(local) = step.strip_prefix(':') {
        hits.extend(m.get(format!("{ns}:{local}").as_str()));
    } else if step.contains(':') || step.starts_with(['_', '$']) {
        hits.extend(m.get(step));
    } else {
        hits.extend(
            m.iter()
                .filter(|(k, _)| split_ns(k).1 == step)
                .map(|(_, v)| v),
        );
    }
    match hits.len() {
        0 => Value::Null,
        1 => walk(hits[0], rest, Some(ns)),
        _ => {
            let mut out = Vec::new();
            for h in hits {
                push_flat(&mut out, walk(h, rest, Some(ns)));
            }
            Value::List(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_steps() {
        let p = parse("_S.foo.'john.doe''s'.bar").unwrap();
        assert_eq!(p.steps, vec!["foo", "john.doe's", "bar"]);
        assert_eq!(parse("_S.").unwrap().steps.len(), 0);
        assert!(parse("hello").is_none());
    }

    #[test]
    fn parent_paths() {
        let p = parse("_P._P._S.x").unwrap();
        assert_eq!(p.var, Var::Parent(2, Some(Which::S)));
        assert_eq!(p.steps, vec!["x"]);
        assert_eq!(parse("_R._T.y").unwrap().var, Var::Root(Some(Which::T)));
    }
}
