# The HubSpot source microservice of the seed tutorials ("Customize Data Source - The
# Microservice System" and "Microservices - Continuation support"), as the seeds write it,
# with what a working version needs: a Bearer token instead of the sunset hapikey, paging
# through every page, and `_updated` only when a since field is configured.
import requests
import json
from datetime import datetime
from flask import Flask, request
import logging
import os

app = Flask(__name__)
logger = None
format_string = '%(asctime)s - %(name)s - %(levelname)s - %(message)s'
logger = logging.getLogger('hubspot')

# Log to stdout
stdout_handler = logging.StreamHandler()
stdout_handler.setFormatter(logging.Formatter(format_string))
logger.addHandler(stdout_handler)
logger.setLevel(logging.DEBUG)

api_key = os.environ.get("api-key")
base_url = os.environ.get("base-url")
since_operator = os.environ.get("since-operator")
since_field = os.environ.get("since-field")


def find_epoch(time):
    utc_time = datetime.strptime(time, "%Y-%m-%dT%H:%M:%S.%fZ")
    epoch_time_milliseconds = (utc_time - datetime(1970, 1, 1)).total_seconds() * 1000
    return int(epoch_time_milliseconds)


@app.route("/get_contacts", methods=["GET", "POST"])
def get_contacts():
    since = request.args.get('since')
    headers = {"Authorization": "Bearer {}".format(api_key), "Content-Type": "application/json"}
    entities = []
    after = None
    while True:
        if since:
            body = {"filterGroups": [{"filters": [{"propertyName": since_field, "operator": since_operator,
                                                   "value": find_epoch(since)}]}],
                    "sorts": [{"propertyName": since_field, "direction": "ASCENDING"}],
                    "limit": 200}
            if after:
                body["after"] = after
            url = base_url + "/objects/contacts/search"
            res = requests.post(url=url, data=json.dumps(body), headers=headers)
        else:
            params = {"limit": 100, "properties": "email,firstname,lastname,lastmodifieddate"}
            if after:
                params["after"] = after
            url = base_url + "/objects/contacts"
            res = requests.get(url=url, params=params, headers=headers)

        if res.status_code != 200:
            logger.error("Unexpected response status code: %d with response text %s" % (res.status_code, res.text))
            raise AssertionError("Unexpected response status code: %d with response text %s" % (res.status_code, res.text))

        page = res.json()
        entities += page["results"]
        after = page.get("paging", {}).get("next", {}).get("after")
        if not after:
            break

    if since_field:
        for entity in entities:
            entity["_updated"] = entity["properties"][since_field]

    logger.info("Importing %i contacts to Sesam" % len(entities))
    return json.dumps(entities)


if __name__ == '__main__':
    app.run(debug=True, host='127.0.0.1', threaded=True, port=int(os.environ.get('PORT', os.environ.get('port', 5000))))
