#!/bin/sh
# test_settle_restart.sh OCTO — settlement survives an orchestrator killed with kill -9 right
# after it answered: a 1-validator chain, an orchestrator with a payer, one provider; a chat is
# answered (its receipt waits in the settler's batch, in memory), the orchestrator is killed at
# once and restarted; at start it reconciles the finished tasks with the ledger, and the
# provider is paid its 70 % of the task's price. Prints one line per check and "N passed, N failed".
set -u
OCTO=$1
. "$(dirname "$0")/lib.sh"
cli_tmp settle
cli_clean_env
PY=/usr/bin/python3
cli_ports 32
GW="http://127.0.0.1:$PORT"
cli_kill_on_exit

"$OCTO" testnet --validators 1 --accounts 3 --out "$T/net" --base-port $((PORT + 10)) >/dev/null ||
    bad "testnet"
"$OCTO" model gen-test --out "$T/tiny.gguf" >/dev/null || bad "gen-test"
"$OCTO" node --home "$T/net/v0" >"$T/v0.out" 2>"$T/v0.err" &
PIDS="$PIDS $!"
wait_for "$T/v0.out" "Node is ready" 30 || bad "v0: $(cat "$T/v0.err")"
V0ID=$("$OCTO" id --home "$T/net/v0" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
V0="/ip4/127.0.0.1/tcp/$((PORT + 10))/p2p/$V0ID"
start_orch() {
    "$OCTO" node --home "$T/net/accounts/a0" --role orchestrator --http "127.0.0.1:$PORT" \
        --listen "/ip4/127.0.0.1/tcp/$((PORT + 1))" --payer-home "$T/net/accounts/a2" \
        >"$T/o.out" 2>"$T/o.err" &
    OPID=$!
    PIDS="$PIDS $OPID"
    wait_for "$T/o.out" "Node is ready" 30 || bad "orchestrator: $(cat "$T/o.err")"
}
start_orch
OID=$("$OCTO" id --home "$T/net/accounts/a0" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$OCTO" node --home "$T/net/accounts/a1" --role provider --model "$T/tiny.gguf" --region DE/EU \
    --listen /ip4/127.0.0.1/tcp/0 --bootstrap "/ip4/127.0.0.1/tcp/$((PORT + 1))/p2p/$OID" \
    >"$T/p.out" 2>"$T/p.err" &
PIDS="$PIDS $!"
wait_for "$T/p.out" "Node is ready" 30 || bad "provider: $(cat "$T/p.err")"
"$OCTO" tx register orchestrator --home "$T/net/accounts/a0" --node "$V0" --wait --timeout 60 >/dev/null &&
    "$OCTO" tx register compute --home "$T/net/accounts/a1" --node "$V0" --wait --timeout 60 >/dev/null &&
    ok "the orchestrator and the provider registered on the chain" || bad "register"
PAYER=$("$OCTO" account --home "$T/net/accounts/a2" --node "$V0" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["address"])')
KEY=$("$OCTO" apikey create --home "$T/net/accounts/a0" --account "$PAYER" --budget 10 | grep -o 'octo-[0-9a-f-]*' | head -1)
balance() { "$OCTO" account --home "$T/net/accounts/$1" --node "$V0" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["balance"]["OCTO"])'; }
i=0
while [ $i -lt 100 ] && [ "$(curl -s "$GW/metrics" | sed -n 's/^octo_router_providers //p')" != 1 ]; do sleep 0.1; i=$((i + 1)); done
b0=$(balance a1)

# answered, then killed at once: the receipt was only in the settler's batch
code=$(curl -s -D "$T/h" -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $KEY" "$GW/v1/chat/completions" \
    -d '{"model":"tiny","messages":[{"role":"user","content":"pay me"}],"max_tokens":8}')
kill -9 "$OPID"
wait "$OPID" 2>/dev/null
TASK=$(sed -n 's/^x-octo-task: \([0-9a-f]*\).*/\1/p' "$T/h" | tr -d '\r')
[ "$code" = 200 ] && [ -n "$TASK" ] && ok "a chat answered, the orchestrator killed with kill -9 at once" || bad "chat: $code $(cat "$T/b")"
start_orch
st=""
i=0
while [ $i -lt 300 ] && [ "$st" != succeeded ]; do
    sleep 0.1
    st=$(curl -s -H "Authorization: Bearer $KEY" "$GW/api/v1/tasks/$TASK" | $PY -c 'import json,sys; print(json.load(sys.stdin).get("state",""))' 2>/dev/null)
    i=$((i + 1))
done
price=$(curl -s -H "Authorization: Bearer $KEY" "$GW/api/v1/tasks/$TASK" | $PY -c 'import json,sys; print(json.load(sys.stdin)["charged_amount"])')
want=$((b0 + price * 70 / 100))
b1=$b0
i=0
while [ $i -lt 60 ] && [ "$b1" != "$want" ]; do
    sleep 0.5
    b1=$(balance a1)
    i=$((i + 1))
done
[ "$b1" = "$want" ] && ok "after the restart the provider is paid its 70 % of the task ($price -> $((price * 70 / 100)))" ||
    bad "provider balance $b0 -> $b1, want $want (price $price); $(tail -3 "$T/o.err")"
curl -s "$GW/metrics" | grep -Eq '^octo_gateway_receipts_reconciled(_total)? 1$|^octo_gateway_tasks_total\{result="succeeded"\} 1$' &&
    ok "the settlement came from the reconciliation or the re-run after the restart" || bad "metrics: $(curl -s "$GW/metrics" | grep -E 'reconciled|succeeded')"

for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
for p in $PIDS; do wait "$p" 2>/dev/null; done
PIDS=""
cli_finish
