# lib.sh — the harness shared by the CLI test scripts (sourced after OCTO is set):
#   cli_tmp NAME        makes the scratch directory $T under $OCTO_TEST_TMP (removed at exit)
#   ok / bad TEXT       one "ok - ..." / "not ok - ..." line, counted
#   run CMD ARGS...     runs CMD, capturing stdout, stderr and status into out, err, rc
#   expect_rc NAME WANT checks rc
#   wait_for FILE PATTERN SECONDS   waits (0.1 s steps) until FILE holds PATTERN; 1 if it never does
#   cli_clean_env       unsets the OCTO_* variables a caller's environment could bring in
#   cli_kill_on_exit    at exit, kill -9 every pid in $PIDS, then remove $T
#   cli_finish          prints "N passed, N failed"; its status is the script's
#   cli_ports N         PORT = the first of N consecutive free loopback ports
#   cli_devnet_up N     a devnet (1 validator, N providers) in $D, killed at exit (EXTRA_PIDS too)
pass=0
fail=0

cli_tmp() {
    base=${OCTO_TEST_TMP:-/tmp}
    mkdir -p "$base"
    T=$(mktemp -d "$base/$1-XXXXXX")
    trap 'rm -rf "$T"' EXIT
}

ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }

run() {
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    out=$(cat "$T/out")
    err=$(cat "$T/err")
}

expect_rc() {
    if [ "$rc" -eq "$2" ]; then ok "$1 (exit $2)"; else bad "$1: exit $rc, want $2; stderr: $err"; fi
}

wait_for() {
    wf_i=0
    while [ $wf_i -lt $(($3 * 10)) ]; do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        wf_i=$((wf_i + 1))
    done
    return 1
}

cli_clean_env() {
    unset OCTO_HOME OCTO_ROLE OCTO_LISTEN OCTO_LOG_LEVEL OCTO_LOG_FORMAT OCTO_LOG_FILE \
          OCTO_STORE_BACKEND OCTO_STORE_PATH OCTO_PASSPHRASE_FILE OCTO_NODE
}

cli_kill_on_exit() {
    PIDS=""
    trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
}

cli_finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

# cli_ports N: sets PORT to the first of N consecutive loopback ports that are free now, from a
# random start in 20000..59999 (tests run in parallel: a fixed formula can collide).
cli_ports() {
    PORT=$(/usr/bin/python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 60000 - n)
    ok = True
    for p in range(base, base + n):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            ok = False
        s.close()
        if not ok:
            break
    if ok:
        print(base)
        break
PY
)
}

# cli_devnet_up N: starts `octo devnet` in $D (= $T/dn) on free ports (PORT) with 1 validator
# and N providers, waits until it is up (one ok/bad line); at exit kills it (even paused), its
# nodes and every pid in $EXTRA_PIDS, then removes $T. Sets DPID.
cli_devnet_up() {
    cli_ports 72
    D="$T/dn"
    EXTRA_PIDS=""
    trap 'for p in $EXTRA_PIDS; do kill -9 "$p" 2>/dev/null; done; kill -9 "$DPID" 2>/dev/null; kill -CONT "$DPID" 2>/dev/null; pkill -9 -f "$D/net" 2>/dev/null; rm -rf "$T"' EXIT
    "$OCTO" devnet --dir "$D" --port "$PORT" --validators 1 --providers "$1" >"$T/dn.out" 2>"$T/dn.err" &
    DPID=$!
    cdu_i=0
    while [ $cdu_i -lt 900 ] && ! grep -q "API key" "$T/dn.out"; do sleep 0.1; cdu_i=$((cdu_i + 1)); done
    if grep -q "devnet is up" "$T/dn.out"; then ok "the devnet is up"; else bad "not up: $(cat "$T/dn.out" "$T/dn.err")"; fi
}
