//! Bad input gets one clear error and changes no data: each case runs the real binary against
//! a store that already holds a good run, and checks the message and that nothing changed.

mod common;

use common::*;

const GOOD: &str = r#"{"_id": "people", "type": "pipe",
  "source": {"type": "embedded", "entities": [{"_id": "1", "name": "Ann"}, {"_id": "2", "name": "Bob"}]},
  "transform": {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "upper", ["upper", "_S.name"]]]}}}"#;

/// Runs `bad` (a pipe file added next to the good one) and returns stderr, after checking that
/// the exit is non-zero and the store is unchanged.
fn bad_case(bad_rel: &str, bad: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("project");
    let data = dir.path().join("data");
    write(&cfg, "pipes/people.conf.json", GOOD);
    let o = run(&cfg, &data);
    assert!(o.status.success(), "{:?}", text(&o));
    let before = snapshot(&data);
    assert!(before.contains("people live=2"), "{before}");
    write(&cfg, bad_rel, bad);
    let o = run(&cfg, &data);
    let (out, err) = text(&o);
    assert!(!o.status.success(), "a bad config must fail: {out}\n{err}");
    assert_eq!(snapshot(&data), before, "bad input changed the store");
    err
}

#[test]
fn malformed_json_names_file_line_and_column() {
    let err = bad_case(
        "pipes/broken.conf.json",
        "{\n  \"_id\": \"broken\",\n  \"type\": \"pipe\"\n  \"source\": {}\n}\n",
    );
    assert!(err.contains("pipes/broken.conf.json:4:3: "), "{err}");
    assert!(
        err.contains("JSON syntax error") && err.contains("comma"),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "one error: {err}"
    );
}

#[test]
fn unknown_source_type() {
    let err = bad_case(
        "pipes/x.conf.json",
        r#"{"_id": "x", "type": "pipe", "source": {"type": "dataset_", "dataset": "people"}}"#,
    );
    assert!(
        err.contains("$.source.type: unknown source type \"dataset_\""),
        "{err}"
    );
    assert!(err.contains("did you mean \"dataset\"?"), "{err}");
}

#[test]
fn unknown_sink_type() {
    let err = bad_case(
        "pipes/x.conf.json",
        r#"{"_id": "x", "type": "pipe", "source": {"type": "dataset", "dataset": "people"}, "sink": {"type": "datasets"}}"#,
    );
    assert!(
        err.contains("$.sink.type: unknown sink type \"datasets\""),
        "{err}"
    );
}

#[test]
fn dtl_typo_is_a_validation_error_with_its_path() {
    let err = bad_case(
        "pipes/x.conf.json",
        "{\"_id\": \"x\", \"type\": \"pipe\", \"source\": {\"type\": \"dataset\", \"dataset\": \"people\"},\n \"transform\": {\"type\": \"dtl\", \"rules\": {\"default\": [[\"copy\", \"*\"], [\"add\", \"n\", [\"lenght\", \"_S.name\"]]]}}}",
    );
    assert!(err.contains("pipes/x.conf.json:2:"), "{err}");
    assert!(err.contains("$.transform.rules.default[1][2]"), "{err}");
    assert!(err.contains("lenght") && err.contains("length"), "{err}");
}

#[test]
fn dtl_output_without_id_fails_the_run_and_writes_nothing() {
    let err = bad_case(
        "pipes/x.conf.json",
        r#"{"_id": "x", "type": "pipe", "source": {"type": "dataset", "dataset": "people"},
 "transform": {"type": "dtl", "rules": {"default": [["add", "name", "_S.name"]]}}}"#,
    );
    assert!(err.contains("pipe \"x\" failed"), "{err}");
    assert!(err.contains("_id"), "{err}");
}

#[test]
fn non_string_id_in_embedded_entities() {
    let err = bad_case(
        "pipes/x.conf.json",
        r#"{"_id": "x", "type": "pipe", "source": {"type": "embedded", "entities": [{"_id": 7}]}}"#,
    );
    assert!(
        err.contains("$.source.entities[0]._id: _id must be a string"),
        "{err}"
    );
}

/// A pipe with 20,000 embedded entities (over 1 MiB, so streamed from the file), where
/// entity 15,000 is replaced by `bad`.
fn big_embedded(bad: &str) -> String {
    let items: Vec<String> = (0..20_000)
        .map(|i| match i {
            15_000 => bad.to_string(),
            _ => {
                format!(r#"{{"_id": "e{i}", "text": "some text to make the entity longer, {i}"}}"#)
            }
        })
        .collect();
    format!(
        "{{\"_id\": \"x\", \"type\": \"pipe\",\n \"source\": {{\"type\": \"embedded\", \"entities\": [\n{}\n]}}}}",
        items.join(",\n")
    )
}

#[test]
fn non_string_id_deep_in_a_large_embedded_array() {
    let err = bad_case(
        "pipes/x.conf.json",
        &big_embedded(r#"{"name": "n", "_id": 15000}"#),
    );
    assert!(
        err.contains("$.source.entities: entity 15000 ($.source.entities[15000]): _id must be a string, not integer"),
        "{err}"
    );
}

#[test]
fn syntax_error_deep_in_a_large_embedded_array() {
    let err = bad_case(
        "pipes/x.conf.json",
        &big_embedded(r#"{"_id": "a", "n": tru}"#),
    );
    // Line 15,003 of the file: the pipe starts on line 1, the entities on line 3.
    assert!(
        err.contains("pipes/x.conf.json:15003: entity 15000: expected ident"),
        "{err}"
    );
}

#[test]
fn error_after_a_large_embedded_array_names_its_line() {
    let text =
        big_embedded(r#"{"_id": "e15000"}"#).replace("]}}", "]}, \"sink\": {\"type\": \"nul\"}}");
    let err = bad_case("pipes/x.conf.json", &text);
    assert!(err.contains("pipes/x.conf.json:20003:22: "), "{err}");
    assert!(err.contains("unknown sink type \"nul\""), "{err}");
}

#[test]
fn non_string_id_from_dtl() {
    let err = bad_case(
        "pipes/x.conf.json",
        r#"{"_id": "x", "type": "pipe", "source": {"type": "dataset", "dataset": "people"},
 "transform": {"type": "dtl", "rules": {"default": [["add", "_id", 42]]}}}"#,
    );
    assert!(err.contains("_id") && err.contains("string"), "{err}");
}

#[test]
fn unknown_dataset_in_a_dataset_source() {
    let err = bad_case(
        "pipes/x.conf.json",
        r#"{"_id": "x", "type": "pipe", "source": {"type": "dataset", "dataset": "peple"}}"#,
    );
    assert!(
        err.contains("$.source.dataset: unknown dataset \"peple\""),
        "{err}"
    );
    assert!(err.contains("did you mean \"people\"?"), "{err}");
}
