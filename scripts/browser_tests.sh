#!/usr/bin/env bash
# The browser test suite (tests/browser: Playwright driving Debian's chromium, axe-core)
# against a real `aidflow serve` on loopback, on a fresh database each run:
#
#   scripts/browser_tests.sh sqlite     # every test, on a new SQLite file
#   scripts/browser_tests.sh postgres   # the tests tagged @postgres, on a new PostgreSQL
#                                       # database aidflow_browser_<random> (dropped after)
#
# It loads the demo (`aidflow demo`), creates an admin, an editor of arm-gov (the
# organization of the demo's convoy held at KORNIDZOR) and a viewer token with the CLI,
# starts `aidflow serve` on a free port, waits for /health/ready and runs
# `npx playwright test` with BASE_URL and the tokens in the environment. Screenshots of
# every page a test visits, at 360×800 and 1280×800, go to target/screenshots/<backend>/.
# Uses ${AIDFLOW_BIN:-target/debug/aidflow} (built with `cargo build --bin aidflow` when
# AIDFLOW_BIN is not given) and /usr/bin/chromium (Playwright downloads no browser).
# Extra arguments go to Playwright, e.g. `scripts/browser_tests.sh sqlite specs/06-alerts`.
# Stops the server it starts; exits non-zero when a test fails. About 1–2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

backend="${1:-}"
case "$backend" in
  sqlite | postgres) shift ;;
  *) echo "usage: $0 sqlite|postgres [playwright arguments]" >&2; exit 2 ;;
esac

fail() { echo "FAIL: $*" >&2; exit 1; }

chromium="${AIDFLOW_CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || fail "$chromium is missing: apt-get install chromium chromium-driver"

if [ -n "${AIDFLOW_BIN:-}" ]; then
  bin="$AIDFLOW_BIN"
  [ -x "$bin" ] || fail "AIDFLOW_BIN=$bin is not an executable"
else
  bin=target/debug/aidflow
  cargo build -q --bin aidflow
fi
case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -x tests/browser/node_modules/.bin/playwright ]; then
  (cd tests/browser && npm ci --no-audit --no-fund)
fi

work=$(mktemp -d)
server_pid=""
pg_db=""
ADMIN_URL="${AIDFLOW_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$rc" != 0 ] && [ -s "$work/serve.log" ]; then
    echo "--- the last lines of the server's log ($backend)" >&2
    tail -n 30 "$work/serve.log" | cut -c1-300 >&2 || true
  fi
  if [ -n "$pg_db" ]; then
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$backend" in
  sqlite)
    export AIDFLOW__DATABASE__URL="sqlite://$work/aidflow.db"
    ;;
  postgres)
    pg_db="aidflow_browser_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    psql -q "$ADMIN_URL" -c "CREATE DATABASE $pg_db" >/dev/null \
      || fail "cannot create a database at $ADMIN_URL (is PostgreSQL running on 127.0.0.1:5432?)"
    export AIDFLOW__DATABASE__URL="${ADMIN_URL%/*}/$pg_db"
    ;;
esac

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export AIDFLOW__SERVER__HOST=127.0.0.1 AIDFLOW__SERVER__PORT="$port" AIDFLOW__SERVER__WORKERS=2
export AIDFLOW__LOG__LEVEL=warn AIDFLOW__LOG__FORMAT=json
# The server's jobs run once at start, where the alert evaluator opens the demo's alerts,
# and not again during the run (an hour apart), so the alerts the tests see stay put. The
# overview refreshes every 5 s (the default).
export AIDFLOW__JOBS__ENABLED=true AIDFLOW__JOBS__INTERVAL_SECONDS=3600
unset AIDFLOW_ENV

"$bin" demo > "$work/demo-token.txt" 2> "$work/demo.log" || { cat "$work/demo.log" >&2; fail "aidflow demo"; }
token() { "$bin" token create "$@" 2>> "$work/tokens.log" || { cat "$work/tokens.log" >&2; fail "aidflow token create $*"; }; }
AIDFLOW_ADMIN_TOKEN=$(token --role admin --name browser-admin)
AIDFLOW_EDITOR_TOKEN=$(token --role editor --organization arm-gov --name browser-editor-arm-gov)
AIDFLOW_VIEWER_TOKEN=$(token --role viewer --name browser-viewer)
export AIDFLOW_ADMIN_TOKEN AIDFLOW_EDITOR_TOKEN AIDFLOW_VIEWER_TOKEN

"$bin" serve > "$work/serve.out" 2> "$work/serve.log" &
server_pid=$!
ready=""
for _ in $(seq 1 150); do
  if curl -fsS "http://127.0.0.1:$port/health/ready" > /dev/null 2>&1; then ready=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.2
done
[ -n "$ready" ] || fail "aidflow serve on 127.0.0.1:$port did not become ready"
echo "aidflow serve ($backend) is ready at http://127.0.0.1:$port"
# The alert evaluator's first run opens the demo's alerts (convoy_held, convoy_overdue,
# corridor_dry); the tests start once they are there.
alerts=""
for _ in $(seq 1 100); do
  alerts=$(curl -fsS -H "Authorization: Bearer $AIDFLOW_ADMIN_TOKEN" "http://127.0.0.1:$port/api/v1/alerts?state=open" 2>/dev/null || true)
  grep -q '"rule":"convoy_overdue"' <<<"$alerts" && break
  alerts=""
  sleep 0.1
done
[ -n "$alerts" ] || fail "the alert evaluator opened no alert on the demo within 10 s"

export BASE_URL="http://127.0.0.1:$port"
export AIDFLOW_BACKEND="$backend"
export SCREENSHOT_DIR="$root/target/screenshots/$backend"
rm -rf "$SCREENSHOT_DIR"
mkdir -p "$SCREENSHOT_DIR"

args=()
[ "$backend" = postgres ] && args+=(--grep @postgres)
status=0
(cd tests/browser && npx --no-install playwright test "${args[@]}" "$@") || status=$?
shots=$(find "$SCREENSHOT_DIR" -name '*.png' | wc -l)
echo "screenshots ($backend): $shots in ${SCREENSHOT_DIR#"$root"/}"
[ "$status" = 0 ] || fail "browser tests on $backend (playwright exited $status)"
echo "browser tests on $backend passed"
