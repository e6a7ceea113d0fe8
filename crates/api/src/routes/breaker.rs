//! `POST /api/datasets/{id}` with `operation=rollback-circuit-breaker` or
//! `commit-circuit-breaker`: resolves a tripped circuit breaker (sesam-spec 2.5). Rollback
//! drops the held-back versions and puts the writing pipe back where its run started;
//! commit makes them visible. 409 when the breaker is not tripped or a run holds the dataset.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::{Form, Json};
use serde_json::{json, Value};

use crate::util::blocking;
use crate::{ApiError, ApiResult, AppState, Role, Routes};

pub fn routes(r: Routes) -> Routes {
    r.add(
        "POST",
        "/api/datasets/{id}",
        Role::Admin,
        "Form operation=rollback-circuit-breaker|commit-circuit-breaker",
        operation,
    )
}

async fn operation(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let op = f.get("operation").cloned().unwrap_or_default();
    let node = st.node.clone();
    blocking(move || {
        if node.store.dataset_info(&id)?.is_none() {
            return Err(ApiError::not_found(format!(
                "no dataset {id:?}; GET /api/datasets lists them"
            )));
        }
        let st = match op.as_str() {
            "rollback-circuit-breaker" => node.store.rollback_circuit_breaker(&id)?,
            "commit-circuit-breaker" => node.store.commit_circuit_breaker(&id)?,
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown dataset operation {other:?}; use operation=rollback-circuit-breaker or operation=commit-circuit-breaker"
                )))
            }
        };
        tracing::info!(dataset = %id, pipe = %st.pipe, versions = st.written, "{op}");
        // The pipe may run again; let the scheduler look at it.
        node.wake.notify_one();
        Ok(Json(json!({
            "message": "OK",
            "operation": op,
            "pipe": st.pipe,
            "versions": st.written,
        })))
    })
    .await
}
