//! Golden tests: every `tests/golden/<function>.json` holds an array of
//! `{"name", "source", "rules", "expected"}` cases; `expected` is the target entity (null when
//! none is emitted) or `{"error": "substring"}` for a compile or evaluation error.

use pumphouse_dtl::{compile, EvalContext, Options};
use pumphouse_value::transit::{from_json, to_string};
use serde_json::Value as J;

mod projection;

fn run_case(case: &J) -> Result<(), String> {
    let want_error = case["expected"].get("error").and_then(J::as_str);
    let prog = match compile(&case["rules"], &Options::default()) {
        Ok(p) => p,
        Err(errs) => {
            let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
            return match want_error {
                Some(sub) if text.iter().any(|t| t.contains(sub)) => Ok(()),
                _ => Err(format!("compile errors: {text:?}")),
            };
        }
    };
    let source = from_json(&case["source"]);
    let out = prog.transform(&source, &EvalContext::empty());
    projection::same_when_projected(&prog, &source, &EvalContext::empty(), &out)?;
    match (out, want_error) {
        (Err(e), Some(sub)) if e.message.contains(sub) => Ok(()),
        (Err(e), _) => Err(format!("error: {}", e.message)),
        (Ok(o), Some(_)) => Err(format!(
            "expected an error, got {:?}",
            o.target.as_ref().map(to_string)
        )),
        (Ok(o), None) => {
            let expected = match &case["expected"] {
                J::Null => None,
                j => Some(from_json(j)),
            };
            if o.target == expected {
                Ok(())
            } else {
                Err(format!(
                    "expected {}\n        got {}",
                    expected.as_ref().map_or("null".into(), to_string),
                    o.target.as_ref().map_or("null".into(), to_string)
                ))
            }
        }
    }
}

#[test]
fn golden_files() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("tests/golden exists")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let (mut total, mut failures) = (0, Vec::new());
    for f in &files {
        let text = std::fs::read_to_string(f).expect("golden file is readable");
        let cases: Vec<J> = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", f.display()));
        let file = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for case in &cases {
            total += 1;
            if let Err(e) = run_case(case) {
                failures.push(format!(
                    "{file} / {}: {e}",
                    case["name"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    for f in &failures {
        println!("FAILED {f}");
    }
    println!(
        "golden: {}/{total} cases passed in {} files",
        total - failures.len(),
        files.len()
    );
    assert!(total > 0, "no golden cases found");
    assert!(
        failures.is_empty(),
        "{} golden case(s) failed",
        failures.len()
    );
}
