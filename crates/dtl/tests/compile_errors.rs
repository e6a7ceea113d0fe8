//! Compile-time checks: unknown functions (with a "did you mean" hint), wrong arity,
//! transforms and expressions in the wrong place, missing `default`, unknown `apply` rules —
//! each reported with the JSON path of the offending element, all at once.

use pumphouse_dtl::{compile, CompileError, Options, Program};
use serde_json::json;

fn errors(rules: serde_json::Value) -> Vec<CompileError> {
    match compile(&rules, &Options::default()) {
        Ok(_) => panic!("expected compile errors for {rules}"),
        Err(e) => e,
    }
}

#[test]
fn unknown_function_suggests_the_closest_name() {
    let e = errors(json!({"default": [["copy", "_id"], ["add", "x", ["concot", "a", "b"]]]}));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].path, "default[1][2][0]");
    assert!(
        e[0].message.contains("unknown function `concot`"),
        "{}",
        e[0]
    );
    assert_eq!(e[0].hint.as_deref(), Some("did you mean `concat`?"));
}

#[test]
fn wrong_arity_names_the_call() {
    let e = errors(json!({"default": [["add", "x", ["upper", "a", "b"]]]}));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].path, "default[0][2]");
    assert!(
        e[0].message
            .contains("`upper` takes exactly 1 argument(s), got 2"),
        "{}",
        e[0]
    );
}

#[test]
fn transform_arity_is_checked() {
    let e = errors(json!({"default": [["copy"]]}));
    assert_eq!(e[0].path, "default[0]");
    assert!(e[0].message.contains("`copy`"));
}

#[test]
fn all_errors_are_reported() {
    let e =
        errors(json!({"default": [["add", "a", ["nope"]], ["bogus", 1], ["add", "b", ["lower"]]]}));
    let paths: Vec<&str> = e.iter().map(|x| x.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["default[0][2][0]", "default[1][0]", "default[2][2]"]
    );
}

#[test]
fn transform_used_as_expression() {
    let e = errors(json!({"default": [["add", "x", ["copy", "*"]]]}));
    assert_eq!(e[0].path, "default[0][2][0]");
    assert!(e[0].message.contains("is a transform"), "{}", e[0]);
}

#[test]
fn expression_used_as_transform() {
    let e = errors(json!({"default": [["concat", "a", "b"]]}));
    assert_eq!(e[0].path, "default[0][0]");
    assert!(e[0].message.contains("expression function"), "{}", e[0]);
    assert!(e[0].hint.is_some());
}

#[test]
fn missing_default_rule() {
    let e = errors(json!({"defualt": [["copy", "*"]]}));
    assert!(e[0].message.contains("no `default` rule"));
    assert_eq!(
        e[0].hint.as_deref(),
        Some("rename rule `defualt` to `default`: it is the entry point run on every entity")
    );
}

#[test]
fn apply_to_unknown_rule() {
    let e = errors(json!({"default": [["add", "o", ["apply", "ordr", "_S.orders"]]], "order": []}));
    assert_eq!(e[0].path, "default[0][2][1]");
    assert!(e[0].message.contains("unknown rule `ordr`"));
    assert_eq!(e[0].hint.as_deref(), Some("did you mean `order`?"));
}

#[test]
fn hops_without_where() {
    let e = errors(json!({"default": [["add", "o", ["hops", {"datasets": ["a a"]}]]]}));
    assert_eq!(e[0].path, "default[0][2][1].where");
    assert!(e[0].message.contains("needs `where`"), "{}", e[0].message);
}

#[test]
fn nested_branch_paths() {
    let e =
        errors(json!({"default": [["if", true, [["add", "a", 1], ["add", "b", ["uper", "x"]]]]]}));
    assert_eq!(e[0].path, "default[0][2][1][2][0]");
}

#[test]
fn error_display_includes_path_and_hint() {
    let e = errors(json!({"default": [["add", "x", ["concot"]]]}));
    assert_eq!(
        e[0].to_string(),
        "default[0][2][0]: unknown function `concot` (did you mean `concat`?)"
    );
}

#[test]
fn program_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Program>();
}
