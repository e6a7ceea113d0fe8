//! Small helpers shared by the route modules: running node calls off the async threads,
//! Sesam's query booleans (`True`/`false`/`1`), and streaming a body from a thread.

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body::Frame;
use tokio::sync::mpsc;

use crate::error::{ApiError, ApiResult};

/// Runs blocking node work on tokio's blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("request handler panicked: {e}"),
        ))
    })
}

pub type Query = HashMap<String, String>;

/// A boolean query parameter: `true`/`True`/`1` or `false`/`False`/`0`; `default` if absent.
pub fn qbool(q: &Query, name: &str, default: bool) -> ApiResult<bool> {
    match q.get(name).map(|s| s.to_ascii_lowercase()) {
        None => Ok(default),
        Some(s) if s == "true" || s == "1" || s.is_empty() => Ok(true),
        Some(s) if s == "false" || s == "0" => Ok(false),
        Some(s) => Err(ApiError::bad_request(format!(
            "query parameter {name}={s:?} must be true or false"
        ))),
    }
}

/// A numeric query parameter.
pub fn qnum<T: std::str::FromStr>(q: &Query, name: &str) -> ApiResult<Option<T>> {
    match q.get(name).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "query parameter {name}={s:?} must be a whole number"
            ))
        }),
    }
}

/// A response body fed by a producer thread through a small bounded channel, so memory stays
/// flat however much is streamed and a slow client slows the producer down.
pub struct ChannelBody(mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

/// Spawns `produce` on a thread; it sends chunks with the given function until it returns.
pub fn stream_body(produce: impl FnOnce(&dyn Fn(Bytes) -> bool) + Send + 'static) -> Body {
    let (tx, rx) = mpsc::channel::<Bytes>(8);
    std::thread::spawn(move || {
        let send = |b: Bytes| tx.blocking_send(b).is_ok();
        produce(&send);
    });
    Body::new(ChannelBody(rx))
}

/// A JSON request body, whatever the Content-Type says, with a JSON error (line and column)
/// when it does not parse. A UTF-8 BOM is ignored.
pub struct JsonBody(pub serde_json::Value);

impl<S: Send + Sync> axum::extract::FromRequest<S> for JsonBody {
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let b = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
        let b = b.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&b);
        serde_json::from_slice(b)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
    }
}
