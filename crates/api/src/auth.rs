//! Authentication: `Authorization: Bearer <JWT>` signed with HS256 (a shared key), or tokens
//! listed in a file, each with a role. `Role::Admin` may do everything, `Role::ReadOnly` only
//! reads. With `Auth::None` (loopback only; `serve` says so at start) every caller is admin and
//! any token is accepted, which is what sesam-py's dummy JWT needs. Tokens are never logged.

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::error::ApiError;
use crate::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    ReadOnly,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::ReadOnly => "read-only",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" | "group:Admin" => Some(Role::Admin),
            "read-only" | "readonly" | "group:Developer" | "group:Guest" | "group:User" => {
                Some(Role::ReadOnly)
            }
            _ => None,
        }
    }
}

pub enum Auth {
    /// No checks (loopback only).
    None,
    /// HS256 JWTs signed with this key, plus optional static tokens.
    Jwt {
        key: Option<Vec<u8>>,
        tokens: HashMap<String, Role>,
    },
}

fn b64(s: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| "the token is not base64url".to_string())
}

/// Signs `claims` as an HS256 JWT (for `pumphouse token` and tests).
pub fn sign(key: &[u8], claims: &Value) -> String {
    let e = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let head = e(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = e(claims.to_string().as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac accepts any key length");
    mac.update(format!("{head}.{body}").as_bytes());
    format!("{head}.{body}.{}", e(&mac.finalize().into_bytes()))
}

impl Auth {
    /// Reads a token file: one `<role> <token>` per line (`#` comments).
    pub fn parse_token_file(text: &str) -> Result<HashMap<String, Role>, String> {
        let mut out = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (role, token) = line.split_once(char::is_whitespace).ok_or_else(|| {
                format!(
                    "line {}: expected \"<role> <token>\", e.g. \"admin s3cret\"",
                    n + 1
                )
            })?;
            let role = Role::parse(role).ok_or_else(|| {
                format!("line {}: role {role:?} is not admin or read-only", n + 1)
            })?;
            out.insert(token.trim().to_string(), role);
        }
        Ok(out)
    }

    /// The role of a bearer token, or why it is refused.
    pub fn check(&self, token: Option<&str>, now_secs: i64) -> Result<Role, String> {
        let Auth::Jwt { key, tokens } = self else {
            return Ok(Role::Admin);
        };
        let token = token.ok_or("missing \"Authorization: Bearer <token>\" header")?;
        if let Some(r) = tokens.get(token) {
            return Ok(*r);
        }
        let key = key.as_ref().ok_or("unknown token")?;
        let parts: Vec<&str> = token.split('.').collect();
        let [head, body, sig] = parts[..] else {
            return Err("unknown token (not a JWT)".into());
        };
        let header: Value = serde_json::from_slice(&b64(head)?).map_err(|_| "bad JWT header")?;
        if header.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err("the JWT must be signed with HS256".into());
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| "bad key")?;
        mac.update(format!("{head}.{body}").as_bytes());
        mac.verify_slice(&b64(sig)?)
            .map_err(|_| "the JWT signature does not match the node's key")?;
        let claims: Value = serde_json::from_slice(&b64(body)?).map_err(|_| "bad JWT payload")?;
        if let Some(exp) = claims.get("exp").and_then(Value::as_i64) {
            if exp < now_secs {
                return Err("the JWT has expired".into());
            }
        }
        let role = claims
            .get("role")
            .and_then(Value::as_str)
            .and_then(Role::parse)
            .or_else(|| {
                let p = claims.get("principals")?.as_object()?;
                p.values()
                    .flat_map(|v| v.as_array().cloned().unwrap_or_default())
                    .filter_map(|g| g.as_str().and_then(Role::parse))
                    .max()
            })
            .unwrap_or(Role::ReadOnly);
        Ok(role)
    }
}

/// Outer layer: finds the caller's role (401 if the token is refused).
pub async fn authenticate(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim())
        .map(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .unwrap_or(v)
                .trim_matches('"')
                .to_string()
        });
    let now = st.node.clock.now_micros() / 1_000_000;
    match st.auth.check(token.as_deref(), now) {
        Ok(role) => {
            req.extensions_mut().insert(role);
            next.run(req).await
        }
        Err(why) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            format!("not authenticated: {why}"),
        )
        .into_response(),
    }
}

/// Per-route layer: the caller's role must be at least `need` (403 otherwise).
pub async fn require(State(need): State<Role>, req: Request, next: Next) -> Response {
    let have = req
        .extensions()
        .get::<Role>()
        .copied()
        .unwrap_or(Role::ReadOnly);
    if have < need {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this operation needs the {} role; the token has {}",
                need.as_str(),
                have.as_str()
            ),
        )
        .into_response();
    }
    next.run(req).await
}
