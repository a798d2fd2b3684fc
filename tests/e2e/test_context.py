"""Every task message carries, beside its input and token, Step Functions' context for the task (16.4): the
execution's ARN, the state's name, when the state was entered, its retry count and the execution's redrive count.
Received from the queue on the emulator: the execution is the one started, the state is the step's name, the retry
count grows with each Retry, and the redrive count is 0 (moto serves no RedriveExecution; tests/e2e/moto_shim.py
gives its context object the count AWS's has). The task key the module README gives workers (execution + "/" +
state) is the same for every attempt of a step and differs between steps."""

import json
import uuid
from datetime import datetime

import pytest

from harness import Deployment, wait_until
import runbook_stack

pytestmark = pytest.mark.stack("runbook", runbook_stack.STAGES)

CONTEXT_FIELDS = {"execution", "state", "entered_time", "retry_count", "redrive_count"}


@pytest.fixture(scope="module")
def deployment(moto, stacks):
    return Deployment(moto, stacks["runbook"].result("apply"))


def take(deployment, queue_key: str, state: str, timeout: float = 20) -> dict:
    """The next task message of `state` on a queue (deleted), as a worker reads it. moto hands a retried Task the
    first attempt's token and may replay that attempt's outcome, sending a further copy: a copy whose retry count is
    not new is skipped by the caller."""
    url = deployment.queue_urls[queue_key]

    def one():
        for message in deployment.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            deployment.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            body = json.loads(message["Body"])
            if body["context"]["state"] == state:
                return body
        return None

    return wait_until(one, timeout, f"a task message of {state} on {queue_key}")


def entered(body: dict) -> datetime:
    # AWS writes `2019-03-26T20:14:13.192Z`, moto `+00:00` with microseconds: both ISO 8601 in UTC.
    return datetime.fromisoformat(body["context"]["entered_time"].replace("Z", "+00:00"))


def test_a_message_carries_the_execution_the_state_and_the_attempt(deployment):
    for key in deployment.queue_urls:
        deployment.drain(key)
    started = datetime.now().astimezone()
    execution = deployment.start(f"ctx-{uuid.uuid4().hex[:12]}", {"job": 1})

    first = take(deployment, "jobs", "Work")
    assert set(first["context"]) == CONTEXT_FIELDS, first
    assert first["input"] == {"job": 1} and first["token"]
    context = first["context"]
    assert context["execution"] == execution
    assert (context["state"], context["retry_count"], context["redrive_count"]) == ("Work", 0, 0)
    assert started.timestamp() - 1 <= entered(first).timestamp() <= datetime.now().timestamp() + 1

    # The worker is busy: the step's retrier sends the task again, one retry more, the same task key.
    deployment.sfn.send_task_failure(taskToken=first["token"], error="Worker.Busy", cause="try later")
    retried = take(deployment, "jobs", "Work")
    while retried["context"]["retry_count"] == 0:
        retried = take(deployment, "jobs", "Work")
    assert retried["context"]["retry_count"] == 1, retried["context"]
    assert (retried["context"]["execution"], retried["context"]["state"]) == (execution, "Work")
    assert retried["context"]["redrive_count"] == 0
    # The step was entered once: its retries keep the time it was entered.
    assert retried["context"]["entered_time"] == first["context"]["entered_time"]
    deployment.sfn.send_task_success(taskToken=retried["token"], output=json.dumps({"done": True}))

    # The next step: its own state name and a first attempt, so another task key.
    publish = take(deployment, "notices", "Publish")
    assert publish["context"]["execution"] == execution
    assert (publish["context"]["state"], publish["context"]["retry_count"]) == ("Publish", 0)
    assert entered(publish) >= entered(first)
    key = lambda body: body["context"]["execution"] + "/" + body["context"]["state"]  # noqa: E731
    assert key(first) == key(retried) != key(publish)
    deployment.sfn.send_task_success(taskToken=publish["token"], output="{}")
    assert deployment.wait_for_end(execution)["status"] == "SUCCEEDED"
