//! Encryption and phone numbers beyond the conformance cases: round trips of every typed
//! value through `encrypt`/`decrypt`, RSA and OpenPGP round trips with the throwaway keys in
//! `tests/keys/` (the PGP pair is the one the conformance cases embed, passphrase
//! `valid-password`), clear errors for bad keys and passphrases, and every phone format.

use pumphouse_dtl::{compile, EvalContext, Options};
use pumphouse_value::transit::{from_json, to_string};
use pumphouse_value::Value;
use serde_json::json;

fn key(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("test key")
}

fn eval(expr: serde_json::Value) -> Result<Value, String> {
    let rules = json!({"default": [["copy", "_id"], ["add", "r", expr]]});
    let prog = compile(&rules, &Options::default()).map_err(|e| format!("{e:?}"))?;
    let out = prog
        .transform(&from_json(&json!({"_id": "1"})), &EvalContext::default())
        .map_err(|e| e.message)?;
    Ok(out.target.unwrap().get("r").cloned().unwrap())
}

#[test]
fn fernet_round_trips_any_value() {
    let v = json!([
        "list",
        1,
        2.5,
        "~f1.25",
        "~t2020-01-01T00:00:00Z",
        "~:a:b",
        "~rhttp://x",
        ["dict", "k", null],
        true
    ]);
    let want = eval(v.clone()).unwrap();
    let tok = eval(json!(["encrypt", "pw", v.clone()])).unwrap();
    assert!(matches!(tok, Value::Bytes(_)), "one bytes token: {tok:?}");
    assert_eq!(
        eval(json!(["decrypt", "pw", ["encrypt", "pw", v.clone()]])).unwrap(),
        want
    );
    // A wrong key gives nothing back, not garbage.
    assert_eq!(
        eval(json!(["decrypt", "other", ["encrypt", "pw", v]])).unwrap(),
        Value::Null
    );
    assert_eq!(eval(json!(["encrypt", "pw", null])).unwrap(), Value::Null);
}

#[test]
fn rsa_round_trip_and_key_errors() {
    let (public, private) = (key("rsa-public.pem"), key("rsa-private.pem"));
    let r = eval(json!([
        "json-transit-parse",
        [
            "decrypt-pki",
            private,
            [
                "encrypt-pki",
                public,
                ["json-transit", ["list", ["list", "a", "b", "c"]]]
            ]
        ]
    ]))
    .unwrap();
    assert_eq!(to_string(&r), r#"[["a","b","c"]]"#);
    let one = eval(json!([
        "decrypt-pki",
        private,
        ["encrypt-pki", public, "secret"]
    ]))
    .unwrap();
    assert_eq!(one, Value::String("secret".into()));
    let e = eval(json!(["encrypt-pki", "not a key", "x"])).unwrap_err();
    assert!(
        e.contains("encrypt-pki: PUBLIC_KEY is not an RSA public key"),
        "{e}"
    );
    let e = eval(json!(["decrypt-pki", public, ["bytes", "x"]])).unwrap_err();
    assert!(e.contains("decrypt-pki: PRIVATE_KEY"), "{e}");
}

#[test]
fn pgp_round_trip_list_and_passphrase() {
    let (public, private) = (key("pgp-public.asc"), key("pgp-private.asc"));
    let enc = eval(json!(["encrypt-pgp", public, ["list", "data", "data2"]])).unwrap();
    assert!(
        enc.as_slice().iter().all(|m| m
            .as_str()
            .is_some_and(|s| s.starts_with("-----BEGIN PGP MESSAGE-----"))),
        "{enc:?}"
    );
    let r = eval(json!([
        "decrypt-pgp",
        private,
        "valid-password",
        ["encrypt-pgp", public, ["list", "data", "data2"]]
    ]))
    .unwrap();
    assert_eq!(to_string(&r), r#"["data","data2"]"#);
    let e = eval(json!([
        "decrypt-pgp",
        private,
        "wrong",
        ["encrypt-pgp", public, "x"]
    ]))
    .unwrap_err();
    assert!(e.contains("decrypt-pgp"), "{e}");
    let e = eval(json!([
        "encrypt-pgp",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\nnope",
        "x"
    ]))
    .unwrap_err();
    assert!(e.contains("encrypt-pgp: PUBLIC_KEY"), "{e}");
}

#[test]
fn phone_formats() {
    let n = "~rtel:+47-22-22-22-22";
    for (fmt, want) in [
        ("e164", "4722222222"),
        ("national-e164", "22222222"),
        ("national", "22 22 22 22"),
        ("international", "+47 22 22 22 22"),
        ("rfc3966", "tel:+47-22-22-22-22"),
        ("isocode", "NO"),
        ("country-code", "47"),
    ] {
        assert_eq!(
            eval(json!(["phonenumber-format", fmt, n])).unwrap(),
            Value::String(want.into()),
            "{fmt}"
        );
    }
    assert_eq!(
        to_string(
            &eval(json!([
                "phonenumber-parse",
                "NO",
                ["list", "22225555", "not a number", null, 4722222222i64]
            ]))
            .unwrap()
        ),
        r#"["~rtel:+47-22-22-55-55","~rtel:+47-22-22-22-22"]"#
    );
    let e = eval(json!(["phonenumber-format", "e.164", n])).unwrap_err();
    assert!(
        e.contains("FORMAT_STRING unknown phone number format"),
        "{e}"
    );
    let e = eval(json!(["phonenumber-parse", "Norway", "22225555"])).unwrap_err();
    assert!(e.contains("DEFAULT_REGION"), "{e}");
}
