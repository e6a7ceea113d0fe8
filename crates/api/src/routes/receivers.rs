//! `POST /api/receivers/{pipe}/entities` (sesam-spec 5.5, 9.2): the JSON push receiver of a
//! pipe with an `http_endpoint` source. Each request goes through the pipe's transforms into
//! its sink and is committed before the answer. Incremental requests (`is_full` absent or
//! false) just add entities. A full sync is a sequence (`sequence_id`, `request_id`,
//! `previous_request_id`, `is_first`, `is_last`): it is one full run of the sink, kept open
//! across requests by the store, and `is_last` ends it with deletion tracking (tombstones for
//! every `_id` not pushed in the sequence). Out-of-order or repeated requests get 409.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json as AxJson;
use pumphouse_core::SourceSpec;
use pumphouse_value::Value;
use serde_json::{json, Value as Json};

use crate::util::{blocking, qbool, JsonBody};
use crate::{ApiError, ApiResult, AppState, Role, Routes};

pub fn routes(r: Routes) -> Routes {
    r.add(
        "POST",
        "/api/receivers/{pipe}/entities",
        Role::Admin,
        "Push entities to a pipe with an http_endpoint source (JSON push protocol)",
        receive,
    )
}

/// The active full-sync sequence per pipe: (sequence_id, last request_id).
static SEQUENCES: Mutex<Option<HashMap<String, (String, String)>>> = Mutex::new(None);

fn conflict(msg: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, msg)
}

async fn receive(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<crate::util::Query>,
    headers: axum::http::HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<AxJson<Json>> {
    // Completeness (sesam-spec 2.6): the sender's value (µs), else the time of the commit.
    let completeness = match headers.get("x-dataset-completeness") {
        None => None,
        Some(v) => match v.to_str().ok().and_then(|s| s.trim().parse::<i64>().ok()) {
            Some(us) if us > 0 => Some(us),
            _ => {
                return Err(ApiError::bad_request(format!(
                "X-Dataset-Completeness must be a positive integer (µs since the epoch), not {v:?}"
            )))
            }
        },
    };
    let loaded = st.node.loaded();
    let Some(pipe) = loaded.project.pipe(&id).cloned() else {
        return Err(ApiError::not_found(format!("no pipe {id:?}")));
    };
    if !matches!(&pipe.source, SourceSpec::Unsupported { kind, .. } if kind == "http_endpoint") {
        return Err(ApiError::not_found(format!(
            "pipe {id:?} has no http_endpoint source, so it receives nothing"
        )));
    }
    let entities: Vec<Value> = match body {
        Json::Array(a) => a.iter().map(pumphouse_value::transit::from_json).collect(),
        o @ Json::Object(_) => vec![pumphouse_value::transit::from_json(&o)],
        _ => {
            return Err(ApiError::bad_request(
                "the body must be an entity or a JSON array of entities",
            ))
        }
    };
    let full = qbool(&q, "is_full", false)?;
    let is_first = qbool(&q, "is_first", false)?;
    let is_last = qbool(&q, "is_last", false)?;
    let mut first_of_sequence = false;
    if full {
        let seq = q.get("sequence_id").cloned().unwrap_or_default();
        let req = q.get("request_id").cloned().unwrap_or_default();
        let prev = q.get("previous_request_id").cloned();
        let mut g = SEQUENCES.lock().unwrap_or_else(|p| p.into_inner());
        let map = g.get_or_insert_with(HashMap::new);
        match map.get(&id) {
            Some((s, last)) if *s == seq => {
                if is_first {
                    return Err(conflict(format!(
                        "sequence {seq:?} already had its first request"
                    )));
                }
                if prev.as_deref() != Some(last.as_str()) {
                    return Err(conflict(format!(
                        "previous_request_id {prev:?} is not the last request_id {last:?} of sequence {seq:?}; restart the full sync"
                    )));
                }
            }
            _ => {
                if !is_first {
                    return Err(conflict(format!(
                        "sequence {seq:?} is not active; a full sync starts with is_first=true"
                    )));
                }
                first_of_sequence = true;
            }
        }
        map.insert(id.clone(), (seq, req));
    }
    let node = st.node.clone();
    let pid = id.clone();
    let res = blocking(move || {
        let store = node.store.clone();
        let mut out = Vec::with_capacity(entities.len());
        for e in entities {
            pumphouse_runtime::transform::apply(&pipe, e, &mut out)
                .map_err(|e| ApiError::bad_request(e.message))?;
        }
        let mut sink =
            pumphouse_connectors::open_sink(&pipe.sink, &store, &pipe.id, first_of_sequence)
                .map_err(|e| ApiError::new(StatusCode::CONFLICT, e.to_string()))?;
        let state = store
            .pipe_state(&pipe.id)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let internal = |e: pumphouse_connectors::ConnectorError| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        };
        sink.write(out).map_err(internal)?;
        if full && is_last {
            sink.finish(&state, true).map_err(internal)?;
        } else {
            sink.commit(&state).map_err(internal)?;
        }
        drop(sink);
        if !full || is_last {
            if let Some(ds) = pipe.sink.dataset() {
                pumphouse_runtime::completeness::received(&store, ds, completeness)
                    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.message))?;
            }
        }
        Ok(())
    })
    .await;
    if res.is_err() || (full && is_last) {
        // A failed request aborts the sequence; the sender restarts it.
        if let Some(m) = SEQUENCES.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            m.remove(&pid);
        }
    }
    res?;
    Ok(AxJson(json!({})))
}
