//! Dataset subsets (sesam-spec 2.8, 5.3): `"subset": ["eq", <index expression>, <literal>]` on a
//! dataset source reads only the entities whose index expression yields the literal, as a
//! dataset of its own would: an entity that leaves the subset is emitted as deleted.
//!
//! `eq` behaves as in joins: the expression's value, lists flattened, matches when any element
//! equals the literal. The literal is a constant (transit-encoded like `"~:foo:bar"`), not an
//! expression.

use std::sync::Arc;

use pumphouse_value::Value;
use serde_json::Value as Json;

use crate::diag::Diagnostic;

/// A compiled subset.
#[derive(Debug)]
pub struct Subset {
    /// Puts the index expression's value in the target property `key`.
    program: Arc<pumphouse_dtl::Program>,
    value: Value,
}

impl Subset {
    /// Whether `entity` is in the subset. An expression that fails on the entity puts it
    /// outside.
    pub fn contains(&self, entity: &Value) -> bool {
        let Ok(out) = self
            .program
            .transform(entity, &pumphouse_dtl::EvalContext::empty())
        else {
            return false;
        };
        let Some(v) = out.target.as_ref().and_then(|t| t.get("key")) else {
            return false;
        };
        matches(v, &self.value)
    }
}

fn matches(v: &Value, want: &Value) -> bool {
    match v {
        Value::List(items) => items.iter().any(|i| matches(i, want)),
        Value::Null => false,
        v => v == want,
    }
}

/// Parses and compiles the dataset source's `subset`; `None` when absent or null.
pub(crate) fn parse(v: Option<&Json>, path: &str, d: &mut Vec<Diagnostic>) -> Option<Arc<Subset>> {
    let v = v.filter(|v| !v.is_null())?;
    let spath = format!("{path}.subset");
    let hint = "e.g. \"subset\": [\"eq\", \"_S.category\", \"tank\"]";
    let parts = match v.as_array() {
        Some(a) if a.len() == 3 && a[0] == "eq" => a,
        _ => {
            d.push(
                Diagnostic::error(
                    spath,
                    "subset must be [\"eq\", <index expression>, <literal>]",
                )
                .hint(hint),
            );
            return None;
        }
    };
    if parts[2].is_array() || parts[2].is_object() {
        d.push(
            Diagnostic::error(
                format!("{spath}[2]"),
                "the subset's right-hand side must be a literal value, not an expression",
            )
            .hint("write typed values in transit form, e.g. \"~:foo:bar\" instead of [\"ni\", \"foo\", \"bar\"]"),
        );
        return None;
    }
    let program = crate::expr::compile(&parts[1], "key", &format!("{spath}[1]"), d)?;
    Some(Arc::new(Subset {
        program,
        value: pumphouse_value::transit::from_json(&parts[2]),
    }))
}
