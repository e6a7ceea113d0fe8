//! `/api/pipes/{id}/pump`: the pump object (sesam-spec 4.5) and its operations: start,
//! start-rescan, stop, enable, disable (with comment), update-last-seen (`""` resets),
//! reset-rescan.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::{Form, Json};
use pumphouse_runtime::node::Node;
use serde_json::{json, Value};

use crate::util::blocking;
use crate::{ApiError, ApiResult, AppState, Role, Routes};

pub fn routes(r: Routes) -> Routes {
    r.add(
        "GET",
        "/api/pipes/{id}/pump",
        Role::ReadOnly,
        "The pump: running, disabled, last-seen, next run",
        get_pump,
    )
    .add(
        "POST",
        "/api/pipes/{id}/pump",
        Role::Admin,
        "Form operation=start|start-rescan|stop|enable|disable|update-last-seen|reset-rescan",
        post_pump,
    )
}

pub const OPERATIONS: &[&str] = &[
    "start",
    "start-rescan",
    "stop",
    "enable",
    "disable",
    "update-last-seen",
    "reset-rescan",
];

fn last_seen_json(v: &pumphouse_value::Value) -> Value {
    match v {
        pumphouse_value::Value::Null => Value::Null,
        pumphouse_value::Value::String(s) => json!(s),
        other => json!(pumphouse_value::transit::to_string(other)),
    }
}

pub fn pump_object(node: &Node, id: &str) -> Value {
    let l = node.loaded();
    let rt = node.pump(id);
    let info = rt.info.lock().map(|i| i.clone()).unwrap_or_default();
    let last_seen = node
        .store
        .pipe_state(id)
        .map(|s| last_seen_json(&s.last_seen))
        .unwrap_or(Value::Null);
    let next = node
        .sched
        .lock()
        .ok()
        .and_then(|s| s.next_run(id))
        .map(pumphouse_runtime::node::iso);
    json!({
        "_id": format!("pump:{id}"),
        "type": "pump",
        "runtime": {
            "is-running": rt.is_running(),
            "is-disabled": node.is_disabled(id),
            "is-valid-config": !l.invalid.contains_key(id),
            "config-errors": l.errors_of(id),
            "last-run": info.last_run,
            "next-run": next,
            "last-seen": last_seen,
            "last-message": info.last_message,
            "success": info.success,
            "progress": {"processed": rt.progress.load(std::sync::atomic::Ordering::Relaxed)},
            "queues": {"source": 0, "dependencies": {}},
            "supported-operations": OPERATIONS,
        }
    })
}

async fn get_pump(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    st.node.pipe_exists(&id)?;
    let node = st.node.clone();
    blocking(move || Ok(Json(pump_object(&node, &id)))).await
}

async fn post_pump(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    st.node.pipe_exists(&id)?;
    let op = f.get("operation").cloned().unwrap_or_default();
    let node = st.node.clone();
    blocking(move || {
        match op.as_str() {
            "start" => node.start(&id, false)?,
            "start-rescan" => node.start(&id, true)?,
            "stop" => node.stop_pipe(&id)?,
            "enable" => node.set_enabled(&id, true, None)?,
            "disable" => node.set_enabled(&id, false, f.get("comment").map(String::as_str))?,
            "update-last-seen" => {
                let v = f.get("last-seen").ok_or_else(|| {
                    ApiError::bad_request(
                        "update-last-seen needs the form field last-seen (\"\" resets the pipe)",
                    )
                })?;
                node.set_last_seen(&id, v)?
            }
            // Every rescan starts from the beginning, so there is nothing to reset.
            "reset-rescan" => {}
            "" => {
                return Err(ApiError::bad_request(format!(
                    "missing form field operation; one of {}",
                    OPERATIONS.join(", ")
                )))
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "the pump doesn't support the operation {other:?}; use one of {}",
                    OPERATIONS.join(", ")
                )))
            }
        }
        Ok(Json(pump_object(&node, &id)))
    })
    .await
}
