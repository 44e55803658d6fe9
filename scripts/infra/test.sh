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
#   tf5      validate and the module tests again with the machine's Terraform CLI and
#            aws provider 5.x, when both are installed (skipped with a line otherwise)
#   apply    against a moto server on 127.0.0.1: the bootstrap, then dev and staging
#            (staging from zips uploaded to S3) and the examples' roots, each followed by a
#            plan that must show no changes; then destroyed in reverse
#
# The examples' roots (examples/<name>/terraform, which consume the modules through git
# sources as another team would) get fmt, validate, test, tflint, checkov and apply too.
#   cdktn    the CDK Terrain example synthesized (node, and its synth:cli script), validated
#
# Each step prints one line; the last line is `infra: N passed, N failed`.
# Works on a temporary copy of terraform/ so nothing (.terraform, lock files, state) lands
# in the working tree. Environment:
#   WSKIT_INFRA_ONLY="fmt validate ..."  run only these steps (fmt validate test tf5 tflint
#                                        checkov docs apply cdktn)
#   WSKIT_INFRA_JOBS=N                   validate / test steps run N at a time (default: cores)
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
# One function per wiring manifest (lambda/<name>/wiring.json), as the modules build them.
LAMBDA_NAMES=$(for manifest in "$SRC"/lambda/*/wiring.json; do [ -f "$manifest" ] && basename "$(dirname "$manifest")"; done | tr '\n' ' ')
LAMBDA_NAMES=${LAMBDA_NAMES% }
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
# moto lacks and forwards the rest to moto): API Gateway v2 deployments and stages, API
# Gateway's UpdateAccount as provider 6.x sends it on destroy, and S3 buckets created with
# tags.
MOTO_FRONT_SERVICES="apigateway apigatewayv2 s3 sqs"

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
  if [ -n "${EXAMPLES_JOB:-}" ] && [ "$EXAMPLES_JOB" != failed ] && kill -0 "$EXAMPLES_JOB" 2>/dev/null; then
    kill "$EXAMPLES_JOB" 2>/dev/null
    wait "$EXAMPLES_JOB" 2>/dev/null
  fi
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
  local t0 rc secs
  t0=$(wskit_now)
  "$@" >"$log" 2>&1
  rc=$?
  # A step whose work ran in the background (parallel_steps) reports that work's time.
  secs=${STEP_SECS:-$(($(wskit_now) - t0))}
  if [ $rc -eq 0 ]; then
    PASSED=$((PASSED + 1))
    printf '%sok  %s %s %s(%ss)%s\n' "$C_OK" "$C_OFF" "$name" "$C_DIM" "$secs" "$C_OFF"
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
    printf '%sFAIL%s %s %s(%ss, exit %s)%s\n' "$C_FAIL" "$C_OFF" "$name" "$C_DIM" "$secs" "$rc" "$C_OFF"
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

rel() {
  local path=${1#"$WORK"/tf5/}
  printf '%s' "${path#"$WORK"/}"
}

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
# The examples' roots, at the same place relative to terraform/ as in the repository, so their
# paths (../../../dist/lambda, ../dist/lambda) resolve in the copy as in a clone.
copy_example_roots() {
  local to=$1 dir rel_dir
  for dir in "$SRC"/examples/*/terraform; do
    [ -d "$dir" ] || continue
    rel_dir=${dir#"$SRC"/}
    mkdir -p "$to/$rel_dir"
    tar -C "$dir" --exclude=.terraform --exclude='*.tfstate*' --exclude=.terraform.lock.hcl -cf - . | tar -C "$to/$rel_dir" -xf -
    # Built artifacts an example root deploys (examples/<name>/dist, e.g. the coalescer's zip).
    ln -sfn "$REPO/${rel_dir%/terraform}/dist" "$to/${rel_dir%/terraform}/dist"
  done
}
copy_example_roots "$WORK"
# The single sources of truth the modules read (websocket-service: the wiring manifests and
# the protocol), at the same place relative to terraform/ as in the repository.
copy_module_inputs() {
  local to=$1 manifest name
  mkdir -p "$to/protocol"
  cp "$SRC/protocol/protocol.json" "$to/protocol/protocol.json"
  for manifest in "$SRC"/lambda/*/wiring.json; do
    [ -f "$manifest" ] || continue
    name=$(basename "$(dirname "$manifest")")
    mkdir -p "$to/lambda/$name"
    cp "$manifest" "$to/lambda/$name/wiring.json"
  done
}
copy_module_inputs "$WORK"
# Module examples show how another team pins a module
# (git::https://github.com/<org>/wskit.git//terraform/modules/<module>?ref=vX.Y.Z); the copy
# points them at the modules of this tree, so validate checks this tree, offline.
rewrite_example_sources() {
  local root=$1 file dir
  while IFS= read -r file; do
    dir=$(dirname "$file")
    perl -pi -e 's{"git::[^"]*/wskit\.git//terraform/modules/([A-Za-z0-9_-]+)(\?ref=[^"]*)?"}{"'"$(realpath --relative-to="$dir" "$root/terraform/modules")"'/$1"}g' "$file"
  done < <(grep -rl --include='*.tf' 'wskit\.git//terraform/modules/' "$root/terraform" "$root/examples" 2>/dev/null)
}
rewrite_example_sources "$WORK"
# Paths such as ${path.root}/../../../dist/lambda resolve from the copy as from the repo.
ln -s "$REPO/dist" "$WORK/dist" 2>/dev/null || true

# Directories with Terraform code, in a stable order.
tf_dirs() {
  find "$WORK/terraform" -name '*.tf' -not -path '*/.terraform/*' -not -path '*/cdktn-example/*' \
    -printf '%h\n' | sort -u
  example_dirs
}
example_dirs() { find "$WORK/examples" -mindepth 2 -maxdepth 2 -type d -name terraform 2>/dev/null | sort; }
module_dirs() { find "$WORK/terraform/modules" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort; }
env_dirs() { find "$WORK/terraform/environments" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort; }

# ---- the emulator: moto and the roots applied on it (used by the apply steps below) ----------
free_port() {
  "$WSKIT_MOTO_DIR/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_moto() {
  local port
  port=$(free_port) || return 1
  moto_server -H 127.0.0.1 -p "$port" >"$LOGS/moto-server${MOTO_LOG_SUFFIX:-}.log" 2>&1 &
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
  cat "$LOGS/moto-server${MOTO_LOG_SUFFIX:-}.log"
  return 1
}

start_moto_front() {
  local port i
  port=$(free_port) || return 1
  "$WSKIT_MOTO_DIR/venv/bin/python" "$REPO/scripts/infra/moto_gaps.py" "$port" "$MOTO_URL" >"$LOGS/moto-front${MOTO_LOG_SUFFIX:-}.log" 2>&1 &
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
  cat "$LOGS/moto-front${MOTO_LOG_SUFFIX:-}.log"
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
    path = "$WORK/state/$(rel "$dir" | tr '/' '_').tfstate"
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
  # emulator run therefore leaves out the dashboard and the alarms; they are covered by
  # validate and the monitoring module's mock-provider tests. The table's deletion
  # protection (staging, prod) is turned off so that the run can destroy what it applied.
  local module_name
  for module_name in $(sed -nE 's/^module[[:space:]]+"([^"]+)".*/\1/p' "$dir"/*.tf); do
    grep -Eq "source[[:space:]]*=[[:space:]]*\"[^\"]*websocket-service\"" "$dir"/*.tf || continue
    printf 'module "%s" {\n  create_dashboard            = false\n  create_alarms               = false\n  deletion_protection_enabled = false\n}\n\n' "$module_name"
  done >"$dir/module_override.tf"
}

# tf_in DIR ARGS...: the engine in DIR, its output appended to DIR/harness.log.
tf_in() {
  local dir=$1
  shift
  (cd "$dir" && "$TF" "$@" -input=false -no-color) >>"$dir/harness.log" 2>&1
}

# no_change_plan DIR: a plan after apply must show no changes (exit 0 of -detailed-exitcode).
no_change_plan() {
  local dir=$1 rc
  (cd "$dir" && "$TF" plan -input=false -no-color -detailed-exitcode -var-file=harness.tfvars) >"$dir/plan-after-apply.txt" 2>&1
  rc=$?
  cat "$dir/plan-after-apply.txt" >>"$dir/harness.log"
  if [ $rc -eq 2 ]; then
    echo "== $(rel "$dir"): the plan after apply is not empty: these resources do not converge" >>"$dir/harness.log"
    sed -n '/^Terraform will perform\|^OpenTofu will perform/,$p' "$dir/plan-after-apply.txt" | grep -v '^\s*$' >>"$dir/harness.log"
  elif [ $rc -ne 0 ]; then
    echo "== $(rel "$dir"): the plan after apply failed (exit $rc)" >>"$dir/harness.log"
  fi
  return $rc
}

# in_parallel FUNC DIR...: runs "FUNC dir" for each dir at once; fails when any failed,
# showing the end of each failed root's log.
in_parallel() {
  local func=$1 i rc=0
  shift
  local -a dirs=("$@") pids=()
  for i in "${!dirs[@]}"; do
    "$func" "${dirs[$i]}" &
    pids+=($!)
  done
  for i in "${!dirs[@]}"; do
    if ! wait "${pids[$i]}"; then
      echo "== $(rel "${dirs[$i]}") failed; the end of its log:"
      tail -n 40 "${dirs[$i]}/harness.log"
      rc=1
    fi
  done
  return $rc
}

# The harness's variables for a root: its terraform.tfvars.example plus stdin.
write_harness_tfvars() {
  local dir=$1
  : >"$dir/harness.tfvars"
  if [ -f "$dir/terraform.tfvars.example" ]; then cp "$dir/terraform.tfvars.example" "$dir/harness.tfvars"; fi
  cat >>"$dir/harness.tfvars"
}

mapfile -t APPLY_EXAMPLES < <(example_dirs)

# What the examples' roots deploy beyond the four functions: the broadcaster's zip (built by
# ./build.sh with the others) and an example's own functions (examples/<name>/build.mjs).
ensure_example_artifacts() {
  local dir build
  if [ ${#APPLY_EXAMPLES[@]} -gt 0 ] && [ ! -f "$REPO/dist/lambda/broadcaster.zip" ]; then
    echo "dist/lambda/broadcaster.zip is missing (the examples deploy the broadcaster); running ./build.sh"
    (cd "$REPO" && ./build.sh) || return 1
  fi
  for dir in "${APPLY_EXAMPLES[@]}"; do
    build="$REPO/${dir#"$WORK"/}/../build.mjs"
    [ -f "$build" ] || continue
    echo "== node ${build#"$REPO"/}"
    node "$build" || return 1
  done
}

apply_one() { tf_in "$1" apply -auto-approve -var-file=harness.tfvars && no_change_plan "$1"; }
destroy_one() { tf_in "$1" destroy -auto-approve -var-file=harness.tfvars; }

# The examples' roots: applied, planned again with no changes and destroyed on an emulator of
# their own, in the background while the checks below run. Their time is mostly the aws
# provider waiting on SQS (a queue counts as created after ~25 s of stable reads and as
# deleted after 15 not-found reads, ~2 min, and a redrive chain doubles that), which
# overlaps the CPU-bound checks instead of adding to them. Destroyed even when a step fails.
examples_on_moto() {
  local dir rc=0
  trap 'stop_moto' EXIT
  trap 'exit 143' TERM INT
  export TF_PLUGIN_CACHE_DIR="$WORK/plugin-cache-examples"
  mkdir -p "$TF_PLUGIN_CACHE_DIR" "$WORK/state"
  MOTO_LOG_SUFFIX=-examples
  start_moto && start_moto_front || return 1
  for dir in "${APPLY_EXAMPLES[@]}"; do
    write_moto_overrides "$dir"
    write_harness_tfvars "$dir" </dev/null
    tf_in "$dir" init -reconfigure || {
      tail -n 40 "$dir/harness.log"
      return 1
    }
  done
  echo "== $(for dir in "${APPLY_EXAMPLES[@]}"; do rel "$dir"; echo -n " "; done): apply, no-change plan"
  in_parallel apply_one "${APPLY_EXAMPLES[@]}" || rc=1
  echo "== destroy"
  in_parallel destroy_one "${APPLY_EXAMPLES[@]}" || rc=1
  return $rc
}
EXAMPLES_JOB=""
EXAMPLES_T0=0
start_examples_on_moto() {
  [ ${#APPLY_EXAMPLES[@]} -gt 0 ] || return 0
  if ! { ensure_lambda_zips && ensure_example_artifacts; } >"$LOGS/examples-artifacts.log" 2>&1; then
    EXAMPLES_JOB=failed
    return 0
  fi
  EXAMPLES_T0=$(wskit_now)
  (
    examples_on_moto
    echo "$? $(($(wskit_now) - EXAMPLES_T0))" >"$WORK/examples-on-moto.rc"
  ) >"$LOGS/examples-on-moto.log" 2>&1 &
  EXAMPLES_JOB=$!
}
wait_examples_on_moto() {
  if [ "$EXAMPLES_JOB" = failed ]; then
    cat "$LOGS/examples-artifacts.log"
    return 1
  fi
  wait "$EXAMPLES_JOB"
  EXAMPLES_JOB=""
  cat "$LOGS/examples-on-moto.log"
  local rc
  read -r rc _ <"$WORK/examples-on-moto.rc" || rc=1
  return "$rc"
}
if want apply; then
  start_examples_on_moto
fi

# ---- fmt ---------------------------------------------------------------------------------
if want fmt; then
  step "fmt -check -recursive terraform/" "$TF" fmt -check -recursive -diff -no-color "$WORK/terraform"
  while IFS= read -r d; do
    step "fmt -check $(rel "$d")" "$TF" fmt -check -recursive -diff -no-color "$d"
  done < <(example_dirs)
fi

# ---- parallel steps ------------------------------------------------------------------------
# Independent, CPU-bound steps (validate, test) run WSKIT_INFRA_JOBS at a time (default: the
# number of cores), each still reported as one step, in a stable order.
JOBS=${WSKIT_INFRA_JOBS:-$(nproc 2>/dev/null || echo 2)}
# parallel_steps PREFIX CMD... < dirs: runs "CMD dir" for each dir read from stdin.
parallel_steps() {
  local prefix=$1
  shift
  local -a dirs=() pids=()
  local d i running=0 t0
  while IFS= read -r d; do dirs+=("$d"); done
  local pdir="$WORK/parallel.$STEP_NO"
  mkdir -p "$pdir"
  for i in "${!dirs[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 0.2; done
    (
      t0=$(wskit_now)
      "$@" "${dirs[$i]}" >"$pdir/$i.log" 2>&1
      echo "$? $(($(wskit_now) - t0))" >"$pdir/$i.rc"
    ) &
    pids+=($!)
  done
  local rc secs
  for i in "${!dirs[@]}"; do
    wait "${pids[$i]}"
    read -r rc secs <"$pdir/$i.rc"
    if STEP_SECS=$secs step "$prefix $(rel "${dirs[$i]}")" report_parallel "$pdir/$i"; then
      PARALLEL_OK+=("${dirs[$i]}")
    fi
  done
}
report_parallel() {
  cat "$1.log"
  local rc secs
  read -r rc secs <"$1.rc"
  return "$rc"
}

# ---- validate ------------------------------------------------------------------------------
init_and_validate() {
  local dir=$1 rc
  local last="$dir/.validate.log"
  (cd "$dir" && "$TF" init -backend=false -input=false -no-color && "$TF" validate -no-color) 2>&1 | tee "$last"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ] && [ "$WSKIT_AWS_PROVIDER_BUILD" != full ] && ! wskit_use_system_terraform &&
    grep -q 'does not support \(resource\|data source\) type' "$last"; then
    echo "hint: the locally built aws provider registers only: $WSKIT_AWS_PROVIDER_SERVICES;"
    echo "      add the missing service to WSKIT_AWS_PROVIDER_SERVICES in scripts/infra/lib.sh"
  fi
  return "$rc"
}
PARALLEL_OK=()
if want validate || want test || want tflint; then
  parallel_steps validate init_and_validate < <(tf_dirs)
fi

# ---- tofu test -----------------------------------------------------------------------------
run_test() { (cd "$1" && "$TF" test -no-color); }
with_tests() {
  local d
  while IFS= read -r d; do
    if [ -d "$d/tests" ] && ls "$d"/tests/*.tftest.hcl >/dev/null 2>&1; then echo "$d"; fi
  done
}
if want test; then
  parallel_steps test run_test < <({ module_dirs; env_dirs; example_dirs; } | with_tests)
fi

# ---- Terraform CLI with the aws provider 5.x (when the machine has both) -------------------
# The modules support Terraform >= 1.7 and aws 5.x as well as OpenTofu and 6.x. Where a
# Terraform CLI and an official hashicorp/aws 5.x build are already installed (a plugin
# directory or filesystem mirror: WSKIT_TF5_PLUGIN_DIR, or /opt/tf-plugins,
# ~/.terraform.d/plugins, /usr/share/terraform/plugins), validate and the module tests run
# with them too, in their own copy. Nothing is downloaded; absent tools skip the pass.
find_terraform_cli() {
  local bin
  for bin in ${WSKIT_TERRAFORM_BIN:-} $(type -aP terraform 2>/dev/null); do
    [ -x "$bin" ] || continue
    case "$("$bin" version 2>/dev/null)" in "Terraform v"*)
      echo "$bin"
      return 0
      ;;
    esac
  done
  return 1
}
find_aws5_plugin_dir() {
  local dir
  for dir in ${WSKIT_TF5_PLUGIN_DIR:-} /opt/tf-plugins "$HOME/.terraform.d/plugins" /usr/share/terraform/plugins /usr/local/share/terraform/plugins; do
    [ -d "$dir" ] || continue
    if compgen -G "$dir/registry.terraform.io/hashicorp/aws/5.*/linux_amd64/terraform-provider-aws_*" >/dev/null; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}
TF5_BIN=""
TF5_DIR=""
if want tf5; then
  TF5_BIN=$(find_terraform_cli) || TF5_BIN=""
  TF5_PLUGINS=$(find_aws5_plugin_dir) || TF5_PLUGINS=""
  if [ -z "$TF5_BIN" ] || [ -z "$TF5_PLUGINS" ]; then
    echo "${C_DIM}skip terraform + aws 5.x: $([ -z "$TF5_BIN" ] && echo "no Terraform CLI on PATH" || echo "no hashicorp/aws 5.x plugin directory (set WSKIT_TF5_PLUGIN_DIR)") (not counted)${C_OFF}"
  else
    TF5_DIR="$WORK/tf5"
    mkdir -p "$TF5_DIR/plugin-cache"
    tar -C "$SRC" --exclude=.terraform --exclude='*.tfstate*' --exclude=node_modules \
      --exclude=cdktf.out --exclude=terraform/cdktn-example -cf - terraform | tar -C "$TF5_DIR" -xf -
    find "$TF5_DIR/terraform" -name .terraform.lock.hcl -delete
    copy_example_roots "$TF5_DIR"
    copy_module_inputs "$TF5_DIR"
    rewrite_example_sources "$TF5_DIR"
    ln -s "$REPO/dist" "$TF5_DIR/dist" 2>/dev/null || true
    cat >"$TF5_DIR/terraform.tfrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$TF5_PLUGINS"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
EOF
    TF5_VERSION=$("$TF5_BIN" version | sed -n '1s/^Terraform //p')
    TF5_AWS=$(basename "$(dirname "$(dirname "$(compgen -G "$TF5_PLUGINS/registry.terraform.io/hashicorp/aws/5.*/linux_amd64/terraform-provider-aws_*" | sort -V | tail -n 1)")")")
  fi
fi
tf5() { TF_CLI_CONFIG_FILE="$TF5_DIR/terraform.tfrc" TF_PLUGIN_CACHE_DIR="$TF5_DIR/plugin-cache" "$TF5_BIN" "$@"; }
tf5_validate_one() {
  if (cd "$1" && tf5 init -backend=false -input=false -no-color && tf5 validate -no-color) >"$1/.tf5-validate.log" 2>&1; then
    echo "ok   ${1#"$TF5_DIR"/}"
  else
    echo "FAIL ${1#"$TF5_DIR"/}"
    sed 's/^/      /' "$1/.tf5-validate.log"
    return 1
  fi
}
# One step for every directory, JOBS at a time.
tf5_validate_all() {
  export -f tf5 tf5_validate_one
  export TF5_DIR TF5_BIN
  find "$TF5_DIR/terraform" "$TF5_DIR/examples" -name '*.tf' -not -path '*/.terraform/*' -printf '%h\n' 2>/dev/null | sort -u |
    xargs -P "$JOBS" -I{} bash -c 'tf5_validate_one "$1"' _ {}
}
tf5_test() { (cd "$1" && tf5 test -no-color); }
if [ -n "$TF5_DIR" ]; then
  step "terraform $TF5_VERSION + aws $TF5_AWS: validate every directory" tf5_validate_all
  # Only the modules: the environments' tests exercise the same modules again.
  if want test; then
    parallel_steps "terraform $TF5_VERSION + aws $TF5_AWS: test" tf5_test < <(find "$TF5_DIR/terraform/modules" -mindepth 1 -maxdepth 1 -type d | sort | with_tests)
  fi
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
  done < <(module_dirs; env_dirs; example_dirs)
fi

# ---- checkov -------------------------------------------------------------------------------
run_checkov() {
  # --skip-download: no policy metadata or guidelines from the vendor's platform.
  # Run in a network namespace of its own when the machine allows it, which proves the
  # scan needs no network; otherwise run it plainly (the flags above keep it offline).
  local -a cmd=(checkov --directory "$WORK/terraform" --framework terraform --skip-download
    --quiet --compact --output cli --skip-path cdktn-example)
  [ -d "$WORK/examples" ] && cmd+=(--directory "$WORK/examples")
  if unshare --net true 2>/dev/null; then
    unshare --net "${cmd[@]}"
  elif unshare --user --map-root-user --net true 2>/dev/null; then
    unshare --user --map-root-user --net "${cmd[@]}"
  else
    "${cmd[@]}"
  fi
}
if want checkov; then
  step "checkov terraform/ and examples/*/terraform (offline)" run_checkov
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
ROOTS_APPLIED=""
BOOTSTRAP="$WORK/terraform/environments/bootstrap"
APPLY_ENVS=("$WORK/terraform/environments/dev" "$WORK/terraform/environments/staging")

# 1. The bootstrap: API Gateway's logging role and account setting, the state and artifacts
#    buckets (force_destroy only here, so that the run can clean up).
apply_bootstrap() {
  ensure_lambda_zips || return 1
  start_moto || return 1
  start_moto_front || return 1
  mkdir -p "$WORK/state"
  write_moto_overrides "$BOOTSTRAP"
  echo 'force_destroy = true' | write_harness_tfvars "$BOOTSTRAP"
  echo "== bootstrap: init, apply, no-change plan"
  tf_in "$BOOTSTRAP" init -reconfigure || {
    tail -n 40 "$BOOTSTRAP/harness.log"
    return 1
  }
  ROOTS_APPLIED="$BOOTSTRAP"
  apply_one "$BOOTSTRAP" || {
    tail -n 60 "$BOOTSTRAP/harness.log"
    return 1
  }
}

# 2. dev from the local zips, staging from zips uploaded to the bootstrap's artifacts bucket
#    (as a pipeline does), both applied at once against the same emulator; then a plan of
#    each must show no changes (for staging: the S3 object versions do not churn).
apply_environments() {
  local bucket versions dir
  bucket=$(cd "$BOOTSTRAP" && "$TF" output -raw artifacts_bucket) || return 1
  echo "== upload dist/lambda/*.zip to s3://$bucket/wskit/harness/ (versioned)"
  # shellcheck disable=SC2086
  versions=$("$WSKIT_MOTO_DIR/venv/bin/python" - "$MOTO_URL" "$bucket" "$REPO/dist/lambda" $LAMBDA_NAMES <<'PY'
import sys
import boto3
url, bucket, dist, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                  aws_access_key_id="moto", aws_secret_access_key="moto")
# The bucket denies plain HTTP (aws:SecureTransport), and moto enforces that on objects;
# the emulator speaks HTTP only, so the policy is lifted for the upload and put back as it was.
policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
s3.delete_bucket_policy(Bucket=bucket)
versions = []
try:
    for name in names:
        with open(f"{dist}/{name}.zip", "rb") as body:
            version = s3.put_object(Bucket=bucket, Key=f"wskit/harness/{name}.zip", Body=body)["VersionId"]
        versions.append(f'{name} = "{version}"')
finally:
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
print(", ".join(versions))
PY
  ) || return 1
  echo "   object versions: $versions"
  write_moto_overrides "${APPLY_ENVS[0]}"
  write_harness_tfvars "${APPLY_ENVS[0]}" </dev/null
  write_moto_overrides "${APPLY_ENVS[1]}"
  printf 'lambda_artifacts = {\n  bucket     = "%s"\n  key_prefix = "wskit/harness/"\n  versions   = { %s }\n}\n' "$bucket" "$versions" |
    write_harness_tfvars "${APPLY_ENVS[1]}"
  for dir in "${APPLY_ENVS[@]}"; do
    tf_in "$dir" init -reconfigure || {
      tail -n 40 "$dir/harness.log"
      return 1
    }
    ROOTS_APPLIED="$dir $ROOTS_APPLIED"
  done
  echo "== dev (local zips) and staging (S3 object versions): apply, no-change plan"
  in_parallel apply_one "${APPLY_ENVS[@]}" || return 1
  for dir in "${APPLY_ENVS[@]}"; do
    check_http_api "$dir" || return 1
  done
}

# check_http_api DIR: what the emulator holds for the root's HTTP API is what the modules
# mean: the manifests' routes with their authorization, the authorizer's payload 2.0 and
# simple responses, payload 2.0 integrations, an auto-deployed stage whose access log
# format names no header or query string, and one invoke permission per route scoped to
# its method and path.
check_http_api() {
  local dir=$1 outputs
  outputs=$(cd "$dir" && "$TF" output -json) || return 1
  echo "== $(rel "$dir"): the HTTP API as the emulator holds it"
  "$WSKIT_MOTO_DIR/venv/bin/python" - "$MOTO_URL" "$SRC/lambda" "$outputs" <<'PY'
import glob, json, sys
from urllib.parse import urlparse
import boto3
url, lambda_dir, outputs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="moto", aws_secret_access_key="moto")
apigw, awslambda = boto3.client("apigatewayv2", **kw), boto3.client("lambda", **kw)
base = urlparse(outputs["http_api_url"]["value"])
api_id, stage = base.hostname.split(".")[0], base.path.strip("/")
expected = {}
for manifest in sorted(glob.glob(f"{lambda_dir}/*/wiring.json")):
    with open(manifest) as f:
        for route in json.load(f).get("httpRoutes", []):
            expected[route["key"]] = route["authorization"]
api = apigw.get_api(ApiId=api_id)
assert api["ProtocolType"] == "HTTP", api
routes = {route["RouteKey"]: route for route in apigw.get_routes(ApiId=api_id)["Items"]}
assert set(routes) == set(expected), (sorted(routes), sorted(expected))
# moto has no GetAuthorizers: the authorizer is read through the id a token route carries.
authorizer_ids = {routes[key].get("AuthorizerId") for key, authorization in expected.items() if authorization == "token"}
assert len(authorizer_ids) == 1 and None not in authorizer_ids, authorizer_ids
authorizer = apigw.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_ids.pop())
assert (authorizer["AuthorizerType"], authorizer["AuthorizerPayloadFormatVersion"], authorizer["EnableSimpleResponses"], authorizer["IdentitySource"]) == ("REQUEST", "2.0", True, ["$request.header.Authorization"]), authorizer
for key, authorization in expected.items():
    route = routes[key]
    want = ("CUSTOM", authorizer["AuthorizerId"]) if authorization == "token" else ("AWS_IAM", None)
    assert (route["AuthorizationType"], route.get("AuthorizerId")) == want, (key, route)
integrations = apigw.get_integrations(ApiId=api_id)["Items"]
assert integrations and all(i["IntegrationType"] == "AWS_PROXY" and i["PayloadFormatVersion"] == "2.0" for i in integrations), integrations
stage_info = apigw.get_stage(ApiId=api_id, StageName=stage)
log_format = stage_info["AccessLogSettings"]["Format"].lower()
assert stage_info["AutoDeploy"] and not any(word in log_format for word in ("header", "querystring", "authorization")), stage_info
function = outputs["function_names"]["value"]["http"]
statements = json.loads(awslambda.get_policy(FunctionName=function)["Policy"])["Statement"]
arns = sorted(statement["Condition"]["ArnLike"]["AWS:SourceArn"] for statement in statements)
# The execution ARN as the provider built it (the harness skips the account id lookup, so
# its account field is empty), from the root's http_api_iam_invoke_arns output.
iam_arns = outputs["http_api_iam_invoke_arns"]["value"]
assert set(iam_arns) == {key for key, authorization in expected.items() if authorization == "iam"}, iam_arns
execution_arn = next(iter(iam_arns.values())).split(f"/{stage}/")[0]
assert execution_arn.startswith("arn:aws:execute-api:us-east-1:") and execution_arn.endswith(f":{api_id}"), execution_arn
want_arns = sorted(f"{execution_arn}/{stage}/{key.split(' ')[0]}{key.split(' ')[1].replace('{topic}', '*')}" for key in expected)
assert arns == want_arns, (arns, want_arns)
print(f"   {api_id}/{stage}: {len(routes)} routes ({', '.join(f'{k} {v}' for k, v in sorted(expected.items()))}), payload 2.0, simple responses, {len(arns)} scoped invoke permissions")
PY
}

# 3. Destroy in reverse: the environments, then the bootstrap. The environments' destroy
#    must leave the account's logging role registered (the bootstrap owns it).
destroy_all() {
  local -a envs=()
  local dir role
  for dir in $ROOTS_APPLIED; do [ "$dir" = "$BOOTSTRAP" ] || envs+=("$dir"); done
  if [ ${#envs[@]} -gt 0 ]; then
    echo "== destroy: ${envs[*]#"$WORK"/}"
    in_parallel destroy_one "${envs[@]}" || return 1
    role=$(cd "$BOOTSTRAP" && "$TF" output -raw api_gateway_logging_role_name) || return 1
    "$WSKIT_MOTO_DIR/venv/bin/python" - "$MOTO_URL" "$role" <<'PY' || return 1
import sys
import boto3
url, role = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="moto", aws_secret_access_key="moto")
boto3.client("iam", **kw).get_role(RoleName=role)
arn = boto3.client("apigateway", **kw).get_account().get("cloudwatchRoleArn", "")
assert arn.endswith("/" + role), f"API Gateway's logging role is {arn!r} after the environments' destroy"
print(f"   after the environments' destroy API Gateway still logs with {arn}")
PY
  fi
  case " $ROOTS_APPLIED " in
  *" $BOOTSTRAP "*)
    echo "== destroy: the bootstrap"
    destroy_one "$BOOTSTRAP" || {
      tail -n 40 "$BOOTSTRAP/harness.log"
      return 1
    }
    ;;
  esac
}

if want apply; then
  if [ -d "$BOOTSTRAP" ] && step "moto: bootstrap applied, no-change plan" apply_bootstrap; then
    step "moto: dev (local zips) + staging (S3 zips) applied at once, no-change plans" apply_environments
  fi
  if [ -n "$ROOTS_APPLIED" ]; then
    step "moto: destroy dev + staging (logging role kept), then the bootstrap" destroy_all
  fi
  stop_moto
  if [ -n "$EXAMPLES_JOB" ]; then
    # Its own time (it ran beside the steps above); what it added is the wait, printed after.
    t_wait=$(wskit_now)
    STEP_SECS="" step "moto (own instance, in the background): the examples' roots applied, no-change plans, destroyed" wait_examples_on_moto
    echo "${C_DIM}   the examples' roots ran for $(($(wskit_now) - EXAMPLES_T0))s in all; waiting for them took $(($(wskit_now) - t_wait))s${C_OFF}"
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
  (cd "$app" && npx tsc -p . && WSKIT_MODULES_DIR="$modules" WSKIT_REPOSITORY_ROOT="$SRC" CDKTF_OUTDIR="$out" node dist/main.js) || return 1
  # The CLI script (npm run synth:cli) must write the very same stack.
  echo "== npm run synth:cli into $out-cli"
  (cd "$app" && WSKIT_MODULES_DIR="$modules" WSKIT_REPOSITORY_ROOT="$SRC" CDKTF_OUTDIR="$out-cli" npm run -s synth:cli) || return 1
  diff -r "$out/stacks" "$out-cli/stacks" || {
    echo "npm run synth:cli wrote a different stack than node dist/main.js"
    return 1
  }
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
    step "cdktn example: synth (node and npm run synth:cli, same output) + validate" cdktn_synth_validate
  else
    step "terraform/cdktn-example has a package-lock.json" false
  fi
fi

finish
