"""Terraform on the emulator: the real CLI and the real hashicorp/aws provider apply rendered modules to moto.

- The CLI is the first `terraform` on PATH (or SFNGEN_TERRAFORM) new enough for the modules (>= 1.5.7).
- The provider comes from a filesystem mirror when one is found (SFNGEN_TF_PROVIDER_MIRROR, then Terraform's
  usual plugin folders and /opt), otherwise `terraform init` downloads it from the registry. The session
  prints which.
- A `Stack` is a root module in a temporary folder: a provider block pointing every service at moto and one
  `module` block per rendered module, copied under `modules/` the way a team vendors them (the repository's
  files are never applied in place).
- A `Pipeline` runs a stack's init, validate, plan, apply and a second plan in a background thread, so the
  stacks of a session apply at the same time; tests wait for the stage they need.
"""

import atexit
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MIN_TERRAFORM = (1, 5, 7)
PROVIDER = "registry.terraform.io/hashicorp/aws"
# Every AWS service the modules (and the provider's data sources) call.
SERVICES = (
    "cloudwatch", "dynamodb", "events", "iam", "kms", "lambda", "logs", "secretsmanager", "sfn", "sns", "sqs", "sts",
)
# The provider spends most of an apply in fixed waits (SQS attribute propagation: 3 identical reads 7 s
# apart per queue); with many modules in one root, Terraform's default of 10 concurrent operations
# queues those waits behind each other.
PARALLELISM = int(os.environ.get("SFNGEN_TF_PARALLELISM", "64"))
OVERRIDE_FILE = "sfngen_e2e_override.tf"
STAGE_TIMEOUT = 1800

# (stack, command, seconds) of every Terraform command this session ran; printed at the end.
TIMINGS: list = []
_TIMINGS_LOCK = threading.Lock()


def record_timing(who: str, what: str, seconds: float):
    with _TIMINGS_LOCK:
        TIMINGS.append((who, what, seconds))


# ---------------------------------------------------------------------------------------------------------
# Finding the tools


def version_tuple(text: str) -> tuple:
    parts = [int(p) for p in re.findall(r"\d+", text)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def admits(constraint: str, version: str) -> bool:
    """Whether a Terraform version constraint (">= 6.9.0, < 7.0.0", "~> 5.0") admits `version`."""
    have = version_tuple(version)
    for part in constraint.split(","):
        match = re.fullmatch(r"\s*(>=|<=|!=|~>|>|<|=)?\s*v?(\d+(?:\.\d+){0,2})\s*", part)
        if not match:
            raise ValueError(f"unsupported version constraint {constraint!r}")
        op, text = match.group(1) or "=", match.group(2)
        want = version_tuple(text)
        if op == "~>":
            # ~> 5.1 admits 5.x >= 5.1; ~> 5.1.2 admits 5.1.x >= 5.1.2.
            depth = text.count(".")
            upper = (want[0] + 1, 0, 0) if depth < 2 else (want[0], want[1] + 1, 0)
            if not want <= have < upper:
                return False
        elif not {
            "=": have == want,
            "!=": have != want,
            ">": have > want,
            ">=": have >= want,
            "<": have < want,
            "<=": have <= want,
        }[op]:
            return False
    return True


def find_terraform() -> tuple:
    """(path, version) of the Terraform CLI: SFNGEN_TERRAFORM, else the first `terraform` on PATH that is at
    least MIN_TERRAFORM (scripts/tools-env.sh puts an older pip-packaged one first for `fmt`)."""
    candidates = []
    if os.environ.get("SFNGEN_TERRAFORM"):
        candidates.append(os.environ["SFNGEN_TERRAFORM"])
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        path = Path(folder) / "terraform"
        if path.is_file() and os.access(path, os.X_OK):
            candidates.append(str(path))
    seen = []
    for path in candidates:
        try:
            out = subprocess.run([path, "version", "-json"], capture_output=True, text=True, timeout=60).stdout
            version = json.loads(out)["terraform_version"]
        except (OSError, ValueError, KeyError, subprocess.TimeoutExpired):
            continue
        seen.append(f"{path} ({version})")
        if version_tuple(version) >= MIN_TERRAFORM:
            return path, version
    raise AssertionError(
        f"no Terraform >= {'.'.join(map(str, MIN_TERRAFORM))} found (SFNGEN_TERRAFORM, then PATH); saw: "
        f"{', '.join(seen) or 'none'}"
    )


def platform_name() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}_{arch}"


def mirror_candidates() -> list:
    """SFNGEN_TF_PROVIDER_MIRROR alone when set; else Terraform's implied local mirror folders
    (https://developer.hashicorp.com/terraform/cli/config/config-file#implied-local-mirror-directories),
    then any folder up to two levels under /opt, /srv and the share folders that holds a mirror layout."""
    if os.environ.get("SFNGEN_TF_PROVIDER_MIRROR"):
        return [Path(os.environ["SFNGEN_TF_PROVIDER_MIRROR"])]
    home = Path.home()
    data_home = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    data_dirs = [Path(d) for d in (os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":") if d]
    implied = [home / ".terraform.d" / "plugins", data_home / "terraform" / "plugins"]
    implied += [d / "terraform" / "plugins" for d in data_dirs]
    found = []
    for top in (Path("/opt"), Path("/srv"), *data_dirs):
        for depth in ("*", "*/*"):
            found += sorted(p.parents[2] for p in top.glob(f"{depth}/{PROVIDER}"))
    return list(dict.fromkeys([*implied, *found]))


def mirror_versions(root: Path) -> list:
    """hashicorp/aws versions a mirror folder holds for this platform, unpacked or packed layout."""
    base = root / PROVIDER
    if not base.is_dir():
        return []
    found = set()
    for entry in base.iterdir():
        if entry.is_dir() and any((entry / platform_name()).glob("terraform-provider-aws*")):
            found.add(entry.name)
        match = re.fullmatch(rf"terraform-provider-aws_(.+)_{platform_name()}\.zip", entry.name)
        if match:
            found.add(match.group(1))
    return sorted(found, key=version_tuple)


@dataclass
class Toolchain:
    terraform: str
    terraform_version: str
    mirror: Path | None
    provider_version: str | None  # the mirror's version; None: whatever the registry serves
    config_file: Path
    searched: list

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            TF_CLI_CONFIG_FILE=str(self.config_file),
            TF_IN_AUTOMATION="1",
            TF_INPUT="0",
            CHECKPOINT_DISABLE="1",
            AWS_EC2_METADATA_DISABLED="true",
        )
        for name in ("TF_LOG", "TF_LOG_PATH", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.pop(name, None)
        return env

    def describe(self) -> str:
        where = (
            f"hashicorp/aws {self.provider_version} from the filesystem mirror {self.mirror}"
            if self.mirror
            else f"hashicorp/aws from the registry (no filesystem mirror in {', '.join(map(str, self.searched))})"
        )
        return f"terraform {self.terraform_version} ({self.terraform}); {where}"


@lru_cache(maxsize=1)
def toolchain() -> Toolchain:
    terraform, version = find_terraform()
    searched = mirror_candidates()
    mirror = next((root for root in searched if mirror_versions(root)), None)
    if os.environ.get("SFNGEN_TF_PROVIDER_MIRROR") and mirror is None:
        raise AssertionError(f"SFNGEN_TF_PROVIDER_MIRROR={searched[0]} holds no {PROVIDER} for {platform_name()}")
    config = Path(tempfile.mkdtemp(prefix="sfngen-tf-")) / "terraform.rc"
    atexit.register(shutil.rmtree, config.parent, True)
    if mirror:
        config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["{PROVIDER}"]\n  }}\n'
            f'  direct {{\n    exclude = ["{PROVIDER}"]\n  }}\n'
            "}\n"
        )
        provider_version = mirror_versions(mirror)[-1]
    else:
        cache = Path(os.environ.get("SFNGEN_TOOLS", Path.home() / ".cache" / "sfngen-tools")) / "terraform-plugins"
        cache.mkdir(parents=True, exist_ok=True)
        config.write_text(f'plugin_cache_dir = "{cache}"\n')
        provider_version = None
    return Toolchain(terraform, version, mirror, provider_version, config, searched)


# ---------------------------------------------------------------------------------------------------------
# Writing roots


def provider_constraint(module: Path) -> str | None:
    """The `version` a module's required_providers asks of hashicorp/aws, if any."""
    for tf in sorted(module.glob("*.tf")):
        match = re.search(r'\baws\s*=\s*\{[^}]*?\bversion\s*=\s*"([^"]+)"', tf.read_text(), re.S)
        if match:
            return match.group(1)
    return None


def pin_provider(module: Path, label: str) -> str | None:
    """When the provider at hand is outside a module's constraint (a local mirror may hold one release the
    module does not admit), pins it in an override file in the test copy. Returns a note saying so."""
    version = toolchain().provider_version
    constraint = provider_constraint(module)
    if version is None or constraint is None or admits(constraint, version):
        return None
    (module / OVERRIDE_FILE).write_text(
        "# Written by the sfngen end-to-end tests into their copy of the module, never into the repository:\n"
        f'# the provider at hand is hashicorp/aws {version}, outside this module\'s "{constraint}".\n'
        "# An override file replaces that one constraint for this copy:\n"
        "# https://developer.hashicorp.com/terraform/language/files/override\n"
        "terraform {\n  required_providers {\n    aws = {\n"
        f'      source  = "hashicorp/aws"\n      version = "{version}"\n'
        "    }\n  }\n}\n"
    )
    return f'{label} asks for hashicorp/aws "{constraint}": pinned to {version} in {OVERRIDE_FILE}'


def provider_settings(endpoint: str) -> str:
    """The body of a provider "aws" block that sends every call to the emulator (moto's account is
    123456789012 whatever the keys)."""
    width = max(len(s) for s in SERVICES)
    endpoints = "\n".join(f'    {s.ljust(width)} = "{endpoint}"' for s in SERVICES)
    return (
        '  region     = "us-east-1"\n'
        '  access_key = "testing"\n'
        '  secret_key = "testing"\n\n'
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n\n"
        f"  endpoints {{\n{endpoints}\n  }}\n"
    )


def hcl_value(value) -> str:
    """A Python value as an HCL expression (JSON syntax is valid HCL for these; no templates)."""
    text = json.dumps(value)
    assert "${" not in text and "%{" not in text, text
    return text


class Stack:
    """A Terraform root on the emulator, in its own folder."""

    def __init__(self, name: str, directory: Path, endpoint: str):
        self.name = name
        self.dir = directory
        self.endpoint = endpoint
        self.dir.mkdir(parents=True, exist_ok=True)
        self.modules: dict = {}  # module block name -> (source folder name, arguments)
        self.notes: list = []

    # -- building the root

    def add_module(self, key: str, spec: Path, render, **arguments) -> Path:
        """Renders a spec into modules/KEY (the team's `sfngen render sfngen.toml -o modules/KEY`) and calls it."""
        module = render(spec, self.dir / "modules" / key)
        self.use_module(key, module, **arguments)
        return module

    def use_module(self, key: str, module: Path, source: str | None = None, **arguments):
        """Calls a module already in this root's modules/ folder (or copies one there)."""
        source = source or key
        target = self.dir / "modules" / source
        if module.resolve() != target.resolve():
            shutil.copytree(module, target, dirs_exist_ok=True)
        note = pin_provider(target, f"modules/{source}")
        if note and note not in self.notes:
            self.notes.append(note)
        self.modules[key] = (source, arguments)

    def write_root(self):
        version = toolchain().provider_version
        pin = f'\n      version = "{version}"' if version else ""
        blocks = [
            f"# The {self.name!r} stack of the sfngen end-to-end tests: the rendered modules under modules/, called\n"
            "# the way a team vendors them, applied to the emulator.\n",
            "terraform {\n  required_providers {\n    aws = {\n"
            f'      source  = "hashicorp/aws"{pin}\n    }}\n  }}\n}}\n',
            f'provider "aws" {{\n{provider_settings(self.endpoint)}}}\n',
        ]
        for key, (source, arguments) in self.modules.items():
            lines = [f'module "{key}" {{', f'  source = "./modules/{source}"']
            lines += [f"  {name} = {hcl_value(value)}" for name, value in arguments.items()]
            blocks.append("\n".join(lines) + "\n}\n")
            blocks.append(f'output "{key}" {{\n  value = module.{key}\n}}\n')
        (self.dir / "main.tf").write_text("\n".join(blocks))

    def adopt_root(self, source: Path, render):
        """Copies a root module that owns its provider block (examples/vendored), renders the spec it vendors
        (`render-to`), and points its provider at the emulator with an override file."""
        for tf in source.glob("*.tf"):
            shutil.copy(tf, self.dir / tf.name)
        into = self.dir / (source / "render-to").read_text().strip()
        render(source / "sfngen.toml", into)
        for folder in (self.dir, into):
            note = pin_provider(folder, f"{source.name}/{folder.relative_to(self.dir)}".rstrip("/."))
            if note:
                self.notes.append(note)
        # Merged into the root's own provider block: its region, keys and endpoints are replaced, its
        # default_tags are kept.
        (self.dir / "moto_override.tf").write_text(
            "# Written by the sfngen end-to-end tests: the root's provider, pointed at the emulator.\n"
            f'provider "aws" {{\n{provider_settings(self.endpoint)}}}\n'
        )

    # -- running Terraform

    def terraform(self, *args, ok=(0,), timeout: float = 1200) -> subprocess.CompletedProcess:
        tools = toolchain()
        env = tools.env()
        if os.environ.get("SFNGEN_TF_LOG"):
            # Timings of the provider's waits: SFNGEN_TF_LOG=debug writes one log per command here.
            env.update(TF_LOG=os.environ["SFNGEN_TF_LOG"], TF_LOG_PATH=str(self.dir / f"tf-{args[0]}.log"))
        started = time.monotonic()
        result = subprocess.run(
            [tools.terraform, f"-chdir={self.dir}", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        what = " ".join(a for a in args if not a.startswith("-")) or args[0]
        record_timing(self.name, what, time.monotonic() - started)
        if result.returncode not in ok:
            raise AssertionError(
                f"terraform {' '.join(args)} in {self.dir} exited {result.returncode}:\n"
                f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
            )
        return result

    def init(self):
        self.terraform("init", "-input=false", "-no-color")

    def validate(self) -> dict:
        return json.loads(self.terraform("validate", "-json", "-no-color", ok=(0, 1)).stdout)

    def plan(self, out: str = "tfplan", *extra) -> tuple:
        """(exit code: 0 no changes, 2 changes; the plan as `terraform show -json` prints it)."""
        code = self.plan_code(out, *extra)
        return code, self.show(out)

    def plan_code(self, out: str = "tfplan", *extra) -> int:
        """A plan saved to `out`; its exit code (0 no changes, 2 changes)."""
        return self.terraform(
            "plan", "-input=false", "-no-color", "-detailed-exitcode", f"-parallelism={PARALLELISM}", f"-out={out}",
            *extra, ok=(0, 2),
        ).returncode

    def state(self) -> dict:
        """The raw state (`terraform state pull`)."""
        return json.loads(self.terraform("state", "pull").stdout)

    def show(self, planfile: str | None = None) -> dict:
        args = ["show", "-json", "-no-color"] + ([planfile] if planfile else [])
        return json.loads(self.terraform(*args).stdout)

    def apply(self, planfile: str = "tfplan"):
        self.terraform("apply", "-input=false", "-no-color", f"-parallelism={PARALLELISM}", planfile)

    def outputs(self) -> dict:
        raw = json.loads(self.terraform("output", "-json", "-no-color").stdout)
        return {name: entry["value"] for name, entry in raw.items()}

    def state_list(self) -> list:
        return self.terraform("state", "list", "-no-color", ok=(0, 1)).stdout.split()

    def destroy(self):
        self.terraform("destroy", "-auto-approve", "-input=false", "-no-color", f"-parallelism={PARALLELISM}")


def managed_resources(state: dict) -> dict:
    """{module address: [(type, attributes)]} of every managed resource in a raw state (`terraform state
    pull`, which needs no provider process, unlike `show -json`)."""
    found: dict = {}
    for resource in state.get("resources", []):
        if resource["mode"] == "managed":
            for instance in resource["instances"]:
                found.setdefault(resource.get("module", ""), []).append((resource["type"], instance["attributes"]))
    return found


# ---------------------------------------------------------------------------------------------------------
# Running stacks in the background


class StageFailed(AssertionError):
    pass


def lifecycle(prepare) -> list:
    """The whole lifecycle a team runs: prepare (render, write the root), init, validate (-json), plan (saved,
    with `show -json`), apply (that plan; then the outputs), drift (a second plan: exit code 0, or 2 and the
    plan that says why)."""

    def validate(stack):
        report = stack.validate()
        if not report["valid"]:
            raise StageFailed(json.dumps(report["diagnostics"], indent=1))
        return report

    def apply(stack):
        stack.apply("first.tfplan")
        return stack.outputs()

    def drift(stack):
        code = stack.plan_code("drift.tfplan")
        return code, stack.show("drift.tfplan") if code else None

    return [
        ("prepare", prepare),
        ("init", Stack.init),
        ("validate", validate),
        ("plan", lambda stack: stack.plan("first.tfplan")),
        ("apply", apply),
        ("drift", drift),
    ]


def quick(prepare) -> list:
    """prepare, init, and `apply -auto-approve` (one provider run for plan and apply), then the outputs."""

    def apply(stack):
        stack.terraform("apply", "-auto-approve", "-input=false", "-no-color", f"-parallelism={PARALLELISM}")
        return stack.outputs()

    return [("prepare", prepare), ("init", Stack.init), ("apply", apply)]


class Pipeline:
    """A stack's stages, in order, in a background thread; a failed stage fails the ones after it, except
    stages named in `independent` (they need only what came before the first of them). `destroy()` comes
    later, on request, or right after the last stage with `destroy_when_done` (when the stages themselves
    record everything the tests check)."""

    def __init__(self, stack: Stack, stages: list, leftovers, independent=(), destroy_when_done: bool = False):
        self.stack = stack
        self._destroy_when_done = destroy_when_done
        self._stages = stages
        self._independent = set(independent)
        self._leftovers = leftovers
        self._events = {name: threading.Event() for name, _ in stages}
        self._events["destroy"] = threading.Event()
        self._results: dict = {}
        self._errors: dict = {}
        self._destroy_started = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"stack-{stack.name}", daemon=True)

    def start(self) -> "Pipeline":
        self._thread.start()
        return self

    def result(self, stage: str, timeout: float = STAGE_TIMEOUT):
        """The stage's result, waiting for it; raises StageFailed if it (or a stage it needs) failed."""
        if stage not in self._events:
            raise KeyError(f"stack {self.stack.name} has no stage {stage!r}")
        if not self._events[stage].wait(timeout):
            raise StageFailed(f"stack {self.stack.name}: {stage} did not finish within {timeout}s")
        if stage in self._errors:
            raise StageFailed(f"stack {self.stack.name}: {stage}: {self._errors[stage]}") from self._errors[stage]
        return self._results[stage]

    def _run(self):
        failed = None
        for name, stage in self._stages:
            if failed:
                self._errors[name] = StageFailed(f"not run: {failed} failed")
            else:
                started = time.monotonic()
                try:
                    self._results[name] = stage(self.stack)
                except BaseException as error:  # reported to the test that waits for this stage
                    self._errors[name] = error
                    if name not in self._independent:
                        failed = name
                record_timing(self.stack.name, f"stage {name}", time.monotonic() - started)
            self._events[name].set()
        if self._destroy_when_done:
            self.destroy()

    def destroy(self):
        """Starts the destroy (once, after the last stage) in the background; `result("destroy")` waits for
        {"inventory": {module: [(type, attributes)]}, "found_before": {module: [...]}, "state_list": [...],
        "leftovers": {module: [...]}}: what the emulator's list calls found of each module's resources before
        and after the destroy."""
        with self._lock:
            if self._destroy_started:
                return self
            self._destroy_started = True
        threading.Thread(target=self._destroy, name=f"destroy-{self.stack.name}", daemon=True).start()
        return self

    def _destroy(self):
        try:
            self._thread.join(STAGE_TIMEOUT)
            has_state = (self.stack.dir / "terraform.tfstate").exists()
            inventory = managed_resources(self.stack.state()) if has_state else {}
            found_before = {module: self._leftovers(resources) for module, resources in inventory.items()}
            if inventory:
                started = time.monotonic()
                self.stack.destroy()
                record_timing(self.stack.name, "stage destroy", time.monotonic() - started)
            self._results["destroy"] = {
                "inventory": inventory,
                "found_before": found_before,
                "state_list": self.stack.state_list() if has_state else [],
                "leftovers": {module: self._leftovers(resources) for module, resources in inventory.items()},
            }
        except BaseException as error:  # reported to the test that waits for the destroy
            self._errors["destroy"] = error
        self._events["destroy"].set()

    @property
    def destroy_started(self) -> bool:
        return self._destroy_started
