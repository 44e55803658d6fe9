#!/usr/bin/env bash
# Installs what `npm test` needs beyond node_modules, each through its own idempotent,
# version-keyed installer: DynamoDB Local (Maven Central), Debian's chromium (apt), and
# the infrastructure toolchain (OpenTofu, the aws provider, tflint, terraform-docs,
# checkov, moto). A second run only checks the caches.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-dynamodb-local.sh
bash scripts/install-chromium.sh
bash scripts/infra/install.sh
