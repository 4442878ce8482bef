#!/usr/bin/env bash
# make run / make stop / make migrate: a private PostgreSQL cluster and
# httpd under var/, kept between runs.  PORT= changes the httpd port.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
VAR="$MV_ROOT/var"
PORT=${PORT:-8080}

# Where the cluster lives: var/ beside the rest, unless the cluster's
# owner cannot reach it.  As root the cluster runs as postgres, which
# cannot enter a checkout under a 0700 directory (root's home): then it
# lives under /var/tmp, in a directory named after the checkout.
pg_home() {
    if is_root && ! runuser -u postgres -- test -x "$VAR" 2>/dev/null; then
        echo "/var/tmp/mocaverse-$(printf %s "$MV_ROOT" | md5sum | cut -c1-12)"
    else
        echo "$VAR"
    fi
}

start() {
    mkdir -p "$VAR"; chmod 755 "$VAR"
    local pg; pg=$(pg_home)
    mkdir -p "$pg"; chmod 755 "$pg"
    if [ ! -d "$pg/pg" ]; then
        echo "creating a PostgreSQL cluster in $pg/pg"
        pg_init "$pg" "${PGPORT:-$(free_port)}"
        pg_start "$pg"
        pg_create_db "$(pg_port "$pg")"
    else
        pg_start "$pg"
    fi
    local pgport; pgport=$(pg_port "$pg")
    migrate "$pgport"
    new_secret "$VAR/jwt.secret" 48
    new_secret "$VAR/admin.key" 24
    httpd_stop "$VAR"
    httpd_conf "$VAR" "$PORT" "$pgport" "$MV_ROOT/conf/dev.conf"
    httpd_start "$VAR" || die "httpd did not start (var/error.log)"
    local url="http://127.0.0.1:$PORT"
    cat <<MSG

mod_mocaverse is running at $url  (PostgreSQL on 127.0.0.1:$pgport, db $MV_DB,
  cluster in $pg/pg)
  console:    $url/console/  (sign in with the admin key)
  JWT secret: var/jwt.secret    admin key: $(cat "$VAR/admin.key")
  error log:  var/error.log     stop with: make stop

API reference: $url/console/api/   (the document: $url/openapi.json)

Try:
  curl -s $url/health
MSG
    [ -x "$MV_ROOT/scripts/run-hints.sh" ] && "$MV_ROOT/scripts/run-hints.sh" "$url" "$VAR" "$pgport"
    return 0
}

case "${1:-start}" in
start) start ;;
stop) httpd_stop "$VAR"; pg_stop "$(pg_home)"; echo "stopped" ;;
migrate) pg_start "$(pg_home)"; migrate "$(pg_port "$(pg_home)")" ;;
pg-home) pg_home ;;
*) die "usage: $0 start|stop|migrate|pg-home" ;;
esac
