//! Seed 01 end to end: the `azure-sb-sink-pipe` (embedded source, `json` sink, url
//! `my_queue`) pushes to the seed's sink microservice (Python, run through the `process`
//! runtime; Service Bus itself replaced by a local queue file). A 500 from the service fails
//! the run without advancing; the next run delivers every entity, as one JSON push sequence.

mod common;

use std::path::Path;

use common::python;
use common::*;
use pumphouse_value::Value;
use serde_json::{json, Value as Json};

const PIPE: &str = "azure-sb-sink-pipe";

fn project(dir: &Path, queue: &Path, fail: &Path, entities: Json) {
    let system = json!({
        "_id": "azure-sb-sink",
        "type": "system:microservice",
        "docker": {
            "environment": {
                "SERVICE_NAMESPACE": "$SECRET(service_namespace)",
                "SERVICE_SAS_TOKEN_NAME": "$SECRET(service_sas_token_name)",
                "SERVICE_SAS_TOKEN_VALUE": "$SECRET(service_sas_token_value)"
            },
            "image": "<location of your image>",
            "port": 5000
        },
        "process": {
            "command": ["python3", python::services_dir().join("azure_sb_sink.py").to_str().unwrap()],
            "environment": {"QUEUE_DIR": queue.to_str().unwrap(), "FAIL_FILE": fail.to_str().unwrap()}
        },
        "verify_ssl": true
    });
    let pipe = json!({
        "_id": PIPE,
        "type": "pipe",
        "source": {"type": "embedded", "entities": entities},
        "sink": {"type": "json", "system": "azure-sb-sink", "url": "my_queue", "batch_size": 2},
        "pump": {"schedule_interval": 60, "batch_retries": 1}
    });
    write(dir, "systems/azure-sb-sink.conf.json", &system.to_string());
    write(dir, &format!("pipes/{PIPE}.conf.json"), &pipe.to_string());
}

fn lines(p: &Path) -> Vec<Json> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn seed01_sink_fails_on_500_then_delivers_everything() {
    if !python::ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let queue = dir.path().join("queue");
    std::fs::create_dir_all(&queue).unwrap();
    let fail = dir.path().join("fail");
    let entities = json!([{"_id": "1", "value": "foo"}, {"_id": "2", "value": "bar"}, {"_id": "3", "value": "baz"}]);
    project(dir.path(), &queue, &fail, entities);
    for (name, value) in [
        ("service_namespace", "my-namespace"),
        ("service_sas_token_name", "RootManageSharedAccessKey"),
        ("service_sas_token_value", "sas-key-that-stays-secret"),
    ] {
        let o = pumphouse_stdin(
            &["secrets", "--data", data.to_str().unwrap(), "set", name],
            value,
        );
        assert!(o.status.success());
    }

    // The service answers 500: the run fails, the cause is logged, nothing is acknowledged.
    std::fs::write(&fail, "on").unwrap();
    let o = run(dir.path(), &data);
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{out}\n{err}");
    let failed = events(&data, PIPE, "pump-failed")
        .pop()
        .expect("pump-failed");
    let msg = failed.get("message").and_then(Value::as_str).unwrap();
    assert!(msg.contains("500") && msg.contains("my_queue"), "{msg}");
    assert!(
        msg.contains("after 2 attempts"),
        "batch_retries 1 means two tries: {msg}"
    );
    assert!(lines(&queue.join("my_queue.jsonl")).is_empty());
    assert!(events(&data, PIPE, "pump-completed").is_empty());
    assert!(!(out + &err).contains("sas-key-that-stays-secret"));

    // The next run delivers every entity as one full sequence.
    std::fs::remove_file(&fail).unwrap();
    std::fs::remove_file(queue.join("requests.jsonl")).unwrap();
    let o = run(dir.path(), &data);
    assert!(o.status.success(), "{:?}", text(&o));
    let got = lines(&queue.join("my_queue.jsonl"));
    let ids: Vec<&str> = got.iter().map(|e| e["_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
    assert_eq!(got[0]["value"], "foo");
    let reqs = lines(&queue.join("requests.jsonl"));
    // Batches of 2, then 1, then the final empty request that ends the sequence.
    let counts: Vec<u64> = reqs.iter().map(|r| r["count"].as_u64().unwrap()).collect();
    assert_eq!(counts, [2, 1, 0]);
    let args: Vec<&Json> = reqs.iter().map(|r| &r["args"]).collect();
    let seq = args[0]["sequence_id"].as_str().unwrap();
    for (i, a) in args.iter().enumerate() {
        assert_eq!(a["sequence_id"], seq);
        assert_eq!(a["is_full"], "true");
        assert_eq!(a["request_id"], (i + 1).to_string());
        if i > 0 {
            assert_eq!(a["previous_request_id"], i.to_string());
        } else {
            assert!(a.get("previous_request_id").is_none());
        }
        assert_eq!(a.get("is_first").is_some(), i == 0, "{a}");
        assert_eq!(a.get("is_last").is_some(), i == 2, "{a}");
    }
    let done = events(&data, PIPE, "pump-completed")
        .pop()
        .expect("pump-completed");
    assert_eq!(
        done.get("processed_last_run").and_then(Value::as_i64),
        Some(3)
    );
}
