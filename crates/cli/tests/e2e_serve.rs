//! `pumphouse serve` end to end, making the HTTP calls sesam-py makes (sesam-py.md 2.6):
//! upload, run, test/verify, update, download, status, wipe and reset; config errors; restart
//! persistence; pump operations and the execution log.

mod common;
mod node;

use std::path::Path;

use node::*;
use serde_json::{json, Value};

/// A sesam-py project: a conditional source on $ENV(node-env), a dataset source, DTL, an
/// endpoint pipe, a system of a type pumphouse does not run, and expected output.
fn project(dir: &Path) {
    project_with(dir, false)
}

/// `manual_only`: `task_manager.disable_user_pipes` (what sesam-py's upload sets): nothing runs
/// unless asked to.
fn project_with(dir: &Path, manual_only: bool) {
    let w = common::write;
    w(
        dir,
        "node-metadata.conf.json",
        &format!(
            r#"{{"_id": "node", "type": "metadata", "task_manager": {{"disable_user_pipes": {manual_only}}}}}"#
        ),
    );
    w(
        dir,
        "systems/email-system.conf.json",
        r#"{"_id": "email-system", "type": "system:smtp", "smtp_server": "localhost"}"#,
    );
    w(
        dir,
        "pipes/people.conf.json",
        r#"{"_id": "people", "type": "pipe",
            "source": {"type": "conditional", "condition": "$ENV(node-env)",
                       "alternatives": {"prod": {"type": "dataset", "dataset": "non_exists"},
                                        "test": {"type": "embedded", "entities": [
                                            {"_id": "1", "name": "Ann", "age": 31},
                                            {"_id": "2", "name": "Bø", "age": 17}]}}}}"#,
    );
    w(
        dir,
        "pipes/adults.conf.json",
        r#"{"_id": "adults", "type": "pipe",
            "source": {"type": "dataset", "dataset": "people"},
            "transform": {"type": "dtl", "rules": {"default": [
                ["filter", ["gte", "_S.age", 18]],
                ["copy", "*"],
                ["add", "greeting", ["concat", "hi ", "_S.name"]]]}}}"#,
    );
    w(
        dir,
        "pipes/adults-endpoint.conf.json",
        r#"{"_id": "adults-endpoint", "type": "pipe",
            "source": {"type": "dataset", "dataset": "adults"}, "sink": {"type": "http_endpoint"}}"#,
    );
    w(dir, "test-env.json", "\u{feff}{\"node-env\": \"test\"}");
}

/// sesam-py's `upload`: PUT env, PUT config (multipart zip), GET pipes.
fn upload(n: &Node, dir: &Path) -> (u16, Value) {
    let env: Value = serde_json::from_str(
        std::fs::read_to_string(dir.join("test-env.json"))
            .unwrap()
            .trim_start_matches('\u{feff}'),
    )
    .unwrap();
    assert_eq!(n.put_json("/env", &env).status(), 200);
    json(n.put_config_multipart(false, "application/zip", project_zip(dir)))
}

/// sesam-py's `run`: stop, then a synchronous run-all-pipes with its usual parameters.
fn run(n: &Node) -> Value {
    let (s, _) = json(n.post("/pipes/stop-run-all-pipes?terminate_timeout=30"));
    assert_eq!(s, 200);
    let (s, v) = json(n.post(
        "/pipes/run-all-pipes?extra_zero_runs=2&max_run_time=900&max_runs=100&request_mode=sync",
    ));
    assert_eq!(s, 200, "{v}");
    v
}

/// The pipe's execution log and its event types in order.
fn events(n: &Node, pipe: &str) -> (Value, Vec<String>) {
    let (_, log) = json(n.get(&format!("/pipes/{pipe}/log")));
    let ev = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect();
    (log, ev)
}

fn ids(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["_id"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn sesam_py_upload_run_verify_download_wipe_reset() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("project");
    project(&dir);
    let mut n = Node::start(&tmp.path().join("data"), &[]);
    assert!(
        n.log().contains("NO AUTHENTICATION"),
        "loopback without auth says so: {}",
        n.log()
    );

    // Every command starts with GET /api/ and needs status.developer_mode.
    let (s, v) = json(n.get("/"));
    assert_eq!((s, &v["status"]["developer_mode"]), (200, &json!(true)));

    // upload
    let (s, v) = upload(&n, &dir);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["validation_errors"], json!([]));
    let (_, pipes) = json(n.get("/pipes"));
    assert_eq!(ids(&pipes), ["adults", "adults-endpoint", "people"]);
    for p in pipes.as_array().unwrap() {
        assert_eq!(p["runtime"]["state"], "Deployed");
        assert_eq!(p["runtime"]["is-valid-config"], true, "{p}");
        if p["_id"] == "people" {
            // The default sink is in the effective config (sesam-py classifies pipes by it).
            assert_eq!(
                p["config"]["effective"]["sink"],
                json!({"type": "dataset", "dataset": "people"})
            );
        }
    }
    let (s, _) = json(n.get("/pipes/Adults"));
    assert_eq!(s, 404, "ids are case-sensitive");

    // run
    let v = run(&n);
    assert_eq!(v["status"], "success", "{v}");

    // test/verify (and update, which makes the same calls): the endpoint pipe's output.
    let (s, out) = json(n.get("/pipes/adults-endpoint/entities"));
    assert_eq!(s, 200);
    let out = out.as_array().unwrap();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        (&out[0]["_id"], &out[0]["greeting"]),
        (&json!("1"), &json!("hi Ann"))
    );
    let (_, pump) = json(n.get("/pipes/adults-endpoint/pump"));
    assert_eq!(pump["runtime"]["is-disabled"], false);
    let (_, src) = json(n.get("/pipes/people/entities?stage=source"));
    assert_eq!(src.as_array().unwrap().len(), 2);

    // The datasets the run wrote, streamed with JSON pull parameters and headers.
    let r = n.get("/datasets/people/entities?since=0&limit=10&history=False&deleted=False");
    assert_eq!(r.headers()["x-dataset-populated"], "true");
    let (_, e) = json(r);
    assert_eq!(ids(&e), ["2"], "since=0 skips the entity at offset 0");
    let (s, e) = json(n.get("/datasets/people/entity?entity_id=2"));
    assert_eq!((s, &e["name"]), (200, &json!("Bø")));

    // download / status
    let (_, env) = json(n.get("/env"));
    assert_eq!(env, json!({"node-env": "test"}));
    let r = n.auth_get_zip("/config");
    assert_eq!(r.headers()["content-type"], "application/zip");
    let files = pumphouse_api::zip::read(&r.bytes().unwrap()).unwrap();
    let mut names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "node-metadata.conf.json",
            "pipes/adults-endpoint.conf.json",
            "pipes/adults.conf.json",
            "pipes/people.conf.json",
            "systems/email-system.conf.json"
        ]
    );
    for (name, bytes) in &files {
        let remote: Value = serde_json::from_slice(bytes).unwrap();
        let local: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        assert_eq!(remote, local, "{name} round-trips");
    }

    // wipe: metadata only, then [], then env {}.
    let meta =
        json!([{"_id": "node", "type": "metadata", "task_manager": {"disable_user_pipes": true}}]);
    let (s, _) =
        json(n.put_config_multipart(true, "application/json", meta.to_string().into_bytes()));
    assert_eq!(s, 200);
    let (s, _) = json(n.put_config_multipart(true, "application/json", b"[]".to_vec()));
    assert_eq!(s, 200);
    assert_eq!(n.put_json("/env", &json!({})).status(), 200);
    assert_eq!(json(n.get("/pipes")).1, json!([]));
    assert_eq!(json(n.get("/systems")).1, json!([]));

    // reset: exactly {"message": "OK"} and a new node_start_time; the datasets are gone.
    let (_, before) = json(n.get("/status"));
    let (s, v) = json(n.post_form("/admin", &[("operation", "reset")]));
    assert_eq!((s, v), (200, json!({"message": "OK"})));
    let (_, after) = json(n.get("/status"));
    assert_ne!(before["node_start_time"], after["node_start_time"]);
    assert_eq!(json(n.get("/datasets")).1, json!([]));
    n.stop();
}

#[test]
fn invalid_config_is_rejected_whole_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("project");
    project(&dir);
    let n = Node::start(&tmp.path().join("data"), &[]);
    assert_eq!(upload(&n, &dir).0, 200);
    let bad = json!([
        {"_id": "good", "type": "pipe", "source": {"type": "embedded", "entities": []}},
        {"_id": "bad", "type": "pipe", "source": {"type": "dataset", "dataset": "nowhere"}}
    ]);
    let (s, v) =
        json(n.put_config_multipart(false, "application/json", bad.to_string().into_bytes()));
    assert_eq!(s, 400);
    let errs = v["validation_errors"].as_array().unwrap();
    assert_eq!(errs.len(), 1, "{v}");
    assert_eq!(errs[0]["posted-config"]["_id"], "bad");
    let e = &errs[0]["config-errors"][0];
    assert_eq!(
        (&e["level"], &e["elements"]),
        (&json!("error"), &json!("$.source.dataset"))
    );
    assert!(e["msg"].as_str().unwrap().contains("nowhere"), "{e}");
    // Nothing changed.
    assert_eq!(
        ids(&json(n.get("/pipes")).1),
        ["adults", "adults-endpoint", "people"]
    );

    // force=true applies the valid part and marks the invalid pipe.
    let (s, v) =
        json(n.put_config_multipart(true, "application/json", bad.to_string().into_bytes()));
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["validation_errors"][0]["posted-config"]["_id"], "bad");
    let (_, p) = json(n.get("/pipes/bad"));
    assert_eq!(p["runtime"]["is-valid-config"], false);
    assert_eq!(p["config"]["effective"]["sink"]["dataset"], "bad");
    let (s, v) = json(n.post_form("/pipes/bad/pump", &[("operation", "start")]));
    assert_eq!(s, 400, "{v}");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("configuration errors"));

    // Bad bodies get one clear 400.
    let (s, v) = json(n.put_config_multipart(false, "application/json", b"{not json".to_vec()));
    assert_eq!(s, 400);
    assert!(
        v["message"].as_str().unwrap().contains("not valid JSON"),
        "{v}"
    );
    let (s, v) = json(n.post_form("/pipes/good/pump", &[("operation", "explode")]));
    assert_eq!(s, 400);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("doesn't support the operation"),
        "{v}"
    );
    let (s, _) = json(n.get("/datasets/nope/entities"));
    assert_eq!(s, 404);
}

#[test]
fn config_and_data_survive_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("project");
    project_with(&dir, true);
    let data = tmp.path().join("data");
    let mut n = Node::start(&data, &["--config", dir.to_str().unwrap()]);
    assert_eq!(
        ids(&json(n.get("/pipes")).1),
        ["adults", "adults-endpoint", "people"],
        "imported from --config"
    );
    assert_eq!(run(&n)["status"], "success");
    // A change through the API.
    let (s, _) = json(n.put_json(
        "/pipes/people/config",
        &json!({"type": "pipe", "source": {"type": "embedded", "entities": [{"_id": "9"}]}}),
    ));
    assert_eq!(s, 200);
    assert_eq!(
        json(n.post_form(
            "/pipes/adults/pump",
            &[("operation", "disable"), ("comment", "maintenance")]
        ))
        .0,
        200
    );
    let log = n.stop();
    assert!(log.contains("stopped cleanly"), "{log}");

    // Same --config folder, unchanged: the API's change is kept, and so are data and offsets.
    let n = Node::start(&data, &["--config", dir.to_str().unwrap()]);
    let (_, cfg) = json(n.get("/pipes/people/config"));
    assert_eq!(cfg["source"]["entities"], json!([{"_id": "9"}]));
    assert_eq!(
        json(n.get("/pipes/adults/pump")).1["runtime"]["is-disabled"],
        true
    );
    assert_eq!(
        json(n.get("/datasets/adults")).1["runtime"]["count-index-exists"],
        1
    );
    let (_, pump) = json(n.get("/pipes/adults/pump"));
    assert_eq!(pump["runtime"]["last-seen"], "1", "the offset survived");
    let (log, events) = events(&n, "adults");
    assert_eq!(events, ["pump-started", "pump-completed", "pump-disabled"]);
    assert_eq!(log[2]["comment"], "maintenance");
}

#[test]
fn pump_operations_and_execution_log() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("project");
    project_with(&dir, true);
    let n = Node::start(
        &tmp.path().join("data"),
        &["--config", dir.to_str().unwrap()],
    );
    // start runs in the background; wait for it.
    let (s, v) = json(n.post_form("/pipes/people/pump", &[("operation", "start")]));
    assert_eq!(s, 200, "{v}");
    let done = |id: &str| {
        for _ in 0..400 {
            let (_, p) = json(n.get(&format!("/pipes/{id}/pump")));
            if p["runtime"]["is-running"] == false && p["runtime"]["last-run"].is_string() {
                return p;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("pipe {id} did not finish");
    };
    assert_eq!(done("people")["runtime"]["success"], true);
    assert_eq!(
        json(n.post_form("/pipes/adults/pump", &[("operation", "start")])).0,
        200
    );
    assert_eq!(done("adults")["runtime"]["last-seen"], "1");

    // update-last-seen with "" resets; a number sets; bad input says what to give.
    let (s, p) = json(n.post_form(
        "/pipes/adults/pump",
        &[("operation", "update-last-seen"), ("last-seen", "")],
    ));
    assert_eq!((s, &p["runtime"]["last-seen"]), (200, &Value::Null));
    let (s, v) = json(n.post_form(
        "/pipes/adults/pump",
        &[("operation", "update-last-seen"), ("last-seen", "abc")],
    ));
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        json(n.post_form("/pipes/adults/pump", &[("operation", "disable")])).1["runtime"]
            ["is-disabled"],
        true
    );
    assert_eq!(
        json(n.post_form("/pipes/adults/pump", &[("operation", "enable")])).1["runtime"]
            ["is-disabled"],
        false
    );

    let (log, events) = events(&n, "adults");
    assert_eq!(
        events,
        [
            "pump-started",
            "pump-completed",
            "pump-offset-set",
            "pump-disabled",
            "pump-enabled"
        ]
    );
    assert_eq!(
        (&log[1]["processed_last_run"], &log[1]["changes_last_run"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(log[2]["is_reset"], true);

    // async run-all with a token, status polling and the log sesam-py prints.
    let (_, v) =
        json(n.post("/pipes/run-all-pipes?request_mode=async&delete_input_datasets=False"));
    let token = v["token"].as_str().unwrap().to_string();
    let mut status = String::new();
    for _ in 0..400 {
        status = json(n.get(&format!("/pipes/get-pipe-runner-status?token={token}"))).1["status"]
            .as_str()
            .unwrap()
            .to_string();
        if status != "running" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert_eq!(status, "success");
    let (_, lines) = json(n.get(&format!("/pipes/get-run-all-pipes-log?token={token}")));
    let lines = lines.as_array().unwrap();
    assert!(lines.len() >= 3, "{lines:?}");
    let since = lines[1]["timestamp"].as_str().unwrap();
    let (_, rest) = json(n.get(&format!(
        "/pipes/get-run-all-pipes-log?token={token}&since={since}"
    )));
    assert_eq!(rest.as_array().unwrap().len(), lines.len() - 2);
    assert_eq!(
        json(n.get("/pipes/get-pipe-runner-status?token=other")).1["status"],
        "not-running"
    );

    // delete-all-sink-datasets
    let (s, v) = json(n.post("/pipes/delete-all-sink-datasets"));
    assert_eq!(s, 200, "{v}");
    assert_eq!(json(n.get("/datasets/people")).0, 404);
}

#[test]
fn a_pipe_runs_soon_after_its_input_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("project");
    project(&dir);
    let n = Node::start(
        &tmp.path().join("data"),
        &["--config", dir.to_str().unwrap()],
    );
    // Only `people` is started; `adults` (dataset source, 30 s default interval) and then
    // `adults-endpoint`... are signalled by the change of their input dataset.
    let (s, v) = json(n.post_form("/pipes/people/pump", &[("operation", "start")]));
    assert_eq!(s, 200, "{v}");
    for _ in 0..400 {
        let (s, d) = json(n.get("/datasets/adults"));
        if s == 200 && d["runtime"]["count-index-exists"] == 1 {
            let (_, log) = json(n.get("/pipes/adults/log"));
            assert_eq!(log[0]["trigger"], "input-changed", "{log}");
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("adults did not run after people changed its input");
}

#[test]
fn off_loopback_needs_a_key_and_tokens_stay_out_of_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data_s = data.to_str().unwrap();
    let o = common::pumphouse(&["serve", "--data", data_s, "--listen", "0.0.0.0:9"]);
    let (_, err) = common::text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("refusing to listen on 0.0.0.0:9 without authentication")
            && err.contains("--jwt-key"),
        "{err}"
    );

    let key = tmp.path().join("key");
    std::fs::write(&key, "a-long-random-signing-secret-0123456789").unwrap();
    let o = common::pumphouse(&[
        "token",
        "--key",
        key.to_str().unwrap(),
        "--role",
        "read-only",
    ]);
    let token = common::text(&o).0.trim().to_string();
    let mut n = Node::start(&data, &["--jwt-key", key.to_str().unwrap()]);
    n.token = "not-a-valid-token-secret-xyz".into();
    assert_eq!(n.get("/pipes").status(), 401);
    n.token = token.clone();
    assert_eq!(n.get("/pipes").status(), 200);
    let (s, v) = json(n.post_form("/admin", &[("operation", "reset")]));
    assert_eq!(s, 403, "{v}");
    let log = n.stop();
    assert!(!log.contains("NO AUTHENTICATION"));
    for secret in [
        "not-a-valid-token-secret-xyz",
        token.as_str(),
        "a-long-random-signing-secret",
    ] {
        assert!(!log.contains(secret), "the log shows a secret: {log}");
    }
}

#[test]
fn sigterm_stops_a_run_between_batches_and_a_restart_finishes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("project");
    let n_entities = 400_000;
    let mut ents = String::with_capacity(n_entities * 40);
    for i in 0..n_entities {
        if i > 0 {
            ents.push(',');
        }
        ents.push_str(&format!(r#"{{"_id": "e{i}", "v": {i}}}"#));
    }
    common::write(
        &dir,
        "node-metadata.conf.json",
        r#"{"_id": "node", "type": "metadata", "task_manager": {"disable_user_pipes": true}}"#,
    );
    common::write(
        &dir,
        "pipes/big.conf.json",
        &format!(
            r#"{{"_id": "big", "type": "pipe", "batch_size": 1000, "source": {{"type": "embedded", "entities": [{ents}]}}}}"#
        ),
    );
    let data = tmp.path().join("data");
    let mut n = Node::start(&data, &["--config", dir.to_str().unwrap()]);
    assert_eq!(
        json(n.post_form("/pipes/big/pump", &[("operation", "start")])).0,
        200
    );
    // Wait until the run has committed something, then stop the node.
    let mut running = false;
    for _ in 0..2000 {
        let (_, p) = json(n.get("/pipes/big/pump"));
        if p["runtime"]["progress"]["processed"].as_u64().unwrap_or(0) > 0 {
            running = p["runtime"]["is-running"] == true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(running, "the run was still going when SIGTERM was sent");
    let log = n.stop();
    assert!(log.contains("stopped cleanly"), "{log}");

    let n = Node::start(&data, &["--config", dir.to_str().unwrap()]);
    let (log, ev) = events(&n, "big");
    assert_eq!(ev, ["pump-started", "pump-failed"]);
    assert_eq!(log[1]["reason_why_stopped"], "stopped on request");
    let count = json(n.get("/datasets/big")).1["runtime"]["count-index-exists"]
        .as_u64()
        .unwrap();
    assert!(count > 0 && count < n_entities as u64, "{count}");
    assert_eq!(count % 1000, 0, "whole batches only: {count}");
    // The next run completes the job.
    assert_eq!(
        json(n.post_form("/pipes/big/pump", &[("operation", "start")])).0,
        200
    );
    for _ in 0..2000 {
        let (_, p) = json(n.get("/pipes/big/pump"));
        if p["runtime"]["is-running"] == false && p["runtime"]["success"] == true {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let count = json(n.get("/datasets/big")).1["runtime"]["count-index-exists"]
        .as_u64()
        .unwrap();
    assert_eq!(count, n_entities as u64);
}

/// Regression: run-all-pipes with `delete_input_datasets=False` (sesam-py's `test` with a
/// testdata/ folder) must keep what a conditional source resolving to `http_endpoint` received.
#[test]
fn run_all_keeps_received_data_of_conditional_http_endpoint_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let n = Node::start(&tmp.path().join("data"), &[]);
    let config = json!([
        {"_id": "input", "type": "pipe", "source": {"type": "conditional", "condition": "test",
            "alternatives": {"prod": {"type": "dataset", "dataset": "non_exists"}, "test": {"type": "http_endpoint"}}}},
        {"_id": "output", "type": "pipe", "source": {"type": "dataset", "dataset": "input"}, "sink": {"type": "http_endpoint"}}
    ]);
    let (s, v) =
        json(n.put_config_multipart(false, "application/json", config.to_string().into_bytes()));
    assert_eq!(s, 200, "{v}");
    let (s, v) = json(n.post_json(
        "/receivers/input/entities",
        &json!([{"_id": "a", "name": "ø"}]),
    ));
    assert_eq!(s, 200, "{v}");
    let (_, v) = json(n.post(
        "/pipes/run-all-pipes?extra_zero_runs=2&delete_input_datasets=False&request_mode=sync",
    ));
    assert_eq!(v["status"], "success", "{v}");
    let (_, out) = json(n.get("/pipes/output/entities"));
    assert_eq!(ids(&out), ["a"]);
}

/// Completeness through the endpoints (sesam-spec 2.6): a receiver takes the sender's
/// `X-Dataset-Completeness`, and a publisher whose dataset source filters on completeness
/// serves only what was written up to it.
#[test]
fn receivers_take_x_dataset_completeness_and_publishers_filter_on_it() {
    let tmp = tempfile::tempdir().unwrap();
    let n = Node::start(&tmp.path().join("data"), &[]);
    let config = json!([
        {"_id": "input", "type": "pipe", "source": {"type": "http_endpoint"}},
        {"_id": "complete", "type": "pipe",
         "source": {"type": "dataset", "dataset": "input", "completeness": true},
         "sink": {"type": "http_endpoint"}}
    ]);
    let (s, v) =
        json(n.put_config_multipart(false, "application/json", config.to_string().into_bytes()));
    assert_eq!(s, 200, "{v}");
    let post = |body: Value, completeness: Option<&str>| {
        let mut r = n
            .client
            .post(format!("{}/receivers/input/entities", n.base))
            .bearer_auth(&n.token)
            .json(&body);
        if let Some(c) = completeness {
            r = r.header("X-Dataset-Completeness", c);
        }
        r.send().unwrap()
    };
    // A completeness far in the past: nothing received now is complete by it.
    let r = post(json!([{"_id": "a"}]), Some("1000000"));
    assert_eq!(r.status(), 200);
    let (_, out) = json(n.get("/publishers/complete/entities"));
    assert_eq!(ids(&out), Vec::<String>::new());

    // Without the header the receiver's completeness is the time of the commit.
    let r = post(json!([{"_id": "b"}]), None);
    assert_eq!(r.status(), 200);
    let (_, out) = json(n.get("/publishers/complete/entities"));
    assert_eq!(ids(&out), ["a", "b"]);

    let r = post(json!([{"_id": "c"}]), Some("soon"));
    assert_eq!(
        r.status(),
        400,
        "a completeness that is not a positive integer"
    );
    let (s, v) = json(n.get("/datasets/input/entities"));
    assert_eq!(s, 200);
    assert_eq!(ids(&v), ["a", "b"], "a rejected request changes nothing");
}
