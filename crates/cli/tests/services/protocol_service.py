# A microservice for the protocol tests, written like the seeds' services: a paged JSON pull
# endpoint (since/limit), an http-transform endpoint, a basic-auth protected endpoint and
# endpoints that misbehave (500, truncated JSON, malformed JSON, too slow). Every request is
# appended to REQUEST_LOG as one JSON line.
import json
import os
import time

from flask import Flask, Response, request

app = Flask(__name__)
ENTITIES = [{"_id": "e%d" % i, "_updated": i, "n": i} for i in range(1, 11)]


@app.before_request
def log_request():
    with open(os.environ["REQUEST_LOG"], "a") as f:
        f.write(json.dumps({"path": request.path, "args": request.args.to_dict(),
                            "auth": request.headers.get("Authorization")}) + "\n")


@app.route("/entities", methods=["GET"])
def entities():
    since = request.args.get("since")
    limit = request.args.get("limit")
    out = [e for e in ENTITIES if since is None or e["_updated"] > int(since)]
    if limit:
        out = out[:int(limit)]
    return Response(json.dumps(out), mimetype="application/json")


@app.route("/transform", methods=["POST"])
def transform():
    entities = request.get_json()
    for e in entities:
        e["square"] = e["n"] * e["n"]
        e["batch"] = len(entities)
    return Response(json.dumps(entities), mimetype="application/json")


@app.route("/secure/entities", methods=["GET"])
def secure():
    auth = request.authorization
    if not auth or auth.username != "reader" or auth.password != os.environ["SECURE_PASSWORD"]:
        return Response("unauthorized", status=401, headers={"WWW-Authenticate": 'Basic realm="test"'})
    return Response(json.dumps(ENTITIES[:2]), mimetype="application/json")


@app.route("/fails", methods=["GET"])
def fails():
    return Response("upstream is down: database unavailable", status=503)


@app.route("/truncated", methods=["GET"])
def truncated():
    return Response('[{"_id": "a", "n": 1}, {"_id": "b", "n": ', mimetype="application/json")


@app.route("/malformed", methods=["GET"])
def malformed():
    return Response('[{"_id": "a", "n": 1} {"_id": "b"}]', mimetype="application/json")


@app.route("/slow", methods=["GET"])
def slow():
    time.sleep(5)
    return Response("[]", mimetype="application/json")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", 5000)), threaded=True)
