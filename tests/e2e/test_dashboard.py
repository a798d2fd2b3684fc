"""The dashboard and the alarms that say what to do, on the emulator with the real provider.

One module with [alarms], a catch that ends executions in a declared Fail state and two queues is applied; then,
in the background: a second plan must find nothing to change; the dashboard moto holds is read back (its body parses, names every queue, dead-letter queue,
function and the state machine, in the stack's region), the alarms moto holds are read (each description points
at a runbook step; executions_failed counts faults only, by metric math), and two executions are failed for real
through Step Functions (SendTaskFailure with the caught business error, and with an error nobody catches): their
ExecutionFailed events, as get-execution-history gives them, are written to the execution log group in the
shape Step Functions' log delivery writes (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html),
read back, and held against the business-failure filter pattern moto stores. Then `dashboard_enabled = false`:
the plan deletes the dashboard and changes nothing else, the apply removes it from moto, a re-plan is empty, and
the stack is destroyed.

What moto does not do, and so what this does not show: moto stores metric filters but applies none (no metric is
emitted: `tests/e2e/log_patterns.py` evaluates the stored pattern, as for the Lambda functions' filters), its
Step Functions interpreter delivers no execution logs (the test writes the events), and it evaluates no alarm."""

import json
import time
import uuid

import pytest

from harness import aws_client, render
from log_patterns import matches
from tfstack import quick

KEY = "dash"
REGION = "us-east-1"  # the stacks' provider region
SPEC = """\
name = "dash-e2e"

[state_machine]
log_level = "ERROR"

[[steps]]
name = "Charge"
queue = "payments"
timeout = "10m"

[[steps.catch]]
errors = ["PaymentDeclined"]
fail = { error = "Declined", cause = "the card was declined" }

[[steps]]
name = "Ship"
queue = "warehouse"
timeout = "1h"

[queues.payments]

[queues.warehouse]
dead_letter = { max_receives = 3, fail_execution = false }

[alarms]
period = "1m"
"""
RUNBOOK = ("Drain a queue", "Stop waiting executions", "Redrive failed executions", "Move dead letters back",
           "Pause fail-fast")


def prepare(stack):
    spec = stack.dir / "sfngen.toml"
    spec.write_text(SPEC)
    stack.add_module(KEY, spec, render)
    stack.write_root()


def fail_execution(sfn, sqs, outputs: dict, error: str) -> dict:
    """Starts an execution, fails its Charge task with `error`, waits for its end; its ExecutionFailed event."""
    arn = sfn.start_execution(stateMachineArn=outputs["state_machine_arn"], name=f"d-{uuid.uuid4().hex[:12]}",
                              input=json.dumps({"order": 1}))["executionArn"]
    deadline = time.monotonic() + 60
    messages = []
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=outputs["queue_urls"]["payments"], WaitTimeSeconds=1).get("Messages", [])
    assert messages, "no task message"
    token = json.loads(messages[0]["Body"])["token"]
    sfn.send_task_failure(taskToken=token, error=error, cause="test")
    sqs.delete_message(QueueUrl=outputs["queue_urls"]["payments"], ReceiptHandle=messages[0]["ReceiptHandle"])
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
    events = sfn.get_execution_history(executionArn=arn)["events"]
    failed = [e for e in events if e["type"] == "ExecutionFailed"]
    assert failed, events
    return {"arn": arn, "event": failed[0]}


def log_line(execution: dict) -> str:
    """The ExecutionFailed event as Step Functions' log delivery writes it to CloudWatch Logs."""
    event = execution["event"]
    return json.dumps({
        "id": str(event["id"]),
        "type": event["type"],
        "details": event["executionFailedEventDetails"],
        "previous_event_id": str(event.get("previousEventId", 0)),
        "event_timestamp": str(int(event["timestamp"].timestamp() * 1000)),
        "execution_arn": execution["arn"],
    })


def observe(stack):
    drift = stack.plan_code("drift.tfplan")  # before anything else: the module as applied, dashboard included
    outputs = stack.outputs()[KEY]
    cloudwatch, logs = aws_client("cloudwatch", stack.endpoint), aws_client("logs", stack.endpoint)
    sfn, sqs = aws_client("stepfunctions", stack.endpoint), aws_client("sqs", stack.endpoint)
    name = f"{outputs['state_machine_name']}-{REGION}"
    dashboard = cloudwatch.get_dashboard(DashboardName=name)
    alarms = cloudwatch.describe_alarms(AlarmNamePrefix=f"{outputs['state_machine_name']}-")["MetricAlarms"]
    group = outputs["state_machine_log_group_name"]
    filters = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    business = fail_execution(sfn, sqs, outputs, "PaymentDeclined")
    fault = fail_execution(sfn, sqs, outputs, "Boom")
    logs.create_log_stream(logGroupName=group, logStreamName="states/e2e")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="states/e2e", logEvents=[
        {"timestamp": now, "message": log_line(business)}, {"timestamp": now + 1, "message": log_line(fault)}])
    stored = [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName="states/e2e")["events"]]
    return {"drift": drift, "outputs": outputs, "name": name, "dashboard": dashboard, "alarms": alarms, "filters": filters,
            "business": business, "fault": fault, "stored": stored}


def turn_off(stack):
    """dashboard_enabled = false, as a caller sets it: plan, apply that plan, look in moto, plan again."""
    source, arguments = stack.modules[KEY]
    stack.modules[KEY] = (source, {**arguments, "dashboard_enabled": False})
    stack.write_root()
    code, plan = stack.plan("off.tfplan")
    stack.apply("off.tfplan")
    names = [d["DashboardName"] for d in aws_client("cloudwatch", stack.endpoint).list_dashboards()["DashboardEntries"]]
    return {"code": code, "plan": plan, "dashboards": names, "replan": stack.plan_code("again.tfplan")}


pytestmark = pytest.mark.stack(
    "dashboard", quick(prepare) + [("observe", observe), ("off", turn_off)], destroy_when_done=True
)


def test_after_apply_a_second_plan_finds_nothing_to_change(stacks):
    assert stacks["dashboard"].result("observe")["drift"] == 0


def test_the_dashboard_names_every_queue_function_and_the_state_machine(stacks):
    seen = stacks["dashboard"].result("observe")
    outputs = seen["outputs"]
    body = json.loads(seen["dashboard"]["DashboardBody"])
    text = json.dumps(body)
    queues = [url.rsplit("/", 1)[1] for url in outputs["queue_urls"].values()]
    dead_letter_queues = [arn.rsplit(":", 1)[1] for arn in outputs["dead_letter_queue_arns"].values()]
    functions = [outputs["callback_function_name"], outputs["dead_letters_function_name"]]
    for name in [*queues, *dead_letter_queues, *functions, outputs["state_machine_arn"]]:
        assert f'"{name}"' in text, f"the dashboard does not name {name}"
    metrics = [w for w in body["widgets"] if w["type"] == "metric"]
    assert metrics and all(w["properties"]["region"] == REGION for w in metrics)
    titles = [w["properties"]["title"] for w in metrics]
    assert "Failed executions: faults and business outcomes" in titles
    assert {f"Queue {key}" for key in outputs["queue_urls"]} <= set(titles)
    # Laid out on the 24-column grid, no two widgets on one cell.
    cells = [(x, y) for w in body["widgets"] for x in range(w["x"], w["x"] + w["width"])
             for y in range(w["y"], w["y"] + w["height"])]
    assert len(cells) == len(set(cells)) and all(x < 24 for x, _ in cells)


def test_each_alarm_says_what_to_do_and_failed_executions_count_faults_only(stacks):
    seen = stacks["dashboard"].result("observe")
    alarms = {a["AlarmName"].removeprefix(seen["outputs"]["state_machine_name"] + "-"): a for a in seen["alarms"]}
    assert alarms, "no alarm in moto"
    for name, alarm in alarms.items():
        description = alarm["AlarmDescription"]
        assert "module README, Runbook: " in description, (name, description)
        steps = [step for step in RUNBOOK if f"module README, Runbook: {step}" in description]
        assert steps, (name, description)
        assert len(description) <= 1024
    failed = alarms["failed"]
    queries = {q["Id"]: q for q in failed["Metrics"]}
    assert queries["faults"]["Expression"] == "failed - FILL(business, 0)" and queries["faults"]["ReturnData"]
    assert queries["failed"]["MetricStat"]["Metric"]["MetricName"] == "ExecutionsFailed"
    assert queries["business"]["MetricStat"]["Metric"]["MetricName"] == "BusinessFailures"
    assert queries["business"]["MetricStat"]["Metric"]["Namespace"] == f"sfngen/{seen['outputs']['state_machine_name']}"
    # The oldest-message alarm fires at half the shortest step timeout on the queue (10m), not at it.
    assert alarms["payments-oldest-message"]["Threshold"] == 300


def test_the_business_failure_filter_counts_the_declared_fail_and_not_a_fault(stacks):
    seen = stacks["dashboard"].result("observe")
    (business_filter,) = [f for f in seen["filters"] if f["metricTransformations"][0]["metricName"] == "BusinessFailures"]
    assert seen["business"]["event"]["executionFailedEventDetails"]["error"] == "Declined"
    assert seen["fault"]["event"]["executionFailedEventDetails"]["error"] == "Boom"
    business_line, fault_line = seen["stored"]
    assert matches(business_filter["filterPattern"], business_line)
    assert not matches(business_filter["filterPattern"], fault_line)


def test_turning_the_dashboard_off_deletes_it_and_nothing_else(stacks):
    off = stacks["dashboard"].result("off")
    assert off["code"] == 2
    changes = [(c["address"], c["change"]["actions"]) for c in off["plan"]["resource_changes"]
               if c["change"]["actions"] != ["no-op"]]
    assert changes == [(f"module.{KEY}.aws_cloudwatch_dashboard.this[0]", ["delete"])], changes
    assert not [d for d in off["dashboards"] if d.startswith("dash-e2e")]
    assert off["replan"] == 0


@pytest.mark.last
def test_the_stack_is_destroyed(stacks):
    result = stacks["dashboard"].destroy().result("destroy")
    assert result["state_list"] == []
    assert all(found == [] for found in result["leftovers"].values()), result["leftovers"]
