//! Throughput of a typical DTL: `["copy","*"]` plus a few `add`s on a ~500-byte entity.
//! Run with `cargo bench -p pumphouse-dtl --bench transform`.

use std::time::Instant;

use pumphouse_dtl::{compile, EvalContext, Options};
use pumphouse_value::transit::from_str;

fn main() {
    let copy_only = serde_json::json!({"default": [["copy", "*"]]});
    let rules = serde_json::json!({"default": [
        ["copy", "*"],
        ["add", "full_name", ["concat", "_S.first_name", " ", "_S.last_name"]],
        ["add", "type", "person"],
        ["add", "n_tags", ["count", "_S.tags"]],
        ["add", "email", ["lower", "_S.email"]],
        ["remove", "internal_*"]
    ]});
    let src = from_str(r#"{"_id":"person-12345","first_name":"Ada","last_name":"Lovelace","email":"ADA@Example.ORG",
        "age":36,"active":true,"tags":["math","poetry","engines"],"address":{"street":"St James's Square 12",
        "city":"London","zip":"SW1Y 4JH","country":"UK"},"phones":["+44 20 7946 0000","+44 20 7946 0001"],
        "created":"~t2015-07-28T09:46:00Z","score":97.5,"internal_note":"x","internal_flag":false,
        "description":"First programmer; wrote the notes on the Analytical Engine, with algorithm for Bernoulli numbers."}"#)
    .expect("entity parses");
    for (name, r) in [("copy *", &copy_only), ("copy * + 4 adds + remove", &rules)] {
        run(name, r, &src);
    }
}

fn run(name: &str, rules: &serde_json::Value, src: &pumphouse_value::Value) {
    let prog = compile(rules, &Options::default()).expect("rules compile");
    let ctx = EvalContext::empty();
    let n = 200_000;
    let start = Instant::now();
    for _ in 0..n {
        let out = prog.transform(src, &ctx).expect("transform runs");
        std::hint::black_box(out);
    }
    let el = start.elapsed();
    println!(
        "{name}: {n} entities in {el:?}: {:.2} µs/entity, {:.0} entities/s",
        el.as_secs_f64() * 1e6 / n as f64,
        n as f64 / el.as_secs_f64()
    );
}
