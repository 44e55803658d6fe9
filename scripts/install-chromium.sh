#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (playwright-core drives it with
# executablePath /usr/bin/chromium). Idempotent: a second run only says it is there.
# Progress goes to stderr; the exit status says whether /usr/bin/chromium is usable.
set -euo pipefail

readonly CHROMIUM=/usr/bin/chromium

log() { printf 'install-chromium: %s\n' "$*" >&2; }

if [[ -x "$CHROMIUM" ]]; then
  log "cached: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  log "apt-get not found. Install Chromium with your system's package manager so that $CHROMIUM exists, then re-run."
  exit 1
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    log "needs root to run apt-get (run as root, or install sudo), or install the 'chromium' package yourself."
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
log "apt-get update"
if ! "${SUDO[@]}" apt-get update -qq >&2; then
  log "apt-get update failed: check the machine's apt sources and network, then re-run."
  exit 1
fi
log "apt-get install chromium (this takes a minute or two)"
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-liberation >&2; then
  log "apt-get install chromium failed: see the apt output above; on Ubuntu the package is a snap, so install a Debian chromium or point the tests at another binary."
  exit 1
fi

if [[ ! -x "$CHROMIUM" ]]; then
  log "the chromium package is installed but $CHROMIUM is missing; install a Debian chromium build."
  exit 1
fi
log "installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
