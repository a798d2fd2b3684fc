#!/usr/bin/env bash
# The main job: renders the built-in seed example (examples/seed/sfngen.toml) into ./infra (or $1),
# installing what building the callback Lambda needs (cargo-lambda and zig, pinned, into ~/.cache/sfngen-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-infra}"
bash scripts/setup-tools.sh lambda
# shellcheck source=scripts/tools-env.sh
source scripts/tools-env.sh
cargo run --quiet --release --locked -- render examples/seed/sfngen.toml -o "$out"
echo "Terraform module written to $out/ (see $out/README.md)"
