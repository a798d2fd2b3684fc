"""Load and faults: 500 executions waiting at once, all answered through the real callback binary; and the
AWS endpoint gone mid-callback: the Lambda reports a retryable error, keeps running, and the callback
succeeds once the endpoint is back."""

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness import CallbackFunction, TcpProxy, wait_until

pytestmark = pytest.mark.stack("main")

X86 = Path(__file__).resolve().parent / "specs" / "x86.toml"
EXECUTIONS = 500


def test_500_waiting_executions_are_all_answered_once(deploy, capsys):
    deployment, function = deploy(X86)
    deployment.drain("main")
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        executions = list(
            pool.map(lambda i: deployment.start(f"load-{i}-{uuid.uuid4().hex[:8]}", {"n": i}), range(EXECUTIONS))
        )
    # Every execution's message, each exactly once.
    url = deployment.queue_urls["main"]
    tokens = {}

    def collect():
        for message in deployment.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            body = json.loads(message["Body"])
            assert body["input"]["n"] not in tokens, f"execution {body['input']['n']} sent twice"
            tokens[body["input"]["n"]] = body["token"]
            deployment.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(tokens) == EXECUTIONS

    wait_until(collect, 120, f"{EXECUTIONS} task messages", interval=0)
    answering = time.monotonic()
    for n in range(EXECUTIONS):
        kind, body = function.invoke({"token": tokens[n], "output": {"n": n}})
        assert kind == "response", body
    answered = time.monotonic()

    def all_done():
        statuses = [deployment.status(e) for e in executions]
        return statuses if all(s["status"] != "RUNNING" for s in statuses) else None

    statuses = wait_until(all_done, 120, "every execution to end", interval=0.5)
    assert [s["status"] for s in statuses] == ["SUCCEEDED"] * EXECUTIONS
    assert [json.loads(s["output"])["n"] for s in statuses] == list(range(EXECUTIONS))
    # Each token answered once: a second answer would be refused, and the logs hold one line per token.
    lines = [json.loads(line) for line in function.logs().splitlines() if line.startswith("{")]
    answered_ids = [line["token_id"] for line in lines if line.get("message") == "answered the task"]
    assert len(answered_ids) == len(set(answered_ids)) == EXECUTIONS
    with capsys.disabled():
        print(
            f"\n  load: {EXECUTIONS} executions started and waiting in {answering - started:.1f}s; "
            f"answered through the callback binary at {EXECUTIONS / (answered - answering):.0f} callbacks/s"
        )


def test_an_unreachable_endpoint_gives_a_retryable_error_then_the_callback_succeeds(moto, deployments):
    deployment = deployments(X86)
    proxy = TcpProxy(moto.port)
    function = CallbackFunction.deployed(moto, deployment.function_name, endpoint=proxy.endpoint)
    try:
        deployment.drain("main")
        execution = deployment.start(f"fault-{uuid.uuid4().hex[:8]}", {"fault": True})
        token = json.loads(deployment.receive("main")["Body"])["token"]
        proxy.down()
        began = time.monotonic()
        kind, body = function.invoke({"token": token}, timeout=120)
        took = time.monotonic() - began
        assert kind == "error", body
        assert body["errorType"] == "Retryable", body
        assert "retry later" in body["errorMessage"]
        assert took < 30, f"the function took {took:.0f}s to give up"
        assert deployment.status(execution)["status"] == "RUNNING"
        # The endpoint is back: the same process, unharmed, answers the same task.
        proxy.up()
        kind, body = function.invoke({"token": token})
        assert kind == "response", body
        assert deployment.wait_for_end(execution)["status"] == "SUCCEEDED"
        logs = function.logs()
        assert token not in logs
        assert '"retryable":true' in logs
    finally:
        function.stop()
        proxy.down()


def test_server_errors_are_retried_with_backoff_then_reported(moto, deployments):
    deployment = deployments(X86)
    proxy = TcpProxy(moto.port)
    function = CallbackFunction.deployed(moto, deployment.function_name, endpoint=proxy.endpoint)
    try:
        deployment.drain("main")
        execution = deployment.start(f"5xx-{uuid.uuid4().hex[:8]}", {})
        token = json.loads(deployment.receive("main")["Body"])["token"]
        # Two 503s: the SDK retries within one invocation and the answer gets through.
        proxy.fail_next(2)
        kind, body = function.invoke({"token": token})
        assert kind == "response", body
        assert proxy.failed == 2
        assert deployment.wait_for_end(execution)["status"] == "SUCCEEDED"
        # 503s past the retry budget (4 attempts): a Retryable error naming the cause.
        execution = deployment.start(f"5xx-{uuid.uuid4().hex[:8]}", {})
        token = json.loads(deployment.receive("main")["Body"])["token"]
        proxy.fail_next(10)
        kind, body = function.invoke({"token": token})
        assert kind == "error", body
        assert body["errorType"] == "Retryable", body
        assert "ServiceUnavailable" in body["errorMessage"], body
        assert proxy.failed == 4, f"{proxy.failed} attempts"
        proxy.fail_next(0)
        assert function.invoke({"token": token})[0] == "response"
        assert deployment.wait_for_end(execution)["status"] == "SUCCEEDED"
    finally:
        function.stop()
        proxy.down()
