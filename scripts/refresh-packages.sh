#!/usr/bin/env bash
# The callback Lambda packages that sfngen ships: packages/callback-arm64.zip and packages/callback-x86_64.zip,
# built from lambda/ with the pinned toolchain (lambda/rust-toolchain.toml, cargo-lambda and zig from
# scripts/setup-tools.sh) by sfngen's own `render --lambda-source`, and packages/manifest.toml, what made them.
#
#   bash scripts/refresh-packages.sh          rebuild both in a clean private folder, write packages/, then
#                                             re-render the committed example modules (their callback.zip)
#   bash scripts/refresh-packages.sh --check  rebuild both in sfngen's cache (cargo's target folder kept
#                                             between runs, under a lock) and compare them with packages/,
#                                             byte for byte; write nothing (scripts/test.sh runs this)
#
# The two builds run in different folders: a check that passes also shows that the bytes do not depend on
# where the build ran.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${1:-refresh}"
case "$MODE" in
  refresh | --check) ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
ARCHITECTURES=(arm64 x86_64)

log() { printf '[refresh-packages] %s\n' "$*" >&2; }

bash scripts/setup-tools.sh lambda
# shellcheck source=scripts/tools-env.sh
source scripts/tools-env.sh

# lambda/'s files as sfngen's `lambda::source_files` lists them: every file but target/ and hidden ones,
# relative, sorted byte-wise.
list_sources() {
  (cd lambda && find . -mindepth 1 \( -path ./target -o -name '.*' \) -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort)
}
sha256() { sha256sum "$1" | cut -d' ' -f1; }

# manifest DIR: the manifest of the packages DIR/callback-ARCH.zip, on stdout.
manifest() {
  local arch
  {
    echo "# What made the callback packages in this folder. Written by scripts/refresh-packages.sh: do not edit."
    echo "# \`cargo test\` (tests/lambda_build.rs) fails when a file of lambda/ is not the one listed under"
    echo "# [sources]; scripts/test.sh rebuilds both packages and compares them with these, byte for byte."
    echo
    echo "[toolchain]"
    echo "rustc = \"$(cd lambda && rustc -V)\""
    echo "cargo-lambda = \"$(cargo lambda --version)\""
    echo "zig = \"$(zig version)\""
    echo
    echo "[packages]"
    for arch in "${ARCHITECTURES[@]}"; do
      echo "\"callback-$arch.zip\" = \"$(sha256 "$1/callback-$arch.zip")\""
    done
    echo
    echo "[sources] # lambda/, file by file"
    list_sources | while IFS= read -r file; do
      echo "\"$file\" = \"$(sha256 "lambda/$file")\""
    done
  }
}

log "building sfngen"
cargo build --locked
SFNGEN="$PWD/${CARGO_TARGET_DIR:-target}/debug/sfngen"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
if [ "$MODE" = refresh ]; then
  # A clean private cache: the sources are copied and built there, from nothing.
  export SFNGEN_CACHE="$WORK/cache"
fi

for arch in "${ARCHITECTURES[@]}"; do
  # The smallest spec for the architecture: its module's callback.zip is the package.
  printf 'name = "package"\n\n[[steps]]\nname = "Package"\nqueue = "q"\n\n[queues.q]\n\n[callback]\narchitecture = "%s"\n' \
    "$arch" >"$WORK/$arch.toml"
  log "building the $arch package from lambda/"
  "$SFNGEN" render "$WORK/$arch.toml" -o "$WORK/$arch" --lambda-source lambda
done

mkdir -p "$WORK/built"
for arch in "${ARCHITECTURES[@]}"; do
  cp "$WORK/$arch/callback.zip" "$WORK/built/callback-$arch.zip"
done

if [ "$MODE" = --check ]; then
  stale=0
  for arch in "${ARCHITECTURES[@]}"; do
    if cmp -s "$WORK/built/callback-$arch.zip" "packages/callback-$arch.zip"; then
      log "packages/callback-$arch.zip: the same bytes as this build of lambda/"
    else
      log "packages/callback-$arch.zip differs from what lambda/ builds to"
      stale=1
    fi
  done
  if [ "$stale" = 1 ]; then
    log "what made the shipped packages (packages/manifest.toml, -) and this build (+):"
    diff -u packages/manifest.toml <(manifest "$WORK/built") >&2 || true
    log "the shipped packages are not what lambda/ builds to; refresh them with: bash scripts/refresh-packages.sh"
    exit 1
  fi
  exit 0
fi

cp "$WORK/built/"callback-*.zip packages/
manifest packages >packages/manifest.toml
log "wrote packages/ (manifest.toml says what made them); re-rendering the example modules"
bash scripts/render-examples.sh
log "done: commit packages/ and the example modules' callback.zip"
