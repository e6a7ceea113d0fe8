#!/usr/bin/env bash
# Installs what the end-to-end tests of microservices need: python3 with flask, requests and
# waitress (the seeds' microservices are Flask apps). Idempotent: installs only what is missing.
set -euo pipefail
if ! command -v python3 >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3 python3-pip
fi
missing=()
for mod in flask requests waitress; do
    python3 -c "import $mod" 2>/dev/null || missing+=("$mod")
done
if [ ${#missing[@]} -gt 0 ]; then
    python3 -m pip install --quiet "${missing[@]}" \
        || python3 -m pip install --quiet --break-system-packages "${missing[@]}"
fi
python3 -c "import flask, requests, waitress" && echo "test dependencies: python3 with flask, requests, waitress"
