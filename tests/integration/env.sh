#!/usr/bin/env bash
# The test environment's controls, for run.sh and for tests that need to
# stop the database or start extra httpd instances (through the harness):
#   env.sh httpd-start NAME [EXTRA_CONF]   start an instance, print its port
#   env.sh httpd-try NAME EXTRA_CONF       try to start one; print httpd's output
#   env.sh httpd-stop NAME
#   env.sh httpd-kill NAME        SIGKILL to all its processes (a host dying)
#   env.sh httpd-restart NAME     start a stopped or killed instance again
#   env.sh httpd-graceful NAME    httpd -k graceful
#   env.sh pg-stop | pg-start
#   env.sh pooler-kill | pooler-start   PgBouncer in MV_TEST_DIR/pgbouncer
# MV_TEST_DIR names the run's directory (made by run.sh); instances connect
# to the database on MV_TEST_DB_PORT (a pooler) when set, else to PostgreSQL.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
T=${MV_TEST_DIR:?MV_TEST_DIR is not set}
BASE_CONF="$MV_ROOT/tests/integration/test.conf"

# Prepares DIR for an instance: its secrets, and a conf including EXTRA.
instance_conf() {
    local name=$1 extra=${2:-} dir="$T/httpd-$1" port
    mkdir -p "$dir"; chmod 755 "$dir"
    cp "$T/jwt.secret" "$T/admin.key" "$dir/"
    port=$(free_port)
    httpd_conf "$dir" "$port" "${MV_TEST_DB_PORT:-$(pg_port "$T")}" "$BASE_CONF"
    [ -n "$extra" ] && echo "Include \"$extra\"" >>"$dir/httpd.conf"
    echo "$port"
}

case "$1" in
httpd-start)
    port=$(instance_conf "$2" "${3:-}")
    httpd_start "$T/httpd-$2" >&2 || exit 1
    echo "$port" ;;
httpd-try)
    instance_conf "$2" "${3:-}" >/dev/null
    "$HTTPD" -f "$T/httpd-$2/httpd.conf" -k start 2>&1; rc=$?
    [ $rc = 0 ] && { sleep 0.5; httpd_stop "$T/httpd-$2"; }
    exit $rc ;;
httpd-stop) httpd_stop "$T/httpd-$2" ;;
httpd-kill) httpd_kill "$T/httpd-$2" ;;
httpd-restart) httpd_start "$T/httpd-$2" >&2 ;;
httpd-graceful) "$HTTPD" -f "$T/httpd-$2/httpd.conf" -k graceful ;;
pg-stop) pg_stop "$T" ;;
pg-start) pg_start "$T" ;;
pooler-kill) pgbouncer_stop "$T/pgbouncer" -KILL ;;
pooler-start) pgbouncer_start "$T/pgbouncer" ;;
*) echo "usage: env.sh httpd-start|httpd-try|httpd-stop|httpd-kill|httpd-restart|" \
        "httpd-graceful|pg-stop|pg-start|pooler-kill|pooler-start" >&2; exit 2 ;;
esac
