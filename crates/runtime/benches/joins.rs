//! Throughput of a `hops` join against a 1M-entity dataset in the real store: 1,000,000
//! orders over 100,000 customers (10 orders each), then the customer DTL joins each
//! customer to its orders through the store-backed index (`Joins`). Reports the time to
//! build the index (its first catch-up) and customers/s with the index warm.
//! Run with `cargo bench -p pumphouse-runtime --bench joins` (ORDERS=n to change the size).

use std::sync::Arc;
use std::time::Instant;

/// The allocator the `pumphouse` binary uses, so the numbers are the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use pumphouse_dtl::{compile, EvalContext, Options};
use pumphouse_runtime::joins::Joins;
use pumphouse_store::{PipeState, Store};
use pumphouse_value::{Map, Value};

fn main() {
    let orders: usize = std::env::var("ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let customers = orders / 10;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("store"));
    let start = Instant::now();
    let mut w = store.writer("orders", "orders", false).expect("writer");
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..orders {
        let mut m = Map::default();
        m.insert("_id".into(), Value::String(format!("o{i}")));
        m.insert(
            "cust_id".into(),
            Value::String(format!("c{}", i % customers)),
        );
        m.insert("amount".into(), Value::Int((i % 1000) as i64));
        m.insert(
            "type".into(),
            Value::String(if i % 3 == 0 { "BILLING" } else { "SHIPPING" }.into()),
        );
        batch.push(Value::Dict(m));
        if batch.len() == 10_000 {
            w.write(std::mem::take(&mut batch)).expect("write");
            w.commit(&PipeState::new(Value::Null)).expect("commit");
        }
    }
    w.write(batch).expect("write");
    w.commit(&PipeState::new(Value::Null)).expect("commit");
    drop(w);
    println!("wrote {orders} orders in {:?}", start.elapsed());

    let rules = serde_json::json!({"default": [
        ["copy", "_id"],
        ["add", "orders", ["apply-hops", "order", {"datasets": ["orders o"], "where": [["eq", "_S._id", "o.cust_id"]]}]],
        ["add", "total", ["sum", "_T.orders.amount"]]
    ], "order": [["copy", "_id"], ["add", "amount", "_S.amount"]]});
    let program = Arc::new(compile(&rules, &Options::default()).expect("rules compile"));
    let joins = Joins::reader(&store, "customers");
    let ctx = EvalContext {
        lookup: Some(&joins),
        ..EvalContext::default()
    };
    let src = |i: usize| {
        let mut m = Map::default();
        m.insert("_id".into(), Value::String(format!("c{i}")));
        Value::Dict(m)
    };
    let start = Instant::now();
    let first = program.transform(&src(0), &ctx).expect("transform");
    println!(
        "index build (first catch-up over {orders} orders): {:?}",
        start.elapsed()
    );
    let n_orders = first
        .target
        .as_ref()
        .and_then(|t| t.get("orders"))
        .map_or(0, |o| o.as_slice().len());
    assert_eq!(n_orders, 10, "each customer has 10 orders");
    let n = customers.min(100_000);
    let start = Instant::now();
    for i in 0..n {
        let out = program.transform(&src(i), &ctx).expect("transform");
        std::hint::black_box(out);
    }
    let el = start.elapsed();
    println!(
        "hops join (10 orders per customer) against {orders} orders: {n} customers in {el:?}: {:.1} µs/entity, {:.0} entities/s",
        el.as_secs_f64() * 1e6 / n as f64,
        n as f64 / el.as_secs_f64()
    );
}
