//! sesam-py's scheduler endpoints: `run-all-pipes` (sync blocks until done; async returns a
//! token), `get-pipe-runner-status`, `get-run-all-pipes-log`, `stop-run-all-pipes` and
//! `delete-all-sink-datasets`.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::Json;
use pumphouse_runtime::node::RunAllParams;
use serde_json::{json, Value};

use crate::util::{blocking, qbool, qnum, Query as Q};
use crate::{ApiError, ApiResult, AppState, Role, Routes};

pub fn routes(r: Routes) -> Routes {
    r.add(
        "POST",
        "/api/pipes/run-all-pipes",
        Role::Admin,
        "Run every pipe until nothing changes (request_mode=sync|async)",
        run_all,
    )
    .add(
        "GET",
        "/api/pipes/get-pipe-runner-status",
        Role::ReadOnly,
        "Status of an async run-all (token=)",
        runner_status,
    )
    .add(
        "GET",
        "/api/pipes/get-run-all-pipes-log",
        Role::ReadOnly,
        "Log lines of the run-all since a timestamp",
        runner_log,
    )
    .add(
        "POST",
        "/api/pipes/stop-run-all-pipes",
        Role::Admin,
        "Stop the run-all (terminate_timeout= seconds to wait)",
        stop,
    )
    .add(
        "POST",
        "/api/pipes/delete-all-sink-datasets",
        Role::Admin,
        "Delete every pipe's sink dataset and reset its offset",
        delete_sinks,
    )
}

async fn run_all(State(st): State<AppState>, Query(q): Query<Q>) -> ApiResult<Json<Value>> {
    let params = RunAllParams {
        reset_pipes_and_delete_sink_datasets: qbool(
            &q,
            "reset_pipes_and_delete_sink_datasets",
            true,
        )?,
        delete_input_datasets: qbool(&q, "delete_input_datasets", true)?,
        max_run_time: Duration::from_secs(qnum::<u64>(&q, "max_run_time")?.unwrap_or(900)),
    };
    let mode = q.get("request_mode").map(String::as_str).unwrap_or("sync");
    if mode != "sync" && mode != "async" {
        return Err(ApiError::bad_request(format!(
            "request_mode {mode:?} must be sync or async"
        )));
    }
    let ra = st.node.begin_run_all()?;
    let node = st.node.clone();
    let token = ra.token.clone();
    let job = tokio::task::spawn_blocking(move || node.execute_run_all(&ra, &params));
    if mode == "async" {
        return Ok(Json(json!({"token": token, "status": "running"})));
    }
    let mut result = job
        .await
        .map_err(|e| ApiError::bad_request(format!("run-all-pipes panicked: {e}")))?;
    result["token"] = json!(token);
    Ok(Json(result))
}

async fn runner_status(State(st): State<AppState>, Query(q): Query<Q>) -> Json<Value> {
    let ra = st.node.run_all_state();
    match ra.filter(|r| q.get("token").is_none_or(|t| *t == r.token)) {
        Some(r) => {
            let mut v = r.result().unwrap_or_else(|| json!({}));
            v["status"] = json!(r.status());
            v["token"] = json!(r.token);
            Json(v)
        }
        None => Json(json!({"status": "not-running"})),
    }
}

async fn runner_log(State(st): State<AppState>, Query(q): Query<Q>) -> Json<Value> {
    match st.node.run_all_state() {
        Some(r) if q.get("token").is_none_or(|t| *t == r.token) => {
            Json(r.log_since(q.get("since").map(String::as_str)))
        }
        _ => Json(json!([])),
    }
}

async fn stop(State(st): State<AppState>, Query(q): Query<Q>) -> ApiResult<Json<Value>> {
    let secs = qnum::<u64>(&q, "terminate_timeout")?.unwrap_or(30);
    let node = st.node.clone();
    blocking(move || {
        node.stop_run_all(Duration::from_secs(secs));
        Ok(())
    })
    .await?;
    Ok(Json(json!({"message": "OK"})))
}

async fn delete_sinks(State(st): State<AppState>) -> ApiResult<Json<Value>> {
    let node = st.node.clone();
    let deleted = blocking(move || Ok(node.delete_all_sink_datasets()?)).await?;
    Ok(Json(json!({"message": "OK", "deleted_datasets": deleted})))
}
