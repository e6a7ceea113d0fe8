//! The OpenAPI 3 document served at `/api/reference`, generated from the route table that
//! also builds the router, so every route is documented and nothing documented is missing.

use serde_json::{json, Map, Value};

use crate::RouteDoc;

pub fn document(routes: &[RouteDoc]) -> Value {
    let mut paths = Map::new();
    let mut all: Vec<RouteDoc> = routes.to_vec();
    all.push(RouteDoc {
        method: "GET",
        path: "/api/reference",
        summary: "This OpenAPI document",
        role: crate::Role::ReadOnly,
    });
    for r in &all {
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let op = json!({
            "summary": r.summary,
            "parameters": params,
            "security": [{"bearer": []}],
            "x-required-role": r.role.as_str(),
            "responses": {
                "200": {"description": "OK"},
                "400": {"description": "Bad input; the JSON body's message says what to fix"},
                "401": {"description": "Missing or refused token"},
                "403": {"description": "The token's role may not do this"},
                "404": {"description": "Unknown id"},
                "409": {"description": "Conflict, e.g. the pipe is already running"}
            }
        });
        paths
            .entry(r.path.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|m| m.insert(r.method.to_ascii_lowercase(), op));
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "pumphouse service API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Sesam's service API (pipes, pumps, datasets, config, env, systems, run-all-pipes, admin, metrics)."
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "paths": paths,
    })
}
