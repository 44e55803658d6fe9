#!/usr/bin/env bash
# Regenerates the terraform-docs section of every module README under terraform/modules
# (between <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS -->), with the same settings the
# `npm run test:infra` check uses. Installs terraform-docs into the cache if needed.
#
#   scripts/infra/docs.sh                     # every module
#   scripts/infra/docs.sh terraform/modules/x # some
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$WSKIT_REPO_ROOT/scripts/infra/install.sh" tfdocs
# shellcheck source=scripts/infra/env.sh
. "$WSKIT_REPO_ROOT/scripts/infra/env.sh"

if [ $# -eq 0 ]; then
  set -- "$WSKIT_REPO_ROOT"/terraform/modules/*/
fi
for dir in "$@"; do
  dir=${dir%/}
  [ -f "$dir/README.md" ] || {
    wskit_log "$dir/README.md is missing: write the hand-written part with an empty <!-- BEGIN_TF_DOCS --> / <!-- END_TF_DOCS --> section, then run this again"
    continue
  }
  if [ -f "$dir/.terraform-docs.yml" ]; then
    terraform-docs --config "$dir/.terraform-docs.yml" --lockfile=false "$dir"
  elif [ -f "$WSKIT_REPO_ROOT/terraform/.terraform-docs.yml" ]; then
    terraform-docs --config "$WSKIT_REPO_ROOT/terraform/.terraform-docs.yml" --lockfile=false "$dir"
  else
    terraform-docs markdown table --lockfile=false --output-file README.md --output-mode inject "$dir"
  fi
done
