#!/bin/sh
# test_chain.sh OCTO — a real 4-validator network on loopback: `octo testnet` writes it, four
# `octo node` processes run it, the clients (`octo tx`, `octo account`, `octo block`) use it.
# Checks: blocks are finalized; a transfer is included and moves the balance; bad
# transactions are refused with their reason (used nonce, overspend, bad fee) and nothing
# moves; the four nodes agree on block ids; a validator down across a validator set change and
# a node started after it follow past it; with one validator killed (kill -9) the other
# three go on, and the restarted one catches up to the same chain; all four killed at once
# and restarted resume from their stores without going back or forking.
# Prints one line per check and "N passed, N failed".
set -u
OCTO=$1
. "$(dirname "$0")/lib.sh"
cli_tmp chain
cli_clean_env
PY=/usr/bin/python3
SEED=5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed
PORT=$((17100 + $$ % 2000 * 4))
N=4
D="$T/net"
PIDS=""

cli_kill_on_exit

start() { # start I: runs validator I in the background; its pid in PID_I
    : >"$T/v$1.out"
    "$OCTO" node --home "$D/v$1" --log-level info >>"$T/v$1.out" 2>>"$T/v$1.err" &
    eval "PID_$1=$!"
    PIDS="$PIDS $!"
    wait_for "$T/v$1.out" "Node is ready" 20
}

start_new() { # start_new: the validator that joined after genesis (account a2), pid in PID_NEW
    : >"$T/new.out"
    "$OCTO" node --home "$D/accounts/a2" --role validator --log-level info \
        >>"$T/new.out" 2>>"$T/new.err" &
    PID_NEW=$!
    PIDS="$PIDS $!"
    wait_for "$T/new.out" "Node is ready" 20
}

node_of() { echo "/ip4/127.0.0.1/tcp/$((PORT + $1))"; }

height() { # height I: the newest finalized height node I reports (0 if none)
    height_at $((PORT + $1))
}

height_at() { # height_at PORT
    "$OCTO" status --node "/ip4/127.0.0.1/tcp/$1" --json 2>/dev/null |
        $PY -c 'import json,sys; print(json.load(sys.stdin).get("height","0"))' 2>/dev/null || echo 0
}

wait_height() { # wait_height I H SECONDS
    i=0
    while [ $i -lt $(($3 * 5)) ]; do
        [ "$(height "$1")" -ge "$2" ] 2>/dev/null && return 0
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

block_id() { # block_id I H
    "$OCTO" block "$2" --node "$(node_of "$1")" --json 2>/dev/null |
        $PY -c 'import json,sys; print(json.load(sys.stdin).get("id",""))' 2>/dev/null
}

balance() { # balance I ADDR: OCTO base units
    "$OCTO" account "$2" --node "$(node_of "$1")" --json 2>/dev/null |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["balance"]["OCTO"])' 2>/dev/null
}

run "$OCTO" testnet --validators $N --accounts 3 --out "$D" --seed "$SEED" \
    --base-port "$PORT" --epoch-blocks 20 --json
expect_rc "testnet writes the network" 0
A0=$(echo "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin)["accounts"][0]["address"])')
A1=$(echo "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin)["accounts"][1]["address"])')
A2=$(echo "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin)["accounts"][2]["address"])')

ok_start=0
for i in 0 1 2 3; do start $i && ok_start=$((ok_start + 1)); done
[ $ok_start -eq $N ] && ok "four validators ready" || bad "validators ready: $ok_start of $N"

wait_height 0 3 30 && ok "blocks are finalized" || bad "no height 3 after 30 s: $(tail -3 "$T/v0.err")"

# a transfer through node 1, read back through node 2
before=$(balance 2 "$A1")
run "$OCTO" tx transfer "$A1" 12.5 --home "$D/accounts/a0" --node "$(node_of 1)" --wait --timeout 30
expect_rc "transfer included" 0
case "$out" in *"included at height"*": ok"*) ok "transfer result ok" ;; *) bad "transfer: $out" ;; esac
after=$(balance 2 "$A1")
[ "$((after - before))" -eq 12500000 ] && ok "balance moved by 12.5 OCTO" ||
    bad "balance $before -> $after"
# its inclusion proof, from another node's blockstore, checked by the client
run "$OCTO" tx transfer "$A1" 1 --home "$D/accounts/a0" --node "$(node_of 1)" --wait --json
TXID=$(echo "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null)
run "$OCTO" tx proof "$TXID" --home "$D/accounts/a0" --node "$(node_of 3)"
expect_rc "tx proof" 0
case "$out" in *"checked against transaction root"*) ok "inclusion proof checked" ;; *) bad "proof: $out" ;; esac
run "$OCTO" tx proof "$(echo "$TXID" | tr 0-9a-f 1-9a-f0)" --home "$D/accounts/a0" --node "$(node_of 3)"
expect_rc "proof of an unknown transaction" 1
after=$(balance 2 "$A1")

# refusals, with the reason, and nothing moves
run "$OCTO" tx transfer "$A1" 1 --home "$D/accounts/a0" --node "$(node_of 0)" --nonce 0
expect_rc "used nonce refused" 1
case "$err" in *"nonce already used (nonce-used)"*) ok "used nonce reason" ;; *) bad "used nonce: $err" ;; esac
run "$OCTO" tx transfer "$A1" 99999999 --home "$D/accounts/a0" --node "$(node_of 0)"
expect_rc "overspend refused" 1
case "$err" in *"insufficient balance"*) ok "overspend reason" ;; *) bad "overspend: $err" ;; esac
run "$OCTO" tx transfer "$A1" 1 --home "$D/accounts/a0" --node "$(node_of 0)" --fee 0.000001
expect_rc "low fee refused" 1
case "$err" in *"fee-too-low"*) ok "low fee reason" ;; *) bad "low fee: $err" ;; esac
run "$OCTO" tx transfer "$A1" 1 --home "$D/accounts/a0" --node "$(node_of 0)" --token OCTO-X
expect_rc "unknown token is a usage error" 2
[ "$(balance 0 "$A1")" = "$after" ] && ok "refusals moved nothing" || bad "balance changed"

# stake: an account registers as an orchestrator
run "$OCTO" tx register orchestrator --home "$D/accounts/a1" --node "$(node_of 3)" --wait --timeout 30
expect_rc "register included" 0
run "$OCTO" account --home "$D/accounts/a1" --node "$(node_of 0)" --json
expect_rc "account of the home" 0
echo "$out" | $PY -c 'import json,sys; a=json.load(sys.stdin); assert a["role"]=="orchestrator" and a["staked"]["OCTO"]=="5000000000"' \
    && ok "registered with the design's stake" || bad "account after register: $out"

# a validator stakes more: at the next epoch boundary (every 20 blocks) the set changes its
# weights, every core is rebuilt on it, and the chain goes on. v3 is down meanwhile: its core
# knows only the old set, so it needs the proof of the block that ended it.
kill -9 "$PID_3"
run "$OCTO" tx stake 2500 --home "$D/v2" --node "$(node_of 2)" --wait --timeout 30
expect_rc "validator stake included" 0
h=$(height 0)
wait_height 0 $(( (h / 20 + 2) * 20 + 2 )) 60 && ok "finalizing across an epoch change" ||
    bad "stuck at $(height 0) before epoch $(( h / 20 + 2 ))"
start 3 && ok "v3 restarts after the set changed" || bad "v3 restart: $(tail -3 "$T/v3.err")"
h=$(height 0)
wait_height 3 "$h" 30 && ok "v3 follows across the set change it missed" ||
    bad "v3 at $(height 3), others at $h ($(tail -2 "$T/v3.err"))"
[ "$(block_id 3 "$h")" = "$(block_id 0 "$h")" ] && ok "v3 has the same chain" || bad "v3 forked at $h"
for i in 0 1 2; do "$OCTO" status --node "$(node_of $i)" --json >"$T/st$i" 2>/dev/null; done
$PY -c '
import json,sys
s=[json.load(open(f))["stats"] for f in sys.argv[1:]]
assert all(int(x["proofs_stored"])>=1 for x in s)
assert sum(int(x["proofs_sent"]) for x in s)>=1' "$T/st0" "$T/st1" "$T/st2" &&
    ok "the validators stored the set's end proof, and one sent it" ||
    bad "stats: $(cat "$T/st0" "$T/st1" "$T/st2")"
# a node that never ran, started after the change: it follows from genesis through it
: >"$T/fol.out"
"$OCTO" node --home "$D/accounts/a2" --role validator --log-level info \
    >>"$T/fol.out" 2>>"$T/fol.err" &
PID_FOL=$!
PIDS="$PIDS $!"
wait_for "$T/fol.out" "Node is ready" 20 || bad "follower: $(tail -3 "$T/fol.err")"
FOLPORT=$(grep -o "tcp/[0-9]*" "$T/fol.out" | head -1 | cut -d/ -f2)
h=$(height 0)
i=0
while [ $i -lt 150 ] && [ "$(height_at "$FOLPORT")" -lt "$h" ]; do sleep 0.2; i=$((i + 1)); done
[ "$(height_at "$FOLPORT")" -ge "$h" ] && ok "a new node follows from genesis past the set change" ||
    bad "new follower at $(height_at "$FOLPORT"), chain at $h ($(tail -2 "$T/fol.err"))"
kill -TERM "$PID_FOL"
"$OCTO" account --home "$D/v2" --node "$(node_of 1)" --json >"$T/acct" 2>/dev/null
$PY -c 'import json,sys; a=json.load(open(sys.argv[1])); assert a["staked"]["OCTO"]=="12500000000"' "$T/acct" &&
    ok "the stake is bonded" || bad "v2 stake: $(cat "$T/acct")"
grep -q "validators (voting)" "$T/v2.err" && [ "$(grep -c "validators (voting)" "$T/v2.err")" -ge 2 ] &&
    ok "v2 rebuilt its core on the new set" || bad "no reconfiguration in v2's log"

# agreement
h=$(height 0)
ids=""
for i in 0 1 2 3; do wait_height $i "$h" 20; ids="$ids $(block_id $i "$h")"; done
[ "$(echo $ids | tr ' ' '\n' | sort -u | wc -l)" -eq 1 ] && [ -n "$(echo $ids | cut -d' ' -f1)" ] &&
    ok "four nodes agree on block $h" || bad "block $h ids differ: $ids"

# one validator killed: three of four keep finalizing; it restarts and catches up
kill -9 "$PID_3"
h=$(height 0)
wait_height 0 $((h + 3)) 30 && ok "three validators go on" || bad "stalled at $h without v3"
start 3 && ok "killed validator restarts" || bad "v3 restart: $(tail -3 "$T/v3.err")"
h=$(height 0)
wait_height 3 "$h" 30 && ok "restarted validator catches up" || bad "v3 at $(height 3), others $h"
[ "$(block_id 3 "$h")" = "$(block_id 0 "$h")" ] && ok "its chain is the same" || bad "v3 forked at $h"

# all four killed at once, restarted from their stores
h0=$(height 0)
for i in 0 1 2 3; do eval "kill -9 \$PID_$i"; done
sleep 0.3
ok_start=0
for i in 0 1 2 3; do start $i && ok_start=$((ok_start + 1)); done
[ $ok_start -eq $N ] && ok "all restart after kill -9" || bad "restarted: $ok_start of $N"
[ "$(height 1)" -ge "$h0" ] && ok "no height went back" || bad "height $(height 1) < $h0"
wait_height 1 $((h0 + 3)) 30 && ok "finalizing again after the restart" || bad "stuck at $(height 1)"
h=$(height 2)
ids=""
for i in 0 1 2 3; do wait_height $i "$h" 20; ids="$ids $(block_id $i "$h")"; done
[ "$(echo $ids | tr ' ' '\n' | sort -u | wc -l)" -eq 1 ] && ok "still one chain after the restart" ||
    bad "block $h ids differ: $ids"
run "$OCTO" tx transfer "$A1" 1 --home "$D/accounts/a0" --node "$(node_of 2)" --wait --timeout 30
expect_rc "transactions still land after the restart" 0

for i in 0 1 2 3; do eval "kill -TERM \$PID_$i"; done
sleep 0.5

# a fresh network (no set change yet): a validator joins after genesis
D="$T/join"
PORT=$((PORT + 8))
run "$OCTO" testnet --validators $N --accounts 3 --out "$D" --seed "$SEED" --base-port "$PORT" \
    --delta-ms 100 --epoch-blocks 20 --json
expect_rc "join testnet" 0
A2J=$(echo "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin)["accounts"][2]["address"])')
ok_start=0
for i in 0 1 2 3; do start $i && ok_start=$((ok_start + 1)); done
[ $ok_start -eq $N ] && ok "join network ready" || bad "join network: $ok_start of $N"
# a validator joins after genesis, with more stake than the four others together: from the
# next epoch no block is final without its vote. Its node starts first and follows the chain
# (the validators send to whoever opens a chain stream to them); once it has caught up it
# registers and stakes; nobody has its address but identify told them where it listens.
start_new && ok "new node starts and follows" || bad "new node: $(tail -3 "$T/new.err")"
NEWPORT=$(grep -o "tcp/[0-9]*" "$T/new.out" | head -1 | cut -d/ -f2)
h=$(height 0)
i=0
while [ $i -lt 100 ] && [ "$(height_at "$NEWPORT")" -lt "$h" ]; do sleep 0.2; i=$((i + 1)); done
[ "$(height_at "$NEWPORT")" -ge "$h" ] && ok "the follower caught up" ||
    bad "follower at $(height_at "$NEWPORT"), chain at $h"
run "$OCTO" tx register validator --home "$D/accounts/a2" --node "$(node_of 0)" --wait --timeout 30
expect_rc "new validator registers" 0
run "$OCTO" tx stake 40000 --home "$D/accounts/a2" --node "$(node_of 1)" --wait --timeout 30
expect_rc "new validator stakes 40,000 OCTO" 0
h=$(height 0)
wait_height 0 $(( (h / 20 + 2) * 20 + 3 )) 90 && ok "finalizing with the new validator's vote" ||
    bad "stuck at $(height 0) with the new validator ($(tail -2 "$T/new.err"))"
"$OCTO" status --node "$(node_of 0)" --json >"$T/st" 2>/dev/null
$PY -c 'import json,sys; a=json.load(open(sys.argv[1])); assert sys.argv[2] in [v["address"] for v in a["validators"]]' "$T/st" "$A2J" &&
    ok "the set includes it" || bad "set: $(cat "$T/st")"
for i in 0 1 2 3; do eval "kill -TERM \$PID_$i"; done
kill -TERM "$PID_NEW"
sleep 0.5

# a validator far behind (more blocks than the core's block table holds) catches up: a fast
# network (delta 20 ms, about a hundred empty blocks a second), one validator down while
# about 1,100 blocks are finalized
D="$T/fast"
PORT=$((PORT + 8))
run "$OCTO" testnet --validators $N --out "$D" --seed "$SEED" --base-port "$PORT" --delta-ms 20
expect_rc "fast testnet" 0
ok_start=0
for i in 0 1 2 3; do start $i && ok_start=$((ok_start + 1)); done
[ $ok_start -eq $N ] && ok "fast network ready" || bad "fast network: $ok_start of $N"
wait_height 3 20 20 || bad "fast network not finalizing"
kill -9 "$PID_3"
h3=$(height 0)
wait_height 0 $((h3 + 1100)) 100 && ok "1,100 blocks finalized without v3" || bad "fast network at $(height 0)"
start 3 && ok "v3 restarts far behind" || bad "v3 restart"
h=$(height 0)
wait_height 3 "$h" 60 && ok "v3 caught up $((h - h3)) blocks" || bad "v3 at $(height 3), others at $h"
[ "$(block_id 3 "$h")" = "$(block_id 0 "$h")" ] && ok "v3's chain is the network's" ||
    bad "v3 forked at $h"
for i in 0 1 2 3; do eval "kill -TERM \$PID_$i"; done
if [ "$fail" -gt 0 ]; then # what the nodes said about it
    grep -h -A12 "ERROR: AddressSanitizer\|runtime error\|assertion failed\|stopping" "$T"/*.err | head -60
fi
cli_finish
