"""A local connector microservice in the style of the seeds (Flask, served by waitress), for
the json protocol benchmark: GET /contacts streams N HubSpot-like contacts as a JSON array
(generated per request, like the HubSpot source service pages through its API), and
POST /receiver takes a batch of entities like the Service Bus sink service (parses it and
answers 200). Usage: contacts_service.py PORT N
"""

import json
import sys

from flask import Flask, Response, request
from waitress import serve

app = Flask(__name__)
N = int(sys.argv[2])
NOTES = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua")
RECEIVED = {"entities": 0}


def contact(i):
    return {
        "id": str(i), "_updated": "2024-05-01T10:%02d:%02d.000Z" % (i // 60 % 60, i % 60),
        "hs_object_id": str(i), "firstname": "First%d" % i, "lastname": "Last%d" % i,
        "email": "user%d@example.org" % i, "phone": "+47 %08d" % (i * 7 % 100000000),
        "company": "company-%d" % (i % 5000),
        "address": {"street": "Street %d %d" % (i % 300, i % 97), "zip": "%04d" % (i % 10000),
                    "city": "City %d" % (i % 400), "country": "NO"},
        "tags": ["customer", "segment-%d" % (i % 12), "v0"], "score": (i * 31) % 1000,
        "active": i % 3 != 0, "notes": NOTES, "updated": "2024-01-%02dT10:00:00Z" % (1 + i % 28),
    }


@app.route("/contacts", methods=["GET"])
def contacts():
    def generate():
        yield "["
        for start in range(0, N, 500):
            part = ",".join(json.dumps(contact(i)) for i in range(start, min(N, start + 500)))
            yield ("," if start else "") + part
        yield "]"
    return Response(generate(), mimetype="application/json")


@app.route("/receiver", methods=["POST"])
def receiver():
    RECEIVED["entities"] += len(request.get_json())
    return Response("{}", mimetype="application/json")


@app.route("/received", methods=["GET"])
def received():
    return Response(json.dumps(RECEIVED), mimetype="application/json")


if __name__ == "__main__":
    serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=4)
