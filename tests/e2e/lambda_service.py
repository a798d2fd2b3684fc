"""The two ways the Lambda service calls the callback function that the emulator cannot play (its Invoke and
its event source mappings need Docker), played here in front of the function's running `bootstrap`:

- `InvokeApi`: Lambda's Invoke API, which a worker's boto3 `lambda` client reaches through
  AWS_ENDPOINT_URL_LAMBDA;
- `SqsPoller`: Lambda's poller for an SQS event source mapping, configured from the mapping the emulator
  holds, calling SQS with the function's role.

Both hand events to one `SerialFunction`: one instance of the function, which answers one event at a time.
"""

import hashlib
import http.server
import json
import re
import threading
from urllib.parse import unquote

from harness import REGION
from iam_eval import Call, action_of


class SerialFunction:
    """A running CallbackFunction shared by several callers: one event at a time, as one Lambda instance."""

    def __init__(self, function):
        self.function = function
        self.lock = threading.Lock()

    def invoke(self, payload, timeout: float = 60):
        with self.lock:
            return self.function.invoke(payload, timeout)

    def __getattr__(self, name):
        # logs(), configuration...: the function's own.
        return getattr(self.function, name)


class InvokeApi:
    """Lambda's Invoke API for one function (POST /2015-03-31/functions/{name or ARN}/invocations), answered
    by the function's running bootstrap. As Lambda answers a synchronous invocation: 200 with the function's
    result as the payload, and on a function error the header X-Amz-Function-Error: Unhandled with the error
    document as the payload; another function: 404 ResourceNotFoundException.

    The emulator enforces no IAM: with `allowed` (a callable taking a `Call`, such as a policy's decision from
    tests/e2e/iam_eval.py), each invocation is authorized first and refused as Lambda refuses it, 403
    AccessDeniedException, without reaching the function."""

    PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations(\?.*)?$")

    def __init__(self, function: SerialFunction, configuration: dict, allowed=None):
        names = {configuration["FunctionName"], configuration["FunctionArn"]}
        self.invocations = []
        self.refused = []
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: bytes, headers: dict):
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                match = InvokeApi.PATH.match(self.path)
                if not match or unquote(match.group("name")) not in names:
                    error = {"Type": "User", "Message": f"Function not found: {self.path}"}
                    self._answer(404, json.dumps(error).encode(), {"x-amzn-ErrorType": "ResourceNotFoundException"})
                    return
                call = Call("lambda:InvokeFunction", configuration["FunctionArn"])
                if allowed is not None and not allowed(call):
                    api.refused.append(call)
                    message = f"User is not authorized to perform: lambda:InvokeFunction on resource: {call.resource}"
                    error = {"Type": "User", "Message": message}
                    self._answer(403, json.dumps(error).encode(), {"x-amzn-ErrorType": "AccessDeniedException"})
                    return
                if self.headers.get("X-Amz-Invocation-Type", "RequestResponse") != "RequestResponse":
                    self._answer(400, b'{"Message": "only RequestResponse is served here"}', {})
                    return
                kind, result = function.invoke(json.loads(body) if body else {})
                api.invocations.append((kind, result))
                headers = {"X-Amz-Executed-Version": "$LATEST"}
                if kind == "error":
                    headers["X-Amz-Function-Error"] = "Unhandled"
                self._answer(200, json.dumps(result).encode(), headers)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def sqs_call(operation: str, queue_arn: str, kms_key_arn: str = "") -> list:
    """The IAM authorizations of one SQS request on a queue: the action on the queue and, for a receive from a
    KMS-encrypted queue, the kms:Decrypt that SQS makes with the caller's permissions on its behalf."""
    calls = [Call(action_of("sqs", operation), queue_arn)]
    if kms_key_arn and operation == "ReceiveMessage":
        calls.append(Call("kms:Decrypt", kms_key_arn, (("kms:ViaService", f"sqs.{REGION}.amazonaws.com"),)))
    return calls


def queue_arn_of(url: str) -> str:
    """arn:aws:sqs:REGION:ACCOUNT:NAME of a queue URL (.../ACCOUNT/NAME)."""
    account, name = url.rstrip("/").rsplit("/", 2)[-2:]
    return f"arn:aws:sqs:{REGION}:{account}:{name}"


class SqsPoller:
    """Lambda's poller for one SQS event source mapping, as AWS documents it. Its settings are the mapping's
    as the emulator holds it (GetEventSourceMapping); its SQS calls are made with the function's role, and
    recorded (`calls`) for a test to hold against the role's policy.

    Each round: ReceiveMessage of up to BatchSize messages with their attributes (long polling); one
    synchronous invocation with {"Records": [...]} in the record shape of an SQS event; then
    - a function error: nothing is deleted, the batch comes back after the queue's visibility timeout;
    - with ReportBatchItemFailures: every record not named in `batchItemFailures` is deleted (a malformed
      answer, or one naming a record not in the batch, counts as the whole batch failing);
    - without it: every record is deleted."""

    def __init__(self, moto, function: SerialFunction, mapping_uuid: str, credentials: dict):
        self.function = function
        self.mapping = moto.client("lambda").get_event_source_mapping(UUID=mapping_uuid)
        self.queue_arn = self.mapping["EventSourceArn"]
        _, _, _, _, account, name = self.queue_arn.split(":")
        self.queue_url = f"{moto.endpoint}/{account}/{name}"
        self.sqs = moto.client("sqs", **credentials)
        self.calls = []
        self.rounds = []  # (records, kind, answer, deleted message ids)
        self.kms_key_arn = ""  # known once the queue's attributes are read
        self.sqs.meta.events.register("before-parameter-build.sqs", self._record)
        # Lambda reads the queue's attributes when it enables a mapping: the visibility timeout must be at
        # least the function's timeout, or CreateEventSourceMapping fails.
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["All"])["Attributes"]
        self.visibility_timeout = int(attributes["VisibilityTimeout"])
        if attributes.get("KmsMasterKeyId"):
            key = moto.client("kms").describe_key(KeyId=attributes["KmsMasterKeyId"])
            self.kms_key_arn = key["KeyMetadata"]["Arn"]
        self.stopped = threading.Event()
        self.thread = None

    def _record(self, model, params, **_):
        self.calls.extend(sqs_call(model.name, queue_arn_of(params["QueueUrl"]), self.kms_key_arn))

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self.stopped.is_set():
            self.poll_once(wait_seconds=1)

    def stop(self):
        self.stopped.set()
        if self.thread:
            self.thread.join(timeout=30)

    def poll_once(self, wait_seconds: int):
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.mapping["BatchSize"], 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return
        records = [self._record_of(m) for m in messages]
        kind, answer = self.function.invoke({"Records": records})
        failed = self._failed_ids(kind, answer, {r["messageId"] for r in records})
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        self.rounds.append((records, kind, answer, [m["MessageId"] for m in done]))

    def _failed_ids(self, kind: str, answer, batch: set) -> set:
        if kind != "response":
            return batch
        if "ReportBatchItemFailures" not in self.mapping.get("FunctionResponseTypes", []):
            return set()
        failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
        if not isinstance(failures, list):
            return batch
        named = {f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures}
        return named if named <= batch else batch

    def _record_of(self, message: dict) -> dict:
        """An SQS event's record, as Lambda builds it from a received message."""
        attributes = {
            key: message["Attributes"][key]
            for key in (
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SenderId",
                "ApproximateFirstReceiveTimestamp",
                "SequenceNumber",
                "MessageGroupId",
                "MessageDeduplicationId",
            )
            if key in message.get("Attributes", {})
        }
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": attributes,
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }

