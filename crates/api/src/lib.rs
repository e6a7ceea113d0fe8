//! pumphouse's service API: Sesam's REST API under `/api` (sesam-spec section 10, and exactly
//! what sesam-py sends, see shared/reference/sesam-py.md) as an axum router over the
//! runtime's `Node`.
//!
//! Routes live in `routes/`, one file per group; each file has `pub fn routes(r: Routes) ->
//! Routes` that adds its endpoints with a method, path, summary and required role. The same
//! table builds the router, the role checks and the OpenAPI document (`/api/reference`), so
//! the three cannot drift apart. A new group (e.g. receivers) is one new file plus one line in
//! `routes/mod.rs`.

pub mod auth;
pub mod error;
pub mod openapi;
pub mod routes;
pub mod util;
pub mod zip;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;
use pumphouse_runtime::node::Node;

pub use auth::{Auth, Role};
pub use error::{ApiError, ApiResult};

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub node: Arc<Node>,
    pub auth: Arc<Auth>,
    /// `status.developer_mode` in `GET /api/` (sesam-py refuses most commands without it).
    pub developer_mode: bool,
}

/// One documented endpoint.
#[derive(Clone, Debug)]
pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub role: Role,
}

/// The route table: the axum method routers per path and their documentation.
#[derive(Default)]
pub struct Routes {
    paths: BTreeMap<&'static str, MethodRouter<AppState>>,
    pub docs: Vec<RouteDoc>,
}

impl Routes {
    /// Adds `method path` (axum path syntax, `{id}` for parameters).
    pub fn add<H, T>(
        mut self,
        method: &'static str,
        path: &'static str,
        role: Role,
        summary: &'static str,
        h: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match method {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "PUT" => MethodFilter::PUT,
            "PATCH" => MethodFilter::PATCH,
            "DELETE" => MethodFilter::DELETE,
            m => panic!("unsupported method {m} for {path}"),
        };
        let mr = self.paths.remove(path).unwrap_or_default();
        let handler = axum::routing::on(filter, h)
            .route_layer(axum::middleware::from_fn_with_state(role, auth::require));
        self.paths.insert(path, mr.merge(handler));
        self.docs.push(RouteDoc {
            method,
            path,
            summary,
            role,
        });
        self
    }

    fn into_router(self) -> Router<AppState> {
        self.paths
            .into_iter()
            .fold(Router::new(), |r, (p, mr)| r.route(p, mr))
    }
}

/// Every route of the API.
pub fn routes() -> Routes {
    routes::all(Routes::default())
}

/// The largest request body (config uploads, receiver batches).
pub const MAX_BODY: usize = 512 << 20;

/// The router, ready to serve.
pub fn router(state: AppState) -> Router {
    let table = routes();
    let doc = Arc::new(openapi::document(&table.docs));
    table
        .into_router()
        .route(
            "/api/reference",
            axum::routing::get(move || {
                let d = doc.clone();
                async move { axum::Json((*d).clone()) }
            }),
        )
        .fallback(|uri: axum::http::Uri| async move {
            ApiError::not_found(format!(
                "no such endpoint: {}; see /api/reference for the API",
                uri.path()
            ))
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}
