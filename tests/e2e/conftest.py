"""Session fixtures: one emulator, and the Terraform stacks that the selected tests ask for (a test module
says `pytestmark = pytest.mark.stack(NAME[, stages][, options of tfstack.Pipeline])`), all run at the same time in the
background from the start of the session. Tests marked `last` run after every other test (the destroys)."""

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, CallbackFunction, Deployment, Moto, module_key, new_stack, render  # noqa: E402
from tfstack import TIMINGS, lifecycle, toolchain  # noqa: E402

SPECS = Path(__file__).resolve().parent / "specs"
EXAMPLES = ROOT / "examples"


def main_specs() -> list:
    """The "main" stack: the seed, full and channels examples and every end-to-end spec, in one root and one apply."""
    return [
        EXAMPLES / "seed" / "sfngen.toml",
        EXAMPLES / "full" / "sfngen.toml",
        EXAMPLES / "channels" / "sfngen.toml",
        *sorted(SPECS.glob("*.toml")),
    ]


def prepare_main(stack):
    for spec in main_specs():
        stack.add_module(module_key(spec), spec, render)
    stack.write_root()


def prepare_vendored(stack):
    """examples/vendored is itself a root (it owns the provider and calls ./modules/callbacks)."""
    stack.adopt_root(EXAMPLES / "vendored", render)


KNOWN_STACKS = {"main": lifecycle(prepare_main), "vendored": lifecycle(prepare_vendored)}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "stack(name, stages=None, independent=(), destroy_when_done=False): a Terraform stack a test uses"
    )
    config.addinivalue_line("markers", "last: run after every other test (destroys)")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


# Said at the end of the session (output during tests is captured): which Terraform and provider, and pins.
SESSION_NOTES: list = []


def pytest_terminal_summary(terminalreporter):
    if SESSION_NOTES:
        terminalreporter.section("terraform and provider")
        for note in SESSION_NOTES:
            terminalreporter.write_line(note)
    if not TIMINGS:
        return
    terminalreporter.section("terraform commands and stages, renders (who, what, seconds)")
    for stack, command, seconds in TIMINGS:
        terminalreporter.write_line(f"  {stack:<22} {command:<28} {seconds:7.1f}")


@pytest.fixture(scope="session")
def moto():
    server = Moto()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stacks(request, moto):
    """{name: tfstack.Pipeline} of every stack the selected tests mark, started at once."""
    wanted = {}
    for item in request.session.items:
        for mark in item.iter_markers("stack"):
            name = mark.args[0]
            stages = mark.args[1] if len(mark.args) > 1 else KNOWN_STACKS[name]
            wanted.setdefault(name, (stages, mark.kwargs))
    SESSION_NOTES.append(toolchain().describe())
    pipelines = {name: new_stack(name, moto, stages, **options).start() for name, (stages, options) in wanted.items()}
    yield pipelines
    notes = sorted({f"  {p.stack.name}: {note}" for p in pipelines.values() for note in p.stack.notes})
    if notes:
        SESSION_NOTES.append("provider pinned in the test copies (the provider at hand is outside their constraint):")
        SESSION_NOTES.extend(notes)
    for pipeline in pipelines.values():
        if pipeline.destroy_started:
            try:
                pipeline.result("destroy")
            except AssertionError:
                pass  # reported by the test that asked for the destroy
        if not os.environ.get("SFNGEN_E2E_KEEP"):
            shutil.rmtree(pipeline.stack.dir, ignore_errors=True)


@pytest.fixture(autouse=True)
def _destroys_start_together(request):
    """The destroys (tests marked `last`, which run after every other test) start at once, all stacks in
    parallel, when the first of them runs; each test then waits for its own."""
    if request.node.get_closest_marker("last"):
        for pipeline in request.getfixturevalue("stacks").values():
            pipeline.destroy()


@pytest.fixture(scope="session")
def deployments(moto, stacks):
    """The main stack's module of a spec, as Terraform applied it."""
    cache = {}

    def get(spec: Path) -> Deployment:
        key = module_key(spec)
        if key not in cache:
            cache[key] = Deployment(moto, stacks["main"].result("apply")[key])
        return cache[key]

    return get


@pytest.fixture(scope="session")
def module_dir(stacks):
    """The folder of a spec's rendered module in the main stack (what Terraform applied)."""

    def get(spec: Path) -> Path:
        stacks["main"].result("prepare")
        return stacks["main"].stack.dir / "modules" / module_key(spec)

    return get


@pytest.fixture
def deploy(moto, deployments):
    """The deployment of a spec and a fresh process of its callback function for this test (stopped after it)."""
    started = []

    def get(spec: Path):
        deployment = deployments(spec)
        function = CallbackFunction.deployed(moto, deployment.function_name)
        started.append(function)
        return deployment, function

    yield get
    for function in started:
        function.stop()


@pytest.fixture
def seed(deploy):
    return deploy(EXAMPLES / "seed" / "sfngen.toml")
