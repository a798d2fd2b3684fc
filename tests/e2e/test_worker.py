"""The worker contract: a worker whose role holds nothing but the module's worker policy drives an execution
to SUCCEEDED. The worker is the module README's own worker loop, run unchanged in its own process with the
credentials of such a role; the emulator enforces no IAM, so every AWS call the worker makes is recorded
and held against the policy document that `terraform output` gives (tests/e2e/iam_eval.py)."""

import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

import boto3
from botocore.exceptions import ClientError

from harness import HERE, ROOT, REGION, CallbackFunction, stop_process
from iam_eval import Call, action_of, decide, denied
from lambda_service import InvokeApi, SerialFunction, queue_arn_of, sqs_call

pytestmark = pytest.mark.stack("main")

FULL = ROOT / "examples" / "full" / "sfngen.toml"


def readme_blocks(module: Path) -> list:
    """The Python blocks of the module README's "Running a worker" section."""
    readme = (module / "README.md").read_text()
    section = readme.split("\n## Running a worker\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def readme_worker(module: Path) -> str:
    """The worker loop of the module README's "Running a worker" section."""
    loops = [block for block in readme_blocks(module) if "\nwhile True:\n" in block]
    assert len(loops) == 1, "the README's worker section has one worker loop"
    return loops[0]


def readme_keep_alive(module: Path) -> str:
    """The README's `keep_alive`, for work that outlasts a queue's visibility timeout."""
    found = [block for block in readme_blocks(module) if block.startswith("def keep_alive(message, task):")]
    assert len(found) == 1, "the README's worker section shows keep_alive once"
    return found[0]


class WorkerRole:
    """An IAM role on the emulator holding only `policy` (which IAM's document checks accept), assumed."""

    def __init__(self, moto, policy_json: str):
        self.iam = moto.client("iam")
        self.name = f"sfngen-e2e-worker-{uuid.uuid4().hex[:8]}"
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}],
        }
        arn = self.iam.create_role(RoleName=self.name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        self.iam.put_role_policy(RoleName=self.name, PolicyName="worker", PolicyDocument=policy_json)
        self.credentials = moto.client("sts").assume_role(RoleArn=arn, RoleSessionName="worker")["Credentials"]

    def delete(self):
        self.iam.delete_role_policy(RoleName=self.name, PolicyName="worker")
        self.iam.delete_role(RoleName=self.name)


class Worker:
    """The README's worker loop in a process of its own, with a role's credentials, the emulator as its AWS
    and `invoke_api` as its Lambda, every AWS call recorded (tests/e2e/record_calls.py)."""

    def __init__(self, code: str, queue_url: str, function_name: str, role: WorkerRole, moto, invoke_api):
        self.dir = tempfile.TemporaryDirectory()
        script = Path(self.dir.name) / "worker.py"
        script.write_text(code)
        self.calls_file = Path(self.dir.name) / "calls.jsonl"
        env = {
            "PATH": os.environ["PATH"],
            "QUEUE_URL": queue_url,
            "CALLBACK_FUNCTION": function_name,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": role.credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": role.credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": role.credentials["SessionToken"],
            "AWS_ENDPOINT_URL": moto.endpoint,
            "AWS_ENDPOINT_URL_LAMBDA": invoke_api.endpoint,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "record_calls.py"), str(self.calls_file), str(script)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def calls(self) -> list:
        """The recorded calls, as IAM authorizes them."""
        lines = self.calls_file.read_text().splitlines() if self.calls_file.exists() else []
        return [json.loads(line) for line in lines]

    def logs(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self):
        stop_process(self.process)
        self.dir.cleanup()


def authorizations(calls: list, function_arn: str, kms_keys: dict) -> list:
    """Each recorded call as the IAM authorizations it needs: the action on its resource, and the kms:Decrypt
    that SQS makes on a KMS-encrypted queue's key for a receive."""
    needed = []
    for call in calls:
        if call["service"] == "sqs":
            arn = queue_arn_of(call["QueueUrl"])
            needed.extend(sqs_call(call["operation"], arn, kms_keys.get(arn, "")))
        elif call["service"] == "lambda":
            name = call["FunctionName"]
            assert name in (function_arn, function_arn.rsplit(":", 1)[1]), name
            needed.append(Call(action_of("lambda", call["operation"]), function_arn))
        else:
            raise AssertionError(f"the worker called {call}")
    return needed


@pytest.fixture
def full(deploy):
    return deploy(FULL)


def test_the_readmes_keep_alive_extends_the_message_and_beats_the_heartbeat_within_the_policy(full, module_dir, moto):
    """Work that outlasts a queue's visibility timeout: the README's keep_alive, run with the worker loop's own
    clients by a worker holding only its queue's policy, extends the message's visibility and sends the step's
    heartbeat through the callback; then the task is answered and the message deleted, as the loop does.

    It runs before the worker loops below: a loop stopped in its 20-second ReceiveMessage leaves that long poll
    open on the emulator, which would take this test's message and hide it for 15 minutes."""
    deployment, function = full
    outputs = deployment.outputs
    first = "warehouse"  # the first step's queue, whose step (ReserveStock) has a heartbeat
    for key in deployment.queue_urls:
        deployment.drain(key)
    loop = readme_worker(module_dir(FULL))
    keep_alive = readme_keep_alive(module_dir(FULL))
    assert "VisibilityTimeout=900)" in keep_alive, "warehouse's visibility timeout, 15m"
    assert '"status": "heartbeat"' in keep_alive, "the full example's steps have heartbeats"
    driver = """
message = None
while message is None:
    got = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
    message = got[0] if got else None
task = json.loads(message["Body"])
keep_alive(message, task)
answer = {"token": task["token"], "output": do_the_work(task["input"])}
reply = lambda_.invoke(FunctionName=function, Payload=json.dumps(answer))
assert "FunctionError" not in reply, reply
sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
print("KEPT ALIVE")
"""
    # The loop's set-up (imports, clients, do_the_work), then keep_alive, then one task instead of the loop.
    code = loop.split("\nwhile True:\n", 1)[0] + "\n" + keep_alive + driver
    invoke_api = InvokeApi(SerialFunction(function), function.configuration)
    role = WorkerRole(moto, outputs["worker_policy_json_by_queue"][first])
    worker = None
    execution = deployment.start(f"keep-alive-{uuid.uuid4().hex[:12]}", {"order": 8})
    try:
        worker = Worker(code, deployment.queue_urls[first], outputs["callback_function_name"], role, moto, invoke_api)
        try:
            worker.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass  # reported below, with what the worker logged
        calls, logs = worker.calls(), worker.logs()
    finally:
        if worker:
            worker.stop()
        role.delete()
        invoke_api.stop()
        deployment.sfn.stop_execution(executionArn=execution)
        for key in deployment.queue_urls:
            deployment.drain(key)
    assert "KEPT ALIVE" in logs, (logs, calls, invoke_api.invocations)
    operations = [(call["service"], call["operation"]) for call in calls]
    assert operations[-4:] == [
        ("sqs", "ChangeMessageVisibility"),
        ("lambda", "Invoke"),
        ("lambda", "Invoke"),
        ("sqs", "DeleteMessage"),
    ], operations
    [(kind, beat), (answered_kind, answered)] = invoke_api.invocations
    assert (kind, beat["answered"]) == ("response", "heartbeat"), beat
    assert (answered_kind, answered["answered"]) == ("response", "success"), answered
    # ReserveStock's output: the README worker's do_the_work of the execution's input.
    events = deployment.sfn.get_execution_history(executionArn=execution)["events"]
    succeeded = [json.loads(e["taskSucceededEventDetails"]["output"]) for e in events if e["type"] == "TaskSucceeded"]
    assert succeeded[:1] == [{"done": True, "input": {"order": 8}}], events
    needed = authorizations(calls, function.configuration["FunctionArn"], {})
    assert "sqs:ChangeMessageVisibility" in {call.action for call in needed}
    assert denied(json.loads(outputs["worker_policy_json_by_queue"][first]), needed) == []


def test_a_worker_holding_only_the_worker_policy_drives_an_execution_to_succeeded(full, module_dir, moto):
    deployment, function = full
    outputs = deployment.outputs
    configuration = function.configuration
    every_queue = json.loads(outputs["worker_policy_json"])
    by_queue = {key: json.loads(policy) for key, policy in outputs["worker_policy_json_by_queue"].items()}
    assert set(by_queue) == set(deployment.queue_urls)
    kms_keys = {}
    for key, url in deployment.queue_urls.items():
        key_id = deployment.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"].get("KmsMasterKeyId")
        if key_id:
            kms_keys[queue_arn_of(url)] = moto.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    assert kms_keys, "the full example has a KMS-encrypted queue: the policy's kms:Decrypt is exercised"
    for key in deployment.queue_urls:
        deployment.drain(key)

    code = readme_worker(module_dir(FULL))
    invoke_api = InvokeApi(SerialFunction(function), configuration)
    roles, workers, calls, logs = {}, {}, {}, {}
    try:
        # One worker per queue, each holding its queue's share of the policy.
        for key, url in deployment.queue_urls.items():
            roles[key] = WorkerRole(moto, outputs["worker_policy_json_by_queue"][key])
            workers[key] = Worker(code, url, outputs["callback_function_name"], roles[key], moto, invoke_api)
        execution = deployment.start(f"worker-{uuid.uuid4().hex[:12]}", {"order": 7})
        done = deployment.wait_for_end(execution, timeout=120)
    finally:
        for key, worker in workers.items():
            calls[key], logs[key] = worker.calls(), worker.logs()
            worker.stop()
        for role in roles.values():
            role.delete()
        invoke_api.stop()
    assert done["status"] == "SUCCEEDED", (done, logs)
    # Every step's output is the README worker's do_the_work of its input: three steps, three layers.
    assert json.loads(done["output"]) == {"done": True, "input": {"done": True, "input": {"done": True, "input": {"order": 7}}}}
    assert invoke_api.invocations and all(kind == "response" for kind, _ in invoke_api.invocations)

    for key in workers:
        needed = authorizations(calls[key], configuration["FunctionArn"], kms_keys)
        done_actions = {call.action for call in needed}
        assert {"sqs:ReceiveMessage", "lambda:InvokeFunction", "sqs:DeleteMessage"} <= done_actions, (key, logs[key])
        assert denied(by_queue[key], needed) == [], key
        assert denied(every_queue, needed) == [], key
        # The queue's share names that queue only: the same worker on another queue is refused.
        for other, url in deployment.queue_urls.items():
            if other != key:
                assert not decide(by_queue[key], Call("sqs:ReceiveMessage", queue_arn_of(url))).allowed
    # The KMS-encrypted queue's receives needed the policy's kms:Decrypt, allowed only through SQS.
    for arn, key_arn in kms_keys.items():
        decrypt = Call("kms:Decrypt", key_arn, (("kms:ViaService", f"sqs.{REGION}.amazonaws.com"),))
        decision = decide(every_queue, decrypt)
        assert decision.allowed and decision.conditions == [("StringEquals", "kms:ViaService", (f"sqs.{REGION}.amazonaws.com",))]
        assert not decide(every_queue, Call("kms:Decrypt", key_arn)).allowed, "kms:Decrypt outside SQS"



def test_a_worker_holding_the_worker_policy_cannot_invoke_the_dead_letter_function(full, moto):
    """What only AWS may trigger (failing a task as dead-lettered) is a function no worker may invoke: every worker
    policy allows lambda:InvokeFunction on the callback and refuses it on the dead-letter function. A worker with
    that role, calling Lambda's Invoke with a batch shaped as SQS would send it, is refused before the function
    (played in front of the function's running bootstrap, each call held against the role's policy)."""
    deployment, callback = full
    outputs = deployment.outputs
    reader = CallbackFunction.deployed(moto, deployment.dead_letter_function_name)
    configuration = reader.configuration
    policies = {"worker_policy_json": json.loads(outputs["worker_policy_json"])}
    policies.update({f"by_queue[{k}]": json.loads(v) for k, v in outputs["worker_policy_json_by_queue"].items()})
    for what, policy in policies.items():
        assert decide(policy, Call("lambda:InvokeFunction", callback.configuration["FunctionArn"])).allowed, what
        assert not decide(policy, Call("lambda:InvokeFunction", configuration["FunctionArn"])).allowed, what
    role = WorkerRole(moto, outputs["worker_policy_json"])
    invoke_api = InvokeApi(SerialFunction(reader), configuration, allowed=lambda call: decide(policies["worker_policy_json"], call).allowed)
    try:
        lambda_ = boto3.client(
            "lambda",
            endpoint_url=invoke_api.endpoint,
            region_name=REGION,
            aws_access_key_id=role.credentials["AccessKeyId"],
            aws_secret_access_key=role.credentials["SecretAccessKey"],
            aws_session_token=role.credentials["SessionToken"],
        )
        forged = {"Records": [{"messageId": "m", "eventSource": "aws:sqs", "eventSourceARN": outputs["dead_letter_queue_arns"]["payments"], "body": "{}"}]}
        try:
            lambda_.invoke(FunctionName=configuration["FunctionName"], Payload=json.dumps(forged))
            raise AssertionError("the worker invoked the dead-letter function")
        except ClientError as error:
            assert error.response["Error"]["Code"] == "AccessDeniedException", error.response
    finally:
        logs = reader.logs()
        invoke_api.stop()
        role.delete()
        reader.stop()
    assert invoke_api.invocations == [] and len(invoke_api.refused) == 1
    assert "dead_letter" not in logs, logs
