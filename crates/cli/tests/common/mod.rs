//! Helpers for the end-to-end tests: write a project, run the real `pumphouse` binary, read
//! the store it left behind.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pumphouse"))
}

pub fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

pub fn pumphouse(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("run pumphouse")
}

pub fn run(config: &Path, data: &Path) -> Output {
    pumphouse(&[
        "run",
        "--config",
        config.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ])
}

pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Every version of every dataset plus every pipe's state: what "changes no data" compares.
pub fn snapshot(data: &Path) -> String {
    let store = pumphouse_store::Store::open(data).unwrap();
    let mut out = String::new();
    for id in store.dataset_ids().unwrap() {
        if id.starts_with("system:") {
            continue;
        }
        let info = store.dataset_info(&id).unwrap().unwrap();
        out.push_str(&format!(
            "{id} live={} versions={} populated={}\n",
            info.live_count, info.version_count, info.populated
        ));
        let opts = pumphouse_store::ReadOptions {
            since: None,
            limit: None,
            history: true,
            deleted: true,
        };
        for e in store.read(&id, opts).unwrap() {
            let mut e = e.unwrap();
            e.as_dict_mut().unwrap().shift_remove("_ts");
            out.push_str(&pumphouse_value::transit::to_string(&e));
            out.push('\n');
        }
        let st = store.pipe_state(&id).unwrap();
        out.push_str(&format!(
            "state {id} {}\n",
            pumphouse_value::transit::to_string(&st.last_seen)
        ));
    }
    out
}

pub mod python;

/// Every entity (all versions, deleted too) of the dataset `id`.
pub fn entities(data: &Path, id: &str) -> Vec<pumphouse_value::Value> {
    let store = pumphouse_store::Store::open(data).unwrap();
    if !store.dataset_exists(id).unwrap() {
        return vec![];
    }
    let opts = pumphouse_store::ReadOptions {
        since: None,
        limit: None,
        history: true,
        deleted: true,
    };
    store.read(id, opts).unwrap().map(|e| e.unwrap()).collect()
}

/// The latest version of each live entity of `id`.
pub fn live(data: &Path, id: &str) -> Vec<pumphouse_value::Value> {
    let store = pumphouse_store::Store::open(data).unwrap();
    if !store.dataset_exists(id).unwrap() {
        return vec![];
    }
    store
        .read(id, pumphouse_store::ReadOptions::latest())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| !matches!(e.get("_deleted"), Some(pumphouse_value::Value::Bool(true))))
        .collect()
}

/// The execution log events of `pipe` of one type, oldest first.
pub fn events(data: &Path, pipe: &str, kind: &str) -> Vec<pumphouse_value::Value> {
    entities(data, &format!("system:pump:{pipe}"))
        .into_iter()
        .filter(|e| e.get("event_type").and_then(|t| t.as_str()) == Some(kind))
        .collect()
}

pub fn last_seen(data: &Path, pipe: &str) -> pumphouse_value::Value {
    pumphouse_store::Store::open(data)
        .unwrap()
        .pipe_state(pipe)
        .unwrap()
        .last_seen
}

/// Runs `pumphouse` with `input` on stdin.
pub fn pumphouse_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut c = Command::new(bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}
