//! The user-facing commands end to end: `test` and `update` on a sesam-py-shaped project,
//! `dtl`, `datasets`, `entities`, and deletion tracking across runs.

mod common;

use std::path::Path;

use common::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fair_weather")
}

#[test]
fn test_passes_and_update_reproduces_the_expected_files() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), dir.path());
    let o = pumphouse(&["test", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{:?}", text(&o));
    let before: Vec<Vec<u8>> = ["output-pipe1.json", "output-pipe-csv.csv"]
        .iter()
        .map(|f| std::fs::read(dir.path().join("expected").join(f)).unwrap())
        .collect();
    let o = pumphouse(&["update", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{:?}", text(&o));
    let after: Vec<Vec<u8>> = ["output-pipe1.json", "output-pipe-csv.csv"]
        .iter()
        .map(|f| std::fs::read(dir.path().join("expected").join(f)).unwrap())
        .collect();
    assert_eq!(
        before, after,
        "update must reproduce the expected files byte for byte"
    );
}

#[test]
fn test_fails_with_a_diff_when_output_changes() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), dir.path());
    let p = dir.path().join("pipes/input-pipe1.conf.json");
    let text0 = std::fs::read_to_string(&p)
        .unwrap()
        .replace("\"name\": \"test2\"", "\"name\": \"changed\"");
    std::fs::write(&p, text0).unwrap();
    let o = pumphouse(&["test", dir.path().to_str().unwrap()]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("output-pipe1") && err.contains("changed"),
        "{err}"
    );
    assert!(err.contains("CSV output differs"), "{err}");
}

#[test]
fn dtl_command_prints_results() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "rules.json",
        r#"{"default": [["copy", "_id"], ["add", "n", ["upper", "_S.name"]], ["create", ["list", {"_id": "extra"}]]]}"#,
    );
    write(dir.path(), "in.json", r#"[{"_id": "1", "name": "ann"}]"#);
    let o = pumphouse(&[
        "dtl",
        "--rules",
        dir.path().join("rules.json").to_str().unwrap(),
        "--input",
        dir.path().join("in.json").to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        serde_json::json!([{"_id": "1", "n": "ANN"}, {"_id": "extra"}])
    );
    write(
        dir.path(),
        "bad.json",
        r#"{"default": [["copy", "_id"], ["add", "n", ["uper", "_S.name"]]]}"#,
    );
    let o = pumphouse(&[
        "dtl",
        "--rules",
        dir.path().join("bad.json").to_str().unwrap(),
        "--input",
        dir.path().join("in.json").to_str().unwrap(),
    ]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("bad.json:1:") && err.contains("$.default[1][2]") && err.contains("upper"),
        "{err}"
    );
}

#[test]
fn removed_entities_are_deleted_downstream_and_history_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("p");
    let data = dir.path().join("d");
    let pipe = |ents: &str| {
        format!(
            r#"{{"_id": "a", "type": "pipe", "source": {{"type": "embedded", "entities": {ents}}}}}"#
        )
    };
    write(
        &cfg,
        "pipes/a.conf.json",
        &pipe(r#"[{"_id": "1", "v": 1}, {"_id": "2", "v": 1}]"#),
    );
    write(
        &cfg,
        "pipes/b.conf.json",
        r#"{"_id": "b", "type": "pipe", "source": {"type": "dataset", "dataset": "a"}, "transform": {"type": "dtl", "rules": {"default": [["copy", "*"]]}}}"#,
    );
    assert!(run(&cfg, &data).status.success());
    write(
        &cfg,
        "pipes/a.conf.json",
        &pipe(r#"[{"_id": "1", "v": 2}]"#),
    );
    let o = run(&cfg, &data);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = pumphouse(&["entities", "--data", data.to_str().unwrap(), "b"]);
    let v: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    let latest: Vec<(String, bool)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["_id"].as_str().unwrap().to_string(),
                e["_deleted"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        latest,
        vec![("1".to_string(), false), ("2".to_string(), true)]
    );
    let o = pumphouse(&[
        "entities",
        "--data",
        data.to_str().unwrap(),
        "b",
        "--history",
        "--since",
        "1",
    ]);
    let v: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    assert_eq!(
        v.as_array().unwrap().len(),
        2,
        "versions after offset 1: the change of 1 and the tombstone of 2"
    );
    let o = pumphouse(&["datasets", "--data", data.to_str().unwrap()]);
    let out = text(&o).0;
    assert!(
        out.lines().any(|l| l.starts_with("b ")
            && l.split_whitespace().collect::<Vec<_>>()[1..] == ["1", "4", "true"]),
        "{out}"
    );
}
