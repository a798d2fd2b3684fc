"""Safe on day two, on the real provider and the emulator: logs outlive settings, an applied module of the previous
layout upgrades in place, versions and an alias (executions through the alias, a new version, a rollback), plans that
keep policies known, and the deployer's permissions.

The "daytwo" stack applies two modules at once: `life` (a queue and the state machine encrypted with the module's
key, logging at ERROR) and `upgrade` (tests/e2e/fixtures/previous-layout: the module as sfngen rendered it while the
execution log group was counted on the log level, `aws_cloudwatch_log_group.state_machine[0]`). Then, in the
background, each stage edits one thing, renders as a team does (into the applied module's folder), plans with the
real provider and applies that plan; the tests check what each stage recorded. The alias test runs last, in the
foreground (it drives executions), then the stack is destroyed.

The deployer's permissions are recorded on an emulator of their own (every request the provider makes, through
moto_shim.py's `record_calls`), so that no other test's calls are counted.
"""

import json
import re
import shutil
import subprocess
import uuid
from functools import lru_cache
from pathlib import Path

import pytest

from harness import CallbackFunction, Deployment, Moto, ROOT, aws_client, new_stack, render, sfngen_binary
from tfstack import lifecycle, quick

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "previous-layout"
FIXTURE_SPEC = HERE / "fixtures" / "previous-layout.toml"

LIFE = """\
name = "d2-life"

[state_machine]
log_level = "ERROR"
encryption = "kms"

[[steps]]
name = "Work"
queue = "jobs"

[queues.jobs]
encryption = "kms"
"""

GROUP = "aws_cloudwatch_log_group.state_machine"
SM = "aws_sfn_state_machine.this"
ALIAS = "aws_sfn_alias.live"
SM_POLICY = "aws_iam_role_policy.state_machine"


def sfngen(spec: Path, module: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(sfngen_binary()), "render", str(spec), "-o", str(module), *flags], capture_output=True, text=True, timeout=120
    )


def prepare(stack):
    specs = stack.dir / "specs"
    specs.mkdir()
    (specs / "life.toml").write_text(LIFE)
    stack.add_module("life", specs / "life.toml", render)
    # The previous layout, as committed (its package is the one sfngen ships, written by any render of the spec).
    upgrade = stack.dir / "modules" / "upgrade"
    shutil.copytree(FIXTURE, upgrade)
    scratch = stack.dir / "scratch"
    render(FIXTURE_SPEC, scratch)
    shutil.copy(scratch / "callback.zip", upgrade / "callback.zip")
    shutil.copy(FIXTURE_SPEC, specs / "previous-layout.toml")
    stack.use_module("upgrade", upgrade)
    stack.write_root()


def changes(plan: dict, module: str) -> dict:
    """{address in the module: change} of the managed resources the plan does not leave alone in `module`."""
    found = {}
    for change in plan.get("resource_changes", []):
        if change.get("module_address") != f"module.{module}" or change["mode"] != "managed":
            continue
        moved = change.get("previous_address") not in (None, change["address"])
        if change["change"]["actions"] == ["no-op"] and not moved:
            continue
        found[change["address"].removeprefix(f"module.{module}.")] = change
    return found


def rerender(stack, text: str, *flags: str) -> subprocess.CompletedProcess:
    spec = stack.dir / "specs" / "life.toml"
    spec.write_text(text)
    return sfngen(spec, stack.dir / "modules" / "life", *flags)


def log_group_of(stack) -> dict:
    logs = aws_client("logs", stack.endpoint)
    found = logs.describe_log_groups(logGroupNamePrefix="/aws/vendedlogs/states/d2-life")["logGroups"]
    return {g["logGroupName"]: g for g in found}


def upgrade(stack) -> dict:
    """The previous layout, rendered over by this sfngen: no change report (its record's `[0]` is the new address),
    a plan that moves the log group, applied; then nothing left to plan."""
    module = stack.dir / "modules" / "upgrade"
    rendered = sfngen(stack.dir / "specs" / "previous-layout.toml", module)
    code, plan = stack.plan("upgrade.tfplan", "-target=module.upgrade")
    stack.apply("upgrade.tfplan")
    again = stack.plan_code("upgrade-again.tfplan", "-target=module.upgrade")
    return {"render": (rendered.returncode, rendered.stderr), "code": code, "plan": plan, "again": again}


def logs_off(stack) -> dict:
    rendered = rerender(stack, LIFE.replace('log_level = "ERROR"', 'log_level = "OFF"'))
    code, plan = stack.plan("off.tfplan", "-target=module.life")
    stack.apply("off.tfplan")
    machine = aws_client("stepfunctions", stack.endpoint).describe_state_machine(
        stateMachineArn=stack.outputs()["life"]["state_machine_arn"]
    )
    return {"render": (rendered.returncode, rendered.stderr), "code": code, "plan": plan,
            "groups": log_group_of(stack), "logging": machine["loggingConfiguration"]}


def logs_on(stack) -> dict:
    rendered = rerender(stack, LIFE)
    code, plan = stack.plan("on.tfplan", "-target=module.life")
    stack.apply("on.tfplan")
    machine = aws_client("stepfunctions", stack.endpoint).describe_state_machine(
        stateMachineArn=stack.outputs()["life"]["state_machine_arn"]
    )
    return {"render": (rendered.returncode, rendered.stderr), "code": code, "plan": plan,
            "groups": log_group_of(stack), "logging": machine["loggingConfiguration"]}


def key_changes(stack) -> dict:
    """Plans only: the module's tags (every resource's, the key's among them) changed; then a real change of a policy
    (a queue added). Nothing is applied; the root and the module are put back."""
    main = stack.dir / "main.tf"
    root = main.read_text()
    main.write_text(root.replace('source = "./modules/life"', 'source = "./modules/life"\n  tags   = { KeyOwner = "team-a" }'))
    try:
        _, tags = stack.plan("tags.tfplan", "-target=module.life", "-refresh=false")
    finally:
        main.write_text(root)
    added = LIFE.replace("[queues.jobs]\n", '[[steps]]\nname = "Audit"\nqueue = "audit"\n\n[queues.jobs]\n')
    added += '\n[queues.audit]\nencryption = "kms"\n'
    rendered = rerender(stack, added)
    try:
        _, queue = stack.plan("queue.tfplan", "-target=module.life", "-refresh=false")
    finally:
        rerender(stack, LIFE, "--allow-replace")
    return {"tags": tags, "queue": queue, "render": (rendered.returncode, rendered.stderr)}


pytestmark = pytest.mark.stack(
    "daytwo",
    quick(prepare) + [("upgrade", upgrade), ("logs_off", logs_off), ("logs_on", logs_on), ("keys", key_changes)],
    independent={"upgrade", "keys"},
)


def test_a_module_of_the_previous_layout_upgrades_by_moving_its_log_group(stacks):
    done = stacks["daytwo"].result("upgrade")
    code, stderr = done["render"]
    assert code == 0, stderr
    assert not re.search(r"^(replaces|deletes) ", stderr, re.M), stderr
    planned = changes(done["plan"], "upgrade")
    group = planned[GROUP]
    assert group["previous_address"] == f"module.upgrade.{GROUP}[0]"
    assert group["change"]["actions"] == ["no-op"], group["change"]["actions"]
    destroyed = [a for a, c in planned.items() if "delete" in c["change"]["actions"]]
    assert destroyed == [], destroyed
    # The alias is new; the state machine is updated in place (it publishes its first version).
    assert planned[ALIAS]["change"]["actions"] == ["create"]
    assert planned[SM]["change"]["actions"] == ["update"]
    assert done["again"] == 0, "the upgraded module plans a change after its apply"


def test_log_level_off_keeps_the_log_group_and_its_retention(stacks):
    done = stacks["daytwo"].result("logs_off")
    code, stderr = done["render"]
    assert code == 0 and "deletes" not in stderr, stderr
    planned = changes(done["plan"], "life")
    # The state machine's logging changes (and the version it publishes moves the alias); nothing else.
    assert set(planned) == {SM, ALIAS}, sorted(planned)
    assert all(c["change"]["actions"] == ["update"] for c in planned.values())
    after = planned[SM]["change"]["after"]["logging_configuration"][0]
    assert after["level"] == "OFF" and after["log_destination"] is None
    assert done["logging"]["level"] == "OFF"
    group = done["groups"]["/aws/vendedlogs/states/d2-life"]
    assert group["retentionInDays"] == 30, group


def test_logging_back_on_changes_the_state_machine_alone_and_the_role_keeps_its_policy(stacks):
    off = stacks["daytwo"].result("logs_off")
    done = stacks["daytwo"].result("logs_on")
    assert done["render"][0] == 0, done["render"][1]
    planned = changes(done["plan"], "life")
    # The role's policy is identical at OFF and at ERROR: no update to it, or to the key's policy, in either plan.
    for plan in (off["plan"], done["plan"]):
        assert SM_POLICY not in changes(plan, "life")
        assert "aws_kms_key.this" not in changes(plan, "life")
    assert set(planned) == {SM, ALIAS}, sorted(planned)
    after = planned[SM]["change"]["after"]["logging_configuration"][0]
    assert after["level"] == "ERROR"
    assert after["log_destination"].endswith(":log-group:/aws/vendedlogs/states/d2-life:*")
    assert done["logging"]["level"] == "ERROR"
    assert done["logging"]["destinations"][0]["cloudWatchLogsLogGroup"]["logGroupArn"] == after["log_destination"]


def unknown_paths(value, prefix="") -> set:
    if value is True:
        return {prefix.rstrip(".")}
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in unknown_paths(v, f"{prefix}{k}.")}
    if isinstance(value, list):
        return {p for i, v in enumerate(value) for p in unknown_paths(v, f"{prefix}{i}.")}
    return set()


POLICIES = {"aws_iam_role_policy", "aws_iam_policy", "aws_kms_key", "aws_sqs_queue_policy"}


def test_a_change_to_the_module_key_keeps_every_policy_known_at_plan_time(stacks):
    done = stacks["daytwo"].result("keys")
    tags = done["tags"]
    planned = changes(tags, "life")
    assert planned["aws_kms_key.this"]["change"]["actions"] == ["update"], "the key's tags change"
    # No policy document is read again at apply time, and no policy is unknown.
    deferred = [c["address"] for c in tags["resource_changes"] if c["mode"] == "data" and c["change"]["actions"] == ["read"]]
    assert deferred == [], deferred
    for address, change in planned.items():
        if change["type"] in POLICIES:
            assert "policy" not in unknown_paths(change["change"].get("after_unknown") or {}), address
    outputs = tags["output_changes"]["life"]
    unknown = unknown_paths(outputs.get("after_unknown") or {})
    assert not {p for p in unknown if p.endswith("policy_json") or "policy_json." in p}, unknown
    # A real change still shows, known: a queue added grows the state machine role's policy and the worker policy.
    assert done["render"][0] == 0, done["render"][1]
    queue = changes(done["queue"], "life")
    policy = queue[SM_POLICY]["change"]
    assert policy["actions"] == ["update"] and "policy" not in unknown_paths(policy.get("after_unknown") or {})
    assert "-audit" in policy["after"]["policy"] and "-audit" not in policy["before"]["policy"]
    worker = done["queue"]["output_changes"]["life"]
    assert worker["before"]["worker_policy_json"] != worker["after"]["worker_policy_json"]
    assert "worker_policy_json" not in unknown_paths(worker.get("after_unknown") or {})


def run_through_alias(moto, outputs: dict, steps: int) -> dict:
    """Starts an execution through the alias and answers each of its `steps` tasks with the callback the emulator
    stored; the execution as it ended."""
    deployment = Deployment(moto, outputs)
    function = CallbackFunction.deployed(moto, outputs["callback_function_name"])
    try:
        execution = deployment.sfn.start_execution(
            stateMachineArn=outputs["state_machine_alias_arn"], name=f"d2-{uuid.uuid4().hex[:10]}", input='{"n": 1}'
        )["executionArn"]
        for step in range(steps):
            body = json.loads(deployment.receive("jobs")["Body"])
            kind, answer = function.invoke({"token": body["token"], "output": {"n": step + 2}})
            assert kind == "response", answer
        done = deployment.wait_for_end(execution)
        # Nothing more was asked of the workers.
        assert not deployment.sqs.receive_message(QueueUrl=deployment.queue_urls["jobs"], WaitTimeSeconds=1).get("Messages")
        return done
    finally:
        function.stop()


def test_executions_run_through_the_alias_a_new_version_and_a_rollback(stacks, moto):
    pipeline = stacks["daytwo"]
    pipeline.result("keys")
    stack = pipeline.stack
    sfn = aws_client("stepfunctions", stack.endpoint)
    outputs = stack.outputs()["life"]
    first = outputs["state_machine_version_arn"]
    alias = sfn.describe_state_machine_alias(stateMachineAliasArn=outputs["state_machine_alias_arn"])
    assert alias["routingConfiguration"] == [{"stateMachineVersionArn": first, "weight": 100}]
    assert outputs["state_machine_alias_arn"] == outputs["state_machine_arn"] + ":live"
    starter = json.loads(outputs["starter_policy_json"])
    assert [s["Resource"] for s in starter["Statement"] if "states:StartExecution" in json.dumps(s["Action"])] == [
        outputs["state_machine_alias_arn"]
    ]
    assert run_through_alias(moto, outputs, 1)["status"] == "SUCCEEDED"

    # A step added: a new version, and the alias moves to it.
    two = LIFE.replace('queue = "jobs"\n', 'queue = "jobs"\n\n[[steps]]\nname = "Review"\nqueue = "jobs"\n')
    assert rerender(stack, two).returncode == 0
    code, plan = stack.plan("two.tfplan", "-target=module.life")
    assert set(changes(plan, "life")) == {SM, ALIAS}
    stack.apply("two.tfplan")
    outputs = stack.outputs()["life"]
    second = outputs["state_machine_version_arn"]
    assert second != first and int(second.rsplit(":", 1)[1]) > int(first.rsplit(":", 1)[1])
    alias = sfn.describe_state_machine_alias(stateMachineAliasArn=outputs["state_machine_alias_arn"])
    assert alias["routingConfiguration"] == [{"stateMachineVersionArn": second, "weight": 100}]
    assert run_through_alias(moto, outputs, 2)["status"] == "SUCCEEDED"

    # Rolling back is one input: the alias routes to the first version again, and executions run its one step.
    main = stack.dir / "main.tf"
    main.write_text(main.read_text().replace(
        'source = "./modules/life"', f'source = "./modules/life"\n  state_machine_version = "{first}"'
    ))
    code, plan = stack.plan("back.tfplan", "-target=module.life")
    assert {a: c["change"]["actions"] for a, c in changes(plan, "life").items()} == {ALIAS: ["update"]}
    stack.apply("back.tfplan")
    alias = sfn.describe_state_machine_alias(stateMachineAliasArn=outputs["state_machine_alias_arn"])
    assert alias["routingConfiguration"] == [{"stateMachineVersionArn": first, "weight": 100}]
    assert run_through_alias(moto, stack.outputs()["life"], 1)["status"] == "SUCCEEDED"
    # Nothing left to plan.
    assert stack.plan_code("empty.tfplan") == 0


@pytest.mark.last
def test_the_day_two_stack_destroys_cleanly(stacks):
    result = stacks["daytwo"].destroy().result("destroy")
    assert set(result["inventory"]) == {"module.life", "module.upgrade"}
    assert result["state_list"] == []
    assert all(found == [] for found in result["leftovers"].values()), result["leftovers"]


# ---------------------------------------------------------------------------------------------------------
# The deployer's permissions


@lru_cache(maxsize=None)
def rest_operations(service: str) -> list:
    """[(method, path regex, operation)] of a REST service (Lambda), from botocore's model, most specific first."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    found = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path = http["requestUri"].split("?")[0]
        pattern = re.sub(r"\{[^}+]+\+\}", ".+", path)
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", pattern)
        found.append((http["method"], re.compile(f"^{pattern}/?$"), name, path.count("/")))
    return sorted(found, key=lambda op: -op[3])


SIGNING_TO_IAM = {"monitoring": "cloudwatch", "states": "states"}
REST_SERVICES = {"lambda": "lambda"}


def iam_action(call: dict) -> str | None:
    """The IAM action of a recorded request (`sqs:CreateQueue`), or None for a request to no AWS API."""
    service = call.get("service")
    if not service:
        return None
    prefix = SIGNING_TO_IAM.get(service, service)
    if call.get("target"):
        operation = call["target"].rsplit(".", 1)[1]
    elif call.get("action"):
        operation = call["action"]
    elif match := re.match(r"^/service/[^/]+/operation/([A-Za-z]+)$", call["path"]):
        operation = match.group(1)
    elif service in REST_SERVICES:
        found = [op for method, regex, op, _ in rest_operations(REST_SERVICES[service])
                 if method == call["method"] and regex.match(call["path"])]
        assert found, call
        operation = found[0]
        # Lambda's API names some operations with a date (ListVersionsByFunction is plain; GetFunction20150331v2 is not).
        operation = re.sub(r"\d{8}(v\d+)?$", "", operation)
    else:
        raise AssertionError(f"no operation in {call}")
    return f"{prefix}:{operation}"


def deployer_table(readme: str) -> dict:
    """{action: (when, for)} of the module README's deployer table."""
    section = readme.split("### What the deployer needs", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([a-z0-9-]+:[A-Za-z]+)` \| ([^|]+) \| (.+) \|$", line)
        if match:
            rows[match.group(1)] = (match.group(2).strip(), match.group(3).strip())
    return rows


def test_the_deployer_table_lists_every_call_the_provider_makes(tmp_path):
    calls_file = tmp_path / "calls.jsonl"
    recorder = Moto(env={"SFNGEN_MOTO_CALLS": str(calls_file)})
    full = ROOT / "examples" / "full" / "sfngen.toml"
    spec = tmp_path / "full.toml"
    spec.write_text(full.read_text())
    # The channels example beside it: a queue, an SNS topic (its subscriptions and dead-letter queue), buses (a
    # custom one, with a bus policy, and the default one), rules and their dead-letter queues.
    channels = tmp_path / "channels.toml"
    channels.write_text((ROOT / "examples" / "channels" / "sfngen.toml").read_text())

    def prepare_full(stack):
        stack.add_module("full", spec, render)
        stack.add_module("channels", channels, render, partners_bus_publisher_accounts=["111122223333"])
        stack.write_root()

    def change(stack):
        # A definition change (plan: ValidateStateMachineDefinition; apply: UpdateStateMachine, the alias), new tags
        # on every resource and the functions' memory, in one apply.
        text = spec.read_text()
        spec.write_text(text.replace("[[steps]]", '[[steps]]\nname = "Intake"\nqueue = "warehouse"\n\n[[steps]]', 1))
        render(spec, stack.dir / "modules" / "full")
        source, _ = stack.modules["full"]
        stack.modules["full"] = (source, {"tags": {"CostCentre": "day-two"}, "callback_memory_mb": 512})
        source, _ = stack.modules["channels"]
        stack.modules["channels"] = (source, {"tags": {"CostCentre": "day-two"}})
        stack.write_root()
        stack.plan("change.tfplan")
        stack.apply("change.tfplan")

    try:
        pipeline = new_stack("deployer", recorder, lifecycle(prepare_full) + [("change", change)], destroy_when_done=True)
        pipeline.start()
        pipeline.result("change")
        result = pipeline.result("destroy")
        assert result["state_list"] == [] and all(not found for found in result["leftovers"].values())
        readmes = [(pipeline.stack.dir / "modules" / key / "README.md").read_text() for key in ("full", "channels")]
    finally:
        recorder.stop()
    # The provider's requests only (its user agent names it), not the harness's checks for leftovers.
    calls = [json.loads(line) for line in calls_file.read_text().splitlines()]
    called = {iam_action(c) for c in calls if "terraform-provider-aws" in (c.get("agent") or "")} - {None}
    assert called, "no request of the provider was recorded"
    tables = [deployer_table(readme) for readme in readmes]
    assert all(tables), "no deployer table in a module README"
    table = {action: row for each in tables for action, row in each.items()}
    assert called - set(table) == set(), "calls the table does not list"
    # Every action listed was called, or says why it is listed anyway.
    uncalled = {action: why for action, (_, why) in table.items() if action not in called}
    # A row's reason is what follows its types (`aws_sqs_queue`: when a tag is removed).
    assert {a for a, why in uncalled.items() if not re.sub(r"`[^`]+`|[,:\s]", "", why)} == set(), uncalled
    assert "states:ValidateStateMachineDefinition" in called
    assert {"events:CreateEventBus", "events:PutPermission", "events:PutRule", "events:DeleteEventBus"} <= called
