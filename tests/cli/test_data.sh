#!/bin/sh
# test_data.sh OCTO — `octo data`: put/get round trips of every class, the published CID of
# the empty blob and of "hello world\n", encryption at rest (canary), access by class,
# corruption and truncation detected by get (exit 1, no -o file), rm refusing a referenced
# blob, gc keeping referenced blobs and removing temp leftovers, limits, ls text and JSON,
# the home's data/blobs, and usage errors. Prints one line per check and a summary.
set -u
OCTO=$1
. "$(dirname "$0")/lib.sh"
cli_tmp data
cli_clean_env
export HOME="$T/userhome"
mkdir -p "$HOME"

CID_EMPTY=bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku
CID_HELLO=bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4
CANARY=CANARY-d41b7c29-never-on-disk
expect_out() {
    case "$out" in *"$2"*) ok "$1" ;; *) bad "$1: stdout lacks '$2': $out" ;; esac
}
# flip FILE OFFSET: replaces the byte at OFFSET by another value
flip() {
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $(((b + 1) % 256)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
expect_err_has() {
    case "$err" in *"$2"*) ok "$1" ;; *) bad "$1: stderr lacks '$2': $err" ;; esac
}

D="$T/store"
data() { "$OCTO" data --dir "$D" "$@"; }

# --- CIDs of known content
printf '' >"$T/empty"
printf 'hello world\n' >"$T/hello"
run data put "$T/empty"
expect_rc "put empty" 0
[ "$out" = "$CID_EMPTY" ] && ok "empty blob CID is the published one" || bad "empty CID: $out"
run data put --class private "$T/hello"
[ "$out" = "$CID_HELLO" ] && ok "hello world CID" || bad "hello CID: $out"
printf 'hello world\n' | data put - >"$T/out" 2>"$T/err"
[ "$(cat "$T/out")" = "$CID_HELLO" ] && ok "put from stdin" || bad "put stdin: $(cat "$T/out")"

# --- round trips of every class and several sizes (64 KiB chunks)
head -c 65535 /dev/urandom >"$T/s1"
head -c 65536 /dev/urandom >"$T/s2"
head -c 65537 /dev/urandom >"$T/s3"
head -c 3000001 /dev/urandom >"$T/s4"
printf 'x' >"$T/s5"
for cls in public shared confidential private; do
    for f in s1 s2 s3 s4 s5 empty; do
        cid=$(data put --class "$cls" "$T/$f")
        data get --allow all "$cid" >"$T/back" 2>"$T/err"
        if cmp -s "$T/$f" "$T/back"; then ok "round trip $cls $f"; else bad "round trip $cls $f"; fi
    done
done
cid=$(data put --class shared "$T/s4")
run data get "$cid" -o "$T/got"
expect_rc "get -o" 0
cmp -s "$T/s4" "$T/got" && ok "get -o writes the content" || bad "get -o content"
[ "$(stat -c %a "$T/got")" = 600 ] && ok "get -o file is 0600" || bad "get -o mode"

# --- encryption at rest: the canary appears only in the public copy
printf '%s' "$CANARY" >"$T/canary"
for cls in shared confidential private; do
    data put --class "$cls" "$T/canary" >/dev/null
    if grep -rqa "$CANARY" "$D/$cls"; then bad "$cls at rest holds the canary"
    else ok "$cls at rest does not hold the canary"; fi
done
grep -rqa "$CANARY" "$D" && bad "canary somewhere in the store" || ok "canary nowhere in the store"
data put --class public "$T/canary" >/dev/null
grep -rqa "$CANARY" "$D/public" && ok "public stored plain" || bad "public not plain"
[ "$(stat -c %a "$D/blob.key")" = 600 ] && ok "key file 0600" || bad "key file mode"

# --- access by class
printf 'only private' >"$T/priv"
pcid=$(data put --class private "$T/priv")
ccid=$(printf conf | data put --class confidential -)
run data get "$pcid"
expect_rc "private without --allow" 1
expect_err_has "private refused" "permission denied"
run data get "$ccid"
expect_rc "confidential without --allow" 1
run data get --allow confidential "$pcid"
expect_rc "private with --allow confidential" 1
run data get --allow private "$pcid"
expect_rc "private with --allow private" 0
run data get --allow confidential "$ccid"
expect_rc "confidential with --allow confidential" 0
expect_out "confidential content" "conf"

# --- corruption and truncation
head -c 100000 /dev/urandom >"$T/s6"
cid=$(data put --class private "$T/s6")
f="$D/private/$cid"
cp "$f" "$T/orig"
flip "$f" 40000
run data get --allow all "$cid" -o "$T/corrupt"
expect_rc "corrupted byte detected" 1
expect_err_has "corruption reported" "corrupted"
[ ! -e "$T/corrupt" ] && [ ! -e "$T/corrupt.octo-tmp" ] && ok "no output file on failure" \
    || bad "output file left on failure"
head -c 30000 "$T/orig" >"$f"
run data get --allow all "$cid"
expect_rc "truncated file detected" 1
cp "$T/orig" "$f"
run data get --allow all "$cid" -o "$T/ok"
expect_rc "restored file reads" 0
pub=$(data put "$T/s1")
flip "$D/public/$pub" 100
run data get "$pub"
expect_rc "public corruption detected by the CID" 1
data rm --force "$pub" >/dev/null 2>&1

# --- wrong key
cp "$D/blob.key" "$T/key.bak"
head -c 32 /dev/urandom >"$D/blob.key"
run data get --allow all "$cid"
expect_rc "wrong key" 1
expect_err_has "wrong key reported" "wrong store key"
cp "$T/key.bak" "$D/blob.key"

# --- ls
run data ls
expect_rc "ls" 0
expect_out "ls lists a private blob" "private"
expect_out "ls lists the CID" "$pcid"
run data ls --json
expect_rc "ls --json" 0
expect_out "ls --json has fields" "\"class\":\"private\""

# --- references, rm, gc, crash leftovers
keep=$(printf keep | data put --class shared --ref -)
drop=$(printf drop | data put --class shared -)
run data rm "$keep"
expect_rc "rm refuses a referenced blob" 1
expect_err_has "rm says referenced" "referenced"
printf 'partial' >"$D/shared/.tmp-00112233aabbccdd"
run data gc
expect_rc "gc" 0
expect_out "gc reports" "removed"
[ ! -e "$D/shared/.tmp-00112233aabbccdd" ] && ok "temp leftover gone" || bad "temp leftover"
[ -e "$D/shared/$keep" ] && ok "gc kept the referenced blob" || bad "gc removed a referenced blob"
[ ! -e "$D/shared/$drop" ] && ok "gc removed the unreferenced blob" || bad "gc kept $drop"
run data unref "$keep"
expect_out "unref prints the count" "0"
run data unref "$keep"
expect_rc "unref below zero" 1
run data ref "$keep"
run data rm --force "$keep"
expect_rc "rm --force" 0
run data rm "$keep"
expect_rc "rm of a missing blob" 1
expect_err_has "not found" "not found"
young=$(printf young | data put -)
run data gc --min-age 3600
[ -e "$D/public/$young" ] && ok "gc --min-age keeps young blobs" || bad "gc --min-age"

# --- limits
run data put --size-max 100 "$T/s1"
expect_rc "size limit" 1
expect_err_has "size limit reported" "size limit"
run data put --quota 1000 "$T/s1"
expect_rc "quota" 1
expect_err_has "quota reported" "quota"

# --- the node home
H="$T/home"
run "$OCTO" data ls --home "$H"
expect_rc "no home" 1
expect_err_has "no home says init" "octo init"
"$OCTO" init --home "$H" >/dev/null 2>&1
run "$OCTO" data put --home "$H" "$T/hello"
expect_rc "put into the home" 0
[ -e "$H/data/blobs/public/$CID_HELLO" ] && ok "stored under data/blobs" || bad "home layout"

# --- usage errors
run data
expect_rc "no subcommand" 2
run data frob
expect_rc "unknown subcommand" 2
run data get notacid
expect_rc "bad CID" 2
run data get bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku
expect_rc "dag-pb CID refused" 2
run data put --class secret "$T/hello"
expect_rc "bad class" 2
run data put "$T/nonexistent"
expect_rc "missing input file" 1
run data get --allow bogus "$CID_HELLO"
expect_rc "bad --allow" 2

cli_finish
