"""Rust callback (the module's bootstrap, x86_64, native) versus the seed's Python function (boto3), each as
a fresh process against the same moto server and Lambda Runtime API:

- cold: time from process start to the first SendTaskSuccess answered (the runtime's response posted);
- warm: callbacks per second over N sequential invokes in the same process;
- peak RSS of the process (VmHWM).

Usage: moto-python bench/lambda_bench.py [--warm N] [--runs R]   (after scripts/setup-tools.sh)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))

from harness import ROOT, Deployment, Moto, RuntimeApi, render  # noqa: E402


def peak_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def tokens(deployment: Deployment, count: int) -> list:
    found = []
    for _ in range(count):
        deployment.start(f"bench-{time.time_ns()}", {"bench": True})
        found.append(json.loads(deployment.receive("main")["Body"])["token"])
    return found


def run_once(command: list, env: dict, deployment: Deployment, warm: int) -> dict:
    api = RuntimeApi()
    batch = tokens(deployment, warm + 1)
    api.events.put(("cold", {"token": batch[0]}))
    full_env = dict(env, AWS_LAMBDA_RUNTIME_API=api.address)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        request_id, kind, body = api.results.get(timeout=60)
        cold = time.perf_counter() - started
        assert (request_id, kind) == ("cold", "response"), body
        warm_started = time.perf_counter()
        for token in batch[1:]:
            kind, body = api.invoke({"token": token})
            assert kind == "response", body
        per_second = warm / (time.perf_counter() - warm_started)
        rss = peak_rss_kb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)
        api.stop()
    return {"cold_ms": cold * 1000, "warm_per_s": per_second, "rss_mb": rss / 1024}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    moto = Moto()
    try:
        workdir = Path(tempfile.mkdtemp())
        module = render(HERE.parent / "tests" / "e2e" / "specs" / "x86.toml", workdir / "module")
        deployment = Deployment(moto, module)
        with zipfile.ZipFile(module / "callback.zip") as z:
            z.extract("bootstrap", workdir)
        (workdir / "bootstrap").chmod(0o755)
        env = {
            "PATH": os.environ["PATH"],
            "AWS_LAMBDA_FUNCTION_NAME": "callback",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL": moto.endpoint,
        }
        contenders = {
            "rust (sfngen bootstrap)": [str(workdir / "bootstrap")],
            "python (seed, boto3)": [sys.executable, str(HERE / "seed_callback.py")],
        }
        results = {}
        for name, command in contenders.items():
            runs = [run_once(command, env, deployment, args.warm) for _ in range(args.runs)]
            results[name] = {
                "cold_ms": statistics.median(r["cold_ms"] for r in runs),
                "warm_per_s": statistics.median(r["warm_per_s"] for r in runs),
                "rss_mb": statistics.median(r["rss_mb"] for r in runs),
            }
    finally:
        moto.stop()

    rust, python = results["rust (sfngen bootstrap)"], results["python (seed, boto3)"]
    print(f"callback Lambda, fresh process per run, median of {args.runs} runs, {args.warm} warm callbacks each")
    print(f"{'':28} {'start→first callback':>22} {'warm callbacks/s':>18} {'peak RSS':>10}")
    for name, r in results.items():
        print(f"{name:28} {r['cold_ms']:>19.1f} ms {r['warm_per_s']:>18.1f} {r['rss_mb']:>7.1f} MB")
    print(
        f"{'rust advantage':28} {python['cold_ms'] / rust['cold_ms']:>20.1f}x "
        f"{rust['warm_per_s'] / python['warm_per_s']:>17.1f}x {python['rss_mb'] / rust['rss_mb']:>8.1f}x"
    )


if __name__ == "__main__":
    main()
