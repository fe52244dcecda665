#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the `xos sql` tests, on a Unix socket in
# a temporary folder (no TCP port, nothing left behind).
#
#   eval "$(tests/engines/postgres.sh start)"   # exports PGHOST PGPORT PGUSER PGDATABASE XOS_PG_DIR
#   tests/engines/postgres.sh stop "$XOS_PG_DIR"
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_owner() {
    # initdb and postgres refuse to run as root: run them as `postgres`.
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-}" in
start)
    dir=$(mktemp -d /tmp/xos-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U xos -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-k $dir -c listen_addresses= -p 5439 -c fsync=off" start >&2 ||
        { cat "$dir/server.log" >&2; exit 1; }
    echo "export PGHOST=$dir PGPORT=5439 PGUSER=xos PGDATABASE=postgres XOS_PG_DIR=$dir"
    ;;
stop)
    dir="${2:?the folder printed by start}"
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
