#!/bin/sh
# run.sh OCTO — octo's OpenAI-compatible gateway against the official `openai` npm client
# (tests/interop/openai, pinned by its package-lock.json and installed by scripts/setup). Starts
# `octo devnet` (1 validator, 1 orchestrator, 2 providers) on a random port under
# $OCTO_TEST_TMP, runs gateway.test.mjs with node --test against it, then stops the devnet
# with SIGTERM: it must exit 0 and say "devnet stopped". On a failure it shows the tail of the
# devnet's output and logs. Every wait is bounded; a trap stops the devnet on any exit.
# Exits with the tests' status (1 too when the devnet does not start or stop cleanly).
set -eu
if [ $# -ne 1 ]; then
    echo "usage: run.sh OCTO" >&2
    exit 2
fi
OCTO=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1 || [ ! -f "$HERE/node_modules/openai/package.json" ]; then
    echo "run.sh: the openai npm client is not installed in $HERE/node_modules (run scripts/setup)" >&2
    exit 1
fi

base=${OCTO_TEST_TMP:-/tmp}
mkdir -p "$base"
T=$(mktemp -d "$base/interop-openai-XXXXXX")
D=""
OUT=""
DPID=""
status=1

# stop_devnet SECONDS: SIGTERM, up to SECONDS for it to exit, then SIGKILL (the devnet takes
# its node processes along either way); its exit status in drc, 137 when it had to be killed.
stop_devnet() {
    kill -TERM "$DPID" 2>/dev/null || true
    i=0
    while kill -0 "$DPID" 2>/dev/null && [ $i -lt $(($1 * 10)) ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$DPID" 2>/dev/null; then
        echo "run.sh: the devnet did not stop within $1 s of SIGTERM; killing it" >&2
        kill -KILL "$DPID" 2>/dev/null || true
    fi
    drc=0
    wait "$DPID" || drc=$?
    DPID=""
}

show_logs() {
    if [ -n "$OUT" ] && [ -f "$OUT" ]; then
        echo "--- devnet output (tail) ---"
        tail -n 40 "$OUT"
    fi
    if [ -n "$D" ] && [ -d "$D/logs" ]; then
        for f in "$D"/logs/*.log; do
            [ -s "$f" ] || continue
            echo "--- $f (tail) ---"
            tail -n 30 "$f"
        done
    fi
}

# shellcheck disable=SC2317 # (run by the trap)
cleanup() {
    trap - EXIT INT TERM HUP
    [ -n "$DPID" ] && stop_devnet 10
    [ "$status" -eq 0 ] || show_logs
    rm -rf "$T"
    exit "$status"
}
trap cleanup EXIT
trap 'status=130; exit 130' INT TERM HUP

# start_devnet N: the devnet in $T/dnN on a random port P (libp2p on P+1, validators from
# P+10); 0 once it printed its API key, 2 when a port was taken (try again), 1 otherwise.
start_devnet() {
    r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    PORT=$((20000 + r % 300 * 32))
    D="$T/dn$1"
    OUT="$T/devnet$1.out"
    "$OCTO" devnet --dir "$D" --port "$PORT" --validators 1 --providers 2 >"$OUT" 2>&1 &
    DPID=$!
    i=0
    while [ $i -lt 1200 ]; do
        grep -q '^  API key   ' "$OUT" && return 0
        kill -0 "$DPID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$DPID" 2>/dev/null; then
        echo "run.sh: the devnet did not print its API key within 120 s" >&2
        return 1
    fi
    drc=0
    wait "$DPID" || drc=$?
    DPID=""
    if grep -qs 'cannot listen' "$D"/logs/*.log; then
        echo "run.sh: port $PORT (or one after it) is taken; trying another" >&2
        return 2
    fi
    echo "run.sh: the devnet exited (status $drc) before it was up" >&2
    return 1
}

n=0
while :; do
    n=$((n + 1))
    src=0
    start_devnet $n || src=$?
    [ $src -eq 0 ] && break
    if [ $src -ne 2 ] || [ $n -ge 3 ]; then
        show_logs
        exit 1
    fi
    show_logs
done

OCTO_OPENAI_BASE_URL=$(sed -n 's|^  gateway   \(http://[^ ]*\) .*|\1|p' "$OUT")
OCTO_OPENAI_API_KEY=$(sed -n 's/^  API key   //p' "$OUT")
OCTO_DEVNET_DIR=$D
OCTO_BIN=$OCTO
export OCTO_OPENAI_BASE_URL OCTO_OPENAI_API_KEY OCTO_DEVNET_DIR OCTO_BIN
echo "devnet up at $OCTO_OPENAI_BASE_URL ($D)"

trc=0
(cd "$HERE" && node --test gateway.test.mjs) || trc=$?

stop_devnet 30
if [ "$drc" -ne 0 ] || ! grep -q '^devnet stopped' "$OUT"; then
    echo "run.sh: the devnet did not stop cleanly on SIGTERM (exit $drc)" >&2
    [ "$trc" -ne 0 ] || trc=1
fi
status=$trc
exit "$status"
