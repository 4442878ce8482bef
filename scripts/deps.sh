#!/usr/bin/env bash
# Installs the Debian packages the project needs, if any are missing
# (apt-get as root, sudo otherwise).  Quiet when everything is there.
# `deps.sh deb` adds what `make deb` and `make test-deb` need.
set -euo pipefail
PACKAGES="apache2 apache2-dev libaprutil1-dbd-pgsql libjansson-dev libjwt-dev
libsodium-dev libcmocka-dev libcurl4-openssl-dev libpq-dev postgresql
postgresql-client curl wrk jq gcc make haproxy pgbouncer
clang libclang-rt-14-dev clang-format python3-yaml
libjs-chart.js chromium nodejs"
DEB_PACKAGES="debhelper dpkg-dev lintian git"
[ "${1:-}" = deb ] && PACKAGES="$PACKAGES $DEB_PACKAGES"
missing=()
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
