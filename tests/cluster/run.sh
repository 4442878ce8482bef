#!/usr/bin/env bash
# make test-cluster: the topology operators run when one host is not
# enough, built from the same helpers as make test (scripts/lib.sh,
# tests/integration/env.sh): a throwaway PostgreSQL, optionally PgBouncer
# in front of it, three module hosts (httpd, event MPM, three processes
# each) on free ports, and HAProxy on a free port in front of them; then
# the cluster test binary through the balancer.  Everything is always
# stopped and the directory removed.
#
#   tests/cluster/run.sh BINARY [MODE...]
#
# MODE: direct (hosts on PostgreSQL), pgbouncer-transaction (PgBouncer in
# transaction pooling, MocaverseDBPooling transaction, PostgreSQL's
# max_connections below the hosts' DBDMax sum), pgbouncer-session
# (PgBouncer in session pooling, the module unchanged).  Default: all.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
ENV="$MV_ROOT/tests/integration/env.sh"
BIN=${1:?usage: run.sh BINARY [MODE...]}; shift
HOSTS="a b c"
# 3 hosts x 3 processes x DBDMax 8 (tests/cluster/host.conf).
HOST_CONNECTIONS=72

run_mode() {
    local mode=$1 pgport pool host port lb stats urls="" servers=() fail=0 t0
    T=$(mktemp -d /tmp/mvcluster.XXXXXX); chmod 755 "$T"
    export MV_TEST_DIR=$T MV_TEST_ENV=$ENV
    cleanup() {
        local d
        haproxy_stop "$T/haproxy"
        for d in "$T"/httpd-*; do [ -d "$d" ] && httpd_stop "$d"; done
        pgbouncer_stop "$T/pgbouncer"
        pg_stop "$T"
        rm -rf "$T"
    }
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    t0=$(date +%s)

    echo "Include \"$MV_ROOT/tests/cluster/host.conf\"" >"$T/host.conf"
    # A server whose default time zone and date style are not what the
    # module reads (+05:30 has no whole-hour offset): only the module's own
    # settings, per session or per transaction, make times come out right.
    # synchronous_commit on (fsync stays off): the fault tests make commits
    # wait for a synchronous standby that never comes (test_cluster.c).
    local pg_defaults=("timezone = 'Asia/Kolkata'" "datestyle = 'SQL, DMY'"
                       "synchronous_commit = on")
    case $mode in
    direct)
        test_pg_up "$T" "${pg_defaults[@]}" ;;
    pgbouncer-transaction)
        # PgBouncer's 20 server connections are all PostgreSQL sees: its
        # max_connections is far below the 72 the hosts may open.
        test_pg_up "$T" "${pg_defaults[@]}" "max_connections = 30"
        pool=20
        echo "MocaverseDBPooling transaction" >>"$T/host.conf" ;;
    pgbouncer-session)
        # A session holds its server connection while the host keeps it
        # pooled: the pool must cover every connection the hosts keep.
        test_pg_up "$T" "${pg_defaults[@]}" \
            "max_connections = $(( HOST_CONNECTIONS + 10 ))"
        pool=$HOST_CONNECTIONS ;;
    *) die "unknown mode $mode" ;;
    esac
    pgport=$(pg_port "$T")
    if [ "$mode" != direct ]; then
        export MV_TEST_DB_PORT=$(free_port)
        pgbouncer_conf "$T/pgbouncer" "$MV_TEST_DB_PORT" "$pgport" \
            "${mode#pgbouncer-}" "$pool"
        pgbouncer_start "$T/pgbouncer" || exit 1
    fi
    for host in $HOSTS; do
        port=$("$ENV" httpd-start "$host" "$T/host.conf") || exit 1
        servers+=("$host=$port"); urls+="http://127.0.0.1:$port "
    done
    lb=$(free_port); stats=$(free_port)
    haproxy_conf "$T/haproxy" "$lb" "$stats" "${servers[@]}"
    haproxy_start "$T/haproxy" || exit 1

    export MV_TEST_URL="http://127.0.0.1:$lb"
    # The test's own checks go straight to PostgreSQL.
    export MV_TEST_PGCONN="host=127.0.0.1 port=$pgport dbname=$MV_DB user=$MV_DB_USER"
    export MV_TEST_ADMIN_KEY=$(cat "$T/admin.key")
    export MV_TEST_JWT_SECRET=$(cat "$T/jwt.secret")
    export MV_CLUSTER_HOSTS=$urls MV_CLUSTER_MODE=$mode
    export MV_CLUSTER_STATS="http://127.0.0.1:$stats"
    echo "== cluster, $mode: HAProxy on $lb, hosts ${servers[*]}," \
         "PostgreSQL on $pgport${MV_TEST_DB_PORT:+, PgBouncer on $MV_TEST_DB_PORT}"
    "$BIN" 2>&1 || fail=1
    test_run_checks "$T" "$pgport" || fail=1
    echo "== cluster, $mode: $(( $(date +%s) - t0 )) s"
    exit $fail
}

fail=0
for mode in ${*:-direct pgbouncer-transaction pgbouncer-session}; do
    ( run_mode "$mode" ) || fail=1
done
exit $fail
