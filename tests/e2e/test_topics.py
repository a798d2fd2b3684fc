"""SNS topics end to end: steps that publish their task (`sns:publish.waitForTaskToken`) through the real Terraform
cycle on the emulator. The test's root plays the subscribers: an SQS queue the spec subscribes (`subscriptions`), and
a FIFO queue the caller subscribes to the module's `topic_arns` output with its own `aws_sns_topic_subscription`. A
worker reads each subscriber queue, gets the task message as the state machine published it (raw message delivery),
and answers through the module's real callback Lambda; the execution SUCCEEDS. The topic's dead-letter queue is read
by the dead-letter Lambda, which fails the task of a notification SNS could not deliver (SNS's envelope of it, as a
subscription without raw delivery dead-letters it). Then an empty re-plan and a clean destroy.

The emulator runs no delivery retries and no redrive (moto 5.2.5 delivers to SQS at once, or not at all), so the dead
letter is put on the dead-letter queue by the test, in the shape AWS documents for it."""

import json
import uuid
from pathlib import Path

import pytest

from harness import CallbackFunction, module_key, render, wait_until
from iam_eval import Call, decide
from lambda_service import SerialFunction, SqsPoller
from tfstack import lifecycle

SPEC = Path(__file__).resolve().parent / "topics" / "sfngen.toml"
KEY = module_key(SPEC)  # "topics"
DECLARED_SUBSCRIBER = "e2e-topics-subscriber"
CALLER_SUBSCRIBER = "e2e-topics-caller.fifo"

# The caller's side: the declared subscriber queue (its ARN is in the spec), and a FIFO queue the caller subscribes
# to the FIFO topic from the module's outputs, as the module README shows.
ROOT = f"""
# The subscriber queue the spec's [topics.alerts] subscriptions names by ARN.
resource "aws_sqs_queue" "declared_subscriber" {{
  name                    = "{DECLARED_SUBSCRIBER}"
  sqs_managed_sse_enabled = true
}}

# A subscriber the caller adds from the module's outputs.
resource "aws_sqs_queue" "caller_subscriber" {{
  name                        = "{CALLER_SUBSCRIBER}"
  fifo_queue                  = true
  content_based_deduplication = true
  sqs_managed_sse_enabled     = true
}}

resource "aws_sns_topic_subscription" "caller" {{
  topic_arn            = module.{KEY}.topic_arns["secure"]
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.caller_subscriber.arn
  raw_message_delivery = true
}}
"""


def prepare(stack):
    stack.add_module(KEY, SPEC, render)
    stack.write_root()
    (stack.dir / "subscribers.tf").write_text(ROOT)


pytestmark = pytest.mark.stack("topics", lifecycle(prepare))


@pytest.fixture(scope="module")
def deployed(stacks):
    return stacks["topics"].result("apply")[KEY]


def queue_url(moto, name: str) -> str:
    return moto.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def receive(moto, name: str, timeout: float = 15) -> dict:
    sqs = moto.client("sqs")
    url = queue_url(moto, name)

    def one():
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
        return got[0] if got else None

    message = wait_until(one, timeout, f"a message on {name}")
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return message


def start(moto, deployed, payload: dict) -> str:
    return moto.client("stepfunctions").start_execution(
        stateMachineArn=deployed["state_machine_arn"], name=f"t-{uuid.uuid4().hex[:12]}", input=json.dumps(payload)
    )["executionArn"]


def wait_for_end(moto, execution: str, timeout: float = 30) -> dict:
    sfn = moto.client("stepfunctions")

    def ended():
        d = sfn.describe_execution(executionArn=execution)
        return d if d["status"] != "RUNNING" else None

    return wait_until(ended, timeout, f"execution {execution} to end")


@pytest.fixture
def callback(moto, deployed):
    function = CallbackFunction.deployed(moto, deployed["callback_function_name"])
    yield function
    function.stop()


def test_the_topics_are_the_modules_encrypted_tls_only_and_the_outputs_name_them(moto, deployed):
    sns = moto.client("sns")
    arns = deployed["topic_arns"]
    assert set(arns) == {"alerts", "secure"}
    assert deployed["topic_names"] == {"alerts": "e2e-topics-alerts", "secure": "e2e-topics-secure.fifo"}
    alerts = sns.get_topic_attributes(TopicArn=arns["alerts"])["Attributes"]
    secure = sns.get_topic_attributes(TopicArn=arns["secure"])["Attributes"]
    # SNS's AWS managed key by default; the module's key for "secure", which is FIFO with content-based dedup.
    assert alerts["KmsMasterKeyId"] == "alias/aws/sns"
    assert secure["KmsMasterKeyId"] == deployed["kms_key_arn"]
    assert (secure["FifoTopic"], secure["ContentBasedDeduplication"]) == ("true", "true")
    for attributes in (alerts, secure):
        statements = json.loads(attributes["Policy"])["Statement"]
        deny = [s for s in statements if s["Effect"] == "Deny"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, statements
    # The declared subscription delivers raw messages and names the topic's dead-letter queue.
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=arns["alerts"])["Subscriptions"]
    declared = [s for s in subscriptions if s["Endpoint"].endswith(f":{DECLARED_SUBSCRIBER}")]
    assert len(declared) == 1, subscriptions
    attributes = sns.get_subscription_attributes(SubscriptionArn=declared[0]["SubscriptionArn"])["Attributes"]
    assert str(attributes["RawMessageDelivery"]).lower() == "true"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive == {"deadLetterTargetArn": deployed["topic_dead_letter_queue_arns"]["alerts"]}


def test_the_state_machine_role_publishes_to_its_topics_only(moto, deployed):
    iam = moto.client("iam")
    role = deployed["state_machine_role_arn"].rsplit("/", 1)[1]
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    policy = iam.get_role_policy(RoleName=role, PolicyName=names[0])["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    for arn in deployed["topic_arns"].values():
        assert decide(policy, Call("sns:Publish", arn)).allowed, arn
    other = deployed["topic_arns"]["alerts"].replace("e2e-topics-alerts", "someone-elses")
    assert not decide(policy, Call("sns:Publish", other)).allowed
    # The module's key, for the encrypted topic: through SNS only.
    via_sns = (("kms:ViaService", "sns.us-east-1.amazonaws.com"),)
    assert decide(policy, Call("kms:GenerateDataKey", deployed["kms_key_arn"], via_sns)).allowed
    assert not decide(policy, Call("kms:GenerateDataKey", deployed["kms_key_arn"])).allowed


def test_subscribers_answer_through_the_callback_and_the_execution_succeeds(moto, deployed, callback):
    execution = start(moto, deployed, {"order": 7})
    # "Notify": the declared subscriber gets the task message as the state machine published it.
    body = json.loads(receive(moto, DECLARED_SUBSCRIBER)["Body"])
    assert set(body) == {"input", "token", "context"}, body
    assert body["input"] == {"order": 7}
    assert body["context"]["execution"] == execution
    assert body["context"]["state"] == "Notify"
    kind, answer = callback.invoke({"token": body["token"], "output": {"order": 7, "notified": True}})
    assert kind == "response" and answer["outcome"] == "answered", answer
    # "Review": the FIFO topic, through the caller's own subscription from the outputs.
    message = receive(moto, CALLER_SUBSCRIBER)
    review = json.loads(message["Body"])
    assert review["input"] == {"order": 7, "notified": True}
    assert review["context"]["state"] == "Review"
    assert callback.invoke({"token": review["token"], "output": {"approved": True}})[0] == "response"
    done = wait_for_end(moto, execution)
    assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", {"approved": True}), done


def test_a_notification_sns_could_not_deliver_fails_its_task_at_once(moto, deployed, callback):
    """What SNS dead-letters for a subscription without raw delivery: its envelope, whose Message is the task
    message. The mapping on the topic's dead-letter queue hands it to the dead-letter Lambda, which fails the
    task with sfngen.DeadLettered: the execution fails within seconds, not at the step's 30-minute timeout."""
    reader = CallbackFunction.deployed(moto, deployed["dead_letters_function_name"])
    try:
        mappings = moto.client("lambda").list_event_source_mappings(
            FunctionName=reader.configuration["FunctionArn"]
        )["EventSourceMappings"]
        dlq_arn = deployed["topic_dead_letter_queue_arns"]["alerts"]
        mapping = next(m for m in mappings if m["EventSourceArn"] == dlq_arn)
        role = moto.client("sts").assume_role(RoleArn=reader.configuration["Role"], RoleSessionName="poller")
        poller = SqsPoller(moto, SerialFunction(reader), mapping["UUID"], role["Credentials"])
        execution = start(moto, deployed, {"order": 8})
        task = receive(moto, DECLARED_SUBSCRIBER)["Body"]
        envelope = {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": deployed["topic_arns"]["alerts"],
            "Message": task,
            "Timestamp": "2026-12-03T10:00:00.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        }
        moto.client("sqs").send_message(
            QueueUrl=deployed["topic_dead_letter_queue_urls"]["alerts"], MessageBody=json.dumps(envelope)
        )
        poller.start()
        try:
            done = wait_for_end(moto, execution, timeout=60)
        finally:
            poller.stop()
        assert (done["status"], done.get("error")) == ("FAILED", "sfngen.DeadLettered"), done
        # The function read SNS's envelope, failed the task, and logged it (moto drops SendTaskFailure's cause).
        lines = [json.loads(line) for line in reader.logs().splitlines() if line.startswith("{")]
        settled = [(line["outcome"], line["queue"]) for line in lines if line.get("event") == "dead_letter"]
        assert settled == [("dead_lettered", "e2e-topics-alerts-topic-dlq")], reader.logs()
        assert json.loads(task)["token"] not in reader.logs()
        # The poller's calls (made with the function's role) are what the role allows.
        assert {call.action for call in poller.calls} >= {"sqs:ReceiveMessage", "sqs:DeleteMessage"}, poller.calls
        assert_role_allows(moto, reader, poller)
    finally:
        reader.stop()


def assert_role_allows(moto, reader, poller):
    """Every call Lambda's poller made with the dead-letter function's role is one its policy allows (moto
    enforces no IAM: tests/e2e/iam_eval.py decides)."""
    iam = moto.client("iam")
    role = reader.configuration["Role"].rsplit("/", 1)[1]
    name = iam.list_role_policies(RoleName=role)["PolicyNames"][0]
    policy = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    refused = [call for call in poller.calls if not decide(policy, call).allowed]
    assert refused == [], refused


def test_the_applied_topics_plan_no_change(stacks):
    code, plan = stacks["topics"].result("drift")
    assert code == 0, json.dumps(plan, indent=1)[:4000] if plan else code


@pytest.mark.last
def test_destroy_leaves_nothing(stacks):
    done = stacks["topics"].destroy().result("destroy")
    assert done["state_list"] == [], done["state_list"]
    assert all(not left for left in done["leftovers"].values()), done["leftovers"]
