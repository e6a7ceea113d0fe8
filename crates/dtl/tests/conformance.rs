//! Runs the shared DTL conformance cases (`shared/conformance/dtl-cases-dev.json`) and fails
//! if any in-scope case fails. Prints pass rates overall and for the in-scope set.

use std::collections::HashMap;

use pumphouse_dtl::{compile, EvalContext, Lookup, Options};
use pumphouse_value::transit::{from_json, to_string};
use pumphouse_value::Value;
use serde_json::Value as J;

/// Functions tagged CORE or COMMON in dtl-reference.md §6–7 (hops, apply-hops and
/// lookup-entity are left out), plus the variable/config subjects of §3–4 and §1
/// (`_S.path`, `_T`, `_`, `_P`, `id_required`), which are core semantics too.
const IN_SCOPE: &[&str] = &[
    // transforms (§6)
    "add",
    "copy",
    "rename",
    "remove",
    "filter",
    "if",
    "add-if",
    "default",
    "discard",
    "case",
    "case-eq",
    "comment",
    "merge",
    "create",
    "make-ni",
    // boolean logic, comparisons, conditionals, nulls (§7.1–7.4)
    "and",
    "or",
    "not",
    "all",
    "any",
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "coalesce",
    "coalesce-args",
    "if-null",
    "is-null",
    "is-not-null",
    // strings (§7.5)
    "concat",
    "join",
    "split",
    "lower",
    "upper",
    "strip",
    "lstrip",
    "rstrip",
    "length",
    "substring",
    "replace",
    "matches",
    "string",
    // numbers and math (§7.6–7.7)
    "integer",
    "decimal",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "plus",
    "minus",
    "multiply",
    "divide",
    "mod",
    "pow",
    "round",
    "ceil",
    "floor",
    // lists and sets (§7.8–7.9)
    "list",
    "combine",
    "flatten",
    "count",
    "first",
    "last",
    "nth",
    "reversed",
    "sorted",
    "sorted-descending",
    "distinct",
    "map",
    "map-dict",
    "group-by",
    "in",
    "is-empty",
    "is-not-empty",
    "max",
    "min",
    "sum",
    "union",
    "difference",
    "intersects",
    // dicts, paths, nested rules (§7.10)
    "dict",
    "items",
    "key-values",
    "keys",
    "values",
    "has-key",
    "path",
    "apply",
    // date/time, JSON, NI, URIs, misc (§7.12–7.16)
    "datetime",
    "datetime-parse",
    "datetime-format",
    "datetime-plus",
    "datetime-diff",
    "now",
    "json",
    "json-parse",
    "ni",
    "ni-ns",
    "ni-id",
    "url-quote",
    "tuples",
    "literal",
    // variables and options (§1, §3, §4)
    "_S.path",
    "_T",
    "_",
    "_P",
    "id_required",
];

const OK_REQUIRES: &[&str] = &[
    "namespaced_identifiers",
    "created_entities",
    "previous_version",
];

struct Datasets(HashMap<String, Vec<Value>>);

impl Lookup for Datasets {
    fn get(&self, dataset: &str, id: &str) -> Option<Value> {
        self.0
            .get(dataset)?
            .iter()
            .find(|e| e.get("_id").and_then(|v| v.as_str()) == Some(id))
            .cloned()
    }
}

fn options(case: &J) -> Options {
    let mut o = Options::default();
    if let Some(p) = case.get("pipe") {
        o.namespaced_identifiers = p
            .get("namespaced_identifiers")
            .and_then(J::as_bool)
            .unwrap_or(false);
        let ns = |k: &str| {
            p.pointer(&format!("/namespaces/{k}"))
                .and_then(J::as_str)
                .unwrap_or("")
                .to_owned()
        };
        o.identity_namespace = ns("identity");
        o.property_namespace = ns("property");
    }
    if let Some(r) = case.pointer("/transform/id_required").and_then(J::as_bool) {
        o.id_required = r;
    }
    o
}

fn show(v: &Option<Value>) -> String {
    v.as_ref().map_or("null".into(), to_string)
}

/// Runs one case; `Err` describes the mismatch.
fn run(case: &J) -> Result<(), String> {
    let prog = compile(&case["rules"], &options(case)).map_err(|e| format!("compile: {e:?}"))?;
    let source = from_json(&case["source"]);
    let previous = case.get("previous").map(from_json);
    let datasets = Datasets(
        case.get("datasets")
            .and_then(J::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), from_json(v).as_slice().to_vec()))
                    .collect()
            })
            .unwrap_or_default(),
    );
    let ctx = EvalContext {
        previous: previous.as_ref(),
        lookup: Some(&datasets),
        params: None,
    };
    let out = prog.transform(&source, &ctx);
    if case.get("expect_error").and_then(J::as_bool) == Some(true) {
        return match out {
            Err(_) => Ok(()),
            Ok(o) => Err(format!("expected an error, got {}", show(&o.target))),
        };
    }
    let out = out.map_err(|e| format!("error: {} ({:?})", e.message, e.kind))?;
    let expected = match &case["expected"] {
        J::Null => None,
        j => Some(from_json(j)),
    };
    if out.target != expected {
        return Err(format!(
            "expected {}\n      got {}",
            show(&expected),
            show(&out.target)
        ));
    }
    if let Some(ec) = case.get("expected_created") {
        let want = from_json(ec);
        let got = Value::List(out.created.clone());
        if want != got {
            return Err(format!(
                "created: expected {}\n      got {}",
                to_string(&want),
                to_string(&got)
            ));
        }
    }
    Ok(())
}

fn in_scope(case: &J) -> bool {
    let f = case["function"].as_str().unwrap_or("");
    let reqs_ok = case.get("requires").and_then(J::as_array).is_none_or(|r| {
        r.iter()
            .all(|x| x.as_str().is_some_and(|x| OK_REQUIRES.contains(&x)))
    });
    IN_SCOPE.contains(&f) && reqs_ok
}

#[test]
fn conformance_cases() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/dtl-cases-dev.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read the conformance cases at {path}: {e} (is shared/ next to the repository?)"
        )
    });
    let cases: Vec<J> = serde_json::from_str(&text).expect("the cases file is not valid JSON");
    let (mut pass, mut scope_total, mut scope_pass) = (0, 0, 0);
    let mut failing_in_scope = Vec::new();
    let mut failing_other = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap_or("?");
        let scoped = in_scope(case);
        scope_total += usize::from(scoped);
        match run(case) {
            Ok(()) => {
                pass += 1;
                scope_pass += usize::from(scoped);
            }
            Err(e) if scoped => failing_in_scope.push(format!("{id}: {e}")),
            Err(e) => failing_other.push(format!("{id}: {e}")),
        }
    }
    for f in &failing_other {
        println!("out of scope, failing: {f}");
    }
    for f in &failing_in_scope {
        println!("IN SCOPE, FAILING: {f}");
    }
    println!(
        "conformance: {pass}/{} overall, {scope_pass}/{scope_total} in scope",
        cases.len()
    );
    assert!(
        failing_in_scope.is_empty(),
        "{} in-scope conformance case(s) fail",
        failing_in_scope.len()
    );
}
