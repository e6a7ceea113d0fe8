//! Fuzzes the DTL compiler and evaluator. The input is JSON text: `[RULES, SOURCE]` compiles
//! RULES and runs them on SOURCE against two small datasets (so `hops`, `apply-hops` and
//! `lookup-entity` are exercised); any other JSON is compiled as a rules object. Compile
//! errors and evaluation errors are fine; panics, hangs and runaway memory are findings.
//! Seeds: `python3 fuzz/seed.py` writes the conformance cases into `fuzz/corpus/dtl/`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pumphouse_dtl::{compile, EvalContext, MemoryDatasets, Options};
use pumphouse_value::transit::from_json;
use serde_json::Value as J;

fn datasets() -> MemoryDatasets {
    let mut d = MemoryDatasets::new();
    let ents = |t: &str| from_json(&serde_json::from_str::<J>(t).unwrap()).as_slice().to_vec();
    d.insert(
        "orders",
        ents(r#"[{"_id": "100", "cust_id": "1", "amount": 320, "type": "BILLING"},
                 {"_id": "200", "cust_id": ["1", "2"], "amount": 500.5, "type": "SHIPPING"},
                 {"_id": "300", "cust_id": "2", "_deleted": true}]"#),
    );
    d.insert(
        "B",
        ents(r#"[{"_id": "B", "value": 1, "values": [1, 3, 4, 6], "next": "C"},
                 {"_id": "C", "value": 2, "next": "B"}]"#),
    );
    d
}

fuzz_target!(|data: &[u8]| {
    let Ok(j) = serde_json::from_slice::<J>(data) else {
        return;
    };
    // `sleep!` pauses for real; it is not what this target looks for.
    if data.windows(6).any(|w| w == b"sleep!") {
        return;
    }
    let (rules, source) = match &j {
        J::Array(a) if a.len() == 2 => (&a[0], Some(&a[1])),
        _ => (&j, None),
    };
    for ns in [false, true] {
        let opts = Options {
            namespaced_identifiers: ns,
            identity_namespace: "foo".into(),
            property_namespace: "bar".into(),
            id_required: !ns,
        };
        let Ok(prog) = compile(rules, &opts) else {
            continue;
        };
        let Some(source) = source else { continue };
        let ds = datasets();
        let src = from_json(source);
        let ctx = EvalContext {
            previous: Some(&src),
            lookup: Some(&ds),
            params: None,
        };
        let _ = prog.transform(&src, &ctx);
    }
});
