#!/bin/sh
# test_cli.sh OCTO — drives the octo binary as a user would and checks outputs, files, exit
# statuses and error lines. Prints one line per check and "N passed, N failed" at the end.
set -u
OCTO=$1
. "$(dirname "$0")/lib.sh"
cli_tmp cli
cli_clean_env
export HOME="$T/userhome"
mkdir -p "$HOME"

SEED=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
PEER=12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB
CID=bafzaajaiaejcaa5ba677htqqxyoxbxiy45f4bglh4tldbg5fbvpr3xegmqjfkmny
PUBPB=0801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8

expect_out() { # expect_out NAME SUBSTRING
    case "$out" in *"$2"*) ok "$1" ;; *) bad "$1: stdout lacks '$2': $out" ;; esac
}
expect_err_line() { # expect_err_line NAME EXACT-LINE: stderr is exactly this one line
    if [ "$err" = "$2" ] && [ "$(wc -l <"$T/err")" -eq 1 ]; then ok "$1"
    else bad "$1: stderr '$err', want '$2'"; fi
}
expect_err_has() {
    case "$err" in *"$2"*) ok "$1" ;; *) bad "$1: stderr lacks '$2': $err" ;; esac
    if [ "$(wc -l <"$T/err")" -ne 1 ]; then bad "$1: stderr is not one line"; fi
}

H="$T/home"

run "$OCTO" version
expect_rc "version" 0
expect_out "version names octo" "octo 0."

run "$OCTO"
expect_rc "no command is a usage error" 2
run "$OCTO" --help
expect_rc "--help" 0
expect_out "--help lists init" "init"

run "$OCTO" id --home "$H"
expect_rc "id before init" 1
expect_err_line "id before init message" "octo: $H/keys/node.key: no node key (run 'octo init' first)"

run "$OCTO" init --home "$H" --seed "$SEED" --role provider --listen /ip4/127.0.0.1/tcp/4001
expect_rc "init with seed" 0
expect_out "init prints the vector peer id" "peer identity: $PEER"
mode=$(stat -c %a "$H/keys/node.key")
[ "$mode" = 600 ] && ok "key file mode 0600" || bad "key file mode $mode"
mode=$(stat -c %a "$H/keys")
[ "$mode" = 700 ] && ok "keys dir mode 0700" || bad "keys dir mode $mode"
[ -f "$H/data/octo.db" ] && ok "store created" || bad "no store at $H/data/octo.db"
grep -q '^role = provider$' "$H/config.ini" && ok "config records role" || bad "config lacks role"

run "$OCTO" id --home "$H"
expect_rc "id" 0
expect_out "id peer id" "peer id     $PEER"
expect_out "id cid" "cid         $CID"
expect_out "id public key" "public key  CAESIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
expect_out "id listen with p2p" "listen      /ip4/127.0.0.1/tcp/4001/p2p/$PEER"
expect_out "id role from config" "role        provider"

run "$OCTO" --home "$H" id --json
expect_rc "id --json (global flag before command)" 0
expect_out "json id" "\"id\":\"$PEER\""
expect_out "json addresses" "\"addresses\":[\"/ip4/127.0.0.1/tcp/4001/p2p/$PEER\"]"

run env OCTO_HOME="$H" OCTO_ROLE=validator "$OCTO" id
expect_rc "env OCTO_HOME" 0
expect_out "env beats file" "role        validator"
run env OCTO_HOME="$H" OCTO_ROLE=validator "$OCTO" id --role orchestrator
expect_rc "id takes no --role" 2

run "$OCTO" init --home "$H"
expect_rc "init again" 0
expect_out "init keeps the key" "existing node key kept"
expect_out "same identity" "peer identity: $PEER"

run "$OCTO" keys show --home "$H"
expect_rc "keys show" 0
expect_out "keys show type" "type            ed25519"
expect_out "keys show hex" "public key hex  03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
run "$OCTO" keys export-public --home "$H" --format raw --out "$T/pub.pb"
expect_rc "export raw" 0
hex=$(od -An -tx1 "$T/pub.pb" | tr -d ' \n')
[ "$hex" = "$PUBPB" ] && ok "exported PublicKey protobuf = vector" || bad "exported $hex"
run "$OCTO" keys export-public --home "$H" --format hex
expect_out "export hex" "$PUBPB"
run "$OCTO" keys export-public --home "$H" --format pem
expect_rc "export bad format" 2
expect_err_line "export bad format message" "octo: flag --format: invalid value 'pem' (expected base64, hex or raw)"
run "$OCTO" keys frob --home "$H"
expect_rc "keys bad subcommand" 2

# Bad flags and values: one line naming the flag, exit 2.
run "$OCTO" init --home "$H" --frob
expect_rc "unknown flag" 2
expect_err_line "unknown flag message" "octo: unknown flag '--frob' for 'octo init' (see 'octo init --help')"
run "$OCTO" id --home "$H" --log-level loud
expect_rc "bad flag value" 2
expect_err_line "bad flag value message" "octo: flag --log-level: invalid value 'loud' (expected trace, debug, info, warn, error or off)"
run "$OCTO" init --home "$H" --listen
expect_rc "flag without value" 2
expect_err_line "flag without value message" "octo: flag '--listen' needs a value (MULTIADDR)"
run "$OCTO" init --home "$H" --listen /ip4/1.2.3/tcp/1
expect_rc "bad multiaddr flag" 2
expect_err_has "bad multiaddr names the flag" "flag --listen: invalid multiaddr '/ip4/1.2.3/tcp/1'"
run "$OCTO" init --home "$T/other" --seed abcd
expect_rc "bad seed" 2
run "$OCTO" frobnicate
expect_rc "unknown command" 2
expect_err_line "unknown command message" "octo: unknown command 'frobnicate' (see 'octo --help')"
run env OCTO_HOME="$H" OCTO_ROLE=boss "$OCTO" id
expect_rc "bad env value" 2
expect_err_line "bad env message" "octo: environment variable OCTO_ROLE: invalid value 'boss' (expected roles from validator, provider, orchestrator and observer, comma-separated)"

# Malformed and unreadable config files: one line naming file and line, exit 2.
cp "$H/config.ini" "$T/config.good"
printf '[node]\nrole = provider\nrloe = validator\n' >"$H/config.ini"
run "$OCTO" id --home "$H"
expect_rc "malformed config" 2
expect_err_line "malformed config message" "octo: $H/config.ini:3: unknown key 'rloe' in section [node]"
printf '[node]\nrole provider\n' >"$H/config.ini"
run "$OCTO" id --home "$H"
expect_rc "config syntax error" 2
expect_err_line "config syntax message" "octo: $H/config.ini:2: syntax error (expected [section] or key = value)"
rm "$H/config.ini"; mkdir "$H/config.ini"
run "$OCTO" id --home "$H"
expect_rc "unreadable config" 2
expect_err_line "unreadable config message" "octo: $H/config.ini: not a regular file"
rmdir "$H/config.ini"; cp "$T/config.good" "$H/config.ini"

# Precedence through the real CLI: flag > env > default (env > file is checked with `id` above).
run env OCTO_ROLE=validator "$OCTO" init --home "$T/prec1" --role orchestrator
grep -q '^role = orchestrator$' "$T/prec1/config.ini" && ok "flag beats env" || bad "flag beats env"
run env OCTO_ROLE=validator "$OCTO" init --home "$T/prec2"
grep -q '^role = validator$' "$T/prec2/config.ini" && ok "env beats default" || bad "env beats default"
run "$OCTO" init --home "$T/prec3" --listen /ip4/1.1.1.1/tcp/1 --listen /ip6/::1/tcp/2
[ "$(grep -c '^listen = ' "$T/prec3/config.ini")" = 2 ] && ok "one listen line per address" \
    || bad "listen lines"
run "$OCTO" id --home "$T/prec3" --json
expect_out "both listen addresses read back" "/ip6/::1/tcp/2/p2p/"

# Key file protections.
mkdir -m 777 "$T/loose"
run "$OCTO" init --home "$T/loose"
expect_rc "home writable by others refused" 1
expect_err_line "loose home message" "octo: $T/loose: directory is writable by others (mode 0777)"
chmod 755 "$H/keys"
run "$OCTO" id --home "$H"
expect_rc "keys dir tightened on use" 0
mode=$(stat -c %a "$H/keys")
[ "$mode" = 700 ] && ok "keys dir back to 0700" || bad "keys dir mode $mode"
ln -s "$H/keys/node.key" "$T/keylink"
mv "$H/keys/node.key" "$T/node.key.real" && ln -s "$T/node.key.real" "$H/keys/node.key"
run "$OCTO" id --home "$H"
expect_rc "symlinked key refused" 1
rm "$H/keys/node.key" && mv "$T/node.key.real" "$H/keys/node.key"
chmod 644 "$H/keys/node.key"
run "$OCTO" id --home "$H"
expect_rc "open key permissions refused" 1
expect_err_has "permission message" "permissions 0644 are too open"
chmod 600 "$H/keys/node.key"

# Passphrase-protected key.
P="$T/phome"
printf 'correct horse battery staple\n' >"$T/pass"
printf 'wrong\n' >"$T/wrong"
run "$OCTO" init --home "$P" --passphrase-file "$T/pass"
expect_rc "init with passphrase" 0
run "$OCTO" id --home "$P"
expect_rc "encrypted key needs a passphrase" 1
expect_err_has "passphrase message" "passphrase-protected"
run "$OCTO" id --home "$P" --passphrase-file "$T/wrong"
expect_rc "wrong passphrase" 1
run env OCTO_PASSPHRASE_FILE="$T/pass" "$OCTO" keys show --home "$P"
expect_rc "passphrase from env" 0
expect_out "encrypted shown" "encrypted       yes"

# Default home is ~/.octo.
run "$OCTO" init
expect_rc "init default home" 0
[ -f "$HOME/.octo/keys/node.key" ] && ok "default home ~/.octo" || bad "no key in ~/.octo"

cli_finish
