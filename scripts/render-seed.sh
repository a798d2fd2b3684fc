#!/usr/bin/env bash
# The main job: renders the built-in seed example (examples/seed/sfngen.toml) into ./infra (or $1). Needs Rust and
# nothing else: the callback Lambda's package ships inside sfngen. cargo shows its progress while it builds sfngen
# (about a minute from cold on 2 cores); the render itself takes milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-infra}"
cargo run --locked -- render examples/seed/sfngen.toml -o "$out"
echo "Terraform module written to $out/ (see $out/README.md)"
