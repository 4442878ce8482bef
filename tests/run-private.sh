#!/usr/bin/env bash
# make test-run: `make run` works from a checkout under a 0700 directory,
# where root's clones usually live (as root, the cluster runs as postgres,
# which cannot enter it).  Copies the working tree there, starts it on free
# ports, checks /health, stops it, and always removes everything.
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"

D=$(mktemp -d /tmp/mvprivate.XXXXXX)
CO="$D/home/mod_mocaverse"
mkdir -p "$CO"; chmod 700 "$D/home"
tar -C "$MV_ROOT" --exclude=./var --exclude=./.git -cf - . \
    | tar -C "$CO" -xf -
pg_home=$("$CO/scripts/run.sh" pg-home)
cleanup() {
    local www
    (cd "$CO" && make -s stop >/dev/null 2>&1)
    www=$(served_dir "$CO/var")
    [ "$www" != "$CO/var" ] && rm -rf "$www"
    rm -rf "$D"
    [ "$pg_home" != "$CO/var" ] && rm -rf "$pg_home"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(free_port)
if ! out=$(cd "$CO" && PORT=$port make -s run 2>&1); then
    echo "$out"; echo "FAIL: make run under a 0700 directory"; exit 1
fi
health=$(curl -s "http://127.0.0.1:$port/health")
if [ "$health" != '{"status":"ok","database":"ok"}' ]; then
    echo "$out"; echo "FAIL: /health answered: $health"; exit 1
fi
# The console and the API reference page are read by httpd's children
# (www-data as root), and the document the page loads is served.
for path in /console/ /console/js/app.js /console/lib/chart.js/chart.esm.js \
    /console/api/ /console/api/swagger-ui/swagger-ui-bundle.js /openapi.json; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")
    if [ "$code" != 200 ]; then
        echo "$out"; echo "FAIL: $path answered $code"; exit 1
    fi
done
if ! (cd "$CO" && make -s stop >/dev/null 2>&1) ||
    curl -s -o /dev/null "http://127.0.0.1:$port/health"; then
    echo "FAIL: make stop left httpd running"; exit 1
fi
echo "make run under a 0700 directory: /health, the console, the API reference page and /openapi.json ok (cluster in $pg_home/pg)"
