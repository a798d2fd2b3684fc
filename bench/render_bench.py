"""Wall time (including process start) and peak RSS of `sfngen render` for specs of 1 to 1,000 steps,
with the callback Lambda package already built (cached), each run into a fresh output folder.

Usage: python3 bench/render_bench.py [--runs N]   (builds target/release/sfngen first)
"""

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed" / "sfngen.toml"


def spec_with(steps: int) -> str:
    """`steps` callback steps over one queue per ten steps, each with a timeout and heartbeat."""
    queues = max(1, steps // 10)
    lines = ['name = "bench"', ""]
    for i in range(steps):
        lines += ["[[steps]]", f'name = "Step{i:04}"', f'queue = "q{i % queues}"', 'timeout = "1h"', 'heartbeat = "5m"', ""]
    for q in range(queues):
        lines += [f"[queues.q{q}]", ""]
    return "\n".join(lines)


def measure(binary: Path, spec: Path, runs: int) -> tuple:
    times, peaks = [], []
    for _ in range(runs):
        out = Path(tempfile.mkdtemp()) / "module"
        started = time.perf_counter()
        process = subprocess.Popen([str(binary), "render", str(spec), "-o", str(out)], stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        times.append((time.perf_counter() - started) * 1000)
        peaks.append(usage.ru_maxrss / 1024)
        assert status == 0, f"render of {spec} failed"
        shutil.rmtree(out.parent)
    return statistics.median(times), min(times), statistics.median(peaks)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--locked"], cwd=ROOT, check=True)
    binary = ROOT / "target" / "release" / "sfngen"
    # Warm the Lambda package cache (a build the first time), so runs measure rendering only.
    subprocess.run([str(binary), "render", str(SEED), "-o", str(Path(tempfile.mkdtemp()) / "warm")], check=True)
    work = Path(tempfile.mkdtemp())
    cases = [("seed example", SEED, 1)]
    for steps in [1, 10, 100, 200, 1000]:
        path = work / f"steps-{steps}.toml"
        path.write_text(spec_with(steps))
        cases.append((f"{steps} steps", path, steps))
    print(f"sfngen render, wall time including process start, median of {args.runs} runs, Lambda package cached")
    print(f"{'spec':14} {'median':>10} {'min':>10} {'each step beyond the first':>28} {'peak RSS':>10}")
    one_step = None
    for label, path, steps in cases:
        median, fastest, rss = measure(binary, path, args.runs)
        if label == "1 steps":
            one_step = median
        marginal = f"{(median - one_step) / (steps - 1) * 1000:>22.1f} us" if one_step and steps > 1 else f"{'':>25}"
        print(f"{label:14} {median:>7.1f} ms {fastest:>7.1f} ms {marginal} {rss:>7.1f} MB")


if __name__ == "__main__":
    main()
