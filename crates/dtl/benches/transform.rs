//! Throughput of typical DTL on a ~500-byte entity: `["copy","*"]` alone, plus a few
//! `add`s, and a realistic rule set of 20 different functions (strings, numbers, lists,
//! dates, conditionals, a nested `apply`). Run with
//! `cargo bench -p pumphouse-dtl --bench transform`.

use std::time::Instant;

/// The allocator the `pumphouse` binary uses, so the numbers are the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    let twenty = serde_json::json!({"default": [
        ["copy", "_id"],
        ["add", "name", ["concat", ["upper", ["substring", 0, 1, "_S.first_name"]], ". ", "_S.last_name"]],
        ["add", "email", ["lower", ["strip", "_S.email"]]],
        ["add", "domain", ["last", ["split", "@", ["lower", "_S.email"]]]],
        ["add", "tags", ["sorted", ["map", ["upper", "_."], "_S.tags"]]],
        ["add", "n_tags", ["count", "_S.tags"]],
        ["add", "adult", ["gte", "_S.age", 18]],
        ["add", "score", ["round", 1, ["*", "_S.score", 1.1]]],
        ["add", "created", ["datetime-format", "%Y-%m-%d", "_S.created"]],
        ["add", "year", ["integer", ["datetime-format", "%Y", "_S.created"]]],
        ["add", "city", ["coalesce", ["list", "_S.address.city", "unknown"]]],
        ["add", "country", ["case-eq", "_S.address.country", "UK", "United Kingdom", "NO", "Norway", "other"]],
        ["add", "phones", ["filter", ["matches", "+44*", "_."], "_S.phones"]],
        ["add", "kind", ["if", ["and", "_S.active", ["is-not-null", "_S.email"]], "active", "inactive"]],
        ["add", "address", ["apply", "address", "_S.address"]],
        ["make-ni", "person", "_id"],
        ["add", "summary", ["join", ", ", ["list", "_T.name", "_T.city", "_T.country"]]]
    ], "address": [
        ["add", "line", ["concat", "_S.street", ", ", "_S.zip", " ", "_S.city"]],
        ["add", "country", "_S.country"]
    ]});
    for (name, r) in [
        ("copy *", &copy_only),
        ("copy * + 4 adds + remove", &rules),
        ("20-function rule set", &twenty),
    ] {
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
