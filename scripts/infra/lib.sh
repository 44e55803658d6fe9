# shellcheck shell=bash
# Shared settings for the infrastructure toolchain: pinned versions, cache layout and
# small helpers. Sourced by install.sh, env.sh and test.sh; not meant to be run.

# ---- pinned versions (a changed version builds into a new cache directory) ----------
WSKIT_OPENTOFU_VERSION="1.12.6"

# hashicorp/aws has no /vN suffix in its Go module path, so its release tags are not
# valid Go module versions; it is pinned by commit (pseudo-version). This commit is the
# provider's main branch just after the 6.47.1 release, and is published in the mirror as
# 6.47.1 so that ordinary constraints (">= 6.0") select it.
WSKIT_AWS_PROVIDER_VERSION="6.47.1"
WSKIT_AWS_PROVIDER_COMMIT="5f2286d6d836"
WSKIT_AWS_PROVIDER_GO_VERSION="v1.60.1-0.20260602190131-5f2286d6d836"
# The AWS services the trimmed provider registers: what terraform/ uses (apigateway for
# the account-level CloudWatch role of API Gateway logging), plus `meta`
# (aws_region, aws_partition, ...). Add one here when a module starts using a new service.
WSKIT_AWS_PROVIDER_SERVICES="acm apigateway apigatewayv2 cloudwatch dynamodb iam kms lambda logs meta route53 s3 sns sqs sts"
# trimmed (default, fits CI) or full (every service; see docs/infra-toolchain.md).
WSKIT_AWS_PROVIDER_BUILD="${WSKIT_AWS_PROVIDER_BUILD:-trimmed}"

WSKIT_TFLINT_VERSION="0.64.0"
WSKIT_TFLINT_RULESET_AWS_VERSION="0.48.0"
WSKIT_TERRAFORM_DOCS_VERSION="0.21.0"
WSKIT_CHECKOV_VERSION="3.3.30"
WSKIT_MOTO_VERSION="5.2.5"

# ---- layout ----------------------------------------------------------------------------
WSKIT_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WSKIT_CACHE_ROOT="${WSKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wskit}"

# An existing filesystem mirror (or plugin directory) that already holds a hashicorp/aws
# build, e.g. a machine image's preinstalled provider: used instead of building one.
WSKIT_AWS_PROVIDER_MIRROR="${WSKIT_AWS_PROVIDER_MIRROR:-}"

wskit_provider_flavor() {
  if [ -n "$WSKIT_AWS_PROVIDER_MIRROR" ]; then
    echo "external-$(printf '%s' "$WSKIT_AWS_PROVIDER_MIRROR" | sha256sum | cut -c1-8)"
  elif [ "$WSKIT_AWS_PROVIDER_BUILD" = "full" ]; then
    echo "full"
  else
    # keyed by the service list and the client trimmer too, so changing either rebuilds
    echo "trimmed-$({ printf '%s' "$WSKIT_AWS_PROVIDER_SERVICES"; cat "$WSKIT_REPO_ROOT/scripts/infra/trim_provider_clients.py"; } | sha256sum | cut -c1-8)"
  fi
}

WSKIT_GO_DIR="$WSKIT_CACHE_ROOT/go"
WSKIT_TOFU_DIR="$WSKIT_CACHE_ROOT/opentofu-$WSKIT_OPENTOFU_VERSION"
if [ -n "$WSKIT_AWS_PROVIDER_MIRROR" ]; then
  WSKIT_PROVIDER_DIR="$WSKIT_CACHE_ROOT/terraform-provider-aws-$(wskit_provider_flavor)"
else
  WSKIT_PROVIDER_DIR="$WSKIT_CACHE_ROOT/terraform-provider-aws-$WSKIT_AWS_PROVIDER_VERSION-$(wskit_provider_flavor)"
fi
WSKIT_PROVIDER_MIRROR="$WSKIT_PROVIDER_DIR/mirror"
WSKIT_TFLINT_DIR="$WSKIT_CACHE_ROOT/tflint-$WSKIT_TFLINT_VERSION"
WSKIT_RULESET_DIR="$WSKIT_CACHE_ROOT/tflint-ruleset-aws-$WSKIT_TFLINT_RULESET_AWS_VERSION"
WSKIT_TFDOCS_DIR="$WSKIT_CACHE_ROOT/terraform-docs-$WSKIT_TERRAFORM_DOCS_VERSION"
WSKIT_CHECKOV_DIR="$WSKIT_CACHE_ROOT/checkov-$WSKIT_CHECKOV_VERSION"
WSKIT_MOTO_DIR="$WSKIT_CACHE_ROOT/moto-$WSKIT_MOTO_VERSION"

# ---- helpers ---------------------------------------------------------------------------
wskit_log() { printf '[infra] %s\n' "$*" >&2; }
wskit_die() {
  printf '[infra] ERROR: %s\n' "$*" >&2
  exit 1
}

# True when the user opted into their own terraform/tofu with normal registry access.
wskit_use_system_terraform() { [ "${WSKIT_USE_SYSTEM_TERRAFORM:-0}" = "1" ]; }

# The Terraform engine the harness drives: ours, or the user's when they opted in.
wskit_tf_bin() {
  if wskit_use_system_terraform; then
    if [ -n "${WSKIT_TF_BIN:-}" ]; then
      echo "$WSKIT_TF_BIN"
    elif command -v tofu >/dev/null 2>&1; then
      command -v tofu
    elif command -v terraform >/dev/null 2>&1; then
      command -v terraform
    else
      return 1
    fi
  else
    echo "$WSKIT_TOFU_DIR/bin/tofu"
  fi
}

# Go settings for every build: a module and build cache inside our cache root (so a cold
# run is really cold and nothing leaks into the user's GOPATH), no VCS stamping.
wskit_go_env() {
  command -v go >/dev/null 2>&1 || wskit_die "go is not on PATH: install Go >= 1.26 (e.g. apt-get install golang-go, or your distribution's newer Go) and run again"
  export GOMODCACHE="$WSKIT_GO_DIR/mod"
  export GOCACHE="$WSKIT_GO_DIR/build"
  export GOFLAGS="-modcacherw -buildvcs=false"
  export CGO_ENABLED=0
}

# Seconds since the epoch, for timings.
wskit_now() { date +%s; }
