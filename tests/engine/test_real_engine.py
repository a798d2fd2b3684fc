"""Real Terraform core (the CLI on PATH, 1.11.4 here) on every module sfngen renders, against every hashicorp/aws
release the module admits:

- hashicorp/aws 6.9.0, 6.25.0 and 6.47.0 (no binary here): their committed schemas, served by
  tests/engine/schema_provider.py over the plugin protocol, installed from a filesystem mirror. `init`,
  `validate` and `plan` of a root calling every rendered module, and of examples/vendored as it is: zero errors
  and zero warnings in the -json diagnostics, and every resource block of every module in the plan.
- hashicorp/aws 5.100.0, the real provider binary (a local mirror, else the registry): `init` and `validate`.
- Proof that both can fail: deliberately broken modules (an unknown argument, a wrong type, a missing
  required argument, a block written as an argument, a reference to an attribute the release does not have,
  deprecated arguments, blocks and reads) give the diagnostic Terraform gives a user.

What this does not prove: the real 6.x provider's own value checks (ValidateFunc, plan modifiers, API
behaviour); the plugin accepts every value that the schema's types admit.
"""
import concurrent.futures
import dataclasses
import os
import pathlib
import re
import subprocess

import harness
import pytest

# Two terraform runs at a time: the machine has two cores.
JOBS = int(os.environ.get("SFNGEN_ENGINE_JOBS", "2"))
ROOTS = {"every-spec": harness.write_calling_root, "vendored": harness.write_vendored_root}


@pytest.fixture(scope="session")
def work(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("engine")


@pytest.fixture(scope="session")
def lambda_zip(work) -> pathlib.Path:
    return harness.fake_lambda_zip(work)


@pytest.fixture(scope="session")
def providers(work) -> dict[str, harness.Provider]:
    found = {v: harness.schema_provider(v, work) for v in harness.SCHEMA_VERSIONS}
    found[harness.REAL_VERSION] = harness.real_provider(work)
    return found


@dataclasses.dataclass
class Run:
    """One root through init, validate and (for the schema-served releases) plan."""

    root: pathlib.Path
    modules: dict[str, pathlib.Path]
    steps: list[harness.Step]
    installed: str | None = None
    plan: dict | None = None

    def report(self) -> str:
        return "\n".join(step.describe() for step in self.steps)


def run_root(root: pathlib.Path, modules, provider: harness.Provider, with_plan: bool) -> Run:
    run = Run(root, modules, [harness.init(root, provider)])
    if run.steps[-1].returncode != 0:
        return run
    run.installed = harness.installed_version(root)
    run.steps.append(harness.validate(root, provider))
    if with_plan and run.steps[-1].returncode == 0:
        step, run.plan = harness.plan(root, provider)
        run.steps.append(step)
    return run


def run_all(jobs: dict) -> dict:
    """{key: (root, modules, provider, with_plan)} through run_root, JOBS at a time."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
        futures = {key: pool.submit(run_root, *job) for key, job in jobs.items()}
        runs = {key: future.result() for key, future in futures.items()}
    for key, run in runs.items():
        harness.log(f"{key}: " + ", ".join(f"{s.command.split()[0]} {s.seconds:.1f} s" for s in run.steps))
    return runs


@pytest.fixture(scope="session")
def module_runs(work, lambda_zip, providers) -> dict:
    """Every root against every release: plan on the schema-served 6.x ones, validate on the real 5.100.0."""
    jobs = {}
    for version, provider in providers.items():
        for name, write in ROOTS.items():
            root = work / f"{name}-{version}"
            jobs[(name, version)] = (root, write(root, lambda_zip), provider, version != harness.REAL_VERSION)
    return run_all(jobs)


def assert_clean(run: Run, expected_commands: list[str]) -> None:
    commands = [step.command.split()[0] for step in run.steps]
    assert commands == expected_commands, run.report()
    for step in run.steps:
        assert step.returncode == 0, run.report()
        assert step.problems() == [], run.report()


def test_terraform_is_the_cli_on_path_and_new_enough():
    required = re.search(
        r'required_version = ">= ([0-9.]+)"', (harness.REPO / "examples/seed/module/versions.tf").read_text()
    ).group(1)
    out = subprocess.run([harness.terraform_bin(), "version", "-json"], capture_output=True, text=True, check=True)
    version = re.search(r'"terraform_version": "([0-9.]+)"', out.stdout).group(1)
    harness.log(f"terraform {version} at {harness.terraform_bin()}")
    assert tuple(map(int, version.split("."))) >= tuple(map(int, required.split("."))), (version, required)


@pytest.mark.parametrize("version", harness.SCHEMA_VERSIONS)
@pytest.mark.parametrize("root", ROOTS)
def test_init_validate_plan_clean_on_the_6x_schema(module_runs, root, version):
    run = module_runs[(root, version)]
    assert_clean(run, ["init", "validate", "plan"])
    assert run.installed == version, run.report()
    # Every resource block of every module is in the plan, to be created.
    planned = {
        change["address"]: change["change"]["actions"] for change in run.plan.get("resource_changes", [])
        if change.get("mode") == "managed"
    }
    for label, module in run.modules.items():
        for type_name, name in harness.declared(module, "resource"):
            address = f"module.{label}.{type_name}.{name}"
            assert planned.get(address) == ["create"], f"{address} not planned for creation: {sorted(planned)}"
    assert len(planned) == sum(len(harness.declared(m, "resource")) for m in run.modules.values())


@pytest.mark.parametrize("root", ROOTS)
def test_init_validate_clean_on_the_real_5_100_provider(module_runs, root):
    run = module_runs[(root, harness.REAL_VERSION)]
    assert_clean(run, ["init", "validate"])
    assert run.installed == harness.REAL_VERSION, run.report()


# --------------------------------------------------------------------------------- the judges can fail

# (case, broken.tf added to the seed module, expected (severity, summary), releases where Terraform must report
# it, releases where the same module is clean).
ALL_6X = tuple(harness.SCHEMA_VERSIONS)
REAL = (harness.REAL_VERSION,)
BROKEN = [
    (
        "unknown-argument",
        'resource "aws_sqs_queue" "broken" {\n  visibility_timeout = 30\n}\n',
        ("error", "Unsupported argument"),
        ALL_6X + REAL,
        (),
    ),
    (
        "wrong-type",
        'resource "aws_lambda_function" "broken" {\n  function_name = "f"\n  role          = aws_iam_role.callback.arn\n'
        '  architectures = "arm64"\n}\n',
        ("error", "Incorrect attribute value type"),
        ALL_6X,
        (),
    ),
    (
        "missing-required-argument",
        'resource "aws_sfn_state_machine" "broken" {\n  name       = "s"\n  definition = "{}"\n}\n',
        ("error", "Missing required argument"),
        ALL_6X,
        (),
    ),
    (
        "block-as-argument",
        'resource "aws_sfn_state_machine" "broken" {\n  name       = "s"\n  role_arn   = aws_iam_role.state_machine.arn\n'
        '  definition = "{}"\n\n  tracing_configuration = { enabled = true }\n}\n',
        ("error", "Unsupported argument"),
        ALL_6X,
        (),
    ),
    (
        "reference-to-a-missing-attribute",
        'output "broken" {\n  value = aws_sqs_queue.main.queue_arn\n}\n',
        ("error", "Unsupported attribute"),
        ALL_6X,
        (),
    ),
    (
        # aws_region's `region` exists from 6.0 on: 5.100 has only `name`.
        "attribute-of-a-later-release",
        'data "aws_region" "here" {}\n\noutput "broken" {\n  value = data.aws_region.here.region\n}\n',
        ("error", "Unsupported attribute"),
        REAL,
        ALL_6X,
    ),
    (
        "deprecated-argument",
        'resource "aws_iam_role" "broken" {\n  assume_role_policy  = "{}"\n  managed_policy_arns = []\n}\n',
        ("warning", "Argument is deprecated"),
        ALL_6X,
        (),
    ),
    (
        "deprecated-block",
        'resource "aws_iam_role" "broken" {\n  assume_role_policy = "{}"\n\n  inline_policy {\n    name   = "p"\n'
        '    policy = "{}"\n  }\n}\n',
        ("warning", "Block is deprecated"),
        ALL_6X,
        (),
    ),
    (
        # aws_region's `name` is deprecated from 6.0 on (Terraform core itself warns on the read); not in 5.100.
        "deprecated-attribute-read",
        'data "aws_region" "here" {}\n\noutput "broken" {\n  value = data.aws_region.here.name\n}\n',
        ("warning", "Deprecated attribute"),
        ALL_6X,
        REAL,
    ),
]
BROKEN_RUNS = [(case, v) for case, _, _, fails_on, clean_on in BROKEN for v in fails_on + clean_on]


@pytest.fixture(scope="session")
def broken_runs(work, lambda_zip, providers) -> dict:
    """Each case on each release it names: the seed module plus broken.tf, called from a root."""
    seed = harness.REPO / "examples" / "seed" / "sfngen.toml"
    jobs = {}
    for case, version in BROKEN_RUNS:
        tf = next(t for c, t, _, _, _ in BROKEN if c == case)
        root = work / f"broken-{case}-{version}"
        module = root / "modules" / "seed"
        harness.render(seed, module, lambda_zip)
        (module / "broken.tf").write_text(tf)
        (root / "main.tf").write_text('module "seed" {\n  source = "./modules/seed"\n}\n')
        jobs[(case, version)] = (root, {"seed": module}, providers[version], False)
    return run_all(jobs)


@pytest.mark.parametrize(
    "case,version", [(case, v) for case, _, _, fails_on, _ in BROKEN for v in fails_on]
)
def test_a_broken_module_gets_the_diagnostic(broken_runs, case, version):
    run = broken_runs[(case, version)]
    expected = next(e for c, _, e, _, _ in BROKEN if c == case)
    validate = run.steps[-1]
    assert validate.command.startswith("validate"), run.report()
    found = [(d["severity"], d["summary"]) for d in validate.problems()]
    assert expected in found, run.report()
    # Only broken.tf is at fault: the rendered module itself stays clean.
    for d in validate.problems():
        assert d.get("range", {}).get("filename", "").endswith("broken.tf"), run.report()
    assert (validate.returncode != 0) == (expected[0] == "error"), run.report()


@pytest.mark.parametrize(
    "case,version", [(case, v) for case, _, _, _, clean_on in BROKEN for v in clean_on]
)
def test_the_same_module_is_clean_where_the_release_allows_it(broken_runs, case, version):
    """Each release is judged by its own schema: what one release rejects, another may accept."""
    assert_clean(broken_runs[(case, version)], ["init", "validate"])


def test_the_mirror_finder_honours_its_override(work, providers, monkeypatch):
    mirror = work / f"mirror-{harness.SCHEMA_VERSIONS[0]}"
    monkeypatch.setenv("SFNGEN_PROVIDER_MIRROR", str(mirror))
    assert harness.provider_mirror.find(harness.SCHEMA_VERSIONS[0]) == str(mirror.resolve())
    with pytest.raises(SystemExit, match="has no registry.terraform.io/hashicorp/aws/9.9.9"):
        harness.provider_mirror.find("9.9.9")
