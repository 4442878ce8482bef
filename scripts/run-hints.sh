#!/usr/bin/env bash
# Called by `make run` (scripts/run.sh) with URL VAR PGPORT: makes sure a
# root invite code with uses left exists, creating one through the admin
# route on first run, and prints it with the first steps of the README's
# flow, so a newcomer can register at once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
url=$1 var=$2 pgport=$3

found=$(mv_psql "$pgport" -U "$MV_DB_USER" -d "$MV_DB" -tAc "
    SELECT code || ' ' || remaining FROM invite_codes
     WHERE owner_id IS NULL AND NOT disabled AND remaining > 0
       AND (expires_at IS NULL OR expires_at > now())
     ORDER BY id LIMIT 1" 2>/dev/null || true)
code=${found% *} left=${found#* }
if [ -z "$found" ]; then
    left=10
    code=$(curl -s -X POST "$url/admin/invite-codes" \
        -H "X-Admin-Key: $(cat "$var/admin.key")" \
        -H 'Content-Type: application/json' -d '{"count":1,"uses":10}' |
        sed -n 's/.*"code":"\([^"]*\)".*/\1/p')
fi
if [ -z "$code" ]; then
    echo "  (no bootstrap invite code: is the database reachable? see var/error.log)"
    exit 0
fi
cat <<MSG

Bootstrap invite code (a root code, $left uses left): $code
Register the first user:
  curl -s -X POST $url/auth/register-with-email -H 'Content-Type: application/json' \\
       -d '{"email":"ann@example.com","password":"correct horse battery","inviteCode":"$code"}'
The README's accounts section continues the flow: me, refresh, logout.
MSG
