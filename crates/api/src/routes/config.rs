//! `/api/config`: the whole configuration. GET gives a JSON array, or with
//! `Accept: application/zip` sesam-py's zip (`node-metadata.conf.json`, `pipes/<id>.conf.json`,
//! `systems/<id>.conf.json`). PUT replaces everything (pipes and systems missing from the upload
//! are removed); the body is a JSON array or object, a zip, or either as the multipart field
//! `file` sesam-py sends. 400 with `validation_errors` unless `force=true`.

use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::util::{blocking, qbool, Query as Q};
use crate::{zip, ApiError, ApiResult, AppState, Role, Routes};
use pumphouse_runtime::node::config::{entity_id, kind_of};

pub fn routes(r: Routes) -> Routes {
    r.add("GET", "/api/config", Role::ReadOnly, "The whole config as a JSON array, or a zip with Accept: application/zip", get_config)
        .add("PUT", "/api/config", Role::Admin, "Replace the whole config (JSON array, zip, or multipart field file); force=true applies valid parts", put_config)
}

/// A JSON value's kind, for error messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The archive name of an entity in sesam-py's layout.
fn zip_name(e: &Value) -> Option<String> {
    let id = entity_id(e)?;
    match kind_of(e) {
        "metadata" => Some("node-metadata.conf.json".into()),
        "pipe" => Some(format!("pipes/{id}.conf.json")),
        "system" => Some(format!("systems/{id}.conf.json")),
        _ => None,
    }
}

async fn get_config(State(st): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let l = st.node.loaded();
    let wants_zip = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/zip"));
    if !wants_zip {
        return Json(Value::Array(l.entities.clone())).into_response();
    }
    let files: Vec<(String, Vec<u8>)> = l
        .entities
        .iter()
        .filter_map(|e| Some((zip_name(e)?, serde_json::to_vec_pretty(e).ok()?)))
        .collect();
    (
        [(header::CONTENT_TYPE, "application/zip")],
        zip::write(&files),
    )
        .into_response()
}

/// Config entities from an uploaded body (JSON or zip bytes).
pub fn parse_upload(bytes: &[u8]) -> ApiResult<Vec<Value>> {
    let parse = |b: &[u8], what: &str| -> ApiResult<Vec<Value>> {
        let b = b.strip_prefix("\u{feff}".as_bytes()).unwrap_or(b);
        match serde_json::from_slice::<Value>(b) {
            Ok(Value::Array(a)) => Ok(a),
            Ok(v @ Value::Object(_)) => Ok(vec![v]),
            Ok(other) => Err(ApiError::bad_request(format!(
                "{what} holds {}; it must be a config entity or an array of them",
                kind(&other)
            ))),
            Err(e) => Err(ApiError::bad_request(format!(
                "{what} is not valid JSON: {e}"
            ))),
        }
    };
    if zip::is_zip(bytes) {
        let mut out = vec![];
        for (name, data) in zip::read(bytes).map_err(ApiError::bad_request)? {
            if name.ends_with(".json") {
                out.extend(parse(&data, &format!("{name} in the zip"))?);
            }
        }
        Ok(out)
    } else {
        parse(bytes, "the uploaded config")
    }
}

/// The uploaded bytes: the multipart field `file`, or the body itself.
pub async fn upload_bytes(req: Request) -> ApiResult<Vec<u8>> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    if !is_multipart {
        return axum::body::to_bytes(req.into_body(), usize::MAX)
            .await
            .map(|b| b.to_vec())
            .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")));
    }
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::bad_request(format!("bad multipart body: {e}")))?;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("bad multipart body: {e}")))?
    {
        if field.name() == Some("file") {
            return field.bytes().await.map(|b| b.to_vec()).map_err(|e| {
                ApiError::bad_request(format!("cannot read the multipart field \"file\": {e}"))
            });
        }
    }
    Err(ApiError::bad_request(
        "the multipart body has no field named \"file\"; send the config zip or JSON array as field \"file\"",
    ))
}

async fn put_config(
    State(st): State<AppState>,
    Query(q): Query<Q>,
    req: Request,
) -> ApiResult<Json<Value>> {
    let force = qbool(&q, "force", false)?;
    let entities = parse_upload(&upload_bytes(req).await?)?;
    let node = st.node.clone();
    let l = blocking(move || Ok(node.replace(entities, None, force)?)).await?;
    let errors: Vec<Value> = l
        .invalid
        .iter()
        .map(|(id, errs)| json!({"posted-config": l.entity(id).cloned().unwrap_or(json!({"_id": id})), "config-errors": errs}))
        .collect();
    Ok(Json(json!({"validation_errors": errors})))
}
