#!/usr/bin/env bash
# `npm run test:infra`: checks everything under terraform/ with a real engine.
#
#   fmt      tofu fmt -check -recursive
#   validate init -backend=false (provider from the local mirror) + validate, for every
#            module, module example, example and environment
#   test     tofu test in every module that has tests/
#   tflint   with the AWS ruleset, per module and environment
#   checkov  on terraform/, offline
#   docs     terraform-docs: every module README's generated section is up to date
#   apply    the dev environment against a moto server on 127.0.0.1: apply, a plan that
#            must show no changes, destroy
#   cdktn    the CDK Terrain example synthesized, its output validated
#
# Each step prints one line; the last line is `infra: N passed, N failed`.
# Works on a temporary copy of terraform/ so nothing (.terraform, lock files, state) lands
# in the working tree. Environment:
#   WSKIT_INFRA_ONLY="fmt validate ..."  run only these steps
#   WSKIT_INFRA_KEEP=1                   keep the work directory (its path is printed)
#   WSKIT_INFRA_SOURCE=<tree>            check that tree's terraform/ (default: this repo)
#   WSKIT_INFRA_SKIP_INSTALL=1           use the cache as it is (quick reruns)
#   WSKIT_INFRA_PLACEHOLDER_ZIPS=1       when dist/lambda/*.zip and ./build.sh are both
#                                        missing, apply with placeholder zips (local runs
#                                        before the build lands; never in CI)
set -uo pipefail

# shellcheck source=scripts/infra/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$WSKIT_REPO_ROOT
# The tree whose terraform/ is checked (default: this repository). Pointing it at another
# worktree checks that branch's modules with this branch's harness and .tflint.hcl.
SRC=$(cd "${WSKIT_INFRA_SOURCE:-$REPO}" && pwd)
LAMBDA_NAMES="connect disconnect message authorizer"
PASSED=0
FAILED=0
FAILED_NAMES=()
T_START=$(wskit_now)

if [ -t 1 ]; then
  C_OK=$'\e[32m' C_FAIL=$'\e[31m' C_DIM=$'\e[2m' C_OFF=$'\e[0m'
else
  C_OK="" C_FAIL="" C_DIM="" C_OFF=""
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wskit-infra.XXXXXX")
LOGS="$WORK/logs"
mkdir -p "$LOGS"
MOTO_PID=""
FRONT_PID=""
# Services whose endpoint is the front in scripts/infra/moto_gaps.py (it serves the calls
# moto lacks and forwards the rest to moto): API Gateway v2 deployments and stages, and
# API Gateway's UpdateAccount as provider 6.x sends it on destroy.
MOTO_FRONT_SERVICES="apigateway apigatewayv2"

stop_moto() {
  local pid
  for pid in "$FRONT_PID" "$MOTO_PID"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  FRONT_PID=""
  MOTO_PID=""
}

cleanup() {
  stop_moto
  if [ "${WSKIT_INFRA_KEEP:-0}" = "1" ]; then
    echo "${C_DIM}work directory kept: $WORK${C_OFF}"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

want() {
  [ -z "${WSKIT_INFRA_ONLY:-}" ] && return 0
  case " $WSKIT_INFRA_ONLY " in *" $1 "*) return 0 ;; esac
  return 1
}

# step NAME CMD...: runs CMD with its output in a log, prints one line, counts the result.
# On failure the end of the log is shown, indented.
STEP_NO=0
step() {
  local name=$1
  shift
  STEP_NO=$((STEP_NO + 1))
  local log
  log="$LOGS/$(printf '%03d' "$STEP_NO")-$(printf '%s' "$name" | tr -c 'A-Za-z0-9._-' '_').log"
  local t0 rc
  t0=$(wskit_now)
  "$@" >"$log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    PASSED=$((PASSED + 1))
    printf '%sok  %s %s %s(%ss)%s\n' "$C_OK" "$C_OFF" "$name" "$C_DIM" "$(($(wskit_now) - t0))" "$C_OFF"
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
    printf '%sFAIL%s %s %s(%ss, exit %s)%s\n' "$C_FAIL" "$C_OFF" "$name" "$C_DIM" "$(($(wskit_now) - t0))" "$rc" "$C_OFF"
    tail -n "${WSKIT_INFRA_FAIL_LINES:-60}" "$log" | sed 's/^/      /'
  fi
  return $rc
}

# step_live NAME CMD...: like step, but CMD's stderr (progress) stays visible, for the
# toolchain install, which can take many minutes on a cold machine.
step_live() {
  local name=$1 t0 rc
  shift
  STEP_NO=$((STEP_NO + 1))
  t0=$(wskit_now)
  "$@" >"$LOGS/$(printf '%03d' "$STEP_NO")-toolchain.log"
  rc=$?
  if [ $rc -eq 0 ]; then
    PASSED=$((PASSED + 1))
    printf '%sok  %s %s %s(%ss)%s\n' "$C_OK" "$C_OFF" "$name" "$C_DIM" "$(($(wskit_now) - t0))" "$C_OFF"
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
    printf '%sFAIL%s %s %s(%ss, exit %s)%s\n' "$C_FAIL" "$C_OFF" "$name" "$C_DIM" "$(($(wskit_now) - t0))" "$rc" "$C_OFF"
  fi
  return $rc
}

finish() {
  local total=$(($(wskit_now) - T_START))
  if [ ${#FAILED_NAMES[@]} -gt 0 ]; then
    echo "failed steps:"
    printf '  - %s\n' "${FAILED_NAMES[@]}"
  fi
  echo "${C_DIM}infra check took ${total}s${C_OFF}"
  echo "infra: $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
  exit $?
}

rel() { printf '%s' "${1#"$WORK"/}"; }

# ---- toolchain ---------------------------------------------------------------------------
if [ "${WSKIT_INFRA_SKIP_INSTALL:-0}" = "1" ]; then
  echo "${C_DIM}toolchain install skipped (WSKIT_INFRA_SKIP_INSTALL=1): using the cache as it is${C_OFF}"
elif ! step_live "toolchain (scripts/infra/install.sh)" bash "$REPO/scripts/infra/install.sh"; then
  echo "the toolchain could not be installed; nothing else can run"
  finish
fi
# shellcheck source=scripts/infra/env.sh
. "$REPO/scripts/infra/env.sh"
TF=$(wskit_tf_bin) || {
  echo "no terraform/tofu binary"
  finish
}
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
# One provider copy for all the init runs instead of one per directory.
export TF_PLUGIN_CACHE_DIR="$WORK/plugin-cache"
mkdir -p "$TF_PLUGIN_CACHE_DIR"

if [ ! -d "$SRC/terraform" ]; then
  echo "no terraform/ directory"
  finish
fi

# Work on a copy: the lock files committed for real users carry the registry's checksums,
# which a locally built provider cannot match, so the copy drops them.
tar -C "$SRC" --exclude=.terraform --exclude='*.tfstate*' --exclude=node_modules \
  --exclude=cdktf.out --exclude=terraform/cdktn-example \
  -cf - terraform | tar -C "$WORK" -xf -
cp "$REPO/.tflint.hcl" "$WORK/.tflint.hcl"
find "$WORK/terraform" -name .terraform.lock.hcl -delete
# Paths such as ${path.root}/../../../dist/lambda resolve from the copy as from the repo.
ln -s "$REPO/dist" "$WORK/dist" 2>/dev/null || true

# Directories with Terraform code, in a stable order.
tf_dirs() {
  find "$WORK/terraform" -name '*.tf' -not -path '*/.terraform/*' -not -path '*/cdktn-example/*' \
    -printf '%h\n' | sort -u
}
module_dirs() { find "$WORK/terraform/modules" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort; }
env_dirs() { find "$WORK/terraform/environments" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort; }

# ---- fmt ---------------------------------------------------------------------------------
if want fmt; then
  step "fmt -check -recursive terraform/" "$TF" fmt -check -recursive -diff -no-color "$WORK/terraform"
fi

# ---- validate ------------------------------------------------------------------------------
init_and_validate() {
  local dir=$1 rc
  (cd "$dir" && "$TF" init -backend=false -input=false -no-color && "$TF" validate -no-color) 2>&1 | tee "$LOGS/validate.last"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ] && [ "$WSKIT_AWS_PROVIDER_BUILD" != full ] && ! wskit_use_system_terraform &&
    grep -q 'does not support \(resource\|data source\) type' "$LOGS/validate.last"; then
    echo "hint: the locally built aws provider registers only: $WSKIT_AWS_PROVIDER_SERVICES;"
    echo "      add the missing service to WSKIT_AWS_PROVIDER_SERVICES in scripts/infra/lib.sh"
  fi
  return "$rc"
}
VALIDATED=()
if want validate || want test || want tflint; then
  while IFS= read -r d; do
    if step "validate $(rel "$d")" init_and_validate "$d"; then VALIDATED+=("$d"); fi
  done < <(tf_dirs)
fi

# ---- tofu test -----------------------------------------------------------------------------
if want test; then
  while IFS= read -r d; do
    if [ -d "$d/tests" ] && ls "$d"/tests/*.tftest.hcl >/dev/null 2>&1; then
      step "test $(rel "$d")" bash -c 'cd "$1" && "$2" test -no-color' _ "$d" "$TF"
    fi
  done < <(module_dirs)
fi

# ---- tflint --------------------------------------------------------------------------------
run_tflint() {
  local dir=$1
  if wskit_use_system_terraform; then
    tflint --chdir="$dir" --config="$WORK/.tflint.hcl" --init >/dev/null || return 1
  fi
  tflint --chdir="$dir" --config="$WORK/.tflint.hcl" --format=compact --no-color
}
if want tflint; then
  while IFS= read -r d; do
    step "tflint $(rel "$d")" run_tflint "$d"
  done < <(module_dirs; env_dirs)
fi

# ---- checkov -------------------------------------------------------------------------------
run_checkov() {
  # --skip-download: no policy metadata or guidelines from the vendor's platform.
  # Run in a network namespace of its own when the machine allows it, which proves the
  # scan needs no network; otherwise run it plainly (the flags above keep it offline).
  local -a cmd=(checkov --directory "$WORK/terraform" --framework terraform --skip-download
    --quiet --compact --output cli --skip-path cdktn-example)
  if unshare --net true 2>/dev/null; then
    unshare --net "${cmd[@]}"
  elif unshare --user --map-root-user --net true 2>/dev/null; then
    unshare --user --map-root-user --net "${cmd[@]}"
  else
    "${cmd[@]}"
  fi
}
if want checkov; then
  step "checkov terraform/ (offline)" run_checkov
fi

# ---- terraform-docs --------------------------------------------------------------------------
docs_check() {
  local dir=$1
  [ -f "$dir/README.md" ] || {
    echo "$(rel "$dir")/README.md is missing"
    return 1
  }
  grep -q '<!-- BEGIN_TF_DOCS -->' "$dir/README.md" || {
    echo "$(rel "$dir")/README.md has no <!-- BEGIN_TF_DOCS --> / <!-- END_TF_DOCS --> section for terraform-docs"
    return 1
  }
  # A module's own .terraform-docs.yml (or terraform/.terraform-docs.yml) wins.
  local -a cfg=()
  if [ -f "$dir/.terraform-docs.yml" ]; then
    cfg=(--config "$dir/.terraform-docs.yml")
  elif [ -f "$WORK/terraform/.terraform-docs.yml" ]; then
    cfg=(--config "$WORK/terraform/.terraform-docs.yml")
  fi
  # --lockfile=false: provider versions come from versions.tf, not from whichever provider
  # build a .terraform.lock.hcl happens to record on the machine that generated it.
  if [ ${#cfg[@]} -gt 0 ]; then
    terraform-docs "${cfg[@]}" --lockfile=false --output-check "$dir"
  else
    terraform-docs markdown table --lockfile=false --output-file README.md --output-mode inject --output-check "$dir"
  fi || {
    echo "regenerate with: scripts/infra/docs.sh (terraform-docs markdown table --lockfile=false --output-file README.md --output-mode inject <module>)"
    return 1
  }
}
if want docs; then
  while IFS= read -r d; do
    step "terraform-docs $(rel "$d")/README.md up to date" docs_check "$d"
  done < <(module_dirs)
fi

# ---- apply against moto ----------------------------------------------------------------------
free_port() {
  "$WSKIT_MOTO_DIR/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_moto() {
  local port
  port=$(free_port) || return 1
  moto_server -H 127.0.0.1 -p "$port" >"$LOGS/moto-server.log" 2>&1 &
  MOTO_PID=$!
  local i
  for i in $(seq 1 300); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/moto-api/data.json"; then
      MOTO_URL="http://127.0.0.1:$port"
      echo "moto server $WSKIT_MOTO_VERSION on $MOTO_URL (pid $MOTO_PID)"
      return 0
    fi
    kill -0 "$MOTO_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "moto server did not start; its log:"
  cat "$LOGS/moto-server.log"
  return 1
}

start_moto_front() {
  local port i
  port=$(free_port) || return 1
  "$WSKIT_MOTO_DIR/venv/bin/python" "$REPO/scripts/infra/moto_gaps.py" "$port" "$MOTO_URL" >"$LOGS/moto-front.log" 2>&1 &
  FRONT_PID=$!
  for i in $(seq 1 150); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
      MOTO_FRONT_URL="http://127.0.0.1:$port"
      echo "moto front (scripts/infra/moto_gaps.py) on $MOTO_FRONT_URL for: $MOTO_FRONT_SERVICES"
      return 0
    fi
    kill -0 "$FRONT_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "the moto front did not start; its log:"
  cat "$LOGS/moto-front.log"
  return 1
}

# The built Lambda zips: dist/lambda/<name>.zip, from ./build.sh.
ensure_lambda_zips() {
  local missing="" n
  for n in $LAMBDA_NAMES; do [ -f "$REPO/dist/lambda/$n.zip" ] || missing="$missing $n"; done
  [ -z "$missing" ] && return 0
  if [ -x "$REPO/build.sh" ]; then
    echo "dist/lambda is missing:$missing; running ./build.sh"
    (cd "$REPO" && ./build.sh) || return 1
    for n in $LAMBDA_NAMES; do
      [ -f "$REPO/dist/lambda/$n.zip" ] || {
        echo "./build.sh did not write dist/lambda/$n.zip"
        return 1
      }
    done
    return 0
  fi
  if [ "${WSKIT_INFRA_PLACEHOLDER_ZIPS:-0}" = "1" ]; then
    echo "no ./build.sh: using placeholder zips (WSKIT_INFRA_PLACEHOLDER_ZIPS=1)"
    rm -f "$WORK/dist"
    mkdir -p "$WORK/dist/lambda/src"
    echo 'export const handler = async () => ({ statusCode: 200 });' >"$WORK/dist/lambda/src/index.mjs"
    for n in $LAMBDA_NAMES; do
      (cd "$WORK/dist/lambda/src" && zip -qX "../$n.zip" index.mjs) || return 1
    done
    return 0
  fi
  echo "dist/lambda/{$(echo "$LAMBDA_NAMES" | tr ' ' ',')}.zip are missing and there is no ./build.sh to build them: run the build first"
  return 1
}

# Files that exist only in the harness's copy of the environment: local state, and every
# AWS service the modules use pointed at moto with dummy credentials.
write_moto_overrides() {
  local dir=$1
  cat >"$dir/backend_override.tf" <<EOF
terraform {
  backend "local" {
    path = "$WORK/state/$(basename "$dir").tfstate"
  }
}
EOF
  # One override per aws provider configuration of the environment (default and aliases).
  local aliases
  aliases=$(awk '/^[[:space:]]*provider[[:space:]]+"aws"/{p=1} p && /^[[:space:]]*alias[[:space:]]*=/{gsub(/[" ]/,"",$0); split($0,a,"="); print a[2]} p && /^}/{p=0}' "$dir"/*.tf)
  {
    local alias_name
    for alias_name in "" $aliases; do
      echo 'provider "aws" {'
      [ -n "$alias_name" ] && echo "  alias = \"$alias_name\""
      cat <<EOF
  region                      = "us-east-1"
  access_key                  = "moto"
  secret_key                  = "moto"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
EOF
      local svc
      for svc in $WSKIT_AWS_PROVIDER_SERVICES; do
        [ "$svc" = meta ] && continue
        case " $MOTO_FRONT_SERVICES " in
        *" $svc "*) printf '    %-13s = "%s"\n' "$svc" "$MOTO_FRONT_URL" ;;
        *) printf '    %-13s = "%s"\n' "$svc" "$MOTO_URL" ;;
        esac
      done
      echo "  }"
      echo "}"
      echo
    done
  } >"$dir/provider_override.tf"

  # moto answers CloudWatch only in the query protocol; aws provider 6.x calls CloudWatch
  # (PutDashboard, PutMetricAlarm) in smithy-rpc-v2-cbor, which moto answers with 404. The
  # emulator run therefore leaves out the dashboard (dev has no alarms); the dashboard and
  # alarms are covered by validate and the monitoring module's mock-provider tests.
  local module_name
  for module_name in $(sed -nE 's/^module[[:space:]]+"([^"]+)".*/\1/p' "$dir"/*.tf); do
    grep -Eq "source[[:space:]]*=[[:space:]]*\"[^\"]*websocket-service\"" "$dir"/*.tf || continue
    printf 'module "%s" {\n  create_dashboard = false\n}\n\n' "$module_name"
  done >"$dir/module_override.tf"
}

apply_env() {
  local dir=$1
  ensure_lambda_zips || return 1
  start_moto || return 1
  start_moto_front || return 1
  mkdir -p "$WORK/state"
  write_moto_overrides "$dir"
  local -a varfile=()
  local f
  for f in terraform.tfvars.example example.tfvars terraform.tfvars; do
    if [ -f "$dir/$f" ]; then
      cp "$dir/$f" "$dir/harness.tfvars"
      varfile=(-var-file=harness.tfvars)
    fi
  done
  (
    cd "$dir" || exit 1
    set -e
    echo "== init (local backend, provider from the mirror)"
    "$TF" init -input=false -no-color -reconfigure
    echo "== apply"
    "$TF" apply -input=false -no-color -auto-approve "${varfile[@]}"
    echo "== plan -detailed-exitcode (must show no changes)"
    set +e
    "$TF" plan -input=false -no-color -detailed-exitcode "${varfile[@]}" >"$LOGS/plan-after-apply.txt" 2>&1
    local plan_rc=$?
    set -e
    cat "$LOGS/plan-after-apply.txt"
    echo "== destroy"
    "$TF" destroy -input=false -no-color -auto-approve "${varfile[@]}"
    if [ $plan_rc -eq 2 ]; then
      # Shown last, so that a failure's tail shows it.
      echo "== the plan after apply is not empty: these resources do not converge"
      sed -n '/^Terraform will perform\|^OpenTofu will perform/,$p' "$LOGS/plan-after-apply.txt" | grep -v '^\s*$'
    elif [ $plan_rc -ne 0 ]; then
      echo "== the plan after apply failed (exit $plan_rc)"
    fi
    [ $plan_rc -eq 0 ]
  )
}

if want apply; then
  DEV="$WORK/terraform/environments/dev"
  if [ -d "$DEV" ]; then
    step "apply + no-change plan + destroy environments/dev against moto" apply_env "$DEV"
    stop_moto
  else
    step "environments/dev exists" false
  fi
fi

# ---- cdktn example -----------------------------------------------------------------------------
cdktn_synth_validate() {
  local app="$REPO/terraform/cdktn-example"
  local lockhash stamp="$app/node_modules/.wskit-lock-sha256"
  lockhash=$(sha256sum "$app/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lockhash" ]; then
    echo "node_modules up to date with package-lock.json"
  else
    echo "== npm ci (terraform/cdktn-example)"
    (cd "$app" && npm ci --no-audit --no-fund) || return 1
    echo "$lockhash" >"$stamp"
  fi
  # A clean copy of the modules (the validate steps left .terraform dirs in $WORK), which
  # cdktn copies into the synthesized output as an asset.
  local modules="$WORK/cdktn-src/modules" out="$WORK/cdktf.out"
  mkdir -p "$modules"
  tar -C "$SRC/terraform/modules" --exclude=.terraform --exclude=.terraform.lock.hcl -cf - . | tar -C "$modules" -xf -
  echo "== synth into $out"
  (cd "$app" && npx tsc -p . && WSKIT_MODULES_DIR="$modules" CDKTF_OUTDIR="$out" node dist/main.js) || return 1
  local stack
  stack=$(find "$out/stacks" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  [ -n "$stack" ] || {
    echo "synth wrote no stack under $out/stacks"
    return 1
  }
  echo "== validate $stack"
  (cd "$stack" && "$TF" init -backend=false -input=false -no-color && "$TF" validate -no-color)
}
if want cdktn; then
  if [ -f "$REPO/terraform/cdktn-example/package-lock.json" ]; then
    step "cdktn example: synth + validate" cdktn_synth_validate
  else
    step "terraform/cdktn-example has a package-lock.json" false
  fi
fi

finish
