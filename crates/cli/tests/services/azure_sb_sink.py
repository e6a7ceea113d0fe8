# The Azure Service Bus sink microservice of the seed "Extending Sesam integration platform
# with custom data sink service", as the seed writes it. Azure Service Bus itself cannot run
# here, so `ServiceBusService` is a stand-in that appends each message to a JSON-lines file
# per queue under QUEUE_DIR and fails (like a refused send) while FAIL_FILE exists. Each
# request's query parameters (the JSON push protocol) are recorded in QUEUE_DIR/requests.jsonl.
import os
import logging
import json

from waitress import serve
from flask import Flask, Response, request, abort

APP = Flask(__name__)

log_level = logging.getLevelName(os.environ.get("LOG_LEVEL", "INFO"))
logging.basicConfig(level=log_level)

SERVICE_NAMESPACE = os.environ.get("SERVICE_NAMESPACE")
SERVICE_SAS_TOKEN_NAME = os.environ.get("SERVICE_SAS_TOKEN_NAME")
SERVICE_SAS_TOKEN_VALUE = os.environ.get("SERVICE_SAS_TOKEN_VALUE")
PAYLOAD_KEY = os.environ.get("PAYLOAD_KEY")
QUEUE_DIR = os.environ["QUEUE_DIR"]
FAIL_FILE = os.environ.get("FAIL_FILE")


class Message:
    def __init__(self, body):
        self.body = body


class ServiceBusService:
    def __init__(self, service_namespace, shared_access_key_name, shared_access_key_value):
        if not (service_namespace and shared_access_key_name and shared_access_key_value):
            raise ValueError("missing Service Bus credentials")

    def send_queue_message(self, queue_name, msg):
        if FAIL_FILE and os.path.exists(FAIL_FILE):
            raise IOError("Service Bus refused the message (test failure switch is on)")
        with open(os.path.join(QUEUE_DIR, queue_name + ".jsonl"), "ab") as f:
            f.write(msg.body + b"\n")


@APP.route("/<queue_name>", methods=['POST'])
def process_request(queue_name):
    """
    Endpoint to publish messages to Azure service bus
    :param queue_name: name of queue to publish messages to
    :return:
    """
    input_data = request.get_json()
    with open(os.path.join(QUEUE_DIR, "requests.jsonl"), "a") as f:
        f.write(json.dumps({"args": request.args.to_dict(), "count": len(input_data)}) + "\n")
    bus_service = ServiceBusService(service_namespace=SERVICE_NAMESPACE,
                                    shared_access_key_name=SERVICE_SAS_TOKEN_NAME,
                                    shared_access_key_value=SERVICE_SAS_TOKEN_VALUE)

    for index, input_entity in enumerate(input_data):
        data: str = json.dumps(input_entity[PAYLOAD_KEY] if PAYLOAD_KEY else input_entity).encode(
            "utf-8")
        msg = Message(data)
        try:
            bus_service.send_queue_message(queue_name, msg)
            logging.info("Entity %s sent successfully", input_entity["_id"])
        except Exception as e:
            logging.error(e)
            abort(500)
    return Response()


if __name__ == "__main__":
    """
    Program entry point
    """
    port = int(os.environ.get('PORT', 5000))
    logging.info("starting service on port %d", port)
    serve(APP, host='127.0.0.1', port=port)
