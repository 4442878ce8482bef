#!/usr/bin/env bash
# make bench-admin: every admin list and the analytics route, timed on a
# data set of production scale (bench/admin_seed.sql: 1,000,000 users in
# invite trees nine levels deep, 10,000,000 ledger rows, 1,000 batches).
#
# Generating the data takes minutes and several GB, so the PostgreSQL
# cluster lives in ADMIN_BENCH_DIR and is kept between runs: the first run
# creates and seeds it, later runs apply pending migrations and measure.
# httpd runs with conf/bench.conf (limiters off) and is always stopped;
# PostgreSQL is stopped at the end too (its data stays).  Each route is
# called ADMIN_BENCH_RUNS times one after another after 3 warm-up calls;
# the table (median, 95th percentile, worst, in ms, measured by curl from
# request to last byte) goes to build/bench/admin.md.  `rm -rf` the
# directory to start over.
#
# Environment:
#   ADMIN_BENCH_DIR (var/bench-admin)   where the cluster lives
#   ADMIN_BENCH_USERS (1000000), ADMIN_BENCH_LEDGER (10000000),
#   ADMIN_BENCH_BATCHES (1000)          the data set's size (first run)
#   ADMIN_BENCH_RUNS (20)               timed calls per route
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"

DIR=${ADMIN_BENCH_DIR:-$MV_ROOT/var/bench-admin}
USERS=${ADMIN_BENCH_USERS:-1000000}
LEDGER=${ADMIN_BENCH_LEDGER:-10000000}
BATCHES=${ADMIN_BENCH_BATCHES:-1000}
RUNS=${ADMIN_BENCH_RUNS:-20}
OUT=$MV_ROOT/build/bench
H=$DIR/httpd

[[ $USERS =~ ^[1-9][0-9]*$ && $LEDGER =~ ^[1-9][0-9]*$ &&
   $BATCHES =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ ]] ||
    die "ADMIN_BENCH_USERS, _LEDGER, _BATCHES and _RUNS must be positive integers"
(( USERS >= 511 && LEDGER >= 10 * BATCHES )) ||
    die "at least 511 users and 10 ledger rows per batch"

cleanup() { httpd_stop "$H"; pg_stop "$DIR"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$DIR" "$OUT"
if [ ! -f "$DIR/pg/PG_VERSION" ]; then
    pgport=$(free_port)
    pg_init "$DIR" "$pgport" "shared_buffers = 1GB" "work_mem = 64MB" \
        "maintenance_work_mem = 512MB" "max_wal_size = 8GB" \
        "synchronous_commit = off"
    pg_start "$DIR"
    pg_create_db "$pgport"
else
    pgport=$(pg_port "$DIR")
    pg_start "$DIR"
fi
migrate "$pgport"
if [ ! -f "$DIR/seeded" ]; then
    echo "seeding $USERS users, $LEDGER ledger rows, $BATCHES batches (minutes)..."
    start=$(date +%s)
    mv_psql "$pgport" -U "$MV_DB_USER" -d "$MV_DB" -v users="$USERS" \
        -v ledger="$LEDGER" -v batches="$BATCHES" \
        -f "$MV_ROOT/bench/admin_seed.sql" >"$DIR/seed.log" 2>&1 ||
        { tail -20 "$DIR/seed.log"; die "seeding failed"; }
    echo "seeded in $(( $(date +%s) - start )) s (log: $DIR/seed.log)"
    touch "$DIR/seeded"
fi

mkdir -p "$H"
new_secret "$H/jwt.secret" 48
new_secret "$H/admin.key" 24
port=$(free_port)
httpd_conf "$H" "$port" "$pgport" "$MV_ROOT/conf/bench.conf"
is_root && chown -R www-data "$H" 2>/dev/null
httpd_start "$H" || die "httpd did not start"
URL=http://127.0.0.1:$port
KEY=$(cat "$H/admin.key")

sql() { mv_psql "$pgport" -U "$MV_DB_USER" -d "$MV_DB" -tAc "$1"; }

# Ids and prefixes of the data set for the filters.
mid_code=$(sql "SELECT max(id) / 2 FROM invite_codes")
mid_user=$(sql "SELECT max(id) / 2 FROM users")
owner=$(sql "SELECT owner_id FROM invite_codes WHERE owner_id IS NOT NULL ORDER BY uses - remaining DESC LIMIT 1")
top_user=$(sql "SELECT id FROM users ORDER BY id LIMIT 1")
leaf_user=$(sql "SELECT max(id) FROM users")
# A selective search (tens of matches) and a broad one (tens of thousands)
# of each kind; the seed's e-mails all start with "user".
mid_email=$(sql "SELECT email FROM users WHERE email IS NOT NULL AND id >= $mid_user ORDER BY id LIMIT 1")
email_prefix=${mid_email:0:10}
mid_phone=$(sql "SELECT phone FROM users WHERE phone IS NOT NULL AND id >= $mid_user ORDER BY id LIMIT 1")
phone_prefix=${mid_phone:1:10}
broad_phone=${mid_phone:1:6}
count_email=$(sql "SELECT count(*) FROM users WHERE lower(email) LIKE '$email_prefix%'")
count_user1=$(sql "SELECT count(*) FROM users WHERE lower(email) LIKE 'user1%'")
count_phone=$(sql "SELECT count(*) FROM users WHERE phone LIKE '+$phone_prefix%'")
count_broad=$(sql "SELECT count(*) FROM users WHERE phone LIKE '+$broad_phone%'")
code_prefix=$(sql "SELECT left(code, 3) FROM invite_codes ORDER BY id DESC LIMIT 1")
batch=$(sql "SELECT max(id) FROM coupon_batches")
year_ago=$(date -u -d '365 days ago' +%Y-%m-%dT%H:%M:%SZ)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
days400=$(date -u -d '399 days ago' +%Y-%m-%dT%H:%M:%SZ)

ROUTES=(
    "invite codes, newest page|/admin/invite-codes"
    "invite codes, 200 a page|/admin/invite-codes?limit=200"
    "invite codes, page in the middle|/admin/invite-codes?before=$mid_code"
    "invite codes, root=true|/admin/invite-codes?root=true"
    "invite codes, root=false|/admin/invite-codes?root=false"
    "invite codes, owner=|/admin/invite-codes?owner=$owner"
    "invite codes, status=active|/admin/invite-codes?status=active"
    "invite codes, status=used_up|/admin/invite-codes?status=used_up"
    "invite codes, status=expired|/admin/invite-codes?status=expired"
    "invite codes, status=disabled|/admin/invite-codes?status=disabled"
    "invite codes, q= (3-letter prefix)|/admin/invite-codes?q=$code_prefix"
    "users, newest page|/admin/users"
    "users, 200 a page|/admin/users?limit=200"
    "users, page in the middle|/admin/users?before=$mid_user"
    "users, q= e-mail prefix ($count_email matches)|/admin/users?q=$email_prefix"
    "users, q= e-mail prefix 'user1' ($count_user1 matches)|/admin/users?q=user1"
    "users, q= phone prefix ($count_phone matches)|/admin/users?q=$phone_prefix"
    "users, q= phone prefix ($count_broad matches)|/admin/users?q=$broad_phone"
    "users, q= id|/admin/users?q=$mid_user"
    "user detail, top of a tree, depth=5|/admin/users/$top_user?depth=5"
    "user detail, top of a tree, depth=2|/admin/users/$top_user?depth=2"
    "user detail, leaf, chain of 8|/admin/users/$leaf_user"
    "coupon batches, newest page|/admin/coupon-batches"
    "coupon batches, 200 a page|/admin/coupon-batches?limit=200"
    "coupon batch CSV (11,000 lines)|/admin/coupon-batches/$batch/coupons.csv"
    "audit, newest page|/admin/audit"
    "analytics, last 30 days (default)|/admin/analytics"
    "analytics, a year by day|/admin/analytics?from=$year_ago&to=$now&interval=day"
    "analytics, a year by week|/admin/analytics?from=$year_ago&to=$now&interval=week"
    "analytics, 400 days by day|/admin/analytics?from=$days400&to=$now&interval=day"
)

# Times one route: RUNS calls after 3 warm-ups; prints "median p95 max".
time_route() {
    local path=$1 i code t
    for i in 1 2 3; do
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Admin-Key: $KEY" "$URL$path")
        [ "$code" = 200 ] || { echo "FAIL $code"; return 1; }
    done
    for i in $(seq 1 "$RUNS"); do
        curl -s -o /dev/null -w '%{time_total}\n' -H "X-Admin-Key: $KEY" "$URL$path"
    done | sort -n | awk -v n="$RUNS" '
        { t[NR] = $1 * 1000 }
        END { p95 = int(n * 0.95 + 0.999); if (p95 > n) p95 = n
              printf "%.1f %.1f %.1f\n", t[int((n + 1) / 2)], t[p95], t[n] }'
}

{
    echo "| route | median ms | p95 ms | max ms |"
    echo "|---|---:|---:|---:|"
    for entry in "${ROUTES[@]}"; do
        name=${entry%%|*}
        read -r med p95 max <<<"$(time_route "${entry#*|}")"
        echo "| $name | $med | $p95 | $max |"
    done
} | tee "$OUT/admin.md"
echo "data: $(sql "SELECT count(*) FROM users") users, $(sql "SELECT count(*) FROM ledger") ledger rows, $(sql "SELECT count(*) FROM coupon_batches") batches, $(sql "SELECT count(*) FROM coupons") coupons; $RUNS calls per route" | tee -a "$OUT/admin.md"
