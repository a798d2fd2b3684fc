"""Fan-out end to end (examples/fanout): a `for_each` step is an inline Map state that sends one message, with its own
task token, per item of an array and waits for each item's callback; the step's result is the array of answers, in
item order. The module goes through the whole Terraform cycle on the emulator in a stack of its own (init, validate,
plan, apply, a second plan that finds nothing to change, destroy), and a worker played by the test answers every
item's message through the callback package the emulator stored (harness.CallbackFunction).

examples/fanout: `ApproveLines` over `$.lines`, two at once, whose rejected line fails the step, which its catch ends
in the Fail state `OrderRejected`; then `PackLines` over the approvals (`$`), five at once, failures tolerated
(`tolerated_failure_percentage = 100`)."""

import json
import time
import uuid

import pytest

from harness import ROOT, CallbackFunction, Deployment, render
from iam_eval import denied
from lambda_service import InvokeApi, SerialFunction
from test_worker import Worker, WorkerRole, authorizations, readme_worker
from tfstack import lifecycle

SPEC = ROOT / "examples" / "fanout" / "sfngen.toml"
MODULE = "fanout"


def prepare(stack):
    stack.add_module(MODULE, SPEC, render)
    stack.write_root()


pytestmark = pytest.mark.stack("fan_out", lifecycle(prepare))


@pytest.fixture(scope="module")
def fanout(stacks, moto):
    deployment = Deployment(moto, stacks["fan_out"].result("apply")[MODULE])
    function = CallbackFunction.deployed(moto, deployment.function_name)
    for key in deployment.queue_urls:
        deployment.drain(key)
    yield deployment, function
    function.stop()


def item_messages(deployment, queue_key: str, count: int) -> dict:
    """`count` task messages of one queue, by item index (each received once and deleted)."""
    bodies = {}
    for _ in range(count):
        body = json.loads(deployment.receive(queue_key)["Body"])
        assert set(body) == {"input", "token", "context"}, body
        index = body["context"]["item_index"]
        assert index not in bodies, f"item {index} was sent twice"
        bodies[index] = body
    return bodies


def nothing_more(deployment, queue_key: str, seconds: float = 3) -> bool:
    """No message on the queue for `seconds` (what a Map at its MaxConcurrency holds back)."""
    url = deployment.queue_urls[queue_key]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = deployment.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if got:
            return False
    return True


def answer(function, body, output=None, error=None):
    event = {"token": body["token"]}
    if error:
        event.update(status="failure", error=error, cause=f"item {body['context']['item_index']}")
    else:
        event["output"] = output
    kind, reply = function.invoke(event)
    assert kind == "response" and reply["answered"], reply


def test_the_definition_the_emulator_holds_makes_each_fan_out_step_a_map(fanout):
    deployment, _ = fanout
    states = json.loads(deployment.definition)["States"]
    approve, pack = states["ApproveLines"], states["PackLines"]
    assert (approve["Type"], approve["ItemsPath"], approve["MaxConcurrency"]) == ("Map", "$.lines", 2)
    assert (pack["Type"], pack["ItemsPath"], pack["MaxConcurrency"]) == ("Map", "$", 5)
    task = approve["ItemProcessor"]["States"]["ApproveLines item"]
    assert task["Parameters"]["QueueUrl"] == deployment.queue_urls["approvals"]
    assert task["Resource"].endswith(":states:::sqs:sendMessage.waitForTaskToken")
    assert approve["ItemProcessor"]["ProcessorConfig"] == {"Mode": "INLINE"}


def approve(deployment, function, lines) -> None:
    """Approves ApproveLines's messages as they come, two at once."""
    waiting = item_messages(deployment, "approvals", 2)
    answered = set()
    while waiting:
        index, body = waiting.popitem()
        assert body["input"] == lines[index]
        answer(function, body, {"approved": lines[index]["sku"]})
        answered.add(index)
        if len(answered) + len(waiting) < len(lines):
            waiting.update(item_messages(deployment, "approvals", 1))
    assert answered == set(range(len(lines)))


def test_one_task_per_item_at_most_max_concurrency_at_once_and_the_result_is_the_answers(fanout):
    deployment, function = fanout
    lines = [{"sku": "apple"}, {"sku": "pear"}, {"sku": "plum"}]
    execution = deployment.start(f"lines-{uuid.uuid4().hex[:10]}", {"lines": lines, "order": 17})
    # ApproveLines: MaxConcurrency 2, so two messages, and the third only once an item is answered.
    first = item_messages(deployment, "approvals", 2)
    assert nothing_more(deployment, "approvals"), "a third item was sent while two were waiting"
    for index, body in first.items():
        # The item is the message's input; the context names the execution, the item task and the item.
        assert body["input"] == lines[index]
        assert body["context"]["execution"] == execution
        assert body["context"]["state"] == "ApproveLines item"
        assert body["context"]["retry_count"] == 0
    some = min(first)
    answer(function, first.pop(some), {"approved": lines[some]["sku"]})
    [(third, body)] = item_messages(deployment, "approvals", 1).items()
    assert {some, third} | set(first) == {0, 1, 2}
    assert body["input"] == lines[third]
    for index, body in [*first.items(), (third, body)]:
        answer(function, body, {"approved": lines[index]["sku"]})
    # PackLines: its input is ApproveLines's result, the approvals in item order; all three at once (MaxConcurrency 5).
    packing = item_messages(deployment, "packing", 3)
    assert [packing[i]["input"] for i in range(3)] == [{"approved": line["sku"]} for line in lines]
    assert {body["context"]["state"] for body in packing.values()} == {"PackLines item"}
    assert deployment.status(execution)["status"] == "RUNNING"
    for index in (2, 0, 1):  # answered in any order, the result keeps the items' order
        answer(function, packing[index], {"packed": lines[index]["sku"], "box": index})
    done = deployment.wait_for_end(execution)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == [{"packed": line["sku"], "box": i} for i, line in enumerate(lines)]


def test_a_tolerated_failure_keeps_its_error_in_the_result(fanout):
    """PackLines (tolerated_failure_percentage = 100): a line that cannot be packed does not fail the step; its place
    in the result holds its index, the item and the error, and the execution succeeds."""
    deployment, function = fanout
    lines = [{"sku": "fig"}, {"sku": "kiwi"}, {"sku": "lime"}]
    execution = deployment.start(f"lines-{uuid.uuid4().hex[:10]}", {"lines": lines})
    approve(deployment, function, lines)
    packing = item_messages(deployment, "packing", 3)
    answer(function, packing[1], error="CannotPack")
    answer(function, packing[0], {"packed": "fig"})
    answer(function, packing[2], {"packed": "lime"})
    done = deployment.wait_for_end(execution)
    assert done["status"] == "SUCCEEDED", done
    first, failed, last = json.loads(done["output"])
    assert (first, last) == ({"packed": "fig"}, {"packed": "lime"})
    assert (failed["index"], failed["item"], failed["error"]["Error"]) == (1, {"approved": "kiwi"}, "CannotPack"), failed


def test_an_item_that_fails_fails_the_step_and_its_catch_routes_the_error(fanout):
    """ApproveLines (tolerated_failure_percentage = 0): a rejected line fails the Map, whose catch (on the Map) ends
    the execution in its Fail state; the line still waiting is stopped, its token spent."""
    deployment, function = fanout
    lines = [{"sku": "date"}, {"sku": "lemon"}, {"sku": "mango"}]
    execution = deployment.start(f"lines-{uuid.uuid4().hex[:10]}", {"lines": lines})
    waiting = item_messages(deployment, "approvals", 2)
    rejected, other = sorted(waiting)
    answer(function, waiting[rejected], error="LineRejected")
    done = deployment.wait_for_end(execution)
    assert (done["status"], done.get("error"), done.get("cause")) == ("FAILED", "OrderRejected", "a line was rejected"), done
    kind, reply = function.invoke({"token": waiting[other]["token"], "output": {}})
    assert kind == "response" and reply["outcome"] == "token_spent", reply
    assert nothing_more(deployment, "packing", 1)


def test_the_readmes_worker_loop_keys_each_item_apart_and_drives_the_fan_out_to_succeeded(fanout, stacks, moto):
    """The module README's worker loop, run unchanged (tests/e2e/test_worker.py's harness), one process per queue with
    a role holding only that queue's worker policy: its task key includes `item_index`, so the items of one step
    (same execution, same state) are done apart and each gets its own answer; every call it makes is allowed."""
    deployment, function = fanout
    outputs = deployment.outputs
    code = readme_worker(stacks["fan_out"].stack.dir / "modules" / MODULE)
    assert '"item_index"' in code
    invoke_api = InvokeApi(SerialFunction(function), function.configuration)
    roles, workers, calls, logs = {}, {}, {}, {}
    lines = [{"sku": "cherry"}, {"sku": "grape"}, {"sku": "melon"}]
    try:
        for key, url in deployment.queue_urls.items():
            roles[key] = WorkerRole(moto, outputs["worker_policy_json_by_queue"][key])
            workers[key] = Worker(code, url, outputs["callback_function_name"], roles[key], moto, invoke_api)
        execution = deployment.start(f"worker-{uuid.uuid4().hex[:10]}", {"lines": lines})
        done = deployment.wait_for_end(execution, timeout=120)
    finally:
        for key, worker in workers.items():
            calls[key], logs[key] = worker.calls(), worker.logs()
            worker.stop()
        for role in roles.values():
            role.delete()
        invoke_api.stop()
    assert done["status"] == "SUCCEEDED", (done, logs)
    # Each item's answer is the README's do_the_work of that item, twice over (two fan-out steps), in item order.
    assert json.loads(done["output"]) == [{"done": True, "input": {"done": True, "input": line}} for line in lines]
    for key in workers:
        needed = authorizations(calls[key], function.configuration["FunctionArn"], {})
        assert denied(json.loads(outputs["worker_policy_json_by_queue"][key]), needed) == [], key


def test_a_second_plan_finds_nothing_to_change(stacks):
    code, plan = stacks["fan_out"].result("drift")
    if code:
        changing = [(c["address"], c["change"]["actions"]) for c in plan["resource_changes"]]
        assert [a for a in changing if a[1] != ["no-op"]] == []
    assert code == 0


@pytest.mark.last
def test_destroy_leaves_nothing_behind(stacks):
    result = stacks["fan_out"].destroy().result("destroy")
    address = f"module.{MODULE}"
    resources = result["inventory"].get(address, [])
    assert {"aws_sfn_state_machine", "aws_sqs_queue", "aws_lambda_function"} <= {kind for kind, _ in resources}
    assert len(result["found_before"][address]) == len(resources)
    assert result["leftovers"][address] == []
    assert result["state_list"] == []
