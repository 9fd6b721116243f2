# Throwaway PostgreSQL cluster for the test suite, from the Debian packages on the machine.
# Source it, then: pg_start (exports TILLWIRE_TEST_POSTGRES_URL), pg_stop. Works as root (PostgreSQL refuses to run
# as root, so the server runs as the `postgres` user) and as an ordinary user.

pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
        echo "scripts/postgres.sh: no PostgreSQL server found under /usr/lib/postgresql (apt-get install postgresql)" >&2
        return 1
    fi
    echo "$dir"
}

pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_start() {
    local bin
    bin=$(pg_bin) || return 1
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tillwire-pg.XXXXXX")
    PG_PORT=$(pg_free_port)
    if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; fi
    pg_as_owner "$bin/initdb" --auth=trust --username=postgres -D "$PG_DIR/data" >"$PG_DIR/initdb.log" 2>&1 || {
        echo "initdb failed:" >&2; cat "$PG_DIR/initdb.log" >&2; return 1; }
    pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=500" start >/dev/null || {
        echo "PostgreSQL did not start:" >&2; cat "$PG_DIR/server.log" >&2; return 1; }
    pg_as_owner "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres tillwire_test
    export TILLWIRE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/tillwire_test"
    export PG_DIR PG_PORT
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (data in $PG_DIR)"
}

pg_stop() {
    [ -n "${PG_DIR:-}" ] || return 0
    local bin
    bin=$(pg_bin) || return 0
    pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    PG_DIR=
}
