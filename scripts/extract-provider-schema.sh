#!/usr/bin/env bash
# Regenerates tests/data/provider-schema/aws-VERSION.json from the real hashicorp/aws provider binary:
# `terraform init` in a scratch folder that pins that release, `terraform providers schema -json`, then
# scripts/trim-provider-schema.py. The provider comes from a local filesystem mirror when one holds the
# release (scripts/provider_mirror.py finds it; SFNGEN_PROVIDER_MIRROR names one), else from the registry.
#
# Usage: scripts/extract-provider-schema.sh [VERSION]    (default 5.100.0, the oldest release the module admits)
# Then `git diff tests/data/provider-schema` shows whether the committed file is what the binary says.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${1:-5.100.0}"

command -v terraform >/dev/null || { echo "terraform is not on PATH (scripts/setup-tools.sh finds one)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mirror="$(python3 scripts/provider_mirror.py "$VERSION" --cli-config "$work/cli.tfrc")"
echo "[extract-provider-schema] hashicorp/aws $VERSION from: $mirror" >&2

cat >"$work/versions.tf" <<EOF
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= $VERSION"
    }
  }
}
EOF
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
terraform -chdir="$work" init -backend=false -no-color >"$work/init.log" || { cat "$work/init.log" >&2; exit 1; }
terraform -chdir="$work" providers schema -json >"$work/aws-$VERSION.full.json"
python3 scripts/trim-provider-schema.py "$VERSION=$work/aws-$VERSION.full.json"
