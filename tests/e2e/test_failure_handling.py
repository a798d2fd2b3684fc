"""Per-step retry and catch, and message shaping, on the emulator with the shipped callback Lambda."""

import json
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack("main")


SPEC = Path(__file__).resolve().parent / "specs" / "failure-handling.toml"
ORDER = {"order": {"id": 17, "amount": 42}, "customer": "c-1"}


@pytest.fixture
def resilient(deploy):
    return deploy(SPEC)


def receive(deployment, queue):
    message = deployment.receive(queue)
    return json.loads(message["Body"])


def start(deployment):
    # The deployment is shared by the tests of a session: start each from empty queues.
    for key in ("work", "notices"):
        deployment.drain(key)
    return deployment.start(f"fh-{uuid.uuid4().hex[:12]}", ORDER)


def test_the_message_carries_the_selected_input_the_token_and_static_fields(resilient):
    deployment, function = resilient
    execution = start(deployment)
    body = receive(deployment, "work")
    assert body["input"] == ORDER["order"]
    assert (body["kind"], body["priority"]) == ("charge", 1)
    assert (body["note"], body["id"]) == ("$.order.id", "States.UUID()")
    assert body["lines"] == [{"sku": "a", "token": "$$.Task.Token"}]
    assert body["token"]
    assert function.invoke({"token": body["token"], "output": {"charged": True}})[0] == "response"
    # The next step gets the callback output as its whole input.
    ship = receive(deployment, "work")
    assert ship["input"] == {"charged": True}
    assert function.invoke({"token": ship["token"]})[0] == "response"
    notify = receive(deployment, "notices")
    assert function.invoke({"token": notify["token"]})[0] == "response"
    assert deployment.wait_for_end(execution)["status"] == "SUCCEEDED"


def history(deployment, execution):
    return deployment.sfn.get_execution_history(executionArn=execution)["events"]


def test_a_retried_step_succeeds_on_the_second_try(resilient):
    deployment, function = resilient
    execution = start(deployment)
    first = receive(deployment, "work")
    kind, _ = function.invoke({"token": first["token"], "status": "failure", "error": "WorkerBusy"})
    assert kind == "response"
    # The retrier sends the task again, as a new message, and the execution keeps running.
    second = receive(deployment, "work")
    assert second["input"] == ORDER["order"] and second["kind"] == "charge"
    assert deployment.status(execution)["status"] == "RUNNING"
    assert function.invoke({"token": second["token"], "output": {"charged": True}})[0] == "response"
    # AWS gives each attempt a new token; moto reuses the first token and replays the recorded failure
    # on the next attempt, so a further copy of the Charge message may arrive: skip those.
    ship = receive(deployment, "work")
    while ship["input"] == ORDER["order"]:
        ship = receive(deployment, "work")
    assert ship["input"] == {"charged": True}
    events = history(deployment, execution)
    charge_events = events[: next(i for i, e in enumerate(events) if e["type"] == "TaskStateExited")]
    failures = [e for e in charge_events if e["type"] == "TaskFailed"]
    assert failures and all(e["taskFailedEventDetails"]["error"] == "WorkerBusy" for e in failures)
    assert sum(e["type"] == "TaskScheduled" for e in charge_events) == len(failures) + 1
    assert charge_events[-1]["type"] == "TaskSucceeded"
    function.invoke({"token": ship["token"]})
    function.invoke({"token": receive(deployment, "notices")["token"]})
    assert deployment.wait_for_end(execution)["status"] == "SUCCEEDED"


def test_a_caught_failure_routes_to_the_named_later_step_with_the_error(resilient):
    deployment, function = resilient
    execution = start(deployment)
    charge = receive(deployment, "work")
    function.invoke({"token": charge["token"], "status": "failure", "error": "PaymentDeclined", "cause": "card expired"})
    notify = receive(deployment, "notices")  # "Ship" is skipped
    assert notify["input"]["order"] == ORDER["order"]
    assert notify["input"]["error"]["Error"] == "PaymentDeclined"
    assert function.invoke({"token": notify["token"]})[0] == "response"
    assert deployment.wait_for_end(execution)["status"] == "SUCCEEDED"


def test_a_catch_can_end_in_a_fail_state_with_its_own_error(resilient):
    deployment, function = resilient
    execution = start(deployment)
    charge = receive(deployment, "work")
    function.invoke({"token": charge["token"], "status": "failure", "error": "Fatal"})
    done = deployment.wait_for_end(execution)
    assert (done["status"], done.get("error")) == ("FAILED", "ChargeFailed")


def test_an_uncaught_failure_fails_with_the_workers_error(resilient):
    deployment, function = resilient
    execution = start(deployment)
    charge = receive(deployment, "work")
    function.invoke({"token": charge["token"], "status": "failure", "error": "SomethingElse"})
    done = deployment.wait_for_end(execution)
    assert (done["status"], done.get("error")) == ("FAILED", "SomethingElse")


WATCHDOG = Path(__file__).resolve().parent / "specs" / "watchdog.toml"


def test_a_task_timeout_and_a_missed_heartbeat_are_told_apart(deploy):
    deployment, function = deploy(WATCHDOG)
    # In the ASL the heartbeat catcher comes first: States.Timeout also matches a missed heartbeat.
    catchers = json.loads(deployment.definition)["States"]["Work"]["Catch"]
    assert [c["ErrorEquals"] for c in catchers] == [["States.HeartbeatTimeout"], ["States.Timeout"]]
    # A worker that keeps sending heartbeats but never answers: the task timeout's own Fail state.
    deployment.drain("jobs")
    execution = deployment.start(f"wd-{uuid.uuid4().hex[:12]}", {})
    token = receive(deployment, "jobs")["token"]
    while deployment.status(execution)["status"] == "RUNNING":
        function.invoke({"token": token, "status": "heartbeat"})
        time.sleep(0.5)
    done = deployment.wait_for_end(execution)
    assert (done["status"], done.get("error")) == ("FAILED", "NobodyAnswered"), done
    # A worker that goes quiet: AWS raises States.HeartbeatTimeout (-> WorkerWentQuiet); moto raises
    # States.Timeout for both, so here only the AWS outcome or moto's documented one can occur.
    deployment.drain("jobs")
    quiet = deployment.start(f"wd-{uuid.uuid4().hex[:12]}", {})
    receive(deployment, "jobs")
    done = deployment.wait_for_end(quiet, timeout=20)
    assert done["status"] == "FAILED"
    assert done.get("error") in {"WorkerWentQuiet", "NobodyAnswered"}, done
