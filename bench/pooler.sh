# bench/pooler.sh — sourced by bench/run.sh: POST /scan and the wallet
# through PgBouncer, in session and in transaction pooling, in the same run
# as the direct runs, on the same PostgreSQL and data.
#
# For each pooling mode: PgBouncer (conf/pgbouncer.ini.in) in front of the
# bench's PostgreSQL, a second httpd with conf/bench.conf whose DBDParams
# point at PgBouncer (plus MocaverseDBPooling transaction in that mode),
# then the same wrk runs as the direct ones.  CPU time per request is
# counted for httpd, PostgreSQL and PgBouncer apart (docs/SCALING.md uses
# it).  Uses run.sh's T, H, URL, CONNS, SECS, scan_coupons, wrk_run,
# measured, log, sql and its result arrays (keyed "name#ROUND": these
# runs are made once, as round ROUND).

POOLER_MODES="session transaction"
# Session pooling gives every client connection its own server connection
# for as long as httpd keeps it pooled: the pool must cover them all
# (2 children x DBDMax 32, conf/bench.conf).  Transaction pooling needs
# one per request in flight.
POOLER_SESSION_POOL=64
POOLER_TRANSACTION_POOL= # CONNS + 2, set by bench_pooler
declare -A CPU_B # PgBouncer ticks per run

pooler_cleanup() {
    local mode
    for mode in $POOLER_MODES; do
        httpd_stop "$T/httpd-pgb-$mode"
        pgbouncer_stop "$T/pgb-$mode"
    done
}

# CPU ticks of the PgBouncer of DIR so far.
pgbouncer_ticks() {
    awk '{print $14 + $15}' "/proc/$(cat "$1/pgbouncer.pid")/stat" 2>/dev/null || echo 0
}

# pooler_wrk DIR NAME ARGS...: wrk_run with PgBouncer's CPU counted too.
pooler_wrk() {
    local dir=$1 name=$2 b0; shift
    b0=$(pgbouncer_ticks "$dir")
    wrk_run "$@"
    CPU_B[$name#$ROUND]=$(( $(pgbouncer_ticks "$dir") - b0 ))
}

# bench_pooler: runs scan and wallet through PgBouncer in each mode;
# every scan run gets fresh coupons (scan_coupons).
bench_pooler() {
    local mode pool dir port H URL
    want scan || want wallet || return 0
    POOLER_TRANSACTION_POOL=$(( CONNS + 2 ))
    command -v "$PGBOUNCER" >/dev/null || { NOTE[pooler]="no pgbouncer"; return 0; }
    for mode in $POOLER_MODES; do
        dir=$T/pgb-$mode
        pool=$POOLER_SESSION_POOL
        [ "$mode" = transaction ] && pool=$POOLER_TRANSACTION_POOL
        pgbouncer_conf "$dir" "$(free_port)" "$pgport" "$mode" "$pool"
        pgbouncer_start "$dir" || { NOTE[pooler]="PgBouncer did not start"; return 1; }
        H=$T/httpd-pgb-$mode
        mkdir -p "$H"; chmod 755 "$H"
        cp "$T/httpd/jwt.secret" "$T/httpd/admin.key" "$H/"
        port=$(free_port)
        httpd_conf "$H" "$port" "$(sed -n 's/^listen_port = //p' "$dir/pgbouncer.ini")" \
            "$MV_ROOT/conf/bench.conf"
        echo "MocaverseDBPooling $mode" >>"$H/httpd.conf"
        httpd_start "$H" || { NOTE[pooler]="httpd on PgBouncer did not start"; return 1; }
        URL=http://127.0.0.1:$port
        if want scan; then
            scan_coupons "scan_pgb_$mode"
            WARM_OPTS=("coupons=$T/scan_pgb_$mode.warm.coupons")
            RUN_OPTS=("coupons=$T/scan_pgb_$mode.run.coupons")
            pooler_wrk "$dir" "scan_pgb_$mode" / scan \
                "tokens=$T/tokens" "device=$DEVICE" "gps=$GPS" &&
                scan_check "scan_pgb_$mode" "$OKS" "$CONNS"
            WARM_OPTS=(); RUN_OPTS=()
        fi
        if want wallet; then
            pooler_wrk "$dir" "wallet_pgb_$mode" / wallet \
                "tokens=$T/tokens" "before=$BEFORE"
        fi
        httpd_stop "$H"
        pgbouncer_stop "$dir"
    done
}

# The report's section: direct and pooled runs side by side, with the CPU
# time per request of each process.
pooler_report() {
    local route name label n k
    want scan || want wallet || return 0
    echo
    echo "Through PgBouncer 1.18, once after the rounds, beside round $ROUND's" \
         "direct runs (same PostgreSQL; pool size:" \
         "session $POOLER_SESSION_POOL, transaction $POOLER_TRANSACTION_POOL)," \
         "CPU time per request in microseconds:"
    echo
    echo "| run | database path | req/s | p50 | p99 | errors | httpd | PostgreSQL | PgBouncer |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for route in scan wallet; do
        want "$route" || continue
        for name in "$route" "${route}_pgb_session" "${route}_pgb_transaction"; do
            case $name in
            *_session) label="PgBouncer, session pooling" ;;
            *_transaction) label="PgBouncer, transaction pooling" ;;
            *) label="direct" ;;
            esac
            k="$name#$ROUND"
            n=$(awk -v r="${RPS[$k]:-0}" -v s="$SECS" 'BEGIN {printf "%.0f", r * s}')
            [ "${n:-0}" -gt 0 ] || { echo "| $route | $label | - | | | | | | |"; continue; }
            awk -v r="$route" -v l="$label" -v rps="${RPS[$k]}" \
                -v p50="${P50[$k]}" -v p99="${P99[$k]}" -v e="${ERRS[$k]}" \
                -v h="${CPU_H[$k]}" -v p="${CPU_P[$k]}" -v b="${CPU_B[$k]:-}" \
                -v n="$n" -v hz="$HZ" 'BEGIN {
                f = 1e6 / hz / n
                printf "| %s | %s | %.0f | %.2f ms | %.2f ms | %s | %.0f | %.0f | %s |\n",
                       r, l, rps, p50 / 1000, p99 / 1000, e, h * f, p * f,
                       b == "" ? "-" : sprintf("%.0f", b * f) }'
        done
    done
}
