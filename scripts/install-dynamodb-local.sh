#!/usr/bin/env bash
# Installs DynamoDB Local (a Java server that speaks the DynamoDB API) for the test suites.
#
# It resolves the jar and its dependencies with Maven (the ordinary client of the Maven
# repository), plus the sqlite4java native library it needs on Linux x86-64, into
#   ${WSKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wskit}/dynamodb-local-<version>/lib
# Idempotent: a second run only says "cached". Progress goes to stderr; stdout prints the
# install directory so callers can capture it.
#
# Override the version with WSKIT_DYNAMODB_LOCAL_VERSION (a changed version installs anew).
set -euo pipefail

version="${WSKIT_DYNAMODB_LOCAL_VERSION:-2.6.1}"
sqlite4java_version="1.0.392"
cache_root="${WSKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wskit}"
dest="$cache_root/dynamodb-local-$version"
marker="$dest/.installed"

log() { echo "install-dynamodb-local: $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

if [[ -f "$marker" && -d "$dest/lib" ]]; then
  log "DynamoDB Local $version cached in $dest"
  echo "$dest"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) native_artifact="libsqlite4java-linux-amd64" ;;
  *) fail "unsupported platform $(uname -s)-$(uname -m): this installer knows the sqlite4java native library for Linux x86-64 only; run the DynamoDB Local tests on Linux x86-64 or use the dynalite backend" ;;
esac

command -v java >/dev/null 2>&1 || fail "java not found: install a Java 17 runtime (Debian: apt-get install openjdk-17-jre-headless)"
command -v mvn >/dev/null 2>&1 || fail "mvn not found: install Maven 3.8+ (Debian: apt-get install maven)"
java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1)"
if [[ -z "$java_major" || "$java_major" -lt 17 ]]; then
  fail "DynamoDB Local $version needs Java 17 or newer, found '${java_major:-unknown}': install openjdk-17"
fi

mkdir -p "$cache_root"
staging="$(mktemp -d "$cache_root/.dynamodb-local-$version.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

# A throwaway project whose only purpose is to name the artifacts to resolve.
cat >"$staging/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.wskit.tools</groupId>
  <artifactId>dynamodb-local-install</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>com.amazonaws</groupId>
      <artifactId>DynamoDBLocal</artifactId>
      <version>$version</version>
    </dependency>
    <dependency>
      <groupId>com.almworks.sqlite4java</groupId>
      <artifactId>$native_artifact</artifactId>
      <version>$sqlite4java_version</version>
      <type>so</type>
    </dependency>
  </dependencies>
</project>
POM

log "resolving com.amazonaws:DynamoDBLocal:$version and $native_artifact:$sqlite4java_version with Maven (first run downloads ~60 MB)..."
started=$SECONDS
if ! mvn -B -ntp -Dstyle.color=never -f "$staging/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$staging/lib" -DincludeScope=runtime >&2; then
  fail "Maven could not resolve DynamoDB Local $version; check that mvn can reach the Maven repository (proxy settings in ~/.m2/settings.xml), then run: bash scripts/install-dynamodb-local.sh"
fi

ls "$staging/lib"/DynamoDBLocal-*.jar >/dev/null 2>&1 || fail "DynamoDBLocal jar missing after resolution"
ls "$staging/lib/$native_artifact"-*.so >/dev/null 2>&1 || fail "$native_artifact native library missing after resolution"

rm -f "$staging/pom.xml"
echo "$version" >"$staging/.installed"
rm -rf "$dest"
mv "$staging" "$dest"
trap - EXIT
log "installed DynamoDB Local $version in $dest ($((SECONDS - started))s)"
echo "$dest"
