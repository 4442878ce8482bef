# scripts/lib.sh — the one place that knows how to start a private
# PostgreSQL cluster, a private httpd with the module, and the HAProxy and
# PgBouncer in front of them.  Sourced by run.sh (make run),
# tests/integration/run.sh (make test), tests/cluster/run.sh (make
# test-cluster) and the bench.  Works as root (PostgreSQL and PgBouncer
# run as postgres, httpd children as www-data) and as an ordinary user.

MV_ROOT=${MV_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
HTTPD=${HTTPD:-/usr/sbin/apache2}
HTTPD_MODULES=${HTTPD_MODULES:-/usr/lib/apache2/modules}
# The module httpd loads (make test-asan points it at its own build).
MV_MODULE=${MV_MODULE:-$MV_ROOT/.libs/mod_mocaverse.so}
MV_DB=mocaverse
MV_DB_USER=mocaverse

die() { echo "error: $*" >&2; exit 1; }

# sanitizer_reports FILE...: prints the lines of FILEs where AddressSanitizer,
# LeakSanitizer or UBSan reported something (make test-asan); status 0 when
# there is any.
sanitizer_reports() {
    grep -h -E 'ERROR: (Address|Leak)Sanitizer|WARNING: AddressSanitizer|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer' \
        "$@" 2>/dev/null
}

is_root() { [ "$(id -u)" = 0 ]; }

# Runs a PostgreSQL server program as the cluster's owner.
as_pg() {
    if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# A TCP port on 127.0.0.1 that nothing listens on.
free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$(( 10000 + RANDOM % 22000 ))  # below the ephemeral range (32768+)
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"; return 0
        fi
    done
    die "no free port found"
}

# pg_init DIR PORT [tuning...]: creates a cluster in DIR/pg listening on
# 127.0.0.1:PORT only, with trust authentication for local TCP clients.
pg_init() {
    local dir=$1 port=$2; shift 2
    mkdir -p "$dir/pg"
    if is_root; then chown postgres "$dir/pg"; chmod 700 "$dir/pg"; fi
    as_pg "$PG_BIN/initdb" -D "$dir/pg" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log"; die "initdb failed"; }
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = ''"
        echo "max_connections = 300"
        for setting in "$@"; do echo "$setting"; done
    } | as_pg tee -a "$dir/pg/postgresql.conf" >/dev/null
}

pg_start() {
    local dir=$1
    as_pg "$PG_BIN/pg_ctl" -D "$dir/pg" status >/dev/null 2>&1 && return 0
    touch "$dir/postgres.log"; is_root && chown postgres "$dir/postgres.log"
    as_pg "$PG_BIN/pg_ctl" -D "$dir/pg" -l "$dir/postgres.log" -w -t 60 \
        start >/dev/null || { tail -20 "$dir/postgres.log"; die "PostgreSQL did not start"; }
}

pg_stop() {
    local dir=$1
    [ -f "$dir/pg/postmaster.pid" ] || return 0
    as_pg "$PG_BIN/pg_ctl" -D "$dir/pg" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

pg_port() { sed -n 's/^port = //p' "$1/pg/postgresql.conf" | tail -n 1; }

# psql as a given role on the cluster at PORT.
mv_psql() {
    local port=$1; shift
    psql -X -q -h 127.0.0.1 -p "$port" -v ON_ERROR_STOP=1 "$@"
}

# Creates the application role and its database (not a superuser: the
# migrations must work for a plain database owner).
pg_create_db() {
    local port=$1
    mv_psql "$port" -U postgres -d postgres <<SQL >/dev/null
CREATE ROLE $MV_DB_USER LOGIN;
CREATE DATABASE $MV_DB OWNER $MV_DB_USER;
SQL
}

# Applies the migrations not yet applied, in order, as the database owner
# (scripts/mocaverse-migrate, the program the Debian package ships).
migrate() {
    "$MV_ROOT/scripts/mocaverse-migrate" --migrations "$MV_ROOT/migrations" \
        "host=127.0.0.1 port=$1 dbname=$MV_DB user=$MV_DB_USER" ||
        die "migrations failed"
}

# new_secret FILE BYTES: a random printable secret, kept if FILE exists.
new_secret() {
    [ -s "$1" ] && return 0
    (umask 077; head -c "$2" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=' >"$1")
}

# served_dir DIR: where files served beside the API live for the httpd
# whose directory is DIR: DIR itself, or, when httpd's children (www-data,
# started as root) cannot enter it (a checkout under a 0700 directory), a
# directory under /var/tmp named after it.
served_dir() {
    local dir=$1
    if is_root && ! runuser -u www-data -- test -x "$dir" 2>/dev/null; then
        echo "/var/tmp/mocaverse-www-$(printf %s "$dir" | md5sum | cut -c1-12)"
    else
        echo "$dir"
    fi
}

# reference_page DIR: the API reference page (console/api) and Swagger
# UI's files from build/ (make openapi-tools, when installed), copied to
# DIR, readable by httpd's children.
reference_page() {
    local dir=$1 f
    local swagger="$MV_ROOT/build/openapi-tools/node_modules/swagger-ui-dist"
    rm -rf "$dir"; mkdir -p "$dir/swagger-ui"
    cp "$MV_ROOT"/console/api/* "$dir/"
    for f in swagger-ui-bundle.js swagger-ui.css; do
        [ -f "$swagger/$f" ] && cp "$swagger/$f" "$dir/swagger-ui/"
    done
    chmod -R a+rX "$dir"
}

# httpd_conf DIR PORT PGPORT [EXTRA_CONF]: writes DIR/httpd.conf from
# conf/httpd.conf.in; EXTRA_CONF is included at the end when given.
httpd_conf() {
    local dir=$1 port=$2 pgport=$3 extra=${4:-} www
    mkdir -p "$dir/htdocs"
    [ -f "$dir/htdocs/static.txt" ] || printf 'ok: a static 20-byte\n' >"$dir/htdocs/static.txt"
    www=$(served_dir "$dir")
    mkdir -p "$www"; chmod 755 "$www"
    # The console (console/, the API reference page's console/api/ among
    # its files), then Swagger UI's files beside that page.
    rm -rf "$www/console"; cp -R "$MV_ROOT/console" "$www/console"
    chmod -R a+rX "$www/console"
    reference_page "$www/console/api"
    sed -e "s|@RUNDIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@PGPORT@|$pgport|g" \
        -e "s|@WWW@|$www|g" \
        -e "s|@MODULE@|$MV_MODULE|g" \
        -e "s|@MODULES@|$HTTPD_MODULES|g" \
        "$MV_ROOT/conf/httpd.conf.in" >"$dir/httpd.conf"
    [ -n "$extra" ] && echo "Include \"$extra\"" >>"$dir/httpd.conf"
    return 0
}

# Starts httpd on DIR/httpd.conf and waits until it answers or gives up.
httpd_start() {
    local dir=$1 port
    port=$(sed -n 's/^Listen 127.0.0.1://p' "$dir/httpd.conf")
    "$HTTPD" -f "$dir/httpd.conf" -k start || return 1
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "http://127.0.0.1:$port/version" && return 0
        sleep 0.1
    done
    echo "httpd did not answer on port $port; error log:" >&2
    tail -20 "$dir/error.log" >&2
    return 1
}

# Stops httpd and waits until its pid file is gone.
httpd_stop() {
    local dir=$1
    [ -f "$dir/httpd.pid" ] || return 0
    "$HTTPD" -f "$dir/httpd.conf" -k stop 2>/dev/null || true
    for _ in $(seq 1 100); do
        [ -f "$dir/httpd.pid" ] || return 0
        sleep 0.1
    done
    kill -9 "$(cat "$dir/httpd.pid")" 2>/dev/null || true
    rm -f "$dir/httpd.pid"
}

# test_pg_up DIR [tuning...]: the throwaway database of a test run: a
# cluster in DIR/pg on a free port, tuned for speed over durability,
# started, with the application role, its database, every migration, and
# the secrets DIR/jwt.secret and DIR/admin.key.  pg_port DIR reads the port.
test_pg_up() {
    local dir=$1 port; shift
    port=$(free_port)
    pg_init "$dir" "$port" "fsync = off" "synchronous_commit = off" \
        "full_page_writes = off" "$@"
    pg_start "$dir"
    pg_create_db "$port"
    migrate "$port" >/dev/null
    new_secret "$dir/jwt.secret" 48
    new_secret "$dir/admin.key" 24
}

# test_run_checks DIR PGPORT: what every test run must end with: no httpd
# child (of any instance in DIR/httpd-*) died on a signal, and no database
# connection was left inside a transaction.  Prints what it found; 0 if clean.
test_run_checks() {
    local dir=$1 port=$2 crashes open_tx rc=0
    crashes=$(grep -h 'exit signal' "$dir"/httpd-*/error.log 2>/dev/null)
    if [ -n "$crashes" ]; then
        echo "FAIL: httpd children died on a signal:"; echo "$crashes"; rc=1
    fi
    open_tx=$(mv_psql "$port" -U postgres -d postgres -tAc \
        "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'")
    if [ "$open_tx" != 0 ]; then
        echo "FAIL: $open_tx connections left idle in a transaction"; rc=1
    fi
    return $rc
}

# Signals every process of the httpd of DIR (its parent and children) with
# SIGKILL, as a host dying would, and forgets its pid file.
httpd_kill() {
    local dir=$1 pid
    [ -f "$dir/httpd.pid" ] || return 0
    pid=$(cat "$dir/httpd.pid")
    kill -9 "$pid" $(pgrep -P "$pid") 2>/dev/null
    rm -f "$dir/httpd.pid"
}

# ------------------------------------------------- balancer and pooler

HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
PGBOUNCER=${PGBOUNCER:-/usr/sbin/pgbouncer}

# wait_port PORT: 0 once something accepts on 127.0.0.1:PORT (10 s at most).
wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# haproxy_conf DIR PORT STATS_PORT NAME=PORT...: DIR/haproxy.cfg from
# conf/haproxy.cfg.in, balancing over the hosts 127.0.0.1:PORT.
haproxy_conf() {
    local dir=$1 port=$2 stats=$3 host; shift 3
    mkdir -p "$dir"
    sed -e "s|@RUNDIR@|$dir|g" -e "s|@PORT@|$port|g" \
        -e "s|@STATSPORT@|$stats|g" -e "s|@CONFDIR@|$MV_ROOT/conf|g" \
        "$MV_ROOT/conf/haproxy.cfg.in" >"$dir/haproxy.cfg"
    for host in "$@"; do
        echo "    server ${host%%=*} 127.0.0.1:${host#*=} check" >>"$dir/haproxy.cfg"
    done
}

haproxy_start() {
    local dir=$1 port
    port=$(sed -n 's/^ *bind 127.0.0.1:\([0-9]*\)$/\1/p' "$dir/haproxy.cfg" | tail -n 1)
    "$HAPROXY" -q -D -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 ||
        { cat "$dir/haproxy.log" >&2; return 1; }
    wait_port "$port" || { echo "haproxy did not listen on $port" >&2; return 1; }
}

haproxy_stop() {
    local dir=$1
    [ -f "$dir/haproxy.pid" ] || return 0
    kill $(cat "$dir/haproxy.pid") 2>/dev/null
    rm -f "$dir/haproxy.pid"
}

# pgbouncer_conf DIR PORT PGPORT session|transaction POOLSIZE: DIR/pgbouncer.ini
# from conf/pgbouncer.ini.in, in front of the cluster on PGPORT.
pgbouncer_conf() {
    local dir=$1 port=$2 pgport=$3 mode=$4 size=$5
    mkdir -p "$dir"
    sed -e "s|@RUNDIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@PGPORT@|$pgport|g" \
        -e "s|@POOLMODE@|$mode|g" -e "s|@POOLSIZE@|$size|g" \
        "$MV_ROOT/conf/pgbouncer.ini.in" >"$dir/pgbouncer.ini"
    printf '"%s" ""\n' "$MV_DB_USER" postgres >"$dir/userlist.txt"
    # As root PgBouncer runs as postgres (it refuses root).
    is_root && chown -R postgres "$dir"
    return 0
}

pgbouncer_start() {
    local dir=$1 port user=()
    port=$(sed -n 's/^listen_port = //p' "$dir/pgbouncer.ini")
    is_root && user=(-u postgres)
    "$PGBOUNCER" -q -d "${user[@]}" "$dir/pgbouncer.ini" ||
        { tail -5 "$dir/pgbouncer.log" >&2; return 1; }
    wait_port "$port" || { echo "pgbouncer did not listen on $port" >&2; return 1; }
}

# Stops PgBouncer; with -9, kills it as a crash would.
pgbouncer_stop() {
    local dir=$1 sig=${2:--TERM} pid
    [ -f "$dir/pgbouncer.pid" ] || return 0
    pid=$(cat "$dir/pgbouncer.pid")
    kill "$sig" "$pid" 2>/dev/null
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$dir/pgbouncer.pid"
}
