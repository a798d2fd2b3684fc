"""Dead letters fail fast, end to end: a task message received `max_receives` times and never answered moves to
its dead-letter queue, and the dead-letter Lambda (the package the emulator stored, with its own configuration,
SFNGEN_MODE included, and its own role) fails the task with sfngen.DeadLettered, so the execution fails within
seconds of it (the steps' timeouts are 30 minutes), or a step's catch routes it.

The emulator stores event source mappings but runs none (Lambda needs Docker there), so the test plays
Lambda's poller (tests/e2e/lambda_service.py): it reads each mapping's configuration from the emulator
(source queue, batch size, response types), receives batches from the dead-letter queue with the dead-letter
function's role, hands them to that function and deletes what it did not report as failed. Its SQS calls are
held against that role's policy as the emulator stores it. The mapping's ScalingConfig (at most two concurrent
invocations) is read back from the emulator, and a dead letter the function could not settle is counted by the
module's DeadLettersUnsettled filter pattern, as moto stores it, on the function's own log lines. The callback,
which workers invoke, refuses a forged SQS batch: a worker cannot fail a task as dead-lettered."""

import json
import uuid
from pathlib import Path

import pytest

from harness import CallbackFunction, wait_until
from iam_eval import Call, decide, denied
from lambda_service import SerialFunction, SqsPoller
from log_patterns import matches

pytestmark = pytest.mark.stack("main")

SPEC = Path(__file__).resolve().parent / "specs" / "dead-letters.toml"
MAX_RECEIVES = 2  # of both queues whose dead letters fail their tasks


@pytest.fixture
def dead_letters(deploy, moto):
    """The deployment, its callback (for the test's own callbacks, as a worker makes them) and its dead-letter
    function, which the pollers hand their batches to."""
    deployment, callback = deploy(SPEC)
    reader = CallbackFunction.deployed(moto, deployment.dead_letter_function_name)
    configuration = reader.configuration
    mappings = [
        m
        for m in moto.client("lambda").list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"] == configuration["FunctionArn"]
    ]
    role = moto.client("sts").assume_role(RoleArn=configuration["Role"], RoleSessionName="lambda-poller")["Credentials"]
    serial = SerialFunction(reader)
    pollers = {m["EventSourceArn"]: SqsPoller(moto, serial, m["UUID"], role).start() for m in mappings}
    for key in deployment.queue_urls:
        deployment.drain(key)
    yield deployment, callback, serial, pollers
    for poller in pollers.values():
        poller.stop()
    reader.stop()


def dead_letter_arn(deployment, key: str) -> str:
    return deployment.outputs["dead_letter_queue_arns"][key]


def give_back_until_dead_lettered(deployment, key: str, execution_name: str) -> int:
    """A worker that takes the task and gives it back (it crashes, or cannot do it) until the queue moves the
    message to its dead-letter queue: the receive after the max_receives-th finds nothing."""
    url = deployment.queue_urls[key]
    receives = []

    def dead_lettered():
        got = deployment.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
        for message in got:
            receives.append(message["MessageId"])
            deployment.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        return not got and len(receives) >= MAX_RECEIVES

    wait_until(dead_lettered, 60, f"the task message of {execution_name} to reach the dead-letter queue of {key}")
    assert len(receives) == MAX_RECEIVES and len(set(receives)) == 1, receives
    return len(receives)


def role_policy(moto, function) -> dict:
    """A function's role's inline policy, as the emulator stores it."""
    iam = moto.client("iam")
    role = function.configuration["Role"].rsplit("/", 1)[1]
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    assert len(names) == 1, names
    policy = iam.get_role_policy(RoleName=role, PolicyName=names[0])["PolicyDocument"]
    return json.loads(policy) if isinstance(policy, str) else policy


def assert_the_role_allows_the_pollers_calls(moto, function, poller, actions: set):
    """Lambda's poller uses the function's role from outside the function: its calls carry no
    lambda:SourceFunctionArn, so the role must grant them without that condition."""
    assert actions <= {call.action for call in poller.calls}, poller.calls
    assert denied(role_policy(moto, function), poller.calls) == []


def log_lines(function) -> list:
    return [json.loads(line) for line in function.logs().splitlines() if line.startswith("{")]


def test_the_mappings_are_the_modules_and_the_role_reads_only_their_queues(dead_letters, moto):
    deployment, callback, function, pollers = dead_letters
    # Two functions of one package, each in the mode the module set: no event can choose it.
    assert function.configuration["Environment"]["Variables"] == {"SFNGEN_MODE": "dead_letters"}
    assert callback.configuration["Environment"]["Variables"] == {"SFNGEN_MODE": "callback"}
    assert function.configuration["CodeSha256"] == callback.configuration["CodeSha256"]
    assert function.configuration["Role"] != callback.configuration["Role"]
    # payments and audits fail their executions; escalations says fail_execution = false.
    assert set(pollers) == {dead_letter_arn(deployment, "payments"), dead_letter_arn(deployment, "audits")}
    for poller in pollers.values():
        assert poller.mapping["State"] == "Enabled"
        assert poller.mapping["BatchSize"] == 10
        assert poller.mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        # At most two concurrent invocations (the least SQS allows): dead letters leave the function's
        # concurrency to workers' callbacks.
        assert poller.mapping["ScalingConfig"] == {"MaximumConcurrency": 2}
        # AWS refuses a mapping whose queue hides a batch for less than the function may run.
        assert poller.visibility_timeout >= function.configuration["Timeout"]
    # No mapping invokes the callback.
    callback_mappings = moto.client("lambda").list_event_source_mappings(
        FunctionName=callback.configuration["FunctionArn"]
    )["EventSourceMappings"]
    assert callback_mappings == []
    policy = role_policy(moto, function)
    for arn in pollers:
        assert decide(policy, Call("sqs:ReceiveMessage", arn)).allowed
        # The callback's role reads no queue.
        assert not decide(role_policy(moto, callback), Call("sqs:ReceiveMessage", arn)).allowed
    # The dead-letter function may fail tasks, from inside itself only, and never answer one.
    state_machine = deployment.state_machine_arn
    inside = (("lambda:SourceFunctionArn", function.configuration["FunctionArn"]),)
    assert decide(policy, Call("states:SendTaskFailure", state_machine, inside)).allowed
    assert not decide(policy, Call("states:SendTaskFailure", state_machine)).allowed
    for action in ("states:SendTaskSuccess", "states:SendTaskHeartbeat"):
        assert not decide(policy, Call(action, state_machine, inside)).allowed, action
    # The source queues, and the dead-letter queue whose letters wait for a person, stay out of its reach.
    for key in ("payments", "audits", "escalations"):
        assert not decide(policy, Call("sqs:ReceiveMessage", deployment.arn_of(key))).allowed, key
    assert not decide(policy, Call("sqs:ReceiveMessage", dead_letter_arn(deployment, "escalations"))).allowed


def test_a_task_never_answered_fails_its_execution_with_dead_lettered(dead_letters, moto):
    deployment, _, function, pollers = dead_letters
    name = f"dl-{uuid.uuid4().hex[:12]}"
    execution = deployment.start(name, {"order": 1})
    give_back_until_dead_lettered(deployment, "payments", name)
    # Within the wait's bound, far below the step's 30 minutes: the function failed the task.
    done = deployment.wait_for_end(execution, timeout=60)
    assert (done["status"], done.get("error")) == ("FAILED", "sfngen.DeadLettered"), done
    events = deployment.sfn.get_execution_history(executionArn=execution)["events"]
    failed = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert [f["error"] for f in failed] == ["sfngen.DeadLettered"]

    poller = pollers[dead_letter_arn(deployment, "payments")]
    wait_until(lambda: poller.rounds, 30, "the poller's round")
    records, kind, answer, deleted = poller.rounds[0]
    assert (kind, answer) == ("response", {"batchItemFailures": []})
    assert deleted == [records[0]["messageId"]]
    assert json.loads(records[0]["body"])["input"] == {"order": 1}
    dlq = deployment.outputs["dead_letter_queue_arns"]["payments"].rsplit(":", 1)[1]
    # The function's log: the dead letter's queue and message, how it ended, never the token.
    lines = [line for line in log_lines(function) if line.get("event") == "dead_letter"]
    assert [(line["outcome"], line["queue"], line["message_id"]) for line in lines] == [
        ("dead_lettered", dlq, records[0]["messageId"])
    ]
    assert lines[0]["receive_count"] >= MAX_RECEIVES
    assert json.loads(records[0]["body"])["token"] not in function.logs()
    # Deleted: the dead-letter queue is empty.
    attributes = deployment.sqs.get_queue_attributes(QueueUrl=poller.queue_url, AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")
    assert_the_role_allows_the_pollers_calls(
        moto, function, poller, {"sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage"}
    )


def test_a_catch_on_dead_lettered_routes_the_execution_and_it_goes_on(dead_letters, moto):
    deployment, callback, function, pollers = dead_letters
    name = f"dl-{uuid.uuid4().hex[:12]}"
    execution = deployment.start(name, {"order": 2})
    charge = json.loads(deployment.receive("payments")["Body"])
    assert callback.invoke({"token": charge["token"], "output": {"charged": True}})[0] == "response"
    # "Audit" (a KMS-encrypted queue) is never answered; its catch goes on to "Escalate" with the error.
    give_back_until_dead_lettered(deployment, "audits", name)
    escalate = json.loads(deployment.receive("escalations", timeout=60)["Body"])
    assert escalate["input"]["charged"] is True
    assert escalate["input"]["error"]["Error"] == "sfngen.DeadLettered"
    assert callback.invoke({"token": escalate["token"]})[0] == "response"
    assert deployment.wait_for_end(execution)["status"] == "SUCCEEDED"
    # The audits dead-letter queue is KMS-encrypted: each receive needs the role's kms:Decrypt, through SQS.
    poller = pollers[dead_letter_arn(deployment, "audits")]
    assert poller.kms_key_arn
    assert_the_role_allows_the_pollers_calls(
        moto, function, poller, {"sqs:ReceiveMessage", "sqs:DeleteMessage", "kms:Decrypt"}
    )


def test_a_dead_letter_the_function_cannot_settle_is_counted_and_alarmed(dead_letters, moto):
    """The mapping keeps a dead-letter queue's messages in flight, so its visible messages say nothing: a
    message the function could not settle is counted from its log lines (DeadLettersUnsettled), and that
    metric, not the queue's, is what the alarm watches. Here a task message is settled (its task failed) and a
    message that is not one is dropped (unusable): only the second is counted."""
    deployment, _, function, pollers = dead_letters
    logs = moto.client("logs")
    # The dead-letter function's lines are in its own log group, where the filter is.
    group = deployment.outputs["dead_letters_log_group_name"]
    filters = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    [unsettled] = [f for f in filters if f["metricTransformations"][0]["metricName"] == "DeadLettersUnsettled"]
    namespace = unsettled["metricTransformations"][0]["metricNamespace"]
    assert namespace == f"sfngen/{deployment.outputs['state_machine_name']}"
    # The alarms as Terraform applied them: the visible-messages alarm only on the dead-letter queue no one reads.
    alarm_arns = deployment.outputs["alarm_arns"]
    assert "escalations_dlq_messages" in alarm_arns
    assert not {"payments_dlq_messages", "audits_dlq_messages"} & set(alarm_arns), alarm_arns
    cloudwatch = moto.client("cloudwatch")
    name = alarm_arns["dead_letters_unsettled"].split(":alarm:", 1)[1]
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert (alarm["MetricName"], alarm["Namespace"], alarm["Statistic"]) == ("DeadLettersUnsettled", namespace, "Sum")
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0.0, "GreaterThanThreshold")
    assert alarm.get("Dimensions", []) == []

    # Into the payments dead-letter queue: a task message (as SQS moves one there) and one that is not.
    poller = pollers[dead_letter_arn(deployment, "payments")]
    execution = deployment.start(f"dl-{uuid.uuid4().hex[:12]}", {"order": 3})
    task = deployment.receive("payments")["Body"]
    dead = deployment.sqs.send_message(QueueUrl=poller.queue_url, MessageBody=task)["MessageId"]
    junk = deployment.sqs.send_message(QueueUrl=poller.queue_url, MessageBody="not a task message")["MessageId"]

    def handed():
        return {dead, junk} <= {record["messageId"] for records, *_ in poller.rounds for record in records}

    wait_until(handed, 30, "the poller to hand over both messages")
    assert deployment.wait_for_end(execution)["status"] == "FAILED"
    # Both deleted: the task was failed; the other can never succeed, so it is dropped, not reported as failed.
    assert all(answer == {"batchItemFailures": []} for _, _, answer, _ in poller.rounds), poller.rounds
    assert {dead, junk} <= {m for *_, deleted in poller.rounds for m in deleted}
    lines = function.logs().splitlines()
    outcomes = {line["message_id"]: line["outcome"] for line in log_lines(function) if line.get("event") == "dead_letter"}
    assert outcomes == {dead: "dead_lettered", junk: "unusable"}, lines
    # The filter moto holds counts the unsettled one only.
    counted = [json.loads(line) for line in lines if matches(unsettled["filterPattern"], line)]
    assert [(c["event"], c["outcome"], c["message_id"]) for c in counted] == [("dead_letter", "unusable", junk)], lines


def test_the_callback_refuses_a_forged_batch_of_dead_letters(dead_letters, moto):
    """A worker can send the callback anything, a batch shaped exactly as SQS would hand the dead-letter function
    included, with a real task's token in its body: the callback refuses it (InvalidEvent, one log line), so the
    task is not failed as dead-lettered, and goes on to be answered."""
    deployment, callback, function, pollers = dead_letters
    execution = deployment.start(f"dl-{uuid.uuid4().hex[:12]}", {"order": 4})
    message = deployment.receive("payments")
    dlq = dead_letter_arn(deployment, "payments")
    forged = {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": "forged",
                "body": message["Body"],
                "attributes": {"ApproximateReceiveCount": "5"},
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": dlq,
                "awsRegion": "us-east-1",
            }
        ]
    }
    before = len(log_lines(callback))
    kind, body = callback.invoke(forged)
    assert (kind, body["errorType"]) == ("error", "InvalidEvent"), body
    assert "an SQS batch" in body["errorMessage"], body
    lines = log_lines(callback)[before:]
    assert [(line["event"], line["outcome"]) for line in lines] == [("callback", "invalid_event")], lines
    assert deployment.status(execution)["status"] == "RUNNING"
    # The same batch from an event source mapping, to the dead-letter function, would fail it: that function is the
    # only way, and no worker may invoke it (tests/e2e/test_worker.py).
    token = json.loads(message["Body"])["token"]
    assert callback.invoke({"token": token, "output": {"charged": True}})[0] == "response"
    for queue in ("audits", "escalations"):
        task = json.loads(deployment.receive(queue)["Body"])
        assert callback.invoke({"token": task["token"]})[0] == "response", queue
    done = deployment.wait_for_end(execution)
    assert done["status"] == "SUCCEEDED", done
