#!/bin/sh
# test_model.sh OCTO REF — `octo model gen-test`: the tiny model is written atomically, the
# same seed gives the same bytes and another seed others, the independent NumPy reference
# (REF = tests/infer/ref_llama.py, run by /usr/bin/python3 when it has NumPy) reads it and
# decodes greedily, and usage errors exit 2 with one line. Prints one line per check.
set -u
OCTO=$1
REF=$2
base=${OCTO_TEST_TMP:-/tmp}
mkdir -p "$base"
T=$(mktemp -d "$base/model-XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
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

run "$OCTO" model gen-test --out "$T/a.gguf" --shape tiny --seed 5
expect_rc "gen-test tiny" 0
case "$out" in *"tiny shape, F32, seed 5"*) ok "gen-test reports what it wrote" ;;
    *) bad "gen-test output: $out" ;; esac
[ "$(head -c 4 "$T/a.gguf")" = "GGUF" ] && ok "the file starts with GGUF" || bad "no GGUF magic"
ls "$T" | grep -q tmp && bad "a temp file was left" || ok "no temp file left"
run "$OCTO" model gen-test --out "$T/b.gguf" --seed 5
run "$OCTO" model gen-test --out "$T/c.gguf" --seed 6
cmp -s "$T/a.gguf" "$T/b.gguf" && ok "same seed, same bytes" || bad "same seed differs"
cmp -s "$T/a.gguf" "$T/c.gguf" && bad "another seed gave the same bytes" || ok "another seed, other bytes"

if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    run /usr/bin/python3 "$REF" "$T/a.gguf" greedy 1,300,301 16 "$T/logits"
    expect_rc "the NumPy reference reads the model and decodes" 0
    n=$(printf '%s\n' "$out" | grep -c .)
    [ "$n" -eq 16 ] && ok "16 greedy tokens" || bad "reference printed $n tokens"
    [ "$(wc -c <"$T/logits")" -eq $((16 * 512 * 8)) ] && ok "16 rows of 512 logits" ||
        bad "logits file size"
else
    echo "skip - /usr/bin/python3 has no NumPy (scripts/setup installs python3-numpy)"
fi

run "$OCTO" model gen-test --shape tiny
expect_rc "gen-test without --out" 2
run "$OCTO" model gen-test --out "$T/x.gguf" --shape huge
expect_rc "unknown shape" 2
case "$err" in "octo: model gen-test: --shape: expected tiny"*) ok "one-line shape error" ;;
    *) bad "shape error: $err" ;; esac
run "$OCTO" model gen-test --out "$T/x.gguf" --type q3
expect_rc "unknown type" 2
run "$OCTO" model gen-test --out "$T/x.gguf" --seed -4
expect_rc "negative seed" 2
run "$OCTO" model gen-test --out "$T/nodir/x.gguf"
expect_rc "unwritable path" 1
run "$OCTO" model frobnicate
expect_rc "unknown subcommand" 2

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
