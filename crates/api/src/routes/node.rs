//! Node-level endpoints: `GET /api/` (with `status.developer_mode`, which sesam-py checks
//! before every command), `/api/status`, `/api/health` and `POST /api/admin` (reset, restart).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde_json::{json, Value};

use crate::util::blocking;
use crate::{ApiError, ApiResult, AppState, Role, Routes};

pub fn routes(r: Routes) -> Routes {
    r.add(
        "GET",
        "/api/",
        Role::ReadOnly,
        "Node info; status.developer_mode",
        api_info,
    )
    .add(
        "GET",
        "/api/status",
        Role::ReadOnly,
        "Node id, version, start time and uptime",
        status,
    )
    .add(
        "GET",
        "/api/health",
        Role::ReadOnly,
        "200 when healthy, 503 when shutting down",
        health,
    )
    .add(
        "POST",
        "/api/admin",
        Role::Admin,
        "Form operation=reset (wipe everything) or restart",
        admin,
    )
}

fn status_obj(st: &AppState) -> Value {
    json!({
        "node_id": "pumphouse",
        "node_version": env!("CARGO_PKG_VERSION"),
        "node_start_time": st.node.start_time(),
        "developer_mode": st.developer_mode,
    })
}

async fn api_info(State(st): State<AppState>) -> Json<Value> {
    Json(json!({"status": status_obj(&st)}))
}

async fn status(State(st): State<AppState>) -> Json<Value> {
    let mut s = status_obj(&st);
    s["pipes"] = json!(st.node.loaded().project.pipes.len());
    s["running_pipes"] = json!(st
        .node
        .pumps()
        .iter()
        .filter(|(_, p)| p.is_running())
        .count());
    Json(s)
}

async fn health(State(st): State<AppState>) -> Response {
    if st.node.is_shutting_down() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "shutting down"})),
        )
            .into_response();
    }
    Json(json!({"status": "ok"})).into_response()
}

async fn admin(
    State(st): State<AppState>,
    Form(f): Form<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let op = f.get("operation").cloned().unwrap_or_default();
    let node = st.node.clone();
    match op.as_str() {
        "reset" => blocking(move || Ok(node.reset()?)).await?,
        "restart" => blocking(move || Ok(node.restart()?)).await?,
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown admin operation {other:?}; use operation=reset or operation=restart"
            )))
        }
    }
    Ok(Json(json!({"message": "OK"})))
}
