"""The tests every rendered module ships (`tests/*.tftest.hcl`), run as a user runs them: `terraform init` and
`terraform test` with the real Terraform CLI and the real hashicorp/aws 5.100.0 provider (from the local filesystem
mirror, else the registry), whose schema and value checks the modules' mocked provider uses.

- Every example module (modules/seed, modules/full, examples/vendored/modules/callbacks), copied as a team vendors
  it: every run block of every test file passes, none skipped.
- What the apply runs created (`-verbose` prints their state) is exactly the README's Resources table, and a
  module has CloudWatch alarms exactly when its spec has `[alarms]`.
- The tests can fail: broken copies of the full example (a queue renamed, a policy naming another queue, a
  validation loosened, a guard rail that never fires, an alarm threshold changed) each fail the run that covers
  it, by name.
"""
import concurrent.futures
import json
import pathlib
import re
import shutil

import harness
import pytest

EXAMPLES = {
    "seed": harness.REPO / "modules" / "seed",
    "full": harness.REPO / "modules" / "full",
    "vendored": harness.REPO / "examples" / "vendored" / "modules" / "callbacks",
    "fanout": harness.REPO / "modules" / "fanout",
    # Steps on every channel: a queue, an SNS topic, EventBridge buses (a custom bus, the default bus).
    "channels": harness.REPO / "modules" / "channels",
}
# The run whose state holds every resource: execution logging and tracing on (tests/policies.tftest.hcl).
EVERY_RESOURCE_RUN = "policies_name_only_this_instance"


@pytest.fixture(scope="session")
def work(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("tftest")


@pytest.fixture(scope="session")
def provider(work) -> harness.Provider:
    return harness.real_provider(work)


def declared_runs(module: pathlib.Path) -> set[tuple[str, str]]:
    """(test file, run name) of every run block the module's test files declare."""
    runs = set()
    for path in sorted((module / "tests").glob("*.tftest.hcl")):
        for name in re.findall(r'^run "([^"]+)"', path.read_text(), re.M):
            runs.add((f"tests/{path.name}", name))
    return runs


class Outcome:
    """`terraform test -json -verbose`: each run's final status, the states it printed, the summary."""

    def __init__(self, step: harness.Step):
        self.step = step
        self.messages = []
        for line in step.output.splitlines():
            try:
                self.messages.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        self.status = {}
        self.states = {}
        for m in self.messages:
            run = m.get("test_run")
            if m["type"] == "test_run" and run.get("progress") == "complete":
                self.status[(run["path"], run["run"])] = run["status"]
            if m["type"] == "test_state":
                self.states[(m["@testfile"], m["@testrun"])] = m["test_state"]
        summary = [m["test_summary"] for m in self.messages if m["type"] == "test_summary"]
        self.summary = summary[-1] if summary else {}

    def describe(self) -> str:
        lines = [f"terraform {self.step.command}: exit {self.step.returncode}, {self.step.seconds:.1f} s"]
        lines += [f"  {path} {run}: {status}" for (path, run), status in sorted(self.status.items())]
        lines += [
            f"  {m.get('@testrun', '')}: {m['diagnostic'].get('summary')}: {m['diagnostic'].get('detail', '')}"
            for m in self.messages
            if m["type"] == "diagnostic" and m["diagnostic"].get("severity") == "error"
        ]
        return "\n".join(lines)

    def addresses(self, path: str, run: str) -> set[str]:
        """Every resource and data source in a run's state, as `type.name` (`data.` dropped, `[0]` dropped)."""
        state = self.states[(path, run)]
        return {(r["mode"], f'{r["type"]}.{r["name"]}') for r in state["root_module"]["resources"]}


def run_terraform_test(module: pathlib.Path, root: pathlib.Path, provider) -> tuple[Outcome, Outcome]:
    """Every test of a copy of the module, then its apply runs again with `-verbose`, which prints each run's
    state (and the provider's whole schema with it: about 13 MB a run, so only for the runs whose state is
    read)."""
    shutil.copytree(module, root)
    init = harness.init(root, provider)
    assert init.returncode == 0, init.describe()
    every = Outcome(harness.terraform(root, provider, "test", "-json"))
    applied = ["-filter=tests/policies.tftest.hcl"]
    if (root / "tests" / "alarms.tftest.hcl").exists():
        applied.append("-filter=tests/alarms.tftest.hcl")
    return every, Outcome(harness.terraform(root, provider, "test", "-json", "-verbose", *applied))


@pytest.fixture(scope="session")
def outcomes(work, provider) -> dict[str, tuple[Outcome, Outcome]]:
    """Each example module's own tests, two modules at a time."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            label: pool.submit(run_terraform_test, module, work / f"example-{label}", provider)
            for label, module in EXAMPLES.items()
        }
        return {label: future.result() for label, future in futures.items()}


def readme_resources(module: pathlib.Path) -> set[tuple[str, str]]:
    """(mode, type.name) of each row of the module README's Resources table."""
    text = (module / "README.md").read_text()
    section = text.split("\n## Resources\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| \[([a-z0-9_]+\.[a-z0-9_]+)\]\([^)]*\) \| (resource|data source) \|$", section, re.M)
    return {("data" if mode == "data source" else "managed", address) for address, mode in rows}


@pytest.mark.parametrize("label", EXAMPLES)
def test_every_run_of_the_modules_own_tests_passes(outcomes, label):
    outcome, _ = outcomes[label]
    runs = declared_runs(EXAMPLES[label])
    assert len(runs) >= 10, runs
    assert outcome.step.returncode == 0, outcome.describe()
    assert outcome.summary.get("status") == "pass", outcome.describe()
    assert outcome.status == {run: "pass" for run in runs}, outcome.describe()


@pytest.mark.parametrize("label", EXAMPLES)
def test_what_the_tests_create_is_the_readmes_resources_table(outcomes, label):
    _, outcome = outcomes[label]
    created = outcome.addresses("tests/policies.tftest.hcl", EVERY_RESOURCE_RUN)
    assert created == readme_resources(EXAMPLES[label]), outcome.describe()


@pytest.mark.parametrize("label", EXAMPLES)
def test_alarms_exist_exactly_when_the_spec_asks(outcomes, label):
    _, outcome = outcomes[label]
    module = EXAMPLES[label]
    asked = (module / "alarms.tf").exists()
    assert asked == ("[alarms]" in spec_of(label).read_text()), label
    alarms_in = {
        run: {a for mode, a in outcome.addresses(*run) if a.startswith("aws_cloudwatch_metric_alarm.")}
        for run in outcome.states
    }
    if not asked:
        assert not any(alarms_in.values()), alarms_in
        return
    declared = {f"aws_cloudwatch_metric_alarm.{n}" for n in re.findall(
        r'^resource "aws_cloudwatch_metric_alarm" "([^"]+)"', (module / "alarms.tf").read_text(), re.M)}
    assert declared and alarms_in[("tests/alarms.tftest.hcl", "alarms_watch_this_instance")] == declared


def spec_of(label: str) -> pathlib.Path:
    return harness.REPO / "examples" / label / "sfngen.toml"


# (label, file, text, its replacement, the test file to run, the run that must fail, what its error names)
BREAKAGES = [
    ("queue-renamed", "queues.tf", 'name                       = "${var.name}-payments"',
     'name                       = "${var.name}-paymentz"', "names", "names_follow_the_name_input",
     "aws_sqs_queue.payments.name"),
    ("policy-names-another-queue", "iam.tf", ':${var.name}-payments-dlq",', ':${var.name}-warehouse-dlq.fifo",',
     "policies", EVERY_RESOURCE_RUN, "statement ReadDeadLetters of data.aws_iam_policy_document.dead_letters"),
    ("validation-loosened", "variables.tf", "var.callback_memory_mb >= 128 &&", "var.callback_memory_mb >= 0 &&",
     "inputs", "refuses_bad_values_1", "var.callback_memory_mb"),
    ("guard-rail-never-fires", "state_machine.tf", "!(var.log_level == \"ALL\" && var.include_execution_data)",
     "!(var.log_level == \"ALL\" && var.include_execution_data && false)", "checks",
     "warns_when_execution_logs_would_hold_task_tokens", "check.task_tokens_stay_out_of_execution_logs"),
    ("alarm-threshold-changed", "alarms.tf", "threshold           = 450", "threshold           = 451",
     "alarms", "alarms_watch_this_instance", "aws_cloudwatch_metric_alarm.payments_oldest_message.threshold"),
]


@pytest.fixture(scope="session")
def broken_outcomes(work, provider) -> dict[str, Outcome]:
    def run(breakage):
        label, file, text, replacement, test_file, _, _ = breakage
        root = work / f"broken-{label}"
        shutil.copytree(EXAMPLES["full"], root)
        source = (root / file).read_text()
        assert source.count(text) >= 1, f"{label}: {file} no longer holds {text!r}"
        (root / file).write_text(source.replace(text, replacement, 1))
        init = harness.init(root, provider)
        assert init.returncode == 0, init.describe()
        return Outcome(harness.terraform(root, provider, "test", "-json", f"-filter=tests/{test_file}.tftest.hcl"))

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip([b[0] for b in BREAKAGES], pool.map(run, BREAKAGES)))


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_a_broken_module_fails_the_run_that_covers_it(broken_outcomes, breakage):
    label, _, _, _, test_file, failing_run, named = breakage
    outcome = broken_outcomes[label]
    assert outcome.step.returncode != 0, outcome.describe()
    # "error" when a run misses an expected failure, "fail" when an assertion is false.
    assert outcome.summary.get("status") in ("fail", "error"), outcome.describe()
    path = f"tests/{test_file}.tftest.hcl"
    assert outcome.status.get((path, failing_run)) in ("fail", "error"), outcome.describe()
    errors = [
        m["diagnostic"].get("detail", "") for m in outcome.messages
        if m["type"] == "diagnostic" and m.get("@testrun") == failing_run
        and m["diagnostic"].get("severity") == "error"
    ]
    assert any(named in e for e in errors), outcome.describe()
