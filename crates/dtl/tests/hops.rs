//! `hops` / `apply-hops` beyond the conformance cases: chained joins through two datasets,
//! filters, `return` templates and alias lists, recursion with `max_depth`/`exclude_root`,
//! chained specs, subsets, deleted entities, `track-dependencies`, and compile errors.

use pumphouse_dtl::{compile, EvalContext, MemoryDatasets, Options};
use pumphouse_value::transit::{from_json, to_string};
use pumphouse_value::Value;
use serde_json::json;

fn datasets() -> MemoryDatasets {
    let mut d = MemoryDatasets::new();
    let v = |j: serde_json::Value| from_json(&j).as_slice().to_vec();
    d.insert(
        "Address",
        v(json!([
            {"_id": "a1", "type": "SHIPPING", "country": "NO"},
            {"_id": "a2", "type": "BILLING", "country": "SE"},
            {"_id": "a3", "type": "OTHER", "country": "NO"},
            {"_id": "a4", "type": "SHIPPING", "country": "DK", "_deleted": true}
        ])),
    );
    d.insert(
        "Country",
        v(json!([
            {"_id": "NO", "name": "Norway"},
            {"_id": "SE", "name": "Sweden"},
            {"_id": "DK", "name": "Denmark"}
        ])),
    );
    d.insert(
        "Person",
        v(json!([
            {"_id": "p1", "gender": "female", "children": ["p2", "p3"], "hobbies": ["h1"]},
            {"_id": "p2", "gender": "female", "children": ["p4"], "hobbies": ["h2"]},
            {"_id": "p3", "gender": "male", "children": [], "hobbies": ["h3"]},
            {"_id": "p4", "gender": "female", "children": ["p1"], "hobbies": ["h1", "h3"]}
        ])),
    );
    d.insert(
        "Hobby",
        v(json!([
            {"_id": "h1", "name": "chess"},
            {"_id": "h2", "name": "climbing"},
            {"_id": "h3", "name": "knitting"}
        ])),
    );
    d
}

fn run(source: serde_json::Value, expr: serde_json::Value) -> Value {
    let rules = json!({"default": [["copy", "_id"], ["add", "r", expr]], "sub": [["add", "n", "_S.name"], ["add", "parent", "_P._S._id"]]});
    let prog = compile(&rules, &Options::default()).unwrap_or_else(|e| panic!("{e:?}"));
    let ds = datasets();
    let ctx = EvalContext {
        lookup: Some(&ds),
        ..EvalContext::default()
    };
    let out = prog.transform(&from_json(&source), &ctx).expect("runs");
    out.target
        .expect("target")
        .get("r")
        .cloned()
        .unwrap_or(Value::Null)
}

fn ids(v: &Value) -> Vec<String> {
    v.as_slice()
        .iter()
        .map(|e| {
            e.get("_id")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

#[test]
fn two_datasets_with_filter_and_alias_return() {
    let r = run(
        json!({"_id": "c", "address": ["a1", "a2", "a3", "a4"]}),
        json!(["hops", {
        "datasets": ["Address a", "Country c"],
        "return": "a",
        "where": [
            ["or", ["eq", "a.type", "SHIPPING"], ["eq", "a.type", "BILLING"]],
            ["eq", "_S.address", "a._id"],
            ["eq", "c._id", "a.country"]
        ]}]),
    );
    // a3 is filtered by type, a4 is deleted.
    assert_eq!(ids(&r), ["a1", "a2"]);
}

#[test]
fn return_template_and_alias_list() {
    let r = run(
        json!({"_id": "c", "address": ["a1", "a2"]}),
        json!(["sorted", ["hops", {
            "datasets": ["Address a", "Country c"],
            "where": [["eq", "_S.address", "a._id"], ["eq", "c._id", "a.country"]],
            "return": ["concat", "a._id", "-", "c.name"]}]]),
    );
    assert_eq!(to_string(&r), r#"["a1-Norway","a2-Sweden"]"#);
    let r = run(
        json!({"_id": "c", "address": "a1"}),
        json!(["hops", {
            "datasets": ["Address a", "Country c"],
            "where": [["eq", "_S.address", "a._id"], ["eq", "c._id", "a.country"]],
            "return": "a,c"}]),
    );
    assert_eq!(ids(&r), ["a1", "NO"]);
}

#[test]
fn recursion_then_chained_spec() {
    // The docs' example: daughters, recursively, then their hobbies' names.
    let r = run(
        json!({"_id": "root", "children": ["p1"]}),
        json!(["sorted", ["hops", {
            "datasets": ["Person p"],
            "where": [["eq", "_S.children", "p._id"], ["eq", "p.gender", "female"]],
            "recurse": true,
            "exclude_root": true
        }, {
            "datasets": ["Hobby h"],
            "where": ["eq", "_S.hobbies", "h._id"],
            "return": "h.name"
        }]]),
    );
    // p1 → p2 → p4 → (p1 again: a cycle, not repeated); p3 is male.
    assert_eq!(to_string(&r), r#"["chess","chess","climbing","knitting"]"#);
    let depth1 = run(
        json!({"_id": "root", "children": ["p1"]}),
        json!(["hops", {
            "datasets": ["Person p"],
            "where": [["eq", "_S.children", "p._id"], ["eq", "p.gender", "female"]],
            "recurse": true, "exclude_root": true, "max_depth": 1}]),
    );
    assert_eq!(ids(&depth1), ["p1"]);
    let with_root = run(
        json!({"_id": "root", "children": ["p1"]}),
        json!(["hops", {
            "datasets": ["Person p"],
            "where": [["eq", "_S.children", "p._id"], ["eq", "p.gender", "female"]],
            "recurse": true, "max_depth": 2}]),
    );
    assert_eq!(ids(&with_root), ["root", "p1", "p2"]);
}

#[test]
fn subsets_restrict_the_alias() {
    let r = run(
        json!({"_id": "x", "c": ["NO", "SE"]}),
        json!(["hops", {
            "datasets": ["Address a"],
            "where": ["eq", "_S.c", "a.country"],
            "subsets": {"a": ["eq", "_S.type", "SHIPPING"]}}]),
    );
    assert_eq!(ids(&r), ["a1"]);
}

#[test]
fn apply_hops_sees_parent() {
    let r = run(
        json!({"_id": "c", "h": ["h2", "h1"]}),
        json!(["apply-hops", "sub", {"datasets": ["Hobby h"], "where": ["eq", "_S.h", "h._id"]}]),
    );
    assert_eq!(
        to_string(&r),
        r#"[{"n":"chess","parent":"c"},{"n":"climbing","parent":"c"}]"#
    );
}

#[test]
fn tracked_lookups_are_recorded_unless_disabled() {
    let ds = datasets();
    let ctx = EvalContext {
        lookup: Some(&ds),
        ..EvalContext::default()
    };
    let src = from_json(&json!({"_id": "c", "h": ["h2", "nope"]}));
    for (track, expect) in [(true, 2), (false, 0)] {
        let rules = json!({"default": [["copy", "_id"], ["add", "r", ["hops", {
            "datasets": ["Hobby h"], "where": ["eq", "_S.h", "h._id"], "track-dependencies": track}]]]});
        let prog = compile(&rules, &Options::default()).unwrap();
        prog.transform(&src, &ctx).unwrap();
        let reached = ds.take_reached();
        assert_eq!(reached.len(), expect, "track={track}: {reached:?}");
        if track {
            assert!(reached.iter().all(|(d, _, _)| d == "Hobby"));
        }
    }
}

fn errors(rules: serde_json::Value) -> Vec<String> {
    match compile(&rules, &Options::default()) {
        Ok(_) => Vec::new(),
        Err(es) => es
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect(),
    }
}

#[test]
fn compile_errors_name_the_spec_key() {
    let e = errors(
        json!({"default": [["add", "x", ["hops", {"datasets": ["A a", "B b"], "where": ["eq", "_S.x", "a.y"]}]]]}),
    );
    assert!(e[0].starts_with("default[0][2][1].where: "), "{e:?}");
    assert!(e[0].contains("`b` cannot be reached"), "{e:?}");
    let e = errors(
        json!({"default": [["add", "x", ["hops", {"datasets": ["A a"], "wher": ["eq", "_S.x", "a.y"]}]]]}),
    );
    assert!(
        e.iter()
            .any(|m| m.contains("default[0][2][1].wher: unknown HOPS_SPEC key `wher`")),
        "{e:?}"
    );
    let e = errors(
        json!({"default": [["add", "x", ["hops", {"datasets": "A a", "where": ["eq", "_S.x", "a.y"]}]]]}),
    );
    assert!(e[0].starts_with("default[0][2][1].datasets: "), "{e:?}");
    let e = errors(
        json!({"default": [["add", "x", ["apply-hops", "nope", {"datasets": ["A a"], "where": ["eq", "_S.x", "a.y"]}]]]}),
    );
    assert!(e[0].contains("unknown rule `nope`"), "{e:?}");
    let e = errors(
        json!({"default": [["add", "x", ["hops", {"datasets": ["A a"], "where": ["eq", "_S.x", "a.y"], "recurse": true, "return": "a"}]]]}),
    );
    assert!(
        e[0].contains("`return` cannot be combined with `recurse`"),
        "{e:?}"
    );
}

#[test]
fn hops_without_datasets_is_an_error() {
    let rules = json!({"default": [["copy", "_id"], ["add", "r", ["hops", {"datasets": ["A a"], "where": ["eq", "_S.x", "a.y"]}]]]});
    let prog = compile(&rules, &Options::default()).unwrap();
    let err = prog
        .transform(
            &from_json(&json!({"_id": "1", "x": 1})),
            &EvalContext::default(),
        )
        .unwrap_err();
    assert!(err.message.contains("hops"), "{}", err.message);
}
