"""The change report agrees with Terraform: for a matrix of spec edits on modules applied to the emulator, the
stateful resources (queues, dead-letter queues, the state machine, log groups, the KMS key) that `terraform plan`
replaces or deletes are exactly the ones `sfngen render` reported, no more and no fewer.

The "report" stack applies one module per case, each rendered from the case's base spec (a plain one, or one with
a FIFO queue, KMS everywhere and alarms), in one apply. Then, in the background, each case writes its edit of the
spec and renders it into the module folder Terraform applied: without `--allow-replace` first (a render that
replaces or deletes something must exit 2 and leave the folder byte for byte as it was; one that does not must
write), then with it. One `terraform plan` (`-refresh=false`: nothing changed in the emulator since the apply)
then plans every case's edit at once; each resource change names its module, so its case. Nothing is applied
after the base.
"""

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import render, sfngen_binary
from tfstack import quick, record_timing

PLAIN = """\
name = "{name}"

[state_machine]
log_level = "ERROR"

[[steps]]
name = "Work"
queue = "jobs"

[[steps]]
name = "Audit"
queue = "audit"

[queues.jobs]

[queues.audit]
"""

KMS = """\
name = "{name}"

[state_machine]
encryption = "kms"

[[steps]]
name = "Work"
queue = "jobs"

[queues.jobs]
fifo = true
encryption = "kms"
dead_letter = false

[logs]
encryption = "kms"

[alarms]
"""

BASES = {"plain": PLAIN, "kms": KMS}

# The Terraform types whose replacement or deletion loses state.
STATEFUL = {"aws_sqs_queue", "aws_sfn_state_machine", "aws_cloudwatch_log_group", "aws_kms_key"}

EVERYTHING_NAMED = {
    ("replaces", a)
    for a in (
        "aws_sqs_queue.jobs",
        "aws_sqs_queue.jobs_dlq",
        "aws_sqs_queue.audit",
        "aws_sqs_queue.audit_dlq",
        "aws_sfn_state_machine.this",
        "aws_cloudwatch_log_group.state_machine",
        "aws_cloudwatch_log_group.callback",
        "aws_cloudwatch_log_group.dead_letters",
    )
}


@dataclass
class Case:
    key: str
    base: str
    edits: list  # [(old text, new text)] applied in turn to the base spec
    # What the case is about: the (verb, address) pairs both Terraform and sfngen must name. The test holds each
    # side to the other; this keeps the matrix honest about what it covers.
    expect: set

    @property
    def name(self) -> str:
        """The module's name (each case has its own module in the emulator)."""
        return "rpt-" + self.key.replace("_", "-")

    def spec(self, edited: bool = True) -> str:
        text = BASES[self.base].format(name=self.name)
        for old, new in self.edits if edited else []:
            assert old in text, (self.key, old)
            text = text.replace(old, new)
        return text


AUDIT_STEP = '[[steps]]\nname = "Audit"\nqueue = "audit"\n\n'
CASES = [
    Case(
        "fifo_on",
        "plain",
        [("[queues.jobs]\n", "[queues.jobs]\nfifo = true\n")],
        {("replaces", "aws_sqs_queue.jobs"), ("replaces", "aws_sqs_queue.jobs_dlq")},
    ),
    Case(
        "queue_key_renamed",
        "plain",
        [('queue = "jobs"', 'queue = "work"'), ("[queues.jobs]", "[queues.work]")],
        {("deletes", "aws_sqs_queue.jobs"), ("deletes", "aws_sqs_queue.jobs_dlq")},
    ),
    Case(
        "queue_removed",
        "plain",
        [(AUDIT_STEP, ""), ("\n[queues.audit]\n", "")],
        {("deletes", "aws_sqs_queue.audit"), ("deletes", "aws_sqs_queue.audit_dlq")},
    ),
    Case(
        "queue_added",
        "plain",
        [("[queues.audit]\n", '[queues.audit]\n\n[[steps]]\nname = "Extra"\nqueue = "extra"\n\n[queues.extra]\n')],
        set(),
    ),
    Case("name_changed", "plain", [('name = "rpt-name-changed"', 'name = "rpt-name-changed-2"')], EVERYTHING_NAMED),
    Case(
        "dead_letter_off",
        "plain",
        [("[queues.jobs]\n", "[queues.jobs]\ndead_letter = false\n")],
        {("deletes", "aws_sqs_queue.jobs_dlq")},
    ),
    Case(
        "dead_letters_all_off",
        "plain",
        [
            ("[queues.jobs]\n", "[queues.jobs]\ndead_letter = false\n"),
            ("[queues.audit]\n", "[queues.audit]\ndead_letter = false\n"),
        ],
        # No queue's dead letters left to fail executions: the dead-letter function and its log group go too.
        {
            ("deletes", "aws_sqs_queue.jobs_dlq"),
            ("deletes", "aws_sqs_queue.audit_dlq"),
            ("deletes", "aws_cloudwatch_log_group.dead_letters"),
        },
    ),
    Case("queue_kms", "plain", [("[queues.jobs]\n", '[queues.jobs]\nencryption = "kms"\n')], set()),
    # The execution log group exists at every level: OFF changes the state machine's logging alone.
    Case("log_level_off", "plain", [('log_level = "ERROR"', 'log_level = "OFF"')], set()),
    Case("log_retention", "plain", [('log_level = "ERROR"\n', 'log_level = "ERROR"\nlog_retention_days = 90\n')], set()),
    Case("state_machine_kms", "plain", [('log_level = "ERROR"\n', 'log_level = "ERROR"\nencryption = "kms"\n')], set()),
    Case("step_renamed", "plain", [('name = "Work"', 'name = "Labour"')], set()),
    Case("steps_reordered", "plain", [(AUDIT_STEP, ""), ('[[steps]]\nname = "Work"', AUDIT_STEP + '[[steps]]\nname = "Work"')], set()),
    Case("logs_kms", "plain", [("[queues.audit]\n", '[queues.audit]\n\n[logs]\nencryption = "kms"\n')], set()),
    Case("alarms_on", "plain", [("[queues.audit]\n", "[queues.audit]\n\n[alarms]\n")], set()),
    Case("fifo_off", "kms", [("fifo = true\n", "")], {("replaces", "aws_sqs_queue.jobs")}),
    Case(
        "kms_off",
        "kms",
        [('encryption = "kms"\n', ""), ('\n[logs]\n', "")],
        {("deletes", "aws_kms_key.this")},
    ),
    Case("dead_letter_on", "kms", [("dead_letter = false\n", "")], set()),
    Case("alarms_off", "kms", [("\n[alarms]\n", "")], set()),
]
assert len({c.key for c in CASES}) == len(CASES)

REPORT_LINE = re.compile(r"^(replaces|deletes) (\S+)( \(|: loses )")


def prepare(stack):
    (stack.dir / "specs").mkdir()
    for case in CASES:
        spec = stack.dir / "specs" / f"{case.key}.toml"
        spec.write_text(case.spec(edited=False))
        stack.add_module(case.key, spec, render)
    stack.write_root()


def snapshot(folder: Path) -> dict:
    """{path: bytes} of every file under `folder`."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def render_case(spec: Path, module: Path, *flags: str) -> subprocess.CompletedProcess:
    started = time.monotonic()
    result = subprocess.run(
        [str(sfngen_binary()), "render", str(spec), "-o", str(module), *flags],
        capture_output=True,
        text=True,
        timeout=120,
    )
    record_timing("sfngen", f"render report/{spec.name} {' '.join(flags)}".strip(), time.monotonic() - started)
    return result


def run_cases(stack) -> dict:
    """Each case renders its edit (refused, then allowed); then one plan of them all. {case key: what happened},
    and the plan."""
    found = {}
    for case in CASES:
        module = stack.dir / "modules" / case.key
        spec = stack.dir / "specs" / f"{case.key}.toml"
        spec.write_text(case.spec())
        before = snapshot(module)
        first = render_case(spec, module)
        unchanged = snapshot(module) == before
        allowed = render_case(spec, module, "--allow-replace") if first.returncode == 2 else first
        found[case.key] = {
            "first": (first.returncode, first.stderr, unchanged),
            "allowed": (allowed.returncode, allowed.stderr),
        }
    code, plan = stack.plan("cases.tfplan", "-refresh=false")
    return {"cases": found, "plan_code": code, "plan": plan}


pytestmark = pytest.mark.stack("report", quick(prepare) + [("cases", run_cases)], destroy_when_done=True)


def reported(stderr: str) -> set:
    """(verb, address) of each line of the change report."""
    return {(m.group(1), m.group(2)) for m in map(REPORT_LINE.match, stderr.splitlines()) if m}


def planned(plan: dict, module: str) -> set:
    """(verb, address in the module) of each stateful resource the plan replaces or deletes in `module`."""
    found = set()
    for change in plan.get("resource_changes", []):
        actions = change["change"]["actions"]
        if change["mode"] != "managed" or change["type"] not in STATEFUL or "delete" not in actions:
            continue
        if change.get("module_address") != f"module.{module}":
            continue
        verb = "replaces" if "create" in actions else "deletes"
        found.add((verb, change["address"].removeprefix(f"module.{module}.")))
    return found


def changed_modules(plan: dict) -> set:
    """The modules in which the plan changes something."""
    return {
        c.get("module_address")
        for c in plan.get("resource_changes", [])
        if c["mode"] == "managed" and c["change"]["actions"] != ["no-op"]
    }


@pytest.mark.parametrize("case", CASES, ids=[c.key for c in CASES])
def test_the_report_names_exactly_the_stateful_resources_terraform_replaces_or_deletes(stacks, case):
    done = stacks["report"].result("cases")
    first_code, first_stderr, unchanged = done["cases"][case.key]["first"]
    allowed_code, allowed_stderr = done["cases"][case.key]["allowed"]
    plan = done["plan"]
    assert allowed_code == 0, allowed_stderr
    assert f"module.{case.key}" in changed_modules(plan), "the edit plans no change"
    report = reported(first_stderr)
    assert planned(plan, case.key) == report, first_stderr
    assert report == case.expect, first_stderr
    if report:
        # Such a render exits 2 and writes nothing; --allow-replace says the same lines and writes.
        assert first_code == 2 and unchanged, first_stderr
        assert "nothing was written" in first_stderr.splitlines()[-2], first_stderr
        assert reported(allowed_stderr) == report, allowed_stderr
    else:
        assert first_code == 0 and not unchanged, first_stderr
        assert "replaces" not in first_stderr and "deletes" not in first_stderr, first_stderr

