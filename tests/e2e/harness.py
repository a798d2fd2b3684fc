"""The seed sample's testing steps, and more, against real components over loopback.

- moto_server (tests/e2e/moto_shim.py: moto 5.2.5 plus the few AWS behaviours the provider needs) is the AWS
  endpoint on 127.0.0.1: Step Functions with its ASL interpreter, SQS, IAM, STS, KMS, Logs, Lambda, CloudWatch.
- Every module is created by the real Terraform CLI with the real hashicorp/aws provider (tfstack.py), from
  a root that calls the rendered module as a team vendors it; tests take the state machine ARN, queue URLs
  and callback function name from `terraform output -json`. Nothing the module owns is created here.
- The callback Lambda is the `bootstrap` the emulator stored for the function (GetFunction's code location),
  started with that function's memory, timeout, architecture, environment and log settings and with
  credentials of its role (sts:AssumeRole on the emulator), under qemu-user for arm64 or natively for
  x86_64, against a small Lambda Runtime API served here.
"""

import atexit
import base64
import hashlib
import http.server
import io
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import boto3

from tfstack import Pipeline, Stack, quick, record_timing

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
ACCOUNT = "123456789012"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    """Polls `predicate` until it returns a truthy value; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Moto:
    """moto_server (with tests/e2e/moto_shim.py's fixes) on a free loopback port, Step Functions execution on."""

    def __init__(self, env: dict | None = None):
        """`env`: variables for the server beside this process's (SFNGEN_MOTO_CALLS: record every request)."""
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "moto_shim.py"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=self.log,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        wait_until(self._answers, 30, "moto_server to answer")
        # Before anything creates a state machine: moto keeps them per interpreter setting.
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/config",
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=5).read()

    def _answers(self):
        if self.process.poll() is not None:
            raise AssertionError(f"moto_server exited early:\n{self.logs()[-4000:]}")
        try:
            urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).read()
            return True
        except OSError:
            return False

    def logs(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def client(self, service: str, **credentials):
        return aws_client(service, self.endpoint, **credentials)

    def stop(self):
        stop_process(self.process)


def aws_client(service: str, endpoint: str, **credentials):
    """A boto3 client for the emulator at `endpoint` (test keys unless STS credentials are given)."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=credentials.get("AccessKeyId", "testing"),
        aws_secret_access_key=credentials.get("SecretAccessKey", "testing"),
        aws_session_token=credentials.get("SessionToken"),
    )


def stop_process(process: subprocess.Popen):
    """Terminates a process this harness started, killing it if it does not stop within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def sfngen_binary() -> Path:
    return Path(os.environ.get("SFNGEN_BIN", ROOT / "target" / "debug" / "sfngen"))


# One render at a time: stacks prepare in parallel, and a render's timing is its own.
_RENDER_LOCK = threading.Lock()


def render(spec: Path, out: Path, *flags: str) -> Path:
    """Renders a spec with the real CLI: the module gets the Lambda package sfngen ships (what users deploy);
    nothing is built. `flags` go to `sfngen render` (`--allow-replace`)."""
    with _RENDER_LOCK:
        started = time.monotonic()
        result = subprocess.run(
            [str(sfngen_binary()), "render", str(spec), "-o", str(out), *flags],
            capture_output=True,
            text=True,
            timeout=120,
        )
        record_timing("sfngen", f"render {spec.parent.name}/{spec.name}", time.monotonic() - started)
    assert result.returncode == 0, result.stderr
    return out


# ---------------------------------------------------------------------------------------------------------
# What Terraform created, seen through the emulator


def leftovers(moto: Moto, resources: list) -> list:
    """The resources (as `terraform show -json` listed them before a destroy) that the emulator's list calls
    still find. A KMS key cannot vanish at once: AWS schedules its deletion, so it must be PendingDeletion."""
    sqs, sfn, lam, iam = (moto.client(s) for s in ("sqs", "stepfunctions", "lambda", "iam"))
    logs, kms, cloudwatch = (moto.client(s) for s in ("logs", "kms", "cloudwatch"))
    queues = {url.rsplit("/", 1)[1] for url in sqs.list_queues().get("QueueUrls", [])}
    machines = {m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    functions = {f["FunctionName"] for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"]}
    roles = {r["RoleName"] for p in iam.get_paginator("list_roles").paginate() for r in p["Roles"]}
    groups = {g["logGroupName"] for p in logs.get_paginator("describe_log_groups").paginate() for g in p["logGroups"]}
    alarms = {a["AlarmName"] for p in cloudwatch.get_paginator("describe_alarms").paginate() for a in p["MetricAlarms"]}
    dashboards = {d["DashboardName"] for d in cloudwatch.list_dashboards()["DashboardEntries"]}
    aliases = {a["AliasName"] for p in kms.get_paginator("list_aliases").paginate() for a in p["Aliases"]}
    keys = {k["KeyId"] for p in kms.get_paginator("list_keys").paginate() for k in p["Keys"]}
    sns = moto.client("sns")
    topics = {t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]}
    subscriptions = {
        s["SubscriptionArn"] for p in sns.get_paginator("list_subscriptions").paginate() for s in p["Subscriptions"]
    }
    metric_filters = {
        f["filterName"] for p in logs.get_paginator("describe_metric_filters").paginate() for f in p["metricFilters"]
    }
    events = moto.client("events")
    buses = {b["Name"]: b for b in events.list_event_buses()["EventBuses"]}

    def rule_left(v) -> bool:
        bus = v.get("event_bus_name") or "default"
        return bus in buses and v["name"] in {r["Name"] for r in events.list_rules(EventBusName=bus)["Rules"]}

    def target_left(v) -> bool:
        bus = v.get("event_bus_name") or "default"
        if bus not in buses or v["rule"] not in {r["Name"] for r in events.list_rules(EventBusName=bus)["Rules"]}:
            return False
        targets = events.list_targets_by_rule(Rule=v["rule"], EventBusName=bus)["Targets"]
        return v["target_id"] in {t["Id"] for t in targets}

    def policy_left(url: str) -> bool:
        if url.rsplit("/", 1)[1] not in queues:
            return False
        return "Policy" in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
    mappings = {m["UUID"] for p in lam.get_paginator("list_event_source_mappings").paginate() for m in p["EventSourceMappings"]}

    def alias_left(arn: str) -> bool:
        machine = arn.rsplit(":", 1)[0]
        if machine not in machines:
            return False  # deleting a state machine deletes its aliases
        listed = sfn.list_state_machine_aliases(stateMachineArn=machine)["stateMachineAliases"]
        return arn in {a["stateMachineAliasArn"] for a in listed}

    def data_left(output) -> bool:
        # The raw state keeps a dynamic value with its type: {"value": ..., "type": ...}.
        value = output.get("value") if isinstance(output, dict) else output
        if not isinstance(value, str):
            return False
        if ":key/" in value:
            return key_left(value.rsplit("/", 1)[1])
        return value in mappings  # a dead-letter mapping's UUID (KEY_dlq_mapping_uuid)

    def key_left(key_id: str) -> bool:
        return key_id in keys and kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] != "PendingDeletion"

    dynamodb, secrets = moto.client("dynamodb"), moto.client("secretsmanager")
    tables = set(n for p in dynamodb.get_paginator("list_tables").paginate() for n in p["TableNames"])

    def url_left(v) -> bool:
        if v["function_name"] not in functions:
            return False  # deleting a function deletes its URL
        try:
            lam.get_function_url_config(FunctionName=v["function_name"])
            return True
        except lam.exceptions.ResourceNotFoundException:
            return False

    def permission_left(v) -> bool:
        if v["function_name"] not in functions:
            return False
        try:
            policy = json.loads(lam.get_policy(FunctionName=v["function_name"])["Policy"])
        except lam.exceptions.ResourceNotFoundException:
            return False
        return v["statement_id"] in {statement.get("Sid") for statement in policy.get("Statement", [])}

    def secret_left(arn: str) -> bool:
        # A secret cannot vanish at once either (a recovery window): it must be scheduled for deletion.
        try:
            return "DeletedDate" not in secrets.describe_secret(SecretId=arn)
        except secrets.exceptions.ResourceNotFoundException:
            return False

    still = {
        "aws_dynamodb_table": lambda v: v["name"] in tables,
        "aws_lambda_function_url": url_left,
        "aws_lambda_permission": permission_left,
        "aws_secretsmanager_secret": lambda v: secret_left(v["arn"]),
        "aws_sqs_queue": lambda v: v["url"].rsplit("/", 1)[1] in queues,
        "aws_sqs_queue_redrive_allow_policy": lambda v: v["queue_url"].rsplit("/", 1)[1] in queues,
        "aws_sqs_queue_policy": lambda v: policy_left(v["queue_url"]),
        "aws_sfn_state_machine": lambda v: v["arn"] in machines,
        "aws_sfn_alias": lambda v: alias_left(v["arn"]),
        # Terraform's own, nothing in AWS: module_key_arn copies the key's ARN, KEY_dlq_mapping_uuid a dead-letter
        # mapping's UUID; each is counted as there while what it copies is.
        "terraform_data": lambda v: data_left(v.get("output")),
        "aws_lambda_function": lambda v: v["function_name"] in functions,
        "aws_lambda_event_source_mapping": lambda v: v["uuid"] in mappings,
        "aws_iam_role": lambda v: v["name"] in roles,
        "aws_iam_role_policy": lambda v: v["role"] in roles,
        "aws_cloudwatch_log_group": lambda v: v["name"] in groups,
        "aws_cloudwatch_log_metric_filter": lambda v: v["name"] in metric_filters,
        "aws_cloudwatch_metric_alarm": lambda v: v["alarm_name"] in alarms,
        "aws_cloudwatch_dashboard": lambda v: v["dashboard_name"] in dashboards,
        "aws_kms_alias": lambda v: v["name"] in aliases,
        "aws_kms_key": lambda v: key_left(v["key_id"]),
        # EventBridge: a custom bus, its policy, a rule on it (or on the account's default bus), a target a
        # test's root adds to a module's rule.
        "aws_cloudwatch_event_bus": lambda v: v["name"] in buses,
        "aws_cloudwatch_event_bus_policy": lambda v: "Policy" in buses.get(v["event_bus_name"], {}),
        "aws_cloudwatch_event_rule": rule_left,
        "aws_cloudwatch_event_target": target_left,
        "aws_sns_topic": lambda v: v["arn"] in topics,
        # A topic's policy goes with the topic: it is left while the topic is.
        "aws_sns_topic_policy": lambda v: v["arn"] in topics,
        "aws_sns_topic_subscription": lambda v: v["arn"] in subscriptions,
    }
    found = []
    for kind, values in resources:
        assert kind in still, f"no emulator check for {kind}: add one to harness.leftovers"
        if still[kind](values):
            found.append(f"{kind} {values.get('id')}")
    return found


def new_stack(name: str, moto: Moto, stages: list, independent=(), destroy_when_done: bool = False) -> Pipeline:
    """A stack in a fresh temporary folder whose stages run in the background (see tfstack.Pipeline)."""
    directory = Path(tempfile.mkdtemp(prefix=f"sfngen-e2e-{name}-"))
    stack = Stack(name, directory, moto.endpoint)
    return Pipeline(stack, stages, lambda resources: leftovers(moto, resources), independent, destroy_when_done)


def module_key(spec: Path) -> str:
    """The module block name of a spec in a test stack: examples/seed/sfngen.toml -> seed,
    tests/e2e/specs/two-steps.toml -> two_steps."""
    stem = spec.parent.name if spec.name == "sfngen.toml" else spec.stem
    return re.sub(r"[^a-z0-9_]", "_", stem.lower())


class Deployment:
    """A rendered module that Terraform applied on the emulator, known by its outputs.

    `Deployment(moto, outputs)` takes a module's `terraform output -json` value; `Deployment(moto, module)`
    (a rendered module folder) applies that module alone in its own stack first."""

    def __init__(self, moto: Moto, outputs):
        self.moto = moto
        self.module = None
        if isinstance(outputs, (str, Path)):
            self.module = Path(outputs)
            outputs = self._apply_alone(moto, self.module)
        self.outputs = outputs
        self.sqs = moto.client("sqs")
        self.sfn = moto.client("stepfunctions")
        self.state_machine_arn = outputs["state_machine_arn"]
        self.queue_urls = dict(outputs["queue_urls"])
        self.function_name = outputs["callback_function_name"]
        # The dead-letter function, which only the event source mappings invoke (when a queue's dead letters fail
        # their executions).
        self.dead_letter_function_name = outputs.get("dead_letters_function_name")
        self.queues = {key: {"name": url.rsplit("/", 1)[1], "url": url} for key, url in self.queue_urls.items()}

    def _apply_alone(self, moto: Moto, module: Path) -> dict:
        def prepare(stack):
            stack.use_module("this", module)
            stack.write_root()

        self.pipeline = new_stack("alone", moto, quick(prepare)).start()
        # The root goes with the process (the emulator holding its resources is thrown away as well).
        atexit.register(shutil.rmtree, self.pipeline.stack.dir, True)
        return self.pipeline.result("apply")["this"]

    @property
    def definition(self) -> str:
        """The state machine definition the emulator holds (what the module's templatefile() produced)."""
        return self.sfn.describe_state_machine(stateMachineArn=self.state_machine_arn)["definition"]

    @property
    def function(self) -> dict:
        """The callback function's configuration as the emulator holds it (GetFunctionConfiguration)."""
        return self.moto.client("lambda").get_function_configuration(FunctionName=self.function_name)

    def arn_of(self, key: str) -> str:
        url = self.queue_urls[key]
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def start(self, name: str, payload: dict) -> str:
        return self.sfn.start_execution(
            stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload)
        )["executionArn"]

    def status(self, execution_arn: str) -> dict:
        return self.sfn.describe_execution(executionArn=execution_arn)

    def wait_for_end(self, execution_arn: str, timeout: float = 30) -> dict:
        def ended():
            d = self.status(execution_arn)
            return d if d["status"] != "RUNNING" else None

        return wait_until(ended, timeout, f"execution {execution_arn} to end")

    def drain(self, queue_key: str):
        """Deletes every visible message of a queue (PurgeQueue allows one call a minute)."""
        url = self.queue_urls[queue_key]
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not got:
                return
            for message in got:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def receive(self, queue_key: str, timeout: float = 15) -> dict:
        url = self.queue_urls[queue_key]

        def one():
            got = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1, AttributeNames=["All"]
            ).get("Messages", [])
            return got[0] if got else None

        message = wait_until(one, timeout, f"a message on queue {queue_key}")
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return message


class TcpProxy:
    """A loopback TCP proxy to moto that can be taken down (connections refused) and brought back on the
    same port, so that the function sees its AWS endpoint disappear while moto keeps its state."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.listener = None
        self.connections = []
        self.lock = threading.Lock()
        self.failures_left = 0
        self.failed = 0
        self.up()

    def fail_next(self, count: int):
        """Answers the next `count` requests with HTTP 503 ServiceUnavailable instead of forwarding them."""
        with self.lock:
            self.failures_left = count
            self.failed = 0

    def up(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self):
        """Closes the listener and every open connection: new connections are refused."""
        with self.lock:
            listener, self.listener = self.listener, None
            connections, self.connections = self.connections, []
        if listener:
            # close() alone leaves a socket that a thread is accept()ing on listening; shutdown() stops it.
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self.lock:
                inject = self.failures_left > 0
                if inject:
                    self.failures_left -= 1
                    self.failed += 1
            if inject:
                threading.Thread(target=self._unavailable, args=(client,), daemon=True).start()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            with self.lock:
                self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _unavailable(client):
        """Reads one HTTP request and answers it as an overloaded AWS endpoint would."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        match = re.search(rb"(?i)content-length:\s*(\d+)", head)
        remaining = int(match.group(1)) - len(body) if match else 0
        while remaining > 0:
            chunk = client.recv(remaining)
            if not chunk:
                break
            remaining -= len(chunk)
        payload = b'{"__type":"ServiceUnavailable","message":"injected by the test proxy"}'
        client.sendall(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/x-amz-json-1.0\r\n"
            b"x-amzn-ErrorType: ServiceUnavailable\r\nConnection: close\r\n"
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        client.close()

    @staticmethod
    def _pipe(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass




class RuntimeApi:
    """A minimal Lambda Runtime API: hands out queued events, collects responses and errors. Each event's
    deadline is the function's timeout from now, as Lambda sets it."""

    def __init__(self, function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:callback", timeout_s: int = 60):
        self.events = queue.Queue()
        self.results = queue.Queue()
        self.counter = 0
        self.stopping = threading.Event()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/invocation/next"):
                    self.send_error(404)
                    return
                # Lambda's /next blocks until there is an event, however long: an error answer here would be
                # one Lambda never gives (lambda_runtime panics on a response without a request id). The wait
                # ends when the API stops (the function process is stopped with it).
                while True:
                    try:
                        request_id, payload = api.events.get(timeout=1)
                        break
                    except queue.Empty:
                        if api.stopping.is_set():
                            return
                # Bytes go as they are (an event that is not JSON, or that JSON cannot say twice); the rest as JSON.
                body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + timeout_s * 1000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", function_arn)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                parts = self.path.strip("/").split("/")
                # /2018-06-01/runtime/invocation/{id}/response | /error, or /runtime/init/error
                kind = parts[-1]
                request_id = parts[-2] if len(parts) >= 2 else ""
                api.results.put((request_id, kind, json.loads(body) if body else None))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def invoke(self, payload, timeout: float = 60):
        self.counter += 1
        request_id = f"req-{self.counter}"
        self.events.put((request_id, payload))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no answer to {request_id} within {timeout}s")
            got_id, kind, body = self.results.get(timeout=remaining)
            if got_id == request_id:
                return kind, body

    def stop(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def qemu_command() -> list:
    qemu = shutil.which("qemu-aarch64-static")
    assert qemu, "qemu-aarch64-static is missing: run scripts/setup-tools.sh (qemu-user-static, libc6-arm64-cross)"
    return [qemu, "-L", "/usr/aarch64-linux-gnu"]


class CallbackFunction:
    """A callback package's `bootstrap`, running against a RuntimeApi with moto as its AWS.

    `CallbackFunction.deployed(moto, name)` runs the function Terraform created, as Lambda would: the package
    the emulator stored, its configuration and its role's credentials. `CallbackFunction(module, arch, moto)`
    runs a rendered module's callback.zip with test credentials."""

    def __init__(self, module: Path, architecture: str, moto: Moto, memory_mb: int = 128, endpoint: str = ""):
        env = {
            "AWS_LAMBDA_FUNCTION_NAME": "callback",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        self._start((module / "callback.zip").read_bytes(), architecture, env, RuntimeApi(), endpoint or moto.endpoint)

    @classmethod
    def deployed(cls, moto: Moto, function_name: str, endpoint: str = "") -> "CallbackFunction":
        lam = moto.client("lambda")
        got = lam.get_function(FunctionName=function_name)
        config = got["Configuration"]
        with urllib.request.urlopen(got["Code"]["Location"], timeout=30) as response:
            package = response.read()
        digest = base64.b64encode(hashlib.sha256(package).digest()).decode()
        assert digest == config["CodeSha256"], "the emulator's code location served other bytes than it stored"
        # What Lambda gives the function: its role's credentials and the defined runtime variables.
        credentials = moto.client("sts").assume_role(RoleArn=config["Role"], RoleSessionName=function_name)[
            "Credentials"
        ]
        logging_config = config.get("LoggingConfig", {})
        env = {
            **config.get("Environment", {}).get("Variables", {}),
            "AWS_LAMBDA_FUNCTION_NAME": config["FunctionName"],
            "AWS_LAMBDA_FUNCTION_VERSION": config["Version"],
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["MemorySize"]),
            "AWS_LAMBDA_LOG_GROUP_NAME": logging_config.get("LogGroup", f"/aws/lambda/{function_name}"),
            "AWS_LAMBDA_LOG_FORMAT": logging_config.get("LogFormat", "Text"),
            "_HANDLER": config["Handler"],
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        }
        if "ApplicationLogLevel" in logging_config:
            env["AWS_LAMBDA_LOG_LEVEL"] = logging_config["ApplicationLogLevel"]
        function = cls.__new__(cls)
        function.configuration = config
        api = RuntimeApi(config["FunctionArn"], config["Timeout"])
        architecture = config["Architectures"][0]
        override = os.environ.get("SFNGEN_E2E_BOOTSTRAP")
        if override:
            # Test-only: run another build of the functions in place of the package the emulator stored, with
            # everything else as deployed (environment, role, log settings): a bootstrap built on this machine
            # (`cargo build` in lambda/) or a package zip (packages/callback-arm64.zip, run under qemu-user). For
            # trying a Lambda change before it ships in the sfngen binary; never set by scripts/test.sh.
            package, architecture = override_package(Path(override))
        function._start(package, architecture, env, api, endpoint or moto.endpoint)
        return function

    def _start(self, package: bytes, architecture: str, env: dict, api: RuntimeApi, endpoint: str):
        self.dir = tempfile.TemporaryDirectory()
        with zipfile.ZipFile(io.BytesIO(package)) as z:
            z.extract("bootstrap", self.dir.name)
        binary = Path(self.dir.name) / "bootstrap"
        binary.chmod(0o755)
        self.api = api
        command = [str(binary)] if architecture == "x86_64" else [*qemu_command(), str(binary)]
        env = {
            **env,
            "PATH": "/usr/bin:/bin",
            "LAMBDA_TASK_ROOT": self.dir.name,
            "AWS_LAMBDA_RUNTIME_API": api.address,
            # The test's stand-in for the regional AWS endpoints.
            "AWS_ENDPOINT_URL": endpoint,
        }
        self.stdout = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            command, env=env, stdout=self.stdout, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.dir.name
        )

    def invoke(self, payload, timeout: float = 60):
        assert self.process.poll() is None, f"the function exited: {self.logs()}"
        return self.api.invoke(payload, timeout)

    def logs(self) -> str:
        self.stdout.seek(0)
        return self.stdout.read().decode(errors="replace")

    def stop(self):
        stop_process(self.process)
        self.api.stop()
        self.dir.cleanup()


def override_package(path: Path) -> tuple:
    """(deployment package, architecture) of SFNGEN_E2E_BOOTSTRAP: a zip holding `bootstrap` as it is, or a bare
    bootstrap binary zipped; the architecture from the binary's ELF header (e_machine: 0x3E x86_64, 0xB7 arm64)."""
    assert path.is_file(), f"SFNGEN_E2E_BOOTSTRAP={path} is not a file"
    if zipfile.is_zipfile(path):
        package = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(package)) as z:
            binary = z.read("bootstrap")
    else:
        binary = path.read_bytes()
        data = io.BytesIO()
        with zipfile.ZipFile(data, "w") as z:
            z.writestr("bootstrap", binary)
        package = data.getvalue()
    assert binary[:4] == b"\x7fELF", f"SFNGEN_E2E_BOOTSTRAP={path}: the bootstrap is no ELF binary"
    machine = int.from_bytes(binary[18:20], "little")
    architectures = {0x3E: "x86_64", 0xB7: "arm64"}
    assert machine in architectures, f"SFNGEN_E2E_BOOTSTRAP={path}: ELF machine {machine:#x}"
    return package, architectures[machine]


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]
