//! `add_namespaces` and `remove_namespaces` (sesam-spec 1.5): prefix the `_id` value with the
//! identity namespace and every property key (recursively) with the property namespace; and
//! the reverse, stripping namespaces from `_id`, keys and NI values.

use pumphouse_value::Value;

/// Adds namespaces before the first transform. Reserved `_` keys keep their names.
pub fn add(entity: Value, identity: &str, property: &str) -> Value {
    let Value::Dict(m) = entity else {
        return entity;
    };
    let mut out = pumphouse_value::map_with_capacity(m.len());
    for (k, v) in m {
        if k == "_id" {
            let v = match v {
                Value::String(s) => Value::String(format!("{identity}:{s}")),
                other => other,
            };
            out.insert(k, v);
        } else if k.starts_with('_') {
            out.insert(k, v);
        } else {
            out.insert(format!("{property}:{k}"), add_nested(v, property));
        }
    }
    Value::Dict(out)
}

fn add_nested(v: Value, property: &str) -> Value {
    match v {
        Value::Dict(m) => Value::Dict(
            m.into_iter()
                .map(|(k, x)| (format!("{property}:{k}"), add_nested(x, property)))
                .collect(),
        ),
        Value::List(l) => Value::List(l.into_iter().map(|x| add_nested(x, property)).collect()),
        other => other,
    }
}

/// Removes namespaces after the last transform.
pub fn remove(v: Value) -> Value {
    match v {
        Value::Dict(m) => Value::Dict(
            m.into_iter()
                .map(|(k, x)| {
                    let x = if k == "_id" { strip_id(x) } else { remove(x) };
                    (strip(&k).to_string(), x)
                })
                .collect(),
        ),
        Value::List(l) => Value::List(l.into_iter().map(remove).collect()),
        Value::Ni(s) => Value::Ni(strip(&s).to_string()),
        other => other,
    }
}

fn strip_id(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(strip(&s).to_string()),
        other => other,
    }
}

fn strip(s: &str) -> &str {
    if s.starts_with('_') || s.starts_with('$') {
        return s;
    }
    match s.rfind(':') {
        Some(i) => &s[i + 1..],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pumphouse_value::transit::{from_str, to_string};

    #[test]
    fn add_then_remove_round_trips() {
        let e = from_str(r#"{"_id":"1","name":"x","nested":{"a":[{"b":1}]},"_deleted":false}"#)
            .unwrap();
        let added = add(e.clone(), "crm-person", "crm-person");
        assert_eq!(
            to_string(&added),
            r#"{"_id":"crm-person:1","crm-person:name":"x","crm-person:nested":{"crm-person:a":[{"crm-person:b":1}]},"_deleted":false}"#
        );
        assert_eq!(to_string(&remove(added)), to_string(&e));
    }
}
