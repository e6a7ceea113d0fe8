//! `pumphouse validate` names the function, the argument and the JSON path for every kind
//! of DTL mistake: one pipe per kind, all in one project, each error checked by its path,
//! message and hint.

mod common;

use common::*;

/// (pipe id, rules, expected path suffix after `$.transform.rules`, message part, hint part).
const KINDS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "unknown-function",
        r#"{"default": [["add", "x", ["uper", "_S.a"]]]}"#,
        ".default[0][2][0]",
        "unknown function `uper`",
        "did you mean `upper`?",
    ),
    (
        "function-arity",
        r#"{"default": [["add", "x", ["upper"]]]}"#,
        ".default[0][2]",
        "`upper` takes exactly 1 argument(s), got 0",
        "",
    ),
    (
        "unknown-transform",
        r#"{"default": [["ad", "x", 1]]}"#,
        ".default[0][0]",
        "unknown transform `ad`",
        "did you mean `add`?",
    ),
    (
        "transform-arity",
        r#"{"default": [["rename", "a"]]}"#,
        ".default[0]",
        "`rename` takes exactly 2 argument(s), got 1",
        "",
    ),
    (
        "function-as-transform",
        r#"{"default": [["upper", "x"]]}"#,
        ".default[0][0]",
        "`upper` is an expression function, not a transform",
        "use it inside a transform",
    ),
    (
        "transform-as-function",
        r#"{"default": [["add", "x", ["copy", "*"]]]}"#,
        ".default[0][2][0]",
        "`copy` is a transform",
        "transforms go directly in a rule's list",
    ),
    (
        "list-not-a-call",
        r#"{"default": [["add", "x", [1, 2]]]}"#,
        ".default[0][2]",
        "a list in an expression must be a function call",
        "[\"list\", …]",
    ),
    (
        "no-default-rule",
        r#"{"defualt": [["copy", "*"]]}"#,
        ": ",
        "the rules have no `default` rule",
        "rename rule `defualt` to `default`",
    ),
    (
        "rule-not-a-list",
        r#"{"default": {"copy": "*"}}"#,
        ".default",
        "a rule must be a list of transforms",
        "",
    ),
    (
        "apply-unknown-rule",
        r#"{"default": [["add", "x", ["apply", "ordr", "_S.o"]]], "order": []}"#,
        ".default[0][2][1]",
        "`apply` refers to unknown rule `ordr`",
        "did you mean `order`?",
    ),
    (
        "bad-path-variable",
        r#"{"default": [["add", "x", "_Q.name"]]}"#,
        ".default[0][2]",
        "unknown variable `_Q` in path \"_Q.name\"",
        "_S (source)",
    ),
    (
        "bad-typed-literal",
        r#"{"default": [["add", "x", "~t2020-13-01T00:00:00Z"]]}"#,
        ".default[0][2]",
        "is not a valid datetime literal",
        "~t2020-01-31T12:00:00Z",
    ),
    (
        "bad-time-zone",
        r#"{"default": [["add", "x", ["datetime-format", "Europe/Olso", "%Y", "_S.t"]]]}"#,
        ".default[0][2][1]",
        "`datetime-format`: TIMEZONE unknown time zone \"Europe/Olso\"",
        "did you mean `Europe/Oslo`?",
    ),
    (
        "bad-date-part",
        r#"{"default": [["add", "x", ["datetime-plus", "dya", 1, "_S.t"]]]}"#,
        ".default[0][2][1]",
        "`datetime-plus`: TYPE unknown date part \"dya\"",
        "did you mean `day`?",
    ),
    (
        "bad-property-name",
        r#"{"default": [["add", 1, "x"]]}"#,
        ".default[0][1]",
        "`add`: PROPERTY must be a property name (a string), got 1",
        "",
    ),
    (
        "bad-phone-format",
        r#"{"default": [["add", "x", ["phonenumber-format", "e.164", "_S.t"]]]}"#,
        ".default[0][2][1]",
        "`phonenumber-format`: FORMAT_STRING unknown phone number format \"e.164\"",
        "did you mean `e164`?",
    ),
    (
        "bad-hash",
        r#"{"default": [["add", "x", ["hash128", "md5", "_S.t"]]]}"#,
        ".default[0][2][1]",
        "`hash128`: ALGORITHM unsupported hash algorithm \"md5\"",
        "murmur3",
    ),
    (
        "hops-unreachable-alias",
        r#"{"default": [["add", "x", ["hops", {"datasets": ["a a", "b b"], "where": ["eq", "_S.x", "a.y"]}]]]}"#,
        ".default[0][2][1].where",
        "dataset alias(es) `b` cannot be reached from _S",
        "[\"eq\", \"_S._id\", \"b.some_property\"]",
    ),
    (
        "hops-unknown-key",
        r#"{"default": [["add", "x", ["hops", {"datasets": ["a a"], "where": ["eq", "_S.x", "a.y"], "retrun": "a"}]]]}"#,
        ".default[0][2][1].retrun",
        "unknown HOPS_SPEC key `retrun`",
        "did you mean `return`?",
    ),
    (
        "hops-bad-datasets",
        r#"{"default": [["add", "x", ["hops", {"datasets": ["a b c"], "where": ["eq", "_S.x", "a.y"]}]]]}"#,
        ".default[0][2][1].datasets[0]",
        "\"a b c\": `datasets` must be a non-empty list of \"DATASET_ID ALIAS\" strings",
        "",
    ),
    (
        "apply-hops-unknown-rule",
        r#"{"default": [["add", "x", ["apply-hops", "ordr", {"datasets": ["o o"], "where": ["eq", "_S.x", "o.y"]}]]], "order": []}"#,
        ".default[0][2][1]",
        "`apply` refers to unknown rule `ordr`",
        "did you mean `order`?",
    ),
];

#[test]
fn validate_names_function_argument_and_path_for_each_kind_of_dtl_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("p");
    for (id, rules, ..) in KINDS {
        write(
            &cfg,
            &format!("pipes/{id}.conf.json"),
            &format!(
                r#"{{"_id": "{id}", "type": "pipe", "source": {{"type": "embedded", "entities": []}},
  "transform": {{"type": "dtl", "rules": {rules}}}}}"#
            ),
        );
    }
    let o = pumphouse(&["validate", cfg.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(!o.status.success(), "validate must fail: {out}\n{err}");
    let all = format!("{out}\n{err}");
    for (id, _, path, msg, hint) in KINDS {
        let line = all
            .lines()
            .find(|l| l.contains(&format!("pipes/{id}.conf.json")) && l.contains(msg))
            .unwrap_or_else(|| panic!("{id}: no error with {msg:?} in:\n{all}"));
        assert!(
            line.contains(&format!("$.transform.rules{path}")),
            "{id}: path {path:?} missing in {line:?}"
        );
        if !hint.is_empty() {
            let pos = all.find(line).unwrap();
            let rest = &all[pos..];
            let block: String = rest.lines().take(3).collect::<Vec<_>>().join("\n");
            assert!(
                block.contains(hint),
                "{id}: hint {hint:?} missing in:\n{block}"
            );
        }
    }
}
