"""The ARNs the module's policies build from names are the ARNs AWS gave the resources.

The policy documents name the module's own queues, state machine, functions, log groups and roles by ARNs built
from their names and the partition, region and account, not by references: a plan that changes one of those
resources would otherwise read every document naming it again at apply time and show the policy as "(known
after apply)" (tests/e2e/test_changes.py holds the plans to that). Only the apply can prove the construction
right: for every module of the main stack, each ARN the role policies, the trust policy, the worker policies,
the operator policy and the key policy hold on the emulator is the ARN the emulator reports for that resource."""

import json
from pathlib import Path

import pytest

from harness import ROOT, module_key

pytestmark = pytest.mark.stack("main")

# The main stack's modules (conftest.main_specs).
SPECS = [
    ROOT / "examples" / "seed" / "sfngen.toml",
    ROOT / "examples" / "full" / "sfngen.toml",
    ROOT / "examples" / "channels" / "sfngen.toml",
    *sorted((Path(__file__).resolve().parent / "specs").glob("*.toml")),
]


def listed(value) -> list:
    return value if isinstance(value, list) else [value]


def document(value) -> dict:
    """A policy document as IAM or an output gives it: JSON text, or already decoded (boto3 decodes IAM's)."""
    return json.loads(value) if isinstance(value, str) else value


def by_sid(policy: dict) -> dict:
    return {s["Sid"]: s for s in policy["Statement"]}


class Real:
    """The ARNs of a module's resources as the emulator reports them (found by the names and URLs in the
    module's outputs)."""

    def __init__(self, moto, outputs: dict):
        sqs, lam, logs, iam, sfn = (moto.client(s) for s in ("sqs", "lambda", "logs", "iam", "stepfunctions"))

        def queue_arn(url: str) -> str:
            return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        self.queues = {key: queue_arn(url) for key, url in outputs["queue_urls"].items()}
        self.dead_letter_queues = {
            key: queue_arn(sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"])
            for key, arn in outputs["dead_letter_queue_arns"].items()
        }
        # The SNS topics and their dead-letter queues, when the module has topics.
        sns = moto.client("sns")
        self.topics = {
            key: sns.get_topic_attributes(TopicArn=arn)["Attributes"]["TopicArn"]
            for key, arn in outputs.get("topic_arns", {}).items()
        }
        self.topic_dead_letter_queues = {
            key: queue_arn(url) for key, url in outputs.get("topic_dead_letter_queue_urls", {}).items()
        }
        # The EventBridge buses (the default one too: the state machine puts events on it) and the dead-letter queues
        # of their rules' targets, when the module has buses.
        events = moto.client("events")
        self.buses = {
            key: events.describe_event_bus(Name=name)["Arn"] for key, name in outputs.get("bus_names", {}).items()
        }
        self.bus_dead_letter_queues = {
            key: queue_arn(url) for key, url in outputs.get("bus_dead_letter_queue_urls", {}).items()
        }
        self.state_machine = sfn.describe_state_machine(stateMachineArn=outputs["state_machine_arn"])["stateMachineArn"]
        # The callback, and the dead-letter function when the module has one (each with its own role and logs).
        self.function_keys = [k for k in ("callback", "dead_letters") if f"{k}_function_name" in outputs]
        self.functions, self.log_groups, self.log_streams = {}, {}, {}
        for key in self.function_keys:
            name = outputs[f"{key}_function_name"]
            self.functions[key] = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
            group_name = outputs[f"{key}_log_group_name"]
            [group] = [
                g for g in logs.describe_log_groups(logGroupNamePrefix=group_name)["logGroups"]
                if g["logGroupName"] == group_name
            ]
            self.log_groups[key] = group["logGroupArn"]
            # DescribeLogGroups' `arn`: the group's ARN followed by `:*`, which names its log streams.
            self.log_streams[key] = group["arn"]
        self.function = self.functions["callback"]
        self.roles = {
            which: iam.get_role(RoleName=outputs[f"{which}_role_arn"].rsplit("/", 1)[1])["Role"]
            for which in ("state_machine", *self.function_keys)
        }
        # The dead-letter queues each function's event source mappings read.
        self.mapped = {
            key: sorted(
                m["EventSourceArn"] for m in lam.list_event_source_mappings(FunctionName=arn)["EventSourceMappings"]
            )
            for key, arn in self.functions.items()
        }
        # The dead-letter function's event source mappings on the queues' dead-letter queues, by their ARNs (the
        # runbook's "Pause fail-fast" names these), on the topics' (PauseTopicFailFast) and on the buses'
        # (PauseBusFailFast).
        every = [
            m
            for arn in self.functions.values()
            for m in lam.list_event_source_mappings(FunctionName=arn)["EventSourceMappings"]
        ]
        others = {*self.topic_dead_letter_queues.values(), *self.bus_dead_letter_queues.values()}
        self.mappings = sorted(m["EventSourceMappingArn"] for m in every if m["EventSourceArn"] not in others)
        self.bus_mappings = sorted(
            m["EventSourceMappingArn"] for m in every if m["EventSourceArn"] in self.bus_dead_letter_queues.values()
        )
        self.topic_mappings = sorted(
            m["EventSourceMappingArn"] for m in every if m["EventSourceArn"] in self.topic_dead_letter_queues.values()
        )
        self.iam = iam

    def role_policy(self, which: str) -> dict:
        """The role's one inline policy, as the emulator holds it."""
        name = self.roles[which]["RoleName"]
        [policy] = self.iam.list_role_policies(RoleName=name)["PolicyNames"]
        return document(self.iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"])

    def own(self) -> set:
        """Every ARN of the module's own resources that a policy may name as a resource."""
        return {
            *self.queues.values(),
            *self.dead_letter_queues.values(),
            self.state_machine,
            *self.functions.values(),
            *self.log_streams.values(),
            *self.topics.values(),
            *self.topic_dead_letter_queues.values(),
            *self.buses.values(),
            *self.bus_dead_letter_queues.values(),
        }


def resources(policy: dict) -> list:
    return [arn for s in policy["Statement"] for arn in listed(s["Resource"])]


def only_own_or_keys(policy: dict, real: Real, what: str):
    """Every resource is `*`, a KMS key (its ARN holds an id AWS chose: never built), or a real ARN of one of the
    module's own resources: a built ARN that matched nothing would show here."""
    for arn in resources(policy):
        assert arn == "*" or ":kms:" in arn or arn in real.own(), f"{what}: {arn} is not an ARN the emulator gave"


@pytest.mark.parametrize("spec", SPECS, ids=module_key)
def test_the_arns_the_policies_build_are_the_arns_aws_gave(spec, deployments, moto):
    outputs = deployments(spec).outputs
    real = Real(moto, outputs)
    queues = sorted(real.queues.values())

    machine = real.role_policy("state_machine")
    only_own_or_keys(machine, real, "the state machine's role")
    assert sorted(listed(by_sid(machine)["SendToCallbackQueues"]["Resource"])) == queues
    # The state machine publishes to the module's topics, and to nothing else through SNS.
    publish = by_sid(machine).get("PublishToTopics")
    assert (sorted(listed(publish["Resource"])) if publish else []) == sorted(real.topics.values())

    callback = real.role_policy("callback")
    only_own_or_keys(callback, real, "the callback's role")
    answer = by_sid(callback)["AnswerCallbackTasks"]
    assert listed(answer["Resource"]) == [real.state_machine]
    assert answer["Condition"]["ArnEquals"]["lambda:SourceFunctionArn"] == real.function
    assert listed(by_sid(callback)["WriteOwnLogs"]["Resource"]) == [real.log_streams["callback"]]
    # The callback reads no queue, and no mapping invokes it.
    assert "ReadDeadLetters" not in by_sid(callback) and real.mapped["callback"] == []

    if "dead_letters" in real.functions:
        dead_letters = real.role_policy("dead_letters")
        only_own_or_keys(dead_letters, real, "the dead-letter function's role")
        fail = by_sid(dead_letters)["FailDeadLetteredTasks"]
        assert (listed(fail["Action"]), listed(fail["Resource"])) == (["states:SendTaskFailure"], [real.state_machine])
        assert fail["Condition"]["ArnEquals"]["lambda:SourceFunctionArn"] == real.functions["dead_letters"]
        assert listed(by_sid(dead_letters)["WriteOwnLogs"]["Resource"]) == [real.log_streams["dead_letters"]]
        # The dead-letter queues it reads (the queues', the topics' and the buses') are exactly those its event source
        # mappings read from.
        statements = by_sid(dead_letters)
        read = [arn for sid in ("ReadDeadLetters", "ReadTopicDeadLetters", "ReadBusDeadLetters") if sid in statements
                for arn in listed(statements[sid]["Resource"])]
        assert sorted(read) == real.mapped["dead_letters"]
        assert real.mapped["dead_letters"] and set(real.mapped["dead_letters"]) <= {
            *real.dead_letter_queues.values(), *real.topic_dead_letter_queues.values(),
            *real.bus_dead_letter_queues.values(),
        }


    trust = document(real.roles["state_machine"]["AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == real.state_machine

    # The worker policies, as `terraform output` gives them.
    worker = document(outputs["worker_policy_json"])
    only_own_or_keys(worker, real, "worker_policy_json")
    assert sorted(listed(by_sid(worker)["TakeTasks"]["Resource"])) == queues
    # The callback only: never the dead-letter function.
    assert listed(by_sid(worker)["AnswerTasks"]["Resource"]) == [real.function]
    assert set(outputs["worker_policy_json_by_queue"]) == set(real.queues)
    for key, policy in outputs["worker_policy_json_by_queue"].items():
        policy = document(policy)
        only_own_or_keys(policy, real, f"worker_policy_json_by_queue[{key}]")
        assert listed(by_sid(policy)["TakeTasks"]["Resource"]) == [real.queues[key]]


@pytest.mark.parametrize("spec", SPECS, ids=module_key)
def test_the_operator_policy_names_the_arns_aws_gave(spec, deployments, moto):
    """The runbook's grants (`operator_policy_json`, as `terraform output` gives it, a list when in parts): the
    state machine, its executions (the ARN prefix AWS gives them), the queues, the dead-letter queues and the
    dead-letter function's event source mappings, each by the ARN the emulator reports."""
    outputs = deployments(spec).outputs
    real = Real(moto, outputs)
    parts = outputs["operator_policy_json"]
    policies = [document(p) for p in (parts if isinstance(parts, list) else [parts])]
    statements = {sid: s for policy in policies for sid, s in by_sid(policy).items()}
    executions = real.state_machine.replace(":stateMachine:", ":execution:") + ":*"
    alias = outputs["state_machine_alias_arn"]
    assert alias == f"{real.state_machine}:live", alias
    assert listed(statements["StartExecutionsThroughAlias"]["Resource"]) == [alias]
    assert sorted(listed(statements["ListExecutions"]["Resource"])) == sorted([real.state_machine, alias])
    assert listed(statements["StopAndRedriveExecutions"]["Resource"]) == [executions]
    with_dead_letters = sorted(real.queues[k] for k in real.dead_letter_queues)
    named = {sid: sorted(listed(s["Resource"])) for sid, s in statements.items()}
    assert named.get("TakeBackDeadLetters", []) == with_dead_letters
    assert named.get("MoveDeadLetters", []) == sorted(real.dead_letter_queues.values())
    assert sorted(named.get("ReadQueueDepths", []) + with_dead_letters) == sorted(real.queues.values())
    assert named.get("PauseFailFast", []) == real.mappings
    assert named.get("PauseBusFailFast", []) == real.bus_mappings
    assert named.get("PauseTopicFailFast", []) == real.topic_mappings
    assert named.get("InspectTopicDeadLetters", []) == sorted(real.topic_dead_letter_queues.values())
    mappings = {*real.mappings, *real.bus_mappings, *real.topic_mappings}
    for sid, arns in named.items():
        for arn in arns:
            assert arn in {*real.own(), alias, executions, *mappings} or ":kms:" in arn, (
                f"{sid}: {arn}"
            )


def test_the_key_policy_names_the_roles_and_log_groups_by_the_arns_aws_gave(deployments, moto):
    outputs = deployments(ROOT / "examples" / "full" / "sfngen.toml").outputs
    real = Real(moto, outputs)
    kms = moto.client("kms")
    policy = document(kms.get_key_policy(KeyId=outputs["kms_key_arn"], PolicyName="default")["Policy"])
    roles = {which: role["Arn"] for which, role in real.roles.items()}
    named = {
        s["Sid"]: s["Principal"]["AWS"]
        for s in policy["Statement"]
        if "AWS" in s["Principal"] and s["Sid"] != "AccountAdministersKey"
    }
    # The full example uses the key for queues (its dead-letter queues too), the state machine's data and logs:
    # every role is named, the dead-letter function's among them.
    assert set(real.roles) == {"state_machine", "callback", "dead_letters"}
    assert set(named.values()) == set(roles.values()), named
    for sid, principal in named.items():
        # Each role for what its own policy grants on the key.
        which = next(w for w, arn in roles.items() if arn == principal)
        assert sid in by_sid(real.role_policy(which)), (sid, which)
        context = by_sid(policy)[sid].get("Condition", {}).get("StringEquals", {})
        if "kms:EncryptionContext:aws:states:stateMachineArn" in context:
            assert context["kms:EncryptionContext:aws:states:stateMachineArn"] == real.state_machine
    # [logs] encryption = "kms": CloudWatch Logs may use the key for every log group, named by their ARNs.
    name = outputs["state_machine_log_group_name"]
    [execution_logs] = [
        g["logGroupArn"]
        for g in moto.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        if g["logGroupName"] == name
    ]
    condition = by_sid(policy)["CloudWatchLogsEncryptLogGroups"]["Condition"]["ArnEquals"]
    assert sorted(listed(condition["kms:EncryptionContext:aws:logs:arn"])) == sorted(
        [*real.log_groups.values(), execution_logs]
    )
