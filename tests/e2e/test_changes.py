"""Change paths: a team edits its spec, re-renders, and `terraform plan` must update the running pattern in
place (no replacement, nothing destroyed that should stay), then `apply` must land the new setting.

Every case is a module of a "changes" stack, applied in the background with the other stacks of the
session. Then, still in the background, each case in turn edits its spec, re-renders into the same module
folder, plans and applies that plan, and reads the module back from the emulator; the test checks the plan
(`terraform show -json`: the right attribute updated in place, and nothing else: a role's policy only when
its document really changes, known at plan time, and the worker policy outputs known) and the new setting
the emulator holds. A stack is destroyed as soon as its last case is done."""

import json
from dataclasses import dataclass, field

import pytest

from harness import aws_client, render
from tfstack import quick

BASE = """\
name = "{name}"

[state_machine]
log_level = "ERROR"
tracing = true

[[steps]]
name = "Work"
queue = "jobs"

[queues.jobs]
retention = "4d"
"""


def dashboard_grows(queue_suffix: str):
    """A check of the dashboard body's planned change: known at plan time, and it now names the queue (and its
    dead-letter queue) whose name ends with `queue_suffix`, which it did not before."""

    def check(before, after):
        assert UNKNOWN not in (before, after), "the dashboard is known at plan time"
        for name in (f'{queue_suffix}"', f'{queue_suffix}-dlq"'):
            assert name not in before and name in after, name

    return check


@dataclass
class Case:
    key: str
    edit: tuple  # (old text, new text) in BASE
    # address in the module -> {attribute path: (before, after), ... for "changes", or a check(before, after)}:
    # exactly the resources the plan updates and the attributes it changes (values known only after apply aside).
    # A policy is among them only when it really changes: its document names the module's own resources by
    # ARNs built from their names, so a change to one of them does not make Terraform read it again at apply.
    updates: dict
    creates: set = field(default_factory=set)
    deletes: set = field(default_factory=set)
    # A known emitter gap: the test is expected to fail until the fix lands (strict: it says when it does).
    gap: str | None = None

    @property
    def name(self) -> str:
        return "chg-" + self.key.replace("_", "-")

    def spec(self, edited: bool) -> str:
        text = BASE.format(name=self.name)
        old, new = self.edit
        assert old in text
        return text.replace(old, new) if edited else text


UNKNOWN = "(known after apply)"


def listed(value) -> list:
    """A policy element that is one value or a list of them, as a list."""
    return value if isinstance(value, list) else [value]


def statements(policy: str) -> dict:
    """{Sid: statement} of a policy document's JSON."""
    return {s["Sid"]: s for s in json.loads(policy)["Statement"]}


def policy_change(removed=(), grown=None):
    """A check of an inline policy's planned change: known at plan time, the statements `removed` (by Sid) go,
    each statement of `grown` ({Sid: ARN suffix}) names one more resource, whose ARN ends with that suffix, and
    nothing else changes."""
    grown = grown or {}

    def check(before, after):
        assert UNKNOWN not in (before, after), "the policy is known at plan time"
        old, new = statements(before), statements(after)
        assert set(old) - set(new) == set(removed) and set(new) <= set(old), (sorted(old), sorted(new))
        for sid, statement in new.items():
            if sid not in grown:
                assert statement == old[sid], sid
                continue
            was, now = (set(listed(s["Resource"])) for s in (old[sid], statement))
            added = now - was
            assert was < now and len(added) == 1, (sid, was, now)
            assert added.pop().endswith(grown[sid]), (sid, now)
            assert {**statement, "Resource": None} == {**old[sid], "Resource": None}, sid

    return check


# Optional+Computed blocks: left out of the configuration, the provider keeps whatever is set.
SM = "aws_sfn_state_machine.this"
LAMBDA = "aws_lambda_function.callback"
# The dead-letter function: the base spec's queue has a dead-letter queue whose letters fail their executions.
DEAD_LETTERS = "aws_lambda_function.dead_letters"
SM_POLICY = "aws_iam_role_policy.state_machine"
ALIAS = "aws_sfn_alias.live"
# A change to the state machine publishes a version (publish = true): its revision and version ARN are known after
# apply, and the alias follows the new version.
PUBLISHED = {"revision_id": ..., "state_machine_version_arn": ...}
ALIAS_FOLLOWS = {ALIAS: {"routing_configuration.0.state_machine_version_arn": ...}}
CALLBACK_POLICY = "aws_iam_role_policy.callback"
DEAD_LETTERS_POLICY = "aws_iam_role_policy.dead_letters"
# The dashboard names every queue: it changes with the queues.
DASHBOARD = "aws_cloudwatch_dashboard.this[0]"

CASES = [
    Case(
        "log_level",
        ('log_level = "ERROR"', 'log_level = "OFF"'),
        # The log group stays (with its logs), and the role keeps its log delivery grants at every level: only the
        # state machine's logging changes.
        {
            SM: {
                "logging_configuration.0.level": ("ERROR", "OFF"),
                # Off, the destination goes: the state machine writes no logs.
                "logging_configuration.0.log_destination": (..., None),
                **PUBLISHED,
            },
            **ALIAS_FOLLOWS,
        },
    ),
    Case(
        "tracing",
        ("tracing = true", "tracing = false"),
        {
            SM: {"tracing_configuration.0.enabled": (True, False), **PUBLISHED},
            **ALIAS_FOLLOWS,
            LAMBDA: {"tracing_config.0.mode": ("Active", "PassThrough")},
            DEAD_LETTERS: {"tracing_config.0.mode": ("Active", "PassThrough")},
            SM_POLICY: {"policy": policy_change(removed={"SendTraces"})},
            CALLBACK_POLICY: {"policy": policy_change(removed={"SendTraces"})},
            DEAD_LETTERS_POLICY: {"policy": policy_change(removed={"SendTraces"})},
        },
    ),
    # A queue, the function and the state machine change alone: no policy is read again at apply time.
    Case(
        "retention",
        ('retention = "4d"', 'retention = "2d"'),
        {"aws_sqs_queue.jobs": {"message_retention_seconds": (345600, 172800)}},
    ),
    Case(
        "memory",
        ('retention = "4d"\n', 'retention = "4d"\n\n[callback]\nmemory_mb = 512\n'),
        # Both functions run with the [callback] settings.
        {LAMBDA: {"memory_size": (128, 512)}, DEAD_LETTERS: {"memory_size": (128, 512)}},
    ),
    Case(
        "add_step",
        ('queue = "jobs"\n', 'queue = "jobs"\n\n[[steps]]\nname = "Review"\nqueue = "jobs"\n'),
        {SM: {"definition": ..., **PUBLISHED}, **ALIAS_FOLLOWS},
    ),
    Case(
        "add_queue",
        ('retention = "4d"\n', 'retention = "4d"\n\n[[steps]]\nname = "Audit"\nqueue = "audit"\n\n[queues.audit]\n'),
        # The dead-letter function reads the new dead-letter queue: a mapping, and its role's policy names the
        # queue; the callback's policy does not change.
        {
            SM: {"definition": ..., **PUBLISHED},
            **ALIAS_FOLLOWS,
            SM_POLICY: {"policy": policy_change(grown={"SendToCallbackQueues": "-audit"})},
            DEAD_LETTERS_POLICY: {"policy": policy_change(grown={"ReadDeadLetters": "-audit-dlq"})},
            # The dashboard gets the new queue's widget (known at plan time: names built from var.name).
            DASHBOARD: {"dashboard_body": dashboard_grows("-audit")},
        },
        creates={
            "aws_sqs_queue.audit",
            "aws_sqs_queue.audit_dlq",
            "aws_sqs_queue_redrive_allow_policy.audit_dlq",
            "aws_lambda_event_source_mapping.audit_dlq",
            "terraform_data.audit_dlq_mapping_uuid",
            "aws_sqs_queue_policy.audit",
            "aws_sqs_queue_policy.audit_dlq",
        },
    ),
]


def prepare(cases: list):
    def build(stack):
        (stack.dir / "specs").mkdir()
        for case in cases:
            spec = stack.dir / "specs" / f"{case.key}.toml"
            spec.write_text(case.spec(edited=False))
            stack.add_module(case.key, spec, render)
        stack.write_root()

    return build


def change(case: Case):
    """The edit, as a team makes it: edit the spec, re-render into the module folder, plan, apply the plan.
    Runs in the background after the stack's first apply; the test checks what it recorded. The plan targets
    the case's module, so that a case that fails to apply leaves nothing pending in the others' plans."""

    def run(stack):
        spec = stack.dir / "specs" / f"{case.key}.toml"
        spec.write_text(case.spec(edited=True))
        # --allow-replace: log_level OFF deletes the execution log group (the change report's own oracle is
        # test_change_report.py).
        render(spec, stack.dir / "modules" / case.key, "--allow-replace")
        code, plan = stack.plan(f"{case.key}.tfplan", f"-target=module.{case.key}")
        if code == 2:
            stack.apply(f"{case.key}.tfplan")
        outputs = stack.outputs()[case.key]
        return {"code": code, "plan": plan, "outputs": outputs, "seen": observe(stack.endpoint, outputs)}

    return run


# Two stacks, so that the two halves of the cases (about the same time: a new queue costs three of the
# provider's SQS waits) run side by side.
GROUPS = {"changes-1": ["add_queue", "retention"], "changes-2": ["log_level", "tracing", "memory", "add_step"]}
STACK_OF = {key: stack for stack, keys in GROUPS.items() for key in keys}
assert sorted(STACK_OF) == sorted(case.key for case in CASES)


def stages(stack: str) -> list:
    cases = [case for case in CASES if STACK_OF[case.key] == stack]
    return quick(prepare(cases)) + [(f"change {case.key}", change(case)) for case in cases]


pytestmark = [
    pytest.mark.stack(stack, stages(stack), independent={f"change {key}" for key in keys}, destroy_when_done=True)
    for stack, keys in GROUPS.items()
]


def flatten(value, prefix="") -> dict:
    """{"a.0.b": leaf} of a plan's before/after values."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flatten(item, f"{prefix}{key}.").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in flatten(item, f"{prefix}{i}.").items()}
    return {prefix[:-1]: value}


def changed_attributes(change: dict) -> dict:
    """{path: (before, after)} of what a planned change alters; `after` is UNKNOWN for values Terraform will
    only know after apply (a new queue's URL in a definition, a policy document read at apply time)."""
    before, after = flatten(change["before"] or {}), flatten(change["after"] or {})
    unknown = {path for path, flag in flatten(change.get("after_unknown") or {}).items() if flag is True}
    changed = {path: (before.get(path), UNKNOWN) for path in unknown}
    for path in (set(before) | set(after)) - unknown:
        if not any(path.startswith(u + ".") for u in unknown) and before.get(path) != after.get(path):
            changed[path] = (before.get(path), after.get(path))
    return changed


def planned(plan: dict, module: str) -> dict:
    """{address in the module: (actions, change)} of the managed resources that change; only `module` may."""
    found = {}
    for change in plan.get("resource_changes", []):
        if change["mode"] != "managed" or change["change"]["actions"] == ["no-op"]:
            continue
        assert change.get("module_address") == f"module.{module}", f"{change['address']} changes too"
        found[change["address"].removeprefix(f"module.{module}.")] = (change["change"]["actions"], change["change"])
    return found


def check_plan(case: Case, plan: dict):
    changes = planned(plan, case.key)
    replaced = [a for a, (actions, _) in changes.items() if "create" in actions and "delete" in actions]
    assert replaced == [], f"replaced instead of updated in place: {replaced}"
    by_action = {
        kind: {a for a, (actions, _) in changes.items() if actions == [kind]} for kind in ("create", "update", "delete")
    }
    assert by_action["create"] == case.creates
    assert by_action["delete"] == case.deletes
    # Exactly the updates the case lists: a policy the plan would read again at apply time is one too many.
    assert set(case.updates) == by_action["update"], {a: actions for a, (actions, _) in changes.items()}
    for address in by_action["update"]:
        got = changed_attributes(changes[address][1])
        # Exactly the expected attributes change, to the expected values (`...`: any value, on either side).
        expected = case.updates[address]
        assert set(got) == set(expected), (address, got)
        for path, values in expected.items():
            if callable(values):
                values(*got[path])
            elif values is not ...:
                for want, found in zip(values, got[path]):
                    assert want is ... or found == want, (address, path, got[path])
    check_worker_policies(case, plan)


def check_worker_policies(case: Case, plan: dict):
    """The module's worker policies (outputs) are known at plan time, and change only with the queues."""
    change = plan["output_changes"][case.key]
    unknown = change.get("after_unknown")
    assert unknown is not True, "the whole module output is unknown"
    unknown_paths = {path for path, flag in flatten(unknown or {}).items() if flag is True}
    assert not {p for p in unknown_paths if p.startswith("worker_policy_json")}, unknown_paths
    before, after = (change[side] for side in ("before", "after"))
    for output in ("worker_policy_json", "worker_policy_json_by_queue"):
        if case.key == "add_queue":
            assert before[output] != after[output], output
        else:
            assert before[output] == after[output], output


def observe(endpoint: str, outputs: dict) -> dict:
    """What the emulator holds for a module right after its change was applied (read in the background, so
    that the stack can be destroyed as soon as its last case is done)."""
    sfn, lam, sqs, iam = (aws_client(s, endpoint) for s in ("stepfunctions", "lambda", "sqs", "iam"))
    machine = sfn.describe_state_machine(stateMachineArn=outputs["state_machine_arn"])
    function = lam.get_function_configuration(FunctionName=outputs["callback_function_name"])
    reader = lam.get_function_configuration(FunctionName=outputs["dead_letters_function_name"])

    def policies(role_arn: str) -> str:
        role = role_arn.rsplit("/", 1)[1]
        names = iam.list_role_policies(RoleName=role)["PolicyNames"]
        return json.dumps([iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"] for name in names])

    return {
        "logging": machine["loggingConfiguration"],
        "tracing": machine["tracingConfiguration"],
        "definition": json.loads(machine["definition"]),
        "function": function,
        "dead_letter_function": reader,
        "queues": {
            key: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            for key, url in outputs["queue_urls"].items()
        },
        "queue_urls": sqs.list_queues().get("QueueUrls", []),
        "state_machine_policies": policies(outputs["state_machine_role_arn"]),
        "callback_policies": policies(outputs["callback_role_arn"]),
        "dead_letter_policies": policies(outputs["dead_letters_role_arn"]),
        "mappings": [
            m["EventSourceArn"]
            for m in lam.list_event_source_mappings()["EventSourceMappings"]
            if m["FunctionArn"] == reader["FunctionArn"]
        ],
    }


def check_emulator(case: Case, seen: dict, outputs: dict):
    states = seen["definition"]["States"]
    if case.key == "log_level":
        assert seen["logging"]["level"] == "OFF"
        # Granted at every level: turning logging back on changes the state machine alone.
        assert "logs:CreateLogDelivery" in seen["state_machine_policies"]
    elif case.key == "tracing":
        assert seen["tracing"]["enabled"] is False
        assert seen["function"]["TracingConfig"]["Mode"] == "PassThrough"
        assert seen["dead_letter_function"]["TracingConfig"]["Mode"] == "PassThrough"
        assert "xray:PutTraceSegments" not in seen["state_machine_policies"]
    elif case.key == "retention":
        assert seen["queues"]["jobs"]["MessageRetentionPeriod"] == "172800"
    elif case.key == "memory":
        assert seen["function"]["MemorySize"] == 512
        assert seen["dead_letter_function"]["MemorySize"] == 512
    elif case.key == "add_step":
        assert states["Work"]["Next"] == "Review"
        assert states["Review"]["Parameters"]["QueueUrl"] == outputs["queue_urls"]["jobs"]
    elif case.key == "add_queue":
        audit = outputs["queue_urls"]["audit"]
        assert audit in seen["queue_urls"]
        assert seen["queues"]["audit"]["RedrivePolicy"]
        assert states["Audit"]["Parameters"]["QueueUrl"] == audit
        assert outputs["queue_arns"]["audit"] in seen["state_machine_policies"]
        audit_dlq = outputs["dead_letter_queue_arns"]["audit"]
        assert audit_dlq in seen["mappings"] and audit_dlq in seen["dead_letter_policies"]
        assert audit_dlq not in seen["callback_policies"]


def cases():
    return [
        pytest.param(c, id=c.key, marks=[pytest.mark.xfail(strict=True, reason=c.gap)] if c.gap else []) for c in CASES
    ]


@pytest.mark.parametrize("case", cases())
def test_a_spec_edit_updates_the_pattern_in_place(stacks, case):
    done = stacks[STACK_OF[case.key]].result(f"change {case.key}")
    assert done["code"] == 2, "the edit plans no change"
    check_plan(case, done["plan"])
    check_emulator(case, done["seen"], done["outputs"])


@pytest.mark.last
@pytest.mark.parametrize("stack", GROUPS)
def test_the_changed_patterns_destroy_cleanly(stacks, stack):
    result = stacks[stack].destroy().result("destroy")
    assert set(result["inventory"]) == {f"module.{key}" for key in GROUPS[stack]}
    assert {m: len(found) for m, found in result["found_before"].items()} == {
        m: len(resources) for m, resources in result["inventory"].items()
    }
    assert result["state_list"] == []
    assert all(found == [] for found in result["leftovers"].values()), result["leftovers"]
