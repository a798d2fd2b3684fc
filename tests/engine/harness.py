"""Real Terraform core on every rendered module: roots that call the modules, provider mirrors, and the
`terraform` runs themselves (tests/engine/test_real_engine.py says what is checked).

Two kinds of provider:
- the 6.x releases, served from their committed schemas by tests/engine/schema_provider.py, installed through a
  generated filesystem mirror (one per release, so a root's own version constraint is what `init` checks);
- the real hashicorp/aws 5.100.0 binary from a local filesystem mirror (scripts/provider_mirror.py finds it),
  or from the registry when this machine has none.
Every root gets a `.terraform.lock.hcl` with the provider's `h1:` hash computed here, as a team commits it, so
`init` verifies the package instead of warning that it had to compute checksums itself."""
import base64
import dataclasses
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import zipfile

REPO = pathlib.Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "tests" / "data" / "provider-schema"
PLUGIN = REPO / "tests" / "engine" / "schema_provider.py"
# The 6.x releases whose schemas are committed; the plugin serves each.
SCHEMA_VERSIONS = ["6.9.0", "6.25.0", "6.47.0"]
# The release whose real binary this machine may have; its dump also carries the provider block's schema.
REAL_VERSION = "5.100.0"
PLATFORM = "linux_amd64"
PROVIDER = "registry.terraform.io/hashicorp/aws"
# Every terraform command is bounded; a hung one fails the test. `terraform test` of the full example plans and
# applies its runs against the mock provider: well within 300 s on 2 idle cores, beyond it on a loaded machine.
COMMAND_TIMEOUT = 600

sys.path.insert(0, str(REPO / "scripts"))
import provider_mirror  # noqa: E402  (scripts/provider_mirror.py)


def log(message: str) -> None:
    print(f"[engine] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- specs


def all_specs() -> list[tuple[str, pathlib.Path]]:
    """(label, spec) for every spec in the repository: examples/*/sfngen.toml, tests/data/specs/*.toml,
    tests/e2e/specs/*.toml. Labels are unique module names: example-seed, data-keyword-queues, e2e-fifo."""
    specs = [(f"example-{p.parent.name}", p) for p in sorted(REPO.glob("examples/*/sfngen.toml"))]
    specs += [(f"data-{p.stem}", p) for p in sorted(REPO.glob("tests/data/specs/*.toml"))]
    specs += [(f"e2e-{p.stem}", p) for p in sorted(REPO.glob("tests/e2e/specs/*.toml"))]
    return specs


def sfngen_bin() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("SFNGEN_BIN") or REPO / "target" / "debug" / "sfngen")
    if not path.is_file():
        raise RuntimeError(f"{path} does not exist: run `cargo build` or set SFNGEN_BIN (scripts/test.sh does)")
    return path


def fake_lambda_zip(folder: pathlib.Path) -> pathlib.Path:
    """A package holding a `bootstrap`: plan hashes it (filebase64sha256) and never runs it."""
    path = folder / "callback-stand-in.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("bootstrap", (1980, 1, 1, 0, 0, 0)), "#!/bin/sh\nexit 1\n")
    return path


def render(spec: pathlib.Path, out: pathlib.Path, lambda_zip: pathlib.Path) -> None:
    """`sfngen render SPEC -o OUT --lambda-zip ZIP`: the real CLI writes the module."""
    result = subprocess.run(
        [str(sfngen_bin()), "render", str(spec), "-o", str(out), "--lambda-zip", str(lambda_zip)],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"sfngen render {spec} failed ({result.returncode}):\n{result.stderr}")


def declared(module: pathlib.Path, kind: str) -> list[tuple[str, ...]]:
    """The labels of every top-level `kind` block (variable, resource...) of a module's .tf files."""
    pattern = re.compile(rf'^{kind}((?: "[^"]+")+) {{', re.M)
    found = []
    for tf in sorted(module.glob("*.tf")):
        for match in pattern.finditer(tf.read_text()):
            found.append(tuple(re.findall(r'"([^"]+)"', match.group(1))))
    return found


def counted(module: pathlib.Path) -> dict[tuple[str, str], str]:
    """{(type, name): count expression} of every resource block of a module that has `count`."""
    found = {}
    for tf in sorted(module.glob("*.tf")):
        for match in re.finditer(r'^resource "([^"]+)" "([^"]+)" \{\n  count = (.+)$', tf.read_text(), re.M):
            found[(match.group(1), match.group(2))] = match.group(3)
    return found


def variable_default(module: pathlib.Path, name: str) -> str:
    """The default of a module's variable, as written in variables.tf."""
    text = (module / "variables.tf").read_text()
    block = re.search(rf'^variable "{name}" {{\n(.*?)^}}', text, re.M | re.S)
    if block is None:
        raise AssertionError(f"{module} has no variable {name}")
    return re.search(r"^  default +=(.*)$", block.group(1), re.M).group(1).strip()


# ---------------------------------------------------------------------------------------------- roots


def module_call(label: str, module: pathlib.Path) -> str:
    """A `module` block calling a rendered module with the inputs a caller sets (validated ones included)."""
    variables = {name for (name,) in declared(module, "variable")}
    lines = [f'module "{label}" {{', f'  source = "./modules/{label}"', ""]
    inputs = {
        "tags": '{ Owner = "platform", Environment = "test" }',
        "permissions_boundary": '"arn:aws:iam::123456789012:policy/boundary"',
        "alarm_actions": '["arn:aws:sns:us-east-1:123456789012:alarms"]',
    }
    lines += [f"  {name} = {value}" for name, value in inputs.items() if name in variables]
    # Another account may put events on each bus the module creates, as a partner's would: the bus policy is planned.
    lines += [f'  {name} = ["111122223333"]' for name in sorted(variables) if name.endswith("_bus_publisher_accounts")]
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_calling_root(root: pathlib.Path, lambda_zip: pathlib.Path) -> dict[str, pathlib.Path]:
    """A root that calls every spec's rendered module; returns {label: module folder}."""
    modules = {}
    calls = []
    for label, spec in all_specs():
        module = root / "modules" / label
        render(spec, module, lambda_zip)
        modules[label] = module
        calls.append(module_call(label, module))
    (root / "main.tf").write_text(
        "# Calls every module sfngen renders from the repository's specs, as a team's root module would.\n"
        + 'terraform {\n  required_providers {\n    aws = {\n      source = "hashicorp/aws"\n    }\n  }\n}\n\n'
        + "\n".join(calls)
    )
    return modules


def write_vendored_root(root: pathlib.Path, lambda_zip: pathlib.Path) -> dict[str, pathlib.Path]:
    """examples/vendored as it is (its provider block, default_tags, versions.tf) with its module rendered
    where its render-to file says."""
    example = REPO / "examples" / "vendored"
    root.mkdir(parents=True, exist_ok=True)
    for tf in example.glob("*.tf"):
        shutil.copy(tf, root / tf.name)
    target = (example / "render-to").read_text().strip()
    render(example / "sfngen.toml", root / target, lambda_zip)
    return {pathlib.PurePath(target).name: root / target}


# ---------------------------------------------------------------------------------------------- providers


def dirhash_h1(files: list[tuple[str, bytes]]) -> str:
    """Terraform's `h1:` package hash (Go's dirhash.Hash1) of (relative path, contents) pairs."""
    lines = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files))
    return "h1:" + base64.b64encode(hashlib.sha256(lines.encode()).digest()).decode()


def package_hash(mirror: pathlib.Path, version: str) -> str:
    """The `h1:` hash of hashicorp/aws VERSION in a filesystem mirror (unpacked or packed layout)."""
    provider = mirror / PROVIDER
    unpacked = provider / version / PLATFORM
    if unpacked.is_dir():
        files = [(p.relative_to(unpacked).as_posix(), p) for p in unpacked.rglob("*") if p.is_file()]
        return dirhash_h1([(name, path.read_bytes()) for name, path in files])
    with zipfile.ZipFile(provider / f"terraform-provider-aws_{version}_{PLATFORM}.zip") as z:
        return dirhash_h1([(i.filename, z.read(i)) for i in z.infolist() if not i.is_dir()])


def lock_file(version: str, h1: str) -> str:
    return f'provider "{PROVIDER}" {{\n  version = "{version}"\n  hashes = [\n    "{h1}",\n  ]\n}}\n'


def mirror_cli_config(mirror: pathlib.Path) -> str:
    return provider_mirror.cli_config(str(mirror))


@dataclasses.dataclass
class Provider:
    """How a root gets hashicorp/aws: a CLI configuration, a lock file (or none), extra environment."""

    name: str
    version: str
    cli_config: pathlib.Path
    lock: str | None
    env: dict[str, str]


def schema_provider(version: str, work: pathlib.Path) -> Provider:
    """The plugin serving aws-VERSION.json, in a mirror of its own under `work`."""
    mirror = work / f"mirror-{version}"
    folder = mirror / PROVIDER / version / PLATFORM
    folder.mkdir(parents=True, exist_ok=True)
    launcher = folder / f"terraform-provider-aws_v{version}"
    launcher.write_text(
        "#!/bin/sh\n"
        "# Serves a committed hashicorp/aws schema over the plugin protocol (see tests/engine/schema_provider.py).\n"
        f'exec "{sys.executable}" "{PLUGIN}" --schema "{SCHEMAS / f"aws-{version}.json"}" '
        f'--provider-block "{SCHEMAS / f"aws-{REAL_VERSION}.json"}"\n'
    )
    launcher.chmod(0o755)
    config = work / f"cli-{version}.tfrc"
    config.write_text(mirror_cli_config(mirror))
    # Plaintext gRPC: the plugin does not do go-plugin's automatic mTLS.
    return Provider(f"schema-served {version}", version, config, lock_file(version, package_hash(mirror, version)),
                    {"TF_DISABLE_PLUGIN_TLS": "1"})


def real_provider(work: pathlib.Path) -> Provider:
    """The real hashicorp/aws 5.100.0: from a local mirror when one has it, else from the registry."""
    mirror = provider_mirror.find(REAL_VERSION)
    log(f"hashicorp/aws {REAL_VERSION} binary from: {mirror}")
    config = work / f"cli-{REAL_VERSION}.tfrc"
    config.write_text(provider_mirror.cli_config(mirror))
    lock = None
    if mirror != provider_mirror.REGISTRY:
        lock = lock_file(REAL_VERSION, package_hash(pathlib.Path(mirror), REAL_VERSION))
    return Provider(f"real {REAL_VERSION} ({mirror})", REAL_VERSION, config, lock, {})


# ---------------------------------------------------------------------------------------------- terraform


def terraform_bin() -> str:
    path = shutil.which("terraform")
    if path is None:
        raise RuntimeError("terraform is not on PATH: run `bash scripts/setup-tools.sh && source scripts/tools-env.sh`")
    return path


@dataclasses.dataclass
class Step:
    """One terraform command: its exit code, diagnostics (from -json output) and wall time."""

    command: str
    returncode: int
    diagnostics: list[dict]
    seconds: float
    output: str

    def problems(self) -> list[dict]:
        return [d for d in self.diagnostics if d.get("severity") in ("error", "warning")]

    def describe(self) -> str:
        lines = [f"terraform {self.command}: exit {self.returncode}, {self.seconds:.1f} s"]
        for d in self.diagnostics:
            where = d.get("range", {})
            lines.append(
                f"  {d.get('severity')}: {d.get('summary')}: {d.get('detail', '')}"
                f" [{where.get('filename', '')}:{where.get('start', {}).get('line', '')}]"
            )
        if self.returncode != 0 and not self.diagnostics:
            lines.append(self.output[-4000:])
        return "\n".join(lines)


def diagnostics_of(command: str, stdout: str) -> list[dict]:
    """Diagnostics from `validate -json` (one object) or from the JSON lines of init/plan -json."""
    if command.startswith("validate"):
        try:
            return json.loads(stdout).get("diagnostics", [])
        except json.JSONDecodeError:
            return []
    found = []
    for line in stdout.splitlines():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if message.get("type") == "diagnostic":
            found.append(message["diagnostic"])
    return found


def terraform(root: pathlib.Path, provider: Provider, *args: str) -> Step:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update(provider.env)
    env.update(
        TF_CLI_CONFIG_FILE=str(provider.cli_config),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
    )
    started = time.monotonic()
    try:
        result = subprocess.run(
            [terraform_bin(), *args], cwd=root, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
        )
        returncode, stdout, stderr = result.returncode, result.stdout, result.stderr
    except subprocess.TimeoutExpired as e:
        # TimeoutExpired holds what was read as bytes, even with text=True.
        partial = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout or ""
        returncode, stdout, stderr = -1, partial, f"timed out after {COMMAND_TIMEOUT} s"
    command = " ".join(args)
    return Step(command, returncode, diagnostics_of(command, stdout), time.monotonic() - started, stdout + stderr)


def init(root: pathlib.Path, provider: Provider) -> Step:
    if provider.lock is not None:
        (root / ".terraform.lock.hcl").write_text(provider.lock)
    return terraform(root, provider, "init", "-input=false", "-json")


def validate(root: pathlib.Path, provider: Provider) -> Step:
    return terraform(root, provider, "validate", "-json")


def plan(root: pathlib.Path, provider: Provider) -> tuple[Step, dict | None]:
    """`terraform plan -json -out`, then the plan as JSON (`terraform show -json`) when it succeeded."""
    step = terraform(root, provider, "plan", "-input=false", "-lock=false", "-json", "-out=tfplan")
    if step.returncode != 0:
        return step, None
    shown = terraform(root, provider, "show", "-json", "tfplan")
    return step, json.loads(shown.output.split("\n", 1)[0]) if shown.returncode == 0 else None


def installed_version(root: pathlib.Path) -> str | None:
    """The hashicorp/aws version `init` selected, from the lock file."""
    match = re.search(r'version\s*=\s*"([^"]+)"', (root / ".terraform.lock.hcl").read_text())
    return match.group(1) if match else None
