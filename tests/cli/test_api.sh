#!/bin/sh
# test_api.sh OCTO — the node's HTTP API on a real node (`octo node --http`): /health answers
# with the node's id; /metrics is a valid Prometheus exposition (promtool check metrics) with
# the network's and the chain's families, and a real Prometheus (the Debian package) started
# here scrapes it; errors come in the OpenAI shape (404, 405 with Allow, 413 before any
# handler); x-request-id is echoed when usable and made up otherwise; a bad --http is a usage
# error. Prints one line per check and "N passed, N failed".
set -u
OCTO=$1
. "$(dirname "$0")/lib.sh"
cli_tmp api
cli_clean_env
PY=/usr/bin/python3
PORT=$((19300 + $$ % 1000 * 4))
cli_kill_on_exit

run "$OCTO" testnet --validators 1 --accounts 1 --out "$T/net" --base-port "$PORT" --json
expect_rc "one-validator testnet" 0
run "$OCTO" node --home "$T/net/v0" --http localhost:1
expect_rc "--http needs a numeric address" 2
run "$OCTO" node --home "$T/net/v0" --http 127.0.0.1
expect_rc "--http needs a port" 2

"$OCTO" node --home "$T/net/v0" --http 127.0.0.1:0 --log-level warn >"$T/node.out" 2>"$T/node.err" &
PIDS="$PIDS $!"
wait_for "$T/node.out" "Node is ready" 20 && ok "node with --http ready" || bad "node: $(tail -3 "$T/node.err")"
URL=$(sed -n 's/^http api on //p' "$T/node.out")
case "$URL" in http://127.0.0.1:[0-9]*) ok "it prints where the API listens" ;; *) bad "url: $URL" ;; esac
grep -q "\"http\":\"$URL\"" "$T/net/v0/node.run" && ok "the run file records it" || bad "node.run: $(cat "$T/net/v0/node.run")"
PEER=$(sed -n 's/^peer id: //p' "$T/node.out")

# /health
code=$(curl -s -o "$T/h" -w '%{http_code}' -D "$T/hh" "$URL/health")
[ "$code" = 200 ] && ok "/health 200" || bad "/health: $code"
$PY -c 'import json,sys; h=json.load(open(sys.argv[1])); assert h["status"]=="ok" and h["node"]==sys.argv[2] and h["uptime_s"]>=0' "$T/h" "$PEER" &&
    ok "/health names the node" || bad "/health body: $(cat "$T/h")"
grep -qi '^x-request-id: [0-9a-f]\{32\}' "$T/hh" && ok "a request id is made up" || bad "headers: $(cat "$T/hh")"
curl -s -o /dev/null -D "$T/hh" -H 'x-request-id: my-req.42' "$URL/health"
grep -qi '^x-request-id: my-req.42' "$T/hh" && ok "the client's request id is echoed" || bad "headers: $(cat "$T/hh")"
curl -s -o /dev/null -D "$T/hh" -H 'x-request-id: bad id!' "$URL/health"
grep -qi '^x-request-id: [0-9a-f]\{32\}' "$T/hh" && ok "an unusable request id is replaced" || bad "headers: $(cat "$T/hh")"

# errors in the OpenAI shape
code=$(curl -s -o "$T/e" -w '%{http_code}' "$URL/v1/nothing")
[ "$code" = 404 ] && $PY -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e["code"]=="not_found" and e["type"]=="invalid_request_error" and "message" in e and e["param"] is None' "$T/e" &&
    ok "404 in the OpenAI error shape" || bad "404: $code $(cat "$T/e")"
code=$(curl -s -o "$T/e" -D "$T/hh" -w '%{http_code}' -X POST "$URL/metrics")
[ "$code" = 405 ] && grep -qi '^allow: GET' "$T/hh" && ok "405 with Allow" || bad "405: $code $(cat "$T/hh")"
# a 2 MB body announced: refused before it is read (headers only on a raw socket, so that the
# connection closing after the answer cannot race a client still sending)
$PY - "${URL#http://}" >"$T/e" 2>&1 <<'PYEOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode(errors="replace"))
PYEOF
head -1 "$T/e" | grep -q "^HTTP/1.1 413" && grep -q too_large "$T/e" && ok "413 for a 2 MB body, before it is read" ||
    bad "413: $(cat "$T/e")"

# API keys: /api/v1/status needs one; the key shown once works at once in the running node
ACCT=$(printf 'ac%.0s' $(seq 1 32))
run "$OCTO" apikey create --home "$T/net/v0" --account "$ACCT" --budget 2.5 --rate 100 --json
expect_rc "apikey create" 0
KEY=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["key"])' "$out" 2>/dev/null)
KID=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$out" 2>/dev/null)
case "$KEY" in octo-$KID-*) ok "the key is shown once, with its id" ;; *) bad "key: $out" ;; esac
run "$OCTO" apikey create --home "$T/net/v0" --account xyz --budget 1
expect_rc "apikey create needs a hex account" 2
code=$(curl -s -o "$T/e" -w '%{http_code}' "$URL/api/v1/status")
[ "$code" = 401 ] && grep -q invalid_api_key "$T/e" && ok "no key: 401 invalid_api_key" || bad "no key: $code $(cat "$T/e")"
WRONG=$(echo "$KEY" | sed 's/.$/0/; t; s/.$/1/')
[ "$WRONG" = "$KEY" ] && WRONG=$(echo "$KEY" | sed 's/.$/1/')
code=$(curl -s -o "$T/e" -w '%{http_code}' -H "Authorization: Bearer $WRONG" "$URL/api/v1/status")
[ "$code" = 401 ] && ok "a wrong secret: 401" || bad "wrong secret: $code $(cat "$T/e")"
code=$(curl -s -o "$T/s" -w '%{http_code}' -H "Authorization: Bearer $KEY" "$URL/api/v1/status")
[ "$code" = 200 ] && $PY -c 'import json,sys; k=json.load(open(sys.argv[1]))["key"]; assert k["account"]==sys.argv[2] and k["budget"]=="2500000" and k["rate_per_min"]==100' "$T/s" "$ACCT" &&
    ok "the key is accepted and bound to its account" || bad "status: $code $(cat "$T/s")"
run "$OCTO" apikey create --home "$T/net/v0" --account "$ACCT" --budget 1 --rate 2 --json
SLOW=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["key"])' "$out" 2>/dev/null)
c1=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SLOW" "$URL/api/v1/status")
c2=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SLOW" "$URL/api/v1/status")
c3=$(curl -s -o "$T/e" -D "$T/hh" -w '%{http_code}' -H "Authorization: Bearer $SLOW" "$URL/api/v1/status")
[ "$c1$c2$c3" = 200200429 ] && grep -q rate_limit_exceeded "$T/e" && grep -qi '^retry-after: [0-9]' "$T/hh" &&
    grep -qi '^retry-after-ms: [0-9]' "$T/hh" && ok "2 per minute: the third is 429 with retry-after" ||
    bad "rate: $c1 $c2 $c3 $(cat "$T/e") $(cat "$T/hh")"
run "$OCTO" apikey create --home "$T/net/v0" --account "$ACCT" --budget 0 --json
SPENT=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["key"])' "$out" 2>/dev/null)
code=$(curl -s -o "$T/e" -w '%{http_code}' -H "Authorization: Bearer $SPENT" "$URL/api/v1/status")
[ "$code" = 429 ] && grep -q insufficient_quota "$T/e" && ok "no budget left: 429 insufficient_quota" ||
    bad "quota: $code $(cat "$T/e")"
run "$OCTO" apikey revoke "$KID" --home "$T/net/v0"
expect_rc "apikey revoke" 0
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$URL/api/v1/status")
[ "$code" = 401 ] && ok "a revoked key: 401" || bad "revoked: $code"
run "$OCTO" apikey list --home "$T/net/v0" --json
$PY -c 'import json,sys; l=json.loads(sys.argv[1]); assert len(l)==3 and [k["revoked"] for k in l if k["id"]==sys.argv[2]]==[True]' "$out" "$KID" &&
    ok "apikey list shows three keys, one revoked" || bad "list: $out"
SECRET=${KEY##*-}
if [ ! -s "$T/net/v0/data/octo.db" ]; then
    bad "no store at $T/net/v0/data/octo.db"
elif cat "$T/net/v0/data/octo.db"* | grep -q "$SECRET" ||
    $PY -c 'import sys,glob; s=bytes.fromhex(sys.argv[1]); sys.exit(0 if any(s in open(f,"rb").read() for f in glob.glob(sys.argv[2]+"*")) else 1)' \
        "$SECRET" "$T/net/v0/data/octo.db"; then
    bad "the secret is in the store"
else
    ok "the store (and its WAL) hold no secret"
fi

# /metrics: valid, with the modules' families
sleep 1
code=$(curl -s -o "$T/m" -D "$T/mh" -w '%{http_code}' "$URL/metrics")
[ "$code" = 200 ] && grep -qi '^content-type: text/plain; version=0.0.4' "$T/mh" && ok "/metrics 200, text format 0.0.4" ||
    bad "/metrics: $code $(cat "$T/mh")"
promtool check metrics <"$T/m" >"$T/pt" 2>&1 && ok "promtool check metrics passes" || bad "promtool: $(cat "$T/pt")"
for fam in octo_net_connections_open octo_chain_height octo_consensus_messages_total \
           octo_api_http_responses_total octo_node_uptime_seconds; do
    grep -q "^$fam" "$T/m" || missing="${missing:-} $fam"
done
[ -z "${missing:-}" ] && ok "network, chain, consensus and API families" || bad "missing:$missing"
h=$(sed -n 's/^octo_chain_height \([0-9]*\)$/\1/p' "$T/m")
[ "${h:-0}" -ge 1 ] && ok "the chain height is there ($h)" || bad "height: $h"
grep -q 'octo_api_http_responses_total{route="other",code="4xx"} 2' "$T/m" &&
    grep -q 'octo_api_auth_total{result="rate_limited"} 1' "$T/m" &&
    grep -q '^octo_api_http_too_large_total 1$' "$T/m" && ok "the API counted its errors (404, 405; 413)" ||
    bad "responses: $(grep 'octo_api_http_responses\|too_large' "$T/m")"
grep -q '^octo_chain_finality_p50_seconds [0-9]*\.[0-9]\{6\}$' "$T/m" && ok "finality in seconds" ||
    bad "finality: $(grep finality "$T/m")"

# a real Prometheus scrapes it
PPORT=$((PORT + 3))
HOSTPORT=${URL#http://}
cat >"$T/prom.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: octo
    static_configs:
      - targets: ['$HOSTPORT']
EOF
prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address=127.0.0.1:$PPORT >"$T/prom.log" 2>&1 &
PIDS="$PIDS $!"
got=""
i=0
while [ $i -lt 60 ]; do
    got=$(curl -s "http://127.0.0.1:$PPORT/api/v1/query?query=octo_chain_height" 2>/dev/null |
        $PY -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null)
    [ -n "$got" ] && break
    sleep 0.5
    i=$((i + 1))
done
[ -n "$got" ] && [ "$got" -ge 1 ] && ok "Prometheus scraped the node (octo_chain_height $got)" ||
    bad "Prometheus: nothing after 30 s ($(tail -3 "$T/prom.log"))"
up=$(curl -s "http://127.0.0.1:$PPORT/api/v1/query?query=up" |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])' 2>/dev/null)
[ "$up" = 1 ] && ok "its target is up" || bad "up: $up"

for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
i=0
while [ $i -lt 50 ] && [ -f "$T/net/v0/node.run" ]; do sleep 0.1; i=$((i + 1)); done
[ ! -f "$T/net/v0/node.run" ] && ok "the node stopped cleanly" || bad "node.run left behind"
cli_finish
