#!/usr/bin/env bash
# make bench: the module's hot paths against the ceiling the machine and
# PostgreSQL allow, measured in one run.
#
# Starts the same throwaway PostgreSQL and httpd as `make test` (plus
# conf/bench.conf), seeds the data straight into the schema, then runs
# each scenario with wrk for a fixed time at a fixed connection count and
# its ceiling with the same warm-up, time and concurrency.  Prints one
# table and writes it to build/bench/results.md.  PostgreSQL and httpd
# are always stopped and the run directory removed.
#
# Environment:
#   BENCH_SECONDS (15)  length of each measured run
#   BENCH_WARMUP (3)    length of the warm-up run before each one
#   BENCH_CONNS (8)     connections (wrk) and clients (pgbench)
#   BENCH_BATCHES (5)   timed POST /coupons/generate batches of 10,000
#   BENCH_MEM_REQUESTS (100000)  requests of the memory run
#   BENCH_ONLY          comma-separated subset of: health me scan wallet
#                       login generate memory (their ceilings come along)
#   BENCH_OUT (build/bench)      where results.md goes
#   BENCH_RATELIMIT (off)  on: rate limiters counting, with unreachable quotas
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/pooler.sh"   # scan and wallet through PgBouncer

SECS=${BENCH_SECONDS:-15}
WARM=${BENCH_WARMUP:-3}
CONNS=${BENCH_CONNS:-8}
BATCHES=${BENCH_BATCHES:-5}
MEM_REQUESTS=${BENCH_MEM_REQUESTS:-100000}
ONLY=${BENCH_ONLY:-health,me,scan,wallet,login,generate,memory}
OUT=${BENCH_OUT:-$MV_ROOT/build/bench}
BIN=$MV_ROOT/build/bench
LUA=$MV_ROOT/bench/wrk/bench.lua

USERS=1000              # users with tokens, balances and ledgers
LEDGER_ROWS=100         # ledger entries per user (two wallet pages)
BATCH_SIZE=10000        # coupons per generate call
PWHASH_OPS=2            # MocaversePasswordHash default (conf/bench.conf
PWHASH_MIB=19           # keeps it): argon2id t=2, 19 MiB
ISSUER=mod_mocaverse    # MocaverseIssuer default
LOGIN_EMAIL=bench-login@example.com
LOGIN_PASSWORD=bench-password-1
DEVICE=bench-device     # deviceId and gps of every scan: the module and
GPS=48.8566,2.3522      # pgbench bind the same text
BEFORE=9223372036854775807  # wallet "before": above every ledger id
WALLET_LIMIT=50         # the wallet's default page size
# Coupons per scan run: enough for 12,000 redemptions a second, several
# times what this machine reaches, for the warm-up and the measured run.
SCAN_RANGE=$(( (SECS + WARM) * 12000 ))
THREADS=$(( CONNS < 2 ? CONNS : 2 ))    # wrk -t and pgbench -j
CORES=$(nproc)
HZ=$(getconf CLK_TCK)

[[ $SECS =~ ^[1-9][0-9]*$ && $WARM =~ ^[0-9]+$ && $CONNS =~ ^[1-9][0-9]*$ &&
   $BATCHES =~ ^[1-9][0-9]*$ && $MEM_REQUESTS =~ ^[1-9][0-9]*$ ]] ||
    die "BENCH_SECONDS, BENCH_CONNS, BENCH_BATCHES and BENCH_MEM_REQUESTS" \
        "must be positive integers, BENCH_WARMUP >= 0"
for tool in wrk pgbench curl; do
    command -v "$tool" >/dev/null || die "$tool is not installed (make deps)"
done
[ -x "$BIN/mvbench" ] || die "build/bench/mvbench is missing: run make bench"
want() { [[ ",$ONLY," == *",$1,"* ]]; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

T=$(mktemp -d /tmp/mvbench.XXXXXX); chmod 755 "$T"
H=$T/httpd
cleanup() {
    local pid
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

log "starting PostgreSQL and seeding"
pgport=$(free_port)
pg_init "$T" "$pgport" "fsync = off" "synchronous_commit = off" \
    "full_page_writes = off" "shared_buffers = 256MB" \
    "max_wal_size = 4GB" "checkpoint_timeout = 30min"
pg_start "$T"
pg_create_db "$pgport"
migrate "$pgport" >/dev/null
sql() { mv_psql "$pgport" -U "$MV_DB_USER" -d "$MV_DB" "$@"; }

login_hash=$(printf '%s\n' "$LOGIN_PASSWORD" |
             "$BIN/mvbench" pwhash "$PWHASH_OPS" "$PWHASH_MIB") || exit 1
sql -v users="$USERS" -v ledger_rows="$LEDGER_ROWS" \
    -v login_email="$LOGIN_EMAIL" -v login_hash="$login_hash" \
    -f "$MV_ROOT/bench/seed.sql" >/dev/null || die "seeding failed"

# Coupon numbers k (token bench_token(k), and id k: the table is fresh):
# module scans, then the pgbench ceiling, then the memory run, then the
# module's scans with an Idempotency-Key; each scan range serves its
# warm-up, then its measured run.
SCAN_BASE=1
PGB_BASE=$(( SCAN_BASE + 2 * SCAN_RANGE ))
MEM_BASE=$(( PGB_BASE + 2 * SCAN_RANGE ))
MEM_RANGE=$(( MEM_REQUESTS / 4 + 1000 ))
KEY_BASE=$(( MEM_BASE + MEM_RANGE ))
sql -v last=$(( KEY_BASE + 2 * SCAN_RANGE - 1 )) <<'SQL' >/dev/null ||
INSERT INTO coupons (batch_id, token, points)
SELECT 1, bench_token(k), 10 FROM generate_series(1, :last) AS k;
UPDATE coupon_batches SET count = :last WHERE id = 1;
SQL
    die "seeding coupons failed"
# Statistics for the seeded tables only.  A table analysed while empty is
# planned by its current size (a never-analysed one as ten pages at
# least): each connection's cached foreign-key check on scans (from
# ledger.scan_id) would then read scans sequentially for the rest of the
# connection's life, every redemption slower than the last.
mv_psql "$pgport" -U postgres -d "$MV_DB" -c "VACUUM ANALYZE users,
    invite_codes, ledger, balances, coupon_batches, coupons" >/dev/null

log "starting httpd"
mkdir -p "$H"; chmod 755 "$H"
new_secret "$H/jwt.secret" 48
new_secret "$H/admin.key" 24
port=$(free_port)
httpd_conf "$H" "$port" "$pgport" "$MV_ROOT/conf/bench.conf"
# BENCH_RATELIMIT=on: the limiters run (shm store) with quotas no run
# reaches, to measure what counting costs against a run without them.
if [ "${BENCH_RATELIMIT:-off}" = on ]; then
    printf 'MocaverseRateLimit %s 100000000 60\n' auth scan api >>"$H/httpd.conf"
fi
# The static ceiling: a 20-byte file under the <Location "/static"> that
# conf/httpd.conf.in hands to httpd's default handler.
mkdir -p "$H/htdocs/static"
cp "$H/htdocs/static.txt" "$H/htdocs/static/static.txt"
httpd_start "$H" || die "httpd did not start"
URL=http://127.0.0.1:$port
"$BIN/mvbench" tokens "$H/jwt.secret" "$ISSUER" 1 "$USERS" 86400 \
    >"$T/tokens" || die "minting tokens failed"

# ----------------------------------------------------------- measurement

declare -A RPS P50 P99 ERRS NOTE CPU_H CPU_P CPU_C

# CPU ticks so far of the httpd children and of PostgreSQL (postmaster,
# its live children, and the children it reaped), as "HTTPD PG".
cpu_ticks() {
    local h=0 p=0 pid pm
    pm=$(head -n 1 "$T/pg/postmaster.pid")
    for pid in $(pgrep -P "$(cat "$H/httpd.pid")"); do
        h=$(( h + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0) ))
    done
    p=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
    for pid in $(pgrep -P "$pm"); do
        p=$(( p + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0) ))
    done
    echo "$h $p"
}
# Writes to FILE the CPU time used so far by this shell's finished
# children (the load generator); `times` must run in this shell, not in a
# subshell.  client_ticks FILE reads it back in ticks of 1/100 s.
client_times() { times >"$1"; }
client_ticks() {
    tail -n 1 "$1" | awk '{
        split($1, u, /[ms]/); split($2, s, /[ms]/)
        printf "%.0f", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 100 }'
}
# measured NAME CMD...: runs CMD and stores the CPU time of each side
# (ticks here, per request in the report); returns CMD's status.
measured() {
    local name=$1; shift
    local h0 p0 h1 p1 rc
    read -r h0 p0 <<<"$(cpu_ticks)"; client_times "$T/times.0"
    "$@"; rc=$?
    read -r h1 p1 <<<"$(cpu_ticks)"; client_times "$T/times.1"
    CPU_H[$name]=$(( h1 - h0 )); CPU_P[$name]=$(( p1 - p0 ))
    CPU_C[$name]=$(( $(client_ticks "$T/times.1") - $(client_ticks "$T/times.0") ))
    return $rc
}

# Reads "BENCH key=value..." from FILE into the arrays under NAME.
record() {
    local name=$1 file=$2 line
    line=$(grep '^BENCH ' "$file" | tail -n 1)
    [ -n "$line" ] || { NOTE[$name]="no result"; tail -5 "$file" >&2; return 1; }
    RPS[$name]=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
    P50[$name]=$(sed -n 's/.* p50_us=\([0-9]*\).*/\1/p' <<<"$line")
    P99[$name]=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$line")
    ERRS[$name]=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$line")
}

# wrk_run NAME PATH MODE [OPTION...]: a warm-up run, then the measured
# one.  WARM_OPTS / RUN_OPTS add options to one of them only.
WARM_OPTS=(); RUN_OPTS=()
wrk_run() {
    local name=$1 path=$2 mode=$3; shift 3
    local args=(-t "$THREADS" -c "$CONNS" --timeout 10s -s "$LUA"
                "$URL$path" -- "$mode" "threads=$THREADS" "$@")
    log "$name: $CONNS connections, ${WARM}s warm-up + ${SECS}s"
    if [ "$WARM" -gt 0 ]; then
        wrk -d "${WARM}s" "${args[@]}" "${WARM_OPTS[@]}" >"$T/$name.warm" 2>&1
    fi
    measured "$name" wrk -d "${SECS}s" "${args[@]}" "${RUN_OPTS[@]}" \
        >"$T/$name.out" 2>&1
    record "$name" "$T/$name.out"
}

# pgbench_run NAME SCRIPT BASE: the same warm-up and run with pgbench -M
# prepared over TCP, CONNS clients on THREADS threads; latency
# percentiles from the per-transaction log.  BASE: first coupon number.
pgbench_run() {
    local name=$1 script=$2 base=$3 tps failed n f
    local args=(-n -M prepared -c "$CONNS" -j "$THREADS" -f "$script"
                -D "clients=$CONNS" -D "users=$USERS" -D i=0
                -D "device=$DEVICE" -D "gps=$GPS" -D "before=$BEFORE"
                -D "limit=$((WALLET_LIMIT + 1))"
                -h 127.0.0.1 -p "$pgport" -U "$MV_DB_USER" "$MV_DB")
    log "$name: pgbench, $CONNS clients, ${WARM}s warm-up + ${SECS}s"
    if [ "$WARM" -gt 0 ]; then
        pgbench -T "$WARM" "${args[@]}" -D "base=$base" >"$T/$name.warm" 2>&1
    fi
    mkdir -p "$T/$name.log"
    measured "$name" pgbench -T "$SECS" "${args[@]}" \
        -D "base=$(( base + SCAN_RANGE ))" -l --log-prefix="$T/$name.log/tx" \
        >"$T/$name.out" 2>&1
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' \
          "$T/$name.out")
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' \
             "$T/$name.out")
    if [ -z "$tps" ] || grep -q 'aborted\|ERROR' "$T/$name.out"; then
        NOTE[$name]="pgbench failed"; tail -5 "$T/$name.out" >&2; return 1
    fi
    for f in "$T/$name.log"/tx*; do cut -d' ' -f3 "$f"; done | sort -n \
        >"$T/$name.lat"
    n=$(wc -l <"$T/$name.lat")
    RPS[$name]=$tps
    P50[$name]=$(sed -n "$(( n / 2 + 1 ))p" "$T/$name.lat")
    P99[$name]=$(sed -n "$(( n * 99 / 100 + 1 ))p" "$T/$name.lat")
    ERRS[$name]=${failed:-0}
}

# probe METHOD PATH BODY [HEADER...]: "STATUS BODY" of one request.
probe() {
    local method=$1 path=$2 body=$3 h=() x; shift 3
    for x in "$@"; do h+=(-H "$x"); done
    curl -s -o "$T/probe" -w '%{http_code} ' -X "$method" \
        -H 'Content-Type: application/json' "${h[@]}" -d "$body" "$URL$path"
    cat "$T/probe"
}
# 0 when the built module has METHOD PATH (not a 404 not_found).
has_route() { ! probe "$1" "$2" '{}' | grep -q '^404 .*"code":"not_found"'; }

first=$(head -n 1 "$T/tokens")
first_id=${first%% *}
first_auth="Authorization: Bearer ${first#* }"

if want health || want me; then
    wrk_run static /static/static.txt get
    wrk_run health /health get
fi

if want me; then
    if probe GET /me '' "$first_auth" | grep -q '^200 '; then
        wrk_run me /me me "tokens=$T/tokens"
    else
        NOTE[me]="route absent"
    fi
fi

if want scan; then
    if has_route POST /scan; then
        WARM_OPTS=("base=$SCAN_BASE")
        RUN_OPTS=("base=$(( SCAN_BASE + SCAN_RANGE ))")
        wrk_run scan / scan "tokens=$T/tokens" "device=$DEVICE" "gps=$GPS"
        # The same with a fresh Idempotency-Key per request: the key's
        # transaction (claim, store, commit) measured in the same run.
        WARM_OPTS=("base=$KEY_BASE")
        RUN_OPTS=("base=$(( KEY_BASE + SCAN_RANGE ))")
        wrk_run scan_key / scan_key "tokens=$T/tokens" "device=$DEVICE" "gps=$GPS"
        WARM_OPTS=(); RUN_OPTS=()
    else
        NOTE[scan]="route absent"
    fi
    if [ -f "$BIN/scan.pgbench" ]; then
        pgbench_run scan_pg "$BIN/scan.pgbench" "$PGB_BASE"
        # A statement that finds no coupon is no error for pgbench: check
        # that every transaction did redeem one.
        txns=$(cat "$T/scan_pg.warm" "$T/scan_pg.out" 2>/dev/null | sed -n \
               's/^number of transactions actually processed: \([0-9]*\).*/\1/p' |
               awk '{s += $1} END {print s + 0}')
        redeemed=$(sql -tAc "SELECT count(*) FROM coupons WHERE id >= $PGB_BASE
                             AND id < $MEM_BASE AND redeemed_at IS NOT NULL")
        [ "$txns" = "$redeemed" ] ||
            NOTE[scan_pg]="only $redeemed of $txns transactions redeemed a coupon"
    else
        NOTE[scan_pg]="no include/mv_rewards_sql.h"
    fi
fi

# The wallet's first page, asked with an explicit "before" above every
# id: pgbench cannot bind a NULL parameter, so this is how the module and
# pgbench send the very same statement with the very same values.
if want wallet; then
    if probe GET "/users/$first_id/wallet?before=$BEFORE" '' "$first_auth" |
            grep -q '^200 '; then
        wrk_run wallet / wallet "tokens=$T/tokens" "before=$BEFORE"
    else
        NOTE[wallet]="route absent"
    fi
    if [ -f "$BIN/wallet.pgbench" ]; then
        pgbench_run wallet_pg "$BIN/wallet.pgbench" 0
    else
        NOTE[wallet_pg]="no include/mv_rewards_sql.h"
    fi
fi

# Scan and wallet again, through PgBouncer (bench/pooler.sh), with coupons
# past every range seeded above.
bench_pooler $(( MEM_BASE + MEM_RANGE ))

# Login: the module against crypto_pwhash_str_verify on one thread per
# core at the same cost, which is what each login must spend.
verify_rate() {
    "$BIN/mvbench" verify-rate "$1" "$CORES" "$PWHASH_OPS" "$PWHASH_MIB"
}
if want login; then
    if probe POST /auth/login-with-email \
            "{\"email\":\"$LOGIN_EMAIL\",\"password\":\"$LOGIN_PASSWORD\"}" |
            grep -q '^200 .*"accessToken"'; then
        wrk_run login / login "email=$LOGIN_EMAIL" "password=$LOGIN_PASSWORD"
    else
        NOTE[login]="route absent"
    fi
    log "login_ceiling: argon2id verify on $CORES threads, ${WARM}s warm-up + ${SECS}s"
    [ "$WARM" -gt 0 ] && verify_rate "$WARM" >/dev/null
    measured login_ceiling verify_rate "$SECS" >"$T/login_ceiling.out" ||
        NOTE[login_ceiling]="failed"
    line=$(cat "$T/login_ceiling.out")
    RPS[login_ceiling]=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$line")
    P50[login_ceiling]=$(sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p' <<<"$line" |
                         awk '{printf "%d", $1 * 1000}')
    P99[login_ceiling]=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<<"$line" |
                         awk '{printf "%d", $1 * 1000}')
    ERRS[login_ceiling]=$(sed -n 's/.* failures=\([0-9]*\).*/\1/p' <<<"$line")
fi

# POST /coupons/generate: one warm-up batch, then BATCHES timed ones.
GEN_TIMES=()
if want generate; then
    if has_route POST /coupons/generate; then
        log "generate: 1 + $BATCHES batches of $BATCH_SIZE coupons"
        admin_key=$(cat "$H/admin.key")
        for b in $(seq 0 "$BATCHES"); do
            out=$(curl -s -o "$T/generate.json" -w '%{http_code} %{time_total}' \
                  -X POST -H 'Content-Type: application/json' \
                  -H "X-Admin-Key: $admin_key" \
                  -d "{\"count\":$BATCH_SIZE,\"points\":10,\"batchName\":\"bench-$b\"}" \
                  "$URL/coupons/generate")
            [ "${out%% *}" = 200 ] || { NOTE[generate]="HTTP ${out%% *}"; break; }
            [ "$b" -gt 0 ] && GEN_TIMES+=("${out#* }")
        done
        made=$(sql -tAc "SELECT count(*) FROM coupons WHERE batch_id <> 1")
        [ "$made" = $(( (BATCHES + 1) * BATCH_SIZE )) ] ||
            NOTE[generate]="${NOTE[generate]:-} $made coupons stored"
    else
        NOTE[generate]="route absent"
    fi
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
    local count=$1 base=$2 tag=$3
    rm -f "$T/mix.done"
    wrk -t "$THREADS" -c "$CONNS" -d 600s --timeout 10s -s "$LUA" "$URL/" \
        -- mix "threads=$THREADS" "tokens=$T/tokens" "count=$count" \
        "device=$DEVICE" "gps=$GPS" \
        "base=$base" "donefile=$T/mix.done" >"$T/mix.$tag" 2>&1
}
mem_done=
if want memory; then
    log "memory: $MEM_REQUESTS mixed requests, $CONNS connections"
    mix_run $(( MEM_REQUESTS / 10 )) "$MEM_BASE" warm
    children_rss >"$T/rss.before"
    t0=$(date +%s.%N)
    mix_run "$MEM_REQUESTS" $(( MEM_BASE + MEM_REQUESTS / 40 + 100 )) run
    t1=$(date +%s.%N)
    children_rss >"$T/rss.after"
    mem_done=$(sed -n 's/^BENCH requests=\([0-9]*\).*/\1/p' "$T/mix.run")
fi

crashes=$(grep -h 'exit signal' "$H/error.log" 2>/dev/null)
[ -n "$crashes" ] && log "WARNING: httpd children died on a signal: $crashes"

# ---------------------------------------------------------------- report

ms() { [ -n "${1:-}" ] && awk -v u="$1" 'BEGIN {printf "%.2f ms", u / 1000}'; }
num() { [ -n "${1:-}" ] && awk -v x="$1" 'BEGIN {printf "%.0f", x}'; }
ratio() {
    [ -n "${RPS[$1]:-}" ] && [ -n "${RPS[$2]:-}" ] &&
        awk -v a="${RPS[$1]}" -v b="${RPS[$2]}" 'BEGIN {printf "%.2f", a / b}'
}
meets() {   # meets VALUE TARGET [le]: yes / NO / -
    [ -n "$1" ] || { echo "-"; return; }
    awk -v v="$1" -v t="$2" -v le="${3:-}" \
        'BEGIN {print ((le ? v <= t : v >= t) ? "yes" : "NO")}'
}
row() {     # scenario name ceiling ceiling-label target
    local r
    r=$(ratio "$2" "$3")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
        "$1" "$CONNS" "$(num "${RPS[$2]:-}")" "$(ms "${P50[$2]:-}")" \
        "$(ms "${P99[$2]:-}")" "${ERRS[$2]:-}" "$4" "$(num "${RPS[$3]:-}")" \
        "${r:--}" "${5:+≥ $5}" "$( [ -n "$5" ] && meets "$r" "$5")"
}
crow() {    # label name [connections]: a ceiling's own line
    printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "${3:-$CONNS}" \
        "$(num "${RPS[$2]:-}")" "$(ms "${P50[$2]:-}")" "$(ms "${P99[$2]:-}")" \
        "${ERRS[$2]:-}"
}
cpurow() {  # label name: CPU microseconds per request of each side
    local n
    n=$(awk -v r="${RPS[$2]:-0}" -v s="$SECS" 'BEGIN {printf "%.0f", r * s}')
    [ "${n:-0}" -gt 0 ] && [ -n "${CPU_H[$2]:-}" ] || return 0
    awk -v l="$1" -v n="$n" -v h="${CPU_H[$2]}" -v p="${CPU_P[$2]}" \
        -v c="${CPU_C[$2]}" -v hz="$HZ" 'BEGIN {
        f = 1e6 / hz / n
        printf "| %s | %.0f | %.0f | %.0f | %.0f |\n", l, h * f, p * f,
               c * 1e4 / n, h * f + p * f + c * 1e4 / n }'
}

gen_mean=; gen_max=
if [ ${#GEN_TIMES[@]} -gt 0 ]; then
    gen_mean=$(printf '%s\n' "${GEN_TIMES[@]}" |
               awk '{s += $1} END {printf "%.3f", s / NR}')
    gen_max=$(printf '%s\n' "${GEN_TIMES[@]}" | sort -n | tail -n 1 |
              awk '{printf "%.3f", $1}')
fi
mem_max=; mem_rows=; mem_lost=0
if [ -n "$mem_done" ]; then
    mem_rows=$(join "$T/rss.before" "$T/rss.after" | awk '{
        printf "| %s | %.1f MiB | %.1f MiB | %+.2f MiB |\n",
               $1, $2 / 1024, $3 / 1024, ($3 - $2) / 1024 }')
    mem_max=$(join "$T/rss.before" "$T/rss.after" |
              awk '{g = ($3 - $2) / 1024; if (NR == 1 || g > m) m = g}
                   END {if (NR) printf "%.2f", m}')
    mem_lost=$(join -v1 "$T/rss.before" "$T/rss.after" | wc -l)
fi

{
    echo "## make bench — $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "$CORES cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1))," \
         "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM," \
         "load average before the run $LOAD0; ${SECS}s runs after ${WARM}s" \
         "warm-ups, $CONNS connections, wrk -t$THREADS, pgbench -j$THREADS."
    echo
    echo "| scenario | conns | req/s | p50 | p99 | errors | ceiling" \
         "| ceiling/s | ratio | target | met |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    want health && row "GET /health" health static "static file, same httpd" 0.9
    want me && row "GET /me" me health "GET /health" ""
    want scan && row "POST /scan" scan scan_pg "pgbench, same SQL" 0.85
    want scan && row "POST /scan + Idempotency-Key" scan_key scan \
        "POST /scan without a key" ""
    want wallet && row "GET /users/{id}/wallet" wallet wallet_pg "pgbench, same SQL" 0.8
    want login && row "POST /auth/login-with-email" login login_ceiling \
        "argon2id verify, $CORES threads" 0.85
    want generate && printf '| %s | 1 | %s | mean %s s | max %s s | %s | %s | | | %s | %s |\n' \
        "POST /coupons/generate, $BATCH_SIZE coupons" \
        "$( [ -n "$gen_mean" ] && awk -v m="$gen_mean" 'BEGIN {printf "%.2f", 1 / m}')" \
        "${gen_mean:--}" "${gen_max:--}" "${NOTE[generate]:-0}" \
        "time per batch" "≤ 1 s" "$(meets "$gen_mean" 1 le)"
    want memory && printf '| %s | %s | | | | | %s | %s MiB | | %s | %s |\n' \
        "memory, ${mem_done:-?} requests" "$CONNS" "RSS growth per child, max" \
        "${mem_max:--}" "≤ 5 MB" "$(meets "$mem_max" 4.77 le)"
    echo
    echo "Ceilings, measured in the same run:"
    echo
    echo "| ceiling | conns | req/s | p50 | p99 | errors |"
    echo "|---|---|---|---|---|---|"
    want health || want me && crow "GET /static/static.txt, same httpd" static
    want scan && crow "pgbench -M prepared, MV_SQL_SCAN_REDEEM" scan_pg
    want wallet && crow "pgbench -M prepared, MV_SQL_WALLET_PAGE" wallet_pg
    want login && crow "crypto_pwhash_str_verify, one thread per core" \
        login_ceiling "$CORES"
    echo
    echo "CPU time per request in microseconds (all cores; load generator ="
    echo "wrk, pgbench or the verify loop):"
    echo
    echo "| run | httpd | PostgreSQL | load generator | total |"
    echo "|---|---|---|---|---|"
    for n in static health me scan scan_key scan_pg wallet wallet_pg login login_ceiling; do
        cpurow "$n" "$n"
    done
    pooler_report
    if [ -n "$mem_done" ]; then
        echo
        echo "Resident size of the httpd children, memory run" \
             "($(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s):"
        echo
        echo "| child pid | before | after | growth |"
        echo "|---|---|---|---|"
        echo "$mem_rows"
        [ "$mem_lost" -gt 0 ] &&
            echo "($mem_lost child process(es) replaced during the run.)"
    fi
    echo
    for k in "${!NOTE[@]}"; do echo "- $k: ${NOTE[$k]}"; done | sort
    for k in "${!ERRS[@]}"; do
        [ "${ERRS[$k]:-0}" != 0 ] &&
            echo "- $k: ${ERRS[$k]} failed requests: its figures are not valid"
    done | sort
    [ -n "$crashes" ] && echo "- WARNING: httpd children died on a signal"
} >"$T/results.md"

mkdir -p "$OUT"
cp "$T/results.md" "$OUT/results.md"
echo
cat "$OUT/results.md"
echo "(written to ${OUT#"$MV_ROOT"/}/results.md)"
