//! Namespaced identifiers and URIs: `ni ni-ns ni-id is-ni uri is-uri url-quote url-unquote`,
//! and the key-namespacing functions `apply-ns` / `strip-ns`.

use pumphouse_value::Value;

use super::{spec, Spec};
use crate::ast::Call;
use crate::error::EvalResult;
use crate::eval::{map_values, Scope};
use crate::wildcard::split_ns;

pub const SPECS: &[Spec] = &[
    spec("ni", 1, 2, ni),
    spec("ni-ns", 1, 1, ni_ns),
    spec("ni-id", 1, 1, ni_id),
    spec("is-ni", 1, 1, is_ni),
    spec("uri", 1, 1, uri),
    spec("is-uri", 1, 1, is_uri),
    spec("url-quote", 1, 2, url_quote),
    spec("url-unquote", 1, 1, url_unquote),
];

/// Collapses a URI into an NI: `http://example.org/` is the `_` namespace.
fn collapse(u: &str) -> Value {
    match u.strip_prefix("http://example.org/") {
        Some(rest) => Value::Ni(format!("_:{rest}")),
        None => Value::Ni(u.to_owned()),
    }
}

fn ni(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let ns = if c.args.len() == 2 {
        Some(sc.arg(c, 0)?)
    } else {
        None
    };
    let ns = match &ns {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Ok(Value::Null),
        None => None,
    };
    Ok(map_values(sc.arg(c, c.args.len() - 1)?, |v| {
        match (&v, ns) {
            (Value::String(s), Some(ns)) => Some(Value::Ni(format!("{ns}:{s}"))),
            (Value::String(s), None) => Some(Value::Ni(s.clone())),
            (Value::Uri(u), None) => Some(collapse(u)),
            (Value::Ni(_), None) => Some(v),
            _ => None,
        }
    }))
}

fn ni_text(v: &Value) -> Option<&str> {
    match v {
        Value::Ni(s) | Value::String(s) => Some(s),
        _ => None,
    }
}

fn ni_ns(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(map_values(sc.arg(c, 0)?, |v| {
        ni_text(&v).map(|s| Value::from(s.split_once(':').map_or("", |p| p.0)))
    }))
}

fn ni_id(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(map_values(sc.arg(c, 0)?, |v| {
        ni_text(&v).map(|s| Value::from(s.split_once(':').map_or(s, |p| p.1)))
    }))
}

fn is_ni(c: &Call, sc: &Scope) -> EvalResult<Value> {
    super::numbers::first_is(c, sc, |v| matches!(v, Value::Ni(_)))
}

fn uri(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(map_values(sc.arg(c, 0)?, |v| match v {
        Value::String(s) => Some(Value::Uri(s)),
        Value::Uri(_) => Some(v),
        _ => None,
    }))
}

fn is_uri(c: &Call, sc: &Scope) -> EvalResult<Value> {
    super::numbers::first_is(c, sc, |v| matches!(v, Value::Uri(_)))
}

/// Percent-encodes UTF-8; letters, digits, `_.-~` and the `safe` characters stay.
pub fn quote(s: &str, safe: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || b"_.-~".contains(&b)
            || (b.is_ascii() && safe.contains(b as char))
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() && s.is_char_boundary(i + 3) {
            if let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn url_quote(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let safe = if c.args.len() == 2 {
        sc.arg(c, 0)?.as_str().unwrap_or("").to_owned()
    } else {
        String::new()
    };
    Ok(map_values(sc.arg(c, c.args.len() - 1)?, |v| {
        v.as_str().map(|s| Value::String(quote(s, &safe)))
    }))
}

fn url_unquote(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(map_values(sc.arg(c, 0)?, |v| {
        v.as_str().map(|s| Value::String(unquote(s)))
    }))
}

struct NsConfig {
    prop: Option<String>,
    ident: Option<String>,
    skip_underscore: bool,
    skip_dollar: bool,
    recursive: bool,
}

fn ns_config(v: &Value) -> Option<NsConfig> {
    match v {
        Value::String(s) => Some(NsConfig {
            prop: Some(s.clone()),
            ident: Some(s.clone()),
            skip_underscore: true,
            skip_dollar: true,
            recursive: true,
        }),
        Value::Dict(m) => {
            let text = |k: &str| m.get(k).and_then(|x| x.as_str()).map(str::to_owned);
            let flag = |k: &str, d: bool| m.get(k).map_or(d, |x| x.truthy());
            Some(NsConfig {
                prop: text("property_namespace"),
                ident: text("identity_namespace"),
                skip_underscore: flag("skip_underscore", true),
                skip_dollar: flag("skip_dollar", true),
                recursive: flag("recursive", true),
            })
        }
        _ => None,
    }
}

fn add_ns(v: Value, cfg: &NsConfig, root: bool) -> Value {
    let Value::Dict(m) = v else { return v };
    let mut out = pumphouse_value::map_with_capacity(m.len());
    for (k, x) in m {
        let skip =
            (cfg.skip_underscore && k.starts_with('_')) || (cfg.skip_dollar && k.starts_with('$'));
        if skip {
            let x = match (&x, k.as_str(), &cfg.ident) {
                (Value::String(s), "_id", Some(ns)) if root => Value::String(format!("{ns}:{s}")),
                _ => x,
            };
            out.insert(k, x);
            continue;
        }
        let x = if cfg.recursive {
            add_ns_deep(x, cfg)
        } else {
            x
        };
        let key = match &cfg.prop {
            Some(ns) if !k.contains(':') => format!("{ns}:{k}"),
            _ => k,
        };
        out.insert(key, x);
    }
    Value::Dict(out)
}

fn add_ns_deep(v: Value, cfg: &NsConfig) -> Value {
    match v {
        Value::Dict(_) => add_ns(v, cfg, false),
        Value::List(l) => Value::List(l.into_iter().map(|x| add_ns_deep(x, cfg)).collect()),
        other => other,
    }
}

pub fn apply_ns(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let Some(cfg) = ns_config(&sc.arg(c, 0)?) else {
        return Ok(Value::Null);
    };
    Ok(map_values(sc.arg(c, 1)?, |v| Some(add_ns(v, &cfg, true))))
}

fn strip_deep(v: Value) -> Value {
    match v {
        Value::Dict(m) => Value::Dict(
            m.into_iter()
                .map(|(k, x)| (split_ns(&k).1.to_owned(), strip_deep(x)))
                .collect(),
        ),
        Value::List(l) => Value::List(l.into_iter().map(strip_deep).collect()),
        other => other,
    }
}

pub fn strip_ns(c: &Call, sc: &Scope) -> EvalResult<Value> {
    Ok(strip_deep(sc.arg(c, 0)?))
}
