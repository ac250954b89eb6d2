#!/usr/bin/env bash
# The whole test run behind `make test`: lint, checks, the suite on SQLite, the same suite on
# PostgreSQL, then the browser tests. With CI=true a missing PostgreSQL or Chromium fails the
# run instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
CI="${CI:-false}"
export AUTOCRM_DATA_DIR="${AUTOCRM_TEST_DATA_DIR:-$PWD/var/test}"
mkdir -p "$AUTOCRM_DATA_DIR" test-output
unset DATABASE_URL REDIS_URL AUTOCRM_ENV

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

step "lint (ruff, mypy, import layers, scoping)"
$BIN/ruff check .
$BIN/ruff format --check .
$BIN/mypy  # configuration and incremental cache (.venv/mypy-cache) in pyproject.toml
$BIN/lint-imports
$BIN/python tools/check_scoping.py

step "Django checks and migrations"
$BIN/autocrm check --fail-level WARNING
$BIN/autocrm makemigrations --check --dry-run >/dev/null || fail "models changed without a migration (run: autocrm makemigrations)"

step "zh-Hans catalogue complete and compiled"
if ! command -v xgettext >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = "0" ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null) || true
fi
if command -v xgettext >/dev/null; then
  $BIN/python scripts/check_messages.py
else
  [ "$CI" = "true" ] && fail "GNU gettext is missing (required when CI=true to check the catalogue)"
  echo "SKIPPED: GNU gettext is missing; install it to check the zh-Hans catalogue."
fi

step "tests on SQLite"
$BIN/pytest -m "not e2e" -q -n 2

# The API fuzzed from its own OpenAPI document: no 5xx, only documented statuses and shapes.
step "API fuzzing (schemathesis, bounded) against a throwaway SQLite database"
bash scripts/schemathesis.sh

# --- PostgreSQL -----------------------------------------------------------------------------
PG_URL="${AUTOCRM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/autocrm}"
pg_up() { $BIN/python - "$PG_URL" <<'PY'
import sys, psycopg
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
try:
    psycopg.connect(host=u.hostname or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres",
                    password=u.password or None, dbname="postgres", connect_timeout=3).close()
except Exception as exc:
    print(exc, file=sys.stderr); sys.exit(1)
PY
}
if ! pg_up 2>/dev/null && [ -z "${AUTOCRM_TEST_DATABASE_URL:-}" ] && command -v pg_ctlcluster >/dev/null; then
  step "starting the local PostgreSQL cluster"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if pg_up; then
  step "tests on PostgreSQL ($PG_URL)"
  DATABASE_URL="$PG_URL" $BIN/pytest -m "not e2e" -q -n 2
  PG_OK=1
else
  [ "$CI" = "true" ] && fail "PostgreSQL is not reachable at $PG_URL (required when CI=true)"
  echo "SKIPPED: PostgreSQL is not reachable at $PG_URL; set AUTOCRM_TEST_DATABASE_URL to test on it."
  PG_OK=0
fi

# --- the HTTP benchmark at its CI size (issue 11): gunicorn + wrk, no time asserted ----------
if [ "$PG_OK" = 1 ]; then
  if ! command -v wrk >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) || true
  fi
  if command -v wrk >/dev/null; then
    step "HTTP benchmark, quick (benchmarks/http_load.py --quick)"
    PG_SERVER="${PG_URL%/*}"
    # A database and port of its own, so two test runs on one machine do not collide.
    $BIN/python benchmarks/http_load.py --quick --pg "$PG_SERVER" --db "autocrm_httpbench_quick_$$" --port 0 \
      --data-dir "$AUTOCRM_DATA_DIR/httpbench"
  else
    [ "$CI" = "true" ] && fail "wrk is missing (required when CI=true for the HTTP benchmark)"
    echo "SKIPPED: wrk is missing; install it (apt-get install wrk) to run the HTTP benchmark."
  fi
fi

# --- browser tests ---------------------------------------------------------------------------
CHROMIUM="${AUTOCRM_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ] && command -v apt-get >/dev/null && [ "$(id -u)" = "0" ]; then
  step "installing Chromium and CJK fonts with apt-get"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) || true
fi
if [ -x "$CHROMIUM" ]; then
  step "browser tests on SQLite"
  $BIN/pytest -m e2e -q -p no:xdist
  if [ "$PG_OK" = 1 ]; then
    step "browser tests on PostgreSQL"
    DATABASE_URL="$PG_URL" $BIN/pytest -m e2e -q -p no:xdist
  fi
else
  [ "$CI" = "true" ] && fail "Chromium is missing at $CHROMIUM (required when CI=true)"
  echo "SKIPPED: no Chromium at $CHROMIUM; install Debian's chromium to run the browser tests."
fi
step "all tests passed"
