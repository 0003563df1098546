#!/bin/sh
# run_pg_tests.sh — runs store test binaries against a real, throw-away PostgreSQL server.
#
# Usage: run_pg_tests.sh TMP_PARENT TEST_BINARY...
# TMP_PARENT (created mode 0711 if missing) and its parents must be searchable by postgres.
#
# Creates a directory under TMP_PARENT (owned by the postgres user when run as root: the
# server binaries refuse to run as root, so they run as postgres through runuser), initdb's a
# cluster there (trust auth, superuser "octo"), starts it on a free loopback port with its unix
# socket in that directory, waits for pg_isready, then runs each binary with OCTO_TEST_PG set
# to a connection string for the maintenance database (each binary creates and drops its own
# database). The server is always stopped and the directory removed (trap). Prints
# "N passed, N failed"; exits non-zero if any binary failed or the server could not be set up.
# Missing PostgreSQL binaries are a failure, not a skip: scripts/setup installs them.
#
# Environment: OCTO_PG_BIN overrides the server binary directory.
set -u

PGBIN=${OCTO_PG_BIN:-/usr/lib/postgresql/15/bin}

if [ $# -lt 2 ]; then
    echo "usage: $0 TMP_PARENT TEST_BINARY..." >&2
    exit 2
fi
parent=$1
shift

for tool in initdb pg_ctl pg_isready; do
    if [ ! -x "$PGBIN/$tool" ]; then
        echo "FAIL: PostgreSQL server binary $PGBIN/$tool is missing." >&2
        echo "      Install the Debian packages postgresql and libpq-dev (run scripts/setup)." >&2
        exit 1
    fi
done

as_root=0
if [ "$(id -u)" -eq 0 ]; then
    as_root=1
    if ! id postgres >/dev/null 2>&1; then
        echo "FAIL: running as root but there is no postgres user (install postgresql)" >&2
        exit 1
    fi
fi

# Runs a server binary as postgres when we are root, as ourselves otherwise.
as_pg() {
    if [ "$as_root" -eq 1 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [ ! -d "$parent" ]; then
    # Searchable by the postgres user (its cluster lives below); nothing secret is kept here.
    mkdir -p "$parent" && chmod 0711 "$parent" || exit 1
fi
dir=$(mktemp -d "$parent/pg.XXXXXX") || exit 1
data="$dir/data"
started=0

cleanup() {
    if [ "$started" -eq 1 ]; then
        as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 ||
            echo "run_pg_tests: warning: pg_ctl stop failed" >&2
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if [ "$as_root" -eq 1 ]; then
    chown postgres "$dir" || exit 1
    # The server must reach its directory: every parent must be searchable by postgres.
    if ! runuser -u postgres -- test -w "$dir"; then
        echo "FAIL: the postgres user cannot write $dir (a parent directory is not searchable)" >&2
        exit 1
    fi
fi

if ! as_pg "$PGBIN/initdb" -D "$data" -A trust -U octo -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
    echo "FAIL: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    exit 1
fi

# A free port: try candidates derived from our pid until the server starts on one.
base=$(( 20000 + ($$ % 20000) ))
port=""
attempt=0
while [ $attempt -lt 10 ]; do
    candidate=$(( base + attempt * 997 % 20000 ))
    attempt=$((attempt + 1))
    if as_pg "$PGBIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -c listen_addresses=127.0.0.1 -p $candidate -c fsync=off" \
        start >/dev/null 2>&1; then
        started=1
        port=$candidate
        break
    fi
done
if [ -z "$port" ]; then
    echo "FAIL: the PostgreSQL server did not start; its log:" >&2
    cat "$dir/server.log" >&2
    exit 1
fi

ready=0
i=0
while [ $i -lt 100 ]; do
    if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U octo -d postgres; then
        ready=1
        break
    fi
    i=$((i + 1))
    sleep 0.1
done
if [ "$ready" -ne 1 ]; then
    echo "FAIL: the server on port $port does not accept connections" >&2
    exit 1
fi
echo "run_pg_tests: PostgreSQL on 127.0.0.1:$port (socket in $dir)"

OCTO_TEST_PG="host=127.0.0.1 port=$port user=octo dbname=postgres connect_timeout=10"
export OCTO_TEST_PG

passed=0
failed=0
for t in "$@"; do
    name=$(basename "$t")
    if "$t"; then
        echo "PASS $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
