#!/bin/sh
# test_gateway.sh OCTO — the task path through real processes: an orchestrator (gateway on its
# HTTP API) and two providers running a 15M-parameter test model in their sandboxes. Checks: the
# role flags' usage errors; adverts reach the registry (/v1/models, /api/v1/providers); a chat
# runs and is charged once to its key (prompt + completion tokens at 1 base unit each); the
# routing policy steers ("only", region with the geo strategy) and one that excludes everyone is
# a 503 naming why; an unknown model is 404; a provider killed with kill -9 in the middle of a
# streamed answer: the task completes on the other provider, the client's text equals a clean
# run's, the [DONE] comes, the key is charged once; a client that goes away mid-stream leaves
# nothing in flight; the orchestrator killed with kill -9 mid-task and restarted: the accepted
# task completes, its answer is kept (GET /api/v1/tasks/ID), it is charged once; `promtool check
# metrics` passes on both nodes' /metrics. Agents: register, run as one, per-key isolation,
# unique names, manifest errors, delete.
# Prints one line per check and "N passed, N failed".
set -u
OCTO=$1
. "$(dirname "$0")/lib.sh"
cli_tmp gateway
cli_clean_env
PY=/usr/bin/python3
cli_ports 16
GW="http://127.0.0.1:$PORT"
cli_kill_on_exit

for h in o p0 p1; do "$OCTO" init --home "$T/$h" >/dev/null || bad "init $h"; done
"$OCTO" model gen-test --out "$T/m15.gguf" --shape 15m >/dev/null || bad "gen-test"

# Usage errors: nothing starts.
run "$OCTO" node --home "$T/o" --role orchestrator
expect_rc "an orchestrator without --http" 2
run "$OCTO" node --home "$T/p0" --role provider --model "$T/m15.gguf"
expect_rc "a provider without --bootstrap" 2
run "$OCTO" node --home "$T/p0" --role validator,miner
expect_rc "an unknown role" 2
run "$OCTO" node --home "$T/p0" --role provider --model "$T/m15.gguf" --region DE/EU \
    --bootstrap /ip4/127.0.0.1/tcp/1
expect_rc "--bootstrap without /p2p" 2
run "$OCTO" node --home "$T/o" --role orchestrator --http 127.0.0.1:1 --model "$T/m15.gguf"
expect_rc "--model without the provider role" 2

"$OCTO" node --home "$T/o" --role orchestrator,observer --listen "/ip4/127.0.0.1/tcp/$((PORT + 1))" \
    --http "127.0.0.1:$PORT" >"$T/o.out" 2>"$T/o.err" &
PIDS="$PIDS $!"
wait_for "$T/o.out" "Node is ready" 30 || bad "orchestrator: $(cat "$T/o.err")"
OID=$(sed -n 's/^peer id: //p' "$T/o.out")
BOOT="/ip4/127.0.0.1/tcp/$((PORT + 1))/p2p/$OID"
start_provider() { # NAME REGION HTTPPORT
    "$OCTO" node --home "$T/$1" --role provider --listen /ip4/127.0.0.1/tcp/0 --model "$T/m15.gguf" \
        --region "$2" --bootstrap "$BOOT" --http "127.0.0.1:$3" >"$T/$1.out" 2>"$T/$1.err" &
    echo $!
}
P0=$(start_provider p0 DE/EU $((PORT + 2)))
P1=$(start_provider p1 US/NA $((PORT + 3)))
PIDS="$PIDS $P0 $P1"
wait_for "$T/p0.out" "Node is ready" 30 && wait_for "$T/p1.out" "Node is ready" 30 ||
    bad "providers: $(cat "$T/p0.err" "$T/p1.err")"
ID0=$(sed -n 's/^peer id: //p' "$T/p0.out")
ID1=$(sed -n 's/^peer id: //p' "$T/p1.out")
i=0
while [ $i -lt 100 ] && [ "$(curl -s "$GW/metrics" | sed -n 's/^octo_router_providers //p')" != 2 ]; do
    sleep 0.1
    i=$((i + 1))
done

ACC=$(printf '%064d' 7)
KEY=$("$OCTO" apikey create --home "$T/o" --account "$ACC" --budget 10 --rate 1000 | grep -o 'octo-[0-9a-f-]*' | head -1)
curl -s -H "Authorization: Bearer $KEY" "$GW/v1/models" | grep -q '"id":"m15"' &&
    ok "both adverts registered; /v1/models lists m15" || bad "models: $(curl -s "$GW/v1/models")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$GW/v1/models")
[ "$code" = 401 ] && ok "/v1/models needs a key" || bad "models without a key: $code"
spent() { curl -s -H "Authorization: Bearer $KEY" "$GW/api/v1/status" | $PY -c 'import json,sys; print(json.load(sys.stdin)["key"]["spent"])'; }
curl -s -H "Authorization: Bearer $KEY" "$GW/api/v1/providers" | $PY -c "
import json,sys
p={x['id']:x for x in json.load(sys.stdin)['providers']}
assert set(p)=={'$ID0','$ID1'}, p
assert all(x['models'][0]['name']=='m15' and x['models'][0]['quantization']=='f32' for x in p.values())
" && ok "/api/v1/providers lists both with their model" || bad "providers list"

chat() { # BODY -> headers in $T/h, body in $T/b, status printed
    curl -s -D "$T/h" -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $KEY" "$GW/v1/chat/completions" -d "$1"
}
REQ='"model":"m15","messages":[{"role":"user","content":"tell me a story"}],"temperature":0'
code=$(chat "{$REQ,\"max_tokens\":8}")
s1=$(spent)
toks=$($PY -c 'import json,sys; u=json.load(open(sys.argv[1]))["usage"]; print(u["prompt_tokens"]+u["completion_tokens"])' "$T/b")
[ "$code" = 200 ] && [ "$s1" = "$toks" ] && ok "a chat is answered and charged its $toks tokens once" ||
    bad "chat: $code spent $s1 tokens $toks: $(cat "$T/b")"
grep -qi '^x-octo-gateway-overhead-us: [0-9]' "$T/h" && grep -qi '^x-octo-task: [0-9a-f]\{32\}' "$T/h" &&
    ok "x-octo-task and the gateway's overhead header" || bad "headers: $(cat "$T/h")"

code=$(chat "{$REQ,\"max_tokens\":4,\"provider\":{\"only\":[\"$ID1\"]}}")
[ "$code" = 200 ] && grep -qi "^x-octo-route: provider=$ID1" "$T/h" && ok "provider.only routes to that provider" ||
    bad "only: $code $(cat "$T/h")"
code=$(chat "{$REQ,\"max_tokens\":4,\"provider\":{\"strategy\":\"geo\",\"region\":{\"continent\":\"EU\"}}}")
[ "$code" = 200 ] && grep -qi "^x-octo-route: provider=$ID0.*strategy=geo" "$T/h" && ok "geo strategy picks the EU provider" ||
    bad "geo: $code $(cat "$T/h")"
code=$(chat "{$REQ,\"max_tokens\":4,\"provider\":{\"region\":{\"country\":\"FR\"}}}")
[ "$code" = 503 ] && grep -q '"code":"no_provider"' "$T/b" && grep -q 'removed_region' "$T/b" &&
    ok "a policy nobody meets is 503 with the router's explanation" || bad "no candidate: $code $(cat "$T/b")"
code=$(chat '{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}')
[ "$code" = 404 ] && grep -q '"code":"model_not_found"' "$T/b" && ok "an unknown model is 404" || bad "404: $code"
code=$(chat "{$REQ,\"max_tokens\":4,\"provider\":{\"sort\":\"fastest\"}}")
[ "$code" = 400 ] && grep -q '"param":"provider"' "$T/b" && ok "a bad policy is 400 naming provider" || bad "policy: $code $(cat "$T/b")"

# A body that starts with whitespace is forwarded in its canonical form; a 300 KiB prompt
# reaches the provider (the ASSIGN frame goes out in pieces) and is refused there for its
# length: a request error (400), not a provider failure.
code=$(chat "   {$REQ,\"max_tokens\":4}")
[ "$code" = 200 ] && ok "a body with leading whitespace" || bad "leading whitespace: $code $(cat "$T/b")"
$PY -c 'import json; print(json.dumps({"model":"m15","messages":[{"role":"user","content":"word "*60000}],"max_tokens":4}))' >"$T/big.json"
code=$(curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $KEY" "$GW/v1/chat/completions" --data-binary @"$T/big.json")
[ "$code" = 400 ] && grep -q 'context' "$T/b" && ok "a 300 KiB prompt reaches the provider and is refused for its length (400)" ||
    bad "big prompt: $code $(head -c 300 "$T/b")"
curl -s "$GW/metrics" | grep -q '^octo_router_attempts_total{result="failed"} [1-9]' &&
    bad "the big prompt counted against a provider" || ok "and no provider is blamed for it"

# A request that says its data is PRIVATE is refused before anything is kept: the gateway
# must never hold such data in plaintext (it reaches a provider sealed by the client or not at
# all), so the canary is in neither the orchestrator's database nor its logs.
CANARY="canary-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
code=$(chat "{\"model\":\"m15\",\"messages\":[{\"role\":\"user\",\"content\":\"$CANARY\"}],\"provider\":{\"privacy\":\"private\"}}")
[ "$code" = 400 ] && grep -q '"param":"provider"' "$T/b" && ok "a PRIVATE request is refused (400)" || bad "private: $code $(cat "$T/b")"
if grep -rqa "$CANARY" "$T/o" "$T/o.out" "$T/o.err"; then bad "the canary is in the orchestrator's files"; else ok "the canary is in no orchestrator file (database, WAL, logs)"; fi

# Agents: registered per key and signed by the orchestrator; a chat to "agent:NAME" runs as
# the agent (its model, its instructions as the system message, its max_tokens); another key
# neither sees nor uses it; names are unique per key; a manifest with an unknown key is 400;
# deleted, it is gone.
agent_api() { # METHOD PATH [BODY] [KEY] -> body in $T/a, status printed
    curl -s -o "$T/a" -w '%{http_code}' -X "$1" -H "Authorization: Bearer ${4:-$KEY}" "$GW$2" ${3:+-d "$3"}
}
KEY2=$("$OCTO" apikey create --home "$T/o" --account "$ACC" --budget 10 --rate 1000 | grep -o 'octo-[0-9a-f-]*' | head -1)
POET='{"name":"poet","model":"m15","instructions":"You write short poems about the sea, in the voice of an old sailor.","max_tokens":5}'
code=$(agent_api POST /api/v1/agents "$POET")
[ "$code" = 201 ] && $PY -c 'import json,sys; a=json.load(open(sys.argv[1])); assert a["verified"] and a["name"]=="poet" and len(a["id"])==36 and a["manifest"]["max_tokens"]==5' "$T/a" &&
    ok "an agent is registered: a UUID, the canonical manifest, the orchestrator's signature" || bad "agent create: $code $(cat "$T/a")"
code=$(chat "{$REQ,\"max_tokens\":5}")
plain=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["usage"]["prompt_tokens"])' "$T/b")
code=$(chat '{"model":"agent:poet","messages":[{"role":"user","content":"tell me a story"}],"temperature":0}')
$PY - "$T/b" "$plain" <<'EOF' && [ "$code" = 200 ] && ok "a chat to agent:poet runs with its instructions and max_tokens" || bad "agent chat: $code $(cat "$T/b")"
import json, sys
a = json.load(open(sys.argv[1]))
u = a["usage"]
assert a["model"] == "m15" and u["completion_tokens"] <= 5 and u["prompt_tokens"] > int(sys.argv[2]) + 10, (a, sys.argv[2])
EOF
run env OCTO_GATEWAY="$GW" OCTO_API_KEY="$KEY" "$OCTO" agents
case "$out" in *poet*m15*signed*) ok "octo agents lists it" ;; *) bad "octo agents: $out $err" ;; esac
run env OCTO_GATEWAY="$GW" OCTO_API_KEY="$KEY" "$OCTO" run --agent poet "a gull"
expect_rc "octo run --agent poet" 0
code=$(agent_api GET /api/v1/agents/poet "" "$KEY2")
code2=$(curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $KEY2" "$GW/v1/chat/completions" -d '{"model":"agent:poet","messages":[{"role":"user","content":"x"}]}')
[ "$code" = 404 ] && [ "$code2" = 404 ] && grep -q '"code":"model_not_found"' "$T/b" && ok "another key neither sees nor uses it (404)" || bad "other key: $code $code2"
code=$(agent_api POST /api/v1/agents "$POET")
[ "$code" = 409 ] && grep -q agent_exists "$T/a" && ok "a second poet for the same key is 409" || bad "duplicate: $code $(cat "$T/a")"
code=$(agent_api POST /api/v1/agents "$POET" "$KEY2")
[ "$code" = 201 ] && ok "another key may have its own poet" || bad "other key's poet: $code $(cat "$T/a")"
code=$(agent_api POST /api/v1/agents '{"name":"bad","model":"m15","tools":[]}')
[ "$code" = 400 ] && grep -q 'unknown key: tools' "$T/a" && ok "a manifest with an unknown key is 400 naming it" || bad "bad manifest: $code $(cat "$T/a")"
code=$(agent_api DELETE /api/v1/agents/poet)
code2=$(chat '{"model":"agent:poet","messages":[{"role":"user","content":"x"}]}')
[ "$code" = 200 ] && [ "$code2" = 404 ] && ok "deleted, the agent is gone" || bad "delete: $code $code2"

# The most a request can cost is held against what its key has left: a request the key could
# not pay for is refused before anything runs (429), and nothing is spent.
KEY3=$("$OCTO" apikey create --home "$T/o" --account "$ACC" --budget 0.0005 --rate 1000 | grep -o 'octo-[0-9a-f-]*' | head -1)
code=$(curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $KEY3" "$GW/v1/chat/completions" -d "{$REQ,\"max_tokens\":600}")
sp3=$(curl -s -H "Authorization: Bearer $KEY3" "$GW/api/v1/status" | $PY -c 'import json,sys; print(json.load(sys.stdin)["key"]["spent"])')
[ "$code" = 429 ] && grep -q '"code":"insufficient_quota"' "$T/b" && grep -q 'the most this request can cost' "$T/b" && [ "$sp3" = 0 ] &&
    ok "a request whose worst case is more than its key has left is 429, nothing spent" || bad "hold: $code $(cat "$T/b") spent $sp3"
code=$(curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $KEY3" "$GW/v1/chat/completions" -d "{$REQ,\"max_tokens\":4}")
[ "$code" = 200 ] && ok "a short one fits" || bad "short under hold: $code $(cat "$T/b")"

# A clean run's text, for comparison with the failover run.
code=$(chat "{$REQ,\"max_tokens\":120,\"provider\":{\"only\":[\"$ID1\"]}}")
$PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["choices"][0]["message"]["content"], end="")' "$T/b" >"$T/clean"
[ "$code" = 200 ] && ok "a 120-token reference run" || bad "reference: $code"

# Failover: stream from p0 (order puts it first), kill -9 it after the first tokens.
s_before=$(spent)
curl -s -N -H "Authorization: Bearer $KEY" "$GW/v1/chat/completions" \
    -d "{$REQ,\"max_tokens\":120,\"stream\":true,\"stream_options\":{\"include_usage\":true},\"provider\":{\"order\":[\"$ID0\",\"$ID1\"]}}" \
    >"$T/sse" 2>&1 &
CURL=$!
i=0
while [ $i -lt 600 ] && [ "$(grep -c '"content"' "$T/sse" 2>/dev/null)" -lt 3 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$P0"
wait "$CURL"
$PY - "$T/sse" "$T/clean" <<'EOF' && ok "kill -9 of the provider mid-stream: the answer completes on the other, same text, [DONE]" || bad "failover stream: $(tail -c 600 "$T/sse")"
import json, sys
events = [l[6:] for l in open(sys.argv[1]).read().split("\n") if l.startswith("data: ")]
assert events[-1] == "[DONE]", events[-3:]
chunks = [json.loads(e) for e in events[:-1]]
assert all("error" not in c for c in chunks), chunks
text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
assert text == open(sys.argv[2]).read(), (text, open(sys.argv[2]).read())
assert chunks[-1]["usage"]["completion_tokens"] > 0
EOF
s_after=$(spent)
ftoks=$($PY -c '
import json,sys
ev=[l[6:] for l in open(sys.argv[1]).read().split("\n") if l.startswith("data: {")]
u=json.loads(ev[-1])["usage"]; print(u["prompt_tokens"]+u["completion_tokens"])' "$T/sse")
[ "$((s_after - s_before))" = "$ftoks" ] && ok "charged once for the failed-over task ($ftoks)" ||
    bad "charge: $s_before -> $s_after, usage $ftoks"
curl -s "$GW/metrics" | grep -q '^octo_router_attempts_total{result="failed"} [1-9]' &&
    ok "the failed attempt is counted" || bad "attempt metrics"

# A client that goes away mid-stream: nothing stays in flight.
curl -s -N --max-time 0.3 -H "Authorization: Bearer $KEY" "$GW/v1/chat/completions" \
    -d "{$REQ,\"max_tokens\":120,\"stream\":true}" >/dev/null 2>&1
i=0
while [ $i -lt 100 ] && [ "$(curl -s "$GW/metrics" | sed -n 's/^octo_gateway_tasks_in_flight //p')" != 0 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ "$(curl -s "$GW/metrics" | sed -n 's/^octo_gateway_tasks_in_flight //p')" = 0 ] &&
    ok "a client gone mid-stream leaves nothing in flight" || bad "in flight: $(curl -s "$GW/metrics" | grep in_flight)"
code=$(chat "{$REQ,\"max_tokens\":4}")
[ "$code" = 200 ] && ok "the gateway still serves after that" || bad "after gone: $code"

# The orchestrator killed with kill -9 while a task runs, then restarted: the accepted task is
# not lost. It completes after the restart (its client is gone), its answer is kept under its
# id, its text starts with what the client had received, and the key pays for it once.
s_before=$(spent)
curl -s -N -D "$T/kh" -H "Authorization: Bearer $KEY" "$GW/v1/chat/completions" \
    -d "{$REQ,\"max_tokens\":120,\"stream\":true}" >"$T/ksse" 2>&1 &
CURL=$!
i=0
while [ $i -lt 600 ] && [ "$(grep -c '"content"' "$T/ksse" 2>/dev/null)" -lt 3 ]; do sleep 0.05; i=$((i + 1)); done
TASK=$(sed -n 's/^x-octo-task: \([0-9a-f]*\).*/\1/p' "$T/kh" | tr -d '\r')
[ -n "$TASK" ] || bad "the stream to kill the orchestrator under did not start: $(cat "$T/kh") $(head -c 400 "$T/ksse")"
OPID=$(echo $PIDS | cut -d' ' -f1)
kill -9 "$OPID"
wait "$CURL" 2>/dev/null
"$OCTO" node --home "$T/o" --role orchestrator,observer --listen "/ip4/127.0.0.1/tcp/$((PORT + 1))" \
    --http "127.0.0.1:$PORT" >"$T/o.out" 2>"$T/o.err" &
PIDS="$! $(echo $PIDS | cut -d' ' -f2-)"
wait_for "$T/o.out" "Node is ready" 30 || bad "restart: $(cat "$T/o.err")"
st=""
i=0
while [ $i -lt 300 ] && [ "$st" != succeeded ]; do
    sleep 0.1
    st=$(curl -s -H "Authorization: Bearer $KEY" "$GW/api/v1/tasks/$TASK" | $PY -c 'import json,sys; print(json.load(sys.stdin).get("state",""))' 2>/dev/null)
    i=$((i + 1))
done
curl -s -H "Authorization: Bearer $KEY" "$GW/api/v1/tasks/$TASK" >"$T/task"
grep -q "resumed after a restart" "$T/o.err" && [ "$st" = succeeded ] &&
    ok "a task accepted before kill -9 of the orchestrator completes after its restart" ||
    bad "recovered task $TASK: state '$st' $(cat "$T/task") $(tail -3 "$T/o.err")"
$PY - "$T/task" "$T/ksse" <<'EOF' && ok "its kept answer continues what the client had received" || bad "recovered answer: $(cat "$T/task")"
import json, sys
t = json.load(open(sys.argv[1]))
text = t["result"]["choices"][0]["message"]["content"]
got = "".join(json.loads(l[6:])["choices"][0]["delta"].get("content", "")
              for l in open(sys.argv[2], errors="replace").read().split("\n")
              if l.startswith("data: {") and json.loads(l[6:])["choices"])
assert len(got) > 0 and text.startswith(got), (got, text)
assert t["charged"] is True and t["attempts"] >= 2, t
EOF
s_after=$(spent)
paid=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["charged_amount"])' "$T/task")
utoks=$($PY -c 'import json,sys; u=json.load(open(sys.argv[1]))["result"]["usage"]; print(u["prompt_tokens"]+u["completion_tokens"])' "$T/task")
[ "$((s_after - s_before))" = "$utoks" ] && [ "$paid" = "$utoks" ] && ok "the recovered task is charged once ($utoks)" ||
    bad "recovered charge: spent $s_before -> $s_after, record $paid, usage $utoks"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$GW/api/v1/tasks/00000000000000000000000000000000")
[ "$code" = 404 ] && ok "an unknown task id is 404" || bad "unknown task: $code"

if command -v promtool >/dev/null; then
    curl -s "$GW/metrics" | promtool check metrics >"$T/pt" 2>&1 &&
        curl -s "http://127.0.0.1:$((PORT + 3))/metrics" | promtool check metrics >>"$T/pt" 2>&1 &&
        ok "promtool check metrics: orchestrator and provider" || bad "promtool: $(cat "$T/pt")"
else
    bad "promtool is missing (scripts/setup installs prometheus)"
fi
curl -s "http://127.0.0.1:$((PORT + 3))/metrics" | grep -q '^octo_sandbox_tasks_total{result="succeeded"} [1-9]' &&
    ok "the provider counts its sandboxed runs" || bad "provider metrics"

for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
for p in $PIDS; do wait "$p" 2>/dev/null; done
PIDS=""
grep -q "stopped" "$T/o.err" && ok "the orchestrator stops on SIGTERM" || bad "orchestrator stop: $(tail -3 "$T/o.err")"
cli_finish
