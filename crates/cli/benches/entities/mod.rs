//! The entity the benchmarks generate: a contact of ~466 bytes of JSON (nested address, a
//! list, numbers, booleans), varied by index and version.

use std::fmt::Write as _;

pub fn entity(i: usize, version: usize) -> String {
    let mut s = String::with_capacity(560);
    let _ = write!(
        s,
        r#"{{"_id":"contact-{i}","firstname":"First{i}","lastname":"Last{i}","email":"user{i}@example.org","phone":"+47 {:08}","company":"company-{}","address":{{"street":"Street {} {}","zip":"{:04}","city":"City {}","country":"NO"}},"tags":["customer","segment-{}","v{version}"],"score":{},"active":{},"notes":"{}","updated":"2024-01-{:02}T10:00:00Z"}}"#,
        i * 7 % 100_000_000,
        i % 5000,
        i % 300,
        i % 97,
        i % 10000,
        i % 400,
        i % 12,
        (i * 31) % 1000,
        i % 3 != 0,
        "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua",
        1 + i % 28
    );
    s
}
