#!/usr/bin/env bash
# Schemathesis 4 over the OpenAPI document, with every check, on SQLite and on PostgreSQL:
# the server must answer what its document says (statuses, content types, schemas, the
# constraints of every field) and never a 5xx. Bounded: a fixed seed and a few examples
# per operation, so that one backend takes a few minutes.
#
#   scripts/schemathesis.sh [sqlite|postgres]...   (default: both)
#
# Each backend gets a fresh database (PostgreSQL: a new database on
# $AIDFLOW_TEST_DATABASE_URL's server, dropped afterwards), an admin token made with
# `aidflow token create`, and a second admin token, made through the API, for schemathesis.
# Token revocation is left out of the run so that it cannot revoke the token it runs with.
# Exits non-zero on any failure. Reports are kept in target/schemathesis/<backend>/.
# One worker: Python 3.11's parser is not safe to run in two threads at once (hypothesis
# parses lambdas while describing strategies), which shows as "AST constructor recursion
# depth mismatch" runtime errors with --workers 2.
set -euo pipefail
cd "$(dirname "$0")/.."
SEED="${SCHEMATHESIS_SEED:-11}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-15}"
ADMIN_URL="${AIDFLOW_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres)

venv=target/ci-venv
if [ ! -x "$venv/bin/st" ]; then
  echo "installing schemathesis 4 into $venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis>=4,<5"
fi
cargo build -q --bin aidflow
bin=target/debug/aidflow

work=$(mktemp -d)
server_pid=""
pg_db=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$pg_db" ]; then psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

run_backend() { # sqlite|postgres
  local backend=$1 url
  case "$backend" in
    sqlite) url="sqlite://$work/schemathesis.db" ;;
    postgres)
      pg_db="aidflow_schemathesis_$$"
      psql -q "$ADMIN_URL" -c "CREATE DATABASE $pg_db" >/dev/null
      url="${ADMIN_URL%/*}/$pg_db" ;;
    *) echo "unknown backend $backend (sqlite or postgres)" >&2; return 2 ;;
  esac
  export AIDFLOW__DATABASE__URL="$url" AIDFLOW__LOG__LEVEL=warn AIDFLOW__LOG__FORMAT=json
  "$bin" migrate 2> "$work/migrate.log"
  local admin token port
  admin=$("$bin" token create --role admin --name ci-admin)
  port=$(free_port)
  AIDFLOW__SERVER__PORT=$port "$bin" serve > "$work/serve.out" 2> "$work/serve-$backend.log" &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
    sleep 0.1
  done
  token=$(curl -fsS -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"name":"schemathesis","role":"admin"}' "http://127.0.0.1:$port/api/v1/tokens" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  local reports="target/schemathesis/$backend" status=0
  rm -rf "$reports"; mkdir -p "$reports"
  echo "schemathesis on $backend (seed $SEED, at most $MAX_EXAMPLES examples per operation)"
  "$venv/bin/st" --config-file scripts/schemathesis.toml --no-color run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --checks all --seed "$SEED" --max-examples "$MAX_EXAMPLES" --workers 1 \
    --header "Authorization: Bearer $token" \
    --exclude-operation-id tokens_revoke \
    --request-timeout 30 \
    --report junit,ndjson --report-dir "$reports" \
    || status=$?
  kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""
  if grep '"level":"ERROR"' "$work/serve-$backend.log" | grep -q '"target":"aidflow'; then
    echo "the server logged errors during the run:" >&2
    grep '"level":"ERROR"' "$work/serve-$backend.log" | head -n 20 >&2
    status=1
  fi
  cp "$work/serve-$backend.log" "$reports/serve.log"
  if [ -n "$pg_db" ]; then
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null; pg_db=""
  fi
  unset AIDFLOW__DATABASE__URL
  [ "$status" = 0 ] || { echo "FAIL: schemathesis found failures on $backend (see $reports)" >&2; return 1; }
  echo "schemathesis on $backend: no failures"
}

failed=()
for b in "${backends[@]}"; do run_backend "$b" || failed+=("$b"); done
if [ ${#failed[@]} -gt 0 ]; then echo "FAIL: schemathesis failures on: ${failed[*]}" >&2; exit 1; fi
