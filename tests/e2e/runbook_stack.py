"""The "runbook" stack: tests/e2e/runbook/sfngen.toml rendered as a root of its own and applied to the emulator, the
way a team applies a module it does not vendor (`terraform output` then reads the module's own outputs, as the module
README's runbook does). Its provider points at the emulator from a file beside the module's; `name` is the spec's."""

from pathlib import Path

from harness import render
from tfstack import pin_provider, provider_settings, quick

SPEC = Path(__file__).resolve().parent / "runbook" / "sfngen.toml"
NAME = "runbook"


def prepare(stack):
    render(SPEC, stack.dir)
    note = pin_provider(stack.dir, "runbook")
    if note:
        stack.notes.append(note)
    (stack.dir / "sfngen_e2e_provider.tf").write_text(
        "# Written by the sfngen end-to-end tests: this root's provider, pointed at the emulator.\n"
        f'provider "aws" {{\n{provider_settings(stack.endpoint)}}}\n'
    )


STAGES = quick(prepare)
