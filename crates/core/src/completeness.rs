//! The completeness settings of pipes and dataset sources (sesam-spec 2.6): the pipe's
//! `include_completeness` / `exclude_completeness`, the dataset source's `completeness`
//! (`true`, a list of dataset ids, or `{"expression": DTL}`) and `initial_completeness`.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use crate::diag::Diagnostic;
use crate::jsonpos::child;
use crate::model::{CompletenessFilter, PipeCompleteness, SourceCompleteness};

/// The pipe-level properties.
pub(crate) fn pipe(obj: &Map<String, Json>, d: &mut Vec<Diagnostic>) -> PipeCompleteness {
    PipeCompleteness {
        include: obj
            .get("include_completeness")
            .map(|v| ids(v, "$.include_completeness", d)),
        exclude: obj
            .get("exclude_completeness")
            .map(|v| ids(v, "$.exclude_completeness", d))
            .unwrap_or_default(),
    }
}

/// The dataset source's properties; `None` when neither is set (or both are off).
pub(crate) fn source(
    s: &Map<String, Json>,
    path: &str,
    d: &mut Vec<Diagnostic>,
) -> Option<Arc<SourceCompleteness>> {
    let cpath = child(path, "completeness");
    let filter = match s.get("completeness") {
        None | Some(Json::Null) | Some(Json::Bool(false)) => CompletenessFilter::Off,
        Some(Json::Bool(true)) => CompletenessFilter::Source,
        Some(v @ Json::Array(_)) => CompletenessFilter::Datasets(ids(v, &cpath, d)),
        Some(Json::Object(o)) if o.contains_key("expression") && o.len() == 1 => {
            crate::expr::compile(
                &o["expression"],
                "completeness",
                &child(&cpath, "expression"),
                d,
            )
            .map_or(CompletenessFilter::Off, CompletenessFilter::Expression)
        }
        Some(other) => {
            d.push(
                Diagnostic::error(
                    cpath,
                    format!("completeness must be true, false, a list of dataset ids or {{\"expression\": ...}}, not {other}"),
                )
                .hint("e.g. \"completeness\": true, or \"completeness\": {\"expression\": [\"datetime-plus\", \"day\", -7, [\"now\"]]}"),
            );
            CompletenessFilter::Off
        }
    };
    let initial = s
        .get("initial_completeness")
        .map(|v| ids(v, &child(path, "initial_completeness"), d))
        .unwrap_or_default();
    if matches!(filter, CompletenessFilter::Off) && initial.is_empty() {
        return None;
    }
    Some(Arc::new(SourceCompleteness { filter, initial }))
}

/// A list of dataset ids.
fn ids(v: &Json, path: &str, d: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut out = vec![];
    let Json::Array(items) = v else {
        d.push(
            Diagnostic::error(path, format!("expected a list of dataset ids, not {v}"))
                .hint("e.g. [\"crm-person\", \"erp-customer\"]"),
        );
        return out;
    };
    for (i, item) in items.iter().enumerate() {
        match item {
            Json::String(s) if !s.is_empty() => out.push(s.clone()),
            other => d.push(Diagnostic::error(
                format!("{path}[{i}]"),
                format!("a dataset id must be a non-empty string, not {other}"),
            )),
        }
    }
    out
}
