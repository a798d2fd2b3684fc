"""Queue hygiene, encrypted executions and spent task tokens, as Terraform applied them on the emulator: what
the emulator holds after the apply (queue policies and attributes, the state machine's encryption, the key
policy, the metric filter), and the shipped callback's log line for a spent token read by the module's own
metric filter pattern.

The emulator evaluates no queue policy: every request here is plain HTTP, and SQS answers it. So a request
without TLS being refused cannot be shown on it; what is shown is that each queue holds the policy that makes
AWS refuse one."""

import json
import uuid

import pytest

from harness import ROOT
from log_patterns import matches

pytestmark = pytest.mark.stack("main")

EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def full(deployments):
    return deployments(EXAMPLES / "full" / "sfngen.toml")


@pytest.fixture(scope="module")
def plain(deployments):
    return deployments(EXAMPLES / "seed" / "sfngen.toml")


def every_queue(deployment) -> dict:
    """{queue key or KEY_dlq: URL}: each queue the module created, dead-letter queues included."""
    urls = dict(deployment.queue_urls)
    for key, arn in deployment.outputs["dead_letter_queue_arns"].items():
        urls[f"{key}_dlq"] = deployment.sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"]
    return urls


@pytest.mark.parametrize("example", ["plain", "full"])
def test_every_queue_holds_the_policy_that_refuses_requests_without_tls(request, example):
    deployment = request.getfixturevalue(example)
    urls = every_queue(deployment)
    assert len(urls) == 2 * len(deployment.queue_urls), urls
    for key, url in urls.items():
        attributes = deployment.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy", "QueueArn"])
        policy = json.loads(attributes["Attributes"]["Policy"])
        assert policy["Statement"] == [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": attributes["Attributes"]["QueueArn"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }], key


def test_workers_long_poll(plain, full):
    for deployment in (plain, full):
        for key, url in deployment.queue_urls.items():
            attributes = deployment.sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ReceiveMessageWaitTimeSeconds"]
            )["Attributes"]
            assert attributes["ReceiveMessageWaitTimeSeconds"] == "20", key


def test_executions_are_encrypted_with_the_key_the_spec_names(plain, full):
    described = plain.sfn.describe_state_machine(stateMachineArn=plain.state_machine_arn)
    assert described["encryptionConfiguration"] == {"type": "AWS_OWNED_KEY"}
    described = full.sfn.describe_state_machine(stateMachineArn=full.state_machine_arn)
    assert described["encryptionConfiguration"] == {
        "type": "CUSTOMER_MANAGED_KMS_KEY",
        "kmsKeyId": full.outputs["kms_key_arn"],
        "kmsDataKeyReusePeriodSeconds": 300,
    }


def test_the_key_policy_the_emulator_holds_grants_each_role_for_its_own_use(full, moto):
    kms, iam = moto.client("kms"), moto.client("iam")
    key = full.outputs["kms_key_arn"]
    statements = {s["Sid"]: s for s in json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])["Statement"]}
    machine_role = full.outputs["state_machine_role_arn"]
    callback_role = full.outputs["callback_role_arn"]
    assert iam.get_role(RoleName=machine_role.rsplit("/", 1)[1])["Role"]["Arn"] == machine_role
    state_machine_arn = full.state_machine_arn
    assert statements["EncryptExecutionData"]["Principal"] == {"AWS": machine_role}
    assert statements["EncryptExecutionData"]["Condition"] == {
        "StringEquals": {"kms:EncryptionContext:aws:states:stateMachineArn": state_machine_arn}
    }
    # Each function's role, through Step Functions, for this state machine's data only: the callback answers
    # tasks, the dead-letter function fails them (and reads its KMS-encrypted dead-letter queue through SQS).
    dead_letters_role = full.outputs["dead_letters_role_arn"]
    for sid, role in (("EncryptTaskAnswers", callback_role), ("EncryptTaskFailures", dead_letters_role)):
        assert statements[sid]["Principal"] == {"AWS": role}, sid
        assert statements[sid]["Condition"] == {"StringEquals": {
            "kms:EncryptionContext:aws:states:stateMachineArn": state_machine_arn,
            "kms:ViaService": "states.us-east-1.amazonaws.com",
        }}, sid
    assert statements["DecryptDeadLetters"]["Principal"] == {"AWS": dead_letters_role}
    assert statements["DecryptDeadLetters"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}
    }
    assert statements["EncryptQueueMessages"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}
    }
    # The full example logs at level ALL: CloudWatch Logs' log delivery may decrypt what Step Functions encrypts.
    assert statements["LogDeliveryDecryptsExecutionLogs"]["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert statements["CloudWatchLogsEncryptLogGroups"]["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}


def test_the_log_pattern_matcher_can_fail():
    line = json.dumps({"event": "dead_letter", "outcome": "failed"})
    assert matches('{ $.outcome = "failed" }', line)
    assert not matches('{ $.outcome = "unusable" }', line)
    assert matches('{ ($.event = "dead_letter") && (($.outcome = "x") || ($.outcome = "failed")) }', line)
    assert not matches('{ ($.event = "callback") && (($.outcome = "x") || ($.outcome = "failed")) }', line)
    assert matches('{ ($.event = "y") || ($.outcome = "failed") }', line)
    assert not matches('{ $.outcome = "failed" }', "not json")


def test_a_spent_token_is_counted_by_the_modules_metric_filter(seed, moto):
    deployment, function = seed
    logs = moto.client("logs")
    group = deployment.outputs["callback_log_group_name"]
    filters = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    [spent] = [f for f in filters if f["metricTransformations"][0]["metricName"] == "SpentTokens"]
    assert spent["metricTransformations"][0]["metricName"] == "SpentTokens"
    assert spent["metricTransformations"][0]["metricNamespace"] == f"sfngen/{deployment.outputs['state_machine_name']}"
    # A late callback: the task is answered, then answered again with the same token.
    execution = deployment.start(f"test-{uuid.uuid4().hex[:12]}", {})
    token = json.loads(deployment.receive("main")["Body"])["token"]
    assert function.invoke({"token": token})[0] == "response"
    assert deployment.wait_for_end(execution)["status"] == "SUCCEEDED"
    kind, body = function.invoke({"token": token})
    assert (kind, body["outcome"]) == ("response", "token_spent"), body
    # The shipped function's own log lines: the filter counts the spent token once, and nothing else.
    lines = function.logs().splitlines()
    counted = [line for line in lines if matches(spent["filterPattern"], line)]
    assert len(counted) == 1, lines
    assert json.loads(counted[0])["token_id"] == body["token_id"]
