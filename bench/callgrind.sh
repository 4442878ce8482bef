#!/usr/bin/env bash
# bench/callgrind.sh: httpd's user-space instructions per request, under
# valgrind's callgrind, which counts the same on a busy machine as on an
# idle one (make bench's timings do not).  One httpd process (-X: fine
# for counting, never for concurrency), one keep-alive connection,
# COUNT requests of each URL after WARM of warm-up; the counter is zeroed
# and dumped around the measured ones.
#
#   bench/callgrind.sh [COUNT (2000)] [WARM (200)]
#
# URLs: /floor (bench/floor's constant handler, claimed before the
# directory walk as the module's routes are), /floor-walk (the same
# handler with the walk), /health, /version, /me (a bearer token minted
# by mvbench).  Prints one line per URL: instructions per request.
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
COUNT=${1:-2000}
WARM=${2:-200}
BIN=$MV_ROOT/build/bench
command -v callgrind_control >/dev/null || die "valgrind is not installed"

T=$(mktemp -d /tmp/mvcallgrind.XXXXXX); chmod 777 "$T"
H=$T/httpd
VG=
cleanup() {
    [ -n "$VG" ] && kill "$VG" 2>/dev/null && wait "$VG" 2>/dev/null
    pg_stop "$T"; rm -rf "$T"
}
trap cleanup EXIT

pgport=$(free_port)
pg_init "$T" "$pgport"
pg_start "$T"
pg_create_db "$pgport"
migrate "$pgport" >/dev/null
mkdir -p "$H"; chmod 755 "$H"
new_secret "$H/jwt.secret" 48
new_secret "$H/admin.key" 24
port=$(free_port)
httpd_conf "$H" "$port" "$pgport" "$MV_ROOT/conf/bench.conf"
sed "s|@BIN@|$BIN|" "$MV_ROOT/bench/floor/floor.conf.in" >>"$H/httpd.conf"
URL=http://127.0.0.1:$port
uid=$(mv_psql "$pgport" -U "$MV_DB_USER" -d "$MV_DB" -tAc \
      "INSERT INTO users (email) VALUES ('cg@example.com') RETURNING id" | head -n 1)
token=$("$BIN/mvbench" tokens "$H/jwt.secret" mod_mocaverse "$uid" "$uid" 86400 |
        cut -d' ' -f2)

# As root, httpd would switch to www-data after starting, and
# callgrind_control could no longer reach it: start it as that user.
chmod 777 "$H"; chmod 644 "$H/jwt.secret" "$H/admin.key"
AS=(); is_root && AS=(runuser -u www-data --)
"${AS[@]}" valgrind --tool=callgrind --callgrind-out-file="$T/cg.%p" \
    "$HTTPD" -f "$H/httpd.conf" -X >"$T/valgrind.log" 2>&1 &
VG=$!
for _ in $(seq 1 300); do
    curl -s -o /dev/null "$URL/version" && break
    sleep 0.2
done
CG=$(pgrep -f "callgrind.*$H/httpd.conf" | tail -n 1)

# requests N PATH [HEADER]: N GETs over one keep-alive connection.
requests() {
    local n=$1 path=$2 header=${3:-}
    for _ in $(seq 1 "$n"); do
        printf 'url = "%s%s"\noutput = "/dev/null"\n' "$URL" "$path"
        [ -n "$header" ] && printf 'header = "%s"\n' "$header"
    done >"$T/curl.cfg"
    curl -s -K "$T/curl.cfg"
}
measure() {
    local path=$1 header=${2:-} before after
    requests "$WARM" "$path" "$header"
    "${AS[@]}" callgrind_control -z "$CG" >/dev/null
    requests "$COUNT" "$path" "$header"
    "${AS[@]}" callgrind_control -d "$CG" >/dev/null
    sleep 1
    after=$(ls -t "$T"/cg.* | head -n 1)
    awk -v n="$COUNT" -v p="$path" '/^summary:|^totals:/ {
        printf "%-12s %8.1f k instructions per request\n", p, $2 / n / 1000
        exit }' "$after"
    rm -f "$after"
}
measure /floor
measure /floor-walk
measure /health
measure /version
measure /me "Authorization: Bearer $token"
