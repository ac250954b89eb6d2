#!/usr/bin/env bash
# Fuzz the REST API from its own OpenAPI document with schemathesis, as a store manager, against
# the app served by gunicorn on a loopback port from a throwaway SQLite database with the demo
# data. Fails on any server error (5xx), on a status code, content type or response body the
# document does not declare, and on a request the document forbids that the API accepts.
# Bounded: a fixed seed and a few examples per operation (about a minute on two cores). One
# schemathesis worker: with threads, hypothesis trips over a CPython 3.11 ast.parse race.
#   AUTOCRM_FUZZ_PORT      port to serve on (default: a free one)
#   AUTOCRM_FUZZ_EXAMPLES  examples per operation (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
WORK="$(mktemp -d)"
PORT="${AUTOCRM_FUZZ_PORT:-$($BIN/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
EXAMPLES="${AUTOCRM_FUZZ_EXAMPLES:-5}"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export AUTOCRM_DATA_DIR="$WORK" DJANGO_SETTINGS_MODULE=autocrm.config.settings
unset DATABASE_URL REDIS_URL AUTOCRM_ENV
# The fuzzer sends thousands of calls with one token: the limits themselves are tested elsewhere.
export AUTOCRM_API_RATE_TOKEN="1000000/min" AUTOCRM_API_RATE_AUTH="1000000/min"
# The expected 4xx are not worth a log line each; a 500 still logs (ERROR) and fails the run.
export LOG_LEVEL=ERROR

$BIN/autocrm migrate --no-input -v 0
$BIN/autocrm demo --customers 20 --seed 7 -v 0 >/dev/null
$BIN/gunicorn autocrm.config.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --threads 2 \
  --log-level warning --error-logfile "$WORK/server.log" &
SERVER_PID=$!
BASE="http://127.0.0.1:$PORT"
TOKEN="$($BIN/python - "$BASE" <<'PY'
import json, sys, time, urllib.request
base = sys.argv[1]
for _ in range(150):  # the server needs a moment to start
    try:
        urllib.request.urlopen(base + "/api/v1/health", timeout=2)
        break
    except Exception:
        time.sleep(0.2)
body = json.dumps({"username": "manager_a", "password": "autocrm-demo"}).encode()
req = urllib.request.Request(base + "/api/v1/auth/token", body, {"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=10))["token"])
PY
)"

# Revoking an API token is left to the unit tests: fuzzed, it revokes the fuzzer's own token.
status=0
$BIN/st run "$BASE/api/v1/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$EXAMPLES" --seed 20261201 --workers 1 --request-timeout 20 \
  --phases examples,coverage,fuzzing --no-color \
  --exclude-operation-id autocrm_accounts_api_api_token_revoke || status=$?
if [ "$status" != 0 ] && [ -s "$WORK/server.log" ]; then
  echo "--- server log"; tail -n 80 "$WORK/server.log"
fi
exit "$status"
