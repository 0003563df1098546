#!/bin/sh
# test_exec.sh OCTO — `octo exec`: output passthrough, exit status mirroring, the classified
# outcome line on stderr (timeout, oom, pids, output cap, seccomp, signals), --check, usage
# errors, and container isolation when crun is installed. Needs root (the sandbox creates
# cgroups), as in CI. Prints one line per check and "N passed, N failed" at the end.
set -u
OCTO=$1
. "$(dirname "$0")/lib.sh"
cli_tmp exec
expect_out() {
    if [ "$out" = "$2" ]; then ok "$1"; else bad "$1: stdout '$out', want '$2'"; fi
}
expect_out_has() {
    case "$out" in *"$2"*) ok "$1" ;; *) bad "$1: stdout lacks '$2': $out" ;; esac
}
expect_err_line() { # stderr is exactly this one line
    if [ "$err" = "$2" ] && [ "$(wc -l <"$T/err")" -eq 1 ]; then ok "$1"
    else bad "$1: stderr '$err', want '$2'"; fi
}
expect_err_has() { # stderr is one line containing this
    case "$err" in *"$2"*) ok "$1" ;; *) bad "$1: stderr lacks '$2': $err" ;; esac
    if [ "$(wc -l <"$T/err")" -ne 1 ]; then bad "$1: stderr is not one line"; fi
}
expect_err_empty() {
    if [ -z "$err" ]; then ok "$1"; else bad "$1: stderr not empty: $err"; fi
}

# --- process isolation ---
run "$OCTO" exec -- echo hello sandbox
expect_rc "echo" 0
expect_out "echo passes stdout through" "hello sandbox"
expect_err_empty "echo prints no outcome line"

run "$OCTO" exec -- sh -c 'echo to-stderr >&2; exit 7'
expect_rc "exit code mirrored" 7
expect_err_line "stderr passed through, no outcome line for an exit" "to-stderr"

run "$OCTO" exec -- sh -c 'kill -TERM $$'
expect_rc "signal mirrored as 128+N" 143
expect_err_line "signal outcome line" "octo: exec: signaled (signal 15)"

run "$OCTO" exec --timeout 1 -- sh -c 'while :; do :; done'
expect_rc "--timeout" 124
expect_err_line "timeout outcome line" "octo: exec: timeout (deadline 1 s)"

if [ -x /usr/bin/python3 ]; then
    run "$OCTO" exec --mem 64M -- /usr/bin/python3 -c 'b = b"x" * (200 << 20)'
    expect_rc "--mem 64M with a 200 MB allocation" 121
    expect_err_line "oom outcome line" "octo: exec: oom (memory limit 64 MiB)"
else
    ok "# skip --mem: no /usr/bin/python3"
fi

run "$OCTO" exec --pids 8 -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do sleep 2 & done; wait'
expect_rc "--pids 8 with 16 children" 122
case "$err" in *"octo: exec: pids (limit 8 processes)"*) ok "pids outcome line" ;;
    *) bad "pids outcome line: $err" ;; esac

run "$OCTO" exec -- yes
expect_rc "output cap" 123
case "$err" in *"octo: exec: output (cap 1 MiB per stream)") ok "output outcome line" ;;
    *) bad "output outcome line: $err" ;; esac
size=$(wc -c <"$T/out")
[ "$size" -le 1048576 ] && [ "$size" -gt 0 ] && ok "output capped at 1 MiB ($size bytes)" \
    || bad "output size $size"

if [ -x /usr/bin/unshare ]; then
    run "$OCTO" exec -- /usr/bin/unshare -U true
    expect_rc "unshare is a seccomp kill" 125
    expect_err_has "seccomp outcome line" "octo: exec: seccomp (forbidden system call"
fi

run "$OCTO" exec --net loopback -- cat /proc/net/dev
expect_rc "--net loopback" 0
expect_out_has "--net loopback has lo" "lo:"

run "$OCTO" exec -- cat /etc/shadow
expect_rc "host files are absent" 1

# --- --check ---
run "$OCTO" exec --check
expect_rc "--check" 0
expect_out_has "--check lists namespaces" "namespaces     user "
expect_out_has "--check shows seccomp" "seccomp        "
expect_out_has "--check shows the cgroup version" "cgroup         v"
expect_out_has "--check shows isolation levels" "isolation      process "
run "$OCTO" exec --check --json
expect_rc "--check --json" 0
case "$out" in "{"*'"namespaces":{'*'"isolation":{'*'"seccomp":'*"}") ok "--check --json is one object" ;;
    *) bad "--check --json: $out" ;; esac
[ "$(wc -l <"$T/out")" -eq 1 ] && ok "--check --json is one line" || bad "--check --json lines"

# --- usage errors ---
run "$OCTO" exec
expect_rc "no command" 2
expect_err_line "no command message" "octo: usage: octo exec [FLAGS] -- CMD [ARGS...]"
run "$OCTO" exec --mem 12X -- true
expect_rc "--mem 12X" 2
expect_err_line "--mem message" "octo: flag --mem: expected a byte count (K, M, G suffixes) up to 1T"
run "$OCTO" exec --mem 0 -- true
expect_rc "--mem 0" 2
run "$OCTO" exec --mem 2000G -- true
expect_rc "--mem above 1T" 2
run "$OCTO" exec --pids abc -- true
expect_rc "--pids abc" 2
expect_err_line "--pids message" "octo: flag --pids: expected 1..65536"
run "$OCTO" exec --timeout 0 -- true
expect_rc "--timeout 0" 2
expect_err_line "--timeout message" "octo: flag --timeout: expected 1..86400 seconds"
run "$OCTO" exec --net wifi -- true
expect_rc "--net wifi" 2
expect_err_line "--net message" "octo: flag --net: expected none or loopback"
run "$OCTO" exec --isolation vm -- true
expect_rc "--isolation vm" 2
expect_err_line "--isolation message" "octo: flag --isolation: expected process, container, tee or zk"
run "$OCTO" exec --isolation tee -- true
expect_rc "--isolation tee is refused, not downgraded" 2
expect_err_has "tee message" "octo: exec: isolation 'tee' is unsupported on this host"
[ -z "$out" ] && ok "tee ran nothing" || bad "tee ran something: $out"
run "$OCTO" exec --isolation zk -- echo ran
expect_rc "--isolation zk is refused" 2
expect_err_has "zk message" "octo: exec: isolation 'zk' is unsupported on this host"
[ -z "$out" ] && ok "zk ran nothing" || bad "zk ran something: $out"
run "$OCTO" exec --json -- true
expect_rc "--json without --check" 2
run "$OCTO" exec --check -- true
expect_rc "--check with a command" 2
run "$OCTO" exec --frob -- true
expect_rc "unknown flag" 2

# --- container isolation ---
if [ -x /usr/bin/crun ]; then
    run "$OCTO" exec --isolation container -- echo hello container
    expect_rc "container echo" 0
    expect_out "container passes stdout through" "hello container"
    run "$OCTO" exec --isolation container -- sh -c 'exit 3'
    expect_rc "container exit code mirrored" 3
    run "$OCTO" exec --isolation container -- sh -c 'id -u; cat /etc/shadow'
    expect_rc "container has no host files" 1
    expect_out "container runs as nobody" "65534"
    run "$OCTO" exec --isolation container --timeout 1 -- sh -c 'while :; do :; done'
    expect_rc "container --timeout" 124
    expect_err_line "container timeout line" "octo: exec: timeout (deadline 1 s)"
    leftover=$(ls -d /tmp/octo-exec-* 2>/dev/null | wc -l)
    [ "$leftover" -eq 0 ] && ok "container bundles removed" || bad "$leftover bundles left in /tmp"
else
    ok "# skip container isolation: no /usr/bin/crun"
fi

cli_finish
