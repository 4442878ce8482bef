#!/usr/bin/env bash
# make integration: a throwaway PostgreSQL cluster and an httpd running the
# built module with several child processes, both on free ports, then
# every integration test binary against them.  Both are always stopped and
# the directory removed, whatever happens.  The run fails if any httpd
# child died on a signal.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
ENV="$MV_ROOT/tests/integration/env.sh"

T=$(mktemp -d /tmp/mvtest.XXXXXX); chmod 755 "$T"
export MV_TEST_DIR=$T MV_TEST_ENV=$ENV
cleanup() {
    local d
    for d in "$T"/httpd-*; do [ -d "$d" ] && httpd_stop "$d"; done
    pg_stop "$T"
    # The logs outlive the run, for reading a failure afterwards.
    rm -rf "$MV_ROOT/build/test-logs"; mkdir -p "$MV_ROOT/build/test-logs"
    for d in "$T"/httpd-*; do
        [ -f "$d/error.log" ] && cp "$d/error.log" "$MV_ROOT/build/test-logs/$(basename "$d").log"
    done
    cp "$T/postgres.log" "$MV_ROOT/build/test-logs/" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

test_pg_up "$T" "track_commit_timestamp = on"
pgport=$(pg_port "$T")
port=$("$ENV" httpd-start main) || exit 1

export MV_TEST_URL="http://127.0.0.1:$port"
export MV_TEST_PGCONN="host=127.0.0.1 port=$pgport dbname=$MV_DB user=$MV_DB_USER"
export MV_TEST_ADMIN_KEY=$(cat "$T/admin.key")
export MV_TEST_JWT_SECRET=$(cat "$T/jwt.secret")
echo "test httpd on $MV_TEST_URL ($(pgrep -P "$(cat "$T/httpd-main/httpd.pid")" | wc -l) children), PostgreSQL on $pgport"

# Route suites run a second time, under <Location "/api"> (about a
# minute more; test_deployment covers the other shapes).
MV_API_SUITES="test_foundation test_accounts test_accounts_tokens test_coupons
    test_lockout test_otp test_scan test_wallet"
MV_API_SUITES=$(echo $MV_API_SUITES)

fail=0
for t in "$@"; do
    echo "== $t"
    start=$SECONDS
    "$t" 2>&1 || fail=1
    echo "   $(basename "$t"): $((SECONDS - start)) s"
done

# The route suites again, with the module under <Location "/api"> (the
# README's snippet, verbatim) instead of the root.
API_CONF="$MV_ROOT/tests/integration/location-api.conf"
snippet=$(sed -n '/^# README snippet$/,$p' "$API_CONF" | tail -n +2)
if [[ "$(cat "$MV_ROOT/README.md")" != *"$snippet"* ]]; then
    echo "FAIL: README.md no longer holds the snippet of $API_CONF"; fail=1
fi
api_port=$("$ENV" httpd-start api "$API_CONF") || exit 1
for t in "$@"; do
    case " $MV_API_SUITES " in *" $(basename "$t") "*) ;; *) continue ;; esac
    echo "== $t (under /api)"
    start=$SECONDS
    MV_TEST_URL="http://127.0.0.1:$api_port/api" "$t" 2>&1 || fail=1
    echo "   $(basename "$t") under /api: $((SECONDS - start)) s"
done

test_run_checks "$T" "$pgport" || fail=1
# Sanitizer reports (make test-asan): httpd children's in files of their
# own (tests/asan/apache2), anything else in the error logs.
if [ -n "$(cat "$T"/sanitizer/* 2>/dev/null)" ] ||
    sanitizer_reports "$T"/httpd-*/error.log >/dev/null; then
    echo "FAIL: sanitizer reports from httpd:"
    cat "$T"/sanitizer/* 2>/dev/null; sanitizer_reports "$T"/httpd-*/error.log
    fail=1
fi
exit $fail
