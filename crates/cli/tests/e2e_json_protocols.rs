//! The JSON protocols against a real microservice (Python, `process` runtime with a fixed
//! port) and a `system:url` with basic auth in front of it: json source paging with
//! since/limit (chronological), the http transform in batches, and every way a source can
//! misbehave (error status, truncated or malformed JSON, too slow) failing the run with a
//! clear message and no change.

mod common;

use std::path::Path;

use common::python;
use common::*;
use pumphouse_value::Value;
use serde_json::{json, Value as Json};

fn source(system: &str, url: &str) -> Json {
    json!({"type": "json", "system": system, "url": url})
}

fn project(dir: &Path, port: u16, log: &Path) {
    let ms = json!({
        "_id": "proto",
        "type": "system:microservice",
        "docker": {"image": "proto:1", "port": 5000,
                   "environment": {"SECURE_PASSWORD": "$SECRET(secure-password)"}},
        "process": {
            "command": ["python3", python::services_dir().join("protocol_service.py").to_str().unwrap()],
            "environment": {"REQUEST_LOG": log.to_str().unwrap()},
            "port": port
        },
        "read_timeout": 2
    });
    let url = json!({
        "_id": "proto-url",
        "type": "system:url",
        "url_pattern": format!("http://127.0.0.1:{port}/%s"),
        "authentication": "basic",
        "username": "reader",
        "password": "$SECRET(secure-password)"
    });
    let mut paged = source("proto", "entities");
    paged["supports_since"] = json!(true);
    paged["is_chronological"] = json!(true);
    paged["page_size"] = json!(3);
    let mut pipes = vec![
        json!({"_id": "paged", "type": "pipe", "source": paged}),
        json!({"_id": "squares", "type": "pipe",
               "source": {"type": "dataset", "dataset": "paged"},
               "transform": [{"type": "http", "system": "proto", "url": "/transform", "batch_size": 4},
                             {"type": "dtl", "rules": {"default": [["copy", "*"]]}}]}),
        json!({"_id": "secure", "type": "pipe", "source": source("proto-url", "/secure/entities")}),
    ];
    for (id, url) in [
        ("bad-status", "fails"),
        ("bad-truncated", "truncated"),
        ("bad-malformed", "malformed"),
        ("bad-slow", "slow"),
    ] {
        pipes.push(json!({"_id": id, "type": "pipe", "source": source("proto", url)}));
    }
    write(
        dir,
        "systems/proto.conf.json",
        &json!([ms, url]).to_string(),
    );
    write(dir, "pipes/all.conf.json", &Json::Array(pipes).to_string());
}

fn run_pipes(dir: &Path, data: &Path, pipes: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        "--config",
        dir.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ];
    for p in pipes {
        args.extend(["--pipe", p]);
    }
    pumphouse(&args)
}

fn requests(log: &Path, path: &str) -> Vec<Json> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .filter(|r| r["path"] == path)
        .collect()
}

#[test]
fn json_source_paging_http_transform_and_source_failures() {
    if !python::ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("requests.jsonl");
    let port = python::free_port();
    project(dir.path(), port, &log);
    let o = pumphouse_stdin(
        &[
            "secrets",
            "--data",
            data.to_str().unwrap(),
            "set",
            "secure-password",
        ],
        "pa55-word-planted",
    );
    assert!(o.status.success());

    let o = run_pipes(dir.path(), &data, &["paged", "squares", "secure"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(!(out.clone() + &err).contains("pa55-word-planted"));
    // Paging: limit=page_size, since = the last _updated of the previous page, until a short page.
    let pages: Vec<Json> = requests(&log, "/entities")
        .into_iter()
        .map(|r| r["args"].clone())
        .collect();
    assert_eq!(
        pages,
        vec![
            json!({"limit": "3"}),
            json!({"since": "3", "limit": "3"}),
            json!({"since": "6", "limit": "3"}),
            json!({"since": "9", "limit": "3"}),
        ]
    );
    assert_eq!(live(&data, "paged").len(), 10);
    assert_eq!(last_seen(&data, "paged"), Value::Int(10));
    // The http transform got batches of at most 4 and its answer became the entities.
    let sq = live(&data, "squares");
    assert_eq!(sq.len(), 10);
    let mut batches: Vec<i64> = sq
        .iter()
        .map(|e| e.get("batch").and_then(Value::as_i64).unwrap())
        .collect();
    batches.sort();
    assert_eq!(batches, [2, 2, 4, 4, 4, 4, 4, 4, 4, 4]);
    let e7 = sq
        .iter()
        .find(|e| e.get("_id").and_then(Value::as_str) == Some("e7"))
        .unwrap();
    assert_eq!(e7.get("square").and_then(Value::as_i64), Some(49));
    assert_eq!(requests(&log, "/transform").len(), 3);
    // Basic auth with a secret password through the url system.
    assert_eq!(live(&data, "secure").len(), 2);
    let auth = requests(&log, "/secure/entities")[0]["auth"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(auth.starts_with("Basic "), "{auth}");

    // The next run continues from last-seen: one request with since=10, nothing new.
    let o = run_pipes(dir.path(), &data, &["paged"]);
    assert!(o.status.success());
    let last = requests(&log, "/entities").pop().unwrap();
    assert_eq!(last["args"]["since"], "10");
    assert_eq!(live(&data, "paged").len(), 10);

    // Misbehaving sources fail the run with the status / what broke, and change nothing.
    for (pipe, expect) in [
        ("bad-status", vec!["503", "upstream is down"]),
        ("bad-truncated", vec!["truncated", "element 1"]),
        ("bad-malformed", vec!["expected ','"]),
        ("bad-slow", vec!["timed out"]),
    ] {
        let before = snapshot(&data);
        let o = run_pipes(dir.path(), &data, &[pipe]);
        let (out, err) = text(&o);
        assert!(!o.status.success(), "{pipe}: {out}\n{err}");
        let failed = events(&data, pipe, "pump-failed")
            .pop()
            .expect("pump-failed");
        let msg = failed
            .get("message")
            .and_then(Value::as_str)
            .unwrap()
            .to_string();
        for x in expect {
            assert!(msg.contains(x), "{pipe}: {msg:?} lacks {x:?}");
            assert!(err.contains(x), "{pipe}: stderr lacks {x:?}: {err}");
        }
        assert!(live(&data, pipe).is_empty(), "{pipe}");
        assert_eq!(snapshot(&data), before, "{pipe}");
    }
}
