//! Environment variables and `$ENV(name)` substitution, `$SECRET(name)` placement checks and
//! `$conditional_properties` resolution (sesam-spec 8.5).
//!
//! Variables come from the project's env file (`test-env.json`, or the one named on the
//! command line) and, for names the file does not define, from the process environment. When a
//! string is exactly `"$ENV(x)"`, the variable's JSON value replaces it with its own type;
//! inside a longer string, the value's text is spliced in.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::diag::Diagnostic;
use crate::jsonpos::{child, index};

#[derive(Clone, Debug, Default)]
pub struct Env {
    pub vars: BTreeMap<String, Json>,
    /// Fall back to the process environment for names not in `vars`.
    pub use_process_env: bool,
}

impl Env {
    pub fn get(&self, name: &str) -> Option<Json> {
        if let Some(v) = self.vars.get(name) {
            return Some(v.clone());
        }
        if self.use_process_env {
            return std::env::var(name).ok().map(Json::String);
        }
        None
    }
}

/// Where substitution happens: secrets are allowed only in systems.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Pipe,
    System,
    Metadata,
}

/// Substitutes `$ENV(...)` everywhere in `v`, reporting unknown variables and misplaced
/// `$SECRET(...)`, and resolves `$conditional_properties` blocks.
pub fn substitute(v: &mut Json, path: &str, env: &Env, scope: Scope, diags: &mut Vec<Diagnostic>) {
    match v {
        Json::String(s) => {
            if s.contains("$SECRET(") && scope != Scope::System {
                diags.push(
                    Diagnostic::error(path, "$SECRET(...) is only allowed in system configuration")
                        .hint("move the value into a system (e.g. its headers or docker.environment) and reference the system"),
                );
            }
            if s.contains("$ENV(") {
                if let Some(new) = expand(s, path, env, diags) {
                    *v = new;
                }
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                substitute(x, &index(path, i), env, scope, diags);
            }
        }
        Json::Object(m) => {
            if let Some(cond) = m.remove("$conditional_properties") {
                let p = child(path, "$conditional_properties");
                if let Some(block) = choose_conditional(cond, &p, env, scope, diags) {
                    for (k, x) in block {
                        m.insert(k, x);
                    }
                }
            }
            // Embedded entities are data, not configuration: no substitution inside them.
            let embedded = m.get("type").and_then(Json::as_str) == Some("embedded");
            let keys: Vec<String> = m
                .keys()
                .filter(|k| !(embedded && k.as_str() == "entities"))
                .cloned()
                .collect();
            for k in keys {
                if let Some(x) = m.get_mut(&k) {
                    substitute(x, &child(path, &k), env, scope, diags);
                }
            }
        }
        _ => {}
    }
}

fn choose_conditional(
    mut cond: Json,
    path: &str,
    env: &Env,
    scope: Scope,
    diags: &mut Vec<Diagnostic>,
) -> Option<serde_json::Map<String, Json>> {
    substitute(&mut cond, path, env, scope, diags);
    let Json::Object(mut c) = cond else {
        diags.push(Diagnostic::error(
            path,
            "$conditional_properties must be an object with \"condition\" and \"alternatives\"",
        ));
        return None;
    };
    let key = match c.get("condition") {
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => {
            diags.push(Diagnostic::error(
                path,
                "$conditional_properties has no \"condition\"",
            ));
            return None;
        }
    };
    match c.remove("alternatives") {
        Some(Json::Object(mut alts)) => match alts.remove(&key) {
            Some(Json::Object(block)) => Some(block),
            _ => {
                let names: Vec<&String> = alts.keys().collect();
                diags.push(
                    Diagnostic::error(
                        child(path, "alternatives"),
                        format!("no alternative for condition value {key:?}"),
                    )
                    .hint(format!(
                        "add an alternative named {key:?}; the ones defined are {names:?}"
                    )),
                );
                None
            }
        },
        _ => {
            diags.push(Diagnostic::error(
                path,
                "$conditional_properties needs an \"alternatives\" object",
            ));
            None
        }
    }
}

/// Expands `$ENV(...)` references in one string.
pub fn expand(s: &str, path: &str, env: &Env, diags: &mut Vec<Diagnostic>) -> Option<Json> {
    let whole = s.starts_with("$ENV(") && s.ends_with(')') && s[5..].find(')') == Some(s.len() - 6);
    if whole {
        let name = &s[5..s.len() - 1];
        return match env.get(name) {
            Some(v) => Some(v),
            None => {
                diags.push(missing(path, name));
                None
            }
        };
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("$ENV(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 5..];
        let Some(end) = after.find(')') else {
            diags.push(
                Diagnostic::error(path, "unterminated $ENV( reference")
                    .hint("write $ENV(name) with a closing parenthesis"),
            );
            return None;
        };
        let name = &after[..end];
        match env.get(name) {
            Some(Json::String(v)) => out.push_str(&v),
            Some(v) => out.push_str(&v.to_string()),
            None => {
                diags.push(missing(path, name));
                return None;
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(Json::String(out))
}

fn missing(path: &str, name: &str) -> Diagnostic {
    Diagnostic::error(path, format!("environment variable {name:?} is not set")).hint(format!(
        "define {name:?} in the project's env file (test-env.json) or in the process environment"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env() -> Env {
        let mut e = Env::default();
        e.vars.insert("host".into(), json!("example.org"));
        e.vars.insert("port".into(), json!(8080));
        e.vars.insert("env".into(), json!("test"));
        e
    }

    #[test]
    fn whole_values_keep_their_type_and_composites_are_strings() {
        let mut v = json!({"a": "$ENV(port)", "b": "http://$ENV(host):$ENV(port)/x"});
        let mut d = vec![];
        substitute(&mut v, "$", &env(), Scope::Pipe, &mut d);
        assert!(d.is_empty());
        assert_eq!(v, json!({"a": 8080, "b": "http://example.org:8080/x"}));
    }

    #[test]
    fn unknown_variables_and_pipe_secrets_are_errors() {
        let mut v = json!({"a": "$ENV(nope)", "s": "$SECRET(key)"});
        let mut d = vec![];
        substitute(&mut v, "$", &env(), Scope::Pipe, &mut d);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].path, "$.a");
        let mut d = vec![];
        substitute(
            &mut json!({"s": "$SECRET(key)"}),
            "$",
            &env(),
            Scope::System,
            &mut d,
        );
        assert!(d.is_empty());
    }

    #[test]
    fn conditional_properties_replace_siblings() {
        let mut v = json!({"url": "a", "$conditional_properties": {"condition": "$ENV(env)", "alternatives": {"test": {"url": "b"}, "prod": {"url": "c"}}}});
        let mut d = vec![];
        substitute(&mut v, "$", &env(), Scope::System, &mut d);
        assert_eq!(v, json!({"url": "b"}));
    }
}
