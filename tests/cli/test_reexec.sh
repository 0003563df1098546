#!/bin/sh
# test_reexec.sh OCTO — execution commitments and verify "reexec" on a devnet (1 validator, an
# orchestrator with its payer, 3 providers). Provider a3 is restarted by hand on a model file
# of its own (the devnet's supervisor is paused meanwhile: it stops the network when a node
# exits):
#  - its weights changed on disk under it: its runs commit to weights its advert does not
#    name, the gateway refuses them and the task fails over;
#  - then restarted with the debug build's test fault OCTO_TEST_FAULTS=commit-advertised-weights
#    on the honest weights, which are swapped under it again: it now lies in its commitments
#    (it claims the advertised weights), which only re-execution can catch.
# With verify "reexec": an honest answer re-run on another honest provider is verified (and its
# countersigned commitment names the advertised weights), streamed answers are held until then;
# the liar's answer is refuted by both honest providers (502, not charged) and its receipt goes
# to the ledger as SLASH_FAILED (its stake falls 10 %); an honest answer whose only re-run is the
# liar's is inconclusive (502, nobody slashed); a sealed task cannot ask for reexec (400).
# Prints one line per check and "N passed, N failed".
set -u
OCTO=$1
. "$(dirname "$0")/lib.sh"
cli_tmp reexec
cli_clean_env
PY=/usr/bin/python3
cli_devnet_up 3
KEY=$(cat "$D/api-key")
GW="http://127.0.0.1:$PORT"
V0="/ip4/127.0.0.1/tcp/$((PORT + 10))/p2p/$("$OCTO" id --home "$D/net/v0" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
pid_of() { "$OCTO" id --home "$D/net/accounts/$1" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
H1=$(pid_of a1)
H2=$(pid_of a2)
C3=$(pid_of a3)
metric() { curl -s "$GW/metrics" | sed -n "s/^$1 //p"; }
stake() { "$OCTO" account --home "$D/net/accounts/a3" --node "$V0" --json | $PY -c 'import json,sys; a=json.load(sys.stdin); print(int(a["staked"]["OCTO"]))'; }
spent() { curl -s -H "Authorization: Bearer $KEY" "$GW/api/v1/status" | $PY -c 'import json,sys; print(json.load(sys.stdin)["key"]["spent"])'; }
chat() { # POLICY [stream] -> headers $T/h, body $T/b, status printed
    curl -s -D "$T/h" -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $KEY" "$GW/v1/chat/completions" \
        -d "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"tell me a story\"}],\"max_tokens\":12,\"provider\":$1${2:+,\"stream\":true}}"
}

# while all three are honest: from the shell client, verified whoever answers and re-runs
run env OCTO_GATEWAY="$GW" OCTO_API_KEY="$KEY" "$OCTO" run --verify reexec --max-tokens 6 "hello"
expect_rc "octo run --verify reexec" 0

# a3 restarted on a model file of its own (restart_a3 FAULT: with that test fault)
ARGS=$(tr '\0' '\n' <"/proc/$(pgrep -f "home $D/net/accounts/a3 ")/cmdline" | tail -n +2 | sed "s|$D/models/tiny.gguf|$T/cheat/tiny.gguf|" | tr '\n' ' ')
mkdir -p "$T/cheat"
"$OCTO" model gen-test --out "$T/seed7.gguf" --seed 7 >/dev/null && "$OCTO" model gen-test --out "$T/seed9.gguf" --seed 9 >/dev/null ||
    bad "gen-test"
restart_a3() { # [FAULT]
    pkill -9 -f "home $D/net/accounts/a3 "
    cp "$D/models/tiny.gguf" "$T/cheat/tiny.gguf"
    chmod 644 "$T/cheat/tiny.gguf"
    sleep 0.3
    # shellcheck disable=SC2086
    env ${1:+OCTO_TEST_FAULTS=$1} "$OCTO" $ARGS >"$T/cheat.out" 2>"$T/cheat.err" &
    EXTRA_PIDS="$EXTRA_PIDS $!"
    wait_for "$T/cheat.out" "Node is ready" 30 || bad "a3 restart: $(cat "$T/cheat.err")"
    sleep 1 # its new advert reaches the orchestrator
}
kill -STOP "$DPID"
restart_a3
cp "$T/seed9.gguf" "$T/cheat/tiny.gguf" # the weights change under the running provider

bad0=$(metric octo_gateway_commitments_bad_total)
code=$(chat "{\"order\":[\"$C3\"]}")
bad1=$(metric octo_gateway_commitments_bad_total)
[ "$code" = 200 ] && ! grep -qi "^x-octo-route: provider=$C3" "$T/h" && grep -qi "^x-octo-route: .*attempts=2" "$T/h" &&
    [ "$bad1" = $((bad0 + 1)) ] && ok "a run on weights its advert does not name is refused for its commitment; the task fails over" ||
    bad "commitment refused: $code bad $bad0 -> $bad1 $(cat "$T/h" "$T/b")"

restart_a3 commit-advertised-weights
cp "$T/seed7.gguf" "$T/cheat/tiny.gguf"
FAULT=0
grep -q "TEST FAULT" "$T/cheat.err" "$T/cheat.out" && FAULT=1

s0=$(spent)
code=$(chat "{\"verify\":\"reexec\",\"order\":[\"$H1\"],\"ignore\":[\"$C3\"]}")
s1=$(spent)
[ "$code" = 200 ] && grep -qi "^x-octo-route: provider=$H1;.*reexec=verified; reruns=1" "$T/h" &&
    [ "$s1" -gt "$s0" ] && ok "an honest answer re-run on another honest provider is verified and charged" ||
    bad "verified: $code $(cat "$T/h" "$T/b")"
# its execution commitment: signed by H1, countersigned by the orchestrator, naming the weights
# H1 advertises, the process isolation, the deterministic mode and the tokens charged
TID=$(sed -n 's/^x-octo-task: \([0-9a-f]*\).*/\1/ip' "$T/h" | tr -d '\r')
curl -s -H "Authorization: Bearer $KEY" "$GW/api/v1/tasks/$TID" >"$T/task.json"
curl -s -H "Authorization: Bearer $KEY" "$GW/api/v1/providers" >"$T/prov.json"
$PY - "$T/task.json" "$T/prov.json" "$H1" <<'PY' && ok "the commitment is verified and names the advertised weights" || bad "commitment: $(cat "$T/task.json")"
import json, sys
t = json.load(open(sys.argv[1]))
p = {x["id"]: x for x in json.load(open(sys.argv[2]))["providers"]}
c = t["commitment"]
u = t["result"]["usage"]
assert c["verified"] and c["isolation"] == "process" and c["deterministic"] and not c["sealed"], c
assert c["model_sha256"] == p[sys.argv[3]]["models"][0]["weights_sha256"], c
assert c["quantization"] == p[sys.argv[3]]["models"][0]["quantization"], c
assert (c["prompt_tokens"], c["completion_tokens"]) == (u["prompt_tokens"], u["completion_tokens"]), (c, u)
assert c["end_ms"] >= c["start_ms"] and c["attestation_sha256"] == "0" * 64, c
PY

code=$(chat "{\"verify\":\"reexec\",\"order\":[\"$H2\"],\"ignore\":[\"$C3\"]}" stream)
[ "$code" = 200 ] && grep -qi "^x-octo-route: .*reexec=verified" "$T/h" && grep -q '"role":"assistant","content":"' "$T/b" &&
    grep -q '^data: \[DONE\]' "$T/b" && ok "a streamed reexec answer arrives whole once verified" ||
    bad "stream: $code $(cat "$T/h" "$T/b")"

if [ "$FAULT" = 1 ]; then
    stake0=$(stake)
    s0=$(spent)
    code=$(chat "{\"verify\":\"reexec\",\"order\":[\"$C3\"]}")
    s1=$(spent)
    [ "$code" = 502 ] && grep -q '"code":"verification_failed"' "$T/b" && [ "$s1" = "$s0" ] &&
        ok "the liar's answer is refuted by both honest providers: 502, not charged" || bad "refuted: $code $(cat "$T/b") spent $s0 -> $s1"
    i=0
    while [ $i -lt 200 ] && [ "$(stake)" = "$stake0" ]; do sleep 0.1; i=$((i + 1)); done
    stake1=$(stake)
    [ "$stake1" -lt "$stake0" ] && [ $((stake0 - stake1)) = $((stake0 / 10)) ] &&
        ok "SLASH_FAILED applied: the liar's OCTO stake fell 10 % ($stake0 -> $stake1)" || bad "stake $stake0 -> $stake1"
    [ "$(metric 'octo_settle_transactions_total{kind="slash_failed"}')" = 1 ] && [ "$(metric 'octo_verifier_reexec_total{result="refuted"}')" = 1 ] &&
        ok "metrics: one refuted, one SLASH_FAILED sent" || bad "metrics: $(curl -s "$GW/metrics" | grep -E 'reexec|slash')"

    s0=$(spent)
    code=$(chat "{\"verify\":\"reexec\",\"order\":[\"$H1\"],\"ignore\":[\"$H2\"]}")
    s1=$(spent)
    [ "$code" = 502 ] && grep -q '"code":"verification_inconclusive"' "$T/b" && [ "$s1" = "$s0" ] &&
        [ "$(stake)" = "$stake1" ] && ok "an answer whose only re-run is the liar's is inconclusive: nobody slashed" ||
        bad "inconclusive: $code $(cat "$T/b")"
else
    ok "# skip: the refutation cases need a debug build's test fault (OCTO_TEST_FAULTS)"
fi

code=$(curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $KEY" "$GW/api/v1/sealed" \
    -d '{"model":"tiny","privacy":"private","hello":"AAAA","provider":{"verify":"reexec"}}')
[ "$code" = 400 ] && ok "a sealed task cannot ask for reexec" || bad "sealed reexec: $code $(cat "$T/b")"
cli_finish
