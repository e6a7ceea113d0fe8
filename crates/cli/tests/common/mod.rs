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
