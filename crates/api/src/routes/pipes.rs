//! `/api/pipes`: list, get, create, delete, per-pipe config, the pipe's output
//! (`/entities?stage=`) and its execution log (`/log`). The pipe object has `config.original`,
//! `config.effective` (with Sesam's default dataset source and sink) and `runtime` as sesam-py
//! reads them (sesam-py.md 3.1).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use pumphouse_runtime::node::config::{effective, entity_id};
use pumphouse_runtime::node::{Loaded, Node};
use serde_json::{json, Value};

use super::datasets::stream_entities;
use crate::util::{blocking, qbool, qnum, JsonBody, Query as Q};
use crate::{ApiError, ApiResult, AppState, Role, Routes};

pub fn routes(r: Routes) -> Routes {
    r.add("GET", "/api/pipes", Role::ReadOnly, "All pipes", list)
        .add(
            "POST",
            "/api/pipes",
            Role::Admin,
            "Add pipes (a config or an array of configs); 409 if one exists",
            create,
        )
        .add(
            "GET",
            "/api/pipes/{id}",
            Role::ReadOnly,
            "One pipe",
            get_pipe,
        )
        .add(
            "DELETE",
            "/api/pipes/{id}",
            Role::Admin,
            "Remove a pipe (its sink dataset stays)",
            delete_pipe,
        )
        .add(
            "GET",
            "/api/pipes/{id}/config",
            Role::ReadOnly,
            "The pipe's config as uploaded",
            get_config,
        )
        .add(
            "PUT",
            "/api/pipes/{id}/config",
            Role::Admin,
            "Replace the pipe's config; force=true applies it even if invalid",
            put_config,
        )
        .add(
            "GET",
            "/api/pipes/{id}/entities",
            Role::ReadOnly,
            "The pipe's output at a stage (source, before-transforms, after-transforms, sink)",
            entities,
        )
        .add(
            "GET",
            "/api/pipes/{id}/log",
            Role::ReadOnly,
            "The execution log (pump-started, pump-completed, pump-failed, ...)",
            log,
        )
}

/// The number of input entities beyond the pipe's offset (for a dataset source).
fn queue(node: &Node, l: &Loaded, id: &str) -> Value {
    let Some(p) = l.project.pipe(id) else {
        return json!(null);
    };
    let Some(ds) = p.source.dataset() else {
        return json!(0);
    };
    let last = node
        .store
        .dataset_info(ds)
        .ok()
        .flatten()
        .and_then(|i| i.last_offset);
    let seen = node
        .store
        .pipe_state(id)
        .ok()
        .and_then(|s| s.last_seen.as_i64());
    json!(match (last, seen) {
        (None, _) => 0,
        (Some(o), None) => o as i64 + 1,
        (Some(o), Some(s)) => (o as i64 - s).max(0),
    })
}

pub fn pipe_object(node: &Node, l: &Loaded, e: &Value) -> Value {
    let id = entity_id(e).unwrap_or_default();
    let valid = l.project.pipe(id);
    let eff = effective(id, valid.map_or(e, |p| &p.config));
    let rt = node.pump(id);
    let info = rt.info.lock().map(|i| i.clone()).unwrap_or_default();
    let deps: Vec<&str> = valid.and_then(|p| p.source.dataset()).into_iter().collect();
    json!({
        "_id": id,
        "type": "pipe",
        "config": {"original": e, "effective": eff},
        "runtime": {
            "state": "Deployed",
            "is-valid-config": !l.invalid.contains_key(id),
            "config-errors": l.errors_of(id),
            "is-running": rt.is_running(),
            "is-disabled": node.is_disabled(id),
            "not-runnable": valid.and_then(|p| p.not_runnable.clone()),
            "execution-dataset": format!("system:pump:{id}"),
            "success": info.success,
            "last-message": info.last_message,
            "last-run": info.last_run,
            "dependencies": deps,
            "queues": {"source": queue(node, l, id), "dependencies": {}},
        }
    })
}

fn find<'a>(l: &'a Loaded, id: &str) -> ApiResult<&'a Value> {
    l.of_kind("pipe")
        .find(|e| entity_id(e) == Some(id))
        .ok_or_else(|| ApiError::not_found(format!("no pipe with _id {id:?}")))
}

async fn list(State(st): State<AppState>) -> ApiResult<Json<Value>> {
    let node = st.node.clone();
    blocking(move || {
        let l = node.loaded();
        Ok(Json(Value::Array(
            l.of_kind("pipe")
                .map(|e| pipe_object(&node, &l, e))
                .collect(),
        )))
    })
    .await
}

async fn get_pipe(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let node = st.node.clone();
    blocking(move || {
        let l = node.loaded();
        Ok(Json(pipe_object(&node, &l, find(&l, &id)?)))
    })
    .await
}

/// Adds new entities of `kind` ("pipe" or "system"): 409 if an id exists.
pub async fn create_entities(
    node: Arc<Node>,
    body: Value,
    force: bool,
    kind: &'static str,
) -> ApiResult<Vec<Value>> {
    let new = match body {
        Value::Array(a) => a,
        v => vec![v],
    };
    blocking(move || {
        let l = node.loaded();
        let mut all = l.entities.clone();
        for e in &new {
            let id = entity_id(e)
                .ok_or_else(|| ApiError::bad_request("every config needs a string \"_id\""))?;
            if pumphouse_runtime::node::config::kind_of(e) != kind {
                return Err(ApiError::bad_request(format!(
                    "{id:?} is not a {kind} config (check its \"type\")"
                )));
            }
            if l.entity(id).is_some() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!("{id:?} exists already; PUT its /config to change it"),
                ));
            }
            all.push(e.clone());
        }
        let l = node.replace(all, None, force)?;
        Ok(new
            .iter()
            .filter_map(|e| l.entity(entity_id(e)?).cloned())
            .collect())
    })
    .await
}

async fn create(
    State(st): State<AppState>,
    Query(q): Query<Q>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let force = qbool(&q, "force", false)?;
    let created = create_entities(st.node.clone(), body, force, "pipe").await?;
    let node = st.node.clone();
    let l = node.loaded();
    let out: Vec<Value> = created.iter().map(|e| pipe_object(&node, &l, e)).collect();
    Ok((StatusCode::CREATED, Json(Value::Array(out))).into_response())
}

async fn delete_pipe(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    find(&st.node.loaded(), &id)?;
    let node = st.node.clone();
    blocking(move || Ok(node.edit_entity(&id, None, true)?)).await?;
    Ok(Json(json!({"message": "OK"})))
}

async fn get_config(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(find(&st.node.loaded(), &id)?.clone()))
}

/// Replaces one entity's config: the body's `_id` must match (or is filled in).
pub async fn put_entity(
    node: Arc<Node>,
    id: String,
    mut body: Value,
    force: bool,
    kind: &'static str,
) -> ApiResult<Arc<Loaded>> {
    let Value::Object(m) = &mut body else {
        return Err(ApiError::bad_request("the body must be the config object"));
    };
    match m.get("_id") {
        None => {
            m.insert("_id".into(), json!(id));
        }
        Some(Value::String(s)) if *s == id => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "the body's _id {other} does not match {id:?} in the URL"
            )))
        }
    }
    if pumphouse_runtime::node::config::kind_of(&body) != kind {
        return Err(ApiError::bad_request(format!(
            "the body is not a {kind} config (check its \"type\")"
        )));
    }
    blocking(move || Ok(node.edit_entity(&id, Some(body), force)?)).await
}

async fn put_config(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Q>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let force = qbool(&q, "force", false)?;
    let l = put_entity(st.node.clone(), id.clone(), body, force, "pipe").await?;
    Ok(Json(pipe_object(&st.node, &l, find(&l, &id)?)))
}

async fn entities(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Json<Value>> {
    let stage = q.get("stage").cloned().unwrap_or_else(|| "sink".into());
    let node = st.node.clone();
    blocking(move || {
        let (l, i) = node.runnable_pipe(&id)?;
        let pipe = &l.project.pipes[i];
        let out = pumphouse_runtime::output::at_stage(&node.store, pipe, &stage)
            .map_err(|e| ApiError::bad_request(e.message))?;
        let json: Vec<Value> = out
            .iter()
            .map(|e| pumphouse_value::transit::to_json(e))
            .collect();
        Ok(Json(Value::Array(json)))
    })
    .await
}

async fn log(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    st.node.pipe_exists(&id)?;
    let opts = pumphouse_store::ReadOptions {
        since: qnum(&q, "since")?,
        limit: qnum(&q, "limit")?,
        history: qbool(&q, "history", true)?,
        deleted: qbool(&q, "deleted", true)?,
    };
    Ok(stream_entities(
        st.node.clone(),
        format!("system:pump:{id}"),
        opts,
        false,
        false,
    )
    .await?)
}
