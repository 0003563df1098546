#!/bin/sh
# test_devnet.sh OCTO — `octo devnet`: the whole network on this machine. The first run writes
# it and starts 4 validators, an orchestrator with the HTTP API and 2 providers as processes;
# the printed API key works; `octo run`, `octo tasks` and `octo providers` go through the
# gateway with the key DIR/api-key holds; the chain finalizes; Ctrl-C (SIGINT) stops every process and the
# command exits 0; a second run starts the same network again from its stores (the height
# goes on); killed outright it takes its nodes along; bad flags are usage errors. Prints one line per check and "N passed, N failed".
set -u
OCTO=$1
. "$(dirname "$0")/lib.sh"
cli_tmp devnet
cli_clean_env
PY=/usr/bin/python3
cli_ports 72
D="$T/dn"
DPID=""
cleanup() {
    [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
    pkill -9 -f "$D/net" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

run "$OCTO" devnet --dir "$T/u" --for 1 --validators 0
expect_rc "--validators 0 is a usage error" 2
run "$OCTO" devnet --dir "$T/u" --for 1 --port 80
expect_rc "a port below 1024 is a usage error" 2

"$OCTO" devnet --dir "$D" --port "$PORT" --providers 2 >"$T/out" 2>"$T/err" &
DPID=$!
i=0
while [ $i -lt 600 ] && ! grep -q "API key" "$T/out"; do sleep 0.1; i=$((i + 1)); done
grep -q "devnet is up: 4 validators, 1 orchestrator, 2 providers" "$T/out" && ok "the devnet is up" ||
    bad "not up: $(cat "$T/out" "$T/err")"
KEY=$(sed -n 's/^  API key   //p' "$T/out")
n=$(pgrep -f "node --home $D/net" | wc -l)
[ "$n" -eq 7 ] && ok "7 node processes" || bad "$n node processes"
code=$(curl -s -o "$T/s" -w '%{http_code}' -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/v1/status")
[ "$code" = 200 ] && ok "the printed API key works" || bad "status: $code $(cat "$T/s")"
# the task path: a chat through the gateway, from the shell client and from curl
[ "$(stat -c %a "$D/api-key")" = 600 ] && [ "$(cat "$D/api-key")" = "$KEY" ] &&
    ok "the demo key is kept in DIR/api-key (0600)" || bad "api-key file"
GWENV="OCTO_GATEWAY=http://127.0.0.1:$PORT OCTO_API_KEY=$KEY"
run env $GWENV "$OCTO" run "hello" --max-tokens 8
expect_rc "octo run" 0
case "$err" in *"· succeeded · provider 12D3KooW"*"charged 0.0000"*" OCTO"*) ok "octo run prints the task, provider and charge" ;; *) bad "run: $err" ;; esac
run env $GWENV "$OCTO" tasks --json
$PY -c 'import json,sys; t=json.loads(sys.argv[1])["tasks"]; assert len(t)==1 and t[0]["state"]=="succeeded" and t[0]["charged"]' "$out" &&
    ok "octo tasks lists it" || bad "tasks: $out $err"
run env $GWENV "$OCTO" providers --json
$PY -c 'import json,sys; p=json.loads(sys.argv[1])["providers"]; assert len(p)==2 and all(x["models"][0]["name"]=="tiny" for x in p)' "$out" &&
    ok "octo providers lists the 2 providers" || bad "providers: $out $err"
code=$(curl -s -o "$T/c" -w '%{http_code}' -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/v1/chat/completions" \
    -d '{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":4}')
[ "$code" = 200 ] && grep -q '"object":"chat.completion"' "$T/c" && ok "a chat through the gateway" || bad "chat: $code $(cat "$T/c")"
run env OCTO_GATEWAY="http://127.0.0.1:$PORT" OCTO_API_KEY=octo-000000000000-00 "$OCTO" run "hello"
expect_rc "octo run with a wrong key" 1
# Settlement: every task was escrowed by the payer (the last account) and settled by the
# orchestrator; after N more tasks the ledger's balances moved by exactly the split of the
# receipts' prices (70 % provider, 10 % orchestrator, 10 % treasury, 5 % governance, the burn
# the rest), the payer paid the prices, and each paid the minimum fee per transaction.
V0ID=$("$OCTO" id --home "$D/net/v0" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
V0="/ip4/127.0.0.1/tcp/$((PORT + 10))/p2p/$V0ID"
GEN="$D/net/v0/genesis.json"
balances() { # -> "addr balance" lines for a0, a1, a2, the payer (a3), treasury, governance
    for h in a0 a1 a2 a3; do
        "$OCTO" account --home "$D/net/accounts/$h" --node "$V0" --json
        echo
    done
    for k in treasury governance; do
        "$OCTO" account "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["params"][sys.argv[2]])' "$GEN" "$k")" --home "$D/net/v0" --node "$V0" --json
        echo
    done
}
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | sed -n "s/^$1 //p"; }
settled_wait() { # waits until every queued receipt went out in a SETTLE and the chain applied it
    i=0
    while [ $i -lt 100 ]; do
        q=$(metric 'octo_settle_receipts_total{state="queued"}')
        sent=$(metric 'octo_settle_receipts_total{state="sent"}')
        w=$(metric octo_settle_waiting)
        [ -n "$q" ] && [ "$q" = "$sent" ] && [ "$w" = 0 ] && break
        sleep 0.2
        i=$((i + 1))
    done
    sleep 2 # a block or two for the last SETTLE
}
settled_wait
balances >"$T/bal0"
e0=$(metric 'octo_settle_transactions_total{kind="escrow"}')
s0=$(metric 'octo_settle_transactions_total{kind="settle"}')
for n in 1 2 3 4 5 6; do
    env $GWENV "$OCTO" run "task number $n" --max-tokens $((n + 2)) >/dev/null 2>>"$T/runs" ||
        bad "settlement run $n: $(tail -1 "$T/runs")"
done
settled_wait
balances >"$T/bal1"
e1=$(metric 'octo_settle_transactions_total{kind="escrow"}')
s1=$(metric 'octo_settle_transactions_total{kind="settle"}')
env $GWENV "$OCTO" tasks --limit 6 --json >"$T/tasks6"
for id in $($PY -c 'import json,sys; [print(t["id"]) for t in json.load(open(sys.argv[1]))["tasks"]]' "$T/tasks6"); do
    env $GWENV "$OCTO" tasks "$id" --json
    echo
done >"$T/receipts"
$PY - "$T/bal0" "$T/bal1" "$T/receipts" "$GEN" "$((e1 - e0))" "$((s1 - s0))" <<'EOF' && ok "settlement: balances after 6 tasks equal the 70/10/10/5/5 split and the fees, to the unit" || bad "settlement balances"
import json, sys
def load(p):
    return [json.loads(l) for l in open(p) if l.strip()]
b0, b1 = load(sys.argv[1]), load(sys.argv[2])
delta = {a["address"]: int(c["balance"]["OCTO"]) - int(a["balance"]["OCTO"]) for a, c in zip(b0, b1)}
orch, p1, p2, payer, treas, gov = (a["address"] for a in b0)
fee = int(json.load(open(sys.argv[4]))["params"]["min_fee"])
escrows, settles = int(sys.argv[5]), int(sys.argv[6])
want = {orch: -settles * fee, p1: 0, p2: 0, payer: -escrows * fee, treas: 0, gov: 0}
for t in load(sys.argv[3]):
    r = bytes.fromhex(t["result"]["receipt"])
    assert len(r) == 289 and r[0] == 1
    requester, orchestrator, provider = r[33:65].hex(), r[65:97].hex(), r[97:129].hex()
    tokens, start, end, price = (int.from_bytes(r[193 + 8 * i:201 + 8 * i], "big") for i in range(4))
    u = t["result"]["usage"]
    assert requester == payer and orchestrator == orch and provider in (p1, p2), (requester, orchestrator, provider)
    assert tokens == u["prompt_tokens"] + u["completion_tokens"] and price == int(t["charged_amount"]) and end >= start
    want[provider] += price * 70 // 100
    want[orch] += price * 10 // 100
    want[treas] += price * 10 // 100
    want[gov] += price * 5 // 100
    want[payer] -= price
assert escrows == 6 and settles >= 1, (escrows, settles)
assert delta == want, (delta, want)
EOF

h=0
i=0
while [ $i -lt 60 ] && [ "$h" -lt 5 ]; do
    sleep 0.5
    h=$(curl -s "http://127.0.0.1:$PORT/metrics" | sed -n 's/^octo_chain_height \([0-9]*\)$/\1/p')
    h=${h:-0}
    i=$((i + 1))
done
[ "$h" -ge 5 ] && ok "the chain finalizes (height $h at the orchestrator)" || bad "height $h"
sleep 5.5
grep -q "^height [0-9]* · validators 4/4 up · orchestrator up · providers 2/2 up" "$T/out" &&
    ok "the status line" || bad "status lines: $(cat "$T/out")"
# the chain through the native API: an account, the newest block, a block, errors
PAYER=$($PY -c 'import json,sys; print(json.loads([l for l in open(sys.argv[1]) if l.strip()][3])["address"])' "$T/bal1")
api() { curl -s -o "$T/api" -w '%{http_code}' -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT$1"; }
code=$(api "/api/v1/accounts/$PAYER")
[ "$code" = 200 ] && $PY -c 'import json,sys; a=json.load(open(sys.argv[1])); assert a["address"]==sys.argv[2] and int(a["balance"]["OCTO"])>0' "$T/api" "$PAYER" &&
    ok "/api/v1/accounts/ADDR" || bad "accounts: $code $(cat "$T/api")"
code=$(api /api/v1/blocks)
[ "$code" = 200 ] && grep -q '"height"' "$T/api" && ok "/api/v1/blocks (the newest)" || bad "blocks: $code"
code=$(api /api/v1/blocks/99999999)
[ "$code" = 404 ] && ok "/api/v1/blocks/HEIGHT past the head is 404" || bad "block 404: $code $(cat "$T/api")"
code=$(api /api/v1/txs/xyz)
[ "$code" = 400 ] && ok "/api/v1/txs with a bad id is 400" || bad "tx 400: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/blocks")
[ "$code" = 401 ] && ok "the chain routes need a key" || bad "no key: $code"

# a real Prometheus scrapes every node of the devnet: the orchestrator's gateway, the
# validators' and the providers' HTTP APIs; promtool accepts each exposition
if command -v prometheus >/dev/null; then
    PPORT=$((PORT + 70))
    TARGETS="'127.0.0.1:$PORT'"
    for i in 0 1 2 3; do TARGETS="$TARGETS, '127.0.0.1:$((PORT + 30 + i))'"; done
    for i in 0 1; do TARGETS="$TARGETS, '127.0.0.1:$((PORT + 50 + i))'"; done
    printf 'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: devnet\n    static_configs:\n      - targets: [%s]\n' "$TARGETS" >"$T/prom.yml"
    prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/tsdb" \
        --web.listen-address=127.0.0.1:$PPORT >"$T/prom.log" 2>&1 &
    PROM=$!
    ups=0
    i=0
    while [ $i -lt 60 ] && [ "$ups" != 7 ]; do
        sleep 0.5
        ups=$(curl -s "http://127.0.0.1:$PPORT/api/v1/query?query=up" 2>/dev/null |
            $PY -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin)["data"]["result"] if r["value"][1] == "1"))' 2>/dev/null)
        i=$((i + 1))
    done
    [ "$ups" = 7 ] && ok "Prometheus scrapes all 7 nodes of the devnet (up = 1)" || bad "Prometheus: $ups of 7 up ($(tail -2 "$T/prom.log"))"
    kill "$PROM" 2>/dev/null
    wait "$PROM" 2>/dev/null
    pt=""
    for port in $PORT $((PORT + 30)) $((PORT + 50)); do
        curl -s "http://127.0.0.1:$port/metrics" | promtool check metrics >>"$T/pt" 2>&1 || pt="$pt $port"
    done
    [ -z "$pt" ] && ok "promtool check metrics: orchestrator, validator, provider" || bad "promtool:$pt $(cat "$T/pt")"
else
    bad "prometheus is missing (scripts/setup installs it)"
fi
hk=$(curl -s "http://127.0.0.1:$PORT/metrics" | sed -n 's/^octo_chain_height \([0-9]*\)$/\1/p')
kill -INT "$DPID"
i=0
while [ $i -lt 200 ] && kill -0 "$DPID" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
wait "$DPID"
rc=$?
DPID=""
[ "$rc" -eq 0 ] && grep -q "devnet stopped" "$T/out" && ok "Ctrl-C stops it, exit 0" || bad "exit $rc: $(tail -3 "$T/out")"
[ ! -e "$D/api-key" ] && ok "DIR/api-key is removed at the stop" || bad "api-key left"
n=$(pgrep -f "node --home $D/net" | wc -l)
[ "$n" -eq 0 ] && ok "no node process is left" || bad "$n node processes left"

# again, from the same directory: the same chain goes on
run "$OCTO" devnet --dir "$D" --port "$PORT" --providers 2 --for 7
expect_rc "a second run for 7 s" 0
case "$out" in *"starting the network in $D/net again"*) ok "it starts the same network" ;; *) bad "second run: $out" ;; esac
h2=$(echo "$out" | sed -n 's/^height \([0-9]*\) .*/\1/p' | head -1)
[ "${h2:-0}" -ge "${hk:-1}" ] && ok "the height went on (${hk:-?} before the stop, $h2 at once after the restart)" ||
    bad "height ${hk:-?} -> ${h2:-none}"
KID=$(echo "$KEY" | cut -d- -f2)
"$OCTO" apikey list --home "$D/net/accounts/a0" --json >"$T/keys" 2>/dev/null
$PY -c 'import json,sys; l=json.load(open(sys.argv[1])); assert len(l)==2 and all(k["revoked"] for k in l) and sys.argv[2] in [k["id"] for k in l]' "$T/keys" "$KID" &&
    ok "each run's demo key was revoked when it stopped" || bad "keys: $(cat "$T/keys")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/v1/status")
[ "$code" = 000 ] && ok "the devnet is down after --for" || bad "still answering: $code"
# the devnet killed outright: its nodes stop with it
"$OCTO" devnet --dir "$D" --port "$PORT" --providers 2 >"$T/out3" 2>&1 &
DPID=$!
wait_for "$T/out3" "API key" 60 || bad "third run: $(cat "$T/out3")"
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
DPID=""
i=0
while [ $i -lt 100 ] && [ "$(pgrep -f "node --home $D/net" | wc -l)" -gt 0 ]; do sleep 0.1; i=$((i + 1)); done
n=$(pgrep -f "node --home $D/net" | wc -l)
[ "$n" -eq 0 ] && ok "kill -9 of the devnet stops its nodes too" || bad "$n nodes outlived the devnet"
run "$OCTO" devnet --dir "$D" --port "$PORT" --providers 3 --for 1
expect_rc "the same DIR with another shape is refused" 2
case "$err" in *"holds a network with --providers 2"*) ok "it says why" ;; *) bad "mismatch: $err" ;; esac
mkdir -p "$T/cut/net"
run "$OCTO" devnet --dir "$T/cut" --port "$PORT" --for 1
expect_rc "a first run cut short is recognized" 1
cli_finish
