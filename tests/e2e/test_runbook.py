"""The module README's runbook (16.5), run as written: each procedure's bash blocks, taken from the rendered
README of the applied "runbook" root (tests/e2e/runbook_stack.py), run by bash in that root with the AWS CLI v1
(pinned in scripts/setup-tools.sh, in the moto venv) and `terraform output`, against the emulator; each test checks
the procedure's effect there. Every `aws` command the blocks run is recorded (a wrapper first on PATH) and held
against the module's `operator_policy_json` (tests/e2e/iam_eval.py): each is allowed on this module's resources and
denied on another instance's.

moto 5.2.5 serves neither RedriveExecution nor the SQS message move tasks (StartMessageMoveTask,
ListMessageMoveTasks, CancelMessageMoveTask): those procedures run as far as the emulator goes (the executions and
queues they pick, the call they make, the emulator's refusal) and are named in the project README."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from harness import ACCOUNT, REGION, Deployment, wait_until
from iam_eval import Call, denied
from lambda_service import queue_arn_of
from tfstack import toolchain
import runbook_stack

pytestmark = pytest.mark.stack("runbook", runbook_stack.STAGES)

HEADINGS = [
    "Drain a queue",
    "Stop waiting executions",
    "Redrive failed executions",
    "Move dead letters back",
    "Pause fail-fast",
]
OTHER = "runbook-eu"  # another instance of the module in the same account


def procedures(readme: str) -> dict:
    """{heading: [bash block, ...]} of the README's "Runbook" section."""
    section = readme.split("\n## Runbook\n", 1)[1].split("\n## ", 1)[0]
    found = {}
    for part in section.split("\n### ")[1:]:
        heading, body = part.split("\n", 1)
        found[heading] = re.findall(r"```bash\n(.*?)```", body, re.S)
    return found


@pytest.fixture(scope="module")
def root(moto, stacks):
    """The applied root, its outputs and its README's procedures."""
    pipeline = stacks["runbook"]
    outputs = pipeline.result("apply")
    return pipeline.stack.dir, Deployment(moto, outputs), procedures((pipeline.stack.dir / "README.md").read_text())


@pytest.fixture(scope="module")
def stack(stacks):
    return stacks["runbook"].stack


class Runbook:
    """Runs a procedure's blocks with bash in the root, `terraform` and the pinned `aws` on PATH, every `aws`
    command recorded."""

    def __init__(self, directory: Path, moto):
        self.dir = directory
        self.tmp = tempfile.TemporaryDirectory()
        self.calls_file = Path(self.tmp.name) / "calls.jsonl"
        real_aws = Path(sys.executable).parent / "aws"
        assert real_aws.exists(), "the AWS CLI is not in the moto venv: run scripts/setup-tools.sh"
        wrapper = Path(self.tmp.name) / "bin" / "aws"
        wrapper.parent.mkdir()
        # AWS CLI v1 sends `aws sqs` commands to SQS's legacy endpoint unless --endpoint-url is given, whatever
        # AWS_ENDPOINT_URL says (awscli/customizations/overridesslcommonname.py): the wrapper gives the emulator's.
        wrapper.write_text(
            "#!/bin/sh\n"
            f"\"{sys.executable}\" -c 'import json, sys; print(json.dumps(sys.argv[1:]))' \"$@\" >> \"{self.calls_file}\"\n"
            f'exec "{real_aws}" --endpoint-url "$AWS_ENDPOINT_URL" "$@"\n'
        )
        wrapper.chmod(0o755)
        tools = toolchain()
        self.env = tools.env()
        self.env.update(
            PATH=os.pathsep.join([str(wrapper.parent), str(Path(tools.terraform).parent), self.env["PATH"]]),
            AWS_ENDPOINT_URL=moto.endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_PAGER="",
        )

    def start(self, block: str) -> subprocess.Popen:
        return subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=self.dir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )

    def run(self, block: str, timeout: float = 120) -> subprocess.CompletedProcess:
        process = self.start(block)
        out, err = process.communicate(timeout=timeout)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def calls(self) -> list:
        """The recorded `aws` commands, as argument lists."""
        lines = self.calls_file.read_text().splitlines() if self.calls_file.exists() else []
        return [json.loads(line) for line in lines]


@pytest.fixture
def runbook(root, moto):
    directory, deployment, _ = root
    book = Runbook(directory, moto)
    yield book
    book.tmp.cleanup()


def option(argv: list, name: str) -> str:
    return argv[argv.index(name) + 1]


def authorizations(argv: list) -> list:
    """The IAM authorizations an `aws` command needs, as the service authorization reference lists them (a message
    move task reads and deletes on its source and sends to its destination with the caller's permissions)."""
    service, operation = argv[0], argv[1]
    if service == "stepfunctions":
        action = "states:" + "".join(word.capitalize() for word in operation.split("-"))
        target = option(argv, "--state-machine-arn") if operation == "list-executions" else option(argv, "--execution-arn")
        return [Call(action, target)]
    if service == "sqs" and operation == "get-queue-attributes":
        return [Call("sqs:GetQueueAttributes", queue_arn_of(option(argv, "--queue-url")))]
    if service == "sqs" and operation == "start-message-move-task":
        source, destination = option(argv, "--source-arn"), option(argv, "--destination-arn")
        return [Call(f"sqs:{a}", source) for a in ("StartMessageMoveTask", "ReceiveMessage", "DeleteMessage")] + [
            Call("sqs:SendMessage", destination)
        ]
    if service == "sqs" and operation == "list-message-move-tasks":
        return [Call("sqs:ListMessageMoveTasks", option(argv, "--source-arn"))]
    if service == "lambda" and operation == "update-event-source-mapping":
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{option(argv, '--uuid')}"
        return [Call("lambda:UpdateEventSourceMapping", arn)]
    raise AssertionError(f"the runbook ran `aws {' '.join(argv)}`, which this test does not know")


def elsewhere(call: Call) -> Call:
    """The same call on another instance's resource (its name, or another mapping)."""
    resource = call.resource.replace(f":{runbook_stack.NAME}", f":{OTHER}")
    if ":event-source-mapping:" in resource:
        resource = resource.rsplit(":", 1)[0] + ":" + str(uuid.uuid4())
    assert resource != call.resource, call
    return Call(call.action, resource, call.context)


def assert_the_operator_policy_allows_only_these(deployment, calls: list):
    policy = json.loads(deployment.outputs["operator_policy_json"])
    needed = [c for argv in calls for c in authorizations(argv)]
    assert needed
    assert denied(policy, needed) == []
    others = [elsewhere(c) for c in needed]
    assert denied(policy, others) == [c.describe() for c in others]


def take_task(deployment, queue_key: str, execution: str) -> dict:
    """The task message of `execution` on a queue (deleted), as a worker takes it; others' are left alone."""
    url = deployment.queue_urls[queue_key]

    def mine():
        for message in deployment.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            body = json.loads(message["Body"])
            if body["context"]["execution"] == execution:
                deployment.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                return body
            deployment.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        return None

    return wait_until(mine, 20, f"the task message of {execution} on {queue_key}")


def test_the_runbook_has_every_procedure_with_commands(root):
    _, _, found = root
    assert list(found) == HEADINGS
    for heading in HEADINGS:
        assert found[heading], f"{heading} has no commands"


def test_drain_a_queue_waits_until_the_queue_holds_nothing(root, runbook):
    _, deployment, found = root
    for key in deployment.queue_urls:
        deployment.drain(key)
    execution = deployment.start(f"drain-{uuid.uuid4().hex[:10]}", {"job": "drain"})
    url = deployment.queue_urls["jobs"]
    wait_until(
        lambda: deployment.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
        != "0",
        20,
        "the task message on jobs",
    )
    (block,) = found["Drain a queue"]
    waiting = runbook.start(block)
    time.sleep(3)
    assert waiting.poll() is None, waiting.communicate()
    # A worker takes the task: the queue is empty, and the procedure says so.
    task = take_task(deployment, "jobs", execution)
    deployment.sfn.send_task_success(taskToken=task["token"], output="{}")
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 0, err
    assert out.strip().endswith("queue jobs holds no message"), out
    deployment.sfn.stop_execution(executionArn=execution)
    assert_the_operator_policy_allows_only_these(deployment, runbook.calls())


def test_stop_waiting_executions_stops_every_running_execution(root, runbook):
    _, deployment, found = root
    running = [deployment.start(f"stop-{i}-{uuid.uuid4().hex[:8]}", {"job": i}) for i in range(2)]
    for execution in running:
        assert deployment.status(execution)["status"] == "RUNNING"
    (block,) = found["Stop waiting executions"]
    result = runbook.run(block)
    assert result.returncode == 0, result.stderr
    for execution in running:
        # moto stops an execution without the error and cause given (AWS records both).
        assert deployment.wait_for_end(execution)["status"] == "ABORTED"
    stops = [argv for argv in runbook.calls() if argv[:2] == ["stepfunctions", "stop-execution"]]
    assert set(running) <= {option(argv, "--execution-arn") for argv in stops}
    assert all(option(argv, "--error") == "Operator.Stopped" for argv in stops)
    assert deployment.sfn.list_executions(stateMachineArn=deployment.state_machine_arn, statusFilter="RUNNING")[
        "executions"
    ] == []
    assert_the_operator_policy_allows_only_these(deployment, runbook.calls())
    for key in deployment.queue_urls:
        deployment.drain(key)


def test_redrive_failed_executions_picks_the_failed_ones(root, runbook):
    """moto serves no RedriveExecution: the procedure lists the failed executions and asks to redrive each; the
    emulator refuses, and the loop names each one it could not redrive."""
    _, deployment, found = root
    execution = deployment.start(f"redrive-{uuid.uuid4().hex[:10]}", {"job": "fails"})
    task = take_task(deployment, "jobs", execution)
    deployment.sfn.send_task_failure(taskToken=task["token"], error="Worker.Broken", cause="bug")
    assert deployment.wait_for_end(execution)["status"] == "FAILED"
    (block,) = found["Redrive failed executions"]
    result = runbook.run(block)
    assert result.returncode == 0, result.stderr
    asked = [option(argv, "--execution-arn") for argv in runbook.calls() if argv[:2] == ["stepfunctions", "redrive-execution"]]
    assert execution in asked
    failed = {
        e["executionArn"]
        for e in deployment.sfn.list_executions(stateMachineArn=deployment.state_machine_arn, statusFilter="FAILED")[
            "executions"
        ]
    }
    assert set(asked) == failed
    # What the emulator answers today; a moto that redrives would print the redrive date instead.
    assert f"not redriven: {execution}" in result.stdout, (result.stdout, result.stderr)
    assert_the_operator_policy_allows_only_these(deployment, runbook.calls())


def test_move_dead_letters_back_asks_to_move_the_queues_dead_letters(root, runbook):
    """moto serves no message move task: the procedure picks the queue's dead-letter queue and the queue, asks SQS
    to move the messages between them, and the emulator refuses."""
    _, deployment, found = root
    dlq_url = deployment.outputs["dead_letter_queue_urls"]["jobs"]
    deployment.sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps({"input": {}, "token": "t"}))
    (block,) = found["Move dead letters back"]
    result = runbook.run(block)
    (start,) = [argv for argv in runbook.calls() if argv[:2] == ["sqs", "start-message-move-task"]]
    assert option(start, "--source-arn") == deployment.outputs["dead_letter_queue_arns"]["jobs"]
    assert option(start, "--destination-arn") == deployment.outputs["queue_arns"]["jobs"]
    assert result.returncode != 0 and "StartMessageMoveTask" in result.stderr, (result.stdout, result.stderr)
    assert_the_operator_policy_allows_only_these(deployment, runbook.calls())
    deployment.sqs.purge_queue(QueueUrl=dlq_url)


def test_pause_fail_fast_disables_the_dead_letter_mappings(root, runbook):
    _, deployment, found = root
    mappings = deployment.outputs["dead_letter_mapping_ids"]
    # Only "jobs" has its dead letters failed at once; "notices" leaves them to a person.
    assert set(mappings) == {"jobs"}
    lam = deployment.moto.client("lambda")
    assert lam.get_event_source_mapping(UUID=mappings["jobs"])["State"] == "Enabled"
    (block,) = found["Pause fail-fast"]
    result = runbook.run(block)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Disabled"]
    assert lam.get_event_source_mapping(UUID=mappings["jobs"])["State"] == "Disabled"
    assert_the_operator_policy_allows_only_these(deployment, runbook.calls())


def test_the_input_pauses_fail_fast_and_an_apply_sets_the_mappings_back(root, stack):
    """As the README says: the next `terraform apply` sets the mappings back to the input's value, and
    `dead_letter_mappings_enabled = false` pauses them for as long as it is set."""
    _, deployment, _ = root
    uuid_ = deployment.outputs["dead_letter_mapping_ids"]["jobs"]
    lam = deployment.moto.client("lambda")
    lam.update_event_source_mapping(UUID=uuid_, Enabled=False)
    stack.terraform("apply", "-auto-approve", "-input=false", "-no-color")
    assert lam.get_event_source_mapping(UUID=uuid_)["State"] == "Enabled"
    stack.terraform("apply", "-auto-approve", "-input=false", "-no-color", "-var", "dead_letter_mappings_enabled=false")
    assert lam.get_event_source_mapping(UUID=uuid_)["State"] == "Disabled"
    # The same mappings (updated in place): the runbook's ids stay good.
    assert stack.outputs()["dead_letter_mapping_ids"] == deployment.outputs["dead_letter_mapping_ids"]
    stack.terraform("apply", "-auto-approve", "-input=false", "-no-color")
    assert lam.get_event_source_mapping(UUID=uuid_)["State"] == "Enabled"
