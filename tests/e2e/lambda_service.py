"""The two ways the Lambda service calls the callback function that the emulator cannot play (its Invoke and
its event source mappings need Docker), played here in front of the function's running `bootstrap`:

- `InvokeApi`: Lambda's Invoke API, which a worker's boto3 `lambda` client reaches through
  AWS_ENDPOINT_URL_LAMBDA;
- `SqsPoller`: Lambda's poller for an SQS event source mapping, configured from the mapping the emulator
  holds, calling SQS with the function's role;
- `FunctionUrl`: a function URL (moto stores the URL's configuration but serves no URL): an HTTPS server on
  127.0.0.1 that turns each request into the function URL event (payload format 2.0) and the function's answer
  into the HTTP response, checking SigV4 first under AWS_IAM.

All hand events to one `SerialFunction`: one instance of the function, which answers one event at a time.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import re
import ssl
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from harness import ACCOUNT, REGION
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



# ---------------------------------------------------------------------------------------------------------
# Function URLs

# The content types Lambda hands to a function as text; any other body (binary, a form post, none named) comes
# base64-encoded with isBase64Encoded true. "If the content type of the request is binary, the body is
# base64-encoded": https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-request-payload
# (a browser's form post, application/x-www-form-urlencoded, is not one of the text types: it arrives encoded).
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")
# A synchronous invocation's request payload: 6 MB; a function URL refuses a larger request with 413.
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_REQUEST_BYTES = 6 * 1024 * 1024
# SigV4: a signed request is refused when its X-Amz-Date is more than 5 minutes away from the server's clock.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/signing-elements.html
SIGV4_SKEW_SECONDS = 300


def is_text(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return any(kind.startswith(t) for t in TEXT_TYPES) or kind.endswith("+json") or kind.endswith("+xml")


def url_event(
    method: str,
    target: str,
    headers: list,
    body: bytes,
    source_ip: str,
    domain: str,
    account: str = ACCOUNT,
    authorizer: dict | None = None,
    now: float | None = None,
    request_id: str | None = None,
) -> dict:
    """The event Lambda gives a function for one request to its URL (payload format 2.0), as documented in
    https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-request-payload: `headers` is the
    request's (name, value) pairs (names lower-cased, repeated ones joined with commas, cookies moved to
    `cookies`), `target` the request line's path and query. Without a body there is no `body` key; a query's
    repeated parameters are joined with commas in queryStringParameters, which is absent without a query;
    `requestContext.authorizer` is {"iam": ...} under AWS_IAM, null otherwise."""
    now = time.time() if now is None else now
    parts = urlsplit(target)
    raw_path = parts.path or "/"
    merged: dict = {}
    cookies = []
    for name, value in headers:
        name = name.lower()
        if name == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        merged[name] = f"{merged[name]},{value}" if name in merged else value
    merged.setdefault("x-forwarded-for", source_ip)
    merged.setdefault("x-forwarded-proto", "https")
    merged.setdefault("x-forwarded-port", "443")
    stamp = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": parts.query,
        "headers": merged,
        "requestContext": {
            "accountId": account,
            "apiId": domain.split(".", 1)[0],
            "authentication": None,
            "authorizer": authorizer,
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": method,
                "path": unquote(raw_path),
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": request_id or str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": stamp.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if parts.query:
        params: dict = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    if body:
        if is_text(merged.get("content-type", "")):
            event["body"] = body.decode("utf-8", errors="replace")
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def url_response(kind: str, result) -> tuple:
    """(status, headers, body bytes) of the HTTP response Lambda makes of a function's answer, as documented in
    https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-response-payload: an object with a
    `statusCode` is the response (its `headers`, `cookies` as Set-Cookie, `body`, base64 when isBase64Encoded);
    any other JSON value (a string, an object without statusCode) is the body of a 200 application/json. A
    function error is 502 Internal Server Error."""
    if kind != "response":
        return 502, [("content-type", "application/json")], b'{"Message":"Internal Server Error"}'
    if isinstance(result, dict) and "statusCode" in result:
        headers = [(str(k).lower(), str(v)) for k, v in (result.get("headers") or {}).items()]
        headers += [("set-cookie", c) for c in result.get("cookies") or []]
        body = result.get("body") or ""
        if not isinstance(body, str):
            body = json.dumps(body)
        data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        if not any(name == "content-type" for name, _ in headers):
            headers.append(("content-type", "application/json"))
        return int(result["statusCode"]), headers, data
    return 200, [("content-type", "application/json")], json.dumps(result).encode()


def tls_identity(hosts: list) -> dict:
    """A self-signed certificate for `hosts` (the function URLs' host names): {"cert", "key"} (PEM files in a
    temporary folder kept while the returned dict lives) and "spki" (base64 SHA-256 of its public key, what
    Chromium's --ignore-certificate-errors-spki-list trusts: this certificate and no other)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tempfile.TemporaryDirectory(prefix="sfngen-url-tls-")
    cert_path, key_path = Path(folder.name) / "cert.pem", Path(folder.name) / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "cert": cert_path,
        "key": key_path,
        "spki": base64.b64encode(hashlib.sha256(spki).digest()).decode(),
        "folder": folder,
    }


class SigV4Refused(Exception):
    """Why a request's SigV4 signature is not accepted (said in the test's record, never to the client)."""


def _canonical_request(method: str, target: str, headers: dict, signed: list, body: bytes) -> str:
    """SigV4's canonical request (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
    the path URI-encoded again (services other than S3), the query's parameters encoded and sorted, the signed
    headers' trimmed values, the body's SHA-256."""
    parts = urlsplit(target)
    path = quote(parts.path or "/", safe="/~")
    query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True))
    )
    lines = [f"{name}:{' '.join(headers.get(name, '').split())}" for name in signed]
    payload = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    return "\n".join([method, path, query, *lines, "", ";".join(signed), payload])


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


def verify_sigv4(method: str, target: str, headers: dict, body: bytes, keys: dict, now: float) -> dict:
    """Checks a request's SigV4 signature as Lambda does for an AWS_IAM function URL, and returns the key's entry
    from `keys` ({access key id: {"SecretAccessKey", "SessionToken", "identity"}}). Raises SigV4Refused: no or a
    malformed Authorization header, a key not in `keys`, another region or service than lambda in us-east-1, the
    host or x-amz-date not signed, a date more than 5 minutes off, a session token that is not the key's, a
    signature that does not match the request (method, path, query, signed headers, body)."""
    match = AUTHORIZATION.match(headers.get("authorization", ""))
    if not match:
        raise SigV4Refused("no AWS4-HMAC-SHA256 Authorization header")
    entry = keys.get(match["key"])
    if entry is None:
        raise SigV4Refused(f"unknown access key {match['key']}")
    if (match["region"], match["service"]) != (REGION, "lambda"):
        raise SigV4Refused(f"credential scope {match['region']}/{match['service']}")
    signed = match["signed"].split(";")
    if "host" not in signed or "x-amz-date" not in signed or signed != sorted(signed):
        raise SigV4Refused(f"signed headers {signed}")
    amz_date = headers.get("x-amz-date", "")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise SigV4Refused(f"x-amz-date {amz_date!r}") from None
    if abs(when.timestamp() - now) > SIGV4_SKEW_SECONDS or amz_date[:8] != match["date"]:
        raise SigV4Refused(f"x-amz-date {amz_date} is more than {SIGV4_SKEW_SECONDS}s off")
    if entry.get("SessionToken") and headers.get("x-amz-security-token") != entry["SessionToken"]:
        raise SigV4Refused("missing or wrong x-amz-security-token")
    canonical = _canonical_request(method, target, headers, signed, body)
    scope = f"{match['date']}/{REGION}/lambda/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _signing_key(entry["SecretAccessKey"], match["date"], REGION, "lambda")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match["signature"]):
        raise SigV4Refused("signature does not match")
    return entry


def sign_sigv4(credentials: dict, method: str, url: str, body: bytes = b"", headers: dict | None = None) -> dict:
    """The headers of a request to `url` signed with SigV4 for Lambda (botocore's signer, as an SDK or awscurl
    signs a function URL request): the given headers plus Authorization, X-Amz-Date and, for temporary
    credentials, X-Amz-Security-Token."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    creds = Credentials(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials.get("SessionToken"))
    SigV4Auth(creds, "lambda", REGION).add_auth(request)
    return dict(request.headers.items())


def url_calls(function_arn: str) -> list:
    """What IAM authorizes for a caller of an AWS_IAM function URL: lambda:InvokeFunctionUrl (condition key
    lambda:FunctionUrlAuthType) and lambda:InvokeFunction (lambda:InvokedViaFunctionUrl true): "you must have
    lambda:InvokeFunctionUrl and lambda:InvokeFunction permissions",
    https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"""
    return [
        Call("lambda:InvokeFunctionUrl", function_arn, (("lambda:FunctionUrlAuthType", "AWS_IAM"),)),
        Call("lambda:InvokeFunction", function_arn, (("lambda:InvokedViaFunctionUrl", "true"),)),
    ]


class FunctionUrl:
    """A Lambda function URL in front of a running function: an HTTPS server on 127.0.0.1 (a free port) with a
    certificate for the URL's host name, so that a client reaches the URL the emulator gave
    (https://ID.lambda-url.us-east-1.on.aws/) by resolving that host to this port: Chromium with `host_rules`
    and `spki`, the test with `request()`.

    Each request becomes one synchronous invocation with the event of `url_event`; the answer becomes the
    response (`url_response`). Before that, as Lambda: a body over 6 MB → 413; under AWS_IAM a request whose
    SigV4 signature does not verify → 403 {"Message":"Forbidden"} without invoking the function.

    SigV4 is verified for real (`verify_sigv4`: canonical request, signing key, signature, date, session token)
    against the keys a test registered with `trust(credentials)`: credentials the emulator issued
    (sts:AssumeRole); moto answers GetCallerIdentity with those credentials and that identity becomes
    `requestContext.authorizer.iam` (userArn, accountId, callerId, userId, accessKey). An optional `allowed`
    (a callable taking an iam_eval `Call` and the caller's identity) also authorizes the caller's `url_calls`
    (lambda:InvokeFunctionUrl and lambda:InvokeFunction through the URL), as IAM does; refused → 403.

    `exchanges`: every request as served: {"method", "target", "headers", "body", "event" (None when refused
    before the function), "kind", "result", "status", "response_headers", "response_body", "refused"}."""

    def __init__(self, function, url_config: dict, moto=None, allowed=None):
        self.function = function
        given = url_config["FunctionUrl"]
        self.url = given if given.endswith("/") else given + "/"
        self.auth_type = url_config["AuthType"]
        self.function_arn = url_config["FunctionArn"]
        self.host = urlsplit(self.url).hostname
        self.moto = moto
        self.allowed = allowed
        self.keys: dict = {}
        self.exchanges: list = []
        self.tls = tls_identity([self.host])
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls["cert"], self.tls["key"])
        shim = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                shim._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                sock, address = super().get_request()
                # The handshake happens in the request's thread (on its first read), not in the accept loop.
                return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @classmethod
    def deployed(cls, moto, function, function_name: str, allowed=None) -> "FunctionUrl":
        """The URL the emulator holds for a function (GetFunctionUrlConfig), served by `function`."""
        config = moto.client("lambda").get_function_url_config(FunctionName=function_name)
        return cls(function, config, moto, allowed)

    @property
    def host_rules(self) -> str:
        """Chromium's --host-resolver-rules sending this URL's host to the server."""
        return f"MAP {self.host} 127.0.0.1:{self.port}"

    @property
    def spki(self) -> str:
        return self.tls["spki"]

    def trust(self, credentials: dict) -> dict:
        """Registers credentials the emulator issued (AccessKeyId, SecretAccessKey, SessionToken) as a caller: the
        emulator's GetCallerIdentity with them is the identity IAM would authenticate. Returns that identity."""
        from harness import aws_client

        identity = aws_client("sts", self.moto.endpoint, **credentials).get_caller_identity()
        self.keys[credentials["AccessKeyId"]] = {**credentials, "identity": identity}
        return identity

    def _authorize(self, method: str, target: str, headers: dict, body: bytes) -> dict:
        entry = verify_sigv4(method, target, headers, body, self.keys, time.time())
        identity = entry["identity"]
        if self.allowed is not None:
            for call in url_calls(self.function_arn):
                if not self.allowed(call, identity):
                    raise SigV4Refused(f"not allowed: {call.describe()}")
        return {
            "iam": {
                "accessKey": entry["AccessKeyId"],
                "accountId": identity["Account"],
                "callerId": identity["UserId"],
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": identity["Arn"],
                "userId": identity["UserId"],
            }
        }

    def _serve(self, handler):
        record = {"method": handler.command, "target": handler.path, "headers": handler.headers.items(),
                  "body": b"", "event": None, "refused": None}
        self.exchanges.append(record)
        length = int(handler.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            record["refused"] = f"body of {length} bytes"
            # Read (and drop) what the client sends before answering, so that it sees the 413 rather than a
            # connection reset mid-upload; past 64 MiB the connection is cut.
            left = min(length, 64 * 1024 * 1024)
            while left > 0:
                chunk = handler.rfile.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
            handler.close_connection = True
            message = b'{"Message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}'
            return self._write(handler, record, 413, [("content-type", "application/json")], message)
        body = handler.rfile.read(length) if length else b""
        record["body"] = body
        headers = {name.lower(): value for name, value in handler.headers.items()}
        authorizer = None
        if self.auth_type == "AWS_IAM":
            try:
                authorizer = self._authorize(handler.command, handler.path, headers, body)
            except SigV4Refused as refusal:
                record["refused"] = str(refusal)
                return self._write(handler, record, 403, [("content-type", "application/json")],
                                   b'{"Message":"Forbidden"}')
        event = url_event(handler.command, handler.path, handler.headers.items(), body,
                          handler.client_address[0], self.host, authorizer=authorizer)
        record["event"] = event
        kind, result = self.function.invoke(event)
        record["kind"], record["result"] = kind, result
        status, response_headers, data = url_response(kind, result)
        return self._write(handler, record, status, response_headers, data)

    @staticmethod
    def _write(handler, record: dict, status: int, headers: list, data: bytes):
        record.update(status=status, response_headers=headers, response_body=data)
        handler.send_response(status)
        for name, value in headers:
            if name not in ("content-length", "connection", "transfer-encoding"):
                handler.send_header(name, value)
        handler.send_header("x-amzn-requestid", record["event"]["requestContext"]["requestId"]
                            if record.get("event") else str(uuid.uuid4()))
        handler.send_header("Content-Length", str(len(data)))
        if handler.close_connection:
            handler.send_header("Connection", "close")
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)

    def request(self, method: str, target: str = "/", body: bytes = b"", headers: dict | None = None,
                sign: dict | None = None, timeout: float = 60) -> tuple:
        """Sends one request to this URL as a client on the internet would (HTTPS to the URL's host, here this
        server; the certificate checked against the server's own): `target` is the path and query, `sign`
        credentials to sign it with SigV4. Returns (status, {lower-case header: value}, body bytes)."""
        headers = {"Host": self.host, "User-Agent": "sfngen-e2e", **(headers or {})}
        if sign is not None:
            signed = sign_sigv4(sign, method, f"https://{self.host}{target}", body, headers)
            headers = {**headers, **signed}
        context = ssl.create_default_context(cafile=str(self.tls["cert"]))
        context.check_hostname = False
        connection = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=context)
        try:
            connection.request(method, target, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.tls["folder"].cleanup()


# ---------------------------------------------------------------------------------------------------------
# What a function asks of AWS

# The JSON-protocol target prefixes (X-Amz-Target) of the services the functions call, and their IAM prefixes.
TARGETS = {
    "DynamoDB_20120810": "dynamodb",
    "TrentService": "kms",
    "AWSStepFunctions": "states",
    "AmazonSQS": "sqs",
    "secretsmanager": "secretsmanager",
    "AWSEvents": "events",
}


class AwsCalls:
    """A loopback proxy in front of the emulator for one function (its AWS_ENDPOINT_URL): every request is passed
    on as it came and recorded, so that a test can hold the function's calls against its role's policy (the
    emulator enforces no IAM). `calls(state_machine_arn)` turns the requests into iam_eval `Call`s: the action,
    the resource the request names (table, key, topic, queue, secret; the state machine for SendTask*, whose
    token names none), and lambda:SourceFunctionArn, the condition key AWS adds to a function role's calls."""

    def __init__(self, moto_endpoint: str):
        target = urlsplit(moto_endpoint)
        self.requests = []  # (method, path, headers {lower-case: value}, body bytes)
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _pass(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                recorder.requests.append((self.command, self.path, {k.lower(): v for k, v in headers.items()}, body))
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    self.send_response(response.status)
                    for name, value in response.getheaders():
                        if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                            self.send_header(name, value)
                finally:
                    upstream.close()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def calls(self, function_arn: str, state_machine_arn: str) -> list:
        found = []
        for method, path, headers, body in self.requests:
            context = (("lambda:SourceFunctionArn", function_arn),)
            if "x-amz-target" in headers:
                prefix, operation = headers["x-amz-target"].split(".", 1)
                service = TARGETS[prefix]
                params = json.loads(body or b"{}")
            else:
                params = {k: v for k, v in parse_qsl(body.decode())}
                service, operation = "sns", params.get("Action", f"{method} {path}")
            resource = {
                "dynamodb": lambda: f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{params['TableName']}",
                "kms": lambda: params["KeyId"],
                "states": lambda: state_machine_arn,
                "sqs": lambda: queue_arn_of(params["QueueUrl"]),
                "secretsmanager": lambda: params["SecretId"],
                "events": lambda: ",".join(sorted({e.get("EventBusName", "default") for e in params["Entries"]})),
                "sns": lambda: params.get("TopicArn", ""),
            }[service]()
            found.append(Call(action_of(service, operation), resource, context))
        return found

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
