#!/usr/bin/env python3
"""Trims hashicorp/aws provider schemas into tests/data/provider-schema, keeping only the resource and data
source types sfngen can emit (and the provider block), so that the schema tests run on any clone.

Usage: scripts/trim-provider-schema.py SCHEMA.json [SCHEMA.json ...]

Each SCHEMA.json is either the output of `terraform providers schema -json` (run in a folder whose
configuration requires hashicorp/aws at the wanted version) or a flattened per-version dump with top-level
`resource_schemas` and `data_source_schemas` (as published for every release in the public repository
lonegunmanb/terraform-aws-schema). The version is read from the file. Attributes keep only what the checks
use: type, required, optional, computed, deprecated, sensitive, write_only (absent flags become false).
Re-run it when sfngen starts emitting a new type (the schema test names the type)."""
import json
import pathlib
import sys

RESOURCES = [
    "aws_cloudwatch_dashboard",
    "aws_cloudwatch_event_bus",
    "aws_cloudwatch_event_bus_policy",
    "aws_cloudwatch_event_rule",
    "aws_cloudwatch_event_target",
    "aws_cloudwatch_log_group",
    "aws_cloudwatch_log_metric_filter",
    "aws_cloudwatch_metric_alarm",
    "aws_dynamodb_table",
    "aws_iam_role",
    "aws_iam_policy",
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_kms_alias",
    "aws_kms_key",
    "aws_lambda_event_source_mapping",
    "aws_lambda_function",
    "aws_lambda_function_url",
    "aws_lambda_permission",
    "aws_sfn_alias",
    "aws_secretsmanager_secret",
    "aws_sfn_state_machine",
    "aws_sns_topic",
    "aws_sns_topic_policy",
    "aws_sns_topic_subscription",
    "aws_sqs_queue",
    "aws_sqs_queue_policy",
    "aws_sqs_queue_redrive_allow_policy",
]
DATA_SOURCES = [
    "aws_caller_identity",
    "aws_iam_policy_document",
    "aws_kms_alias",
    "aws_partition",
    "aws_region",
    "aws_service",
]
FLAGS = ["required", "optional", "computed", "deprecated", "sensitive", "write_only"]

root = pathlib.Path(__file__).resolve().parent.parent
target = root / "tests" / "data" / "provider-schema"


def provider_section(full: dict) -> tuple[dict, str, dict | None]:
    """(the section holding resource_schemas, the version, the provider block schema if present)."""
    if "provider_schemas" in full:
        (address, section), = full["provider_schemas"].items()
        assert address.endswith("hashicorp/aws"), address
        # `terraform providers schema -json` does not name the version: the caller's folder pins it.
        version = full.get("provider_version") or section.get("provider_version")
        return section, version, section.get("provider", {}).get("block")
    return full, full["provider_version"], None


def trim_block(block: dict) -> dict:
    out = {}
    attributes = {}
    for name, attribute in block.get("attributes", {}).items():
        kept = {"type": attribute["type"]}
        for flag in FLAGS:
            kept[flag] = bool(attribute.get(flag, False))
        attributes[name] = kept
    out["attributes"] = attributes
    block_types = {}
    for name, nested in block.get("block_types", {}).items():
        kept = {"nesting_mode": nested["nesting_mode"], "block": trim_block(nested["block"])}
        for limit in ("min_items", "max_items"):
            if limit in nested:
                kept[limit] = nested[limit]
        block_types[name] = kept
    out["block_types"] = block_types
    if block.get("deprecated"):
        out["deprecated"] = True
    return out


def trim_type(schema: dict) -> dict:
    """A resource or data source type: its block and its schema version (state upgrades key on it)."""
    return {"block": trim_block(schema["block"]), "version": schema.get("version", 0)}


def trim(path: pathlib.Path, version_override: str | None) -> None:
    full = json.loads(path.read_text())
    section, version, provider_block = provider_section(full)
    version = version_override or version
    assert version, f"{path}: no provider_version in the file; pass VERSION=... before the path"
    trimmed = {
        "provider": "registry.terraform.io/hashicorp/aws",
        "provider_version": version,
        "resource_schemas": {t: trim_type(section["resource_schemas"][t]) for t in RESOURCES},
        "data_source_schemas": {t: trim_type(section["data_source_schemas"][t]) for t in DATA_SOURCES},
    }
    if provider_block is not None:
        trimmed["provider_block"] = trim_block(provider_block)
    target.mkdir(parents=True, exist_ok=True)
    out = target / f"aws-{version}.json"
    out.write_text(json.dumps(trimmed, indent=1, sort_keys=True) + "\n")
    print(f"{out.relative_to(root)}: {out.stat().st_size} bytes")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        # VERSION=path names the version of a `terraform providers schema -json` dump.
        version, _, file = arg.rpartition("=") if "=" in arg else ("", "", arg)
        trim(pathlib.Path(file), version or None)
