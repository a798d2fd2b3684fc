# Source this to put the tools that scripts/setup-tools.sh installed on PATH.
SFNGEN_TOOLS="${SFNGEN_TOOLS:-$HOME/.cache/sfngen-tools}"
export SFNGEN_TOOLS
export PATH="$SFNGEN_TOOLS/terraform/bin:$SFNGEN_TOOLS/moto/bin:$SFNGEN_TOOLS/checkov/bin:$SFNGEN_TOOLS/cargo-lambda/bin:$SFNGEN_TOOLS/node/node_modules/.bin:$PATH"
