#!/usr/bin/env bash
# check-module-conf.sh CONF SOURCE...: the module configuration the Debian
# package ships (debian/mocaverse.conf) names exactly the directives the
# module's sources declare: each one at least once, and no other.
# A directive name is a whole C string literal "Mocaverse...".
set -euo pipefail
conf=$1; shift
code=$(grep -ohE '"Mocaverse[A-Za-z0-9]+"' "$@" | tr -d '"' | sort -u)
shipped=$(grep -oE '^#?[[:space:]]*Mocaverse[A-Za-z0-9]+' "$conf" |
    sed -E 's/^#?[[:space:]]*//' | sort -u)
[ -n "$code" ] || { echo "conf-check: no directive found in $*" >&2; exit 1; }
missing=$(comm -23 <(echo "$code") <(echo "$shipped"))
unknown=$(comm -13 <(echo "$code") <(echo "$shipped"))
[ -z "$missing" ] || echo "conf-check: $conf lacks: $missing" >&2
[ -z "$unknown" ] || echo "conf-check: $conf names unknown directives: $unknown" >&2
[ -z "$missing$unknown" ] || exit 1
echo "conf-check: $conf names all $(echo "$code" | wc -l) directives"
