"""Writes the DTL conformance cases as seeds for the `dtl` fuzz target: fuzz/corpus/dtl/<id>.json
holding [rules, source]. Run from the repository root: python3 fuzz/seed.py"""
import json, os, sys

root = os.path.dirname(os.path.abspath(__file__))
cases_path = os.path.join(root, "..", "..", "shared", "conformance", "dtl-cases-dev.json")
if len(sys.argv) > 1:
    cases_path = sys.argv[1]
out = os.path.join(root, "corpus", "dtl")
os.makedirs(out, exist_ok=True)
n = 0
for c in json.load(open(cases_path)):
    name = "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in c["id"])
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump([c["rules"], c["source"]], f)
    n += 1
print(f"wrote {n} seeds to {out}")
