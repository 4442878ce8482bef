#!/usr/bin/env bash
# The test environment's controls, for run.sh and for tests that need to
# stop the database or start extra httpd instances (through the harness):
#   env.sh httpd-start NAME [EXTRA_CONF]   start an instance, print its port
#   env.sh httpd-try NAME EXTRA_CONF       try to start one; print httpd's output
#   env.sh httpd-stop NAME
#   env.sh pg-stop | pg-start
# MV_TEST_DIR names the run's directory (made by run.sh).
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
    httpd_conf "$dir" "$port" "$(pg_port "$T")" "$BASE_CONF"
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
pg-stop) pg_stop "$T" ;;
pg-start) pg_start "$T" ;;
*) echo "usage: env.sh httpd-start|httpd-try|httpd-stop|pg-stop|pg-start" >&2; exit 2 ;;
esac
