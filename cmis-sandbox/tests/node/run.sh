#!/usr/bin/env bash
# Meta's official Node SDK, unmodified, against the sandbox program:
#
#   cmis-sandbox/tests/node/run.sh SANDBOX_BIN
#
# Installs the SDK version pinned in package-lock.json (npm ci), starts SANDBOX_BIN (the
# `cmis-sandbox` program), hands its JSON line of URLs and tokens to sdk-against-sandbox.js, and
# stops the program again. Without npm (or node) it prints "skipped: npm is not available" and
# exits 0.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 SANDBOX_BIN" >&2
  exit 2
fi
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "skipped: npm is not available"
  exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
bin=$1
case $bin in /*) ;; *) bin="$PWD/$bin" ;; esac
if [ ! -x "$bin" ]; then
  echo "$bin is not an executable (build it with: cargo build -p cmis-sandbox --bin cmis-sandbox)" >&2
  exit 2
fi

cd "$here"
# Offline when npm's cache already holds the pinned packages; quiet unless something fails.
npm ci --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null

scratch=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

"$bin" >"$scratch/out" 2>"$scratch/err" &
pid=$!
line=
for _ in $(seq 1 200); do
  line=$(head -n 1 "$scratch/out")
  case $line in *'}') break ;; esac
  line=
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the sandbox program exited before printing its URLs:" >&2
    cat "$scratch/err" >&2
    exit 1
  fi
  sleep 0.05
done
if [ -z "$line" ]; then
  echo "the sandbox program printed no URLs within 10 s:" >&2
  cat "$scratch/err" >&2
  exit 1
fi

CMIS_SANDBOX=$line node sdk-against-sandbox.js
