#!/usr/bin/env bash
# Re-renders every example's committed module: examples/NAME/sfngen.toml -> modules/NAME/, or, when the example
# has a render-to file, the folder it names inside the example (examples/vendored: modules/callbacks).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release
for spec in examples/*/sfngen.toml; do
  dir="$(dirname "$spec")"
  out="modules/$(basename "$dir")"
  if [ -f "$dir/render-to" ]; then
    out="$dir/$(cat "$dir/render-to")"
  fi
  # --force: these folders are never edited by hand, but a git merge of two branches' renders leaves files
  # that match neither render; tests/examples.rs holds each committed module to a fresh render.
  ./target/release/sfngen render "$spec" -o "$out" --force --allow-replace
done
