#!/usr/bin/env bash
# make bench: the module's hot paths against the ceilings the machine and
# PostgreSQL allow, measured in one run, in interleaved rounds.
#
# Starts the same throwaway PostgreSQL (durable: fsync, synchronous_commit
# and full_page_writes at their defaults, on) and httpd as `make test`,
# plus conf/bench.conf, makes its users, access tokens, coupons and ledger
# history through the module's own routes, then runs every scenario and
# its ceilings in BENCH_ROUNDS rounds (order reversed every other round)
# and prints medians with the spread.  PostgreSQL and httpd are always
# stopped and the run directory removed.  docs/BENCHMARKS.md explains it.
#
# Environment:
#   BENCH_SECONDS (10)  length of each measured run
#   BENCH_WARMUP (2)    length of the warm-up run before each one
#   BENCH_ROUNDS (3)    rounds of every scenario
#   BENCH_CONNS (8)     connections (wrk) and clients (pgbench)
#   BENCH_USERS (500)   users, each with 51 ledger entries made by scans
#   BENCH_SCAN_RATE_MAX (5000)  coupons made per second of a scan run
#   BENCH_BATCHES (5)   timed POST /coupons/generate batches of 10,000
#   BENCH_MEM_REQUESTS (100000)  requests of the memory run
#   BENCH_ONLY          comma-separated subset of: health me scan wallet
#                       login generate memory (their ceilings come along)
#   BENCH_DURABLE (on)  off: fsync, synchronous_commit, full_page_writes
#                       off (the table says so)
#   BENCH_NODE (on)     off: no Node comparison (bench/node, installed
#                       from npm into build/bench/node)
#   BENCH_OUT (build/bench)      where results.md goes
#   BENCH_RATELIMIT (off)  on: rate limiters counting, with unreachable quotas
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/pooler.sh"   # scan and wallet through PgBouncer

SECS=${BENCH_SECONDS:-10}
WARM=${BENCH_WARMUP:-2}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-8}
USERS=${BENCH_USERS:-500}
RATE_MAX=${BENCH_SCAN_RATE_MAX:-5000}
BATCHES=${BENCH_BATCHES:-5}
MEM_REQUESTS=${BENCH_MEM_REQUESTS:-100000}
ONLY=${BENCH_ONLY:-health,me,scan,wallet,login,generate,memory}
DURABLE=${BENCH_DURABLE:-on}
NODE=${BENCH_NODE:-on}
OUT=${BENCH_OUT:-$MV_ROOT/build/bench}
BIN=$MV_ROOT/build/bench
LUA=$MV_ROOT/bench/wrk/bench.lua

HISTORY=51              # ledger entries per user: a full first wallet page
BATCH_SIZE=10000        # coupons per generate call (MocaverseCouponBatchMax)
PWHASH_OPS=2            # MocaversePasswordHash default (conf/bench.conf
PWHASH_MIB=19           # keeps it): argon2id t=2, 19 MiB
LOGIN_EMAIL=bench-login@example.com
LOGIN_PASSWORD=bench-password-1
DEVICE=bench-device     # deviceId and gps of every scan: the module and
GPS=48.8566,2.3522      # pgbench bind the same text
BEFORE=9223372036854775807  # wallet "before": above every ledger id
WALLET_LIMIT=50         # the wallet's default page size
THREADS=$(( CONNS < 2 ? CONNS : 2 ))    # wrk -t and pgbench -j
CORES=$(nproc)
HZ=$(getconf CLK_TCK)

[[ $SECS =~ ^[1-9][0-9]*$ && $WARM =~ ^[0-9]+$ && $CONNS =~ ^[1-9][0-9]*$ &&
   $ROUNDS =~ ^[1-9][0-9]*$ && $USERS =~ ^[1-9][0-9]*$ &&
   $RATE_MAX =~ ^[1-9][0-9]*$ && $BATCHES =~ ^[1-9][0-9]*$ &&
   $MEM_REQUESTS =~ ^[1-9][0-9]*$ && $USERS -ge 32 ]] ||
    die "BENCH_SECONDS, _ROUNDS, _CONNS, _USERS, _SCAN_RATE_MAX, _BATCHES" \
        "and _MEM_REQUESTS must be positive integers, BENCH_WARMUP >= 0," \
        "BENCH_USERS >= 32"
for tool in wrk pgbench curl jq shuf; do
    command -v "$tool" >/dev/null || die "$tool is not installed (make deps)"
done
[ -x "$BIN/mvbench" ] || die "build/bench/mvbench is missing: run make bench"
want() { [[ ",$ONLY," == *",$1,"* ]]; }
# Per-run figures, keyed "name#round"; NOTE by name.
declare -A RPS P50 P99 ERRS NOTE CPU_H CPU_P CPU_C BACKENDS PGS
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

T=$(mktemp -d /tmp/mvbench.XXXXXX); chmod 755 "$T"
H=$T/httpd
NODE_PID=
cleanup() {
    local pid
    [ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null
    httpd_stop "$H"
    # A child that outlived its parent's stop still holds the port.
    for pid in $(pgrep -f "$H/httpd.conf"); do kill -9 "$pid" 2>/dev/null; done
    pooler_cleanup
    pg_stop "$T"
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s  %s\n' "$(date +%T)" "$*" >&2; }

# ------------------------------------------------------------------ setup

log "starting PostgreSQL (durable: $DURABLE)"
pgport=$(free_port)
PG_SETTINGS=("shared_buffers = 256MB"
             "shared_preload_libraries = 'pg_stat_statements'")
[ "$DURABLE" = off ] && PG_SETTINGS+=("fsync = off" "synchronous_commit = off"
                                     "full_page_writes = off")
pg_init "$T" "$pgport" "${PG_SETTINGS[@]}"
pg_start "$T"
pg_create_db "$pgport"
migrate "$pgport" >/dev/null
sql() { mv_psql "$pgport" -U "$MV_DB_USER" -d "$MV_DB" "$@"; }
su_sql() { mv_psql "$pgport" -U postgres -d "$MV_DB" "$@"; }
sql -f "$MV_ROOT/bench/seed.sql" >/dev/null || die "bench/seed.sql failed"
su_sql -c "CREATE EXTENSION pg_stat_statements" >/dev/null ||
    die "pg_stat_statements is not available"
MV_ROLE=$(su_sql -tAc "SELECT oid FROM pg_roles WHERE rolname = '$MV_DB_USER'")

log "starting httpd"
mkdir -p "$H"; chmod 755 "$H"
new_secret "$H/jwt.secret" 48
new_secret "$H/admin.key" 24
ADMIN_KEY=$(cat "$H/admin.key")
port=$(free_port)
httpd_conf "$H" "$port" "$pgport" "$MV_ROOT/conf/bench.conf"
# BENCH_RATELIMIT=on: the limiters run (shm store) with quotas no run
# reaches, to measure what counting costs against a run without them.
if [ "${BENCH_RATELIMIT:-off}" = on ]; then
    printf 'MocaverseRateLimit %s 100000000 60\n' auth scan api >>"$H/httpd.conf"
fi
# httpd's floor: a handler that answers a constant (bench/floor), at a
# location claimed before the directory walk as the module's are, and at
# one that is not.
sed "s|@BIN@|$BIN|" "$MV_ROOT/bench/floor/floor.conf.in" >>"$H/httpd.conf"
httpd_start "$H" || die "httpd did not start"
URL=http://127.0.0.1:$port

# The Node comparison (bench/node): pinned packages from npm into
# build/bench/node, the module's SQL printed by sqlgen, one process per
# core.
NODE_URL=
if [ "$NODE" = on ]; then
    N=$BIN/node
    mkdir -p "$N/sql"
    cp "$MV_ROOT/bench/node/package.json" "$MV_ROOT/bench/node/package-lock.json" \
        "$MV_ROOT/bench/node/server.js" "$N/"
    for s in scan scan_status wallet; do
        "$BIN/sqlgen" sql "$s" >"$N/sql/$s.sql"
    done
    if ! cmp -s "$N/package-lock.json" "$N/node_modules/.package-lock.json" 2>/dev/null &&
       ! (cd "$N" && npm ci --no-audit --no-fund >"$T/npm.log" 2>&1); then
        NOTE[node]="npm ci failed: $(tail -n 1 "$T/npm.log")"
    elif command -v node >/dev/null; then
        nport=$(free_port)
        PORT=$nport PGPORT=$pgport PGDATABASE=$MV_DB PGUSER=$MV_DB_USER \
            JWT_SECRET_FILE=$H/jwt.secret ISSUER=mod_mocaverse SQL_DIR=$N/sql \
            WORKERS=$CORES node "$N/server.js" >"$T/node.log" 2>&1 &
        NODE_PID=$!
        for _ in $(seq 1 100); do
            curl -s -o /dev/null "http://127.0.0.1:$nport/health" && break
            sleep 0.2
        done
        curl -s -o /dev/null "http://127.0.0.1:$nport/health" &&
            NODE_URL=http://127.0.0.1:$nport ||
            NOTE[node]="the Node server did not start: $(tail -n 1 "$T/node.log")"
    else
        NOTE[node]="node is not installed"
    fi
fi

# ------------------------------------------- data, through the module's routes

# post PATH JSON [HEADER...]: the body of a 200 answer, or dies.
post() {
    local path=$1 body=$2 h=() x out; shift 2
    for x in "$@"; do h+=(-H "$x"); done
    out=$(curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
          "${h[@]}" -d "$body" "$URL$path")
    [ "${out##*$'\n'}" = 200 ] || die "POST $path: ${out//$'\n'/ }"
    printf '%s\n' "${out%$'\n'*}"
}

# many_posts PATH < JSON lines: each body POSTed in turn over one
# keep-alive connection (one curl process); prints one answer a line.
many_posts() {
    local path=$1 body sep=
    while IFS= read -r body; do
        body=${body//\\/\\\\}
        printf '%surl = "%s%s"\nheader = "Content-Type: application/json"\n' \
            "$sep" "$URL" "$path"
        printf 'data = "%s"\nwrite-out = "\\n"\n' "${body//\"/\\\"}"
        sep=$'next\n'
    done >"$T/curl.cfg"
    curl -s -K "$T/curl.cfg"
}

log "making $USERS users through POST /auth/otp and /auth/verify"
invite=$(post /admin/invite-codes "{\"count\":1,\"uses\":$(( USERS + 1 ))}" \
         "X-Admin-Key: $ADMIN_KEY" | jq -r '.codes[0].code')
seq 1 "$USERS" | awk '{printf "{\"email\":\"bench-%d@example.com\"}\n", $1}' |
    many_posts /auth/otp | jq -r '.otp' >"$T/otps"
[ "$(grep -c '^[0-9]\{6\}$' "$T/otps")" = "$USERS" ] ||
    die "POST /auth/otp did not return $USERS codes (MocaverseOTPDelivery response?)"
awk -v code="$invite" '{printf "{\"email\":\"bench-%d@example.com\",\"otp\":\"%s\",\"inviteCode\":\"%s\"}\n", NR, $1, code}' \
    "$T/otps" | many_posts /auth/verify |
    jq -r '"\(.user.id) \(.accessToken)"' >"$T/tokens"
[ "$(grep -c '^[0-9]* ey' "$T/tokens")" = "$USERS" ] ||
    die "POST /auth/verify did not sign $USERS users in"
post /auth/register-with-email "{\"email\":\"$LOGIN_EMAIL\",\"password\":\"$LOGIN_PASSWORD\",\"inviteCode\":\"$invite\"}" \
    >/dev/null

# gen_coupons COUNT FILE: COUNT coupons made by POST /coupons/generate
# (10 points each), their tokens in random order in FILE, the batch ids
# appended to FILE.batches.
gen_coupons() {
    local left=$1 file=$2 n out
    : >"$file.tmp"; : >"$file.batches"
    while [ "$left" -gt 0 ]; do
        n=$(( left < BATCH_SIZE ? left : BATCH_SIZE ))
        out=$(post /coupons/generate "{\"count\":$n,\"points\":10}" \
              "X-Admin-Key: $ADMIN_KEY") || return 1
        jq -r '.tokens[]' <<<"$out" >>"$file.tmp"
        jq -r '.batchId' <<<"$out" >>"$file.batches"
        left=$(( left - n ))
    done
    shuf "$file.tmp" >"$file"; rm -f "$file.tmp"
}
# scans_of FILE: the scans written for the coupons of FILE's batches.
scans_of() {
    sql -tAc "SELECT count(*) FROM scans s JOIN coupons c ON c.id = s.coupon_id
              WHERE c.batch_id IN ($(paste -sd, "$1.batches"))"
}

if want wallet || want scan; then
    # Two coupons more per user than needed: wrk stops with requests in
    # flight that the server may never see.
    log "ledger history: $HISTORY scans for each user through POST /scan"
    gen_coupons $(( USERS * (HISTORY + 2) )) "$T/history.coupons" ||
        die "POST /coupons/generate failed"
    rm -f "$T/history.done"
    wrk -t "$THREADS" -c 32 -d 600s --timeout 10s -s "$LUA" "$URL/" -- scan \
        "threads=$THREADS" "tokens=$T/tokens" "coupons=$T/history.coupons" \
        seq=1 "count=$(( USERS * (HISTORY + 2) ))" "donefile=$T/history.done" \
        "device=$DEVICE" "gps=$GPS" >"$T/history.out" 2>&1
    short=$(sql -tAc "SELECT count(*) FROM users u WHERE u.email LIKE 'bench-%'
                      AND u.email <> '$LOGIN_EMAIL' AND (SELECT count(*)
                      FROM ledger l WHERE l.user_id = u.id) < $HISTORY")
    [ "$short" = 0 ] || NOTE[history]="$short users have fewer than $HISTORY ledger entries"
fi
# Statistics as autovacuum would have them by now.
su_sql -c "VACUUM ANALYZE" >/dev/null

# ----------------------------------------------------------- measurement

ROUND=0
key() { echo "$1#$ROUND"; }

# Writes "pid ticks" of the servers (httpd children, the Node processes)
# and of PostgreSQL (postmaster with its reaped children, and every live
# child) to FILE.
cpu_snapshot() {
    local pm pid
    pm=$(head -n 1 "$T/pg/postmaster.pid")
    {
        for pid in $(pgrep -P "$(cat "$H/httpd.pid")") $NODE_PID \
                   $( [ -n "$NODE_PID" ] && pgrep -P "$NODE_PID"); do
            awk -v p="$pid" '{print "h", p, $14 + $15}' "/proc/$pid/stat" 2>/dev/null
        done
        awk -v p="$pm" '{print "p", p, $14 + $15 + $16 + $17}' "/proc/$pm/stat"
        for pid in $(pgrep -P "$pm"); do
            awk -v p="$pid" '{print "p", p, $14 + $15}' "/proc/$pid/stat" 2>/dev/null
        done
    } >"$1"
}
# CPU ticks of side h or p between two snapshots (a process gone since the
# first counts in the postmaster's reaped children).
cpu_delta() {
    awk -v side="$3" 'FNR == NR {a[$2] = $3; next}
        $1 == side {s += $3 - a[$2]} END {print s + 0}' "$1" "$2"
}
# How many PostgreSQL processes (backends and background) used any CPU.
cpu_busy() {
    awk 'FNR == NR {a[$2] = $3; next} $1 == "p" && $3 - a[$2] > 0 {n++}
         END {print n + 0}' "$1" "$2"
}
# The load generator's CPU: `times` of this shell's finished children.
client_times() { times >"$1"; }
client_ticks() {
    tail -n 1 "$1" | awk '{
        split($1, u, /[ms]/); split($2, s, /[ms]/)
        printf "%.0f", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 100 }'
}

# What PostgreSQL did during the measured run: the bench role's
# statements (pg_stat_statements, updated as each one ends) and the WAL
# written (by position: pg_stat_wal is flushed up to seconds late).
pg_stats_begin() {
    su_sql -tAc "SELECT pg_stat_statements_reset()" >/dev/null
    su_sql -tAc "SELECT pg_current_wal_lsn()" >"$T/lsn.0"
}
# pg_stat_end NAME REQUESTS: "statements WAL_bytes blocks dirtied exec_us"
# per request into PGS.
pg_stats_end() {
    local name=$1 n=$2 s
    s=$(su_sql -tAF' ' -c "SELECT pg_current_wal_lsn() - '$(cat "$T/lsn.0")',
        sum(calls), sum(shared_blks_hit + shared_blks_read),
        sum(shared_blks_dirtied), sum(total_exec_time)
        FROM pg_stat_statements WHERE userid = $MV_ROLE")
    [ "${n:-0}" -gt 0 ] || return 0
    PGS[$(key "$name")]=$(awk -v n="$n" -v s="$s" 'BEGIN {split(s, x, " ")
        printf "%.2f %.0f %.1f %.2f %.0f", x[2] / n, x[1] / n, x[3] / n,
               x[4] / n, x[5] * 1000 / n}')
}

# measured NAME CMD...: runs CMD and stores each side's CPU; returns its
# status.  Starts from a checkpoint, so every run pays the same
# full-page writes.
measured() {
    local name=$1; shift
    local rc k
    cpu_snapshot "$T/cpu.0"; client_times "$T/times.0"
    "$@"; rc=$?
    cpu_snapshot "$T/cpu.1"; client_times "$T/times.1"
    k=$(key "$name")
    CPU_H[$k]=$(cpu_delta "$T/cpu.0" "$T/cpu.1" h)
    CPU_P[$k]=$(cpu_delta "$T/cpu.0" "$T/cpu.1" p)
    BACKENDS[$k]=$(cpu_busy "$T/cpu.0" "$T/cpu.1")
    CPU_C[$k]=$(( $(client_ticks "$T/times.1") - $(client_ticks "$T/times.0") ))
    return $rc
}

# Reads wrk's "BENCH key=value..." line from FILE into the arrays.
record() {
    local name=$1 file=$2 line k
    k=$(key "$name")
    line=$(grep '^BENCH ' "$file" | tail -n 1)
    [ -n "$line" ] || { NOTE[$name]="no result"; tail -5 "$file" >&2; return 1; }
    RPS[$k]=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
    P50[$k]=$(sed -n 's/.* p50_us=\([0-9]*\).*/\1/p' <<<"$line")
    P99[$k]=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$line")
    ERRS[$k]=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$line")
    OKS=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$line")
    REQS=$(sed -n 's/^BENCH requests=\([0-9]*\).*/\1/p' <<<"$line")
}

# wrk_run NAME PATH MODE [OPTION...]: a warm-up run, then the measured
# one.  WARM_OPTS / RUN_OPTS add options to one of them only.
WARM_OPTS=(); RUN_OPTS=()
wrk_run() {
    local name=$1 path=$2 mode=$3; shift 3
    local args=(-t "$THREADS" -c "$CONNS" --timeout 10s -s "$LUA"
                "${SERVER:-$URL}$path" -- "$mode" "threads=$THREADS" "$@")
    log "round $ROUND, $name: $CONNS connections, ${WARM}s warm-up + ${SECS}s"
    su_sql -c CHECKPOINT >/dev/null
    if [ "$WARM" -gt 0 ]; then
        wrk -d "${WARM}s" "${args[@]}" "${WARM_OPTS[@]}" >"$T/$name.warm" 2>&1
    fi
    pg_stats_begin
    measured "$name" wrk -d "${SECS}s" "${args[@]}" "${RUN_OPTS[@]}" \
        >"$T/$name.out" 2>&1
    record "$name" "$T/$name.out" && pg_stats_end "$name" "$REQS"
}

# pgbench_run NAME SCRIPT: the same warm-up and run with pgbench -M
# prepared over TCP, CONNS clients on THREADS threads; latency
# percentiles from the per-transaction log.  WARM_BASE / RUN_BASE: first
# bench_tokens number of each.
WARM_BASE=1; RUN_BASE=1
pgbench_run() {
    local name=$1 script=$2 tps failed n f k
    local args=(-n -M prepared -c "$CONNS" -j "$THREADS" -f "$script"
                -D "clients=$CONNS" -D "users=$USERS" -D i=0
                -D "device=$DEVICE" -D "gps=$GPS" -D "before=$BEFORE"
                -D "limit=$((WALLET_LIMIT + 1))"
                -h 127.0.0.1 -p "$pgport" -U "$MV_DB_USER" "$MV_DB")
    k=$(key "$name")
    log "round $ROUND, $name: pgbench, $CONNS clients, ${WARM}s warm-up + ${SECS}s"
    su_sql -c CHECKPOINT >/dev/null
    if [ "$WARM" -gt 0 ]; then
        pgbench -T "$WARM" "${args[@]}" -D "base=$WARM_BASE" \
            >"$T/$name.warm" 2>&1
    fi
    rm -rf "$T/$name.log"; mkdir -p "$T/$name.log"
    pg_stats_begin
    measured "$name" pgbench -T "$SECS" "${args[@]}" -D "base=$RUN_BASE" \
        -l --log-prefix="$T/$name.log/tx" >"$T/$name.out" 2>&1
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' \
          "$T/$name.out")
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' \
             "$T/$name.out")
    REQS=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' \
           "$T/$name.out")
    if [ -z "$tps" ] || grep -q 'aborted\|ERROR' "$T/$name.out"; then
        NOTE[$name]="pgbench failed"; tail -5 "$T/$name.out" >&2; return 1
    fi
    pg_stats_end "$name" "$REQS"
    for f in "$T/$name.log"/tx*; do cut -d' ' -f3 "$f"; done | sort -n \
        >"$T/$name.lat"
    n=$(wc -l <"$T/$name.lat")
    RPS[$k]=$tps
    P50[$k]=$(sed -n "$(( n / 2 + 1 ))p" "$T/$name.lat")
    P99[$k]=$(sed -n "$(( n * 99 / 100 + 1 ))p" "$T/$name.lat")
    ERRS[$k]=${failed:-0}
}

# scan_coupons NAME: fresh coupons for one scan run, RATE_MAX a second of
# warm-up and of measured run: NAME.warm.coupons and NAME.run.coupons
# (wrk), and both numbered in bench_tokens, warm-up first (pgbench).
scan_coupons() {
    local name=$1
    gen_coupons $(( RATE_MAX * (WARM > 0 ? WARM : 1) )) "$T/$name.warm.coupons" &&
        gen_coupons $(( RATE_MAX * SECS )) "$T/$name.run.coupons" ||
        die "POST /coupons/generate failed"
    WARM_BASE=1
    RUN_BASE=$(( $(wc -l <"$T/$name.warm.coupons") + 1 ))
    cat "$T/$name.warm.coupons" "$T/$name.run.coupons" |
        awk '{print NR "\t" $0}' >"$T/bench_tokens.tsv"
    sql -q -c "TRUNCATE bench_tokens" \
        -c "\\copy bench_tokens FROM '$T/bench_tokens.tsv'" >/dev/null ||
        die "loading bench_tokens failed"
}
# scan_check NAME OK: the scans written for the measured run's coupons
# against its OK successes; wrk stops with up to CONNS requests in
# flight, which the server may still have completed.
scan_check() {
    local name=$1 ok=$2 slack=$3 rows
    rows=$(scans_of "$T/$name.run.coupons")
    if [ "$rows" -lt "$ok" ] || [ "$rows" -gt $(( ok + slack )) ]; then
        NOTE[$name]="${NOTE[$name]:-}round $ROUND: $ok successes but $rows scans written. "
    fi
    CHECKS+=("$name, round $ROUND: $ok successes, $rows scans written")
}
CHECKS=()

first=$(head -n 1 "$T/tokens")
first_id=${first%% *}
first_auth="Authorization: Bearer ${first#* }"

probe() {   # probe METHOD PATH [HEADER...]: "STATUS BODY"
    local method=$1 path=$2 h=() x; shift 2
    for x in "$@"; do h+=(-H "$x"); done
    curl -s -o "$T/probe" -w '%{http_code} ' -X "$method" "${h[@]}" "$URL$path"
    cat "$T/probe"
}

# One function per run; a round runs them all, in turn.
run_floor() { wrk_run floor /floor get; }
run_floor_walk() { wrk_run floor_walk /floor-walk get; }
run_health() { wrk_run health /health get; }
run_me() { wrk_run me /me me "tokens=$T/tokens"; }
run_scan() {
    scan_coupons scan
    WARM_OPTS=("coupons=$T/scan.warm.coupons")
    RUN_OPTS=("coupons=$T/scan.run.coupons")
    wrk_run scan / scan "tokens=$T/tokens" "device=$DEVICE" "gps=$GPS" &&
        scan_check scan "$OKS" "$CONNS"
    WARM_OPTS=(); RUN_OPTS=()
}
# The same with a fresh Idempotency-Key per request: the key's
# transaction (claim, store, commit) measured in the same run.
run_scan_key() {
    scan_coupons scan_key
    WARM_OPTS=("coupons=$T/scan_key.warm.coupons")
    RUN_OPTS=("coupons=$T/scan_key.run.coupons")
    wrk_run scan_key / scan_key "tokens=$T/tokens" "device=$DEVICE" \
        "gps=$GPS" && scan_check scan_key "$OKS" "$CONNS"
    WARM_OPTS=(); RUN_OPTS=()
}
run_node_health() { SERVER=$NODE_URL wrk_run node_health /health get; }
run_node_scan() {
    scan_coupons node_scan
    WARM_OPTS=("coupons=$T/node_scan.warm.coupons")
    RUN_OPTS=("coupons=$T/node_scan.run.coupons")
    SERVER=$NODE_URL wrk_run node_scan / scan "tokens=$T/tokens" \
        "device=$DEVICE" "gps=$GPS" && scan_check node_scan "$OKS" "$CONNS"
    WARM_OPTS=(); RUN_OPTS=()
}
run_node_wallet() {
    SERVER=$NODE_URL wrk_run node_wallet / wallet "tokens=$T/tokens" \
        "before=$BEFORE"
}
run_scan_pg() {
    scan_coupons scan_pg
    pgbench_run scan_pg "$BIN/scan.pgbench" && scan_check scan_pg "$REQS" 0
}
run_scan_naive() {
    scan_coupons scan_naive
    pgbench_run scan_naive "$MV_ROOT/bench/scan_naive.pgbench" &&
        scan_check scan_naive "$REQS" 0
}
# The wallet's first page, asked with an explicit "before" above every
# id: pgbench cannot bind a NULL parameter, so this is how the module and
# pgbench send the very same statement with the very same values.
run_wallet() { wrk_run wallet / wallet "tokens=$T/tokens" "before=$BEFORE"; }
run_wallet_pg() { pgbench_run wallet_pg "$BIN/wallet.pgbench"; }
run_login() {
    wrk_run login / login "email=$LOGIN_EMAIL" "password=$LOGIN_PASSWORD"
}
# The login ceiling: crypto_pwhash_str_verify at the module's cost on one
# thread per core, which is what each login must spend.
run_login_ceiling() {
    local line k
    k=$(key login_ceiling)
    log "round $ROUND, login_ceiling: argon2id verify on $CORES threads"
    [ "$WARM" -gt 0 ] && "$BIN/mvbench" verify-rate "$WARM" "$CORES" \
        "$PWHASH_OPS" "$PWHASH_MIB" >/dev/null
    measured login_ceiling "$BIN/mvbench" verify-rate "$SECS" "$CORES" \
        "$PWHASH_OPS" "$PWHASH_MIB" >"$T/login_ceiling.out" ||
        NOTE[login_ceiling]="failed"
    line=$(cat "$T/login_ceiling.out")
    RPS[$k]=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$line")
    P50[$k]=$(sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p' <<<"$line" |
              awk '{printf "%d", $1 * 1000}')
    P99[$k]=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<<"$line" |
              awk '{printf "%d", $1 * 1000}')
    ERRS[$k]=$(sed -n 's/.* failures=\([0-9]*\).*/\1/p' <<<"$line")
}

RUNS=()
NODE_RUNS=(); [ -n "$NODE_URL" ] && NODE_RUNS=(node_)
want health && RUNS+=(floor floor_walk health ${NODE_RUNS:+node_health})
want me && RUNS+=(me)
want scan && RUNS+=(scan scan_key scan_pg scan_naive ${NODE_RUNS:+node_scan})
want wallet && RUNS+=(wallet wallet_pg ${NODE_RUNS:+node_wallet})
want login && RUNS+=(login login_ceiling)
want wallet && ! probe GET "/users/$first_id/wallet?before=$BEFORE" \
    "$first_auth" | grep -q '^200 ' && die "GET wallet does not answer 200"

for ROUND in $(seq 1 "$ROUNDS"); do
    order=("${RUNS[@]}")
    if [ $(( ROUND % 2 )) = 0 ]; then
        order=(); for n in "${RUNS[@]}"; do order=("$n" "${order[@]}"); done
    fi
    for n in "${order[@]}"; do "run_$n"; done
done

# Scan and wallet again through PgBouncer (bench/pooler.sh), once, after
# the rounds (its figures are keyed to round 1's direct runs).
ROUND=1
bench_pooler

# POST /coupons/generate: one warm-up batch, then BATCHES timed ones.
GEN_TIMES=()
if want generate; then
    log "generate: 1 + $BATCHES batches of $BATCH_SIZE coupons"
    for b in $(seq 0 "$BATCHES"); do
        out=$(curl -s -o "$T/generate.json" -w '%{http_code} %{time_total}' \
              -X POST -H 'Content-Type: application/json' \
              -H "X-Admin-Key: $ADMIN_KEY" \
              -d "{\"count\":$BATCH_SIZE,\"points\":10,\"batchName\":\"bench-$b\"}" \
              "$URL/coupons/generate")
        [ "${out%% *}" = 200 ] || { NOTE[generate]="HTTP ${out%% *}"; break; }
        [ "$b" -gt 0 ] && GEN_TIMES+=("${out#* }")
    done
fi

# Memory: resident size of every child before and after MEM_REQUESTS
# requests of the mixed workload (after a warm-up of the same mix).
children_rss() {
    local pid
    for pid in $(pgrep -P "$(cat "$H/httpd.pid")" | sort); do
        echo "$pid $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
    done
}
mix_run() {
    local count=$1 coupons=$2 tag=$3
    rm -f "$T/mix.done"
    wrk -t "$THREADS" -c "$CONNS" -d 600s --timeout 10s -s "$LUA" "$URL/" \
        -- mix "threads=$THREADS" "tokens=$T/tokens" "count=$count" \
        "device=$DEVICE" "gps=$GPS" "coupons=$coupons" \
        "donefile=$T/mix.done" >"$T/mix.$tag" 2>&1
}
mem_done=
if want memory; then
    log "memory: $MEM_REQUESTS mixed requests, $CONNS connections"
    gen_coupons $(( MEM_REQUESTS / 80 + 1000 )) "$T/memwarm.coupons" &&
        gen_coupons $(( MEM_REQUESTS / 8 + 1000 )) "$T/mem.coupons" ||
        die "POST /coupons/generate failed"
    mix_run $(( MEM_REQUESTS / 10 )) "$T/memwarm.coupons" warm
    children_rss >"$T/rss.before"
    t0=$(date +%s.%N)
    mix_run "$MEM_REQUESTS" "$T/mem.coupons" run
    t1=$(date +%s.%N)
    children_rss >"$T/rss.after"
    mem_done=$(sed -n 's/^BENCH requests=\([0-9]*\).*/\1/p' "$T/mix.run")
fi

crashes=$(grep -h 'exit signal' "$H/error.log" 2>/dev/null)
[ -n "$crashes" ] && log "WARNING: httpd children died on a signal: $crashes"

# ---------------------------------------------------------------- report

# vals NAME: one line per round that has NAME: req/s, CPU ticks of httpd,
# PostgreSQL and the load generator, p50, p99, errors, busy processes.
vals() {
    local name=$1 r k
    for r in $(seq 1 "$ROUNDS"); do
        k="$name#$r"
        [ -n "${RPS[$k]:-}" ] || continue
        echo "${RPS[$k]} ${CPU_H[$k]:-0} ${CPU_P[$k]:-0} ${CPU_C[$k]:-0} ${P50[$k]:-0} ${P99[$k]:-0} ${ERRS[$k]:-0} ${BACKENDS[$k]:-0}"
    done
}
# med3 < numbers: "median min max" (%.Nf with N = $1).
med3() {
    sort -g | awk -v d="${1:-0}" '{v[NR] = $1} END {
        if (!NR) exit
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        f = "%." d "f"
        printf f " (" f "–" f ")", m, v[1], v[NR] }'
}
col() { vals "$1" | awk -v c="$2" '{print $c}'; }
# CPU microseconds per request of side column c (2 httpd, 3 PG, 4 client)
cpu_per() {
    vals "$1" | awk -v c="$2" -v s="$SECS" -v hz="$HZ" '{
        n = $1 * s; if (n <= 0) next
        print (c == 4 ? $c * 1e4 : $c * 1e6 / hz) / n }'
}
# per-round ratio a/b of req/s, or of CPU per request (c = 2, 3)
ratio_rounds() {
    local a=$1 b=$2 r
    for r in $(seq 1 "$ROUNDS"); do
        [ -n "${RPS[$a#$r]:-}" ] && [ -n "${RPS[$b#$r]:-}" ] || continue
        awk -v x="${RPS[$a#$r]}" -v y="${RPS[$b#$r]}" 'BEGIN {print x / y}'
    done
}
cpu_ratio_rounds() {
    local a=$1 b=$2 r
    for r in $(seq 1 "$ROUNDS"); do
        [ -n "${RPS[$a#$r]:-}" ] && [ -n "${RPS[$b#$r]:-}" ] || continue
        awk -v xa="${RPS[$a#$r]}" -v xc="${CPU_P[$a#$r]}" \
            -v ya="${RPS[$b#$r]}" -v yc="${CPU_P[$b#$r]}" \
            'BEGIN {print (xc / xa) / (yc / ya)}'
    done
}
errs() { col "$1" 7 | awk '{s += $1} END {print s + 0}'; }
# holds le|ge BOUND < values: yes when every round holds the bound.
holds() {
    awk -v op="$1" -v b="$2" 'BEGIN {ok = 1; n = 0}
        {n++; if (op == "ge" ? $1 < b : $1 > b) ok = 0}
        END {print n ? (ok ? "yes" : "NO") : "-"}'
}

declare -A LABEL
LABEL[floor]="floor: constant handler, claimed before the walk"
LABEL[floor_walk]="floor: constant handler, with the directory walk"
LABEL[health]="GET /health"
LABEL[me]="GET /me"
LABEL[scan]="POST /scan"
LABEL[scan_key]="POST /scan + Idempotency-Key"
LABEL[scan_pg]="pgbench: the module's statement (MV_SQL_SCAN_REDEEM)"
LABEL[scan_naive]="pgbench: naive 6-statement transaction"
LABEL[wallet]="GET /users/{id}/wallet"
LABEL[wallet_pg]="pgbench: MV_SQL_WALLET_PAGE"
LABEL[node_health]="Node/Fastify: GET /health"
LABEL[node_scan]="Node/Fastify: POST /scan, same SQL"
LABEL[node_wallet]="Node/Fastify: GET wallet, same SQL"
LABEL[login]="POST /auth/login-with-email"
LABEL[login_ceiling]="argon2id verify, one thread per core"

gen_mean=; gen_max=
if [ ${#GEN_TIMES[@]} -gt 0 ]; then
    gen_mean=$(printf '%s\n' "${GEN_TIMES[@]}" |
               awk '{s += $1} END {printf "%.3f", s / NR}')
    gen_max=$(printf '%s\n' "${GEN_TIMES[@]}" | sort -n | tail -n 1 |
              awk '{printf "%.3f", $1}')
fi
mem_max=; mem_rows=
if [ -n "$mem_done" ]; then
    mem_rows=$(join "$T/rss.before" "$T/rss.after" | awk '{
        printf "| %s | %.1f MiB | %.1f MiB | %+.2f MiB |\n",
               $1, $2 / 1024, $3 / 1024, ($3 - $2) / 1024 }')
    mem_max=$(join "$T/rss.before" "$T/rss.after" |
              awk '{g = ($3 - $2) / 1024; if (NR == 1 || g > m) m = g}
                   END {if (NR) printf "%.2f", m}')
fi

{
    echo "## make bench — $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "$CORES cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1))," \
         "load average before the run $LOAD0, after $(cut -d' ' -f1-3 /proc/loadavg);" \
         "$ROUNDS rounds of ${SECS}s runs after ${WARM}s warm-ups, $CONNS" \
         "connections, wrk -t$THREADS, pgbench -M prepared -j$THREADS;" \
         "$USERS users. PostgreSQL: $( [ "$DURABLE" = off ] &&
             echo "**NOT durable** (fsync, synchronous_commit, full_page_writes off)" ||
             echo "durable (fsync, synchronous_commit, full_page_writes on)"),"
    echo "shared_buffers 256MB. Medians over the rounds, (min–max) after each."
    echo
    echo "| run | req/s | p50 ms | p99 ms | errors | CPU µs/request: server (httpd or Node) | PostgreSQL | load generator |"
    echo "|---|---|---|---|---|---|---|---|"
    for n in "${RUNS[@]}"; do
        [ -n "$(vals "$n")" ] || continue
        printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "${LABEL[$n]}" \
            "$(col "$n" 1 | med3 0)" \
            "$(col "$n" 5 | awk '{print $1 / 1000}' | med3 2)" \
            "$(col "$n" 6 | awk '{print $1 / 1000}' | med3 2)" \
            "$(errs "$n")" "$(cpu_per "$n" 2 | med3 0)" \
            "$(cpu_per "$n" 3 | med3 0)" "$(cpu_per "$n" 4 | med3 0)"
    done
    echo
    echo "Targets (issue 16), each ratio taken within a round; \"holds\" means in every round:"
    echo
    echo "| target | median (min–max) | bound | holds |"
    echo "|---|---|---|---|"
    if want scan; then
        echo "| POST /scan ÷ pgbench, module's statement | $(ratio_rounds scan scan_pg | med3 2) | ≥ 0.9 | $(ratio_rounds scan scan_pg | holds ge 0.9) |"
        echo "| POST /scan + Idempotency-Key ÷ POST /scan | $(ratio_rounds scan_key scan | med3 2) | – | |"
        echo "| POST /scan ÷ pgbench, naive transaction | $(ratio_rounds scan scan_naive | med3 2) | – | |"
        echo "| PostgreSQL CPU per scan, module ÷ pgbench | $(cpu_ratio_rounds scan scan_pg | med3 2) | ≤ 1.1 | $(cpu_ratio_rounds scan scan_pg | holds le 1.1) |"
    fi
    want wallet &&
        echo "| wallet ÷ pgbench | $(ratio_rounds wallet wallet_pg | med3 2) | ≥ 0.6 | $(ratio_rounds wallet wallet_pg | holds ge 0.6) |"
    want health &&
        echo "| httpd CPU per /health, µs | $(cpu_per health 2 | med3 0) | ≤ 40 | $(cpu_per health 2 | holds le 40) |" &&
        echo "| /health ÷ floor handler | $(ratio_rounds health floor | med3 2) | – | |"
    if [ -n "$NODE_URL" ]; then
        for n in health scan wallet; do
            want "$n" && echo "| $n: module ÷ Node/Fastify | $(ratio_rounds "$n" "node_$n" | med3 2) | ≥ 1.2 | $(ratio_rounds "$n" "node_$n" | holds ge 1.2) |"
        done
    fi
    want login &&
        echo "| login ÷ argon2id verify | $(ratio_rounds login login_ceiling | med3 2) | – | |"
    echo
    echo "What PostgreSQL did per request of the measured runs (medians;"
    echo "statements, blocks and execution time from pg_stat_statements for"
    echo "the bench's role, WAL from the WAL position; busy processes:"
    echo "PostgreSQL processes, backends and background, that used CPU):"
    echo
    echo "| run | statements | WAL bytes | shared blocks | dirtied | exec µs | busy processes |"
    echo "|---|---|---|---|---|---|---|"
    for n in "${RUNS[@]}"; do
        case $n in floor*|login_ceiling) continue ;; esac
        [ -n "$(vals "$n")" ] || continue
        row="| ${LABEL[$n]}"
        for c in 1 2 3 4 5; do
            row+=" | $(for r in $(seq 1 "$ROUNDS"); do
                          v=${PGS[$n#$r]:-}; [ -n "$v" ] && cut -d' ' -f"$c" <<<"$v"
                       done | med3 "$(case $c in 1|4) echo 2 ;; 3) echo 1 ;; *) echo 0 ;; esac)")"
        done
        row+=" | $(col "$n" 8 | med3 0) |"
        echo "$row"
    done
    if [ ${#CHECKS[@]} -gt 0 ]; then
        echo
        echo "Redemptions checked after every scan run (wrk stops with up to"
        echo "$CONNS requests in flight, which the server may still complete):"
        echo
        printf -- '- %s\n' "${CHECKS[@]}"
    fi
    if want generate || want memory; then
        echo
        echo "| once | result | target |"
        echo "|---|---|---|"
        want generate && echo "| POST /coupons/generate, $BATCH_SIZE coupons, $BATCHES batches | mean ${gen_mean:--} s, max ${gen_max:--} s | ≤ 1 s |"
        want memory && echo "| memory, ${mem_done:-?} mixed requests | RSS growth per child, max ${mem_max:--} MiB | ≤ 5 MB |"
    fi
    pooler_report
    if [ -n "$mem_rows" ]; then
        echo
        echo "| child pid | RSS before | after | growth |"
        echo "|---|---|---|---|"
        echo "$mem_rows"
    fi
    echo
    for k in "${!NOTE[@]}"; do echo "- $k: ${NOTE[$k]}"; done | sort
    for n in "${RUNS[@]}"; do
        e=$(errs "$n")
        [ "$e" != 0 ] && echo "- $n: $e failed requests: its figures are not valid"
    done
    [ -n "$crashes" ] && echo "- WARNING: httpd children died on a signal"
} >"$T/results.md"

mkdir -p "$OUT"
cp "$T/results.md" "$OUT/results.md"
echo
cat "$OUT/results.md"
echo "(written to ${OUT#"$MV_ROOT"/}/results.md)"
