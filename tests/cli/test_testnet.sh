#!/bin/sh
# test_testnet.sh OCTO — `octo testnet`: the homes and genesis it writes (files, modes, roles,
# ports, one genesis everywhere), reproducibility from --seed (same keys, same genesis but for
# its time), the JSON and text summaries, refusing a non-empty directory unless --force, and
# usage errors. Prints one line per check and "N passed, N failed" at the end.
set -u
OCTO=$1
. "$(dirname "$0")/lib.sh"
cli_tmp testnet
cli_clean_env
export HOME="$T/userhome"
mkdir -p "$HOME"

SEED=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

expect_out() {
    case "$out" in *"$2"*) ok "$1" ;; *) bad "$1: stdout lacks '$2': $out" ;; esac
}
expect_err_line() { # expect_err_line NAME EXACT-LINE: stderr is exactly this one line
    if [ "$err" = "$2" ] && [ "$(wc -l <"$T/err")" -eq 1 ]; then ok "$1"
    else bad "$1: stderr '$err', want '$2'"; fi
}
# json EXPR: the Python expression EXPR over the document j parsed from $T/out
json() {
    python3 -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" <"$T/out"
}
# identities: every validator's and account's peer id / address, one line
identities() {
    json '" ".join([v["peer"] + "," + v["address"] for v in j["validators"]] + [a["address"] for a in j["accounts"]])'
}

A="$T/a"
run "$OCTO" testnet --validators 4 --accounts 2 --seed "$SEED" --out "$A" --json
expect_rc "testnet 4 validators, 2 accounts" 0
if python3 -c 'import json, sys; json.load(sys.stdin)' <"$T/out" 2>/dev/null; then ok "JSON parses"
else bad "JSON does not parse: $out"; fi
[ "$(json 'len(j["validators"])')" = 4 ] && ok "JSON has 4 validators" || bad "JSON validators: $out"
[ "$(json 'len(j["accounts"])')" = 2 ] && ok "JSON has 2 accounts" || bad "JSON accounts: $out"
[ "$(json 'j["genesis"]')" = "$A/genesis.json" ] && ok "JSON names the genesis" || bad "JSON genesis"
case "$(json 'j["chain_id"]')" in
    [0-9a-f]*) [ "$(json 'len(j["chain_id"])')" = 64 ] && ok "chain id is 64 hex digits" ||
               bad "chain id length" ;;
    *) bad "chain id: $out" ;;
esac
case "$(json 'j["validators"][0]["peer"]')" in
    12D3KooW*) ok "validator peer id" ;;
    *) bad "validator peer id: $out" ;;
esac
[ "$(json 'j["validators"][3]["listen"]')" = /ip4/127.0.0.1/tcp/7103 ] && ok "JSON listen" ||
    bad "JSON listen: $out"
ids_a=$(identities)
chain_a=$(json 'j["chain_id"]')

[ -f "$A/genesis.json" ] && ok "DIR/genesis.json" || bad "no $A/genesis.json"
for i in 0 1 2 3; do
    h="$A/v$i"
    cmp -s "$A/genesis.json" "$h/genesis.json" && ok "v$i has the genesis" || bad "v$i genesis"
    mode=$(stat -c %a "$h/keys/node.key" 2>/dev/null)
    [ "$mode" = 600 ] && ok "v$i key mode 0600" || bad "v$i key mode '$mode'"
    grep -q '^role = validator$' "$h/config.ini" && ok "v$i role validator" || bad "v$i role"
    grep -q "^listen = /ip4/127.0.0.1/tcp/710$i\$" "$h/config.ini" && ok "v$i listens on 710$i" ||
        bad "v$i listen: $(grep listen "$h/config.ini")"
    grep -q "\"/ip4/127.0.0.1/tcp/710$i\"" "$A/genesis.json" && ok "genesis has v$i's address" ||
        bad "genesis lacks v$i's address"
done
for i in 0 1; do
    h="$A/accounts/a$i"
    cmp -s "$A/genesis.json" "$h/genesis.json" && ok "a$i has the genesis" || bad "a$i genesis"
    mode=$(stat -c %a "$h/keys/node.key" 2>/dev/null)
    [ "$mode" = 600 ] && ok "a$i key mode 0600" || bad "a$i key mode '$mode'"
    grep -q '^role = observer$' "$h/config.ini" && ok "a$i role observer" || bad "a$i role"
done
grep -q '"chain": "octo-testnet"' "$A/genesis.json" && ok "default chain name" || bad "chain name"
grep -q '"delta_ms": 200,' "$A/genesis.json" && ok "default delta_ms" || bad "delta_ms"
[ "$(grep -c '"OCTO": "1000000000000"' "$A/genesis.json")" = 6 ] && ok "6 funded allocations" ||
    bad "allocations"

# the home is usable as it is: `octo id` reads its key and config
peer0=$(json 'j["validators"][0]["peer"]')
run "$OCTO" id --home "$A/v0"
expect_rc "id on a testnet home" 0
expect_out "id shows the validator's peer id" "peer id     $peer0"
expect_out "id shows role validator" "role        validator"

# the same seed gives the same keys and the same genesis but for its time
B="$T/b"
run "$OCTO" testnet --validators 4 --accounts 2 --seed "$SEED" --out "$B" --json
expect_rc "second network from the same seed" 0
cmp -s "$A/v0/keys/node.key" "$B/v0/keys/node.key" && ok "same seed, byte-identical v0 key" ||
    bad "v0 key differs"
[ "$(identities)" = "$ids_a" ] && ok "same peer ids and addresses" || bad "identities differ"
if [ "$(grep -v time_ms "$A/genesis.json")" = "$(grep -v time_ms "$B/genesis.json")" ]; then
    ok "same genesis but for time_ms"
else
    bad "genesis files differ beyond time_ms"
fi
[ -n "$(json 'j["chain_id"]')" ] && ok "second chain id present" || bad "no chain id"

# without a seed the keys are random
run "$OCTO" testnet --validators 1 --out "$T/r1"
run "$OCTO" testnet --validators 1 --out "$T/r2"
expect_rc "testnet without --seed" 0
cmp -s "$T/r1/v0/keys/node.key" "$T/r2/v0/keys/node.key" && bad "random keys are equal" ||
    ok "random keys differ"

# a non-empty directory is refused, --force overwrites it
run "$OCTO" testnet --validators 4 --seed "$SEED" --out "$A"
expect_rc "non-empty DIR refused" 1
expect_err_line "non-empty DIR message" \
    "octo: $A: directory is not empty (use --force to overwrite the testnet in it)"
mkdir -p "$T/busy" && echo x >"$T/busy/file"
run "$OCTO" testnet --validators 1 --out "$T/busy"
expect_rc "DIR with a file refused" 1
run "$OCTO" testnet --validators 4 --accounts 2 --seed "$SEED" --out "$A" --force \
    --chain other-net --base-port 9000
expect_rc "--force" 0
expect_out "text summary names the chain" "testnet other-net in $A"
expect_out "text summary chain id" "chain id  "
expect_out "text summary validator line" "validator 0  $A/v0  $peer0  /ip4/127.0.0.1/tcp/9000"
expect_out "text summary accounts" "accounts  2 in $A/accounts"
cmp -s "$A/v0/keys/node.key" "$B/v0/keys/node.key" && ok "--force with the seed: same key" ||
    bad "--force changed the seeded key"
grep -q '^listen = /ip4/127.0.0.1/tcp/9003$' "$A/v3/config.ini" && ok "--force rewrote config" ||
    bad "config not rewritten"
grep -q '"chain": "other-net"' "$A/v2/genesis.json" && ok "--force rewrote home genesis" ||
    bad "home genesis not rewritten"
[ -f "$T/busy/file" ] || bad "busy file removed"

# usage errors
run "$OCTO" testnet --validators 0 --out "$T/u"
expect_rc "--validators 0" 2
expect_err_line "--validators 0 message" "octo: flag --validators: expected 1..16, got '0'"
run "$OCTO" testnet --validators 17 --out "$T/u"
expect_rc "--validators 17" 2
expect_err_line "--validators 17 message" "octo: flag --validators: expected 1..16, got '17'"
run "$OCTO" testnet --out "$T/u"
expect_rc "no --validators" 2
run "$OCTO" testnet --validators 2
expect_rc "no --out" 2
run "$OCTO" testnet --validators 2 --out "$T/u" --accounts 10001
expect_rc "--accounts 10001" 2
run "$OCTO" testnet --validators 2 --out "$T/u" --base-port 65535
expect_rc "ports past 65535" 2
run "$OCTO" testnet --validators 2 --out "$T/u" --chain "bad name"
expect_rc "bad chain name" 2
run "$OCTO" testnet --validators 2 --out "$T/u" --seed xyz
expect_rc "bad seed" 2
[ -e "$T/u" ] && bad "usage errors wrote $T/u" || ok "usage errors write nothing"

cli_finish
