#!/usr/bin/env bash
# Scale-out, proven: two `aidflow serve` instances on one PostgreSQL database behind nginx
# (Debian's package, installed when missing) with the configuration of
# scripts/scale_out.nginx.conf, the one docs/src/operations.md gives. Under concurrent
# event POSTs through nginx one instance is killed with SIGKILL and restarted; clients
# retry unanswered requests with the same id and body. Afterwards nothing acknowledged is
# lost or stored twice, every alert was opened once and notified once to a webhook
# receiver on loopback, and nginx kept answering (/health/ready through it stayed 200)
# while the instance was down. PostgreSQL only; loopback ports 18300–18302; stops
# everything it started. Bounded: about 40 s.
set -euo pipefail
cd "$(dirname "$0")/.."
ADMIN_URL="${AIDFLOW_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "installing nginx (Debian package)"
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
# The tested configuration is the documented one, word for word.
python3 - <<'PY'
import sys
conf = open("scripts/scale_out.nginx.conf").read()
docs = open("docs/src/operations.md").read()
if conf.strip() not in docs:
    sys.exit("docs/src/operations.md does not carry scripts/scale_out.nginx.conf verbatim")
PY

cargo build -q --bin aidflow
work=$(mktemp -d)
db="aidflow_scale_out_$$"
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

psql -q "$ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null
export AIDFLOW__DATABASE__URL="${ADMIN_URL%/*}/$db" AIDFLOW__LOG__LEVEL=warn AIDFLOW__LOG__FORMAT=json
target/debug/aidflow migrate 2> "$work/migrate.log"
export AIDFLOW_TOKEN
AIDFLOW_TOKEN=$(target/debug/aidflow token create --role admin --name scale-out)

mkdir -p "$work/nginx/tmp"
cp scripts/scale_out.nginx.conf "$work/nginx/nginx.conf"
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!

AIDFLOW_WORK="$work" python3 scripts/scale_out.py
