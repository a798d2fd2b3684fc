"""sfngen's speed, side by side in one run: the first render on a fresh install, `sfngen render` of the seed spec
into a fresh folder, a re-render into an unchanged folder, `sfngen check`, renders of 1 to 1,000 steps (the cost of
each step), and with `--cdk` `cdk synth` of the same stack as a CDK app (bench/cdk, Python), cold and warm, with
the ratios.

The first render on a fresh install: sfngen installed as a user does (`cargo install --locked --path .`, into a
folder of this run), an empty sfngen cache (a new `SFNGEN_CACHE` folder each run) and no cargo-lambda or zig on
PATH: the render writes the shipped Lambda package into the cache, then the module. The steady state: the package
already in the cache (the render links it into the module).

Every figure is wall time including process start (posix_spawn to exit, measured here), the median of
`--runs` runs. Outputs go to a folder under
target/ (the file system a repository lives on, not a tmpfs), created before each timed run and removed
at the end. Runs go round after round through all cases, so that a change in the machine's load touches
them all alike. `--baseline BINARY` times another sfngen build in the same rounds (the before of a
before/after).

Usage: python3 bench/render_bench.py [--runs 50] [--cdk [--cdk-runs 5]] [--baseline PATH]
       (builds target/release/sfngen first; --cdk installs aws-cdk from npm and aws-cdk-lib from PyPI,
       pinned, into the tools cache, ~/.cache/sfngen-tools/cdk-bench, the first time)
"""

import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed" / "sfngen.toml"
CDK_APP = ROOT / "bench" / "cdk"
SEED_TEMPLATE = ROOT / "bench" / "data" / "seed-cdk-synth-template.json"

# Pinned for --cdk: the CDK CLI (npm) and the construct library for Python (PyPI).
AWS_CDK_CLI = "2.1148.1"
AWS_CDK_LIB = "2.275.0"
CONSTRUCTS = "10.8.1"

STEPS = [1, 10, 100, 1000]


def spec_with(steps: int) -> str:
    """`steps` callback steps over one queue per ten steps, each with a timeout and heartbeat (and no
    guard-rail warning: a 30-minute step under the one-hour execution timeout)."""
    queues = max(1, steps // 10)
    lines = ['name = "bench"', ""]
    for i in range(steps):
        lines += ["[[steps]]", f'name = "Step{i:04}"', f'queue = "q{i % queues}"', 'timeout = "30m"', 'heartbeat = "5m"', ""]
    for q in range(queues):
        lines += [f"[queues.q{q}]", ""]
    return "\n".join(lines)


def timed(argv: list, env: dict | None = None) -> float:
    """Runs `argv` once with stdout and stderr to /dev/null: milliseconds from spawn to exit."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env if env is not None else os.environ, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    elapsed = (time.perf_counter() - started) * 1000
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(map(str, argv))} (run it by hand to see why)")
    return elapsed


def peak_rss(argv: list) -> str:
    """Peak RSS of one run, from GNU time: a child of this Python process would report Python's own."""
    if not Path("/usr/bin/time").exists():
        return "n/a"
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *map(str, argv)], capture_output=True, text=True)
    return f"{int(out.stderr.strip().splitlines()[-1]) / 1024:.1f} MB"


class Case:
    """One command, timed for each binary: `prepare(binary)` returns (argv, cleanup)."""

    def __init__(self, label, prepare):
        self.label, self.prepare = label, prepare
        self.times = collections.defaultdict(list)

    def run_once(self, name, binary):
        argv, cleanup = self.prepare(binary)
        self.times[name].append(timed(argv))
        cleanup()

    def median(self, name):
        return statistics.median(self.times[name])

    def peak_rss(self, binary):
        argv, cleanup = self.prepare(binary)
        rss = peak_rss(argv)
        cleanup()
        return rss


def fresh_folder_case(label, work, spec):
    # The folders stay until the end: removing each one at once would have the file system busy
    # committing the removal while the next command is timed.
    def prepare(binary):
        parent = Path(tempfile.mkdtemp(dir=work))
        return [str(binary), "render", str(spec), "-o", str(parent / "module")], lambda: None

    return Case(label, prepare)


def unchanged_folder_case(label, work, spec):
    folders = {}

    def prepare(binary):
        if binary not in folders:
            folders[binary] = Path(tempfile.mkdtemp(dir=work)) / "module"
            subprocess.run([str(binary), "render", str(spec), "-o", str(folders[binary])], check=True, capture_output=True)
        return [str(binary), "render", str(spec), "-o", str(folders[binary])], lambda: None

    return Case(label, prepare)


def path_without_lambda_tools() -> str:
    """PATH less the folders holding cargo-lambda or zig: a machine with Rust and nothing else."""
    kept = [d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d, "cargo-lambda").exists() or Path(d, "zig").exists())]
    return os.pathsep.join(kept)


def fresh_install(work: Path) -> Path:
    """sfngen installed as a user does, into a folder of this run (cargo reuses target/'s release build)."""
    root = work / "install"
    subprocess.run(
        ["cargo", "install", "--quiet", "--locked", "--path", str(ROOT), "--root", str(root), "--target-dir", str(ROOT / "target")],
        check=True,
    )
    return root / "bin" / "sfngen"


def first_render_times(binary: Path, work: Path, runs: int) -> list:
    """The first render on a fresh install, `runs` times: each with a new, empty cache and folder."""
    env = dict(os.environ, PATH=path_without_lambda_tools())
    times = []
    for _ in range(runs):
        parent = Path(tempfile.mkdtemp(dir=work))
        env["SFNGEN_CACHE"] = str(parent / "cache")
        times.append(timed([str(binary), "render", str(SEED), "-o", str(parent / "module")], env))
        if not (parent / "cache" / "packages").is_dir() or not (parent / "module" / "callback.zip").is_file():
            sys.exit("the first render did not write the package into the cache and the module")
    return times


def check_case(label, spec):
    return Case(label, lambda binary: ([str(binary), "check", str(spec)], lambda: None))


def assert_rerender_writes_nothing(binary, work):
    out = Path(tempfile.mkdtemp(dir=work)) / "module"
    subprocess.run([str(binary), "render", str(SEED), "-o", str(out)], check=True, capture_output=True)
    again = subprocess.run([str(binary), "render", str(SEED), "-o", str(out)], check=True, capture_output=True, text=True)
    if ": 0 written" not in again.stderr:
        sys.exit(f"a re-render of an unchanged module wrote files: {again.stderr}")


def run_sfngen(args, binaries: dict, work: Path) -> dict:
    """Every sfngen case, `args.runs` times each."""
    cases = {
        "fresh": fresh_folder_case("render seed, fresh folder", work, SEED),
        "unchanged": unchanged_folder_case("re-render seed, unchanged folder", work, SEED),
        "check": check_case("check seed", SEED),
    }
    for steps in STEPS:
        path = work / f"steps-{steps}.toml"
        path.write_text(spec_with(steps))
        cases[("fresh", steps)] = fresh_folder_case(f"{steps} steps, fresh folder", work, path)
        cases[("unchanged", steps)] = unchanged_folder_case(f"{steps} steps, unchanged folder", work, path)
    # Round after round through every case and binary, so that a change in the machine's load touches
    # all of them alike.
    for _ in range(args.runs):
        for case in cases.values():
            for name, binary in binaries.items():
                case.run_once(name, binary)
    return cases


def print_sfngen(cases: dict, binaries: dict, runs: int):
    names = list(binaries)
    compare = len(names) == 2
    current = binaries[names[-1]]
    print(f"\nsfngen: wall time including process start, median of {runs} runs (Lambda package in the cache)")
    print(f"{'command':34}" + "".join(f"{name:>14}" for name in names) + (f"{'speed-up':>10}" if compare else "") + f"{'peak RSS':>11}")
    for key in ["fresh", "unchanged", "check"]:
        case = cases[key]
        row = f"{case.label:34}" + "".join(f"{case.median(name):>11.2f} ms" for name in names)
        row += f"{case.median(names[0]) / case.median(names[1]):>9.1f}x" if compare else ""
        print(row + f"{case.peak_rss(current):>11}")
    print("\nN steps (one queue per ten steps): render into a fresh folder, re-render into an unchanged one,")
    print("and the cost of each step beyond the first")
    print(f"{'steps':>6} {'binary':>10}{'fresh':>12}{'per step':>11}{'unchanged':>12}{'per step':>11}{'peak RSS':>11}")
    for name in names:
        for steps in STEPS:
            row = f"{steps:>6} {name:>10}"
            for mode in ["fresh", "unchanged"]:
                median, one = cases[(mode, steps)].median(name), cases[(mode, 1)].median(name)
                per_step = f"{(median - one) / (steps - 1) * 1000:>8.1f} us" if steps > 1 else f"{'':>11}"
                row += f"{median:>9.2f} ms{per_step}"
            print(row + f"{cases[('fresh', steps)].peak_rss(binaries[name]):>11}")


def machine_load() -> str:
    """The 1-minute load average and CPU pressure: the figures mean little on a busy machine."""
    load = f"load average {os.getloadavg()[0]:.1f}"
    try:
        some = Path("/proc/pressure/cpu").read_text().split()[1]
        return f"{load}, CPU pressure {some.split('=')[1]}% (10 s)"
    except (OSError, IndexError):
        return load


def tools_dir() -> Path:
    return Path(os.environ.get("SFNGEN_TOOLS", Path.home() / ".cache" / "sfngen-tools")) / "cdk-bench"


def install_cdk() -> Path:
    """The CDK CLI and a venv with aws-cdk-lib, pinned, in the tools cache (a stamp makes it once)."""
    tools = tools_dir()
    stamp = f"aws-cdk@{AWS_CDK_CLI} aws-cdk-lib=={AWS_CDK_LIB} constructs=={CONSTRUCTS}"
    stamp_file = tools / ".stamp"
    if not (stamp_file.exists() and stamp_file.read_text().strip() == stamp):
        print(f"[bench] installing {stamp} into {tools}", file=sys.stderr)
        shutil.rmtree(tools, ignore_errors=True)
        tools.mkdir(parents=True)
        subprocess.run(["npm", "init", "-y"], cwd=tools, check=True, capture_output=True)
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", f"aws-cdk@{AWS_CDK_CLI}"], cwd=tools, check=True
        )
        subprocess.run([sys.executable, "-m", "venv", str(tools / "venv")], check=True)
        subprocess.run(
            [str(tools / "venv/bin/pip"), "install", "--quiet", "--disable-pip-version-check",
             f"aws-cdk-lib=={AWS_CDK_LIB}", f"constructs=={CONSTRUCTS}"],
            check=True,
        )
        stamp_file.write_text(stamp + "\n")
    return tools


def cdk_synth_argv(tools: Path, out: Path) -> list:
    app = f"{tools / 'venv/bin/python'} {CDK_APP / 'app.py'}"
    return [str(tools / "node_modules/.bin/cdk"), "synth", "--quiet", "--no-notices", "--app", app, "--output", str(out)]


def cdk_env(tools: Path) -> dict:
    env = dict(os.environ)
    # No network but the package registries here: no telemetry, no notices, no update check.
    env.update(CDK_DISABLE_CLI_TELEMETRY="true", CDK_DISABLE_VERSION_CHECK="true")
    env["PATH"] = f"{tools / 'venv/bin'}:{env['PATH']}"
    return env


def resource_types(template: dict) -> collections.Counter:
    return collections.Counter(resource["Type"] for resource in template["Resources"].values())


def run_cdk(args, work: Path) -> float:
    tools = install_cdk()
    env = cdk_env(tools)
    # The first synth of the run (no cdk.out, node and Python starting with whatever caches they have): the cold
    # figure; it also checks the app.
    out = work / "cdk.out"
    started = time.perf_counter()
    subprocess.run(cdk_synth_argv(tools, out), cwd=CDK_APP, env=env, check=True, capture_output=True)
    cold = (time.perf_counter() - started) * 1000
    synthesized = json.loads((out / "StepFunctionCallbackStack.template.json").read_text())
    seed = json.loads(SEED_TEMPLATE.read_text())
    if resource_types(synthesized) != resource_types(seed):
        sys.exit(f"bench/cdk synthesizes {resource_types(synthesized)}, the seed {resource_types(seed)}")
    times = []
    for _ in range(args.cdk_runs):
        shutil.rmtree(out)
        started = time.perf_counter()
        subprocess.run(cdk_synth_argv(tools, out), cwd=CDK_APP, env=env, check=True, capture_output=True)
        times.append((time.perf_counter() - started) * 1000)
    print(
        f"\ncdk synth (aws-cdk {AWS_CDK_CLI}, aws-cdk-lib {AWS_CDK_LIB} for Python) of the same stack "
        f"({sum(resource_types(seed).values())} resources, the seed's types): first of the run {cold:.0f} ms, "
        f"then the median of {args.cdk_runs} runs: {statistics.median(times):.0f} ms"
    )
    return cold, statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--cdk", action="store_true", help="also time cdk synth (installs aws-cdk, aws-cdk-lib)")
    parser.add_argument("--cdk-runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another sfngen binary to time in the same runs")
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--locked"], cwd=ROOT, check=True)
    binaries = {}
    if args.baseline:
        binaries["baseline"] = args.baseline.resolve()
    binaries["sfngen"] = ROOT / "target" / "release" / "sfngen"
    (ROOT / "target").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=ROOT / "target"))
    try:
        installed = fresh_install(work)
        for binary in binaries.values():
            # Put the Lambda package in the cache (an older sfngen builds it the first time), so that the runs
            # below measure the steady state.
            subprocess.run([str(binary), "render", str(SEED), "-o", str(work / "warm" / binary.name)], check=True)
            shutil.rmtree(work / "warm")
        assert_rerender_writes_nothing(binaries["sfngen"], work)
        load_before = machine_load()
        floor = statistics.median(timed(["/bin/true"]) for _ in range(args.runs))
        first = statistics.median(first_render_times(installed, work, args.runs))
        cases = run_sfngen(args, binaries, work)
        print(f"\nmachine: {os.cpu_count()} cores; {load_before} before, {machine_load()} after")
        print(
            f"\nfirst render of the seed on a fresh install (cargo install --locked --path .; empty cache; no cargo-lambda "
            f"or zig on PATH), median of {args.runs} runs: {first:.2f} ms"
        )
        print_sfngen(cases, binaries, args.runs)
        print(f"\nprocess start floor (/bin/true): {floor:.2f} ms")
        if args.cdk:
            cold, synth = run_cdk(args, work)
            fresh, check = cases["fresh"].median("sfngen"), cases["check"].median("sfngen")
            print(f"cdk synth cold / first sfngen render on a fresh install: {cold / first:,.0f}x")
            print(f"cdk synth / sfngen render (fresh folder):               {synth / fresh:,.0f}x")
            print(f"cdk synth / sfngen check:                               {synth / check:,.0f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
