#!/bin/sh
# test_model.sh OCTO REF — `octo model gen-test` and `octo infer`: the tiny model is written
# atomically, the same seed gives the same bytes and another seed others, the independent
# NumPy reference (REF = tests/infer/ref_llama.py, run by /usr/bin/python3 when it has NumPy)
# reads it and decodes greedily, octo infer's greedy ids are the reference's, deterministic
# sampling gives the same tokens on 1 and 2 threads, usage is printed, text prompts run (chat
# and raw) on the builtin and llama backends and through the http backend against the mock
# OpenAI server (tests/exec/mock_openai.py), and bad flags, prompts and models are refused with
# one line (exit 2 usage, 1 failure). One line per check.
set -u
unset OCTO_API_KEY # a developer's own key must not change the http cases
OCTO=$1
REF=$2
. "$(dirname "$0")/lib.sh"
cli_tmp model

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
    # octo infer's greedy ids are the reference's (the reference also prints the end-of-sequence
    # token, where octo stops without printing it).
    printf '%s\n' "$out" | grep -vx 2 >"$T/ref.ids"
    run "$OCTO" infer --model "$T/a.gguf" --tokens 1,300,301 --max-tokens 16 --ids
    expect_rc "infer greedy" 0
    printf '%s\n' "$out" >"$T/octo.ids"
    n=$(grep -c . "$T/octo.ids")
    head -n "$n" "$T/ref.ids" | cmp -s - "$T/octo.ids" && ok "infer's greedy ids are the reference's" ||
        bad "infer ids differ: $(tr '\n' ' ' <"$T/octo.ids") vs $(tr '\n' ' ' <"$T/ref.ids")"
else
    echo "skip - /usr/bin/python3 has no NumPy (scripts/setup installs python3-numpy)"
fi

run "$OCTO" model gen-test --out "$T/q.gguf" --type q4_0 --seed 3
expect_rc "gen-test q4_0" 0
run "$OCTO" infer --model "$T/q.gguf" --tokens 1,300 --max-tokens 24 --ids --deterministic \
    --temperature 0.8 --top-k 40 --seed 9
cp "$T/out" "$T/one.ids"
run "$OCTO" infer --model "$T/q.gguf" --tokens 1,300 --max-tokens 24 --ids --deterministic \
    --temperature 0.8 --top-k 40 --seed 9 --threads 2
cmp -s "$T/one.ids" "$T/out" && ok "deterministic sampling: 1 and 2 threads give the same tokens" ||
    bad "threads changed the tokens"
case "$err" in *"completion"*"tok/s"*"2 threads, deterministic"*) ok "infer prints usage and speed" ;;
    *) bad "infer stderr: $err" ;; esac
run "$OCTO" infer --model "$T/q.gguf" --tokens 1,,2
expect_rc "malformed --tokens" 2
run "$OCTO" infer --model "$T/q.gguf" --tokens " 5"
expect_rc "--tokens with a space" 2
# Text prompts: chat (the model has no template: chatml) and raw, on each local backend.
run "$OCTO" infer --model "$T/q.gguf" --max-tokens 8 "a text prompt"
expect_rc "text prompt" 0
case "$err" in *"prompt "*" tokens"*"builtin, 1 thread, fast, finish "*) ok "text prompt usage line" ;;
    *) bad "text prompt stderr: $err" ;; esac
run "$OCTO" infer --model "$T/q.gguf" --max-tokens 8 --raw --system "ignored" "a text prompt"
expect_rc "raw prompt" 0
run "$OCTO" infer --model "$T/q.gguf" --max-tokens 8 --chat-template jinja "x"
expect_rc "unknown chat template" 2
run "$OCTO" infer --model "$T/q.gguf" --tokens 1 "and a prompt"
expect_rc "--tokens and a prompt" 2
run "$OCTO" infer --model "$T/q.gguf" --backend vllm "x"
expect_rc "unknown backend" 2
run "$OCTO" infer --backend http "x"
expect_rc "http without --url" 2
run "$OCTO" infer --backend llama --model "$T/q.gguf" --deterministic "x"
expect_rc "--deterministic on llama" 2
# Greedy on the F32 model: llama.cpp's text is the built-in engine's, byte for byte.
run "$OCTO" infer --model "$T/a.gguf" --max-tokens 12 --raw "x y z"
expect_rc "builtin greedy text" 0
cp "$T/out" "$T/builtin.txt"
run "$OCTO" infer --backend llama --model "$T/a.gguf" --max-tokens 12 --raw "x y z"
if [ "$rc" -eq 0 ]; then
    case "$err" in *"llama, 1 thread, finish "*) ok "llama backend streams and reports" ;;
        *) bad "llama stderr: $err" ;; esac
    cmp -s "$T/builtin.txt" "$T/out" && ok "llama.cpp's greedy text is the built-in engine's" ||
        bad "llama text differs: $(od -c "$T/out" | head -3)"
else
    case "$err" in *"without llama.cpp"*) echo "skip - this octo has no llama.cpp" ;;
        *) bad "llama backend: exit $rc: $err" ;; esac
fi

# The http backend against the mock OpenAI server (key from the environment, never argv).
MOCK="$(dirname "$REF")/../exec/mock_openai.py"
python3 "$MOCK" >"$T/port" 2>/dev/null &
mock=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$T/port" ] && break; sleep 0.2; done
port=$(head -n1 "$T/port")
run env OCTO_API_KEY=test-key "$OCTO" infer --backend http --url "http://127.0.0.1:$port/auth/v1" \
    --model mock-7b --max-tokens 16 --temperature 0.5 --seed 18446744073709551615 "Say hi"
expect_rc "http backend" 0
[ "$out" = "Hello, w$(printf '\303\266')rld $(printf '\360\237\230\200')!" ] &&
    ok "http backend streams the server's text" || bad "http output: $out"
case "$err" in *"http, finish length"*) ok "http usage line" ;; *) bad "http stderr: $err" ;; esac
run "$OCTO" infer --backend http --url "http://127.0.0.1:$port/auth/v1" --model mock-7b "Say hi"
expect_rc "http without the key" 1
case "$err" in *"invalid api key"*) ok "the server's error is shown" ;; *) bad "http 401: $err" ;; esac
kill "$mock" 2>/dev/null
run "$OCTO" infer --model "$T/missing.gguf" --tokens 1
expect_rc "missing model" 1
case "$err" in *"missing.gguf"*) ok "missing model named" ;; *) bad "missing model: $err" ;; esac
printf 'GGUF\003\000\000\000garbage' >"$T/bad.gguf"
run "$OCTO" infer --model "$T/bad.gguf" --tokens 1
expect_rc "malformed model" 1

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

cli_finish
