# Source this to put the tools that scripts/setup-tools.sh installed on PATH.
SFNGEN_TOOLS="${SFNGEN_TOOLS:-$HOME/.cache/sfngen-tools}"
export SFNGEN_TOOLS
export PATH="$SFNGEN_TOOLS/bin:$PATH"
