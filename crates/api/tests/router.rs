//! The router without a socket (tower `oneshot`): every documented route exists and nothing
//! undocumented does (the OpenAPI document at /api/reference is in step with the router), and
//! tokens and roles are checked per endpoint.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use pumphouse_api::{auth, router, AppState, Auth, Role};
use pumphouse_runtime::node::{Node, NodeOptions};
use serde_json::{json, Value};
use tower::ServiceExt;

fn state(dir: &std::path::Path, auth: Auth) -> AppState {
    AppState {
        node: Node::open(NodeOptions::new(dir.to_path_buf())).unwrap(),
        auth: Arc::new(auth),
        developer_mode: true,
    }
}

async fn call(st: &AppState, method: &str, uri: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if method == "POST" && (uri.contains("/pump") || uri.ends_with("/admin")) {
        req = req.header("Content-Type", "application/x-www-form-urlencoded");
    }
    let resp = router(st.clone())
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn openapi_document_matches_the_routes() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path(), Auth::None);
    let (s, doc) = call(&st, "GET", "/api/reference", None).await;
    assert_eq!(s, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    let table = pumphouse_api::routes();
    let mut documented = 0;
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            documented += 1;
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path} has a summary"
            );
            if method == "post" && path == "/api/admin" {
                continue; // would reset the node under the other requests
            }
            let uri = path
                .replace("{id}", "no-such-id")
                .replace("{name}", "no-such-name");
            let (status, body) = call(&st, &method.to_uppercase(), &uri, None).await;
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is routed"
            );
            let msg = body["message"].as_str().unwrap_or("");
            assert!(
                !msg.starts_with("no such endpoint"),
                "{method} {path} is routed: {body}"
            );
        }
    }
    assert_eq!(
        documented,
        table.docs.len() + 1,
        "every route documented once (+ /api/reference)"
    );
    // And nothing else answers.
    let (s, body) = call(&st, "GET", "/api/undocumented", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("no such endpoint"));
    let (s, _) = call(&st, "DELETE", "/api/status", None).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn tokens_and_roles_are_checked_per_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let key = b"0123456789abcdef0123456789abcdef".to_vec();
    let tokens =
        Auth::parse_token_file("# ops\nread-only viewer-token\nadmin admin-token\n").unwrap();
    let st = state(
        dir.path(),
        Auth::Jwt {
            key: Some(key.clone()),
            tokens,
        },
    );
    let admin = auth::sign(&key, &json!({"role": "admin"}));
    let reader = auth::sign(&key, &json!({"role": "read-only"}));
    let expired = auth::sign(&key, &json!({"role": "admin", "exp": 1}));
    let forged = auth::sign(
        b"another key, not the node's one",
        &json!({"role": "admin"}),
    );
    let sesam_admin = auth::sign(&key, &json!({"principals": {"sub-id": ["group:Admin"]}}));

    let (s, b) = call(&st, "GET", "/api/pipes", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        b["message"].as_str().unwrap().contains("Authorization"),
        "{b}"
    );
    for bad in [&expired, &forged, &"eyJhbGciOiAibm9uZSJ9.e30.x".to_string()] {
        assert_eq!(
            call(&st, "GET", "/api/pipes", Some(bad)).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    for t in [&reader, &admin, &"viewer-token".to_string(), &sesam_admin] {
        assert_eq!(
            call(&st, "GET", "/api/pipes", Some(t)).await.0,
            StatusCode::OK
        );
    }
    // Read-only may not change anything; admin may.
    for t in [&reader, &"viewer-token".to_string()] {
        let (s, b) = call(&st, "POST", "/api/pipes/stop-run-all-pipes", Some(t)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        assert_eq!(
            call(&st, "GET", "/api/metrics", Some(t)).await.0,
            StatusCode::FORBIDDEN
        );
    }
    for t in [&admin, &"admin-token".to_string(), &sesam_admin] {
        assert_eq!(
            call(&st, "POST", "/api/pipes/stop-run-all-pipes", Some(t))
                .await
                .0,
            StatusCode::OK
        );
    }
    // Every mutating route needs admin.
    for r in &pumphouse_api::routes().docs {
        assert_eq!(
            r.role == Role::Admin,
            r.method != "GET" || r.path == "/api/metrics",
            "{} {}",
            r.method,
            r.path
        );
    }
    assert!(Auth::parse_token_file("superuser x")
        .unwrap_err()
        .contains("line 1"));
}
