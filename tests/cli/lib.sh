# lib.sh — the harness shared by the CLI test scripts (sourced after OCTO is set):
#   cli_tmp NAME        makes the scratch directory $T under $OCTO_TEST_TMP (removed at exit)
#   ok / bad TEXT       one "ok - ..." / "not ok - ..." line, counted
#   run CMD ARGS...     runs CMD, capturing stdout, stderr and status into out, err, rc
#   expect_rc NAME WANT checks rc
#   wait_for FILE PATTERN SECONDS   waits (0.1 s steps) until FILE holds PATTERN; 1 if it never does
#   cli_finish          prints "N passed, N failed"; its status is the script's
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

cli_finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
