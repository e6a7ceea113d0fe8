//! A single DTL expression in a config property (a subset's index expression, a completeness
//! expression), compiled as the rules `["copy", "_id"], ["add", KEY, EXPR]`, so evaluating the
//! program on an entity puts the expression's value in the target's `KEY`. Compile errors get
//! JSON paths inside the expression.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::diag::Diagnostic;

pub(crate) fn compile(
    expr: &Json,
    key: &str,
    path: &str,
    d: &mut Vec<Diagnostic>,
) -> Option<Arc<pumphouse_dtl::Program>> {
    let rules = serde_json::json!({"default": [["copy", "_id"], ["add", key, expr]]});
    match pumphouse_dtl::compile(&rules, &pumphouse_dtl::Options::default()) {
        Ok(p) => Some(Arc::new(p)),
        Err(errs) => {
            for e in errs {
                let rest = e.path.strip_prefix("default[1][2]").unwrap_or("");
                let mut diag = Diagnostic::error(format!("{path}{rest}"), e.message);
                diag.hint = e.hint;
                d.push(diag);
            }
            None
        }
    }
}
