//! Microservices and secrets under `pumphouse serve`: a `system:microservice` with `process`
//! starts once its secret is set through `/api/secrets`, reports `/status`, keeps `/logs`,
//! answers through `/proxy/...`, feeds a json source pipe, and stops with the node. The
//! secret value is never returned by the API nor written to any log.

mod common;
mod node;

use std::time::{Duration, Instant};

use common::python;
use node::*;
use serde_json::json;

const SECRET: &str = "pa55-planted-for-serve";

#[test]
fn microservice_lifecycle_secrets_status_logs_proxy() {
    if !python::ready() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("requests.jsonl");
    let port = python::free_port();
    let config = json!([
        {"_id": "proto", "type": "system:microservice",
         "docker": {"image": "proto:1", "port": 5000,
                    "environment": {"SECURE_PASSWORD": "$SECRET(secure-password)"}},
         "process": {"command": ["python3", python::services_dir().join("protocol_service.py").to_str().unwrap()],
                     "environment": {"REQUEST_LOG": log.to_str().unwrap()}, "port": port}},
        {"_id": "paged", "type": "pipe",
         "source": {"type": "json", "system": "proto", "url": "entities",
                    "supports_since": true, "is_chronological": true},
         "pump": {"mode": "manual"}},
        {"_id": "paged-endpoint", "type": "pipe",
         "source": {"type": "dataset", "dataset": "paged"},
         "transform": {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "double", ["*", 2, "_S.n"]]]}},
         "sink": {"type": "http_endpoint"}},
        {"_id": "inbox", "type": "pipe", "source": {"type": "http_endpoint"}},
        {"_id": "paged-csv", "type": "pipe", "source": {"type": "dataset", "dataset": "paged"},
         "sink": {"type": "csv_endpoint", "columns": ["_id", "n"]}}
    ]);
    let mut n = Node::start(&tmp.path().join("data"), &[]);
    let (s, v) = json(n.put_json("/config", &config));
    assert_eq!(s, 200, "{v}");

    // Without its secret the service does not start, and says why.
    let (s, st) = json(n.get("/systems/proto/status"));
    assert_eq!(s, 200);
    assert_eq!(st["running"], false);
    assert!(
        st["error"].as_str().unwrap().contains("secure-password"),
        "{st}"
    );

    let (s, names) = json(n.post_json("/secrets", &json!({"secure-password": SECRET})));
    assert_eq!((s, names.clone()), (200, json!(["secure-password"])));
    let (_, names) = json(n.get("/secrets"));
    assert_eq!(names, json!(["secure-password"]));
    let (s, _) = json(n.post_json("/systems/proto/secrets", &json!({"local": "x-local-value"})));
    assert_eq!(s, 200);
    let (_, names) = json(n.get("/systems/proto/secrets"));
    assert_eq!(names, json!(["local"]));

    let until = Instant::now() + Duration::from_secs(60);
    let st = loop {
        let (_, st) = json(n.get("/systems/proto/status"));
        if st["running"] == true {
            break st;
        }
        assert!(
            Instant::now() < until,
            "the service did not start: {st} {}",
            n.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(st["port"], port);

    // The proxy forwards to the service.
    let (s, v) = json(n.get("/systems/proto/proxy/entities?limit=2"));
    assert_eq!(s, 200, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 2);
    // The secret reached the service (its basic-auth endpoint accepts it).
    let r = n
        .client
        .get(format!("http://127.0.0.1:{port}/secure/entities"))
        .basic_auth("reader", Some(SECRET))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    // A pipe reads from it.
    let (s, v) = json(n.post_form("/pipes/paged/pump", &[("operation", "start")]));
    assert_eq!(s, 200, "{v}");
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, ents) = json(n.get("/datasets/paged/entities"));
        if ents.as_array().is_some_and(|a| a.len() == 10) {
            break;
        }
        assert!(
            Instant::now() < until,
            "the pipe did not import: {ents} {}",
            n.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Continuation: the next run sends since; a rescan (what rescan_cron_expression
    // triggers) resets the offset and reads everything again.
    let entity_requests = || -> Vec<serde_json::Value> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|r| r["path"] == "/entities")
            .map(|r| r["args"].clone())
            .collect()
    };
    let wait_for = |count: usize| {
        let until = Instant::now() + Duration::from_secs(60);
        while entity_requests().len() < count {
            assert!(
                Instant::now() < until,
                "no new request: {:?}",
                entity_requests()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let before = entity_requests().len();
    assert_eq!(
        entity_requests()[before - 1],
        json!({}),
        "the first run is full"
    );
    let (s, v) = json(n.post_form("/pipes/paged/pump", &[("operation", "start")]));
    assert_eq!(s, 200, "{v}");
    wait_for(before + 1);
    assert_eq!(entity_requests()[before], json!({"since": "10"}));
    let (s, v) = json(n.post_form("/pipes/paged/pump", &[("operation", "start-rescan")]));
    assert_eq!(s, 200, "{v}");
    wait_for(before + 2);
    assert_eq!(
        entity_requests()[before + 1],
        json!({}),
        "a rescan sends no since"
    );

    // The http_endpoint publisher: source from since, transforms, _updated kept.
    let (s, all) = json(n.get("/publishers/paged-endpoint/entities"));
    assert_eq!(s, 200, "{all}");
    let all = all.as_array().unwrap().clone();
    assert_eq!(all.len(), 10);
    assert_eq!(all[3]["double"], all[3]["n"].as_i64().unwrap() * 2);
    let since = all[4]["_updated"].clone();
    let (_, rest) = json(n.get(&format!(
        "/publishers/paged-endpoint/entities?since={since}&limit=2"
    )));
    let rest = rest.as_array().unwrap();
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[0]["_id"], all[5]["_id"]);
    let r = n.get("/publishers/paged-csv/csv?limit=3");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().unwrap(), "_id,n\r\ne1,1\r\ne2,2\r\ne3,3\r\n");
    let (s, _) = json(n.get("/publishers/paged/entities"));
    assert_eq!(
        s, 404,
        "a pipe without an http_endpoint sink publishes nothing"
    );

    // The http_endpoint receiver: incremental pushes add, a full sequence deletes the rest.
    let ids = |n: &Node| -> Vec<String> {
        let (_, v) = json(n.get("/datasets/inbox/entities?history=false&deleted=false"));
        let mut ids: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["_deleted"] != true)
            .map(|e| e["_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let push = |n: &Node, q: &str, body: serde_json::Value| {
        json(n.post_json(&format!("/receivers/inbox/entities{q}"), &body)).0
    };
    assert_eq!(push(&n, "", json!([{"_id": "a"}, {"_id": "b"}])), 200);
    assert_eq!(push(&n, "", json!({"_id": "c"})), 200);
    assert_eq!(ids(&n), ["a", "b", "c"]);
    let seq = "?is_full=true&sequence_id=s1";
    assert_eq!(
        push(
            &n,
            &format!("{seq}&request_id=1&is_first=true"),
            json!([{"_id": "b"}])
        ),
        200
    );
    assert_eq!(
        push(
            &n,
            &format!("{seq}&request_id=3&previous_request_id=2"),
            json!([{"_id": "x"}])
        ),
        409
    );
    assert_eq!(
        push(
            &n,
            &format!("{seq}&request_id=2&previous_request_id=1&is_last=true"),
            json!([{"_id": "d"}])
        ),
        200
    );
    assert_eq!(ids(&n), ["b", "d"], "a and c were not in the full sync");

    let logs = n.get("/systems/proto/logs").text().unwrap();
    assert!(logs.contains("/entities"), "{logs}");
    assert!(logs.contains(&format!("PORT={port}")), "{logs}");
    for (what, text) in [
        ("service logs", logs),
        ("config", n.get("/config").text().unwrap()),
        ("secrets", n.get("/secrets").text().unwrap()),
        ("execution log", n.get("/pipes/paged/log").text().unwrap()),
    ] {
        assert!(
            !text.contains(SECRET),
            "the secret appears in the {what}: {text}"
        );
    }

    // Stopping the node stops the service.
    let node_log = n.stop();
    assert!(!node_log.contains(SECRET), "{node_log}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the service still listens after the node stopped"
    );
}

/// A node killed with SIGKILL runs none of its shutdown code; its microservices must not
/// outlive it (they would hold their ports and block the next start).
#[test]
fn a_node_killed_with_sigkill_takes_its_microservices_down() {
    if !python::ready() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let port = python::free_port();
    let config = json!([
        {"_id": "proto", "type": "system:microservice",
         "process": {"command": ["python3", python::services_dir().join("protocol_service.py").to_str().unwrap()],
                     "port": port}}
    ]);
    let mut n = Node::start(&tmp.path().join("data"), &[]);
    let (s, v) = json(n.put_json("/config", &config));
    assert_eq!(s, 200, "{v}");
    let until = Instant::now() + Duration::from_secs(60);
    let pid = loop {
        let (_, st) = json(n.get("/systems/proto/status"));
        if st["running"] == true {
            break st["pid"].as_u64().unwrap();
        }
        assert!(
            Instant::now() < until,
            "the service did not start: {st} {}",
            n.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let listening = || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    assert!(listening());

    let mut child = n.child.take().unwrap();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // Gone: the port is free and the process is no more (or a zombie waiting for init).
    let alive = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                !s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(false)
    };
    let until = Instant::now() + Duration::from_secs(20);
    while listening() || alive() {
        assert!(
            Instant::now() < until,
            "microservice pid {pid} still runs 20 s after its node was killed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
