"""A module every environment can run, proven with real Terraform core (the CLI on PATH) and the newest
schema-served hashicorp/aws release (tests/engine/schema_provider.py):

- Every validated input, at and beyond each limit of its spec key. The limits come from `sfngen schema`, which
  the key registry generates; sfngen itself is the referee: the same value written in a spec must get the same
  verdict from `sfngen check`. Accepted values plan cleanly and reach the resource that reads them; refused
  ones fail the plan with the variable's own message, one error per refused value, at its module call.
- Inputs that turn execution logging and tracing off on a spec that has them on (and on, on a spec that has
  them off) plan the right shape: the log group, the logging level and destination, the tracing modes, the
  roles' log-delivery and X-Ray statements, the log group output.
- The plan-time `check` warnings (sfngen's guard rails) start with the instance's `name` input, so two
  instances of one module that both warn can be told apart.
"""
import dataclasses
import json
import pathlib
import re
import subprocess

import harness
import pytest

VERSION = harness.SCHEMA_VERSIONS[-1]
SPECS = {
    "seed": harness.REPO / "examples" / "seed" / "sfngen.toml",
    "full": harness.REPO / "examples" / "full" / "sfngen.toml",
    "quiet": harness.REPO / "tests" / "data" / "specs" / "quiet-x86.toml",
    "byok": harness.REPO / "tests" / "data" / "specs" / "bring-your-own-keys.toml",
}
ANOTHER_ACCOUNTS_KEY = "arn:aws:kms:us-west-2:210987654321:key/0f0e0d0c-1111-2222-3333-444455556666"


# ------------------------------------------------------------------------------------------------ limits


def referee(name: str = "referee", queue: str = "", tables: str = "") -> str:
    """A spec with one queue and the key a case is about: `queue` keys of [queues.main], other `tables`."""
    return f'name = "{name}"\n\n[[steps]]\nname = "S"\nqueue = "main"\n\n[queues.main]\n{queue}\n{tables}'


def registry_schema() -> dict:
    out = subprocess.run([str(harness.sfngen_bin()), "schema"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def seconds(duration: str) -> int:
    return int(duration[:-1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[duration[-1]]


@dataclasses.dataclass
class Case:
    """One value of one input: `hcl` as a module argument, a spec that says the same (None: a spec cannot, such
    as a key of a kind the module was not rendered for), and whether it is allowed."""

    label: str
    module: str
    variable: str
    hcl: str
    spec: str | None
    allowed: bool
    # The planned resource attribute that must hold the value when it is allowed: (address in the module,
    # path into `change.after`, expected value).
    reaches: tuple[str, tuple, object] | None = None


def range_cases(label, variable, minimum, maximum, table_of, reaches_at):
    """At both limits (allowed), one beyond each (refused) and a fraction (refused): `table_of(value)` is the
    spec table that sets the key."""

    def spec_of(value):
        return referee(tables=table_of(value))

    cases = [
        Case(f"{label}-at-min", "seed", variable, str(minimum), spec_of(minimum), True,
             (*reaches_at, minimum)),
        Case(f"{label}-at-max", "seed", variable, str(maximum), spec_of(maximum), True,
             (*reaches_at, maximum)),
        Case(f"{label}-below-min", "seed", variable, str(minimum - 1), spec_of(minimum - 1), False),
        Case(f"{label}-above-max", "seed", variable, str(maximum + 1), spec_of(maximum + 1), False),
    ]
    cases.append(Case(f"{label}-fraction", "seed", variable, f"{minimum}.5", spec_of(f"{minimum}.5"), False))
    return cases


def cases() -> list[Case]:
    schema = registry_schema()["properties"]
    callback = schema["callback"]["properties"]
    machine = schema["state_machine"]["properties"]
    found = []

    memory = callback["memory_mb"]
    found += range_cases("memory", "callback_memory_mb", memory["minimum"], memory["maximum"],
                         lambda v: f"[callback]\nmemory_mb = {v}\n",
                         ("aws_lambda_function.callback", ("memory_size",)))

    low, high = re.search(r"A duration from (\d+[smhd]) to (\d+[smhd]):", callback["timeout"]["description"]).groups()
    found += range_cases("timeout", "callback_timeout_seconds", seconds(low), seconds(high),
                         lambda v: f'[callback]\ntimeout = "{v}s"\n',
                         ("aws_lambda_function.callback", ("timeout",)))

    reserved = callback["reserved_concurrency"]
    found += range_cases("reserved", "callback_reserved_concurrency", reserved["minimum"], reserved["maximum"],
                         lambda v: f"[callback]\nreserved_concurrency = {v}\n",
                         ("aws_lambda_function.callback", ("reserved_concurrent_executions",)))
    # Null leaves the function unreserved, as a spec that leaves the key out.
    found.append(Case("reserved-null", "seed", "callback_reserved_concurrency", "null", referee(), True,
                      ("aws_lambda_function.callback", ("reserved_concurrent_executions",), None)))

    for label, variable, key, group, table in [
        ("sm-retention", "state_machine_log_retention_days", machine["log_retention_days"],
         "aws_cloudwatch_log_group.state_machine", "state_machine"),
        ("cb-retention", "callback_log_retention_days", callback["log_retention_days"],
         "aws_cloudwatch_log_group.callback", "callback"),
    ]:
        days = key["enum"]
        # Every value CloudWatch Logs allows, and values just off them: below, between two, above.
        for value in days:
            found.append(Case(f"{label}-{value}", "seed", variable, str(value),
                              referee(tables=f"[{table}]\nlog_retention_days = {value}\n"), True,
                              (group, ("retention_in_days",), value)))
        between = next(d + 1 for d, e in zip(days, days[1:]) if e - d > 1)
        for value in (days[0] - 1, between, days[-1] + 1):
            found.append(Case(f"{label}-{value}", "seed", variable, str(value),
                              referee(tables=f"[{table}]\nlog_retention_days = {value}\n"), False))

    for value in machine["log_level"]["enum"]:
        found.append(Case(f"level-{value}", "seed", "log_level", json.dumps(value),
                          referee(tables=f'[state_machine]\nlog_level = "{value}"\n'), True,
                          ("aws_sfn_state_machine.this", ("logging_configuration", 0, "level"), value)))
    for value in ("error", "DEBUG", ""):
        found.append(Case(f"level-{value or 'empty'}", "seed", "log_level", json.dumps(value),
                          referee(tables=f'[state_machine]\nlog_level = "{value}"\n'), False))

    longest = int(re.search(r"\{0,(\d+)\}", schema["name"]["pattern"]).group(1)) + 2
    for label, value, allowed in [
        ("name-shortest", "a", True),
        ("name-longest", "n" * longest, True),
        ("name-too-long", "n" * (longest + 1), False),
        ("name-upper-case", "Orders", False),
        ("name-trailing-dash", "orders-", False),
        ("name-digit-first", "1orders", False),
    ]:
        found.append(Case(label, "seed", "name", json.dumps(value), referee(name=value), allowed,
                          ("aws_lambda_function.callback", ("function_name",), f"{value}-callback")))

    # Queue keys: the byok module names approvals' key by ARN and notifications' by alias.
    alias_limit = next(p["maxLength"] for p in schema["queues"]["additionalProperties"]["properties"]
                       ["encryption"]["anyOf"] if "maxLength" in p)
    longest_alias = "alias/" + "k" * (alias_limit - len("alias/"))
    for label, variable, value, spec_says, allowed in [
        ("arn-other-account", "approvals_queue_kms_key_arn", ANOTHER_ACCOUNTS_KEY, True, True),
        ("arn-gov-partition", "approvals_queue_kms_key_arn",
         "arn:aws-us-gov:kms:us-gov-west-1:210987654321:key/mrk-1", True, True),
        ("arn-not-a-key", "approvals_queue_kms_key_arn", "arn:aws:kms:us-west-2:210987654321:alias/x", True, False),
        ("arn-short-account", "approvals_queue_kms_key_arn", "arn:aws:kms:us-west-2:2109876543:key/x", True, False),
        # The spec allows an alias there, but this module was rendered for a key given by ARN.
        ("arn-given-an-alias", "approvals_queue_kms_key_arn", "alias/other", None, False),
        ("alias-other", "notifications_queue_kms_key_alias", "alias/other/key_1", True, True),
        ("alias-longest", "notifications_queue_kms_key_alias", longest_alias, True, True),
        ("alias-too-long", "notifications_queue_kms_key_alias", longest_alias + "k", True, False),
        ("alias-empty-name", "notifications_queue_kms_key_alias", "alias/", True, False),
        ("alias-not-an-alias", "notifications_queue_kms_key_alias", "other", True, False),
        ("alias-given-an-arn", "notifications_queue_kms_key_alias", ANOTHER_ACCOUNTS_KEY, None, False),
    ]:
        queue = variable.split("_queue_")[0]
        found.append(Case(label, "byok", variable, json.dumps(value),
                          referee(queue=f'encryption = "{value}"\n') if spec_says else None, allowed,
                          (f"aws_sqs_queue.{queue}", ("kms_master_key_id",), value)))
    found += tag_cases() + alarm_action_cases()
    for case in found:
        if not case.allowed:
            case.reaches = None
    return found


def tag_cases() -> list[Case]:
    """var.tags: with the module's own two tags (ManagedBy, SfngenPattern), at most 50 keys (AWS's limit on a
    resource), none differing from another only in case (IAM ignores case in tag keys), the spec's characters. The
    seed module has no [tags]: a spec's [tags] with the same keys gets the same verdict from sfngen check."""

    def spec_of(tags: dict) -> str:
        return referee(tables="[tags]\n" + "".join(f"{json.dumps(k)} = {json.dumps(v)}\n" for k, v in tags.items()))

    def hcl_of(tags: dict) -> str:
        return "{ " + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in tags.items()) + " }"

    many = lambda n: {f"tag{i:02}": "v" for i in range(n)}  # noqa: E731
    found = []
    for label, tags, allowed, key in [
        ("tags-one", {"Owner": "x"}, True, "Owner"),
        ("tags-fifty-in-all", many(48), True, "tag47"),
        ("tags-fifty-one-in-all", many(49), False, None),
        ("tags-module-key-in-another-case", {"managedby": "terraform"}, False, None),
        ("tags-keys-differing-in-case", {"Team": "a", "team": "b"}, False, None),
        ("tags-aws-prefix", {"aws:x": "y"}, False, None),
        ("tags-forbidden-character", {"a#b": "y"}, False, None),
        ("tags-value-too-long", {"k": "v" * 257}, False, None),
    ]:
        reaches = ("aws_lambda_function.callback", ("tags", key), tags.get(key)) if allowed else None
        found.append(Case(label, "seed", "tags", hcl_of(tags), spec_of(tags), allowed, reaches))
    # The module's own key in its own case replaces its value (merge: later keys win): still allowed.
    found.append(Case("tags-module-key-same-case", "seed", "tags", '{ ManagedBy = "terraform" }', None, True,
                      ("aws_lambda_function.callback", ("tags", "ManagedBy"), "terraform")))
    return found


def alarm_action_cases() -> list[Case]:
    """var.alarm_actions: PutMetricAlarm takes at most 5 actions a state. The full module has [alarms]; the spec
    has no key for the actions."""
    topics = [f'"arn:aws:sns:us-east-1:123456789012:alarms-{i}"' for i in range(6)]
    return [
        Case("alarm-actions-five", "full", "alarm_actions", "[" + ", ".join(topics[:5]) + "]", None, True,
             ("aws_cloudwatch_metric_alarm.executions_failed", ("alarm_actions",),
              sorted(t.strip('"') for t in topics[:5]))),
        Case("alarm-actions-six", "full", "alarm_actions", "[" + ", ".join(topics) + "]", None, False),
    ]


CASES = cases()


@pytest.mark.parametrize("case", [c for c in CASES if c.spec is not None], ids=lambda c: c.label)
def test_sfngen_gives_the_same_value_in_a_spec_the_same_verdict(case, tmp_path):
    """The cases are the registry's limits: sfngen accepts the values at them and refuses those beyond."""
    spec = tmp_path / "sfngen.toml"
    spec.write_text(case.spec)
    out = subprocess.run([str(harness.sfngen_bin()), "check", str(spec)], capture_output=True, text=True)
    assert (out.returncode == 0) == case.allowed, f"{case.label}: {spec.read_text()}\n{out.stderr}"
    if not case.allowed:
        assert out.returncode == 2, out.stderr
    if case.allowed and case.variable == "callback_timeout_seconds":
        # The guard rail the module keeps as a `check` warns for the same values.
        warns = "shorter than the callback Lambda's timeout" in out.stderr
        assert warns == (int(case.hcl) > visibility_of_a_default_queue()), out.stderr
    if case.allowed and case.variable == "callback_reserved_concurrency":
        # The workers' alone: the dead-letter function has a concurrency of its own, so no value starves them.
        assert "warning" not in out.stderr, out.stderr


# ------------------------------------------------------------------------------------------------ roots


@pytest.fixture(scope="session")
def work(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("inputs")


@pytest.fixture(scope="session")
def provider(work) -> harness.Provider:
    return harness.schema_provider(VERSION, work)


def write_root(root: pathlib.Path, calls: list[tuple[str, str, dict[str, str]]], lambda_zip, outputs="") -> None:
    """A root calling rendered modules: (label, module, {argument: HCL value})."""
    for module in {module for _, module, _ in calls}:
        harness.render(SPECS[module], root / "modules" / module, lambda_zip)
    blocks = []
    for label, module, arguments in calls:
        lines = [f'module "{label}" {{', f'  source = "./modules/{module}"']
        lines += [f"  {name} = {value}" for name, value in arguments.items()]
        blocks.append("\n".join(lines) + "\n}\n")
    (root / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = {\n      source = "hashicorp/aws"\n    }\n  }\n}\n\n'
        + "\n".join(blocks) + outputs
    )


def run_plan(root: pathlib.Path, provider: harness.Provider):
    init = harness.init(root, provider)
    assert init.returncode == 0, init.describe()
    return harness.plan(root, provider)


def call_label(case: Case) -> str:
    return case.label.replace(".", "_")


def error_message(module: pathlib.Path, variable: str) -> str:
    """The error_message of a variable's validation in a rendered module, as Terraform prints it."""
    text = (module / "variables.tf").read_text()
    block = re.search(rf'variable "{variable}" {{(.*?)\n}}\n', text, re.S).group(1)
    return json.loads(re.search(r'error_message = (".*")', block).group(1))


@pytest.fixture(scope="session")
def allowed_plan(work, provider):
    root = work / "allowed"
    allowed = [c for c in CASES if c.allowed]
    write_root(root, [(call_label(c), c.module, {c.variable: c.hcl}) for c in allowed],
               harness.fake_lambda_zip(work))
    return run_plan(root, provider)


@pytest.fixture(scope="session")
def refused_plan(work, provider):
    root = work / "refused"
    refused = [c for c in CASES if not c.allowed]
    write_root(root, [(call_label(c), c.module, {c.variable: c.hcl}) for c in refused],
               harness.fake_lambda_zip(work))
    step, _ = run_plan(root, provider)
    return root, step


def planned_after(plan: dict, address: str) -> dict:
    change = next((c for c in plan["resource_changes"] if c["address"] == address), None)
    assert change is not None, f"{address} is not in the plan"
    return change["change"]["after"]


def visibility_of_a_default_queue() -> int:
    """The visibility timeout of a queue that does not set one, such as the seed's, in seconds."""
    queue = registry_schema()["properties"]["queues"]["additionalProperties"]["properties"]
    return seconds(queue["visibility_timeout"]["default"])


def test_allowed_values_plan_cleanly_and_reach_their_resources(allowed_plan, work):
    step, plan = allowed_plan
    assert step.returncode == 0, step.describe()
    assert plan is not None
    # The one warning is sfngen's guard rail, kept as a `check`: a callback timeout longer than the queue's
    # visibility timeout, as `sfngen check` warns for the same spec.
    visibility = visibility_of_a_default_queue()
    too_long = sorted(
        f"is {c.hcl}" for c in CASES
        if c.allowed and c.variable == "callback_timeout_seconds" and int(c.hcl) > visibility
    )
    assert too_long, "expected an allowed callback timeout beyond the default visibility timeout"
    # Reserved concurrency warns of nothing: it is the workers' alone (the dead-letter function has its own).
    warned = []
    # Every call leaves `name` at the module's default: each warning starts with it.
    instance = json.loads(harness.variable_default(work / "allowed" / "modules" / "seed", "name")) + ": "
    for d in step.problems():
        assert (d["severity"], d["summary"]) == ("warning", "Check block assertion failed"), step.describe()
        assert d["detail"].startswith(instance + 'Queue "main" hides a received message for '), d["detail"]
        warned += [v["statement"] for v in d["snippet"]["values"]]
    assert sorted(warned) == too_long, step.describe()
    for case in (c for c in CASES if c.allowed):
        address, path, expected = case.reaches
        value = planned_after(plan, f"module.{call_label(case)}.{address}")
        for key in path:
            value = value[key]
        assert value == expected, f"{case.label}: {address} {path} is {value!r}, not {expected!r}"


def test_refused_values_fail_the_plan_with_the_variables_message(refused_plan):
    root, step = refused_plan
    assert step.returncode != 0, step.describe()
    errors = [d for d in step.problems() if d["severity"] == "error"]
    refused = [c for c in CASES if not c.allowed]
    by_call = {}
    for d in errors:
        assert d["summary"] == "Invalid value for variable", step.describe()
        call = re.fullmatch(r'module "(.+)"', d["snippet"]["context"]).group(1)
        by_call.setdefault(call, []).append(d)
    assert sorted(by_call) == sorted(call_label(c) for c in refused), step.describe()
    for case in refused:
        [d] = by_call[call_label(case)]
        message = error_message(root / "modules" / case.module, case.variable)
        assert d["detail"].startswith(message + "\n"), (case.label, d["detail"])
        assert [v["traversal"] for v in d["snippet"]["values"]] == [f"var.{case.variable}"], case.label


def test_the_messages_name_the_variable_and_give_the_specs_help(refused_plan, tmp_path):
    """The message is the spec's own help for the key, in the variable's terms where they differ."""
    root, _ = refused_plan
    for variable, spec in [
        ("callback_memory_mb", "[callback]\nmemory_mb = 1\n"),
        ("log_level", '[state_machine]\nlog_level = "DEBUG"\n'),
        ("state_machine_log_retention_days", "[state_machine]\nlog_retention_days = 2\n"),
    ]:
        path = tmp_path / "sfngen.toml"
        path.write_text(referee(tables=spec))
        out = subprocess.run([str(harness.sfngen_bin()), "check", str(path)], capture_output=True, text=True)
        help_line = re.search(r"= help: (?:did you mean .*?\? )?(.+)", out.stderr).group(1)
        message = error_message(root / "modules" / "seed", variable)
        assert message == f"Invalid {variable}: {help_line}.", (message, help_line)


# ------------------------------------------------------------------------------------------------ off and on


@pytest.fixture(scope="session")
def switched_run(work, provider):
    """The full example (ALL, tracing) switched off, and the quiet spec (OFF, no tracing) switched on, with
    execution data, through inputs only: (the plan step, the plan)."""
    root = work / "switched"
    outputs = "".join(
        f'output "{label}_log_group" {{\n  value = module.{label}.state_machine_log_group_name\n}}\n\n'
        for label in ("off", "on")
    )
    write_root(root, [
        ("off", "full", {"log_level": '"OFF"', "tracing": "false"}),
        ("on", "quiet", {"log_level": '"ALL"', "tracing": "true", "include_execution_data": "true"}),
    ], harness.fake_lambda_zip(work), outputs)
    step, plan = run_plan(root, provider)
    assert step.returncode == 0, step.describe()
    return step, plan


@pytest.fixture(scope="session")
def switched_plan(switched_run):
    """The plan, whose only diagnostic is the task-token guard rail of the module switched to ALL with execution
    data (test_switching_on_execution_data_at_level_all_warns)."""
    step, plan = switched_run
    assert [d["summary"] for d in step.problems()] == ["Check block assertion failed"], step.describe()
    return plan


def sids(plan: dict, address: str) -> list[str]:
    """The statement ids of a policy document, read at plan time or deferred to apply."""
    for change in plan["resource_changes"]:
        if change["address"] == address:
            return [s.get("sid") for s in change["change"]["after"]["statement"]]
    for module in plan["prior_state"]["values"]["root_module"].get("child_modules", []):
        for resource in module["resources"]:
            if resource["address"] == address:
                return [s.get("sid") for s in resource["values"]["statement"]]
    raise AssertionError(f"{address} is in neither the plan nor the prior state")


def test_inputs_turn_logging_and_tracing_off_on_a_spec_that_has_them_on(switched_plan):
    plan = switched_plan
    # The execution log group exists at every level (OFF keeps its logs); only the state machine's logging is off.
    group = planned_after(plan, "module.off.aws_cloudwatch_log_group.state_machine")
    assert group["name"] == "/aws/vendedlogs/states/orders"
    machine = planned_after(plan, "module.off.aws_sfn_state_machine.this")
    assert machine["logging_configuration"] == [
        {"level": "OFF", "log_destination": None, "include_execution_data": False}
    ]
    assert machine["tracing_configuration"] == [{"enabled": False}]
    function = planned_after(plan, "module.off.aws_lambda_function.callback")
    assert function["tracing_config"] == [{"mode": "PassThrough"}]
    # The role keeps its log delivery grants (and, as the full example's executions are encrypted with the
    # module's key, the grant for log deliveries) at every level: turning logging on changes the state machine alone.
    assert sids(plan, "module.off.data.aws_iam_policy_document.state_machine") == [
        "SendToCallbackQueues", "EncryptQueueMessages", "EncryptExecutionData", "EncryptExecutionLogs",
        "DeliverExecutionLogs"
    ]
    # The callback reads no queue; the full example's dead-letter function reads its dead-letter queues (one
    # KMS-encrypted): static statements, kept. Tracing off drops each function's SendTraces.
    assert sids(plan, "module.off.data.aws_iam_policy_document.callback") == [
        "AnswerCallbackTasks", "EncryptTaskAnswers", "WriteOwnLogs"
    ]
    assert sids(plan, "module.off.data.aws_iam_policy_document.dead_letters") == [
        "FailDeadLetteredTasks", "EncryptTaskFailures", "WriteOwnLogs", "ReadDeadLetters", "DecryptDeadLetters"
    ]
    assert plan["output_changes"]["off_log_group"]["after"] == "/aws/vendedlogs/states/orders"


def test_inputs_turn_logging_and_tracing_on_on_a_spec_that_has_them_off(switched_plan):
    plan = switched_plan
    group = planned_after(plan, "module.on.aws_cloudwatch_log_group.state_machine")
    assert group["name"] == "/aws/vendedlogs/states/quiet"
    change = next(c for c in plan["resource_changes"] if c["address"] == "module.on.aws_sfn_state_machine.this")
    logging = change["change"]["after"]["logging_configuration"]
    assert logging == [{"level": "ALL", "include_execution_data": True}], logging
    # The destination is the log group's ARN, known once the group exists.
    assert change["change"]["after_unknown"]["logging_configuration"] == [{"log_destination": True}]
    assert change["change"]["after"]["tracing_configuration"] == [{"enabled": True}]
    function = planned_after(plan, "module.on.aws_lambda_function.callback")
    assert function["tracing_config"] == [{"mode": "Active"}]
    # The quiet spec's executions are encrypted with a key of the caller's: the grant for log deliveries comes.
    assert sids(plan, "module.on.data.aws_iam_policy_document.state_machine") == [
        "SendToCallbackQueues", "EncryptExecutionData", "EncryptExecutionLogs", "DeliverExecutionLogs", "SendTraces"
    ]
    assert sids(plan, "module.on.data.aws_iam_policy_document.callback") == [
        "AnswerCallbackTasks", "EncryptTaskAnswers", "WriteOwnLogs", "SendTraces"
    ]
    assert plan["output_changes"]["on_log_group"]["after"] == "/aws/vendedlogs/states/quiet"


def test_switching_on_execution_data_at_level_all_warns(switched_run):
    """sfngen's task-token guard rail, kept for every environment: the module whose inputs log execution data at
    level ALL gets the `check` block's warning at plan time (and the plan still succeeds)."""
    step, _ = switched_run
    [warning] = step.problems()
    assert warning["severity"] == "warning", step.describe()
    assert "every task token in CloudWatch Logs" in warning["detail"], step.describe()
    assert warning["detail"].startswith("quiet: "), step.describe()  # the instance's name input
    assert warning["range"]["filename"].endswith("modules/quiet/state_machine.tf"), step.describe()
    assert sorted(v["traversal"] for v in warning["snippet"]["values"]) == [
        "var.include_execution_data", "var.log_level"
    ], step.describe()


# ------------------------------------------------------------------------------------------------ instances


def test_plan_time_warnings_name_their_instance(work, provider):
    """Two instances of one module (dev and prod in one root) whose inputs both trip sfngen's guard rails: the
    `check` warnings come from the same file and line for both, and only the `name` input each message starts
    with tells which environment warned."""
    root = work / "instances"
    inputs = {"log_level": '"ALL"', "include_execution_data": "true", "callback_timeout_seconds": "900"}
    names = {"dev": "callback-dev", "prod": "callback-prod"}
    write_root(root, [(label, "seed", {"name": f'"{name}"', **inputs}) for label, name in names.items()],
               harness.fake_lambda_zip(work))
    step, _ = run_plan(root, provider)
    assert step.returncode == 0, step.describe()
    seen = []
    for d in step.problems():
        assert (d["severity"], d["summary"]) == ("warning", "Check block assertion failed"), step.describe()
        instance, _, message = d["detail"].partition(": ")
        kind = "tokens" if "every task token in CloudWatch Logs" in message else "visibility"
        if kind == "visibility":
            assert message.startswith('Queue "main" hides a received message for '), d["detail"]
        seen.append((instance, kind))
    assert sorted(seen) == sorted((name, kind) for name in names.values() for kind in ("tokens", "visibility")), (
        step.describe()
    )
