"""Runs a Python worker file (such as the module README's worker loop) unchanged, with every AWS call its boto3
clients make written to a file, one JSON line each: `python record_calls.py CALLS.jsonl WORKER.py`.

The hook sits on boto3's default session, which `boto3.client(...)` uses; it records the service, the
operation and the parameters that name the resource (the queue URL, the function), as the call is made.
"""

import json
import runpy
import sys

import boto3

RESOURCE_PARAMETERS = ("QueueUrl", "FunctionName")


def main(calls_path: str, worker_path: str):
    boto3.setup_default_session()
    out = open(calls_path, "a", buffering=1)

    def record(model, params, **_):
        entry = {"service": model.service_model.signing_name, "operation": model.name}
        entry.update({name: params[name] for name in RESOURCE_PARAMETERS if name in params})
        out.write(json.dumps(entry) + "\n")

    boto3.DEFAULT_SESSION.events.register("before-parameter-build", record)
    runpy.run_path(worker_path, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
