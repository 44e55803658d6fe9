#!/usr/bin/env bash
# `npm test`: every suite, installing what the suites need through the project's own scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run typecheck
npx jest --ci --passWithNoTests
