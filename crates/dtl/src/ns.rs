//! Namespaced-identifier helpers: how `add`/`default` qualify property names and `_id`
//! values, and how source keys are split into namespace and identifier.

use pumphouse_value::Value;

use crate::wildcard::split_ns;
use crate::Options;

/// The target key for a property name written by `add`/`add-if`/`default`.
pub fn target_key(name: &str, opts: &Options) -> String {
    if !opts.namespaced_identifiers {
        return name.to_owned();
    }
    if let Some(exact) = name.strip_prefix("::") {
        return exact.to_owned();
    }
    if let Some(local) = name.strip_prefix(':') {
        return format!("{}:{local}", opts.property_namespace);
    }
    if name.contains(':') || name.starts_with(['_', '$']) {
        return name.to_owned();
    }
    format!("{}:{name}", opts.property_namespace)
}

/// The value stored under `key`: in namespaced mode a string `_id` gets the identity namespace.
pub fn target_value(key: &str, v: Value, opts: &Options) -> Value {
    match v {
        Value::String(s)
            if opts.namespaced_identifiers
                && key == "_id"
                && !opts.identity_namespace.is_empty() =>
        {
            Value::String(format!("{}:{s}", opts.identity_namespace))
        }
        other => other,
    }
}

/// Source keys matched by a property name in namespaced mode, each with the namespace it
/// was found in (`None` for an unqualified key).
pub fn matching_keys<'a>(
    src: &'a Value,
    name: &str,
    opts: &Options,
) -> Vec<(&'a str, Option<&'a str>)> {
    let Some(m) = src.as_dict() else {
        return Vec::new();
    };
    let single = |k: &str| -> Vec<(&'a str, Option<&'a str>)> {
        m.get_key_value(k)
            .map(|(k, _)| (k.as_str(), split_ns(k).0))
            .into_iter()
            .collect()
    };
    if !opts.namespaced_identifiers {
        return m
            .get_key_value(name)
            .map(|(k, _)| (k.as_str(), None))
            .into_iter()
            .collect();
    }
    if let Some(exact) = name.strip_prefix("::") {
        return single(exact);
    }
    if let Some(local) = name.strip_prefix(':') {
        return single(&format!("{}:{local}", opts.property_namespace));
    }
    if name.contains(':') || name.starts_with(['_', '$']) {
        return single(name);
    }
    m.keys()
        .filter(|k| split_ns(k).1 == name)
        .map(|k| (k.as_str(), split_ns(k).0))
        .collect()
}

/// The target key for an unqualified `to` in a namespace found on the source key.
pub fn with_ns(ns: Option<&str>, to: &str, opts: &Options) -> String {
    if !opts.namespaced_identifiers {
        return to.to_owned();
    }
    if let Some(exact) = to.strip_prefix("::") {
        return exact.to_owned();
    }
    if let Some(local) = to.strip_prefix(':') {
        return format!("{}:{local}", opts.property_namespace);
    }
    if to.contains(':') {
        return to.to_owned();
    }
    match ns {
        Some(ns) => format!("{ns}:{to}"),
        None => to.to_owned(),
    }
}
