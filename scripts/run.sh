#!/usr/bin/env bash
# make run / make stop / make migrate: a private PostgreSQL cluster and
# httpd under var/, kept between runs.  PORT= changes the httpd port.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
VAR="$MV_ROOT/var"
PORT=${PORT:-8080}

start() {
    mkdir -p "$VAR"; chmod 755 "$VAR"
    if [ ! -d "$VAR/pg" ]; then
        echo "creating a PostgreSQL cluster in var/pg"
        pg_init "$VAR" "${PGPORT:-$(free_port)}"
        pg_start "$VAR"
        pg_create_db "$(pg_port "$VAR")"
    else
        pg_start "$VAR"
    fi
    local pgport; pgport=$(pg_port "$VAR")
    migrate "$pgport"
    new_secret "$VAR/jwt.secret" 48
    new_secret "$VAR/admin.key" 24
    httpd_stop "$VAR"
    httpd_conf "$VAR" "$PORT" "$pgport" "$MV_ROOT/conf/dev.conf"
    httpd_start "$VAR" || die "httpd did not start (var/error.log)"
    local url="http://127.0.0.1:$PORT"
    cat <<MSG

mod_mocaverse is running at $url  (PostgreSQL on 127.0.0.1:$pgport, db $MV_DB)
  console:    $url/console/  (sign in with the admin key)
  JWT secret: var/jwt.secret    admin key: $(cat "$VAR/admin.key")
  error log:  var/error.log     stop with: make stop

Try:
  curl -s $url/health
MSG
    [ -x "$MV_ROOT/scripts/run-hints.sh" ] && "$MV_ROOT/scripts/run-hints.sh" "$url" "$VAR" "$pgport"
    return 0
}

case "${1:-start}" in
start) start ;;
stop) httpd_stop "$VAR"; pg_stop "$VAR"; echo "stopped" ;;
migrate) pg_start "$VAR"; migrate "$(pg_port "$VAR")" ;;
*) die "usage: $0 start|stop|migrate" ;;
esac
