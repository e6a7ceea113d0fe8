//! `/api/systems`: list, get, create, delete and per-system config. Secrets, status and proxy
//! routes belong to the connector runtime and live in their own files.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use pumphouse_runtime::node::config::entity_id;
use pumphouse_runtime::node::Loaded;
use serde_json::{json, Value};

use super::pipes::{create_entities, put_entity};
use crate::util::{blocking, qbool, JsonBody, Query as Q};
use crate::{ApiError, ApiResult, AppState, Role, Routes};

pub fn routes(r: Routes) -> Routes {
    r.add("GET", "/api/systems", Role::ReadOnly, "All systems", list)
        .add(
            "POST",
            "/api/systems",
            Role::Admin,
            "Add systems (a config or an array); 409 if one exists",
            create,
        )
        .add(
            "GET",
            "/api/systems/{id}",
            Role::ReadOnly,
            "One system",
            get_system,
        )
        .add(
            "DELETE",
            "/api/systems/{id}",
            Role::Admin,
            "Remove a system",
            delete_system,
        )
        .add(
            "GET",
            "/api/systems/{id}/config",
            Role::ReadOnly,
            "The system's config as uploaded",
            get_config,
        )
        .add(
            "PUT",
            "/api/systems/{id}/config",
            Role::Admin,
            "Replace the system's config",
            put_config,
        )
}

fn system_object(l: &Loaded, e: &Value) -> Value {
    let id = entity_id(e).unwrap_or_default();
    let eff = l
        .project
        .systems
        .iter()
        .find(|s| s.id == id)
        .map_or(e.clone(), |s| s.config.clone());
    json!({
        "_id": id,
        "type": e.get("type"),
        "config": {"original": e, "effective": eff},
        "runtime": {"is-valid-config": !l.invalid.contains_key(id), "config-errors": l.errors_of(id)},
    })
}

fn find<'a>(l: &'a Loaded, id: &str) -> ApiResult<&'a Value> {
    l.of_kind("system")
        .find(|e| entity_id(e) == Some(id))
        .ok_or_else(|| ApiError::not_found(format!("no system with _id {id:?}")))
}

async fn list(State(st): State<AppState>) -> Json<Value> {
    let l = st.node.loaded();
    Json(Value::Array(
        l.of_kind("system").map(|e| system_object(&l, e)).collect(),
    ))
}

async fn get_system(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let l = st.node.loaded();
    Ok(Json(system_object(&l, find(&l, &id)?)))
}

async fn create(
    State(st): State<AppState>,
    Query(q): Query<Q>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let force = qbool(&q, "force", false)?;
    let created = create_entities(st.node.clone(), body, force, "system").await?;
    let l = st.node.loaded();
    let out: Vec<Value> = created.iter().map(|e| system_object(&l, e)).collect();
    Ok((StatusCode::CREATED, Json(Value::Array(out))).into_response())
}

async fn delete_system(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    find(&st.node.loaded(), &id)?;
    let node = st.node.clone();
    blocking(move || Ok(node.edit_entity(&id, None, false)?)).await?;
    Ok(Json(json!({"message": "OK"})))
}

async fn get_config(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(find(&st.node.loaded(), &id)?.clone()))
}

async fn put_config(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Q>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let force = qbool(&q, "force", false)?;
    let l = put_entity(st.node.clone(), id.clone(), body, force, "system").await?;
    Ok(Json(system_object(&l, find(&l, &id)?)))
}
