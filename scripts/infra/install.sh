#!/usr/bin/env bash
# Installs the infrastructure toolchain into the wskit cache, idempotently:
#   OpenTofu (built from the Go module proxy), the hashicorp/aws provider (built, placed in
#   a filesystem mirror), tflint + tflint-ruleset-aws, terraform-docs, checkov and moto.
# A second run only checks the cache. Progress goes to stderr.
#
#   scripts/infra/install.sh            # everything
#   scripts/infra/install.sh tofu aws   # only some: tofu aws tflint tfdocs checkov moto
#
# Environment:
#   WSKIT_CACHE_DIR                 cache root (default ${XDG_CACHE_HOME:-~/.cache}/wskit)
#   WSKIT_AWS_PROVIDER_BUILD=full   build every AWS service (slow; default: trimmed)
#   WSKIT_AWS_PROVIDER_MIRROR=dir   use a hashicorp/aws build already in that filesystem
#                                   mirror / plugin directory instead of building one
#   WSKIT_USE_SYSTEM_TERRAFORM=1    use your own terraform/tofu with registry access:
#                                   OpenTofu and the provider are not built, tflint
#                                   installs its ruleset with `tflint --init`
set -euo pipefail

# shellcheck source=scripts/infra/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$WSKIT_CACHE_ROOT" || wskit_die "cannot create the cache directory $WSKIT_CACHE_ROOT: set WSKIT_CACHE_DIR to a writable directory"

TIMINGS=()
record_timing() { TIMINGS+=("$(printf '%-22s %s' "$1" "$2")"); }

# Runs a command with its output in a log file; on failure shows the end of the log.
run_logged() {
  local logfile=$1
  shift
  if ! "$@" >>"$logfile" 2>&1; then
    wskit_log "command failed: $*"
    wskit_log "last lines of $logfile:"
    tail -n 30 "$logfile" >&2
    return 1
  fi
}

# Like run_logged, also recording wall time and peak RSS (KiB) when GNU time is present.
run_measured() {
  local logfile=$1 statfile=$2
  shift 2
  if [ -x /usr/bin/time ]; then
    run_logged "$logfile" /usr/bin/time -f 'wall_seconds=%e cpu_user_seconds=%U cpu_sys_seconds=%S max_rss_kib=%M' -o "$statfile" "$@"
  else
    local t0
    t0=$(wskit_now)
    run_logged "$logfile" "$@"
    echo "wall_seconds=$(($(wskit_now) - t0)) max_rss_kib=unknown" >"$statfile"
  fi
}

# Downloads a Go module into the module cache and prints its directory.
go_module_dir() {
  local spec=$1 logfile=$2 json
  json=$(go mod download -json "$spec" 2>>"$logfile") || {
    tail -n 20 "$logfile" >&2
    wskit_die "could not download the Go module $spec: check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY))"
  }
  printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'
}

# Copies a module out of the read-only module cache into a writable build directory.
copy_module_source() {
  local from=$1 to=$2
  rm -rf "$to"
  mkdir -p "$(dirname "$to")"
  cp -R "$from" "$to"
  chmod -R u+w "$to"
}

# Builds package PKG of Go module SPEC (path@version) into OUT, inside a writable copy of
# the module under TOOLDIR/src. Used instead of `go install SPEC`, which also asks the
# proxy for the module's version list (its deprecation check), and a proxy may refuse that
# list for a module whose pinned version it serves.
go_build_in_copy() {
  local spec=$1 pkg=$2 out=$3 tooldir=$4 log="$4/build.log" src
  src=$(go_module_dir "$spec" "$log")
  copy_module_source "$src" "$tooldir/src"
  (cd "$tooldir/src" && run_measured "$log" "$tooldir/build.stats" \
    nice -n 10 go build -trimpath -ldflags "-s -w ${5:-}" -o "$out" "$pkg") || return 1
  rm -rf "$tooldir/src"
}

# ---- OpenTofu ---------------------------------------------------------------------------
install_tofu() {
  local bin="$WSKIT_TOFU_DIR/bin/tofu"
  if [ -x "$bin" ] && [ -f "$WSKIT_TOFU_DIR/.complete" ]; then
    wskit_log "opentofu $WSKIT_OPENTOFU_VERSION: cached ($bin)"
    return
  fi
  wskit_go_env
  local t0 log="$WSKIT_TOFU_DIR/build.log" src
  t0=$(wskit_now)
  rm -rf "$WSKIT_TOFU_DIR"
  mkdir -p "$WSKIT_TOFU_DIR/bin"
  wskit_log "opentofu $WSKIT_OPENTOFU_VERSION: downloading the source from the Go module proxy"
  src=$(go_module_dir "github.com/opentofu/opentofu@v$WSKIT_OPENTOFU_VERSION" "$log")
  # go.mod has replace directives, which `go install pkg@version` refuses: build in a copy.
  copy_module_source "$src" "$WSKIT_TOFU_DIR/src"
  wskit_log "opentofu: downloading dependencies"
  (cd "$WSKIT_TOFU_DIR/src" && run_measured "$log" "$WSKIT_TOFU_DIR/download.stats" go list -deps ./cmd/tofu >/dev/null) ||
    wskit_die "opentofu: dependency download failed (log: $log)"
  wskit_log "opentofu: compiling (a few minutes on 2 cores)"
  (cd "$WSKIT_TOFU_DIR/src" && run_measured "$log" "$WSKIT_TOFU_DIR/build.stats" \
    nice -n 10 go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$bin.tmp" ./cmd/tofu) ||
    wskit_die "opentofu: build failed (log: $log)"
  mv "$bin.tmp" "$bin"
  rm -rf "$WSKIT_TOFU_DIR/src"
  "$bin" version >/dev/null || wskit_die "opentofu: the built binary does not run"
  date -u +%FT%TZ >"$WSKIT_TOFU_DIR/.complete"
  record_timing "opentofu" "$(($(wskit_now) - t0)) s"
  wskit_log "opentofu: built in $(($(wskit_now) - t0)) s ($(cat "$WSKIT_TOFU_DIR/build.stats"))"
}

# ---- hashicorp/aws provider --------------------------------------------------------------
# Replaces the provider's generated service registration with one that lists only the
# services in WSKIT_AWS_PROVIDER_SERVICES, so only those service packages are compiled.
trim_provider_services() {
  local src=$1 file="$1/internal/provider/sdkv2/service_packages_gen.go" svc
  [ -f "$file" ] || wskit_die "aws provider: $file is missing; this provider revision lays out its service registration differently, update trim_provider_services in $0"
  grep -q '^func servicePackages(ctx context.Context) \[\]conns.ServicePackage {' "$file" ||
    wskit_die "aws provider: unexpected servicePackages signature in $file; update trim_provider_services in $0"
  for svc in $WSKIT_AWS_PROVIDER_SERVICES; do
    [ -d "$src/internal/service/$svc" ] || wskit_die "aws provider: no service package '$svc' at this revision; fix WSKIT_AWS_PROVIDER_SERVICES in scripts/infra/lib.sh"
  done
  {
    echo "// Code generated by wskit scripts/infra/install.sh: registers only the services"
    echo "// listed in WSKIT_AWS_PROVIDER_SERVICES. DO NOT EDIT."
    echo
    echo "package sdkv2"
    echo
    echo "import ("
    echo '	"context"'
    echo '	"slices"'
    echo
    echo '	"github.com/hashicorp/terraform-provider-aws/internal/conns"'
    for svc in $WSKIT_AWS_PROVIDER_SERVICES; do
      echo "	\"github.com/hashicorp/terraform-provider-aws/internal/service/$svc\""
    done
    echo ")"
    echo
    echo "func servicePackages(ctx context.Context) []conns.ServicePackage {"
    echo "	v := []conns.ServicePackage{"
    for svc in $WSKIT_AWS_PROVIDER_SERVICES; do
      echo "		$svc.ServicePackage(ctx),"
    done
    echo "	}"
    echo
    echo "	return slices.Clone(v)"
    echo "}"
  } >"$file.new"
  mv "$file.new" "$file"
}

# Publishes a provider binary found under WSKIT_AWS_PROVIDER_MIRROR in our own mirror
# layout (file symlinks under both registry hosts), so nothing is built.
use_external_provider() {
  local found v file dir host
  found=$(find -L "$WSKIT_AWS_PROVIDER_MIRROR" -path '*/hashicorp/aws/*/linux_amd64/terraform-provider-aws_*' -type f 2>/dev/null | sort -V | tail -n 1)
  [ -n "$found" ] || wskit_die "WSKIT_AWS_PROVIDER_MIRROR=$WSKIT_AWS_PROVIDER_MIRROR holds no hashicorp/aws/<version>/linux_amd64/terraform-provider-aws_* binary; unset it to build the provider"
  v=$(basename "$(dirname "$(dirname "$found")")")
  file=$(basename "$found")
  rm -rf "$WSKIT_PROVIDER_DIR"
  for host in registry.terraform.io registry.opentofu.org; do
    dir="$WSKIT_PROVIDER_DIR/mirror/$host/hashicorp/aws/$v/linux_amd64"
    mkdir -p "$dir"
    ln -sfn "$found" "$dir/$file"
  done
  write_cli_config
  echo "external: $found" >"$WSKIT_PROVIDER_DIR/BUILD-INFO"
  date -u +%FT%TZ >"$WSKIT_PROVIDER_DIR/.complete"
  wskit_log "aws provider: using the existing build $found (version $v; WSKIT_AWS_PROVIDER_MIRROR), nothing built"
}

install_aws_provider() {
  if [ -n "$WSKIT_AWS_PROVIDER_MIRROR" ]; then
    use_external_provider
    return
  fi
  local v=$WSKIT_AWS_PROVIDER_VERSION
  local platform_dir="$WSKIT_PROVIDER_MIRROR/registry.terraform.io/hashicorp/aws/$v/linux_amd64"
  local bin="$platform_dir/terraform-provider-aws_v$v"
  if [ -x "$bin" ] && [ -f "$WSKIT_PROVIDER_DIR/.complete" ]; then
    wskit_log "aws provider $v ($(wskit_provider_flavor)): cached"
    link_opentofu_host
    write_cli_config
    return
  fi
  [ "$(go env GOOS 2>/dev/null)/$(go env GOARCH 2>/dev/null)" = "linux/amd64" ] ||
    wskit_log "aws provider: note: this machine is not linux/amd64; the mirror layout below assumes it"
  wskit_go_env
  local t0 log="$WSKIT_PROVIDER_DIR/build.log" src work="$WSKIT_PROVIDER_DIR/src" trimmed=""
  t0=$(wskit_now)
  rm -rf "$WSKIT_PROVIDER_DIR"
  mkdir -p "$platform_dir"
  wskit_log "aws provider $v (commit $WSKIT_AWS_PROVIDER_COMMIT, $(wskit_provider_flavor)): downloading the source"
  src=$(go_module_dir "github.com/hashicorp/terraform-provider-aws@$WSKIT_AWS_PROVIDER_GO_VERSION" "$log")
  copy_module_source "$src" "$work"
  if [ "$WSKIT_AWS_PROVIDER_BUILD" != "full" ]; then
    wskit_log "aws provider: registering only: $WSKIT_AWS_PROVIDER_SERVICES"
    trim_provider_services "$work"
    # Without this, internal/conns still imports every AWS SDK client (~265 packages, most
    # of what the build compiles) although only the registered services use theirs.
    trimmed=$(python3 "$WSKIT_REPO_ROOT/scripts/infra/trim_provider_clients.py" "$work") ||
      wskit_die "aws provider: trimming the client accessors failed; build everything with WSKIT_AWS_PROVIDER_BUILD=full, or fix scripts/infra/trim_provider_clients.py"
    wskit_log "aws provider: ${trimmed%%:*}"
  fi
  # `go list -deps` fetches exactly the modules the build needs (a trimmed build needs a
  # fraction of the AWS SDK), so the download share of the time is measured on its own.
  wskit_log "aws provider: downloading dependencies"
  (cd "$work" && run_measured "$log" "$WSKIT_PROVIDER_DIR/download.stats" go list -deps . >/dev/null) ||
    wskit_die "aws provider: dependency download failed (log: $log)"
  wskit_log "aws provider: compiling ($( [ "$WSKIT_AWS_PROVIDER_BUILD" = full ] && echo 'full build: an hour or more on 2 cores, ~10+ GiB RAM' || echo 'trimmed build: several minutes'))"
  (cd "$work" && run_measured "$log" "$WSKIT_PROVIDER_DIR/build.stats" \
    nice -n 10 go build -trimpath \
    -ldflags "-s -w -X github.com/hashicorp/terraform-provider-aws/version.ProviderVersion=$v" \
    -o "$bin.tmp" .) ||
    wskit_die "aws provider: build failed (log: $log). If the machine ran out of memory, use the default trimmed build (unset WSKIT_AWS_PROVIDER_BUILD)"
  mv "$bin.tmp" "$bin"
  rm -rf "$work"
  link_opentofu_host
  {
    echo "version=$v"
    echo "commit=$WSKIT_AWS_PROVIDER_COMMIT"
    echo "go_version=$WSKIT_AWS_PROVIDER_GO_VERSION"
    echo "build=$WSKIT_AWS_PROVIDER_BUILD"
    [ "$WSKIT_AWS_PROVIDER_BUILD" = full ] || echo "services=$WSKIT_AWS_PROVIDER_SERVICES"
    [ -z "$trimmed" ] || echo "clients=${trimmed#*: }"
    echo "download: $(cat "$WSKIT_PROVIDER_DIR/download.stats")"
    echo "compile: $(cat "$WSKIT_PROVIDER_DIR/build.stats")"
  } >"$WSKIT_PROVIDER_DIR/BUILD-INFO"
  date -u +%FT%TZ >"$WSKIT_PROVIDER_DIR/.complete"
  write_cli_config
  record_timing "aws provider" "$(($(wskit_now) - t0)) s"
  wskit_log "aws provider: built in $(($(wskit_now) - t0)) s (compile: $(cat "$WSKIT_PROVIDER_DIR/build.stats"))"
}

# OpenTofu resolves `hashicorp/aws` to registry.opentofu.org, Terraform to
# registry.terraform.io: the same binary is published under both host names. A hard link
# (not a directory symlink: the mirror scan does not follow those).
link_opentofu_host() {
  local v=$WSKIT_AWS_PROVIDER_VERSION
  local from="$WSKIT_PROVIDER_MIRROR/registry.terraform.io/hashicorp/aws/$v/linux_amd64/terraform-provider-aws_v$v"
  local dir="$WSKIT_PROVIDER_MIRROR/registry.opentofu.org/hashicorp/aws/$v/linux_amd64"
  [ -L "$WSKIT_PROVIDER_MIRROR/registry.opentofu.org" ] && rm -f "$WSKIT_PROVIDER_MIRROR/registry.opentofu.org"
  [ -f "$dir/terraform-provider-aws_v$v" ] && return
  mkdir -p "$dir"
  ln -f "$from" "$dir/" 2>/dev/null || cp "$from" "$dir/"
}

# The CLI configuration that makes `tofu init` install hashicorp/aws from the mirror and
# never ask a registry for it. Other providers still come from their registry, so a module
# that needs one fails at init with a clear "could not retrieve" message here.
write_cli_config() {
  cat >"$WSKIT_PROVIDER_DIR/tofu.tfrc" <<EOF
# Written by scripts/infra/install.sh. Used through TF_CLI_CONFIG_FILE (scripts/infra/env.sh).
provider_installation {
  filesystem_mirror {
    path    = "$WSKIT_PROVIDER_MIRROR"
    include = ["registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws"]
  }
}
EOF
}

# ---- tflint and the AWS ruleset ----------------------------------------------------------
install_tflint() {
  local bin="$WSKIT_TFLINT_DIR/bin/tflint"
  if [ -x "$bin" ] && [ -f "$WSKIT_TFLINT_DIR/.complete" ]; then
    wskit_log "tflint $WSKIT_TFLINT_VERSION: cached"
  else
    wskit_go_env
    local t0 log="$WSKIT_TFLINT_DIR/build.log"
    t0=$(wskit_now)
    rm -rf "$WSKIT_TFLINT_DIR"
    mkdir -p "$WSKIT_TFLINT_DIR/bin"
    wskit_log "tflint $WSKIT_TFLINT_VERSION: downloading and building"
    go_build_in_copy "github.com/terraform-linters/tflint@v$WSKIT_TFLINT_VERSION" . "$bin" "$WSKIT_TFLINT_DIR" ||
      wskit_die "tflint: build failed (log: $log)"
    date -u +%FT%TZ >"$WSKIT_TFLINT_DIR/.complete"
    record_timing "tflint" "$(($(wskit_now) - t0)) s"
  fi

  if wskit_use_system_terraform; then
    return # the ruleset comes from `tflint --init` (see env.sh / test.sh)
  fi
  # A plugin declared with source+version is looked up at
  # <plugin dir>/<source>/<version>/tflint-ruleset-<name>; tflint only downloads on --init.
  local plugin_dir="$WSKIT_RULESET_DIR/plugins"
  local plugin="$plugin_dir/github.com/terraform-linters/tflint-ruleset-aws/$WSKIT_TFLINT_RULESET_AWS_VERSION/tflint-ruleset-aws"
  if [ -x "$plugin" ] && [ -f "$WSKIT_RULESET_DIR/.complete" ]; then
    wskit_log "tflint-ruleset-aws $WSKIT_TFLINT_RULESET_AWS_VERSION: cached"
    return
  fi
  wskit_go_env
  local t0 log="$WSKIT_RULESET_DIR/build.log"
  t0=$(wskit_now)
  rm -rf "$WSKIT_RULESET_DIR"
  mkdir -p "$(dirname "$plugin")"
  wskit_log "tflint-ruleset-aws $WSKIT_TFLINT_RULESET_AWS_VERSION: downloading and building"
  go_build_in_copy "github.com/terraform-linters/tflint-ruleset-aws@v$WSKIT_TFLINT_RULESET_AWS_VERSION" . "$plugin" "$WSKIT_RULESET_DIR" ||
    wskit_die "tflint-ruleset-aws: build failed (log: $log)"
  date -u +%FT%TZ >"$WSKIT_RULESET_DIR/.complete"
  record_timing "tflint-ruleset-aws" "$(($(wskit_now) - t0)) s"
}

# ---- terraform-docs --------------------------------------------------------------------
install_tfdocs() {
  local bin="$WSKIT_TFDOCS_DIR/bin/terraform-docs"
  if [ -x "$bin" ] && [ -f "$WSKIT_TFDOCS_DIR/.complete" ]; then
    wskit_log "terraform-docs $WSKIT_TERRAFORM_DOCS_VERSION: cached"
    return
  fi
  wskit_go_env
  local t0 log="$WSKIT_TFDOCS_DIR/build.log"
  t0=$(wskit_now)
  rm -rf "$WSKIT_TFDOCS_DIR"
  mkdir -p "$WSKIT_TFDOCS_DIR/bin"
  wskit_log "terraform-docs $WSKIT_TERRAFORM_DOCS_VERSION: downloading and building"
  go_build_in_copy "github.com/terraform-docs/terraform-docs@v$WSKIT_TERRAFORM_DOCS_VERSION" . "$bin" "$WSKIT_TFDOCS_DIR" ||
    wskit_die "terraform-docs: build failed (log: $log)"
  date -u +%FT%TZ >"$WSKIT_TFDOCS_DIR/.complete"
  record_timing "terraform-docs" "$(($(wskit_now) - t0)) s"
}

# ---- Python tools (each in its own venv) -----------------------------------------------
install_python_tool() {
  local name=$1 dir=$2 spec=$3 probe=$4
  if [ -x "$dir/venv/bin/$probe" ] && [ -f "$dir/.complete" ]; then
    wskit_log "$name: cached"
    return
  fi
  local py="${WSKIT_PYTHON:-python3}"
  command -v "$py" >/dev/null 2>&1 || wskit_die "$name needs python3 (>= 3.9) with the venv module: apt-get install python3 python3-venv"
  local t0 log="$dir/install.log"
  t0=$(wskit_now)
  rm -rf "$dir"
  mkdir -p "$dir"
  wskit_log "$name: creating a venv and installing $spec with pip"
  run_logged "$log" "$py" -m venv "$dir/venv" ||
    wskit_die "$name: could not create a venv (log: $log); on Debian: apt-get install python3-venv"
  run_measured "$log" "$dir/install.stats" "$dir/venv/bin/pip" install --disable-pip-version-check --no-input "$spec" ||
    wskit_die "$name: pip install failed (log: $log)"
  date -u +%FT%TZ >"$dir/.complete"
  # Runs in the background (see main): its timing is logged here, not in the summary.
  wskit_log "$name: installed in $(($(wskit_now) - t0)) s"
}

# ---- main --------------------------------------------------------------------------------
main() {
  local all="tofu aws tflint tfdocs checkov moto" wanted=("$@") t_start what
  [ ${#wanted[@]} -gt 0 ] || read -r -a wanted <<<"$all"
  t_start=$(wskit_now)
  wskit_log "cache: $WSKIT_CACHE_ROOT"
  # One install at a time per cache (two test runs on one machine share it).
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$WSKIT_CACHE_ROOT/.install.lock"
    if ! flock -n 9; then
      wskit_log "another install is running on this cache; waiting for it"
      flock 9
    fi
  fi
  if wskit_use_system_terraform; then
    local tf
    tf=$(wskit_tf_bin) || wskit_die "WSKIT_USE_SYSTEM_TERRAFORM=1 but neither tofu nor terraform is on PATH (or set WSKIT_TF_BIN)"
    wskit_log "using your own $("$tf" version | head -n 1) with normal registry access: nothing to build for it"
  fi
  for what in "${wanted[@]}"; do
    case " $all " in *" $what "*) ;; *) wskit_die "unknown tool '$what'; choose from: $all" ;; esac
  done
  # The pip installs are mostly network and unpacking: they run beside the Go builds,
  # which keep both cores busy, so a cold install is not their sum.
  local -a python_jobs=()
  for what in "${wanted[@]}"; do
    case "$what" in
    checkov) install_python_tool "checkov $WSKIT_CHECKOV_VERSION" "$WSKIT_CHECKOV_DIR" "checkov==$WSKIT_CHECKOV_VERSION" checkov &
      python_jobs+=($!) ;;
    moto) install_python_tool "moto $WSKIT_MOTO_VERSION" "$WSKIT_MOTO_DIR" "moto[server]==$WSKIT_MOTO_VERSION" moto_server &
      python_jobs+=($!) ;;
    esac
  done
  for what in "${wanted[@]}"; do
    case "$what" in
    tofu) wskit_use_system_terraform || install_tofu ;;
    aws) wskit_use_system_terraform || install_aws_provider ;;
    tflint) install_tflint ;;
    tfdocs) install_tfdocs ;;
    esac
  done
  local job failed=0
  for job in "${python_jobs[@]}"; do
    wait "$job" || failed=1
  done
  [ "$failed" -eq 0 ] || wskit_die "a Python tool failed to install (see the message above)"
  if [ ${#TIMINGS[@]} -gt 0 ]; then
    wskit_log "installed this run:"
    printf '[infra]   %s\n' "${TIMINGS[@]}" >&2
  fi
  wskit_log "toolchain ready in $(($(wskit_now) - t_start)) s; use it with: . scripts/infra/env.sh"
}

main "$@"
exit $?
