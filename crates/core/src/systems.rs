//! Validation of `system:url` and `system:microservice` configs (sesam-spec 8.2, 8.3) into
//! what the HTTP connectors and the microservice supervisor need.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use crate::diag::Diagnostic;

/// A system reachable over HTTP.
#[derive(Debug, Clone)]
pub struct HttpSystem {
    pub id: String,
    pub base: HttpBase,
    pub headers: Vec<(String, String)>,
    pub auth: HttpAuth,
    pub verify_ssl: bool,
    /// Seconds (defaults 60 and 1800).
    pub connect_timeout: f64,
    pub read_timeout: f64,
    /// Why the system cannot be used yet (a secret that is not set).
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone)]
pub enum HttpBase {
    /// `url_pattern`: the relative url replaces `%s`, or is appended.
    Pattern(String),
    /// `base_url` (deprecated in Sesam, still common): URL-joined.
    BaseUrl(String),
    /// A microservice: the node knows its address once it runs.
    Microservice { port: Option<u16> },
}

#[derive(Clone)]
pub enum HttpAuth {
    None,
    Basic {
        username: String,
        password: String,
    },
    Digest {
        username: String,
        password: String,
    },
    /// `authentication: jwt` with `jwt_token`: `Authorization: Bearer <token>`.
    Bearer(String),
    /// OAuth2 client credentials.
    OAuth2 {
        client_id: String,
        client_secret: String,
        token_url: String,
        scope: Option<String>,
        extra: Vec<(String, String)>,
    },
}

impl std::fmt::Debug for HttpAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print credentials.
        f.write_str(match self {
            HttpAuth::None => "None",
            HttpAuth::Basic { .. } => "Basic",
            HttpAuth::Digest { .. } => "Digest",
            HttpAuth::Bearer(_) => "Bearer",
            HttpAuth::OAuth2 { .. } => "OAuth2",
        })
    }
}

/// How to run a microservice.
#[derive(Debug, Clone)]
pub struct Microservice {
    pub id: String,
    pub runtime: MicroserviceRuntime,
    /// `docker.environment`, with `process.environment` merged over it.
    pub environment: BTreeMap<String, String>,
    /// The port it listens on; `None`: the node picks a free one and passes it in `PORT`.
    pub port: Option<u16>,
}

#[derive(Debug, Clone)]
pub enum MicroserviceRuntime {
    /// `process`: a local command (pumphouse's addition).
    Process { command: Vec<String>, cwd: PathBuf },
    /// `docker`: an image run through the Docker Engine API.
    Docker { image: String, port: u16 },
}

const URL_PROPS: &[&str] = &[
    "_id",
    "type",
    "name",
    "description",
    "comment",
    "metadata",
    "permissions",
    "worker_threads",
    "url_pattern",
    "base_url",
    "verify_ssl",
    "custom_ca_pem_chain",
    "authentication",
    "username",
    "password",
    "jwt_token",
    "headers",
    "oauth2",
    "proxies",
    "connect_timeout",
    "read_timeout",
    "ignore_invalid_content_length_response_header",
    "retry_strategy",
    "rate_limiting_retries",
    "rate_limiting_delay",
    "operations",
    "json_content_types",
];
const MS_PROPS: &[&str] = &[
    "_id",
    "type",
    "name",
    "description",
    "comment",
    "metadata",
    "permissions",
    "worker_threads",
    "docker",
    "process",
    "use_https",
    "verify_ssl",
    "authentication",
    "username",
    "password",
    "connect_timeout",
    "read_timeout",
    "eager_load",
    "retry_strategy",
    "headers",
];

fn string(
    obj: &Map<String, Json>,
    key: &str,
    path: &str,
    d: &mut Vec<Diagnostic>,
) -> Option<String> {
    match obj.get(key) {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => {
            d.push(Diagnostic::error(
                crate::jsonpos::child(path, key),
                format!("{key} must be a string, not {other}"),
            ));
            None
        }
    }
}

fn seconds(obj: &Map<String, Json>, key: &str, default: f64, d: &mut Vec<Diagnostic>) -> f64 {
    match obj.get(key) {
        None | Some(Json::Null) => default,
        Some(Json::Number(n)) if n.as_f64().is_some_and(|x| x > 0.0) => {
            n.as_f64().unwrap_or(default)
        }
        Some(other) => {
            d.push(
                Diagnostic::error(
                    format!("$.{key}"),
                    format!("{key} must be a positive number of seconds, not {other}"),
                )
                .hint(format!("the default is {default}")),
            );
            default
        }
    }
}

/// `headers`: an object of name → string.
pub fn headers(v: Option<&Json>, path: &str, d: &mut Vec<Diagnostic>) -> Vec<(String, String)> {
    match v {
        None | Some(Json::Null) => vec![],
        Some(Json::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| match v {
                Json::String(s) => Some((k.clone(), s.clone())),
                other => {
                    d.push(Diagnostic::error(
                        crate::jsonpos::child(path, k),
                        format!("header {k:?} must be a string, not {other}"),
                    ));
                    None
                }
            })
            .collect(),
        Some(other) => {
            d.push(
                Diagnostic::error(path, format!("headers must be an object, not {other}"))
                    .hint("e.g. \"headers\": {\"Accept\": \"application/json\"}"),
            );
            vec![]
        }
    }
}

fn auth(obj: &Map<String, Json>, d: &mut Vec<Diagnostic>) -> HttpAuth {
    let user = string(obj, "username", "$", d);
    let pass = string(obj, "password", "$", d);
    if let Some(Json::Object(o)) = obj.get("oauth2") {
        let p = "$.oauth2";
        let need = |k: &str, d: &mut Vec<Diagnostic>| {
            let v = string(o, k, p, d);
            if v.is_none() {
                d.push(
                    Diagnostic::error(format!("{p}.{k}"), format!("oauth2 needs {k:?}"))
                        .hint("client credentials need client_id, client_secret and token_url"),
                );
            }
            v.unwrap_or_default()
        };
        let client_id = need("client_id", d);
        let client_secret = need("client_secret", d);
        let token_url = need("token_url", d);
        let scope = match o.get("scope") {
            Some(Json::String(s)) => Some(s.clone()),
            Some(Json::Array(a)) => Some(
                a.iter()
                    .filter_map(Json::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        };
        let extra = match o.get("extra") {
            Some(Json::Object(m)) => m.iter().map(|(k, v)| (k.clone(), text_of(v))).collect(),
            _ => vec![],
        };
        return HttpAuth::OAuth2 {
            client_id,
            client_secret,
            token_url,
            scope,
            extra,
        };
    }
    let kind = string(obj, "authentication", "$", d);
    match kind.as_deref() {
        Some("jwt") => match string(obj, "jwt_token", "$", d) {
            Some(t) => HttpAuth::Bearer(t),
            None => {
                d.push(Diagnostic::error(
                    "$.jwt_token",
                    "authentication \"jwt\" needs \"jwt_token\"",
                ));
                HttpAuth::None
            }
        },
        k @ (Some("basic" | "digest") | None) if user.is_some() || k.is_some() => {
            let (Some(username), Some(password)) = (user, pass) else {
                d.push(
                    Diagnostic::error(
                        "$.password",
                        "username and password are both needed for authentication",
                    )
                    .hint("set \"password\": \"$SECRET(name)\""),
                );
                return HttpAuth::None;
            };
            if k == Some("digest") {
                HttpAuth::Digest { username, password }
            } else {
                HttpAuth::Basic { username, password }
            }
        }
        None => HttpAuth::None,
        Some(other) => {
            d.push(
                Diagnostic::error(
                    "$.authentication",
                    format!("authentication {other:?} is not supported"),
                )
                .hint("use \"basic\", \"digest\" or \"jwt\", or an \"oauth2\" object"),
            );
            HttpAuth::None
        }
    }
}

/// Validates a `system:url`.
pub fn url_system(id: &str, obj: &Map<String, Json>, d: &mut Vec<Diagnostic>) -> HttpSystem {
    crate::validate::unknown_props(obj, URL_PROPS, "$", "the url system", d);
    let base = match (
        string(obj, "url_pattern", "$", d),
        string(obj, "base_url", "$", d),
    ) {
        (Some(p), None) => HttpBase::Pattern(p),
        (None, Some(b)) => HttpBase::BaseUrl(b),
        (Some(p), Some(_)) => {
            d.push(
                Diagnostic::error(
                    "$.base_url",
                    "a url system takes url_pattern or base_url, not both",
                )
                .hint("keep url_pattern (\"https://host/api/%s\")"),
            );
            HttpBase::Pattern(p)
        }
        (None, None) => {
            d.push(
                Diagnostic::error("$", "a url system needs \"url_pattern\" or \"base_url\"")
                    .hint("e.g. \"url_pattern\": \"https://api.example.com/v1/%s\""),
            );
            HttpBase::Pattern(String::new())
        }
    };
    http_system(id, base, obj, d)
}

fn environment(v: Option<&Json>, path: &str, d: &mut Vec<Diagnostic>) -> BTreeMap<String, String> {
    match v {
        None | Some(Json::Null) => BTreeMap::new(),
        // Strings as they are; other values serialised to JSON (sesam-spec 8.3).
        Some(Json::Object(m)) => m.iter().map(|(k, v)| (k.clone(), text_of(v))).collect(),
        Some(other) => {
            d.push(Diagnostic::error(
                path,
                format!("environment must be an object, not {other}"),
            ));
            BTreeMap::new()
        }
    }
}

fn port(v: Option<&Json>, path: &str, d: &mut Vec<Diagnostic>) -> Option<u16> {
    match v {
        None | Some(Json::Null) => None,
        Some(Json::Number(n)) if n.as_u64().is_some_and(|p| (1..65536).contains(&p)) => {
            n.as_u64().map(|p| p as u16)
        }
        Some(other) => {
            d.push(Diagnostic::error(
                path,
                format!("port must be a number from 1 to 65535, not {other}"),
            ));
            None
        }
    }
}

/// Validates a `system:microservice`: how to run it and how to reach it.
pub fn microservice(
    id: &str,
    obj: &Map<String, Json>,
    root: &Path,
    d: &mut Vec<Diagnostic>,
) -> (HttpSystem, Microservice) {
    crate::validate::unknown_props(obj, MS_PROPS, "$", "the microservice system", d);
    let id_ok = (2..=63).contains(&id.len())
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !id_ok {
        d.push(
            Diagnostic::error(
                "$._id",
                format!("microservice id {id:?} is not a valid host name"),
            )
            .hint("2-63 characters of A-Z, a-z, 0-9, '_' and '-', starting with a letter or digit"),
        );
    }
    let docker = obj.get("docker").and_then(Json::as_object);
    let process = obj.get("process").and_then(Json::as_object);
    let mut env = environment(
        docker.and_then(|o| o.get("environment")),
        "$.docker.environment",
        d,
    );
    let (runtime, port) = if let Some(p) = process {
        env.extend(environment(
            p.get("environment"),
            "$.process.environment",
            d,
        ));
        let command: Vec<String> = match p.get("command") {
            Some(Json::Array(a)) if !a.is_empty() && a.iter().all(Json::is_string) => a
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect(),
            Some(Json::String(s)) if !s.is_empty() => vec![s.clone()],
            _ => {
                d.push(
                    Diagnostic::error(
                        "$.process.command",
                        "process needs \"command\", a non-empty list of strings",
                    )
                    .hint("e.g. \"command\": [\"python3\", \"service.py\"]"),
                );
                vec![]
            }
        };
        let cwd = match p.get("cwd").and_then(Json::as_str) {
            Some(c) => root.join(c),
            None => root.to_path_buf(),
        };
        let port = port(p.get("port"), "$.process.port", d);
        (MicroserviceRuntime::Process { command, cwd }, port)
    } else if let Some(dk) = docker {
        let image = string(dk, "image", "$.docker", d);
        let port = port(dk.get("port"), "$.docker.port", d);
        if image.is_none() || port.is_none() {
            d.push(
                Diagnostic::error("$.docker", "docker needs \"image\" and \"port\"")
                    .hint("e.g. \"docker\": {\"image\": \"me/service:1\", \"port\": 5000}, or add a \"process\" section to run a local command"),
            );
        }
        let port = port.unwrap_or(5000);
        (
            MicroserviceRuntime::Docker {
                image: image.unwrap_or_default(),
                port,
            },
            None,
        )
    } else {
        d.push(
            Diagnostic::error("$", "a microservice system needs \"docker\" or \"process\"")
                .hint("e.g. \"process\": {\"command\": [\"python3\", \"service.py\"]}"),
        );
        (
            MicroserviceRuntime::Process {
                command: vec![],
                cwd: root.to_path_buf(),
            },
            None,
        )
    };
    let http = http_system(id, HttpBase::Microservice { port }, obj, d);
    let ms = Microservice {
        id: id.to_string(),
        runtime,
        environment: env,
        port,
    };
    (http, ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Json) -> Map<String, Json> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn process_environment_is_merged_over_docker_environment() {
        let mut d = vec![];
        let (_, ms) = microservice(
            "hubspot",
            &obj(
                json!({"docker": {"image": "x", "port": 5000, "environment": {"a": "1", "b": {"n": 2}}},
                        "process": {"command": ["python3", "s.py"], "cwd": "svc", "environment": {"a": "2"}}}),
            ),
            Path::new("/p"),
            &mut d,
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(ms.environment["a"], "2");
        assert_eq!(ms.environment["b"], "{\"n\":2}");
        assert_eq!(ms.port, None);
        match ms.runtime {
            MicroserviceRuntime::Process { cwd, command } => {
                assert_eq!(cwd, Path::new("/p/svc"));
                assert_eq!(command, ["python3", "s.py"]);
            }
            _ => panic!("process expected"),
        }
    }

    #[test]
    fn url_system_needs_one_base_and_complete_credentials() {
        let mut d = vec![];
        url_system("s", &obj(json!({"username": "u"})), &mut d);
        let msgs: Vec<_> = d
            .iter()
            .filter(|x| x.is_error())
            .map(|x| x.message.clone())
            .collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        let mut d = vec![];
        let s = url_system(
            "s",
            &obj(
                json!({"url_pattern": "http://h/%s", "authentication": "digest", "username": "u", "password": "p"}),
            ),
            &mut d,
        );
        assert!(d.is_empty());
        assert!(matches!(s.auth, HttpAuth::Digest { .. }));
    }
}

/// The properties url and microservice systems share.
fn http_system(
    id: &str,
    base: HttpBase,
    obj: &Map<String, Json>,
    d: &mut Vec<Diagnostic>,
) -> HttpSystem {
    HttpSystem {
        id: id.to_string(),
        base,
        headers: headers(obj.get("headers"), "$.headers", d),
        auth: auth(obj, d),
        verify_ssl: obj
            .get("verify_ssl")
            .and_then(Json::as_bool)
            .unwrap_or(false),
        connect_timeout: seconds(obj, "connect_timeout", 60.0, d),
        read_timeout: seconds(obj, "read_timeout", 1800.0, d),
        unavailable: None,
    }
}

/// A string as it is; any other value as JSON text.
fn text_of(v: &Json) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}
