"""A fake HubSpot CRM v3 API for the end-to-end tests (contacts only).

Protocol-faithful where the connector depends on it (see shared/reference/connectors.md 4):
Bearer auth (a missing or wrong token, or a `hapikey` query parameter, gives 401), list with
`limit` <= 100 and opaque `after` cursors, `paging` absent on the last page, search with
filterGroups/filters (AND inside a group, OR across groups, at most 5/10/25), datetime
comparison on epoch milliseconds, one ascending/descending sort, `limit` <= 200, numeric
`after`, `total`, and 400 when paging past 10,000 results. Property values are strings;
datetimes are ISO-8601 UTC with milliseconds.

Test control (no auth): POST /_test/contacts upserts contacts and stamps lastmodifieddate,
DELETE /_test/contacts/<id> archives one (it disappears from list and search, as in HubSpot),
POST /_test/fail makes the API answer an error status, GET /_test/requests lists the calls.
"""

import base64
import json
import os
import sys
import threading
from datetime import datetime, timedelta, timezone

from flask import Flask, Response, request

app = Flask(__name__)
TOKEN = os.environ["FAKE_HUBSPOT_TOKEN"]
LOCK = threading.Lock()
CONTACTS = {}  # id -> contact
CLOCK = [datetime(2024, 5, 1, 10, 0, 0, tzinfo=timezone.utc)]
FAIL = {"status": None, "count": 0}
REQUESTS = []
DEFAULT_PROPS = ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"]
DATE_PROPS = {"createdate", "lastmodifieddate"}


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def tick():
    CLOCK[0] += timedelta(milliseconds=1500)
    return iso(CLOCK[0])


def error(status, message, category="VALIDATION_ERROR"):
    body = {"status": "error", "message": message, "correlationId": "fake", "category": category}
    return Response(json.dumps(body), status=status, mimetype="application/json")


def epoch_ms(iso_text):
    t = datetime.strptime(iso_text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return int(t.timestamp() * 1000)


@app.before_request
def check():
    if request.path.startswith("/_test/"):
        return None
    REQUESTS.append({"method": request.method, "path": request.path,
                     "args": request.args.to_dict(), "body": request.get_json(silent=True)})
    if "hapikey" in request.args:
        return error(401, "API keys (hapikey) are no longer supported; use a private app token", "INVALID_AUTHENTICATION")
    if request.headers.get("Authorization") != "Bearer " + TOKEN:
        return error(401, "Authentication credentials not found.", "INVALID_AUTHENTICATION")
    if FAIL["status"] and FAIL["count"] != 0:
        FAIL["count"] -= 1
        return error(FAIL["status"], "internal error", "INTERNAL_ERROR")
    return None


def shape(c, props):
    names = props if props else DEFAULT_PROPS
    return {"id": c["id"],
            "properties": {k: c["properties"].get(k) for k in names if k in c["properties"]},
            "createdAt": c["properties"]["createdate"], "updatedAt": c["properties"]["lastmodifieddate"],
            "archived": False}


@app.route("/crm/v3/objects/contacts", methods=["GET"])
def list_contacts():
    limit = int(request.args.get("limit", 10))
    if limit > 100:
        return error(400, "limit must be at most 100")
    props = [p for p in request.args.get("properties", "").split(",") if p]
    after = request.args.get("after")
    with LOCK:
        ids = sorted(CONTACTS, key=int)
        if after:
            last = base64.urlsafe_b64decode(after.encode()).decode()
            ids = [i for i in ids if int(i) > int(last)]
        page = ids[:limit]
        out = {"results": [shape(CONTACTS[i], props) for i in page]}
        if len(ids) > limit:
            cursor = base64.urlsafe_b64encode(page[-1].encode()).decode()
            out["paging"] = {"next": {"after": cursor, "link": request.base_url + "?after=" + cursor}}
    return Response(json.dumps(out), mimetype="application/json")


def matches(c, f):
    name, op = f.get("propertyName"), f.get("operator")
    have = c["properties"].get(name)
    if op == "HAS_PROPERTY":
        return have is not None
    if op == "NOT_HAS_PROPERTY":
        return have is None
    if have is None:
        return op == "NEQ"
    value = f.get("value")
    if name in DATE_PROPS:
        have, value = epoch_ms(have), int(value)
    return {"EQ": have == value, "NEQ": have != value, "LT": have < value, "LTE": have <= value,
            "GT": have > value, "GTE": have >= value}[op]


@app.route("/crm/v3/objects/contacts/search", methods=["POST"])
def search():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error(400, "Invalid input JSON")
    groups = body.get("filterGroups", [])
    if len(groups) > 5 or any(len(g.get("filters", [])) > 10 for g in groups) \
            or sum(len(g.get("filters", [])) for g in groups) > 25:
        return error(400, "too many filters")
    for g in groups:
        for f in g.get("filters", []):
            if f.get("operator") not in ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "HAS_PROPERTY", "NOT_HAS_PROPERTY"):
                return error(400, "unknown operator %r" % f.get("operator"))
            if f.get("operator") in ("HAS_PROPERTY", "NOT_HAS_PROPERTY") and "value" in f:
                return error(400, "HAS_PROPERTY takes no value")
    sorts = body.get("sorts", [])
    if len(sorts) > 1:
        return error(400, "only one sort is allowed")
    limit = int(body.get("limit", 10))
    if limit > 200:
        return error(400, "limit must be at most 200")
    after = int(body.get("after", 0) or 0)
    if after + limit > 10000:
        return error(400, "paging past 10,000 results is not allowed")
    with LOCK:
        found = [c for c in CONTACTS.values()
                 if not groups or any(all(matches(c, f) for f in g.get("filters", [])) for g in groups)]
        if sorts:
            key = sorts[0]["propertyName"]
            conv = epoch_ms if key in DATE_PROPS else (lambda x: x)
            found.sort(key=lambda c: conv(c["properties"][key]), reverse=sorts[0].get("direction") == "DESCENDING")
        else:
            found.sort(key=lambda c: int(c["id"]))
        page = found[after:after + limit]
        out = {"total": len(found), "results": [shape(c, body.get("properties")) for c in page]}
        if after + limit < len(found):
            out["paging"] = {"next": {"after": str(after + limit)}}
    return Response(json.dumps(out), mimetype="application/json")


@app.route("/_test/contacts", methods=["POST"])
def upsert():
    with LOCK:
        for c in request.get_json():
            cid = str(c.get("id") or (max([int(i) for i in CONTACTS] or [100]) + 1))
            now = tick()
            old = CONTACTS.get(cid, {"id": cid, "properties": {"createdate": now, "hs_object_id": cid}})
            old["properties"].update(c.get("properties", {}))
            old["properties"]["lastmodifieddate"] = now
            CONTACTS[cid] = old
        return Response(json.dumps({"count": len(CONTACTS), "clock": iso(CLOCK[0])}), mimetype="application/json")


@app.route("/_test/contacts/<cid>", methods=["DELETE"])
def archive(cid):
    with LOCK:
        CONTACTS.pop(cid, None)
        return Response(json.dumps({"count": len(CONTACTS)}), mimetype="application/json")


@app.route("/_test/fail", methods=["POST"])
def fail():
    body = request.get_json()
    FAIL["status"], FAIL["count"] = body.get("status"), body.get("count", -1)
    return Response("{}", mimetype="application/json")


@app.route("/_test/requests", methods=["GET", "DELETE"])
def requests_log():
    if request.method == "DELETE":
        REQUESTS.clear()
    return Response(json.dumps(REQUESTS), mimetype="application/json")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
