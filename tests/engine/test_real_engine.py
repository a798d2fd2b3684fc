"""Real Terraform core (the CLI on PATH, 1.11.4 here) on every module sfngen renders, against every hashicorp/aws
release the module admits:

- hashicorp/aws 6.9.0, 6.25.0 and 6.47.0 (no binary here): their committed schemas, served by
  tests/engine/schema_provider.py over the plugin protocol, installed from a filesystem mirror. `init`,
  `validate` and `plan` of a root calling every rendered module, and of examples/vendored as it is: zero errors
  and zero warnings in the -json diagnostics, and every resource block of every module in the plan.
- hashicorp/aws 5.100.0, the real provider binary (a local mirror, else the registry): `init` and `validate`.
- Proof that both can fail: deliberately broken modules (an unknown argument, a wrong type, a missing
  required argument, a block written as an argument, a reference to an attribute the release does not have,
  a template variable not passed to templatefile(), deprecated arguments, blocks and reads) give the
  diagnostic Terraform gives a user; the release-specific ones are clean where the release allows them.

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
        r'required_version = ">= ([0-9.]+)"', (harness.REPO / "modules/seed/versions.tf").read_text()
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
    assert run.plan is not None, f"terraform show -json tfplan failed:\n{run.report()}"
    # Every resource block of every module is in the plan, to be created: once, or, with `count`, as many
    # times as the inputs say (the dashboard while dashboard_enabled, true by default; a custom bus's policy while
    # its publisher accounts are set, as the root sets them; the execution log group and the business-failure
    # filters on it exist at every log level).
    planned = {
        change["address"]: change["change"]["actions"] for change in run.plan.get("resource_changes", [])
        if change.get("mode") == "managed"
    }
    expected = []
    for label, module in run.modules.items():
        counted = harness.counted(module)
        dashboard = harness.variable_default(module, "dashboard_enabled") == "true"
        bus_policies = {
            (type_name, name): f"length(var.{name.replace('-', '_')}_bus_publisher_accounts) > 0 ? 1 : 0"
            for type_name, name in counted
            if type_name == "aws_cloudwatch_event_bus_policy"
        }
        assert counted == {("aws_cloudwatch_dashboard", "this"): "var.dashboard_enabled ? 1 : 0"} | bus_policies, counted
        for type_name, name in harness.declared(module, "resource"):
            address = f"module.{label}.{type_name}.{name}"
            if (type_name, name) not in counted:
                expected.append(address)
            elif dashboard or (type_name, name) in bus_policies:
                expected.append(f"{address}[0]")
    assert sorted(planned) == sorted(expected), run.report()
    assert set(map(tuple, planned.values())) == {("create",)}, planned


@pytest.mark.parametrize("root", ROOTS)
def test_init_validate_clean_on_the_real_5_100_provider(module_runs, root):
    run = module_runs[(root, harness.REAL_VERSION)]
    assert_clean(run, ["init", "validate"])
    assert run.installed == harness.REAL_VERSION, run.report()


# --------------------------------------------------------------------------------- the judges can fail

ALL_6X = tuple(harness.SCHEMA_VERSIONS)
REAL = (harness.REAL_VERSION,)


@dataclasses.dataclass
class Case:
    """A deliberately broken seed module: `broken_tf` added as broken.tf, or `replace` = (file, old, new)
    applied to a rendered file; Terraform must report `expected` (severity, summary) in `at` on every release
    of `fails_on`, and find the same module clean on every release of `clean_on`."""

    name: str
    expected: tuple[str, str]
    fails_on: tuple[str, ...]
    broken_tf: str | None = None
    replace: tuple[str, str, str] | None = None
    clean_on: tuple[str, ...] = ()

    @property
    def at(self) -> str:
        return self.replace[0] if self.replace else "broken.tf"

    def apply(self, module: pathlib.Path) -> None:
        if self.broken_tf is not None:
            (module / "broken.tf").write_text(self.broken_tf)
        if self.replace is not None:
            file, old, new = self.replace
            text = (module / file).read_text()
            assert old in text, f"{self.name}: {old!r} is not in the rendered {file}"
            (module / file).write_text(text.replace(old, new))


CASES = [
    Case(
        "unknown-argument",
        ("error", "Unsupported argument"),
        ALL_6X + REAL,
        broken_tf='resource "aws_sqs_queue" "broken" {\n  visibility_timeout = 30\n}\n',
    ),
    Case(
        "wrong-type",
        ("error", "Incorrect attribute value type"),
        ALL_6X,
        broken_tf='resource "aws_lambda_function" "broken" {\n  function_name = "f"\n'
        '  role          = aws_iam_role.callback.arn\n  architectures = "arm64"\n}\n',
    ),
    Case(
        "missing-required-argument",
        ("error", "Missing required argument"),
        ALL_6X,
        broken_tf='resource "aws_sfn_state_machine" "broken" {\n  name       = "s"\n  definition = "{}"\n}\n',
    ),
    Case(
        "block-as-argument",
        ("error", "Unsupported argument"),
        ALL_6X,
        broken_tf='resource "aws_sfn_state_machine" "broken" {\n  name       = "s"\n'
        '  role_arn   = aws_iam_role.state_machine.arn\n  definition = "{}"\n\n'
        '  tracing_configuration = { enabled = true }\n}\n',
    ),
    Case(
        "reference-to-a-missing-attribute",
        ("error", "Unsupported attribute"),
        ALL_6X,
        broken_tf='output "broken" {\n  value = aws_sqs_queue.main.queue_arn\n}\n',
    ),
    Case(
        # aws_region's `region` exists from 6.0 on: 5.100 has only `name`.
        "attribute-of-a-later-release",
        ("error", "Unsupported attribute"),
        REAL,
        broken_tf='data "aws_region" "here" {}\n\noutput "broken" {\n  value = data.aws_region.here.region\n}\n',
        clean_on=ALL_6X,
    ),
    Case(
        # The ASL names a template variable that the module's templatefile() call does not pass.
        "templatefile-without-a-variable",
        ("error", "Invalid function argument"),
        ALL_6X,
        replace=("state_machine.tf", "    queue_url_main = aws_sqs_queue.main.url\n", ""),
    ),
    Case(
        "deprecated-argument",
        ("warning", "Argument is deprecated"),
        ALL_6X,
        broken_tf='resource "aws_iam_role" "broken" {\n  assume_role_policy  = "{}"\n  managed_policy_arns = []\n}\n',
    ),
    Case(
        "deprecated-block",
        ("warning", "Block is deprecated"),
        ALL_6X,
        broken_tf='resource "aws_iam_role" "broken" {\n  assume_role_policy = "{}"\n\n  inline_policy {\n'
        '    name   = "p"\n    policy = "{}"\n  }\n}\n',
    ),
    Case(
        # aws_region's `name` is deprecated from 6.0 on (Terraform core itself warns on the read); not in 5.100.
        "deprecated-attribute-read",
        ("warning", "Deprecated attribute"),
        ALL_6X,
        broken_tf='data "aws_region" "here" {}\n\noutput "broken" {\n  value = data.aws_region.here.name\n}\n',
        clean_on=REAL,
    ),
]
CASE = {case.name: case for case in CASES}


@pytest.fixture(scope="session")
def broken_runs(work, lambda_zip, providers) -> dict:
    """Each case on each release it names: the seed module, broken, called from a root."""
    seed = harness.REPO / "examples" / "seed" / "sfngen.toml"
    jobs = {}
    for case in CASES:
        for version in case.fails_on + case.clean_on:
            root = work / f"broken-{case.name}-{version}"
            module = root / "modules" / "seed"
            harness.render(seed, module, lambda_zip)
            case.apply(module)
            (root / "main.tf").write_text('module "seed" {\n  source = "./modules/seed"\n}\n')
            jobs[(case.name, version)] = (root, {"seed": module}, providers[version], False)
    return run_all(jobs)


@pytest.mark.parametrize("case,version", [(case.name, v) for case in CASES for v in case.fails_on])
def test_a_broken_module_gets_the_diagnostic(broken_runs, case, version):
    run = broken_runs[(case, version)]
    validate = run.steps[-1]
    assert validate.command.startswith("validate"), run.report()
    found = [(d["severity"], d["summary"]) for d in validate.problems()]
    assert CASE[case].expected in found, run.report()
    # Only the broken file is at fault: the rest of the rendered module stays clean.
    for d in validate.problems():
        assert d.get("range", {}).get("filename", "").endswith(f"/{CASE[case].at}"), run.report()
    assert (validate.returncode != 0) == (CASE[case].expected[0] == "error"), run.report()


@pytest.mark.parametrize("case,version", [(case.name, v) for case in CASES for v in case.clean_on])
def test_the_same_module_is_clean_where_the_release_allows_it(broken_runs, case, version):
    """Each release is judged by its own schema: what one release rejects, another may accept."""
    assert_clean(broken_runs[(case, version)], ["init", "validate"])


def test_the_mirror_finder_honours_its_override(work, providers, monkeypatch):
    mirror = work / f"mirror-{harness.SCHEMA_VERSIONS[0]}"
    monkeypatch.setenv("SFNGEN_PROVIDER_MIRROR", str(mirror))
    assert harness.provider_mirror.find(harness.SCHEMA_VERSIONS[0]) == str(mirror.resolve())
    with pytest.raises(SystemExit, match="has no registry.terraform.io/hashicorp/aws/9.9.9"):
        harness.provider_mirror.find("9.9.9")
