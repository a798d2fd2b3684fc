#!/usr/bin/env python3
"""Copies the hashicorp/aws provider schemas from ../shared/provider-schema into tests/data/provider-schema,
keeping only the resource and data source types sfngen can emit, so that the schema-conformance test runs
on a clone without ../shared. Re-run it when sfngen starts emitting a new type (the test names the type)."""
import json
import pathlib
import sys

RESOURCES = [
    "aws_cloudwatch_log_group",
    "aws_cloudwatch_metric_alarm",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_kms_alias",
    "aws_kms_key",
    "aws_lambda_function",
    "aws_sfn_state_machine",
    "aws_sqs_queue",
    "aws_sqs_queue_redrive_allow_policy",
]
DATA_SOURCES = [
    "aws_caller_identity",
    "aws_iam_policy_document",
    "aws_kms_alias",
    "aws_partition",
    "aws_region",
]
VERSIONS = ["6.9.0", "6.25.0", "6.47.0"]

root = pathlib.Path(__file__).resolve().parent.parent
source = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent / "shared" / "provider-schema"
target = root / "tests" / "data" / "provider-schema"
target.mkdir(parents=True, exist_ok=True)
for version in VERSIONS:
    full = json.loads((source / f"aws-{version}.json").read_text())
    trimmed = {
        "provider": full["provider"],
        "provider_version": full["provider_version"],
        "resource_schemas": {t: full["resource_schemas"][t] for t in RESOURCES},
        "data_source_schemas": {t: full["data_source_schemas"][t] for t in DATA_SOURCES},
    }
    out = target / f"aws-{version}.json"
    out.write_text(json.dumps(trimmed, indent=1, sort_keys=True) + "\n")
    print(f"{out.relative_to(root)}: {out.stat().st_size} bytes")
