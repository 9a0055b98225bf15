#!/usr/bin/env bash
# The control API from a shell (issue 22): inject a 500-after-accept on Meta's `/feed`, publish
# with the `publish` example, and see exit code 6 (unknown outcome) and exactly one post.
#
# Builds nothing: give the built binaries.
#   cargo build -p cmis-sandbox --bin cmis-sandbox
#   cargo build -p cmis-examples --example publish
#   bash cmis-sandbox/tests/control_api.sh "$TARGET/debug/cmis-sandbox" "$TARGET/debug/examples/publish"
# Needs curl and python3 (for reading JSON).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 CMIS_SANDBOX_BIN PUBLISH_BIN" >&2
  exit 2
fi
sandbox_bin=$1
publish_bin=$2
for bin in "$sandbox_bin" "$publish_bin"; do
  [ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }
done

work=$(mktemp -d)
sandbox_pid=
cleanup() {
  if [ -n "$sandbox_pid" ]; then
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "control_api.sh: FAILED: $*" >&2
  for f in "$work"/*; do
    [ -s "$f" ] && { echo "--- $(basename "$f"):" >&2; cat "$f" >&2; }
  done
  exit 1
}

# `json FIELD...`: reads JSON on stdin and prints the value at that path.
json() {
  python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if not isinstance(v, (dict, list)) else json.dumps(v))
' "$@"
}

"$sandbox_bin" >"$work/sandbox.out" 2>"$work/sandbox.err" &
sandbox_pid=$!
for _ in $(seq 1 200); do
  [ -s "$work/sandbox.out" ] && break
  kill -0 "$sandbox_pid" 2>/dev/null || fail "the sandbox exited before printing its start line"
  sleep 0.05
done
line=$(head -n 1 "$work/sandbox.out")
[ -n "$line" ] || fail "no start line from the sandbox"
control=$(json control_url <<<"$line")
meta_url=$(json meta_url <<<"$line")
page=$(json facebook_page_id <<<"$line")
page_token=$(json facebook_page_token <<<"$line")

echo "inject ServerErrorAfterAccept on Meta's Feed, once"
curl -fsS -X POST "$control/faults" -H 'content-type: application/json' \
  -d '{"platform":"meta","endpoint":"Feed","fault":"ServerErrorAfterAccept","count":1}' \
  >"$work/inject.json" || fail "POST /faults"
[ "$(json fault <"$work/inject.json")" = ServerErrorAfterAccept ] || fail "the fault was not queued"

echo "publish with the example"
code=0
CMIS_META_GRAPH_URL=$meta_url CMIS_ACCESS_TOKEN=$page_token \
  "$publish_bin" --platform facebook --account "$page" --text "Doors open at 9 (control API test)" \
  >"$work/publish.out" 2>"$work/publish.err" || code=$?
[ "$code" -eq 6 ] || fail "publish exited $code, expected 6 (unknown outcome)"

echo "exactly one post, and the request that created it answered 500"
curl -fsS "$control/published/meta" >"$work/published.json" || fail "GET /published/meta"
[ "$(json count <"$work/published.json")" = 1 ] || fail "expected exactly one post"
[ "$(json items 0 message <"$work/published.json")" = "Doors open at 9 (control API test)" ] \
  || fail "the post's message differs"
[ "$(json items 0 requests 0 status <"$work/published.json")" = 500 ] \
  || fail "the post's creating request did not answer 500"

echo "reset: no post left"
curl -fsS -X POST "$control/reset" >/dev/null || fail "POST /reset"
[ "$(curl -fsS "$control/published/meta" | json count)" = 0 ] || fail "posts survived the reset"

echo "control_api.sh: ok"
