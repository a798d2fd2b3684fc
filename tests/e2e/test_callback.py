"""The seed sample's testing steps, and the callback contract, end to end: the modules applied by Terraform
on a real AWS API emulator, the callback package the emulator stored, run with the function's configuration
and role. Nothing is mocked below the AWS API."""

import base64
import hashlib
import json
import re
import time
import uuid
from pathlib import Path

import pytest

from harness import ROOT, render, token_id
from log_patterns import matches

SPECS = Path(__file__).resolve().parent / "specs"


pytestmark = pytest.mark.stack("main")


def run_name() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def start_and_receive(deployment, payload, queue_key="main"):
    """Steps 1-3 of the seed README: start an execution, see it RUNNING, receive {input, token, context}."""
    name = run_name()
    execution = deployment.start(name, payload)
    assert deployment.status(execution)["status"] == "RUNNING"
    message = deployment.receive(queue_key)
    body = json.loads(message["Body"])
    assert set(body) == {"input", "token", "context"}
    assert body["input"] == payload
    assert body["context"]["execution"] == execution, body["context"]
    return execution, name, message, body["token"]


def test_seed_testing_steps_succeed_with_the_lambdas_output(seed):
    deployment, function = seed
    execution, _, _, token = start_and_receive(deployment, {"name": "serverless-pattern"})
    # Step 4: the seed invokes the function with {"token": ...} alone.
    kind, body = function.invoke({"token": token})
    assert kind == "response", body
    assert body == {"answered": "success", "outcome": "answered", "token_id": token_id(token)}
    # Step 6: the execution has SUCCEEDED, with the function's (default) output.
    done = deployment.wait_for_end(execution)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {}
    # The function logs JSON lines and never the token itself.
    logs = function.logs()
    assert token not in logs
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(
        line.get("token_id") == token_id(token) and line["status"] == "success" and line["outcome"] == "answered"
        for line in lines
    ), logs


def test_success_carries_the_output(seed):
    deployment, function = seed
    execution, _, _, token = start_and_receive(deployment, {"order": 42})
    kind, _ = function.invoke({"token": token, "status": "success", "output": {"approved": True, "by": "ops"}})
    assert kind == "response"
    done = deployment.wait_for_end(execution)
    assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", {"approved": True, "by": "ops"})


def test_failure_fails_the_execution_with_the_error(seed):
    deployment, function = seed
    execution, _, _, token = start_and_receive(deployment, {"order": 7})
    kind, body = function.invoke({"token": token, "status": "failure", "error": "OrderRejected", "cause": "out of stock"})
    assert kind == "response", body
    done = deployment.wait_for_end(execution)
    assert done["status"] == "FAILED"
    assert done.get("error") == "OrderRejected"


def test_a_spent_token_is_a_typed_result_not_an_error(seed):
    # A late or duplicate callback is not a fault of the function: it answers with a result that says so
    # (so the Errors alarm means a real fault), and logs it with its own outcome for a metric filter.
    deployment, function = seed
    execution, _, _, token = start_and_receive(deployment, {})
    assert function.invoke({"token": token})[0] == "response"
    assert deployment.wait_for_end(execution)["status"] == "SUCCEEDED"
    kind, body = function.invoke({"token": token})
    assert kind == "response", body
    assert (body["answered"], body["outcome"], body["status"]) == (False, "token_spent", "success"), body
    # What AWS answers for a task that is over (tests/e2e/moto_shim.py makes moto answer so too).
    assert body["code"] == "TaskTimedOut", body
    assert body["token_id"] == token_id(token)
    assert "do not retry" in body["message"]
    logs = function.logs()
    assert token not in logs
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(line.get("token_id") == token_id(token) and line.get("outcome") == "token_spent" for line in lines), logs


def log_lines(function) -> list:
    return [json.loads(line) for line in function.logs().splitlines() if line.startswith("{")]


def test_output_numbers_and_strings_arrive_as_the_worker_wrote_them(seed):
    """The issue's example: {"amount": 123456789012345678901234567890} used to reach SendTaskSuccess as
    1.2345678901234568e+29. The event is sent as bytes, so nothing between the worker and the function changes it."""
    deployment, function = seed
    execution, _, _, token = start_and_receive(deployment, {"order": 1})
    output = '{"amount": 123456789012345678901234567890, "rate": 0.30000000000000004, "name": "caf\\u00e9"}'
    event = f'{{"token": "{token}", "output": {output}}}'.encode()
    kind, body = function.invoke(event)
    assert kind == "response", body
    done = deployment.wait_for_end(execution)
    assert done["status"] == "SUCCEEDED", done
    # Python's json keeps integers exact and floats shortest: the values the worker wrote, not rounded.
    assert json.loads(done["output"]) == {"amount": 123456789012345678901234567890, "rate": 0.30000000000000004, "name": "café"}
    assert "123456789012345678901234567890" in done["output"], done["output"]
    assert "e+29" not in done["output"]


# (event as sent, what the error message says): each an InvalidEvent, with exactly one log line.
INVALID_EVENTS = [
    ({}, 'has no "token"'),
    ({"token": ""}, "is empty"),
    ({"token": "x" * 2049}, "at most 2048"),
    ({"token": "t", "status": "maybe"}, 'status "maybe"'),
    ({"token": "t", "status": "failure", "error": "e" * 257}, "at most 256"),
    ({"tokne": "t"}, 'unknown field "tokne"'),
    ("just a string", "must be a JSON object"),
    (b"token=abc", "the event is not JSON: expected a value at line 1, column 1"),
    (b'{"token": "t"', "the event is not JSON"),
    (b'{"token": "\xff"}', "stop being UTF-8 text at byte 11"),
    (b'{"token": "first", "token": "second"}', 'the event gives the key "token" twice'),
    (('{"token": "t", "output": ' + "[" * 64 + "]" * 64 + "}").encode(), "deeper than 64 levels"),
    ({"token": "t", "status": "failure", "error": "States.Timeout"}, 'starts with "States."'),
    ({"token": "t", "status": "failure", "error": "sfngen.DeadLettered"}, 'starts with "sfngen."'),
    ({"Records": [{"messageId": "m", "eventSource": "aws:sqs", "body": "{}"}]}, "an SQS batch"),
]


def test_invalid_events_get_a_clear_error_one_log_line_and_the_function_keeps_serving(seed):
    deployment, function = seed
    for event, fragment in INVALID_EVENTS:
        before = len(log_lines(function))
        kind, body = function.invoke(event)
        assert kind == "error", (event, body)
        assert body["errorType"] == "InvalidEvent", (event, body)
        assert fragment in body["errorMessage"], (event, body)
        lines = log_lines(function)[before:]
        assert [(line["event"], line["outcome"], line["reason"]) for line in lines] == [
            ("callback", "invalid_event", body["errorMessage"])
        ], (event, lines)
    # At the bound: an output nested 63 deep (64 with the event) is answered.
    execution, _, _, token = start_and_receive(deployment, {"after": "errors"})
    deep = "[" * 63 + "]" * 63
    assert function.invoke(f'{{"token": "{token}", "output": {deep}}}'.encode())[0] == "response"
    done = deployment.wait_for_end(execution)
    assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", json.loads(deep))


def test_a_worker_may_not_name_its_error_as_step_functions_or_the_module_do(seed):
    """A worker's States.Timeout or sfngen.DeadLettered would steer a catch meant for a timeout or a dead letter: the
    task is not failed, and the execution waits for a real answer."""
    deployment, function = seed
    execution, _, _, token = start_and_receive(deployment, {"order": 5})
    for error in ("States.Timeout", "sfngen.DeadLettered"):
        kind, body = function.invoke({"token": token, "status": "failure", "error": error})
        assert (kind, body["errorType"]) == ("error", "InvalidEvent"), body
    assert deployment.status(execution)["status"] == "RUNNING"
    assert function.invoke({"token": token, "status": "failure", "error": "OrderRejected"})[0] == "response"
    done = deployment.wait_for_end(execution)
    assert (done["status"], done.get("error")) == ("FAILED", "OrderRejected"), done


def test_a_token_step_functions_never_issued_is_an_error_with_its_own_metric(seed, moto):
    """A changed or cut token is a worker's bug: an InvalidToken error to the worker (not a spent token's result),
    logged with its own outcome, which the module's InvalidTokens filter (as moto holds it) counts, and the
    SpentTokens filter does not."""
    deployment, function = seed
    execution, _, _, token = start_and_receive(deployment, {"order": 6})
    mangled = token[:-4] + "XXXX"
    kind, body = function.invoke({"token": mangled})
    assert (kind, body["errorType"]) == ("error", "InvalidToken"), body
    assert "do not retry with this one" in body["errorMessage"], body
    assert deployment.status(execution)["status"] == "RUNNING"
    [line] = [line for line in log_lines(function) if line.get("token_id") == token_id(mangled)]
    assert (line["outcome"], line["error_type"], line["retryable"]) == ("invalid_token", "InvalidToken", False), line
    assert mangled not in function.logs() and token not in function.logs()
    filters = moto.client("logs").describe_metric_filters(logGroupName=deployment.outputs["callback_log_group_name"])
    patterns = {f["metricTransformations"][0]["metricName"]: f["filterPattern"] for f in filters["metricFilters"]}
    raw = json.dumps(line)
    assert matches(patterns["InvalidTokens"], raw) and not matches(patterns["SpentTokens"], raw), patterns
    # The real token still answers.
    assert function.invoke({"token": token})[0] == "response"
    assert deployment.wait_for_end(execution)["status"] == "SUCCEEDED"


def test_heartbeats_keep_a_task_alive_past_its_heartbeat_timeout(deploy):
    deployment, function = deploy(SPECS / "heartbeat.toml")
    execution, _, _, token = start_and_receive(deployment, {"job": 1}, "jobs")
    started = time.monotonic()
    while time.monotonic() - started < 7:  # more than twice the 3 s heartbeat
        kind, body = function.invoke({"token": token, "status": "heartbeat"})
        assert kind == "response", body
        assert body["answered"] == "heartbeat"
        assert deployment.status(execution)["status"] == "RUNNING"
        time.sleep(1)
    assert function.invoke({"token": token, "output": {"done": True}})[0] == "response"
    done = deployment.wait_for_end(execution)
    assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", {"done": True})


def test_a_missed_heartbeat_fails_the_execution_with_a_timeout(deploy):
    deployment, function = deploy(SPECS / "heartbeat.toml")
    execution, _, _, token = start_and_receive(deployment, {"job": 2}, "jobs")
    done = deployment.wait_for_end(execution, timeout=20)
    assert done["status"] == "FAILED"
    # AWS reports States.HeartbeatTimeout; moto reports States.Timeout.
    assert done.get("error") in {"States.HeartbeatTimeout", "States.Timeout"}, done
    kind, body = function.invoke({"token": token})
    assert kind == "response" and body["outcome"] == "token_spent" and "do not retry" in body["message"], body


def test_a_task_timeout_fails_the_execution_with_a_timeout(deploy):
    deployment, function = deploy(SPECS / "timeout.toml")
    execution, _, _, _ = start_and_receive(deployment, {"job": 3}, "jobs")
    done = deployment.wait_for_end(execution, timeout=20)
    assert (done["status"], done.get("error")) == ("FAILED", "States.Timeout"), done


def test_two_steps_call_back_in_order_through_two_queues(deploy):
    deployment, function = deploy(SPECS / "two-steps.toml")
    execution, _, _, first = start_and_receive(deployment, {"doc": "draft"}, "review")
    assert function.invoke({"token": first, "output": {"doc": "reviewed"}})[0] == "response"
    second_message = deployment.receive("publish")
    second = json.loads(second_message["Body"])
    # Step 2's input is step 1's callback output.
    assert second["input"] == {"doc": "reviewed"}
    assert deployment.status(execution)["status"] == "RUNNING"
    assert function.invoke({"token": second["token"], "output": {"doc": "published"}})[0] == "response"
    done = deployment.wait_for_end(execution)
    assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", {"doc": "published"})


# SendMessage's rule for a MessageGroupId: 1 to 128 ASCII letters, digits and punctuation
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html). moto does not
# check it, so the test does.
MESSAGE_GROUP_ID = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")


def test_a_fifo_queue_groups_messages_by_execution_whatever_its_name(deploy):
    """Execution names may hold any letter, which SQS refuses in a group id: the group is the SHA-256 of the
    execution's ARN (States.Hash on the emulator's ASL interpreter), the same for both steps of one execution,
    another for each execution."""
    deployment, function = deploy(SPECS / "fifo.toml")
    assert deployment.queues["orders"]["name"].endswith(".fifo")
    suffix = uuid.uuid4().hex[:8]
    names = [f"commande-été-{suffix}", f"注文-{suffix}"]
    assert not any(MESSAGE_GROUP_ID.match(name) for name in names), "the names must be ones SQS refuses"
    executions = {deployment.start(name, {"order": name}): name for name in names}
    first_groups = {}
    for _ in executions:
        message = deployment.receive("orders")
        body = json.loads(message["Body"])
        execution = next(arn for arn, name in executions.items() if body["input"] == {"order": name})
        group = message["Attributes"]["MessageGroupId"]
        assert MESSAGE_GROUP_ID.match(group), group
        assert group == hashlib.sha256(execution.encode()).hexdigest()
        first_groups[execution] = group
        assert function.invoke({"token": body["token"], "output": {"order": executions[execution], "step": 2}})[0] == "response"
    assert len(set(first_groups.values())) == 2, "each execution has a group of its own"
    for _ in executions:
        message = deployment.receive("orders")
        body = json.loads(message["Body"])
        execution = next(arn for arn, name in executions.items() if body["input"]["order"] == name)
        # The second step's message is in the same group as the first's: FIFO keeps one execution in order.
        assert message["Attributes"]["MessageGroupId"] == first_groups[execution]
        assert function.invoke({"token": body["token"]})[0] == "response"
    for execution in executions:
        assert deployment.wait_for_end(execution)["status"] == "SUCCEEDED"


def test_the_x86_64_package_runs_natively(deploy):
    deployment, function = deploy(SPECS / "x86.toml")
    assert deployment.function["Architectures"] == ["x86_64"]
    execution, _, _, token = start_and_receive(deployment, {"arch": "x86_64"})
    assert function.invoke({"token": token})[0] == "response"
    assert deployment.wait_for_end(execution)["status"] == "SUCCEEDED"


def test_the_shipped_zip_is_what_the_module_deploys(seed, module_dir):
    """The bytes under test are the module's callback.zip: the module points the function at it, Terraform
    uploaded it, and the function the tests run is what the emulator stored."""
    deployment, function = seed
    module = module_dir(ROOT / "examples" / "seed" / "sfngen.toml")
    tf = (module / "callback.tf").read_text()
    assert re.search(r"\n  filename += local\.callback_lambda_zip\n", tf), tf
    assert 'coalesce(var.callback_lambda_zip, "${path.module}/callback.zip")' in (module / "main.tf").read_text()
    shipped = (module / "callback.zip").read_bytes()
    assert len(shipped) < 3 * 1024 * 1024, f"callback.zip is {len(shipped)} bytes, over the 3 MB budget"
    stored = deployment.moto.client("lambda").get_function(FunctionName=deployment.function_name)
    assert stored["Configuration"]["CodeSha256"] == base64.b64encode(hashlib.sha256(shipped).digest()).decode()
    assert function.configuration["CodeSha256"] == stored["Configuration"]["CodeSha256"]
    again = render(ROOT / "examples" / "seed" / "sfngen.toml", module.parent.parent / "again")
    assert (again / "callback.zip").read_bytes() == shipped
