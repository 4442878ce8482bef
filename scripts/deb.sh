#!/usr/bin/env bash
# deb.sh build: make deb — builds libapache2-mod-mocaverse in a copy of the
#   checkout under build/deb (dpkg-buildpackage writes to the parent of the
#   tree it builds, so the checkout stays clean), then runs lintian.
# deb.sh test: make test-deb — installs that package into this machine's
#   own apache2 as an operator would, runs the README's flows against it,
#   purges it, and checks that the machine is left as it was found.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
OUT="$MV_ROOT/build/deb"
PKG=libapache2-mod-mocaverse
VERSION=$(dpkg-parsechangelog -l "$MV_ROOT/debian/changelog" -S Version)

build() {
    rm -rf "$OUT"
    mkdir -p "$OUT/src"
    # The files of the checkout (tracked, or new and not ignored).
    (cd "$MV_ROOT" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -C "$OUT/src" -xf -
    echo "building $PKG $VERSION in build/deb"
    (cd "$OUT/src" && dpkg-buildpackage -b -us -uc) >"$OUT/build.log" 2>&1 ||
        { tail -40 "$OUT/build.log"; die "dpkg-buildpackage failed (build/deb/build.log)"; }
    local deb
    deb=$(ls "$OUT/${PKG}_${VERSION}_"*.deb)
    echo "lintian:"
    lintian --fail-on error,warning --display-info "$OUT"/*.changes ||
        die "lintian found errors or warnings"
    rm -rf "$OUT/src"    # kept only when the build fails
    echo "built ${deb#"$MV_ROOT"/}"
}

# ---------------------------------------------------------------- test-deb

T='' PG_STARTED='' HTTPD_CONF='' INSTALLED='' MADE_SECRETS=''
# Modules the test enables beside mocaverse (dbd through a2enmod's
# dependency, headers for the console): those that were not enabled before
# are disabled again.
OTHER_MODS="dbd headers" NEW_MODS=''
# Runtime directories apache2ctl creates when missing (it sources envvars,
# so they cannot be moved): removed again if the test made them.
RUNTIME_DIRS="/var/run/apache2 /var/lock/apache2" NEW_RUNTIME_DIRS=
TEST_CONF=/etc/apache2/conf-available/mocaverse-test-deb.conf

# What the test compares before and after: every path under the apache2
# configuration and state, with type, mode, link target and content hash.
snapshot() {
    local d
    for d in /etc/apache2 /var/lib/apache2; do
        [ -d "$d" ] || continue
        find "$d" -printf '%p %y %m %l ' -exec sh -c \
            '[ -f "$1" ] && [ ! -L "$1" ] && sha256sum <"$1" || echo' _ {} \;
    done | sort
}

# Debian's apache2 with its own configuration, except that it listens on
# our port instead of ports.conf's and keeps pid file, locks and logs in $T.
apache() {
    (
        set +u -a
        source /etc/apache2/envvars
        APACHE_PID_FILE=$T/run/apache2.pid APACHE_RUN_DIR=$T/run
        APACHE_LOCK_DIR=$T/lock APACHE_LOG_DIR=$T/log
        set +a
        /usr/sbin/apache2 -d /etc/apache2 -f "$HTTPD_CONF" "$@"
    )
}

apache_stop() {
    local pid
    [ -f "$T/run/apache2.pid" ] || return 0
    pid=$(cat "$T/run/apache2.pid")
    apache -k stop 2>/dev/null || true
    for _ in $(seq 1 100); do
        [ -f "$T/run/apache2.pid" ] || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$T/run/apache2.pid"
}

cleanup() {
    set +e
    [ -n "$T" ] && apache_stop
    if [ -e /etc/apache2/conf-enabled/mocaverse-test-deb.conf ]; then a2disconf -q mocaverse-test-deb; fi
    rm -f "$TEST_CONF"
    if [ -n "$INSTALLED" ] && dpkg-query -W "$PKG" >/dev/null 2>&1; then
        apt-get purge -y -qq "$PKG" >/dev/null 2>&1
    fi
    restore_mods
    [ -n "$MADE_SECRETS" ] && rm -rf /etc/mocaverse
    local d
    for d in $NEW_RUNTIME_DIRS; do rm -rf "$d"; done
    [ -n "$PG_STARTED" ] && pg_stop "$T"
    [ -n "$T" ] && rm -rf "$T"
}

fail() { echo "FAIL: $*" >&2; exit 1; }

# Disables the modules of NEW_MODS again, and removes what a2enmod's and
# a2enconf's bookkeeping made under /var/lib/apache2 (state files of those
# modules, state directories left empty that did not exist before).
restore_mods() {
    local m d
    for m in $NEW_MODS; do
        [ -e "/etc/apache2/mods-enabled/$m.load" ] || continue
        a2dismod -q "$m"
        rm -f "/var/lib/apache2/module/disabled_by_admin/$m"
    done
    [ -f "$T/state-dirs" ] || return 0
    find /var/lib/apache2 -mindepth 1 -type d -empty | while read -r d; do
        grep -qxF "$d" "$T/state-dirs" || rmdir "$d"
    done
}

# The fenced sh block under README heading $1.
readme_block() {
    awk -v h="$1" '$0 == h {f = 1; next} f && /^```sh/ {c = 1; next}
        c && /^```/ {exit} c {print}' "$MV_ROOT/README.md"
}

# The console the package serves at /console/ of URL $1: the page with its
# security headers, calling the API at /api/; its script; Debian's Chart.js.
check_console() {
    local got
    echo "== the console: static files, its headers, Debian's Chart.js"
    curl -s -D "$T/console.h" -o "$T/console.html" "$1/console/"
    head -1 "$T/console.h" | grep -q ' 200' || fail "/console/ answered $(head -1 "$T/console.h")"
    grep -qi "^Content-Security-Policy: default-src 'none'" "$T/console.h" || fail "/console/ has no CSP"
    grep -qF '<meta name="mocaverse-api" content="../api/">' "$T/console.html" ||
        fail "the packaged console does not call the API at /api/"
    for got in console/js/app.js console/lib/chart.js/chart.esm.js; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/$got")" = 200 ] ||
            fail "/$got is not served"
    done
    echo "console: /console/, app.js and chart.esm.js served"
}

test_deb() {
    is_root || die "make test-deb installs a package into this machine's apache2: run it as root"
    local deb pgport port url got
    deb=$(ls "$OUT/${PKG}_${VERSION}_"*.deb)
    exec 9>/run/lock/mocaverse-test-deb.lock
    flock -n 9 || die "another make test-deb is running"
    ! dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q installed ||
        die "$PKG is installed already: this test installs and purges it; purge it first"
    [ ! -e /etc/mocaverse ] || die "/etc/mocaverse exists: this test creates and removes it"
    [ ! -e "$TEST_CONF" ] || die "$TEST_CONF exists"

    T=$(mktemp -d /tmp/mvdeb.XXXXXX)
    chmod 755 "$T"
    mkdir -p "$T/run" "$T/lock" "$T/log"
    chown www-data "$T/lock"
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    snapshot >"$T/before"
    find /var/lib/apache2 -type d >"$T/state-dirs" 2>/dev/null || true
    local d
    for d in $OTHER_MODS; do [ -e "/etc/apache2/mods-enabled/$d.load" ] || NEW_MODS+=" $d"; done
    for d in $RUNTIME_DIRS; do [ -e "$d" ] || NEW_RUNTIME_DIRS+=" $d"; done

    echo "== apt-get install ${deb#"$MV_ROOT"/}"
    INSTALLED=1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$T/apt.log" 2>&1 ||
        { cat "$T/apt.log"; fail "apt-get install"; }
    dpkg -L "$PKG" >"$T/files"
    echo "installed $(wc -l <"$T/files") paths"
    [ ! -e /etc/apache2/mods-enabled/mocaverse.load ] || fail "installing enabled the module"
    [ ! -e /etc/apache2/conf-enabled/mocaverse-console.conf ] || fail "installing enabled the console"
    grep -qx '# Depends: dbd' /etc/apache2/mods-available/mocaverse.load ||
        fail "mocaverse.load does not declare its dependency on dbd"

    echo "== one version: debian/changelog, the package, the module"
    got=$(dpkg-query -W -f='${Version}' "$PKG")
    [ "$got" = "$VERSION" ] || fail "package version $got, changelog $VERSION"
    grep -qaF "\"version\":\"$VERSION\"" /usr/lib/apache2/modules/mod_mocaverse.so ||
        fail "mod_mocaverse.so does not carry version $VERSION"

    echo "== a throwaway PostgreSQL, then mocaverse-migrate"
    pgport=$(free_port)
    pg_init "$T" "$pgport" "fsync = off"
    PG_STARTED=1
    pg_start "$T"
    pg_create_db "$pgport"
    local conninfo="host=127.0.0.1 port=$pgport dbname=$MV_DB user=$MV_DB_USER"
    mocaverse-migrate --help | grep -q -- --allow-superuser || fail "mocaverse-migrate --help"
    man -w mocaverse-migrate >/dev/null 2>&1 || [ -e /usr/share/man/man8/mocaverse-migrate.8.gz ] ||
        fail "no mocaverse-migrate(8)"
    if got=$(mocaverse-migrate "host=127.0.0.1 port=$pgport dbname=$MV_DB user=postgres" 2>&1); then
        fail "mocaverse-migrate ran as a superuser: $got"
    fi
    echo "$got" | grep -q 'allow-superuser' || fail "superuser refusal does not say how: $got"
    got=$(mocaverse-migrate --dry-run "$conninfo")
    [ "$got" = "$(cd /usr/share/mocaverse/migrations && printf 'pending %s\n' *.sql)" ] ||
        fail "--dry-run listed: $got"
    mocaverse-migrate "$conninfo"
    got=$(mocaverse-migrate "$conninfo")
    [ "$got" = "no pending migrations" ] || fail "second run applied something: $got"
    got=$(mv_psql "$pgport" -U postgres -d "$MV_DB" -tAc "SELECT count(*) FROM schema_migrations")
    [ "$got" = "$(ls /usr/share/mocaverse/migrations/*.sql | wc -l)" ] ||
        fail "$got migrations recorded"

    echo "== secrets in /etc/mocaverse, a2enmod mocaverse, apache2ctl configtest"
    MADE_SECRETS=1
    install -d -m 0700 /etc/mocaverse
    (umask 077
        head -c 48 /dev/urandom | base64 -w0 >/etc/mocaverse/jwt.secret
        head -c 24 /dev/urandom | base64 -w0 >/etc/mocaverse/admin.key)
    [ "$(stat -c %a /etc/mocaverse/jwt.secret)" = 600 ] || fail "secret mode"
    a2enmod -q mocaverse
    [ -L /etc/apache2/mods-enabled/mocaverse.load ] && [ -L /etc/apache2/mods-enabled/mocaverse.conf ] ||
        fail "a2enmod mocaverse did not enable it"
    [ -e /etc/apache2/mods-enabled/dbd.load ] || fail "a2enmod mocaverse did not enable dbd"
    # What an operator writes for a site: the database, and where the API is.
    cat >"$TEST_CONF" <<CONF
# Written by make test-deb (scripts/deb.sh) and removed by it.
DBDParams "$conninfo connect_timeout=3"
# One-time codes in the response, so the README's reward flow runs as is.
MocaverseOTPDelivery response
<Location "/api">
    SetHandler mocaverse
</Location>
CONF
    a2enconf -q mocaverse-test-deb
    if [ -d "$MV_ROOT/console" ]; then
        a2enmod -q headers
        a2enconf -q mocaverse-console
    else
        [ ! -e /etc/apache2/conf-available/mocaverse-console.conf ] || fail "a console without console/"
    fi
    apache2ctl configtest >"$T/configtest" 2>&1 || { cat "$T/configtest"; fail "configtest"; }
    grep -q 'Syntax OK' "$T/configtest" || fail "configtest did not say Syntax OK"
    cp -p /etc/mocaverse/jwt.secret "$T/jwt.secret"
    printf '0123456789' >/etc/mocaverse/jwt.secret
    if apache2ctl configtest >"$T/configtest" 2>&1; then fail "configtest passed a 10-byte JWT secret"; fi
    grep 'MocaverseJWTSecretFile' "$T/configtest" || { cat "$T/configtest"; fail "the error does not name the directive"; }
    cp -p "$T/jwt.secret" /etc/mocaverse/jwt.secret

    echo "== Debian's apache2 on a free port, without systemd"
    port=$(free_port)
    HTTPD_CONF=$T/apache2.conf
    sed "s|^Include ports.conf\$|Listen 127.0.0.1:$port|" /etc/apache2/apache2.conf >"$HTTPD_CONF"
    grep -q "^Listen 127.0.0.1:$port\$" "$HTTPD_CONF" || fail "apache2.conf has no 'Include ports.conf' line"
    apache -k start || fail "apache2 did not start"
    url="http://127.0.0.1:$port/api"
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "$url/version" && break
        sleep 0.1
    done
    got=$(curl -s "$url/version")
    echo "$got"
    [ "$got" = "{\"name\":\"mod_mocaverse\",\"version\":\"$VERSION\"}" ] || fail "/version says $got"
    got=$(curl -s "$url/health")
    [ "$got" = '{"status":"ok","database":"ok"}' ] || fail "/health says $got"

    if [ -d "$MV_ROOT/console" ]; then check_console "http://127.0.0.1:$port"; fi

    echo "== the README's account and reward flows"
    {
        echo "set -euo pipefail"
        readme_block '### The account flow with curl'
        readme_block '### The reward flow with curl'
        echo 'echo "SCAN AGAIN: $(curl -s $URL/scan -H "Content-Type: application/json" -H "Authorization: Bearer $TOKEN" -d "{\"token\":\"$COUPON\"}")"'
    } | sed -e "s|^URL=http://127.0.0.1:8080\$|URL=$url|" \
        -e "s|var/admin.key|/etc/mocaverse/admin.key|g" >"$T/flows.sh"
    (cd "$T" && bash "$T/flows.sh") >"$T/flows.out" 2>&1 || { cat "$T/flows.out"; fail "the flows stopped"; }
    cat "$T/flows.out"
    local want
    for want in '"codes":\[{"code":' '"accessToken":"ey' '"email":"ann@example.com"' \
        '"invitees":' '"tokenType":"Bearer"' '{"success":true}' '"otp":"[0-9]' \
        '"created":true' '"count":3' '"success":true,"points":50,"balance":50' \
        '"balance":50,"transactions":\[{' 'SCAN AGAIN: .*"code":"coupon_already_redeemed"'; do
        grep -q "$want" "$T/flows.out" || fail "the flows' output lacks $want"
    done
    [ "$(grep -c '"refreshToken":' "$T/flows.out")" -ge 3 ] || fail "register, login and refresh did not all answer tokens"

    apache_stop
    ! grep 'exit signal' "$T/log/error.log" || fail "an apache2 child died on a signal"

    echo "== apt-get purge: nothing of the package is left"
    a2disconf -q mocaverse-test-deb
    rm -f "$TEST_CONF"
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$PKG" >"$T/apt.log" 2>&1 ||
        { cat "$T/apt.log"; fail "apt-get purge"; }
    local path left=0
    while read -r path; do
        [ "$path" != /. ] || continue
        [ -e "$path" ] || [ -L "$path" ] || continue
        [ -d "$path" ] && dpkg-query -S "$path" >/dev/null 2>&1 && continue
        echo "left behind: $path"; left=1
    done <"$T/files"
    [ $left = 0 ] || fail "the purge left files of the package"
    for path in /etc/apache2/mods-enabled/mocaverse.* /etc/apache2/conf-enabled/mocaverse-console.conf; do
        [ ! -e "$path" ] && [ ! -L "$path" ] || fail "the purge left $path"
    done
    INSTALLED=''
    # dbd was enabled by a2enmod as a dependency; the operator decides
    # whether it stays.  The test puts it back as it found it.
    restore_mods
    rm -rf /etc/mocaverse
    MADE_SECRETS=
    snapshot >"$T/after"
    diff "$T/before" "$T/after" || fail "/etc/apache2 or /var/lib/apache2 differ from before the test"
    echo "test-deb: passed ($(wc -l <"$T/before") paths of /etc/apache2 and /var/lib/apache2 as found)"
}

case "${1:-}" in
build) build ;;
test) test_deb ;;
*) die "usage: $0 build|test" ;;
esac
