//! Joins through the real binary and store: a customer pipe `apply-hops` into an orders
//! dataset. When only orders change, the customers that reached them (or now match them)
//! are processed again on the next run (dependency tracking, sesam-spec 3.4), and
//! `lookup-entity` reads another dataset by `_id`.

mod common;

use common::*;

fn orders_pipe(orders: &str) -> String {
    format!(
        r#"{{"_id": "orders", "type": "pipe", "source": {{"type": "embedded", "entities": {orders}}}}}"#
    )
}

fn customers(data: &std::path::Path) -> serde_json::Value {
    let o = pumphouse(&[
        "entities",
        "--data",
        data.to_str().unwrap(),
        "customer-orders",
    ]);
    assert!(o.status.success(), "{:?}", text(&o));
    serde_json::from_str(&text(&o).0).unwrap()
}

/// One line per customer, sorted by `_id` (the store lists latest versions in log order).
fn summary(v: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["_id"].as_str().unwrap(),
                e["orders"],
                e["total"],
                e["country"]
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_changed_joined_entity_reprocesses_the_entities_that_reached_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("p");
    let data = dir.path().join("d");
    write(
        &cfg,
        "pipes/customers.conf.json",
        r#"{"_id": "customers", "type": "pipe", "source": {"type": "embedded", "entities": [
            {"_id": "1", "name": "Ann", "cc": "NO"}, {"_id": "2", "name": "Bob", "cc": "SE"}]}}"#,
    );
    write(
        &cfg,
        "pipes/countries.conf.json",
        r#"{"_id": "countries", "type": "pipe", "source": {"type": "embedded", "entities": [
            {"_id": "NO", "name": "Norway"}, {"_id": "SE", "name": "Sweden"}]}}"#,
    );
    write(
        &cfg,
        "pipes/orders.conf.json",
        &orders_pipe(
            r#"[{"_id": "100", "cust": "1", "amount": 320}, {"_id": "200", "cust": "1", "amount": 500}]"#,
        ),
    );
    write(
        &cfg,
        "pipes/customer-orders.conf.json",
        r#"{"_id": "customer-orders", "type": "pipe",
            "source": {"type": "dataset", "dataset": "customers"},
            "transform": {"type": "dtl", "rules": {
              "default": [["copy", "_id"],
                ["add", "orders", ["sorted", ["apply-hops", "order", {"datasets": ["orders o"], "where": ["eq", "_S._id", "o.cust"]}]]],
                ["add", "total", ["sum", "_T.orders.amount"]],
                ["add", "country", ["path", "name", ["lookup-entity", "countries", "_S.cc"]]]],
              "order": [["add", "amount", "_S.amount"]]}}}"#,
    );
    let o = run(&cfg, &data);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(
        summary(&customers(&data)),
        [
            r#"1 [{"amount":320},{"amount":500}] 820 "Norway""#,
            r#"2 [] 0 "Sweden""#
        ]
    );

    // Only the orders change: 200 gets a new amount, 100 moves to customer 2, 300 is new.
    write(
        &cfg,
        "pipes/orders.conf.json",
        &orders_pipe(
            r#"[{"_id": "100", "cust": "2", "amount": 320}, {"_id": "200", "cust": "1", "amount": 50}, {"_id": "300", "cust": "2", "amount": 7}]"#,
        ),
    );
    let o = run(&cfg, &data);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(
        summary(&customers(&data)),
        [
            r#"1 [{"amount":50}] 50 "Norway""#,
            r#"2 [{"amount":7},{"amount":320}] 327 "Sweden""#
        ]
    );

    // An order that was reached is deleted: its customer is processed again.
    write(
        &cfg,
        "pipes/orders.conf.json",
        &orders_pipe(
            r#"[{"_id": "100", "cust": "2", "amount": 320}, {"_id": "300", "cust": "2", "amount": 7}]"#,
        ),
    );
    let o = run(&cfg, &data);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(summary(&customers(&data))[0], r#"1 [] 0 "Norway""#);

    // Nothing changed: a rerun writes no new customer versions.
    let before = snapshot(&data);
    let o = run(&cfg, &data);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(snapshot(&data), before);
}

#[test]
fn create_child_then_emit_children() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("p");
    let data = dir.path().join("d");
    write(
        &cfg,
        "pipes/parents.conf.json",
        r#"{"_id": "parents", "type": "pipe", "source": {"type": "embedded", "entities": [
            {"_id": "o1", "lines": [{"n": 1, "sku": "a"}, {"n": 2, "sku": "b"}]}]},
          "transform": {"type": "dtl", "rules": {
            "default": [["copy", "_id"], ["create-child", ["apply", "line", "_S.lines"]]],
            "line": [["add", "_id", ["concat", "_P._S._id", "-", ["string", "_S.n"]]], ["add", "sku", "_S.sku"]]}}}"#,
    );
    write(
        &cfg,
        "pipes/children.conf.json",
        r#"{"_id": "children", "type": "pipe", "source": {"type": "dataset", "dataset": "parents"},
          "transform": {"type": "emit_children"}}"#,
    );
    let o = run(&cfg, &data);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = pumphouse(&["entities", "--data", data.to_str().unwrap(), "children"]);
    let v: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    let got: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["_id"].as_str().unwrap(), e["sku"]))
        .collect();
    assert_eq!(got, [r#"o1-1 "a""#, r#"o1-2 "b""#]);
}
