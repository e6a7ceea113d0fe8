//! Seeds 02 and 03 end to end: the HubSpot source microservice of the tutorials (Python,
//! Flask, run through the `process` runtime) in front of a fake HubSpot CRM v3 API; the
//! `hubspot-contacts-collect` pipe with a `json` source. Covers the full import, continuation
//! (`since`, `_updated`, max strategy), resetting last-seen, a failing CRM (nothing changes,
//! the next run catches up) and that the API token, set as a secret, never shows up in any
//! output, log or dataset.

mod common;

use std::path::Path;

use common::python::{self, FakeHubspot};
use common::*;
use pumphouse_value::Value;
use serde_json::json;

const TOKEN: &str = "pat-na1-5e3b-planted-secret-7c1d";
const PIPE: &str = "hubspot-contacts-collect";

/// A project holding the seed's system (with `process` instead of an image) and `pipe`.
fn project(dir: &Path, fake: &FakeHubspot, pipe: serde_json::Value, continuation: bool) {
    let mut env = json!({
        "api-key": "$SECRET(hubspot-api-key)",
        "base-url": "$ENV(hubspot-base-url)"
    });
    if continuation {
        env["since-field"] = json!("lastmodifieddate");
        env["since-operator"] = json!("GT");
    }
    let system = json!({
        "_id": "hubspot",
        "type": "system:microservice",
        "docker": {"environment": env, "image": "<image-url>:<image-tag>", "port": 5000},
        "process": {"command": ["python3", "hubspot_service.py"], "cwd": "services"},
        "verify_ssl": true
    });
    write(dir, "systems/hubspot.conf.json", &system.to_string());
    write(dir, &format!("pipes/{PIPE}.conf.json"), &pipe.to_string());
    write(
        dir,
        "test-env.json",
        &json!({"hubspot-base-url": fake.base_url()}).to_string(),
    );
    std::fs::create_dir_all(dir.join("services")).unwrap();
    std::fs::copy(
        python::services_dir().join("hubspot_service.py"),
        dir.join("services/hubspot_service.py"),
    )
    .unwrap();
}

fn seed_pipe(supports_since: bool) -> serde_json::Value {
    let mut p = json!({
        "_id": PIPE,
        "type": "pipe",
        "source": {"type": "json", "system": "hubspot", "completeness": false, "url": "get_contacts"},
        "transform": {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "_id", "_S.id"]]}},
        "add_namespaces": false
    });
    if supports_since {
        p["source"]["supports_since"] = json!(true);
        p["pump"] = json!({"rescan_cron_expression": "0 0 ? * *"});
    }
    p
}

fn contacts(from: u32, to: u32, tag: &str) -> serde_json::Value {
    json!((from..to)
        .map(|i| json!({"id": i.to_string(), "properties": {
            "email": format!("c{i}@example.com"), "firstname": format!("{tag}{i}"), "lastname": "Nordmann"}}))
        .collect::<Vec<_>>())
}

fn set_secret(data: &Path) {
    let o = pumphouse_stdin(
        &[
            "secrets",
            "--data",
            data.to_str().unwrap(),
            "set",
            "hubspot-api-key",
        ],
        &format!("{TOKEN}\n"),
    );
    assert!(o.status.success(), "{:?}", text(&o));
}

fn run_ok(dir: &Path, data: &Path, outputs: &mut Vec<String>) {
    let o = run(dir, data);
    let (out, err) = text(&o);
    outputs.push(out.clone() + &err);
    assert!(o.status.success(), "run failed:\n{out}\n{err}");
}

fn last_completed(data: &Path) -> Value {
    events(data, PIPE, "pump-completed")
        .pop()
        .expect("a pump-completed event")
}

fn int(v: &Value, k: &str) -> i64 {
    v.get(k).and_then(Value::as_i64).unwrap_or(-1)
}

fn firstname(data: &Path, id: &str) -> String {
    live(data, PIPE)
        .into_iter()
        .find(|e| e.get("_id").and_then(Value::as_str) == Some(id))
        .and_then(|e| {
            e.get("properties")?
                .get("firstname")?
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_default()
}

/// No output, log, dataset or file in the data folder contains the planted secret.
fn assert_secret_never_leaks(data: &Path, outputs: &[String]) {
    for o in outputs {
        assert!(!o.contains(TOKEN), "the secret appears in the output:\n{o}");
    }
    let store = pumphouse_store::Store::open(data).unwrap();
    for id in store.dataset_ids().unwrap() {
        for e in entities(data, &id) {
            let t = pumphouse_value::transit::to_string(&e);
            assert!(
                !t.contains(TOKEN),
                "the secret appears in dataset {id}: {t}"
            );
        }
    }
    drop(store);
    let mut stack = vec![data.to_path_buf()];
    while let Some(d) = stack.pop() {
        for ent in std::fs::read_dir(&d).unwrap().flatten() {
            let p = ent.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                assert!(
                    !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
                    "the secret appears in plain text in {}",
                    p.display()
                );
            }
        }
    }
}

#[test]
fn seed02_imports_every_contact() {
    if !python::ready() {
        return;
    }
    let fake = FakeHubspot::start(TOKEN);
    fake.upsert(contacts(101, 351, "Ola"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    project(dir.path(), &fake, seed_pipe(false), false);

    // Without the secret the pipe cannot run and says why.
    let o = run(dir.path(), &data);
    let (out, err) = text(&o);
    assert!(
        (out.clone() + &err).contains("hubspot-api-key"),
        "{out}\n{err}"
    );
    assert!(live(&data, PIPE).is_empty());

    set_secret(&data);
    let mut outputs = vec![];
    run_ok(dir.path(), &data, &mut outputs);
    let got = live(&data, PIPE);
    assert_eq!(got.len(), 250, "every contact, across pages of 100");
    for e in &got {
        let id = e.get("_id").and_then(Value::as_str).unwrap();
        assert_eq!(
            e.get("id").and_then(Value::as_str),
            Some(id),
            "_id from _S.id"
        );
        // add_namespaces false: the properties keep their names.
        assert!(e.get("properties").is_some(), "{e:?}");
    }
    assert_eq!(firstname(&data, "200"), "Ola200");
    let c = last_completed(&data);
    assert_eq!(int(&c, "processed_last_run"), 250);
    // No continuation: the next run reads everything again (the list endpoint, no search).
    fake.upsert(contacts(200, 201, "Kari"));
    fake.clear_requests();
    run_ok(dir.path(), &data, &mut outputs);
    assert_eq!(int(&last_completed(&data), "processed_last_run"), 250);
    assert_eq!(firstname(&data, "200"), "Kari200");
    assert!(fake.requests().iter().all(|r| r["method"] == "GET"));
    assert_eq!(last_seen(&data, PIPE), Value::Null);
    assert_secret_never_leaks(&data, &outputs);
}

#[test]
fn seed03_continuation_failure_and_catch_up() {
    if !python::ready() {
        return;
    }
    let fake = FakeHubspot::start(TOKEN);
    let first_max = fake.upsert(contacts(101, 251, "Ola"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    project(dir.path(), &fake, seed_pipe(true), true);
    set_secret(&data);
    let mut outputs = vec![];

    // 1. The first run is full and stores the highest _updated.
    run_ok(dir.path(), &data, &mut outputs);
    assert_eq!(live(&data, PIPE).len(), 150);
    let c = last_completed(&data);
    assert_eq!(int(&c, "processed_last_run"), 150);
    assert_eq!(c.get("sync_type").and_then(Value::as_str), Some("full"));
    assert_eq!(last_seen(&data, PIPE), Value::String(first_max.clone()));

    // 2. Three contacts change: the next run sends since and imports only those.
    fake.upsert(contacts(120, 121, "Changed"));
    fake.upsert(contacts(180, 181, "Changed"));
    let second_max = fake.upsert(contacts(249, 250, "Changed"));
    fake.clear_requests();
    run_ok(dir.path(), &data, &mut outputs);
    let c = last_completed(&data);
    assert_eq!(int(&c, "processed_last_run"), 3);
    assert_eq!(int(&c, "changes_last_run"), 3);
    assert_eq!(
        c.get("sync_type").and_then(Value::as_str),
        Some("incremental")
    );
    assert_eq!(last_seen(&data, PIPE), Value::String(second_max.clone()));
    assert_eq!(firstname(&data, "180"), "Changed180");
    let reqs = fake.requests();
    assert!(
        reqs.iter()
            .any(|r| r["path"] == "/crm/v3/objects/contacts/search"
                && r["body"]["filterGroups"][0]["filters"][0]["operator"] == "GT"),
        "{reqs:?}"
    );
    assert!(reqs.iter().all(|r| r["method"] == "POST"), "{reqs:?}");

    // 3. update-last-seen to empty: the next run is full again.
    let o = pumphouse(&["update-last-seen", "--data", data.to_str().unwrap(), PIPE]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(last_seen(&data, PIPE), Value::Null);
    fake.clear_requests();
    let o = run(dir.path(), &data);
    let (out, _) = text(&o);
    assert!(o.status.success());
    let line = out.lines().find(|l| l.starts_with(PIPE)).unwrap();
    assert_eq!(line.split_whitespace().nth(1), Some("150"), "{out}");
    assert!(fake.requests().iter().all(|r| r["method"] == "GET"));
    assert_eq!(last_seen(&data, PIPE), Value::String(second_max.clone()));

    // 4. The CRM fails: the run fails with the cause in the execution log and changes nothing.
    fake.upsert(contacts(130, 131, "Lost?"));
    let third_max = fake.upsert(contacts(140, 141, "Lost?"));
    fake.fail(Some(500));
    let before = snapshot(&data);
    let o = run(dir.path(), &data);
    let (out, err) = text(&o);
    outputs.push(out.clone() + &err);
    assert!(!o.status.success(), "{out}\n{err}");
    assert!(err.contains("500"), "{err}");
    let failed = events(&data, PIPE, "pump-failed")
        .pop()
        .expect("pump-failed");
    let msg = failed
        .get("message")
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    assert!(msg.contains("500"), "{msg}");
    assert!(
        msg.contains("Unexpected response status code: 500"),
        "the microservice's error is in the message: {msg}"
    );
    assert_eq!(
        snapshot(&data),
        before,
        "a failed run changes no data and no offset"
    );

    // 5. The next good run catches up with nothing lost.
    fake.fail(None);
    run_ok(dir.path(), &data, &mut outputs);
    let c = last_completed(&data);
    assert_eq!(int(&c, "processed_last_run"), 2);
    assert_eq!(firstname(&data, "130"), "Lost?130");
    assert_eq!(firstname(&data, "140"), "Lost?140");
    assert_eq!(last_seen(&data, PIPE), Value::String(third_max));
    assert_eq!(live(&data, PIPE).len(), 150);
    assert_secret_never_leaks(&data, &outputs);
}

/// Seed 03: the pump's `rescan_cron_expression` ("0 0 ? * *", midnight UTC) — not an API call
/// — makes the next run of the continuation pipe a full run: no `since`, every contact read,
/// and a contact archived in the CRM (which incremental runs cannot see) deleted. The node
/// runs in this process on a manual clock, with its real scheduler driver, microservice and
/// store.
#[test]
fn seed03_rescan_cron_runs_a_full_rescan() {
    use pumphouse_runtime::node::{Node, NodeOptions};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    if !python::ready() {
        return;
    }
    let fake = FakeHubspot::start(TOKEN);
    fake.upsert(contacts(101, 141, "Ola"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    project(dir.path(), &fake, seed_pipe(true), true);
    set_secret(&data);
    // 2026-03-01T22:00:00Z.
    let clock = Arc::new(pumphouse_store::ManualClock::new(1_772_402_400_000_000));
    let mut opts = NodeOptions::new(data.clone());
    opts.import = Some(dir.path().to_path_buf());
    opts.clock = clock.clone();
    let node = Node::open(opts).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    node.reschedule(false);
    let driver = rt.spawn(pumphouse_runtime::pump::driver::drive(
        node.clone(),
        stop_rx,
    ));

    let completed = |node: &Node| -> Vec<Value> {
        node.store
            .read(
                &format!("system:pump:{PIPE}"),
                pumphouse_store::ReadOptions::all(),
            )
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.get("event_type").and_then(Value::as_str) == Some("pump-completed"))
            .collect()
    };
    let live_ids = |node: &Node| -> Vec<String> {
        node.store
            .read(PIPE, pumphouse_store::ReadOptions::latest())
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.get("_deleted") != Some(&Value::Bool(true)))
            .map(|e| e.get("_id").and_then(Value::as_str).unwrap().to_string())
            .collect()
    };

    // The node starts the microservice in the background; the first run, right away, waits
    // for it to listen instead of failing.
    // A full first run, then an incremental one that sees two changes but not the archive.
    node.run_pipe(PIPE, "test", false, true).unwrap();
    assert_eq!(live_ids(&node).len(), 40);
    fake.upsert(contacts(110, 112, "Changed"));
    fake.archive("120");
    node.run_pipe(PIPE, "test", false, true).unwrap();
    let c = completed(&node).pop().unwrap();
    assert_eq!(
        c.get("sync_type").and_then(Value::as_str),
        Some("incremental")
    );
    assert_eq!(int(&c, "processed_last_run"), 2);
    assert!(live_ids(&node).contains(&"120".to_string()));

    // Just before midnight nothing is due; a minute after, the rescan runs by itself.
    let runs_before = completed(&node).len();
    clock.set(1_772_402_400_000_000 + (2 * 3600 - 1) * 1_000_000);
    node.wake.notify_one();
    std::thread::sleep(Duration::from_millis(500));
    assert!(completed(&node)[runs_before..]
        .iter()
        .all(|e| e.get("sync_type").and_then(Value::as_str) != Some("full")));
    fake.clear_requests();
    clock.set(1_772_402_400_000_000 + (2 * 3600 + 60) * 1_000_000);
    node.wake.notify_one();
    let until = Instant::now() + Duration::from_secs(60);
    let rescan = loop {
        let full = completed(&node)[runs_before..]
            .iter()
            .find(|e| e.get("sync_type").and_then(Value::as_str) == Some("full"))
            .cloned();
        if let Some(f) = full {
            break f;
        }
        assert!(Instant::now() < until, "no rescan ran after midnight");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(int(&rescan, "processed_last_run"), 39);
    let reqs = fake.requests();
    assert!(
        !reqs.is_empty() && reqs.iter().all(|r| r["method"] == "GET"),
        "a rescan lists every contact, without a since search: {reqs:?}"
    );
    let ids = live_ids(&node);
    assert_eq!(ids.len(), 39);
    assert!(
        !ids.contains(&"120".to_string()),
        "the archived contact is deleted"
    );
    let started: Vec<Value> = node
        .store
        .read(
            &format!("system:pump:{PIPE}"),
            pumphouse_store::ReadOptions::all(),
        )
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.get("event_type").and_then(Value::as_str) == Some("pump-started"))
        .collect();
    let last = started.last().unwrap();
    assert_eq!(
        last.get("trigger").and_then(Value::as_str),
        Some("rescan"),
        "{last:?}"
    );

    let _ = stop_tx.send(true);
    rt.block_on(driver).unwrap();
    node.shutdown(Duration::from_secs(10));
}
