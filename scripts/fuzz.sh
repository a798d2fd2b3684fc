#!/usr/bin/env bash
# Fuzzes the whole front end (TOML bytes -> parse -> resolve -> guard rails -> every emitter -> diagnostics)
# with cargo fuzz (libFuzzer) for $1 seconds (default 600). Seeds: fuzz/corpus/render (committed); what the
# fuzzer finds goes to ~/.cache/sfngen-fuzz/corpus. A crash is saved under fuzz/artifacts/render/: turn it
# into a regression test in tests/hostile.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
CARGO_FUZZ=0.13.1
TOOLS="${SFNGEN_TOOLS:-$HOME/.cache/sfngen-tools}"
if [ "$("$TOOLS/cargo/bin/cargo-fuzz" --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ" ]; then
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ" --root "$TOOLS/cargo"
fi
export PATH="$TOOLS/cargo/bin:$PATH"
corpus="$HOME/.cache/sfngen-fuzz/corpus"
mkdir -p "$corpus"
# cargo fuzz needs nightly-only flags (sanitizers); RUSTC_BOOTSTRAP lets the stable toolchain accept them.
cd fuzz
RUSTC_BOOTSTRAP=1 cargo fuzz run render --fuzz-dir . "$corpus" corpus/render -- -max_total_time="$seconds" -rss_limit_mb=4096
