//! Tests of project loading and validation against real files.

use std::path::{Path, PathBuf};

use super::*;
use crate::model::SourceSpec;

fn seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/seeds")
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn errors(dir: &Path) -> Vec<Diagnostic> {
    match load(dir, &LoadOptions::default()) {
        Ok(p) => panic!("expected errors, loaded {} pipes", p.pipes.len()),
        Err(d) => d.into_iter().filter(Diagnostic::is_error).collect(),
    }
}

#[test]
fn seed_configs_load_and_report_what_is_not_runnable() {
    for seed in ["01-servicebus-sink", "02-hubspot-source"] {
        let p = load(&seeds().join(seed), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{seed}: {e:?}"));
        assert_eq!(p.pipes.len(), 1, "{seed}");
        assert_eq!(p.systems.len(), 1, "{seed}");
        let why = p.pipes[0].not_runnable.as_deref().unwrap_or("");
        assert!(
            why.contains("secret") && why.contains("not set"),
            "{seed}: runnable only once its secrets are set: {why:?}"
        );
    }
    let mut secrets = crate::secrets::Secrets::default();
    for n in [
        "hubspot-api-key",
        "service_namespace",
        "service_sas_token_name",
        "service_sas_token_value",
    ] {
        secrets.global.insert(n.into(), format!("value-of-{n}"));
    }
    for seed in ["01-servicebus-sink", "02-hubspot-source"] {
        let opts = LoadOptions {
            secrets: secrets.clone(),
            ..LoadOptions::default()
        };
        let p = load(&seeds().join(seed), &opts).unwrap();
        assert_eq!(p.pipes[0].not_runnable, None, "{seed}");
    }
    let p = load(&seeds().join("02-hubspot-source"), &LoadOptions::default()).unwrap();
    let env = &p.systems[0].config["docker"]["environment"];
    assert_eq!(env["base-url"], "http://localhost:9999");
    assert_eq!(env["api-key"], "$SECRET(hubspot-api-key)");
    assert!(!p.pipes[0].namespaces.add_namespaces);
}

#[test]
fn json_syntax_error_names_file_line_and_column() {
    let errs = errors(&seeds().join("03-hubspot-continuation"));
    assert_eq!(errs.len(), 1, "{errs:?}");
    let e = &errs[0];
    assert!(e
        .file
        .as_ref()
        .unwrap()
        .ends_with("systems/hubspot.conf.json"));
    assert_eq!((e.pos.unwrap().line, e.pos.unwrap().col), (8, 7));
    let text = e.to_string();
    assert!(
        text.contains("hubspot.conf.json:8:7") && text.contains("comma"),
        "{text}"
    );
}

#[test]
fn unknown_source_type_gets_a_suggestion_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pipes/a.conf.json", "{\n  \"_id\": \"a\",\n  \"type\": \"pipe\",\n  \"source\": {\n    \"type\": \"embeded\",\n    \"entities\": []\n  }\n}\n");
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].path, "$.source.type");
    assert_eq!(errs[0].pos.unwrap().line, 5);
    assert!(errs[0].hint.as_deref().unwrap().contains("\"embedded\""));
}

#[test]
fn every_error_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pipes/a.conf.json",
        r#"{"_id": "a", "type": "pipe", "source": {"type": "embedded", "entities": [{"_id": 1}, {"x": 2}]}, "sink": {"type": "nowhere"}}"#,
    );
    write(
        dir.path(),
        "pipes/b.conf.json",
        r#"{"_id": "b", "type": "pipe", "source": {"type": "dataset", "dataset": "aa"}}"#,
    );
    let errs = errors(dir.path());
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"$.source.entities[0]._id"), "{paths:?}");
    assert!(paths.contains(&"$.source.entities[1]"), "{paths:?}");
    assert!(paths.contains(&"$.sink.type"), "{paths:?}");
    assert!(paths.contains(&"$.source.dataset"), "{paths:?}");
    let ds = errs.iter().find(|e| e.path == "$.source.dataset").unwrap();
    assert!(ds.message.contains("unknown dataset \"aa\""));
}

#[test]
fn dtl_typo_names_the_function_and_path() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pipes/a.conf.json",
        r#"{"_id": "a", "type": "pipe", "source": {"type": "embedded", "entities": []},
 "transform": {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "x", ["concta", "_S.a"]]]}}}"#,
    );
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].path.starts_with("$.transform.rules.default[1][2]"),
        "{}",
        errs[0].path
    );
    assert!(errs[0].to_string().contains("concta"), "{}", errs[0]);
    assert_eq!(errs[0].pos.unwrap().line, 2);
}

#[test]
fn single_file_config_array_and_defaults() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "config.json",
        r#"[{"_id": "a", "type": "pipe", "source": {"type": "embedded", "entities": [{"_id": "1"}]}},
            {"_id": "b", "type": "pipe", "source": {"type": "conditional", "condition": "$ENV(mode)", "alternatives": {"test": {"type": "dataset", "dataset": "a"}}}, "sink": {"type": "null"}}]"#,
    );
    std::env::set_var("mode", "test");
    let p = load(&dir.path().join("config.json"), &LoadOptions::default()).unwrap();
    assert_eq!(p.pipes[0].sink.dataset(), Some("a"));
    assert!(matches!(&p.pipes[1].source, SourceSpec::Dataset { dataset, .. } if dataset == "a"));
    assert!(p.pipes[1].sink.dataset().is_none());
}

/// With `namespaced_identifiers` on, the namespace defaults follow the component a
/// `conditional` resolves to: an embedded alternative adds namespaces like an embedded source
/// (sesam-py projects use exactly this for test data), an http_endpoint sink removes them.
#[test]
fn namespace_defaults_follow_the_conditional_alternative() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "config.json",
        r#"[{"_id": "node", "type": "metadata", "namespaced_identifiers": true},
            {"_id": "a", "type": "pipe", "source": {"type": "conditional", "condition": "test",
               "alternatives": {"prod": {"type": "dataset", "dataset": "x"}, "test": {"type": "embedded", "entities": [{"_id": "1"}]}}}},
            {"_id": "b", "type": "pipe", "source": {"type": "dataset", "dataset": "a"},
             "sink": {"type": "conditional", "condition": "test",
               "alternatives": {"prod": {"type": "dataset"}, "test": {"type": "http_endpoint"}}}},
            {"_id": "c", "type": "pipe", "source": {"type": "conditional", "condition": "prod",
               "alternatives": {"prod": {"type": "dataset", "dataset": "a"}, "test": {"type": "embedded", "entities": []}}}}]"#,
    );
    let p = load(&dir.path().join("config.json"), &LoadOptions::default()).unwrap();
    assert!(p.pipe("a").unwrap().namespaces.add_namespaces);
    assert!(!p.pipe("b").unwrap().namespaces.add_namespaces);
    assert!(p.pipe("b").unwrap().namespaces.remove_namespaces);
    assert!(!p.pipe("c").unwrap().namespaces.add_namespaces);
    assert!(!p.pipe("c").unwrap().namespaces.remove_namespaces);
}

#[test]
fn unknown_properties_are_warnings() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pipes/a.conf.json",
        r#"{"_id": "a", "type": "pipe", "batchsize": 3, "source": {"type": "embedded", "entities": []}}"#,
    );
    let p = load(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(p.warnings.len(), 1);
    assert!(p.warnings[0]
        .hint
        .as_deref()
        .unwrap()
        .contains("batch_size"));
}
