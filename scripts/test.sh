#!/usr/bin/env bash
# `npm test`: every suite, the infrastructure checks included. Tools the suites need are
# installed by the project's own scripts into a cache keyed by version, so a second run
# skips straight to the tests. Every suite runs even when an earlier one fails; the last
# line sums them up.
set -uo pipefail
cd "$(dirname "$0")/.."

# The suites run on this machine's Node 20; the AWS SDK warns once per process that its
# releases after January 2027 need Node 22 (the Lambda runtime is nodejs22.x). Said once
# here instead of in every jest worker.
echo "note: AWS SDK v3 releases after January 2027 need Node >= 22; these suites run on $(node --version)" >&2
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

results_dir=test-results
mkdir -p "$results_dir"
failed_steps=()
passed=0
failed=0

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
run_step() { # name, command...
  local name=$1
  shift
  step "$name"
  local started=$SECONDS
  if "$@"; then
    printf '%s: ok (%ss)\n' "$name" $((SECONDS - started)) >&2
  else
    printf '%s: FAILED (%ss)\n' "$name" $((SECONDS - started)) >&2
    failed_steps+=("$name")
    return 1
  fi
}

run_step "install test tools" bash scripts/install-test-tools.sh || true
run_step "build" ./build.sh || true

jest_report="$results_dir/jest.json"
rm -f "$jest_report"
run_step "javascript suites" npx jest --ci --json --outputFile="$jest_report" || true
if [ -f "$jest_report" ]; then
  read -r jest_passed jest_failed < <(node -e '
    const r = require(process.argv[1]);
    console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites);
  ' "$PWD/$jest_report")
  passed=$((passed + jest_passed))
  failed=$((failed + jest_failed))
fi

infra_log="$results_dir/infra.log"
run_step "infrastructure checks" bash -c "set -o pipefail; npm run -s test:infra 2>&1 | tee '$infra_log'" || true
if infra_line=$(grep -E '^infra: [0-9]+ passed, [0-9]+ failed' "$infra_log" | tail -n 1); then
  read -r infra_passed infra_failed < <(sed -E 's/^infra: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/' <<<"$infra_line")
  passed=$((passed + infra_passed))
  failed=$((failed + infra_failed))
fi

# A failed step with no test count of its own (an install, the build, a runner that died
# before reporting) still counts as a failure.
if [ "$failed" -eq 0 ] && [ ${#failed_steps[@]} -gt 0 ]; then
  failed=${#failed_steps[@]}
fi
echo
if [ ${#failed_steps[@]} -gt 0 ]; then
  printf 'failed steps: %s\n' "${failed_steps[*]}"
fi
echo "$passed passed, $failed failed"
[ ${#failed_steps[@]} -eq 0 ]
