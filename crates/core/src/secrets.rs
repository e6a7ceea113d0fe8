//! `$SECRET(name)` substitution in system configs and redaction of secret values.
//!
//! Secret values come from the node's encrypted secret store (`pumphouse_secrets`), handed to
//! the loader as plain maps. Every value that is substituted is also registered for
//! redaction: `redact` replaces it with `********` in any text about to be shown or stored
//! (errors, the execution log, microservice log lines), so a secret never leaves the process
//! except where the config puts it (a header, a microservice's environment).

use std::collections::BTreeMap;
use std::sync::RwLock;

use serde_json::Value as Json;

use crate::diag::Diagnostic;
use crate::jsonpos::{child, index};

/// Secret values by name: global ones and per-system ones (a system's own wins).
#[derive(Clone, Default)]
pub struct Secrets {
    pub global: BTreeMap<String, String>,
    pub systems: BTreeMap<String, BTreeMap<String, String>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: values never appear in debug output.
        f.debug_struct("Secrets")
            .field("global", &self.global.keys().collect::<Vec<_>>())
            .field("systems", &self.systems.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Secrets {
    pub fn get(&self, system: &str, name: &str) -> Option<&str> {
        self.systems
            .get(system)
            .and_then(|m| m.get(name))
            .or_else(|| self.global.get(name))
            .map(String::as_str)
    }
}

static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a value for redaction.
pub fn register(value: &str) {
    if value.len() < 3 {
        return; // too short to redact without mangling ordinary text
    }
    if let Ok(mut k) = KNOWN.write() {
        if !k.iter().any(|v| v == value) {
            k.push(value.to_string());
            // Longest first, so a secret containing another is replaced whole.
            k.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }
}

/// `text` with every registered secret value replaced by `********`.
pub fn redact(text: &str) -> String {
    let Ok(k) = KNOWN.read() else {
        return text.to_string();
    };
    let mut out = text.to_string();
    for v in k.iter() {
        if out.contains(v.as_str()) {
            out = out.replace(v.as_str(), "********");
        }
    }
    out
}

/// Replaces `$SECRET(name)` in every string of a system config. Names without a value are
/// returned (the system cannot be used until they are set); the text is left without them.
pub fn substitute(v: &mut Json, path: &str, system: &str, secrets: &Secrets) -> Vec<String> {
    let mut missing = Vec::new();
    walk(v, path, system, secrets, &mut missing);
    missing
}

fn walk(v: &mut Json, path: &str, system: &str, secrets: &Secrets, missing: &mut Vec<String>) {
    match v {
        Json::String(s) if s.contains("$SECRET(") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("$SECRET(") {
                out.push_str(&rest[..i]);
                let after = &rest[i + 8..];
                let Some(end) = after.find(')') else {
                    out.push_str(&rest[i..]);
                    rest = "";
                    break;
                };
                let name = &after[..end];
                match secrets.get(system, name) {
                    Some(val) => {
                        register(val);
                        out.push_str(val);
                    }
                    None => {
                        // Left as written: the system is unusable until the secret is set.
                        out.push_str(&rest[i..i + 9 + end]);
                        missing.push(format!("{name} (at {path})"));
                    }
                }
                rest = &after[end + 1..];
            }
            out.push_str(rest);
            *s = out;
        }
        Json::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                walk(x, &index(path, i), system, secrets, missing);
            }
        }
        Json::Object(m) => {
            for (k, x) in m.iter_mut() {
                walk(x, &child(path, k), system, secrets, missing);
            }
        }
        _ => {}
    }
}

/// A warning for a system whose secrets are not all set.
pub fn missing_warning(missing: &[String]) -> Diagnostic {
    Diagnostic::warning(
        "$",
        format!(
            "secret(s) not set: {}; pipes using this system cannot run",
            missing.join(", ")
        ),
    )
    .hint("set them with `pumphouse secrets set --data <dir> <name>` or PUT /api/secrets")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn system_secret_wins_and_values_are_redacted() {
        let mut s = Secrets::default();
        s.global.insert("k".into(), "global-value-1".into());
        s.systems
            .entry("sys".into())
            .or_default()
            .insert("k".into(), "system-value-1".into());
        let mut v = json!({"h": {"Authorization": "Bearer $SECRET(k)"}, "x": "a $SECRET(nope)"});
        let missing = substitute(&mut v, "$", "sys", &s);
        assert_eq!(v["h"]["Authorization"], "Bearer system-value-1");
        assert_eq!(missing, vec!["nope (at $.x)".to_string()]);
        assert_eq!(v["x"], "a $SECRET(nope)");
        assert_eq!(
            redact("token system-value-1 failed"),
            "token ******** failed"
        );
        let mut w = json!("$SECRET(k)");
        substitute(&mut w, "$", "other", &s);
        assert_eq!(w, "global-value-1");
        assert!(!format!("{s:?}").contains("value-1"));
    }
}
