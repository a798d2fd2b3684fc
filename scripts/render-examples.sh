#!/usr/bin/env bash
# Re-renders every example's committed module: examples/NAME/sfngen.toml -> examples/NAME/module/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release
for spec in examples/*/sfngen.toml; do
  dir="$(dirname "$spec")"
  # An example renders into module/, or where its render-to file says (examples/vendored: modules/callbacks).
  target="module"
  [ -f "$dir/render-to" ] && target="$(cat "$dir/render-to")"
  ./target/release/sfngen render "$spec" -o "$dir/$target"
done
