#!/bin/sh
# run_interop.sh MODE OCTO NETPEER JSDIR — one interop scenario over loopback:
#   c_dials_js  js-libp2p listens; the C stack (netpeer) dials it: identify, ping, 100 x 1 MiB
#               echo streams, one 64 MiB echo checked by SHA-256; js must identify octo.
#   js_dials_c  `octo node` listens; js-libp2p dials it with the same tests; octo must
#               identify js; SIGTERM must stop the node cleanly (exit 0).
#   c_dials_c   `octo node` listens; netpeer dials it.
# Every process is bounded in time; the script prints "N passed, N failed" and fails if any
# check failed.
set -u
MODE=$1 OCTO=$2 NETPEER=$3 JSDIR=$4
base=${OCTO_TEST_TMP:-/tmp}
mkdir -p "$base"
T=$(mktemp -d "$base/interop-XXXXXX")
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }
js() { (cd "$JSDIR" && HARD_TIMEOUT_MS=${HARD_TIMEOUT_MS:-120000} node --import ./node20-polyfill.mjs peer.mjs "$@"); }

check_json() { # check_json NAME FILE PATTERN
    if grep -q "$3" "$2"; then ok "$1"; else bad "$1: $(head -c 400 "$2")"; fi
}

wait_for() { # wait_for FILE PATTERN SECONDS
    i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

if [ "$MODE" != c_dials_c ]; then
    if ! command -v node >/dev/null || [ ! -d "$JSDIR/node_modules/libp2p" ]; then
        echo "js-libp2p is not installed (run scripts/setup)"; echo "0 passed, 1 failed"; exit 1
    fi
fi

# client_tests ADDR RUNNER...: the common test list, run by netpeer or by js
client_tests() {
    addr=$1; shift
    "$@" "$addr" identify >"$T/identify.json" 2>"$T/identify.err"
    check_json "identify" "$T/identify.json" '"event":"identify"'
    "$@" "$addr" ping 50 >"$T/ping.json" 2>"$T/ping.err"
    check_json "ping" "$T/ping.json" '"event":"ping"'
    "$@" "$addr" echo 100 1048576 >"$T/echo.json" 2>"$T/echo.err"
    check_json "100 concurrent streams echo 1 MiB each" "$T/echo.json" '"ok":true'
    "$@" "$addr" big 67108864 >"$T/big.json" 2>"$T/big.err"
    check_json "64 MiB transfer, hash checked" "$T/big.json" '"ok":true'
    cat "$T"/*.json
}

start_octo_node() {
    "$OCTO" init --home "$T/home" --listen /ip4/127.0.0.1/tcp/0 >/dev/null || return 1
    "$OCTO" node --home "$T/home" --test-protocols >"$T/node.out" 2>"$T/node.err" &
    node_pid=$!
    pids="$pids $node_pid"
    wait_for "$T/node.out" "Node is ready" 10 || { cat "$T/node.err"; return 1; }
    addr=$(grep 'listening on' "$T/node.out" | head -1 | awk '{print $3}')
}

stop_octo_node() {
    kill -TERM "$node_pid"
    i=0
    while kill -0 "$node_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$node_pid" 2>/dev/null; then bad "node stops on SIGTERM"; kill -9 "$node_pid"
    else wait "$node_pid"; st=$?; [ $st -eq 0 ] && ok "node stops cleanly on SIGTERM" \
        || bad "node exit status $st"; fi
}

case "$MODE" in
c_dials_js)
    js listen >"$T/js.out" 2>"$T/js.err" &
    pids="$pids $!"
    wait_for "$T/js.out" '"event":"listening"' 20 || { bad "js listener did not start"; cat "$T/js.err"; }
    addr=$(sed -n 's/.*"addrs":\["\([^"]*\)".*/\1/p' "$T/js.out" | head -1)
    client_tests "$addr" "$NETPEER"
    check_json "js identified octo (agent, protocols)" "$T/js.out" '"agent":"octo/.*"/ipfs/ping/1.0.0"'
    OCTO_NO_INLINE_MUXER=1 "$NETPEER" "$addr" ping 5 >"$T/fallback.json" 2>&1
    check_json "muxer negotiated by multistream when not inlined" "$T/fallback.json" '"event":"ping"'
    ;;
js_dials_c)
    start_octo_node || { bad "octo node did not start"; }
    client_tests "$addr" js dial
    check_json "js saw octo's agent version" "$T/identify.json" '"agent":"octo/'
    check_json "js saw octo's listen addr" "$T/identify.json" '"addrs":\["/ip4/127.0.0.1/tcp/'
    check_json "octo identified js" "$T/node.err" 'identified peer .*js-libp2p/3'
    stop_octo_node
    ;;
c_dials_c)
    start_octo_node || { bad "octo node did not start"; }
    "$OCTO" id --home "$T/home" --json >"$T/id.json"
    check_json "octo id shows the running node's address" "$T/id.json" '"running":true'
    port=$(echo "$addr" | sed -n 's|^/ip4/127.0.0.1/tcp/\([0-9]*\)/.*|\1|p')
    if /usr/bin/python3 "$(dirname "$0")/badinput.py" 127.0.0.1 "$port" >"$T/bad.out" 2>&1; then
        ok "malformed input: each bad connection dropped"
    else
        bad "malformed input: $(cat "$T/bad.out")"
    fi
    check_json "bad connections logged with a reason" "$T/node.err" 'connection closed.*reason='
    client_tests "$addr" "$NETPEER"
    check_json "identify saw octo" "$T/identify.json" '"agent":"octo/'
    stop_octo_node
    ;;
*)
    echo "unknown mode $MODE"; exit 2 ;;
esac
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
