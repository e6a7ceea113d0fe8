//! `/api/env`: the node's environment variables for `$ENV(...)`. PUT replaces all (sesam-py
//! wipes with `{}`), POST and PATCH merge, DELETE removes one. The config is re-evaluated.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{Map, Value};

use crate::util::{blocking, JsonBody};
use crate::{ApiError, ApiResult, AppState, Role, Routes};

pub fn routes(r: Routes) -> Routes {
    r.add(
        "GET",
        "/api/env",
        Role::ReadOnly,
        "The environment variables",
        get_env,
    )
    .add(
        "PUT",
        "/api/env",
        Role::Admin,
        "Replace all environment variables",
        put_env,
    )
    .add(
        "POST",
        "/api/env",
        Role::Admin,
        "Add or overwrite environment variables",
        merge_env,
    )
    .add(
        "PATCH",
        "/api/env",
        Role::Admin,
        "Add or overwrite environment variables",
        merge_env,
    )
    .add(
        "DELETE",
        "/api/env/{name}",
        Role::Admin,
        "Remove one environment variable",
        delete_env,
    )
}

fn object(v: Value) -> ApiResult<Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(ApiError::bad_request(format!(
            "the body must be a JSON object of name → value, e.g. {{\"node-env\": \"test\"}}, not {}",
            crate::routes::config::kind(&other)
        ))),
    }
}

async fn get_env(axum::extract::State(st): State<AppState>) -> Json<Value> {
    Json(Value::Object(st.node.loaded().env.clone()))
}

async fn put_env(State(st): State<AppState>, JsonBody(v): JsonBody) -> ApiResult<Json<Value>> {
    let m = object(v)?;
    let n = st.node.clone();
    Ok(Json(Value::Object(
        blocking(move || Ok(n.set_env(m, true)?)).await?,
    )))
}

async fn merge_env(State(st): State<AppState>, JsonBody(v): JsonBody) -> ApiResult<Json<Value>> {
    let m = object(v)?;
    let n = st.node.clone();
    Ok(Json(Value::Object(
        blocking(move || Ok(n.set_env(m, false)?)).await?,
    )))
}

async fn delete_env(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let n = st.node.clone();
    Ok(Json(Value::Object(
        blocking(move || Ok(n.delete_env(&name)?)).await?,
    )))
}
