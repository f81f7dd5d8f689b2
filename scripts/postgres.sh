#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the tests, sourced by test scripts:
#
#   source scripts/postgres.sh
#   start_test_postgres               # calls ensure_postgres itself
#   trap stop_test_postgres EXIT      # or call it from the script's own EXIT trap
#   cargo test ...                    # tests read $HUISCLOS_TEST_POSTGRES
#
# start_test_postgres exports HUISCLOS_TEST_POSTGRES, a libpq key=value string
# (host=127.0.0.1 port=N user=postgres dbname=postgres) that the `postgres` and
# `tokio-postgres` crates accept, and HUISCLOS_TEST_POSTGRES_DIR, the cluster's temp
# directory (data/, the unix socket, postgres.log). If HUISCLOS_TEST_POSTGRES is
# already set, that server is used and nothing is started or later stopped.
# It never installs a trap: a script has one EXIT trap, and the caller may already
# own it (scripts/test.sh does), so the caller runs stop_test_postgres from its own.
#
# The cluster is new each time (initdb into mktemp -d), trusts every local
# connection, listens on 127.0.0.1 on a free port only, and never touches a system
# cluster (/etc/postgresql, port 5432). Installs Debian's postgresql-15 if missing.

_pg_as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian's own directory first: /usr/local/bin may hold other initdb/pg_ctl copies,
# and the server binaries of one major version must come from one place.
_pg_find_bindir() {
    local dir=/usr/lib/postgresql/15/bin
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
        echo "$dir"
        return 0
    fi
    return 1
}

# Sets HUISCLOS_PG_BINDIR to the directory of initdb, pg_ctl, postgres and
# pg_isready, installing Debian's PostgreSQL 15 server if it is not there.
ensure_postgres() {
    local dir
    if ! dir=$(_pg_find_bindir); then
        echo "installing Debian's PostgreSQL 15 server (postgresql-15)"
        # The package lists are only refreshed if the first try cannot find it:
        # a fresh image may have none, a warm one need not wait for the mirror.
        if ! _pg_as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends postgresql-15; then
            _pg_as_root apt-get update -q
            _pg_as_root env DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -q --no-install-recommends postgresql-15
        fi
        if ! dir=$(_pg_find_bindir); then
            echo "PostgreSQL 15 server binaries (initdb, pg_ctl, postgres) not found in" \
                "/usr/lib/postgresql/15/bin, even after installing postgresql-15." >&2
            return 1
        fi
    fi
    if [ ! -x "$dir/pg_isready" ]; then
        echo "pg_isready not found in $dir (Debian's postgresql-client-15)." >&2
        return 1
    fi
    HUISCLOS_PG_BINDIR=$dir
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to `postgres`
# (made by the Debian package), or to a system user of our own if there is none.
_pg_cluster_user() {
    if [ "$(id -u)" != 0 ]; then
        id -un
    elif getent passwd postgres >/dev/null; then
        echo postgres
    else
        if ! getent passwd huisclos-pg >/dev/null; then
            useradd --system --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin huisclos-pg || return 1
        fi
        echo huisclos-pg
    fi
}

# Runs a PostgreSQL program as the cluster's owner, from inside the temp dir (the
# caller's working directory may be closed to that user, e.g. under /root).
_pg_run() {
    (
        cd "$_HUISCLOS_PG_DIR" || exit 1
        if [ "$(id -u)" = 0 ]; then
            runuser -u "$_HUISCLOS_PG_USER" -- "$@"
        else
            "$@"
        fi
    )
}

_pg_free_port() {
    # Port 0 lets the kernel choose a free one (if another process takes it before
    # postgres binds it, start_test_postgres tries again). Without python3, a random
    # high port.
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
        2>/dev/null || echo $((20000 + RANDOM % 40000))
}

start_test_postgres() {
    if [ -n "${HUISCLOS_TEST_POSTGRES:-}" ]; then
        echo "using the PostgreSQL server in HUISCLOS_TEST_POSTGRES"
        return 0
    fi
    [ -n "${HUISCLOS_PG_BINDIR:-}" ] || ensure_postgres
    local bin=$HUISCLOS_PG_BINDIR
    if [ "$(id -u)" = 0 ] && ! command -v runuser >/dev/null 2>&1; then
        echo "runuser (util-linux) is needed to run PostgreSQL as another user than root." >&2
        return 1
    fi
    _HUISCLOS_PG_USER=$(_pg_cluster_user) || return 1
    # /tmp rather than $TMPDIR: the cluster's owner must reach the directory, and the
    # unix socket's path must stay under 108 bytes.
    _HUISCLOS_PG_DIR=$(mktemp -d /tmp/huisclos-pg.XXXXXX) || return 1
    if [ "$(id -u)" = 0 ]; then
        chown "$_HUISCLOS_PG_USER:" "$_HUISCLOS_PG_DIR"
    fi
    local dir=$_HUISCLOS_PG_DIR data=$_HUISCLOS_PG_DIR/data log=$_HUISCLOS_PG_DIR/postgres.log
    local port attempt

    # --no-sync only skips initdb's final flush of the new files: a crash of the
    # machine loses a throwaway cluster anyway. The server itself keeps fsync on.
    if ! _pg_run "$bin/initdb" --pgdata="$data" --username=postgres --auth=trust \
        --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
        echo "initdb failed:" >&2
        tail -n 30 "$dir/initdb.log" >&2
        _pg_discard
        return 1
    fi
    # Appended, so these settings win over initdb's. fsync stays on: the tests check
    # what survives a crash. 300 connections for parallel tests, each with a pool.
    cat >>"$data/postgresql.conf" <<EOF

# huisclos test cluster (scripts/postgres.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = on
max_connections = 300
shared_buffers = 128MB
logging_collector = off
EOF

    # -w: pg_ctl waits (30 s at most) until the postmaster reports itself ready or
    # dies; -l sends the server's output to the log, so that nothing it leaves
    # running holds the caller's pipes open. The free port may be taken by someone
    # else before postgres binds it: then another, three tries in all.
    for attempt in 1 2 3; do
        port=$(_pg_free_port)
        if _pg_run "$bin/pg_ctl" --pgdata="$data" --log="$log" --options="-p $port" \
            -w -t 30 start >/dev/null; then
            break
        fi
        if [ "$attempt" = 3 ] || ! grep -q 'Address already in use' "$log"; then
            echo "the test PostgreSQL server did not start; its log ends:" >&2
            tail -n 30 "$log" >&2 || true
            _pg_discard
            return 1
        fi
        : >"$log"
    done
    # Then the TCP listener itself, which is what the tests use.
    local deadline=$((SECONDS + 30))
    until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "the test PostgreSQL server does not answer on 127.0.0.1:$port; its log ends:" >&2
            tail -n 30 "$log" >&2 || true
            _pg_discard
            return 1
        fi
        sleep 0.2
    done

    export HUISCLOS_TEST_POSTGRES="host=127.0.0.1 port=$port user=postgres dbname=postgres"
    export HUISCLOS_TEST_POSTGRES_DIR=$dir
    echo "test PostgreSQL server up: $HUISCLOS_TEST_POSTGRES (in $dir)"
}

# Stops our server (if it runs) and deletes its directory.
_pg_discard() {
    local dir=${_HUISCLOS_PG_DIR:-}
    [ -n "$dir" ] || return 0
    if [ -f "$dir/data/postmaster.pid" ]; then
        # fast: roll back open sessions and stop now; immediate if that hangs.
        _pg_run "$HUISCLOS_PG_BINDIR/pg_ctl" --pgdata="$dir/data" stop -m fast -w -t 30 >/dev/null 2>&1 ||
            _pg_run "$HUISCLOS_PG_BINDIR/pg_ctl" --pgdata="$dir/data" stop -m immediate -w >/dev/null 2>&1 ||
            true
    fi
    rm -rf "$dir"
    _HUISCLOS_PG_DIR=
}

# For the caller's EXIT trap. Leaves alone a server it did not start (one given in
# HUISCLOS_TEST_POSTGRES); safe to call twice. Always succeeds, so that it cannot
# change the exit status of a script under set -e.
stop_test_postgres() {
    if [ -n "${_HUISCLOS_PG_DIR:-}" ]; then
        _pg_discard
        unset HUISCLOS_TEST_POSTGRES HUISCLOS_TEST_POSTGRES_DIR
    fi
    return 0
}
