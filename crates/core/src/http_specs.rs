//! Validation of the HTTP components of a pipe: the `json` source and sink and the `http`
//! transform, each tied to a `system:url` or `system:microservice`.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use crate::diag::{closest, Diagnostic};
use crate::model::{JsonSink, JsonSource};
use crate::systems::HttpSystem;
use crate::validate::{bool_prop as flag, unknown_props as unknown, Ctx};

const JSON_SOURCE_PROPS: &[&str] = &[
    "type",
    "comment",
    "name",
    "system",
    "url",
    "supports_since",
    "is_since_comparable",
    "is_chronological",
    "page_size",
    "subset",
    "headers",
    "supports_signalling",
    "if_source_empty",
    "completeness",
    "initial_completeness",
];
const JSON_SINK_PROPS: &[&str] = &[
    "type",
    "comment",
    "name",
    "system",
    "url",
    "batch_size",
    "headers",
];

/// A positive integer property.
pub fn positive(
    obj: &Map<String, Json>,
    key: &str,
    default: u64,
    path: &str,
    d: &mut Vec<Diagnostic>,
) -> u64 {
    match obj.get(key) {
        None | Some(Json::Null) => default,
        Some(Json::Number(n)) if n.as_u64().is_some_and(|x| x > 0) => n.as_u64().unwrap_or(default),
        Some(other) => {
            d.push(
                Diagnostic::error(
                    format!("{path}.{key}"),
                    format!("{key} must be a positive integer, not {other}"),
                )
                .hint(format!("the default is {default}")),
            );
            default
        }
    }
}

/// The `system` (a url or microservice system) and `url` of an HTTP component.
pub fn system_and_url(
    obj: &Map<String, Json>,
    path: &str,
    what: &str,
    ctx: &Ctx,
    d: &mut Vec<Diagnostic>,
    nr: &mut Option<String>,
) -> Option<(Arc<HttpSystem>, String)> {
    let url = match obj.get("url") {
        Some(Json::String(u)) => Some(u.clone()),
        other => {
            let mut e = Diagnostic::error(
                format!("{path}.url"),
                format!("{what} needs \"url\", a string"),
            )
            .hint("the path on the system, e.g. \"url\": \"get_contacts\"");
            if let Some(v) = other {
                e.message = format!("url must be a string, not {v}");
            }
            d.push(e);
            None
        }
    };
    let system = match obj.get("system") {
        Some(Json::String(id)) => match ctx.http_systems.get(id) {
            Some(s) => Some(s.clone()),
            None if ctx.systems.contains(id) => {
                d.push(
                    Diagnostic::error(
                        format!("{path}.system"),
                        format!("system {id:?} is not a url or microservice system"),
                    )
                    .hint(format!(
                        "{what} talks HTTP: use a \"system:url\" or \"system:microservice\""
                    )),
                );
                None
            }
            None if ctx.incomplete => None,
            None => {
                let hint = match closest(id, ctx.http_systems.keys().map(String::as_str)) {
                    Some(c) => format!("did you mean {c:?}?"),
                    None => "add a system with \"type\": \"system:url\" or \"system:microservice\""
                        .to_string(),
                };
                d.push(
                    Diagnostic::error(format!("{path}.system"), format!("unknown system {id:?}"))
                        .hint(hint),
                );
                None
            }
        },
        _ => {
            d.push(
                Diagnostic::error(
                    format!("{path}.system"),
                    format!("{what} needs \"system\", the id of a url or microservice system"),
                )
                .hint("e.g. \"system\": \"my-service\""),
            );
            None
        }
    };
    let system = system?;
    if let Some(why) = &system.unavailable {
        nr.get_or_insert_with(|| why.clone());
    }
    Some((system, url?))
}

pub fn json_source(
    s: &Map<String, Json>,
    path: &str,
    ctx: &Ctx,
    d: &mut Vec<Diagnostic>,
    nr: &mut Option<String>,
) -> Option<Arc<JsonSource>> {
    unknown(s, JSON_SOURCE_PROPS, path, "the json source", d);
    let supports_since = flag(s, "supports_since", false, path, d);
    let is_chronological = flag(s, "is_chronological", false, path, d);
    let is_since_comparable = flag(s, "is_since_comparable", true, path, d);
    let page_size = match s.get("page_size") {
        None | Some(Json::Null) => None,
        _ => Some(positive(s, "page_size", 1000, path, d)),
    };
    let fail_if_empty = match s.get("if_source_empty").and_then(Json::as_str) {
        None | Some("accept") => false,
        Some("fail") => true,
        Some(other) => {
            d.push(
                Diagnostic::error(
                    format!("{path}.if_source_empty"),
                    format!("unknown if_source_empty {other:?}"),
                )
                .hint("use \"accept\" or \"fail\""),
            );
            false
        }
    };
    let headers = crate::systems::headers(s.get("headers"), &format!("{path}.headers"), d);
    let (system, url) = system_and_url(s, path, "the json source", ctx, d, nr)?;
    Some(Arc::new(JsonSource {
        system,
        url,
        supports_since,
        is_chronological,
        is_since_comparable,
        page_size,
        headers,
        fail_if_empty,
    }))
}

pub fn json_sink(
    s: &Map<String, Json>,
    path: &str,
    ctx: &Ctx,
    pump: Option<&Json>,
    d: &mut Vec<Diagnostic>,
    nr: &mut Option<String>,
) -> Option<Arc<JsonSink>> {
    unknown(s, JSON_SINK_PROPS, path, "the json sink", d);
    let batch_size = positive(s, "batch_size", 100, path, d) as usize;
    let headers = crate::systems::headers(s.get("headers"), &format!("{path}.headers"), d);
    let pump = pump.and_then(Json::as_object);
    let batch_retries = pump
        .and_then(|p| p.get("batch_retries"))
        .and_then(Json::as_u64)
        .unwrap_or(3) as u32;
    let retry_delay = pump
        .and_then(|p| p.get("write_retry_delay"))
        .and_then(Json::as_f64)
        .unwrap_or(0.0);
    let (system, url) = system_and_url(s, path, "the json sink", ctx, d, nr)?;
    Some(Arc::new(JsonSink {
        system,
        url,
        batch_size,
        headers,
        batch_retries,
        retry_delay,
    }))
}
