//! `/api/secrets` and `/api/systems/{id}/secrets` (sesam-spec 8.5, 10.5): secret names can be
//! listed, values set (PUT replaces all, POST merges) and deleted, never read. A change
//! reloads the config so `$SECRET(...)` in systems takes the new values.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;

use crate::util::{blocking, JsonBody};
use crate::{ApiError, ApiResult, AppState, Role, Routes};

pub fn routes(r: Routes) -> Routes {
    r.add(
        "GET",
        "/api/secrets",
        Role::ReadOnly,
        "The names of the global secrets",
        list,
    )
    .add(
        "PUT",
        "/api/secrets",
        Role::Admin,
        "Replace all global secrets",
        put,
    )
    .add(
        "POST",
        "/api/secrets",
        Role::Admin,
        "Add or overwrite global secrets",
        post,
    )
    .add(
        "DELETE",
        "/api/secrets/{key}",
        Role::Admin,
        "Delete a global secret",
        delete,
    )
    .add(
        "GET",
        "/api/systems/{id}/secrets",
        Role::ReadOnly,
        "The names of a system's secrets",
        list_sys,
    )
    .add(
        "PUT",
        "/api/systems/{id}/secrets",
        Role::Admin,
        "Replace a system's secrets",
        put_sys,
    )
    .add(
        "POST",
        "/api/systems/{id}/secrets",
        Role::Admin,
        "Add or overwrite a system's secrets",
        post_sys,
    )
    .add(
        "DELETE",
        "/api/systems/{id}/secrets/{key}",
        Role::Admin,
        "Delete a system's secret",
        delete_sys,
    )
}

fn values(v: Value) -> ApiResult<BTreeMap<String, String>> {
    let Value::Object(m) = v else {
        return Err(ApiError::bad_request(
            "the body must be a JSON object of name → value, e.g. {\"api-key\": \"...\"}",
        ));
    };
    m.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            _ => Err(ApiError::bad_request(format!(
                "the value of secret {k:?} must be a string"
            ))),
        })
        .collect()
}

fn names(v: Vec<String>) -> Json<Value> {
    Json(Value::Array(v.into_iter().map(Value::String).collect()))
}

async fn set(
    st: AppState,
    system: Option<String>,
    body: Value,
    replace: bool,
) -> ApiResult<Json<Value>> {
    let vals = values(body)?;
    let n = st.node.clone();
    let out = blocking(move || Ok(n.set_secrets(system.as_deref(), vals, replace)?)).await?;
    Ok(names(out))
}

async fn list(State(st): State<AppState>) -> ApiResult<Json<Value>> {
    let n = st.node.clone();
    Ok(names(blocking(move || Ok(n.secret_names(None)?)).await?))
}

async fn put(State(st): State<AppState>, JsonBody(v): JsonBody) -> ApiResult<Json<Value>> {
    set(st, None, v, true).await
}

async fn post(State(st): State<AppState>, JsonBody(v): JsonBody) -> ApiResult<Json<Value>> {
    set(st, None, v, false).await
}

async fn delete(State(st): State<AppState>, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let n = st.node.clone();
    blocking(move || Ok(n.delete_secret(None, &key)?)).await?;
    Ok(Json(Value::Object(Default::default())))
}

fn known_system(st: &AppState, id: &str) -> ApiResult<()> {
    if st.node.loaded().project.systems.iter().any(|s| s.id == id) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no system {id:?}")))
    }
}

async fn list_sys(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    known_system(&st, &id)?;
    let n = st.node.clone();
    Ok(names(
        blocking(move || Ok(n.secret_names(Some(&id))?)).await?,
    ))
}

async fn put_sys(
    State(st): State<AppState>,
    Path(id): Path<String>,
    JsonBody(v): JsonBody,
) -> ApiResult<Json<Value>> {
    known_system(&st, &id)?;
    set(st, Some(id), v, true).await
}

async fn post_sys(
    State(st): State<AppState>,
    Path(id): Path<String>,
    JsonBody(v): JsonBody,
) -> ApiResult<Json<Value>> {
    known_system(&st, &id)?;
    set(st, Some(id), v, false).await
}

async fn delete_sys(
    State(st): State<AppState>,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let n = st.node.clone();
    blocking(move || Ok(n.delete_secret(Some(&id), &key)?)).await?;
    Ok(Json(Value::Object(Default::default())))
}
