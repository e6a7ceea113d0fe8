#!/usr/bin/env bash
# Runs the example flow in examples/contacts on the embedded store and shows the result.
set -euo pipefail
cd "$(dirname "$0")/.."
data=target/example-data
rm -rf "$data"
cargo build --quiet --release --bin pumphouse
bin=target/release/pumphouse
"$bin" run --config examples/contacts --data "$data"
echo
"$bin" datasets --data "$data"
echo
echo "active-contacts:"
"$bin" entities --data "$data" active-contacts
