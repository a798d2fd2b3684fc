"""The callback Lambda against its floor and against the seed's Python function, each as a fresh process
against the same moto server and Lambda Runtime API:

- the callback: the Rust `bootstrap` of lambda/ (x86_64, native);
- the floor: bench/floor, a std-only Rust process that does only what answering needs: it takes the event
  from the Runtime API, sends the same SendTaskSuccess request over plain HTTP/1.1 (SigV4 skipped: the
  Authorization header has the right shape and an all-zero signature, which moto does not verify) and posts
  the response. What the callback takes beyond the floor is its own cost (SDK, runtime, signing, logging);
- the seed's Python function (boto3), as the seed sample ships it (bench/seed_callback.py).

Figures, median over interleaved runs (contender A, B, C, then A, B, C again, so drift hits all alike):

- start: from process start to the first SendTaskSuccess answered (the Runtime API has the response);
- warm: callbacks per second over N sequential invokes in the same process;
- peak RSS of the process (VmHWM).

Usage: moto-python bench/lambda_bench.py [--runs R] [--warm N] [--bootstrap PATH]   (after
scripts/setup-tools.sh and `source scripts/tools-env.sh`). Without --bootstrap it builds lambda/ with
`cargo build --release` (x86_64); pass the `bootstrap` from a rendered module's callback.zip to measure the
shipped bytes. bench/floor is built with `cargo build --release` (no dependencies, seconds).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from harness import Moto, RuntimeApi, stop_process, wait_until  # noqa: E402

REGION = "us-east-1"
# One callback Task, the message the module sends: {input, token}.
DEFINITION = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "QUEUE_URL", "MessageBody": {"input.$": "$", "token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}


def cargo_build(manifest: Path) -> Path:
    """`cargo build --release` of a crate (niced: the machine is shared); returns its `target/release`."""
    subprocess.run(
        ["nice", "cargo", "build", "--release", "--quiet", "--manifest-path", str(manifest)], check=True, timeout=1800
    )
    return manifest.parent / "target" / "release"


class Workflow:
    """A queue and a state machine waiting on a task token, created in moto with boto3."""

    def __init__(self, moto: Moto):
        self.sqs = moto.client("sqs")
        self.sfn = moto.client("stepfunctions")
        self.queue_url = self.sqs.create_queue(QueueName="bench-main")["QueueUrl"]
        role = moto.client("iam").create_role(RoleName="bench-state-machine", AssumeRolePolicyDocument="{}")
        definition = json.dumps(DEFINITION).replace("QUEUE_URL", self.queue_url)
        self.state_machine_arn = self.sfn.create_state_machine(
            name="bench", definition=definition, roleArn=role["Role"]["Arn"]
        )["stateMachineArn"]
        self.started = 0

    def tokens(self, count: int) -> list:
        """Starts `count` executions and returns their task tokens."""
        for _ in range(count):
            self.started += 1
            self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=f"bench-{self.started}", input="{}")
        found = []

        def receive():
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in got.get("Messages", []):
                found.append(json.loads(message["Body"])["token"])
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            return len(found) >= count

        wait_until(receive, 60 + count / 10, f"{count} task messages")
        return found


def peak_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_ms(pid: int) -> float:
    """CPU time the process has used so far, all threads (from /proc/PID/task/*/schedstat, in ns)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        total += int((task / "schedstat").read_text().split()[0])
    return total / 1e6


def run_once(command: list, env: dict, workflow: Workflow, warm: int) -> dict:
    api = RuntimeApi()
    # A process stopped while its /next request is pending leaves a handler writing to a closed socket.
    api.server.handle_error = lambda request, address: None
    batch = workflow.tokens(warm + 1)
    api.events.put(("cold", {"token": batch[0]}))
    full_env = dict(env, AWS_LAMBDA_RUNTIME_API=api.address)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        request_id, kind, body = api.results.get(timeout=60)
        cold = time.perf_counter() - started
        cold_cpu = cpu_ms(process.pid)
        assert (request_id, kind) == ("cold", "response"), body
        assert "failed" not in body, body
        warm_started = time.perf_counter()
        for token in batch[1:]:
            kind, body = api.invoke({"token": token})
            assert kind == "response" and "failed" not in body, body
        per_second = warm / (time.perf_counter() - warm_started)
        rss = peak_rss_kb(process.pid)
    finally:
        stop_process(process)
        api.stop()
    return {"cold_ms": cold * 1000, "cpu_ms": cold_cpu, "warm_per_s": per_second, "rss_mb": rss / 1024}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--bootstrap", type=Path, help="the callback binary (default: build lambda/)")
    parser.add_argument("--compare", type=Path, help="another callback binary (e.g. an earlier build) to run alongside")
    args = parser.parse_args()

    bootstrap = args.bootstrap or cargo_build(ROOT / "lambda" / "Cargo.toml") / "bootstrap"
    floor = cargo_build(HERE / "floor" / "Cargo.toml") / "sfngen-callback-floor"
    moto = Moto()
    try:
        workflow = Workflow(moto)
        env = {
            "PATH": os.environ["PATH"],
            "AWS_LAMBDA_FUNCTION_NAME": "callback",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL": moto.endpoint,
        }
        contenders = {
            "floor (no SDK)": [str(floor)],
            "sfngen callback": [str(bootstrap)],
            "seed (Python, boto3)": [sys.executable, str(HERE / "seed_callback.py")],
        }
        if args.compare:
            contenders["--compare"] = [str(args.compare)]
        runs = {name: [] for name in contenders}
        for _ in range(args.runs):
            for name, command in contenders.items():
                runs[name].append(run_once(command, env, workflow, args.warm))
    finally:
        moto.stop()

    results = {
        name: {key: statistics.median(r[key] for r in rs) for key in ("cold_ms", "cpu_ms", "warm_per_s", "rss_mb")}
        for name, rs in runs.items()
    }
    floor_r, rust, python = (results[name] for name in list(contenders)[:3])
    print(
        f"callback Lambda on moto, fresh process per run, median of {args.runs} interleaved runs, "
        f"{args.warm} warm callbacks each"
    )
    print(f"{'':28} {'start→first callback':>21} {'its CPU time':>13} {'warm callbacks/s':>17} {'peak RSS':>9}")
    for name, r in results.items():
        print(
            f"{name:28} {r['cold_ms']:>18.1f} ms {r['cpu_ms']:>10.2f} ms "
            f"{r['warm_per_s']:>17.1f} {r['rss_mb']:>6.1f} MB"
        )
    for name in list(contenders)[1:]:
        r = results[name]
        print(
            f"{name + ' / floor':28} {r['cold_ms'] / floor_r['cold_ms']:>20.2f}x {r['cpu_ms'] / floor_r['cpu_ms']:>12.2f}x "
            f"{r['warm_per_s'] / floor_r['warm_per_s']:>16.2f}x {r['rss_mb'] / floor_r['rss_mb']:>8.1f}x"
        )
    print(
        f"{'python / callback':28} {python['cold_ms'] / rust['cold_ms']:>20.1f}x "
        f"{python['cpu_ms'] / rust['cpu_ms']:>12.1f}x "
        f"{python['warm_per_s'] / rust['warm_per_s']:>16.2f}x {python['rss_mb'] / rust['rss_mb']:>8.1f}x"
    )
    for name, rs in runs.items():
        spread = sorted(r["cold_ms"] for r in rs)
        print(f"start, min..max, {name}: {spread[0]:.1f}..{spread[-1]:.1f} ms")


if __name__ == "__main__":
    main()
