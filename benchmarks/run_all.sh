#!/usr/bin/env bash
# `make bench`: every benchmark of issue 4 on a local PostgreSQL, printing its figures.
# BENCH_PG (default postgres://postgres@127.0.0.1:5432) names the server; BENCH_CUSTOMERS the
# demo customers per store for the lookup, 360 and HTTP benchmarks (default 500,000: two stores make
# the 1,000,000 of the targets; loading takes about 30 minutes once, then it is reused).
# BENCH_QUICK=1 runs only the HTTP benchmark at its CI size (`http_load.py --quick`: a small
# database of its own, a few seconds per endpoint, no time asserted; needs wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
if [ -n "${BENCH_QUICK:-}" ]; then
  echo "== HTTP load, quick (issue 11)"
  exec $PY benchmarks/http_load.py --quick --pg "$PG"
fi
PER_STORE="${BENCH_CUSTOMERS:-500000}"
export AUTOCRM_DATA_DIR="${AUTOCRM_BENCH_DATA_DIR:-$PWD/var/bench}"
mkdir -p "$AUTOCRM_DATA_DIR"

echo "== duplicate finder (100,000 customers)"
DATABASE_URL="$PG/autocrm_bench_dedup" $PY benchmarks/dedup.py
echo "== duplicates on messy dealership data (100,000 DMS customers + staff sheets, issue 10)"
$PY benchmarks/dedup_messy.py --pg "$PG"
echo "== import (100,000 rows)"
DATABASE_URL="$PG/autocrm_bench_import" $PY benchmarks/import_customers.py
echo "== lookups and search ($PER_STORE customers per store)"
export DATABASE_URL="$PG/autocrm_bench"
$PY - "$PG" <<'PY'
import sys, psycopg
with psycopg.connect(sys.argv[1] + "/postgres", autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'autocrm_bench'").fetchone():
        conn.execute('CREATE DATABASE "autocrm_bench"')
PY
.venv/bin/autocrm migrate --no-input -v0
.venv/bin/autocrm demo --customers "$PER_STORE"
$PY benchmarks/lookup.py
echo "== customer 360"
$PY benchmarks/customer360.py
echo "== HTTP load: gunicorn, 4 workers, wrk, 8 connections ($PER_STORE customers per store, issue 11)"
# Served as production is, with Redis for the shared cache and sessions when one answers
# (BENCH_REDIS names it; database 7 is emptied first).
if [ -z "${BENCH_REDIS:-}" ] && command -v redis-cli >/dev/null && redis-cli -n 7 ping >/dev/null 2>&1; then
  export BENCH_REDIS=redis://127.0.0.1:6379/7
fi
# The database the lookups loaded, with the keys the demo wrote to $AUTOCRM_DATA_DIR.
$PY benchmarks/http_load.py --pg "$PG" --db autocrm_bench --reuse --data-dir "$AUTOCRM_DATA_DIR"
