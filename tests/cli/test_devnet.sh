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
unset OCTO_HOME OCTO_ROLE OCTO_LISTEN OCTO_LOG_LEVEL OCTO_LOG_FORMAT OCTO_LOG_FILE \
      OCTO_STORE_BACKEND OCTO_STORE_PATH OCTO_PASSPHRASE_FILE OCTO_NODE
PY=/usr/bin/python3
PORT=$((21000 + $$ % 500 * 64))
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
