//! One `HttpClient` per system, cached for the life of the process so connections are
//! reused across runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pumphouse_core::secrets::redact;
use pumphouse_core::{HttpAuth, HttpBase, HttpSystem};
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::StatusCode;

use super::auth::{self, TokenCache};
use crate::ConnectorError;

pub struct HttpClient {
    pub system: Arc<HttpSystem>,
    client: Client,
    token: TokenCache,
}

/// How long a request waits for a microservice that is still starting.
const SERVICE_START_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Why a request failed: the status (if any answer came) and what to tell the user.
#[derive(Debug)]
pub struct HttpFailure {
    pub status: Option<StatusCode>,
    pub message: String,
}

impl HttpFailure {
    /// Transport errors, 5xx and 429 may succeed on a retry.
    pub fn retryable(&self) -> bool {
        match self.status {
            None => true,
            Some(s) => s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

impl From<HttpFailure> for ConnectorError {
    fn from(f: HttpFailure) -> Self {
        let retryable = f.retryable();
        ConnectorError::Other {
            message: redact(&f.message),
            retryable,
        }
    }
}

/// The first 500 characters of a response body, on one line.
pub fn excerpt(body: &str) -> String {
    let t: String = body.chars().take(500).collect();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if body.chars().count() > 500 {
        format!("{t} …")
    } else {
        t
    }
}

static CLIENTS: Mutex<Option<HashMap<String, Arc<HttpClient>>>> = Mutex::new(None);

impl HttpClient {
    /// The client of `system`, created on first use and reused while the system's config
    /// stays the same.
    pub fn for_system(system: &Arc<HttpSystem>) -> Result<Arc<HttpClient>, ConnectorError> {
        if let Some(why) = &system.unavailable {
            return Err(ConnectorError::Other {
                message: why.clone(),
                retryable: false,
            });
        }
        let mut g = CLIENTS.lock().map_err(|_| ConnectorError::Other {
            message: "http client table poisoned".into(),
            retryable: false,
        })?;
        let map = g.get_or_insert_with(HashMap::new);
        if let Some(c) = map.get(&system.id) {
            if Arc::ptr_eq(&c.system, system) || same_config(&c.system, system) {
                return Ok(c.clone());
            }
        }
        let client = Client::builder()
            .danger_accept_invalid_certs(!system.verify_ssl)
            .connect_timeout(Duration::from_secs_f64(system.connect_timeout))
            .timeout(Duration::from_secs_f64(system.read_timeout))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ConnectorError::Other {
                message: format!("system {:?}: cannot create an HTTP client: {e}", system.id),
                retryable: false,
            })?;
        let c = Arc::new(HttpClient {
            system: system.clone(),
            client,
            token: TokenCache::default(),
        });
        map.insert(system.id.clone(), c.clone());
        Ok(c)
    }

    /// The absolute URL of `rel` on this system.
    pub fn url(&self, rel: &str) -> Result<String, HttpFailure> {
        if rel.starts_with("http://") || rel.starts_with("https://") {
            return Ok(rel.to_string());
        }
        let join = |base: &str| {
            let r = rel.trim_start_matches('/');
            if r.is_empty() || r.starts_with('?') || base.ends_with('/') {
                format!("{base}{r}")
            } else {
                format!("{base}/{r}")
            }
        };
        Ok(match &self.system.base {
            HttpBase::Pattern(p) => match p.find("%s") {
                Some(i) if p[..i].ends_with('/') => {
                    p.replacen("%s", rel.trim_start_matches('/'), 1)
                }
                Some(_) => p.replacen("%s", rel, 1),
                None => join(p),
            },
            HttpBase::BaseUrl(b) => join(b),
            HttpBase::Microservice { port } => {
                // A node's first runs may come while the service is still starting.
                let base = match (
                    super::services::wait(&self.system.id, SERVICE_START_WAIT),
                    port,
                ) {
                    (Some(b), _) => b,
                    (None, Some(p)) => format!("http://127.0.0.1:{p}/"),
                    (None, None) => {
                        return Err(HttpFailure {
                            status: None,
                            message: format!(
                                "microservice {:?} is not running (start it with `pumphouse run` or `pumphouse serve`)",
                                self.system.id
                            ),
                        })
                    }
                };
                join(&base)
            }
        })
    }

    /// Sends a request built by `build` with the system's headers and auth; retries once with
    /// a digest answer when the server asks for one. Non-2xx answers are failures carrying
    /// the status and an excerpt of the body.
    pub fn send(
        &self,
        what: &str,
        build: &dyn Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, HttpFailure> {
        let prepare = |rb: RequestBuilder| -> Result<RequestBuilder, HttpFailure> {
            let mut rb = rb;
            for (k, v) in &self.system.headers {
                rb = rb.header(k.as_str(), v.as_str());
            }
            rb = match &self.system.auth {
                HttpAuth::None | HttpAuth::Digest { .. } => rb,
                HttpAuth::Basic { username, password } => rb.basic_auth(username, Some(password)),
                HttpAuth::Bearer(t) => rb.bearer_auth(t),
                HttpAuth::OAuth2 { .. } => {
                    let tok = auth::oauth2_token(&self.client, &self.system.auth, &self.token)
                        .map_err(|m| HttpFailure {
                            status: None,
                            message: format!("{what}: {m}"),
                        })?;
                    rb.bearer_auth(tok)
                }
            };
            Ok(rb)
        };
        let transport = |e: reqwest::Error| HttpFailure {
            status: None,
            message: format!("{what} failed: {}", describe(&e)),
        };
        let mut resp = prepare(build(&self.client))?.send().map_err(transport)?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            if let HttpAuth::Digest { username, password } = &self.system.auth {
                let challenge = resp
                    .headers()
                    .get(reqwest::header::WWW_AUTHENTICATE)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let req = prepare(build(&self.client))?.build().map_err(transport)?;
                if let Some(h) = auth::digest_header(
                    &challenge,
                    username,
                    password,
                    req.method().as_str(),
                    req.url(),
                ) {
                    resp = prepare(build(&self.client))?
                        .header(reqwest::header::AUTHORIZATION, h)
                        .send()
                        .map_err(transport)?;
                }
            }
        }
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().unwrap_or_default();
            return Err(HttpFailure {
                status: Some(status),
                message: format!("{what} answered {status}: {}", excerpt(&body)),
            });
        }
        Ok(resp)
    }
}

fn same_config(a: &HttpSystem, b: &HttpSystem) -> bool {
    format!("{a:?}") == format!("{b:?}") && auth::fingerprint(&a.auth) == auth::fingerprint(&b.auth)
}

/// A transport error without its URL (which may carry credentials) and with its causes.
pub fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request error"
    };
    let mut msg = kind.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        msg.push_str(&format!(": {c}"));
        cur = c.source();
    }
    msg
}
