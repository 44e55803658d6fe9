#!/usr/bin/env bash
# Builds the Lambda artifacts and the client SDK bundle:
#   1. type-checks every workspace that has TypeScript sources (tsc -p <ws>, noEmit);
#   2. bundles each lambda/<name>/src/index.ts with esbuild  -> dist/lambda/<name>/index.mjs
#      (metafile beside it as meta.json; scripts/bundle.mjs);
#   3. zips each bundle reproducibly                          -> dist/lambda/<name>.zip
#      prints the size table and fails when a zip is over its budget in lambda/budgets.json
#      (scripts/package-lambdas.mjs);
#   4. builds the client SDK's browser bundle                 -> client/dist/wskit-client.js
#      (+ .map and .d.ts; client/build.mjs), which the local gateway's demo page loads.
#
# Usage: ./build.sh [--no-typecheck] [--aws-sdk bundle|external]
set -euo pipefail
cd "$(dirname "$0")"

typecheck=1
bundle_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-typecheck) typecheck=0 ;;
    --aws-sdk) bundle_args+=(--aws-sdk "${2:?--aws-sdk needs bundle or external}"); shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

if [[ ! -x node_modules/.bin/esbuild || ! -x node_modules/.bin/tsc ]]; then
  echo "build.sh: dependencies are missing; run 'npm ci' first" >&2
  exit 1
fi

if [[ $typecheck -eq 1 ]]; then
  for ws in $(node -p "require('./package.json').workspaces.join(' ')"); do
    [[ -f "$ws/tsconfig.json" ]] || continue
    # A workspace scaffolded without sources yet has nothing to check (tsc would fail
    # with "No inputs were found").
    if [[ -z "$(find "$ws" -path "$ws/node_modules" -prune -o -name '*.ts' -print -quit)" ]]; then
      echo "build.sh: typecheck $ws: no TypeScript sources yet, skipped" >&2
      continue
    fi
    echo "build.sh: typecheck $ws" >&2
    nice -n 10 node_modules/.bin/tsc -p "$ws"
  done
fi

rm -rf dist/lambda
nice -n 10 node scripts/bundle.mjs "${bundle_args[@]}"
node scripts/package-lambdas.mjs
nice -n 10 node client/build.mjs
