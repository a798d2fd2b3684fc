"""The change report agrees with Terraform: for a matrix of spec edits on modules applied to the emulator, the
stateful resources (queues, dead-letter queues, the state machine, log groups, the KMS key) that `terraform plan`
replaces or deletes are exactly the ones `sfngen render` reported, no more and no fewer.

One "report" stack applies two base modules (one plain, one with a FIFO queue, KMS everywhere and alarms) once.
Then, in the background, each case in turn writes its edit of its base's spec and renders it into the module
folder Terraform applied: without `--allow-replace` first (a render that replaces or deletes something must exit 2
and leave the folder byte for byte as it was; one that does not must write), then with it. It plans that module
(`-target`, `-refresh=false`: nothing changed in the emulator since the apply, so plans read no resource back),
and puts the folder back as the apply left it. No case applies: every plan is against the same applied base.
"""

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import render, sfngen_binary
from tfstack import quick, record_timing

PLAIN = """\
name = "rpt-plain"

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
name = "rpt-kms"

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
        "aws_cloudwatch_log_group.state_machine[0]",
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

    def spec(self) -> str:
        text = BASES[self.base]
        for old, new in self.edits:
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
    Case("name_changed", "plain", [('name = "rpt-plain"', 'name = "rpt-renamed"')], EVERYTHING_NAMED),
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
    Case(
        "log_level_off",
        "plain",
        [('log_level = "ERROR"', 'log_level = "OFF"')],
        {("deletes", "aws_cloudwatch_log_group.state_machine[0]")},
    ),
    Case("log_retention", "plain", [('log_level = "ERROR"\n', 'log_level = "ERROR"\nlog_retention_days = 30\n')], set()),
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
    for base, text in BASES.items():
        spec = stack.dir / "specs" / f"{base}.toml"
        spec.write_text(text)
        stack.add_module(base, spec, render)
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
    """Each case: render its edit (refused, then allowed), plan, put the module back. {case key: what happened}."""
    applied = {base: stack.dir / "applied" / base for base in BASES}
    for base, copy in applied.items():
        shutil.copytree(stack.dir / "modules" / base, copy)
    found = {}
    for case in CASES:
        module = stack.dir / "modules" / case.base
        spec = stack.dir / "specs" / f"{case.base}.toml"
        spec.write_text(case.spec())
        before = snapshot(module)
        first = render_case(spec, module)
        unchanged = snapshot(module) == before
        allowed = render_case(spec, module, "--allow-replace") if first.returncode == 2 else first
        code, plan = stack.plan(f"{case.key}.tfplan", f"-target=module.{case.base}", "-refresh=false")
        found[case.key] = {
            "first": (first.returncode, first.stderr, unchanged),
            "allowed": (allowed.returncode, allowed.stderr),
            "plan": (code, plan),
        }
        shutil.rmtree(module)
        shutil.copytree(applied[case.base], module)
        spec.write_text(BASES[case.base])
    return found


pytestmark = pytest.mark.stack("report", quick(prepare) + [("cases", run_cases)], destroy_when_done=True)


def reported(stderr: str) -> set:
    """(verb, address) of each line of the change report."""
    return {(m.group(1), m.group(2)) for m in map(REPORT_LINE.match, stderr.splitlines()) if m}


def planned(plan: dict, module: str) -> set:
    """(verb, address in the module) of each stateful resource the plan replaces or deletes."""
    found = set()
    for change in plan.get("resource_changes", []):
        actions = change["change"]["actions"]
        if change["mode"] != "managed" or change["type"] not in STATEFUL or "delete" not in actions:
            continue
        assert change.get("module_address") == f"module.{module}", change["address"]
        verb = "replaces" if "create" in actions else "deletes"
        found.add((verb, change["address"].removeprefix(f"module.{module}.")))
    return found


@pytest.mark.parametrize("case", CASES, ids=[c.key for c in CASES])
def test_the_report_names_exactly_the_stateful_resources_terraform_replaces_or_deletes(stacks, case):
    done = stacks["report"].result("cases")[case.key]
    first_code, first_stderr, unchanged = done["first"]
    allowed_code, allowed_stderr = done["allowed"]
    plan_code, plan = done["plan"]
    assert allowed_code == 0, allowed_stderr
    assert plan_code == 2, "the edit plans no change"
    report = reported(first_stderr)
    assert planned(plan, case.base) == report, first_stderr
    assert report == case.expect, first_stderr
    if report:
        # Such a render exits 2 and writes nothing; --allow-replace says the same lines and writes.
        assert first_code == 2 and unchanged, first_stderr
        assert "nothing was written" in first_stderr.splitlines()[-2], first_stderr
        assert reported(allowed_stderr) == report, allowed_stderr
    else:
        assert first_code == 0 and not unchanged, first_stderr
        assert "replaces" not in first_stderr and "deletes" not in first_stderr, first_stderr
