#!/bin/sh
# test_reexec.sh OCTO — verify "reexec" on a devnet (1 validator, an orchestrator with its payer,
# 3 providers), one of which is then restarted serving other weights under the same model name
# (a provider that cheats on its model). A task whose answer is re-run on an honest provider
# and agrees is verified (x-octo-route says so) and charged once; a task answered by the
# cheat is re-run on both honest providers, refuted (502 verification_failed, not charged),
# and the cheat's receipt goes to the ledger as SLASH_FAILED: its stake drops by the slash
# rate and the escrow goes back to the payer; an honest answer whose only re-run is the cheat's
# is inconclusive (502, nobody slashed); a sealed task cannot ask for reexec (400); a streamed
# reexec answer is held until verified and then arrives whole. Execution commitments: a verified
# task's names the advertised weights and is countersigned; a run on weights the advert does not
# name (swapped on disk) is refused and the task fails over.
# Prints one line per check and "N passed, N failed".
set -u
OCTO=$1
. "$(dirname "$0")/lib.sh"
cli_tmp reexec
cli_clean_env
PY=/usr/bin/python3
cli_ports 72
D="$T/dn"
DPID=""
CHEAT=""
cleanup() {
    [ -n "$CHEAT" ] && kill -9 "$CHEAT" 2>/dev/null
    [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null && kill -CONT "$DPID" 2>/dev/null
    pkill -9 -f "$D/net" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

"$OCTO" devnet --dir "$D" --port "$PORT" --validators 1 --providers 3 >"$T/dn.out" 2>"$T/dn.err" &
DPID=$!
i=0
while [ $i -lt 900 ] && ! grep -q "API key" "$T/dn.out"; do sleep 0.1; i=$((i + 1)); done
grep -q "devnet is up" "$T/dn.out" && ok "the devnet is up" || bad "not up: $(cat "$T/dn.out" "$T/dn.err")"
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

# a3 becomes the cheat: the same node, other weights under the model's name. The devnet's
# supervisor is paused meanwhile (it stops the whole network when one of its nodes exits).
kill -STOP "$DPID"
mkdir -p "$T/cheat"
"$OCTO" model gen-test --out "$T/cheat/tiny.gguf" --seed 7 >/dev/null || bad "gen-test" 
chmod 644 "$T/cheat/tiny.gguf"
ARGS=$(tr '\0' '\n' <"/proc/$(pgrep -f "home $D/net/accounts/a3 ")/cmdline" | tail -n +2 | sed "s|$D/models/tiny.gguf|$T/cheat/tiny.gguf|" | tr '\n' ' ')
pkill -9 -f "home $D/net/accounts/a3 "
sleep 0.5
# shellcheck disable=SC2086
"$OCTO" $ARGS >"$T/cheat.out" 2>"$T/cheat.err" &
CHEAT=$!
i=0
while [ $i -lt 100 ]; do
    curl -s -H "Authorization: Bearer $KEY" "$GW/api/v1/providers" >"$T/prov.json"
    $PY -c 'import json,sys; p={x["id"]:x for x in json.load(open(sys.argv[1]))["providers"]}; h=p[sys.argv[2]]["models"][0]["weights_sha256"]; assert h!=p[sys.argv[3]]["models"][0]["weights_sha256"]' "$T/prov.json" "$C3" "$H1" 2>/dev/null && break
    sleep 0.2
    i=$((i + 1))
done
[ $i -lt 100 ] && ok "the cheat advertises other weights under the same name" || bad "cheat advert: $(cat "$T/prov.json" "$T/cheat.err")"

chat() { # POLICY [stream] -> headers $T/h, body $T/b, status printed
    curl -s -D "$T/h" -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $KEY" "$GW/v1/chat/completions" \
        -d "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"tell me a story\"}],\"max_tokens\":12,\"provider\":$1${2:+,\"stream\":true}}"
}

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

stake0=$(stake)
s0=$(spent)
code=$(chat "{\"verify\":\"reexec\",\"order\":[\"$C3\"]}")
s1=$(spent)
[ "$code" = 502 ] && grep -q '"code":"verification_failed"' "$T/b" && [ "$s1" = "$s0" ] &&
    ok "the cheat's answer is refuted by both honest providers: 502, not charged" || bad "refuted: $code $(cat "$T/b") spent $s0 -> $s1"
i=0
while [ $i -lt 200 ] && [ "$(stake)" = "$stake0" ]; do sleep 0.1; i=$((i + 1)); done
stake1=$(stake)
[ "$stake1" -lt "$stake0" ] && [ $((stake0 - stake1)) = $((stake0 / 10)) ] &&
    ok "SLASH_FAILED applied: the cheat's OCTO stake fell 10 % ($stake0 -> $stake1)" || bad "stake $stake0 -> $stake1"
[ "$(metric 'octo_settle_transactions_total{kind="slash_failed"}')" = 1 ] && [ "$(metric 'octo_verifier_reexec_total{result="refuted"}')" = 1 ] &&
    ok "metrics: one refuted, one SLASH_FAILED sent" || bad "metrics: $(curl -s "$GW/metrics" | grep -E 'reexec|slash')"

s0=$(spent)
code=$(chat "{\"verify\":\"reexec\",\"order\":[\"$H1\"],\"ignore\":[\"$H2\"]}")
s1=$(spent)
[ "$code" = 502 ] && grep -q '"code":"verification_inconclusive"' "$T/b" && [ "$s1" = "$s0" ] &&
    [ "$(stake)" = "$stake1" ] && ok "an answer whose only re-run is the cheat's is inconclusive: nobody slashed" ||
    bad "inconclusive: $code $(cat "$T/b")"

code=$(curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $KEY" "$GW/api/v1/sealed" \
    -d '{"model":"tiny","privacy":"private","hello":"AAAA","provider":{"verify":"reexec"}}')
[ "$code" = 400 ] && ok "a sealed task cannot ask for reexec" || bad "sealed reexec: $code $(cat "$T/b")"

# The cheat's weights change on disk under its running node: its runs now commit to weights it
# did not advertise, the gateway refuses them and the task fails over to another provider.
"$OCTO" model gen-test --out "$T/other.gguf" --seed 9 >/dev/null && cp "$T/other.gguf" "$T/cheat/tiny.gguf"
bad0=$(metric octo_gateway_commitments_bad_total)
code=$(chat "{\"order\":[\"$C3\"]}")
bad1=$(metric octo_gateway_commitments_bad_total)
[ "$code" = 200 ] && ! grep -qi "^x-octo-route: provider=$C3" "$T/h" && grep -qi "^x-octo-route: .*attempts=2" "$T/h" &&
    [ "$bad1" = $((bad0 + 1)) ] && ok "a commitment to weights the advert does not name is refused; the task fails over" ||
    bad "commitment refused: $code bad $bad0 -> $bad1 $(cat "$T/h" "$T/b")"

# from the shell client: the cheat's runs are refused for their commitment now, so an honest
# provider answers; whoever re-runs it, the honest majority verifies it
run env OCTO_GATEWAY="$GW" OCTO_API_KEY="$KEY" "$OCTO" run --verify reexec --max-tokens 6 "hello"
expect_rc "octo run --verify reexec" 0
cli_finish
