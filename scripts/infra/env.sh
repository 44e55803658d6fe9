# shellcheck shell=bash
# Source this file (`. scripts/infra/env.sh`) to use the toolchain that
# scripts/infra/install.sh built: puts tofu, tflint, terraform-docs, checkov and
# moto_server on PATH and points OpenTofu and tflint at the local provider mirror and
# plugin directory. It changes nothing when WSKIT_USE_SYSTEM_TERRAFORM=1 except adding
# the lint tools.

# shellcheck source=scripts/infra/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

wskit_path_prepend() {
  case ":$PATH:" in
  *":$1:"*) ;;
  *) [ -d "$1" ] && PATH="$1:$PATH" ;;
  esac
}

wskit_path_prepend "$WSKIT_TFLINT_DIR/bin"
wskit_path_prepend "$WSKIT_TFDOCS_DIR/bin"
# Only the entry points, not the whole venv (its python would shadow the user's).
mkdir -p "$WSKIT_CACHE_ROOT/bin"
for wskit_tool in "$WSKIT_CHECKOV_DIR/venv/bin/checkov" "$WSKIT_MOTO_DIR/venv/bin/moto_server"; do
  [ -x "$wskit_tool" ] && ln -sfn "$wskit_tool" "$WSKIT_CACHE_ROOT/bin/$(basename "$wskit_tool")"
done
unset wskit_tool
wskit_path_prepend "$WSKIT_CACHE_ROOT/bin"

if ! wskit_use_system_terraform; then
  wskit_path_prepend "$WSKIT_TOFU_DIR/bin"
  export TF_CLI_CONFIG_FILE="$WSKIT_PROVIDER_DIR/tofu.tfrc"
  export TFLINT_PLUGIN_DIR="$WSKIT_RULESET_DIR/plugins"
fi
export PATH
# Never phone home for version checks or telemetry.
export CHECKPOINT_DISABLE=1
