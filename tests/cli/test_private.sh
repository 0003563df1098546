#!/bin/sh
# test_private.sh OCTO — a PRIVATE task through the whole path stays sealed. On a devnet (1
# validator, an orchestrator with its payer, 2 providers) with every packet on lo captured:
# `octo run --privacy private` is refused when no provider may run it (no TEE, no --owner), and
# CONFIDENTIAL is refused on a node without a TEE; with --owner naming a provider it runs there
# (the prompt sealed by the client to the worker in that provider's sandbox), the answer comes
# back, the key is charged the metered tokens once, and the receipt is settled on the ledger.
# Its canary is then in no orchestrator or provider process's memory, no file of the devnet
# (stores, logs, keys), and no captured packet. Controls: a PUBLIC task's canary is found in
# the capture and the orchestrator's store, and the memory scan finds a canary in a process
# that holds one — so the scans can see what they look for.
# Prints one line per check and "N passed, N failed".
set -u
OCTO=$1
. "$(dirname "$0")/lib.sh"
cli_tmp private
cli_clean_env
PY=/usr/bin/python3
PROBE="$PY $(dirname "$0")/privacy_probe.py"
PORT=$((25000 + $$ % 150 * 64))
D="$T/dn"
DPID=""
CPID=""
HOLD=""
cleanup() {
    [ -n "$CPID" ] && kill -9 "$CPID" 2>/dev/null
    [ -n "$HOLD" ] && kill -9 "$HOLD" 2>/dev/null
    [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
    pkill -9 -f "$D/net" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

"$OCTO" devnet --dir "$D" --port "$PORT" --validators 1 --providers 2 >"$T/dn.out" 2>"$T/dn.err" &
DPID=$!
i=0
while [ $i -lt 900 ] && ! grep -q "API key" "$T/dn.out"; do sleep 0.1; i=$((i + 1)); done
grep -q "devnet is up" "$T/dn.out" && ok "the devnet is up" || bad "not up: $(cat "$T/dn.out" "$T/dn.err")"
export OCTO_GATEWAY="http://127.0.0.1:$PORT" OCTO_API_KEY="$(cat "$D/api-key")"
GW=$OCTO_GATEWAY
ORCH=$(pgrep -f "node --home $D/net/accounts/a0 ")
PROVS=$(pgrep -f "role provider --model $D/" | tr '\n' ' ')
run "$OCTO" providers --json
ID0=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["providers"][0]["id"])' "$out")
[ -n "$ORCH" ] && [ "$(echo $PROVS | wc -w)" = 2 ] && [ -n "$ID0" ] && ok "orchestrator, 2 providers" ||
    bad "processes: orch '$ORCH' providers '$PROVS' id '$ID0'"

# everything on lo from here on
$PROBE capture "$T/cap" "$T/cap.ready" >"$T/cap.out" 2>&1 &
CPID=$!
wait_for "$T/cap.ready" "" 10 || [ -f "$T/cap.ready" ] || bad "capture did not start: $(cat "$T/cap.out")"

CANARY="canary-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
PUBLIC="public-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

run "$OCTO" run --privacy private --max-tokens 8 "the launch code is $CANARY"
expect_rc "PRIVATE without a TEE or an owner's node" 1
case "$err" in *"no provider can run this task"*removed_data_class*) ok "refused by the router, naming the data class" ;;
*) bad "refusal: $err" ;; esac
run "$OCTO" run --privacy confidential --owner "$ID0" --max-tokens 8 "the launch code is $CANARY"
expect_rc "CONFIDENTIAL on a node without a TEE" 1

spent0=$(curl -s -H "Authorization: Bearer $OCTO_API_KEY" "$GW/api/v1/status" | $PY -c 'import json,sys; print(json.load(sys.stdin)["key"]["spent"])')
run "$OCTO" run --privacy private --owner "$ID0" --max-tokens 8 --json "the launch code is $CANARY"
expect_rc "PRIVATE on the owner's node" 0
printf "%s\n" "$out" >"$T/run.json"
$PY - "$T/run.json" "$ID0" <<'PY' && ok "the answer was opened by the client; charged the metered tokens" || bad "sealed run: $out $err"
import json, sys
r = json.load(open(sys.argv[1]))
t = r["task"]
assert r["text"] and r["usage"]["done"] and r["usage"]["completion_tokens"] <= 8, r
assert t["state"] == "succeeded" and t["provider"] == sys.argv[2] and t["charged"], t
u = t["result"]["usage"]
assert t["result"]["object"] == "sealed.result" and u["completion_tokens"] == 8, u
assert int(t["charged_amount"]) == u["prompt_tokens"] + u["completion_tokens"], (t, u)
PY
spent1=$(curl -s -H "Authorization: Bearer $OCTO_API_KEY" "$GW/api/v1/status" | $PY -c 'import json,sys; print(json.load(sys.stdin)["key"]["spent"])')
charged=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["task"]["charged_amount"])' "$T/run.json")
[ $((spent1 - spent0)) = "$charged" ] && ok "the key paid $charged once" || bad "spent $spent0 -> $spent1, charged $charged"

run "$OCTO" run --max-tokens 4 "the public word is $PUBLIC"
expect_rc "a PUBLIC task (the control)" 0

# settlement: both receipts reach the ledger
i=0
while [ $i -lt 300 ]; do
    m=$(curl -s -H "Authorization: Bearer $OCTO_API_KEY" "$GW/metrics")
    sent=$(echo "$m" | sed -n 's/^octo_settle_receipts_total{state="sent"} //p')
    [ "${sent:-0}" -ge 2 ] && break
    sleep 0.1
    i=$((i + 1))
done
echo "$m" | grep -q '^octo_settle_transactions_total{kind="refused"} 0' &&
    echo "$m" | grep -q '^octo_gateway_receipts_bad_total 0' && [ "${sent:-0}" -ge 2 ] &&
    ok "the sealed task's receipt was accepted and settled" || bad "settlement: sent=$sent $(echo "$m" | grep -E 'settle|receipts_bad')"
m=$(curl -s "http://127.0.0.1:$((PORT + 50))/metrics" "http://127.0.0.1:$((PORT + 51))/metrics")
echo "$m" | grep -q '^octo_sandbox_sealed_tasks_total 1' && ok "one provider ran it through the privacy worker" ||
    bad "provider metrics: $(echo "$m" | grep sealed)"

kill "$CPID"
wait "$CPID" 2>/dev/null
CPID=""
case "$(cat "$T/cap.out")" in *" drops 0"*) ok "capture: $(cat "$T/cap.out")" ;; *) bad "capture: $(cat "$T/cap.out")" ;; esac
grep -qa "$PUBLIC" "$T/cap" && grep -qa "POST /api/v1/sealed" "$T/cap" &&
    ok "control: the capture holds the public canary and the sealed requests" || bad "capture control"
grep -qa "$CANARY" "$T/cap" && bad "the private canary is on the wire" || ok "the private canary is in no captured packet"
grep -rqa "$PUBLIC" "$D/net/accounts/a0" && ok "control: the public canary is in the orchestrator's store" ||
    bad "store control"
hits=$(grep -rla "$CANARY" "$D" "$T/dn.out" "$T/dn.err")
[ -z "$hits" ] && ok "the private canary is in no file of the devnet" || bad "canary in: $hits"

$PY -c "import time; s=' '.join(['$CANARY'] * 2); open('$T/hold.ready','w').close(); time.sleep(120)" &
HOLD=$!
wait_for "$T/hold.ready" "" 10 || [ -f "$T/hold.ready" ]
$PROBE memscan "$CANARY" "$HOLD" >/dev/null
[ $? = 1 ] && ok "control: the memory scan finds a canary a process holds" || bad "memscan control"
kill -9 "$HOLD" 2>/dev/null
HOLD=""
run $PROBE memscan "$CANARY" $ORCH $PROVS
[ "$rc" = 0 ] && ok "the private canary is in no orchestrator or provider memory" || bad "memory: $out"

cli_finish
