#!/bin/sh
# test_private.sh OCTO — a PRIVATE task through the whole path stays sealed. On a devnet (1
# validator, an orchestrator with its payer, 2 providers) with every packet on lo captured:
# `octo run --privacy private` is refused when no provider may run it (no TEE, no --owner), and
# CONFIDENTIAL is refused on a node without a TEE; with --owner naming a provider it runs there
# (the prompt sealed by the client to the worker in that provider's sandbox), the answer comes
# back, the key is charged the metered tokens once, and the receipt is settled on the ledger.
# Its canary, and the answer's text, are then in no orchestrator or provider process's memory,
# no file of the devnet (stores, logs, keys), and no captured packet (the capture sees the
# client's HTTP leg in the clear; the orchestrator-provider leg is Noise, which the memory scans
# cover). A TASK that does not open fails as the client's fault (400), uncharged, and is not held
# against the provider; a sealed task takes one TASK; max_input_bytes is bounded. Controls: a PUBLIC task's canary is found in
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
cli_devnet_up 2
export OCTO_GATEWAY="http://127.0.0.1:$PORT" OCTO_API_KEY="$(cat "$D/api-key")"
GW=$OCTO_GATEWAY
ORCH=$(pgrep -f "node --home $D/net/accounts/a0 ")
PROVS=$(pgrep -f "role provider --model $D/" | tr '\n' ' ')
# the client owns provider a1 (HTTP on P+50); a2 (P+51) is someone else's
ID0=$("$OCTO" id --home "$D/net/accounts/a1" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
[ -n "$ORCH" ] && [ "$(echo $PROVS | wc -w)" = 2 ] && [ -n "$ID0" ] && ok "orchestrator, 2 providers" ||
    bad "processes: orch '$ORCH' providers '$PROVS' id '$ID0'"

# everything on lo from here on
$PROBE capture "$T/cap" "$T/cap.ready" >"$T/cap.out" 2>&1 &
CPID=$!
EXTRA_PIDS="$CPID"
wait_for "$T/cap.ready" "" 10 || [ -f "$T/cap.ready" ] || bad "capture did not start: $(cat "$T/cap.out")"

CANARY="canary-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
PUBLIC="public-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

run "$OCTO" run --privacy private --max-tokens 8 "the launch code is $CANARY"
expect_rc "PRIVATE without a TEE or an owner's node" 1
case "$err" in *"no provider can run this task"*removed_data_class*) ok "refused by the router, naming the data class" ;;
*) bad "refusal: $err" ;; esac
run "$OCTO" run --privacy confidential --owner "$ID0" --max-tokens 8 "the launch code is $CANARY"
expect_rc "CONFIDENTIAL on a node without a TEE" 1
case "$err" in *"no provider can run this task"*removed_data_class*) ok "CONFIDENTIAL: refused by the router (a TEE only, not the owner's node)" ;;
*) bad "confidential refusal: $err" ;; esac

spent0=$(curl -s -H "Authorization: Bearer $OCTO_API_KEY" "$GW/api/v1/status" | $PY -c 'import json,sys; print(json.load(sys.stdin)["key"]["spent"])')
"$OCTO" run --privacy private --owner "$ID0" --max-tokens 16 "the launch code is $CANARY" >"$T/answer.out" 2>"$T/answer.err"
rc=$?
err=$(cat "$T/answer.err")
expect_rc "PRIVATE on the owner's node" 0
TASK=$(sed -n 's/^task \([0-9a-f]\{32\}\) .*/\1/p' "$T/answer.err")
# the opened answer, byte for byte (the client prints it, then a newline): looked for below
head -c -1 "$T/answer.out" >"$T/answer.bin"
run "$OCTO" tasks "$TASK" --json
printf "%s\n" "$out" >"$T/run.json"
$PY - "$T/run.json" "$ID0" "$T/answer.bin" <<'PY' && ok "the answer was opened by the client; charged the metered tokens" || bad "sealed run: $out $err"
import json, os, sys
t = json.load(open(sys.argv[1]))
assert os.path.getsize(sys.argv[3]) >= 16, "answer too short"
assert t["state"] == "succeeded" and t["provider"] == sys.argv[2] and t["charged"], t
u = t["result"]["usage"]
assert t["result"]["object"] == "sealed.result" and u["completion_tokens"] == 16, u
assert int(t["charged_amount"]) == u["prompt_tokens"] + u["completion_tokens"], (t, u)
PY
spent1=$(curl -s -H "Authorization: Bearer $OCTO_API_KEY" "$GW/api/v1/status" | $PY -c 'import json,sys; print(json.load(sys.stdin)["key"]["spent"])')
charged=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["charged_amount"])' "$T/run.json")
[ $((spent1 - spent0)) = "$charged" ] && ok "the key paid $charged once" || bad "spent $spent0 -> $spent1, charged $charged"
ANSWER="@$T/answer.bin"

# A client that sends a TASK that does not open (after taking the worker's KEY): the task fails
# as the client's fault (400), nothing is charged, the provider is not marked down for it.
failed0=$(curl -s -H "Authorization: Bearer $OCTO_API_KEY" "$GW/metrics" | sed -n 's/^octo_router_attempts_total{result="failed"} //p')
HELLO=$($PY -c 'import base64,os,struct; print(base64.b64encode(bytes([1])+struct.pack(">I",49)+os.urandom(48)+bytes([3])).decode())')
code=$(curl -s -o "$T/k.json" -w '%{http_code}' -H "Authorization: Bearer $OCTO_API_KEY" "$GW/api/v1/sealed" \
    -d "{\"model\":\"tiny\",\"privacy\":\"private\",\"hello\":\"$HELLO\",\"owner\":\"$ID0\",\"max_tokens\":4}")
TID=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["task"])' "$T/k.json" 2>/dev/null)
[ "$code" = 200 ] && [ -n "$TID" ] && ok "POST /api/v1/sealed answers the worker's KEY" || bad "sealed open: $code $(cat "$T/k.json")"
BADTASK=$($PY -c 'import base64,os,struct; print(base64.b64encode(bytes([3])+struct.pack(">I",200)+os.urandom(200)).decode())')
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "Authorization: Bearer $OCTO_API_KEY" "$GW/api/v1/sealed/$TID" -d "{\"task\":\"$BADTASK\"}")
failed1=$(curl -s -H "Authorization: Bearer $OCTO_API_KEY" "$GW/metrics" | sed -n 's/^octo_router_attempts_total{result="failed"} //p')
spent2=$(curl -s -H "Authorization: Bearer $OCTO_API_KEY" "$GW/api/v1/status" | $PY -c 'import json,sys; print(json.load(sys.stdin)["key"]["spent"])')
[ "$code" = 400 ] && grep -q '"code":"sealed_failed"' "$T/r.json" && [ "$failed1" = "$failed0" ] && [ "$spent2" = "$spent1" ] &&
    ok "a TASK that does not open: 400, not charged, not held against the provider" ||
    bad "bad task: $code $(cat "$T/r.json") failed $failed0 -> $failed1 spent $spent1 -> $spent2"
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "Authorization: Bearer $OCTO_API_KEY" "$GW/api/v1/sealed/$TID" -d "{\"task\":\"$BADTASK\"}")
[ "$code" = 404 ] && ok "the ended sealed task takes no second TASK" || bad "second task: $code $(cat "$T/r.json")"
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "Authorization: Bearer $OCTO_API_KEY" "$GW/api/v1/sealed" \
    -d "{\"model\":\"tiny\",\"privacy\":\"private\",\"hello\":\"$HELLO\",\"max_input_bytes\":1048576}")
[ "$code" = 400 ] && grep -q '"param":"max_input_bytes"' "$T/r.json" && ok "max_input_bytes past what a request body carries is 400" ||
    bad "max_input: $code $(cat "$T/r.json")"

"$OCTO" run --max-tokens 4 "the public word is $PUBLIC" >"$T/public.out" 2>"$T/public.err"
rc=$?
err=$(cat "$T/public.err")
expect_rc "a PUBLIC task (the control)" 0
# a public answer that happens to hold the same bytes would void the answer checks below
$PROBE filescan "$ANSWER" "$T/public.out" >/dev/null || ANSWER=""

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
m1=$(curl -s "http://127.0.0.1:$((PORT + 50))/metrics" | sed -n 's/^octo_sandbox_sealed_tasks_total //p')
m2=$(curl -s "http://127.0.0.1:$((PORT + 51))/metrics" | sed -n 's/^octo_sandbox_sealed_tasks_total //p')
[ "$m1" = 1 ] && [ "$m2" = 0 ] && ok "the owner's provider ran it through the privacy worker, the other none" ||
    bad "provider metrics: a1 $m1 a2 $m2"

kill "$CPID"
wait "$CPID" 2>/dev/null
case "$(cat "$T/cap.out")" in *" drops 0"*) ok "capture: $(cat "$T/cap.out")" ;; *) bad "capture: $(cat "$T/cap.out")" ;; esac
grep -qa "$PUBLIC" "$T/cap" && grep -qa "POST /api/v1/sealed" "$T/cap" &&
    ok "control: the capture holds the public canary and the sealed requests" || bad "capture control"
grep -qa "$CANARY" "$T/cap" && bad "the private canary is on the wire" || ok "the private canary is in no captured packet"
if [ -n "$ANSWER" ]; then
    run $PROBE filescan "$ANSWER" "$T/cap"
    [ "$rc" = 0 ] && ok "the private answer is in no captured packet" || bad "the private answer is on the wire"
fi
grep -rqa "$PUBLIC" "$D/net/accounts/a0" && ok "control: the public canary is in the orchestrator's store" ||
    bad "store control"
hits=$(grep -rla "$CANARY" "$D" "$T/dn.out" "$T/dn.err")
[ -z "$hits" ] && ok "the private canary is in no file of the devnet" || bad "canary in: $hits"
if [ -n "$ANSWER" ]; then
    run $PROBE filescan "$ANSWER" "$D" "$T/dn.out" "$T/dn.err"
    [ "$rc" = 0 ] && ok "the private answer is in no file of the devnet" || bad "answer in: $out"
fi

$PY -c "import time; s=' '.join(['$CANARY'] * 2); open('$T/hold.ready','w').close(); time.sleep(120)" &
HOLD=$!
EXTRA_PIDS="$EXTRA_PIDS $HOLD"
wait_for "$T/hold.ready" "" 10 || [ -f "$T/hold.ready" ]
$PROBE memscan "$CANARY" "$HOLD" >/dev/null
[ $? = 1 ] && ok "control: the memory scan finds a canary a process holds" || bad "memscan control"
kill -9 "$HOLD" 2>/dev/null
run $PROBE memscan "$CANARY" $ORCH $PROVS
[ "$rc" = 0 ] && ok "the private canary is in no orchestrator or provider memory" || bad "memory: $out"
if [ -n "$ANSWER" ]; then
    run $PROBE memscan "$ANSWER" $ORCH $PROVS
    [ "$rc" = 0 ] && ok "the private answer is in no orchestrator or provider memory" || bad "answer in memory: $out"
fi

cli_finish
