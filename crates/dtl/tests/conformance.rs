//! Runs the shared DTL conformance cases (`shared/conformance/dtl-cases-dev.json`) and fails
//! if any case fails that is not a documented deviation (docs/dtl-deviations.md).

use pumphouse_dtl::{compile, EvalContext, MemoryDatasets, Options};
use pumphouse_value::transit::{from_json, to_string};
use pumphouse_value::Value;
use serde_json::Value as J;

mod projection;
use projection::same_when_projected;

/// Cases that contradict the documentation, each explained with the evidence in
/// docs/dtl-deviations.md. Every other case must pass.
const DEVIATIONS: &[&str] = &[];

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

/// Runs one case; `Err` describes the mismatch. `Ok(true)`: it also ran on a projected source.
fn run(case: &J) -> Result<bool, String> {
    let prog = compile(&case["rules"], &options(case)).map_err(|e| format!("compile: {e:?}"))?;
    let source = from_json(&case["source"]);
    let previous = case.get("previous").map(from_json);
    let mut datasets = MemoryDatasets::new();
    for (k, v) in case
        .get("datasets")
        .and_then(J::as_object)
        .into_iter()
        .flatten()
    {
        datasets.insert(k, from_json(v).as_slice().to_vec());
    }
    let ctx = EvalContext {
        previous: previous.as_ref(),
        lookup: Some(&datasets),
        params: None,
    };
    let out = prog.transform(&source, &ctx);
    let projected = same_when_projected(&prog, &source, &ctx, &out)?;
    if case.get("expect_error").and_then(J::as_bool) == Some(true) {
        return match out {
            Err(_) => Ok(projected),
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
    Ok(projected)
}

fn in_scope(case: &J) -> bool {
    !DEVIATIONS.contains(&case["id"].as_str().unwrap_or(""))
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
    let (mut pass, mut scope_total, mut scope_pass, mut projected) = (0, 0, 0, 0);
    let mut failing_in_scope = Vec::new();
    let mut failing_other = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap_or("?");
        let scoped = in_scope(case);
        scope_total += usize::from(scoped);
        match run(case) {
            Ok(p) => {
                projected += usize::from(p);
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
    println!(
        "{projected} passing cases also ran on a source holding only the properties the rules read"
    );
    assert!(projected > 0, "no case ran on a projected source");
    assert!(
        failing_in_scope.is_empty(),
        "{} in-scope conformance case(s) fail",
        failing_in_scope.len()
    );
}
