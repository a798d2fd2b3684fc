#!/usr/bin/env bash
# Re-renders every example's committed module: examples/NAME/sfngen.toml -> examples/NAME/module/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release
for spec in examples/*/sfngen.toml; do
  ./target/release/sfngen render "$spec" -o "$(dirname "$spec")/module"
done
