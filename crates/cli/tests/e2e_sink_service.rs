//! Seed 01 end to end: the `azure-sb-sink-pipe` (embedded source, `json` sink, url
//! `my_queue`) pushes to the seed's sink microservice (Python, run through the `process`
//! runtime; Service Bus itself replaced by a local queue file). A 500 from the service fails
//! the run without advancing; the next run delivers every entity, as one JSON push sequence.

mod common;

use std::path::{Path, PathBuf};

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

/// A project with the seed's sink service and `entities`, its secrets set; returns the
/// temporary folder, the data folder, the service's queue folder and its failure switch.
fn setup(entities: Json) -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let queue = dir.path().join("queue");
    std::fs::create_dir_all(&queue).unwrap();
    let fail = dir.path().join("fail");
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
    (dir, data, queue, fail)
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
    let entities = json!([{"_id": "1", "value": "foo"}, {"_id": "2", "value": "bar"}, {"_id": "3", "value": "baz"}]);
    let (dir, data, queue, fail) = setup(entities);

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

/// A pipe that only copies a dataset to the sink service takes the raw path (stored records
/// sent as JSON text, `runtime::raw_push`): the service gets exactly the entities the dataset
/// API shows (`_updated`, `_hash`, ... included), a failed push keeps last-seen, and the next
/// run sends only what changed since, as an incremental sequence.
#[test]
fn a_dataset_copied_to_the_sink_service_arrives_as_stored() {
    if !python::ready() {
        return;
    }
    let entities = json!([
        {"_id": "1", "value": "foo \"quoted\" ø", "n": [1, {"x": null}]},
        {"_id": "2", "value": "bar", "when": "~t2024-05-01T10:00:00Z"},
        {"_id": "3", "value": "baz", "ok": true}
    ]);
    let (dir, data, queue, fail) = setup(entities.clone());
    let set = |e: &Json| {
        write(
            dir.path(),
            "pipes/src.conf.json",
            &json!({"_id": "src", "type": "pipe", "source": {"type": "embedded", "entities": e}})
                .to_string(),
        );
    };
    set(&entities);
    let mut pipe: Json = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(format!("pipes/{PIPE}.conf.json"))).unwrap(),
    )
    .unwrap();
    pipe["source"] = json!({"type": "dataset", "dataset": "src"});
    write(
        dir.path(),
        &format!("pipes/{PIPE}.conf.json"),
        &pipe.to_string(),
    );
    let stored = |data: &Path| -> Vec<Json> {
        let o = pumphouse(&[
            "entities",
            "--data",
            data.to_str().unwrap(),
            "src",
            "--history",
        ]);
        assert!(o.status.success(), "{:?}", text(&o));
        serde_json::from_str::<Json>(&text(&o).0)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };

    let o = run(dir.path(), &data);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(lines(&queue.join("my_queue.jsonl")), stored(&data));
    assert_eq!(last_seen(&data, PIPE), Value::Int(2));

    // One entity changes and one is removed; the push fails: nothing moves.
    set(&json!([
        {"_id": "1", "value": "foo \"quoted\" ø", "n": [1, {"x": null}]},
        {"_id": "2", "value": "changed", "when": "~t2024-05-01T10:00:00Z"}
    ]));
    std::fs::write(&fail, "on").unwrap();
    assert!(!run(dir.path(), &data).status.success());
    assert_eq!(last_seen(&data, PIPE), Value::Int(2));
    assert_eq!(lines(&queue.join("my_queue.jsonl")).len(), 3);

    // The next run sends the new version of 2 and the tombstone of 3, incrementally.
    std::fs::remove_file(&fail).unwrap();
    std::fs::remove_file(queue.join("requests.jsonl")).unwrap();
    let o = run(dir.path(), &data);
    assert!(o.status.success(), "{:?}", text(&o));
    let got = lines(&queue.join("my_queue.jsonl"));
    let all = stored(&data);
    assert_eq!(
        got[3..],
        all[3..],
        "the versions written after the first push"
    );
    assert_eq!(got.len(), 5);
    assert_eq!(got[3]["value"], "changed");
    assert_eq!(got[4]["_id"], "3");
    assert_eq!(got[4]["_deleted"], true);
    let reqs = lines(&queue.join("requests.jsonl"));
    assert!(
        reqs.iter().all(|r| r["args"]["is_full"] == "false"),
        "{reqs:?}"
    );
    assert_eq!(last_seen(&data, PIPE), Value::Int(4));
}
