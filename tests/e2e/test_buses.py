"""EventBridge buses end to end: a step sends its task message as the `detail` of an event on a bus
(`events:putEvents.waitForTaskToken`), a rule the module creates matches it, and a target the caller adds to that
rule (here an SQS queue the test's root creates from the module's outputs, with the module's dead-letter queue
as the target's DeadLetterConfig) receives the event; a worker reading that queue answers through the real
callback Lambda, and the execution SUCCEEDS. Once on a custom bus the module creates, once on the account's
default bus, which the module neither creates nor destroys. An event EventBridge could not deliver (put into the
bus's dead-letter queue as EventBridge puts it) fails its task at once through the dead-letter Lambda. Then an
empty re-plan, and a destroy that leaves nothing behind but the default bus.

Real Terraform with the real hashicorp/aws provider applies the module to moto 5.2.5, whose Step Functions
interpreter calls its own EventBridge PutEvents, whose rules deliver to SQS; no shim is needed for EventBridge.
moto never fails a delivery, so the dead-letter case plays EventBridge's part: it copies the event the target
received into the dead-letter queue with the message attributes EventBridge sets (RULE_ARN, TARGET_ARN,
ERROR_CODE, ERROR_MESSAGE)."""

import json
import uuid
from pathlib import Path

import pytest

from harness import ACCOUNT, CallbackFunction, Deployment, render, wait_until
from iam_eval import Call, decide
from lambda_service import SerialFunction, SqsPoller
from tfstack import quick

SPEC = Path(__file__).resolve().parent / "channels" / "buses.toml"
KEY = "buses"

# The caller's side, as a team writes it: an SQS queue per rule (the partner's system here), the rule's target
# with the module's dead-letter queue, and the queue policy that lets that rule (and only it) send.
TARGETS = """
resource "aws_sqs_queue" "inbox" {
  for_each = module.buses.bus_rule_arns
  name     = "buses-e2e-${each.key}-inbox"
}

resource "aws_sqs_queue_policy" "inbox" {
  for_each  = module.buses.bus_rule_arns
  queue_url = aws_sqs_queue.inbox[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "RuleSends"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.inbox[each.key].arn
      Condition = { ArnEquals = { "aws:SourceArn" = each.value } }
    }]
  })
}

resource "aws_cloudwatch_event_target" "inbox" {
  for_each       = module.buses.bus_rule_names
  rule           = each.value
  event_bus_name = module.buses.bus_names[each.key]
  target_id      = "inbox"
  arn            = aws_sqs_queue.inbox[each.key].arn

  dead_letter_config {
    arn = module.buses.bus_dead_letter_queue_arns[each.key]
  }
}

output "inbox_urls" {
  value = { for key, queue in aws_sqs_queue.inbox : key => queue.url }
}
"""


def prepare(stack):
    stack.add_module(KEY, SPEC, render)
    stack.write_root()
    (stack.dir / "targets.tf").write_text(TARGETS)


pytestmark = pytest.mark.stack("buses", quick(prepare))


@pytest.fixture(scope="module")
def applied(stacks, moto):
    outputs = stacks["buses"].result("apply")
    function = CallbackFunction.deployed(moto, outputs[KEY]["callback_function_name"])
    yield Deployment(moto, outputs[KEY]), outputs["inbox_urls"], function
    function.stop()


def receive_event(moto, url: str, timeout: float = 15) -> dict:
    sqs = moto.client("sqs")

    def one():
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
        return got[0] if got else None

    message = wait_until(one, timeout, f"an event on {url}")
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return json.loads(message["Body"])


def start(deployment, payload: dict) -> str:
    return deployment.start(f"bus-{uuid.uuid4().hex[:12]}", payload)


def test_the_module_creates_the_custom_bus_and_its_rules_and_leaves_the_default_bus_alone(applied, moto):
    deployment, inboxes, _ = applied
    outputs = deployment.outputs
    assert outputs["bus_names"] == {"partner": "buses-e2e-partner", "account": "default"}
    events = moto.client("events")
    assert events.describe_event_bus(Name="buses-e2e-partner")["Arn"] == outputs["bus_arns"]["partner"]
    assert outputs["bus_arns"]["account"].endswith(":event-bus/default")
    for key, bus in outputs["bus_names"].items():
        rule = events.describe_rule(Name=outputs["bus_rule_names"][key], EventBusName=bus)
        assert rule["Arn"] == outputs["bus_rule_arns"][key]
        pattern = json.loads(rule["EventPattern"])
        # Only this module's events: its source and detail type (the defaults for "account"), from this account,
        # put by this instance's state machine (Step Functions adds its ARN, qualified when started through an alias).
        machine = outputs["state_machine_arn"]
        assert pattern == {
            "source": ["com.example.orders" if key == "partner" else "sfngen.buses-e2e"],
            "detail-type": ["ApproveOrder" if key == "partner" else "sfngen task"],
            "account": [ACCOUNT],
            "resources": [machine, {"prefix": f"{machine}:"}],
        }, pattern
    assert set(inboxes) == {"partner", "account"}


def test_another_instance_s_events_do_not_reach_this_instance_s_targets(applied, moto):
    """Two instances of one spec put events with the same source and detail type: on a shared bus (the default one
    here) each rule takes only its own state machine's, by the ARN Step Functions adds to the event's resources. An
    event as another instance's execution puts it is matched by no rule of this module; one as this instance's
    (through its alias) is."""
    deployment, inboxes, _ = applied
    machine = deployment.outputs["state_machine_arn"]
    other = machine.replace(":stateMachine:buses-e2e", ":stateMachine:buses-e2e-eu")
    events = moto.client("events")

    def put(resources):
        entry = {
            "Source": "sfngen.buses-e2e",
            "DetailType": "sfngen task",
            "Detail": json.dumps({"input": {}, "token": "t", "context": {}}),
            "EventBusName": "default",
            "Resources": resources,
        }
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0

    put([other, other.replace(":stateMachine:", ":execution:") + ":e1"])
    sqs = moto.client("sqs")
    got = sqs.receive_message(QueueUrl=inboxes["account"], MaxNumberOfMessages=1, WaitTimeSeconds=2)
    assert not got.get("Messages"), got
    put([f"{machine}:live", machine.replace(":stateMachine:", ":execution:") + ":live:e2"])
    assert receive_event(moto, inboxes["account"])["resources"][0] == f"{machine}:live"


def answer(function, event: dict, output: dict):
    kind, body = function.invoke({"token": event["detail"]["token"], "output": output})
    assert (kind, body["outcome"]) == ("response", "answered"), body


def test_rule_targets_receive_the_tasks_and_answer_through_the_callback(applied, moto):
    """AskPartner sends on the custom bus, AskAccount on the default one: each event reaches the caller's target,
    its detail is the task message every channel carries, and the callback's answers drive the execution to
    SUCCEEDED."""
    deployment, inboxes, function = applied
    payload = {"order": 42}
    execution = start(deployment, payload)
    event = receive_event(moto, inboxes["partner"])
    assert (event["source"], event["detail-type"]) == ("com.example.orders", "ApproveOrder")
    detail = event["detail"]
    assert set(detail) == {"input", "token", "context"}, detail
    assert detail["input"] == payload
    assert (detail["context"]["execution"], detail["context"]["state"]) == (execution, "AskPartner")
    # Step Functions adds the state machine and the execution to the event's resources.
    assert execution in event["resources"], event
    answer(function, event, {"approved": True})
    event = receive_event(moto, inboxes["account"])
    assert (event["source"], event["detail-type"]) == ("sfngen.buses-e2e", "sfngen task")
    assert event["detail"]["input"] == {"approved": True}
    assert event["detail"]["context"]["state"] == "AskAccount"
    answer(function, event, {"shipped": True})
    done = deployment.wait_for_end(execution)
    assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", {"shipped": True}), done


def test_an_event_eventbridge_could_not_deliver_fails_its_task_at_once(applied, moto):
    """EventBridge puts an event it could not deliver to a target (after its retries, or at once for a missing
    permission) into the target's dead-letter queue: the module's, for the rule's targets. The dead-letter Lambda
    reads it (the mapping the module creates, played by the test's poller with the function's role) and fails the
    task in the event's detail with sfngen.DeadLettered: the execution fails within seconds, not after 30 minutes."""
    deployment, inboxes, _ = applied
    outputs = deployment.outputs
    execution = start(deployment, {"order": 7})
    event = receive_event(moto, inboxes["partner"])
    attributes = {
        "RULE_ARN": outputs["bus_rule_arns"]["partner"],
        "TARGET_ARN": outputs["bus_dead_letter_queue_arns"]["partner"].replace("-bus-dlq", "-inbox"),
        "ERROR_CODE": "SQS_PERMISSION_DENIED",
        "ERROR_MESSAGE": "Failed to send message to SQS queue (as the test plays EventBridge).",
    }
    moto.client("sqs").send_message(
        QueueUrl=outputs["bus_dead_letter_queue_urls"]["partner"],
        MessageBody=json.dumps(event),
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )
    reader = CallbackFunction.deployed(moto, outputs["dead_letters_function_name"])
    try:
        mapping = outputs["bus_dead_letter_mapping_ids"]["partner"]
        role = moto.client("sts").assume_role(RoleArn=reader.configuration["Role"], RoleSessionName="lambda-poller")
        poller = SqsPoller(moto, SerialFunction(reader), mapping, role["Credentials"]).start()
        try:
            done = deployment.wait_for_end(execution, timeout=30)
        finally:
            poller.stop()
        assert (done["status"], done.get("error")) == ("FAILED", "sfngen.DeadLettered"), done
        assert event["id"] in done.get("cause", event["id"]), done  # moto drops a failure's cause
        lines = [json.loads(line) for line in reader.logs().splitlines() if line.startswith("{")]
        [line] = [line for line in lines if line.get("event") == "dead_letter"]
        assert (line["outcome"], line["event_id"], line["error_code"]) == (
            "dead_lettered",
            event["id"],
            "SQS_PERMISSION_DENIED",
        ), line
    finally:
        reader.stop()


def test_the_state_machine_may_put_only_each_buss_own_events_on_it(applied, moto):
    """The role's policy as the emulator stores it, held against PutEvents calls as IAM authorizes them (the
    emulator enforces no IAM: tests/e2e/iam_eval.py): each bus's own source and detail type on that bus only."""
    deployment, _, _ = applied
    outputs = deployment.outputs
    iam = moto.client("iam")
    role = outputs["state_machine_role_arn"].rsplit("/", 1)[1]
    [name] = iam.list_role_policies(RoleName=role)["PolicyNames"]
    policy = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    own = {"partner": ("com.example.orders", "ApproveOrder"), "account": ("sfngen.buses-e2e", "sfngen task")}

    def put(bus: str, source: str, detail_type: str) -> Call:
        return Call("events:PutEvents", bus, (("events:source", source), ("events:detail-type", detail_type)))

    for key, (source, detail_type) in own.items():
        arn = outputs["bus_arns"][key]
        assert decide(policy, put(arn, source, detail_type)).allowed, key
        other = own["account" if key == "partner" else "partner"]
        assert not decide(policy, put(arn, *other)).allowed, f"{key}: another bus's events"
        assert not decide(policy, put(arn, "com.example.other", detail_type)).allowed, f"{key}: another source"
    elsewhere = outputs["bus_arns"]["partner"].replace("buses-e2e-partner", "someone-elses-bus")
    assert not decide(policy, put(elsewhere, *own["partner"])).allowed


def test_a_second_plan_finds_nothing_to_change(stacks, applied):
    stack = stacks["buses"].stack
    code = stack.plan_code("again.tfplan")
    if code:
        plan = stack.show("again.tfplan")
        changing = [(c["address"], c["change"]["actions"]) for c in plan["resource_changes"]]
        assert [c for c in changing if c[1] != ["no-op"]] == []
    assert code == 0


@pytest.mark.last
def test_destroy_leaves_nothing_behind_but_the_default_bus(stacks, moto):
    result = stacks["buses"].destroy().result("destroy")
    resources = result["inventory"][f"module.{KEY}"]
    kinds = {kind for kind, _ in resources}
    assert {"aws_cloudwatch_event_bus", "aws_cloudwatch_event_rule", "aws_sqs_queue"} <= kinds, kinds
    # The module created one bus, the custom one.
    assert [v["name"] for kind, v in resources if kind == "aws_cloudwatch_event_bus"] == ["buses-e2e-partner"]
    assert len(result["found_before"][f"module.{KEY}"]) == len(resources)
    assert result["leftovers"] == {module: [] for module in result["inventory"]}
    assert result["state_list"] == []
    events = moto.client("events")
    assert events.describe_event_bus(Name="default")["Name"] == "default"
    assert "buses-e2e-partner" not in {b["Name"] for b in events.list_event_buses()["EventBuses"]}
    assert [r["Name"] for r in events.list_rules(EventBusName="default")["Rules"] if r["Name"].startswith("buses-e2e")] == []
