"""The seed sample's manual testing steps, automated against real components.

- moto_server is the AWS endpoint (Step Functions with its ASL interpreter, SQS, IAM), on 127.0.0.1.
- The queues and the state machine are created from the rendered module's own values: its .tf files are
  read with HashiCorp's HCL parser (@cdktf/hcl2json) and the ASL is what the module's templatefile() call
  evaluates to in `terraform console`.
- The callback Lambda is the `bootstrap` from the module's callback.zip (the bytes that ship), run under
  qemu-user for arm64 or natively for x86_64, against a small Lambda Runtime API served here.
"""

import base64
import hashlib
import http.server
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
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
    """A moto_server on a free loopback port, with Step Functions execution switched on."""

    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            ["moto_server", "-H", "127.0.0.1", "-p", str(self.port)], stdout=self.log, stderr=self.log
        )
        wait_until(self._answers, 30, "moto_server to answer")
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/config",
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=5).read()

    def _answers(self):
        if self.process.poll() is not None:
            raise AssertionError("moto_server exited early")
        try:
            urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).read()
            return True
        except OSError:
            return False

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def stop(self):
        stop_process(self.process)


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


def render(spec: Path, out: Path) -> Path:
    """Renders a spec with the real CLI (building or reusing the cached Lambda package)."""
    result = subprocess.run(
        [str(sfngen_binary()), "render", str(spec), "-o", str(out)], capture_output=True, text=True, timeout=1800
    )
    assert result.returncode == 0, result.stderr
    return out


def parse_tf(module: Path) -> dict:
    """Every .tf file of the module through HashiCorp's HCL parser, merged by block type."""
    script = (
        "const fs=require('fs');const {parse}=require('@cdktf/hcl2json');"
        "(async()=>{const out={};for(const f of process.argv.slice(1)){"
        "const j=await parse(f,fs.readFileSync(f,'utf8'));"
        "for(const [k,v] of Object.entries(j)){out[k]=out[k]||{};"
        "for(const [t,b] of Object.entries(v)){out[k][t]=Object.assign(out[k][t]||{},b);}}}"
        "console.log(JSON.stringify(out));})().catch(e=>{console.error(e);process.exit(1)});"
    )
    files = sorted(str(p) for p in module.glob("*.tf"))
    env = dict(os.environ, NODE_PATH=str(Path(os.environ["SFNGEN_TOOLS"]) / "node" / "node_modules"))
    result = subprocess.run(["node", "-e", script, *files], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def evaluate_definition(module: Path, queue_urls: dict) -> str:
    """The module's `definition = templatefile(...)` evaluated by `terraform console`, with the module's
    references replaced by the real values of this deployment."""
    text = (module / "state_machine.tf").read_text()
    match = re.search(r"definition = (templatefile\(.*?\n  \}\))", text, re.S)
    assert match, "no templatefile() call in state_machine.tf"
    call = match.group(1).replace("local.partition", '"aws"')
    call = re.sub(r"aws_sqs_queue\.([a-z0-9-]+)\.url", lambda m: json.dumps(queue_urls[m.group(1)]), call)
    assert "aws_" not in call and "local." not in call, call
    # The console reads one line: join the vars object's lines with commas.
    lines = [line.strip() for line in call.splitlines()]
    call = lines[0] + " " + ", ".join(lines[1:-1]) + " " + lines[-1]
    with tempfile.TemporaryDirectory() as console_dir:
        shutil.copy(module / "state-machine.asl.json", console_dir)
        result = subprocess.run(
            ["terraform", "console"],
            input=f"base64encode({call})\n",
            capture_output=True,
            text=True,
            cwd=console_dir,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    return base64.b64decode(result.stdout.strip().strip('"')).decode()


class Deployment:
    """The rendered module's queues and state machine, created in moto from the module's values."""

    def __init__(self, moto: Moto, module: Path):
        self.moto = moto
        self.module = module
        self.sqs = moto.client("sqs")
        self.sfn = moto.client("stepfunctions")
        iam = moto.client("iam")
        tf = parse_tf(module)
        resources = tf["resource"]
        self.queues = {}
        self.queue_urls = {}
        queue_blocks = resources["aws_sqs_queue"]
        # Dead-letter queues first: their ARNs go into the redrive policies.
        for key in sorted(queue_blocks, key=lambda k: not k.endswith("_dlq")):
            block = queue_blocks[key][0]
            attributes = {}
            for tf_name, sqs_name in [
                ("visibility_timeout_seconds", "VisibilityTimeout"),
                ("message_retention_seconds", "MessageRetentionPeriod"),
                ("fifo_queue", "FifoQueue"),
                ("content_based_deduplication", "ContentBasedDeduplication"),
                ("sqs_managed_sse_enabled", "SqsManagedSseEnabled"),
            ]:
                if tf_name in block:
                    attributes[sqs_name] = str(block[tf_name]).lower()
            if "redrive_policy" in block:
                receives = re.search(r"maxReceiveCount\s*=\s*(\d+)", block["redrive_policy"]).group(1)
                dlq_arn = self.arn_of(f"{key}_dlq")
                attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": receives})
            url = self.sqs.create_queue(QueueName=block["name"], Attributes=attributes)["QueueUrl"]
            self.queues[key] = block
            self.queue_urls[key] = url
        role = resources["aws_iam_role"]["state_machine"][0]
        role_arn = iam.create_role(RoleName=role["name"], AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        machine = resources["aws_sfn_state_machine"]["this"][0]
        self.definition = evaluate_definition(module, {k: v for k, v in self.queue_urls.items() if not k.endswith("_dlq")})
        self.state_machine_arn = self.sfn.create_state_machine(
            name=machine["name"], definition=self.definition, roleArn=role_arn, type=machine["type"]
        )["stateMachineArn"]
        self.function = resources["aws_lambda_function"]["callback"][0]

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
    """A minimal Lambda Runtime API: hands out queued events, collects responses and errors."""

    def __init__(self):
        self.events = queue.Queue()
        self.results = queue.Queue()
        self.counter = 0
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/invocation/next"):
                    self.send_error(404)
                    return
                try:
                    request_id, payload = api.events.get(timeout=60)
                except queue.Empty:
                    self.send_error(504)
                    return
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 60_000))
                self.send_header(
                    "Lambda-Runtime-Invoked-Function-Arn",
                    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:callback",
                )
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
        self.server.shutdown()
        self.server.server_close()


def qemu_command() -> list:
    qemu = shutil.which("qemu-aarch64-static")
    assert qemu, "qemu-aarch64-static is missing: run scripts/setup-tools.sh (qemu-user-static, libc6-arm64-cross)"
    return [qemu, "-L", "/usr/aarch64-linux-gnu"]


class CallbackFunction:
    """The module's callback.zip `bootstrap`, running against a RuntimeApi with moto as its AWS."""

    def __init__(self, module: Path, architecture: str, moto: Moto, memory_mb: int = 128, endpoint: str = ""):
        self.dir = tempfile.TemporaryDirectory()
        with zipfile.ZipFile(module / "callback.zip") as z:
            z.extract("bootstrap", self.dir.name)
        binary = Path(self.dir.name) / "bootstrap"
        binary.chmod(0o755)
        self.api = RuntimeApi()
        command = [str(binary)] if architecture == "x86_64" else [*qemu_command(), str(binary)]
        env = {
            "PATH": "/usr/bin:/bin",
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "AWS_LAMBDA_FUNCTION_NAME": "callback",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL": endpoint or moto.endpoint,
        }
        self.stdout = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, env=env, stdout=self.stdout, stderr=subprocess.STDOUT)

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


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]
