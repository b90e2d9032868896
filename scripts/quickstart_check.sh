#!/usr/bin/env bash
# Runs the README's quick start and demo commands against fresh SQLite databases and checks
# what they print: a first `serve` prints an admin token that reads the routes; the demo
# shows the 26 July 2023 convoy held at KORNIDZOR with 360 t outstanding, its three claims
# (360 / 400 / 361 t) disputed, and the 2023-W30 report against the 2,800 t requirement,
# listing that convoy's disputed figures; verify, export ledger and verify --file pass; in the browser, / asks to sign in, the printed
# token signs in, and the overview shows the held convoy. Uses the debug build (cargo run) on loopback
# ports; stops every server it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cargo build -q --bin aidflow
bin=target/debug/aidflow

wait_ready() { # port
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$1/health/ready" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "FAIL: the server on port $1 did not become ready" >&2; return 1
}
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. The first command of the README: serve a new database; the token is alone on stdout.
port=18181
AIDFLOW__DATABASE__URL="sqlite://$work/fresh.db" AIDFLOW__SERVER__PORT=$port AIDFLOW__LOG__LEVEL=warn \
  "$bin" serve > "$work/token.txt" 2> "$work/serve.log" &
pids+=($!)
wait_ready $port
for _ in $(seq 1 50); do [ -s "$work/token.txt" ] && break; sleep 0.1; done
token=$(head -n 1 "$work/token.txt")
[[ "$token" == afw_* ]] || fail "serve printed no token on stdout"
routes=$(curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/routes")
grep -q '"code":"lachin"' <<<"$routes" || fail "GET /api/v1/routes did not list the lachin route"
echo "quick start: serve created a database, printed a token, and the token reads the routes"
# The README's browser step: open / , sign in with the printed token, see the corridor.
first=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$port/")
[[ "$first" == "303 http://127.0.0.1:$port/sign-in?next=%2F" ]] || fail "/ did not send a new visitor to sign in: $first"
curl -fsS -c "$work/jar" -o /dev/null -H "Origin: http://127.0.0.1:$port" \
  --data-urlencode "token=$token" --data-urlencode "next=/" "http://127.0.0.1:$port/sign-in"
page=$(curl -fsS -b "$work/jar" "http://127.0.0.1:$port/")
grep -q '<h1>The corridor now</h1>' <<<"$page" || fail "signed in, / does not show the corridor"
grep -q 'data-route="lachin"' <<<"$page" || fail "the corridor page does not draw the lachin route"
echo "quick start: / asks to sign in; the printed token signs in and shows the corridor"

# 2. The demo in a few commands.
port=18182
export AIDFLOW__DATABASE__URL="sqlite://$work/demo.db"
AIDFLOW__LOG__LEVEL=warn "$bin" demo > "$work/admin-token.txt" 2> "$work/demo.log"
AIDFLOW__SERVER__PORT=$port AIDFLOW__LOG__LEVEL=warn "$bin" serve > "$work/serve2.out" 2> "$work/serve2.log" &
pids+=($!)
wait_ready $port
[ ! -s "$work/serve2.out" ] || fail "a second serve on the demo database printed a token"
TOKEN=$(cat "$work/admin-token.txt")
held=$(curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/api/v1/convoys?status=held")
python3 - "$held" <<'PY'
import json, sys
page = json.loads(sys.argv[1])
july = [c for c in page["items"] if c["reference"] == "AM-2023-07-26"]
assert july, "the 26 July 2023 convoy is not among the held convoys"
c = july[0]
assert (c["last_checkpoint"], c["planned"], c["delivered"], c["outstanding"], c["trucks"]) == ("KORNIDZOR", "360.000", "0.000", "360.000", 19), c
print("demo: AM-2023-07-26 held at KORNIDZOR, 19 trucks, 360.000 t outstanding")
PY
curl -fsS -c "$work/jar2" -o /dev/null -H "Origin: http://127.0.0.1:$port" \
  --data-urlencode "token=$TOKEN" --data-urlencode "next=/" "http://127.0.0.1:$port/sign-in"
overview=$(curl -fsS -b "$work/jar2" "http://127.0.0.1:$port/")
python3 - "$overview" <<'PY'
import re, sys
page = sys.argv[1]
row = re.search(r'<tr data-convoy="[^"]+" data-status="held">(.*?)</tr>', page, re.S)
assert row, "the overview lists no held convoy"
text = re.sub(r"<[^>]+>", " ", row.group(1))
for shown in ("AM-2023-07-26", "KORNIDZOR", "2023-07-26 11:00 +04:00", "360.000 t"):
    assert shown in text, f"the overview's held row lacks {shown}: {text}"
print("demo: the overview shows AM-2023-07-26 held at KORNIDZOR since 2023-07-26 11:00 +04:00 with 360.000 t")
PY
csv=$(curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/api/v1/reports/weekly/2023-W30?format=csv" | tr -d "\r")
grep -qx '2023-W30,total,total,All convoys in scope,,,2800.000,360.000,0.000,0.000,360.000,0.000,0.000,,,,,,19,0,0,0,,,' <<<"$csv" \
  || fail "the 2023-W30 report's total row is not the README's"
echo "demo: the 2023-W30 report shows 360.000 t (19 trucks) planned against the 2,800 t requirement"
grep -qx '2023-W30,disputed,AM-2023-07-26,arm-gov,,,,,,,,,,,,360.000,,11.1,,,,,,,' <<<"$csv" \
  || fail "the 2023-W30 report does not list AM-2023-07-26 as disputed, 11.1 % apart"
for claimed in 360.000 400.000 361.000; do
  grep -q "^2023-W30,claim,AM-2023-07-26,arm-gov,.*,$claimed,,,,,,,,\$" <<<"$csv" \
    || fail "the 2023-W30 report does not list the claim of $claimed t"
done
claims=$(curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/api/v1/convoys/23c77e4a-4e96-584c-949f-0eb0f4741fa3/claims")
python3 - "$claims" <<'PY'
import json, sys
c = json.loads(sys.argv[1])
got = [(x["source"], x["tonnes"]) for x in c["claims"]]
assert [t for _, t in got] == ["360.000", "400.000", "361.000"], got
assert (c["logged"], c["spread_percent"], c["disputed"]) == ("360.000", "11.1", True), c
print("demo: AM-2023-07-26 has three claims, 360 / 400 / 361 t, 11.1 % apart: disputed")
PY
echo "demo: the 2023-W30 report lists AM-2023-07-26's disputed figures and each claim"

# The README's evidence steps on the demo database: verify, export, and verify the file.
AIDFLOW__LOG__LEVEL=warn "$bin" verify 2> "$work/verify.log" \
  || fail "aidflow verify on the demo: $(cat "$work/verify.log")"
grep -q "ok: every chain matches" "$work/verify.log" || fail "aidflow verify did not say every chain matches"
AIDFLOW__LOG__LEVEL=warn "$bin" export ledger --output "$work/ledger.jsonl" 2> "$work/export.log" \
  || fail "aidflow export ledger: $(cat "$work/export.log")"
grep -q "3 claim(s)" "$work/export.log" || fail "the export does not hold the demo's three claims: $(cat "$work/export.log")"
"$bin" verify --file "$work/ledger.jsonl" 2> "$work/verify-file.log" \
  || fail "aidflow verify --file: $(cat "$work/verify-file.log")"
echo "demo: aidflow verify, export ledger (3 claims) and verify --file pass, as the README shows"
