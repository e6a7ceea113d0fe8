//! `ApiError`: every failure as JSON `{"message": ..., "status": ...}` with the right status
//! (404 unknown id, 400 bad input, 409 already running, 500 a bug or I/O problem, which is
//! also logged). Rejected configs carry Sesam's `validation_errors`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use pumphouse_runtime::node::NodeError;
use serde_json::{json, Value};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub extra: Option<(&'static str, Value)>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            extra: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> Self {
        match e {
            NodeError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, m),
            NodeError::BadRequest(m) => ApiError::new(StatusCode::BAD_REQUEST, m),
            NodeError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            NodeError::Invalid(v) => ApiError {
                status: StatusCode::BAD_REQUEST,
                message: format!(
                    "the configuration has errors in {} entities and was not applied; fix them (see validation_errors) or upload with force=true",
                    v.len()
                ),
                extra: Some(("validation_errors", Value::Array(v))),
            },
            NodeError::Internal(m) => {
                tracing::error!("internal error: {m}");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m)
            }
        }
    }
}

impl From<pumphouse_store::StoreError> for ApiError {
    fn from(e: pumphouse_store::StoreError) -> Self {
        NodeError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"message": self.message, "status": self.status.as_u16()});
        if let Some((k, v)) = self.extra {
            body[k] = v;
        }
        (self.status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
