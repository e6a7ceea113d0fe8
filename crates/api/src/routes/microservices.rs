//! `/api/systems/{id}/status`, `/logs` and `/proxy/{path}` of microservice systems (sesam-spec
//! 8.3): whether the service runs, its last log lines (secrets redacted), and requests
//! forwarded to it.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::util::blocking;
use crate::{ApiError, ApiResult, AppState, Role, Routes};

pub fn routes(r: Routes) -> Routes {
    let mut r = r
        .add(
            "GET",
            "/api/systems/{id}/status",
            Role::ReadOnly,
            "Whether a microservice runs",
            status,
        )
        .add(
            "GET",
            "/api/systems/{id}/logs",
            Role::ReadOnly,
            "A microservice's last log lines",
            logs,
        );
    for (m, role) in [
        ("GET", Role::ReadOnly),
        ("POST", Role::Admin),
        ("PUT", Role::Admin),
        ("PATCH", Role::Admin),
        ("DELETE", Role::Admin),
    ] {
        r = r.add(
            m,
            "/api/systems/{id}/proxy/{*path}",
            role,
            "A request forwarded to a microservice",
            proxy,
        );
    }
    r
}

fn slot(
    st: &AppState,
    id: &str,
) -> ApiResult<std::sync::Arc<std::sync::Mutex<pumphouse_runtime::node::services::Slot>>> {
    st.node
        .service(id)
        .ok_or_else(|| ApiError::not_found(format!("no microservice system {id:?}")))
}

async fn status(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let s = slot(&st, &id)?;
    let g = s.lock().unwrap_or_else(|p| p.into_inner());
    Ok(Json(match &g.service {
        Some(svc) => {
            let s = svc.status();
            json!({"running": s.running, "pid": s.pid, "port": s.port, "restarts": s.restarts,
                   "started_at": s.started_at.map(|t| t.format()), "last_exit": s.last_exit,
                   "base_url": svc.base_url()})
        }
        None => {
            json!({"running": false, "error": g.error.clone().unwrap_or_else(|| "starting".into())})
        }
    }))
}

async fn logs(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> ApiResult<Response> {
    let s = slot(&st, &id)?;
    let since = q
        .get("since")
        .and_then(|t| pumphouse_value::DateTime::parse(t));
    let g = s.lock().unwrap_or_else(|p| p.into_inner());
    let mut out = String::new();
    if let Some(svc) = &g.service {
        for l in svc.logs() {
            if since.is_some_and(|t| l.timestamp.as_nanos() <= t.as_nanos()) {
                continue;
            }
            out.push_str(&format!("{} {}\n", l.timestamp.format(), l.text));
        }
    } else if let Some(e) = &g.error {
        out.push_str(&pumphouse_core::secrets::redact(e));
        out.push('\n');
    }
    Ok(([("content-type", "text/plain; charset=utf-8")], out).into_response())
}

async fn proxy(
    State(st): State<AppState>,
    Path((id, path)): Path<(String, String)>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let s = slot(&st, &id)?;
    let base = {
        let g = s.lock().unwrap_or_else(|p| p.into_inner());
        match &g.service {
            Some(svc) => svc.base_url(),
            None => {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("microservice {id:?} is not running"),
                ))
            }
        }
    };
    let url = match uri.query() {
        Some(q) => format!("{base}{path}?{q}"),
        None => format!("{base}{path}"),
    };
    let ctype = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let m = reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap_or(reqwest::Method::GET);
    let (status, ct, bytes) = blocking(move || {
        let c = reqwest::blocking::Client::new();
        let mut rb = c.request(m, &url).body(body.to_vec());
        if let Some(ct) = ctype {
            rb = rb.header("content-type", ct);
        }
        let resp = rb.send().map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("microservice {id:?} did not answer: {e}"),
            )
        })?;
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = resp
            .bytes()
            .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, e.to_string()))?;
        Ok((status, ct, bytes.to_vec()))
    })
    .await?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    Ok((status, [("content-type", ct)], bytes).into_response())
}
