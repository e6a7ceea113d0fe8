//! The HTTP client of `system:url` and `system:microservice` (sesam-spec 8.2, 8.3): URL
//! resolution, default headers, basic/digest/bearer/OAuth2 client-credentials auth,
//! `verify_ssl`, timeouts, one reused client (connection pool) per system. Also the table of
//! running microservices' addresses, filled by the supervisor.

mod auth;
mod client;
pub mod services;
pub mod stream;

pub use client::{excerpt, HttpClient, HttpFailure};
