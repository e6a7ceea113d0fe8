//! `/api/datasets`: list, get, delete, the entities as a JSON pull stream (since, limit,
//! history, deleted; `X-Dataset-*` headers; constant memory however large the dataset), and
//! one entity by `_id`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use pumphouse_runtime::node::Node;
use pumphouse_store::{DatasetInfo, ReadIter, ReadOptions};
use pumphouse_value::transit;
use serde_json::{json, Value};

use crate::util::{blocking, qbool, qnum, stream_body, Query as Q};
use crate::{ApiError, ApiResult, AppState, Role, Routes};

pub fn routes(r: Routes) -> Routes {
    r.add(
        "GET",
        "/api/datasets",
        Role::ReadOnly,
        "All datasets (include-internal-datasets=true adds system:*)",
        list,
    )
    .add(
        "GET",
        "/api/datasets/{id}",
        Role::ReadOnly,
        "One dataset with its counts",
        get_dataset,
    )
    .add(
        "DELETE",
        "/api/datasets/{id}",
        Role::Admin,
        "Delete a dataset and all its data",
        delete_dataset,
    )
    .add(
        "GET",
        "/api/datasets/{id}/entities",
        Role::ReadOnly,
        "Entities as a JSON array: since, limit, history, deleted, uncommitted",
        entities,
    )
    .add(
        "GET",
        "/api/datasets/{id}/entity",
        Role::ReadOnly,
        "The latest version of one entity (entity_id=, uncommitted)",
        entity,
    )
}

fn object(i: &DatasetInfo) -> Value {
    let mut o = json!({
        "_id": i.id,
        "type": "dataset",
        "runtime": {
            "populated": i.populated,
            "count-index-exists": i.live_count,
            "count-log-exists": i.version_count,
            "last-offset": i.last_offset,
            "queues": {},
        }
    });
    if let Some(cb) = &i.circuit_breaker {
        o["runtime"]["circuit-breaker"] = json!({
            "tripped": cb.tripped,
            "uncommitted": cb.held_back,
            "limit": cb.limit,
            "message": cb.message,
        });
    }
    o
}

fn info(node: &Node, id: &str) -> ApiResult<DatasetInfo> {
    node.store.dataset_info(id)?.ok_or_else(|| {
        ApiError::not_found(format!("no dataset {id:?}; GET /api/datasets lists them"))
    })
}

async fn list(State(st): State<AppState>, Query(q): Query<Q>) -> ApiResult<Json<Value>> {
    let internal = qbool(&q, "include-internal-datasets", false)?;
    let node = st.node.clone();
    blocking(move || {
        let mut out = vec![];
        for id in node.store.dataset_ids()? {
            if !internal && id.starts_with("system:") {
                continue;
            }
            if let Some(i) = node.store.dataset_info(&id)? {
                out.push(object(&i));
            }
        }
        Ok(Json(Value::Array(out)))
    })
    .await
}

async fn get_dataset(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let node = st.node.clone();
    blocking(move || Ok(Json(object(&info(&node, &id)?)))).await
}

async fn delete_dataset(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let node = st.node.clone();
    blocking(move || {
        info(&node, &id)?;
        node.store.delete_dataset(&id)?;
        Ok(Json(json!({"message": "OK"})))
    })
    .await
}

/// Bytes per chunk sent to the client.
const CHUNK: usize = 64 * 1024;

/// Streams a dataset as a JSON array (404 if it does not exist, unless `allow_missing`, which
/// gives `[]`).
pub async fn stream_entities(
    node: Arc<Node>,
    id: String,
    opts: ReadOptions,
    must_exist: bool,
    uncommitted: bool,
) -> ApiResult<Response> {
    let n = node.clone();
    let id2 = id.clone();
    let found = blocking(move || Ok(n.store.dataset_info(&id2)?)).await?;
    let Some(i) = found else {
        if must_exist {
            return Err(ApiError::not_found(format!(
                "no dataset {id:?}; GET /api/datasets lists them"
            )));
        }
        return Ok(([(header::CONTENT_TYPE, "application/json")], "[]").into_response());
    };
    let body = stream_body(move |send| {
        let mut iter = match node.store.read_view(&id, opts, uncommitted) {
            Ok(it) => it,
            Err(e) => {
                tracing::error!(dataset = %id, "cannot read: {e}");
                return;
            }
        };
        // Stored records are written as JSON text directly (no `Value` in between).
        let mut buf = Vec::with_capacity(CHUNK + 4096);
        buf.push(b'[');
        let mut first = true;
        loop {
            let written = iter.next_raw().and_then(|r| match r {
                Some((offset, record)) => {
                    buf.extend_from_slice(if first { b"\n" } else { b",\n" });
                    ReadIter::write_json(offset, &record, &mut buf).map(|_| true)
                }
                None => Ok(false),
            });
            match written {
                Ok(true) => first = false,
                Ok(false) => break,
                Err(e) => {
                    // The array stays unclosed, so the client sees a broken response.
                    tracing::error!(dataset = %id, "read failed mid-stream: {e}");
                    return;
                }
            }
            if buf.len() >= CHUNK && !send(Bytes::from(std::mem::take(&mut buf))) {
                return;
            }
            if buf.capacity() == 0 {
                buf.reserve(CHUNK + 4096);
            }
        }
        buf.extend_from_slice(b"\n]\n");
        send(Bytes::from(buf));
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::HeaderName::from_static("x-dataset-populated"),
                i.populated.to_string(),
            ),
            (
                header::HeaderName::from_static("x-dataset-last-offset"),
                i.last_offset.map_or(String::new(), |o| o.to_string()),
            ),
            (
                header::HeaderName::from_static("x-dataset-count"),
                i.live_count.to_string(),
            ),
        ],
        body,
    )
        .into_response())
}

async fn entities(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    if qbool(&q, "reverse", false)? {
        return Err(ApiError::bad_request(
            "reverse=true is not supported yet; read forward with since and limit",
        ));
    }
    let opts = ReadOptions {
        since: qnum(&q, "since")?,
        limit: qnum(&q, "limit")?,
        history: qbool(&q, "history", true)?,
        deleted: qbool(&q, "deleted", true)?,
    };
    if qbool(&q, "populated", false)? {
        let n = st.node.clone();
        let id2 = id.clone();
        if !blocking(move || Ok(info(&n, &id2)?.populated)).await? {
            return Err(ApiError::not_found(format!(
                "dataset {id:?} is not populated yet"
            )));
        }
    }
    let uncommitted = qbool(&q, "uncommitted", false)?;
    stream_entities(st.node.clone(), id, opts, true, uncommitted).await
}

async fn entity(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Json<Value>> {
    let eid = q
        .get("entity_id")
        .cloned()
        .ok_or_else(|| ApiError::bad_request("give the entity's _id as entity_id=..."))?;
    let uncommitted = qbool(&q, "uncommitted", false)?;
    let node = st.node.clone();
    blocking(move || {
        info(&node, &id)?;
        let e = node
            .store
            .get_view(&id, &eid, uncommitted)?
            .ok_or_else(|| ApiError::not_found(format!("dataset {id:?} has no entity {eid:?}")))?;
        Ok(Json(transit::to_json(&e)))
    })
    .await
}
